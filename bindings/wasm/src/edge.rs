//! What an edge worker and the inspector call: validation, scopes, routes, revocation and
//! API-key checks, the checks of every KV document the worker reads, inspection.

use crate::{js_error, now_ms, now_secs, set, to_js};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use tokengate::cache::{Cache, TokenKey};
use tokengate::inspect;
use tokengate::{Error, ErrorCode};
use wasm_bindgen::prelude::*;

/// A parsed revocation list.
#[wasm_bindgen]
pub struct RevocationList(Rc<tokengate::RevocationList>);

#[wasm_bindgen]
impl RevocationList {
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<RevocationList, JsValue> {
        tokengate::RevocationList::from_json(json)
            .map(|l| RevocationList(Rc::new(l)))
            .map_err(|e| js_error(&e, ""))
    }
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.0.version as f64
    }
    #[wasm_bindgen(getter, js_name = generatedAt)]
    pub fn generated_at(&self) -> f64 {
        self.0.generated_at as f64
    }
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.0.len() as u32
    }
    /// Canonical JSON after dropping entries past their `until`.
    pub fn pruned(&self, now: f64) -> String {
        let mut l = (*self.0).clone();
        l.prune(now_secs(now));
        l.to_json()
    }
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        self.0.to_json()
    }
    /// Digest of the entries a compacted list was built from.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> Option<String> {
        self.0.source.clone()
    }
}

/// What to store for one revocation entry: `{value, metadata}` (JSON texts; see
/// `Entry::stored_form`).
#[wasm_bindgen(js_name = revocationStoredForm)]
pub fn revocation_stored_form(json: &str) -> Result<JsValue, JsValue> {
    let (e, _) = tokengate::revocation::Entry::parse(json).map_err(|e| revocation_js_error(&e))?;
    let (value, metadata) = e.stored_form();
    let o = js_sys::Object::new();
    set(&o, "value", value.into());
    set(&o, "metadata", metadata.into());
    Ok(o.into())
}

/// The names of the listed revocation entries (`[{name, entry}]`) past their `until` at `now`
/// (what a prune deletes, what `status` counts as expired). An entry the core cannot read is
/// never reported: it is not known to be over.
#[wasm_bindgen(js_name = revocationExpired)]
pub fn revocation_expired(entries: &str, now: f64) -> Result<Vec<String>, JsValue> {
    let named = entries_listed(entries)?;
    let now = now_secs(now);
    Ok(named
        .into_iter()
        .filter(|(_, entry)| {
            tokengate::revocation::Entry::parse(&entry.to_string())
                .is_ok_and(|(e, _)| e.expired(now))
        })
        .map(|(name, _)| name)
        .collect())
}

/// The key set a reader uses (`{doc, behind}`): the stored snapshot (JSON text or undefined)
/// when its `source` covers the listed `key:` entries (`[{name, entry}]`), else rebuilt from them.
#[wasm_bindgen(js_name = keySetEffective)]
pub fn key_set_effective(
    name: &str,
    stored: Option<String>,
    listed: &str,
    source: &str,
    now: f64,
) -> Result<JsValue, JsValue> {
    let listed = listed_entries(listed)?;
    let (doc, behind) = tokengate::KeySetDocument::effective(
        name,
        stored.as_deref(),
        &listed,
        source,
        now_secs(now),
    )
    .map_err(|e| js_error(&e, ""))?;
    to_js(&serde_json::json!({ "doc": doc, "behind": behind }))
}

/// The key-set snapshot of the listed `key:` entries, the version after `prevVersion`.
#[wasm_bindgen(js_name = keySetBuild)]
pub fn key_set_build(
    listed: &str,
    prev_version: f64,
    now: f64,
    source: &str,
) -> Result<JsValue, JsValue> {
    let listed = listed_entries(listed)?;
    let prev = if prev_version.is_finite() && prev_version > 0.0 {
        prev_version as u64
    } else {
        0
    };
    let doc = tokengate::KeySetDocument::build_at(&listed, prev, now_ms(now), source)
        .map_err(|e| js_error(&e, ""))?;
    to_js(&doc)
}

/// The keys of a hand-written key set no listed entry has (to store as entries first).
#[wasm_bindgen(js_name = keySetAdoptable)]
pub fn key_set_adoptable(name: &str, stored: &str, listed: &str) -> Result<JsValue, JsValue> {
    let listed = listed_entries(listed)?;
    let keys = tokengate::KeySetDocument::adoptable(name, stored, &listed)
        .map_err(|e| js_error(&e, ""))?;
    to_js(&keys)
}

/// The grants document from the listed `grant:` entries, keeping `prev`'s issuer-wide grants.
#[wasm_bindgen(js_name = grantsBuild)]
pub fn grants_build(
    listed: &str,
    prev: Option<String>,
    now: f64,
    source: &str,
) -> Result<JsValue, JsValue> {
    let listed = listed_entries(listed)?;
    let prev = prev
        .as_deref()
        .map(tokengate::Grants::from_json)
        .transpose()
        .map_err(|e| js_error(&e, ""))?;
    let doc = tokengate::Grants::build_at(&listed, prev.as_ref(), now_ms(now), source)
        .map_err(|e| js_error(&e, ""))?;
    to_js(&doc)
}

/// The tenant grants of a hand-written grants document no listed `grant:` entry holds (to
/// store as entries first); a document the core refuses is an error.
#[wasm_bindgen(js_name = grantsAdoptable)]
pub fn grants_adoptable(stored: &str, listed: &str) -> Result<JsValue, JsValue> {
    let listed = listed_entries(listed)?;
    let grants = tokengate::Grants::adoptable(stored, &listed).map_err(|e| js_error(&e, ""))?;
    to_js(&grants)
}

fn listed_entries(listed: &str) -> Result<Vec<tokengate::Listed>, JsValue> {
    tokengate::Listed::list_from_json(listed).map_err(|e| {
        js_error(
            &Error::new(ErrorCode::OptionsInvalid, format!("listed entries: {e}")),
            "",
        )
    })
}

/// The compacted list from every stored entry (`[{name, entry}]`), recording `source`.
#[wasm_bindgen(js_name = revocationSnapshot)]
pub fn revocation_snapshot(
    entries: &str,
    prev_version: f64,
    now: f64,
    source: String,
) -> Result<String, JsValue> {
    let named = entries_listed(entries)?;
    let mut parsed = Vec::with_capacity(named.len());
    for (name, entry) in named {
        let (e, _) = tokengate::revocation::Entry::parse(&entry.to_string()).map_err(|e| {
            let named = Error::new(e.code(), format!("{name}: {}", e.message()));
            js_error(&named, "")
        })?;
        parsed.push(e);
    }
    let prev = if prev_version.is_finite() && prev_version >= 0.0 {
        prev_version as u64
    } else {
        0
    };
    Ok(tokengate::revocation::snapshot_at(&parsed, prev, now_ms(now), source).to_json())
}

