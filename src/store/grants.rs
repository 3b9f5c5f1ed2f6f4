//! The grants document (`grants` in KV): issuer-wide grants that narrow every token of an issuer,
//! and per-tenant module grants (seed 003), checked once when the worker reads it.

use crate::error::{Error, ErrorCode, Result};
use crate::policy::scope::ScopeSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    pub schema: u32,
    #[serde(default)]
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Issuer → space-separated granted scopes (wildcards allowed).
    #[serde(default)]
    pub issuers: BTreeMap<String, String>,
    /// Tenant → module → granted scopes.
    #[serde(default)]
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
        let g: Grants = serde_json::from_str(text).map_err(|e| invalid(format!("{e}")))?;
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

fn invalid(message: String) -> Error {
    Error::new(
        ErrorCode::ScopeInvalid,
        format!("grants document: {message}"),
    )
}
