#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Inspection of whatever a user pastes.

mod common;
use common::*;
use serde_json::json;
use tokengate::inspect::{expiry_text, inspect, iso8601, relative, Options};
use tokengate::Alg;

fn codes(i: &tokengate::inspect::Inspection) -> Vec<&str> {
    i.lints.iter().map(|l| l.code).collect()
}

#[test]
fn jwt_header_claims_times_and_status() {
    let k = key(Alg::ES256);
    let t = k.mint(&claims()).unwrap();
    let i = inspect(&t, &Options::at(NOW));
    assert_eq!(
        (i.kind, i.status, i.needs_refresh, i.expires_in),
        ("jwt", "active", false, Some(600))
    );
    assert_eq!(i.header.as_ref().unwrap()["alg"], "ES256");
    assert_eq!(i.claims.as_ref().unwrap()["sub"], "user-1");
    assert_eq!(i.times["exp"].relative, "in 10 min");
    assert_eq!(i.times["iat"].relative, "10 s ago");
    assert_eq!(i.scopes_by_resource["users"], ["read"]);
    assert!(i.error.is_none());
    assert!(i.parts.iter().all(|p| p.ok));
    let soon = inspect(&t, &Options::at(NOW + 550));
    assert_eq!((soon.status, soon.needs_refresh), ("expiring_soon", true));
    assert_eq!(inspect(&t, &Options::at(NOW + 600)).status, "expired");
    let mut c = claims();
    c.insert("nbf".into(), json!(NOW + 100));
    assert_eq!(
        inspect(&k.mint(&c).unwrap(), &Options::at(NOW)).status,
        "not_yet_valid"
    );
    // "Bearer " prefixes and surrounding whitespace are tolerated.
    assert_eq!(
        inspect(&format!("  Bearer {t}\n"), &Options::at(NOW)).kind,
        "jwt"
    );
}

