#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The two builds of the core. Key checks that both make the same way run under both; the edge
//! build's (`--no-default-features`: RSA/ECDSA/EdDSA signatures left to the host) own rules run
//! only there: `cargo test --no-default-features --test edge_build`.
//! (Self-contained: tests/common signs with the full build.)

use serde_json::{json, Value};
use tokengate::{ErrorCode, KeySet};

fn wycheproof_rs256() -> (Value, String) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wycheproof/json_web_signature_test.json"
    ))
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    for g in doc["testGroups"].as_array().unwrap() {
        if g["public"]["alg"] == "RS256" {
            let t = g["tests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["result"] == "valid")
                .unwrap();
            return (g["public"].clone(), t["jws"].as_str().unwrap().to_owned());
        }
    }
    panic!("no RS256 group");
}

fn key_code(jwk: Value) -> Option<ErrorCode> {
    KeySet::from_json(&jwk.to_string()).err().map(|e| e.code())
}

#[test]
fn rsa_key_rules_are_the_same_in_both_builds() {
    let (public, _) = wycheproof_rs256();
    assert_eq!(key_code(public.clone()), None);
    // The rsa crate's bound on e (2^33 - 1), checked on the bytes in both builds.
    let mut big_e = public.clone();
    big_e["e"] = json!("AgAAAAE"); // 2^33 + 1
    let e = KeySet::from_json(&big_e.to_string()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyInvalid);
    assert!(
        e.message().contains("public exponent too large"),
        "{}",
        e.message()
    );
    let mut even = public.clone();
    even["e"] = json!("AQAA"); // 65536
    assert_eq!(key_code(even), Some(ErrorCode::KeyInvalid));
    let mut short = public;
    short["n"] = json!("AQAB");
    assert_eq!(key_code(short), Some(ErrorCode::KeyInvalid));
    // Ed25519: not a point / small order, in both builds (decompression without rust-crypto).
    let identity =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert_eq!(key_code(identity), Some(ErrorCode::KeyInvalid));
    let not_a_point =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert_eq!(key_code(not_a_point), Some(ErrorCode::KeyInvalid));
}

#[cfg(not(feature = "rust-crypto"))]
mod edge {
    use super::*;
    use tokengate::cache::Cache;
    use tokengate::{Cached, Context, Policy, PolicyInput, Validator};

