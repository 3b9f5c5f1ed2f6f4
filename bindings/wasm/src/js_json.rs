//! A JS value as a JSON value, read exactly as serde-wasm-bindgen's `deserialize_any` read it
//! into `serde_json::Value` (same types accepted, same values, same error texts), without that
//! crate: its deserializer and a second instantiation of `Value`'s visitor were 24 KB of the
//! edge module. One addition: nesting is bounded, so a cyclic object is an error instead of a
//! stack overflow (anything nested that deep failed serde_json's recursion limit afterwards).

use js_sys::{Array, ArrayBuffer, Map, Number, Object, Symbol, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// JavaScript's `String(value)`: how serde-wasm-bindgen showed a thrown value.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// Deeper than serde_json's own limit (128), so every value that parsed before still does; the
/// message is the one serde_json then gave for a value nested deeper than that.
const MAX_DEPTH: usize = 1000;

pub(crate) fn to_value(v: &JsValue) -> Result<Value, String> {
    value(v, 0)
}

fn value(v: &JsValue, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("recursion limit exceeded".into());
    }
    if v.loose_eq(&JsValue::NULL) {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if v.is_bigint() {
        return match i64::try_from(v.clone()) {
            Ok(i) => Ok(i.into()),
            Err(v) => match u64::try_from(v) {
                Ok(u) => Ok(u.into()),
                Err(_) => Err("Error: Couldn't deserialize i64 or u64 from a BigInt outside i64::MIN..u64::MAX bounds".into()),
            },
        };
    }
    if let Some(f) = v.as_f64() {
        return Ok(if Number::is_safe_integer(v) {
            Value::from(f as i64)
        } else {
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        });
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::String(s));
    }
    if Array::is_array(v) {
        let items: &Array = v.unchecked_ref();
        let mut out = Vec::new();
        for item in items.iter() {
            out.push(value(&item, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if is_bytes(v) {
        return Err(invalid_type(v, "any valid JSON value"));
    }
    if v.is_object() && (!Symbol::iterator().js_in(v) || v.has_type::<Map>()) {
        return map(v, depth);
    }
    Err(invalid_type(v, "any valid JSON value"))
}

/// An iterable (a `Map`) gives `[key, value]` pairs; any other object its `Object.entries`.
fn map(v: &JsValue, depth: usize) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    let mut pair = |i: usize, entry: JsValue| -> Result<(), String> {
        let entry: Array = entry.unchecked_into();
        let key = entry.get(0);
        let Some(key) = key.as_string() else {
            // serde_json's map visitor reads its first key with its own visitor.
            let expected = if i == 0 { "a string key" } else { "a string" };
            return Err(invalid_type(&key, expected));
        };
        let v = value(&entry.get(1), depth + 1)?;
        out.insert(key, v);
        Ok(())
    };
    match js_sys::try_iter(v).map_err(|e| js_string(&e))? {
        Some(entries) => {
            for (i, entry) in entries.enumerate() {
                pair(i, entry.map_err(|e| js_string(&e))?)?;
            }
        }
        None => {
            for (i, entry) in Object::entries(v.unchecked_ref()).iter().enumerate() {
                pair(i, entry)?;
            }
        }
    }
    Ok(Value::Object(out))
}

fn is_bytes(v: &JsValue) -> bool {
    v.has_type::<Uint8Array>() || v.has_type::<ArrayBuffer>()
}

/// serde's "invalid type: …, expected …", with what serde-wasm-bindgen called the value (serde's
/// `Unexpected` texts, written out here: its float case would link Rust's float formatting for
/// this message alone). Its errors were JS `Error`s, read back with `String()`: hence "Error: ".
fn invalid_type(v: &JsValue, expected: &str) -> String {
    let unexpected = if v.loose_eq(&JsValue::NULL) {
        "unit value".to_owned()
    } else if let Some(b) = v.as_bool() {
        format!("boolean `{b}`")
    } else if let Some(f) = v.as_f64() {
        format!("floating point `{}`", float_text(f, v))
    } else if let Some(s) = v.as_string() {
        format!("string {s:?}")
    } else if is_bytes(v) {
        "byte array".to_owned()
    } else {
        format!("{v:?}")
    };
    format!("Error: invalid type: {unexpected}, expected {expected}")
}

/// A number as Rust's `Display` writes an f64, with ".0" added when it has no point (serde's
/// `WithDecimalPoint`), from JavaScript's shortest digits (the same digits; JavaScript writes an
/// exponent beyond 1e21 and below 1e-7, spelled out here as Rust does).
fn float_text(f: f64, v: &JsValue) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let js = js_string(v);
    let js = js.trim_start_matches('-');
    let plain = match js.split_once('e') {
        None => js.to_owned(),
        Some((mantissa, exp)) => {
            let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
            let point = mantissa.find('.').unwrap_or(mantissa.len());
            let int_len = point as i64 + exp.trim_start_matches('+').parse::<i64>().unwrap_or(0);
            let len = digits.len() as i64;
            if int_len <= 0 {
                format!("0.{}{digits}", "0".repeat((-int_len) as usize))
            } else if int_len >= len {
                format!("{digits}{}", "0".repeat((int_len - len) as usize))
            } else {
                let (a, b) = digits.split_at(int_len as usize);
                format!("{a}.{b}")
            }
        }
    };
    if plain.contains('.') {
        format!("{sign}{plain}")
    } else {
        format!("{sign}{plain}.0")
    }
}