/// Checks granted scopes (space-separated; wildcards allowed) and returns them de-duplicated.
#[wasm_bindgen(js_name = parseGrantedScopes)]
pub fn parse_granted_scopes(text: &str) -> Result<Vec<String>, JsValue> {
    tokengate::ScopeSet::parse(text)
        .map(|s| s.as_slice().to_vec())
        .map_err(|e| js_error(&e, ""))
}

/// Order-insensitive digest of strings (what a snapshot's `source` records).
#[wasm_bindgen(js_name = sourceDigest)]
pub fn source_digest(names: Vec<String>) -> String {
    tokengate::revocation::source_digest(&names)
}

/// A parsed scope requirement.
#[wasm_bindgen]
pub struct ScopeRequirement(Rc<tokengate::Requirement>);

#[wasm_bindgen]
impl ScopeRequirement {
    #[wasm_bindgen(constructor)]
    pub fn new(expr: &str) -> Result<ScopeRequirement, JsValue> {
        tokengate::Requirement::parse(expr)
            .map(|r| ScopeRequirement(Rc::new(r)))
            .map_err(|e| js_error(&e, ""))
    }
    #[wasm_bindgen(getter)]
    pub fn text(&self) -> String {
        self.0.text().to_owned()
    }
    /// Checks space-separated granted scopes (optionally narrowed by grants); throws
    /// `insufficient_scope` naming what is missing.
    pub fn check(&self, granted: &str, grants: Option<String>) -> Result<(), JsValue> {
        let g = tokengate::ScopeSet::parse(granted).map_err(|e| js_error(&e, ""))?;
        let grants = grants
            .map(|s| tokengate::ScopeSet::parse(&s))
            .transpose()
            .map_err(|e| js_error(&e, ""))?;
        self.0
            .check(&g, grants.as_ref())
            .map_err(|e| js_error(&e, ""))
    }
}

/// Per-call inputs: revocation data, grants, a route's scope requirement.
#[wasm_bindgen]
#[derive(Default)]
pub struct Context {
    revocations: Option<Rc<tokengate::RevocationList>>,
    grants: Option<Rc<tokengate::ScopeSet>>,
    scope: Option<Rc<tokengate::Requirement>>,
}

#[wasm_bindgen]
impl Context {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Context {
        Context::default()
    }
    #[wasm_bindgen(js_name = setRevocations)]
    pub fn set_revocations(&mut self, list: &RevocationList) {
        self.revocations = Some(list.0.clone());
    }
    /// Space-separated granted scopes that narrow every token (seed 003's grants).
    #[wasm_bindgen(js_name = setGrants)]
    pub fn set_grants(&mut self, grants: &str) -> Result<(), JsValue> {
        self.grants = Some(Rc::new(
            tokengate::ScopeSet::parse(grants).map_err(|e| js_error(&e, ""))?,
        ));
        Ok(())
    }
    /// Narrows the grants already set (a per-call grant list never widens the validator's).
    #[wasm_bindgen(js_name = narrowGrants)]
    pub fn narrow_grants(&mut self, grants: &str) -> Result<(), JsValue> {
        let g = tokengate::ScopeSet::parse(grants).map_err(|e| js_error(&e, ""))?;
        let narrowed = match &self.grants {
            Some(prev) => prev.intersect(&g),
            None => g,
        };
        self.grants = Some(Rc::new(narrowed));
        Ok(())
    }
    #[wasm_bindgen(js_name = setScope)]
    pub fn set_scope(&mut self, req: &ScopeRequirement) {
        self.scope = Some(req.0.clone());
    }
    /// Copies another context's settings (a per-call context starts from the validator's).
    #[wasm_bindgen(js_name = copyFrom)]
    pub fn copy_from(&mut self, other: &Context) {
        self.revocations = other.revocations.clone();
        self.grants = other.grants.clone();
        self.scope = other.scope.clone();
    }
    #[wasm_bindgen(js_name = clearScope)]
    pub fn clear_scope(&mut self) {
        self.scope = None;
    }
    fn borrow(&self) -> tokengate::Context<'_> {
        tokengate::Context {
            revocations: self.revocations.as_deref(),
            grants: self.grants.as_deref(),
            scope: self.scope.as_deref(),
        }
    }
}

/// A token parsed and matched to candidate keys, awaiting a signature check.
#[wasm_bindgen]
pub struct Prepared {
    inner: tokengate::Prepared,
    /// Set when the validator caches: the outcome is remembered under it.
    key: Option<TokenKey>,
}

#[wasm_bindgen]
impl Prepared {
    #[wasm_bindgen(getter)]
    pub fn alg(&self) -> String {
        self.inner.alg.name().to_owned()
    }
    #[wasm_bindgen(getter)]
    pub fn candidates(&self) -> Vec<u32> {
        self.inner.candidates.iter().map(|i| *i as u32).collect()
    }
    #[wasm_bindgen(getter, js_name = signingInput)]
    pub fn signing_input(&self) -> Vec<u8> {
        self.inner.signing_input.as_bytes().to_vec()
    }
    #[wasm_bindgen(getter)]
    pub fn signature(&self) -> Vec<u8> {
        self.inner.signature.clone()
    }
}

/// Key set + policy, built once.
#[wasm_bindgen]
pub struct Validator {
    inner: tokengate::Validator,
    realm: String,
    empty: Context,
    cache: RefCell<Option<Cache>>,
    hot: RefCell<Hot>,
    /// The last refusal of a lean call (`begin`, `complete`, `finishOut`, `run`), for `takeError`.
    refused: RefCell<Option<JsValue>>,
}

/// What a lean call returns when it refused the token: the refusal waits in `takeError`. The
/// lean calls return one number rather than a `Result`, which wasm-bindgen would hand back
/// through memory: two more calls into the module and three reads per validation.
const REFUSED: i32 = -3;

/// Slots of `Hot::out` (js/core.js reads them by the same numbers).
const OUT_ALG: usize = 0;
const OUT_SIGNING_INPUT_LEN: usize = 1;
const OUT_SIG: usize = 2;
const OUT_SIG_LEN: usize = 3;
const OUT_CANDIDATES: usize = 4;
const OUT_CANDIDATES_LEN: usize = 5;
const OUT_HEADER: usize = 6;
const OUT_HEADER_LEN: usize = 7;
const OUT_CLAIMS: usize = 8;
const OUT_CLAIMS_LEN: usize = 9;
const OUT_SCOPES: usize = 10;
const OUT_SCOPES_LEN: usize = 11;
const OUT_SLOT: usize = 12;
const OUT_EXP: usize = 13;
const OUT_IAT: usize = 14;
/// 1 when header, claims and scopes are all ASCII (one decode serves the three).
const OUT_ASCII: usize = 15;
const OUT_LEN: usize = 16;

