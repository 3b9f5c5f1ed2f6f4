#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Claim policy: what a user configures is what gets enforced.

mod common;
use common::*;
use serde_json::{json, Value};
use tokengate::{Alg, ErrorCode, Policy};

fn with(k: &tokengate::SigningKey, changes: Value) -> String {
    k.mint(&claims_with(&changes)).unwrap()
}

#[test]
fn time_claims_with_leeway() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    assert_eq!(
        code(&v, &with(&k, json!({"exp": NOW - 59}))),
        Ok(()),
        "inside the 60 s leeway"
    );
    assert_eq!(
        code(&v, &with(&k, json!({"exp": NOW - 60}))),
        Err(ErrorCode::TokenExpired)
    );
    assert_eq!(code(&v, &with(&k, json!({"nbf": NOW + 60}))), Ok(()));
    assert_eq!(
        code(&v, &with(&k, json!({"nbf": NOW + 61}))),
        Err(ErrorCode::TokenNotYetValid)
    );
    assert_eq!(
        code(&v, &with(&k, json!({"iat": NOW + 61}))),
        Err(ErrorCode::TokenIssuedInFuture)
    );
    assert_eq!(
        code(&v, &with(&k, json!({"exp": null}))),
        Err(ErrorCode::ClaimMissing)
    );
    let strict = validator(&k, json!({"leeway": 0}));
    assert_eq!(
        code(&strict, &with(&k, json!({"exp": NOW}))),
        Err(ErrorCode::TokenExpired)
    );
    assert_eq!(
        code(&strict, &with(&k, json!({"exp": NOW as f64 + 0.5}))),
        Ok(()),
        "fractional NumericDate"
    );
    let optional = validator(&k, json!({"requireExp": false}));
    assert_eq!(code(&optional, &with(&k, json!({"exp": null}))), Ok(()));
}

#[test]
fn lifetime_and_age_caps() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let day = 86_400;
    assert_eq!(
        code(
            &v,
            &with(&k, json!({"iat": NOW - 10, "exp": NOW - 10 + 30 * day}))
        ),
        Ok(())
    );
    assert_eq!(
        code(
            &v,
            &with(&k, json!({"iat": NOW - 10, "exp": NOW - 10 + 30 * day + 1}))
        ),
        Err(ErrorCode::LifetimeExceeded)
    );
    assert_eq!(
        code(&v, &with(&k, json!({"iat": null, "exp": NOW + 31 * day}))),
        Err(ErrorCode::LifetimeExceeded),
        "no iat: judged from now"
    );
    let uncapped = validator(&k, json!({"maxLifetime": 0}));
    assert_eq!(
        code(&uncapped, &with(&k, json!({"exp": NOW + 365 * day}))),
        Ok(())
    );
    let aged = validator(&k, json!({"maxAge": 300}));
    assert_eq!(
        code(&aged, &with(&k, json!({"iat": NOW - 400}))),
        Err(ErrorCode::TokenTooOld)
    );
    assert_eq!(
        code(&aged, &with(&k, json!({"iat": null}))),
        Err(ErrorCode::ClaimMissing)
    );
}

#[test]
fn issuer_audience_subject_and_typ() {
    let k = key(Alg::ES256);
    let v = validator(
        &k,
        json!({"issuer": ["https://a.example", "https://issuer.example"], "audience": ["other", "api"]}),
    );
    assert_eq!(code(&v, &with(&k, json!({}))), Ok(()));
    assert_eq!(
        code(&v, &with(&k, json!({"aud": ["x", "api"]}))),
        Ok(()),
        "any-of over an array claim"
    );
    assert_eq!(
        code(&v, &with(&k, json!({"iss": "https://evil.example"}))),
        Err(ErrorCode::IssuerNotAllowed)
    );
    assert_eq!(
        code(&v, &with(&k, json!({"iss": null}))),
        Err(ErrorCode::ClaimMissing)
    );
    assert_eq!(
        code(&v, &with(&k, json!({"aud": "web"}))),
        Err(ErrorCode::AudienceNotAllowed)
    );
    assert_eq!(
        code(&v, &with(&k, json!({"aud": [1]}))),
        Err(ErrorCode::ClaimInvalid)
    );
    let bound = validator(&k, json!({"subject": "user-2"}));
    let e = bound
        .validate(&with(&k, json!({})), NOW, &Default::default())
        .unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::SubjectMismatch, 403));
    let typed = validator(&k, json!({"typ": "at+jwt"}));
    assert_eq!(
        code(&typed, &with(&k, json!({}))),
        Err(ErrorCode::TypNotAllowed),
        "minted with typ JWT"
    );
    let jwt = validator(&k, json!({"typ": "application/JWT"}));
    assert_eq!(
        code(&jwt, &with(&k, json!({}))),
        Ok(()),
        "typ compares case-insensitively without application/"
    );
}

#[test]
fn token_types_keep_refresh_tokens_out() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"tokenTypes": ["access"]}));
    assert_eq!(code(&v, &with(&k, json!({"type": "access"}))), Ok(()));
    assert_eq!(
        code(&v, &with(&k, json!({"type": "refresh"}))),
        Err(ErrorCode::TokenTypeNotAllowed)
    );
    assert_eq!(code(&v, &with(&k, json!({}))), Err(ErrorCode::ClaimMissing));
    let custom = validator(
        &k,
        json!({"tokenTypes": "service", "tokenTypeClaim": "token_use"}),
    );
    assert_eq!(
        code(&custom, &with(&k, json!({"token_use": "service"}))),
        Ok(())
    );
}

