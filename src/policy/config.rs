//! The edge worker's configuration (`TOKENGATE_CONFIG` or the KV key `config`): every field's
//! default and every check lives here, so the worker, the lifecycle CLI and the README table
//! agree. Unknown fields are refused (a misspelt option must not silently keep its default), and
//! every problem found after parsing is reported, not just the first.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::error::printable;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::route::Router;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

fn default_realm() -> String {
    crate::error::DEFAULT_REALM.into()
}
fn default_protect() -> String {
    "/api/".into()
}
fn default_origin() -> String {
    "builtin:echo".into()
}
fn default_api_key_header() -> Option<String> {
    Some("X-API-Key".into())
}
fn default_cache_ttl() -> u32 {
    60
}
fn default_kid_cooldown() -> u32 {
    crate::policy::remote::DEFAULT_KID_COOLDOWN
}
fn default_keys_max_stale() -> u32 {
    crate::policy::remote::DEFAULT_KEYS_MAX_STALE
}
/// Above the cron period (15 min) plus margin: the cron refreshes the list every 10 minutes.
fn default_max_revocation_age() -> u32 {
    3600
}
fn default_rotation_days() -> u32 {
    30
}
fn default_max_active_keys() -> u32 {
    3
}
fn default_health_scope() -> String {
    "tokengate:health".into()
}

/// Where credentials may come from besides `Authorization: Bearer`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub cookie: Option<String>,
    pub query: Option<String>,
    /// `X-API-Key` unless configured; null turns API keys off.
    pub api_key_header: Option<String>,
    /// A header carrying a bare JWT (no `Bearer`) of any configured issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Derived, never configured: Cloudflare Access's header, read whenever a
    /// `cloudflare-access` issuer is configured (besides `header`), for those issuers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessHeader>,
}

/// Cloudflare Access adds `Cf-Access-Jwt-Assertion` to every request it lets through, so the
/// gate reads it as an ambient credential: used when the request carries no other one (an
/// app's own `Authorization: Bearer` wins), and checked only against these issuers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessHeader {
    pub name: String,
    pub issuers: Vec<String>,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            cookie: None,
            query: None,
            api_key_header: default_api_key_header(),
            header: None,
            access: None,
        }
    }
}

/// Names of the identity headers the origin receives.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IdentityHeaders {
    pub subject: String,
    pub scopes: String,
    pub issuer: String,
    pub token_id: String,
    pub kind: String,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        IdentityHeaders {
            subject: "X-Auth-Subject".into(),
            scopes: "X-Auth-Scopes".into(),
            issuer: "X-Auth-Issuer".into(),
            token_id: "X-Auth-Token-Id".into(),
            kind: "X-Auth-Kind".into(),
        }
    }
}

/// Seed 003's per-tenant module grants: which claims name the tenant and the module.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TenantGrants {
    pub tenant_claim: String,
    pub module_claim: String,
}

fn tenant() -> String {
    "tenant".into()
}
fn module() -> String {
    "module".into()
}

/// Access-token profiles: presets an issuer's validator and keys follow.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// RFC 9068 JWT access tokens: `typ` `at+jwt`, required `iss sub aud exp iat jti client_id`.
    Rfc9068,
    /// Cloudflare Access: keys from `<issuer>/cdn-cgi/access/certs`, the credential from
    /// `Cf-Access-Jwt-Assertion`, `aud` the application tag (required).
    CloudflareAccess,
}

/// One issuer the worker accepts tokens from. Absent lifetimes keep the validator's defaults.
/// Its keys come from exactly one of `jwks` (a KV key the lifecycle commands publish), `jwksUri`
/// or `discovery` (fetched, kept in KV under `remote:<issuer>`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    pub issuer: String,
    /// The KV key of the published key set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    /// A JWKS URL (https, or http to a loopback host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Find `jwks_uri` in the issuer's discovery document (OIDC, then RFC 8414).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub discovery: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Allowed `typ` headers (the `rfc9068` profile: `at+jwt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<Vec<String>>,
    /// Claims every token must carry (the `rfc9068` profile adds its seven).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_claims: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leeway: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_grants: Option<TenantGrants>,
}