/// The lean path's state between its calls: numbers for JS, the token awaiting its signature
/// check, and the bytes `out` points at.
#[derive(Default)]
struct Hot {
    out: Box<[f64; OUT_LEN]>,
    pending: Option<Prepared>,
    candidates: Vec<u32>,
    /// Header JSON, claims JSON, then the space-separated scopes of the last result.
    text: Vec<u8>,
    header_len: usize,
}

fn put(out: &mut [f64; OUT_LEN], i: usize, v: f64) {
    if let Some(slot) = out.get_mut(i) {
        *slot = v;
    }
}

/// The index of `alg` in `algNames()`.
fn alg_index(alg: tokengate::Alg) -> f64 {
    tokengate::Alg::ALL
        .iter()
        .position(|&a| a == alg)
        .map_or(-1.0, |i| i as f64)
}

/// Every algorithm name, in the order `out`'s `alg` numbers them.
#[wasm_bindgen(js_name = algNames)]
pub fn alg_names() -> Vec<String> {
    tokengate::Alg::ALL
        .iter()
        .map(|a| a.name().to_owned())
        .collect()
}

/// The validator's token bytes as text (they come from `TextEncoder`, so always UTF-8).
fn utf8(token: &[u8]) -> tokengate::Result<&str> {
    std::str::from_utf8(token)
        .map_err(|_| Error::new(ErrorCode::TokenMalformed, "token: not UTF-8"))
}

#[wasm_bindgen]
impl Validator {
    /// `jwks`: a JWKS or single JWK (JSON text); `options`: the policy as a plain JS object
    /// (read with serde-wasm-bindgen; unknown fields are an error); `realm` for
    /// `WWW-Authenticate`.
    #[wasm_bindgen(constructor)]
    pub fn new(jwks: &str, options: JsValue, realm: Option<String>) -> Result<Validator, JsValue> {
        let realm = realm.as_deref().unwrap_or(tokengate::DEFAULT_REALM);
        let keys = tokengate::KeySet::from_json(jwks).map_err(|e| js_error(&e, realm))?;
        let policy = policy_from_js(options).map_err(|e| js_error(&e, realm))?;
        Ok(Validator {
            inner: tokengate::Validator::new(keys, policy),
            realm: realm.to_owned(),
            empty: Context::default(),
            cache: RefCell::new(None),
            hot: RefCell::new(Hot::default()),
            refused: RefCell::new(None),
        })
    }

    /// A validator for API keys only (no key set): revocations, `tokenTypes` and scopes apply.
    #[wasm_bindgen(js_name = forApiKeys)]
    pub fn for_api_keys(options: JsValue, realm: Option<String>) -> Result<Validator, JsValue> {
        let realm = realm.as_deref().unwrap_or(tokengate::DEFAULT_REALM);
        let policy = policy_from_js(options).map_err(|e| js_error(&e, realm))?;
        let inner = tokengate::Validator::for_api_keys(policy).map_err(|e| js_error(&e, realm))?;
        Ok(Validator {
            inner,
            realm: realm.to_owned(),
            empty: Context::default(),
            cache: RefCell::new(None),
            hot: RefCell::new(Hot::default()),
            refused: RefCell::new(None),
        })
    }

    /// Turns on the verified-token cache (bounded LRU; failures kept at most `failure_ttl` s);
    /// either left out takes the core's default.
    #[wasm_bindgen(js_name = enableCache)]
    pub fn enable_cache(&self, capacity: Option<u32>, failure_ttl: Option<f64>) {
        let capacity = capacity.map_or(tokengate::cache::DEFAULT_CAPACITY, |c| c as usize);
        let failure_ttl = failure_ttl.map_or(tokengate::cache::DEFAULT_FAILURE_TTL, now_secs);
        *self.cache.borrow_mut() = Some(Cache::new(capacity, failure_ttl));
    }

    /// `[entries, hits, misses]` of the cache (zeros without one).
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Vec<f64> {
        match &*self.cache.borrow() {
            Some(c) => vec![c.len() as f64, c.hits as f64, c.misses as f64],
            None => vec![0.0, 0.0, 0.0],
        }
    }

    fn err(&self, e: &Error) -> JsValue {
        js_error(e, &self.realm)
    }

    /// A success crosses as an object; with a cache it carries its `slot`, and a later hit
    /// returns just that slot number so the binding can hand back the object it already built.
    fn verified_js(
        &self,
        v: &tokengate::Verified,
        slot: Option<usize>,
    ) -> Result<JsValue, JsValue> {
        let o = to_js(v)?;
        if let Some(slot) = slot {
            set(o.unchecked_ref(), "slot", (slot as f64).into());
        }
        Ok(o)
    }

