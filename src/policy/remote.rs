//! Keys tokengate does not hold: where an issuer's remote key set comes from (OIDC discovery or
//! a JWKS URL), which URLs may be fetched, the bounds of a fetch, and when a fetched set is
//! fresh, due for a background refresh, stale but usable, or too old to use. The edge worker
//! only moves the bytes; every threshold and time here is the core's.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::error::printable;
use serde::{Deserialize, Serialize};

/// Seconds a fetch (headers and body) may take.
pub const DEFAULT_TIMEOUT: u32 = 5;
/// Largest response body accepted (discovery document or JWKS).
pub const DEFAULT_MAX_BYTES: u32 = 256 * 1024;
/// `Cache-Control: max-age` is clamped to [`min_max_age`, `max_max_age`] seconds.
pub const DEFAULT_MIN_MAX_AGE: u32 = 300;
pub const DEFAULT_MAX_MAX_AGE: u32 = 86_400;
/// max-age assumed when a response names none (then clamped like any other).
pub const DEFAULT_MAX_AGE: u32 = 600;
/// Seconds a discovered `jwks_uri` is used before discovery is fetched again (sooner when the
/// JWKS URL fails): a provider moves its keys far less often than it rotates them.
pub const DEFAULT_DISCOVERY_MAX_AGE: u32 = 86_400;
/// Seconds between forced refetches for unknown `kid`s, and between attempts after a failure.
pub const DEFAULT_KID_COOLDOWN: u32 = 30;
/// Seconds fetched keys still serve past their max-age when the provider cannot be reached.
pub const DEFAULT_KEYS_MAX_STALE: u32 = 3600;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// RFC 9068 access tokens: the `typ` and the claims the profile requires.
pub const RFC9068_TYP: &str = "at+jwt";
pub const RFC9068_CLAIMS: &[&str] = &["iss", "sub", "aud", "exp", "iat", "jti", "client_id"];
/// Cloudflare Access: the header carrying the credential and the certs path on the team domain.
pub const CLOUDFLARE_ACCESS_HEADER: &str = "Cf-Access-Jwt-Assertion";
pub const CLOUDFLARE_ACCESS_CERTS: &str = "/cdn-cgi/access/certs";

/// The bounds of every remote key fetch (worker configuration `remoteKeys`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FetchPolicy {
    /// Seconds.
    pub timeout: u32,
    /// Bytes.
    pub max_bytes: u32,
    /// Seconds.
    pub min_max_age: u32,
    /// Seconds.
    pub max_max_age: u32,
    /// Seconds a discovered `jwks_uri` is kept (see [`DEFAULT_DISCOVERY_MAX_AGE`]).
    pub discovery_max_age: u32,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            min_max_age: DEFAULT_MIN_MAX_AGE,
            max_max_age: DEFAULT_MAX_MAX_AGE,
            discovery_max_age: DEFAULT_DISCOVERY_MAX_AGE,
        }
    }
}

impl FetchPolicy {
    /// Reads `{timeout?, maxBytes?, minMaxAge?, maxMaxAge?, discoveryMaxAge?}` (JSON text), each
    /// absent bound its default; [`FetchPolicy::check`] judges the values.
    pub fn from_json(text: &str) -> std::result::Result<FetchPolicy, String> {
        FetchPolicy::read(&doc::parse(text)?)
    }

    pub(crate) fn read(raw: &Raw<'_>) -> doc::Result<FetchPolicy> {
        let fields = [
            "timeout",
            "maxBytes",
            "minMaxAge",
            "maxMaxAge",
            "discoveryMaxAge",
        ];
        let o = doc::object(raw, "struct FetchPolicy", &fields)?;
        let d = FetchPolicy::default();
        let bound = |name: &str, default: u32| o.or(name, default, doc::uint32);
        Ok(FetchPolicy {
            timeout: bound("timeout", d.timeout)?,
            max_bytes: bound("maxBytes", d.max_bytes)?,
            min_max_age: bound("minMaxAge", d.min_max_age)?,
            max_max_age: bound("maxMaxAge", d.max_max_age)?,
            discovery_max_age: bound("discoveryMaxAge", d.discovery_max_age)?,
        })
    }

