//! Who hears the coordinator's events. The registry exists on its own, so that a user
//! interface can subscribe before the coordinator is built (while it waits for its
//! tuning, say) and nothing waits on construction.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{Event, EventKind};

type Listener<I> = Arc<dyn Fn(&Event<I>) + Send + Sync>;

/// Names a subscription, to end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

/// The listeners of a coordinator. Cheap to clone; clones share one registry.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use painless_refresh::{EventKind, Listeners};
///
/// let listeners = Listeners::<()>::new();
/// let spinner = Arc::new(Mutex::new(0));
/// let shown = Arc::clone(&spinner);
/// let id = listeners.subscribe(move |event| {
///     if let EventKind::InFlight(count) = event.kind {
///         *shown.lock().unwrap() = count;
///     }
/// });
/// // … later handed to `Coordinator::with_listeners`; and when the view goes away:
/// listeners.unsubscribe(id);
/// ```
pub struct Listeners<I> {
    registry: Arc<Mutex<Registry<I>>>,
}

struct Registry<I> {
    last_id: u64,
    all: Vec<(ListenerId, Listener<I>)>,
}

impl<I> Clone for Listeners<I> {
    fn clone(&self) -> Self {
        Self {
            registry: Arc::clone(&self.registry),
        }
    }
}

impl<I> Default for Listeners<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I> std::fmt::Debug for Listeners<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("count", &self.registry().all.len())
            .finish()
    }
}

impl<I> Listeners<I> {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            registry: Arc::new(Mutex::new(Registry {
                last_id: 0,
                all: Vec::new(),
            })),
        }
    }

    /// Calls `listener` for every event, after the change of state it reports. A
    /// listener may subscribe, unsubscribe and call into the coordinator.
    pub fn subscribe(&self, listener: impl Fn(&Event<I>) + Send + Sync + 'static) -> ListenerId {
        let mut registry = self.registry();
        registry.last_id += 1;
        let id = ListenerId(registry.last_id);
        registry.all.push((id, Arc::new(listener)));
        id
    }

    /// Stops calling a listener. Unknown or already removed: nothing happens.
    pub fn unsubscribe(&self, id: ListenerId) {
        self.registry()
            .all
            .retain(|(listening, _)| *listening != id);
    }

    /// Hands `kinds` to every listener, in order, stamped `at_ms`.
    pub(crate) fn emit(&self, at_ms: i64, kinds: Vec<EventKind<I>>) {
        // Copied out, so that no lock is held while listeners run.
        let listeners: Vec<Listener<I>> = self
            .registry()
            .all
            .iter()
            .map(|(_, listener)| Arc::clone(listener))
            .collect();
        for kind in kinds {
            let event = Event { at_ms, kind };
            for listener in &listeners {
                listener(&event);
            }
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry<I>> {
        lock(&self.registry)
    }
}

/// Locks `mutex` even if a panic poisoned it: the guarded state stays consistent between
/// statements, so one panic must not make every later call panic too.
pub(crate) fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