    /// Public key descriptions for importing into native crypto once:
    /// `[{index, kid, algs, jwk, native}]` (HMAC secrets never leave wasm: `native: false`).
    pub fn keys(&self) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct K<'a> {
            index: usize,
            kid: Option<&'a str>,
            algs: Vec<&'static str>,
            jwk: &'a serde_json::Map<String, serde_json::Value>,
            thumbprint: &'a str,
            /// Only the host's WebCrypto verifies it in this module (the edge build); its
            /// import is the key's last check (`refuseKey`).
            host: bool,
        }
        let list: Vec<K<'_>> = self
            .inner
            .keys
            .keys()
            .iter()
            .enumerate()
            .map(|(index, k)| K {
                index,
                kid: k.kid(),
                algs: k.algs().iter().map(|a| a.name()).collect(),
                jwk: k.public_jwk(),
                thumbprint: k.thumbprint(),
                host: k.host_verified(),
            })
            .collect();
        to_js(&list)
    }

    /// The host refused to import key `index` (a `host` key): the core skips it from now on.
    #[wasm_bindgen(js_name = refuseKey)]
    pub fn refuse_key(&mut self, index: u32, reason: &str) {
        self.inner.keys.refuse(index as usize, reason);
    }

    /// Keys that could not be loaded, with reasons.
    pub fn skipped(&self) -> Result<JsValue, JsValue> {
        let list: Vec<(Option<String>, String)> = self
            .inner
            .keys
            .skipped()
            .iter()
            .map(|s| (s.kid.clone(), s.reason.clone()))
            .collect();
        to_js(&list)
    }

    /// Full validation with the pure-wasm primitives.
    pub fn validate(
        &self,
        token: &str,
        now: f64,
        ctx: Option<Context>,
    ) -> Result<JsValue, JsValue> {
        let c = ctx.unwrap_or_default();
        self.validate_with(token, now, &c)
    }

    /// Same, with a reusable context handle (not consumed).
    #[wasm_bindgen(js_name = validateWith)]
    /// With a cache, a hit returns the slot number of the earlier result instead of an object.
    pub fn validate_with(&self, token: &str, now: f64, ctx: &Context) -> Result<JsValue, JsValue> {
        let (now, c) = (now_secs(now), ctx.borrow());
        if let Some(cache) = self.cache.borrow_mut().as_mut() {
            return match self.inner.validate_cached(cache, token, now, &c) {
                Ok(tokengate::Cached::Hit(slot)) => Ok((slot as f64).into()),
                Ok(tokengate::Cached::Fresh(slot, v)) => self.verified_js(&v, slot),
                Err(e) => Err(self.err(&e)),
            };
        }
        let v = self
            .inner
            .validate(token, now, &c)
            .map_err(|e| self.err(&e))?;
        self.verified_js(&v, None)
    }

    /// First half of a native-primitive validation: parse and choose candidate keys.
    pub fn prepare(&self, token: &str) -> Result<Prepared, JsValue> {
        self.inner
            .prepare(token)
            .map(|inner| Prepared { inner, key: None })
            .map_err(|e| self.err(&e))
    }

    /// `prepare` through the cache: a valid hit returns its slot number, otherwise a `Prepared`
    /// whose outcome `finish` will remember.
    #[wasm_bindgen(js_name = prepareWith)]
    pub fn prepare_with(&self, token: &str, now: f64, ctx: &Context) -> Result<JsValue, JsValue> {
        let mut guard = self.cache.borrow_mut();
        let Some(cache) = guard.as_mut() else {
            return self.prepare(token).map(JsValue::from);
        };
        let (now, c) = (now_secs(now), ctx.borrow());
        if let Some(slot) = self
            .inner
            .lookup(cache, token, now, &c)
            .map_err(|e| self.err(&e))?
        {
            return Ok((slot as f64).into());
        }
        match self.inner.prepare(token) {
            Ok(inner) => Ok(Prepared {
                inner,
                key: Some(tokengate::cache::key(token)),
            }
            .into()),
            Err(e) => {
                self.inner.remember(cache, token, &Err(e.clone()), now, &c);
                Err(self.err(&e))
            }
        }
    }

    /// Checks one candidate's signature in wasm (for keys the runtime cannot import, and HMAC).
    #[wasm_bindgen(js_name = verifyCandidate)]
    pub fn verify_candidate(&self, prepared: &Prepared, index: u32) -> bool {
        self.inner.verify_candidate(&prepared.inner, index as usize)
    }

    /// Second half: `verified` is the index of the key whose signature verified, or undefined.
    pub fn finish(
        &self,
        prepared: Prepared,
        verified: Option<u32>,
        now: f64,
        ctx: &Context,
    ) -> Result<JsValue, JsValue> {
        let (now, c) = (now_secs(now), ctx.borrow());
        let key = prepared.key;
        let result = self
            .inner
            .finish(prepared.inner, verified.map(|i| i as usize), now, &c);
        let slot = match (key, self.cache.borrow_mut().as_mut()) {
            (Some(key), Some(cache)) => self.inner.remember(cache, &key, &result, now, &c),
            _ => None,
        };
        let v = result.map_err(|e| self.err(&e))?;
        self.verified_js(&v, slot)
    }

    // The lean hot path (js/core.js `validate`): the token comes in as UTF-8 bytes the caller
    // encoded (`TextEncoder.encodeInto`, one copy), the answer goes out as numbers in `out`
    // (a Float64Array view on this module's memory, see `OUT`) and byte ranges of this module's
    // memory: the header and claims are the JSON texts the core parsed and accepted, parsed
    // again by the engine's `JSON.parse` instead of re-serialised here. Nothing is decided in
    // JS: every code path below ends in the core's `lookup`, `prepare`, `finish` or `validate`.

    /// The claim a token's type is read from (the result's `tokenType`).
    #[wasm_bindgen(getter, js_name = tokenTypeClaim)]
    pub fn token_type_claim(&self) -> String {
        self.inner.policy.token_type_claim.clone()
    }

    /// Where `out` lives in this module's memory (a byte offset; stable for the validator's life).
    #[wasm_bindgen(getter, js_name = outPtr)]
    pub fn out_ptr(&self) -> u32 {
        self.hot.borrow().out.as_ptr() as usize as u32
    }

    /// Cache hit → its slot (≥ 0). Otherwise the token is prepared and kept pending: `-1`, with
    /// `alg`, the signing input's length, the signature and the candidates in `out`; the caller
    /// checks a signature (`verifyPending` for keys it has no primitive for) and calls `complete`.
    /// A refusal: [`REFUSED`].
    pub fn begin(&self, token: &[u8], now: f64, ctx: &Context) -> i32 {
        let r = self.try_begin(token, now, ctx);
        self.settle(r)
    }

    /// The refusal the last lean call answered [`REFUSED`] for (undefined if none is waiting).
    #[wasm_bindgen(js_name = takeError)]
    pub fn take_error(&self) -> JsValue {
        self.refused
            .borrow_mut()
            .take()
            .unwrap_or(JsValue::UNDEFINED)
    }

    fn settle(&self, r: Result<i32, JsValue>) -> i32 {
        r.unwrap_or_else(|e| {
            *self.refused.borrow_mut() = Some(e);
            REFUSED
        })
    }

    fn try_begin(&self, token: &[u8], now: f64, ctx: &Context) -> Result<i32, JsValue> {
        let token = utf8(token).map_err(|e| self.err(&e))?;
        let (now, c) = (now_secs(now), ctx.borrow());
        let mut key = None;
        if let Some(cache) = self.cache.borrow_mut().as_mut() {
            if let Some(slot) = self
                .inner
                .lookup(cache, token, now, &c)
                .map_err(|e| self.err(&e))?
            {
                return Ok(slot as i32);
            }
            key = Some(tokengate::cache::key(token));
        }
        let prepared = match self.inner.prepare(token) {
            Ok(p) => p,
            Err(e) => {
                if let Some(cache) = self.cache.borrow_mut().as_mut() {
                    self.inner.remember(cache, token, &Err(e.clone()), now, &c);
                }
                return Err(self.err(&e));
            }
        };
        let mut hot = self.hot.borrow_mut();
        let hot = &mut *hot;
        hot.candidates.clear();
        hot.candidates
            .extend(prepared.candidates.iter().map(|&i| i as u32));
        let out = &mut hot.out;
        put(out, OUT_ALG, alg_index(prepared.alg));
        put(
            out,
            OUT_SIGNING_INPUT_LEN,
            prepared.signing_input.len() as f64,
        );
        put(out, OUT_SIG, prepared.signature.as_ptr() as usize as f64);
        put(out, OUT_SIG_LEN, prepared.signature.len() as f64);
        put(out, OUT_CANDIDATES, hot.candidates.as_ptr() as usize as f64);
        put(out, OUT_CANDIDATES_LEN, hot.candidates.len() as f64);
        hot.pending = Some(Prepared {
            inner: prepared,
            key,
        });
        Ok(-1)
    }

    /// The pending token as a handle of its own (for `finishOut` after an asynchronous
    /// signature check, while other calls use the pending slot).
    #[wasm_bindgen(js_name = takePending)]
    pub fn take_pending(&self) -> Option<Prepared> {
        self.hot.borrow_mut().pending.take()
    }

    /// The pending token's signature checked with candidate `index`'s key in wasm.
    #[wasm_bindgen(js_name = verifyPending)]
    pub fn verify_pending(&self, index: u32) -> bool {
        let hot = self.hot.borrow();
        hot.pending
            .as_ref()
            .is_some_and(|p| self.inner.verify_candidate(&p.inner, index as usize))
    }

    /// Finishes the pending token (`verified`: the candidate whose signature verified, or
    /// undefined) and writes the result to `out`: `0`, or [`REFUSED`].
    pub fn complete(&self, verified: Option<u32>, now: f64, ctx: &Context) -> i32 {
        let r = self.try_complete(verified, now, ctx);
        self.settle(r.map(|()| 0))
    }

    fn try_complete(&self, verified: Option<u32>, now: f64, ctx: &Context) -> Result<(), JsValue> {
        let pending = self.hot.borrow_mut().pending.take();
        let Some(prepared) = pending else {
            return Err(self.err(&Error::new(
                ErrorCode::SignatureInvalid,
                "no token is awaiting its signature check",
            )));
        };
        self.try_finish_out(prepared, verified, now, ctx)
    }

    /// `finish` for a `Prepared` from `prepareWith` (the async path), result in `out`: `0`, or
    /// [`REFUSED`].
    #[wasm_bindgen(js_name = finishOut)]
    pub fn finish_out(
        &self,
        prepared: Prepared,
        verified: Option<u32>,
        now: f64,
        ctx: &Context,
    ) -> i32 {
        let r = self.try_finish_out(prepared, verified, now, ctx);
        self.settle(r.map(|()| 0))
    }

    fn try_finish_out(
        &self,
        prepared: Prepared,
        verified: Option<u32>,
        now: f64,
        ctx: &Context,
    ) -> Result<(), JsValue> {
        let (now, c) = (now_secs(now), ctx.borrow());
        self.keep_texts(&prepared.inner);
        // Lean: the result crosses as numbers and the JSON texts kept above, so no claims map.
        let result = self
            .inner
            .finish_lean(prepared.inner, verified.map(|i| i as usize), now, &c);
        let slot = match (prepared.key, self.cache.borrow_mut().as_mut()) {
            (Some(key), Some(cache)) => self.inner.remember_accepted(cache, &key, &result, now, &c),
            _ => None,
        };
        let v = result.map_err(|e| self.err(&e))?;
        self.write_result(v.verified(), slot);
        Ok(())
    }

    /// Full validation in wasm (no host primitive): a cache hit's slot (≥ 0), `-2` with the
    /// result in `out`, or [`REFUSED`].
    pub fn run(&self, token: &[u8], now: f64, ctx: &Context) -> i32 {
        let r = self.try_run(token, now, ctx);
        self.settle(r)
    }

    fn try_run(&self, token: &[u8], now: f64, ctx: &Context) -> Result<i32, JsValue> {
        let token = utf8(token).map_err(|e| self.err(&e))?;
        let (now, c) = (now_secs(now), ctx.borrow());
        let mut guard = self.cache.borrow_mut();
        if let Some(cache) = guard.as_mut() {
            if let Some(slot) = self
                .inner
                .lookup(cache, token, now, &c)
                .map_err(|e| self.err(&e))?
            {
                return Ok(slot as i32);
            }
        }
        let result = match self.inner.prepare(token) {
            Ok(p) => {
                if let Err(e) = tokengate::host_needed(p.alg) {
                    // Not remembered: a refusal of this build's synchronous path, not of the token.
                    return Err(self.err(&e));
                }
                self.keep_texts(&p);
                self.inner.check_prepared_lean(p, now, &c)
            }
            Err(e) => Err(e),
        };
        let slot = guard
            .as_mut()
            .and_then(|cache| self.inner.remember_accepted(cache, token, &result, now, &c));
        let v = result.map_err(|e| self.err(&e))?;
        self.write_result(v.verified(), slot);
        Ok(-2)
    }

    /// Copies the accepted header and payload JSON where `write_result` points `out`.
    fn keep_texts(&self, p: &tokengate::Prepared) {
        let mut hot = self.hot.borrow_mut();
        hot.text.clear();
        hot.text.extend_from_slice(p.header_json());
        hot.header_len = hot.text.len();
        hot.text.extend_from_slice(p.payload_json());
    }

    fn write_result(&self, v: &tokengate::Verified, slot: Option<usize>) {
        let mut hot = self.hot.borrow_mut();
        let hot = &mut *hot;
        let texts = hot.text.len();
        // The scopes after grants, space-separated (a scope never contains a space).
        for (i, s) in v.scopes.iter().enumerate() {
            if i > 0 {
                hot.text.push(b' ');
            }
            hot.text.extend_from_slice(s.as_bytes());
        }
        let base = hot.text.as_ptr() as usize as f64;
        let out = &mut hot.out;
        put(out, OUT_HEADER, base);
        put(out, OUT_HEADER_LEN, hot.header_len as f64);
        put(out, OUT_CLAIMS, base + hot.header_len as f64);
        put(
            out,
            OUT_CLAIMS_LEN,
            texts.saturating_sub(hot.header_len) as f64,
        );
        put(out, OUT_SCOPES, base + texts as f64);
        put(
            out,
            OUT_SCOPES_LEN,
            hot.text.len().saturating_sub(texts) as f64,
        );
        put(out, OUT_SLOT, slot.map_or(-1.0, |s| s as f64));
        put(out, OUT_EXP, v.expires_at.map_or(f64::NAN, |t| t as f64));
        put(out, OUT_IAT, v.issued_at.map_or(f64::NAN, |t| t as f64));
        put(out, OUT_ASCII, if hot.text.is_ascii() { 1.0 } else { 0.0 });
        put(
            out,
            OUT_ALG,
            v.alg
                .and_then(tokengate::Alg::from_name)
                .map_or(-1.0, alg_index),
        );
    }

    /// Validates an API key against its record (JSON, or undefined when the store has none).
    #[wasm_bindgen(js_name = validateApiKey)]
    pub fn validate_apikey(
        &self,
        raw: &str,
        record: Option<String>,
        now: f64,
        ctx: &Context,
    ) -> Result<JsValue, JsValue> {
        let record = parse_record(record, &self.realm)?;
        let v = self
            .inner
            .validate_apikey(raw, record.as_ref(), now_secs(now), &ctx.borrow())
            .map_err(|e| js_error(&e, &self.realm))?;
        to_js(&v)
    }

    /// An empty context, for callers with none.
    #[wasm_bindgen(getter, js_name = emptyContext)]
    pub fn empty_context(&self) -> Context {
        Context {
            revocations: self.empty.revocations.clone(),
            grants: None,
            scope: None,
        }
    }
}

