//! Writes the committed seed corpus, `fuzz/corpus/<target>/<name>`, made with the crate itself:
//! real tokens from the fixed fuzz keys and the RFC examples in `tests/data/rfc.json`, JWKS,
//! private JWKs, revocation lists and entries, API keys and records, policies. Each seed
//! follows its target's input layout (see the target's doc comment).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (rewrites the directory).

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use tokengate::apikey::{self, NewKey, Record};
use tokengate::revocation::{self, Entry};
use tokengate::{Alg, SigningKey};
use tokengate_fuzz::{eddsa, es256, hs256, ISSUER, NOW};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

fn claims() -> Map<String, Value> {
    obj(
        json!({"iss": ISSUER, "sub": "user-1", "aud": "api", "iat": NOW - 10, "exp": NOW + 600,
        "jti": "t-1", "scope": "users:read billing:read", "type": "access"}),
    )
}

/// NUL-joined text parts after the parameter bytes.
fn framed(params: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut out = params.to_vec();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(p.as_bytes());
    }
    out
}

struct Writer {
    root: PathBuf,
}

impl Writer {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), bytes).expect("write seed");
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("corpus");
    let _ = std::fs::remove_dir_all(&corpus);
    let w = Writer { root: corpus };
    let rfc: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("../tests/data/rfc.json")).expect("tests/data/rfc.json"),
    )
    .expect("rfc.json");
    let rfc_vectors = rfc["vectors"].as_array().expect("vectors");

    // Tokens shared by token and inspect.
    let hs = hs256().mint(&claims()).expect("mint");
    let es = es256().mint(&claims()).expect("mint");
    let ed = eddsa().mint(&claims()).expect("mint");
    let crit = hs256()
        .sign_jws(
            b"{\"exp\":1800000600}",
            &obj(json!({"crit": ["exp"], "exp": 1})),
        )
        .expect("sign");
    let refresh = hs256()
        .mint(&obj(
            json!({"iss": ISSUER, "type": "refresh", "exp": NOW + 86_400 * 60, "iat": NOW,
            "password": "x", "scope": "bad scope!"}),
        ))
        .expect("mint");
    let text_payload = es256().sign_jws(b"hello", &Map::new()).expect("sign");
    let mut tokens: Vec<(String, String)> = vec![
        ("hs256".into(), hs.clone()),
        ("es256".into(), es.clone()),
        ("eddsa".into(), ed),
        ("crit".into(), crit),
        ("refresh".into(), refresh),
        ("text-payload".into(), text_payload),
        (
            "alg-none".into(),
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".into(),
        ),
        ("two-parts".into(), "eyJhbGciOiJIUzI1NiJ9.e30".into()),
        ("bad-b64".into(), "eyJhbGciOiJIUzI1NiJ9.e3=.AAAA".into()),
        (
            "dup-claim".into(),
            "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxLCJhIjoyfQ.AAAA".into(),
        ),
    ];
    for (i, v) in rfc_vectors.iter().enumerate() {
        if let Some(jws) = v["jws"].as_str() {
            tokens.push((format!("rfc-{i}"), jws.to_owned()));
        }
    }

    // token: flag byte + token.
    for (name, t) in &tokens {
        let flags = if name == "crit" { 2 } else { 0 };
        w.put("token", name, &framed(&[flags], &[t]));
    }

    // inspect: flags, clock (8), threshold (4), lifetime bound (4), text.
    let mut params = vec![0u8];
    params.extend_from_slice(&0i64.to_le_bytes());
    params.extend_from_slice(&[0; 8]);
    for (name, t) in tokens.iter().take(7) {
        w.put("inspect", name, &framed(&params, &[t]));
    }
    let raw_key = apikey::generate().expect("api key");
    w.put("inspect", "apikey", &framed(&params, &[&raw_key]));
    w.put(
        "inspect",
        "bearer",
        &framed(&params, &[&format!("Bearer {hs}")]),
    );
    w.put(
        "inspect",
        "jwe",
        &framed(
            &params,
            &["eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"],
        ),
    );
    let mut far = vec![1u8];
    far.extend_from_slice(&i64::MIN.to_le_bytes());
    far.extend_from_slice(&[0; 8]);
    w.put("inspect", "far-clock", &framed(&far, &[&hs]));

    // validate: policy bytes, claim bytes, cache bytes, 9 text parts, then calls.
    struct V<'a> {
        pflags: u8,
        cflags: u8,
        cache: u8,
        parts: [&'a str; 9],
        calls: &'a [(u8, i16, u8)],
    }
    let validate_seeds = [
        ("hs256-hit-then-expired", V { pflags: 0, cflags: 0, cache: 0x14, parts: ["user-1", "t-1", "users:read", "", "", "", "", "", ""],
            calls: &[(0, 0, 0), (0, 10, 0), (0, 300, 0), (0, 0, 1)] }),
        ("es256-revoked-jti", V { pflags: 7, cflags: 0, cache: 0x27, parts: ["user-1", "t-1", "users:read billing:*", "", "", "", "", "", ""],
            calls: &[(3, 0, 0), (4, 5, 0), (3, 6, 0), (5, 7, 0)] }),
        ("grants-and-requirements", V { pflags: 0x80, cflags: 8, cache: 0x11, parts: ["user-1", "t-1", "users:* billing:read admin", "{\"tenant\":\"acme\"}", "{\"cty\":\"x\"}", "users:read billing:*", "users:read and (billing:read or admin)", "users:write", ""],
            calls: &[(0x28, 0, 0), (0x38, 1, 0), (0x08, 2, 0), (0x20, 3, 0)] }),
        ("strict-policy-subject-cut-off", V { pflags: 0x3c, cflags: 0x40, cache: 0x09, parts: ["user-2", "t-9", "users:read", "", "", "", "", "", "{\"schema\":1,\"version\":3,\"generated_at\":1800000000,\"jti\":[{\"iss\":\"https://issuer.example\",\"jti\":\"t-1\",\"until\":1800003600}],\"subjects\":[],\"apikeys\":[]}"],
            calls: &[(5, 0, 0), (6, 0, 0), (3, 0, 0), (7, 0, 0)] }),
        ("no-exp-fractional-raw-payload", V { pflags: 0x40, cflags: 0x25, cache: 0x3f, parts: ["", "", "", "{\"exp\":1800000000.5,\"nbf\":1.5}", "{\"typ\":\"at+jwt\"}", "", "", "", ""],
            calls: &[(0, 0, 0), (0, 1, 0)] }),
    ];
    for (name, v) in validate_seeds {
        let mut p = vec![v.pflags, 30];
        p.extend_from_slice(&3600u16.to_le_bytes());
        p.extend_from_slice(&600u16.to_le_bytes());
        p.extend_from_slice(&900u16.to_le_bytes());
        p.push(v.cflags);
        p.extend_from_slice(&150i16.to_le_bytes()); // exp = NOW + 600
        p.extend_from_slice(&(-10i16).to_le_bytes());
        p.extend_from_slice(&(-5i16).to_le_bytes());
        p.push(v.cache);
        let mut bytes = framed(&p, &v.parts);
        bytes.push(0);
        for (sel, dt, which) in v.calls {
            bytes.push(*sel);
            bytes.extend_from_slice(&dt.to_le_bytes());
            bytes.push(*which);
        }
        w.put("validate", name, &bytes);
    }

    // scope: set A, set B, requirement, probes.
    let scope_seeds = [
        (
            "wildcards",
            [
                "users:* billing:read admin",
                "users:read users:write:* billing:*",
                "users:read and (billing:read or admin)",
                "users:read:x other",
            ],
        ),
        ("all", ["*", "api.v1:read", "api.v1:read api.v1:write", ""]),
        (
            "nested",
            [
                "a:b:* c",
                "a:* c:d",
                "(a:b:c or (c and d)) && (c || a:x)",
                "a:b",
            ],
        ),
        ("invalid", ["users:*:read", "bad!", "and or (", ""]),
    ];
    for (name, parts) in scope_seeds {
        w.put("scope", name, &framed(&[], &parts));
    }

    // revocation: clock offset (2), max age (2), version (1), list, entries.
    let entries = [
        json!({"kind": "jti", "iss": ISSUER, "jti": "t-1", "until": NOW + 600}),
        json!({"kind": "subject", "iss": ISSUER, "sub": "user-1", "before": NOW, "until": NOW + 3600}),
        json!({"kind": "apikey", "hash": apikey::hash(&raw_key), "until": NOW + 60}),
        json!({"kind": "jti", "iss": ISSUER, "jti": "t-1", "until": NOW - 5}),
    ];
    let parsed: Vec<Entry> = entries
        .iter()
        .map(|e| Entry::parse(&e.to_string()).expect("entry").0)
        .collect();
    let names: Vec<String> = entries.iter().map(Value::to_string).collect();
    let snap = revocation::snapshot(&parsed, 6, NOW, revocation::source_digest(&names));
    let mut rp = Vec::new();
    rp.extend_from_slice(&0i16.to_le_bytes());
    rp.extend_from_slice(&600u16.to_le_bytes());
    rp.push(6);
    let entry_texts: Vec<String> = entries.iter().map(Value::to_string).collect();
    let mut parts: Vec<&str> = vec![];
    let snap_json = snap.to_json();
    parts.push(&snap_json);
    parts.extend(entry_texts.iter().map(String::as_str));
    parts.push("https://issuer.example|user-1|t-1|1799999990");
    w.put("revocation", "snapshot-and-entries", &framed(&rp, &parts));
    let hand = json!({"schema": 1, "version": 2, "generated_at": NOW - 700,
        "jti": [{"iss": ISSUER, "jti": "a", "until": NOW + 1}, {"iss": ISSUER, "jti": "a", "until": NOW + 9}],
        "subjects": [{"iss": ISSUER, "sub": "u", "before": NOW - 100, "until": NOW + 100}],
        "apikeys": [{"hash": "0".repeat(64), "until": NOW - 1}]})
    .to_string();
    w.put(
        "revocation",
        "hand-written",
        &framed(
            &rp,
            &[
                &hand,
                "https://issuer.example|u||1799999000",
                "https://issuer.example|u|a",
            ],
        ),
    );

    // keys: flag 0 + JWKS, or flag 1 | alg index << 1 + a private JWK.
    let p384 = SigningKey::generate(Alg::ES384, Some("p384".into()), None).expect("key");
    let rsa = SigningKey::generate(Alg::PS256, Some("rsa".into()), None).expect("key");
    let jwks = json!({"keys": [es256().public_jwk(), eddsa().public_jwk(), p384.public_jwk(),
        {"kty": "EC", "crv": "P-256", "use": "enc", "x": "x", "y": "y"}]});
    w.put("keys", "jwks", &framed(&[0], &[&jwks.to_string()]));
    w.put(
        "keys",
        "jwks-rsa",
        &framed(&[0], &[&json!({"keys": [rsa.public_jwk()]}).to_string()]),
    );
    w.put(
        "keys",
        "jwk-oct",
        &framed(&[0], &[&Value::Object(hs256().public_jwk()).to_string()]),
    );
    for v in rfc_vectors.iter().take(3) {
        if v["key"].is_object() {
            let name = format!(
                "rfc-{}",
                v["name"]
                    .as_str()
                    .unwrap_or("key")
                    .split(' ')
                    .next_back()
                    .unwrap_or("key")
            );
            w.put("keys", &name, &framed(&[0], &[&v["key"].to_string()]));
        }
    }
    let index = |a: Alg| Alg::ALL.iter().position(|x| *x == a).expect("alg") as u8;
    for (name, k) in [
        ("private-es256", es256()),
        ("private-eddsa", eddsa()),
        ("private-hs256", hs256()),
        ("private-rsa", &rsa),
    ] {
        let flags = 1 | (index(k.alg()) << 1);
        w.put(
            "keys",
            name,
            &framed(&[flags], &[&Value::Object(k.private_jwk()).to_string()]),
        );
    }

    // apikey: flags, now offset (2), expiry offset (2), raw, owner, scopes, record, grants, req.
    let (raw, record) = Record::create(
        NewKey {
            name: "ci".into(),
            owner: "svc-1".into(),
            scopes: vec!["users:read".into(), "billing:*".into()],
            ..Default::default()
        },
        NOW,
    )
    .expect("record");
    let record_json = serde_json::to_string(&record).expect("record json");
    let mut ap = vec![0u8];
    ap.extend_from_slice(&0i16.to_le_bytes());
    ap.extend_from_slice(&1000i16.to_le_bytes());
    w.put(
        "apikey",
        "record",
        &framed(
            &ap,
            &[
                &raw,
                "svc-1",
                "users:read billing:*",
                &record_json,
                "billing:read",
                "billing:read",
            ],
        ),
    );
    ap[0] = 0x81;
    w.put(
        "apikey",
        "built-key-lifecycle",
        &framed(
            &ap,
            &[
                "0123456789abcdef",
                "svc-2",
                "users:* admin",
                "",
                "users:read",
                "users:read or admin",
            ],
        ),
    );
    ap[0] = 0x44;
    w.put(
        "apikey",
        "revoked-listed",
        &framed(&ap, &[&raw, "svc-1", "", "", "", ""]),
    );

    // policy: clock offset (4), options, claims, header.
    let policies = [
        ("default", json!({}), claims(), json!({})),
        (
            "strict",
            json!({"algorithms": ["HS256"], "issuer": ISSUER, "audience": ["api", "admin"], "typ": "JWT",
            "tokenTypes": ["access"], "leeway": 5, "maxLifetime": 3600, "maxAge": 600, "requiredClaims": ["jti"],
            "claimValues": {"tenant": "acme"}, "requireJti": true, "subject": "user-1", "scope": "users:read",
            "maxRevocationAge": 600}),
            obj(
                json!({"iss": ISSUER, "sub": "user-1", "aud": ["api"], "iat": NOW - 10, "exp": NOW + 600, "jti": "t-1",
                "scope": "users:read", "type": "access", "tenant": "acme"}),
            ),
            json!({"typ": "application/JWT"}),
        ),
        (
            "custom-claims",
            json!({"tokenTypeClaim": "token_use", "tokenTypes": "id", "scopeClaims": ["scp"], "requireExp": false,
            "maxLifetime": 0, "crit": ["exp"], "maxTokenBytes": 4096, "maxJsonDepth": 4}),
            obj(json!({"token_use": "id", "scp": ["a:b", "c"], "nested": {"x": [1]}})),
            json!({"crit": ["exp"], "exp": 1}),
        ),
    ];
    for (name, opts, c, h) in policies {
        w.put(
            "policy",
            name,
            &framed(
                &0i32.to_le_bytes(),
                &[
                    &opts.to_string(),
                    &Value::Object(c).to_string(),
                    &h.to_string(),
                ],
            ),
        );
    }
    // route: flags, protect, method, path, rules (`METHOD PATH [anon | SCOPE...]`).
    let table = [
        "GET /api/public* anon",
        "* /api/admin* admin",
        "GET /api/users/* users:read",
        "POST /api/users/* users:write and (billing:read or admin)",
        "GET /health anon",
    ];
    let route_seeds = [
        ("get-users", 0u8, "GET", "/api/users/42"),
        ("post-admin-case", 0, "post", "/api/ADMIN/x"),
        ("method-not-allowed", 0, "DELETE", "/api/users/1"),
        ("escapes", 0, "GET", "/api/%75sers/%7e%2Fx"),
        ("dot-segment", 0, "GET", "/api/public/../admin"),
        ("unicode", 1, "HEAD", "/api/public/%C3%A9t%C3%A9"),
        ("outside", 2, "GET", "/static/app.js"),
    ];
    for (name, flags, method, path) in route_seeds {
        let mut parts = vec![if flags & 2 != 0 { "/api" } else { "/api/" }, method, path];
        parts.extend(table);
        w.put("route", name, &framed(&[flags], &parts));
    }
    println!("seeds written to {}", w.root.display());
}
