#![no_main]
//! Token parsing: `token::{split, parse, peek_claims}`, strict base64url, `verify_jws`.
//! Input: one flag byte, then the token text.

use libfuzzer_sys::fuzz_target;
use tokengate::{b64, verify_jws, Policy};
use tokengate::{jws, Limits};
use tokengate_fuzz::{hs256, hs256_set, Input};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    let limits = Limits {
        max_token_bytes: if flags & 1 == 0 { 16 * 1024 } else { 64 },
        max_json_depth: usize::from(flags >> 4).clamp(2, 16),
    };
    let crit: Vec<String> = if flags & 2 == 0 {
        vec![]
    } else {
        vec!["b64".into(), "exp".into()]
    };

    // Strict base64url: one byte string has exactly one encoding.
    if let Ok(bytes) = b64::decode(text) {
        assert_eq!(
            b64::encode(&bytes),
            text,
            "non-canonical base64url accepted"
        );
    }
    assert_eq!(
        b64::decode(text),
        b64::decode_secret(text),
        "the fast and the constant-time decoders disagree"
    );
    assert_eq!(
        b64::decode(&b64::encode(text.as_bytes())).as_deref(),
        Ok(text.as_bytes())
    );

    let split = jws::split(text, &limits);
    let parsed = jws::parse(text, &limits, &crit);
    if text.len() > limits.max_token_bytes {
        assert!(
            parsed.is_err() && split.is_err(),
            "an oversized token parsed"
        );
    }
    if let Ok(jws) = &parsed {
        let [h, p, s] = split.expect("a parsed token splits");
        assert_eq!(jws.signing_input, format!("{h}.{p}"));
        assert_eq!(b64::decode(p).as_deref(), Ok(&jws.payload[..]));
        assert_eq!(b64::decode(s).as_deref(), Ok(&jws.signature[..]));
        assert!(!jws.signature.is_empty());
        // The header is strict JSON; a lenient parse of it agrees.
        let header = jws.header();
        let lenient: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&b64::decode(h).expect("header decodes"))
                .expect("a strict header parses leniently");
        assert_eq!(lenient, header);
        assert_eq!(
            header.get("alg").and_then(|a| a.as_str()),
            Some(jws.alg.name())
        );
        assert_eq!(
            jws.kid.as_deref(),
            header.get("kid").and_then(|k| k.as_str())
        );
        assert_eq!(
            jws.typ.as_deref(),
            header.get("typ").and_then(|t| t.as_str())
        );
        // Everything `crit` lists is understood and present.
        if let Some(list) = header.get("crit").and_then(|c| c.as_array()) {
            for name in list {
                let name = name.as_str().expect("crit entries are strings");
                assert!(crit.iter().any(|c| c == name) && header.contains_key(name));
            }
        }
    }

    // Unverified peeks read the payload exactly as validation does.
    let peeked = jws::peek_claims(text, &["iss", "sub"], &limits);
    assert_eq!(peeked.len(), 2);
    assert_eq!(jws::peek_issuer(text, &limits), peeked[0]);
    if peeked.iter().any(Option::is_some) {
        let [_, p, _] = jws::split(text, &limits).expect("a peeked token splits");
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&b64::decode(p).expect("payload decodes"))
                .expect("peeked claims parse");
        for (name, got) in ["iss", "sub"].iter().zip(&peeked) {
            if let Some(v) = got {
                assert_eq!(claims.get(*name).and_then(|c| c.as_str()), Some(v.as_str()));
            }
        }
    }

    // Signature check with a fixed HS256 key: anything not minted with it fails.
    let keys = hs256_set();
    let policy = Policy {
        limits,
        crit: crit.clone(),
        ..Policy::default()
    };
    if let Ok((header, payload)) = verify_jws(text, keys, &policy) {
        let jws = parsed.expect("a verified token parses");
        assert_eq!(header, jws.header());
        assert_eq!(payload, jws.payload);
        let resigned = hs256().sign_bytes(jws.signing_input.as_bytes());
        assert_eq!(
            resigned, jws.signature,
            "accepted a signature the key did not make"
        );
    }
});
