//! Claim policy (RFC 7519 §4.1 plus the checks token systems rely on: lifetime caps, token
//! types, tenant binding). A `Policy` is validated once when built and reused for every token.

use crate::codec::doc;
use crate::codec::json::{Members, Raw};
use crate::codec::time::duration;
use crate::error::printable;
use crate::error::{err, Error, ErrorCode, Result};
use crate::jose::alg::Alg;
use crate::jose::token::Limits;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Latest accepted NumericDate: 9999-12-31T23:59:59Z. Later values are garbage, not dates.
pub const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// The `exp` of a token issued at `now` for `ttl` seconds (the CLI's `mint --ttl`, with a key
/// file or an issuer's key): a whole, positive lifetime ending within the NumericDate range,
/// so no command mints a token that is expired when issued or that validators reject.
pub fn token_expiry(now: f64, ttl: f64) -> Result<i64> {
    let bad = |m: &str| Error::new(ErrorCode::OptionsInvalid, m.to_string());
    if !(ttl.is_finite() && ttl.fract() == 0.0) {
        return Err(bad("--ttl must be a whole number of seconds"));
    }
    if ttl < 1.0 {
        return Err(bad(
            "--ttl must be positive (a token with exp = iat is expired when issued)",
        ));
    }
    let exp = now.floor() + ttl;
    if !(now.is_finite() && now >= 0.0 && exp <= MAX_NUMERIC_DATE) {
        return Err(bad(
            "--ttl puts exp past 9999-12-31, out of the NumericDate range",
        ));
    }
    Ok(exp as i64)
}

/// Default clock leeway in seconds.
pub const DEFAULT_LEEWAY: u64 = 60;
/// Default maximum lifetime `exp - iat`: 30 days.
pub const DEFAULT_MAX_LIFETIME: u64 = 30 * 24 * 3600;

/// Accepts `"x"` or `["x", "y"]` (null: neither).
#[derive(Debug, Clone, Default)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn read(raw: &Raw<'_>) -> doc::Result<OneOrMany> {
        match raw {
            Raw::Null => Ok(OneOrMany::None),
            Raw::Str(s) => Ok(OneOrMany::One(s.as_ref().to_owned())),
            _ => doc::strings(raw).map(OneOrMany::Many).map_err(|_| {
                "data did not match any variant of untagged enum OneOrMany".to_owned()
            }),
        }
    }

    /// The allowed values; `[]` is refused, because an empty allow-list would read as "not
    /// checked" (leave the option out for that) while meaning "nothing is allowed".
    fn into_vec(self, what: &str) -> Result<Vec<String>> {
        match self {
            OneOrMany::None => Ok(vec![]),
            OneOrMany::One(s) => Ok(vec![s]),
            OneOrMany::Many(v) if v.is_empty() => Err(invalid(format!(
                "{what}: an empty list would reject everything; leave {what} out not to check it"
            ))),
            OneOrMany::Many(v) => Ok(v),
        }
    }
}

/// The JSON form of a policy (camelCase, as the JS API and CLI pass it). Unknown fields are
/// an error so a typo never silently disables a check.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub algorithms: Option<Vec<String>>,
    pub issuer: OneOrMany,
    pub audience: OneOrMany,
    pub subject: Option<String>,
    pub typ: OneOrMany,
    pub token_type_claim: Option<String>,
    pub token_types: OneOrMany,
    pub require_exp: Option<bool>,
    pub leeway: Option<u64>,
    /// Seconds; `null` in JSON is the same as absent (default 30 days). Use `0` to disable.
    pub max_lifetime: Option<u64>,
    pub max_age: Option<u64>,
    pub required_claims: Vec<String>,
    pub claim_values: Map<String, Value>,
    pub require_jti: Option<bool>,
    pub max_token_bytes: Option<usize>,
    pub max_json_depth: Option<usize>,
    pub crit: Vec<String>,
    /// Scope requirement expression, e.g. `users:read and (billing:read or admin)`.
    pub scope: Option<String>,
    /// Claims scopes are read from, in order (default `scope`, `scp`, `scopes`).
    pub scope_claims: Option<Vec<String>>,
    /// Maximum age of the revocation list in seconds; older fails closed.
    pub max_revocation_age: Option<u64>,
}

