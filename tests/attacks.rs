#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! One named test per known attack class on JWT validators.

mod common;
use common::*;
use serde_json::json;
use tokengate::{Alg, ErrorCode, KeySet, Policy, Validator};

fn payload() -> String {
    serde_json::to_string(&claims()).unwrap()
}

#[test]
fn alg_none_in_any_casing_is_rejected() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = format!(r#"{{"alg":"{alg}","kid":"k-HS256"}}"#);
        assert_eq!(
            code(&v, &forge(&h, &payload(), "")),
            Err(ErrorCode::AlgNotAllowed),
            "{alg} without signature"
        );
        assert_eq!(
            code(&v, &forge(&h, &payload(), "c2ln")),
            Err(ErrorCode::AlgNotAllowed),
            "{alg} with signature"
        );
    }
}

#[test]
fn hs256_signed_with_public_key_bytes_is_rejected() {
    // The classic confusion: the attacker uses the verifier's *public* key as an HMAC secret.
    for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let k = key(alg);
        let v = validator(&k, json!({}));
        let public_json = serde_json::to_string(&k.public_jwk()).unwrap();
        let header = r#"{"alg":"HS256","kid":"KID"}"#.replace("KID", k.kid().unwrap());
        for secret in [
            public_json.as_bytes().to_vec(),
            k.public_jwk()
                .get("x")
                .and_then(|x| x.as_str())
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default(),
        ] {
            if secret.is_empty() {
                continue;
            }
            let hmac_key = tokengate::SigningKey::from_jwk(
                &json!({"kty": "oct", "k": b64(&[secret.clone(), vec![0; 32]].concat())})
                    .to_string(),
                Some(Alg::HS256),
            )
            .unwrap();
            let forged = sign_raw(&hmac_key, &header, &payload());
            assert_eq!(code(&v, &forged), Err(ErrorCode::AlgNotAllowed), "{alg}");
        }
        // Without a kid the public key is never an HMAC candidate either.
        let forged = sign_raw(
            &tokengate::SigningKey::from_jwk(
                &json!({"kty":"oct","k": b64(public_json.as_bytes())}).to_string(),
                Some(Alg::HS256),
            )
            .unwrap(),
            r#"{"alg":"HS256"}"#,
            &payload(),
        );
        assert_eq!(
            code(&v, &forged),
            Err(ErrorCode::KeyNotFound),
            "{alg} kid-less"
        );
    }
}

#[test]
fn embedded_jwk_jku_x5u_x5c_never_choose_the_key() {
    let real = key(Alg::ES256);
    let attacker =
        tokengate::SigningKey::generate(Alg::ES256, Some("attacker".into()), None).unwrap();
    let v = validator(&real, json!({}));
    let attacker_jwk = serde_json::to_string(&attacker.public_jwk()).unwrap();
    for extra in [
        format!(r#""jwk":{attacker_jwk}"#),
        r#""jku":"https://attacker.example/jwks.json""#.to_string(),
        r#""x5u":"https://attacker.example/cert.pem""#.to_string(),
        r#""x5c":["MIIB"]"#.to_string(),
    ] {
        // Signed by the attacker, with the attacker's key material offered in the header.
        let h = format!(r#"{{"alg":"ES256",{extra}}}"#);
        assert_eq!(
            code(&v, &sign_raw(&attacker, &h, &payload())),
            Err(ErrorCode::SignatureInvalid),
            "{extra}"
        );
        let h = format!(
            r#"{{"alg":"ES256","kid":"{}",{extra}}}"#,
            attacker.kid().unwrap()
        );
        assert_eq!(
            code(&v, &sign_raw(&attacker, &h, &payload())),
            Err(ErrorCode::KeyNotFound),
            "{extra}"
        );
    }
}

#[test]
fn ecdsa_r_s_zero_and_n_are_rejected() {
    let k = key(Alg::ES256);
    let v = validator(&k, json!({}));
    let h = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, k.kid().unwrap());
    let n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    for (r, s) in [
        (vec![0u8; 32], vec![0u8; 32]),
        (n.clone(), n.clone()),
        (vec![0u8; 32], n.clone()),
    ] {
        let sig = b64(&[r, s].concat());
        assert_eq!(
            code(&v, &forge(&h, &payload(), &sig)),
            Err(ErrorCode::SignatureInvalid)
        );
    }
    // DER-encoded or otherwise wrong-length signatures are not r‖s.
    let good = k.mint(&claims()).unwrap();
    let sig = tokengate::b64::decode(good.rsplit('.').next().unwrap()).unwrap();
    let long = b64(&[sig.clone(), vec![0]].concat());
    assert_eq!(
        code(&v, &format!("{}.{long}", good.rsplit_once('.').unwrap().0)),
        Err(ErrorCode::SignatureInvalid)
    );
    assert_eq!(code(&v, &good), Ok(()));
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn numeric_dates_as_strings_are_rejected_not_ignored() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let h = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.kid().unwrap());
    for body in [
        json!({"exp": (NOW + 60).to_string()}),
        json!({"exp": NOW + 60, "nbf": "0"}),
        json!({"exp": NOW + 60, "iat": true}),
        json!({"exp": null}),
        json!({"exp": 1e300}),
        json!({"exp": -1}),
    ] {
        assert_eq!(
            code(&v, &sign_raw(&k, &h, &body.to_string())),
            Err(ErrorCode::ClaimInvalid),
            "{body}"
        );
    }
}

