//! The remote key set document kept in KV (`remote:<issuer>`): an issuer's keys as last fetched
//! from its JWKS URL, when, for how long, with the validator for `If-None-Match` and the last
//! error. Every isolate starts from it instead of from the identity provider. Each fetch result
//! goes through [`RemoteKeys::after_fetch`]: a good JWKS replaces the keys; anything else keeps
//! the previous keys (their age still counting from their own fetch) and records why.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::error::{printable, Error, ErrorCode, Result};
use crate::jose::keys::KeySet;
use crate::policy::remote::{
    check_url, json_object, must_persist, Action, Failure, FetchPolicy, Reason, StoredCopy, Times,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// The document's schema version.
pub const SCHEMA: u32 = 1;
/// Longest `ETag` kept (a longer one is not sent back).
pub const MAX_ETAG_LEN: usize = 256;

/// The KV key an issuer's remote key set is kept under.
pub fn kv_key(issuer: &str) -> String {
    format!("remote:{issuer}")
}

/// A key that was in the fetched JWKS and is not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedKey {
    pub kid: Option<String>,
    pub reason: String,
}

/// The last failed fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// A stable [`Reason`] name.
    pub reason: String,
    pub message: String,
    pub at_ms: u64,
}

/// An HTTP answer, as the worker received it (only what the core needs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    /// The host saw a redirect but not its status (a browser's opaque answer to
    /// `redirect: "manual"`, status 0): a redirect all the same, never followed.
    pub redirected: bool,
}

impl Response {
    /// Reads `{status, etag?, cacheControl?, redirected?}` (JSON text).
    pub fn from_json(text: &str) -> std::result::Result<Response, String> {
        let raw = doc::parse(text)?;
        let fields = ["status", "etag", "cacheControl", "redirected"];
        let o = doc::object(&raw, "struct Response", &fields)?;
        Ok(Response {
            status: o.required("status", doc::uint16)?,
            etag: o.optional("etag", doc::string)?,
            cache_control: o.optional("cacheControl", doc::string)?,
            redirected: o.or("redirected", false, doc::boolean)?,
        })
    }
}

/// The stored document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteKeys {
    pub schema: u32,
    pub issuer: String,
    /// The JWKS URL the keys came from (null: never fetched).
    pub source: Option<String>,
    /// The public JWKs in use, as normalised by the core.
    pub keys: Vec<Map<String, Value>>,
    pub skipped: Vec<SkippedKey>,
    /// The last successful fetch (0: never).
    pub fetched_at_ms: u64,
    /// The clamped max-age of that fetch, seconds.
    pub max_age: u32,
    pub etag: Option<String>,
    /// The last attempt, good or bad (0: never): attempts are spaced by the cooldown.
    pub attempted_at_ms: u64,
    pub last_error: Option<LastError>,
    /// Fetch attempts and failures recorded in this document.
    pub fetches: u64,
    pub failures: u64,
    /// The `jwks_uri` discovery gave (null: not discovered, or keys from a configured URL).
    pub jwks_uri: Option<String>,
    /// When discovery gave it (0: never): it is used until `discoveryMaxAge` after, or until the
    /// JWKS at that URL fails; a copy never renews it.
    pub discovered_at_ms: u64,
}

impl RemoteKeys {
    const FIELDS: &'static [&'static str] = &[
        "schema",
        "issuer",
        "source",
        "keys",
        "skipped",
        "fetched_at_ms",
        "max_age",
        "etag",
        "attempted_at_ms",
        "last_error",
        "fetches",
        "failures",
        "jwks_uri",
        "discovered_at_ms",
    ];

    fn read(raw: &Raw<'_>) -> doc::Result<RemoteKeys> {
        let o = doc::object(raw, "struct RemoteKeys", Self::FIELDS)?;
        Ok(RemoteKeys {
            schema: o.required("schema", doc::uint32)?,
            issuer: o.required("issuer", doc::string)?,
            source: o.optional("source", doc::string)?,
            keys: o.required("keys", |r| doc::array(r, doc::json_object))?,
            skipped: o.required("skipped", |r| doc::array(r, SkippedKey::read))?,
            fetched_at_ms: o.required("fetched_at_ms", doc::uint64)?,
            max_age: o.required("max_age", doc::uint32)?,
            etag: o.optional("etag", doc::string)?,
            attempted_at_ms: o.required("attempted_at_ms", doc::uint64)?,
            last_error: o.optional("last_error", LastError::read)?,
            fetches: o.required("fetches", doc::uint64)?,
            failures: o.required("failures", doc::uint64)?,
            jwks_uri: o.optional("jwks_uri", doc::string)?,
            discovered_at_ms: o.or("discovered_at_ms", 0, doc::uint64)?,
        })
    }
}

