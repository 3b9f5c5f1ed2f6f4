//! Audit records: the lifecycle commands' log, one KV entry per change. The whole record is the
//! value; the list metadata carries it too when it fits, else a summary that always fits.

use crate::store::revocation::KV_METADATA_MAX;
use serde_json::{Map, Value};

/// Characters of the actor kept in a summary.
const ACTOR_IN_SUMMARY: usize = 200;

/// The metadata to store beside an audit record: the record itself when its JSON fits in
/// [`KV_METADATA_MAX`] bytes, else `{at, actor, action}` with the actor shortened.
pub fn audit_metadata(record: &Map<String, Value>) -> Value {
    let whole = Value::Object(record.clone());
    if whole.to_string().len() <= KV_METADATA_MAX {
        return whole;
    }
    let mut summary = Map::new();
    for name in ["at", "action"] {
        if let Some(v) = record.get(name) {
            summary.insert(name.into(), short(v, ACTOR_IN_SUMMARY));
        }
    }
    if let Some(actor) = record.get("actor") {
        summary.insert("actor".into(), short(actor, ACTOR_IN_SUMMARY));
    }
    summary.insert("truncated".into(), Value::Bool(true));
    Value::Object(summary)
}

fn short(v: &Value, chars: usize) -> Value {
    match v {
        Value::String(s) => Value::String(s.chars().take(chars).collect()),
        Value::Number(_) | Value::Bool(_) | Value::Null => v.clone(),
        other => Value::String(other.to_string().chars().take(chars).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_record_that_fits_is_its_own_metadata() {
        let r =
            record(json!({"at": "2026-12-01T00:00:00Z", "actor": "ops", "action": "keys.rotate"}));
        assert_eq!(audit_metadata(&r), Value::Object(r.clone()));
    }

    #[test]
    fn a_large_record_is_summarised_within_the_limit_in_bytes() {
        // Multi-byte characters: the bound is in bytes, not characters.
        let r = record(
            json!({"at": "2026-12-01T00:00:00Z", "actor": "é".repeat(600), "action": "tokens.revoke", "reason": "x".repeat(2000)}),
        );
        let m = audit_metadata(&r);
        assert!(m.to_string().len() <= KV_METADATA_MAX);
        assert_eq!(m["action"], "tokens.revoke");
        assert_eq!(m["truncated"], true);
        assert_eq!(
            m["actor"].as_str().unwrap().chars().count(),
            ACTOR_IN_SUMMARY
        );
        // Exactly at the limit still fits whole.
        let mut edge = record(json!({"at": "t", "actor": "a", "action": "x", "pad": ""}));
        let base = Value::Object(edge.clone()).to_string().len();
        edge.insert(
            "pad".into(),
            Value::String("p".repeat(KV_METADATA_MAX - base)),
        );
        assert_eq!(
            Value::Object(edge.clone()).to_string().len(),
            KV_METADATA_MAX
        );
        assert_eq!(audit_metadata(&edge), Value::Object(edge));
    }
}
