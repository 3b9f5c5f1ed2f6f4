//! The published documents built from KV entries: the key set and the grants document. What a
//! reader serves when the snapshot is behind its entries, what a hand-written document keeps, and
//! what is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};
use tokengate::{ErrorCode, Grants, KeySetDocument, Listed};

const NOW: i64 = 1_800_000_000;

fn jwk(kid: &str) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": kid})
}

fn key(kid: &str, created_at: i64) -> Listed {
    Listed {
        name: format!("key:jwks:main:{kid}"),
        entry: Some(json!({"status": "active", "created_at": created_at, "jwk": jwk(kid)})),
    }
}

fn kids(doc: &KeySetDocument) -> Vec<&str> {
    doc.keys.iter().map(|k| k.kid()).collect()
}

#[test]
fn a_key_set_is_built_oldest_first_with_a_new_version() {
    let listed = [key("b", 20), key("a", 20), key("c", 10)];
    let doc = KeySetDocument::build(&listed, 7, NOW, "digest").unwrap();
    assert_eq!(kids(&doc), ["c", "a", "b"]);
    assert_eq!(
        (doc.version, doc.generated_at, doc.source.as_deref()),
        (8, Some(NOW), Some("digest"))
    );
    // The first snapshot's version is a floor from the clock, so versions never go backwards.
    assert_eq!(
        KeySetDocument::build(&listed, 0, NOW, "d").unwrap().version,
        NOW as u64 * 1000
    );
}

#[test]
fn a_bad_entry_refuses_the_build_naming_it() {
    let private = Listed {
        name: "key:jwks:main:p".into(),
        entry: Some(
            json!({"status": "active", "created_at": 1, "jwk": {"kty": "oct", "k": "c2VjcmV0", "kid": "p"}}),
        ),
    };
    let e = KeySetDocument::build(&[key("a", 1), private], 0, NOW, "d").unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyInvalid);
    assert!(e.message().contains("key:jwks:main:p"), "{}", e.message());
    let empty = Listed {
        name: "key:jwks:main:x".into(),
        entry: None,
    };
    assert_eq!(
        KeySetDocument::build(&[empty], 0, NOW, "d")
            .unwrap_err()
            .code(),
        ErrorCode::KeyInvalid
    );
}

#[test]
fn a_reader_trusts_the_snapshot_only_when_it_covers_the_live_entries() {
    let listed = [key("a", 1), key("b", 2)];
    let snapshot = KeySetDocument::build(&listed, 3, NOW, "live").unwrap();
    let text = serde_json::to_string(&snapshot).unwrap();
    let (doc, behind) =
        KeySetDocument::effective("jwks:main", Some(&text), &listed, "live", NOW).unwrap();
    assert_eq!((doc, behind), (snapshot.clone(), false));
    // Key b's entry was removed after the snapshot: it is not served.
    let (doc, behind) =
        KeySetDocument::effective("jwks:main", Some(&text), &listed[..1], "newer", NOW).unwrap();
    assert_eq!(
        (kids(&doc), behind, doc.version),
        (vec!["a"], true, snapshot.version)
    );
    // No snapshot yet: the entries alone.
    let (doc, behind) = KeySetDocument::effective("jwks:main", None, &listed, "live", NOW).unwrap();
    assert_eq!((kids(&doc), behind, doc.version), (vec!["a", "b"], true, 0));
}

#[test]
fn a_hand_written_key_set_keeps_its_keys_until_they_are_adopted() {
    let hand = json!({"schema": 1, "keys": [{"jwk": jwk("h")}, {"status": "retired", "created_at": 5, "retired_at": 6, "jwk": jwk("a")}]}).to_string();
    let listed = [key("a", 1)];
    let (doc, behind) =
        KeySetDocument::effective("jwks:main", Some(&hand), &listed, "live", NOW).unwrap();
    assert!(behind);
    assert_eq!(kids(&doc), ["h", "a"]);
    // The entry for "a" wins over the hand-written copy; "h" is active, created at 0.
    assert_eq!((doc.keys[1].created_at, doc.keys[0].created_at), (1, 0));
    let adopt = KeySetDocument::adoptable("jwks:main", &hand, &listed).unwrap();
    assert_eq!(adopt.iter().map(|k| k.kid()).collect::<Vec<_>>(), ["h"]);
    // A compacted document (with source) is never adopted back.
    let compacted =
        serde_json::to_string(&KeySetDocument::build(&[key("z", 1)], 0, NOW, "s").unwrap())
            .unwrap();
    assert!(KeySetDocument::adoptable("jwks:main", &compacted, &[])
        .unwrap()
        .is_empty());
}

#[test]
fn a_stored_key_set_the_core_cannot_read_is_refused_with_one_code() {
    let cases = [
        json!({"schema": 2, "keys": []}),
        json!({"schema": 1}),
        json!({"schema": 1, "keys": {}}),
        json!({"schema": 1, "keys": [{"jwk": {"kty": "OKP"}}]}),
        json!({"schema": 1, "keys": [{"jwk": jwk("a")}, {"jwk": jwk("a")}]}),
        json!({"schema": 1, "keys": [{"jwk": {"kty": "EC", "d": "x", "kid": "k"}}]}),
        json!({"schema": 1, "keys": [{"status": "revoked", "jwk": jwk("a")}]}),
        json!({"schema": 1, "keys": [], "extra": true}),
        json!([]),
    ];
    for c in cases {
        let e =
            KeySetDocument::effective("jwks:main", Some(&c.to_string()), &[key("a", 1)], "s", NOW)
                .unwrap_err();
        assert_eq!(e.code(), ErrorCode::KeyInvalid, "{c}");
    }
    let missing = KeySetDocument::effective("jwks:main", None, &[], "s", NOW).unwrap_err();
    assert_eq!(missing.code(), ErrorCode::KeyInvalid);
    assert!(missing.message().contains("missing"));
}

