//! What only Node, the CLI and the page's test-token tab call: signing, key generation, API-key
//! issuance and rotation, and the writers of the KV data model.

use crate::edge::{required_record, revocation_js_error};
use crate::{js_error, now_secs, set, to_js};
use tokengate::{Error, ErrorCode};
use wasm_bindgen::prelude::*;

/// Checks one revocation entry; returns its canonical JSON.
#[wasm_bindgen(js_name = revocationEntry)]
pub fn revocation_entry(json: &str) -> Result<String, JsValue> {
    tokengate::revocation::Entry::parse(json)
        .map(|(_, c)| c)
        .map_err(|e| js_error(&e, ""))
}

/// Mints a compact JWS/JWT with a private JWK. `header` (JSON object text) adds members.
#[wasm_bindgen]
pub fn mint(private_jwk: &str, claims: &str, header: Option<String>) -> Result<String, JsValue> {
    let key = tokengate::SigningKey::from_jwk(private_jwk, None).map_err(|e| js_error(&e, ""))?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(claims).map_err(|e| {
            js_error(
                &Error::new(tokengate::ErrorCode::OptionsInvalid, format!("claims: {e}")),
                "",
            )
        })?;
    let mut h = serde_json::Map::new();
    h.insert("typ".into(), "JWT".into());
    if let Some(extra) = header {
        let extra: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&extra)
            .map_err(|e| {
                js_error(
                    &Error::new(tokengate::ErrorCode::OptionsInvalid, format!("header: {e}")),
                    "",
                )
            })?;
        h.extend(extra);
    }
    let payload = serde_json::to_vec(&claims).map_err(|e| JsValue::from_str(&e.to_string()))?;
    key.sign_jws(&payload, &h).map_err(|e| js_error(&e, ""))
}

/// The `exp` of a token minted at `now` for `ttl` seconds; refused (options_invalid) unless the
/// lifetime is whole, positive and ends within the NumericDate range.
#[wasm_bindgen(js_name = tokenExpiry)]
pub fn token_expiry(now: f64, ttl: f64) -> Result<f64, JsValue> {
    tokengate::token_expiry(now, ttl)
        .map(|e| e as f64)
        .map_err(|e| js_error(&e, ""))
}

