#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The verified-token cache: a hit re-decides everything that can change, and the LRU is bounded.
//! Each test is a cache bug seen in other validators.

mod common;
use common::*;
use serde_json::json;
use tokengate::cache::{Cache, Outcome};
use tokengate::Cached;
use tokengate::{Alg, Context, ErrorCode, Requirement, RevocationList, ScopeSet};

fn run(
    v: &tokengate::Validator,
    cache: &mut Cache,
    token: &str,
    now: i64,
    ctx: &Context<'_>,
) -> Result<bool, ErrorCode> {
    v.validate_cached(cache, token, now, ctx)
        .map(|c| matches!(c, Cached::Hit(_)))
        .map_err(|e| e.code())
}

#[test]
fn a_hit_after_exp_is_rejected() {
    let k = key(Alg::ES256);
    let v = validator(&k, json!({"leeway": 0}));
    let t = k.mint(&claims()).unwrap();
    let mut c = Cache::new(16, 5);
    let ctx = Context::default();
    assert_eq!(run(&v, &mut c, &t, NOW, &ctx), Ok(false));
    assert_eq!(run(&v, &mut c, &t, NOW + 1, &ctx), Ok(true));
    assert_eq!(
        run(&v, &mut c, &t, NOW + 600, &ctx),
        Err(ErrorCode::TokenExpired)
    );
}

#[test]
fn a_token_without_iat_still_expires_and_keeps_its_lifetime_bound() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"leeway": 0, "maxLifetime": 3600}));
    let t = k
        .mint(&claims_with(&json!({"iat": null, "exp": NOW + 100})))
        .unwrap();
    let mut c = Cache::new(16, 5);
    let ctx = Context::default();
    assert_eq!(run(&v, &mut c, &t, NOW, &ctx), Ok(false));
    assert_eq!(run(&v, &mut c, &t, NOW + 50, &ctx), Ok(true));
    assert_eq!(
        run(&v, &mut c, &t, NOW + 100, &ctx),
        Err(ErrorCode::TokenExpired)
    );
    // Far-future exp without iat: the lifetime check runs on every hit, not only the first.
    let long = k
        .mint(&claims_with(&json!({"iat": null, "exp": NOW + 7200})))
        .unwrap();
    assert_eq!(
        run(&v, &mut c, &long, NOW, &ctx),
        Err(ErrorCode::LifetimeExceeded)
    );
    assert_eq!(
        run(&v, &mut c, &long, NOW + 3700, &ctx),
        Ok(false),
        "valid once within the bound, and not served from a failure"
    );
}

#[test]
fn the_scope_requirement_of_each_call_applies_to_hits() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let t = k.mint(&claims()).unwrap();
    let mut c = Cache::new(16, 5);
    let read = Requirement::parse("users:read").unwrap();
    let write = Requirement::parse("users:write").unwrap();
    let ctx = |r| Context {
        scope: Some(r),
        ..Default::default()
    };
    assert_eq!(run(&v, &mut c, &t, NOW, &ctx(&read)), Ok(false));
    assert_eq!(
        run(&v, &mut c, &t, NOW, &ctx(&write)),
        Err(ErrorCode::InsufficientScope)
    );
    assert_eq!(run(&v, &mut c, &t, NOW, &ctx(&read)), Ok(true));
    // Grants that differ from the cached call's are a miss, and narrow the result.
    let grants = ScopeSet::parse("billing:*").unwrap();
    let narrowed = Context {
        grants: Some(&grants),
        ..Default::default()
    };
    let Cached::Fresh(_, fresh) = v.validate_cached(&mut c, &t, NOW, &narrowed).unwrap() else {
        panic!("different grants must not be served from the cache");
    };
    assert_eq!(fresh.scopes, vec!["billing:read"]);
}

#[test]
fn a_key_removed_from_the_set_is_not_served_from_an_old_validator_s_cache() {
    // A cache belongs to one validator; a new key set means a new validator and an empty cache.
    let k = key(Alg::ES256);
    let other = key(Alg::ES256);
    let t = k.mint(&claims()).unwrap();
    let v1 = validator(&k, json!({}));
    let mut c = Cache::new(16, 5);
    assert_eq!(run(&v1, &mut c, &t, NOW, &Context::default()), Ok(false));
    let v2 = validator(&other, json!({}));
    let mut c2 = Cache::new(16, 5);
    assert_eq!(
        run(&v2, &mut c2, &t, NOW, &Context::default()),
        Err(ErrorCode::SignatureInvalid)
    );
}

