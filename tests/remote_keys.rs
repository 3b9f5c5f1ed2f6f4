#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Remote keys, as an attacker controlling (or impersonating) an identity provider would try
//! them: every fetched document below is judged by the core, with the exact reason, and a bad
//! one never replaces good keys.

mod common;

use common::key;
use serde_json::{json, Value};
use tokengate::remote::{
    action, check_discovery, check_url, discovery_urls, may_force, Action, FetchPolicy, KidWants,
    Reason, RemoteKeys, Response, SourceOptions, Times, DEFAULT_DISCOVERY_MAX_AGE,
    DEFAULT_KEYS_MAX_STALE, DEFAULT_KID_COOLDOWN,
};
use tokengate::{Alg, Config, ErrorCode};

const ISS: &str = "https://idp.example";
const URL: &str = "https://idp.example/jwks";
const T0: u64 = 1_800_000_000_000;

fn policy() -> FetchPolicy {
    FetchPolicy::default()
}

fn ok(etag: Option<&str>, cc: Option<&str>) -> Response {
    Response {
        status: 200,
        etag: etag.map(str::to_owned),
        cache_control: cc.map(str::to_owned),
        ..Response::default()
    }
}

fn status(s: u16) -> Response {
    Response {
        status: s,
        ..Response::default()
    }
}

