#![no_main]
//! API keys and their records (`apikey` module, `Validator::validate_apikey`).
//! - `parse` accepts exactly what a reference implementation of the documented format accepts
//!   (`tgk_` + 43 base62 + 6 base62 of the first 4 bytes of SHA-256 over prefix and body);
//! - a record checks as documented (unknown, revoked, purged, expired, else the owner and its
//!   scopes), JSON records round-trip, and the lifecycle (create, rotate, revoke) holds;
//! - a validated key's scopes are only narrowed by grants, the requirement holds, and a key on
//!   the revocation list is refused.
//!
//! Input: flag byte, two clock offsets (2 bytes each), then text parts: raw key (or body
//! material), owner, scopes, a record (JSON), grants, requirement.

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use tokengate::apikey::{self, NewKey, Record, State};
use tokengate::{Context, ErrorCode, Policy, Requirement, RevocationList, ScopeSet, Validator};
use tokengate_fuzz::{assert_narrowed, eval, hs256_set, list_covers, Input, NOW};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Reference base62 of a big-endian number, fixed width (most significant digit first).
fn base62(bytes: &[u8], width: usize) -> String {
    let mut n: u128 = bytes.iter().fold(0, |acc, b| (acc << 8) | u128::from(*b));
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("ASCII")
}

fn reference_checksum(head: &str) -> String {
    base62(&Sha256::digest(head.as_bytes())[..4], 6)
}

fn reference_valid(raw: &str) -> bool {
    raw.len() == 53
        && raw.starts_with("tgk_")
        && raw.bytes().skip(4).all(|b| b.is_ascii_alphanumeric())
        && reference_checksum(&raw[..47]) == raw[47..]
}

