//! Inspection without verification: what a pasted string is, what it says, what is wrong with
//! it. One serializable structure that the inspector page and the CLI render.

use crate::apikey;
use crate::error::ErrorCode;
use crate::jose::token::{self, Limits, KEY_REFERENCE_HEADERS};
use crate::policy::claims::MAX_NUMERIC_DATE;
use crate::policy::scope::ScopeSet;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Options for inspection.
#[derive(Debug, Clone)]
pub struct Options {
    pub now: i64,
    /// Seconds before `exp` at which a client should refresh (default 60).
    pub refresh_threshold: i64,
    /// Lifetime above which `lifetime_over_max` is raised: the default verify policy's maximum
    /// (30 days), so a token the default validator rejects for its lifetime is an error here too.
    pub max_lifetime: i64,
    /// Clock leeway of that policy (60 s): a token without `iat` is over the maximum when it is
    /// valid for longer than `max_lifetime + leeway` from now, as the validator counts it.
    pub leeway: i64,
    pub token_type_claim: String,
    pub scope_claims: Vec<String>,
}

impl Options {
    pub fn at(now: i64) -> Options {
        Options {
            now,
            refresh_threshold: 60,
            max_lifetime: crate::policy::claims::DEFAULT_MAX_LIFETIME as i64,
            leeway: crate::policy::claims::DEFAULT_LEEWAY as i64,
            token_type_claim: "type".into(),
            scope_claims: crate::policy::scope::DEFAULT_SCOPE_CLAIMS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub name: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Time {
    pub unix: i64,
    pub iso: String,
    pub relative: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    pub code: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    pub message: String,
    pub advice: &'static str,
    pub reference: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub prefix: &'static str,
    pub checksum_valid: bool,
    /// SHA-256 (hex) to look the key up by; present when the checksum is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything inspection found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    /// `jwt`, `jwe`, `apikey` or `unknown`.
    pub kind: &'static str,
    pub size: usize,
    pub parts: Vec<Part>,
    pub header: Option<Map<String, Value>>,
    pub claims: Option<Map<String, Value>>,
    /// Payload as text when it is not a JSON object.
    pub payload_text: Option<String>,
    pub alg: Option<String>,
    pub times: BTreeMap<&'static str, Time>,
    /// `not_yet_valid`, `active`, `expiring_soon`, `expired` or `unknown`.
    pub status: &'static str,
    pub needs_refresh: bool,
    pub expires_in: Option<i64>,
    /// `expires_in` as the core words it ("in 54 min", "3 d ago"): a page shows this, never
    /// its own wording.
    pub expires_in_text: Option<String>,
    pub lifetime: Option<i64>,
    /// `lifetime` as the core words it ("59 min 40 s").
    pub lifetime_text: Option<String>,
    /// The maximum lifetime inspection checks against (seconds), for a timeline to mark.
    pub max_lifetime: i64,
    /// `max_lifetime` as the core words it ("30 d").
    pub max_lifetime_text: String,
    pub scopes: Vec<String>,
    pub scopes_by_resource: BTreeMap<String, Vec<String>>,
    pub lints: Vec<Lint>,
    pub apikey: Option<ApiKeyInfo>,
    /// First structural problem, as a validation error code and message.
    pub error: Option<(String, String)>,
}

/// Every lint: code, severity, one line of advice, reference. One table, so the page, the CLI
/// and the README list the same thing.
pub const LINTS: &[(&str, &str, &str, &str)] = &[
    ("large_token", "warning", "Headers over 8 KB are dropped by many proxies; keep claims small or use a reference token.", "https://www.rfc-editor.org/rfc/rfc9110#section-5.4"),
    ("token_too_large", "error", "Validators reject it before decoding; shrink the claims.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.1"),
    ("duplicate_claim", "error", "Parsers disagree on which value wins; validators reject duplicate names.", "https://www.rfc-editor.org/rfc/rfc7515#section-4"),
    ("alg_none", "error", "Never accept unsecured tokens; sign with a real algorithm.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.1"),
    ("unknown_alg", "error", "Use one of HS256/384/512, RS*, PS*, ES256/384/512, ES256K, EdDSA.", "https://www.rfc-editor.org/rfc/rfc7518#section-3.1"),
    ("no_alg", "error", "Every JWS header names its algorithm.", "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.1"),
    ("header_key_reference", "warning", "A verifier must never take its key from the token itself; tokengate ignores these.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.10"),
    ("crit_present", "info", "Validators that do not understand every listed extension reject the token.", "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.11"),
    ("no_kid", "info", "Without kid, verifiers must try several keys during rotation; add the key id.", "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4"),
    ("numeric_date_invalid", "error", "NumericDate is a number of seconds; strict validators reject strings.", "https://www.rfc-editor.org/rfc/rfc7519#section-2"),
    ("no_exp", "warning", "Set exp; a stolen token without expiry works forever.", "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4"),
    ("lifetime_over_max", "error", "The default policy rejects it (lifetime_exceeded); mint shorter-lived tokens and refresh them.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.10"),
    ("iat_in_future", "warning", "Check the issuer's clock; validators reject tokens issued in the future.", "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.6"),
    ("nbf_after_exp", "error", "Fix the issuer's time computation.", "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.5"),
    ("no_jti", "info", "Add a unique jti so a leaked token can be revoked.", "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.7"),
    ("no_aud", "warning", "Name the intended audience and check it.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.9"),
    ("refresh_token_as_bearer", "warning", "Refresh tokens go to the token endpoint only; APIs must reject them as bearer tokens.", "https://www.rfc-editor.org/rfc/rfc6749#section-1.5"),
    ("hs_alg_public_issuer", "warning", "A shared secret means every verifier can also mint tokens; public issuers should sign with RS/PS/ES/EdDSA.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.5"),
    ("sensitive_claim", "warning", "JWS payloads are only encoded, not encrypted; never put secrets in them.", "https://www.rfc-editor.org/rfc/rfc8725#section-3.6"),
    ("scope_invalid", "error", "Scopes are space-separated resource:action names.", "https://www.rfc-editor.org/rfc/rfc6749#section-3.3"),
];

fn lint(code: &'static str, message: impl Into<String>) -> Lint {
    let (severity, advice, reference) = LINTS
        .iter()
        .find(|l| l.0 == code)
        .map(|l| (l.1, l.2, l.3))
        .unwrap_or(("warning", "", ""));
    Lint {
        code,
        severity,
        message: message.into(),
        advice,
        reference,
    }
}

/// Inspects any pasted string. Never fails: problems are reported inside the result.
pub fn inspect(text: &str, opts: &Options) -> Inspection {
    let text = text.trim();
    let mut out = Inspection {
        kind: "unknown",
        size: text.len(),
        parts: vec![],
        header: None,
        claims: None,
        payload_text: None,
        alg: None,
        times: BTreeMap::new(),
        status: "unknown",
        needs_refresh: false,
        expires_in: None,
        expires_in_text: None,
        lifetime: None,
        lifetime_text: None,
        max_lifetime: opts.max_lifetime,
        max_lifetime_text: duration(opts.max_lifetime),
        scopes: vec![],
        scopes_by_resource: BTreeMap::new(),
        lints: vec![],
        apikey: None,
        error: None,
    };
    let text = text.strip_prefix("Bearer ").unwrap_or(text).trim();
    if apikey::has_prefix(text) {
        out.kind = "apikey";
        out.apikey = Some(match apikey::parse(text) {
            Ok(h) => ApiKeyInfo {
                prefix: apikey::PREFIX,
                checksum_valid: true,
                hash: Some(h),
                error: None,
            },
            Err(e) => ApiKeyInfo {
                prefix: apikey::PREFIX,
                checksum_valid: false,
                hash: None,
                error: Some(e.message().to_owned()),
            },
        });
        return out;
    }
    let dots = text.matches('.').count();
    if dots == 4 {
        out.kind = "jwe";
        out.error = Some((
            ErrorCode::TokenMalformed.as_str().into(),
            "five parts: an encrypted JWE; only its header can be read without the key".into(),
        ));
        inspect_header(text.split('.').next().unwrap_or(""), &mut out);
        return out;
    }
    if dots != 2 {
        out.error = Some((
            ErrorCode::TokenMalformed.as_str().into(),
            format!("not a JWT: a compact JWS has 3 dot-separated parts, this has {}; not a tokengate API key (\"{}\" prefix) either", dots + 1, apikey::PREFIX),
        ));
        return out;
    }
    out.kind = "jwt";
    let mut parts = text.split('.');
    let (h, p, s) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    inspect_header(h, &mut out);
    inspect_payload(p, h.len() + 1, &mut out, opts);
    if let Some(sig) = decode("signature", s, h.len() + p.len() + 2, &mut out) {
        let empty = sig.is_empty();
        out.parts.push(Part {
            name: "signature",
            ok: !empty,
            error: empty.then(|| "signature: empty (unsecured token)".to_owned()),
        });
    }
    if out.error.is_none() {
        if let Some(bad) = out.parts.iter().find(|p| !p.ok) {
            out.error = Some((
                ErrorCode::TokenMalformed.as_str().into(),
                bad.error.clone().unwrap_or_default(),
            ));
        }
    }
    if text.len() > 4096 {
        out.lints.push(lint(
            "large_token",
            format!("token is {} bytes", text.len()),
        ));
    }
    let limits = Limits::default();
    if text.len() > limits.max_token_bytes {
        out.lints.push(lint(
            "token_too_large",
            format!(
                "token exceeds the default {} byte limit",
                limits.max_token_bytes
            ),
        ));
    }
    out
}

/// Parses JSON leniently to still show content when strict parsing fails, noting why.
fn object(bytes: &[u8], part: &'static str, out: &mut Inspection) -> Option<Map<String, Value>> {
    match crate::codec::json::parse_object(bytes, Limits::default().max_json_depth) {
        Ok(m) => {
            out.parts.push(Part {
                name: part,
                ok: true,
                error: None,
            });
            Some(m)
        }
        Err(e) => {
            if e.contains("duplicate member") {
                out.lints
                    .push(lint("duplicate_claim", format!("{part}: {e}")));
            }
            out.parts.push(Part {
                name: part,
                ok: false,
                error: Some(format!("{part}: {e}")),
            });
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| serde_json::from_str::<Map<String, Value>>(t).ok())
        }
    }
}

/// Decodes one part, recording it as broken (with the precise reason) when it does not decode.
fn decode(part: &'static str, text: &str, offset: usize, out: &mut Inspection) -> Option<Vec<u8>> {
    match token::decode_part(part, text, offset) {
        Ok(b) => Some(b),
        Err(e) => {
            out.parts.push(Part {
                name: part,
                ok: false,
                error: Some(e.message().to_owned()),
            });
            None
        }
    }
}

fn inspect_header(h: &str, out: &mut Inspection) {
    let Some(bytes) = decode("header", h, 0, out) else {
        return;
    };
    let Some(header) = object(&bytes, "header", out) else {
        return;
    };
    match header.get("alg").and_then(Value::as_str) {
        Some(a) if a.eq_ignore_ascii_case("none") => out
            .lints
            .push(lint("alg_none", "alg is \"none\": the token is not signed")),
        Some(a) if crate::Alg::from_name(a).is_none() => out.lints.push(lint(
            "unknown_alg",
            format!("alg \"{a}\" is not a supported JWS algorithm"),
        )),
        Some(_) => {}
        None => out
            .lints
            .push(lint("no_alg", "header has no string \"alg\"")),
    }
    out.alg = header.get("alg").and_then(Value::as_str).map(str::to_owned);
    let refs: Vec<&str> = KEY_REFERENCE_HEADERS
        .iter()
        .copied()
        .filter(|k| header.contains_key(*k))
        .collect();
    if !refs.is_empty() {
        out.lints.push(lint(
            "header_key_reference",
            format!("header carries {}", refs.join(", ")),
        ));
    }
    if header.contains_key("crit") {
        out.lints.push(lint("crit_present", "header has \"crit\""));
    }
    let asymmetric = out
        .alg
        .as_deref()
        .and_then(crate::Alg::from_name)
        .is_some_and(|a| a.hmac_len().is_none());
    if asymmetric && !header.contains_key("kid") {
        out.lints.push(lint("no_kid", "no \"kid\" in the header"));
    }
    out.header = Some(header);
}

fn inspect_payload(p: &str, offset: usize, out: &mut Inspection, opts: &Options) {
    let Some(bytes) = decode("payload", p, offset, out) else {
        return;
    };
    if bytes.first() != Some(&b'{') {
        out.parts.push(Part {
            name: "payload",
            ok: true,
            error: None,
        });
        out.payload_text = Some(String::from_utf8_lossy(&bytes).into_owned());
        return;
    }
    let Some(claims) = object(&bytes, "payload", out) else {
        return;
    };
    analyse_claims(&claims, out, opts);
    out.claims = Some(claims);
}

fn date(
    claims: &Map<String, Value>,
    name: &'static str,
    out: &mut Inspection,
    now: i64,
) -> Option<i64> {
    match claims.get(name)? {
        Value::Number(n) => match n.as_f64() {
            Some(v) if (0.0..=MAX_NUMERIC_DATE).contains(&v) => {
                let unix = v.floor() as i64;
                out.times.insert(
                    name,
                    Time {
                        unix,
                        iso: iso8601(unix),
                        relative: relative(unix.saturating_sub(now)),
                    },
                );
                Some(unix)
            }
            _ => {
                out.lints.push(lint(
                    "numeric_date_invalid",
                    format!("\"{name}\" is out of the NumericDate range"),
                ));
                None
            }
        },
        _ => {
            out.lints.push(lint(
                "numeric_date_invalid",
                format!("\"{name}\" is not a JSON number"),
            ));
            None
        }
    }
}

fn analyse_claims(claims: &Map<String, Value>, out: &mut Inspection, opts: &Options) {
    // `now` is the caller's (any i64): dates are bounded, so only differences with it saturate.
    let now = opts.now;
    let exp = date(claims, "exp", out, now);
    let nbf = date(claims, "nbf", out, now);
    let iat = date(claims, "iat", out, now);
    out.status = match (exp, nbf) {
        (_, Some(n)) if n > now => "not_yet_valid",
        (Some(e), _) if e <= now => "expired",
        (Some(e), _) if e.saturating_sub(now) <= opts.refresh_threshold => "expiring_soon",
        (Some(_), _) | (None, _) => "active",
    };
    out.expires_in = exp.map(|e| e.saturating_sub(now));
    out.expires_in_text = out.expires_in.map(relative);
    out.needs_refresh = exp.is_some_and(|e| e.saturating_sub(now) <= opts.refresh_threshold);
    if exp.is_none() && !claims.contains_key("exp") {
        out.lints.push(lint("no_exp", "token never expires"));
    }
    // The validator's lifetime cap (policy::claims): `exp - iat`, or without `iat` what is left
    // of the token from now, plus leeway.
    if let (Some(e), Some(i)) = (exp, iat) {
        out.lifetime = Some(e - i);
        out.lifetime_text = Some(duration(e - i));
        if e - i > opts.max_lifetime {
            out.lints.push(lint(
                "lifetime_over_max",
                format!(
                    "lifetime {} exceeds {}",
                    duration(e - i),
                    duration(opts.max_lifetime)
                ),
            ));
        }
    } else if let (Some(e), None, false) = (exp, iat, claims.contains_key("iat")) {
        let left = e.saturating_sub(now);
        if left > opts.max_lifetime.saturating_add(opts.leeway) {
            out.lints.push(lint(
                "lifetime_over_max",
                format!(
                    "without \"iat\", valid for {} more, over the maximum lifetime of {}",
                    duration(left),
                    duration(opts.max_lifetime)
                ),
            ));
        }
    }
    if iat.is_some_and(|i| i > now.saturating_add(60)) {
        out.lints
            .push(lint("iat_in_future", "\"iat\" is in the future"));
    }
    if let (Some(n), Some(e)) = (nbf, exp) {
        if n >= e {
            out.lints.push(lint(
                "nbf_after_exp",
                "\"nbf\" is not before \"exp\": the token is never valid",
            ));
        }
    }
    if !claims.contains_key("jti") {
        out.lints.push(lint(
            "no_jti",
            "no \"jti\": this token cannot be revoked individually",
        ));
    }
    if !claims.contains_key("aud") {
        out.lints.push(lint(
            "no_aud",
            "no \"aud\": any service trusting the issuer accepts it",
        ));
    }
    let ttype = claims
        .get(&opts.token_type_claim)
        .and_then(Value::as_str)
        .unwrap_or("");
    let typ = out
        .header
        .as_ref()
        .and_then(|h| h.get("typ"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if ttype.eq_ignore_ascii_case("refresh") || typ.to_ascii_lowercase().contains("refresh") {
        out.lints
            .push(lint("refresh_token_as_bearer", "this is a refresh token"));
    }
    let hs = out.alg.as_deref().is_some_and(|a| a.starts_with("HS"));
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if hs && (iss.starts_with("https://") || iss.starts_with("http://")) {
        out.lints.push(lint(
            "hs_alg_public_issuer",
            format!("HMAC-signed token from a public issuer URL ({iss})"),
        ));
    }
    let sensitive: Vec<&str> = claims
        .keys()
        .map(String::as_str)
        .filter(|k| {
            [
                "password",
                "passwd",
                "secret",
                "ssn",
                "credit_card",
                "card_number",
                "private_key",
            ]
            .contains(&k.to_ascii_lowercase().as_str())
        })
        .collect();
    if !sensitive.is_empty() {
        out.lints.push(lint(
            "sensitive_claim",
            format!(
                "claims named {} are readable by anyone holding the token",
                sensitive.join(", ")
            ),
        ));
    }
    match ScopeSet::from_claims(claims, &opts.scope_claims) {
        Ok(set) => {
            out.scopes_by_resource = set.grouped();
            out.scopes = set.as_slice().to_vec();
        }
        Err(e) => out
            .lints
            .push(lint("scope_invalid", e.message().to_owned())),
    }
}

pub use crate::codec::time::{duration, relative};

/// An expiry `left` seconds from now as a list of tokens words it: "expires in 54 min",
/// "expired now", "expired 3 min ago". At 0 the token is expired, as its status says (`exp <=
/// now`).
pub fn expiry_text(left: i64) -> String {
    if left > 0 {
        format!("expires {}", relative(left))
    } else {
        format!("expired {}", relative(left))
    }
}

/// RFC 3339 UTC timestamp (days-from-civil, valid for 0000–9999).
pub fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