fn jwks(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

fn pubkey(alg: Alg, kid: &str) -> Value {
    let k = tokengate::SigningKey::generate(alg, Some(kid.into()), None).unwrap();
    Value::Object(k.public_jwk())
}

/// A document holding one good ES256 key fetched at T0.
fn good() -> RemoteKeys {
    let (doc, f) = RemoteKeys::empty(ISS).after_fetch(
        URL,
        &ok(Some("\"v1\""), Some("max-age=600")),
        &jwks(&[pubkey(Alg::ES256, "a")]),
        T0,
        &policy(),
    );
    assert_eq!(f, None);
    doc
}

fn reason(doc: &RemoteKeys) -> &str {
    &doc.last_error.as_ref().expect("an error").reason
}

#[test]
fn url_rule_https_or_loopback_only() {
    for url in [
        "https://idp.example/jwks",
        "https://idp.example:8443/a/b?x=1",
        "http://127.0.0.1:9000/jwks",
        "http://127.1.2.3/jwks",
        "http://localhost:1/x",
        "http://[::1]:8080/x",
    ] {
        assert_eq!(check_url(url), Ok(()), "{url}");
    }
    for url in [
        "http://idp.example/jwks",           // plain http off loopback
        "http://127.0.0.1.evil.example/x",   // looks like loopback
        "http://128.0.0.1/x",                // not 127/8
        "http://127.0.0.256/x",              // not an address
        "http://[::2]/x",                    // not ::1
        "https://user:pw@idp.example/jwks",  // credentials
        "https://idp.example@evil.example/", // userinfo trick
        "https://idp.example/jwks#frag",     // fragment
        "ftp://idp.example/jwks",
        "//idp.example/jwks",
        "https:///jwks",
        "https://idp.example:99999/",
        "https://idp .example/",
        "https://idp.example/\\evil",
        "file:///etc/passwd",
        "",
    ] {
        let e = check_url(url).unwrap_err();
        assert_eq!(e.reason, Reason::UrlNotAllowed, "{url}");
    }
    let long = format!("https://idp.example/{}", "a".repeat(3000));
    assert_eq!(check_url(&long).unwrap_err().reason, Reason::UrlNotAllowed);
}

#[test]
fn discovery_urls_oidc_then_rfc8414() {
    assert_eq!(
        discovery_urls("https://idp.example").unwrap(),
        [
            "https://idp.example/.well-known/openid-configuration",
            "https://idp.example/.well-known/oauth-authorization-server"
        ]
    );
    assert_eq!(
        discovery_urls("https://idp.example/tenant/1/").unwrap(),
        [
            "https://idp.example/tenant/1/.well-known/openid-configuration",
            "https://idp.example/.well-known/oauth-authorization-server/tenant/1"
        ]
    );
    assert_eq!(
        discovery_urls("http://idp.example").unwrap_err().reason,
        Reason::UrlNotAllowed
    );
    assert_eq!(
        discovery_urls("https://idp.example/?x=1")
            .unwrap_err()
            .reason,
        Reason::UrlNotAllowed
    );
}

#[test]
fn discovery_document_table() {
    let p = policy();
    let doc = |v: Value| v.to_string().into_bytes();
    assert_eq!(
        check_discovery(ISS, &doc(json!({"issuer": ISS, "jwks_uri": URL})), &p).unwrap(),
        URL
    );
    let cases: Vec<(Vec<u8>, Reason)> = vec![
        // another issuer, even by a trailing slash or case
        (
            doc(json!({"issuer": "https://evil.example", "jwks_uri": URL})),
            Reason::IssuerMismatch,
        ),
        (
            doc(json!({"issuer": "https://idp.example/", "jwks_uri": URL})),
            Reason::IssuerMismatch,
        ),
        (
            doc(json!({"issuer": "https://IDP.example", "jwks_uri": URL})),
            Reason::IssuerMismatch,
        ),
        (doc(json!({"jwks_uri": URL})), Reason::DiscoveryInvalid),
        (
            doc(json!({"issuer": 1, "jwks_uri": URL})),
            Reason::DiscoveryInvalid,
        ),
        (doc(json!({"issuer": ISS})), Reason::DiscoveryInvalid),
        (
            doc(json!({"issuer": ISS, "jwks_uri": ["x"]})),
            Reason::DiscoveryInvalid,
        ),
        // jwks_uri over plain http to a public host
        (
            doc(json!({"issuer": ISS, "jwks_uri": "http://idp.example/jwks"})),
            Reason::UrlNotAllowed,
        ),
        (b"<html>nope</html>".to_vec(), Reason::NotJson),
        (b"[1,2]".to_vec(), Reason::NotJson),
        (b"".to_vec(), Reason::NotJson),
        (vec![0xff, 0xfe], Reason::NotJson),
        // duplicate members are refused (which issuer would be meant?)
        (
            format!(r#"{{"issuer":"{ISS}","issuer":"https://evil.example","jwks_uri":"{URL}"}}"#)
                .into_bytes(),
            Reason::NotJson,
        ),
        (vec![b' '; 300 * 1024], Reason::TooLarge),
    ];
    for (body, want) in cases {
        let got = check_discovery(ISS, &body, &p).unwrap_err();
        assert_eq!(
            got.reason,
            want,
            "{}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        );
    }
}

#[test]
fn max_age_is_clamped() {
    let p = policy();
    assert_eq!(p.max_age(Some("max-age=0")), 300);
    assert_eq!(p.max_age(Some("public, max-age=315360000")), 86_400); // 10 years
    assert_eq!(
        p.max_age(Some("max-age=99999999999999999999999999")),
        86_400
    );
    assert_eq!(p.max_age(Some("max-age=3600")), 3600);
    assert_eq!(p.max_age(Some("max-age=3600, s-maxage=7200")), 7200);
    assert_eq!(p.max_age(Some("max-age=3600, no-cache")), 300);
    assert_eq!(p.max_age(Some("no-store")), 300);
    assert_eq!(p.max_age(Some("max-age=-5")), 300);
    assert_eq!(p.max_age(Some("max-age=abc")), 300);
    assert_eq!(p.max_age(Some("MAX-AGE=1000")), 1000);
    assert_eq!(p.max_age(None), 600);
    let short = FetchPolicy {
        min_max_age: 1,
        max_max_age: 2,
        ..p
    };
    assert_eq!(short.max_age(Some("max-age=3600")), 2);
}

#[test]
fn fetch_policy_bounds_are_checked() {
    let mut problems = Vec::new();
    FetchPolicy::default().check(&mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    for bad in [
        FetchPolicy {
            timeout: 0,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            timeout: 31,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            max_bytes: 10,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            min_max_age: 0,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            min_max_age: 600,
            max_max_age: 300,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            max_max_age: 30 * 86_400,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            discovery_max_age: 0,
            ..FetchPolicy::default()
        },
        FetchPolicy {
            discovery_max_age: 8 * 86_400,
            ..FetchPolicy::default()
        },
    ] {
        let mut problems = Vec::new();
        bad.check(&mut problems);
        assert_eq!(problems.len(), 1, "{bad:?}");
    }
}

#[test]
fn a_request_joining_a_fetch_waits_for_discovery_and_jwks() {
    // Default timeout 5 s: discovery 5 s + JWKS 5 s + 2 s for the KV and cache writes.
    assert_eq!(FetchPolicy::default().join_wait_ms(), 12_000);
    let longest = FetchPolicy {
        timeout: 30,
        ..FetchPolicy::default()
    };
    assert_eq!(longest.join_wait_ms(), 62_000);
}

#[test]
fn a_good_jwks_is_kept_with_its_times() {
    let doc = good();
    assert_eq!(doc.keys.len(), 1);
    assert_eq!(doc.source.as_deref(), Some(URL));
    assert_eq!(doc.etag.as_deref(), Some("\"v1\""));
    assert_eq!(doc.max_age, 600);
    let t = doc.times(3600).unwrap();
    assert_eq!(
        t,
        Times {
            fetched_at: T0,
            refresh_at: T0 + 450_000,
            expires_at: T0 + 600_000,
            stale_until: T0 + 600_000 + 3_600_000
        }
    );
    // Round trip through KV.
    let text = serde_json::to_string(&doc).unwrap();
    assert_eq!(RemoteKeys::from_json(&text, ISS).unwrap(), doc);
    // Another issuer's document is not this one's.
    assert_eq!(
        RemoteKeys::from_json(&text, "https://other.example")
            .unwrap_err()
            .code(),
        ErrorCode::DataUnavailable
    );
}

/// Every bad answer keeps the previous keys (same fetched_at: its age cannot be renewed) and
/// records the exact reason.
#[test]
fn bad_answers_keep_previous_keys() {
    let p = policy();
    let private = Value::Object(key(Alg::ES256).private_jwk());
    let oct =
        json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"});
    let ec = pubkey(Alg::ES256, "dup");
    let cases: Vec<(&str, Response, Vec<u8>, Reason)> = vec![
        (
            "garbage",
            ok(None, None),
            b"garbage".to_vec(),
            Reason::NotJson,
        ),
        (
            "html",
            ok(None, None),
            b"<html></html>".to_vec(),
            Reason::NotJson,
        ),
        (
            "10 MB",
            ok(None, None),
            vec![b' '; 10 * 1024 * 1024],
            Reason::TooLarge,
        ),
        (
            "just over",
            ok(None, None),
            vec![b' '; 256 * 1024 + 1],
            Reason::TooLarge,
        ),
        (
            "no keys",
            ok(None, None),
            b"{}".to_vec(),
            Reason::JwksInvalid,
        ),
        (
            "keys not array",
            ok(None, None),
            br#"{"keys":{}}"#.to_vec(),
            Reason::JwksInvalid,
        ),
        ("empty", ok(None, None), jwks(&[]), Reason::JwksInvalid),
        (
            "only private",
            ok(None, None),
            jwks(std::slice::from_ref(&private)),
            Reason::JwksInvalid,
        ),
        (
            "only oct",
            ok(None, None),
            jwks(std::slice::from_ref(&oct)),
            Reason::JwksInvalid,
        ),
        (
            "duplicate kid",
            ok(None, None),
            jwks(&[ec.clone(), ec.clone()]),
            Reason::JwksInvalid,
        ),
        (
            "non-object key",
            ok(None, None),
            br#"{"keys":[1]}"#.to_vec(),
            Reason::JwksInvalid,
        ),
        ("302", status(302), vec![], Reason::Redirect),
        ("307", status(307), vec![], Reason::Redirect),
        (
            "hidden redirect",
            Response {
                redirected: true,
                ..status(0)
            },
            vec![],
            Reason::Redirect,
        ),
        ("500", status(500), vec![], Reason::HttpStatus),
        ("404", status(404), vec![], Reason::HttpStatus),
        ("204", status(204), vec![], Reason::HttpStatus),
    ];
    for (name, resp, body, want) in cases {
        let before = good();
        let (after, f) = before.clone().after_fetch(URL, &resp, &body, T0 + 1000, &p);
        assert_eq!(f.map(|f| f.reason), Some(want), "{name}");
        assert_eq!(reason(&after), want.as_str(), "{name}");
        assert_eq!(after.keys, before.keys, "{name}");
        assert_eq!(after.fetched_at_ms, T0, "{name}");
        assert_eq!(after.attempted_at_ms, T0 + 1000, "{name}");
        assert_eq!(after.failures, 1, "{name}");
    }
    // A 304 is only for the URL and validator held: the same answer for another URL fails.
    let (after, f) = good().after_fetch("https://idp.example/other", &status(304), &[], T0 + 1, &p);
    assert_eq!(f.unwrap().reason, Reason::NotModifiedWithoutCopy);
    assert_eq!(after.source.as_deref(), Some(URL));
    // An http URL is refused before its answer is looked at.
    let (_, f) = good().after_fetch(
        "http://idp.example/jwks",
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "b")]),
        T0,
        &p,
    );
    assert_eq!(f.unwrap().reason, Reason::UrlNotAllowed);
    // Never fetched, 304: no copy.
    let (after, f) = RemoteKeys::empty(ISS).after_fetch(URL, &status(304), &[], T0, &p);
    assert_eq!(f.unwrap().reason, Reason::NotModifiedWithoutCopy);
    assert!(!after.has_keys());
}

#[test]
fn bad_keys_are_skipped_and_reported() {
    let p = policy();
    let private = Value::Object(key(Alg::ES384).private_jwk());
    let oct =
        json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"});
    let enc = {
        let mut k = pubkey(Alg::RS256, "enc");
        k["use"] = json!("enc");
        k
    };
    let body = jwks(&[
        pubkey(Alg::ES256, "good"),
        private,
        oct,
        enc,
        json!({"kty": "EC", "kid": "broken"}),
    ]);
    let (doc, f) = RemoteKeys::empty(ISS).after_fetch(URL, &ok(None, None), &body, T0, &p);
    assert_eq!(f, None);
    assert_eq!(doc.keys.len(), 1);
    assert_eq!(doc.keys[0]["kid"], "good");
    let skipped: Vec<_> = doc.skipped.iter().map(|s| s.kid.clone().unwrap()).collect();
    assert_eq!(skipped, ["h", "k-ES384", "enc", "broken"]);
    assert!(
        doc.skipped[0].reason.contains("public keys only"),
        "{:?}",
        doc.skipped[0]
    );
    assert!(
        doc.skipped[1].reason.contains("private"),
        "{:?}",
        doc.skipped[1]
    );
    // What is stored holds public members only.
    assert!(doc.keys[0].get("d").is_none());
}

#[test]
fn not_modified_renews_and_new_set_replaces() {
    let p = policy();
    let doc = good();
    assert_eq!(doc.if_none_match(URL), Some("\"v1\""));
    assert_eq!(doc.if_none_match("https://idp.example/other"), None);
    let (renewed, f) = doc.clone().after_fetch(
        URL,
        &ok(None, Some("max-age=1200")).clone_with_status(304),
        &[],
        T0 + 500_000,
        &p,
    );
    assert_eq!(f, None);
    assert_eq!(renewed.keys, doc.keys);
    assert_eq!(renewed.fetched_at_ms, T0 + 500_000);
    assert_eq!(renewed.max_age, 1200);
    // Rotation: a new set replaces the old one entirely (a removed key stops verifying).
    let (rotated, f) = doc.after_fetch(
        URL,
        &ok(Some("\"v2\""), None),
        &jwks(&[pubkey(Alg::RS256, "b")]),
        T0 + 1,
        &p,
    );
    assert_eq!(f, None);
    let kids: Vec<_> = rotated.keys.iter().map(|k| k["kid"].clone()).collect();
    assert_eq!(kids, [json!("b")]);
    assert_eq!(rotated.etag.as_deref(), Some("\"v2\""));
    // An absurd ETag is not kept (and not sent back).
    let (d, _) = RemoteKeys::empty(ISS).after_fetch(
        URL,
        &ok(Some(&"x".repeat(300)), None),
        &jwks(&[pubkey(Alg::ES256, "a")]),
        T0,
        &p,
    );
    assert_eq!(d.etag, None);
}

trait WithStatus {
    fn clone_with_status(&self, s: u16) -> Response;
}
impl WithStatus for Response {
    fn clone_with_status(&self, s: u16) -> Response {
        Response {
            status: s,
            ..self.clone()
        }
    }
}

#[test]
fn actions_over_time() {
    let cd = 30;
    let stale = 3600;
    let doc = good(); // max-age 600: refresh at +450 s, expiry +600 s, stale until +4200 s
    let at = |s: u64| T0 + s * 1000;
    assert_eq!(doc.action(at(0), cd, stale), Action::Use);
    assert_eq!(doc.action(at(449), cd, stale), Action::Use);
    assert_eq!(doc.action(at(450), cd, stale), Action::Refresh);
    assert_eq!(doc.action(at(4199), cd, stale), Action::Refresh);
    assert_eq!(doc.action(at(4200), cd, stale), Action::Fetch);
    // After a failed attempt, nothing more for the cooldown: stale keys used, or 503.
    let failed = doc.clone().failed(
        &tokengate::remote::Failure::new(Reason::Timeout, "slow"),
        at(500),
    );
    assert_eq!(failed.action(at(510), cd, stale), Action::Use);
    assert_eq!(failed.action(at(530), cd, stale), Action::Refresh);
    let failed_late = doc.failed(
        &tokengate::remote::Failure::new(Reason::Network, "down"),
        at(4200),
    );
    assert_eq!(failed_late.action(at(4210), cd, stale), Action::Unavailable);
    assert_eq!(failed_late.action(at(4230), cd, stale), Action::Fetch);
    // Never fetched: fetch; just failed: unavailable until the cooldown passes.
    let empty = RemoteKeys::empty(ISS);
    assert_eq!(empty.action(T0, cd, stale), Action::Fetch);
    let empty = empty.failed(
        &tokengate::remote::Failure::new(Reason::Network, "down"),
        T0,
    );
    assert_eq!(empty.action(T0 + 29_999, cd, stale), Action::Unavailable);
    assert_eq!(empty.action(T0 + 30_000, cd, stale), Action::Fetch);
    assert_eq!(action(None, 0, 0, cd), Action::Fetch);
}

#[test]
fn unknown_kid_floods_force_once_per_cooldown() {
    let mut last = 0;
    let mut forced = 0;
    // 10,000 requests with random kids over 100 s, one every 10 ms.
    for i in 0..10_000u64 {
        let now = T0 + i * 10;
        if may_force(last, now, 30) {
            last = now;
            forced += 1;
        }
    }
    assert_eq!(forced, 4); // at 0, 30, 60, 90 s
}

/// A compact JWS whose header names `kid` (the signature is never looked at here).
fn token_with_kid(kid: Option<&str>) -> String {
    use base64::Engine as _;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = match kid {
        Some(k) => json!({ "alg": "ES256", "kid": k }),
        None => json!({ "alg": "ES256" }),
    };
    format!("{}.{}.c2ln", b64(header), b64(json!({ "iss": ISS })))
}

#[test]
fn a_wanted_kid_is_answered_by_a_copy_holding_it_or_by_a_fetch_started_after_it() {
    let (cd, stale) = (30, 3600);
    let doc = good(); // kid "a", fresh until T0 + 450 s
    let mut wants = KidWants::default();
    assert!(
        !doc.fetch_wanted(&mut wants, T0, cd, stale),
        "fresh, nothing wanted"
    );
    // A refresh starts (its ticket: no want yet), then a token with kid "b" arrives.
    let in_flight = wants.ticket();
    assert!(wants.want(&doc, &token_with_kid(Some("b")), T0 + 1000, cd));
    assert!(
        !wants.want(&doc, &token_with_kid(Some("c")), T0 + 29_999, cd),
        "one per cooldown"
    );
    assert!(doc.fetch_wanted(&mut wants, T0 + 1000, cd, stale));
    // The refresh in flight lands without "b": it started before the want, so it does not answer it.
    wants.answered(in_flight);
    assert!(
        doc.fetch_wanted(&mut wants, T0 + 1500, cd, stale),
        "still wanted after the older fetch"
    );
    // A copy (KV, Cache API) that is newer but lacks "b" does not answer it either.
    let (newer, f) = doc.clone().after_fetch(
        URL,
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "a")]),
        T0 + 1200,
        &policy(),
    );
    assert_eq!(f, None);
    assert!(newer.fetch_wanted(&mut wants, T0 + 1500, cd, stale));
    // A copy holding "b" answers it: no fetch.
    let (with_b, f) = doc.clone().after_fetch(
        URL,
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "a"), pubkey(Alg::ES256, "b")]),
        T0 + 1200,
        &policy(),
    );
    assert_eq!(f, None);
    assert!(!with_b.fetch_wanted(&mut wants, T0 + 1500, cd, stale));
    assert!(
        !doc.fetch_wanted(&mut wants, T0 + 1500, cd, stale),
        "answered for good"
    );
    // A fetch started after a want answers it, good or bad (the provider has no such kid).
    assert!(wants.want(&doc, &token_with_kid(Some("z")), T0 + 31_000, cd));
    let started = wants.ticket();
    assert!(doc.fetch_wanted(&mut wants, T0 + 31_000, cd, stale));
    wants.answered(started);
    assert!(!doc.fetch_wanted(&mut wants, T0 + 31_500, cd, stale));
    // No kid, or a kid already held (another algorithm, say): only a new fetch answers.
    for token in [
        token_with_kid(None),
        token_with_kid(Some("a")),
        "not a token".to_owned(),
    ] {
        let mut w = KidWants::default();
        assert!(w.want(&doc, &token, T0, cd));
        assert!(doc.fetch_wanted(&mut w, T0, cd, stale), "{token}");
        let t = w.ticket();
        w.answered(t);
        assert!(!doc.fetch_wanted(&mut w, T0, cd, stale), "{token}");
    }
    // Due anyway: a refresh or a first fetch is wanted with no kid involved.
    let mut none = KidWants::default();
    assert!(doc.fetch_wanted(&mut none, T0 + 450_000, cd, stale));
    assert!(RemoteKeys::empty(ISS).fetch_wanted(&mut none, T0, cd, stale));
}