/// The whole configuration, with every default filled in.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub realm: String,
    /// Paths under this prefix need a credential unless a route marks them anonymous.
    pub protect: String,
    /// `builtin:echo` (echoes the identity headers), an http(s) URL, or the ORIGIN binding.
    pub origin: String,
    pub forward_authorization: bool,
    pub credentials: Credentials,
    pub identity_headers: IdentityHeaders,
    pub claim_headers: BTreeMap<String, String>,
    pub issuers: Vec<Issuer>,
    pub routes: Vec<serde_json::Value>,
    pub allow_unicode_paths: bool,
    pub cache_ttl: u32,
    pub kid_cooldown: u32,
    pub keys_max_stale: u32,
    pub persist_keys: bool,
    pub max_revocation_age: u32,
    pub rotation_days: u32,
    pub max_active_keys: u32,
    /// The scope a credential needs for the health details (anyone gets ok/not-ok).
    pub health_scope: String,
    /// Bounds of every remote key fetch (timeout, size, max-age clamp).
    pub remote_keys: crate::policy::remote::FetchPolicy,
}

// The readers: every field of each document, its default and how it is read. Field lists are
// in declaration order, as refusals of unknown fields list them.

impl Config {
    const FIELDS: &'static [&'static str] = &[
        "realm",
        "protect",
        "origin",
        "forwardAuthorization",
        "credentials",
        "identityHeaders",
        "claimHeaders",
        "issuers",
        "routes",
        "allowUnicodePaths",
        "cacheTtl",
        "kidCooldown",
        "keysMaxStale",
        "persistKeys",
        "maxRevocationAge",
        "rotationDays",
        "maxActiveKeys",
        "healthScope",
        "remoteKeys",
    ];

    fn read(raw: &Raw<'_>) -> doc::Result<Config> {
        let o = doc::object(raw, "struct Config", Self::FIELDS)?;
        let uint = |name: &str, default: u32| o.or(name, default, doc::uint32);
        let flag = |name: &str, default: bool| o.or(name, default, doc::boolean);
        let text = |name: &str, default: String| o.or(name, default, doc::string);
        Ok(Config {
            realm: text("realm", default_realm())?,
            protect: text("protect", default_protect())?,
            origin: text("origin", default_origin())?,
            forward_authorization: flag("forwardAuthorization", false)?,
            credentials: o.or("credentials", Credentials::default(), Credentials::read)?,
            identity_headers: o.or(
                "identityHeaders",
                IdentityHeaders::default(),
                IdentityHeaders::read,
            )?,
            claim_headers: o.or("claimHeaders", BTreeMap::new(), doc::string_map)?,
            issuers: o.or("issuers", Vec::new(), |r| doc::array(r, Issuer::read))?,
            routes: o.or("routes", Vec::new(), |r| doc::array(r, doc::value))?,
            allow_unicode_paths: flag("allowUnicodePaths", false)?,
            cache_ttl: uint("cacheTtl", default_cache_ttl())?,
            kid_cooldown: uint("kidCooldown", default_kid_cooldown())?,
            keys_max_stale: uint("keysMaxStale", default_keys_max_stale())?,
            persist_keys: flag("persistKeys", true)?,
            max_revocation_age: uint("maxRevocationAge", default_max_revocation_age())?,
            rotation_days: uint("rotationDays", default_rotation_days())?,
            max_active_keys: uint("maxActiveKeys", default_max_active_keys())?,
            health_scope: text("healthScope", default_health_scope())?,
            remote_keys: o.or(
                "remoteKeys",
                Default::default(),
                crate::policy::remote::FetchPolicy::read,
            )?,
        })
    }
}

impl Credentials {
    fn read(raw: &Raw<'_>) -> doc::Result<Credentials> {
        let fields = ["cookie", "query", "apiKeyHeader", "header"];
        let o = doc::object(raw, "struct Credentials", &fields)?;
        Ok(Credentials {
            cookie: o.optional("cookie", doc::string)?,
            query: o.optional("query", doc::string)?,
            api_key_header: o.or("apiKeyHeader", default_api_key_header(), |r| {
                doc::nullable(r, doc::string)
            })?,
            header: o.optional("header", doc::string)?,
            access: None,
        })
    }
}

impl IdentityHeaders {
    fn read(raw: &Raw<'_>) -> doc::Result<IdentityHeaders> {
        let fields = ["subject", "scopes", "issuer", "tokenId", "kind"];
        let o = doc::object(raw, "struct IdentityHeaders", &fields)?;
        let d = IdentityHeaders::default();
        let name = |field: &str, default: String| o.or(field, default, doc::string);
        Ok(IdentityHeaders {
            subject: name("subject", d.subject)?,
            scopes: name("scopes", d.scopes)?,
            issuer: name("issuer", d.issuer)?,
            token_id: name("tokenId", d.token_id)?,
            kind: name("kind", d.kind)?,
        })
    }
}