impl SkippedKey {
    fn read(raw: &Raw<'_>) -> doc::Result<SkippedKey> {
        let o = doc::object(raw, "struct SkippedKey", &["kid", "reason"])?;
        Ok(SkippedKey {
            kid: o.optional("kid", doc::string)?,
            reason: o.required("reason", doc::string)?,
        })
    }
}

impl LastError {
    fn read(raw: &Raw<'_>) -> doc::Result<LastError> {
        let o = doc::object(raw, "struct LastError", &["reason", "message", "at_ms"])?;
        Ok(LastError {
            reason: o.required("reason", doc::string)?,
            message: o.required("message", doc::string)?,
            at_ms: o.required("at_ms", doc::uint64)?,
        })
    }
}

/// The public keys taken from a JWKS, and those skipped.
pub type Accepted = (Vec<Map<String, Value>>, Vec<SkippedKey>);

/// A JWKS fetched from an issuer, checked with the key rules of every key set, plus one: a
/// remote set holds public keys only (an HMAC secret or a private key is skipped and reported).
/// A document that is not a JWKS, names a `kid` twice or has no usable key is refused whole.
pub fn remote_jwks(body: &[u8], policy: &FetchPolicy) -> std::result::Result<Accepted, Failure> {
    let doc = json_object(body, policy)?;
    let Some(Value::Array(list)) = doc.get("keys") else {
        return Err(Failure::new(
            Reason::JwksInvalid,
            "not a JWKS: no \"keys\" array",
        ));
    };
    let mut skipped = Vec::new();
    let mut kept = Vec::new();
    for jwk in list {
        let Some(obj) = jwk.as_object() else {
            return Err(Failure::new(
                Reason::JwksInvalid,
                "JWKS \"keys\" must hold JSON objects",
            ));
        };
        if obj.get("kty").and_then(Value::as_str) == Some("oct") {
            skipped.push(SkippedKey {
                kid: obj.get("kid").and_then(Value::as_str).map(str::to_owned),
                reason: "a symmetric (oct) key: a remote key set may hold public keys only".into(),
            });
        } else {
            kept.push(jwk.clone());
        }
    }
    if kept.is_empty() {
        return Err(Failure::new(
            Reason::JwksInvalid,
            format!("JWKS has no usable public key ({} skipped)", skipped.len()),
        ));
    }
    let text = serde_json::json!({ "keys": kept }).to_string();
    let set =
        KeySet::from_json(&text).map_err(|e| Failure::new(Reason::JwksInvalid, e.message()))?;
    skipped.extend(set.skipped().iter().map(|s| SkippedKey {
        kid: s.kid.clone(),
        reason: s.reason.clone(),
    }));
    let keys = set.keys().iter().map(|k| k.public_jwk().clone()).collect();
    Ok((keys, skipped))
}

/// The unverified `kid` of a compact JWS, read as validation reads it (`None`: none, or the
/// token does not parse that far).
fn peek_kid(token: &str) -> Option<String> {
    let limits = crate::jose::token::Limits::default();
    let [header, _, _] = crate::jose::token::split(token, &limits).ok()?;
    let bytes = crate::codec::b64::decode(header).ok()?;
    let header = crate::codec::json::parse_object(&bytes, limits.max_json_depth).ok()?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// One isolate's forced refetches for tokens whose `kid` no held key has (not stored: each
/// isolate has its own). At most one is wanted per `kidCooldown`. A want is answered by a copy
/// that holds the kid (the Cache API's, KV's: another isolate fetched it), or else only by a
/// fetch that *started* after it: a refresh already in flight when the kid was seen may have
/// asked the provider before it rotated, and a copy without the kid says nothing about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KidWants {
    /// When the last want was registered (0: never): the cooldown counts from it.
    last_forced_ms: u64,
    /// Wants registered so far; a fetch's ticket is this count when it starts.
    registered: u64,
    /// The unanswered want: its kid (`None`: the token names none, or one already held, so
    /// only a new fetch answers it) and its number.
    pending: Option<(Option<String>, u64)>,
}