#[test]
fn a_copy_is_kept_until_its_keys_are_too_old_counted_from_the_fetch() {
    let doc = good(); // fetched at T0, max-age 600 s
    assert_eq!(doc.keep_seconds(T0, 3600), 4200);
    assert_eq!(doc.keep_seconds(T0 + 4_199_001, 3600), 1, "rounded up");
    assert_eq!(doc.keep_seconds(T0 + 4_200_000, 3600), 0);
    assert_eq!(doc.keep_seconds(T0 + 100_000, 0), 500);
    assert_eq!(
        RemoteKeys::empty(ISS).keep_seconds(T0, 3600),
        0,
        "no keys: nothing to keep"
    );
    // A failed attempt later does not renew it.
    let failed = doc.failed(
        &tokengate::remote::Failure::new(Reason::Network, "down"),
        T0 + 1_000_000,
    );
    assert_eq!(failed.keep_seconds(T0 + 1_000_000, 3600), 3200);
}

#[test]
fn newer_document_wins() {
    let a = good();
    let (b, _) = a.clone().after_fetch(
        URL,
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "b")]),
        T0 + 10,
        &policy(),
    );
    assert_eq!(a.clone().newer(b.clone()), b);
    assert_eq!(b.clone().newer(a.clone()), b);
    let failed = a.clone().failed(
        &tokengate::remote::Failure::new(Reason::Network, "x"),
        T0 + 5,
    );
    assert_eq!(a.clone().newer(failed.clone()), failed);
    assert_eq!(b.clone().newer(failed), b);
}