fn grant(tenant: &str, module: &str, scope: &str) -> Listed {
    Listed {
        name: format!("grant:{tenant}/{module}/{scope}"),
        entry: Some(json!({"tenant": tenant, "module": module, "scope": scope})),
    }
}

#[test]
fn the_grants_document_is_built_from_its_entries_keeping_issuer_grants() {
    let prev = Grants::from_json(r#"{"schema":1,"version":4,"issuers":{"https://iss":"users:*"}}"#)
        .unwrap();
    let listed = [
        grant("acme", "music", "users:write"),
        grant("acme", "music", "users:read"),
        grant("acme", "music", "users:read"),
        grant("beta", "video", "billing:read"),
    ];
    let g = Grants::build(&listed, Some(&prev), NOW, "digest").unwrap();
    assert_eq!(g.tenants["acme"]["music"], ["users:read", "users:write"]);
    assert_eq!(g.tenants["beta"]["video"], ["billing:read"]);
    assert_eq!(g.issuers["https://iss"], "users:*");
    assert_eq!((g.version, g.source.as_deref()), (5, Some("digest")));
    // The result reads back as a valid document.
    assert_eq!(
        Grants::from_json(&serde_json::to_string(&g).unwrap()).unwrap(),
        g
    );
}

#[test]
fn a_bad_grant_entry_refuses_the_build_naming_it() {
    let bad = [
        Listed {
            name: "grant:x".into(),
            entry: None,
        },
        Listed {
            name: "grant:x".into(),
            entry: Some(json!({"tenant": "acme", "module": "music"})),
        },
        Listed {
            name: "grant:x".into(),
            entry: Some(json!({"tenant": "", "module": "m", "scope": "s"})),
        },
        Listed {
            name: "grant:x".into(),
            entry: Some(json!({"tenant": "t", "module": "m", "scope": 3})),
        },
        grant("acme", "music", "bad scope!"),
    ];
    for b in bad {
        let e = Grants::build(std::slice::from_ref(&b), None, NOW, "d").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ScopeInvalid, "{:?}", b.entry);
        assert!(e.message().contains("grant"), "{}", e.message());
    }
}

#[test]
fn hand_written_tenant_grants_are_adoptable_a_refused_document_is_an_error() {
    let doc = r#"{"schema":1,"issuers":{"https://i":"users:*"},"tenants":{"acme":{"music":["users:read","billing:read"]}}}"#;
    let got = Grants::adoptable(doc, &[grant("acme", "music", "users:read")]).unwrap();
    let got: Vec<_> = got
        .iter()
        .map(|g| (g.tenant.as_str(), g.module.as_str(), g.scope.as_str()))
        .collect();
    assert_eq!(got, [("acme", "music", "billing:read")]);
    // A compacted document (with source) is never adopted back: a grant missing was revoked.
    let compacted = r#"{"schema":1,"source":"d","tenants":{"acme":{"music":["users:read"]}}}"#;
    assert!(Grants::adoptable(compacted, &[]).unwrap().is_empty());
    // What the worker refuses is an error, never "nothing to adopt".
    for bad in [
        r#"{"schema":1,"tenants":{"acme":{"music":["bad scope"]}}}"#,
        r#"{"schema":2,"tenants":{}}"#,
        r#"{"schema":1,"tenants":{},"extra":1}"#,
        r#"{"schema":1,"#,
    ] {
        let e = Grants::adoptable(bad, &[]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ScopeInvalid, "{bad}");
    }
}

#[test]
fn a_stored_api_key_record_is_one_record_value_and_metadata_alike() {
    use tokengate::apikey::{NewKey, Record};
    let (_, rec) = Record::create(
        NewKey {
            name: "n".into(),
            owner: "o".into(),
            scopes: vec!["users:read".into()],
            ..NewKey::default()
        },
        NOW,
    )
    .unwrap();
    let name = format!("apikey:{}", rec.hash);
    let text = serde_json::to_string(&rec).unwrap();
    assert_eq!(
        Record::stored(&name, Some(&text), Some(&text)).unwrap(),
        Some(rec.clone())
    );
    assert_eq!(
        Record::stored(&name, Some(&text), None).unwrap(),
        Some(rec.clone())
    );
    assert_eq!(Record::stored(&name, None, None).unwrap(), None);
    let mut revoked = rec.clone();
    revoked.revoke(NOW, false);
    let revoked = serde_json::to_string(&revoked).unwrap();
    let mut bad_scope: Value = serde_json::from_str(&text).unwrap();
    bad_scope["scopes"] = json!(["bad scope"]);
    let bad_scope = bad_scope.to_string();
    for (value, meta) in [
        (text.as_str(), Some(revoked.as_str())), // value active, metadata revoked
        (revoked.as_str(), Some(text.as_str())), // and the reverse
        (bad_scope.as_str(), None),
        ("{}", None),
    ] {
        let e = Record::stored(&name, Some(value), meta).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RecordInvalid, "{value} / {meta:?}");
    }
    // The hash must be the one its KV key is named by.
    let e = Record::stored("apikey:0000", Some(&text), Some(&text)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::RecordInvalid);
    assert!(e.message().contains("KV key name"), "{}", e.message());
}