impl KidWants {
    /// A refetch for `token`, which no key of `doc` verified for want of its key, at `now_ms`.
    /// False within `cooldown` seconds of the last one: the token's `key_not_found` stands.
    pub fn want(&mut self, doc: &RemoteKeys, token: &str, now_ms: u64, cooldown: u32) -> bool {
        if !crate::policy::remote::may_force(self.last_forced_ms, now_ms, cooldown) {
            return false;
        }
        self.last_forced_ms = now_ms;
        self.registered = self.registered.saturating_add(1);
        let kid = peek_kid(token).filter(|k| !doc.holds_kid(k));
        self.pending = Some((kid, self.registered));
        true
    }

    /// What a fetch starting now answers: the wants registered so far.
    pub fn ticket(&self) -> u64 {
        self.registered
    }

    /// A fetch that started with `ticket` finished (good or bad): the wants before it are answered.
    pub fn answered(&mut self, ticket: u64) {
        if self.pending.as_ref().is_some_and(|(_, n)| *n <= ticket) {
            self.pending = None;
        }
    }

    /// Whether a want is still unanswered by `doc`; one whose kid `doc` holds is answered.
    pub fn pending(&mut self, doc: &RemoteKeys) -> bool {
        match &self.pending {
            Some((Some(kid), _)) if doc.holds_kid(kid) => {
                self.pending = None;
                false
            }
            p => p.is_some(),
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::DataUnavailable, message)
}

impl RemoteKeys {
    /// No keys yet.
    pub fn empty(issuer: &str) -> RemoteKeys {
        RemoteKeys {
            schema: SCHEMA,
            issuer: issuer.to_owned(),
            source: None,
            keys: Vec::new(),
            skipped: Vec::new(),
            fetched_at_ms: 0,
            max_age: 0,
            etag: None,
            attempted_at_ms: 0,
            last_error: None,
            fetches: 0,
            failures: 0,
            jwks_uri: None,
            discovered_at_ms: 0,
        }
    }

    /// Reads a stored document for `issuer`. Anything else than what [`RemoteKeys::after_fetch`]
    /// writes (another schema or issuer, keys the core refuses) is `data_unavailable`.
    pub fn from_json(text: &str, issuer: &str) -> Result<RemoteKeys> {
        let doc = doc::parse(text)
            .and_then(|raw| RemoteKeys::read(&raw))
            .map_err(|e| invalid(format!("remote key set document: {e}")))?;
        if doc.schema != SCHEMA {
            return Err(invalid(format!(
                "remote key set document: schema {} is not {SCHEMA}",
                doc.schema
            )));
        }
        if doc.issuer != issuer {
            return Err(invalid(format!(
                "remote key set document is for \"{}\", not \"{}\"",
                printable(&doc.issuer),
                printable(issuer)
            )));
        }
        if let Some(uri) = doc.jwks_uri.as_deref() {
            check_url(uri).map_err(|f| invalid(format!("remote key set document: {f}")))?;
        }
        if !doc.keys.is_empty() {
            let text = serde_json::json!({ "keys": doc.keys }).to_string();
            let set = KeySet::from_json(&text)
                .map_err(|e| invalid(format!("remote key set document: {}", e.message())))?;
            if set
                .keys()
                .iter()
                .any(|k| k.family() == crate::jose::alg::Family::Oct)
                || !set.skipped().is_empty()
            {
                return Err(invalid(
                    "remote key set document holds keys a remote set may not",
                ));
            }
        }
        Ok(doc)
    }

