//! The validator: key set + policy (+ revocation list and grants), built once, applied per token.

pub(crate) mod cache;

use crate::credential::Verified;
use crate::error::{err, ErrorCode, Result};
use crate::jose::alg::Alg;
use crate::jose::keys::KeySet;
use crate::jose::token::{self, Jws};
use crate::policy::claims::{self, Policy};
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
    header: Map<String, Value>,
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
        self.verify_prepared(prepared, now, ctx)
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
        self.verify_prepared(prepared, now, ctx)
    }

    /// The pure-Rust signature check and the decisions after it.
    fn verify_prepared(&self, prepared: Prepared, now: i64, ctx: &Context<'_>) -> Result<Verified> {
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
        self.finish(prepared, ok, now, ctx)
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
            header: jws.header,
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
        if !verified_key.is_some_and(|i| prepared.candidates.contains(&i)) {
            return err(ErrorCode::SignatureInvalid, "signature does not verify");
        }
        let claims =
            crate::codec::json::parse_object(&prepared.payload, self.policy.limits.max_json_depth)
                .map_err(|e| {
                    crate::Error::new(ErrorCode::TokenMalformed, format!("claims: {e}"))
                })?;
        let times = claims::check(&self.policy, &prepared.header, &claims, now)?;
        let mut verified = Verified {
            kind: "jwt",
            subject: claims::string_claim(&claims, "sub")?.map(str::to_owned),
            issuer: claims::string_claim(&claims, "iss")?.map(str::to_owned),
            token_id: claims::string_claim(&claims, "jti")?.map(str::to_owned),
            token_type: claims
                .get(&self.policy.token_type_claim)
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_at: times.exp,
            issued_at: times.iat,
            alg: Some(prepared.alg.name().to_owned()),
            kid: prepared.kid,
            scopes: vec![],
            header: prepared.header,
            claims,
        };
        if let Some(list) = ctx.revocations {
            list.check_fresh(now, self.policy.max_revocation_age)?;
            list.check_token(&verified)?;
        }
        let granted = ScopeSet::from_claims(&verified.claims, &self.policy.scope_claims)?;
        self.authorize(&mut verified, granted, ctx)?;
        Ok(verified)
    }

    /// Scope check shared by JWTs and API keys: narrows by grants, then applies the requirement.
    pub fn authorize(
        &self,
        verified: &mut Verified,
        granted: ScopeSet,
        ctx: &Context<'_>,
    ) -> Result<()> {
        let requirement = ctx.scope.or(self.policy.scope.as_ref());
        if let Some(req) = requirement {
            req.check(&granted, ctx.grants)?;
        }
        verified.scopes = match ctx.grants {
            Some(g) => granted.intersect(g),
            None => granted,
        }
        .as_slice()
        .to_vec();
        Ok(())
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
    Ok((jws.header, jws.payload))
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
                    verified,
                    granted,
                    revocations,
                    grants,
                },
            )) => {
                if *revocations != ctx.revocations.map(RevocationList::identity)
                    || grants.as_ref() != ctx.grants
                {
                    None
                } else {
                    Some(self.recheck(verified, granted, now, ctx).map(|()| slot))
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
        verified: &Verified,
        granted: &ScopeSet,
        now: i64,
        ctx: &Context<'_>,
    ) -> Result<()> {
        claims::check_times(&self.policy, &verified.claims, now)?;
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
                let outcome = Outcome::Valid {
                    verified: Box::new(v.clone()),
                    granted,
                    revocations: ctx.revocations.map(RevocationList::identity),
                    grants: ctx.grants.cloned(),
                };
                Some(cache.put(cache::key(token), outcome)).filter(|&s| s != usize::MAX)
            }
            Err(e) if cache::is_intrinsic(e.code()) && cache.failure_ttl() > 0 => {
                cache.put(
                    cache::key(token),
                    Outcome::Invalid {
                        error: e.clone(),
                        stored_at: now,
                    },
                );
                None
            }
            Err(_) => None,
        }
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
                self.verify_prepared(prepared, now, ctx)
            }
            Err(e) => Err(e),
        };
        let slot = self.remember(cache, token, &result, now, ctx);
        Ok(Cached::Fresh(slot, Box::new(result?)))
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