/// serde-wasm-bindgen follows objects without a depth limit, so a cyclic options object would
/// overflow the wasm stack (a trap, not an error): past 128 levels of arrays, Maps and objects,
/// the options are refused before they are read. (The core's reader refuses past 64.)
fn nested_too_deep(v: &JsValue, depth: u32) -> bool {
    if depth > 128 {
        return true;
    }
    let children = if js_sys::Array::is_array(v) {
        js_sys::Array::from(v)
    } else if let Some(map) = v.dyn_ref::<js_sys::Map>() {
        js_sys::Array::from(&map.values())
    } else if v.is_object() && !v.is_function() {
        js_sys::Object::values(v.unchecked_ref())
    } else {
        return false;
    };
    children.iter().any(|c| nested_too_deep(&c, depth + 1))
}

fn policy_from_js(options: JsValue) -> tokengate::Result<tokengate::Policy> {
    if options.is_undefined() || options.is_null() {
        return tokengate::Policy::from_input(tokengate::PolicyInput::default());
    }
    // Through a JSON value: serde-wasm-bindgen reads only the struct's known fields, which
    // would let a misspelt option pass silently; serde_json applies `deny_unknown_fields`.
    let invalid = |e: String| {
        Error::new(
            tokengate::ErrorCode::OptionsInvalid,
            format!("options: {e}"),
        )
    };
    if nested_too_deep(&options, 0) {
        return Err(invalid("recursion limit exceeded".into()));
    }
    let value: serde_json::Value =
        serde_wasm_bindgen::from_value(options).map_err(|e| invalid(e.to_string()))?;
    // Back to text for the options parser the module has anyway (`Policy::from_json`, for the
    // worker's configuration): a second one over `serde_json::Value` was 12 KB of the edge
    // module.
    let input = tokengate::PolicyInput::from_json(&value.to_string())
        .map_err(|e| invalid(without_position(e)))?;
    tokengate::Policy::from_input(input)
}

