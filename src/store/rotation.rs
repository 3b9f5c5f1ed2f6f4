//! Signing-key lifecycle: the stored key entries (`key:<jwks>:<kid>` in KV) and the plan the
//! cron, `keys` and `status` all act on — which keys are due for rotation, which active keys are
//! beyond the cap or too old, and which retired keys may be deleted because every token they
//! signed has expired.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::codec::sort::sort_by;
use crate::error::printable;
use crate::error::{Error, ErrorCode, Result};
use crate::store::revocation::Lifetimes;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const DAY: i64 = 86_400;
/// Active keys older than this are retired by `keys cleanup` (while another active key remains).
pub const DEFAULT_MAX_AGE: i64 = 180 * DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Signs new tokens and verifies.
    Active,
    /// Only verifies tokens signed before its retirement.
    Retired,
}

/// One stored signing key (public JWK only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyEntry {
    pub status: Status,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    pub jwk: Map<String, Value>,
}

impl Status {
    pub(crate) fn read(raw: &Raw<'_>) -> doc::Result<Status> {
        let i = doc::variant(raw, "enum Status", &["active", "retired"])?;
        Ok(if i == 0 {
            Status::Active
        } else {
            Status::Retired
        })
    }
}

/// JWK members that carry private key material (RFC 7518 §6).
const PRIVATE: [&str; 7] = ["d", "k", "p", "q", "dp", "dq", "qi"];

impl KeyEntry {
    /// Parses and checks one entry: a status, a creation time, a public JWK with a `kid`.
    pub fn from_json(text: &str) -> Result<KeyEntry> {
        doc::parse(text)
            .map_err(|e| Self::unreadable(&e))
            .and_then(|raw| Self::from_raw(&raw))
    }

    /// Reads a JSON array of entries, each as [`KeyEntry::from_json`] reads one.
    pub fn list_from_json(text: &str) -> Result<Vec<KeyEntry>> {
        let list = |e: String| invalid(format!("key entries: {e}"));
        let raw = doc::parse(text).map_err(list)?;
        let items = doc::items(&raw).map_err(list)?;
        items.iter().map(Self::from_raw).collect()
    }

    fn from_raw(raw: &Raw<'_>) -> Result<KeyEntry> {
        let e = KeyEntry::read(raw).map_err(|e| Self::unreadable(&e))?;
        e.check()?;
        Ok(e)
    }

    fn unreadable(e: &str) -> Error {
        invalid(format!(
            "key entry: {e} (needs {{status: active|retired, created_at, jwk with kid}})"
        ))
    }

    fn read(raw: &Raw<'_>) -> doc::Result<KeyEntry> {
        let fields = ["status", "created_at", "retired_at", "jwk"];
        let o = doc::object(raw, "struct KeyEntry", &fields)?;
        Ok(KeyEntry {
            status: o.required("status", Status::read)?,
            created_at: o.required("created_at", doc::int64)?,
            retired_at: o.optional("retired_at", doc::int64)?,
            jwk: o.required("jwk", doc::json_object)?,
        })
    }

    /// `entry` once it passes the same checks as a parsed one.
    pub(crate) fn checked(self) -> Result<KeyEntry> {
        self.check()?;
        Ok(self)
    }

    fn check(&self) -> Result<()> {
        let kid = self.kid();
        if kid.is_empty() {
            return Err(invalid("key entry: the jwk needs a \"kid\"".into()));
        }
        // A retired key's grace counts from its retirement (one written without it is never
        // removable by schedule); an active key with a retirement time would be half retired.
        match (self.status, self.retired_at) {
            (Status::Active, Some(_)) => {
                return Err(invalid(format!(
                    "key entry \"{}\" is active but has a retired_at",
                    printable(kid)
                )))
            }
            (Status::Retired, Some(at)) if at < self.created_at => {
                return Err(invalid(format!(
                    "key entry \"{}\" was retired before it was created",
                    printable(kid)
                )))
            }
            _ => {}
        }
        if let Some(m) = PRIVATE.iter().find(|m| self.jwk.contains_key(**m)) {
            return Err(invalid(format!(
                "key entry \"{}\" holds private key material (\"{m}\")",
                printable(kid)
            )));
        }
        Ok(())
    }

    pub fn kid(&self) -> &str {
        self.jwk.get("kid").and_then(Value::as_str).unwrap_or("")
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::KeyInvalid, message)
}

/// The schedule a plan follows (the worker configuration's `rotationDays` and `maxActiveKeys`).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub now: i64,
    pub rotation_days: i64,
    pub max_active: usize,
    /// Active keys older than this are retired by cleanup; default [`DEFAULT_MAX_AGE`].
    pub max_age: Option<i64>,
}

impl Schedule {
    /// Reads `{now, rotationDays, maxActive, maxAge?}` (JSON text).
    pub fn from_json(text: &str) -> std::result::Result<Schedule, String> {
        let raw = doc::parse(text)?;
        let fields = ["now", "rotationDays", "maxActive", "maxAge"];
        let o = doc::object(&raw, "struct Schedule", &fields)?;
        Ok(Schedule {
            now: o.required("now", doc::int64)?,
            rotation_days: o.required("rotationDays", doc::int64)?,
            max_active: o.required("maxActive", doc::size)?,
            max_age: o.optional("maxAge", doc::int64)?,
        })
    }
}