#[test]
fn stored_documents_are_checked() {
    let doc = good();
    let mut v = serde_json::to_value(&doc).unwrap();
    v["keys"] = json!([{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]);
    assert_eq!(
        RemoteKeys::from_json(&v.to_string(), ISS)
            .unwrap_err()
            .code(),
        ErrorCode::DataUnavailable
    );
    let mut v = serde_json::to_value(&doc).unwrap();
    v["schema"] = json!(2);
    assert_eq!(
        RemoteKeys::from_json(&v.to_string(), ISS)
            .unwrap_err()
            .code(),
        ErrorCode::DataUnavailable
    );
    let mut v = serde_json::to_value(&doc).unwrap();
    v["extra"] = json!(1);
    assert_eq!(
        RemoteKeys::from_json(&v.to_string(), ISS)
            .unwrap_err()
            .code(),
        ErrorCode::DataUnavailable
    );
    assert_eq!(
        RemoteKeys::from_json("nope", ISS).unwrap_err().code(),
        ErrorCode::DataUnavailable
    );
}

fn config(issuers: Value, extra: Value) -> Result<Config, String> {
    let mut c = json!({ "issuers": issuers });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            c[k] = v;
        }
    }
    Config::from_json(&c.to_string()).map_err(|e| {
        assert_eq!(e.code(), ErrorCode::OptionsInvalid);
        e.message().to_owned()
    })
}