/// A message without the " at line L column C" the JSON scanner appends: the text is ours, so
/// a position in it would only mislead.
fn without_position(message: String) -> String {
    let Some(at) = message.rfind(" at line ") else {
        return message;
    };
    let tail = message.get(at + " at line ".len()..).unwrap_or_default();
    let numbers = tail.split_once(" column ").is_some_and(|(l, c)| {
        !l.is_empty()
            && !c.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
    });
    match message.get(..at) {
        Some(head) if numbers => head.to_owned(),
        _ => message,
    }
}

/// Verifies a JWS with an arbitrary payload; returns `{header, payload}` (payload bytes).
#[wasm_bindgen(js_name = verifyJws)]
pub fn verify_jws(token: &str, jwks: &str, options: JsValue) -> Result<JsValue, JsValue> {
    let keys = tokengate::KeySet::from_json(jwks).map_err(|e| js_error(&e, ""))?;
    let policy = policy_from_js(options).map_err(|e| js_error(&e, ""))?;
    let (header, payload) =
        tokengate::verify_jws(token, &keys, &policy).map_err(|e| js_error(&e, ""))?;
    let o = js_sys::Object::new();
    set(&o, "header", to_js(&header)?);
    set(
        &o,
        "payload",
        js_sys::Uint8Array::from(payload.as_slice()).into(),
    );
    Ok(o.into())
}

/// The unverified `iss` of a token (for routing to a per-issuer validator), or undefined.
#[wasm_bindgen(js_name = peekIssuer)]
pub fn peek_issuer(token: &str) -> Option<String> {
    tokengate::jws::peek_issuer(token, &tokengate::Limits::default())
}

/// Unverified string claims (undefined when absent or not a string), e.g. a tenant claim that
/// picks the grants the core then applies.
#[wasm_bindgen(js_name = peekClaims)]
pub fn peek_claims(token: &str, names: Vec<String>) -> js_sys::Array {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    tokengate::jws::peek_claims(token, &refs, &tokengate::Limits::default())
        .into_iter()
        .map(|v| v.map_or(JsValue::UNDEFINED, JsValue::from))
        .collect()
}

/// Inspects any string (never throws).
#[wasm_bindgen]
pub fn inspect(text: &str, now: f64, refresh_threshold: Option<f64>) -> Result<JsValue, JsValue> {
    let mut opts = inspect::Options::at(now_secs(now));
    if let Some(t) = refresh_threshold {
        opts.refresh_threshold = now_secs(t);
    }
    to_js(&inspect::inspect(text, &opts))
}

/// Every lint inspection can report: `[{code, severity, advice, reference}]`.
#[wasm_bindgen(js_name = lintCatalog)]
pub fn lint_catalog() -> Result<JsValue, JsValue> {
    let list: Vec<serde_json::Value> = inspect::LINTS
        .iter()
        .map(|(code, severity, advice, reference)| {
            serde_json::json!({ "code": code, "severity": severity, "advice": advice, "reference": reference })
        })
        .collect();
    to_js(&list)
}

#[wasm_bindgen(js_name = apiKeyHash)]
pub fn apikey_hash(raw: &str) -> String {
    tokengate::apikey::hash(raw)
}

/// Checks format and checksum; returns the hash to look up.
/// Whether a credential is an API key (its prefix), to pick its validation path.
#[wasm_bindgen(js_name = apiKeyLooksLike)]
pub fn apikey_looks_like(text: &str) -> bool {
    tokengate::apikey::has_prefix(text)
}

#[wasm_bindgen(js_name = apiKeyParse)]
pub fn apikey_parse(raw: &str) -> Result<String, JsValue> {
    tokengate::apikey::parse(raw).map_err(|e| js_error(&e, ""))
}

/// Checks an API key against its record (JSON, or undefined) without a validator: format,
/// checksum, hash match, state and expiry. Returns the same shape as a validated JWT.
#[wasm_bindgen(js_name = apiKeyCheck)]
pub fn apikey_check(raw: &str, record: Option<String>, now: f64) -> Result<JsValue, JsValue> {
    let record = parse_record(record, "")?;
    let v = tokengate::apikey::Record::check(raw, record.as_ref(), now_secs(now))
        .map_err(|e| js_error(&e, ""))?;
    to_js(&v)
}

