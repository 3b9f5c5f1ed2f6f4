//! What a token and a key are: algorithms, JWKs and key sets, compact-JWS parsing, signing.
//! Nothing here decides whether a token is acceptable; that is `policy` and `verify`.

pub(crate) mod alg;
pub(crate) mod keys;
#[cfg(feature = "rust-crypto")]
pub(crate) mod sign;
pub(crate) mod token;