    /// Why a copy (KV's, the Cache API's, a saved document) was not fetched from the source
    /// configured now: `jwks_uri` (the configured JWKS URL), or `None` for discovery. A copy for a
    /// JWKS URL must name that URL as its source; a copy for discovery must hold the `jwks_uri` it
    /// discovered for this issuer and its keys must come from it. Anything else was written under
    /// another configuration (or before the operator changed it) and is not trusted at all, not
    /// even stale: `None` when the copy may be adopted (as is one that holds no key nor URL).
    pub fn foreign(&self, jwks_uri: Option<&str>) -> Option<String> {
        let src = self.source.as_deref().unwrap_or("no source");
        if self.source.is_none() && self.jwks_uri.is_none() && self.keys.is_empty() {
            // Only attempts and their last error: no key and no URL to take over.
            return None;
        }
        match jwks_uri {
            Some(want) if self.source.as_deref() == Some(want) && self.jwks_uri.is_none() => None,
            Some(want) => Some(format!(
                "copy of \"{}\" came from \"{}\", not the configured jwksUri \"{}\"",
                printable(&self.issuer),
                printable(src),
                printable(want)
            )),
            None => match self.jwks_uri.as_deref() {
                Some(d) if self.source.as_deref() == Some(d) => None,
                Some(d) => Some(format!(
                    "copy of \"{}\" came from \"{}\", not its discovered jwks_uri \"{}\"",
                    printable(&self.issuer),
                    printable(src),
                    printable(d)
                )),
                None => Some(format!(
                    "copy of \"{}\" came from \"{}\" without discovery, and this issuer uses discovery",
                    printable(&self.issuer),
                    printable(src)
                )),
            },
        }
    }

    /// A stored copy for `issuer` whose keys came from the source configured now (see
    /// [`RemoteKeys::foreign`]): `Ok(Err(why))` for a valid copy from another source (treated
    /// as no copy), `Err` for a document the core refuses.
    pub fn copy_for(
        text: &str,
        issuer: &str,
        jwks_uri: Option<&str>,
    ) -> Result<std::result::Result<RemoteKeys, String>> {
        let doc = RemoteKeys::from_json(text, issuer)?;
        Ok(match doc.foreign(jwks_uri) {
            None => Ok(doc),
            Some(why) => Err(why),
        })
    }

    /// A stored copy (KV's, the Cache API's) as read at `now_ms`: a time later than now, beyond
    /// the clock difference between isolates ([`FUTURE_SKEW`](crate::store::revocation::FUTURE_SKEW)),
    /// is no time the copy was written at, and is read as never (0). Whoever can write the store
    /// could otherwise date a copy years ahead: its keys would never age (a key the provider
    /// removed keeps verifying, no refresh is ever due), its discovered URL never be
    /// rediscovered, and it would win every "newer" comparison. Read as now instead, it would be
    /// fresh again at every read (each `cacheTtl`), so just as pinned. Read as never, its keys
    /// are not used, its URL is rediscovered and the provider is asked at once; its first good
    /// fetch replaces the copy in the store.
    pub fn as_of(mut self, now_ms: u64) -> RemoteKeys {
        let skew = u64::try_from(crate::store::revocation::FUTURE_SKEW).unwrap_or(0) * 1000;
        let latest = now_ms.saturating_add(skew);
        let never = |t: &mut u64| {
            if *t > latest {
                *t = 0;
            }
        };
        never(&mut self.fetched_at_ms);
        never(&mut self.attempted_at_ms);
        never(&mut self.discovered_at_ms);
        if let Some(e) = &mut self.last_error {
            never(&mut e.at_ms);
        }
        self
    }

    /// Whether any key is held.
    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty() && self.fetched_at_ms > 0
    }

    /// The key set for a validator: `{"keys":[…]}`.
    pub fn jwks(&self) -> Value {
        serde_json::json!({ "keys": self.keys })
    }

    pub fn times(&self, keys_max_stale: u32) -> Option<Times> {
        self.has_keys()
            .then(|| Times::new(self.fetched_at_ms, self.max_age, keys_max_stale))
    }

    /// What a request does now (see [`crate::policy::remote::action`]).
    pub fn action(&self, now_ms: u64, cooldown: u32, keys_max_stale: u32) -> Action {
        crate::policy::remote::action(
            self.times(keys_max_stale),
            self.attempted_at_ms,
            now_ms,
            cooldown,
        )
    }

    /// Whether a held key has this `kid`.
    pub fn holds_kid(&self, kid: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
    }

