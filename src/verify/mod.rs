//! The validator: key set + policy (+ revocation list and grants), built once, applied per token.

pub(crate) mod cache;

use crate::credential::Verified;
use crate::error::{err, ErrorCode, Result};
use crate::jose::alg::Alg;
use crate::jose::keys::KeySet;
use crate::jose::token::{self, Jws};
use crate::policy::claims::{self, Claim, ClaimsRef, Dates, Policy};
use crate::policy::scope::ScopeSet;
use crate::store::revocation::RevocationList;
use cache::{Cache, Outcome};
use serde_json::{Map, Value};

/// Everything a token is checked against.
#[derive(Debug, Clone)]
pub struct Validator {
    pub keys: KeySet,
    pub policy: Policy,
}

/// The state a signature check needs, kept between the two halves of a native-primitive
/// validation ([`Validator::prepare`] → primitive → [`Validator::finish`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub alg: Alg,
    pub candidates: Vec<usize>,
    pub signing_input: String,
    pub signature: Vec<u8>,
    typ: Option<String>,
    header_json: Vec<u8>,
    kid: Option<String>,
    payload: Vec<u8>,
}

impl Prepared {
    /// The decoded header, as the JSON text the core parsed and accepted.
    pub fn header_json(&self) -> &[u8] {
        &self.header_json
    }
    /// The decoded payload, as the JSON text `finish` will parse and check.
    pub fn payload_json(&self) -> &[u8] {
        &self.payload
    }
}

impl Validator {
    pub fn new(keys: KeySet, policy: Policy) -> Validator {
        Validator { keys, policy }
    }

    /// Full validation with the pure-Rust primitives.
    pub fn validate(&self, token: &str, now: i64, ctx: &Context<'_>) -> Result<Verified> {
        let prepared = self.prepare(token)?;
        host_needed(prepared.alg)?;
        self.verify_prepared(prepared, now, ctx, true)
            .map(|a| a.verified)
    }

