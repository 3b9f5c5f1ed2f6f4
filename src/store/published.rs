//! The documents the lifecycle commands publish from their entries: the key set (`jwks:<name>`,
//! from `key:<name>:<kid>` entries) and the grants document (`grants`, from
//! `grant:<tenant>/<module>/<scope>` entries). Building, reading and adopting them is decided here,
//! so the worker, its cron and the CLI agree on what a document holds.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::codec::sort::sort_by;
use crate::error::printable;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::scope::ScopeSet;
use crate::store::grants::Grants;
use crate::store::revocation::next_version_at;
use crate::store::rotation::{KeyEntry, Status};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// One listed KV entry: its name and metadata (`None` when it has none).
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub entry: Option<Value>,
}

impl Listed {
    /// Reads `[{name, entry?}]` (JSON text, as the host lists KV); other members are ignored.
    pub fn list_from_json(text: &str) -> std::result::Result<Vec<Listed>, String> {
        doc::array(&doc::parse(text)?, |raw| {
            let o = doc::lenient(raw, "struct Listed")?;
            Ok(Listed {
                name: o.required("name", doc::string)?,
                entry: o.optional("entry", doc::value)?,
            })
        })
    }
}

/// The published key set: every stored key, active and retired, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeySetDocument {
    pub schema: u32,
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<i64>,
    /// The digest of the entries it was built from; absent in a document written by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub keys: Vec<KeyEntry>,
}

/// A key as a hand-written document may hold it: status and creation time may be left out.
struct HandWritten {
    status: Option<Status>,
    created_at: Option<i64>,
    retired_at: Option<i64>,
    jwk: Map<String, Value>,
}

struct Wire {
    schema: u32,
    version: u64,
    generated_at: Option<i64>,
    source: Option<String>,
    keys: Vec<HandWritten>,
}

impl HandWritten {
    fn read(raw: &Raw<'_>) -> doc::Result<HandWritten> {
        let fields = ["status", "created_at", "retired_at", "jwk"];
        let o = doc::object(raw, "struct HandWritten", &fields)?;
        Ok(HandWritten {
            status: o.optional("status", Status::read)?,
            created_at: o.optional("created_at", doc::int64)?,
            retired_at: o.optional("retired_at", doc::int64)?,
            jwk: o.required("jwk", doc::json_object)?,
        })
    }
}

impl Wire {
    fn read(raw: &Raw<'_>) -> doc::Result<Wire> {
        let fields = ["schema", "version", "generated_at", "source", "keys"];
        let o = doc::object(raw, "struct Wire", &fields)?;
        Ok(Wire {
            schema: o.required("schema", doc::uint32)?,
            version: o.or("version", 0, doc::uint64)?,
            generated_at: o.optional("generated_at", doc::int64)?,
            source: o.optional("source", doc::string)?,
            keys: o.required("keys", |r| doc::array(r, HandWritten::read))?,
        })
    }
}

fn key_invalid(message: String) -> Error {
    Error::new(ErrorCode::KeyInvalid, message)
}

impl KeySetDocument {
    /// Parses and checks a stored key set: schema 1, every key a public JWK with a `kid` (a key
    /// written by hand without `status`/`created_at` is active, created at 0), no `kid` twice.
    pub fn from_json(name: &str, text: &str) -> Result<KeySetDocument> {
        let shape = || {
            format!(
                "KV key \"{}\" must be {{\"schema\":1,\"version\":N,\"keys\":[{{status, created_at, jwk}}]}}",
                printable(name)
            )
        };
        let wire = doc::parse(text)
            .and_then(|raw| Wire::read(&raw))
            .map_err(|e| key_invalid(format!("{}: {e}", shape())))?;
        if wire.schema != 1 {
            return Err(key_invalid(shape()));
        }
        let mut keys = Vec::with_capacity(wire.keys.len());
        let mut seen = HashSet::new();
        for k in wire.keys {
            let entry = KeyEntry::checked(KeyEntry {
                status: k.status.unwrap_or(Status::Active),
                created_at: k.created_at.unwrap_or(0),
                retired_at: k.retired_at,
                jwk: k.jwk,
            })?;
            if !seen.insert(entry.kid().to_owned()) {
                return Err(key_invalid(format!(
                    "KV key \"{}\" has two keys with kid \"{}\"",
                    printable(name),
                    printable(entry.kid())
                )));
            }
            keys.push(entry);
        }
        Ok(KeySetDocument {
            schema: 1,
            version: wire.version,
            generated_at: wire.generated_at,
            source: wire.source,
            keys,
        })
    }

