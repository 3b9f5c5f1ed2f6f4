#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! API keys: format, checksum, hashing, record lifecycle, validation result shape.

mod common;
use common::*;
use serde_json::json;
use tokengate::apikey::{self, NewKey, Record, State};
use tokengate::{Alg, Context, ErrorCode, RevocationList};

fn spec() -> NewKey {
    NewKey {
        name: "billing-service".into(),
        owner: "user-1".into(),
        scopes: vec!["billing:read".into()],
        ..Default::default()
    }
}

#[test]
fn format_is_prefix_body_checksum() {
    let k = apikey::generate().unwrap();
    assert!(k.starts_with("tgk_"));
    assert_eq!(k.len(), apikey::KEY_LEN);
    assert!(k[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(k, apikey::generate().unwrap());
    assert_eq!(apikey::parse(&k).unwrap(), apikey::hash(&k));
    assert_eq!(apikey::hash(&k).len(), 64);
}

#[test]
fn checksum_rejects_typos_before_any_lookup() {
    let k = apikey::generate().unwrap();
    let mut typo = k.clone().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    for bad in [
        typo.as_str(),
        &k[..k.len() - 1],
        "tgk_",
        "ghp_abc",
        &format!("{k}x"),
        &k.replace("tgk_", "tgk-"),
    ] {
        assert_eq!(
            apikey::parse(bad).unwrap_err().code(),
            ErrorCode::ApikeyMalformed,
            "{bad}"
        );
    }
}

#[test]
fn record_lifecycle() {
    let (raw, mut r) = Record::create(spec(), NOW).unwrap();
    assert_eq!(r.hash, apikey::hash(&raw));
    assert!(
        !serde_json::to_string(&r).unwrap().contains(&raw),
        "the raw key is never stored"
    );
    assert_eq!(r.expires_at, NOW + 90 * 86_400, "finite by default");
    let ok = Record::check(&raw, Some(&r), NOW).unwrap();
    assert_eq!(
        (ok.kind, ok.subject.as_deref(), ok.token_id.as_deref()),
        ("apikey", Some("user-1"), Some(r.id.as_str()))
    );
    assert_eq!(ok.scopes, ["billing:read"]);
    assert_eq!(ok.expires_at, Some(r.expires_at));

    let id = r.id.clone();
    let new_raw = r.rotate(NOW + 5).unwrap();
    assert_eq!(r.id, id);
    assert_eq!(
        Record::check(&raw, Some(&r), NOW + 6).unwrap_err().code(),
        ErrorCode::ApikeyUnknown,
        "old secret stops at once"
    );
    assert!(Record::check(&new_raw, Some(&r), NOW + 6).is_ok());

    assert_eq!(
        Record::check(&new_raw, Some(&r), r.expires_at)
            .unwrap_err()
            .code(),
        ErrorCode::ApikeyExpired
    );
    assert_eq!(
        Record::check(&new_raw, None, NOW).unwrap_err().code(),
        ErrorCode::ApikeyUnknown
    );
    r.revoke(NOW + 7, false);
    assert_eq!(
        Record::check(&new_raw, Some(&r), NOW + 8)
            .unwrap_err()
            .code(),
        ErrorCode::ApikeyRevoked
    );
    r.revoke(NOW + 9, true);
    assert_eq!((r.state, r.revoked_at), (State::Purged, Some(NOW + 7)));
    assert_eq!(
        Record::check(&new_raw, Some(&r), NOW + 10)
            .unwrap_err()
            .code(),
        ErrorCode::ApikeyPurged
    );
    // A key that is no longer active cannot get a new secret.
    assert_eq!(r.rotate(NOW).unwrap_err().code(), ErrorCode::ApikeyRevoked);
}

#[test]
fn expiry_has_a_ceiling() {
    let e = Record::create(
        NewKey {
            ttl: Some(400 * 86_400),
            ..spec()
        },
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::OptionsInvalid);
    assert!(Record::create(
        NewKey {
            ttl: Some(400 * 86_400),
            max_ttl: Some(500 * 86_400),
            ..spec()
        },
        NOW
    )
    .is_ok());
    assert_eq!(
        Record::create(
            NewKey {
                scopes: vec!["bad scope!".into()],
                ..spec()
            },
            NOW
        )
        .unwrap_err()
        .code(),
        ErrorCode::ScopeInvalid
    );
}

#[test]
fn validator_treats_api_keys_like_jwts() {
    let (raw, r) = Record::create(spec(), NOW).unwrap();
    let v = validator(&key(Alg::HS256), json!({"scope": "billing:read"}));
    let out = v
        .validate_apikey(&raw, Some(&r), NOW, &Context::default())
        .unwrap();
    assert_eq!(out.scopes, ["billing:read"]);
    let strict = validator(&key(Alg::HS256), json!({"scope": "billing:write"}));
    assert_eq!(
        strict
            .validate_apikey(&raw, Some(&r), NOW, &Context::default())
            .unwrap_err()
            .code(),
        ErrorCode::InsufficientScope
    );
    let mut l = RevocationList::new(1, NOW);
    l.revoke_apikey(&r.hash, r.expires_at);
    let ctx = Context {
        revocations: Some(&l),
        ..Default::default()
    };
    assert_eq!(
        v.validate_apikey(&raw, Some(&r), NOW, &ctx)
            .unwrap_err()
            .code(),
        ErrorCode::ApikeyRevoked
    );
}