#[test]
fn duplicate_claim_or_header_names_are_rejected() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let h = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.kid().unwrap());
    let dup = format!(r#"{{"sub":"admin","exp":{},"sub":"user-1"}}"#, NOW + 60);
    assert_eq!(
        code(&v, &sign_raw(&k, &h, &dup)),
        Err(ErrorCode::TokenMalformed)
    );
    let escaped = format!(r#"{{"exp":{},"\u0065xp":{}}}"#, NOW - 600, NOW + 60);
    assert_eq!(
        code(&v, &sign_raw(&k, &h, &escaped)),
        Err(ErrorCode::TokenMalformed)
    );
    let dup_header = format!(
        r#"{{"alg":"HS256","alg":"none","kid":"{}"}}"#,
        k.kid().unwrap()
    );
    assert_eq!(
        code(&v, &sign_raw(&k, &dup_header, &payload())),
        Err(ErrorCode::TokenMalformed)
    );
}

#[test]
fn non_canonical_base64url_is_rejected() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let good = k.mint(&claims()).unwrap();
    assert_eq!(code(&v, &good), Ok(()));
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    // Padding, whitespace, standard-alphabet characters, changed unused trailing bits.
    for bad in [
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p} .{s}"),
        format!("{h}.{p}.{}", s.replace('_', "/").replace('-', "+")),
        format!("{h}.{p}.{s}\n"),
    ] {
        if bad == good {
            continue;
        }
        assert!(
            matches!(
                code(&v, &bad),
                Err(ErrorCode::TokenMalformed) | Err(ErrorCode::SignatureInvalid)
            ),
            "{bad}"
        );
    }
    // The HMAC-SHA256 signature is 32 bytes: 43 characters whose last carries 2 unused bits.
    let last = s.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx ^ 1).unwrap();
    let bad = format!("{h}.{p}.{}{tweaked}", &s[..s.len() - 1]);
    assert_eq!(code(&v, &bad), Err(ErrorCode::TokenMalformed));
}

#[test]
fn oversized_token_is_rejected_before_decoding() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"maxTokenBytes": 1024}));
    // Not even base64: proves the size check runs first.
    let huge = "!".repeat(1025);
    let e = v.validate(&huge, NOW, &Default::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TokenTooLarge);
    let default = validator(&k, json!({}));
    assert_eq!(
        code(&default, &"a".repeat(16 * 1024 + 1)),
        Err(ErrorCode::TokenTooLarge)
    );
}

#[test]
fn deep_json_nesting_is_rejected() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let h = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.kid().unwrap());
    let deep = format!(
        r#"{{"exp":{},"x":{}1{}}}"#,
        NOW + 60,
        "[".repeat(100),
        "]".repeat(100)
    );
    let e = v
        .validate(&sign_raw(&k, &h, &deep), NOW, &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TokenMalformed);
    assert!(e.message().contains("nested"), "{e}");
    let deep_header = format!(
        r#"{{"alg":"HS256","kid":"{}","x":{}0{}}}"#,
        k.kid().unwrap(),
        "{\"a\":".repeat(40),
        "}".repeat(40)
    );
    assert_eq!(
        code(&v, &sign_raw(&k, &deep_header, &payload())),
        Err(ErrorCode::TokenMalformed)
    );
}