    /// Whether a refresh holding this copy (the newest it has read) goes on to the provider:
    /// a fetch or background refresh is due, or `wants` has an unanswered unknown `kid`. The
    /// same question decides whether a reader of the Cache API copy reads KV as well.
    pub fn fetch_wanted(
        &self,
        wants: &mut KidWants,
        now_ms: u64,
        cooldown: u32,
        keys_max_stale: u32,
    ) -> bool {
        matches!(
            self.action(now_ms, cooldown, keys_max_stale),
            Action::Fetch | Action::Refresh
        ) || wants.pending(self)
    }

    /// Seconds a copy of this document is worth keeping (the Cache API's `max-age`): until its
    /// keys are too old to use, counted from their fetch; 0 without keys or past that.
    pub fn keep_seconds(&self, now_ms: u64, keys_max_stale: u32) -> u32 {
        let Some(t) = self.times(keys_max_stale) else {
            return 0;
        };
        let ms = t.stale_until.saturating_sub(now_ms);
        u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
    }

    /// The `If-None-Match` value for a refetch of `url`: only for the URL the keys came from.
    pub fn if_none_match(&self, url: &str) -> Option<&str> {
        (self.has_keys() && self.source.as_deref() == Some(url))
            .then_some(self.etag.as_deref())
            .flatten()
    }

    /// The discovered `jwks_uri` while it is not due for rediscovery at `now_ms` (younger than
    /// `discoveryMaxAge`); `None`: fetch discovery first.
    pub fn discovered(&self, now_ms: u64, policy: &FetchPolicy) -> Option<&str> {
        let until = self
            .discovered_at_ms
            .saturating_add(u64::from(policy.discovery_max_age) * 1000);
        (self.discovered_at_ms > 0 && now_ms < until)
            .then_some(self.jwks_uri.as_deref())
            .flatten()
    }

    /// Records the `jwks_uri` a discovery document gave at `now_ms` (checked again: only a URL
    /// that may be fetched is kept), once its keys are held: no keys are held, or they came from
    /// it (its JWKS answered). Call it after discovery and again after fetching that URL. A
    /// document naming one URL with keys from another is no copy of this source (see
    /// [`RemoteKeys::foreign`]): no isolate could use its keys, not even stale, so while the new
    /// URL has not answered the document keeps naming the URL its keys came from.
    pub fn after_discovery(mut self, uri: &str, now_ms: u64) -> RemoteKeys {
        let held = !self.has_keys() || self.source.as_deref() == Some(uri);
        if held && check_url(uri).is_ok() {
            self.jwks_uri = Some(uri.to_owned());
            self.discovered_at_ms = now_ms;
        }
        self
    }

    /// Whichever of two documents holds the newer fetch (then the newer attempt): what a reader
    /// keeps when its own copy and KV's differ, so an older write never wins.
    pub fn newer(self, other: RemoteKeys) -> RemoteKeys {
        if (other.fetched_at_ms, other.attempted_at_ms) > (self.fetched_at_ms, self.attempted_at_ms)
        {
            other
        } else {
            self
        }
    }

    /// The store's (KV's) copy as a writer knows it after reading it: `known` is the copy it
    /// last wrote or read (`None`: not known), `read` what the read found (`None`: none, or one
    /// ignored as another source's), for a source configured as `jwks_uri` (`None`: discovery).
    /// A read copy from another source or without keys is no copy: KV is to be written. A read
    /// older than `known` is a stale read (KV is eventually consistent): `known` stays, so a
    /// stale read does not cause a rewrite. Ordered by the copies' own times, never the clock now.
    pub fn stored_after_read(
        known: Option<RemoteKeys>,
        read: Option<&RemoteKeys>,
        jwks_uri: Option<&str>,
    ) -> Option<RemoteKeys> {
        let read = read
            .filter(|r| r.foreign(jwks_uri).is_none() && r.has_keys())
            .cloned();
        match (known, read) {
            (Some(known), Some(read)) => Some(known.newer(read)),
            (_, read) => read,
        }
    }