#[test]
fn a_revocation_added_after_caching_applies() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let t = k.mint(&claims()).unwrap();
    let mut c = Cache::new(16, 5);
    let empty = RevocationList::new(1, NOW);
    let mut revoked = RevocationList::new(2, NOW);
    revoked.revoke_jti("https://issuer.example", "t-1", NOW + 600);
    let with = |l| Context {
        revocations: Some(l),
        ..Default::default()
    };
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&empty)), Ok(false));
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&empty)), Ok(true));
    assert_eq!(
        run(&v, &mut c, &t, NOW, &with(&revoked)),
        Err(ErrorCode::TokenRevoked)
    );
    // Stale data fails closed on a hit too.
    let v = validator(&k, json!({"maxRevocationAge": 60}));
    let mut c = Cache::new(16, 5);
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&empty)), Ok(false));
    assert_eq!(
        run(&v, &mut c, &t, NOW + 120, &with(&empty)),
        Err(ErrorCode::RevocationDataStale)
    );
}

#[test]
fn failures_are_kept_only_briefly_and_only_when_intrinsic() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"leeway": 0}));
    let mut bad = k.mint(&claims()).unwrap();
    bad.push('A');
    let mut c = Cache::new(16, 5);
    let ctx = Context::default();
    const BAD: ErrorCode = ErrorCode::SignatureInvalid;
    assert_eq!(run(&v, &mut c, &bad, NOW, &ctx), Err(BAD));
    assert!(matches!(c.get(&bad), Some((_, Outcome::Invalid { .. }))));
    assert_eq!(run(&v, &mut c, &bad, NOW + 4, &ctx), Err(BAD));
    assert_eq!(c.len(), 1);
    assert_eq!(run(&v, &mut c, &bad, NOW + 5, &ctx), Err(BAD));
    // A not-yet-valid token is not an intrinsic failure: it is never cached.
    let later = k.mint(&claims_with(&json!({"nbf": NOW + 10}))).unwrap();
    assert_eq!(
        run(&v, &mut c, &later, NOW, &ctx),
        Err(ErrorCode::TokenNotYetValid)
    );
    assert!(c.get(&later).is_none());
    assert_eq!(run(&v, &mut c, &later, NOW + 10, &ctx), Ok(false));
}

#[test]
fn the_lru_is_bounded_and_evicts_the_least_recently_used() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let tokens: Vec<String> = (0..5)
        .map(|i| {
            k.mint(&claims_with(&json!({"jti": format!("t-{i}")})))
                .unwrap()
        })
        .collect();
    let mut c = Cache::new(3, 5);
    let ctx = Context::default();
    for t in &tokens[..3] {
        run(&v, &mut c, t, NOW, &ctx).unwrap();
    }
    run(&v, &mut c, &tokens[0], NOW, &ctx).unwrap(); // 0 is now the most recent
    run(&v, &mut c, &tokens[3], NOW, &ctx).unwrap(); // evicts 1
    assert_eq!(c.len(), 3);
    assert_eq!(run(&v, &mut c, &tokens[0], NOW, &ctx), Ok(true));
    assert_eq!(run(&v, &mut c, &tokens[2], NOW, &ctx), Ok(true));
    assert_eq!(run(&v, &mut c, &tokens[1], NOW, &ctx), Ok(false));
    for t in tokens.iter().cycle().take(50) {
        run(&v, &mut c, t, NOW, &ctx).unwrap();
        assert!(c.len() <= 3);
    }
}

#[test]
fn removed_slots_are_reused_and_never_shadow_a_live_entry() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let ctx = Context::default();
    let mut c = Cache::new(2, 5);
    let a = k.mint(&claims_with(&json!({"jti": "a"}))).unwrap();
    let b = k.mint(&claims_with(&json!({"jti": "b"}))).unwrap();
    let x = k.mint(&claims_with(&json!({"jti": "x"}))).unwrap();
    run(&v, &mut c, &a, NOW, &ctx).unwrap();
    run(&v, &mut c, &b, NOW, &ctx).unwrap();
    c.remove(&a);
    assert_eq!(c.len(), 1);
    run(&v, &mut c, &a, NOW, &ctx).unwrap(); // back into the freed slot
    run(&v, &mut c, &x, NOW, &ctx).unwrap(); // full: evicts b, the least recently used
    assert_eq!(c.len(), 2);
    assert_eq!(run(&v, &mut c, &a, NOW, &ctx), Ok(true));
    assert_eq!(run(&v, &mut c, &x, NOW, &ctx), Ok(true));
    assert_eq!(run(&v, &mut c, &b, NOW, &ctx), Ok(false));
}

