//! What an accepted credential (JWT or API key) tells the caller: the one result type the
//! validator, the cache, revocation and API keys share.

use serde::Serialize;
use serde_json::{Map, Value};

/// What a validated credential (JWT or API key) tells the caller.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// `jwt` or `apikey`.
    pub kind: &'static str,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// Granted scopes after any grant intersection.
    pub scopes: Vec<String>,
    /// `jti` (JWT) or the API key's id.
    pub token_id: Option<String>,
    pub expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub token_type: Option<String>,
    pub alg: Option<&'static str>,
    pub kid: Option<String>,
}
