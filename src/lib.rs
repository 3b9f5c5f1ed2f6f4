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

pub mod alg;
pub mod apikey;
pub mod b64;
pub mod cache;
pub mod claims;
pub mod config;
pub mod error;
pub mod grants;
pub mod inspect;
mod json;
pub mod keys;
pub mod revocation;
pub mod rotation;
pub mod route;
pub mod scope;
pub mod sign;
pub mod token;
pub mod validate;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use alg::Alg;
pub use claims::Policy;
pub use error::{Error, ErrorCode, Result};
pub use keys::{Key, KeySet};
pub use revocation::RevocationList;
pub use scope::{Requirement, ScopeSet};
pub use sign::SigningKey;
pub use token::Limits;
pub use validate::{verify_jws, Context, Validator, Verified};