fn parse_record(
    record: Option<String>,
    realm: &str,
) -> Result<Option<tokengate::apikey::Record>, JsValue> {
    record
        .map(|r| tokengate::apikey::Record::from_json(&r))
        .transpose()
        .map_err(|e| js_error(&e, realm))
}

/// Creates a key record: `{raw, record}` (show `raw` once; store `record` by `record.hash`).
pub(crate) fn required_record(record: &str) -> Result<tokengate::apikey::Record, JsValue> {
    parse_record(Some(record.to_owned()), "")?
        .ok_or_else(|| js_error(&Error::new(ErrorCode::ApikeyUnknown, "no record"), ""))
}

/// The record KV holds under `name` (value and metadata as JSON texts), checked as one record
/// (`Record::stored`): its JSON text, or undefined when there is no value.
#[wasm_bindgen(js_name = apiKeyStoredRecord)]
pub fn apikey_stored_record(
    name: &str,
    value: Option<String>,
    metadata: Option<String>,
    realm: &str,
) -> Result<Option<String>, JsValue> {
    tokengate::apikey::Record::stored(name, value.as_deref(), metadata.as_deref())
        .map_err(|e| js_error(&e, realm))?
        .map(|r| serde_json::to_string(&r).map_err(|e| JsValue::from_str(&e.to_string())))
        .transpose()
}

/// active, expired, revoked or purged.
#[wasm_bindgen(js_name = apiKeyState)]
pub fn apikey_state(record: &str, now: f64) -> Result<String, JsValue> {
    Ok(required_record(record)?.status(now_secs(now)).to_owned())
}

/// A route table (the `protect`, `routes` and `allowUnicodePaths` fields of a worker
/// configuration), parsed once.
#[wasm_bindgen]
pub struct Router {
    inner: tokengate::Router,
    realm: String,
}

#[wasm_bindgen]
impl Router {
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, realm: Option<String>) -> Result<Router, JsValue> {
        let realm = realm.as_deref().unwrap_or(tokengate::DEFAULT_REALM);
        let inner = tokengate::Router::from_json(config).map_err(|e| js_error(&e, realm))?;
        Ok(Router {
            inner,
            realm: realm.to_owned(),
        })
    }

    /// `{action: "outside"|"anonymous"|"authenticate", path, rule?, scope?, tokenTypes?}` for a
    /// method and a request path (percent-encoded, no query); `path` is the canonical path to
    /// match and forward. Throws `path_invalid`, `method_not_allowed` (with `allow`) or
    /// `route_not_found`.
    pub fn decide(&self, method: &str, path: &str) -> Result<JsValue, JsValue> {
        use tokengate::Decision;
        let d = self
            .inner
            .decide(method, path)
            .map_err(|e| js_error(&e, &self.realm))?;
        let o = js_sys::Object::new();
        set(&o, "path", d.path().into());
        let method =
            tokengate::route::canonical_method(method).map_err(|e| js_error(&e, &self.realm))?;
        set(&o, "method", method.into());
        match d {
            Decision::Outside { .. } => set(&o, "action", "outside".into()),
            Decision::Anonymous { rule, .. } => {
                set(&o, "action", "anonymous".into());
                set(&o, "rule", (rule as u32).into());
            }
            Decision::Authenticate {
                rule,
                scope,
                token_types,
                ..
            } => {
                set(&o, "action", "authenticate".into());
                set(&o, "rule", (rule as u32).into());
                set(&o, "scope", scope.map_or(JsValue::NULL, JsValue::from));
                let types = token_types.map_or(JsValue::NULL, |t| {
                    t.into_iter()
                        .map(JsValue::from)
                        .collect::<js_sys::Array>()
                        .into()
                });
                set(&o, "tokenTypes", types);
            }
        }
        Ok(o.into())
    }
}

/// `[ttl, maxStale]` in seconds for the worker's cache of its own configuration document.
#[wasm_bindgen(js_name = configReloadBounds)]
pub fn config_reload_bounds() -> Vec<f64> {
    let (ttl, max_stale) = tokengate::Config::reload_bounds();
    vec![f64::from(ttl), f64::from(max_stale)]
}

/// What the worker does with its copy of a KV document read at `readAt` (ms; NaN or negative:
/// nothing held) at `now`: `"use"`, `"refresh"` (serve it, reload in the background) or `"read"`.
#[wasm_bindgen(js_name = reloadAction)]
pub fn reload_action(read_at: f64, now: f64, ttl: u32, max_stale: u32) -> String {
    let held = (read_at.is_finite() && read_at >= 0.0).then_some(read_at as u64);
    tokengate::reload(held, now.max(0.0) as u64, ttl, max_stale)
        .as_str()
        .to_owned()
}

