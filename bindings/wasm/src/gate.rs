//! The worker's choice of the configured issuer that checks a credential (shared with the
//! DevTools extension): the core's `Config::issuer_for`.

use crate::js_error;
use wasm_bindgen::prelude::*;

/// The index among `candidates` (issuer names, in order) of the issuer whose validator checks
/// `token`, or `issuer_not_allowed` (in `realm`; empty: the default) for an `iss` that is none
/// of them.
#[wasm_bindgen(js_name = chooseIssuer)]
pub fn choose_issuer(token: &str, candidates: Vec<String>, realm: &str) -> Result<u32, JsValue> {
    let i = tokengate::Config::issuer_for(token, &candidates).map_err(|e| js_error(&e, realm))?;
    u32::try_from(i).map_err(|_| JsValue::from_str("too many issuers"))
}
