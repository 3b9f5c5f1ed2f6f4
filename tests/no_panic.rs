#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests: no input reaches a panic (a wasm panic aborts the edge worker).

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use tokengate::{Alg, KeySet, Requirement, RevocationList, ScopeSet};

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn validate_never_panics_on_random_text(s in "\\PC{0,400}") {
        let k = key(Alg::HS256);
        let v = validator(&k, json!({}));
        let _ = v.validate(&s, NOW, &Default::default());
    }

    #[test]
    fn validate_never_panics_on_dotted_base64(a in "[A-Za-z0-9_-]{0,80}", b in "[A-Za-z0-9_-]{0,80}", c in "[A-Za-z0-9_-]{0,90}") {
        let k = key(Alg::ES256);
        let v = validator(&k, json!({}));
        let _ = v.validate(&format!("{a}.{b}.{c}"), NOW, &Default::default());
    }

    #[test]
    fn mutated_valid_tokens_are_rejected_without_panic(pos in 0usize..400, byte in 0u8..128, cut in 0usize..400) {
        let k = key(Alg::EdDSA);
        let v = validator(&k, json!({}));
        let token = k.mint(&claims()).unwrap();
        let mut bytes = token.clone().into_bytes();
        let i = pos % bytes.len();
        let changed = bytes[i] != byte;
        bytes[i] = byte;
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        let r = v.validate(&mutated, NOW, &Default::default());
        if changed { prop_assert!(r.is_err()); }
        let _ = v.validate(&token[..cut.min(token.len())], NOW, &Default::default());
    }

    #[test]
    fn json_parsers_never_panic(s in "\\PC{0,300}") {
        let _ = KeySet::from_json(&s);
        let _ = RevocationList::from_json(&s);
        let _ = tokengate::Policy::from_json(&s);
        let _ = Requirement::parse(&s);
        let _ = ScopeSet::parse(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn inspect_never_panics(s in "\\PC{0,300}", a in "[A-Za-z0-9_-]{0,60}", b in "[A-Za-z0-9_-]{0,60}") {
        let opts = tokengate::inspect::Options::at(NOW);
        let _ = tokengate::inspect::inspect(&s, &opts);
        let _ = tokengate::inspect::inspect(&format!("{a}.{b}.{a}"), &opts);
        let _ = tokengate::inspect::inspect(&format!("tgk_{a}{b}"), &opts);
        let _ = tokengate::apikey::parse(&s);
    }

    #[test]
    fn revocation_loader_never_panics(version in 0u64..10, entries in proptest::collection::vec(("\\PC{0,10}", "\\PC{0,10}", -5i64..5), 0..20)) {
        let jti: Vec<_> = entries.iter().map(|(i, j, u)| json!({"iss": i, "jti": j, "until": u})).collect();
        let text = json!({"schema": 1, "version": version, "generated_at": 0, "jti": jti}).to_string();
        let list = RevocationList::from_json(&text).unwrap();
        prop_assert_eq!(RevocationList::from_json(&list.to_json()).unwrap().to_json(), list.to_json());
    }
}

/// Found by `fuzz/` (target `inspect`): the caller's clock is any i64, and `exp - now`,
/// `iat - now` or `now + 60` overflowed (a panic in debug builds, a wrapped status in release).
#[test]
fn inspect_with_a_clock_at_the_ends_of_i64() {
    let k = key(Alg::HS256);
    let token = k.mint(&claims()).unwrap();
    let past = tokengate::inspect::inspect(&token, &tokengate::inspect::Options::at(i64::MIN));
    assert_eq!(past.status, "active");
    assert_eq!(past.expires_in, Some(i64::MAX));
    assert!(past.lints.iter().any(|l| l.code == "iat_in_future"));
    assert!(past.times["exp"].relative.starts_with("in "));
    let future = tokengate::inspect::inspect(&token, &tokengate::inspect::Options::at(i64::MAX));
    assert_eq!(future.status, "expired");
    assert!(future.needs_refresh);
    assert!(future.times["exp"].relative.ends_with(" ago"));
    assert!(!future.lints.iter().any(|l| l.code == "iat_in_future"));
}