fn hex_sha256(raw: &str) -> String {
    Sha256::digest(raw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let now = NOW + i64::from(input.i16()) * 64;
    let expiry = NOW + i64::from(input.i16()) * 64;
    let raw_text = input.text();
    let owner = input.text();
    let scopes_text = input.text();
    let record_text = input.text();
    let grants_text = input.text();
    let req_text = input.text();

    // The raw key: as given, or built from the input's bytes with a correct checksum.
    let raw = if flags & 1 == 0 {
        raw_text.clone()
    } else {
        let body: String = raw_text
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(43)
            .map(|b| ALPHABET[usize::from(b) % 62] as char)
            .collect();
        let head = format!("tgk_{body}");
        let check = reference_checksum(&head);
        format!("{head}{check}")
    };
    let parsed = apikey::parse(&raw);
    assert_eq!(
        parsed.is_ok(),
        reference_valid(&raw),
        "parse disagrees with the format on {raw:?}"
    );
    match &parsed {
        Ok(h) => assert_eq!(h, &hex_sha256(&raw)),
        Err(e) => assert_eq!(e.code(), ErrorCode::ApikeyMalformed),
    }
    assert_eq!(apikey::hash(&raw), hex_sha256(&raw));
    assert_eq!(apikey::has_prefix(&raw), raw.starts_with("tgk_"));

    // A record: from JSON, or made for this key.
    let scopes: Vec<String> = scopes_text
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let record = match Record::from_json(&record_text) {
        Ok(r) => {
            let text = serde_json::to_string(&r).expect("a record serializes");
            assert_eq!(Record::from_json(&text).expect("round trip"), r);
            r
        }
        Err(_) => Record {
            id: "ak_fuzz".into(),
            hash: if flags & 2 == 0 {
                hex_sha256(&raw)
            } else {
                record_text.clone()
            },
            name: "fuzz".into(),
            description: String::new(),
            owner: owner.clone(),
            scopes: scopes.clone(),
            created_at: NOW - 1000,
            expires_at: expiry,
            state: match (flags >> 2) & 3 {
                1 => State::Revoked,
                2 => State::Purged,
                _ => State::Active,
            },
            rotated_at: (flags & 16 != 0).then_some(NOW - 10),
            revoked_at: None,
        },
    };
    let present = flags & 32 == 0;
    let checked = Record::check(&raw, present.then_some(&record), now);
    let want = if !reference_valid(&raw) {
        Err(ErrorCode::ApikeyMalformed)
    } else if !present || record.hash != hex_sha256(&raw) {
        Err(ErrorCode::ApikeyUnknown)
    } else if record.state == State::Revoked {
        Err(ErrorCode::ApikeyRevoked)
    } else if record.state == State::Purged {
        Err(ErrorCode::ApikeyPurged)
    } else if record.expires_at <= now {
        Err(ErrorCode::ApikeyExpired)
    } else {
        Ok(())
    };
    assert_eq!(checked.as_ref().map(|_| ()).map_err(|e| e.code()), want);
    if let Ok(v) = &checked {
        assert_eq!(v.kind, "apikey");
        assert_eq!(v.subject.as_deref(), Some(record.owner.as_str()));
        assert_eq!(v.token_id.as_deref(), Some(record.id.as_str()));
        assert_eq!(v.scopes, record.scopes);
        assert_eq!(v.expires_at, Some(record.expires_at));
        assert_eq!(
            v.issued_at,
            Some(record.rotated_at.unwrap_or(record.created_at))
        );
    }
    let status = record.status(now);
    assert_eq!(
        status,
        match record.state {
            State::Active if record.expires_at <= now => "expired",
            State::Active => "active",
            State::Revoked => "revoked",
            State::Purged => "purged",
        }
    );

    // Through a validator, with grants, a requirement and a revocation list.
    let validator = Validator::new(hs256_set().clone(), Policy::default());
    let grants = ScopeSet::parse(&grants_text).ok();
    let req = Requirement::parse(&req_text).ok();
    let list = RevocationList::from_json(
        &serde_json::json!({"schema": 1, "version": 1, "generated_at": NOW,
            "apikeys": [{"hash": hex_sha256(&raw), "until": NOW + 1000}]})
        .to_string(),
    )
    .expect("list");
    let ctx = Context {
        revocations: (flags & 64 != 0).then_some(&list),
        grants: grants.as_ref(),
        scope: req.as_ref(),
    };
    let result = validator.validate_apikey(&raw, present.then_some(&record), now, &ctx);
    match &result {
        Ok(v) => {
            assert!(
                checked.is_ok(),
                "the validator accepted what the record refuses"
            );
            assert!(ctx.revocations.is_none(), "a revoked API key was accepted");
            let g = grants.as_ref().map(ScopeSet::as_slice);
            assert_narrowed(&v.scopes, &record.scopes, g);
            if let Some(r) = &req {
                let has =
                    |s: &str| list_covers(&record.scopes, s) && g.is_none_or(|g| list_covers(g, s));
                assert!(eval(r.expr(), &has), "accepted without the required scopes");
            }
        }
        Err(e) => {
            if let Err(c) = &checked {
                assert_eq!(e.code(), c.code());
            }
        }
    }

    // Lifecycle: create, rotate, revoke.
    if flags & 128 != 0 {
        let spec = NewKey {
            name: "fuzz".into(),
            description: String::new(),
            owner: owner.clone(),
            scopes: scopes.clone(),
            ttl: Some(expiry - NOW),
            max_ttl: None,
        };
        match Record::create(spec, now) {
            Err(e) => assert!(matches!(
                e.code(),
                ErrorCode::OptionsInvalid | ErrorCode::ScopeInvalid
            )),
            Ok((new_raw, mut rec)) => {
                assert!(reference_valid(&new_raw));
                assert_eq!(rec.hash, hex_sha256(&new_raw));
                assert!(rec.expires_at > now);
                assert!(Record::check(&new_raw, Some(&rec), now).is_ok());
                assert_eq!(
                    Record::check(&new_raw, Some(&rec), rec.expires_at)
                        .map(|_| ())
                        .map_err(|e| e.code()),
                    Err(ErrorCode::ApikeyExpired)
                );
                let rotated = rec.rotate(now).expect("an active key rotates");
                assert_ne!(rotated, new_raw);
                assert_eq!(
                    Record::check(&new_raw, Some(&rec), now)
                        .map(|_| ())
                        .map_err(|e| e.code()),
                    Err(ErrorCode::ApikeyUnknown)
                );
                assert!(Record::check(&rotated, Some(&rec), now).is_ok());
                rec.revoke(now, flags & 2 != 0);
                let code = if flags & 2 != 0 {
                    ErrorCode::ApikeyPurged
                } else {
                    ErrorCode::ApikeyRevoked
                };
                assert_eq!(
                    Record::check(&rotated, Some(&rec), now)
                        .map(|_| ())
                        .map_err(|e| e.code()),
                    Err(code)
                );
                assert!(rec.rotate(now).is_err(), "a revoked key rotated");
                assert_eq!(rec.revoked_at, Some(now));
            }
        }
    }
});
