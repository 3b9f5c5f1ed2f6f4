//! Revocation list: revoked `(iss, jti)` pairs, subject cut-offs (every token of a subject issued
//! before T) and revoked API-key hashes. Entries are keyed by identifiers, never by token bytes:
//! ECDSA signatures are malleable, so a hash of the token would miss a re-encoded copy.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::codec::sort::sort_by;
use crate::codec::time::duration;
use crate::credential::Verified;
use crate::error::{err, Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Format version written in `schema`.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JtiEntry {
    pub iss: String,
    pub jti: String,
    /// Unix time after which the entry may be pruned (the token's own `exp`).
    pub until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectEntry {
    pub iss: String,
    pub sub: String,
    /// Tokens of this subject with `iat` strictly before this time are revoked.
    pub before: i64,
    pub until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyEntry {
    /// Lowercase hex SHA-256 of the raw key.
    pub hash: String,
    pub until: i64,
}

/// One revocation as the admin CLI stores it: its own KV entry (so concurrent writers never
/// overwrite each other), folded into the snapshot the worker reads by [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Entry {
    Jti(JtiEntry),
    Subject(SubjectEntry),
    Apikey(ApiKeyEntry),
}

/// Workers KV caps an entry's metadata at 1024 bytes (of its JSON form).
pub const KV_METADATA_MAX: usize = 1024;

/// Longest entry in its JSON form (a jti can be as long as a token allows). Entries up to
/// [`KV_METADATA_MAX`] bytes travel as list metadata; longer ones are stored in the entry's value
/// with [`stored_form`]'s marker as metadata, and read back by whoever lists them.
pub const MAX_ENTRY_LEN: usize = 64 * 1024;

/// Reads `[{name, entry}]` (JSON text: listed revocation entries with their metadata, any
/// JSON, each read later by [`Entry::parse`]); other members are ignored.
pub fn named_from_json(
    text: &str,
) -> std::result::Result<Vec<(String, serde_json::Value)>, String> {
    doc::array(&doc::parse(text)?, |raw| {
        let o = doc::lenient(raw, "struct NamedEntry")?;
        Ok((
            o.required("name", doc::string)?,
            o.required("entry", doc::value)?,
        ))
    })
}

impl Entry {
    /// Parses and checks one entry; returns it with its canonical JSON.
    pub fn parse(text: &str) -> Result<(Entry, String)> {
        let e = doc::parse(text)
            .and_then(|raw| Entry::read(&raw))
            .map_err(|e| invalid(format!("revocation entry: {e}")))?;
        let empty = match &e {
            Entry::Jti(j) => j.iss.is_empty() || j.jti.is_empty(),
            Entry::Subject(s) => s.iss.is_empty() || s.sub.is_empty(),
            Entry::Apikey(a) => !is_hash(&a.hash),
        };
        if empty {
            return Err(invalid(
                "revocation entry: iss, jti and sub must be non-empty; an apikey hash is 64 lowercase hex characters",
            ));
        }
        let canonical = serde_json::to_string(&e).unwrap_or_default();
        if canonical.len() > MAX_ENTRY_LEN {
            return Err(invalid(format!(
                "revocation entry is {} bytes; the limit is {MAX_ENTRY_LEN}",
                canonical.len()
            )));
        }
        Ok((e, canonical))
    }

    /// What to store for this entry: the KV value (its canonical JSON) and the KV metadata
    /// (the same JSON when it fits in [`KV_METADATA_MAX`] bytes, else the marker
    /// `{"stored":"value"}`: the content is in the value).
    pub fn stored_form(&self) -> (String, String) {
        let value = serde_json::to_string(self).unwrap_or_default();
        let metadata = if value.len() <= KV_METADATA_MAX {
            value.clone()
        } else {
            r#"{"stored":"value"}"#.to_owned()
        };
        (value, metadata)
    }

    pub fn until(&self) -> i64 {
        match self {
            Entry::Jti(j) => j.until,
            Entry::Subject(s) => s.until,
            Entry::Apikey(a) => a.until,
        }
    }

    /// Past its `until` at `now`: no longer enforced, and prunable.
    pub fn expired(&self, now: i64) -> bool {
        self.until() <= now
    }
}

fn is_hash(h: &str) -> bool {
    h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A short order-insensitive digest of a set of strings (each stored entry's name and content). A
/// snapshot records the digest of the entries it was built from, so a writer can tell whether
/// the stored snapshot covers everything it can list.
pub fn source_digest(names: &[String]) -> String {
    let mut sorted: Vec<&String> = names.iter().collect();
    sort_by(&mut sorted, |a, b| a.cmp(b));
    sorted.dedup();
    let mut h = Sha256::new();
    for n in sorted {
        h.update(n.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The version of a snapshot written after one with `prev_version` (0: none could be read, as
/// for the first snapshot or one rebuilt after corruption), at `now` in seconds: see
/// [`next_version_at`], which the writers call with the clock in milliseconds.
pub fn next_version(prev_version: u64, now: i64) -> u64 {
    next_version_at(prev_version, now.saturating_mul(1000))
}

/// [`next_version`] at `now_ms`, the clock in milliseconds. Versions never go backwards: with a
/// readable predecessor, one above it; without, the time itself, which is above any version
/// written before as long as the chain it replaces took fewer snapshots than milliseconds went by
/// since it began (Workers KV takes about one write a second per key). A floor in seconds could
/// not be: a chain begun in the same second starts at that floor.
pub fn next_version_at(prev_version: u64, now_ms: i64) -> u64 {
    if prev_version > 0 {
        prev_version.saturating_add(1)
    } else {
        u64::try_from(now_ms).unwrap_or(0).max(1)
    }
}

/// Builds the snapshot from every stored entry: merged (a later cut-off or `until` wins), entries
/// past their `until` left out, `version` from [`next_version`], and `source` (see
/// [`source_digest`]) naming the stored entries it covers.
pub fn snapshot(entries: &[Entry], prev_version: u64, now: i64, source: String) -> RevocationList {
    snapshot_at(entries, prev_version, now.saturating_mul(1000), source)
}

/// [`snapshot`] with the clock in milliseconds (see [`next_version_at`]).
pub fn snapshot_at(
    entries: &[Entry],
    prev_version: u64,
    now_ms: i64,
    source: String,
) -> RevocationList {
    let now = now_ms.div_euclid(1000);
    let mut list = RevocationList::new(next_version_at(prev_version, now_ms), now);
    list.add_all(entries);
    list.prune(now);
    list.source = Some(source);
    list
}

/// What a reader (the worker) enforces, given the stored snapshot and the live listing of the
/// entries (and its digest, `live_source`). A snapshot is trusted alone only when its `source`
/// is the digest of the live listing. Otherwise it is behind: a writer that listed the entries
/// before a revoke completed can put its older snapshot after the revoke's own final check, and
/// a writer can be killed before it corrects that. Then the effective list is the snapshot merged
/// with every live entry, pruned at `now`, keeping the snapshot's `version` and `generated_at`
/// (its staleness still counts). Revocations only ever leave by expiring (`until`), so the union
/// is never more permissive than either side. Returns the list and whether the snapshot was behind.
pub fn effective(
    snapshot: &str,
    entries: &[Entry],
    live_source: &str,
    now: i64,
) -> Result<(RevocationList, bool)> {
    let mut list = RevocationList::from_json(snapshot)?;
    if list.source.as_deref() == Some(live_source) {
        return Ok((list, false));
    }
    list.add_all(entries);
    list.prune(now);
    list.source = Some(live_source.to_owned());
    let text = list.to_json();
    Ok((RevocationList::from_json(&text)?, true))
}

/// The items of a stored revocation document that no entry covers (a document edited by hand,
/// or written before entries existed): they become entries before the next compaction, so no
/// compaction drops them. An item is covered when an entry for the same token, subject or key
/// has at least its `before` and `until`.
pub fn uncovered(doc: &str, entries: &[Entry]) -> Result<Vec<Entry>> {
    let doc = RevocationList::from_json(doc)?;
    let mut have = RevocationList::default();
    have.add_all(entries);
    let mut out = Vec::new();
    for (iss, m) in &doc.jti {
        for (jti, until) in m {
            let covered = have
                .jti
                .get(iss)
                .and_then(|m| m.get(jti))
                .is_some_and(|u| u >= until);
            if !covered {
                out.push(Entry::Jti(JtiEntry {
                    iss: iss.clone(),
                    jti: jti.clone(),
                    until: *until,
                }));
            }
        }
    }
    for (iss, m) in &doc.subjects {
        for (sub, (before, until)) in m {
            let covered = have
                .subjects
                .get(iss)
                .and_then(|m| m.get(sub))
                .is_some_and(|(b, u)| b >= before && u >= until);
            if !covered {
                out.push(Entry::Subject(SubjectEntry {
                    iss: iss.clone(),
                    sub: sub.clone(),
                    before: *before,
                    until: *until,
                }));
            }
        }
    }
    for (hash, until) in &doc.apikeys {
        let covered = have.apikeys.get(hash).is_some_and(|u| u >= until);
        if !covered {
            out.push(Entry::Apikey(ApiKeyEntry {
                hash: hash.clone(),
                until: *until,
            }));
        }
    }
    let key = |e: &Entry| serde_json::to_string(e).unwrap_or_default();
    sort_by(&mut out, |a, b| key(a).cmp(&key(b)));
    Ok(out)
}

/// An API-key record is stored with itself as KV metadata (so a listing reads every record):
/// checks, in bytes, that it fits in [`KV_METADATA_MAX`] in the largest state it can reach
/// (rotated, then revoked or purged), so `apikey create` fails before anything is written
/// rather than on a later write.
pub fn check_apikey_record(record: &crate::apikey::Record) -> Result<()> {
    let mut worst = record.clone();
    worst.rotated_at = Some(NEVER);
    worst.revoked_at = Some(NEVER);
    worst.state = crate::apikey::State::Purged;
    let len = serde_json::to_string(&worst).map_or(usize::MAX, |t| t.len());
    if len > KV_METADATA_MAX {
        return Err(Error::new(
            ErrorCode::OptionsInvalid,
            format!(
                "the API key record would be {len} bytes; KV metadata holds at most {KV_METADATA_MAX}: shorten the name, description or scopes"
            ),
        ));
    }
    Ok(())
}

/// "Never pruned": later than any NumericDate plus the largest leeway.
pub const NEVER: i64 = crate::policy::claims::MAX_NUMERIC_DATE as i64 + 2 * 86_400;

/// What is being revoked, for [`Lifetimes::until`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Revoked {
    /// A token read at `now`, with its `exp` claim (fractions allowed, as the core accepts them).
    Token { exp: Option<f64>, now: i64 },
    /// A token known only by its `jti`, revoked at `now`.
    Jti { now: i64 },
    /// Every token of a subject issued before `before`.
    Subject { before: i64 },
}

/// Seconds a revocation list's `generated_at` may be ahead of the reader's clock (clock skew).
pub const FUTURE_SKEW: i64 = 60;

/// Seconds a minted token lives when the command names no lifetime (capped by the issuer's).
pub const DEFAULT_MINT_TTL: i64 = 3600;

/// The time limits of an issuer's effective policy (the core's defaults filled in), from which
/// every revocation entry's `until` and a retired key's grace are derived, so that no entry is
/// pruned and no key removed while the core would still accept a token it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Clock leeway, seconds.
    pub leeway: i64,
    /// Cap on `exp - iat`; `None`: no cap (`maxLifetime: 0`).
    pub max_lifetime: Option<i64>,
}

impl Lifetimes {
    pub fn of(policy: &crate::Policy) -> Lifetimes {
        let secs = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Lifetimes {
            leeway: secs(policy.leeway),
            max_lifetime: policy.max_lifetime.map(secs),
        }
    }

    /// From the policy options as the worker passes them to its validator (`leeway`,
    /// `maxLifetime`, …; unknown fields are an error).
    pub fn from_policy_json(text: &str) -> Result<Lifetimes> {
        crate::Policy::from_json(text).map(|p| Lifetimes::of(&p))
    }

    /// When the entry may go. A token is accepted while `exp > now - leeway`, so an entry for a
    /// token with a known `exp` lives until `ceil(exp) + leeway`. A token known only by its `jti`
    /// (or without `exp`) may have been issued up to `leeway` ahead of the revoke (a signer's
    /// clock skew) and live `maxLifetime` from then: `now + maxLifetime + 2 × leeway`. A subject
    /// cut-off covers tokens issued before `before`: `before + maxLifetime + leeway`. Without a
    /// lifetime cap, the last two never go ([`NEVER`]).
    pub fn until(&self, what: Revoked) -> i64 {
        let capped = |base: i64, extra: i64| match self.max_lifetime {
            Some(max) => base.saturating_add(max).saturating_add(extra).min(NEVER),
            None => NEVER,
        };
        match what {
            Revoked::Token { exp: Some(exp), .. } if exp.is_finite() => {
                let exp = exp.ceil().clamp(i64::MIN as f64, NEVER as f64) as i64;
                exp.saturating_add(self.leeway).min(NEVER)
            }
            Revoked::Token { now, .. } | Revoked::Jti { now } => {
                capped(now, self.leeway.saturating_mul(2))
            }
            Revoked::Subject { before } => capped(before, self.leeway),
        }
    }

    /// How long after its retirement a key may still have to verify a token it signed (issued up
    /// to `leeway` after the retirement by a skewed clock, living `maxLifetime`, accepted
    /// `leeway` past its `exp`): `maxLifetime + 2 × leeway`. `None` without a lifetime cap: a
    /// retired key is then never removable by schedule.
    pub fn key_grace(&self) -> Option<i64> {
        self.max_lifetime
            .map(|max| max.saturating_add(self.leeway.saturating_mul(2)))
    }

    /// The lifetime of a minted token when the command names none: an hour, or the cap when
    /// that is shorter.
    pub fn mint_ttl(&self) -> i64 {
        DEFAULT_MINT_TTL.min(self.mint_ttl_cap())
    }

    /// The longest lifetime a minted token gets: the cap, or without one the core's default
    /// (30 days), so a command never mints a token that lives forever.
    pub fn mint_ttl_cap(&self) -> i64 {
        self.max_lifetime
            .unwrap_or(crate::policy::claims::DEFAULT_MAX_LIFETIME as i64)
    }
}

#[derive(Debug, Clone, Serialize)]
struct Wire {
    schema: u32,
    version: u64,
    generated_at: i64,
    /// Digest of the entries a compacted snapshot was built from (absent in hand-written lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    jti: Vec<JtiEntry>,
    subjects: Vec<SubjectEntry>,
    apikeys: Vec<ApiKeyEntry>,
}

// The readers of both documents, in serde's words (`codec::doc`).

impl Wire {
    fn read(raw: &Raw<'_>) -> doc::Result<Wire> {
        let fields = [
            "schema",
            "version",
            "generated_at",
            "source",
            "jti",
            "subjects",
            "apikeys",
        ];
        let o = doc::object(raw, "struct Wire", &fields)?;
        Ok(Wire {
            schema: o.required("schema", doc::uint32)?,
            version: o.required("version", doc::uint64)?,
            generated_at: o.required("generated_at", doc::int64)?,
            source: o.optional("source", doc::string)?,
            jti: o.or("jti", Vec::new(), |r| doc::array(r, JtiEntry::read))?,
            subjects: o.or("subjects", Vec::new(), |r| {
                doc::array(r, SubjectEntry::read)
            })?,
            apikeys: o.or("apikeys", Vec::new(), |r| doc::array(r, ApiKeyEntry::read))?,
        })
    }
}

impl Entry {
    fn read(raw: &Raw<'_>) -> doc::Result<Entry> {
        let (kind, o) = doc::tagged(
            raw,
            "internally tagged enum Entry",
            "kind",
            &["jti", "subject", "apikey"],
        )?;
        Ok(match kind {
            0 => {
                o.only_besides("kind", JtiEntry::FIELDS)?;
                Entry::Jti(JtiEntry::fields(&o)?)
            }
            1 => {
                o.only_besides("kind", SubjectEntry::FIELDS)?;
                Entry::Subject(SubjectEntry::fields(&o)?)
            }
            _ => {
                o.only_besides("kind", ApiKeyEntry::FIELDS)?;
                Entry::Apikey(ApiKeyEntry::fields(&o)?)
            }
        })
    }
}

impl JtiEntry {
    const FIELDS: &'static [&'static str] = &["iss", "jti", "until"];
    fn read(raw: &Raw<'_>) -> doc::Result<JtiEntry> {
        Self::fields(&doc::object(raw, "struct JtiEntry", Self::FIELDS)?)
    }
    fn fields(o: &doc::Object<'_, '_>) -> doc::Result<JtiEntry> {
        Ok(JtiEntry {
            iss: o.required("iss", doc::string)?,
            jti: o.required("jti", doc::string)?,
            until: o.required("until", doc::int64)?,
        })
    }
}

impl SubjectEntry {
    const FIELDS: &'static [&'static str] = &["iss", "sub", "before", "until"];
    fn read(raw: &Raw<'_>) -> doc::Result<SubjectEntry> {
        Self::fields(&doc::object(raw, "struct SubjectEntry", Self::FIELDS)?)
    }
    fn fields(o: &doc::Object<'_, '_>) -> doc::Result<SubjectEntry> {
        Ok(SubjectEntry {
            iss: o.required("iss", doc::string)?,
            sub: o.required("sub", doc::string)?,
            before: o.required("before", doc::int64)?,
            until: o.required("until", doc::int64)?,
        })
    }
}

impl ApiKeyEntry {
    const FIELDS: &'static [&'static str] = &["hash", "until"];
    fn read(raw: &Raw<'_>) -> doc::Result<ApiKeyEntry> {
        Self::fields(&doc::object(raw, "struct ApiKeyEntry", Self::FIELDS)?)
    }
    fn fields(o: &doc::Object<'_, '_>) -> doc::Result<ApiKeyEntry> {
        Ok(ApiKeyEntry {
            hash: o.required("hash", doc::string)?,
            until: o.required("until", doc::int64)?,
        })
    }
}

/// A loaded revocation list with O(1) lookups.
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    pub version: u64,
    pub generated_at: i64,
    pub source: Option<String>,
    /// Digest of its content (the text it was parsed from, or its canonical JSON once changed in
    /// memory): two lists that differ in anything never share a cache identity, even if a
    /// racing writer reused a version number. Computed on first use after a change.
    digest: std::cell::Cell<Option<u64>>,
    jti: HashMap<String, HashMap<String, i64>>,
    subjects: HashMap<String, HashMap<String, (i64, i64)>>,
    apikeys: HashMap<String, i64>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::RevocationInvalid, msg)
}

/// The first 8 bytes of SHA-256, as a cache identity.
fn digest64(text: &str) -> u64 {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

impl RevocationList {
    pub fn new(version: u64, generated_at: i64) -> Self {
        RevocationList {
            version,
            generated_at,
            ..Default::default()
        }
    }

    /// Parses the JSON form (see README "Revocation list format").
    pub fn from_json(text: &str) -> Result<RevocationList> {
        let wire = doc::parse(text)
            .and_then(|raw| Wire::read(&raw))
            .map_err(|e| invalid(format!("revocation list: {e}")))?;
        if wire.schema != SCHEMA {
            return Err(invalid(format!(
                "revocation list schema {} is not supported (expected {SCHEMA})",
                wire.schema
            )));
        }
        let mut list = RevocationList::new(wire.version, wire.generated_at);
        list.source = wire.source;
        for e in wire.jti {
            list.revoke_jti(&e.iss, &e.jti, e.until);
        }
        for e in wire.subjects {
            list.cut_off_subject(&e.iss, &e.sub, e.before, e.until);
        }
        for e in wire.apikeys {
            if !is_hash(&e.hash) {
                return Err(invalid(
                    "revocation list: apikey hash must be 64 lowercase hex characters",
                ));
            }
            list.revoke_apikey(&e.hash, e.until);
        }
        list.digest.set(Some(digest64(text)));
        Ok(list)
    }

    /// Canonical JSON: entries sorted, so equal lists serialize identically.
    pub fn to_json(&self) -> String {
        let mut jti: Vec<JtiEntry> = self
            .jti
            .iter()
            .flat_map(|(iss, m)| {
                m.iter().map(move |(jti, until)| JtiEntry {
                    iss: iss.clone(),
                    jti: jti.clone(),
                    until: *until,
                })
            })
            .collect();
        sort_by(&mut jti, |a, b| (&a.iss, &a.jti).cmp(&(&b.iss, &b.jti)));
        let mut subjects: Vec<SubjectEntry> = self
            .subjects
            .iter()
            .flat_map(|(iss, m)| {
                m.iter().map(move |(sub, (before, until))| SubjectEntry {
                    iss: iss.clone(),
                    sub: sub.clone(),
                    before: *before,
                    until: *until,
                })
            })
            .collect();
        sort_by(&mut subjects, |a, b| {
            (&a.iss, &a.sub).cmp(&(&b.iss, &b.sub))
        });
        let mut apikeys: Vec<ApiKeyEntry> = self
            .apikeys
            .iter()
            .map(|(h, u)| ApiKeyEntry {
                hash: h.clone(),
                until: *u,
            })
            .collect();
        sort_by(&mut apikeys, |a, b| a.hash.cmp(&b.hash));
        let wire = Wire {
            schema: SCHEMA,
            version: self.version,
            generated_at: self.generated_at,
            source: self.source.clone(),
            jti,
            subjects,
            apikeys,
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Folds entries in (a later cut-off or `until` wins).
    pub fn add_all(&mut self, entries: &[Entry]) {
        for e in entries {
            match e {
                Entry::Jti(j) => self.revoke_jti(&j.iss, &j.jti, j.until),
                Entry::Subject(s) => self.cut_off_subject(&s.iss, &s.sub, s.before, s.until),
                Entry::Apikey(a) => self.revoke_apikey(&a.hash, a.until),
            }
        }
    }

    pub fn revoke_jti(&mut self, iss: &str, jti: &str, until: i64) {
        self.digest.set(None);
        let slot = self
            .jti
            .entry(iss.to_owned())
            .or_default()
            .entry(jti.to_owned())
            .or_insert(until);
        *slot = (*slot).max(until);
    }

    /// Revokes every token of `sub` issued before `before`. A later cut-off replaces an earlier.
    pub fn cut_off_subject(&mut self, iss: &str, sub: &str, before: i64, until: i64) {
        self.digest.set(None);
        let slot = self
            .subjects
            .entry(iss.to_owned())
            .or_default()
            .entry(sub.to_owned())
            .or_insert((before, until));
        *slot = (slot.0.max(before), slot.1.max(until));
    }

    pub fn revoke_apikey(&mut self, hash: &str, until: i64) {
        self.digest.set(None);
        let slot = self.apikeys.entry(hash.to_owned()).or_insert(until);
        *slot = (*slot).max(until);
    }

    /// Drops entries whose `until` has passed; returns how many.
    pub fn prune(&mut self, now: i64) -> usize {
        self.digest.set(None);
        let before = self.len();
        for m in self.jti.values_mut() {
            m.retain(|_, until| *until > now);
        }
        self.jti.retain(|_, m| !m.is_empty());
        for m in self.subjects.values_mut() {
            m.retain(|_, (_, until)| *until > now);
        }
        self.subjects.retain(|_, m| !m.is_empty());
        self.apikeys.retain(|_, until| *until > now);
        before - self.len()
    }

    pub fn len(&self) -> usize {
        self.jti.values().map(HashMap::len).sum::<usize>()
            + self.subjects.values().map(HashMap::len).sum::<usize>()
            + self.apikeys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What a cached verdict was decided against: version, time and content.
    pub fn identity(&self) -> (u64, i64, u64) {
        let digest = self.digest.get().unwrap_or_else(|| {
            let d = digest64(&self.to_json());
            self.digest.set(Some(d));
            d
        });
        (self.version, self.generated_at, digest)
    }

    /// Counts by kind: (jti, subjects, apikeys).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.jti.values().map(HashMap::len).sum(),
            self.subjects.values().map(HashMap::len).sum(),
            self.apikeys.len(),
        )
    }

    /// Fails closed when the list is older than `max_age` seconds, or dated more than
    /// [`FUTURE_SKEW`] ahead of `now` (such a date would let it count as fresh for that long).
    pub fn check_fresh(&self, now: i64, max_age: Option<u64>) -> Result<()> {
        if let Some(max) = max_age {
            let ahead = self.generated_at.saturating_sub(now);
            if ahead > FUTURE_SKEW {
                return err(
                    ErrorCode::RevocationDataStale,
                    format!(
                        "revocation list is dated {} in the future; its age cannot be known",
                        duration(ahead)
                    ),
                );
            }
            let age = now.saturating_sub(self.generated_at);
            if age > i64::try_from(max).unwrap_or(i64::MAX) {
                return err(
                    ErrorCode::RevocationDataStale,
                    format!(
                        "revocation list is {} old; the limit is {}",
                        duration(age),
                        duration(i64::try_from(max).unwrap_or(i64::MAX))
                    ),
                );
            }
        }
        Ok(())
    }

    pub fn is_jti_revoked(&self, iss: &str, jti: &str) -> bool {
        self.jti.get(iss).is_some_and(|m| m.contains_key(jti))
    }

    /// The cut-off for a subject, if any.
    pub fn subject_cut_off(&self, iss: &str, sub: &str) -> Option<i64> {
        self.subjects
            .get(iss)
            .and_then(|m| m.get(sub))
            .map(|(before, _)| *before)
    }

    pub fn is_apikey_revoked(&self, hash: &str) -> bool {
        self.apikeys.contains_key(hash)
    }

    /// Checks a verified JWT. A token issued exactly at the cut-off stays valid: "one active
    /// token per user" sets the cut-off to the new token's `iat`. A token without `iat` under
    /// a cut-off cannot prove it is newer and is rejected.
    pub fn check_token(&self, token: &Verified) -> Result<()> {
        let iss = token.issuer.as_deref().unwrap_or("");
        if let Some(jti) = &token.token_id {
            if self.is_jti_revoked(iss, jti) {
                return err(ErrorCode::TokenRevoked, "token was revoked");
            }
        }
        if let Some(sub) = &token.subject {
            if let Some(before) = self.subject_cut_off(iss, sub) {
                match token.issued_at {
                    Some(iat) if iat >= before => {}
                    Some(_) => {
                        return err(
                            ErrorCode::TokenRevoked,
                            "every token of this subject issued before the cut-off was revoked",
                        )
                    }
                    None => {
                        return err(
                            ErrorCode::TokenRevoked,
                            "subject has a revocation cut-off and the token has no \"iat\"",
                        )
                    }
                }
            }
        }
        Ok(())
    }
}

/// The derived readers these replaced, kept as the reference for what they accept and how they
/// word a refusal.
#[cfg(test)]
mod before {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct JtiEntry {
        iss: String,
        jti: String,
        until: i64,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct SubjectEntry {
        iss: String,
        sub: String,
        before: i64,
        until: i64,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct ApiKeyEntry {
        hash: String,
        until: i64,
    }
    #[derive(Deserialize)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    #[allow(dead_code)]
    pub enum Entry {
        Jti(JtiEntry),
        Subject(SubjectEntry),
        Apikey(ApiKeyEntry),
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    pub struct Wire {
        schema: u32,
        version: u64,
        generated_at: i64,
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        jti: Vec<JtiEntry>,
        #[serde(default)]
        subjects: Vec<SubjectEntry>,
        #[serde(default)]
        apikeys: Vec<ApiKeyEntry>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_as_the_derived_reader_read_them() {
        let h = "a".repeat(64);
        for text in [
            r#"{"kind":"jti","iss":"i","jti":"j","until":5}"#.to_owned(),
            r#"{"iss":"i","kind":"subject","sub":"s","before":1,"until":-5}"#.to_owned(),
            format!(r#"{{"kind":"apikey","hash":"{h}","until":5}}"#),
            r#"{"iss":"i","jti":"j","until":5}"#.to_owned(),
            r#"{"kind":"token","iss":"i"}"#.to_owned(),
            r#"{"kind":"jti","iss":"i","jti":"j","until":5,"x":1}"#.to_owned(),
            r#"{"kind":"jti","iss":"i","jti":"j"}"#.to_owned(),
            r#"{"kind":"jti","iss":"i","jti":"j","until":1.5}"#.to_owned(),
            r#"{"kind":"jti","iss":"i","jti":"j","until":"5"}"#.to_owned(),
            r#"{"kind":"jti","iss":"i","jti":"j","until":9223372036854775808}"#.to_owned(),
            r#"{"kind":"jti","iss":5,"jti":"j","until":5}"#.to_owned(),
            r#"{"kind":"jti","iss":null,"jti":"j","until":5}"#.to_owned(),
            r#"{"kind":"subject","iss":"i","sub":"s","until":5}"#.to_owned(),
            "5".to_owned(),
            "null".to_owned(),
        ] {
            let ours = doc::parse(&text)
                .and_then(|raw| Entry::read(&raw))
                .map(drop);
            assert_eq!(ours, doc::derived::<before::Entry>(&text), "{text}");
        }
    }

    #[test]
    fn named_entries_are_read_as_the_derived_reader_read_them() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct NamedEntry {
            name: String,
            entry: serde_json::Value,
        }
        for text in [
            r#"[]"#,
            r#"[{"name":"a","entry":{"kind":"jti"}},{"name":"b","entry":null,"other":1}]"#,
            r#"[{"name":"a"}]"#,
            r#"[{"entry":{}}]"#,
            r#"[{"name":true,"entry":1}]"#,
            r#"{}"#,
        ] {
            let ours = named_from_json(text).map(drop);
            assert_eq!(ours, doc::derived::<Vec<NamedEntry>>(text), "{text}");
        }
    }

    #[test]
    fn lists_are_read_as_the_derived_reader_read_them() {
        for text in [
            r#"{"schema":1,"version":2,"generated_at":3}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"source":null,"jti":[],"subjects":[],"apikeys":[]}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"jti":[{"iss":"i","jti":"j","until":5}]}"#,
            r#"{"schema":1,"version":2}"#,
            r#"{"schema":1,"version":-2,"generated_at":3}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"extra":1}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"jti":null}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"jti":[{"iss":"i","jti":"j"}]}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"jti":[{"kind":"jti","iss":"i","jti":"j","until":5}]}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"subjects":{}}"#,
            r#"{"schema":"1","version":2,"generated_at":3}"#,
            r#"{"schema":1,"version":2,"generated_at":3,"source":7}"#,
        ] {
            let ours = doc::parse(text).and_then(|raw| Wire::read(&raw)).map(drop);
            assert_eq!(ours, doc::derived::<before::Wire>(text), "{text}");
        }
    }
}