impl PolicyInput {
    const FIELDS: &'static [&'static str] = &[
        "algorithms",
        "issuer",
        "audience",
        "subject",
        "typ",
        "tokenTypeClaim",
        "tokenTypes",
        "requireExp",
        "leeway",
        "maxLifetime",
        "maxAge",
        "requiredClaims",
        "claimValues",
        "requireJti",
        "maxTokenBytes",
        "maxJsonDepth",
        "crit",
        "scope",
        "scopeClaims",
        "maxRevocationAge",
    ];

    /// Reads the JSON form: every field optional, unknown fields refused.
    pub fn from_json(text: &str) -> doc::Result<PolicyInput> {
        let raw = doc::parse(text)?;
        let o = doc::object(&raw, "struct PolicyInput", Self::FIELDS)?;
        let many = |name: &str| o.or(name, OneOrMany::None, OneOrMany::read);
        let list = |name: &str| o.or(name, Vec::new(), doc::strings);
        Ok(PolicyInput {
            algorithms: o.optional("algorithms", doc::strings)?,
            issuer: many("issuer")?,
            audience: many("audience")?,
            subject: o.optional("subject", doc::string)?,
            typ: many("typ")?,
            token_type_claim: o.optional("tokenTypeClaim", doc::string)?,
            token_types: many("tokenTypes")?,
            require_exp: o.optional("requireExp", doc::boolean)?,
            leeway: o.optional("leeway", doc::uint64)?,
            max_lifetime: o.optional("maxLifetime", doc::uint64)?,
            max_age: o.optional("maxAge", doc::uint64)?,
            required_claims: list("requiredClaims")?,
            claim_values: o.or("claimValues", Map::new(), doc::json_object)?,
            require_jti: o.optional("requireJti", doc::boolean)?,
            max_token_bytes: o.optional("maxTokenBytes", doc::size)?,
            max_json_depth: o.optional("maxJsonDepth", doc::size)?,
            crit: list("crit")?,
            scope: o.optional("scope", doc::string)?,
            scope_claims: o.optional("scopeClaims", doc::strings)?,
            max_revocation_age: o.optional("maxRevocationAge", doc::uint64)?,
        })
    }
}

/// A validated, reusable claim policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub algorithms: Vec<Alg>,
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
    pub subject: Option<String>,
    pub typ: Vec<String>,
    pub token_type_claim: String,
    pub token_types: Vec<String>,
    pub require_exp: bool,
    pub leeway: u64,
    /// `None`: no cap.
    pub max_lifetime: Option<u64>,
    pub max_age: Option<u64>,
    pub required_claims: Vec<String>,
    pub claim_values: Map<String, Value>,
    pub require_jti: bool,
    pub limits: Limits,
    pub crit: Vec<String>,
    pub scope: Option<crate::policy::scope::Requirement>,
    pub scope_claims: Vec<String>,
    pub max_revocation_age: Option<u64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            algorithms: vec![],
            issuers: vec![],
            audiences: vec![],
            subject: None,
            typ: vec![],
            token_type_claim: "type".into(),
            token_types: vec![],
            require_exp: true,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: Some(DEFAULT_MAX_LIFETIME),
            max_age: None,
            required_claims: vec![],
            claim_values: Map::new(),
            require_jti: false,
            limits: Limits::default(),
            crit: vec![],
            scope: None,
            scope_claims: crate::policy::scope::DEFAULT_SCOPE_CLAIMS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            max_revocation_age: None,
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::OptionsInvalid, message)
}

impl Policy {
    /// Parses and validates the JSON form.
    pub fn from_json(text: &str) -> Result<Policy> {
        let input = PolicyInput::from_json(if text.trim().is_empty() { "{}" } else { text })
            .map_err(|e| invalid(format!("options: {e}")))?;
        Policy::from_input(input)
    }