#[test]
fn kid_with_path_traversal_and_quotes_is_only_a_string() {
    let k = tokengate::SigningKey::generate(
        Alg::ES256,
        Some(r#"../../etc/passwd" OR "1"="1"#.into()),
        None,
    )
    .unwrap();
    let v = validator(&k, json!({}));
    assert_eq!(code(&v, &k.mint(&claims()).unwrap()), Ok(()));
    let other =
        tokengate::SigningKey::generate(Alg::ES256, Some("../k-ES256".into()), None).unwrap();
    let e = v
        .validate(&other.mint(&claims()).unwrap(), NOW, &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyNotFound);
    assert!(e.message().contains("../k-ES256"));
    // The message never breaks an HTTP header.
    assert!(!e.www_authenticate("api").contains('\n'));
}

#[test]
fn a_kid_names_its_own_key_in_small_and_large_sets() {
    // Small sets are searched by a scan, large ones through an index: both must pick the same
    // key, miss the same kids and refuse the same duplicates.
    for n in [1usize, 3, 16, 17, 40] {
        let keys: Vec<tokengate::SigningKey> = (0..n)
            .map(|i| tokengate::SigningKey::generate(Alg::HS256, Some(format!("k{i}")), None))
            .collect::<Result<_, _>>()
            .unwrap();
        let jwks = json!({"keys": keys.iter().map(|k| k.private_jwk()).collect::<Vec<_>>()});
        let set = KeySet::from_json(&jwks.to_string()).unwrap();
        let v = Validator::new(set.clone(), Policy::default());
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(set.get(&format!("k{i}")).and_then(|k| k.kid()), k.kid());
            let p = v.prepare(&k.mint(&claims()).unwrap()).unwrap();
            assert_eq!(p.candidates, vec![i], "{n} keys");
        }
        assert!(set.get("k").is_none() && set.get(&format!("k{n}")).is_none());
        let stranger = tokengate::SigningKey::generate(Alg::HS256, Some("k".into()), None).unwrap();
        let e = v.prepare(&stranger.mint(&claims()).unwrap()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::KeyNotFound, "{n} keys");
        let mut twice = jwks.clone();
        twice["keys"][n - 1]["kid"] = json!("k0");
        let doubled = KeySet::from_json(&twice.to_string()).map(|_| ());
        if n > 1 {
            let e = doubled.unwrap_err();
            assert_eq!(e.code(), ErrorCode::KeyInvalid);
            assert!(e.message().contains("two keys with kid"), "{}", e.message());
        }
    }
}

#[test]
fn crit_with_unknown_extension_is_rejected() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({}));
    let h = format!(
        r#"{{"alg":"HS256","kid":"{}","crit":["exp"],"exp":1}}"#,
        k.kid().unwrap()
    );
    assert_eq!(
        code(&v, &sign_raw(&k, &h, &payload())),
        Err(ErrorCode::CritUnsupported)
    );
    let h = format!(
        r#"{{"alg":"HS256","kid":"{}","crit":[]}}"#,
        k.kid().unwrap()
    );
    assert_eq!(
        code(&v, &sign_raw(&k, &h, &payload())),
        Err(ErrorCode::TokenMalformed)
    );
    // Understood when the policy says so.
    let v = validator(&k, json!({"crit": ["exp"]}));
    let h = format!(
        r#"{{"alg":"HS256","kid":"{}","crit":["exp"],"exp":1}}"#,
        k.kid().unwrap()
    );
    assert_eq!(code(&v, &sign_raw(&k, &h, &payload())), Ok(()));
}