    /// Problems with the bounds themselves, as configuration messages.
    pub fn check(&self, problems: &mut Vec<String>) {
        if !(1..=30).contains(&self.timeout) {
            problems.push("remoteKeys.timeout must be 1 to 30 seconds".into());
        }
        if !(1024..=1_048_576).contains(&self.max_bytes) {
            problems.push("remoteKeys.maxBytes must be 1024 to 1048576".into());
        }
        if !(1..=86_400).contains(&self.min_max_age) {
            problems.push("remoteKeys.minMaxAge must be 1 to 86400 seconds".into());
        }
        if self.max_max_age < self.min_max_age || self.max_max_age > 7 * 86_400 {
            problems.push("remoteKeys.maxMaxAge must be minMaxAge to 604800 seconds".into());
        }
        if !(1..=7 * 86_400).contains(&self.discovery_max_age) {
            problems.push("remoteKeys.discoveryMaxAge must be 1 to 604800 seconds".into());
        }
    }

    /// How long a request that joins a fetch already in flight waits for it (ms): the discovery
    /// and the JWKS fetch, each bounded by `timeout`, plus a margin for the KV and cache writes.
    pub fn join_wait_ms(&self) -> u64 {
        (u64::from(self.timeout) * 2 + 2) * 1000
    }

    /// The max-age a response gets: its `Cache-Control` (`s-maxage` over `max-age`; `no-store`,
    /// `no-cache` and unparsable values count as 0), clamped to the bounds.
    pub fn max_age(&self, cache_control: Option<&str>) -> u32 {
        let mut max_age = None;
        let mut s_maxage = None;
        let mut uncacheable = false;
        for directive in cache_control.unwrap_or("").split(',') {
            let d = directive.trim().to_ascii_lowercase();
            let (name, value) = d.split_once('=').unwrap_or((d.as_str(), ""));
            let secs = || {
                let v = value.trim().trim_matches('"');
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    // Any digit string is a number: huge values saturate.
                    Some(v.parse::<u64>().unwrap_or(u64::MAX))
                } else {
                    Some(0)
                }
            };
            match name.trim() {
                "max-age" => max_age = secs(),
                "s-maxage" => s_maxage = secs(),
                "no-store" | "no-cache" => uncacheable = true,
                _ => {}
            }
        }
        let secs = if uncacheable {
            0
        } else {
            s_maxage.or(max_age).unwrap_or(u64::from(DEFAULT_MAX_AGE))
        };
        let clamped = secs.clamp(u64::from(self.min_max_age), u64::from(self.max_max_age));
        u32::try_from(clamped).unwrap_or(self.max_max_age)
    }
}

/// Why a fetch did not produce keys: a stable reason, logged and shown by health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Not https (nor http to a loopback host), credentials in the URL, or not a URL.
    UrlNotAllowed,
    /// A 3xx answer: redirects are not followed (they could lead anywhere).
    Redirect,
    /// Any other status than 200 (or 304 with a copy).
    HttpStatus,
    /// The body is larger than `maxBytes`.
    TooLarge,
    /// Headers and body did not arrive within `timeout`.
    Timeout,
    /// The connection failed.
    Network,
    /// The body is not a JSON object (or not UTF-8).
    NotJson,
    /// The discovery document lacks `jwks_uri` or its fields have the wrong types.
    DiscoveryInvalid,
    /// The discovery document's `issuer` is not exactly the configured issuer.
    IssuerMismatch,
    /// The JWKS is not `{"keys":[…]}`, names a `kid` twice, or holds no usable public key.
    JwksInvalid,
    /// 304 Not Modified while no copy of that URL is held.
    NotModifiedWithoutCopy,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[
        Reason::UrlNotAllowed,
        Reason::Redirect,
        Reason::HttpStatus,
        Reason::TooLarge,
        Reason::Timeout,
        Reason::Network,
        Reason::NotJson,
        Reason::DiscoveryInvalid,
        Reason::IssuerMismatch,
        Reason::JwksInvalid,
        Reason::NotModifiedWithoutCopy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UrlNotAllowed => "url_not_allowed",
            Reason::Redirect => "redirect",
            Reason::HttpStatus => "http_status",
            Reason::TooLarge => "too_large",
            Reason::Timeout => "timeout",
            Reason::Network => "network",
            Reason::NotJson => "not_json",
            Reason::DiscoveryInvalid => "discovery_invalid",
            Reason::IssuerMismatch => "issuer_mismatch",
            Reason::JwksInvalid => "jwks_invalid",
            Reason::NotModifiedWithoutCopy => "not_modified_without_copy",
        }
    }

    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.as_str() == name)
    }
}

