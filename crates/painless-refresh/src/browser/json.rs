//! JSON text to and from Rust values through the browser's own `JSON.parse` and
//! `JSON.stringify`, with serde-wasm-bindgen mapping the values: serde_json's parser and
//! printer, and their copy for every decoded type, stay out of the WASM bundle.
//! `JSON.parse` reads numbers as doubles, as JavaScript clients always have: integers
//! above 2^53 lose precision.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// `value` as JSON text.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    // Maps as plain objects, as JSON has them (serde-wasm-bindgen's default is `Map`).
    let value = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())?;
    js_sys::JSON::stringify(&value)
        .map(String::from)
        .map_err(|_| "cannot be written as JSON".to_owned())
}

/// JSON `text` as a `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}