#[test]
fn issuer_sources_and_profiles_in_the_config() {
    // Exactly one source.
    for issuer in [
        json!({"issuer": ISS}),
        json!({"issuer": ISS, "jwks": "jwks:a", "jwksUri": URL}),
        json!({"issuer": ISS, "jwks": "jwks:a", "discovery": true}),
        json!({"issuer": ISS, "jwksUri": URL, "discovery": true}),
    ] {
        let e = config(json!([issuer]), json!({})).unwrap_err();
        assert!(e.contains("exactly one source"), "{e}");
    }
    assert!(config(
        json!([{"issuer": ISS, "jwksUri": "http://idp.example/jwks"}]),
        json!({})
    )
    .unwrap_err()
    .contains("not https"));
    assert!(config(
        json!([{"issuer": "http://idp.example", "discovery": true}]),
        json!({})
    )
    .unwrap_err()
    .contains("discovery"));
    let c = config(
        json!([{"issuer": "http://127.0.0.1:4000", "discovery": true}]),
        json!({}),
    )
    .unwrap();
    assert!(c.issuers[0].discovery);
    assert_eq!(c.remote_keys, FetchPolicy::default());
    // RFC 9068: typ and the seven claims, added to any the issuer names.
    let c = config(json!([{"issuer": ISS, "discovery": true, "profile": "rfc9068", "requiredClaims": ["tenant", "sub"]}]), json!({})).unwrap();
    assert_eq!(
        c.issuers[0].typ.as_deref(),
        Some(&["at+jwt".to_string()][..])
    );
    assert_eq!(
        c.issuers[0].required_claims.as_deref().unwrap(),
        [
            "tenant",
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "jti",
            "client_id"
        ]
    );
    // Cloudflare Access: certs URL and header derived; team domain and audience required.
    let cf = "https://acme.cloudflareaccess.com";
    let c = config(
        json!([{"issuer": cf, "profile": "cloudflare-access", "audience": "aud-tag"}]),
        json!({}),
    )
    .unwrap();
    assert_eq!(
        c.issuers[0].jwks_uri.as_deref(),
        Some("https://acme.cloudflareaccess.com/cdn-cgi/access/certs")
    );
    assert_eq!(
        c.credentials.access.as_ref().map(|a| a.name.as_str()),
        Some("Cf-Access-Jwt-Assertion")
    );
    assert!(config(
        json!([{"issuer": cf, "profile": "cloudflare-access"}]),
        json!({})
    )
    .unwrap_err()
    .contains("audience"));
    assert!(config(json!([{"issuer": "https://evil.example", "profile": "cloudflare-access", "audience": "a"}]), json!({}))
        .unwrap_err()
        .contains("cloudflareaccess.com"));
    assert!(config(
        json!([{"issuer": ISS, "jwks": "k", "profile": "okta"}]),
        json!({})
    )
    .is_err());
    // A custom credential header; never Authorization or the API-key header.
    let c = config(
        json!([{"issuer": ISS, "jwks": "k"}]),
        json!({"credentials": {"header": "X-Token"}}),
    )
    .unwrap();
    assert_eq!(c.credentials.header.as_deref(), Some("X-Token"));
    for h in ["authorization", "x-api-key", "bad header"] {
        assert!(config(
            json!([{"issuer": ISS, "jwks": "k"}]),
            json!({"credentials": {"header": h}})
        )
        .unwrap_err()
        .contains("credentials.header"));
    }
    // Fetch bounds.
    let c = config(
        json!([{"issuer": ISS, "jwksUri": URL}]),
        json!({"remoteKeys": {"timeout": 2, "minMaxAge": 1, "maxMaxAge": 2}}),
    )
    .unwrap();
    assert_eq!(c.remote_keys.timeout, 2);
    assert_eq!(c.remote_keys.max_bytes, 256 * 1024);
    assert!(config(
        json!([{"issuer": ISS, "jwksUri": URL}]),
        json!({"remoteKeys": {"timeout": 0}})
    )
    .unwrap_err()
    .contains("timeout"));
    assert!(config(
        json!([{"issuer": ISS, "jwksUri": URL}]),
        json!({"remoteKeys": {"timout": 2}})
    )
    .is_err());
}

#[test]
fn discovered_jwks_uri_is_kept_for_its_own_lifetime() {
    let p = policy();
    assert_eq!(p.discovery_max_age, DEFAULT_DISCOVERY_MAX_AGE);
    // Never discovered: discovery first.
    assert_eq!(good().discovered(T0, &p), None);
    let doc = good().after_discovery(URL, T0);
    assert_eq!(doc.discovered(T0, &p), Some(URL));
    let last = T0 + u64::from(p.discovery_max_age) * 1000;
    assert_eq!(doc.discovered(last - 1, &p), Some(URL));
    assert_eq!(doc.discovered(last, &p), None, "due at discoveryMaxAge");
    // Its lifetime is its own: a later JWKS fetch (or a 304) does not renew it.
    let (later, f) = doc
        .clone()
        .after_fetch(URL, &status(304), b"", last - 10, &p);
    assert_eq!(f, None);
    assert_eq!(later.fetched_at_ms, last - 10);
    assert_eq!(later.discovered(last, &p), None);
    // Nor does a copy: the stored document carries the discovery time.
    let copy = RemoteKeys::from_json(&serde_json::to_string(&doc).unwrap(), ISS).unwrap();
    assert_eq!(copy.discovered_at_ms, T0);
    assert_eq!(copy.discovered(last, &p), None);
    // A URL that may not be fetched is never kept, and a stored one is checked.
    let bad = good().after_discovery("http://evil.example/jwks", T0);
    assert_eq!(bad.jwks_uri, None);
    assert_eq!(bad.discovered(T0, &p), None);
    let mut forged = serde_json::to_value(&doc).unwrap();
    forged["jwks_uri"] = json!("http://evil.example/jwks");
    let e = RemoteKeys::from_json(&forged.to_string(), ISS).unwrap_err();
    assert_eq!(e.code(), ErrorCode::DataUnavailable);
    // A document written before the field existed still reads (nothing discovered).
    let mut old = serde_json::to_value(good()).unwrap();
    old.as_object_mut().unwrap().remove("jwks_uri");
    old.as_object_mut().unwrap().remove("discovered_at_ms");
    assert_eq!(
        RemoteKeys::from_json(&old.to_string(), ISS)
            .unwrap()
            .discovered(T0, &p),
        None
    );
    // Health shows it.
    let s = doc.summary(T0 + 5000, 30, 3600);
    assert_eq!(s["jwksUri"], URL);
    assert_eq!(s["discoveryAgeSeconds"], 5);
    assert_eq!(
        good().summary(T0, 30, 3600)["discoveryAgeSeconds"],
        Value::Null
    );
}

