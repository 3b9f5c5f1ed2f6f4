//! Typed reading of the documents tokengate is configured with, over the strict scanner
//! ([`super::json::scan`]): each reader names its fields and refuses the rest, and every refusal
//! is worded as serde's derived `Deserialize` words it ("unknown field `x`, expected one of …",
//! "invalid type: …"), so messages stay those users know. Derived readers cost the edge module
//! several kilobytes of code per type; these share a handful of small functions.

use super::json::{Members, Raw};
use serde::de::Unexpected;
use std::collections::BTreeMap;
use std::fmt::Write;

pub type Result<T> = std::result::Result<T, String>;

/// Nesting allowed in a document: far above any real one (a configuration's routes are three
/// levels deep), far below what could exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// `text` as one JSON value, for [`object`] and the value readers below.
pub fn parse(text: &str) -> Result<Raw<'_>> {
    super::json::scan(text.as_bytes(), MAX_DEPTH)
}

/// The members of an object, read once each by name.
pub struct Object<'r, 'a> {
    members: &'r Members<'a>,
}

/// `raw` as an object with only `fields` (serde's `deny_unknown_fields`), else refused as `what`
/// (e.g. "struct Config") would be.
pub fn object<'r, 'a>(raw: &'r Raw<'a>, what: &str, fields: &[&str]) -> Result<Object<'r, 'a>> {
    let o = lenient(raw, what)?;
    o.only(fields)?;
    Ok(o)
}

/// An object whose member `tag` names which of `variants` it is (serde's internally tagged
/// enum): the variant's index and the object, whose fields the caller then checks with
/// [`Object::only_besides`].
pub fn tagged<'r, 'a>(
    raw: &'r Raw<'a>,
    what: &str,
    tag: &str,
    variants: &[&str],
) -> Result<(usize, Object<'r, 'a>)> {
    let o = lenient(raw, what)?;
    let Some(name) = o.get(tag) else {
        return Err(missing_field(tag));
    };
    let i = variant(name, "variant identifier", variants)?;
    Ok((i, o))
}

/// An object whose members other than those read are ignored.
pub fn lenient<'r, 'a>(raw: &'r Raw<'a>, what: &str) -> Result<Object<'r, 'a>> {
    match raw {
        Raw::Object(members) => Ok(Object { members }),
        _ => Err(invalid_type(raw, what)),
    }
}

