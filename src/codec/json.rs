//! Strict JSON for headers and claims: duplicate member names are an error (RFC 7515 §4 lets a
//! parser reject them and last-wins parsing is a known confusion vector), and nesting is bounded
//! so hostile input cannot exhaust the stack or the CPU.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Parses `bytes` as a JSON object with at most `max_depth` levels of nesting (the object itself
/// is level 1).
/// Read as text: every other document the core parses is `&str`, and serde_json's byte-slice
/// reader was a second copy of its whole parser in the wasm modules.
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict {
        depth: 1,
        max_depth,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err("expected a JSON object".into()),
    }
}

struct Strict {
    depth: usize,
    max_depth: usize,
}

impl Strict {
    fn child(&self) -> Strict {
        Strict {
            depth: self.depth.saturating_add(1),
            max_depth: self.max_depth,
        }
    }

    fn check_depth<E: de::Error>(&self) -> Result<(), E> {
        if self.depth > self.max_depth {
            Err(E::custom(format!(
                "JSON nested deeper than {} levels",
                self.max_depth
            )))
        } else {
            Ok(())
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.check_depth()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.check_depth()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate member name \"{key}\""
                )));
            }
            let v = map.next_value_seed(self.child())?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_depth() {
        assert!(parse_object(br#"{"a":1,"b":[1,{"c":2}]}"#, 8).is_ok());
        let dup = parse_object(br#"{"a":1,"a":2}"#, 8).unwrap_err();
        assert!(dup.contains("duplicate member name \"a\""), "{dup}");
        assert!(parse_object(br#"{"a":{"a":1},"b":{"a":1}}"#, 8).is_ok());
        assert!(parse_object(br#"{"a":[[[1]]]}"#, 4).is_ok());
        assert!(parse_object(br#"{"a":[[[[1]]]]}"#, 4)
            .unwrap_err()
            .contains("deeper"));
        assert!(parse_object(b"[1]", 8).is_err());
        assert!(parse_object(br#"{"a":1} x"#, 8).is_err());
        assert_eq!(
            parse_object(b"{\"a\":\"\xff\"}", 8).unwrap_err(),
            "invalid UTF-8 at byte 6"
        );
        assert!(parse_object(b"{\"a\":1}\xc3", 8).is_err());
    }
}