#[test]
fn required_claims_and_tenant_binding() {
    let k = key(Alg::HS256);
    let v = validator(
        &k,
        json!({"requiredClaims": ["community_id"], "claimValues": {"community_id": "c-7", "module_name": "billing"}}),
    );
    assert_eq!(
        code(
            &v,
            &with(&k, json!({"community_id": "c-7", "module_name": "billing"}))
        ),
        Ok(())
    );
    let e = v
        .validate(
            &with(&k, json!({"community_id": "c-8", "module_name": "billing"})),
            NOW,
            &Default::default(),
        )
        .unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::ClaimMismatch, 403));
    assert_eq!(
        code(&v, &with(&k, json!({"module_name": "billing"}))),
        Err(ErrorCode::ClaimMissing)
    );
    let jti = validator(&k, json!({"requireJti": true}));
    assert_eq!(
        code(&jti, &with(&k, json!({"jti": null}))),
        Err(ErrorCode::ClaimMissing)
    );
}

#[test]
fn options_are_validated_once() {
    for bad in [
        r#"{"leeway": 999999}"#,
        r#"{"algorithms": []}"#,
        r#"{"algorithms": ["none"]}"#,
        r#"{"isuer": "typo"}"#,
        r#"{"scope": "users:*"}"#,
        r#"{"maxJsonDepth": 1}"#,
        r#"{"issuer": ""}"#,
    ] {
        let e = Policy::from_json(bad).unwrap_err();
        assert!(
            matches!(
                e.code(),
                ErrorCode::OptionsInvalid | ErrorCode::ScopeInvalid
            ),
            "{bad}: {e}"
        );
    }
    let p = Policy::from_json("{}").unwrap();
    assert_eq!(
        (p.leeway, p.max_lifetime, p.require_exp),
        (60, Some(30 * 86_400), true)
    );
}

#[test]
fn errors_carry_status_and_www_authenticate() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"scope": "admin"}));
    let e = v
        .validate(&with(&k, json!({})), NOW, &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InsufficientScope);
    assert_eq!(e.status(), 403);
    assert_eq!(
        e.www_authenticate("api"),
        r#"Bearer realm="api", error="insufficient_scope", error_description="requires admin; missing admin", scope="admin""#
    );
    let e = v.validate("garbage", NOW, &Default::default()).unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.status(), e.code().oauth_error()),
        ("token_malformed", 401, "invalid_token")
    );
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_name(c.as_str()), Some(*c));
        assert!(matches!(
            c.status(),
            400 | 401 | 403 | 404 | 405 | 500 | 503
        ));
    }
}

#[test]
fn readme_documents_every_error_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for c in ErrorCode::ALL {
        assert!(
            readme.contains(&format!("| `{}` | {} |", c.as_str(), c.status())),
            "README lacks {}",
            c.as_str()
        );
    }
}

/// What a client reads in `error_description`: durations spelled as people read them, in the
/// inspector's style, not raw seconds.
#[test]
fn time_messages_spell_durations() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"maxLifetime": 2_592_000, "maxAge": 7200}));
    let message = |token: &str| {
        v.validate(token, NOW, &tokengate::Context::default())
            .map(|_| ())
            .unwrap_err()
            .message()
            .to_owned()
    };
    for (changes, expected) in [
        (json!({"exp": NOW - 3267}), "token expired 54 min 27 s ago"),
        (
            json!({"nbf": NOW + 5400}),
            "token is not valid for another 1 h 30 min",
        ),
        (
            json!({"iat": NOW + 4000}),
            "\"iat\" is 1 h 6 min in the future",
        ),
        (
            json!({"iat": NOW - 10, "exp": NOW - 10 + 3_456_060}),
            "token lifetime 40 d 1 min exceeds the maximum 30 d",
        ),
        (
            json!({"iat": NOW - 10, "exp": NOW - 10 + 3650 * 86_400 + 120}),
            "token lifetime 10 years 2 min exceeds the maximum 30 d",
        ),
        (
            json!({"iat": null, "exp": NOW + 2_678_400}),
            "token without \"iat\" is valid for 31 d more; the maximum lifetime is 30 d",
        ),
        (
            json!({"iat": NOW - 7300, "exp": NOW + 60}),
            "token was issued 2 h 1 min ago; the maximum age is 2 h",
        ),
    ] {
        assert_eq!(message(&with(&k, changes)), expected);
    }
}

#[test]
fn identity_claims_refuse_surrounding_whitespace_and_control_characters() {
    // sub, iss and jti become the gate's identity headers: an HTTP hop trims whitespace and
    // cannot carry control characters, so either would make two consumers read two identities.
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    for bad in [
        " user-1",
        "user-1 ",
        "\tuser-1",
        "user-1\n",
        "\u{a0}user-1",
        "user-1\u{2003}",
        "\u{3000}user-1",
        "us\u{7}er",
        "us\u{85}er",
        "us\u{7f}er",
    ] {
        for name in ["sub", "iss", "jti"] {
            assert_eq!(
                code(&v, &with(&k, json!({ name: bad }))),
                Err(ErrorCode::ClaimInvalid),
                "{name} {bad:?}"
            );
        }
    }
    for good in ["user 1", "ユーザー", "a\u{a0}b", "é"] {
        assert_eq!(
            code(&v, &with(&k, json!({ "sub": good }))),
            Ok(()),
            "{good:?}"
        );
    }
}
