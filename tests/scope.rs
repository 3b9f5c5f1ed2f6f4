#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Scope grammar, wildcards, expressions and grants.

mod common;
use common::*;
use serde_json::json;
use tokengate::{Alg, Context, ErrorCode, Requirement, ScopeSet};

fn set(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

fn ok(req: &str, granted: &str) -> bool {
    Requirement::parse(req)
        .unwrap()
        .check(&set(granted), None)
        .is_ok()
}

#[test]
fn wildcard_edge_cases() {
    assert!(ok("users:read", "*"));
    assert!(ok("admin", "*"));
    assert!(ok("users:read", "users:*"));
    assert!(
        ok("users:read:extra", "users:*"),
        "users:* covers every action under users"
    );
    assert!(
        !ok("users", "users:*"),
        "users:* does not cover the bare resource"
    );
    assert!(!ok("usersx:read", "users:*"));
    assert!(
        !ok("users:read:extra", "users:read"),
        "exact grants are exact"
    );
    assert!(!ok("users:write", "users:read"));
    assert!(ok("api.v1:read", "api.v1:read"));
    assert!(!ok("api.v2:read", "api.v1:*"));
}

#[test]
fn requirements_are_never_wildcards() {
    for bad in ["*", "users:*", "users:read or *", "a:*:b"] {
        assert_eq!(
            Requirement::parse(bad).unwrap_err().code(),
            ErrorCode::ScopeInvalid,
            "{bad}"
        );
    }
    assert_eq!(
        ScopeSet::parse("users:*:read").unwrap_err().code(),
        ErrorCode::ScopeInvalid,
        "wildcard only last"
    );
}

#[test]
fn expression_precedence_and_missing_scopes() {
    // `and` binds tighter than `or`.
    assert!(ok("a or b and c", "a"));
    assert!(!ok("(a or b) and c", "a"));
    assert!(ok(
        "users:read and (billing:read or admin)",
        "users:read admin"
    ));
    assert!(ok("a b", "a b"), "juxtaposition is all-of");
    assert!(!ok("a b", "a"));
    let e = Requirement::parse("users:read and (billing:read or admin)")
        .unwrap()
        .check(&set("billing:read"), None)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InsufficientScope);
    assert_eq!(e.scope(), Some("users:read"));
    let e = Requirement::parse("a and (b or c d)")
        .unwrap()
        .check(&set(""), None)
        .unwrap_err();
    assert_eq!(e.scope(), Some("a b"), "the cheapest alternative is named");
    assert!(Requirement::all_of(&["a", "b"])
        .unwrap()
        .check(&set("a b"), None)
        .is_ok());
    assert!(Requirement::any_of(&["a", "b"])
        .unwrap()
        .check(&set("b"), None)
        .is_ok());
    assert_eq!(
        Requirement::any_of(&["a", "b"])
            .unwrap()
            .check(&set("c"), None)
            .unwrap_err()
            .code(),
        ErrorCode::InsufficientScope
    );
}

#[test]
fn malformed_expressions_are_errors_not_decisions() {
    for bad in [
        "",
        "a and",
        "(a or b",
        "a or or b",
        "a)",
        "and",
        "users:re ad:",
        "a,b",
        "ünï",
        "a::b",
    ] {
        assert_eq!(
            Requirement::parse(bad).unwrap_err().code(),
            ErrorCode::ScopeInvalid,
            "{bad:?}"
        );
    }
    let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
    assert_eq!(
        Requirement::parse(&deep).unwrap_err().code(),
        ErrorCode::ScopeInvalid
    );
}

#[test]
fn grants_narrow_the_token() {
    let req = Requirement::parse("playlist:manage").unwrap();
    // The token says playlist:*, the tenant's grant was revoked: denied without reissuing.
    assert!(req
        .check(&set("playlist:*"), Some(&set("playlist:manage")))
        .is_ok());
    for (granted, grants) in [("playlist:*", "playlist:read"), ("playlist:read", "*")] {
        assert_eq!(
            req.check(&set(granted), Some(&set(grants)))
                .unwrap_err()
                .code(),
            ErrorCode::InsufficientScope,
            "{granted} narrowed by {grants}"
        );
    }
    assert_eq!(
        set("playlist:* admin")
            .intersect(&set("playlist:read users:*"))
            .as_slice(),
        ["playlist:read"]
    );
    assert_eq!(set("*").intersect(&set("a b:*")).as_slice(), ["a", "b:*"]);
    assert_eq!(set("b:c:*").intersect(&set("b:*")).as_slice(), ["b:c:*"]);
}

