#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Revocation: jti, subject cut-offs, API-key hashes, prune, staleness, format.

mod common;
use common::*;
use serde_json::json;
use tokengate::{Alg, Context, ErrorCode, RevocationList};

const ISS: &str = "https://issuer.example";

fn check(
    list: &RevocationList,
    policy: serde_json::Value,
    changes: serde_json::Value,
) -> Result<(), ErrorCode> {
    let k = key(Alg::HS256);
    let v = validator(&k, policy);
    let c = claims_with(&changes);
    v.validate(
        &k.mint(&c).unwrap(),
        NOW,
        &Context {
            revocations: Some(list),
            ..Default::default()
        },
    )
    .map(|_| ())
    .map_err(|e| e.code())
}

#[test]
fn revoked_jti_is_rejected_per_issuer() {
    let mut l = RevocationList::new(1, NOW);
    l.revoke_jti(ISS, "t-1", NOW + 600);
    assert_eq!(
        check(&l, json!({}), json!({})),
        Err(ErrorCode::TokenRevoked)
    );
    assert_eq!(check(&l, json!({}), json!({"jti": "t-2"})), Ok(()));
    assert_eq!(
        check(&l, json!({}), json!({"iss": "https://other.example"})),
        Ok(()),
        "same jti, other issuer"
    );
}

#[test]
fn subject_cut_off_boundaries() {
    let mut l = RevocationList::new(1, NOW);
    l.cut_off_subject(ISS, "user-1", NOW - 10, NOW + 86_400);
    assert_eq!(
        check(&l, json!({}), json!({"iat": NOW - 11})),
        Err(ErrorCode::TokenRevoked)
    );
    assert_eq!(
        check(&l, json!({}), json!({"iat": NOW - 10})),
        Ok(()),
        "iat equal to the cut-off stays valid (one active token per user)"
    );
    assert_eq!(check(&l, json!({}), json!({"iat": NOW - 9})), Ok(()));
    assert_eq!(
        check(&l, json!({}), json!({"iat": null})),
        Err(ErrorCode::TokenRevoked),
        "no iat cannot prove it is newer"
    );
    assert_eq!(
        check(&l, json!({}), json!({"sub": "user-2", "iat": NOW - 100})),
        Ok(())
    );
    // A later cut-off wins; an earlier one does not undo it.
    l.cut_off_subject(ISS, "user-1", NOW - 100, NOW + 86_400);
    assert_eq!(l.subject_cut_off(ISS, "user-1"), Some(NOW - 10));
}

#[test]
fn prune_drops_only_expired_entries() {
    let mut l = RevocationList::new(3, NOW);
    l.revoke_jti(ISS, "old", NOW - 1);
    l.revoke_jti(ISS, "new", NOW + 1);
    l.cut_off_subject(ISS, "u", NOW - 5, NOW);
    l.revoke_apikey(&"a".repeat(64), NOW + 10);
    assert_eq!(l.prune(NOW), 2);
    assert!(l.is_jti_revoked(ISS, "new") && !l.is_jti_revoked(ISS, "old"));
    assert_eq!(l.subject_cut_off(ISS, "u"), None);
    assert_eq!(l.counts(), (1, 0, 1));
}

#[test]
fn stale_lists_fail_closed() {
    let l = RevocationList::new(1, NOW - 120);
    assert_eq!(
        check(&l, json!({"maxRevocationAge": 60}), json!({})),
        Err(ErrorCode::RevocationDataStale)
    );
    assert_eq!(
        check(&l, json!({"maxRevocationAge": 120}), json!({})),
        Ok(())
    );
    assert_eq!(ErrorCode::RevocationDataStale.status(), 503);
}

#[test]
fn jti_can_be_required_for_revocability() {
    let l = RevocationList::new(1, NOW);
    assert_eq!(
        check(&l, json!({"requireJti": true}), json!({"jti": null})),
        Err(ErrorCode::ClaimMissing)
    );
    assert_eq!(check(&l, json!({}), json!({"jti": null})), Ok(()));
}

#[test]
fn json_round_trips_exactly() {
    let mut l = RevocationList::new(42, NOW);
    l.revoke_jti(ISS, "b", NOW + 5);
    l.revoke_jti(ISS, "a", NOW + 6);
    l.cut_off_subject("", "svc", NOW, NOW + 9);
    l.revoke_apikey(&"0f".repeat(32), NOW + 7);
    let text = l.to_json();
    let again = RevocationList::from_json(&text).unwrap();
    assert_eq!(again.to_json(), text);
    assert_eq!(
        (again.version, again.generated_at, again.len()),
        (42, NOW, 4)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["jti"][0]["jti"], "a", "entries are sorted");
}