/// A failed fetch: its reason and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: Reason,
    pub message: String,
}

impl Failure {
    pub fn new(reason: Reason, message: impl Into<String>) -> Failure {
        Failure {
            reason,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason.as_str(), self.message)
    }
}

/// The parts of an absolute URL this module needs.
struct Parts<'a> {
    https: bool,
    host: &'a str,
    path: &'a str,
}

fn parts(url: &str) -> Option<Parts<'_>> {
    if url.len() > MAX_URL_LEN || !url.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return None;
    }
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // No credentials in a URL, no fragments (never sent) and nothing a parser could read twice.
    if authority.contains('@') || tail.contains('#') || tail.contains('\\') {
        return None;
    }
    let host = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (h, port) = authority.split_at(close + 1);
        port_ok(port).then_some(h)?
    } else {
        let (h, port) = match authority.rfind(':') {
            Some(i) => authority.split_at(i),
            None => (authority, ""),
        };
        port_ok(port).then_some(h)?
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    host_ok.then_some(Parts {
        https,
        host,
        path: tail,
    })
}

fn port_ok(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => {
            !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n))
        }
    }
}

/// Loopback hosts, where plain http is allowed (development and tests): 127.0.0.0/8, ::1,
/// localhost.
pub fn is_loopback(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    if h == "localhost" || h == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = h.split('.').collect();
    octets.len() == 4
        && octets.first() == Some(&"127")
        && octets.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// Whether `url` may be fetched: `https:`, or `http:` to a loopback host; no credentials, no
/// fragment, printable ASCII, at most [`MAX_URL_LEN`] bytes.
pub fn check_url(url: &str) -> Result<(), Failure> {
    let refuse = |why: &str| {
        Err(Failure::new(
            Reason::UrlNotAllowed,
            format!("\"{}\" {why}", printable(url)),
        ))
    };
    match parts(url) {
        None => refuse("is not an absolute http(s) URL without credentials or fragment"),
        Some(p) if !p.https && !is_loopback(p.host) => {
            refuse("is not https (plain http is allowed for loopback hosts only)")
        }
        Some(_) => Ok(()),
    }
}

/// Where an issuer's discovery document may be: OpenID Connect Discovery
/// (`<issuer>/.well-known/openid-configuration`), then RFC 8414 (`/.well-known/
/// oauth-authorization-server` inserted before the issuer's path).
pub fn discovery_urls(issuer: &str) -> Result<Vec<String>, Failure> {
    check_url(issuer)?;
    let p = parts(issuer).ok_or_else(|| Failure::new(Reason::UrlNotAllowed, "issuer"))?;
    if p.path.contains('?') {
        return Err(Failure::new(
            Reason::UrlNotAllowed,
            "an issuer for discovery has no query (OpenID Connect Discovery §4)",
        ));
    }
    let base = issuer.trim_end_matches('/');
    let origin_len = issuer.len() - p.path.len();
    let origin = issuer.get(..origin_len).unwrap_or(issuer);
    let path = p.path.trim_end_matches('/');
    Ok(vec![
        format!("{base}/.well-known/openid-configuration"),
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
    ])
}

/// The `jwks_uri` of a discovery document, after checking it: a JSON object within the size
/// bound whose `issuer` is exactly `issuer` (no normalisation: RFC 8414 §3.3, OIDC Discovery
/// §4.3) and whose `jwks_uri` may be fetched.
pub fn check_discovery(issuer: &str, body: &[u8], policy: &FetchPolicy) -> Result<String, Failure> {
    let doc = json_object(body, policy)?;
    let got = doc.get("issuer").and_then(serde_json::Value::as_str);
    match got {
        None => {
            return Err(Failure::new(
                Reason::DiscoveryInvalid,
                "discovery document has no \"issuer\" string",
            ))
        }
        Some(got) if got != issuer => {
            return Err(Failure::new(
                Reason::IssuerMismatch,
                format!(
                    "discovery document names issuer \"{}\", not \"{}\"",
                    printable(got),
                    printable(issuer)
                ),
            ))
        }
        Some(_) => {}
    }
    let uri = doc
        .get("jwks_uri")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            Failure::new(
                Reason::DiscoveryInvalid,
                "discovery document has no \"jwks_uri\" string",
            )
        })?;
    check_url(uri)?;
    Ok(uri.to_owned())
}

