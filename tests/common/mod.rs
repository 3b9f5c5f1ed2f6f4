#![allow(dead_code)]
//! Helpers shared by the integration tests.

use serde_json::{json, Map, Value};
use std::path::PathBuf;
use tokengate::{Alg, Context, ErrorCode, KeySet, Policy, SigningKey, Validator};

pub const NOW: i64 = 1_800_000_000;

/// `tests/data/wycheproof/NAME` (vendored with its licence).
pub fn wycheproof(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/wycheproof")
        .join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn data(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// Standard claims valid at NOW.
pub fn claims() -> Map<String, Value> {
    obj(
        json!({"iss": "https://issuer.example", "sub": "user-1", "aud": "api", "iat": NOW - 10, "exp": NOW + 600, "jti": "t-1", "scope": "users:read billing:read"}),
    )
}

pub fn key(alg: Alg) -> SigningKey {
    SigningKey::generate(alg, Some(format!("k-{alg}")), None).unwrap()
}

pub fn set_for(k: &SigningKey) -> KeySet {
    KeySet::from_json(&json!({"keys": [k.public_jwk()]}).to_string()).unwrap()
}

pub fn validator(k: &SigningKey, policy: Value) -> Validator {
    Validator::new(set_for(k), Policy::from_json(&policy.to_string()).unwrap())
}

pub fn code(v: &Validator, token: &str) -> Result<(), ErrorCode> {
    v.validate(token, NOW, &Context::default())
        .map(|_| ())
        .map_err(|e| e.code())
}

pub fn b64(bytes: &[u8]) -> String {
    tokengate::b64::encode(bytes)
}

/// A token from raw header and payload JSON text with the given signature part.
pub fn forge(header: &str, payload: &str, sig: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(payload.as_bytes()),
        sig
    )
}

/// Signs raw header and payload text with `k` (for malformed-but-signed tokens).
pub fn sign_raw(k: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = k.sign_bytes(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// Standard claims with changes applied (`null` removes a claim).
pub fn claims_with(changes: &Value) -> Map<String, Value> {
    let mut c = claims();
    for (name, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.remove(name);
        } else {
            c.insert(name.clone(), v.clone());
        }
    }
    c
}
