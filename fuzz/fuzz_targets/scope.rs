#![no_main]
//! Scope sets and requirement expressions (`scope` module), against reference rules: coverage
//! (`*`, `res:*`), intersection (grants only ever narrow), requirement evaluation, the missing
//! scopes named on failure, and a print/re-parse round trip of every expression.
//! Input: text parts set A, set B, requirement, extra probe scopes (NUL-separated).

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map};
use tokengate::scope::{self, Expr};
use tokengate::{ErrorCode, Requirement, ScopeSet};
use tokengate_fuzz::{assert_narrowed, eval, expr_scopes, list_covers, probes, Input};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let a_text = input.text();
    let b_text = input.text();
    let req_text = input.text();
    let extra = input.text();
    let extra: Vec<&str> = extra.split(' ').filter(|s| !s.is_empty()).collect();

    let a = set(&a_text);
    let b = set(&b_text);
    if let (Some(a), Some(b)) = (&a, &b) {
        let ab = a.intersect(b);
        assert_narrowed(ab.as_slice(), a.as_slice(), Some(b.as_slice()));
        let ba = b.intersect(a);
        for p in probes(&[a.as_slice(), b.as_slice()], &extra) {
            assert_eq!(
                ab.covers(&p),
                ba.covers(&p),
                "intersection is not symmetric on {p:?}"
            );
        }
        // Narrowing twice by the same grants changes nothing.
        assert_eq!(ab.intersect(b).as_slice(), ab.as_slice());
    }

    match Requirement::parse(&req_text) {
        Err(e) => assert_eq!(e.code(), ErrorCode::ScopeInvalid),
        Ok(req) => {
            let mut named = Vec::new();
            expr_scopes(req.expr(), &mut named);
            for s in &named {
                assert!(
                    scope::validate(s, false).is_ok(),
                    "required scope {s:?} is not concrete"
                );
            }
            // Print and re-parse: the same expression.
            let printed = print(req.expr(), None);
            if printed.len() <= 4096 {
                let again = Requirement::parse(&printed).expect("a printed expression parses");
                assert_eq!(again.expr(), req.expr(), "{printed:?}");
            }
            let empty = ScopeSet::default();
            for granted in [a.as_ref(), b.as_ref(), Some(&empty)].into_iter().flatten() {
                for grants in [None, b.as_ref()] {
                    check(&req, granted, grants);
                }
            }
        }
    }
    // all_of / any_of over a plain list.
    let words: Vec<&str> = req_text.split_whitespace().collect();
    if let (Ok(all), Ok(any), Some(a)) =
        (Requirement::all_of(&words), Requirement::any_of(&words), &a)
    {
        assert_eq!(
            all.check(a, None).is_ok(),
            words.iter().all(|w| list_covers(a.as_slice(), w))
        );
        assert_eq!(
            any.check(a, None).is_ok(),
            words.iter().any(|w| list_covers(a.as_slice(), w))
        );
    }
});

/// Parses a set both ways (text and claims) and checks it against the reference rules.
fn set(text: &str) -> Option<ScopeSet> {
    let parsed = ScopeSet::parse(text);
    let words: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
    assert_eq!(parsed, ScopeSet::new(&words));
    let mut claims = Map::new();
    claims.insert("scope".into(), json!(text));
    let names = ["scope".to_owned()];
    let from_claims = ScopeSet::from_claims(&claims, &names);
    assert_eq!(from_claims.is_ok(), parsed.is_ok());
    claims.insert("scope".into(), json!(words));
    let from_array = ScopeSet::from_claims(&claims, &names);
    assert_eq!(from_array.as_ref().ok(), parsed.as_ref().ok());
    match parsed {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::ScopeInvalid);
            assert!(words.iter().any(|w| scope::validate(w, true).is_err()));
            None
        }
        Ok(s) => {
            let mut dedup: Vec<&str> = Vec::new();
            for w in &words {
                if !dedup.contains(w) {
                    dedup.push(w);
                }
            }
            assert_eq!(s.as_slice(), dedup.as_slice());
            assert_eq!(s.is_empty(), words.is_empty());
            for w in &words {
                assert!(w.len() <= 256 && scope::validate(w, true).is_ok());
                let concrete = !w.ends_with('*');
                assert!(!concrete || scope::validate(w, false).is_ok());
            }
            for p in probes(&[s.as_slice()], &[]) {
                if !p.ends_with('*') {
                    assert_eq!(
                        s.covers(&p),
                        list_covers(s.as_slice(), &p),
                        "covers({p:?}) on {:?}",
                        s.as_slice()
                    );
                }
            }
            let grouped = s.grouped();
            let total: usize = grouped.values().map(|v| v.len().max(1)).sum();
            assert!(total >= grouped.len());
            for w in s.as_slice() {
                let (res, action) = w
                    .split_once(':')
                    .map_or((w.as_str(), None), |(r, a)| (r, Some(a)));
                let actions = grouped.get(res).expect("every resource is grouped");
                if let Some(a) = action {
                    assert!(actions.iter().any(|x| x == a));
                }
            }
            Some(s)
        }
    }
}

/// A requirement check against the reference evaluation, and what it names as missing.
fn check(req: &Requirement, granted: &ScopeSet, grants: Option<&ScopeSet>) {
    let has = |s: &str| {
        list_covers(granted.as_slice(), s) && grants.is_none_or(|g| list_covers(g.as_slice(), s))
    };
    let want = eval(req.expr(), &has);
    match req.check(granted, grants) {
        Ok(()) => assert!(
            want,
            "{:?} passed with {:?} / {:?}",
            req.text(),
            granted.as_slice(),
            grants.map(ScopeSet::as_slice)
        ),
        Err(e) => {
            assert!(
                !want,
                "{:?} failed with {:?} / {:?}",
                req.text(),
                granted.as_slice(),
                grants.map(ScopeSet::as_slice)
            );
            assert_eq!(e.code(), ErrorCode::InsufficientScope);
            let missing: Vec<&str> = e
                .scope()
                .expect("insufficient_scope names scopes")
                .split(' ')
                .collect();
            assert!(!missing.is_empty());
            for m in &missing {
                assert!(!has(m), "{m:?} is named missing but is granted");
            }
            // Granting what it names satisfies the requirement (without grants narrowing).
            if grants.is_none() {
                let mut more: Vec<&str> = granted.as_slice().iter().map(String::as_str).collect();
                more.extend(&missing);
                let more = ScopeSet::new(&more).expect("missing scopes are valid");
                assert!(
                    req.check(&more, None).is_ok(),
                    "granting {missing:?} does not satisfy {:?}",
                    req.text()
                );
            }
        }
    }
}

/// Prints an expression with parentheses only where the structure needs them (`and` binds
/// tighter than `or`; juxtaposition is `and`).
fn print(e: &Expr, parent: Option<&Expr>) -> String {
    let body = match e {
        Expr::Scope(s) => return s.clone(),
        Expr::All(items) => items
            .iter()
            .map(|i| print(i, Some(e)))
            .collect::<Vec<_>>()
            .join(" "),
        Expr::Any(items) => items
            .iter()
            .map(|i| print(i, Some(e)))
            .collect::<Vec<_>>()
            .join(" or "),
    };
    match (e, parent) {
        (_, None) | (Expr::All(_), Some(Expr::Any(_))) => body,
        _ => format!("({body})"),
    }
}