/// A response body as a JSON object, within the size bound.
pub(crate) fn json_object(
    body: &[u8],
    policy: &FetchPolicy,
) -> Result<serde_json::Map<String, serde_json::Value>, Failure> {
    if body.len() > policy.max_bytes as usize {
        return Err(Failure::new(
            Reason::TooLarge,
            format!("body is over {} bytes", policy.max_bytes),
        ));
    }
    crate::codec::json::parse_object(body, 16)
        .map_err(|e| Failure::new(Reason::NotJson, format!("body is not a JSON object: {e}")))
}

/// When fetched keys are used, refreshed and given up on (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Times {
    /// The last successful fetch (the keys' age counts from here, never from a copy).
    pub fetched_at: u64,
    /// A background refresh is due from here: three quarters of max-age.
    pub refresh_at: u64,
    /// max-age ends.
    pub expires_at: u64,
    /// Past this (`expires_at + keysMaxStale`) the keys are not used: 503.
    pub stale_until: u64,
}

impl Times {
    pub fn new(fetched_at: u64, max_age: u32, keys_max_stale: u32) -> Times {
        let ms = u64::from(max_age) * 1000;
        let expires_at = fetched_at.saturating_add(ms);
        Times {
            fetched_at,
            refresh_at: fetched_at.saturating_add(ms / 4 * 3),
            expires_at,
            stale_until: expires_at.saturating_add(u64::from(keys_max_stale) * 1000),
        }
    }
}

/// What a request does with an issuer's remote keys now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Fresh: use them.
    Use,
    /// Use them, and start one background refresh (stale-while-revalidate).
    Refresh,
    /// No usable keys: this request fetches (single flight per isolate) and waits.
    Fetch,
    /// No usable keys and the last attempt is within the cooldown: 503 without fetching.
    Unavailable,
}

/// The decision for keys with `times` (none: never fetched) whose last fetch attempt, good or
/// bad, was at `attempted_at` (0: never), at `now`. Attempts are at most one per `cooldown`
/// seconds, so a failing or slow provider is not hammered by every request.
pub fn action(times: Option<Times>, attempted_at: u64, now: u64, cooldown: u32) -> Action {
    let may_attempt =
        attempted_at == 0 || now.saturating_sub(attempted_at) >= u64::from(cooldown) * 1000;
    match times {
        Some(t) if now < t.refresh_at => Action::Use,
        Some(t) if now < t.stale_until => {
            if may_attempt {
                Action::Refresh
            } else {
                Action::Use
            }
        }
        _ if may_attempt => Action::Fetch,
        _ => Action::Unavailable,
    }
}

/// Whether an unknown `kid` may force a refetch now: at most one per `cooldown` seconds since the
/// last forced one (`last_forced`, 0: never).
pub fn may_force(last_forced: u64, now: u64, cooldown: u32) -> bool {
    last_forced == 0 || now.saturating_sub(last_forced) >= u64::from(cooldown) * 1000
}

/// A remote key source outside the worker (the JS `remoteJwks` for Node and browsers): where the
/// keys are (`jwksUri`, or `discovery: true` for `issuer`) and the same timing the worker takes
/// from its configuration (`kidCooldown`, `keysMaxStale`, `remoteKeys`), each defaulted here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceOptions {
    pub issuer: Option<String>,
    pub discovery: bool,
    pub jwks_uri: Option<String>,
    pub kid_cooldown: u32,
    pub keys_max_stale: u32,
    pub remote_keys: FetchPolicy,
}

