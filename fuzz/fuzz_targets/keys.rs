#![no_main]
//! JWKS / key sets (`keys` module) and private JWK import (`SigningKey::from_jwk`).
//! A loaded key re-imports from its public JWK with the same thumbprint, kid and algorithms; a
//! set's kid index is consistent; a signing key's tokens verify with its own verification key
//! and with nothing else. Input: a flag byte, then the JSON text.

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tokengate::{b64, verify_jws, Alg, ErrorCode, KeySet, Policy, SigningKey};
use tokengate::{Key, MAX_KEYS};
use tokengate_fuzz::{hs256, hs256_set, Input};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    if flags & 1 == 0 {
        key_sets(text);
    } else {
        signing_key(text, Alg::ALL.get(usize::from(flags >> 1)).copied());
    }
});

fn key_sets(text: &str) {
    let set = match KeySet::from_json(text) {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::KeyInvalid);
            return;
        }
        Ok(set) => set,
    };
    assert!(!set.is_empty() && set.len() <= MAX_KEYS);
    let mut kids = std::collections::HashSet::new();
    let mut secrets = 0;
    for (i, k) in set.keys().iter().enumerate() {
        if let Some(kid) = k.kid() {
            assert!(kids.insert(kid.to_owned()), "two keys with kid {kid:?}");
            assert!(std::ptr::eq(
                set.get(kid).expect("kid is indexed"),
                &set.keys()[i]
            ));
        }
        let algs = k.algs();
        assert!(!algs.is_empty(), "a loaded key verifies nothing");
        for a in &algs {
            assert!(k.allows(*a));
            assert_eq!(
                a.family(),
                k.family(),
                "{a} allowed for a key of another family"
            );
        }
        if let Some(a) = k.alg() {
            assert_eq!(algs, vec![a], "a key pinned to {a} allows more");
        }
        assert_eq!(
            b64::decode(k.thumbprint()).map(|t| t.len()),
            Ok(32),
            "thumbprint is not a base64url SHA-256"
        );
        let jwk = k.public_jwk();
        if jwk.contains_key("k") || jwk.contains_key("d") {
            panic!("a key's public form carries secret material");
        }
        if algs.iter().any(|a| a.hmac_len().is_some()) {
            secrets += 1;
            continue; // the public form of a secret has no key to re-import
        }
        let again = Key::from_jwk(jwk).expect("a key re-imports from its public JWK");
        assert_eq!(again.thumbprint(), k.thumbprint());
        assert_eq!(again.kid(), k.kid());
        assert_eq!(again.algs(), algs);
    }
    assert!(
        secrets == 0 || secrets == set.len(),
        "a set mixes secrets and public keys"
    );
    // The public form of the whole set loads back to the same keys.
    if secrets == 0 {
        let doc = json!({"keys": set.keys().iter().map(|k| Value::Object(k.public_jwk().clone())).collect::<Vec<_>>()});
        let again = KeySet::from_json(&doc.to_string()).expect("the public set loads");
        assert_eq!(again.len(), set.len());
        for (a, b) in again.keys().iter().zip(set.keys()) {
            assert_eq!(a.thumbprint(), b.thumbprint());
        }
    }
    // A token from the fixed HS256 key verifies only with a set that holds that key.
    let token = hs256().mint(&serde_json::Map::new()).expect("mints");
    if verify_jws(&token, &set, &Policy::default()).is_ok() {
        let fixed = hs256_set();
        let t = fixed.keys()[0].thumbprint();
        assert!(
            set.keys().iter().any(|k| k.thumbprint() == t),
            "verified with a foreign key"
        );
    }
}

fn signing_key(text: &str, alg: Option<Alg>) {
    // RSA private keys of absurd size only cost time (the CLI imports them once).
    if text.len() > 6000 {
        return;
    }
    let Ok(sk) = SigningKey::from_jwk(text, alg) else {
        return;
    };
    if let Some(a) = alg {
        assert_eq!(sk.alg(), a);
    }
    let key = sk
        .verification_key()
        .expect("a signing key has a verification key");
    assert!(key.allows(sk.alg()));
    let set = KeySet::from_keys(vec![key]).expect("one key is a set");
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), json!("JWT"));
    let token = sk.sign_jws(b"{\"sub\":\"fuzz\"}", &header).expect("signs");
    let (h, payload) =
        verify_jws(&token, &set, &Policy::default()).expect("own signature verifies");
    assert_eq!(payload, b"{\"sub\":\"fuzz\"}");
    assert_eq!(h.get("alg").and_then(Value::as_str), Some(sk.alg().name()));
    // Another key never verifies it.
    if sk.alg().hmac_len().is_some() {
        let other = hs256_set();
        if verify_jws(&token, other, &Policy::default()).is_ok() {
            assert_eq!(
                other.keys()[0].thumbprint(),
                set.keys()[0].thumbprint(),
                "verified with another key"
            );
        }
    }
    // The private JWK round-trips to a key with the same public part.
    let private = Value::Object(sk.private_jwk()).to_string();
    let again = SigningKey::from_jwk(&private, Some(sk.alg())).expect("private JWK re-imports");
    assert_eq!(again.public_jwk(), sk.public_jwk());
}
