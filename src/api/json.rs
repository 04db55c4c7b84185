//! JSON text to and from the wire types. The server and native tests use serde_json; the
//! browser lets its own `JSON.parse` and `JSON.stringify` handle the text and
//! serde-wasm-bindgen map the values, so serde_json's parser and printer, and their copy
//! for every decoded type, stay out of the WASM bundle. `JSON.parse` reads numbers as
//! doubles, as JavaScript clients of this API always have: every integer on the wire
//! (Unix milliseconds, ids, counts) stays far below 2^53.

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use text::{from_str, to_string};

#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
mod text {
    use super::*;

    pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
        serde_json::to_string(value).map_err(|e| e.to_string())
    }

    pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
mod text {
    use super::*;

    pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
        // Maps as plain objects, as JSON has them (serde-wasm-bindgen's default is `Map`).
        let value = value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| e.to_string())?;
        js_sys::JSON::stringify(&value)
            .map(String::from)
            .map_err(|_| "cannot be written as JSON".to_owned())
    }

    pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
    }
}