/// How a value is read. Plain function pointers, not closures: each reader is then compiled once
/// per type it yields, not once per call site.
pub type Read<T> = fn(&Raw<'_>) -> Result<T>;

impl<'r, 'a> Object<'r, 'a> {
    /// Refuses a member that is not one of `fields` (serde's `deny_unknown_fields`).
    pub fn only(&self, fields: &[&str]) -> Result<()> {
        self.refuse_unknown(fields, None)
    }

    /// [`Object::only`] for a tagged object: `tag` is allowed too, and not listed as expected,
    /// as serde does not list it.
    pub fn only_besides(&self, tag: &str, fields: &[&str]) -> Result<()> {
        self.refuse_unknown(fields, Some(tag))
    }

    fn refuse_unknown(&self, fields: &[&str], tag: Option<&str>) -> Result<()> {
        match self
            .members
            .iter()
            .find(|(k, _)| tag != Some(k.as_ref()) && !fields.contains(&k.as_ref()))
        {
            Some((name, _)) => Err(unknown_field(name, fields)),
            None => Ok(()),
        }
    }

    /// The member `name`, if present (null included).
    pub fn get(&self, name: &str) -> Option<&'r Raw<'a>> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A member that must be present.
    pub fn required<T>(&self, name: &str, read: Read<T>) -> Result<T> {
        match self.get(name) {
            Some(v) => read(v),
            None => Err(missing_field(name)),
        }
    }

    /// A member with a default when absent (null is a value, refused unless `read` takes it).
    pub fn or<T>(&self, name: &str, default: T, read: Read<T>) -> Result<T> {
        match self.get(name) {
            Some(v) => read(v),
            None => Ok(default),
        }
    }

    /// An optional member: absent and null are both `None`, as serde reads an `Option`.
    pub fn optional<T>(&self, name: &str, read: Read<T>) -> Result<Option<T>> {
        match self.get(name) {
            None | Some(Raw::Null) => Ok(None),
            Some(v) => read(v).map(Some),
        }
    }
}

/// Null as `None`, anything else read by `read`.
pub fn nullable<T>(raw: &Raw<'_>, read: Read<T>) -> Result<Option<T>> {
    match raw {
        Raw::Null => Ok(None),
        v => read(v).map(Some),
    }
}

pub fn string(raw: &Raw<'_>) -> Result<String> {
    match raw {
        Raw::Str(s) => Ok(s.as_ref().to_owned()),
        _ => Err(invalid_type(raw, "a string")),
    }
}

pub fn boolean(raw: &Raw<'_>) -> Result<bool> {
    match raw {
        Raw::Bool(b) => Ok(*b),
        _ => Err(invalid_type(raw, "a boolean")),
    }
}

/// A JSON integer in `0..=max`, else refused as serde refuses a `ty` ("u32", …).
fn unsigned(raw: &Raw<'_>, max: u64, ty: &str) -> Result<u64> {
    if let Raw::Number(n) = raw {
        if let Some(v) = n.as_u64() {
            return if v <= max {
                Ok(v)
            } else {
                Err(invalid_value(Unexpected::Unsigned(v), ty))
            };
        }
        if let Some(v) = n.as_i64() {
            return Err(invalid_value(Unexpected::Signed(v), ty));
        }
    }
    Err(invalid_type(raw, ty))
}

pub fn uint16(raw: &Raw<'_>) -> Result<u16> {
    unsigned(raw, u16::MAX.into(), "u16").map(|v| v as u16)
}

pub fn uint32(raw: &Raw<'_>) -> Result<u32> {
    unsigned(raw, u32::MAX.into(), "u32").map(|v| v as u32)
}

pub fn uint64(raw: &Raw<'_>) -> Result<u64> {
    unsigned(raw, u64::MAX, "u64")
}

pub fn size(raw: &Raw<'_>) -> Result<usize> {
    unsigned(raw, usize::MAX as u64, "usize").map(|v| v as usize)
}

pub fn int64(raw: &Raw<'_>) -> Result<i64> {
    if let Raw::Number(n) = raw {
        if let Some(v) = n.as_i64() {
            return Ok(v);
        }
        if let Some(v) = n.as_u64() {
            return Err(invalid_value(Unexpected::Unsigned(v), "i64"));
        }
    }
    Err(invalid_type(raw, "i64"))
}

/// Any JSON number, as f64.
pub fn number(raw: &Raw<'_>) -> Result<f64> {
    match raw {
        Raw::Number(n) => n.as_f64().ok_or_else(|| invalid_type(raw, "f64")),
        _ => Err(invalid_type(raw, "f64")),
    }
}

/// Any JSON value, owned.
pub fn value(raw: &Raw<'_>) -> Result<serde_json::Value> {
    Ok(raw.to_value())
}

/// Any JSON object, owned.
pub fn json_object(raw: &Raw<'_>) -> Result<serde_json::Map<String, serde_json::Value>> {
    match raw {
        Raw::Object(members) => Ok(super::json::to_map(members)),
        _ => Err(invalid_type(raw, "a map")),
    }
}

/// An array's elements, unread.
pub fn items<'r, 'a>(raw: &'r Raw<'a>) -> Result<&'r [Raw<'a>]> {
    match raw {
        Raw::Array(items) => Ok(items),
        _ => Err(invalid_type(raw, "a sequence")),
    }
}

/// An array, each element read by `read`.
pub fn array<T>(raw: &Raw<'_>, read: Read<T>) -> Result<Vec<T>> {
    let items = items(raw)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(read(item)?);
    }
    Ok(out)
}

