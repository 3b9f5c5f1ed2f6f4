//! Opaque API keys (seeds 000/001): `tgk_` + 43 base62 characters of randomness (32 bytes) + a
//! 6-character base62 checksum (first 4 bytes of SHA-256 over prefix and body). The checksum
//! rejects typos and garbage before any store lookup, as GitHub's token format does; base62
//! keeps the key one "word" for double-click selection. Only the SHA-256 of the raw key is stored.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::credential::Verified;
use crate::error::{err, Error, ErrorCode, Result};
use crate::policy::scope::ScopeSet;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const PREFIX: &str = "tgk_";
const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;
/// Total length of a raw key.
pub const KEY_LEN: usize = PREFIX.len() + BODY_LEN + CHECK_LEN;
/// Default lifetime of a new key: 90 days.
pub const DEFAULT_TTL: i64 = 90 * 86_400;
/// Default ceiling on a key's lifetime: 365 days.
pub const DEFAULT_MAX_TTL: i64 = 365 * 86_400;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Big-endian bytes to a fixed-width base62 string.
fn base62(bytes: &[u8], width: usize) -> String {
    let mut digits = Vec::with_capacity(width);
    let mut num = bytes.to_vec();
    for _ in 0..width {
        let mut rem = 0u32;
        for b in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*b);
            *b = (acc / 62) as u8;
            rem = acc % 62;
        }
        digits.push(ALPHABET.get(rem as usize).copied().unwrap_or(b'0'));
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

fn checksum(prefix_and_body: &str) -> String {
    let digest = Sha256::digest(prefix_and_body.as_bytes());
    base62(digest.get(..4).unwrap_or_default(), CHECK_LEN)
}

/// Lowercase hex SHA-256 of the raw key: the stored form and the KV lookup key.
pub fn hash(raw: &str) -> String {
    Sha256::digest(raw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new raw key (shown once, never stored).
pub fn generate() -> Result<String> {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::new(ErrorCode::ApikeyMalformed, format!("no randomness: {e}")))?;
    let head = format!("{PREFIX}{}", base62(&bytes, BODY_LEN));
    let check = checksum(&head);
    Ok(format!("{head}{check}"))
}

/// Whether a string looks like a tokengate API key at all (prefix), before the full check.
pub fn has_prefix(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Checks prefix, length, alphabet and checksum. Returns the hash to look up.
pub fn parse(raw: &str) -> Result<String> {
    if !raw.starts_with(PREFIX) {
        return err(
            ErrorCode::ApikeyMalformed,
            format!("API keys start with \"{PREFIX}\""),
        );
    }
    if raw.len() != KEY_LEN {
        return err(
            ErrorCode::ApikeyMalformed,
            format!("API keys are {KEY_LEN} characters; this is {}", raw.len()),
        );
    }
    if let Some(pos) = raw
        .bytes()
        .skip(PREFIX.len())
        .position(|b| !b.is_ascii_alphanumeric())
    {
        return err(
            ErrorCode::ApikeyMalformed,
            format!(
                "API key has a non-alphanumeric character at {}",
                pos + PREFIX.len()
            ),
        );
    }
    let (head, check) = raw.split_at(KEY_LEN - CHECK_LEN);
    if checksum(head)
        .as_bytes()
        .ct_eq(check.as_bytes())
        .unwrap_u8()
        != 1
    {
        return err(
            ErrorCode::ApikeyMalformed,
            "API key checksum does not match (typo or truncated key?)",
        );
    }
    Ok(hash(raw))
}

/// Lifecycle state of a key record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Active,
    Revoked,
    Purged,
}

impl State {
    fn read(raw: &Raw<'_>) -> doc::Result<State> {
        let i = doc::variant(raw, "enum State", &["active", "revoked", "purged"])?;
        Ok(match i {
            0 => State::Active,
            1 => State::Revoked,
            _ => State::Purged,
        })
    }
}

/// What the store keeps for a key (never the raw key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub id: String,
    /// Lowercase hex SHA-256 of the current raw key.
    pub hash: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: State,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Inputs for a new key.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub scopes: Vec<String>,
    /// Lifetime in seconds (default 90 days); capped by `max_ttl` (default 365 days).
    pub ttl: Option<i64>,
    pub max_ttl: Option<i64>,
}

fn new_id() -> Result<String> {
    let mut bytes = [0u8; 12];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::new(ErrorCode::ApikeyMalformed, format!("no randomness: {e}")))?;
    Ok(format!("ak_{}", base62(&bytes, 17)))
}

