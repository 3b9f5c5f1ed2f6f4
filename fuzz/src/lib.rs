//! What the fuzz targets share: fixed signing keys, a reader that turns fuzz bytes into
//! parameters and text parts, and reference oracles (written here from the documented rules,
//! not by calling the code under test) for scope coverage and scope requirements.
//!
//! A target panics only when an invariant is violated; every `assert!` is one.

use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use tokengate::scope::Expr;
use tokengate::{Context, KeySet, Policy, ScopeSet, SigningKey, Verified};

/// The clock every target works around (2027-01-15).
pub const NOW: i64 = 1_800_000_000;
pub const ISSUER: &str = "https://issuer.example";

/// Fixed keys, made with `tokengate keygen` for the fuzzer only (they protect nothing).
pub const HS256_JWK: &str = r#"{"alg":"HS256","k":"fhO5kH_7voyt03x5YLYgcVlhXyoMKtSCkV16h1DMKJk","kid":"fuzz-hs256","kty":"oct","use":"sig"}"#;
pub const ES256_JWK: &str = r#"{"alg":"ES256","crv":"P-256","d":"VM2MH1_Z3SNl0NaJEVfCDDUzcPwL_bsvH1hWXzQstek","kid":"fuzz-es256","kty":"EC","use":"sig","x":"WwD4t-qatOE032wkcFs9Y0zauR4USenUi5ZMVU-UoRE","y":"G3tU2fV-eUvU0OWcZ2p1ElWEdSbPVOWnSg6AjC06d44"}"#;
pub const EDDSA_JWK: &str = r#"{"alg":"EdDSA","crv":"Ed25519","d":"Rq7OL3DkFO397JWZAZCC0u67OgZVFWlFLyE_-nMPRzI","kid":"fuzz-eddsa","kty":"OKP","use":"sig","x":"m2VW5qIJMKEe1c3THx_4R-joETB96M0GkvLb80I1bws"}"#;

fn fixed(cell: &'static OnceLock<SigningKey>, jwk: &str) -> &'static SigningKey {
    cell.get_or_init(|| SigningKey::from_jwk(jwk, None).expect("fixed fuzz key imports"))
}

pub fn hs256() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    fixed(&K, HS256_JWK)
}

pub fn es256() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    fixed(&K, ES256_JWK)
}

pub fn eddsa() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    fixed(&K, EDDSA_JWK)
}

/// The verification key set of one signing key, as a JWKS document would carry it.
pub fn key_set(k: &SigningKey) -> KeySet {
    KeySet::from_json(&json!({"keys": [k.public_jwk()]}).to_string()).expect("fixed key set")
}

/// The key set of [`hs256`], parsed once.
pub fn hs256_set() -> &'static KeySet {
    static S: OnceLock<KeySet> = OnceLock::new();
    S.get_or_init(|| key_set(hs256()))
}

/// The key set of [`es256`], parsed once.
pub fn es256_set() -> &'static KeySet {
    static S: OnceLock<KeySet> = OnceLock::new();
    S.get_or_init(|| key_set(es256()))
}

/// Reads fuzz bytes front to back. Numbers are little-endian and zero-filled past the end;
/// text parts end at a NUL byte (which JSON and scope text never contain), so a seed reads as
/// `<a few parameter bytes><text>\0<text>\0…`.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        out
    }

    pub fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }

    pub fn i16(&mut self) -> i16 {
        i16::from_le_bytes(self.take())
    }

    pub fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.take())
    }

    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take())
    }

    /// The bytes up to the next NUL (or the end).
    pub fn bytes(&mut self) -> &'a [u8] {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        let (part, rest) = self.data.split_at(end);
        self.data = rest.get(1..).unwrap_or_default();
        part
    }

    /// The next text part (invalid UTF-8 replaced).
    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A JSON object from text, or `None`.
pub fn object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// Reference rule: does one granted scope `g` cover `p` (a concrete scope, `res:*` or `*`)?
/// `*` covers everything, a scope covers itself, `a:*` covers every scope strictly under `a:`
/// and every narrower wildcard `a:b:*`.
pub fn scope_covers(g: &str, p: &str) -> bool {
    if g == "*" || g == p {
        return true;
    }
    let Some(gp) = g.strip_suffix('*') else {
        return false;
    };
    if p == "*" {
        return false;
    }
    match p.strip_suffix('*') {
        Some(pp) => pp.len() >= gp.len() && pp.starts_with(gp),
        None => p.len() > gp.len() && p.starts_with(gp),
    }
}

