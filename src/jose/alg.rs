//! JWS algorithms. Each one is a jwt-compact `Algorithm` (ES384/ES512 are added here on the same
//! trait with RustCrypto's `p384`/`p521`); `Alg` names them and ties each to one key family.

#[cfg(feature = "rust-crypto")]
mod ecdsa_ext;

#[cfg(feature = "rust-crypto")]
pub use ecdsa_ext::{Es384, Es512};

use std::fmt;

/// The signature algorithms tokengate verifies. `none` is deliberately not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    ES256K,
    EdDSA,
}

/// Which kind of key an algorithm needs. A key verifies only algorithms of its own family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Oct,
    Rsa,
    P256,
    P384,
    P521,
    Secp256k1,
    Ed25519,
}

impl Alg {
    pub const ALL: [Alg; 14] = [
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::ES256K,
        Alg::EdDSA,
    ];

    /// Exact, case-sensitive registered name (RFC 7518 / RFC 8037 / RFC 8812).
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The registered name a person meant, case-insensitively (`es256` → `ES256`, `eddsa` →
    /// `EdDSA`), for command lines; tokens and JWKs always use [`Alg::from_name`].
    pub fn from_name_ignoring_case(name: &str) -> Option<Alg> {
        Alg::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::ES256K => "ES256K",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => Family::Oct,
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                Family::Rsa
            }
            Alg::ES256 => Family::P256,
            Alg::ES384 => Family::P384,
            Alg::ES512 => Family::P521,
            Alg::ES256K => Family::Secp256k1,
            Alg::EdDSA => Family::Ed25519,
        }
    }

    /// Whether this build leaves the signature check to the host (WebCrypto): RSA, P-256/384/521
    /// and Ed25519 without the `rust-crypto` feature. HMAC and ES256K are always checked here.
    pub fn needs_host(self) -> bool {
        cfg!(not(feature = "rust-crypto"))
            && matches!(
                self.family(),
                Family::Rsa | Family::P256 | Family::P384 | Family::P521 | Family::Ed25519
            )
    }

    /// HMAC output length in bytes, which is also the minimum HMAC key length (RFC 7518 §3.2).
    pub fn hmac_len(self) -> Option<usize> {
        match self {
            Alg::HS256 => Some(32),
            Alg::HS384 => Some(48),
            Alg::HS512 => Some(64),
            _ => None,
        }
    }

    /// Fixed signature length where the algorithm has one (r‖s for ECDSA, RFC 7518 §3.4).
    pub fn signature_len(self) -> Option<usize> {
        match self {
            Alg::ES256 | Alg::ES256K => Some(64),
            Alg::ES384 => Some(96),
            Alg::ES512 => Some(132),
            Alg::EdDSA => Some(64),
            _ => self.hmac_len(),
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Family {
    /// Algorithms a key of this family may verify.
    pub fn algs(self) -> impl Iterator<Item = Alg> {
        Alg::ALL.into_iter().filter(move |a| a.family() == self)
    }
}
