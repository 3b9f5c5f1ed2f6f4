//! tokengate: strict JWT/JWS validation, scope checks, revocation and API keys.
//!
//! Policy lives here once; the wasm binding, the Node API, the CLI and the edge worker all call
//! this crate, so they make the same decision for the same input.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

// Implementation, grouped by concept. Each layer imports only from the ones above it:
// codec, error → jose → policy → credential → apikey, store, verify::cache → verify → inspect.
mod codec;
mod credential;
mod error;
mod jose;
mod policy;
mod store;
mod verify;

/// API keys: generation, hashing, records and their lifecycle states.
pub mod apikey;
/// Token inspection for humans: decoded parts, timeline, lints. Never a verdict.
pub mod inspect;

pub use credential::Verified;
pub use error::{bare_challenge, Error, ErrorCode, Result, DEFAULT_REALM};
pub use jose::alg::{Alg, Family};
pub use jose::keys::{
    Key, KeySet, Skipped, MAX_KEYS, MAX_KIDLESS_CANDIDATES, MAX_RSA_BITS, MIN_RSA_BITS,
};
#[cfg(feature = "rust-crypto")]
pub use jose::sign::{public_jwks, SigningKey};
pub use jose::token::Limits;
pub use policy::claims::{
    token_expiry, Policy, PolicyInput, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, MAX_NUMERIC_DATE,
};
pub use policy::config::{published_discovery, published_method, AccessHeader, Config};
pub use policy::reload::{reload, Reload};
pub use policy::route::{Decision, Router};
pub use policy::scope::{Requirement, ScopeSet};
pub use store::audit::audit_metadata;
pub use store::grants::Grants;
pub use store::published::{KeySetDocument, Listed};
pub use store::revocation::RevocationList;
pub use store::rotation::{KeyEntry, Plan, Schedule};
pub use verify::{host_needed, verify_jws, Accepted, Cached, Context, Prepared, Validator};

/// base64url as JOSE spells it: no padding, no whitespace, canonical final character.
pub mod b64 {
    pub use crate::codec::b64::{decode, decode_secret, encode};
}

/// Compact-JWS parsing below any policy: splitting, decoding, the header's `alg`, and peeking at
/// claims before verification (to pick an issuer's keys; never to decide).
pub mod jws {
    pub use crate::jose::token::{
        decode_part, parse, peek_claims, peek_issuer, split, Jws, KEY_REFERENCE_HEADERS,
    };
}

/// Scope words and expressions.
pub mod scope {
    pub use crate::policy::scope::{validate, Expr, DEFAULT_SCOPE_CLAIMS};
}

/// Request paths and methods as the router sees them.
pub mod route {
    pub use crate::policy::route::{canonical, canonical_method};
}

/// Revocation entries as stored in KV, the snapshot built from them, and their lifetimes.
pub mod revocation {
    pub use crate::store::revocation::{
        check_apikey_record, effective, named_from_json, next_version, next_version_at, snapshot,
        snapshot_at, source_digest, uncovered, ApiKeyEntry, Entry, JtiEntry, Lifetimes, Revoked,
        SubjectEntry, DEFAULT_MINT_TTL, FUTURE_SKEW, KV_METADATA_MAX, MAX_ENTRY_LEN, NEVER, SCHEMA,
    };
}

/// Keys fetched from identity providers: which URLs, the fetch bounds, discovery, and the key
/// set document kept in KV.
pub mod remote {
    pub use crate::policy::remote::{
        action, check_discovery, check_url, discovery_urls, is_loopback, may_force, must_persist,
        Action, Failure, FetchPolicy, Reason, SourceOptions, StoredCopy, Times,
        CLOUDFLARE_ACCESS_CERTS, CLOUDFLARE_ACCESS_HEADER, DEFAULT_DISCOVERY_MAX_AGE,
        DEFAULT_KEYS_MAX_STALE, DEFAULT_KID_COOLDOWN, DEFAULT_MAX_AGE, DEFAULT_MAX_BYTES,
        DEFAULT_MAX_MAX_AGE, DEFAULT_MIN_MAX_AGE, DEFAULT_TIMEOUT, MAX_URL_LEN, RFC9068_CLAIMS,
        RFC9068_TYP,
    };
    pub use crate::store::keyset::{
        kv_key, remote_jwks, KidWants, LastError, RemoteKeys, Response, SkippedKey, MAX_ETAG_LEN,
        SCHEMA,
    };
}

/// The opt-in validation cache (see [`Validator::validate_cached`]).
pub mod cache {
    pub use crate::verify::cache::{
        key, Cache, KeyedSip, Outcome, TokenKey, DEFAULT_CAPACITY, DEFAULT_FAILURE_TTL,
        MAX_FAILURE_TTL,
    };
}