/// Reference rule: does any scope in `list` cover `p`?
pub fn list_covers(list: &[String], p: &str) -> bool {
    list.iter().any(|g| scope_covers(g, p))
}

/// Reference evaluation of a requirement expression.
pub fn eval(expr: &Expr, has: &dyn Fn(&str) -> bool) -> bool {
    match expr {
        Expr::Scope(s) => has(s),
        Expr::All(items) => items.iter().all(|e| eval(e, has)),
        Expr::Any(items) => items.iter().any(|e| eval(e, has)),
    }
}

/// Every scope an expression names.
pub fn expr_scopes<'e>(expr: &'e Expr, out: &mut Vec<&'e str>) {
    match expr {
        Expr::Scope(s) => out.push(s),
        Expr::All(items) | Expr::Any(items) => items.iter().for_each(|e| expr_scopes(e, out)),
    }
}

/// Concrete scopes to probe a set with: each listed scope, with a wildcard replaced by a
/// concrete last segment, plus `extra`.
pub fn probes(lists: &[&[String]], extra: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    for list in lists {
        for s in list.iter() {
            match s.strip_suffix('*') {
                Some("") => out.push("zz".into()),
                Some(prefix) => {
                    out.push(format!("{prefix}zz"));
                    out.push(format!("{prefix}zz:yy"));
                }
                None => {
                    out.push(s.clone());
                    out.push(format!("{s}:zz"));
                }
            }
        }
    }
    out
}

/// Asserts the narrowing invariant: every scope in `result` is covered by the token's scopes
/// and by the grants (when given); and every concrete probe both cover is covered by `result`.
pub fn assert_narrowed(result: &[String], token: &[String], grants: Option<&[String]>) {
    for s in result {
        assert!(
            list_covers(token, s),
            "scope {s:?} in the result is not granted by the token {token:?}"
        );
        if let Some(g) = grants {
            assert!(
                list_covers(g, s),
                "scope {s:?} in the result is outside the grants {g:?}"
            );
        }
    }
    let lists: Vec<&[String]> = std::iter::once(token).chain(grants).collect();
    for p in probes(&lists, &[]) {
        let both = list_covers(token, &p) && grants.is_none_or(|g| list_covers(g, &p));
        assert_eq!(
            list_covers(result, &p),
            both,
            "probe {p:?}: token {token:?}, grants {grants:?}, result {result:?}"
        );
    }
}

fn num(claims: &Map<String, Value>, name: &str) -> Option<f64> {
    claims
        .get(name)
        .map(|v| v.as_f64().expect("an accepted NumericDate is a number"))
}

/// Granted scopes as the README documents them: the first present of the policy's scope
/// claims, a space-delimited string or an array of strings.
pub fn token_scopes(claims: &Map<String, Value>, policy: &Policy) -> Vec<String> {
    policy
        .scope_claims
        .iter()
        .find_map(|n| match claims.get(n) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|s| {
                        s.as_str()
                            .expect("accepted scope entries are strings")
                            .to_owned()
                    })
                    .collect(),
            ),
            Some(other) => panic!("accepted a scope claim of type {other}"),
        })
        .unwrap_or_default()
}

/// `typ` compares case-insensitively, and `application/` may be left out (RFC 7515 §4.1.9).
fn typ_matches(got: &str, want: &str) -> bool {
    let norm = |s: &str| {
        let l = s.to_ascii_lowercase();
        match l.strip_prefix("application/") {
            Some(rest) => rest.to_owned(),
            None => l,
        }
    };
    norm(got) == norm(want)
}

