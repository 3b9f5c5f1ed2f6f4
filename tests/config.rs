#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The edge worker's configuration: defaults filled in once, misspellings and bad values refused
//! with every problem named.

use serde_json::{json, Value};
use tokengate::Config;
use tokengate::ErrorCode;

fn minimal() -> Value {
    json!({ "issuers": [{ "issuer": "https://auth.example", "jwks": "jwks:main" }] })
}

fn problems(v: Value) -> String {
    let e = Config::from_json(&v.to_string()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OptionsInvalid);
    e.message().to_owned()
}

#[test]
fn defaults_are_filled_in() {
    let c = Config::from_json(&minimal().to_string()).unwrap();
    let out: Value = serde_json::to_value(&c).unwrap();
    assert_eq!(out["realm"], "api");
    assert_eq!(out["protect"], "/api/");
    assert_eq!(out["origin"], "builtin:echo");
    assert_eq!(out["forwardAuthorization"], false);
    assert_eq!(
        out["credentials"],
        json!({ "cookie": null, "query": null, "apiKeyHeader": "X-API-Key" })
    );
    assert_eq!(out["identityHeaders"]["tokenId"], "X-Auth-Token-Id");
    assert_eq!(out["cacheTtl"], 60);
    assert_eq!(out["keysMaxStale"], 3600);
    assert_eq!(out["maxRevocationAge"], 3600);
    assert_eq!(out["persistKeys"], true);
    assert_eq!(out["healthScope"], "tokengate:health");
    // Absent issuer lifetimes stay absent: the validator's defaults apply.
    assert_eq!(
        out["issuers"][0],
        json!({ "issuer": "https://auth.example", "jwks": "jwks:main" })
    );
}

#[test]
fn the_shipped_demo_configuration_parses() {
    let toml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/wrangler.toml")).unwrap();
    let start = toml.find("TOKENGATE_CONFIG = '''").unwrap() + "TOKENGATE_CONFIG = '''".len();
    let end = start + toml[start..].find("'''").unwrap();
    let c = Config::from_json(&toml[start..end]).unwrap();
    assert_eq!(c.max_revocation_age, 3600);
    c.router().unwrap();
}

#[test]
fn misspelt_fields_are_refused() {
    let mut v = minimal();
    v["cacheTTL"] = json!(5);
    assert!(problems(v).contains("cacheTTL"));
    let mut v = minimal();
    v["credentials"] = json!({ "cookies": "s" });
    assert!(problems(v).contains("cookies"));
    let mut v = minimal();
    v["issuers"][0]["audiance"] = json!("api");
    assert!(problems(v).contains("audiance"));
}

#[test]
fn every_problem_is_named() {
    let v = json!({
        "issuers": [
            { "issuer": "https://a", "jwks": "jwks:a", "leeway": -1 },
            { "issuer": "https://a", "jwks": "" }
        ],
        "origin": "ftp://x",
        "identityHeaders": { "subject": "X Auth" },
        "credentials": { "cookie": "a;b" },
        "cacheTtl": 0,
        "healthScope": "bad scope",
        "routes": [{ "path": "nope" }]
    });
    let m = problems(v);
    for needle in [
        "origin",
        "listed twice",
        "needs \"issuer\" and \"jwks\"",
        "leeway",
        "\"X Auth\" is not a header name",
        "credentials.cookie",
        "cacheTtl",
        "healthScope",
        "route 0",
    ] {
        assert!(m.contains(needle), "{needle} not in: {m}");
    }
    assert!(problems(json!({})).contains("at least one issuer"));
    // Numbers must be numbers.
    let mut v = minimal();
    v["cacheTtl"] = json!("60");
    assert!(problems(v).contains("invalid type"));
}

fn with_issuer(extra: Value) -> Value {
    let mut issuer = json!({ "issuer": "https://auth.example", "jwks": "jwks:main" });
    issuer
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({ "issuers": [issuer] })
}