#[test]
fn a_racing_writer_reusing_a_version_still_invalidates_hits() {
    // Two admin writers can both publish version 8 in the same second; the second one revokes.
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let t = k.mint(&claims_with(&json!({"jti": "leaked"}))).unwrap();
    let doc = |jti: &str| {
        json!({"schema": 1, "version": 8, "generated_at": NOW,
               "jti": [{"iss": "https://issuer.example", "jti": jti, "until": NOW + 600}]})
        .to_string()
    };
    let first = RevocationList::from_json(&doc("other")).unwrap();
    let second = RevocationList::from_json(&doc("leaked")).unwrap();
    let mut c = Cache::new(16, 5);
    let with = |l| Context {
        revocations: Some(l),
        ..Default::default()
    };
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&first)), Ok(false));
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&first)), Ok(true));
    assert_eq!(
        run(&v, &mut c, &t, NOW, &with(&second)),
        Err(ErrorCode::TokenRevoked)
    );
}

#[test]
fn lists_built_or_changed_in_memory_still_invalidate_hits() {
    // Same version and time, no text to digest: the identity comes from the content.
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let t = k.mint(&claims_with(&json!({"jti": "leaked"}))).unwrap();
    let first = RevocationList::new(8, NOW);
    let mut second = RevocationList::new(8, NOW);
    second.revoke_jti("https://issuer.example", "leaked", NOW + 600);
    let mut c = Cache::new(16, 5);
    let with = |l| Context {
        revocations: Some(l),
        ..Default::default()
    };
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&first)), Ok(false));
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&first)), Ok(true));
    assert_eq!(
        run(&v, &mut c, &t, NOW, &with(&second)),
        Err(ErrorCode::TokenRevoked)
    );
}

#[test]
fn grants_changed_since_caching_are_re_decided_on_the_next_call() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let t = k.mint(&claims()).unwrap();
    let mut c = Cache::new(16, 5);
    let read = Requirement::parse("users:read").unwrap();
    let wide = ScopeSet::parse("users:*").unwrap();
    let narrow = ScopeSet::parse("billing:*").unwrap();
    let with = |g| Context {
        grants: Some(g),
        scope: Some(&read),
        ..Default::default()
    };
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&wide)), Ok(false));
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&wide)), Ok(true));
    // The issuer's grants no longer cover users:read: the cached success is not served.
    assert_eq!(
        run(&v, &mut c, &t, NOW, &with(&narrow)),
        Err(ErrorCode::InsufficientScope)
    );
    assert_eq!(run(&v, &mut c, &t, NOW, &with(&wide)), Ok(false));
}

#[test]
fn the_cache_key_is_the_whole_token() {
    // Every byte counts: a token that differs from a cached one anywhere (here the last
    // signature character, which may decode to the same bytes) is looked up on its own.
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let t = k.mint(&claims()).unwrap();
    let mut c = Cache::new(16, 5);
    let ctx = Context::default();
    assert_eq!(run(&v, &mut c, &t, NOW, &ctx), Ok(false));
    let mut other = t.clone();
    // 'A' and 'E' are both canonical last characters of a 32-byte tag (its 2 spare bits zero):
    // the token stays well-formed and its signature wrong.
    let last = other.pop().unwrap();
    other.push(if last == 'A' { 'E' } else { 'A' });
    assert_eq!(
        run(&v, &mut c, &other, NOW, &ctx),
        Err(ErrorCode::SignatureInvalid)
    );
    assert_eq!(c.len(), 2);
    assert!(c.get(&t[..t.len() - 1]).is_none(), "a prefix is not a hit");
    assert_eq!(run(&v, &mut c, &t, NOW, &ctx), Ok(true));
    assert_eq!(
        run(&v, &mut c, &other, NOW, &ctx),
        Err(ErrorCode::SignatureInvalid)
    );
}