    /// [`Validator::validate`] after [`Validator::prepare`]: the pure-Rust signature check and
    /// every decision after it (refused when this build leaves the alg to the host).
    pub fn check_prepared(
        &self,
        prepared: Prepared,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Verified> {
        host_needed(prepared.alg)?;
        self.verify_prepared(prepared, now, ctx, true)
            .map(|a| a.verified)
    }

    /// [`Validator::check_prepared`] for a caller that reads no claims or header map: the
    /// result's `claims` and `header` are empty (every check ran on the payload and header as
    /// scanned; [`Prepared`] holds their JSON), and what the cache keeps comes with it.
    pub fn check_prepared_lean(
        &self,
        prepared: Prepared,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Accepted> {
        host_needed(prepared.alg)?;
        self.verify_prepared(prepared, now, ctx, false)
    }

    /// The pure-Rust signature check and the decisions after it.
    fn verify_prepared(
        &self,
        prepared: Prepared,
        now: i64,
        ctx: &Context<'_>,
        owned: bool,
    ) -> Result<Accepted> {
        let ok = prepared
            .candidates
            .iter()
            .find(|&&i| {
                self.keys.keys().get(i).is_some_and(|k| {
                    k.verify(
                        prepared.alg,
                        prepared.signing_input.as_bytes(),
                        &prepared.signature,
                    )
                })
            })
            .copied();
        self.accept(prepared, ok, now, ctx, owned)
    }

    /// Parses the token and picks candidate keys, before any signature work.
    pub fn prepare(&self, token: &str) -> Result<Prepared> {
        self.keys.check_usable()?;
        let jws: Jws<'_> = token::parse(token, &self.policy.limits, &self.policy.crit)?;
        let candidates = jws.candidates(&self.keys, &self.policy.algorithms)?;
        Ok(Prepared {
            alg: jws.alg,
            candidates,
            signing_input: jws.signing_input.to_owned(),
            signature: jws.signature,
            typ: jws.typ,
            header_json: jws.header_json,
            kid: jws.kid,
            payload: jws.payload,
        })
    }

    /// Checks one of `prepared`'s candidate keys with the pure-Rust primitive: for keys the
    /// runtime cannot import, and HMAC. A key that is not a candidate never verifies.
    pub fn verify_candidate(&self, prepared: &Prepared, index: usize) -> bool {
        prepared.candidates.contains(&index)
            && self.keys.keys().get(index).is_some_and(|k| {
                k.verify(
                    prepared.alg,
                    prepared.signing_input.as_bytes(),
                    &prepared.signature,
                )
            })
    }

    /// Completes validation once the signature was checked (`verified_key` is the index of the
    /// key that verified, or `None`).
    pub fn finish(
        &self,
        prepared: Prepared,
        verified_key: Option<usize>,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Verified> {
        self.accept(prepared, verified_key, now, ctx, true)
            .map(|a| a.verified)
    }

    /// [`Validator::finish`] for a caller that reads no claims or header map (see
    /// [`Validator::check_prepared_lean`]).
    pub fn finish_lean(
        &self,
        prepared: Prepared,
        verified_key: Option<usize>,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Accepted> {
        self.accept(prepared, verified_key, now, ctx, false)
    }

    /// Every decision after the signature check. The claims are checked as scanned from the
    /// payload (no owned map); `owned` builds the maps the result hands out.
    fn accept(
        &self,
        prepared: Prepared,
        verified_key: Option<usize>,
        now: i64,
        ctx: &Context<'_>,
        owned: bool,
    ) -> Result<Accepted> {
        if !verified_key.is_some_and(|i| prepared.candidates.contains(&i)) {
            return err(ErrorCode::SignatureInvalid, "signature does not verify");
        }
        let members =
            crate::codec::json::scan_object(&prepared.payload, self.policy.limits.max_json_depth)
                .map_err(|e| crate::Error::new(ErrorCode::TokenMalformed, format!("claims: {e}")))?;
        let claims = ClaimsRef::Scan(&members);
        let (times, dates) = claims::check(&self.policy, prepared.typ.as_deref(), claims, now)?;
        let mut verified = Verified {
            kind: "jwt",
            subject: claims::string_claim(claims, "sub")?.map(str::to_owned),
            issuer: claims::string_claim(claims, "iss")?.map(str::to_owned),
            token_id: claims::string_claim(claims, "jti")?.map(str::to_owned),
            token_type: claims
                .get(&self.policy.token_type_claim)
                .and_then(Claim::as_str)
                .map(str::to_owned),
            expires_at: times.exp,
            issued_at: times.iat,
            alg: Some(prepared.alg.name()),
            kid: prepared.kid,
            scopes: vec![],
            header: if owned {
                token::header_map(&prepared.header_json)
            } else {
                Map::new()
            },
            claims: if owned {
                crate::codec::json::to_map(&members)
            } else {
                Map::new()
            },
        };
        if let Some(list) = ctx.revocations {
            list.check_fresh(now, self.policy.max_revocation_age)?;
            list.check_token(&verified)?;
        }
        let granted = ScopeSet::from_claims(claims, &self.policy.scope_claims)?;
        let granted = self.grant(&mut verified, granted, ctx)?;
        Ok(Accepted {
            verified,
            granted,
            dates,
        })
    }

    /// Scope check shared by JWTs and API keys: narrows by grants, then applies the requirement.
    pub fn authorize(
        &self,
        verified: &mut Verified,
        granted: ScopeSet,
        ctx: &Context<'_>,
    ) -> Result<()> {
        self.grant(verified, granted, ctx).map(drop)
    }

    /// Sets `verified.scopes`. Returns `granted` when grants narrowed it; `None` when the scopes
    /// are `granted`'s own, moved rather than copied.
    fn grant(
        &self,
        verified: &mut Verified,
        granted: ScopeSet,
        ctx: &Context<'_>,
    ) -> Result<Option<ScopeSet>> {
        let requirement = ctx.scope.or(self.policy.scope.as_ref());
        if let Some(req) = requirement {
            req.check(&granted, ctx.grants)?;
        }
        Ok(match ctx.grants {
            Some(g) => {
                verified.scopes = granted.intersect(g).into_list();
                Some(granted)
            }
            None => {
                verified.scopes = granted.into_list();
                None
            }
        })
    }
}

/// A pure-Rust check of an algorithm this build leaves to the host cannot be made: say so rather
/// than report a signature as bad (the edge module's synchronous path; use the async one).
pub fn host_needed(alg: Alg) -> Result<()> {
    if alg.needs_host() {
        return err(
            ErrorCode::AlgNotAllowed,
            format!("{alg} signatures are checked by the host's WebCrypto in this build: validate asynchronously"),
        );
    }
    Ok(())
}

/// Per-call inputs that change more often than the validator: revocation data, grants, and a
/// route's scope requirement.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub revocations: Option<&'a RevocationList>,
    pub grants: Option<&'a ScopeSet>,
    pub scope: Option<&'a crate::policy::scope::Requirement>,
}

/// Verifies a JWS whose payload is arbitrary bytes (no claim checks). Returns header and payload.
pub fn verify_jws(
    token: &str,
    keys: &KeySet,
    policy: &Policy,
) -> Result<(Map<String, Value>, Vec<u8>)> {
    let jws = token::parse(token, &policy.limits, &policy.crit)?;
    keys.check_usable()?;
    jws.candidates(keys, &policy.algorithms)?;
    host_needed(jws.alg)?;
    jws.verify(keys, &policy.algorithms)?;
    Ok((jws.header(), jws.payload))
}

/// The token type an API key has for `tokenTypes` policies.
pub const API_KEY_TYPE: &str = "apikey";

impl Validator {
    /// A validator for API keys only: no key set, the policy's revocation and type rules.
    pub fn for_api_keys(policy: Policy) -> Result<Validator> {
        Ok(Validator::new(KeySet::from_keys(vec![])?, policy))
    }

    /// Validates an API key against its stored record (looked up by `apikey::parse`'s hash;
    /// `None` when the store has none), the revocation list and the scope requirement. The
    /// result has the same shape as a validated JWT.
    pub fn validate_apikey(
        &self,
        raw: &str,
        record: Option<&crate::apikey::Record>,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Verified> {
        // A route that names token types takes an API key only when it lists "apikey".
        if !self.policy.token_types.is_empty()
            && !self.policy.token_types.iter().any(|t| t == API_KEY_TYPE)
        {
            return err(
                ErrorCode::TokenTypeNotAllowed,
                "an API key is not accepted here",
            );
        }
        let mut verified = crate::apikey::Record::check(raw, record, now)?;
        if let Some(list) = ctx.revocations {
            list.check_fresh(now, self.policy.max_revocation_age)?;
            if list.is_apikey_revoked(&crate::apikey::hash(raw)) {
                return err(ErrorCode::ApikeyRevoked, "API key was revoked");
            }
        }
        let granted = ScopeSet::new(&verified.scopes)?;
        self.authorize(&mut verified, granted, ctx)?;
        Ok(verified)
    }
}

impl Validator {
    /// A cached outcome for `token`, re-checked for this call: `Ok(Some(slot))` on a valid hit,
    /// `Ok(None)` on a miss (or an entry that no longer applies), `Err` for a cached intrinsic
    /// failure or a re-check that fails now (expired, stale revocation data, missing scope).
    /// A cache belongs to one validator: its key set and policy are fixed.
    pub fn lookup(
        &self,
        cache: &mut Cache,
        token: &str,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Option<usize>> {
        let ttl = cache.failure_ttl();
        let applies = match cache.get(token) {
            None => None,
            Some((_, Outcome::Invalid { error, stored_at })) => {
                if now >= *stored_at && now.saturating_sub(*stored_at) < ttl {
                    Some(Err(error.clone()))
                } else {
                    None
                }
            }
            Some((
                slot,
                Outcome::Valid {
                    dates,
                    granted,
                    revocations,
                    grants,
                    ..
                },
            )) => {
                if *revocations != ctx.revocations.map(RevocationList::identity)
                    || grants.as_ref() != ctx.grants
                {
                    None
                } else {
                    Some(self.recheck(dates, granted, now, ctx).map(|()| slot))
                }
            }
        };
        match applies {
            Some(result) => {
                cache.hits += 1;
                result.map(Some)
            }
            None => {
                cache.misses += 1;
                cache.remove(token);
                Ok(None)
            }
        }
    }

    /// What a cache hit re-decides: times, revocation freshness, this call's scope requirement.
    fn recheck(
        &self,
        dates: &Dates,
        granted: &ScopeSet,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<()> {
        claims::check_dates(&self.policy, dates, now)?;
        if let Some(list) = ctx.revocations {
            list.check_fresh(now, self.policy.max_revocation_age)?;
        }
        if let Some(req) = ctx.scope.or(self.policy.scope.as_ref()) {
            req.check(granted, ctx.grants)?;
        }
        Ok(())
    }

    /// Records an outcome: every success, and intrinsic failures (for the cache's short bound).
    /// Returns the slot of a stored success.
    pub fn remember(
        &self,
        cache: &mut Cache,
        token: &str,
        result: &Result<Verified>,
        now: i64,
        ctx: &Context<'_>,
    ) -> Option<usize> {
        match result {
            Ok(v) => {
                let granted = ScopeSet::from_claims(&v.claims, &self.policy.scope_claims).ok()?;
                let dates = Dates::read(&v.claims).ok()?;
                self.store(cache, token, v, dates, granted, ctx)
            }
            Err(e) => self.store_failure(cache, token, e, now),
        }
    }

    /// [`Validator::remember`] for a result of the lean path.
    pub fn remember_accepted(
        &self,
        cache: &mut Cache,
        token: &str,
        result: &Result<Accepted>,
        now: i64,
        ctx: &Context<'_>,
    ) -> Option<usize> {
        match result {
            Ok(a) => self.store(cache, token, &a.verified, a.dates, a.granted(), ctx),
            Err(e) => self.store_failure(cache, token, e, now),
        }
    }

    fn store(
        &self,
        cache: &mut Cache,
        token: &str,
        verified: &Verified,
        dates: Dates,
        granted: ScopeSet,
        ctx: &Context<'_>,
    ) -> Option<usize> {
        let outcome = Outcome::Valid {
            verified: Box::new(verified.clone()),
            dates: Box::new(dates),
            granted,
            revocations: ctx.revocations.map(RevocationList::identity),
            grants: ctx.grants.cloned(),
        };
        Some(cache.put(cache::key(token), outcome)).filter(|&s| s != usize::MAX)
    }

    fn store_failure(
        &self,
        cache: &mut Cache,
        token: &str,
        e: &crate::Error,
        now: i64,
    ) -> Option<usize> {
        if cache::is_intrinsic(e.code()) && cache.failure_ttl() > 0 {
            cache.put(
                cache::key(token),
                Outcome::Invalid {
                    error: e.clone(),
                    stored_at: now,
                },
            );
        }
        None
    }

    /// [`Validator::validate`] through a cache.
    pub fn validate_cached(
        &self,
        cache: &mut Cache,
        token: &str,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<Cached> {
        if let Some(slot) = self.lookup(cache, token, now, ctx)? {
            return Ok(Cached::Hit(slot));
        }
        let result = match self.prepare(token) {
            // Not remembered: a refusal of this build's synchronous path, not of the token.
            Ok(prepared) => {
                host_needed(prepared.alg)?;
                self.verify_prepared(prepared, now, ctx, true)
            }
            Err(e) => Err(e),
        };
        let slot = self.remember_accepted(cache, token, &result, now, ctx);
        Ok(Cached::Fresh(slot, Box::new(result?.verified)))
    }
}

/// A validation's result with what a cache entry keeps of it.
#[derive(Debug)]
pub struct Accepted {
    /// Private: when no grants narrowed the scopes, the cache reads the token's granted scopes
    /// from here, so a caller must not be able to change them before `remember_accepted`.
    verified: Verified,
    /// The token's scopes before any grant intersection, when grants narrowed them (otherwise
    /// they are `verified.scopes`).
    granted: Option<ScopeSet>,
    dates: Dates,
}

impl Accepted {
    /// The result.
    pub fn verified(&self) -> &Verified {
        &self.verified
    }

    pub fn into_verified(self) -> Verified {
        self.verified
    }

    /// The token's scopes before any grant intersection.
    fn granted(&self) -> ScopeSet {
        match &self.granted {
            Some(g) => g.clone(),
            // The list a set kept builds the same set again.
            None => ScopeSet::new(&self.verified.scopes).unwrap_or_default(),
        }
    }
}

/// The outcome of [`Validator::validate_cached`].
#[derive(Debug)]
pub enum Cached {
    /// A valid cached result, re-checked for this call, in this slot.
    Hit(usize),
    /// A full validation; the slot it was stored in (`None` if it was not).
    Fresh(Option<usize>, Box<Verified>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::claims::ClaimsRef;
    use crate::policy::scope::Requirement;

    const NOW: i64 = 1_700_000_000;

    /// `finish` as it was before the borrowed scan: the payload parsed into an owned map and
    /// every check run on that map. The scanned paths must agree with it on every input.
    fn reference(v: &Validator, p: Prepared, ctx: &Context<'_>) -> Result<Verified> {
        let claims =
            crate::codec::json::before::parse_object(&p.payload, v.policy.limits.max_json_depth)
                .map_err(|e| {
                    crate::Error::new(ErrorCode::TokenMalformed, format!("claims: {e}"))
                })?;
        let map = ClaimsRef::Map(&claims);
        let (times, _) = claims::check(&v.policy, p.typ.as_deref(), map, NOW)?;
        let mut verified = Verified {
            kind: "jwt",
            subject: claims::string_claim(map, "sub")?.map(str::to_owned),
            issuer: claims::string_claim(map, "iss")?.map(str::to_owned),
            token_id: claims::string_claim(map, "jti")?.map(str::to_owned),
            token_type: claims
                .get(&v.policy.token_type_claim)
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_at: times.exp,
            issued_at: times.iat,
            alg: Some(p.alg.name()),
            kid: p.kid,
            scopes: vec![],
            header: token::header_map(&p.header_json),
            claims: Map::new(),
        };
        let granted = ScopeSet::from_claims(&claims, &v.policy.scope_claims)?;
        v.authorize(&mut verified, granted, ctx)?;
        verified.claims = claims;
        Ok(verified)
    }

    fn prepared(payload: &[u8]) -> Prepared {
        let header_json = br#"{"alg":"HS256","typ":"at+jwt"}"#.to_vec();
        Prepared {
            alg: Alg::HS256,
            candidates: vec![0],
            signing_input: String::new(),
            signature: vec![],
            typ: Some("at+jwt".into()),
            header_json,
            kid: Some("k".into()),
            payload: payload.to_vec(),
        }
    }

    fn payloads() -> Vec<Vec<u8>> {
        let ok = r#""iss":"https://issuer","aud":"api","exp":1700003600,"iat":1699999000"#;
        let with = |rest: &str| format!("{{{ok}{rest}}}").into_bytes();
        let mut out: Vec<Vec<u8>> = [
            "",
            r#","sub":"u1","scope":"read write","jti":"j","tt":"access""#,
            r#","sub":"a","sub":"b""#,
            r#","\u0073ub":"a","sub":"b""#,
            r#","exp":1"#,
            r#","x":{"a":1,"a":2}"#,
            r#","x":{"a":1},"y":{"a":1}"#,
            r#","iss":"x""#,
            r#","sub":"\u0061dmin","scope":"r\u0065ad""#,
            r#","sub":" admin ""#,
            r#","sub":"a\u0000""#,
            r#","sub":"\ud83d\ude00""#,
            r#","sub":"\ud800""#,
            r#","sub":1"#,
            r#","sub":null"#,
            r#","scope":["read","w\u0072ite"]"#,
            r#","scope":["read",1]"#,
            r#","scope":7"#,
            r#","scope":null,"scp":"read""#,
            r#","scope":"read  write""#,
            r#","scope":"""#,
            r#","scope":{"read":true}"#,
            r#","scope":"a\nb""#,
            r#","jti":[]"#,
            r#","tt":"acc\u0065ss""#,
            r#","tt":1"#,
            r#","tenant":{"id":[1,2]}"#,
            r#","tenant":{"id":[1,2.0]}"#,
            r#","tenant":null"#,
            r#","email":null"#,
            r#","email":"e","tenant":{"id":[1,2]},"sub":"u1","jti":"j","tt":"access""#,
            r#","big":123456789012345678901234567890"#,
            r#","big":1e400"#,
            r#","big":-1e-400"#,
            r#","nbf":-0"#,
            r#","nbf":1700000061"#,
        ]
        .iter()
        .map(|r| with(r))
        .collect();
        for date in ["exp", "nbf", "iat"] {
            for v in [
                r#""1700003600""#,
                "1700003600.5",
                "1699999000.25",
                "1.7e9",
                "-1",
                "true",
                "null",
                "253402300799",
                "253402300800",
                "1e308",
                "[1]",
                "18446744073709551616",
            ] {
                out.push(with(&format!(r#","{date}":{v}"#)).into_iter().collect());
            }
        }
        let aud_cases = [
            r#"["x","api"]"#,
            r#"["x"]"#,
            "[]",
            r#"["api",1]"#,
            "1",
            r#""\u0061pi""#,
            "null",
        ];
        for aud in aud_cases {
            out.push(format!(r#"{{"iss":"https://issuer","exp":1700003600,"aud":{aud}}}"#).into());
        }
        // Enough members that duplicates are found through the sorted set.
        let many: String = (0..40).map(|i| format!(r#","m{i}":{i}"#)).collect();
        out.push(with(&many));
        out.push(with(&format!(r#"{many},"m7":0"#)));
        out.push(with(&format!(r#"{many},"\u006d39":0"#)));
        out.push(with(&format!(r#"{many},"sub":"u","sub":"u""#)));
        // Nesting around the 128-level limit (the payload object is level 1).
        for n in [126, 127, 128, 129, 400] {
            out.push(with(&format!(r#","x":{}{}"#, "[".repeat(n), "]".repeat(n))));
            out.push(with(&format!(
                r#","x":{}1{}"#,
                r#"{"a":"#.repeat(n),
                "}".repeat(n)
            )));
        }
        for raw in [
            "",
            "[]",
            "[1]",
            "1",
            r#""s""#,
            "null",
            "{",
            "}",
            r#"{"a":1} x"#,
            r#"{"a":1}{}"#,
            "\u{feff}{}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            "{\"a\":\"\t\"}",
            " {} ",
        ] {
            out.push(raw.into());
        }
        out.push(b"{\"sub\":\"\xff\"}".to_vec());
        out.push(b"{\"sub\":\"\xc3\xa9\"}".to_vec());
        out
    }

    #[test]
    fn scanned_paths_decide_as_the_owned_map() {
        let policies = [
            r#"{"issuer":"https://issuer","audience":"api"}"#,
            r#"{"requireExp":false,"leeway":0}"#,
            r#"{"issuer":"https://issuer","audience":["api","other"],"subject":"u1",
                "typ":"at+jwt","tokenTypeClaim":"tt","tokenTypes":["access"],"requireJti":true,
                "requiredClaims":["email"],"claimValues":{"tenant":{"id":[1,2]}},"maxAge":3600,
                "maxLifetime":3600,"scope":"read","scopeClaims":["scope","scp"]}"#,
        ];
        let req = Requirement::parse("read or write").unwrap();
        let grants = ScopeSet::parse("read").unwrap();
        let contexts = [
            Context::default(),
            Context {
                scope: Some(&req),
                grants: Some(&grants),
                revocations: None,
            },
        ];
        let flat = |r: Result<Verified>| r.map_err(|e| (e.code(), e.message().to_owned()));
        let (mut accepted, mut refused) = (0, 0);
        for policy in policies {
            let v = Validator::for_api_keys(Policy::from_json(policy).unwrap()).unwrap();
            for payload in payloads() {
                for ctx in &contexts {
                    let p = prepared(&payload);
                    let want = flat(reference(&v, p.clone(), ctx));
                    let shown = String::from_utf8_lossy(&payload);
                    let owned = flat(v.finish(p.clone(), Some(0), NOW, ctx));
                    assert_eq!(owned, want, "owned result of {shown} under {policy}");
                    let lean = v.finish_lean(p, Some(0), NOW, ctx);
                    match (&want, lean) {
                        (Ok(w), Ok(a)) => {
                            accepted += 1;
                            let bare = Verified {
                                claims: Map::new(),
                                header: Map::new(),
                                ..w.clone()
                            };
                            assert_eq!(a.verified, bare, "lean result of {shown}");
                            let dates = claims::Dates::read(&w.claims).unwrap();
                            assert_eq!(a.dates, dates, "dates of {shown}");
                            let granted = ScopeSet::from_claims(&w.claims, &v.policy.scope_claims);
                            assert_eq!(Ok(a.granted()), granted, "scopes of {shown}");
                        }
                        (w, lean) => {
                            refused += 1;
                            let lean = lean.map(|a| a.verified);
                            assert_eq!(flat(lean), *w, "lean result of {shown} under {policy}");
                        }
                    }
                }
            }
        }
        // The table exercises both outcomes under every policy.
        assert!(
            accepted > 20 && refused > 100,
            "{accepted} accepted, {refused} refused"
        );
    }
}
