//! The grants document (`grants` in KV): issuer-wide grants that narrow every token of an issuer,
//! and per-tenant module grants (seed 003), checked once when the worker reads it.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::scope::ScopeSet;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Grants {
    pub schema: u32,
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Issuer → space-separated granted scopes (wildcards allowed).
    pub issuers: BTreeMap<String, String>,
    /// Tenant → module → granted scopes.
    pub tenants: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Grants {
    /// No document: nothing is narrowed.
    pub fn none() -> Grants {
        Grants {
            schema: 1,
            ..Grants::default()
        }
    }

    /// Parses and checks the document: schema 1, every grant a valid scope.
    pub fn from_json(text: &str) -> Result<Grants> {
        let g = doc::parse(text)
            .and_then(|raw| Grants::read(&raw))
            .map_err(invalid)?;
        if g.schema != 1 {
            return Err(invalid(format!(
                "schema {} is not supported (expected 1)",
                g.schema
            )));
        }
        for (iss, scopes) in &g.issuers {
            ScopeSet::parse(scopes)
                .map_err(|e| invalid(format!("issuers[{iss:?}]: {}", e.message())))?;
        }
        for (tenant, modules) in &g.tenants {
            for (module, scopes) in modules {
                ScopeSet::new(scopes).map_err(|e| {
                    invalid(format!("tenants[{tenant:?}][{module:?}]: {}", e.message()))
                })?;
            }
        }
        Ok(g)
    }
}

impl Grants {
    fn read(raw: &Raw<'_>) -> doc::Result<Grants> {
        let fields = [
            "schema",
            "version",
            "generated_at",
            "source",
            "issuers",
            "tenants",
        ];
        let o = doc::object(raw, "struct Grants", &fields)?;
        Ok(Grants {
            schema: o.required("schema", doc::uint32)?,
            version: o.or("version", 0, doc::uint64)?,
            generated_at: o.optional("generated_at", doc::int64)?,
            source: o.optional("source", doc::string)?,
            issuers: o.or("issuers", BTreeMap::new(), doc::string_map)?,
            tenants: o.or("tenants", BTreeMap::new(), |r| {
                doc::map(r, |r| doc::map(r, doc::strings))
            })?,
        })
    }
}

fn invalid(message: String) -> Error {
    Error::new(
        ErrorCode::ScopeInvalid,
        format!("grants document: {message}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived reader this replaced: the reference for what is accepted and how a refusal
    /// is worded.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Before {
        schema: u32,
        #[serde(default)]
        version: u64,
        #[serde(default)]
        generated_at: Option<i64>,
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        issuers: BTreeMap<String, String>,
        #[serde(default)]
        tenants: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    }

    #[test]
    fn the_document_is_read_as_the_derived_reader_read_it() {
        for text in [
            r#"{"schema":1}"#,
            r#"{"schema":1,"version":3,"generated_at":-1,"source":"s","issuers":{"i":"a b"},"tenants":{"t":{"m":["a"]}}}"#,
            r#"{"schema":1,"generated_at":null,"source":null}"#,
            r#"{"version":1}"#,
            r#"{"schema":1,"extra":true}"#,
            r#"{"schema":1,"version":null}"#,
            r#"{"schema":1,"issuers":{"i":["a"]}}"#,
            r#"{"schema":1,"tenants":{"t":["m"]}}"#,
            r#"{"schema":1,"tenants":{"t":{"m":"a"}}}"#,
            r#"{"schema":1,"tenants":{"t":{"m":[1]}}}"#,
            r#"{"schema":-1}"#,
        ] {
            let ours = doc::parse(text)
                .and_then(|raw| Grants::read(&raw))
                .map(drop);
            assert_eq!(ours, doc::derived::<Before>(text), "{text}");
        }
    }
}