    pub fn from_input(input: PolicyInput) -> Result<Policy> {
        let d = Policy::default();
        let algorithms = match input.algorithms {
            None => vec![],
            Some(list) if list.is_empty() => {
                return Err(invalid("algorithms: empty list would reject everything"))
            }
            Some(list) => list
                .iter()
                .map(|n| {
                    Alg::from_name(n)
                        .ok_or_else(|| invalid(format!("algorithms: unknown algorithm \"{n}\"")))
                })
                .collect::<Result<_>>()?,
        };
        let nonempty = |what: &str, v: Vec<String>| -> Result<Vec<String>> {
            if v.iter().any(String::is_empty) {
                Err(invalid(format!("{what}: empty string")))
            } else {
                Ok(v)
            }
        };
        let leeway = input.leeway.unwrap_or(d.leeway);
        if leeway > 86_400 {
            return Err(invalid("leeway: more than one day is not a clock skew"));
        }
        let limits = Limits {
            max_token_bytes: input.max_token_bytes.unwrap_or(d.limits.max_token_bytes),
            max_json_depth: input.max_json_depth.unwrap_or(d.limits.max_json_depth),
        };
        if limits.max_token_bytes == 0 || limits.max_token_bytes > 1 << 20 {
            return Err(invalid("maxTokenBytes: must be 1 ..= 1048576"));
        }
        if limits.max_json_depth < 2 || limits.max_json_depth > 64 {
            return Err(invalid("maxJsonDepth: must be 2 ..= 64"));
        }
        let scope = input
            .scope
            .as_deref()
            .map(crate::policy::scope::Requirement::parse)
            .transpose()?;
        let scope_claims = input.scope_claims.unwrap_or(d.scope_claims);
        if scope_claims.is_empty() {
            return Err(invalid("scopeClaims: empty list"));
        }
        Ok(Policy {
            algorithms,
            issuers: nonempty("issuer", input.issuer.into_vec("issuer")?)?,
            audiences: nonempty("audience", input.audience.into_vec("audience")?)?,
            subject: input.subject,
            typ: nonempty("typ", input.typ.into_vec("typ")?)?,
            token_type_claim: input.token_type_claim.unwrap_or(d.token_type_claim),
            token_types: nonempty("tokenTypes", input.token_types.into_vec("tokenTypes")?)?,
            require_exp: input.require_exp.unwrap_or(true),
            leeway,
            max_lifetime: match input.max_lifetime {
                Some(0) => None,
                Some(s) => Some(s),
                None => d.max_lifetime,
            },
            max_age: input.max_age,
            required_claims: input.required_claims,
            claim_values: input.claim_values,
            require_jti: input.require_jti.unwrap_or(false),
            limits,
            crit: input.crit,
            scope,
            scope_claims,
            max_revocation_age: input.max_revocation_age,
        })
    }
}

/// The claims a check reads: an owned map (a result's claims), or the members
/// [`crate::codec::json::scan_object`] read from the payload (validation, which then builds a
/// map only for callers that hand one out).
#[derive(Debug, Clone, Copy)]
pub enum ClaimsRef<'a> {
    Map(&'a Map<String, Value>),
    Scan(&'a [(Cow<'a, str>, Raw<'a>)]),
}

impl<'a> From<&'a Map<String, Value>> for ClaimsRef<'a> {
    fn from(map: &'a Map<String, Value>) -> Self {
        ClaimsRef::Map(map)
    }
}

impl<'a> From<&'a Members<'a>> for ClaimsRef<'a> {
    fn from(members: &'a Members<'a>) -> Self {
        ClaimsRef::Scan(members)
    }
}

/// One claim's value, from either form.
#[derive(Debug, Clone, Copy)]
pub enum Claim<'a> {
    Value(&'a Value),
    Raw(&'a Raw<'a>),
}

impl<'a> ClaimsRef<'a> {
    pub fn get(self, name: &str) -> Option<Claim<'a>> {
        match self {
            ClaimsRef::Map(m) => m.get(name).map(Claim::Value),
            ClaimsRef::Scan(s) => s
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Claim::Raw(v)),
        }
    }
}