/// Reference checks of an accepted JWT, written from the README's rules (not by calling the
/// validator): times with leeway, lifetime and age bounds, issuer, audience, typ, token type,
/// required claims and values, subject, revocation, freshness, scope narrowing and the scope
/// requirement.
pub fn check_accepted(token: &str, v: &Verified, policy: &Policy, now: i64, ctx: &Context<'_>) {
    let c = &v.claims;
    assert_eq!(v.kind, "jwt");
    assert!(
        token.len() <= policy.limits.max_token_bytes,
        "oversized token accepted"
    );
    let alg = v.alg.expect("an accepted JWT names its alg");
    assert_eq!(v.header.get("alg").and_then(Value::as_str), Some(alg));
    if !policy.algorithms.is_empty() {
        assert!(
            policy.algorithms.iter().any(|a| a.name() == alg),
            "alg outside the allow-list"
        );
    }
    let now_f = now as f64;
    let leeway = policy.leeway as f64;
    let exp = num(c, "exp");
    let iat = num(c, "iat");
    match exp {
        Some(e) => assert!(e > now_f - leeway, "accepted after exp {e} at {now}"),
        None => assert!(!policy.require_exp, "accepted without exp"),
    }
    assert_eq!(v.expires_at, exp.map(|e| e.floor() as i64));
    assert_eq!(v.issued_at, iat.map(|i| i.floor() as i64));
    if let Some(n) = num(c, "nbf") {
        assert!(n <= now_f + leeway, "accepted before nbf");
    }
    if let Some(i) = iat {
        assert!(i <= now_f + leeway, "accepted with iat in the future");
    }
    if let (Some(max), Some(e)) = (policy.max_lifetime, exp) {
        match iat {
            Some(i) => assert!(e - i <= max as f64, "accepted over the maximum lifetime"),
            None => assert!(
                e - now_f <= max as f64 + leeway,
                "accepted over the maximum lifetime"
            ),
        }
    }
    if let Some(max) = policy.max_age {
        let i = iat.expect("accepted without iat under a maximum age");
        assert!(
            now_f - i <= max as f64 + leeway,
            "accepted over the maximum age"
        );
    }
    let string = |name: &str| c.get(name).map(|v| v.as_str().expect("string claim"));
    assert_eq!(v.issuer.as_deref(), string("iss"));
    assert_eq!(v.subject.as_deref(), string("sub"));
    assert_eq!(v.token_id.as_deref(), string("jti"));
    if !policy.issuers.is_empty() {
        assert!(
            policy
                .issuers
                .iter()
                .any(|i| Some(i.as_str()) == v.issuer.as_deref()),
            "issuer not allowed"
        );
    }
    if !policy.audiences.is_empty() {
        let aud: Vec<&str> = match c.get("aud") {
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        assert!(
            aud.iter().any(|a| policy.audiences.iter().any(|p| p == a)),
            "audience not allowed"
        );
    }
    if !policy.typ.is_empty() {
        let typ = v.header.get("typ").and_then(Value::as_str).unwrap_or("");
        assert!(
            policy.typ.iter().any(|t| typ_matches(typ, t)),
            "typ not allowed"
        );
    }
    if !policy.token_types.is_empty() {
        let got = c.get(&policy.token_type_claim).and_then(Value::as_str);
        assert!(
            policy.token_types.iter().any(|t| Some(t.as_str()) == got),
            "token type not allowed"
        );
    }
    for name in &policy.required_claims {
        assert!(
            c.get(name).is_some_and(|v| !v.is_null()),
            "required claim {name:?} missing"
        );
    }
    for (name, want) in &policy.claim_values {
        assert_eq!(c.get(name), Some(want), "claim {name:?} has another value");
    }
    if let Some(want) = &policy.subject {
        assert_eq!(v.subject.as_ref(), Some(want), "token of another subject");
    }
    if policy.require_jti {
        assert!(v.token_id.is_some(), "accepted without jti");
    }
    if let Some(list) = ctx.revocations {
        if let Some(max) = policy.max_revocation_age {
            let age = now.saturating_sub(list.generated_at);
            assert!(
                age <= i64::try_from(max).unwrap_or(i64::MAX),
                "stale revocation list"
            );
        }
        let iss = v.issuer.as_deref().unwrap_or("");
        if let Some(jti) = &v.token_id {
            assert!(!list.is_jti_revoked(iss, jti), "revoked jti accepted");
        }
        if let Some(sub) = &v.subject {
            if let Some(before) = list.subject_cut_off(iss, sub) {
                let i = v.issued_at.expect("accepted under a cut-off without iat");
                assert!(
                    i >= before,
                    "token issued before its subject's cut-off accepted"
                );
            }
        }
    }
    let granted = token_scopes(c, policy);
    let grants = ctx.grants.map(ScopeSet::as_slice);
    assert_narrowed(&v.scopes, &granted, grants);
    if let Some(req) = ctx.scope.or(policy.scope.as_ref()) {
        let has = |s: &str| list_covers(&granted, s) && grants.is_none_or(|g| list_covers(g, s));
        assert!(
            eval(req.expr(), &has),
            "accepted without the required scopes"
        );
    }
}