#[test]
fn an_issuer_policy_the_validator_would_refuse_is_refused_here_naming_the_issuer() {
    for (extra, needle) in [
        // An empty allow-list would read as "not checked".
        (json!({"audience": []}), "audience: an empty list"),
        (json!({"tokenTypes": []}), "tokenTypes: an empty list"),
        (json!({"typ": []}), "typ: an empty list"),
        (json!({"audience": ""}), "audience: empty string"),
        (
            json!({"leeway": 0.5}),
            "issuers[0].leeway must be a whole number",
        ),
        (
            json!({"leeway": 86_401}),
            "issuers[0]: leeway: more than one day",
        ),
        (
            json!({"maxLifetime": 1.5}),
            "issuers[0].maxLifetime must be a whole number",
        ),
    ] {
        let p = problems(with_issuer(extra.clone()));
        assert!(p.contains(needle), "{extra}: {p}");
    }
    // What the validator accepts passes.
    assert!(Config::from_json(
        &with_issuer(json!({"audience": ["a", "b"], "leeway": 0, "maxLifetime": 0})).to_string()
    )
    .is_ok());
}

#[test]
fn a_key_set_cannot_be_stored_under_a_key_the_gate_uses_for_something_else() {
    for name in [
        "config",
        "revocations",
        "grants",
        "maintenance:last",
        "apikey:x",
        "audit:x",
        "key:jwks:main:k1",
        "remote:x",
    ] {
        let p =
            problems(json!({ "issuers": [{ "issuer": "https://auth.example", "jwks": name }] }));
        assert!(p.contains("is a KV key the gate uses"), "{name}: {p}");
    }
}

#[test]
fn every_header_the_gate_sets_or_reads_is_its_own() {
    for (extra, needle) in [
        (
            json!({"claimHeaders": {"tenant": "X-Auth-Subject"}}),
            "x-auth-subject",
        ),
        (
            json!({"claimHeaders": {"tenant": "authorization"}}),
            "authorization",
        ),
        (
            json!({"claimHeaders": {"a": "X-Tenant", "b": "x-tenant"}}),
            "x-tenant",
        ),
        (
            json!({"credentials": {"apiKeyHeader": "Authorization"}}),
            "authorization",
        ),
        (
            json!({"identityHeaders": {"scopes": "X-Auth-Subject"}}),
            "x-auth-subject",
        ),
    ] {
        let mut c = minimal();
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let p = problems(c);
        assert!(
            p.contains(&format!("header \"{needle}\" is used twice")),
            "{extra}: {p}"
        );
    }
    let mut c = minimal();
    c["credentials"] = json!({"cookie": "tg", "query": "tg"});
    assert!(problems(c).contains("credentials.cookie and credentials.query must differ"));
}

/// Cloudflare Access adds its header to every request after login: it is read whenever a
/// cloudflare-access issuer is configured, besides any custom `credentials.header`, and only
/// for those issuers.
#[test]
fn the_cloudflare_access_header_is_read_besides_a_custom_header_and_only_for_access_issuers() {
    let cf = "https://acme.cloudflareaccess.com";
    let with = |credentials: Value| {
        json!({
            "issuers": [
                { "issuer": cf, "profile": "cloudflare-access", "audience": "tag" },
                { "issuer": "https://auth.example", "jwks": "jwks:main" }
            ],
            "credentials": credentials,
        })
    };
    let c = Config::from_json(&with(json!({ "header": "X-Token" })).to_string()).unwrap();
    assert_eq!(c.credentials.header.as_deref(), Some("X-Token"));
    let access = c.credentials.access.unwrap();
    assert_eq!(access.name, "Cf-Access-Jwt-Assertion");
    assert_eq!(access.issuers, [cf]);
    // Derived also with no custom header; not derived without a cloudflare-access issuer.
    let c = Config::from_json(&with(json!({})).to_string()).unwrap();
    assert_eq!(c.credentials.header, None);
    assert!(c.credentials.access.is_some());
    assert_eq!(
        Config::from_json(&minimal().to_string())
            .unwrap()
            .credentials
            .access,
        None
    );
    // Naming the Access header as the custom one (any case) is refused, said once.
    let p = problems(with(json!({ "header": "cf-access-jwt-assertion" })));
    assert!(
        p.contains("credentials.header \"Cf-Access-Jwt-Assertion\" is read for the cloudflare-access issuers already"),
        "{p}"
    );
    assert!(!p.contains("used twice"), "{p}");
    // It clashes with every other header the gate reads or sets.
    let p = problems(with(json!({ "apiKeyHeader": "Cf-Access-Jwt-Assertion" })));
    assert!(
        p.contains(
            "is used twice (credentials.apiKeyHeader and the cloudflare-access profile's header)"
        ),
        "{p}"
    );
    // Derived only: a configuration cannot set it.
    let p = problems(with(
        json!({ "access": { "name": "X-Mine", "issuers": [] } }),
    ));
    assert!(p.contains("unknown field `access`"), "{p}");
}