impl<'a> Claim<'a> {
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Claim::Value(Value::String(s)) => Some(s),
            Claim::Raw(Raw::Str(s)) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(self) -> bool {
        matches!(self, Claim::Value(Value::Null) | Claim::Raw(Raw::Null))
    }
    fn as_number(self) -> Option<&'a serde_json::Number> {
        match self {
            Claim::Value(Value::Number(n)) | Claim::Raw(Raw::Number(n)) => Some(n),
            _ => None,
        }
    }
    /// An array's entries as strings: `None` when this is not an array, `Some(None)` when an
    /// entry is not a string.
    pub fn str_items(self) -> Option<Option<Vec<&'a str>>> {
        match self {
            Claim::Value(Value::Array(a)) => Some(a.iter().map(Value::as_str).collect()),
            Claim::Raw(Raw::Array(a)) => Some(
                a.iter()
                    .map(|v| match v {
                        Raw::Str(s) => Some(s.as_ref()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
    /// JSON equality with `want`, as `serde_json::Value`'s `==` decides it.
    fn equals(self, want: &Value) -> bool {
        match self {
            Claim::Value(v) => v == want,
            Claim::Raw(r) => r.to_value() == *want,
        }
    }
}

/// Reads a NumericDate claim: absent is `None`; anything but a finite JSON number in
/// `0 ..= 9999-12-31` is `claim_invalid` (never treated as absent).
pub fn numeric_date<'a>(claims: impl Into<ClaimsRef<'a>>, name: &str) -> Result<Option<f64>> {
    let Some(claim) = claims.into().get(name) else {
        return Ok(None);
    };
    match claim.as_number() {
        Some(n) => match n.as_f64() {
            Some(v) if v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v) => Ok(Some(v)),
            _ => err(
                ErrorCode::ClaimInvalid,
                format!("\"{name}\" is out of the NumericDate range"),
            ),
        },
        None => err(
            ErrorCode::ClaimInvalid,
            format!("\"{name}\" must be a NumericDate (a JSON number of seconds)"),
        ),
    }
}

/// A string claim: absent is `None`, any other JSON type is `claim_invalid`.
pub fn string_claim<'a>(claims: impl Into<ClaimsRef<'a>>, name: &str) -> Result<Option<&'a str>> {
    match claims.into().get(name) {
        None => Ok(None),
        Some(c) => match c.as_str() {
            Some(s) => Ok(Some(s)),
            None => err(
                ErrorCode::ClaimInvalid,
                format!("\"{name}\" must be a string"),
            ),
        },
    }
}

/// Claims that name an identity (and become the gate's identity headers) must read the same to
/// every consumer: no control characters (a header cannot carry them) and no surrounding
/// whitespace (an HTTP hop trims it, so `" admin "` would arrive as `admin`).
fn identity_text(name: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if v.chars().any(char::is_control) || v.trim() != v => err(
            ErrorCode::ClaimInvalid,
            format!("\"{name}\" has control characters or surrounding whitespace"),
        ),
        _ => Ok(()),
    }
}

/// `aud` as a list: a string or an array of strings (RFC 7519 §4.1.3).
pub fn audiences<'a>(claims: impl Into<ClaimsRef<'a>>) -> Result<Option<Vec<&'a str>>> {
    let Some(claim) = claims.into().get("aud") else {
        return Ok(None);
    };
    if let Some(s) = claim.as_str() {
        return Ok(Some(vec![s]));
    }
    match claim.str_items() {
        Some(Some(list)) => Ok(Some(list)),
        Some(None) => err(ErrorCode::ClaimInvalid, "\"aud\" array must hold strings"),
        None => err(
            ErrorCode::ClaimInvalid,
            "\"aud\" must be a string or an array of strings",
        ),
    }
}

/// Times read from a token, in whole seconds (fractions floored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
}

/// `typ` values compare case-insensitively, and `application/` may be left out (RFC 7515 §4.1.9).
fn typ_matches(got: &str, want: &str) -> bool {
    let strip = |s: &str| -> String {
        let l = s.to_ascii_lowercase();
        l.strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(l)
    };
    strip(got) == strip(want)
}

/// The NumericDates of a token as it holds them (fractions kept), what a cache hit re-decides.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dates {
    pub exp: Option<f64>,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
}

impl Dates {
    pub fn read<'a>(claims: impl Into<ClaimsRef<'a>>) -> Result<Dates> {
        let claims = claims.into();
        Ok(Dates {
            exp: numeric_date(claims, "exp")?,
            nbf: numeric_date(claims, "nbf")?,
            iat: numeric_date(claims, "iat")?,
        })
    }
}