    /// Whether this document, as held after a fetch, is written over `stored` (the store's copy
    /// as [`RemoteKeys::stored_after_read`] tracks it; `None`: no copy of this source). The same
    /// keys means the same keys and skipped keys from the same source and discovered URL; the
    /// last attempt failed when it is later than the last good fetch. The rest is
    /// [`must_persist`](crate::policy::remote::must_persist).
    pub fn must_persist_over(
        &self,
        stored: Option<&RemoteKeys>,
        now_ms: u64,
        cooldown: u32,
    ) -> bool {
        let stored = stored.map(|s| StoredCopy {
            same_keys: s.keys == self.keys
                && s.skipped == self.skipped
                && s.source == self.source
                && s.jwks_uri == self.jwks_uri,
            fetched_at_ms: s.fetched_at_ms,
            max_age: s.max_age,
            attempted_at_ms: s.attempted_at_ms,
        });
        let failed = self.attempted_at_ms > self.fetched_at_ms;
        must_persist(stored, failed, now_ms, cooldown)
    }

    /// A failed attempt at `now_ms`: the previous keys are kept, the error recorded.
    pub fn failed(mut self, failure: &Failure, now_ms: u64) -> RemoteKeys {
        self.attempted_at_ms = now_ms;
        self.fetches = self.fetches.saturating_add(1);
        self.failures = self.failures.saturating_add(1);
        self.last_error = Some(LastError {
            reason: failure.reason.as_str().into(),
            message: failure.message.clone(),
            at_ms: now_ms,
        });
        self
    }

    /// The document after fetching `url` (its response and body) at `now_ms`: new keys on a good
    /// 200, the same keys renewed on a 304 for the URL and ETag held, otherwise the previous keys
    /// with the reason recorded. Returns the document and the failure, if any.
    pub fn after_fetch(
        self,
        url: &str,
        response: &Response,
        body: &[u8],
        now_ms: u64,
        policy: &FetchPolicy,
    ) -> (RemoteKeys, Option<Failure>) {
        match self.judge(url, response, body, policy) {
            Err(f) => (self.failed(&f, now_ms), Some(f)),
            Ok(fetched) => {
                let mut doc = self;
                if let Some((keys, skipped)) = fetched {
                    doc.keys = keys;
                    doc.skipped = skipped;
                    doc.source = Some(url.to_owned());
                }
                doc.etag = response
                    .etag
                    .as_deref()
                    .filter(|e| {
                        e.len() <= MAX_ETAG_LEN && e.bytes().all(|b| (0x20..=0x7e).contains(&b))
                    })
                    .map(str::to_owned);
                doc.fetched_at_ms = now_ms;
                doc.attempted_at_ms = now_ms;
                doc.max_age = policy.max_age(response.cache_control.as_deref());
                doc.fetches = doc.fetches.saturating_add(1);
                doc.last_error = None;
                (doc, None)
            }
        }
    }

    /// `Some(keys)` for a new set, `None` for "not modified".
    fn judge(
        &self,
        url: &str,
        response: &Response,
        body: &[u8],
        policy: &FetchPolicy,
    ) -> std::result::Result<Option<Accepted>, Failure> {
        check_url(url)?;
        if response.redirected && !(300..=399).contains(&response.status) {
            return Err(Failure::new(
                Reason::Redirect,
                "a redirect (its status hidden by the browser): not followed",
            ));
        }
        match response.status {
            200 => remote_jwks(body, policy).map(Some),
            304 if self.if_none_match(url).is_some() => Ok(None),
            304 => Err(Failure::new(
                Reason::NotModifiedWithoutCopy,
                "304 Not Modified, but no copy of this key set is held",
            )),
            300..=399 => Err(Failure::new(
                Reason::Redirect,
                format!("HTTP {} redirect: not followed", response.status),
            )),
            s => Err(Failure::new(Reason::HttpStatus, format!("HTTP {s}"))),
        }
    }