#[test]
fn the_published_discovery_document_lists_the_algorithms_of_the_published_keys() {
    use tokengate::{Alg, SigningKey};
    let es = SigningKey::generate(Alg::ES256, Some("e1".into()), None).unwrap();
    let ed = SigningKey::generate(Alg::EdDSA, Some("d1".into()), None).unwrap();
    let doc = |keys: &[&SigningKey]| -> Value {
        let jwks = tokengate::public_jwks(keys).to_string();
        serde_json::from_str(
            &tokengate::published_discovery(
                "https://gate.example",
                "https://gate.example/.well-known/jwks.json",
                &jwks,
            )
            .unwrap(),
        )
        .unwrap()
    };
    let only_es = doc(&[&es]);
    assert_eq!(
        only_es["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(only_es["issuer"], "https://gate.example");
    assert_eq!(
        only_es["jwks_uri"],
        "https://gate.example/.well-known/jwks.json"
    );
    assert_eq!(
        doc(&[&ed, &es])["id_token_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
}

#[test]
fn the_published_documents_answer_get_and_head_only() {
    assert!(tokengate::published_method("GET").is_ok());
    assert!(tokengate::published_method("HEAD").is_ok());
    for m in ["POST", "PUT", "DELETE", "get", "OPTIONS"] {
        let e = tokengate::published_method(m).unwrap_err();
        assert_eq!(e.code(), ErrorCode::MethodNotAllowed, "{m}");
        assert_eq!(e.status(), 405);
        assert_eq!(e.allow(), Some("GET, HEAD"));
    }
}

/// The cloudflare-access profile fetches its keys from the team's certs: another URL (any host,
/// or discovery) is refused, naming the issuer, instead of silently trusted. A KV key set
/// (`jwks`, the operator's own, trusted like the configuration) stays allowed.
#[test]
fn the_cloudflare_access_profile_takes_its_keys_from_the_team_certs_only() {
    let cf = "https://acme.cloudflareaccess.com";
    let issuer = |extra: Value| {
        let mut i = json!({ "issuer": cf, "profile": "cloudflare-access", "audience": "tag" });
        i.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "issuers": [i] })
    };
    for extra in [
        json!({ "jwksUri": "https://keys.attacker.example/certs" }),
        json!({ "jwksUri": "https://acme.cloudflareaccess.com/other" }),
        json!({ "discovery": true }),
    ] {
        let p = problems(issuer(extra.clone()));
        assert!(
            p.contains(&format!(
                "issuers[0] (\"{cf}\"): the cloudflare-access profile fetches its keys from {cf}/cdn-cgi/access/certs only"
            )),
            "{extra}: {p}"
        );
    }
    // Its own certs URL, given or filled in, is the one source.
    for extra in [
        json!({}),
        json!({ "jwksUri": format!("{cf}/cdn-cgi/access/certs") }),
    ] {
        let c = Config::from_json(&issuer(extra).to_string()).unwrap();
        assert_eq!(
            c.issuers[0].jwks_uri.as_deref(),
            Some("https://acme.cloudflareaccess.com/cdn-cgi/access/certs")
        );
    }
    let c = Config::from_json(&issuer(json!({ "jwks": "jwks:access" })).to_string()).unwrap();
    assert_eq!(
        (
            c.issuers[0].jwks.as_deref(),
            c.issuers[0].jwks_uri.as_deref()
        ),
        (Some("jwks:access"), None)
    );
}

/// A credential header is a header of its own: not one that frames, routes or carries the
/// request (stripped with the credential, rewritten by proxies), and not an identity or claim
/// header in any spelling an origin reads as the same name (`_` as `-`, any case).
#[test]
fn a_credential_header_is_no_request_header_nor_an_identity_header_in_any_spelling() {
    let with = |credentials: Value, extra: Value| {
        let mut c = minimal();
        c["credentials"] = credentials;
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    for name in [
        "Cookie",
        "Host",
        "connection",
        "Content-Length",
        "content_length",
        "Transfer-Encoding",
        "TE",
        "Upgrade",
        "Keep-Alive",
        "Proxy-Authorization",
    ] {
        let p = problems(with(json!({ "header": name }), json!({})));
        assert!(
            p.contains(&format!(
                "credentials.header \"{name}\" frames, routes or carries the request"
            )),
            "{name}: {p}"
        );
    }
    let p = problems(with(json!({ "apiKeyHeader": "Cookie" }), json!({})));
    assert!(
        p.contains("credentials.apiKeyHeader \"Cookie\" frames, routes or carries the request"),
        "{p}"
    );
    for (credentials, extra, needle) in [
        (
            json!({ "header": "X_Auth_Subject" }),
            json!({}),
            "\"x-auth-subject\" is used twice (identityHeaders and credentials.header)",
        ),
        (
            json!({ "header": "x_AUTH_kind" }),
            json!({}),
            "\"x-auth-kind\" is used twice (identityHeaders and credentials.header)",
        ),
        (
            json!({ "header": "X_Tenant" }),
            json!({ "claimHeaders": { "tenant": "X-Tenant" } }),
            "\"x-tenant\" is used twice (credentials.header and claimHeaders)",
        ),
        (
            json!({ "apiKeyHeader": "X_Auth_Scopes" }),
            json!({}),
            "\"x-auth-scopes\" is used twice (identityHeaders and credentials.apiKeyHeader)",
        ),
        (
            json!({}),
            json!({ "claimHeaders": { "tenant": "X_Auth_Issuer" } }),
            "\"x-auth-issuer\" is used twice (identityHeaders and claimHeaders)",
        ),
    ] {
        let p = problems(with(credentials.clone(), extra));
        assert!(p.contains(needle), "{credentials}: {p}");
    }
    // A header of its own is fine.
    let c =
        Config::from_json(&with(json!({ "header": "X-Token" }), json!({})).to_string()).unwrap();
    assert_eq!(c.credentials.header.as_deref(), Some("X-Token"));
}

/// An unsigned compact JWS with these claims (the choice of issuer reads claims only).
fn token_with(claims: &Value) -> String {
    let part = |v: &Value| tokengate::b64::encode(v.to_string().as_bytes());
    format!("{}.{}.c2ln", part(&json!({ "alg": "ES256" })), part(claims))
}

/// The issuer that checks a token is the one its unverified `iss` names; an `iss` that is none
/// of the candidates is refused before any key is read (`issuer_not_allowed`, 401), never judged
/// by the first issuer's keys. Without a string `iss` (or unparseable) the first one checks it.
#[test]
fn the_issuer_for_a_token_is_the_one_its_iss_names_or_none() {
    let names = vec![
        "https://a.example".to_owned(),
        "https://b.example".to_owned(),
    ];
    let pick = |claims: Value| Config::issuer_for(&token_with(&claims), &names);
    assert_eq!(pick(json!({ "iss": "https://a.example" })).unwrap(), 0);
    assert_eq!(pick(json!({ "iss": "https://b.example" })).unwrap(), 1);
    let e = pick(json!({ "iss": "https://evil.example" })).unwrap_err();
    assert_eq!(e.code(), ErrorCode::IssuerNotAllowed);
    assert_eq!(e.status(), 401);
    assert_eq!(
        e.message(),
        "issuer \"https://evil.example\" is not allowed"
    );
    // Not exact: another case or a trailing slash is another issuer.
    for iss in ["https://A.example", "https://a.example/", ""] {
        let e = pick(json!({ "iss": iss })).unwrap_err();
        assert_eq!(e.code(), ErrorCode::IssuerNotAllowed, "{iss}");
    }
    // No string `iss`, or no token: the first candidate, whose validator says what is wrong.
    assert_eq!(pick(json!({ "sub": "x" })).unwrap(), 0);
    assert_eq!(pick(json!({ "iss": 7 })).unwrap(), 0);
    assert_eq!(Config::issuer_for("not a token", &names).unwrap(), 0);
    // Among the candidates given only (a credential that may be checked against those alone).
    let only_b = vec!["https://b.example".to_owned()];
    let t = token_with(&json!({ "iss": "https://a.example" }));
    assert_eq!(
        Config::issuer_for(&t, &only_b).unwrap_err().code(),
        ErrorCode::IssuerNotAllowed
    );
    assert_eq!(
        Config::issuer_for("x", &[]).unwrap_err().code(),
        ErrorCode::IssuerNotAllowed
    );
}
