//! JSON text to and from the wire types. The server and native tests use serde_json; the
//! browser uses painless-refresh's `browser::json` (its own `JSON.parse` and
//! `JSON.stringify`), so that serde_json's parser and printer, and their copy for every
//! decoded type, stay out of the WASM bundle. Every integer on the wire (Unix
//! milliseconds, ids, counts) stays far below 2^53, where `JSON.parse`'s doubles are exact.

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
pub use painless_refresh::browser::json::{from_str, to_string};

#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
pub use text::{from_str, to_string};

#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
mod text {
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
        serde_json::to_string(value).map_err(|e| e.to_string())
    }

    pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}
