#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every algorithm: tokengate mints, tokengate verifies; tampering is caught.

mod common;
use common::*;
use serde_json::json;
use tokengate::{Alg, ErrorCode, KeySet, SigningKey};

#[test]
fn every_algorithm_round_trips_and_detects_tampering() {
    for alg in Alg::ALL {
        let k = key(alg);
        let v = validator(
            &k,
            json!({"issuer": "https://issuer.example", "audience": "api"}),
        );
        let token = k.mint(&claims()).unwrap();
        let out = v
            .validate(&token, NOW, &Default::default())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(out.alg, Some(alg.name()));
        assert_eq!(out.subject.as_deref(), Some("user-1"));

        let (h, rest) = token.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let other_header = b64(format!(
            r#"{{"alg":"{alg}","kid":"{}","typ":"at+jwt"}}"#,
            k.kid().unwrap()
        )
        .as_bytes());
        let mut c = claims();
        c.insert("sub".into(), "admin".into());
        let other_payload = b64(serde_json::to_string(&c).unwrap().as_bytes());
        let mut sig = tokengate::b64::decode(s).unwrap();
        sig[0] ^= 1;
        for (what, t) in [
            ("header", format!("{other_header}.{p}.{s}")),
            ("payload", format!("{h}.{other_payload}.{s}")),
            ("signature", format!("{h}.{p}.{}", b64(&sig))),
        ] {
            let e = code(&v, &t).unwrap_err();
            assert!(
                matches!(e, ErrorCode::SignatureInvalid | ErrorCode::TokenMalformed),
                "{alg} tampered {what}: {e:?}"
            );
        }
    }
}

#[test]
fn private_jwk_export_reimports_to_the_same_key() {
    for alg in Alg::ALL {
        let k = key(alg);
        let again =
            SigningKey::from_jwk(&serde_json::to_string(&k.private_jwk()).unwrap(), None).unwrap();
        assert_eq!(again.alg(), alg);
        assert_eq!(again.public_jwk(), k.public_jwk());
        let v = validator(&k, json!({}));
        assert_eq!(code(&v, &again.mint(&claims()).unwrap()), Ok(()), "{alg}");
    }
}

#[test]
fn generated_kid_is_the_rfc7638_thumbprint() {
    let k = SigningKey::generate(Alg::ES256, None, None).unwrap();
    let set = KeySet::from_json(&serde_json::to_string(&k.public_jwk()).unwrap()).unwrap();
    assert_eq!(Some(set.keys()[0].thumbprint()), k.kid());
    // RFC 7638 §3.1 example.
    let rfc = json!({"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
    let set = KeySet::from_json(&rfc.to_string()).unwrap();
    assert_eq!(
        set.keys()[0].thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn jws_with_arbitrary_payload_round_trips() {
    let k = key(Alg::EdDSA);
    let bytes = [0u8, 159, 146, 150, 255];
    let token = k.sign_jws(&bytes, &Default::default()).unwrap();
    let (_, payload) = tokengate::verify_jws(&token, &set_for(&k), &Default::default()).unwrap();
    assert_eq!(payload, bytes);
}

/// HS256 secrets on both sides of SHA-256's 64-byte block (a longer key is hashed first): a
/// verifier that keys HMAC once and reuses it accepts exactly the tags the signer made.
#[test]
fn hs256_secrets_around_the_block_size_verify_exactly_their_own_tags() {
    let policy =
        tokengate::Policy::from_json(r#"{"issuer": "https://issuer.example", "audience": "api"}"#)
            .unwrap();
    let mut others = Vec::new();
    for len in [32, 63, 64, 65, 128, 300] {
        let secret: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let jwk = json!({"kty": "oct", "k": b64(&secret), "alg": "HS256", "kid": "s"}).to_string();
        let k = SigningKey::from_jwk(&jwk, None).unwrap();
        let set = KeySet::from_json(&format!(r#"{{"keys": [{jwk}]}}"#)).unwrap();
        let v = tokengate::Validator::new(set, policy.clone());
        let token = k.mint(&claims()).unwrap();
        assert!(code(&v, &token).is_ok(), "{len}-byte secret");
        let (input, s) = token.rsplit_once('.').unwrap();
        let sig = tokengate::b64::decode(s).unwrap();
        let mut flipped = sig.clone();
        flipped[31] ^= 0x80;
        let mut longer = sig.clone();
        longer.push(0);
        for (what, tag) in [
            ("flipped", flipped),
            ("short", sig[..31].to_vec()),
            ("long", longer),
            ("empty", vec![]),
        ] {
            let e = code(&v, &format!("{input}.{}", b64(&tag))).unwrap_err();
            assert!(
                matches!(e, ErrorCode::SignatureInvalid | ErrorCode::TokenMalformed),
                "{len}-byte secret, {what} tag: {e:?}"
            );
        }
        others.push((v, token));
    }
    // Each secret verifies only its own tokens.
    for (i, (v, _)) in others.iter().enumerate() {
        for (j, (_, t)) in others.iter().enumerate() {
            assert_eq!(code(v, t).is_ok(), i == j, "secret {i}, token {j}");
        }
    }
}
