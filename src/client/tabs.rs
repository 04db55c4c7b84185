//! The coordinator's link to the browser's other tabs: the Web Locks API for the refresh
//! lock, a `BroadcastChannel` for messages, and `localStorage` for the generation counter
//! (a number, never a token). Each is looked up at run time; a browser without one loses
//! only what it provides.

use std::future::Future;

use futures::channel::oneshot;
use futures::future::{select, Either};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent, Storage};

use crate::api::json;
use crate::refresh::{TabLink, TabMessage};

/// One name for the lock, the channel and the storage keys of this app.
const NAME: &str = "painless-refresh";
const GENERATION_KEY: &str = "painless.generation";
const REFRESH_CALLS_KEY: &str = "painless.refresh-calls";
/// A lock not granted by then (a tab frozen mid-refresh) is given up: this tab refreshes
/// without it and the server's grace window covers the race.
const LOCK_TIMEOUT_MS: u32 = 10_000;

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

pub struct BrowserTabs {
    id: String,
    channel: Option<BroadcastChannel>,
    storage: Option<Storage>,
}

impl BrowserTabs {
    /// Opens the channel; `on_message` gets every message another tab posts.
    pub fn open(on_message: impl Fn(TabMessage) + 'static) -> Self {
        let channel = BroadcastChannel::new(NAME).ok();
        if let Some(channel) = &channel {
            let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                // Anything that does not parse comes from another version of the app.
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

impl TabLink for BrowserTabs {
    type Guard = LockGuard;

    fn tab_id(&self) -> &str {
        &self.id
    }

    fn lock(&self) -> impl Future<Output = Option<LockGuard>> + 'static {
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
            if let Some(signal) = timeout_signal(LOCK_TIMEOUT_MS) {
                let _ = js_sys::Reflect::set(&options, &"signal".into(), &signal);
            }
            let settled = JsFuture::from(locks.request(NAME, &options, &callback));
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
        self.read(GENERATION_KEY)
    }

    fn set_generation(&self, generation: u64) {
        self.write(GENERATION_KEY, generation);
    }

    fn count_refresh_call(&self) {
        self.write(REFRESH_CALLS_KEY, self.read(REFRESH_CALLS_KEY) + 1);
    }

    fn refresh_calls(&self) -> u64 {
        self.read(REFRESH_CALLS_KEY)
    }

    fn post(&self, message: &TabMessage) {
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