pub fn strings(raw: &Raw<'_>) -> Result<Vec<String>> {
    array(raw, string)
}

/// An object of string values, by name.
pub fn string_map(raw: &Raw<'_>) -> Result<BTreeMap<String, String>> {
    map(raw, string)
}

/// An object read as a map, each value read by `read`.
pub fn map<T>(raw: &Raw<'_>, read: Read<T>) -> Result<BTreeMap<String, T>> {
    let Raw::Object(members) = raw else {
        return Err(invalid_type(raw, "a map"));
    };
    let mut out = BTreeMap::new();
    for (k, v) in members {
        out.insert(k.as_ref().to_owned(), read(v)?);
    }
    Ok(out)
}

/// One of `variants` (a unit enum spelt as a string), as its index.
pub fn variant(raw: &Raw<'_>, what: &str, variants: &[&str]) -> Result<usize> {
    match raw {
        Raw::Str(s) => variants
            .iter()
            .position(|v| *v == s.as_ref())
            .ok_or_else(|| {
                let mut m = format!("unknown variant `{s}`, expected ");
                expected_names(&mut m, variants);
                m
            }),
        _ => Err(invalid_type(raw, what)),
    }
}

fn invalid_type(raw: &Raw<'_>, expected: &str) -> String {
    let got = match raw {
        // serde_json says null where serde would say "unit value".
        Raw::Null => "null".to_owned(),
        Raw::Bool(b) => Unexpected::Bool(*b).to_string(),
        Raw::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u).to_string(),
            (None, Some(i)) => Unexpected::Signed(i).to_string(),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)).to_string(),
        },
        Raw::Str(s) => Unexpected::Str(s).to_string(),
        Raw::Array(_) => Unexpected::Seq.to_string(),
        Raw::Object(_) => Unexpected::Map.to_string(),
    };
    format!("invalid type: {got}, expected {expected}")
}

fn missing_field(name: &str) -> String {
    format!("missing field `{name}`")
}

fn invalid_value(got: Unexpected<'_>, expected: &str) -> String {
    format!("invalid value: {got}, expected {expected}")
}

fn unknown_field(name: &str, fields: &[&str]) -> String {
    let mut m = format!("unknown field `{name}`, ");
    if fields.is_empty() {
        m.push_str("there are no fields");
    } else {
        m.push_str("expected ");
        expected_names(&mut m, fields);
    }
    m
}

/// serde's list of what was expected: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
fn expected_names(m: &mut String, names: &[&str]) {
    match names {
        [one] => {
            let _ = write!(m, "`{one}`");
        }
        [a, b] => {
            let _ = write!(m, "`{a}` or `{b}`");
        }
        _ => {
            m.push_str("one of ");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    m.push_str(", ");
                }
                let _ = write!(m, "`{n}`");
            }
        }
    }
}

