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
    // A list dated ahead of the clock cannot show its age: beyond the skew it fails closed too,
    // or a hand-set date would keep it "fresh" for as long as it is ahead.
    let ahead = RevocationList::new(1, NOW + 600);
    assert_eq!(
        check(&ahead, json!({"maxRevocationAge": 3600}), json!({})),
        Err(ErrorCode::RevocationDataStale)
    );
    // Durations read as people read them.
    let message = |l: &RevocationList, max: u64| {
        l.check_fresh(NOW, Some(max))
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert_eq!(
        message(&l, 60),
        "revocation list is 2 min old; the limit is 1 min"
    );
    assert_eq!(
        message(&ahead, 3600),
        "revocation list is dated 10 min in the future; its age cannot be known"
    );
    let skewed = RevocationList::new(1, NOW + 60);
    assert_eq!(
        check(&skewed, json!({"maxRevocationAge": 3600}), json!({})),
        Ok(())
    );
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
        json!({"kind": "jti", "iss": ISS, "jti": "j".repeat(70_000), "until": 1}),
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

#[test]
fn an_entry_too_large_for_kv_metadata_is_stored_in_its_value() {
    use tokengate::revocation::{Entry, KV_METADATA_MAX};
    let small = entry(json!({"kind": "jti", "iss": ISS, "jti": "a", "until": NOW}));
    let (value, metadata) = small.stored_form();
    assert_eq!(value, metadata, "fits: the content travels as metadata");
    // A ~1,000-character jti is longer than KV metadata allows once wrapped in JSON.
    let long = "j".repeat(1000);
    let (big, _) =
        Entry::parse(&json!({"kind": "jti", "iss": ISS, "jti": long, "until": NOW}).to_string())
            .unwrap();
    let (value, metadata) = big.stored_form();
    assert!(value.len() > KV_METADATA_MAX);
    assert_eq!(metadata, r#"{"stored":"value"}"#);
    assert_eq!(Entry::parse(&value).unwrap().0, big, "the value reads back");
    // Multi-byte characters count in bytes.
    let wide = entry(json!({"kind": "jti", "iss": ISS, "jti": "é".repeat(500), "until": NOW}));
    assert_eq!(wide.stored_form().1, r#"{"stored":"value"}"#);
}

fn named(list: &[serde_json::Value]) -> Vec<tokengate::revocation::Entry> {
    list.iter().map(|v| entry(v.clone())).collect()
}

#[test]
fn a_snapshot_behind_the_live_entries_is_merged_with_them() {
    use tokengate::revocation::{effective, snapshot};
    let older = named(&[json!({"kind": "jti", "iss": ISS, "jti": "other", "until": NOW + 60})]);
    // Written by a writer that listed before the revoke of "victim" completed.
    let stale = snapshot(&older, 6, NOW - 5, "old-listing".into()).to_json();
    let live = named(&[
        json!({"kind": "jti", "iss": ISS, "jti": "other", "until": NOW + 60}),
        json!({"kind": "jti", "iss": ISS, "jti": "victim", "until": NOW + 60}),
    ]);
    let (list, behind) = effective(&stale, &live, "live-listing", NOW).unwrap();
    assert!(behind);
    assert!(list.is_jti_revoked(ISS, "victim") && list.is_jti_revoked(ISS, "other"));
    // Its age still counts: a reader never makes stale data look fresh.
    assert_eq!((list.version, list.generated_at), (7, NOW - 5));
    // Current: the snapshot as stored.
    let current = snapshot(&live, 7, NOW, "live-listing".into()).to_json();
    let (same, behind) = effective(&current, &live, "live-listing", NOW).unwrap();
    assert!(!behind);
    assert_eq!(same.to_json(), current);
    // What only the document has (a hand edit) stays; what expired goes.
    let mut hand = RevocationList::new(3, NOW);
    hand.cut_off_subject(ISS, "by-hand", NOW, NOW + 60);
    hand.revoke_jti(ISS, "expired", NOW - 1);
    let (merged, _) = effective(&hand.to_json(), &live, "live-listing", NOW).unwrap();
    assert_eq!(merged.subject_cut_off(ISS, "by-hand"), Some(NOW));
    assert!(!merged.is_jti_revoked(ISS, "expired"));
    assert_eq!(merged.len(), 3);
    // A document the core cannot read is an error, never an empty list.
    assert_eq!(
        effective("{}", &live, "live-listing", NOW)
            .unwrap_err()
            .code(),
        ErrorCode::RevocationInvalid
    );
}

#[test]
fn items_of_a_hand_edited_document_that_no_entry_covers_are_adopted() {
    use tokengate::revocation::{snapshot, uncovered};
    let entries = named(&[
        json!({"kind": "jti", "iss": ISS, "jti": "a", "until": NOW + 60}),
        json!({"kind": "subject", "iss": ISS, "sub": "u", "before": NOW - 10, "until": NOW + 60}),
    ]);
    // A compacted document (it has a source), then edited by hand.
    let mut doc: serde_json::Value =
        serde_json::from_str(&snapshot(&entries, 1, NOW, "s".into()).to_json()).unwrap();
    doc["jti"]
        .as_array_mut()
        .unwrap()
        .push(json!({"iss": ISS, "jti": "added", "until": NOW + 90}));
    doc["subjects"] = json!([
        {"iss": ISS, "sub": "u", "before": NOW - 10, "until": NOW + 600},
        {"iss": ISS, "sub": "v", "before": NOW, "until": NOW + 60}
    ]);
    doc["apikeys"] = json!([{"hash": "cd".repeat(32), "until": NOW + 5}]);
    let missing = uncovered(&doc.to_string(), &entries).unwrap();
    let shown: Vec<String> = missing
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(
        shown,
        [
            format!(
                r#"{{"kind":"apikey","hash":"{}","until":{}}}"#,
                "cd".repeat(32),
                NOW + 5
            ),
            format!(
                r#"{{"kind":"jti","iss":"{ISS}","jti":"added","until":{}}}"#,
                NOW + 90
            ),
            // A longer `until` than the entry's is not covered by it.
            format!(
                r#"{{"kind":"subject","iss":"{ISS}","sub":"u","before":{},"until":{}}}"#,
                NOW - 10,
                NOW + 600
            ),
            format!(
                r#"{{"kind":"subject","iss":"{ISS}","sub":"v","before":{NOW},"until":{}}}"#,
                NOW + 60
            ),
        ]
    );
    // Once adopted, nothing is missing.
    let all: Vec<_> = entries.iter().cloned().chain(missing).collect();
    assert!(uncovered(&doc.to_string(), &all).unwrap().is_empty());
}

#[test]
fn versions_never_go_backwards() {
    use tokengate::revocation::{next_version, snapshot};
    assert_eq!(next_version(41, NOW), 42);
    // Nothing readable before (a first snapshot, or one rebuilt after corruption): a floor from
    // the time, above every version written before it.
    let rebuilt = snapshot(&[], 0, NOW, "s".into());
    assert_eq!(rebuilt.version, NOW as u64 * 1000);
    // 1000 snapshots in that second (the rebuilt one, then 999 more): still below the floor of
    // the next second.
    assert!(next_version(0, NOW + 1) > next_version(rebuilt.version + 998, NOW));
    // The writers pass the clock in milliseconds: a chain begun in some second, then rebuilt
    // after corruption in that same second, still moves forward.
    use tokengate::revocation::{next_version_at, snapshot_at};
    let start = NOW * 1000 + 120;
    let first = snapshot_at(&[], 0, start, "s".into());
    assert_eq!((first.version, first.generated_at), (start as u64, NOW));
    let third = next_version_at(next_version_at(first.version, start + 300), start + 600);
    let rebuilt = snapshot_at(&[], 0, start + 800, "s".into());
    assert!(rebuilt.version > third, "{} after {third}", rebuilt.version);
    assert_eq!(rebuilt.generated_at, NOW);
    assert_eq!(next_version_at(0, -5), 1);
}

/// `t` is when the entry's `until` says it may go; returns the code at `t - 1` (entry present)
/// and at `t` (entry pruned).
fn around_until(
    policy: &serde_json::Value,
    changes: serde_json::Value,
    e: serde_json::Value,
) -> (Result<(), ErrorCode>, Result<(), ErrorCode>) {
    let entry = entry(e);
    let t = entry.until();
    let k = key(Alg::HS256);
    let v = validator(&k, policy.clone());
    let token = k.mint(&claims_with(&changes)).unwrap();
    let mut list = RevocationList::new(1, t);
    list.add_all(&[entry]);
    let at = |now: i64, list: &RevocationList| {
        v.validate(
            &token,
            now,
            &Context {
                revocations: Some(list),
                ..Default::default()
            },
        )
        .map(|_| ())
        .map_err(|e| e.code())
    };
    let mut pruned = list.clone();
    pruned.prune(t);
    (at(t - 1, &list), at(t, &pruned))
}

#[test]
fn until_is_when_the_core_stops_accepting_the_token_anyway() {
    use tokengate::revocation::{Lifetimes, Revoked, NEVER};
    for policy in [
        json!({}),
        json!({"leeway": 5}),
        json!({"leeway": 0, "maxLifetime": 3600}),
    ] {
        let l = Lifetimes::from_policy_json(&policy.to_string()).unwrap();
        // A token with a known (even fractional) exp: revoked up to the last second the core
        // would accept it, expired from `until` on.
        for exp in [NOW as f64 + 600.0, NOW as f64 + 600.5, NOW as f64 + 600.999] {
            let until = l.until(Revoked::Token {
                exp: Some(exp),
                now: NOW,
            });
            let (before, after) = around_until(
                &policy,
                json!({"exp": exp}),
                json!({"kind": "jti", "iss": ISS, "jti": "t-1", "until": until}),
            );
            assert_eq!(before, Err(ErrorCode::TokenRevoked), "{policy} exp {exp}");
            assert_eq!(after, Err(ErrorCode::TokenExpired), "{policy} exp {exp}");
        }
        let max = l.max_lifetime.unwrap();
        // By jti only: the longest-lived token that can exist at the revoke (issued up to the
        // leeway ahead, living the maximum lifetime).
        let iat = NOW + l.leeway;
        let until = l.until(Revoked::Jti { now: NOW });
        let (before, after) = around_until(
            &policy,
            json!({"iat": iat, "exp": iat + max}),
            json!({"kind": "jti", "iss": ISS, "jti": "t-1", "until": until}),
        );
        assert_eq!(
            (before, after),
            (Err(ErrorCode::TokenRevoked), Err(ErrorCode::TokenExpired)),
            "{policy}"
        );
        // A cut-off: the longest-lived token issued before it.
        let iat = NOW as f64 - 0.5;
        let until = l.until(Revoked::Subject { before: NOW });
        let (before, after) = around_until(
            &policy,
            json!({"iat": iat, "exp": iat + max as f64}),
            json!({"kind": "subject", "iss": ISS, "sub": "user-1", "before": NOW, "until": until}),
        );
        assert_eq!(
            (before, after),
            (Err(ErrorCode::TokenRevoked), Err(ErrorCode::TokenExpired)),
            "{policy}"
        );
    }
    // The core's defaults: leeway 60, 30 days.
    let d = Lifetimes::from_policy_json("{}").unwrap();
    assert_eq!((d.leeway, d.max_lifetime), (60, Some(30 * 86_400)));
    assert_eq!(
        d.until(Revoked::Token {
            exp: Some(1000.0),
            now: 0
        }),
        1060
    );
    assert_eq!(d.key_grace(), Some(30 * 86_400 + 120));
    assert_eq!(d.mint_ttl_cap(), 30 * 86_400);
    // `maxLifetime: 0` is no cap in the core: what depends on the cap never goes.
    let none = Lifetimes::from_policy_json(r#"{"maxLifetime":0}"#).unwrap();
    assert_eq!(none.max_lifetime, None);
    assert_eq!(none.until(Revoked::Jti { now: NOW }), NEVER);
    assert_eq!(none.until(Revoked::Subject { before: NOW }), NEVER);
    assert_eq!(
        none.until(Revoked::Token {
            exp: None,
            now: NOW
        }),
        NEVER
    );
    assert_eq!(
        none.until(Revoked::Token {
            exp: Some(1000.0),
            now: 0
        }),
        1060
    );
    assert_eq!(none.key_grace(), None);
    assert_eq!(
        none.mint_ttl_cap(),
        30 * 86_400,
        "a command still never mints a token that lives forever"
    );
    // A minted token lives an hour unless the command says otherwise, never past the cap.
    assert_eq!(d.mint_ttl(), 3600);
    let short = Lifetimes::from_policy_json(r#"{"maxLifetime":600}"#).unwrap();
    assert_eq!((short.mint_ttl(), short.mint_ttl_cap()), (600, 600));
    // Limits the core refuses are refused here too.
    assert!(Lifetimes::from_policy_json(r#"{"leeway":100000}"#).is_err());
    assert!(Lifetimes::from_policy_json(r#"{"leway":5}"#).is_err());
}

#[test]
fn an_api_key_record_must_fit_kv_metadata_in_bytes_in_every_state() {
    use tokengate::apikey::{NewKey, Record};
    use tokengate::revocation::check_apikey_record;
    let make = |name: String| {
        let spec = NewKey {
            name,
            owner: "svc".into(),
            ..Default::default()
        };
        Record::create(spec, NOW).unwrap().1
    };
    assert!(check_apikey_record(&make("ci".into())).is_ok());
    // 400 characters but 800 bytes of name: over the limit in bytes, not in characters.
    let e = check_apikey_record(&make("é".repeat(400))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OptionsInvalid);
    assert!(e.message().contains("bytes"), "{}", e.message());
}