#[test]
fn library_source_options_are_defaulted_and_checked_by_the_core() {
    let o = SourceOptions::parse(r#"{"issuer":"https://idp.example","discovery":true}"#).unwrap();
    assert_eq!(o.kid_cooldown, DEFAULT_KID_COOLDOWN);
    assert_eq!(o.keys_max_stale, DEFAULT_KEYS_MAX_STALE);
    assert_eq!(o.remote_keys, FetchPolicy::default());
    assert_eq!(o.name(), "https://idp.example");
    let o =
        SourceOptions::parse(r#"{"jwksUri":"https://idp.example/jwks","kidCooldown":5}"#).unwrap();
    assert_eq!(o.kid_cooldown, 5);
    assert_eq!(o.name(), "https://idp.example/jwks");
    // The same defaults as the worker's configuration.
    let c = config(json!([{ "issuer": ISS, "jwks": "jwks:a" }]), json!({})).unwrap();
    assert_eq!(c.kid_cooldown, DEFAULT_KID_COOLDOWN);
    assert_eq!(c.keys_max_stale, DEFAULT_KEYS_MAX_STALE);
    for (bad, says) in [
        (r#"{}"#, "needs jwksUri or discovery"),
        (r#"{"discovery":true}"#, "needs the issuer"),
        (
            r#"{"issuer":"https://a.example","discovery":true,"jwksUri":"https://a.example/j"}"#,
            "not both",
        ),
        (r#"{"jwksUri":"http://idp.example/jwks"}"#, "jwksUri: "),
        (
            r#"{"issuer":"http://idp.example","discovery":true}"#,
            "issuer: ",
        ),
        (
            r#"{"issuer":"https://a.example/?q","discovery":true}"#,
            "no query",
        ),
        (
            r#"{"jwksUri":"https://a.example/j","kidCooldown":0}"#,
            "kidCooldown",
        ),
        (
            r#"{"jwksUri":"https://a.example/j","keysMaxStale":99999999}"#,
            "keysMaxStale",
        ),
        (
            r#"{"jwksUri":"https://a.example/j","remoteKeys":{"timeout":0}}"#,
            "remoteKeys.timeout",
        ),
        (
            r#"{"jwksUri":"https://a.example/j","remoteKeys":{"nope":1}}"#,
            "unknown field",
        ),
        (
            r#"{"jwksUri":"https://a.example/j","headers":{}}"#,
            "unknown field",
        ),
        (r#"{"jwksUri":5}"#, "invalid type"),
        (r#"[]"#, "remote key source"),
    ] {
        let e = SourceOptions::parse(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OptionsInvalid, "{bad}");
        assert!(e.message().contains(says), "{bad}: {}", e.message());
    }
}

#[test]
fn a_copy_from_another_source_is_ignored_not_adopted() {
    let text = |d: &RemoteKeys| serde_json::to_string(d).unwrap();
    let adopted = |d: &RemoteKeys, uri: Option<&str>| {
        RemoteKeys::copy_for(&text(d), ISS, uri)
            .unwrap()
            .map(|c| c.holds_kid("a"))
    };
    // A configured jwksUri: only a copy fetched from that URL (and not discovered).
    assert_eq!(adopted(&good(), Some(URL)), Ok(true));
    let other = "https://evil.example/jwks";
    let (evil, f) = RemoteKeys::empty(ISS).after_fetch(
        other,
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "a")]),
        T0,
        &policy(),
    );
    assert_eq!(f, None);
    let why = adopted(&evil, Some(URL)).unwrap_err();
    assert!(
        why.contains(other) && why.contains("configured jwksUri"),
        "{why}"
    );
    // The operator moved the issuer to another URL: the old copy is not used, even stale.
    assert!(adopted(&good(), Some(other)).is_err());
    // Discovery: the copy's keys must come from the jwks_uri it discovered for this issuer.
    let discovered = |uri: &str| {
        let (d, f) = RemoteKeys::empty(ISS).after_discovery(uri, T0).after_fetch(
            uri,
            &ok(None, None),
            &jwks(&[pubkey(Alg::ES256, "a")]),
            T0,
            &policy(),
        );
        assert_eq!(f, None);
        d
    };
    assert_eq!(adopted(&discovered(URL), None), Ok(true));
    // Written under a jwksUri configuration (no discovery): not this issuer's discovered keys.
    let why = adopted(&good(), None).unwrap_err();
    assert!(why.contains("without discovery"), "{why}");
    // Recorded inconsistently: keys from one URL, another one discovered.
    let mut mixed = discovered(URL);
    mixed.source = Some(other.into());
    let why = adopted(&mixed, None).unwrap_err();
    assert!(why.contains("discovered jwks_uri"), "{why}");
    // A discovered copy under a jwksUri configuration: ignored too.
    assert!(adopted(&discovered(URL), Some(URL)).is_err());
    // A copy holding only failed attempts (no key, no URL) names nothing to take over.
    let failed =
        RemoteKeys::empty(ISS).failed(&tokengate::remote::Failure::new(Reason::Timeout, "t"), T0);
    assert_eq!(adopted(&failed, Some(URL)), Ok(false));
    assert_eq!(adopted(&failed, None), Ok(false));
    assert_eq!(failed.foreign(Some(URL)), None);
    // A document the core refuses is still an error, not "another source".
    assert!(RemoteKeys::copy_for("nope", ISS, Some(URL)).is_err());
}

/// A discovery document holding one key fetched from `uri` at `at`, `uri` discovered then.
fn discovered_at(uri: &str, kid: &str, at: u64) -> RemoteKeys {
    let doc = RemoteKeys::empty(ISS).after_discovery(uri, at);
    let (doc, f) = doc.after_fetch(
        uri,
        &ok(None, Some("max-age=600")),
        &jwks(&[pubkey(Alg::ES256, kid)]),
        at,
        &policy(),
    );
    assert_eq!(f, None);
    doc.after_discovery(uri, at)
}

/// What a reader configured for discovery makes of a stored copy of `doc`.
fn adopted_by_discovery(doc: &RemoteKeys) -> bool {
    let text = serde_json::to_string(doc).unwrap();
    RemoteKeys::copy_for(&text, ISS, None).unwrap().is_ok()
}

const MOVED: &str = "https://idp.example/jwks-2";

#[test]
fn a_discovered_jwks_uri_is_recorded_once_its_keys_are_held() {
    let t1 = T0 + 3_600_000;
    // No keys held: the URL discovery names is recorded at once.
    let fresh = RemoteKeys::empty(ISS).after_discovery(URL, T0);
    assert_eq!(fresh.jwks_uri.as_deref(), Some(URL));
    assert_eq!(fresh.discovered_at_ms, T0);

    // The held URL answered (rediscovered, same URL): recorded again, from the new discovery.
    let held = discovered_at(URL, "a", T0);
    let (doc, f) = held.clone().after_discovery(URL, t1).after_fetch(
        URL,
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "a")]),
        t1,
        &policy(),
    );
    assert_eq!(f, None);
    let doc = doc.after_discovery(URL, t1);
    assert_eq!(doc.jwks_uri.as_deref(), Some(URL));
    assert_eq!(doc.discovered_at_ms, t1);
    assert!(adopted_by_discovery(&doc));
    // A URL the held keys came from is recorded even when its JWKS fails now.
    let (doc, f) = held
        .clone()
        .after_fetch(URL, &status(500), b"", t1, &policy());
    assert!(f.is_some());
    let doc = doc.after_discovery(URL, t1);
    assert_eq!(
        (doc.jwks_uri.as_deref(), doc.discovered_at_ms),
        (Some(URL), t1)
    );

    // The held URL failed, discovery named another that failed too: the document keeps naming
    // the URL its keys came from, so other readers still adopt it (stale keys, not none).
    let (doc, f) = held
        .clone()
        .after_fetch(URL, &status(503), b"", t1, &policy());
    assert!(f.is_some());
    let doc = doc.after_discovery(MOVED, t1);
    assert_eq!(
        doc.jwks_uri.as_deref(),
        Some(URL),
        "not recorded before it answers"
    );
    let (failed, f) = doc.after_fetch(MOVED, &status(404), b"", t1 + 1, &policy());
    assert_eq!(f.map(|f| f.reason), Some(Reason::HttpStatus));
    let failed = failed.after_discovery(MOVED, t1 + 1);
    assert_eq!(failed.jwks_uri.as_deref(), Some(URL));
    assert_eq!(failed.source.as_deref(), Some(URL));
    assert_eq!(failed.discovered_at_ms, T0);
    assert_eq!(failed.keys, held.keys);
    assert_eq!(failed.failures, 2);
    assert!(adopted_by_discovery(&failed));

    // Then the new URL answers: recorded, its keys in use, and the copy still adoptable.
    let t2 = t1 + 60_000;
    let doc = failed.after_discovery(MOVED, t2);
    assert_eq!(doc.jwks_uri.as_deref(), Some(URL));
    let (doc, f) = doc.after_fetch(
        MOVED,
        &ok(None, None),
        &jwks(&[pubkey(Alg::ES256, "b")]),
        t2,
        &policy(),
    );
    assert_eq!(f, None);
    let doc = doc.after_discovery(MOVED, t2);
    assert_eq!(doc.jwks_uri.as_deref(), Some(MOVED));
    assert_eq!(doc.source.as_deref(), Some(MOVED));
    assert_eq!(doc.discovered_at_ms, t2);
    assert!(doc.holds_kid("b") && !doc.holds_kid("a"));
    assert!(adopted_by_discovery(&doc));

    // No keys held and the new URL failed: nothing to keep naming, the new URL is recorded.
    let none = RemoteKeys::empty(ISS).after_discovery(URL, T0);
    let (none, _) = none.after_fetch(URL, &status(500), b"", T0, &policy());
    let none = none.after_discovery(MOVED, t1);
    assert_eq!(none.jwks_uri.as_deref(), Some(MOVED));
}

#[test]
fn the_stored_copy_a_writer_compares_with_never_goes_back_to_an_older_one() {
    let stored = |known: Option<&RemoteKeys>, read: Option<&RemoteKeys>| {
        RemoteKeys::stored_after_read(known.cloned(), read, None)
    };
    let written = discovered_at(URL, "b", T0);
    let older = discovered_at(URL, "a", T0 - 10_000);
    let newer = discovered_at(URL, "c", T0 + 10_000);
    // An older KV read after a newer write is a stale read: the written copy stays.
    assert_eq!(stored(Some(&written), Some(&older)), Some(written.clone()));
    // A newer one (another isolate wrote since) replaces it.
    assert_eq!(stored(Some(&written), Some(&newer)), Some(newer.clone()));
    // Nothing known yet: the read is the reference.
    assert_eq!(stored(None, Some(&older)), Some(older.clone()));
    // Equal fetchedAt: the later attempt is the newer copy; a full tie keeps the known one,
    // even with other keys (two isolates fetching in the same millisecond).
    let retried = written.clone().failed(
        &tokengate::remote::Failure::new(Reason::Timeout, "t"),
        T0 + 5_000,
    );
    assert_eq!(retried.fetched_at_ms, written.fetched_at_ms);
    assert_eq!(
        stored(Some(&written), Some(&retried)),
        Some(retried.clone())
    );
    assert_eq!(
        stored(Some(&retried), Some(&written)),
        Some(retried.clone())
    );
    let twin = discovered_at(URL, "z", T0);
    assert_eq!(stored(Some(&written), Some(&twin)), Some(written.clone()));
    // A clock that stepped back: the copies' own times order them, not the clock now (there is
    // none here). This isolate wrote `newer` at T0 + 10 s, its clock went back 10 s and it wrote
    // `second` (other keys) at T0 + 1: a stale read of `newer` then counts as the newer copy, so
    // the next decision sees other keys and writes once more (an extra write, never a skipped one).
    let (second, f) = newer.clone().after_fetch(
        URL,
        &ok(None, Some("max-age=600")),
        &jwks(&[pubkey(Alg::ES256, "d")]),
        T0 + 1,
        &policy(),
    );
    assert_eq!(f, None);
    assert_eq!(stored(Some(&second), Some(&newer)), Some(newer.clone()));
    assert_ne!(newer.keys, second.keys);
    // No copy read, or one from another source, or one without keys: none (KV is written).
    assert_eq!(stored(Some(&written), None), None);
    let configured = good();
    assert_eq!(stored(Some(&written), Some(&configured)), None);
    let attempts =
        RemoteKeys::empty(ISS).failed(&tokengate::remote::Failure::new(Reason::Network, "n"), T0);
    assert_eq!(stored(Some(&written), Some(&attempts)), None);
    // For a configured jwksUri the same rule, with its own idea of "another source".
    assert_eq!(
        RemoteKeys::stored_after_read(Some(good()), Some(&written), Some(URL)),
        None
    );
    assert_eq!(
        RemoteKeys::stored_after_read(None, Some(&configured), Some(URL)),
        Some(configured)
    );
}

#[test]
fn a_fetched_set_is_written_over_the_stored_copy_only_when_it_tells_readers_something() {
    let stored = good(); // fetched at T0, max-age 600 s
    let cooldown = 30;
    // No copy of this source in the store: written.
    assert!(stored.must_persist_over(None, T0, cooldown));
    // A 304 (the same keys renewed) soon after: not written; from half the max-age on: written.
    let renew = |at| {
        let (doc, f) = stored.clone().after_fetch(
            URL,
            &Response {
                status: 304,
                etag: Some("\"v1\"".into()),
                cache_control: Some("max-age=600".into()),
                ..Response::default()
            },
            b"",
            at,
            &policy(),
        );
        assert_eq!(f, None);
        doc
    };
    assert!(!renew(T0 + 1_000).must_persist_over(Some(&stored), T0 + 1_000, cooldown));
    assert!(!renew(T0 + 299_999).must_persist_over(Some(&stored), T0 + 299_999, cooldown));
    assert!(renew(T0 + 300_000).must_persist_over(Some(&stored), T0 + 300_000, cooldown));
    // Other keys (a rotation): written at once.
    let (rotated, f) = stored.clone().after_fetch(
        URL,
        &ok(Some("\"v2\""), Some("max-age=600")),
        &jwks(&[pubkey(Alg::ES256, "b")]),
        T0 + 1_000,
        &policy(),
    );
    assert_eq!(f, None);
    assert!(rotated.must_persist_over(Some(&stored), T0 + 1_000, cooldown));
    // A failure (the same keys kept): only once the copy is half its max-age old, and only when
    // the copy's last attempt is older than the cooldown.
    let fail = |doc: RemoteKeys, at| {
        doc.failed(&tokengate::remote::Failure::new(Reason::Timeout, "t"), at)
    };
    assert!(!fail(stored.clone(), T0 + 1_000).must_persist_over(
        Some(&stored),
        T0 + 1_000,
        cooldown
    ));
    assert!(fail(stored.clone(), T0 + 300_000).must_persist_over(
        Some(&stored),
        T0 + 300_000,
        cooldown
    ));
    let recently_tried = fail(stored.clone(), T0 + 290_000);
    assert!(!fail(stored.clone(), T0 + 300_000).must_persist_over(
        Some(&recently_tried),
        T0 + 300_000,
        cooldown
    ));
}

/// A stored copy dated in the future (whoever can write KV or the Cache API) is read as of now:
/// a time past now plus the skew between isolates (60 s) is read as never. Its keys are not
/// used (a fetch at once, not ten years of "fresh"), its discovered URL is rediscovered, it never
/// wins "newer", and the store is written over it. Read as now it would be fresh again at every
/// read. Times within the skew, and 0 (never), are kept.
#[test]
fn a_copy_dated_in_the_future_is_read_as_of_now() {
    const YEARS: u64 = 10 * 365 * 86_400_000;
    let now = T0 + 1000;
    let mut forged = discovered_at(URL, "a", T0 + YEARS);
    forged = forged.failed(
        &tokengate::remote::Failure::new(Reason::Network, "x"),
        T0 + YEARS,
    );
    // As stored, the copy is fresh for ten years: no refresh is ever due, no attempt allowed.
    assert_eq!(forged.action(now, 60, 3600), Action::Use);
    let p = policy();
    assert_eq!(forged.discovered(now + 86_400_000, &p), Some(URL));
    let read = forged.clone().as_of(now);
    assert_eq!(
        (
            read.fetched_at_ms,
            read.attempted_at_ms,
            read.discovered_at_ms
        ),
        (0, 0, 0)
    );
    assert_eq!(read.last_error.as_ref().unwrap().at_ms, 0);
    // Read as of now: no usable keys, a fetch now, discovery first.
    assert!(!read.has_keys());
    assert_eq!(read.action(now, 60, 3600), Action::Fetch);
    assert_eq!(read.keep_seconds(now, 3600), 0);
    assert_eq!(read.discovered(now, &p), None);
    // It never wins over a copy fetched now, and a writer holding it writes over it.
    let (fetched, f) = RemoteKeys::empty(ISS)
        .after_discovery(URL, now + 1000)
        .after_fetch(
            URL,
            &ok(None, Some("max-age=600")),
            &jwks(&[pubkey(Alg::ES256, "b")]),
            now + 1000,
            &p,
        );
    assert_eq!(f, None);
    let fetched = fetched.after_discovery(URL, now + 1000);
    assert!(fetched.clone().newer(forged.clone()).holds_kid("a"));
    assert!(fetched.clone().newer(read.clone()).holds_kid("b"));
    assert!(read.clone().newer(fetched.clone()).holds_kid("b"));
    assert_eq!(RemoteKeys::stored_after_read(None, Some(&read), None), None);
    assert_eq!(
        RemoteKeys::stored_after_read(Some(fetched.clone()), Some(&read), None),
        None
    );
    assert!(fetched.must_persist_over(None, now + 1000, 60));
    // Within the skew (another isolate's clock a little ahead), and never (0), kept as is.
    assert_eq!(good().as_of(T0 - 60_000).fetched_at_ms, T0);
    assert_eq!(good().as_of(T0 - 61_000).fetched_at_ms, 0);
    let never = RemoteKeys::empty(ISS).as_of(now);
    assert_eq!((never.fetched_at_ms, never.attempted_at_ms), (0, 0));
}

/// A redirect the host saw but whose status it could not (a browser's opaque answer, status 0)
/// is the core's redirect failure, worded without a status; the field defaults to false, so a
/// host that sends only the status is read as before.
#[test]
fn a_redirect_whose_status_is_hidden_is_a_redirect() {
    let hidden = Response::from_json(r#"{"status":0,"redirected":true}"#).unwrap();
    let before = good();
    let (after, f) = before
        .clone()
        .after_fetch(URL, &hidden, &[], T0 + 1000, &policy());
    let f = f.unwrap();
    assert_eq!(f.reason, Reason::Redirect);
    assert_eq!(
        f.message,
        "a redirect (its status hidden by the browser): not followed"
    );
    assert_eq!(after.keys, before.keys);
    // A 3xx the host did see keeps its status in the message.
    let seen = Response::from_json(r#"{"status":302,"redirected":true}"#).unwrap();
    let (_, f) = good().after_fetch(URL, &seen, &[], T0 + 1000, &policy());
    assert_eq!(f.unwrap().message, "HTTP 302 redirect: not followed");
    let plain = Response::from_json(r#"{"status":0}"#).unwrap();
    assert!(!plain.redirected);
    let (_, f) = good().after_fetch(URL, &plain, &[], T0 + 1000, &policy());
    assert_eq!(f.unwrap().reason, Reason::HttpStatus);
}