    /// The snapshot of the listed entries: each checked, oldest first (then by `kid`), the next
    /// version after `prev_version`, recording `source`.
    pub fn build(
        listed: &[Listed],
        prev_version: u64,
        now: i64,
        source: &str,
    ) -> Result<KeySetDocument> {
        Self::build_at(listed, prev_version, now.saturating_mul(1000), source)
    }

    /// [`KeySetDocument::build`] with the clock in milliseconds (see
    /// [`crate::revocation::next_version_at`]).
    pub fn build_at(
        listed: &[Listed],
        prev_version: u64,
        now_ms: i64,
        source: &str,
    ) -> Result<KeySetDocument> {
        let now = now_ms.div_euclid(1000);
        let mut keys = listed
            .iter()
            .map(|l| {
                let text = l.entry.as_ref().unwrap_or(&Value::Null).to_string();
                KeyEntry::from_json(&text).map_err(|e| {
                    key_invalid(format!(
                        "key entry \"{}\" is invalid: {}",
                        printable(&l.name),
                        e.message()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        sort_by(&mut keys, |a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.kid().cmp(b.kid()))
        });
        Ok(KeySetDocument {
            schema: 1,
            version: next_version_at(prev_version, now_ms),
            generated_at: Some(now),
            source: Some(source.to_owned()),
            keys,
        })
    }

    /// The key set a reader uses, and whether the stored document is behind its entries. The
    /// stored snapshot is trusted only when its `source` is the digest of the live listing;
    /// otherwise the set is rebuilt from the entries alone, so a key whose entry was removed is
    /// never served from an older snapshot. A document written by hand (no `source`) keeps the
    /// keys no entry has until they are adopted.
    pub fn effective(
        name: &str,
        stored: Option<&str>,
        listed: &[Listed],
        source: &str,
        now: i64,
    ) -> Result<(KeySetDocument, bool)> {
        let doc = stored
            .map(|t| KeySetDocument::from_json(name, t))
            .transpose()?;
        if doc.is_none() && listed.is_empty() {
            return Err(key_invalid(format!(
                "KV key \"{}\" is missing",
                printable(name)
            )));
        }
        if let Some(d) = &doc {
            if d.source.as_deref() == Some(source) {
                return Ok((d.clone(), false));
            }
        }
        let mut built = KeySetDocument::build(listed, 0, now, source)?;
        built.version = doc.as_ref().map_or(0, |d| d.version);
        if let Some(d) = doc.filter(|d| d.source.is_none()) {
            let have: HashSet<String> = built.keys.iter().map(|k| k.kid().to_owned()).collect();
            let mut keys: Vec<KeyEntry> = d
                .keys
                .into_iter()
                .filter(|k| !have.contains(k.kid()))
                .collect();
            keys.append(&mut built.keys);
            built.keys = keys;
        }
        Ok((built, true))
    }

    /// The keys of a hand-written document (no `source`) that no listed entry has: what becomes
    /// an entry before the first compaction, so nothing in it is dropped. A document with
    /// `source` is never adopted back (a key missing from the entries was removed).
    pub fn adoptable(name: &str, stored: &str, listed: &[Listed]) -> Result<Vec<KeyEntry>> {
        let doc = KeySetDocument::from_json(name, stored)?;
        if doc.source.is_some() {
            return Ok(Vec::new());
        }
        let have: HashSet<&str> = listed
            .iter()
            .filter_map(|l| l.entry.as_ref()?.get("jwk")?.get("kid")?.as_str())
            .collect();
        Ok(doc
            .keys
            .into_iter()
            .filter(|k| !have.contains(k.kid()))
            .collect())
    }
}

/// A grant entry's metadata: one scope for one tenant's module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantEntry {
    pub tenant: String,
    pub module: String,
    pub scope: String,
}

impl GrantEntry {
    /// Its three strings; other members are ignored.
    fn from_value(v: &Value) -> Option<GrantEntry> {
        let text = |k: &str| v.get(k)?.as_str().map(str::to_owned);
        Some(GrantEntry {
            tenant: text("tenant")?,
            module: text("module")?,
            scope: text("scope")?,
        })
    }
}

impl Grants {
    /// The tenant grants of a hand-written grants document (no `source`) that no listed
    /// `grant:` entry holds: what becomes an entry before the first compaction, so nothing in it
    /// is dropped. The document is checked as the worker reads it (a document the core refuses
    /// is an error, never "nothing to adopt"). A document with `source` is never adopted back
    /// (a grant missing from the entries was revoked); issuer-wide grants are kept by `build`.
    pub fn adoptable(stored: &str, listed: &[Listed]) -> Result<Vec<GrantEntry>> {
        let doc = Grants::from_json(stored)?;
        if doc.source.is_some() {
            return Ok(Vec::new());
        }
        let have: HashSet<(&str, &str, &str)> = listed
            .iter()
            .filter_map(|l| {
                let e = l.entry.as_ref()?;
                Some((
                    e.get("tenant")?.as_str()?,
                    e.get("module")?.as_str()?,
                    e.get("scope")?.as_str()?,
                ))
            })
            .collect();
        let mut out = Vec::new();
        for (tenant, modules) in &doc.tenants {
            for (module, scopes) in modules {
                if tenant.is_empty() || module.is_empty() {
                    return Err(Error::new(
                        ErrorCode::ScopeInvalid,
                        format!(
                            "grants document: tenants[{:?}][{:?}]: a tenant and a module need a name",
                            printable(tenant),
                            printable(module)
                        ),
                    ));
                }
                for scope in scopes {
                    let g = GrantEntry {
                        tenant: tenant.clone(),
                        module: module.clone(),
                        scope: scope.clone(),
                    };
                    if !have.contains(&(tenant.as_str(), module.as_str(), scope.as_str()))
                        && !out.contains(&g)
                    {
                        out.push(g);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The grants document from its entries: `tenants[tenant][module]` = the granted scopes,
    /// sorted, each once; issuer-wide grants (written by hand) kept from `prev`.
    pub fn build(
        listed: &[Listed],
        prev: Option<&Grants>,
        now: i64,
        source: &str,
    ) -> Result<Grants> {
        Self::build_at(listed, prev, now.saturating_mul(1000), source)
    }

    /// [`Grants::build`] with the clock in milliseconds (see
    /// [`crate::revocation::next_version_at`]).
    pub fn build_at(
        listed: &[Listed],
        prev: Option<&Grants>,
        now_ms: i64,
        source: &str,
    ) -> Result<Grants> {
        let now = now_ms.div_euclid(1000);
        let mut tenants: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for l in listed {
            let bad = || {
                Error::new(
                    ErrorCode::ScopeInvalid,
                    format!(
                        "grant entry \"{}\" is invalid: needs {{tenant, module, scope}}",
                        printable(&l.name)
                    ),
                )
            };
            let g = l
                .entry
                .as_ref()
                .and_then(GrantEntry::from_value)
                .ok_or_else(bad)?;
            if g.tenant.is_empty() || g.module.is_empty() || g.scope.is_empty() {
                return Err(bad());
            }
            ScopeSet::new(std::slice::from_ref(&g.scope)).map_err(|e| {
                Error::new(
                    ErrorCode::ScopeInvalid,
                    format!("grant entry \"{}\": {}", printable(&l.name), e.message()),
                )
            })?;
            let scopes = tenants
                .entry(g.tenant)
                .or_default()
                .entry(g.module)
                .or_default();
            if !scopes.contains(&g.scope) {
                scopes.push(g.scope);
            }
        }
        for modules in tenants.values_mut() {
            for scopes in modules.values_mut() {
                sort_by(scopes, |a, b| a.cmp(b));
            }
        }
        Ok(Grants {
            schema: 1,
            version: next_version_at(prev.map_or(0, |p| p.version), now_ms),
            generated_at: Some(now),
            source: Some(source.to_owned()),
            issuers: prev.map(|p| p.issuers.clone()).unwrap_or_default(),
            tenants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived reader this replaced: the reference for what is accepted and how a refusal
    /// is worded.
    mod before {
        use serde::Deserialize;
        use serde_json::{Map, Value};

        #[derive(Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Status {
            Active,
            Retired,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct HandWritten {
            #[serde(default)]
            status: Option<Status>,
            #[serde(default)]
            created_at: Option<i64>,
            #[serde(default)]
            retired_at: Option<i64>,
            jwk: Map<String, Value>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct Wire {
            schema: u32,
            #[serde(default)]
            version: u64,
            #[serde(default)]
            generated_at: Option<i64>,
            #[serde(default)]
            source: Option<String>,
            keys: Vec<HandWritten>,
        }
    }

    #[test]
    fn key_sets_are_read_as_the_derived_reader_read_them() {
        for text in [
            r#"{"schema":1,"keys":[]}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"source":"s","keys":[{"status":"retired","created_at":1,"retired_at":2,"jwk":{"kid":"a"}}]}"#,
            r#"{"schema":1,"keys":[{"jwk":{"kid":"a"}}]}"#,
            r#"{"schema":1,"keys":[{"status":null,"jwk":{}}]}"#,
            r#"{"schema":1}"#,
            r#"{"schema":1,"keys":{}}"#,
            r#"{"schema":1,"keys":[{"kid":"a"}]}"#,
            r#"{"schema":1,"keys":[{"status":"gone","jwk":{}}]}"#,
            r#"{"schema":1,"keys":[],"jwks":[]}"#,
            r#"{"keys":[]}"#,
        ] {
            let ours = doc::parse(text).and_then(|raw| Wire::read(&raw)).map(drop);
            assert_eq!(ours, doc::derived::<before::Wire>(text), "{text}");
        }
    }

    #[test]
    fn listed_entries_are_read_as_the_derived_reader_read_them() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Listed {
            name: String,
            #[serde(default)]
            entry: Option<Value>,
        }
        for text in [
            r#"[]"#,
            r#"[{"name":"a","entry":{"x":1}},{"name":"b"},{"name":"c","entry":null,"expiration":5}]"#,
            r#"[{"entry":{}}]"#,
            r#"[{"name":5}]"#,
            r#"{"name":"a"}"#,
        ] {
            let ours = super::Listed::list_from_json(text).map(drop);
            assert_eq!(ours, doc::derived::<Vec<Listed>>(text), "{text}");
        }
        // The derive also read an entry by position, from an array.
        assert!(super::Listed::list_from_json(r#"[["a"]]"#).is_err());
    }

    #[test]
    fn a_grant_entry_is_its_three_strings() {
        let e = |v: serde_json::Value| GrantEntry::from_value(&v);
        let want = GrantEntry {
            tenant: "t".into(),
            module: "m".into(),
            scope: "s".into(),
        };
        assert_eq!(
            e(serde_json::json!({"tenant":"t","module":"m","scope":"s","x":1})),
            Some(want)
        );
        assert_eq!(e(serde_json::json!({"tenant":"t","module":"m"})), None);
        assert_eq!(
            e(serde_json::json!({"tenant":"t","module":"m","scope":5})),
            None
        );
        assert_eq!(e(serde_json::json!(["t", "m", "s"])), None);
    }
}
