#![no_main]
//! Inspection (`inspect::inspect`, `duration`, `relative`, `iso8601`): never fails, always
//! serializes, and agrees with the parser and the API-key checker on what it was given.
//! Input: a flag byte, a clock (8 bytes), a refresh threshold and a lifetime bound (4 bytes
//! each), then the text.

use libfuzzer_sys::fuzz_target;
use tokengate::inspect::{self, Options};
use tokengate::{apikey, MAX_NUMERIC_DATE};
use tokengate::{jws, Limits};
use tokengate_fuzz::{Input, NOW};

const KINDS: [&str; 4] = ["jwt", "jwe", "apikey", "unknown"];
const STATUSES: [&str; 5] = [
    "not_yet_valid",
    "active",
    "expiring_soon",
    "expired",
    "unknown",
];

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let clock = input.i64();
    let threshold = input.i32();
    let max_lifetime = input.i32();
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    // Mostly a clock near NOW; any i64 when the flag says so (a caller's `now` is untrusted).
    let now = if flags & 1 == 0 {
        NOW + (clock % 1_000_000_000)
    } else {
        clock
    };
    let mut opts = Options::at(now);
    if flags & 2 != 0 {
        opts.refresh_threshold = i64::from(threshold);
        opts.max_lifetime = i64::from(max_lifetime);
    }
    let out = inspect::inspect(text, &opts);
    assert!(KINDS.contains(&out.kind), "kind {}", out.kind);
    assert!(STATUSES.contains(&out.status), "status {}", out.status);
    serde_json::to_string(&out).expect("an inspection serializes");
    for l in &out.lints {
        assert!(
            inspect::LINTS.iter().any(|(code, ..)| *code == l.code),
            "lint {} undocumented",
            l.code
        );
        assert!(["error", "warning", "info"].contains(&l.severity));
    }
    for t in out.times.values() {
        assert!((0..=MAX_NUMERIC_DATE as i64).contains(&t.unix));
        assert_eq!(t.iso, inspect::iso8601(t.unix));
    }

    let bare = text.trim();
    let bare = bare.strip_prefix("Bearer ").unwrap_or(bare).trim();
    if bare.starts_with(apikey::PREFIX) {
        assert_eq!(out.kind, "apikey");
        let info = out.apikey.as_ref().expect("an API key is described");
        let parsed = apikey::parse(bare);
        assert_eq!(info.checksum_valid, parsed.is_ok());
        assert_eq!(info.hash, parsed.ok());
    } else if let Ok(jws) = jws::parse(bare, &Limits::default(), &[]) {
        assert_eq!(out.kind, "jwt", "a parsed token is not inspected as a JWT");
        assert_eq!(out.header.as_ref(), Some(&jws.header()));
        assert_eq!(out.alg.as_deref(), Some(jws.alg.name()));
    }
    if out.kind == "jwt" && out.error.is_none() {
        assert!(out.parts.iter().all(|p| p.ok));
    }
    if let Some(e) = out.expires_in {
        let exp = out.times.get("exp").expect("expires_in comes from exp");
        assert_eq!(e, exp.unix.saturating_sub(now));
    }

    // The time helpers, on any value.
    let _ = inspect::duration(clock);
    let _ = inspect::relative(clock);
    if (0..=MAX_NUMERIC_DATE as i64).contains(&clock) {
        let iso = inspect::iso8601(clock);
        assert_eq!(from_iso(&iso), Some(clock), "iso8601({clock}) = {iso}");
    }
});

/// Reference inverse of `iso8601` (days from civil, proleptic Gregorian, UTC).
fn from_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || &s[4..5] != "-" || &s[7..8] != "-" || &s[10..11] != "T" || &s[19..] != "Z" {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let days_before_year = (1970..y)
        .map(|yy| {
            if (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0 {
                366
            } else {
                365
            }
        })
        .sum::<i64>()
        - (y..1970)
            .map(|yy| {
                if (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0 {
                    366
                } else {
                    365
                }
            })
            .sum::<i64>();
    let days = days_before_year + month_days[..(m - 1) as usize].iter().sum::<i64>() + d - 1;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}