/// What serde's derived reader says of `text`, without the position it appends (these readers
/// give none): the reference each document's reader is tested against.
#[cfg(test)]
pub(crate) fn derived<T: serde::de::DeserializeOwned>(text: &str) -> Result<()> {
    serde_json::from_str::<T>(text).map(drop).map_err(|e| {
        let m = e.to_string();
        m.rfind(" at line ")
            .map_or(m.clone(), |i| m[..i].to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// The reference: what serde's derive says for the same input.
    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Derived {
        name: String,
        #[serde(default)]
        count: u32,
        #[serde(default)]
        on: bool,
        #[serde(default)]
        tags: Option<Vec<String>>,
        #[serde(default)]
        leeway: Option<f64>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "kebab-case")]
    enum Kind {
        One,
        TwoWords,
    }

    const FIELDS: &[&str] = &["name", "count", "on", "tags", "leeway", "headers", "kind"];

    fn ours(text: &str) -> Result<()> {
        let raw = parse(text)?;
        let o = object(&raw, "struct Derived", FIELDS)?;
        o.required("name", string)?;
        o.or("count", 0, uint32)?;
        o.or("on", false, boolean)?;
        o.optional("tags", strings)?;
        o.optional("leeway", number)?;
        o.or("headers", BTreeMap::new(), string_map)?;
        o.optional("kind", |r| variant(r, "enum Kind", &["one", "two-words"]))?;
        Ok(())
    }

    #[test]
    fn accepts_and_refuses_what_the_derive_does_in_its_words() {
        for text in [
            r#"{"name":"a"}"#,
            r#"{"name":"a","count":7,"on":true,"tags":["x"],"leeway":1.5,"headers":{"a":"b"},"kind":"two-words"}"#,
            r#"{"name":"a","tags":null,"leeway":null,"kind":null}"#,
            r#"{"name":"a","leeway":3}"#,
            r#"{}"#,
            r#"{"name":5}"#,
            r#"{"name":null}"#,
            r#"{"name":"a","bogus":1}"#,
            r#"{"name":"a","count":-1}"#,
            r#"{"name":"a","count":4294967296}"#,
            r#"{"name":"a","count":1.5}"#,
            r#"{"name":"a","count":"1"}"#,
            r#"{"name":"a","on":null}"#,
            r#"{"name":"a","on":1}"#,
            r#"{"name":"a","tags":"x"}"#,
            r#"{"name":"a","tags":[1]}"#,
            r#"{"name":"a","tags":[{}]}"#,
            r#"{"name":"a","leeway":"1"}"#,
            r#"{"name":"a","headers":[]}"#,
            r#"{"name":"a","headers":{"a":true}}"#,
            r#"{"name":"a","headers":null}"#,
            r#"{"name":"a","kind":"three"}"#,
            r#"{"name":-3}"#,
            r#"{"name":[]}"#,
            "\"x\"",
        ] {
            assert_eq!(ours(text), derived::<Derived>(text), "{text}");
        }
    }

    #[test]
    fn refuses_where_the_derive_is_loose() {
        // A derived struct also takes its fields by position, from an array, defaults for
        // the rest.
        assert_eq!(
            ours(r#"["a"]"#),
            Err("invalid type: sequence, expected struct Derived".into())
        );
        assert_eq!(derived::<Derived>(r#"["a"]"#), Ok(()));
        // Where serde_json says only "expected value".
        assert_eq!(
            ours(r#"{"name":"a","kind":false}"#),
            Err("invalid type: boolean `false`, expected enum Kind".into())
        );
    }

    #[test]
    fn an_empty_name_is_a_name_like_any_other() {
        assert_eq!(
            ours(r#"{"name":"a","":1}"#),
            derived::<Derived>(r#"{"name":"a","":1}"#)
        );
        assert!(ours(r#"{"name":"a","":1}"#).is_err());
    }

    #[test]
    fn a_unit_variant_is_a_string_only() {
        // serde_json's derive also took `{"one":null}` (the externally tagged form).
        let text = r#"{"name":"a","kind":{"one":null}}"#;
        assert_eq!(derived::<Derived>(text), Ok(()));
        assert_eq!(
            ours(text),
            Err("invalid type: map, expected enum Kind".into())
        );
    }

    #[test]
    fn lists_expected_names_as_serde_does() {
        let one = |f: &[&str]| object(&parse(r#"{"x":1}"#).unwrap_or(Raw::Null), "s", f).err();
        assert_eq!(
            one(&[]),
            Some("unknown field `x`, there are no fields".into())
        );
        assert_eq!(one(&["a"]), Some("unknown field `x`, expected `a`".into()));
        assert_eq!(
            one(&["a", "b"]),
            Some("unknown field `x`, expected `a` or `b`".into())
        );
    }

    #[test]
    fn refuses_duplicate_members_and_deep_nesting() {
        assert!(ours(r#"{"name":"a","name":"b"}"#)
            .is_err_and(|e| e.contains("duplicate member name \"name\"")));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let text = format!(r#"{{"name":"a","tags":{deep}}}"#);
        assert!(ours(&text).is_err_and(|e| e.contains("nested deeper")));
    }
}