/// What is due for a key set, by `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Active keys, oldest first.
    pub active: Vec<String>,
    /// Active keys older than the rotation schedule.
    pub due: Vec<String>,
    /// Even the newest active key is past the schedule: rotate now.
    pub rotation_due: bool,
    pub newest_age_days: Option<i64>,
    /// Active keys beyond `max_active`, oldest first (to retire).
    pub excess: Vec<String>,
    /// The `created_at` of a key added now: `now`, or one second past the newest entry's when
    /// that is not earlier (two rotations within a second), so the key added last is always the
    /// newest: the one that signs, and never the one a rotation retires as excess.
    pub next_created_at: i64,
    /// Active keys past the maximum age (retired, never removed outright, by cleanup).
    pub too_old: Vec<String>,
    /// Retired keys every token of which has expired: cleanup may delete them.
    pub removable: Vec<String>,
    /// When each retired key becomes removable (`null`: never, without a lifetime cap).
    pub removable_at: BTreeMap<String, Option<i64>>,
}

impl Plan {
    /// The plan for `keys` (any order; sorted oldest first here) under an issuer's lifetimes.
    pub fn new(keys: &[KeyEntry], schedule: &Schedule, lifetimes: &Lifetimes) -> Plan {
        let mut keys: Vec<&KeyEntry> = keys.iter().collect();
        sort_by(&mut keys, |a, b| {
            a.created_at.cmp(&b.created_at).then(a.kid().cmp(b.kid()))
        });
        let now = schedule.now;
        let age = |k: &KeyEntry| now.saturating_sub(k.created_at);
        let active: Vec<&KeyEntry> = keys
            .iter()
            .copied()
            .filter(|k| k.status == Status::Active)
            .collect();
        let kids = |v: &[&KeyEntry]| v.iter().map(|k| k.kid().to_owned()).collect::<Vec<_>>();
        let due: Vec<&KeyEntry> = active
            .iter()
            .copied()
            .filter(|k| age(k) > schedule.rotation_days.saturating_mul(DAY))
            .collect();
        let max_age = schedule.max_age.unwrap_or(DEFAULT_MAX_AGE);
        let too_old: Vec<&KeyEntry> = active
            .iter()
            .copied()
            .filter(|k| age(k) > max_age)
            .collect();
        let excess = active
            .get(..active.len().saturating_sub(schedule.max_active))
            .unwrap_or_default();
        let grace = lifetimes.key_grace();
        let mut removable_at = BTreeMap::new();
        let mut removable = Vec::new();
        for k in keys.iter().filter(|k| k.status == Status::Retired) {
            // Without a recorded retirement it may have signed until now, and every day after:
            // never removable by schedule (a date that moved with the clock would mislead).
            let at = grace.and_then(|g| k.retired_at.map(|r| r.saturating_add(g)));
            if at.is_some_and(|t| t <= now) {
                removable.push(k.kid().to_owned());
            }
            removable_at.insert(k.kid().to_owned(), at);
        }
        let next_created_at = keys
            .last()
            .map_or(now, |k| now.max(k.created_at.saturating_add(1)));
        Plan {
            next_created_at,
            rotation_due: !active.is_empty() && due.len() == active.len(),
            newest_age_days: active.last().map(|k| age(k) / DAY),
            active: kids(&active),
            due: kids(&due),
            excess: kids(excess),
            too_old: kids(&too_old),
            removable,
            removable_at,
        }
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
        #[serde(rename_all = "lowercase")]
        pub enum Status {
            Active,
            Retired,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct KeyEntry {
            status: Status,
            created_at: i64,
            #[serde(default)]
            retired_at: Option<i64>,
            jwk: Map<String, Value>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct Schedule {
            now: i64,
            rotation_days: i64,
            max_active: usize,
            #[serde(default)]
            max_age: Option<i64>,
        }
    }

    #[test]
    fn entries_and_schedules_are_read_as_the_derived_readers_read_them() {
        for text in [
            r#"{"status":"active","created_at":1,"jwk":{"kid":"a"}}"#,
            r#"{"status":"retired","created_at":1,"retired_at":null,"jwk":{}}"#,
            r#"{"status":"Active","created_at":1,"jwk":{}}"#,
            r#"{"status":"active","jwk":{}}"#,
            r#"{"status":"active","created_at":1,"jwk":[]}"#,
            r#"{"status":"active","created_at":1,"jwk":{},"kid":"a"}"#,
            r#"{"status":"active","created_at":1.5,"jwk":{}}"#,
            r#"{"created_at":1,"jwk":{}}"#,
        ] {
            let ours = doc::parse(text)
                .and_then(|raw| KeyEntry::read(&raw))
                .map(drop);
            assert_eq!(ours, doc::derived::<before::KeyEntry>(text), "{text}");
        }
        for text in [
            r#"{"now":1,"rotationDays":30,"maxActive":3}"#,
            r#"{"now":1,"rotationDays":30,"maxActive":3,"maxAge":null}"#,
            r#"{"now":1,"rotationDays":30,"maxActive":-3}"#,
            r#"{"now":1,"rotationDays":30}"#,
            r#"{"now":1,"rotationDays":30,"maxActive":3,"max_age":1}"#,
            r#"{"now":"1","rotationDays":30,"maxActive":3}"#,
        ] {
            let ours = Schedule::from_json(text).map(drop);
            assert_eq!(ours, doc::derived::<before::Schedule>(text), "{text}");
        }
    }
}