impl SourceOptions {
    /// The options with every default, or `options_invalid` naming each problem.
    pub fn parse(json: &str) -> crate::Result<SourceOptions> {
        let invalid = |m: String| crate::Error::new(crate::ErrorCode::OptionsInvalid, m);
        let o = doc::parse(json)
            .and_then(|raw| SourceOptions::read(&raw))
            .map_err(|e| invalid(format!("remote key source: {e}")))?;
        let mut problems: Vec<String> = Vec::new();
        match (o.discovery, o.jwks_uri.as_deref(), o.issuer.as_deref()) {
            (true, Some(_), _) => {
                problems.push("either jwksUri or discovery: true, not both".into())
            }
            (true, None, None) => problems.push("discovery: true needs the issuer".into()),
            (true, None, Some(issuer)) => {
                if let Err(f) = discovery_urls(issuer) {
                    problems.push(format!("issuer: {}", f.message));
                }
            }
            (false, None, _) => {
                problems.push("a remote key source needs jwksUri or discovery: true".into())
            }
            (false, Some(uri), _) => {
                if let Err(f) = check_url(uri) {
                    problems.push(format!("jwksUri: {}", f.message));
                }
            }
        }
        if !(1..=86_400).contains(&o.kid_cooldown) {
            problems.push("kidCooldown must be 1 to 86400 seconds".into());
        }
        if o.keys_max_stale > 30 * 86_400 {
            problems.push("keysMaxStale must be at most 2592000 seconds".into());
        }
        o.remote_keys.check(&mut problems);
        if problems.is_empty() {
            Ok(o)
        } else {
            Err(invalid(format!(
                "remote key source: {}",
                problems.join("; ")
            )))
        }
    }

    fn read(raw: &Raw<'_>) -> doc::Result<SourceOptions> {
        let fields = [
            "issuer",
            "discovery",
            "jwksUri",
            "kidCooldown",
            "keysMaxStale",
            "remoteKeys",
        ];
        let o = doc::object(raw, "struct SourceOptions", &fields)?;
        Ok(SourceOptions {
            issuer: o.optional("issuer", doc::string)?,
            discovery: o.or("discovery", false, doc::boolean)?,
            jwks_uri: o.optional("jwksUri", doc::string)?,
            kid_cooldown: o.or("kidCooldown", DEFAULT_KID_COOLDOWN, doc::uint32)?,
            keys_max_stale: o.or("keysMaxStale", DEFAULT_KEYS_MAX_STALE, doc::uint32)?,
            remote_keys: o.or("remoteKeys", FetchPolicy::default(), FetchPolicy::read)?,
        })
    }

    /// The name its key set document is kept under: the issuer, else the JWKS URL.
    pub fn name(&self) -> &str {
        self.issuer
            .as_deref()
            .or(self.jwks_uri.as_deref())
            .unwrap_or_default()
    }
}

/// A stored copy of fetched keys (KV's) may be rewritten with the same keys once it is this
/// fraction of its max-age old (1/2): well before its refresh point (3/4), so isolates reading it
/// still find it fresh, and an unchanged provider costs one write per half max-age at most.
pub const PERSIST_AGE_NUM: u64 = 1;
pub const PERSIST_AGE_DEN: u64 = 2;

/// What the stored copy holds (as this isolate last read or wrote it), next to a fetch's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCopy {
    /// It holds the same keys (and skipped keys) from the same source (JWKS and discovered URL).
    pub same_keys: bool,
    /// Its last good fetch (0: never) and that fetch's max-age, seconds.
    pub fetched_at_ms: u64,
    pub max_age: u32,
    /// Its last attempt, good or bad (0: never).
    pub attempted_at_ms: u64,
}

