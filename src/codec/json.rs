//! Strict JSON for headers and claims: duplicate member names are an error (RFC 7515 §4 lets a
//! parser reject them and last-wins parsing is a known confusion vector), and nesting is bounded
//! so hostile input cannot exhaust the stack or the CPU.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

/// Parses `bytes` as a JSON object with at most `max_depth` levels of nesting (the object itself
/// is level 1): [`scan_object`]'s members as an owned map, so both forms accept the same JSON
/// and refuse it with the same text.
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, String> {
    scan_object(bytes, max_depth).map(|members| to_map(&members))
}

/// A claim value as [`scan_object`] reads it: strings borrow from the JSON text unless they hold
/// escapes (then they are decoded into an owned copy), so a payload is checked without building
/// an owned map.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(Cow<'a, str>),
    Array(Vec<Raw<'a>>),
    Object(Members<'a>),
}

/// An object's members in document order; names are unique (duplicates are refused).
pub type Members<'a> = Vec<(Cow<'a, str>, Raw<'a>)>;

impl Raw<'_> {
    /// The owned value [`parse_object`] builds for the same text.
    pub fn to_value(&self) -> Value {
        match self {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(*b),
            Raw::Number(n) => Value::Number(n.clone()),
            Raw::Str(s) => Value::String(s.as_ref().to_owned()),
            Raw::Array(a) => Value::Array(a.iter().map(Raw::to_value).collect()),
            Raw::Object(m) => Value::Object(to_map(m)),
        }
    }
}

/// The owned map of scanned members.
pub fn to_map(members: &Members<'_>) -> Map<String, Value> {
    members
        .iter()
        .map(|(k, v)| (k.as_ref().to_owned(), v.to_value()))
        .collect()
}

/// [`parse_object`] without the owned map: the same JSON is accepted and every refusal has the
/// same text (one serde_json reader drives both, and the checks run at the same points).
pub fn scan_object(bytes: &[u8], max_depth: usize) -> Result<Members<'_>, String> {
    match scan(bytes, max_depth)? {
        Raw::Object(members) => Ok(members),
        _ => Err("expected a JSON object".into()),
    }
}

/// Any JSON value under the same rules as [`scan_object`] (the documents' readers say what
/// they expected instead).
pub fn scan(bytes: &[u8], max_depth: usize) -> Result<Raw<'_>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Scan {
        depth: 1,
        max_depth,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Objects with more members than this find duplicates through a sorted set, so a payload of
/// thousands of names costs no quadratic search.
const LINEAR_NAMES: usize = 16;

struct Scan {
    depth: usize,
    max_depth: usize,
}

impl Scan {
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
    fn child(&self) -> Scan {
        Scan {
            depth: self.depth.saturating_add(1),
            max_depth: self.max_depth,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Scan {
    type Value = Raw<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Raw<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// A member name, borrowed when it has no escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> Visitor<'de> for Scan {
    type Value = Raw<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw<'de>, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw<'de>, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw<'de>, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw<'de>, E> {
        serde_json::Number::from_f64(v)
            .map(Raw::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Raw<'de>, E> {
        Ok(Raw::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw<'de>, A::Error> {
        self.check_depth()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Raw::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw<'de>, A::Error> {
        self.check_depth()?;
        // A token's header or claims: room for a typical object at once, not 4, 8, then 16.
        let mut out: Members<'de> = if self.depth == 1 {
            Vec::with_capacity(LINEAR_NAMES)
        } else {
            Vec::new()
        };
        let mut sorted: BTreeSet<Cow<'de, str>> = BTreeSet::new();
        while let Some(key) = map.next_key_seed(Name)? {
            let seen = if out.len() < LINEAR_NAMES {
                out.iter().any(|(k, _)| *k == key)
            } else {
                if sorted.is_empty() {
                    sorted.extend(out.iter().map(|(k, _)| k.clone()));
                }
                !sorted.insert(key.clone())
            };
            if seen {
                return Err(de::Error::custom(format!(
                    "duplicate member name \"{key}\""
                )));
            }
            let v = map.next_value_seed(self.child())?;
            out.push((key, v));
        }
        Ok(Raw::Object(out))
    }
}

/// The owned-map parser the scanner replaced, kept as the reference the scanned paths are
/// tested against.
#[cfg(test)]
pub(crate) mod before {
    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};
    use std::fmt;

    /// Parses `bytes` as a JSON object with at most `max_depth` levels of nesting (the object itself
    /// is level 1).
    /// Read as text: every other document the core parses is `&str`, and serde_json's byte-slice
    /// reader was a second copy of its whole parser in the wasm modules.
    pub(crate) fn parse_object(
        bytes: &[u8],
        max_depth: usize,
    ) -> Result<Map<String, Value>, String> {
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

    #[test]
    fn the_same_json_as_the_owned_parser() {
        let deep = |n: usize| format!(r#"{{"a":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        let mut texts: Vec<String> = [
            r#"{"a":1,"\u0061":2}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud83d\ude00\n"}"#,
            r#"{"a":1e400}"#,
            r#"{"a":-0,"b":18446744073709551616,"c":1.5}"#,
            "[]",
            "1",
            "",
            r#"{"a":{"b":[{"c":null}]},"d":true}"#,
            "{\"a\":1}\u{feff}",
            r#"{"a":1,}"#,
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let many: Vec<String> = (0..30).map(|i| format!(r#""k{i}":{i}"#)).collect();
        texts.push(format!("{{{}}}", many.join(",")));
        texts.push(format!(r#"{{{},"k3":0}}"#, many.join(",")));
        texts.extend((6..10).map(deep));
        for t in &texts {
            for depth in [8, 128] {
                let (got, want) = (
                    parse_object(t.as_bytes(), depth),
                    before::parse_object(t.as_bytes(), depth),
                );
                assert_eq!(got, want, "{t}");
            }
        }
    }
}
