#![no_main]
//! Route decisions (`route::{Router, canonical, canonical_method}`).
//! - `canonical` is idempotent, keeps the decoded meaning of the path, and its output has none
//!   of the refused forms (`//`, dot segments, `;`, `\`, controls, lower-case or needless
//!   escapes);
//! - a decision depends only on the canonical path and the canonical method, and names the
//!   canonical path; under the protected prefix nothing is `Outside` (default deny);
//! - for route tables whose globs are plain (no escapes), the decision is the one a reference
//!   first-match evaluation gives, including the 405 `Allow` list.
//!
//! Input: a flag byte, then text parts: protect, method, path, then rules, each
//! `METHOD PATH [anon | SCOPE...]`.

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tokengate::ErrorCode;
use tokengate::{route, Decision, Router};
use tokengate_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.u8();
    let unicode = flags & 1 != 0;
    let protect = input.text();
    let method = input.text();
    let path = input.text();
    let mut rules = Vec::new();
    while !input.is_empty() && rules.len() < 8 {
        rules.push(input.text());
    }

    let canonical = route::canonical(&path, unicode);
    match &canonical {
        Err(e) => assert_eq!(e.code(), ErrorCode::PathInvalid),
        Ok(c) => {
            assert!(c.starts_with('/'));
            if c.len() <= 4096 {
                assert_eq!(
                    route::canonical(c, unicode).as_ref(),
                    Ok(c),
                    "canonical is not idempotent"
                );
            }
            assert_eq!(
                decode(c),
                decode(&path),
                "canonicalisation changed what the path says"
            );
            check_shape(c);
        }
    }

    // A route table from the input, as the worker configuration writes it.
    let parsed: Vec<(Option<String>, String, Option<String>, bool)> = rules
        .iter()
        .filter_map(|r| {
            let mut words = r.split(' ');
            let m = words.next()?.to_owned();
            let p = words.next()?.to_owned();
            let rest: Vec<&str> = words.collect();
            let anon = rest == ["anon"];
            let scope = (!anon && !rest.is_empty()).then(|| rest.join(" "));
            Some(((m != "*").then_some(m), p, scope, anon))
        })
        .collect();
    let routes: Vec<Value> = parsed
        .iter()
        .map(|(m, p, s, anon)| {
            let mut r = json!({ "method": m.as_deref().unwrap_or("*"), "path": p });
            if let Some(s) = s {
                r["scope"] = json!(s);
            }
            if *anon {
                r["anonymous"] = json!(true);
            }
            r
        })
        .collect();
    let mut config = json!({ "routes": routes, "allowUnicodePaths": unicode });
    if flags & 2 != 0 {
        config["protect"] = json!(protect);
    }
    let router = match Router::from_json(&config.to_string()) {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::OptionsInvalid);
            return;
        }
        Ok(r) => r,
    };
    let protect = if flags & 2 != 0 {
        protect
    } else {
        "/api/".to_owned()
    };
    let protect = route::canonical(&protect, unicode)
        .expect("an accepted protect prefix is a path")
        .to_ascii_lowercase();

    let decision = router.decide(&method, &path);
    let m = route::canonical_method(&method);
    match (&decision, &m, &canonical) {
        (Ok(d), Ok(m), Ok(c)) => {
            assert_eq!(
                d.path(),
                c,
                "a decision names another path than the canonical one"
            );
            // Deciding again on what is forwarded gives the same decision.
            assert_eq!(router.decide(m, c).as_ref(), Ok(d));
            assert_eq!(
                router.decide(&method.to_ascii_lowercase(), &path).as_ref(),
                Ok(d)
            );
            let under = c.to_ascii_lowercase().starts_with(&protect);
            assert_eq!(
                matches!(d, Decision::Outside { .. }),
                !under,
                "default deny broken"
            );
        }
        (Ok(_), _, _) => panic!("a decision for a bad method or path"),
        (Err(e), Err(_), _) => assert_eq!(e.code(), ErrorCode::MethodNotAllowed),
        (Err(e), Ok(_), Err(_)) => assert_eq!(e.code(), ErrorCode::PathInvalid),
        (Err(e), Ok(_), Ok(c)) => {
            assert!(matches!(
                e.code(),
                ErrorCode::MethodNotAllowed | ErrorCode::RouteNotFound
            ));
            assert!(
                c.to_ascii_lowercase().starts_with(&protect),
                "refused outside the prefix"
            );
        }
    }

    // Reference first-match evaluation, for plain globs (their canonical form is themselves).
    let plain = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/*-_".contains(&b))
    };
    if let (Ok(m), Ok(c), true) = (&m, &canonical, parsed.iter().all(|r| plain(&r.1))) {
        if !c.to_ascii_lowercase().starts_with(&protect) {
            return;
        }
        let lower = c.to_ascii_lowercase();
        let mut allow: Vec<String> = Vec::new();
        let mut want = Err(ErrorCode::RouteNotFound);
        for (i, (rm, rp, _, anon)) in parsed.iter().enumerate() {
            let matched = if *anon {
                glob(rp.as_bytes(), c.as_bytes())
            } else {
                glob(rp.to_ascii_lowercase().as_bytes(), lower.as_bytes())
            };
            if !matched {
                continue;
            }
            let rm = rm.as_ref().map(|x| x.to_ascii_uppercase());
            let hit = rm
                .as_ref()
                .is_none_or(|x| x == m || (m == "HEAD" && x == "GET"));
            if hit {
                want = Ok((i, *anon));
                break;
            }
            want = Err(ErrorCode::MethodNotAllowed);
            for x in rm
                .iter()
                .cloned()
                .chain(rm.iter().filter(|x| *x == "GET").map(|_| "HEAD".to_owned()))
            {
                if !allow.contains(&x) {
                    allow.push(x);
                }
            }
        }
        match (&decision, want) {
            (Ok(Decision::Anonymous { rule, .. }), Ok((i, true))) => assert_eq!(*rule, i),
            (Ok(Decision::Authenticate { rule, .. }), Ok((i, false))) => assert_eq!(*rule, i),
            (Err(e), Err(code)) => {
                assert_eq!(e.code(), code);
                if code == ErrorCode::MethodNotAllowed {
                    assert_eq!(e.allow(), Some(allow.join(", ").as_str()));
                }
            }
            (got, want) => panic!("decision {got:?}, reference {want:?}"),
        }
    }
});

/// Percent-decoded bytes (an invalid escape decodes as itself).
fn decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let h = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(x), Some(y)) = (h(b[i + 1]), h(b[i + 2])) {
                out.push((x * 16 + y) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn check_shape(c: &str) {
    let b = c.as_bytes();
    for (i, &x) in b.iter().enumerate() {
        assert!(
            x >= 0x20 && x != 0x7f && x != b';' && x != b'\\' && x < 0x80,
            "{c:?} keeps byte {x:#x}"
        );
        if x == b'%' {
            let hexes = &b[i + 1..(i + 3).min(b.len())];
            assert!(
                hexes.len() == 2
                    && hexes
                        .iter()
                        .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)),
                "{c:?}: escape not two upper-case hex digits"
            );
            let v = u8::from_str_radix(std::str::from_utf8(hexes).expect("hex"), 16).expect("hex");
            assert!(
                !(v.is_ascii_alphanumeric() || b"-._~".contains(&v)),
                "{c:?}: needless escape %{v:02X}"
            );
        }
    }
    let segments: Vec<&str> = c.split('/').skip(1).collect();
    for (i, s) in segments.iter().enumerate() {
        assert!(
            !s.is_empty() || i + 1 == segments.len(),
            "{c:?} has an empty segment"
        );
        assert!(*s != "." && *s != "..", "{c:?} has a dot segment");
    }
}

/// Reference glob: `*` matches any run of bytes, by dynamic programming.
fn glob(p: &[u8], t: &[u8]) -> bool {
    let mut row = vec![false; t.len() + 1];
    row[0] = true;
    for &pc in p {
        let mut next = vec![false; t.len() + 1];
        if pc == b'*' {
            let mut any = false;
            for j in 0..=t.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=t.len() {
                next[j] = row[j - 1] && t[j - 1] == pc;
            }
        }
        row = next;
    }
    row[t.len()]
}
