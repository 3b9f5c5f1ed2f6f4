#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The signing-key lifecycle plan the cron, `keys` and `status` share.

use serde_json::json;
use tokengate::revocation::Lifetimes;
use tokengate::ErrorCode;
use tokengate::{KeyEntry, Plan, Schedule};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn key(kid: &str, status: &str, age_days: i64, retired_days_ago: Option<i64>) -> KeyEntry {
    let mut v = json!({ "status": status, "created_at": NOW - age_days * DAY,
                        "jwk": { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": kid } });
    if let Some(d) = retired_days_ago {
        v["retired_at"] = json!(NOW - d * DAY);
    }
    KeyEntry::from_json(&v.to_string()).unwrap()
}

fn schedule() -> Schedule {
    Schedule {
        now: NOW,
        rotation_days: 30,
        max_active: 2,
        max_age: None,
    }
}

const DAY_LIFETIMES: Lifetimes = Lifetimes {
    leeway: 60,
    max_lifetime: Some(DAY),
};

#[test]
fn due_excess_too_old_and_removable() {
    let keys = [
        key("new", "active", 1, None),
        key("old", "active", 200, None),
        key("mid", "active", 40, None),
        key("gone", "retired", 300, Some(2)),
        key("fresh-retired", "retired", 300, Some(0)),
    ];
    let p = Plan::new(&keys, &schedule(), &DAY_LIFETIMES);
    assert_eq!(p.active, ["old", "mid", "new"]);
    assert_eq!(p.due, ["old", "mid"]);
    assert!(!p.rotation_due, "the newest key is within the schedule");
    assert_eq!(p.newest_age_days, Some(1));
    assert_eq!(p.excess, ["old"]);
    assert_eq!(p.too_old, ["old"]);
    // Grace = maxLifetime + 2 × leeway after retirement.
    assert_eq!(p.removable, ["gone"]);
    assert_eq!(p.removable_at["fresh-retired"], Some(NOW + DAY + 120));
}

#[test]
fn rotation_is_due_when_even_the_newest_key_is_old() {
    let p = Plan::new(&[key("a", "active", 31, None)], &schedule(), &DAY_LIFETIMES);
    assert!(p.rotation_due);
    assert_eq!(p.newest_age_days, Some(31));
    let none = Plan::new(&[], &schedule(), &DAY_LIFETIMES);
    assert!(!none.rotation_due);
    assert_eq!(none.newest_age_days, None);
}

#[test]
fn without_a_lifetime_cap_a_retired_key_is_never_removable() {
    let no_cap = Lifetimes {
        leeway: 60,
        max_lifetime: None,
    };
    let p = Plan::new(&[key("r", "retired", 900, Some(800))], &schedule(), &no_cap);
    assert!(p.removable.is_empty());
    assert_eq!(p.removable_at["r"], None);
    // A retired key with no recorded retirement may have signed until now: never removable,
    // and no removal date that moves with the clock.
    let p = Plan::new(
        &[key("u", "retired", 900, None)],
        &schedule(),
        &DAY_LIFETIMES,
    );
    assert!(p.removable.is_empty());
    assert_eq!(p.removable_at["u"], None);
}

#[test]
fn entries_are_checked() {
    for bad in [
        json!({ "status": "active", "created_at": 1, "jwk": { "kty": "oct", "k": "c2VjcmV0", "kid": "s" } }),
        json!({ "status": "active", "created_at": 1, "jwk": { "kty": "EC", "d": "x", "kid": "p" } }),
        json!({ "status": "active", "created_at": 1, "jwk": { "kty": "EC" } }),
        json!({ "status": "paused", "created_at": 1, "jwk": { "kid": "x" } }),
        json!({ "status": "active", "created_at": "1", "jwk": { "kid": "x" } }),
        json!({ "status": "active", "created_at": 1, "jwk": { "kid": "x" }, "extra": 1 }),
        json!({ "status": "active", "created_at": 1, "retired_at": 2, "jwk": { "kid": "x" } }),
        json!({ "status": "retired", "created_at": 5, "retired_at": 2, "jwk": { "kid": "x" } }),
    ] {
        let e = KeyEntry::from_json(&bad.to_string()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::KeyInvalid, "{bad}");
    }
}

#[test]
fn a_key_added_within_the_same_second_as_the_newest_is_still_the_newest() {
    // Older keys: a new one is created now.
    let p = Plan::new(&[key("a", "active", 3, None)], &schedule(), &DAY_LIFETIMES);
    assert_eq!(p.next_created_at, NOW);
    assert_eq!(
        Plan::new(&[], &schedule(), &DAY_LIFETIMES).next_created_at,
        NOW
    );
    // Two rotations within one second: the second key sorts after the first, so it signs and
    // the first (not the one just added) is the excess a rotation retires.
    let first = key("zz-first", "active", 0, None);
    let p = Plan::new(
        &[key("a", "active", 3, None), first.clone()],
        &schedule(),
        &DAY_LIFETIMES,
    );
    assert_eq!(p.next_created_at, NOW + 1);
    let mut second = key("aa-second", "active", 0, None);
    second.created_at = p.next_created_at;
    let p = Plan::new(
        &[key("a", "active", 3, None), first, second],
        &schedule(),
        &DAY_LIFETIMES,
    );
    assert_eq!(p.active, ["a", "zz-first", "aa-second"]);
    assert_eq!(p.excess, ["a"]);
    assert_eq!(p.next_created_at, NOW + 2);
}
