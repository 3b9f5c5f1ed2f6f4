#![no_main]
//! Policy / options documents (`claims::Policy::from_json`, as the Validator options are
//! parsed), then a token through a validator built with that policy. A refused document is
//! always `options_invalid` (or `scope_invalid` for its requirement); an accepted one keeps
//! its documented bounds; an accepted token satisfies every rule of the policy (reference
//! checks shared with the `validate` target).
//! Input: a clock offset (4 bytes), then text parts: the options JSON, claims JSON, extra
//! header members JSON.

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map};
use tokengate::{Context, ErrorCode, Policy, Validator};
use tokengate_fuzz::{check_accepted, hs256, hs256_set, object, Input, NOW};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let now = NOW + i64::from(input.i32() % 100_000_000);
    let options = input.text();
    let claims_text = input.text();
    let header_text = input.text();

    let policy = match Policy::from_json(&options) {
        Err(e) => {
            assert!(
                matches!(
                    e.code(),
                    ErrorCode::OptionsInvalid | ErrorCode::ScopeInvalid
                ),
                "options refused with {}",
                e.code()
            );
            return;
        }
        Ok(p) => p,
    };
    assert!(policy.leeway <= 86_400);
    assert!((1..=1 << 20).contains(&policy.limits.max_token_bytes));
    assert!((2..=64).contains(&policy.limits.max_json_depth));
    assert!(!policy.scope_claims.is_empty());
    for list in [
        &policy.issuers,
        &policy.audiences,
        &policy.typ,
        &policy.token_types,
    ] {
        assert!(
            list.iter().all(|s| !s.is_empty()),
            "an empty string in a policy list"
        );
    }
    assert_ne!(policy.max_lifetime, Some(0), "maxLifetime 0 means no cap");
    // The document names its keys in camelCase; unknown ones are refused, so every key it
    // has is a known option.
    if let Some(doc) = object(&options) {
        if let Some(l) = doc.get("leeway").and_then(|v| v.as_u64()) {
            assert_eq!(policy.leeway, l);
        }
        if doc.get("requireExp") == Some(&json!(false)) {
            assert!(!policy.require_exp);
        }
    }

    let claims: Map<String, serde_json::Value> = object(&claims_text).unwrap_or_else(|| {
        let mut m = Map::new();
        m.insert("exp".into(), json!(now + 60));
        m
    });
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    if let Some(extra) = object(&header_text) {
        header.extend(extra);
    }
    let payload = serde_json::to_vec(&claims).expect("claims serialize");
    let Ok(token) = hs256().sign_jws(&payload, &header) else {
        return;
    };
    let validator = Validator::new(hs256_set().clone(), policy.clone());
    let ctx = Context::default();
    if let Ok(v) = validator.validate(&token, now, &ctx) {
        check_accepted(&token, &v, &policy, now, &ctx);
        // The claims are the signed payload, read strictly (no duplicates) and otherwise as
        // serde_json reads it. (Not `claims` itself: serde_json's float parsing is not correctly
        // rounded, so a number's re-serialized text can read back one ulp apart.)
        let lenient: Map<String, serde_json::Value> =
            serde_json::from_slice(&payload).expect("payload is JSON");
        assert_eq!(v.claims, lenient);
    }
});