#[test]
fn malformed_lists_are_errors() {
    for bad in [
        "",
        "{}",
        r#"{"schema":2,"version":1,"generated_at":0}"#,
        r#"{"schema":1,"version":1,"generated_at":"x"}"#,
        r#"{"schema":1,"version":1,"generated_at":0,"apikeys":[{"hash":"XYZ","until":1}]}"#,
        r#"{"schema":1,"version":1,"generated_at":0,"extra":1}"#,
    ] {
        assert_eq!(
            RevocationList::from_json(bad).unwrap_err().code(),
            ErrorCode::RevocationInvalid,
            "{bad}"
        );
    }
}

#[test]
fn large_lists_load_and_look_up() {
    let mut l = RevocationList::new(1, NOW);
    for i in 0..100_000 {
        l.revoke_jti(ISS, &format!("jti-{i:08}"), NOW + 3600);
    }
    let text = l.to_json();
    let again = RevocationList::from_json(&text).unwrap();
    assert_eq!(again.len(), 100_000);
    assert!(again.is_jti_revoked(ISS, "jti-00099999"));
    assert!(!again.is_jti_revoked(ISS, "jti-00100000"));
}

fn entry(v: serde_json::Value) -> tokengate::revocation::Entry {
    tokengate::revocation::Entry::parse(&v.to_string())
        .unwrap()
        .0
}

#[test]
fn snapshot_folds_every_entry_and_drops_expired_ones() {
    use tokengate::revocation::snapshot;
    let entries = vec![
        entry(json!({"kind": "jti", "iss": ISS, "jti": "a", "until": NOW + 60})),
        entry(json!({"kind": "jti", "iss": ISS, "jti": "gone", "until": NOW - 1})),
        entry(
            json!({"kind": "subject", "iss": ISS, "sub": "u", "before": NOW - 100, "until": NOW + 60}),
        ),
        // A later cut-off for the same subject wins, whichever entry is listed first.
        entry(
            json!({"kind": "subject", "iss": ISS, "sub": "u", "before": NOW - 10, "until": NOW + 90}),
        ),
        entry(json!({"kind": "apikey", "hash": "ab".repeat(32), "until": NOW + 60})),
    ];
    let list = snapshot(&entries, 41, NOW, "src".into());
    assert_eq!((list.version, list.generated_at), (42, NOW));
    assert!(list.is_jti_revoked(ISS, "a") && !list.is_jti_revoked(ISS, "gone"));
    assert_eq!(list.subject_cut_off(ISS, "u"), Some(NOW - 10));
    assert!(list.is_apikey_revoked(&"ab".repeat(32)));
    assert_eq!(list.len(), 3);
    let mut reversed = entries.clone();
    reversed.reverse();
    let again = snapshot(&reversed, 41, NOW, "src".into());
    assert_eq!(again.to_json(), list.to_json());
    // The snapshot names its sources, and that survives the JSON round trip the worker does.
    let parsed = RevocationList::from_json(&list.to_json()).unwrap();
    assert_eq!(parsed.source.as_deref(), Some("src"));
}

#[test]
fn source_digest_names_the_set_not_the_order() {
    use tokengate::revocation::source_digest;
    let a = source_digest(&["x".into(), "y".into()]);
    assert_eq!(a, source_digest(&["y".into(), "x".into(), "x".into()]));
    assert_ne!(a, source_digest(&["x".into()]));
    assert_ne!(a, source_digest(&["x".into(), "y".into(), "z".into()]));
    // Names are separated, so ["ab"] and ["a", "b"] differ.
    assert_ne!(
        source_digest(&["ab".into()]),
        source_digest(&["a".into(), "b".into()])
    );
}

#[test]
fn bad_entries_are_rejected() {
    use tokengate::revocation::Entry;
    for bad in [
        json!({"kind": "everything", "until": 1}),
        json!({"kind": "jti", "iss": "", "jti": "a", "until": 1}),
        json!({"kind": "jti", "iss": ISS, "jti": "a", "until": "soon"}),
        json!({"kind": "jti", "iss": ISS, "jti": "a", "until": 1, "extra": true}),
        json!({"kind": "subject", "iss": ISS, "sub": "u", "until": 1}),
        json!({"kind": "apikey", "hash": "ABC", "until": 1}),
        json!({"kind": "jti", "iss": ISS, "jti": "j".repeat(1100), "until": 1}),
    ] {
        let e = Entry::parse(&bad.to_string()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RevocationInvalid, "{bad}");
    }
}

#[test]
fn lists_that_differ_never_share_a_cache_identity() {
    // Two racing writers can both publish version 8 in the same second with different entries.
    let a = json!({"schema": 1, "version": 8, "generated_at": NOW, "jti": [{"iss": ISS, "jti": "a", "until": NOW + 60}]});
    let b = json!({"schema": 1, "version": 8, "generated_at": NOW, "jti": [{"iss": ISS, "jti": "b", "until": NOW + 60}]});
    let la = RevocationList::from_json(&a.to_string()).unwrap();
    let lb = RevocationList::from_json(&b.to_string()).unwrap();
    assert_ne!(la.identity(), lb.identity());
    assert_eq!(
        la.identity(),
        RevocationList::from_json(&a.to_string())
            .unwrap()
            .identity()
    );
}
