#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Published examples verify: RFC 7515 A.1–A.4, RFC 7520 §4.1–4.4, RFC 8037 A.4.

mod common;
use serde_json::{json, Value};
use tokengate::{verify_jws, Context, KeySet, Policy, SigningKey, Validator};

#[test]
fn rfc7515_and_rfc8037_examples_verify() {
    let doc = common::data("rfc.json");
    for v in doc["vectors"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let keys = KeySet::from_json(&v["key"].to_string()).unwrap();
        let jws = v["jws"].as_str().unwrap();
        if v["jwt"] == true {
            // The examples expired in 2011: pin `now` before their exp, and allow no-lifetime
            // checks beyond what the example carries (it has exp but no iat).
            let policy = Policy::from_json(r#"{"maxLifetime": 0}"#).unwrap();
            let out = Validator::new(keys, policy)
                .validate(jws, v["now"].as_i64().unwrap(), &Context::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(out.issuer.as_deref(), Some("joe"), "{name}");
            assert_eq!(out.claims["http://example.com/is_root"], json!(true));
        } else {
            let (_, payload) = verify_jws(jws, &keys, &Policy::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(payload, v["payload"].as_str().unwrap().as_bytes(), "{name}");
        }
    }
}

#[test]
fn rfc7515_a1_is_expired_at_real_time() {
    let doc = common::data("rfc.json");
    let v = &doc["vectors"][0];
    let keys = KeySet::from_json(&v["key"].to_string()).unwrap();
    let err = Validator::new(keys, Policy::default())
        .validate(v["jws"].as_str().unwrap(), common::NOW, &Context::default())
        .unwrap_err();
    assert_eq!(err.code().as_str(), "token_expired");
}

#[test]
fn rfc8037_a4_signing_is_deterministic() {
    // Ed25519 signatures are deterministic: minting the example payload reproduces it exactly.
    let doc = common::data("rfc.json");
    let v = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str().unwrap().contains("8037"))
        .unwrap();
    let key = SigningKey::from_jwk(&v["private"].to_string(), None).unwrap();
    let header: serde_json::Map<String, Value> = serde_json::Map::new();
    // The example header is {"alg":"EdDSA"} with no kid.
    assert!(key.kid().is_none());
    let out = key
        .sign_jws(v["payload"].as_str().unwrap().as_bytes(), &header)
        .unwrap();
    assert_eq!(out, v["jws"].as_str().unwrap());
}

#[test]
fn rfc7520_section4_examples_verify() {
    // RFC 7520 §4.1 (RS256, Figure 13), §4.2 (PS384, Figure 20), §4.3 (ES512, Figure 27) and
    // §4.4 (HS256, Figure 35), as carried by Wycheproof with the RFC's keys. The copy of the
    // §4.2 key pins alg PS256 (see tests/wycheproof.rs), so it is checked without that pin.
    let doc = common::wycheproof("json_web_signature_test.json");
    let mut seen = std::collections::BTreeSet::new();
    for g in doc["testGroups"].as_array().unwrap() {
        if g["comment"] != "rfc7520" {
            continue;
        }
        let mut jwk = g.get("public").unwrap_or(&g["private"]).clone();
        if jwk["alg"] == "PS256" {
            jwk.as_object_mut().unwrap().remove("alg");
        }
        let keys = KeySet::from_json(&jwk.to_string()).unwrap();
        for t in g["tests"].as_array().unwrap() {
            verify_jws(t["jws"].as_str().unwrap(), &keys, &Policy::default())
                .unwrap_or_else(|e| panic!("{}: {e}", t["comment"]));
            seen.insert(t["comment"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["Figure13", "Figure20", "Figure27", "Figure35"]
    );
}