/// Whether a fetch's result (`failed`: it kept the previous keys) is written to the store at
/// `now_ms`, over `stored` (none: the store holds no copy of this source). Other keys, or no
/// copy, are always written. The same keys (a 304, an identical body) are written only once
/// the copy is [`PERSIST_AGE_NUM`]/[`PERSIST_AGE_DEN`] of its max-age old; a failure with the
/// same keys only then too, and only when the copy's last attempt is older than `cooldown`
/// (it tells other isolates to space their attempts; a recent one already does).
pub fn must_persist(stored: Option<StoredCopy>, failed: bool, now_ms: u64, cooldown: u32) -> bool {
    let Some(s) = stored else {
        return true;
    };
    if !s.same_keys || s.fetched_at_ms == 0 {
        return true;
    }
    let half = u64::from(s.max_age) * 1000 * PERSIST_AGE_NUM / PERSIST_AGE_DEN;
    let old = now_ms.saturating_sub(s.fetched_at_ms) >= half;
    if !failed {
        return old;
    }
    old && now_ms.saturating_sub(s.attempted_at_ms) >= u64::from(cooldown) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived readers these replaced: the reference for what is accepted and how a refusal
    /// is worded.
    mod before {
        use serde::Deserialize;

        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields, default)]
        #[allow(dead_code)]
        pub struct FetchPolicy {
            timeout: u32,
            max_bytes: u32,
            min_max_age: u32,
            max_max_age: u32,
            discovery_max_age: u32,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct SourceOptions {
            #[serde(default)]
            issuer: Option<String>,
            #[serde(default)]
            discovery: bool,
            #[serde(default)]
            jwks_uri: Option<String>,
            #[serde(default)]
            kid_cooldown: u32,
            #[serde(default)]
            keys_max_stale: u32,
            #[serde(default)]
            remote_keys: FetchPolicy,
        }
    }

    #[test]
    fn options_are_read_as_the_derived_readers_read_them() {
        for text in [
            r#"{}"#,
            r#"{"issuer":"i","discovery":true,"jwksUri":null,"kidCooldown":1,"keysMaxStale":2,"remoteKeys":{"timeout":1,"maxBytes":2,"minMaxAge":3,"maxMaxAge":4,"discoveryMaxAge":5}}"#,
            r#"{"remoteKeys":{}}"#,
            r#"{"remoteKeys":null}"#,
            r#"{"remoteKeys":{"timeout":-1}}"#,
            r#"{"remoteKeys":{"timeout":null}}"#,
            r#"{"remoteKeys":{"max_bytes":1}}"#,
            r#"{"kidCooldown":4294967296}"#,
            r#"{"discovery":"true"}"#,
            r#"{"jwks_uri":"x"}"#,
            r#"{"issuer":["i"]}"#,
        ] {
            let ours = doc::parse(text)
                .and_then(|raw| SourceOptions::read(&raw))
                .map(drop);
            assert_eq!(ours, doc::derived::<before::SourceOptions>(text), "{text}");
        }
    }

    const T: u64 = 1_000_000_000;

    fn copy(same_keys: bool, max_age: u32) -> StoredCopy {
        StoredCopy {
            same_keys,
            fetched_at_ms: T,
            max_age,
            attempted_at_ms: T,
        }
    }

    #[test]
    fn no_copy_or_other_keys_is_written() {
        assert!(must_persist(None, false, T, 30));
        assert!(must_persist(None, true, T, 30));
        // Other keys: at once, even a millisecond after the copy was written.
        assert!(must_persist(Some(copy(false, 600)), false, T + 1, 30));
        assert!(must_persist(Some(copy(false, 600)), true, T + 1, 30));
        // A copy that never held a good fetch (only attempts).
        let attempts = StoredCopy {
            fetched_at_ms: 0,
            ..copy(true, 0)
        };
        assert!(must_persist(Some(attempts), false, T, 30));
    }

    #[test]
    fn same_keys_are_written_from_half_the_copy_max_age() {
        // max-age 600 s: rewritten from 300 s.
        let s = Some(copy(true, 600));
        assert!(!must_persist(s, false, T, 30));
        assert!(!must_persist(s, false, T + 299_999, 30));
        assert!(must_persist(s, false, T + 300_000, 30));
        // Odd max-age: half of 301 s is 150.5 s.
        let odd = Some(copy(true, 301));
        assert!(!must_persist(odd, false, T + 150_499, 30));
        assert!(must_persist(odd, false, T + 150_500, 30));
        // A clock that stepped back: the copy is no older than zero.
        assert!(!must_persist(s, false, T - 5_000, 30));
        // No max-age: always old.
        assert!(must_persist(Some(copy(true, 0)), false, T, 30));
    }

    #[test]
    fn a_failure_with_the_same_keys_is_written_when_the_copy_is_old_and_its_attempt_too() {
        let s = Some(StoredCopy {
            attempted_at_ms: T + 290_000,
            ..copy(true, 600)
        });
        // Young copy: never.
        assert!(!must_persist(s, true, T + 299_999, 30));
        // Old copy, but its last attempt within the cooldown (30 s): not yet.
        assert!(!must_persist(s, true, T + 300_000, 30));
        assert!(!must_persist(s, true, T + 319_999, 30));
        assert!(must_persist(s, true, T + 320_000, 30));
    }
}