impl TenantGrants {
    fn read(raw: &Raw<'_>) -> doc::Result<TenantGrants> {
        let o = doc::object(raw, "struct TenantGrants", &["tenantClaim", "moduleClaim"])?;
        Ok(TenantGrants {
            tenant_claim: o.or("tenantClaim", tenant(), doc::string)?,
            module_claim: o.or("moduleClaim", module(), doc::string)?,
        })
    }
}

impl Profile {
    fn read(raw: &Raw<'_>) -> doc::Result<Profile> {
        let i = doc::variant(raw, "enum Profile", &["rfc9068", "cloudflare-access"])?;
        Ok(if i == 0 {
            Profile::Rfc9068
        } else {
            Profile::CloudflareAccess
        })
    }
}

impl Issuer {
    const FIELDS: &'static [&'static str] = &[
        "issuer",
        "jwks",
        "jwksUri",
        "discovery",
        "profile",
        "typ",
        "requiredClaims",
        "audience",
        "tokenTypes",
        "leeway",
        "maxLifetime",
        "tenantGrants",
    ];

    fn read(raw: &Raw<'_>) -> doc::Result<Issuer> {
        let o = doc::object(raw, "struct Issuer", Self::FIELDS)?;
        Ok(Issuer {
            issuer: o.required("issuer", doc::string)?,
            jwks: o.optional("jwks", doc::string)?,
            jwks_uri: o.optional("jwksUri", doc::string)?,
            discovery: o.or("discovery", false, doc::boolean)?,
            profile: o.optional("profile", Profile::read)?,
            typ: o.optional("typ", doc::strings)?,
            required_claims: o.optional("requiredClaims", doc::strings)?,
            audience: o.optional("audience", doc::value)?,
            token_types: o.optional("tokenTypes", doc::strings)?,
            leeway: o.optional("leeway", doc::number)?,
            max_lifetime: o.optional("maxLifetime", doc::number)?,
            tenant_grants: o.optional("tenantGrants", TenantGrants::read)?,
        })
    }
}

/// Whole seconds as a JSON integer (the policy reads integers); anything else as given, for the
/// policy to refuse.
fn seconds(v: f64) -> serde_json::Value {
    if v.fract() == 0.0 && (0.0..9.0e15).contains(&v) {
        serde_json::Value::from(v as u64)
    } else {
        serde_json::Value::from(v)
    }
}