/// The edge worker's configuration checked and completed with every default (JSON text in, JSON
/// text out); `options_invalid` names every problem.
#[wasm_bindgen(js_name = parseConfig)]
pub fn parse_config(text: &str) -> Result<String, JsValue> {
    let config = tokengate::Config::from_json(text).map_err(|e| js_error(&e, ""))?;
    serde_json::to_string(&config).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// The discovery document for an issuer tokengate mints for, listing the algorithms of its
/// published keys (a JWKS, JSON text); JSON text out.
#[wasm_bindgen(js_name = publishedDiscovery)]
pub fn published_discovery(issuer: &str, jwks_uri: &str, jwks: &str) -> Result<String, JsValue> {
    tokengate::published_discovery(issuer, jwks_uri, jwks).map_err(|e| js_error(&e, ""))
}

/// Whether a method may read the published keys (GET, HEAD); else `method_not_allowed` with `Allow`.
#[wasm_bindgen(js_name = publishedMethod)]
pub fn published_method(method: &str, realm: Option<String>) -> Result<(), JsValue> {
    tokengate::published_method(method).map_err(|e| js_error(&e, realm.as_deref().unwrap_or("")))
}

/// A stored signing-key entry checked (status, times, a public JWK with `kid`); JSON in, JSON out.
#[wasm_bindgen(js_name = keyEntry)]
pub fn key_entry(text: &str) -> Result<String, JsValue> {
    let e = tokengate::KeyEntry::from_json(text).map_err(|e| js_error(&e, ""))?;
    serde_json::to_string(&e).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// The lifecycle plan for stored key entries (JSON array) under a schedule (`{now, rotationDays,
/// maxActive, maxAge?}`) and an issuer's policy (`{leeway?, maxLifetime?}`), by `kid`.
#[wasm_bindgen(js_name = keyPlan)]
pub fn key_plan(keys: &str, schedule: &str, policy: &str) -> Result<JsValue, JsValue> {
    let keys = tokengate::KeyEntry::list_from_json(keys).map_err(|e| js_error(&e, ""))?;
    let schedule = tokengate::Schedule::from_json(schedule).map_err(|e| {
        js_error(
            &Error::new(ErrorCode::OptionsInvalid, format!("schedule: {e}")),
            "",
        )
    })?;
    let lifetimes =
        tokengate::revocation::Lifetimes::from_policy_json(policy).map_err(|e| js_error(&e, ""))?;
    to_js(&tokengate::Plan::new(&keys, &schedule, &lifetimes))
}

/// The grants document checked (JSON text, or null/undefined when KV has none: nothing narrowed).
#[wasm_bindgen(js_name = grantsDocument)]
pub fn grants_document(text: Option<String>) -> Result<String, JsValue> {
    let g = match text {
        None => tokengate::Grants::none(),
        Some(t) => tokengate::Grants::from_json(&t).map_err(|e| js_error(&e, ""))?,
    };
    serde_json::to_string(&g).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// The registered algorithm name a person meant (any case), or the text unchanged when none
/// matches (the caller's later check then names it).
#[wasm_bindgen(js_name = algName)]
pub fn alg_name(text: &str) -> String {
    tokengate::Alg::from_name_ignoring_case(text)
        .map_or_else(|| text.to_owned(), |a| a.name().to_owned())
}

/// An error code by its name; `options_invalid` for a name the core does not know.
fn error_code(name: &str, realm: &str) -> Result<ErrorCode, JsValue> {
    ErrorCode::from_name(name).ok_or_else(|| {
        js_error(
            &Error::new(ErrorCode::OptionsInvalid, "unknown error code"),
            realm,
        )
    })
}

/// A coded rejection for a request-level problem the binding found (e.g. `invalid_request` for
/// two credentials): the same object, status and `WWW-Authenticate` encoding as the core's own.
#[wasm_bindgen]
pub fn rejection(code: &str, message: &str, realm: Option<String>) -> Result<JsValue, JsValue> {
    let realm = realm.as_deref().unwrap_or(tokengate::DEFAULT_REALM);
    let code = error_code(code, realm)?;
    Ok(js_error(&Error::new(code, message), realm))
}

/// What a gate sends for an error (`code`, `message`) raised while deciding a request: nothing
/// (undefined) when it goes out as it is, else the 503 `data_unavailable` to send instead.
#[wasm_bindgen]
pub fn answered(code: &str, message: &str, realm: Option<String>) -> Result<JsValue, JsValue> {
    let realm = realm.as_deref().unwrap_or(tokengate::DEFAULT_REALM);
    let code = error_code(code, realm)?;
    let e = Error::new(code, message);
    let sent = e.answered();
    Ok(if sent == e {
        JsValue::UNDEFINED
    } else {
        js_error(&sent, realm)
    })
}

/// The RFC 6750 §3.1 challenge for a request with no credential: `Bearer realm="…"`, no `error`.
#[wasm_bindgen(js_name = bareChallenge)]
pub fn bare_challenge(realm: Option<String>) -> String {
    tokengate::bare_challenge(realm.as_deref().unwrap_or(tokengate::DEFAULT_REALM))
}

/// The longest token the core reads, in bytes (`Limits::default`): a longer one is refused
/// with `token_too_large` before any of it is decoded.
#[wasm_bindgen(js_name = maxTokenBytes)]
pub fn max_token_bytes() -> u32 {
    u32::try_from(tokengate::Limits::default().max_token_bytes).unwrap_or(u32::MAX)
}

/// `seconds` from now in the core's wording: "in 4 min 10 s", "4 min 10 s ago", "now".
#[wasm_bindgen(js_name = relativeTime)]
pub fn relative_time(seconds: f64) -> String {
    // `as` saturates (NaN is 0): any number a page passes is worded.
    tokengate::inspect::relative(seconds.round() as i64)
}

/// An expiry `seconds` from now in the core's wording: "expires in 54 min", "expired now",
/// "expired 3 min ago" (expired at 0, as an inspection's status).
#[wasm_bindgen(js_name = expiryText)]
pub fn expiry_text(seconds: f64) -> String {
    tokengate::inspect::expiry_text(seconds.round() as i64)
}

/// Every error code with status, OAuth error and description.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Result<JsValue, JsValue> {
    let list: Vec<(&str, u16, &str, &str)> = tokengate::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.status(), c.oauth_error(), c.description()))
        .collect();
    to_js(&list)
}

#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

pub(crate) fn revocation_js_error(e: &Error) -> JsValue {
    js_error(e, "")
}

/// Listed revocation entries (`[{name, entry}]`, JSON text), unread.
fn entries_listed(entries: &str) -> Result<Vec<(String, serde_json::Value)>, JsValue> {
    tokengate::revocation::named_from_json(entries).map_err(|e| {
        revocation_js_error(&Error::new(
            ErrorCode::RevocationInvalid,
            format!("entries: {e}"),
        ))
    })
}

fn named_entries(entries: &str) -> Result<Vec<tokengate::revocation::Entry>, JsValue> {
    entries_listed(entries)?
        .into_iter()
        .map(|(name, entry)| {
            tokengate::revocation::Entry::parse(&entry.to_string())
                .map(|(e, _)| e)
                .map_err(|e| {
                    revocation_js_error(&Error::new(e.code(), format!("{name}: {}", e.message())))
                })
        })
        .collect()
}

/// The list a reader enforces (`revocation::effective`): `{text, behind}`; `text` is the stored
/// snapshot itself when it is current.
#[wasm_bindgen(js_name = revocationEffective)]
pub fn revocation_effective(
    snapshot: &str,
    entries: &str,
    source: &str,
    now: f64,
) -> Result<JsValue, JsValue> {
    let parsed = named_entries(entries)?;
    let (list, behind) = tokengate::revocation::effective(snapshot, &parsed, source, now_secs(now))
        .map_err(|e| revocation_js_error(&e))?;
    let o = js_sys::Object::new();
    let text = if behind {
        list.to_json()
    } else {
        snapshot.to_owned()
    };
    set(&o, "text", text.into());
    set(&o, "behind", behind.into());
    Ok(o.into())
}

/// Items of a stored revocation document no entry covers (JSON array of entries).
#[wasm_bindgen(js_name = revocationUncovered)]
pub fn revocation_uncovered(doc: &str, entries: &str) -> Result<String, JsValue> {
    let parsed = named_entries(entries)?;
    let out =
        tokengate::revocation::uncovered(doc, &parsed).map_err(|e| revocation_js_error(&e))?;
    serde_json::to_string(&out).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// The version of the next snapshot of any document (`revocation::next_version_at`; `now` in
/// seconds, its fraction kept).
#[wasm_bindgen(js_name = snapshotVersion)]
pub fn snapshot_version(prev_version: f64, now: f64) -> f64 {
    let prev = if prev_version.is_finite() && prev_version >= 1.0 {
        prev_version as u64
    } else {
        0
    };
    tokengate::revocation::next_version_at(prev, now_ms(now)) as f64
}
