//! The link to the browser's other tabs: the Web Locks API for the refresh lock, a
//! `BroadcastChannel` for messages, and `localStorage` for the generation counter and the
//! refresh tally (numbers, never a token).

use std::future::Future;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{select, Either};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent, Storage};

use super::json;
use crate::{TabLink, TabMessage};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`, declared here because web-sys keeps it behind an unstable flag.
    type LockManager;

    #[wasm_bindgen(method)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &JsValue,
        callback: &JsValue,
    ) -> js_sys::Promise;
}

/// The names a [`BrowserTabs`] uses, so that two applications on one origin do not share
/// a lock or hear each other's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabNames {
    /// The Web Lock taken while refreshing.
    pub lock: String,
    /// The `BroadcastChannel` the tabs talk on.
    pub channel: String,
    /// The `localStorage` key of the generation counter.
    pub generation_key: String,
    /// The `localStorage` key of the browser-wide refresh tally.
    pub refresh_calls_key: String,
    /// A lock not granted by then (a tab frozen mid-refresh) is given up: this tab
    /// refreshes without it.
    pub lock_timeout: Duration,
}

impl TabNames {
    /// `{prefix}-refresh` for the lock and the channel, `{prefix}.generation` and
    /// `{prefix}.refresh-calls` for the storage keys, and a 10 s lock timeout.
    ///
    /// ```
    /// use painless_refresh::browser::TabNames;
    ///
    /// let names = TabNames::prefixed("shop");
    /// assert_eq!(names.channel, "shop-refresh");
    /// assert_eq!(names.generation_key, "shop.generation");
    /// ```
    pub fn prefixed(prefix: &str) -> Self {
        Self {
            lock: format!("{prefix}-refresh"),
            channel: format!("{prefix}-refresh"),
            generation_key: format!("{prefix}.generation"),
            refresh_calls_key: format!("{prefix}.refresh-calls"),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// This tab's link to the other tabs of the same origin.
pub struct BrowserTabs {
    id: String,
    names: TabNames,
    channel: Option<BroadcastChannel>,
    storage: Option<Storage>,
}

impl BrowserTabs {
    /// Opens the channel; `on_message` gets every message another tab posts (hand it to
    /// [`Coordinator::receive`](crate::Coordinator::receive)). Messages that do not parse
    /// come from another version of the application and are dropped.
    pub fn open<I: DeserializeOwned + 'static>(
        names: &TabNames,
        on_message: impl Fn(TabMessage<I>) + 'static,
    ) -> Self {
        let channel = BroadcastChannel::new(&names.channel).ok();
        if let Some(channel) = &channel {
            let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(message) = event
                    .data()
                    .as_string()
                    .and_then(|text| json::from_str(&text).ok())
                {
                    on_message(message);
                }
            });
            channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
            // Listens for the life of the page.
            handler.forget();
        }
        Self {
            id: format!("{:04x}", (js_sys::Math::random() * 65_536.0) as u32),
            names: names.clone(),
            channel,
            // Missing in some private modes, or blocked by the user.
            storage: web_sys::window().and_then(|w| w.local_storage().ok().flatten()),
        }
    }

    fn read(&self, key: &str) -> u64 {
        self.storage
            .as_ref()
            .and_then(|s| s.get_item(key).ok().flatten())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn write(&self, key: &str, value: u64) {
        if let Some(storage) = &self.storage {
            // A full or blocked storage only costs the cross-tab check.
            let _ = storage.set_item(key, &value.to_string());
        }
    }
}

/// Held while this tab refreshes; dropping it resolves the promise the lock waits on.
pub struct LockGuard(js_sys::Function);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

impl<I: Serialize> TabLink<I> for BrowserTabs {
    type Guard = LockGuard;

    fn tab_id(&self) -> &str {
        &self.id
    }

    fn lock(&self) -> impl Future<Output = Option<LockGuard>> + 'static {
        let timeout_ms = u32::try_from(self.names.lock_timeout.as_millis()).unwrap_or(u32::MAX);
        let request = lock_manager().map(|locks| {
            let (granted, release) = oneshot::channel::<js_sys::Function>();
            let mut granted = Some(granted);
            // Runs when the lock is granted; the lock is held until the promise it returns
            // resolves, i.e. until the guard is dropped (or the tab goes away). A request that
            // times out never calls it, and the closure stays allocated: a few bytes, rarely.
            let callback = Closure::once_into_js(move |_lock: JsValue| {
                js_sys::Promise::new(&mut |resolve, _reject| {
                    if let Some(granted) = granted.take() {
                        if let Err(resolve) = granted.send(resolve) {
                            // Nobody waits any more: release at once.
                            let _ = resolve.call0(&JsValue::UNDEFINED);
                        }
                    }
                })
            });
            let options = js_sys::Object::new();
            if let Some(signal) = timeout_signal(timeout_ms) {
                let _ = js_sys::Reflect::set(&options, &"signal".into(), &signal);
            }
            let settled = JsFuture::from(locks.request(&self.names.lock, &options, &callback));
            (release, settled)
        });
        async move {
            let (release, settled) = request?;
            // The request's promise settles before the grant only when it failed (the
            // timeout): otherwise it waits for the lock to be released.
            match select(release, settled).await {
                Either::Left((Ok(resolve), _)) => Some(LockGuard(resolve)),
                Either::Left((Err(_), _)) | Either::Right(_) => None,
            }
        }
    }

    fn generation(&self) -> u64 {
        self.read(&self.names.generation_key)
    }

    fn set_generation(&self, generation: u64) {
        self.write(&self.names.generation_key, generation);
    }

    fn count_refresh_call(&self) {
        let key = &self.names.refresh_calls_key;
        self.write(key, self.read(key).saturating_add(1));
    }

    fn refresh_calls(&self) -> u64 {
        self.read(&self.names.refresh_calls_key)
    }

    fn post(&self, message: &TabMessage<I>) {
        if let (Some(channel), Ok(text)) = (&self.channel, json::to_string(message)) {
            // A closed channel only means no other tab hears it.
            let _ = channel.post_message(&JsValue::from_str(&text));
        }
    }
}

/// `AbortSignal.timeout(ms)`, where the browser has it (some with Web Locks do not, such
/// as Safari 15): without it the lock request simply has no timeout.
fn timeout_signal(ms: u32) -> Option<JsValue> {
    let constructor = js_sys::Reflect::get(&js_sys::global(), &"AbortSignal".into()).ok()?;
    let timeout = js_sys::Reflect::get(&constructor, &"timeout".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    timeout.call1(&constructor, &JsValue::from(ms)).ok()
}

/// `navigator.locks`, where the browser has it (not on plain-HTTP origins other than
/// localhost, nor in older browsers).
fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}
