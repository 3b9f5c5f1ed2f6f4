//! Remote key sets for the edge worker (and Node, browsers): the URL rule, discovery, and the KV
//! document as a handle parsed once. Every bound, time and verdict is the core's; the caller
//! fetches, reads and writes bytes. A fetch failure crosses as `{reason, message}`.

use crate::js_error;
use tokengate::remote::{
    self, Failure, FetchPolicy, KidWants, Reason, RemoteKeys, Response, SourceOptions,
};
use wasm_bindgen::prelude::*;

fn failure(f: &Failure) -> JsValue {
    let o = js_sys::Object::new();
    crate::set(&o, "reason", f.reason.as_str().into());
    crate::set(&o, "message", f.message.as_str().into());
    o.into()
}

fn policy(json: &str) -> Result<FetchPolicy, JsValue> {
    FetchPolicy::from_json(json).map_err(|e| {
        js_error(
            &tokengate::Error::new(
                tokengate::ErrorCode::OptionsInvalid,
                format!("remoteKeys: {e}"),
            ),
            "",
        )
    })
}

fn ms(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

/// The fetch bounds with every default (`{timeout, maxBytes, minMaxAge, maxMaxAge}`, JSON), or
/// `options_invalid`.
#[wasm_bindgen(js_name = remoteFetchPolicy)]
pub fn remote_fetch_policy(json: &str) -> Result<String, JsValue> {
    let p = policy(json)?;
    let mut problems = Vec::new();
    p.check(&mut problems);
    if !problems.is_empty() {
        return Err(js_error(
            &tokengate::Error::new(tokengate::ErrorCode::OptionsInvalid, problems.join("; ")),
            "",
        ));
    }
    serde_json::to_string(&p).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// A remote key source's options (`{issuer?, discovery?, jwksUri?, kidCooldown?, keysMaxStale?,
/// remoteKeys?}`, JSON) with every default, plus `name` (what its document is kept under), or
/// `options_invalid`.
#[wasm_bindgen(js_name = remoteSourceOptions)]
pub fn remote_source_options(json: &str) -> Result<String, JsValue> {
    let o = SourceOptions::parse(json).map_err(|e| js_error(&e, ""))?;
    let mut v = serde_json::to_value(&o).map_err(|e| JsValue::from_str(&e.to_string()))?;
    if let Some(m) = v.as_object_mut() {
        m.insert("name".into(), o.name().into());
    }
    Ok(v.to_string())
}

/// Throws `{reason: "url_not_allowed", message}` unless `url` may be fetched.
#[wasm_bindgen(js_name = remoteCheckUrl)]
pub fn remote_check_url(url: &str) -> Result<(), JsValue> {
    remote::check_url(url).map_err(|f| failure(&f))
}

/// The discovery document URLs to try, in order.
#[wasm_bindgen(js_name = remoteDiscoveryUrls)]
pub fn remote_discovery_urls(issuer: &str) -> Result<Vec<String>, JsValue> {
    remote::discovery_urls(issuer).map_err(|f| failure(&f))
}

/// The checked `jwks_uri` of a discovery document body for `issuer`.
#[wasm_bindgen(js_name = remoteDiscovery)]
pub fn remote_discovery(issuer: &str, body: &[u8], policy_json: &str) -> Result<String, JsValue> {
    remote::check_discovery(issuer, body, &policy(policy_json)?).map_err(|f| failure(&f))
}

/// Whether an unknown `kid` may force a refetch now (times in ms; 0: never).
#[wasm_bindgen(js_name = remoteMayForce)]
pub fn remote_may_force(last_forced: f64, now: f64, cooldown: u32) -> bool {
    remote::may_force(ms(last_forced), ms(now), cooldown)
}

/// How long a request that joins a key fetch in flight waits for it (ms), for a `remoteKeys`
/// whose fetches time out after `timeout` seconds.
#[wasm_bindgen(js_name = remoteJoinWait)]
pub fn remote_join_wait(timeout: u32) -> f64 {
    let policy = remote::FetchPolicy {
        timeout,
        ..remote::FetchPolicy::default()
    };
    policy.join_wait_ms() as f64
}

/// The KV key of an issuer's remote key set document.
#[wasm_bindgen(js_name = remoteKvKey)]
pub fn remote_kv_key(issuer: &str) -> String {
    remote::kv_key(issuer)
}

/// An issuer's remote key set document, parsed once, with this isolate's wanted refetches for
/// unknown `kid`s (kept across the documents it adopts, never stored).
#[wasm_bindgen]
pub struct RemoteKeySet {
    doc: RemoteKeys,
    wants: KidWants,
    /// The configured JWKS URL (`None`: discovery): every copy adopted must come from it.
    jwks_uri: Option<String>,
    /// Why the copy given was ignored (another source), for the caller to log.
    ignored: Option<String>,
    /// The store's (KV's) copy as this handle last read or wrote it (`None`: not known).
    stored: Option<RemoteKeys>,
}

#[wasm_bindgen]
impl RemoteKeySet {
    /// The stored document (`null`: none yet, an empty set) of an issuer whose keys come from
    /// `jwks_uri` (`null`: discovery); `data_unavailable` when invalid. A copy from another
    /// source is ignored (an empty set, `ignored` says why): it was written under another
    /// configuration, and its keys and URL are not this issuer's. Read as of `now` (ms; omitted:
    /// the clock now): a time after it is read as never (the core's `as_of`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        issuer: &str,
        text: Option<String>,
        jwks_uri: Option<String>,
        now: Option<f64>,
    ) -> Result<RemoteKeySet, JsValue> {
        let now = ms(now.unwrap_or_else(js_sys::Date::now));
        let (doc, ignored) = match text {
            None => (RemoteKeys::empty(issuer), None),
            Some(t) => match RemoteKeys::copy_for(&t, issuer, jwks_uri.as_deref())
                .map_err(|e| js_error(&e, ""))?
            {
                Ok(doc) => (doc.as_of(now), None),
                Err(why) => (RemoteKeys::empty(issuer), Some(why)),
            },
        };
        Ok(RemoteKeySet {
            doc,
            wants: KidWants::default(),
            jwks_uri,
            ignored,
            stored: None,
        })
    }

    /// Why the copy given to the constructor was ignored (null: adopted, or none given).
    #[wasm_bindgen(getter)]
    pub fn ignored(&self) -> Option<String> {
        self.ignored.clone()
    }

    /// `use`, `refresh`, `fetch` or `unavailable` at `now` (ms).
    pub fn action(&self, now: f64, cooldown: u32, keys_max_stale: u32) -> String {
        let a = self.doc.action(ms(now), cooldown, keys_max_stale);
        serde_json::to_value(a)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A refetch wanted for `token`, whose key no held key is: false within `cooldown` seconds
    /// of the last one (its `key_not_found` stands).
    pub fn want(&mut self, token: &str, now: f64, cooldown: u32) -> bool {
        self.wants.want(&self.doc, token, ms(now), cooldown)
    }

    /// Whether a refresh holding this copy goes on to the next source (KV after the Cache API,
    /// the provider after KV): a fetch or refresh is due, or a wanted `kid` is still missing.
    #[wasm_bindgen(js_name = fetchWanted)]
    pub fn fetch_wanted(&mut self, now: f64, cooldown: u32, keys_max_stale: u32) -> bool {
        self.doc
            .fetch_wanted(&mut self.wants, ms(now), cooldown, keys_max_stale)
    }

    /// What a fetch starting now answers; pass it to `answered` when the fetch is over.
    #[wasm_bindgen(getter)]
    pub fn ticket(&self) -> f64 {
        self.wants.ticket() as f64
    }

    /// A fetch that started with `ticket` is over (good or bad).
    pub fn answered(&mut self, ticket: f64) {
        self.wants.answered(ms(ticket));
    }

    /// Seconds a copy of the document is worth keeping (the Cache API's `max-age`; 0: none).
    #[wasm_bindgen(js_name = keepSeconds)]
    pub fn keep_seconds(&self, now: f64, keys_max_stale: u32) -> u32 {
        self.doc.keep_seconds(ms(now), keys_max_stale)
    }

    /// Records a fetch of `url`: `response` is `{status, etag?, cacheControl?}` (JSON). Returns
    /// the failure (`{reason, message}`) or null.
    #[wasm_bindgen(js_name = afterFetch)]
    pub fn after_fetch(
        &mut self,
        url: &str,
        response: &str,
        body: &[u8],
        now: f64,
        policy_json: &str,
    ) -> Result<JsValue, JsValue> {
        let p = policy(policy_json)?;
        let r = Response::from_json(response).map_err(|e| {
            failure(&Failure::new(
                Reason::HttpStatus,
                format!("response description: {e}"),
            ))
        })?;
        let doc = std::mem::replace(&mut self.doc, RemoteKeys::empty(""));
        let (doc, f) = doc.after_fetch(url, &r, body, ms(now), &p);
        self.doc = doc;
        Ok(f.as_ref().map_or(JsValue::NULL, failure))
    }

    /// Records a failure the caller saw (`timeout`, `network`, `too_large`, `not_json`,
    /// `url_not_allowed`, `discovery_invalid`, `issuer_mismatch`, …); unknown reasons are `network`.
    pub fn failed(&mut self, reason: &str, message: &str, now: f64) {
        let f = Failure::new(
            Reason::from_name(reason).unwrap_or(Reason::Network),
            message.chars().take(300).collect::<String>(),
        );
        let doc = std::mem::replace(&mut self.doc, RemoteKeys::empty(""));
        self.doc = doc.failed(&f, ms(now));
    }

    /// The discovered `jwks_uri` while it is not due for rediscovery (null: fetch discovery).
    pub fn discovered(&self, now: f64, policy_json: &str) -> Result<Option<String>, JsValue> {
        let p = policy(policy_json)?;
        Ok(self.doc.discovered(ms(now), &p).map(str::to_owned))
    }

    /// Records the `jwks_uri` a discovery document gave, once its keys are held (the core's
    /// rule): call it after discovery and again after fetching that URL.
    #[wasm_bindgen(js_name = afterDiscovery)]
    pub fn after_discovery(&mut self, uri: &str, now: f64) {
        let doc = std::mem::replace(&mut self.doc, RemoteKeys::empty(""));
        self.doc = doc.after_discovery(uri, ms(now));
    }

    /// `other` is what the store (KV) holds now, as just read (an ignored or empty copy: none);
    /// the core's `stored_after_read` decides which copy the write decision compares with.
    #[wasm_bindgen(js_name = storedIs)]
    pub fn stored_is(&mut self, other: &RemoteKeySet) {
        let read = other.ignored.is_none().then_some(&other.doc);
        self.stored =
            RemoteKeys::stored_after_read(self.stored.take(), read, self.jwks_uri.as_deref());
    }

    /// Whether the document held now (after a fetch) is written to the store at `now` (ms): the
    /// core's `must_persist` over the copy the store holds. False after `persisted` until the
    /// keys change or that copy ages.
    #[wasm_bindgen(js_name = mustPersist)]
    pub fn must_persist(&self, now: f64, cooldown: u32) -> bool {
        self.doc
            .must_persist_over(self.stored.as_ref(), ms(now), cooldown)
    }

    /// The document held now was written to the store.
    pub fn persisted(&mut self) {
        self.stored = Some(self.doc.clone());
    }

    /// Keeps whichever of this and `other` holds the newer fetch; true when `other` won.
    #[wasm_bindgen(js_name = adoptIfNewer)]
    pub fn adopt_if_newer(&mut self, other: &RemoteKeySet) -> bool {
        // Never a copy from a source other than this handle's.
        if other.doc.foreign(self.jwks_uri.as_deref()).is_some() {
            return false;
        }
        let mine = self.doc.clone();
        let newer = mine.clone().newer(other.doc.clone());
        let won = newer != mine;
        self.doc = newer;
        won
    }

    /// The `If-None-Match` value for a refetch of `url`, if any.
    #[wasm_bindgen(js_name = ifNoneMatch)]
    pub fn if_none_match(&self, url: &str) -> Option<String> {
        self.doc.if_none_match(url).map(str::to_owned)
    }

    /// `{"keys":[…]}` for a validator.
    pub fn jwks(&self) -> String {
        self.doc.jwks().to_string()
    }

    #[wasm_bindgen(getter, js_name = hasKeys)]
    pub fn has_keys(&self) -> bool {
        self.doc.has_keys()
    }

    #[wasm_bindgen(getter)]
    pub fn source(&self) -> Option<String> {
        self.doc.source.clone()
    }

    #[wasm_bindgen(getter, js_name = fetchedAt)]
    pub fn fetched_at(&self) -> f64 {
        self.doc.fetched_at_ms as f64
    }

    #[wasm_bindgen(getter, js_name = attemptedAt)]
    pub fn attempted_at(&self) -> f64 {
        self.doc.attempted_at_ms as f64
    }

    /// Health: `{source, keys, kids, skipped, ageSeconds, maxAge, nextRefreshSeconds, staleUntil,
    /// usable, action, lastError, fetches, failures}` (JSON).
    pub fn summary(&self, now: f64, cooldown: u32, keys_max_stale: u32) -> String {
        self.doc
            .summary(ms(now), cooldown, keys_max_stale)
            .to_string()
    }

    /// The document to store (JSON).
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.doc).unwrap_or_default()
    }
}