impl Record {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "hash",
        "name",
        "description",
        "owner",
        "scopes",
        "created_at",
        "expires_at",
        "state",
        "rotated_at",
        "revoked_at",
    ];

    fn parse(text: &str) -> doc::Result<Record> {
        let raw = doc::parse(text)?;
        let o = doc::object(&raw, "struct Record", Self::FIELDS)?;
        Ok(Record {
            id: o.required("id", doc::string)?,
            hash: o.required("hash", doc::string)?,
            name: o.required("name", doc::string)?,
            description: o.or("description", String::new(), doc::string)?,
            owner: o.required("owner", doc::string)?,
            scopes: o.or("scopes", Vec::new(), doc::strings)?,
            created_at: o.required("created_at", doc::int64)?,
            expires_at: o.required("expires_at", doc::int64)?,
            state: o.required("state", State::read)?,
            rotated_at: o.optional("rotated_at", doc::int64)?,
            revoked_at: o.optional("revoked_at", doc::int64)?,
        })
    }

    /// A record as stored (JSON). One that does not parse is a server-side data problem
    /// (`record_invalid`), never "unknown key": the client's key may well be fine.
    pub fn from_json(text: &str) -> Result<Record> {
        Record::parse(text).map_err(|e| {
            Error::new(
                ErrorCode::RecordInvalid,
                format!("stored API key record is invalid: {e}"),
            )
        })
    }

    /// A record as KV holds it under `name` (`apikey:<hash>`): its value (the record the worker
    /// enforces) and its metadata (what listing shows; `None` for a record written without).
    /// One record, one truth: the value must parse, its scopes must be valid, its hash must be
    /// the one in its name, and metadata, when present, must be the same record. Anything else
    /// is `record_invalid` (the worker answers 503 for that key; `status` names it). A missing
    /// value is no record (`None`).
    pub fn stored(
        name: &str,
        value: Option<&str>,
        metadata: Option<&str>,
    ) -> Result<Option<Record>> {
        let bad = |m: String| {
            Error::new(
                ErrorCode::RecordInvalid,
                format!(
                    "stored API key record \"{}\" is invalid: {m}",
                    crate::error::printable(name)
                ),
            )
        };
        let Some(value) = value else {
            return Ok(None);
        };
        let record = Record::parse(value).map_err(bad)?;
        ScopeSet::new(&record.scopes).map_err(|e| bad(e.message().to_owned()))?;
        if name.strip_prefix("apikey:") != Some(record.hash.as_str()) {
            return Err(bad(format!(
                "its hash \"{}\" is not the one in its KV key name",
                crate::error::printable(&record.hash)
            )));
        }
        if let Some(meta) = metadata.filter(|m| m.trim() != "null") {
            let listed = Record::parse(meta)
                .map_err(|e| bad(format!("its metadata is not a record: {e}")))?;
            if listed != record {
                return Err(bad(
                    "its value and its metadata are different records (the worker reads the value; repair or rewrite both with `apikey revoke`/`rotate`)".to_owned(),
                ));
            }
        }
        Ok(Some(record))
    }

    /// Creates a key: returns the raw key (show it once) and the record to store.
    pub fn create(spec: NewKey, now: i64) -> Result<(String, Record)> {
        let invalid = |m: &str| Error::new(ErrorCode::OptionsInvalid, m.to_owned());
        if spec.name.trim().is_empty() || spec.owner.trim().is_empty() {
            return Err(invalid("an API key needs a name and an owner"));
        }
        ScopeSet::new(&spec.scopes)?;
        let max = spec.max_ttl.unwrap_or(DEFAULT_MAX_TTL);
        let ttl = spec.ttl.unwrap_or(DEFAULT_TTL);
        if ttl <= 0 || ttl > max {
            // Said in words (the CLI prints it for --expires), with the cap in days when whole.
            let days = if max % 86_400 == 0 {
                format!(" ({} days)", max / 86_400)
            } else {
                String::new()
            };
            return Err(invalid(&format!(
                "API key lifetime must be between 1 second and {max} seconds{days}, got {ttl}"
            )));
        }
        let raw = generate()?;
        let record = Record {
            id: new_id()?,
            hash: hash(&raw),
            name: spec.name,
            description: spec.description,
            owner: spec.owner,
            scopes: spec.scopes,
            created_at: now,
            expires_at: now.saturating_add(ttl),
            state: State::Active,
            rotated_at: None,
            revoked_at: None,
        };
        Ok((raw, record))
    }

    /// New secret, same id and metadata; the old secret stops matching at once.
    pub fn rotate(&mut self, now: i64) -> Result<String> {
        if self.state != State::Active {
            return err(
                ErrorCode::ApikeyRevoked,
                "only an active key can be rotated",
            );
        }
        let raw = generate()?;
        self.hash = hash(&raw);
        self.rotated_at = Some(now);
        Ok(raw)
    }

    /// The state a listing shows: an active key past `expires_at` is "expired".
    pub fn status(&self, now: i64) -> &'static str {
        match self.state {
            State::Active if self.expires_at <= now => "expired",
            State::Active => "active",
            State::Revoked => "revoked",
            State::Purged => "purged",
        }
    }

    pub fn revoke(&mut self, now: i64, purge: bool) {
        if self.revoked_at.is_none() {
            self.revoked_at = Some(now);
        }
        self.state = if purge { State::Purged } else { State::Revoked };
    }

    /// Validates a presented raw key against this record (found by its hash, or `None`).
    pub fn check(raw: &str, record: Option<&Record>, now: i64) -> Result<Verified> {
        let h = parse(raw)?;
        let Some(r) = record else {
            return err(ErrorCode::ApikeyUnknown, "no such API key");
        };
        if r.hash.as_bytes().ct_eq(h.as_bytes()).unwrap_u8() != 1 {
            return err(ErrorCode::ApikeyUnknown, "no such API key");
        }
        match r.state {
            State::Revoked => {
                return err(
                    ErrorCode::ApikeyRevoked,
                    format!("API key {} was revoked", r.id),
                )
            }
            State::Purged => {
                return err(
                    ErrorCode::ApikeyPurged,
                    format!("API key {} was revoked and purged", r.id),
                )
            }
            State::Active => {}
        }
        if r.expires_at <= now {
            return err(
                ErrorCode::ApikeyExpired,
                format!("API key {} expired", r.id),
            );
        }
        Ok(Verified {
            kind: "apikey",
            header: Default::default(),
            claims: Default::default(),
            subject: Some(r.owner.clone()),
            issuer: None,
            scopes: r.scopes.clone(),
            token_id: Some(r.id.clone()),
            expires_at: Some(r.expires_at),
            issued_at: Some(r.rotated_at.unwrap_or(r.created_at)),
            token_type: Some("apikey".into()),
            alg: None,
            kid: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived reader this replaced: the reference for what is accepted and how a refusal
    /// is worded.
    mod before {
        use serde::Deserialize;

        #[derive(Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum State {
            Active,
            Revoked,
            Purged,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct Record {
            id: String,
            hash: String,
            name: String,
            #[serde(default)]
            description: String,
            owner: String,
            #[serde(default)]
            scopes: Vec<String>,
            created_at: i64,
            expires_at: i64,
            state: State,
            #[serde(default)]
            rotated_at: Option<i64>,
            #[serde(default)]
            revoked_at: Option<i64>,
        }
    }

    #[test]
    fn records_are_read_as_the_derived_reader_read_them() {
        let base = serde_json::json!({
            "id": "ak_1", "hash": "h", "name": "n", "owner": "o",
            "created_at": 1, "expires_at": 2, "state": "active",
        });
        for change in [
            serde_json::json!({}),
            serde_json::json!({ "description": "d", "scopes": ["a"], "rotated_at": 3, "revoked_at": null, "state": "purged" }),
            serde_json::json!({ "state": "revoked", "revoked_at": 4 }),
            serde_json::json!({ "state": "Active" }),
            serde_json::json!({ "description": null }),
            serde_json::json!({ "scopes": "a" }),
            serde_json::json!({ "expires_at": 2.5 }),
            serde_json::json!({ "raw": "tg_..." }),
            serde_json::json!({ "owner": 7 }),
        ] {
            let mut record = base.clone();
            if let (Some(r), Some(c)) = (record.as_object_mut(), change.as_object()) {
                r.extend(c.clone());
            }
            let text = record.to_string();
            let ours = Record::parse(&text).map(drop);
            assert_eq!(ours, doc::derived::<before::Record>(&text), "{text}");
        }
        let missing = r#"{"id":"ak_1","hash":"h","name":"n"}"#;
        assert_eq!(
            Record::parse(missing).map(drop),
            doc::derived::<before::Record>(missing)
        );
    }
}