#[test]
fn lints_flag_what_a_reviewer_would() {
    let k = key(Alg::HS256);
    let c = json!({"iss": "https://auth.example.com", "exp": NOW + 40 * 86_400, "iat": NOW, "type": "refresh", "password": "x"});
    let i = inspect(&k.mint(&obj(c)).unwrap(), &Options::at(NOW));
    for want in [
        "lifetime_over_max",
        "no_jti",
        "no_aud",
        "refresh_token_as_bearer",
        "hs_alg_public_issuer",
        "sensitive_claim",
    ] {
        assert!(
            codes(&i).contains(&want),
            "{want} missing from {:?}",
            codes(&i)
        );
    }
    let none = forge(
        r#"{"alg":"none","jku":"https://x"}"#,
        r#"{"nbf":10,"exp":5,"iat":99999999999}"#,
        "",
    );
    let i = inspect(&none, &Options::at(NOW));
    for want in [
        "alg_none",
        "header_key_reference",
        "nbf_after_exp",
        "iat_in_future",
    ] {
        assert!(
            codes(&i).contains(&want),
            "{want} missing from {:?}",
            codes(&i)
        );
    }
    let i = inspect(
        &forge(r#"{"alg":"RS256"}"#, r#"{"sub":"a","sub":"b"}"#, "c2ln"),
        &Options::at(NOW),
    );
    assert!(codes(&i).contains(&"duplicate_claim"));
    assert!(codes(&i).contains(&"no_exp"));
    assert!(codes(&i).contains(&"no_kid"));
    assert!(i.claims.is_some(), "content is still shown");
    let i = inspect(
        &forge(r#"{"alg":"HS256"}"#, r#"{"exp":"soon"}"#, "c2ln"),
        &Options::at(NOW),
    );
    assert!(codes(&i).contains(&"numeric_date_invalid"));
    for l in &i.lints {
        assert!(l.reference.starts_with("https://www.rfc-editor.org/rfc/"));
        assert!(matches!(l.severity, "error" | "warning" | "info"));
    }
}

#[test]
fn broken_parts_are_pointed_at() {
    let t = key(Alg::HS256).mint(&claims()).unwrap();
    let (h, rest) = t.split_once('.').unwrap();
    let bad = format!("{h}.{}!{}", &rest[..20], &rest[20..]);
    let i = inspect(&bad, &Options::at(NOW));
    let payload = i.parts.iter().find(|p| p.name == "payload").unwrap();
    assert_eq!(
        payload.error.as_deref(),
        Some(
            format!(
                "payload: not valid base64url at character {}",
                h.len() + 1 + 20
            )
            .as_str()
        )
    );
    assert_eq!(i.error.as_ref().unwrap().0, "token_malformed");
    assert!(i.header.is_some(), "the intact header is still decoded");
    let truncated = inspect(&t[..t.len() / 2], &Options::at(NOW));
    assert_eq!(truncated.kind, "unknown");
    assert!(truncated.error.unwrap().1.contains("3 dot-separated parts"));
    let garbage = inspect("hello world", &Options::at(NOW));
    assert_eq!(garbage.kind, "unknown");
    let jwe = inspect(
        "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
        &Options::at(NOW),
    );
    assert_eq!(jwe.kind, "jwe");
    assert_eq!(jwe.alg.as_deref(), Some("RSA-OAEP"));
}

#[test]
fn api_keys_are_recognised() {
    let raw = tokengate::apikey::generate().unwrap();
    let i = inspect(&raw, &Options::at(NOW));
    assert_eq!(i.kind, "apikey");
    let info = i.apikey.unwrap();
    assert!(info.checksum_valid);
    assert_eq!(info.hash.unwrap(), tokengate::apikey::hash(&raw));
    let bad = inspect(&format!("{}0", &raw[..raw.len() - 1]), &Options::at(NOW));
    let bad_info = bad.apikey.unwrap();
    assert!(!bad_info.checksum_valid || raw.ends_with('0'));
}

#[test]
fn time_rendering() {
    assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    assert_eq!(iso8601(1_300_819_380), "2011-03-22T18:43:00Z");
    assert_eq!(iso8601(253_402_300_799), "9999-12-31T23:59:59Z");
    assert_eq!(relative(250), "in 4 min 10 s");
    assert_eq!(relative(-3 * 86_400 - 7200), "3 d 2 h ago");
    assert_eq!(relative(0), "now");
    // Past a year, years: not "3650 d".
    assert_eq!(relative(3650 * 86_400), "in 10 years");
    assert_eq!(relative(-(366 * 86_400 + 3600)), "1 year 1 d ago");
}

/// A list's expiry column agrees with the status: at `exp == now` the token is expired.
#[test]
fn expiry_wording_follows_the_status() {
    assert_eq!(expiry_text(3240), "expires in 54 min");
    assert_eq!(expiry_text(1), "expires in 1 s");
    assert_eq!(expiry_text(0), "expired now");
    assert_eq!(expiry_text(-3600), "expired 1 h ago");
    let k = key(Alg::ES256);
    let mut c = claims();
    c.insert("exp".into(), json!(NOW));
    let i = inspect(&k.mint(&c).unwrap(), &Options::at(NOW));
    assert_eq!(i.status, "expired");
    assert_eq!(expiry_text(i.expires_in.unwrap()), "expired now");
}

/// Every duration a page shows comes worded by the core: expiry, lifetime, maximum lifetime.
#[test]
fn durations_are_worded_by_the_core() {
    let k = key(Alg::ES256);
    let mut c = claims();
    c.insert("iat".into(), json!(NOW - 20));
    c.insert("exp".into(), json!(NOW + 3560));
    let i = inspect(&k.mint(&c).unwrap(), &Options::at(NOW));
    assert_eq!(i.expires_in_text.as_deref(), Some("in 59 min 20 s"));
    assert_eq!(i.lifetime_text.as_deref(), Some("59 min 40 s"));
    assert_eq!(i.max_lifetime_text, "30 d");
    c.insert("exp".into(), json!(NOW - 20 + 3650 * 86_400));
    let huge = inspect(&k.mint(&c).unwrap(), &Options::at(NOW));
    assert_eq!(huge.lifetime_text.as_deref(), Some("10 years"));
    assert_eq!(huge.expires_in_text.as_deref(), Some("in 9 years 364 d"));
    c.insert("exp".into(), json!(NOW - 100));
    let gone = inspect(&k.mint(&c).unwrap(), &Options::at(NOW));
    assert_eq!(gone.expires_in_text.as_deref(), Some("1 min 40 s ago"));
}

#[test]
fn readme_documents_every_lint() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (code, severity, advice, reference) in tokengate::inspect::LINTS {
        assert!(
            readme.contains(&format!("`{code}`")),
            "README lacks lint {code}"
        );
        // Its row in the lint table (`| lint | severity | flags |`) says the same severity.
        let row: Vec<&str> = readme
            .lines()
            .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
            .find(|cells| cells.len() > 3 && cells[1].contains(&format!("`{code}`")))
            .unwrap_or_else(|| panic!("no README table row for {code}"));
        assert_eq!(row[2], *severity, "README row for {code}: {row:?}");
        assert!(
            matches!(*severity, "error" | "warning" | "info")
                && !advice.is_empty()
                && reference.starts_with("https://")
        );
    }
}

/// `lifetime_over_max` is raised exactly when the default policy rejects the token for its
/// lifetime (`lifetime_exceeded`), so it is an error: the inspector never shows such a token as
/// fine. With `iat`, `exp - iat` over 30 days; without, valid for over 30 days plus leeway from now.
#[test]
fn lifetime_over_max_is_an_error_exactly_when_the_default_policy_rejects() {
    use tokengate::ErrorCode;
    let k = key(Alg::ES256);
    let v = validator(&k, json!({}));
    let max = 30 * 86_400;
    let cases = [
        (json!({"iat": NOW - 10, "exp": NOW - 10 + max}), false),
        (json!({"iat": NOW - 10, "exp": NOW - 10 + max + 1}), true),
        (json!({"iat": null, "exp": NOW + max + 60}), false),
        (json!({"iat": null, "exp": NOW + max + 61}), true),
    ];
    for (changes, over) in cases {
        let t = k.mint(&claims_with(&changes)).unwrap();
        let i = inspect(&t, &Options::at(NOW));
        let lint = i.lints.iter().find(|l| l.code == "lifetime_over_max");
        assert_eq!(lint.is_some(), over, "{changes}: {:?}", codes(&i));
        assert_eq!(
            code(&v, &t) == Err(ErrorCode::LifetimeExceeded),
            over,
            "{changes}"
        );
        if let Some(l) = lint {
            assert_eq!(l.severity, "error");
        }
        assert_eq!(i.max_lifetime, max);
    }
}