#[test]
fn scopes_are_read_from_the_usual_claims() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"scope": "users:read"}));
    for (name, value) in [
        ("scope", json!("users:read admin")),
        ("scp", json!(["users:read"])),
        ("scp", json!("users:read")),
        ("scopes", json!(["users:*"])),
    ] {
        let mut c = claims();
        c.remove("scope");
        c.insert(name.into(), value.clone());
        let out = v
            .validate(&k.mint(&c).unwrap(), NOW, &Context::default())
            .unwrap_or_else(|e| panic!("{name}={value}: {e}"));
        assert!(!out.scopes.is_empty());
    }
    let mut c = claims();
    c.insert("scope".into(), json!(42));
    assert_eq!(code(&v, &k.mint(&c).unwrap()), Err(ErrorCode::ClaimInvalid));
    c.insert("scope".into(), json!("users:read bad\"scope"));
    assert_eq!(code(&v, &k.mint(&c).unwrap()), Err(ErrorCode::ClaimInvalid));
    // A per-call requirement (e.g. a route's) overrides the policy's.
    let route = Requirement::parse("billing:write").unwrap();
    let ctx = Context {
        scope: Some(&route),
        ..Default::default()
    };
    let e = v
        .validate(&k.mint(&claims()).unwrap(), NOW, &ctx)
        .unwrap_err();
    assert_eq!(e.scope(), Some("billing:write"));
    let grants = set("users:read");
    let ctx = Context {
        grants: Some(&grants),
        ..Default::default()
    };
    assert_eq!(
        v.validate(&k.mint(&claims()).unwrap(), NOW, &ctx)
            .unwrap()
            .scopes,
        ["users:read"]
    );
}

#[test]
fn grouped_by_resource() {
    let g = set("users:read users:write admin api.v1:read").grouped();
    assert_eq!(g["users"], ["read", "write"]);
    assert!(g["admin"].is_empty());
    assert_eq!(g["api.v1"], ["read"]);
}

#[test]
fn a_bad_scope_is_named_once_in_quotes() {
    let message = |r: &str| Requirement::parse(r).unwrap_err().message().to_owned();
    assert_eq!(
        message("a::b"),
        r#"scope "a::b" has an empty segment or a character outside A-Z a-z 0-9 . _ - /"#
    );
    // Quotes (and backslashes) inside the scope are escaped, not doubled up against the
    // message's own: `scope ""x""` read as an empty scope next to x.
    assert_eq!(
        message(r#""x""#),
        r#"scope "\"x\"" has an empty segment or a character outside A-Z a-z 0-9 . _ - /"#
    );
    assert_eq!(
        message(r"a\b"),
        r#"scope "a\\b" has an empty segment or a character outside A-Z a-z 0-9 . _ - /"#
    );
    assert_eq!(
        message(r#"users:"*""#),
        r#"scope "users:\"*\"" has an empty segment or a character outside A-Z a-z 0-9 . _ - /"#
    );
    assert_eq!(
        message("users:*"),
        r#"required scope "users:*" is a wildcard; name a concrete scope"#
    );
    assert_eq!(
        ScopeSet::parse(r#"*:"a""#).unwrap_err().message(),
        r#"scope "*:\"a\"": "*" may only be the last segment"#
    );
    assert_eq!(
        Requirement::parse(r#""x""#).unwrap_err().code(),
        ErrorCode::ScopeInvalid
    );
}

#[test]
fn long_sets_decide_like_short_ones() {
    // Past a few scopes a set indexes its entries; duplicates, coverage and narrowing must not
    // change with its length.
    for n in [1usize, 15, 16, 17, 40, 300] {
        let mut scopes: Vec<String> = (0..n).map(|i| format!("s{i}:read")).collect();
        scopes.push("s0:read".into());
        scopes.push("team:*".into());
        let granted = set(&scopes.join(" "));
        assert_eq!(
            granted.as_slice().len(),
            n + 1,
            "{n}: duplicates dropped once"
        );
        for i in 0..n {
            assert!(granted.covers(&format!("s{i}:read")), "{n}: s{i}:read");
        }
        assert!(!granted.covers(&format!("s{n}:read")), "{n}: past the end");
        assert!(!granted.covers("s0:write"), "{n}");
        assert!(granted.covers("team:x"), "{n}: wildcard");
        assert!(ok(
            &format!("s{}:read and team:y", n - 1),
            &scopes.join(" ")
        ));
        let narrowed = granted.intersect(&set(&format!("s{}:read team:a", n - 1)));
        assert_eq!(
            narrowed.as_slice(),
            [format!("s{}:read", n - 1), "team:a".to_owned()],
            "{n}"
        );
    }
}