    fn policy() -> Policy {
        Policy::from_input(PolicyInput {
            require_exp: Some(false),
            max_lifetime: Some(0),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn a_synchronous_check_of_a_host_algorithm_is_refused_and_never_cached() {
        let (public, jws) = wycheproof_rs256();
        let keys = KeySet::from_json(&public.to_string()).unwrap();
        assert!(keys.keys()[0].host_verified());
        let v = Validator::new(keys, policy());
        let ctx = Context::default();
        let e = v.validate(&jws, 0, &ctx).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AlgNotAllowed);
        assert!(e.message().contains("host's WebCrypto"), "{}", e.message());
        let mut cache = Cache::new(16, 60);
        for _ in 0..2 {
            let e = v.validate_cached(&mut cache, &jws, 0, &ctx).unwrap_err();
            assert_eq!(e.code(), ErrorCode::AlgNotAllowed);
        }
        assert_eq!(
            cache.len(),
            0,
            "a refusal of the build is not the token's outcome"
        );
        // The host's verdict goes through prepare/finish as on the full build.
        let p = v.prepare(&jws).unwrap();
        assert!(
            !v.verify_candidate(&p, 0),
            "the core never claims a host signature"
        );
        let unverified = v.finish(p.clone(), None, 0, &ctx).unwrap_err();
        assert_eq!(unverified.code(), ErrorCode::SignatureInvalid);
        // Verified by the host: the core goes on to the claims (Wycheproof's payload is "foo").
        let e = v.finish(p, Some(0), 0, &ctx).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TokenMalformed);
        assert!(e.message().starts_with("claims"), "{}", e.message());
    }

    #[test]
    fn a_refused_key_is_gone_from_small_and_large_sets_alike() {
        // Up to 16 keys a kid is found by a scan, beyond by an index: a refusal must take the
        // kid out of both.
        let (public, _) = wycheproof_rs256();
        let token = |kid: &str| {
            let header = json!({"alg": "RS256", "kid": kid}).to_string();
            let enc = tokengate::b64::encode;
            format!("{}.{}.AAAA", enc(header.as_bytes()), enc(b"{}"))
        };
        for n in [3usize, 16, 17, 40] {
            let keys: Vec<Value> = (0..n)
                .map(|i| {
                    let mut k = public.clone();
                    k["kid"] = json!(format!("k{i}"));
                    k
                })
                .collect();
            let mut set = KeySet::from_json(&json!({ "keys": keys }).to_string()).unwrap();
            set.refuse(1, "refused by WebCrypto");
            assert!(set.get("k1").is_none(), "{n} keys");
            let last = format!("k{}", n - 1);
            assert!(
                set.get("k0").is_some() && set.get(&last).is_some(),
                "{n} keys"
            );
            let v = Validator::new(set, policy());
            let e = v.prepare(&token("k1")).unwrap_err();
            assert_eq!(e.code(), ErrorCode::KeyNotFound, "{n} keys");
            assert!(e.message().contains("it was not loaded"), "{}", e.message());
            assert_eq!(v.prepare(&token(&last)).unwrap().candidates, vec![n - 1]);
        }
    }

    #[test]
    fn a_key_the_host_refuses_is_skipped_as_the_full_build_skips_it() {
        let (public, jws) = wycheproof_rs256();
        let mut other = public.clone();
        other["kid"] = json!("other");
        let set = json!({"keys": [public, other]});
        let mut keys = KeySet::from_json(&set.to_string()).unwrap();
        let kid = keys.keys()[0].kid().map(str::to_owned);
        keys.refuse(0, "refused by WebCrypto");
        keys.refuse(7, "out of range: ignored");
        assert_eq!(keys.skipped().len(), 1);
        assert_eq!(keys.skipped()[0].kid, kid);
        let v = Validator::new(keys.clone(), policy());
        // The token names the refused key's kid (or none: then only the other key is tried).
        let e = v.prepare(&jws).map(|p| p.candidates).map_err(|e| e.code());
        assert!(
            matches!(e, Err(ErrorCode::KeyNotFound)) || e == Ok(vec![1]),
            "{e:?}"
        );
        keys.refuse(1, "refused too");
        let v = Validator::new(keys, policy());
        let e = v.prepare(&jws).unwrap_err();
        assert_eq!(e.code(), ErrorCode::KeyInvalid);
        assert!(
            e.message().contains("no usable verification key"),
            "{}",
            e.message()
        );
        // HMAC keys are the core's own: a refusal never touches them.
        let mut hmac = KeySet::from_json(
            &json!({"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}).to_string(),
        )
        .unwrap();
        hmac.refuse(0, "no");
        assert!(hmac.skipped().is_empty());
    }

    #[test]
    fn cached_hits_stay_the_cores_decision() {
        let (public, jws) = wycheproof_rs256();
        let v = Validator::new(KeySet::from_json(&public.to_string()).unwrap(), policy());
        let mut cache = Cache::new(16, 60);
        let ctx = Context::default();
        // A miss on the sync path is refused; the host path's outcome (an intrinsic failure
        // here: the payload is not claims) is remembered and then served to either path.
        let refused = v.validate_cached(&mut cache, &jws, 0, &ctx).unwrap_err();
        assert_eq!(refused.code(), ErrorCode::AlgNotAllowed);
        let p = v.prepare(&jws).unwrap();
        let result = v.finish(p, Some(0), 0, &ctx);
        assert_eq!(v.remember(&mut cache, &jws, &result, 0, &ctx), None);
        assert_eq!(cache.len(), 1);
        let hit = v
            .validate_cached(&mut cache, &jws, 1, &ctx)
            .map(|c| matches!(c, Cached::Hit(_)));
        assert_eq!(hit.map_err(|e| e.code()), Err(ErrorCode::TokenMalformed));
        assert_eq!(cache.hits, 1);
    }
}