/// The time claims only (also what a cache hit re-decides), on dates already read.
pub fn check_dates(policy: &Policy, dates: &Dates, now: i64) -> Result<Times> {
    let now_f = now as f64;
    let leeway = policy.leeway as f64;
    let Dates { exp, nbf, iat } = *dates;
    match exp {
        None if policy.require_exp => {
            return err(
                ErrorCode::ClaimMissing,
                "token has no \"exp\" (expiry is required)",
            )
        }
        Some(e) if e <= now_f - leeway => {
            return err(
                ErrorCode::TokenExpired,
                format!("token expired {} ago", duration((now_f - e) as i64)),
            )
        }
        _ => {}
    }
    if let Some(n) = nbf {
        if n > now_f + leeway {
            return err(
                ErrorCode::TokenNotYetValid,
                format!(
                    "token is not valid for another {}",
                    duration((n - now_f) as i64)
                ),
            );
        }
    }
    if let Some(i) = iat {
        if i > now_f + leeway {
            return err(
                ErrorCode::TokenIssuedInFuture,
                format!("\"iat\" is {} in the future", duration((i - now_f) as i64)),
            );
        }
    }
    if let (Some(max), Some(e)) = (policy.max_lifetime, exp) {
        let max = max as f64;
        match iat {
            Some(i) if e - i > max => {
                return err(
                    ErrorCode::LifetimeExceeded,
                    format!(
                        "token lifetime {} exceeds the maximum {}",
                        duration((e - i) as i64),
                        duration(max as i64)
                    ),
                )
            }
            None if e - now_f > max + leeway => {
                return err(
                    ErrorCode::LifetimeExceeded,
                    format!(
                        "token without \"iat\" is valid for {} more; the maximum lifetime is {}",
                        duration((e - now_f) as i64),
                        duration(max as i64)
                    ),
                )
            }
            _ => {}
        }
    }
    if let Some(max) = policy.max_age {
        let Some(i) = iat else {
            return err(
                ErrorCode::ClaimMissing,
                "token has no \"iat\" and a maximum age is set",
            );
        };
        if now_f - i > max as f64 + leeway {
            return err(
                ErrorCode::TokenTooOld,
                format!(
                    "token was issued {} ago; the maximum age is {}",
                    duration((now_f - i) as i64),
                    duration(max as i64)
                ),
            );
        }
    }
    let floor = |v: Option<f64>| v.map(|x| x.floor() as i64);
    Ok(Times {
        exp: floor(exp),
        nbf: floor(nbf),
        iat: floor(iat),
    })
}

