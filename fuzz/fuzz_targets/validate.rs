#![no_main]
//! Validation on the signed path. The input chooses a policy, claims, extra header members
//! and claims, revocation data, grants and scope requirements; the target mints a token with a
//! fixed HS256 or ES256 key (so it gets past the signature and can be accepted), plus a
//! tampered copy, then replays a sequence of calls at input-chosen times and contexts through
//! one verified-token cache and through an uncached validator.
//!
//! Invariants, on every call:
//! - the cached and the uncached validator make the same decision (same `Verified`, or the
//!   same error code and scope attribute);
//! - nothing accepted is expired, not yet valid, issued in the future, over its lifetime or
//!   age bounds, revoked (jti or subject cut-off), checked against stale revocation data, or
//!   outside the policy's issuer/audience/token types;
//! - an accepted token's scopes are only ever narrowed: each is granted by the token and by
//!   the grants, and everything both grant is kept;
//! - the scope requirement holds by a reference evaluation;
//! - a tampered token is never accepted.
//!
//! Input layout: policy bytes, claim bytes, cache bytes, then text parts separated by NUL:
//! sub, jti, scope, extra claims (JSON object), extra header (JSON object), grants, requirement
//! A, requirement B, revocation list (JSON), then one 4-byte record per call.

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map};
use tokengate::cache::{Cache, Outcome};
use tokengate::Cached;
use tokengate::{Context, Policy, Requirement, RevocationList, ScopeSet, Validator, Verified};
use tokengate_fuzz::{check_accepted, es256, es256_set, hs256, hs256_set, Input, ISSUER, NOW};

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let pflags = input.u8();
    let leeway = u64::from(input.u8());
    let max_lifetime = u64::from(input.u16());
    let max_age = u64::from(input.u16());
    let max_revocation_age = u64::from(input.u16());
    let cflags = input.u8();
    let exp = NOW + i64::from(input.i16()) * 4;
    let iat = NOW + i64::from(input.i16());
    let nbf = NOW + i64::from(input.i16());
    let cache_flags = input.u8();
    let sub = input.text();
    let jti = input.text();
    let scope = input.text();
    let extra_claims = input.text();
    let extra_header = input.text();
    let grants_text = input.text();
    let req_a = input.text();
    let req_b = input.text();
    let revocations_text = input.text();

    // Policy (built as the JS options are: JSON through Policy::from_json).
    let es = pflags & 7 == 7;
    let signer = if es { es256() } else { hs256() };
    let mut p = json!({ "leeway": leeway, "maxLifetime": max_lifetime });
    if pflags & 4 != 0 {
        p["issuer"] = json!(ISSUER);
        p["audience"] = json!(["api", "other"]);
    }
    if pflags & 8 != 0 {
        p["maxAge"] = json!(max_age);
    }
    if pflags & 16 != 0 {
        p["tokenTypes"] = json!("access");
        p["requireJti"] = json!(true);
    }
    if pflags & 32 != 0 {
        p["maxRevocationAge"] = json!(max_revocation_age);
    }
    if pflags & 64 != 0 {
        p["requireExp"] = json!(false);
    }
    if pflags & 128 != 0 {
        p["scope"] = json!(req_b);
    }
    let Ok(policy) = Policy::from_json(&p.to_string()) else {
        return;
    };
    let validator = Validator::new(
        if es { es256_set() } else { hs256_set() }.clone(),
        policy.clone(),
    );

    // Claims: structured fields, then the input's extra members on top.
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(ISSUER));
    claims.insert("aud".into(), json!("api"));
    if !sub.is_empty() {
        claims.insert("sub".into(), json!(sub));
    }
    if !jti.is_empty() {
        claims.insert("jti".into(), json!(jti));
    }
    if cflags & 1 == 0 {
        claims.insert("exp".into(), json!(exp));
    }
    if cflags & 2 == 0 {
        claims.insert("iat".into(), json!(iat));
    }
    if cflags & 4 != 0 {
        claims.insert("nbf".into(), json!(nbf));
    }
    if cflags & 8 == 0 {
        claims.insert("scope".into(), json!(scope));
    } else {
        claims.insert("scp".into(), json!(scope.split(' ').collect::<Vec<_>>()));
    }
    claims.insert(
        "type".into(),
        json!(if cflags & 16 == 0 {
            "access"
        } else {
            "refresh"
        }),
    );
    if let Some(extra) = tokengate_fuzz::object(&extra_claims) {
        claims.extend(extra);
    }
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    if let Some(extra) = tokengate_fuzz::object(&extra_header) {
        header.extend(extra);
    }
    let payload = if cflags & 32 == 0 {
        serde_json::to_vec(&claims).expect("claims serialize")
    } else {
        // Signed bytes that need not be JSON: the claims parser after a good signature.
        extra_claims.clone().into_bytes()
    };
    let Ok(token) = signer.sign_jws(&payload, &header) else {
        return;
    };
    // A tampered copy: one character replaced by another base64url character.
    let tampered = {
        let pos = usize::from(cache_flags) * 7 % token.len();
        let mut bytes = token.clone().into_bytes();
        bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ASCII")
    };

    // Context data.
    let grants = ScopeSet::parse(&grants_text).ok();
    let reqs = [
        Requirement::parse(&req_a).ok(),
        Requirement::parse(&req_b).ok(),
    ];
    let mut lists: Vec<RevocationList> = RevocationList::from_json(&revocations_text)
        .into_iter()
        .collect();
    // Lists aimed at this token, in the JSON form every binding loads: its jti revoked, and
    // its subject cut off around its iat (same version and time: only the content differs).
    let version = u64::from(cache_flags >> 4);
    let generated_at = NOW - i64::from(cache_flags & 15) * 100;
    let aimed = [
        json!({"schema": 1, "version": version, "generated_at": generated_at}),
        json!({"schema": 1, "version": version, "generated_at": generated_at,
               "jti": [{"iss": ISSUER, "jti": jti, "until": exp}]}),
        json!({"schema": 1, "version": version, "generated_at": generated_at,
               "subjects": [{"iss": ISSUER, "sub": sub, "before": iat + i64::from(cflags >> 6) - 1, "until": exp}]}),
    ];
    for doc in aimed {
        lists.push(RevocationList::from_json(&doc.to_string()).expect("aimed list parses"));
    }

    let mut cache = Cache::new(
        usize::from(cache_flags & 3) + 1,
        i64::from(cache_flags >> 2),
    );
    let tokens = [token.as_str(), tampered.as_str()];
    for _ in 0..8 {
        if input.is_empty() {
            break;
        }
        let sel = input.u8();
        let now = NOW + i64::from(input.i16()) * 2;
        let which = input.u8();
        let tok = tokens[usize::from(which & 1)];
        let ctx = Context {
            revocations: match (sel & 7) as usize {
                0..=2 => None,
                i => lists.get(i - 3),
            },
            grants: if sel & 8 != 0 { grants.as_ref() } else { None },
            scope: reqs[usize::from((sel >> 4) & 1)]
                .as_ref()
                .filter(|_| sel & 32 != 0),
        };
        let fresh = validator.validate(tok, now, &ctx);
        let cached = through_cache(&validator, &mut cache, tok, now, &ctx);
        match (&fresh, &cached) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "a cache hit differs from the uncached result"),
            (Err(a), Err(b)) => assert_eq!(
                (a.code(), a.scope()),
                (b.code(), b.scope()),
                "cached and uncached validation fail differently"
            ),
            _ => panic!(
                "cached and uncached validation disagree: uncached {:?}, cached {:?}",
                fresh.as_ref().map(|_| ()).map_err(|e| e.code()),
                cached.as_ref().map(|_| ()).map_err(|e| e.code())
            ),
        }
        if let Ok(v) = &cached {
            assert!(tok == token, "a tampered token was accepted");
            check_accepted(tok, v, &policy, now, &ctx);
        }
    }
}

/// `validate_cached`, with a hit turned back into the stored `Verified` (what the bindings
/// hand out for that slot).
fn through_cache(
    validator: &Validator,
    cache: &mut Cache,
    token: &str,
    now: i64,
    ctx: &Context<'_>,
) -> tokengate::Result<Verified> {
    match validator.validate_cached(cache, token, now, ctx)? {
        Cached::Fresh(_, v) => Ok(*v),
        Cached::Hit(slot) => match cache.get(token) {
            Some((s, Outcome::Valid { verified, .. })) => {
                assert_eq!(s, slot, "a hit names another slot");
                Ok((**verified).clone())
            }
            other => panic!("a hit without a stored success: {other:?}"),
        },
    }
}
