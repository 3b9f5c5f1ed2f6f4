#![no_main]
//! Revocation lists and entries (`revocation` module): list parsing and its canonical form,
//! pruning, freshness, entry parsing, snapshot building (merge rules, pruning, version), the
//! source digest, and `check_token`, each against a reference model.
//! Input: a clock offset (2 bytes), a max age (2 bytes), a version (1 byte), then text parts:
//! a list, then entries (one per part).

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::HashMap;
use tokengate::revocation::{self, Entry, FUTURE_SKEW};
use tokengate::{ErrorCode, RevocationList, Verified};
use tokengate_fuzz::{Input, NOW};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let now = NOW + i64::from(input.i16()) * 16;
    let max_age = input.u16();
    let prev = u64::from(input.u8()) * 0x0101_0101_0101_0101;
    let list_text = input.text();
    let mut entry_texts = Vec::new();
    while !input.is_empty() && entry_texts.len() < 16 {
        entry_texts.push(input.text());
    }

    // A list document.
    match RevocationList::from_json(&list_text) {
        Err(e) => assert_eq!(e.code(), ErrorCode::RevocationInvalid),
        Ok(mut list) => {
            let canonical = list.to_json();
            let again = RevocationList::from_json(&canonical).expect("the canonical form parses");
            assert_eq!(again.to_json(), canonical, "to_json is not canonical");
            assert_eq!(
                (again.version, again.generated_at),
                (list.version, list.generated_at)
            );
            assert_eq!(again.len(), list.len());
            let (j, s, a) = list.counts();
            assert_eq!(j + s + a, list.len());
            freshness(&list, now, max_age);
            let before = list.len();
            let removed = list.prune(now);
            assert_eq!(before - removed, list.len());
            let doc: Value = serde_json::from_str(&list.to_json()).expect("JSON");
            for kind in ["jti", "subjects", "apikeys"] {
                for e in doc[kind].as_array().expect("arrays") {
                    assert!(
                        e["until"].as_i64().expect("until") > now,
                        "pruning kept an expired entry"
                    );
                }
            }
            check_tokens(&list, &entry_texts);
        }
    }

    // Entries and the snapshot built from them.
    let mut entries = Vec::new();
    let mut names = Vec::new();
    for text in &entry_texts {
        match Entry::parse(text) {
            Err(e) => assert_eq!(e.code(), ErrorCode::RevocationInvalid),
            Ok((e, canonical)) => {
                assert!(canonical.len() <= revocation::MAX_ENTRY_LEN);
                assert_eq!(serde_json::to_string(&e).expect("serializes"), canonical);
                let (e2, c2) = Entry::parse(&canonical).expect("the canonical entry parses");
                assert_eq!((&e2, &c2), (&e, &canonical));
                names.push(canonical);
                entries.push(e);
            }
        }
    }
    let digest = revocation::source_digest(&names);
    let mut shuffled = names.clone();
    shuffled.reverse();
    shuffled.extend(names.first().cloned());
    assert_eq!(
        revocation::source_digest(&shuffled),
        digest,
        "source digest depends on order"
    );
    let snap = revocation::snapshot(&entries, prev, now, digest.clone());
    // Versions never go backwards: one above a readable predecessor.
    if prev > 0 {
        assert_eq!(snap.version, prev.saturating_add(1));
    }
    assert!(snap.version >= 1);
    assert_eq!(snap.generated_at, now);
    assert_eq!(snap.source.as_deref(), Some(digest.as_str()));
    // Reference merge: per key, the latest `until` (and cut-off) wins; expired keys are dropped.
    let mut jti: HashMap<(&str, &str), i64> = HashMap::new();
    let mut subjects: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    let mut apikeys: HashMap<&str, i64> = HashMap::new();
    for e in &entries {
        match e {
            Entry::Jti(j) => {
                let u = jti.entry((&j.iss, &j.jti)).or_insert(j.until);
                *u = (*u).max(j.until);
            }
            Entry::Subject(s) => {
                let u = subjects
                    .entry((&s.iss, &s.sub))
                    .or_insert((s.before, s.until));
                *u = (u.0.max(s.before), u.1.max(s.until));
            }
            Entry::Apikey(a) => {
                let u = apikeys.entry(&a.hash).or_insert(a.until);
                *u = (*u).max(a.until);
            }
        }
    }
    for ((iss, id), until) in &jti {
        assert_eq!(snap.is_jti_revoked(iss, id), *until > now);
    }
    for ((iss, sub), (before, until)) in &subjects {
        assert_eq!(
            snap.subject_cut_off(iss, sub),
            (*until > now).then_some(*before)
        );
    }
    for (hash, until) in &apikeys {
        assert_eq!(snap.is_apikey_revoked(hash), *until > now);
    }
    let live = jti.values().filter(|u| **u > now).count()
        + subjects.values().filter(|(_, u)| *u > now).count()
        + apikeys.values().filter(|u| **u > now).count();
    assert_eq!(snap.len(), live);
    // The snapshot's JSON form (what the store writes) loads back to the same content.
    let loaded = RevocationList::from_json(&snap.to_json()).expect("a snapshot's JSON loads");
    assert_eq!(loaded.to_json(), snap.to_json());
    assert_eq!(loaded.source, snap.source);
    freshness(&loaded, now.saturating_add(i64::from(max_age)), max_age);
});

fn freshness(list: &RevocationList, now: i64, max_age: u16) {
    for max in [None, Some(u64::from(max_age)), Some(u64::MAX)] {
        // Stale when older than the bound, or dated further ahead than the clock skew (its age
        // cannot be known).
        let stale = max.is_some_and(|m| {
            let age = i128::from(now) - i128::from(list.generated_at);
            age > i128::from(m) || -age > i128::from(FUTURE_SKEW)
        });
        match list.check_fresh(now, max) {
            Ok(()) => assert!(!stale, "stale list passed as fresh"),
            Err(e) => {
                assert!(stale, "fresh list refused");
                assert_eq!(e.code(), ErrorCode::RevocationDataStale);
            }
        }
    }
}

/// `check_token` against the documented rule, for tokens named by the entry texts (read as
/// `iss|sub|jti|iat`).
fn check_tokens(list: &RevocationList, texts: &[String]) {
    for t in texts {
        let mut f = t.split('|');
        let (iss, sub, jti, iat) = (f.next(), f.next(), f.next(), f.next());
        let iat = iat.and_then(|i| i.parse::<i64>().ok());
        let v = Verified {
            kind: "jwt",
            header: Default::default(),
            claims: Default::default(),
            subject: sub.map(str::to_owned),
            issuer: iss.map(str::to_owned),
            scopes: vec![],
            token_id: jti.map(str::to_owned),
            expires_at: None,
            issued_at: iat,
            token_type: None,
            alg: None,
            kid: None,
        };
        let i = iss.unwrap_or("");
        let revoked = jti.is_some_and(|j| list.is_jti_revoked(i, j))
            || sub
                .and_then(|s| list.subject_cut_off(i, s))
                .is_some_and(|before| iat.is_none_or(|t| t < before));
        match list.check_token(&v) {
            Ok(()) => assert!(!revoked),
            Err(e) => {
                assert!(revoked);
                assert_eq!(e.code(), ErrorCode::TokenRevoked);
            }
        }
    }
}