/// Every claim check, in a fixed order so the same token always gets the same code (`typ` is the
/// header's). Returns the times and the dates they came from (for the cache).
pub fn check(
    policy: &Policy,
    typ: Option<&str>,
    claims: ClaimsRef<'_>,
    now: i64,
) -> Result<(Times, Dates)> {
    let dates = Dates::read(claims)?;
    let times = check_dates(policy, &dates, now)?;
    let iss = string_claim(claims, "iss")?;
    let sub = string_claim(claims, "sub")?;
    let jti = string_claim(claims, "jti")?;
    for (name, value) in [("iss", iss), ("sub", sub), ("jti", jti)] {
        identity_text(name, value)?;
    }
    let aud = audiences(claims)?;
    if !policy.issuers.is_empty() {
        let iss = iss.ok_or_else(|| Error::new(ErrorCode::ClaimMissing, "token has no \"iss\""))?;
        if !policy.issuers.iter().any(|i| i == iss) {
            return err(
                ErrorCode::IssuerNotAllowed,
                format!("issuer \"{}\" is not allowed", printable(iss)),
            );
        }
    }
    if !policy.audiences.is_empty() {
        let aud = aud.ok_or_else(|| Error::new(ErrorCode::ClaimMissing, "token has no \"aud\""))?;
        if !aud.iter().any(|a| policy.audiences.iter().any(|p| p == a)) {
            return err(
                ErrorCode::AudienceNotAllowed,
                "no audience of the token is allowed here",
            );
        }
    }
    if !policy.typ.is_empty() {
        let typ = typ.unwrap_or("");
        if !policy.typ.iter().any(|t| typ_matches(typ, t)) {
            return err(
                ErrorCode::TypNotAllowed,
                format!("typ \"{}\" is not allowed", printable(typ)),
            );
        }
    }
    if !policy.token_types.is_empty() {
        let name = &policy.token_type_claim;
        let got = string_claim(claims, name)?.ok_or_else(|| {
            Error::new(
                ErrorCode::ClaimMissing,
                format!("token has no \"{name}\" (token type)"),
            )
        })?;
        if !policy.token_types.iter().any(|t| t == got) {
            return err(
                ErrorCode::TokenTypeNotAllowed,
                format!("token type \"{}\" is not accepted here", printable(got)),
            );
        }
    }
    for name in &policy.required_claims {
        if claims.get(name).is_none_or(Claim::is_null) {
            return err(
                ErrorCode::ClaimMissing,
                format!("token has no \"{}\"", printable(name)),
            );
        }
    }
    if policy.require_jti && jti.is_none() {
        return err(
            ErrorCode::ClaimMissing,
            "token has no \"jti\", so it cannot be revoked",
        );
    }
    if let Some(want) = &policy.subject {
        let sub = sub.ok_or_else(|| Error::new(ErrorCode::ClaimMissing, "token has no \"sub\""))?;
        if sub != want {
            return err(
                ErrorCode::SubjectMismatch,
                "token belongs to another subject",
            );
        }
    }
    for (name, want) in &policy.claim_values {
        match claims.get(name) {
            got if got.is_none_or(Claim::is_null) => {
                return err(
                    ErrorCode::ClaimMissing,
                    format!("token has no \"{}\"", printable(name)),
                )
            }
            Some(got) if !got.equals(want) => {
                return err(
                    ErrorCode::ClaimMismatch,
                    format!("\"{}\" does not have the required value", printable(name)),
                )
            }
            _ => {}
        }
    }
    Ok((times, dates))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived reader this replaced: the reference for what is accepted and how a refusal
    /// is worded.
    mod before {
        use serde::Deserialize;
        use serde_json::{Map, Value};

        #[derive(Deserialize, Default)]
        #[serde(untagged)]
        pub enum OneOrMany {
            #[default]
            None,
            #[allow(dead_code)]
            One(String),
            #[allow(dead_code)]
            Many(Vec<String>),
        }
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields, default)]
        #[allow(dead_code)]
        pub struct PolicyInput {
            algorithms: Option<Vec<String>>,
            issuer: OneOrMany,
            audience: OneOrMany,
            subject: Option<String>,
            typ: OneOrMany,
            token_type_claim: Option<String>,
            token_types: OneOrMany,
            require_exp: Option<bool>,
            leeway: Option<u64>,
            max_lifetime: Option<u64>,
            max_age: Option<u64>,
            required_claims: Vec<String>,
            claim_values: Map<String, Value>,
            require_jti: Option<bool>,
            max_token_bytes: Option<usize>,
            max_json_depth: Option<usize>,
            crit: Vec<String>,
            scope: Option<String>,
            scope_claims: Option<Vec<String>>,
            max_revocation_age: Option<u64>,
        }
    }

    #[test]
    fn options_are_read_as_the_derived_reader_read_them() {
        for text in [
            r#"{}"#,
            r#"{"algorithms":["HS256"],"issuer":"i","audience":["a","b"],"subject":"s","typ":null,"tokenTypeClaim":"t","tokenTypes":["x"],"requireExp":false,"leeway":1,"maxLifetime":null,"maxAge":3,"requiredClaims":["jti"],"claimValues":{"t":{"deep":[1,null]}},"requireJti":true,"maxTokenBytes":10,"maxJsonDepth":4,"crit":["b64"],"scope":"a","scopeClaims":["scp"],"maxRevocationAge":60}"#,
            r#"{"issuer":5}"#,
            r#"{"audience":[1]}"#,
            r#"{"audience":{}}"#,
            r#"{"audience":true}"#,
            r#"{"leeway":1.5}"#,
            r#"{"leeway":-1}"#,
            r#"{"leeway":"60"}"#,
            r#"{"requiredClaims":null}"#,
            r#"{"claimValues":null}"#,
            r#"{"claimValues":[]}"#,
            r#"{"crit":"b64"}"#,
            r#"{"requireExp":"yes"}"#,
            r#"{"maxTokenBytes":-5}"#,
            r#"{"issuers":"i"}"#,
            r#""x""#,
            "5",
        ] {
            let ours = PolicyInput::from_json(text).map(drop);
            assert_eq!(ours, doc::derived::<before::PolicyInput>(text), "{text}");
        }
        // The derive also took the fields by position, from an array.
        assert_eq!(
            PolicyInput::from_json("[1]").map(drop),
            Err("invalid type: sequence, expected struct PolicyInput".into())
        );
    }
}