/// KV keys and prefixes the gate's own documents use; a key set may not be stored under them.
fn reserved_kv_name(name: &str) -> bool {
    ["config", "revocations", "grants"].contains(&name)
        || [
            "maintenance:",
            "key:",
            "revocation:",
            "grant:",
            "apikey:",
            "audit:",
            "remote:",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// RFC 9110 field names.
fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header name as an origin may read it: ASCII case-insensitive, `_` as `-` (CGI and many
/// frameworks read both spellings as one name), as the worker compares them when it strips.
fn loose_header(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Headers that frame or route the request hop by hop, or carry the cookies: a credential read
/// from one would be stripped with it before forwarding, and proxies rewrite them.
const REQUEST_HEADERS: &[&str] = &[
    "host",
    "cookie",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "content-encoding",
    "content-type",
    "expect",
    "forwarded",
];

/// Cookie and query-parameter names: a conservative token.
fn param_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl Config {
    /// How long the worker reuses its configuration document, and how long it serves the last
    /// good one when KV fails: the defaults of `cacheTtl` and `keysMaxStale`, since a
    /// configuration cannot bound its own reload.
    pub fn reload_bounds() -> (u32, u32) {
        (default_cache_ttl(), default_keys_max_stale())
    }

    /// Which of `candidates` (configured issuer names, in order) checks `token`: the one its
    /// unverified `iss` names. A token with an `iss` that is none of them is refused here,
    /// `issuer_not_allowed`, before any key is read or fetched: judged by another issuer's
    /// validator it would cost that issuer's key lookups (and its outages) and be answered as
    /// that issuer's token. A token without a string `iss`, or that does not parse, goes to the
    /// first, whose validator reports the missing claim or the malformed token.
    pub fn issuer_for(token: &str, candidates: &[String]) -> Result<usize> {
        let iss = crate::jose::token::peek_issuer(token, &crate::jose::token::Limits::default());
        match iss {
            Some(iss) => candidates.iter().position(|c| *c == iss).ok_or_else(|| {
                Error::new(
                    ErrorCode::IssuerNotAllowed,
                    format!("issuer \"{}\" is not allowed", printable(&iss)),
                )
            }),
            None if candidates.is_empty() => Err(Error::new(
                ErrorCode::IssuerNotAllowed,
                "no configured issuer checks this credential",
            )),
            None => Ok(0),
        }
    }

    /// The validator options the worker gives an issuer (JSON, as `Policy::from_json` reads
    /// them); the worker builds the same from the completed configuration.
    pub fn issuer_policy(&self, issuer: &Issuer) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        o.insert("issuer".into(), issuer.issuer.clone().into());
        let mut put = |k: &str, v: Option<serde_json::Value>| {
            if let Some(v) = v {
                o.insert(k.into(), v);
            }
        };
        put("audience", issuer.audience.clone());
        put("leeway", issuer.leeway.map(seconds));
        put("maxLifetime", issuer.max_lifetime.map(seconds));
        put(
            "tokenTypes",
            issuer.token_types.clone().map(serde_json::Value::from),
        );
        put("typ", issuer.typ.clone().map(serde_json::Value::from));
        put(
            "requiredClaims",
            issuer.required_claims.clone().map(serde_json::Value::from),
        );
        put("maxRevocationAge", Some(self.max_revocation_age.into()));
        serde_json::Value::Object(o)
    }

    /// Parses and checks a configuration document (JSON text).
    pub fn from_json(text: &str) -> Result<Config> {
        let mut config = doc::parse(text)
            .and_then(|raw| Config::read(&raw))
            .map_err(invalid)?;
        config.complete();
        let mut problems = Vec::new();
        config.check(&mut problems);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(invalid(problems.join("; ")))
        }
    }

    /// The route table of this configuration.
    pub fn router(&self) -> Result<Router> {
        let routes = serde_json::json!({
            "protect": self.protect,
            "routes": self.routes,
            "allowUnicodePaths": self.allow_unicode_paths,
        });
        Router::from_json(&routes.to_string())
    }

    /// Fills in what profiles imply (done before checking, so the result is checked too).
    fn complete(&mut self) {
        use crate::policy::remote::{
            CLOUDFLARE_ACCESS_CERTS, CLOUDFLARE_ACCESS_HEADER, RFC9068_CLAIMS, RFC9068_TYP,
        };
        let mut access = Vec::new();
        for issuer in &mut self.issuers {
            match issuer.profile {
                Some(Profile::Rfc9068) => {
                    issuer.typ.get_or_insert_with(|| vec![RFC9068_TYP.into()]);
                    let claims = issuer.required_claims.get_or_insert_with(Vec::new);
                    for c in RFC9068_CLAIMS {
                        if !claims.iter().any(|have| have == c) {
                            claims.push((*c).into());
                        }
                    }
                }
                Some(Profile::CloudflareAccess) => {
                    if issuer.jwks.is_none() && issuer.jwks_uri.is_none() && !issuer.discovery {
                        let base = issuer.issuer.trim_end_matches('/');
                        issuer.jwks_uri = Some(format!("{base}{CLOUDFLARE_ACCESS_CERTS}"));
                    }
                    access.push(issuer.issuer.clone());
                }
                None => {}
            }
        }
        // Not `credentials.header`: that one stays free for tokens of any issuer.
        self.credentials.access = (!access.is_empty()).then(|| AccessHeader {
            name: CLOUDFLARE_ACCESS_HEADER.into(),
            issuers: access,
        });
    }

    fn check(&self, problems: &mut Vec<String>) {
        if self.realm.is_empty() || self.realm.len() > 128 {
            problems.push("\"realm\" must be 1 to 128 characters".into());
        }
        if self.origin != "builtin:echo"
            && !(self.origin.starts_with("https://") || self.origin.starts_with("http://"))
        {
            problems.push(format!(
                "\"origin\" must be \"builtin:echo\" or an http(s) URL, got \"{}\"",
                printable(&self.origin)
            ));
        }
        if self.issuers.is_empty() {
            problems.push("\"issuers\" must list at least one issuer".into());
        }
        let mut seen = HashSet::new();
        for (i, issuer) in self.issuers.iter().enumerate() {
            let sources = usize::from(issuer.jwks.is_some())
                + usize::from(issuer.jwks_uri.is_some())
                + usize::from(issuer.discovery);
            if issuer.issuer.is_empty()
                || sources != 1
                || issuer.jwks.as_deref().is_some_and(str::is_empty)
            {
                problems.push(format!(
                    "issuers[{i}] needs \"issuer\" and \"jwks\" (a KV key), or instead \"jwksUri\" or \"discovery\": true (exactly one source)"
                ));
            }
            if let Some(uri) = &issuer.jwks_uri {
                if let Err(f) = crate::policy::remote::check_url(uri) {
                    problems.push(format!("issuers[{i}].jwksUri: {}", f.message));
                }
            }
            if issuer.discovery {
                if let Err(f) = crate::policy::remote::discovery_urls(&issuer.issuer) {
                    problems.push(format!("issuers[{i}].discovery: {}", f.message));
                }
            }
            if issuer.profile == Some(Profile::CloudflareAccess) {
                let team = issuer
                    .issuer
                    .strip_prefix("https://")
                    .and_then(|h| h.strip_suffix(".cloudflareaccess.com"));
                if !team.is_some_and(|t| {
                    !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }) {
                    problems.push(format!(
                        "issuers[{i}]: the cloudflare-access profile needs \"issuer\": \"https://<team>.cloudflareaccess.com\""
                    ));
                }
                if issuer.audience.is_none() {
                    problems.push(format!(
                        "issuers[{i}]: the cloudflare-access profile needs \"audience\" (the application's AUD tag)"
                    ));
                }
                // Fetched keys are the team's certs, never another host's: `complete` fills in
                // that URL only when no source is given, so any other URL was configured. A KV
                // key set (`jwks`) is the operator's own, trusted like this configuration.
                let certs = format!(
                    "{}{}",
                    issuer.issuer.trim_end_matches('/'),
                    crate::policy::remote::CLOUDFLARE_ACCESS_CERTS
                );
                if issuer.discovery || issuer.jwks_uri.as_deref().is_some_and(|u| u != certs) {
                    problems.push(format!(
                        "issuers[{i}] (\"{}\"): the cloudflare-access profile fetches its keys from {} only; remove \"jwksUri\" and \"discovery\"",
                        printable(&issuer.issuer),
                        printable(&certs)
                    ));
                }
            }
            if !seen.insert(issuer.issuer.as_str()) {
                problems.push(format!(
                    "issuers[{i}]: \"{}\" is listed twice",
                    printable(&issuer.issuer)
                ));
            }
            for (name, v) in [
                ("leeway", issuer.leeway),
                ("maxLifetime", issuer.max_lifetime),
            ] {
                if v.is_some_and(|v| !v.is_finite() || v < 0.0 || v.fract() != 0.0) {
                    problems.push(format!(
                        "issuers[{i}].{name} must be a whole number of seconds ≥ 0"
                    ));
                }
            }
            if let Some(name) = issuer.jwks.as_deref().filter(|n| reserved_kv_name(n)) {
                problems.push(format!(
                    "issuers[{i}].jwks \"{}\" is a KV key the gate uses for something else; name it e.g. \"jwks:{}\"",
                    printable(name),
                    printable(name)
                ));
            }
            // The validator the worker builds for this issuer must accept these options.
            if let Err(e) =
                crate::policy::claims::Policy::from_json(&self.issuer_policy(issuer).to_string())
            {
                problems.push(format!("issuers[{i}]: {}", e.message()));
            }
        }
        let headers = [
            &self.identity_headers.subject,
            &self.identity_headers.scopes,
            &self.identity_headers.issuer,
            &self.identity_headers.token_id,
            &self.identity_headers.kind,
        ];
        for name in headers.into_iter().chain(self.claim_headers.values()) {
            if !header_name_ok(name) {
                problems.push(format!("\"{}\" is not a header name", printable(name)));
            }
        }
        // Every header the gate sets or reads is distinct: a claim header must never overwrite an
        // identity header, and a credential header is never forwarded as identity.
        // Compared as an origin reads them (`X_Auth_Subject` is `X-Auth-Subject`).
        let mut gate_headers: Vec<(String, &str)> = headers
            .iter()
            .map(|h| (loose_header(h), "identityHeaders"))
            .collect();
        gate_headers.push(("authorization".into(), "Authorization"));
        if let Some(h) = &self.credentials.api_key_header {
            gate_headers.push((loose_header(h), "credentials.apiKeyHeader"));
        }
        if let Some(h) = &self.credentials.header {
            gate_headers.push((loose_header(h), "credentials.header"));
        }
        if let Some(a) = &self.credentials.access {
            if self
                .credentials
                .header
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(&a.name))
            {
                // Said once, plainly, instead of the generic "used twice" below.
                problems.push(format!(
                    "credentials.header \"{}\" is read for the cloudflare-access issuers already (always, and only for them); remove it, or name another header for tokens of any issuer",
                    a.name
                ));
            } else {
                gate_headers.push((
                    loose_header(&a.name),
                    "the cloudflare-access profile's header",
                ));
            }
        }
        for h in self.claim_headers.values() {
            gate_headers.push((loose_header(h), "claimHeaders"));
        }
        let mut seen_headers: BTreeMap<String, &str> = BTreeMap::new();
        for (name, what) in &gate_headers {
            if let Some(first) = seen_headers.insert(name.clone(), what) {
                problems.push(format!(
                    "header \"{}\" is used twice ({first} and {what}); each header the gate sets or reads must be its own",
                    printable(name)
                ));
            }
        }
        for (what, h) in [
            ("credentials.header", &self.credentials.header),
            ("credentials.apiKeyHeader", &self.credentials.api_key_header),
        ] {
            if let Some(h) = h
                .as_deref()
                .filter(|h| REQUEST_HEADERS.contains(&loose_header(h).as_str()))
            {
                problems.push(format!(
                    "{what} \"{}\" frames, routes or carries the request (hop by hop, cookies): name a header of its own, e.g. \"X-Token\"",
                    printable(h)
                ));
            }
        }
        if self.credentials.cookie.is_some() && self.credentials.cookie == self.credentials.query {
            problems.push("credentials.cookie and credentials.query must differ".into());
        }
        if let Some(h) = &self.credentials.api_key_header {
            if !header_name_ok(h) {
                problems.push(format!(
                    "credentials.apiKeyHeader \"{}\" is not a header name",
                    printable(h)
                ));
            }
        }
        if let Some(h) = &self.credentials.header {
            let clash = |other: &str| h.eq_ignore_ascii_case(other);
            if !header_name_ok(h)
                || clash("Authorization")
                || self
                    .credentials
                    .api_key_header
                    .as_deref()
                    .is_some_and(clash)
            {
                problems.push(format!(
                    "credentials.header \"{}\" must be a header name other than Authorization and the API-key header",
                    printable(h)
                ));
            }
        }
        self.remote_keys.check(problems);
        for (what, v) in [
            ("cookie", &self.credentials.cookie),
            ("query", &self.credentials.query),
        ] {
            if v.as_deref().is_some_and(|n| !param_name_ok(n)) {
                problems.push(format!(
                    "credentials.{what} must be a name of letters, digits, - _ ."
                ));
            }
        }
        if !(1..=86_400).contains(&self.cache_ttl) {
            problems.push("\"cacheTtl\" must be 1 to 86400 seconds".into());
        }
        if self.keys_max_stale < self.cache_ttl {
            problems.push("\"keysMaxStale\" must be at least \"cacheTtl\"".into());
        }
        if self.max_revocation_age < self.cache_ttl {
            problems.push("\"maxRevocationAge\" must be at least \"cacheTtl\"".into());
        }
        if self.max_active_keys == 0 {
            problems.push("\"maxActiveKeys\" must be at least 1".into());
        }
        if let Err(e) = crate::policy::scope::validate(&self.health_scope, false) {
            problems.push(format!("\"healthScope\": {}", e.message()));
        }
        if let Err(e) = self.router() {
            problems.push(e.message().to_owned());
        }
    }
}

/// The discovery document tokengate publishes for an issuer it mints for: its `jwks_uri`, and
/// as signing algorithms exactly those the published keys (a JWKS, JSON text) verify.
pub fn published_discovery(issuer: &str, jwks_uri: &str, jwks: &str) -> Result<String> {
    let set = crate::jose::keys::KeySet::from_json(jwks)?;
    let algs: Vec<&str> = crate::jose::alg::Alg::ALL
        .iter()
        .filter(|a| set.keys().iter().any(|k| k.allows(**a)))
        .map(|a| a.name())
        .collect();
    Ok(serde_json::json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "id_token_signing_alg_values_supported": algs,
    })
    .to_string())
}

/// The published key set and discovery document are read-only: GET and HEAD, else 405.
pub fn published_method(method: &str) -> Result<()> {
    if method == "GET" || method == "HEAD" {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} is not allowed here; the published keys are read with GET or HEAD",
            printable(method)
        ),
    )
    .with_allow("GET, HEAD"))
}

fn invalid(message: String) -> Error {
    Error::new(
        ErrorCode::OptionsInvalid,
        format!("configuration: {message}"),
    )
}