/// A `crit` list as long as the token allows, over a header of as many members: each entry is
/// decided as a short one would be (the lookup is once per understood name, not per entry).
#[test]
fn long_crit_lists_decide_like_short_ones() {
    let k = key(Alg::HS256);
    let v = validator(&k, json!({"crit": ["exp", "b64"], "maxTokenBytes": 65536}));
    let kid = k.kid().unwrap();
    let entries = vec!["\"exp\""; 2000].join(",");
    let members: String = (0..1000).map(|i| format!(r#","m{i}":0"#)).collect();
    let header = |crit: &str, last: &str| {
        format!(r#"{{"alg":"HS256","kid":"{kid}","crit":[{crit}]{members}{last}}}"#)
    };
    let ok = header(&entries, r#","exp":1"#);
    assert_eq!(code(&v, &sign_raw(&k, &ok, &payload())), Ok(()));
    // Named but absent: malformed, however far down the list.
    let absent = header(&format!(r#"{entries},"b64""#), r#","exp":1"#);
    let e = v
        .validate(&sign_raw(&k, &absent, &payload()), NOW, &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TokenMalformed);
    assert_eq!(e.message(), r#"crit names "b64" but the header lacks it"#);
    // Not understood: refused as such, after the understood entries before it.
    let unknown = header(&format!(r#"{entries},"zip""#), r#","exp":1,"zip":1"#);
    assert_eq!(
        code(&v, &sign_raw(&k, &unknown, &payload())),
        Err(ErrorCode::CritUnsupported)
    );
}

#[test]
fn key_verifies_only_its_own_family_and_alg() {
    let k = key(Alg::PS256);
    // The JWK pins PS256: an RS256 signature by the same RSA key is refused.
    let v = validator(&k, json!({}));
    let rs = tokengate::SigningKey::from_jwk(
        &serde_json::to_string(&{
            let mut j = k.private_jwk();
            j.insert("alg".into(), "RS256".into());
            j
        })
        .unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(
        code(&v, &rs.mint(&claims()).unwrap()),
        Err(ErrorCode::AlgNotAllowed)
    );
    // The policy's allow-list applies on top.
    let v = validator(&k, json!({"algorithms": ["ES256"]}));
    assert_eq!(
        code(&v, &k.mint(&claims()).unwrap()),
        Err(ErrorCode::AlgNotAllowed)
    );
}

#[test]
fn weak_keys_are_refused_at_import() {
    let short = json!({"kty": "oct", "k": b64(&[7u8; 31])}).to_string();
    assert_eq!(
        KeySet::from_json(&short).unwrap_err().code(),
        ErrorCode::KeyInvalid
    );
    // The message names the minimum: a page shows it as the advice, not a figure of its own.
    assert_eq!(
        KeySet::from_json(&short).unwrap_err().message(),
        "key: HMAC key is 31 bytes, shorter than the 32-byte hash output; use a secret of at least 32 bytes"
    );
    let hs512_short = json!({"kty": "oct", "alg": "HS512", "k": b64(&[7u8; 48])}).to_string();
    assert_eq!(
        KeySet::from_json(&hs512_short).unwrap_err().code(),
        ErrorCode::KeyInvalid
    );
    assert!(KeySet::from_json(&hs512_short)
        .unwrap_err()
        .message()
        .ends_with("shorter than the 64-byte hash output; use a secret of at least 64 bytes"));
    // A 32-byte secret without alg is usable for HS256 only.
    let k = KeySet::from_json(&json!({"kty": "oct", "k": b64(&[7u8; 32])}).to_string()).unwrap();
    assert_eq!(k.keys()[0].algs(), vec![Alg::HS256]);
    // The ROCA key from Wycheproof is refused with a reason naming it.
    let doc = common::wycheproof("json_web_key_test.json");
    let roca = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["comment"] == "jws_rsa_roca_key")
        .unwrap();
    let mut jwk = roca["public"]["keys"][0].clone();
    jwk.as_object_mut().unwrap().remove("d");
    let e = KeySet::from_json(&jwk.to_string()).unwrap_err();
    assert!(e.message().contains("ROCA"), "{e}");
    // Freshly generated RSA keys do not trip the fingerprint.
    for _ in 0..2 {
        assert!(
            KeySet::from_json(&serde_json::to_string(&key(Alg::RS256).public_jwk()).unwrap())
                .is_ok()
        );
    }
}

#[test]
fn private_keys_are_not_verification_keys() {
    let k = key(Alg::ES256);
    let e = KeySet::from_json(&serde_json::to_string(&k.private_jwk()).unwrap()).unwrap_err();
    assert!(e.message().contains("private"), "{e}");
    let mixed = json!({"keys": [key(Alg::HS256).public_jwk(), k.public_jwk()]}).to_string();
    assert_eq!(
        KeySet::from_json(&mixed).unwrap_err().code(),
        ErrorCode::KeyInvalid
    );
}

#[test]
fn kidless_tokens_try_a_bounded_number_of_keys() {
    let keys: Vec<_> = (0..6)
        .map(|i| tokengate::SigningKey::generate(Alg::ES256, Some(format!("k{i}")), None).unwrap())
        .collect();
    let set = KeySet::from_json(
        &json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()}).to_string(),
    )
    .unwrap();
    let v = Validator::new(set, Policy::default());
    let header = r#"{"alg":"ES256"}"#;
    let p = payload();
    // Signed by the 1st key: found. By the 6th: beyond MAX_KIDLESS_CANDIDATES (4), not tried.
    assert_eq!(code(&v, &sign_raw(&keys[0], header, &p)), Ok(()));
    assert_eq!(code(&v, &sign_raw(&keys[3], header, &p)), Ok(()));
    assert_eq!(
        code(&v, &sign_raw(&keys[5], header, &p)),
        Err(ErrorCode::SignatureInvalid)
    );
    assert_eq!(tokengate::MAX_KIDLESS_CANDIDATES, 4);
}

#[test]
fn a_server_side_problem_is_answered_503_and_tells_the_client_nothing() {
    use tokengate::Error;
    for &code in ErrorCode::ALL {
        let secret = "key k1 in KV jwks:main is an RSA key of 512 bits";
        let e = Error::new(code, secret).with_scope("admin");
        let sent = e.answered();
        assert_ne!(sent.status(), 500, "{code}");
        if code.status() < 500 || code == ErrorCode::RevocationDataStale {
            assert_eq!(sent, e, "{code}: a client's problem goes out as it is");
        } else {
            assert_eq!(sent.code(), ErrorCode::DataUnavailable, "{code}");
            assert!(!sent.www_authenticate("api").contains("RSA"), "{code}");
            assert_eq!(sent.retry_after(), Some(30), "{code}");
        }
    }
}