    /// What health shows: source, key count, age, next refresh, last error (seconds).
    pub fn summary(&self, now_ms: u64, cooldown: u32, keys_max_stale: u32) -> Value {
        let secs = |ms: u64| ms / 1000;
        let times = self.times(keys_max_stale);
        serde_json::json!({
            "source": self.source,
            "keys": self.keys.len(),
            "kids": self.keys.iter().map(|k| k.get("kid").cloned().unwrap_or(Value::Null)).collect::<Vec<_>>(),
            "skipped": self.skipped,
            "ageSeconds": times.map(|_| secs(now_ms.saturating_sub(self.fetched_at_ms))),
            "maxAge": times.map(|_| self.max_age),
            "nextRefreshSeconds": times.map(|t| secs(t.refresh_at.saturating_sub(now_ms))),
            "staleUntil": times.map(|t| secs(t.stale_until)),
            "usable": times.is_some_and(|t| now_ms < t.stale_until),
            "action": self.action(now_ms, cooldown, keys_max_stale),
            "lastError": self.last_error,
            "fetches": self.fetches,
            "failures": self.failures,
            "jwksUri": self.jwks_uri,
            "discoveryAgeSeconds": (self.discovered_at_ms > 0).then(|| secs(now_ms.saturating_sub(self.discovered_at_ms))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived readers these replaced: the reference for what is accepted and how a refusal
    /// is worded.
    mod before {
        use serde::Deserialize;
        use serde_json::{Map, Value};

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct SkippedKey {
            kid: Option<String>,
            reason: String,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct LastError {
            reason: String,
            message: String,
            at_ms: u64,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct Response {
            status: u16,
            #[serde(default)]
            etag: Option<String>,
            #[serde(default)]
            cache_control: Option<String>,
            #[serde(default)]
            redirected: bool,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct RemoteKeys {
            schema: u32,
            issuer: String,
            source: Option<String>,
            keys: Vec<Map<String, Value>>,
            skipped: Vec<SkippedKey>,
            fetched_at_ms: u64,
            max_age: u32,
            etag: Option<String>,
            attempted_at_ms: u64,
            last_error: Option<LastError>,
            fetches: u64,
            failures: u64,
            #[serde(default)]
            jwks_uri: Option<String>,
            #[serde(default)]
            discovered_at_ms: u64,
        }
    }

    #[test]
    fn responses_are_read_as_the_derived_reader_read_them() {
        for text in [
            r#"{"status":200}"#,
            r#"{"status":304,"etag":"e","cacheControl":"max-age=1","redirected":true}"#,
            r#"{"status":200,"etag":null,"cacheControl":null}"#,
            r#"{"status":65536}"#,
            r#"{"status":-1}"#,
            r#"{"status":"200"}"#,
            r#"{}"#,
            r#"{"status":200,"headers":{}}"#,
            r#"{"status":200,"redirected":null}"#,
        ] {
            let ours = Response::from_json(text).map(drop);
            assert_eq!(ours, doc::derived::<before::Response>(text), "{text}");
        }
    }

    #[test]
    fn documents_are_read_as_the_derived_reader_read_them() {
        let base = serde_json::json!({
            "schema": 1, "issuer": "i", "keys": [], "skipped": [], "fetched_at_ms": 1,
            "max_age": 2, "attempted_at_ms": 3, "fetches": 4, "failures": 5,
        });
        for change in [
            serde_json::json!({}),
            serde_json::json!({
                "source": "u", "etag": "e", "jwks_uri": "j", "discovered_at_ms": 2,
                "last_error": { "reason": "r", "message": "m", "at_ms": 1 },
            }),
            serde_json::json!({ "source": null, "etag": null, "last_error": null, "jwks_uri": null }),
            serde_json::json!({ "keys": [{ "kid": "a" }], "skipped": [{ "kid": null, "reason": "r" }] }),
            serde_json::json!({ "skipped": [{ "reason": "r", "why": 1 }] }),
            serde_json::json!({ "last_error": { "reason": "r", "message": "m" } }),
            serde_json::json!({ "keys": [[]] }),
            serde_json::json!({ "extra": 1 }),
            serde_json::json!({ "discovered_at_ms": null }),
            serde_json::json!({ "max_age": 4294967296u64 }),
        ] {
            let mut document = base.clone();
            if let (Some(d), Some(c)) = (document.as_object_mut(), change.as_object()) {
                d.extend(c.clone());
            }
            let text = document.to_string();
            let ours = doc::parse(&text)
                .and_then(|raw| RemoteKeys::read(&raw))
                .map(drop);
            assert_eq!(ours, doc::derived::<before::RemoteKeys>(&text), "{text}");
        }
        let missing = r#"{"schema":1,"issuer":"i","keys":[],"skipped":[]}"#;
        let ours = doc::parse(missing)
            .and_then(|raw| RemoteKeys::read(&raw))
            .map(drop);
        assert_eq!(ours, doc::derived::<before::RemoteKeys>(missing));
    }
}