/// A new private JWK (JSON text) for `alg`; `kid` defaults to the RFC 7638 thumbprint.
#[wasm_bindgen(js_name = generateKey)]
pub fn generate_key(
    alg: Option<String>,
    kid: Option<String>,
    rsa_bits: Option<u32>,
) -> Result<String, JsValue> {
    let a = match alg.as_deref() {
        None => Some(tokengate::SigningKey::DEFAULT_ALG),
        Some(name) => tokengate::Alg::from_name(name),
    };
    let a = a.ok_or_else(|| {
        let alg = alg.as_deref().unwrap_or_default();
        js_error(
            &Error::new(
                tokengate::ErrorCode::AlgNotAllowed,
                format!("unsupported alg \"{alg}\""),
            ),
            "",
        )
    })?;
    let key = tokengate::SigningKey::generate(a, kid, rsa_bits.map(|b| b as usize))
        .map_err(|e| js_error(&e, ""))?;
    serde_json::to_string(&key.private_jwk()).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// The public JWK (JSON text) of a private JWK; refused (key_invalid) for an HMAC key, which has
/// no public part.
#[wasm_bindgen(js_name = publicJwk)]
pub fn public_jwk(private_jwk: &str) -> Result<String, JsValue> {
    let key = tokengate::SigningKey::from_jwk(private_jwk, None).map_err(|e| js_error(&e, ""))?;
    let public = key.shareable_jwk().map_err(|e| js_error(&e, ""))?;
    serde_json::to_string(&public).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[wasm_bindgen(js_name = apiKeyGenerate)]
pub fn apikey_generate() -> Result<String, JsValue> {
    tokengate::apikey::generate().map_err(|e| js_error(&e, ""))
}

/// A new secret for an existing record: `{ raw, record }` (same id; the old secret stops working).
#[wasm_bindgen(js_name = apiKeyRotate)]
pub fn apikey_rotate(record: &str, now: f64) -> Result<JsValue, JsValue> {
    let mut r = required_record(record)?;
    let raw = r.rotate(now_secs(now)).map_err(|e| js_error(&e, ""))?;
    let o = js_sys::Object::new();
    set(&o, "raw", raw.into());
    set(&o, "record", to_js(&r)?);
    Ok(o.into())
}

/// The record revoked (or purged) at `now`.
#[wasm_bindgen(js_name = apiKeyRevoke)]
pub fn apikey_revoke(record: &str, now: f64, purge: bool) -> Result<JsValue, JsValue> {
    let mut r = required_record(record)?;
    r.revoke(now_secs(now), purge);
    to_js(&r)
}

#[wasm_bindgen(js_name = apiKeyCreate)]
pub fn apikey_create(
    name: &str,
    owner: &str,
    scopes: &str,
    ttl: Option<f64>,
    max_ttl: Option<f64>,
    now: f64,
    description: Option<String>,
) -> Result<JsValue, JsValue> {
    let spec = tokengate::apikey::NewKey {
        name: name.into(),
        owner: owner.into(),
        description: description.unwrap_or_default(),
        scopes: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        ttl: ttl.map(now_secs),
        max_ttl: max_ttl.map(now_secs),
    };
    let (raw, record) =
        tokengate::apikey::Record::create(spec, now_secs(now)).map_err(|e| js_error(&e, ""))?;
    let o = js_sys::Object::new();
    set(&o, "raw", raw.into());
    set(&o, "record", to_js(&record)?);
    Ok(o.into())
}

/// An issuer's time limits (its policy options as the worker passes them): `{leeway,
/// maxLifetime (null: no cap), keyGrace (null: never), mintTtl, mintTtlCap}`.
#[wasm_bindgen(js_name = issuerLifetimes)]
pub fn issuer_lifetimes(policy: &str) -> Result<JsValue, JsValue> {
    let l = lifetimes(policy)?;
    let o = js_sys::Object::new();
    let opt = |v: Option<i64>| v.map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64));
    set(&o, "leeway", (l.leeway as f64).into());
    set(&o, "maxLifetime", opt(l.max_lifetime));
    set(&o, "keyGrace", opt(l.key_grace()));
    set(&o, "mintTtl", (l.mint_ttl() as f64).into());
    set(&o, "mintTtlCap", (l.mint_ttl_cap() as f64).into());
    Ok(o.into())
}

/// A revocation entry's `until` under an issuer's policy; `what` is
/// `{"kind":"token","exp":…,"now":…}`, `{"kind":"jti","now":…}` or `{"kind":"subject","before":…}`.
#[wasm_bindgen(js_name = revocationUntil)]
pub fn revocation_until(policy: &str, what: &str) -> Result<f64, JsValue> {
    let l = lifetimes(policy)?;
    let what: tokengate::revocation::Revoked = serde_json::from_str(what).map_err(|e| {
        revocation_js_error(&Error::new(
            ErrorCode::RevocationInvalid,
            format!("revoked: {e}"),
        ))
    })?;
    Ok(l.until(what) as f64)
}

/// Checks that an API-key record fits in KV metadata in every state it can reach.
#[wasm_bindgen(js_name = apiKeyRecordFits)]
pub fn apikey_record_fits(record: &str) -> Result<(), JsValue> {
    let r = required_record(record)?;
    tokengate::revocation::check_apikey_record(&r).map_err(|e| revocation_js_error(&e))
}

/// The list metadata to store beside an audit record (JSON text in and out): the record when it
/// fits in KV metadata, else a summary that does.
#[wasm_bindgen(js_name = auditMetadata)]
pub fn audit_metadata(record: &str) -> Result<String, JsValue> {
    let r: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(record).map_err(|e| {
            js_error(
                &Error::new(ErrorCode::OptionsInvalid, format!("audit record: {e}")),
                "",
            )
        })?;
    Ok(tokengate::audit_metadata(&r).to_string())
}

fn lifetimes(policy: &str) -> Result<tokengate::revocation::Lifetimes, JsValue> {
    tokengate::revocation::Lifetimes::from_policy_json(policy).map_err(|e| revocation_js_error(&e))
}
