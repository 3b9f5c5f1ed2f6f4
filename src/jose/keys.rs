//! Verification keys (RFC 7517/7518/8037). A JWK is parsed once into a typed key whose variant
//! fixes its algorithm family, so an RSA key can never be fed to HMAC and vice versa.

use crate::codec::b64;
use crate::error::printable;
use crate::error::{err, ErrorCode, Result};
use crate::jose::alg::{Alg, Family};
#[cfg(feature = "rust-crypto")]
use crate::jose::alg::{Es384, Es512};
use hmac::{Hmac, Mac};
use jwt_compact::alg::Es256k;
#[cfg(feature = "rust-crypto")]
use jwt_compact::alg::{Ed25519, Es256, Rsa};
use jwt_compact::{Algorithm, AlgorithmSignature};
#[cfg(feature = "rust-crypto")]
use rsa::{traits::PublicKeyParts, BigUint, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::collections::HashMap;

/// RSA moduli below this are refused (RFC 7518 §3.3 requires 2048).
pub const MIN_RSA_BITS: usize = 2048;
/// RSA moduli above this are refused: verification cost grows with the size.
pub const MAX_RSA_BITS: usize = 8192;
/// Most keys a set may hold.
pub const MAX_KEYS: usize = 64;
/// A token without `kid` is tried against at most this many compatible keys, in set order.
pub const MAX_KIDLESS_CANDIDATES: usize = 4;

#[cfg(feature = "rust-crypto")]
mod typed {
    pub(crate) type Rsa = Box<rsa::RsaPublicKey>;
    pub(crate) type P256 = p256::ecdsa::VerifyingKey;
    pub(crate) type P384 = p384::ecdsa::VerifyingKey;
    pub(crate) type P521 = Box<p521::ecdsa::VerifyingKey>;
    pub(crate) type Ed25519 = ed25519_dalek::VerifyingKey;
}

/// Without `rust-crypto` (the edge module) an RSA, P-256/384/521 or Ed25519 key is checked here
/// by its encoding (and an Ed25519 point by decompression) but verified by the host's
/// WebCrypto; the host's import also checks EC points, and a key it refuses is skipped by
/// [`KeySet::refuse`].
#[cfg(not(feature = "rust-crypto"))]
mod typed {
    #[derive(Clone, Copy)]
    pub(crate) struct Host;
    pub(crate) type Rsa = Host;
    pub(crate) type P256 = Host;
    pub(crate) type P384 = Host;
    pub(crate) type P521 = Host;
    pub(crate) type Ed25519 = Host;
}

/// An HMAC secret with its key schedule for each hash (the padded key's first blocks) computed
/// once, so a call hashes only its own input.
#[derive(Clone)]
pub(crate) struct HmacKey {
    secret: Vec<u8>,
    hs256: Hmac<Sha256>,
    hs384: Hmac<Sha384>,
    hs512: Hmac<Sha512>,
}

impl HmacKey {
    fn new(secret: Vec<u8>, name: &str) -> Result<Self> {
        // HMAC takes a key of any length: a refusal here would be a library change, not the key.
        match (
            Hmac::new_from_slice(&secret),
            Hmac::new_from_slice(&secret),
            Hmac::new_from_slice(&secret),
        ) {
            (Ok(hs256), Ok(hs384), Ok(hs512)) => Ok(HmacKey {
                secret,
                hs256,
                hs384,
                hs512,
            }),
            _ => err(
                ErrorCode::KeyInvalid,
                format!("{name}: the HMAC implementation refused the key"),
            ),
        }
    }

    fn len(&self) -> usize {
        self.secret.len()
    }

    /// The tag over `input`, compared in constant time over its whole length (`verify_slice`
    /// refuses any other length).
    fn verify(&self, alg: Alg, input: &[u8], signature: &[u8]) -> bool {
        // Not inlined (nor is `run` below): V8 optimises a hot wasm function whole, and a verify
        // holding all three hashes (and ES256K) gave HS256 3 KB more code to optimise.
        #[inline(never)]
        fn check<M: Mac + Clone>(keyed: &M, input: &[u8], signature: &[u8]) -> bool {
            let mut mac = keyed.clone();
            mac.update(input);
            mac.verify_slice(signature).is_ok()
        }
        match alg {
            Alg::HS256 => check(&self.hs256, input, signature),
            Alg::HS384 => check(&self.hs384, input, signature),
            Alg::HS512 => check(&self.hs512, input, signature),
            _ => false,
        }
    }
}

/// The typed public (or, for HMAC, secret) key material.
#[derive(Clone)]
pub(crate) enum Material {
    // Boxed: three keyed hash states would make every key the size of the largest.
    Hmac(Box<HmacKey>),
    Rsa(typed::Rsa),
    P256(typed::P256),
    P384(typed::P384),
    P521(typed::P521),
    K256(k256::ecdsa::VerifyingKey),
    Ed25519(typed::Ed25519),
}

impl Material {
    pub(crate) fn family(&self) -> Family {
        match self {
            Material::Hmac(_) => Family::Oct,
            Material::Rsa(_) => Family::Rsa,
            Material::P256(_) => Family::P256,
            Material::P384(_) => Family::P384,
            Material::P521(_) => Family::P521,
            Material::K256(_) => Family::Secp256k1,
            Material::Ed25519(_) => Family::Ed25519,
        }
    }

    /// Verifies `signature` over `input`. Returns false for any mismatch between key and
    /// algorithm: selection already prevents it, this keeps it impossible.
    pub(crate) fn verify(&self, alg: Alg, input: &[u8], signature: &[u8]) -> bool {
        match (alg, self) {
            (Alg::HS256 | Alg::HS384 | Alg::HS512, Material::Hmac(k)) => {
                k.verify(alg, input, signature)
            }
            #[cfg(feature = "rust-crypto")]
            (
                Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512,
                Material::Rsa(k),
            ) => {
                // PKCS#1 / PSS signatures are exactly the modulus length (RFC 8017 §8.2.2 step 1).
                signature.len() == k.size() && run(rsa_alg(alg), k.as_ref(), input, signature)
            }
            #[cfg(feature = "rust-crypto")]
            (Alg::ES256, Material::P256(k)) => run(Es256, k, input, signature),
            #[cfg(feature = "rust-crypto")]
            (Alg::ES384, Material::P384(k)) => run(Es384, k, input, signature),
            #[cfg(feature = "rust-crypto")]
            (Alg::ES512, Material::P521(k)) => run(Es512, k.as_ref(), input, signature),
            (Alg::ES256K, Material::K256(k)) => {
                run(Es256k::<Sha256>::default(), k, input, signature)
            }
            #[cfg(feature = "rust-crypto")]
            (Alg::EdDSA, Material::Ed25519(k)) => run(Ed25519, k, input, signature),
            // Without `rust-crypto`, the host verifies the other families (`Alg::needs_host`).
            _ => false,
        }
    }
}

#[cfg(feature = "rust-crypto")]
pub(crate) fn rsa_alg(alg: Alg) -> Rsa {
    match alg {
        Alg::RS384 => Rsa::rs384(),
        Alg::RS512 => Rsa::rs512(),
        Alg::PS256 => Rsa::ps256(),
        Alg::PS384 => Rsa::ps384(),
        Alg::PS512 => Rsa::ps512(),
        _ => Rsa::rs256(),
    }
}

#[inline(never)]
fn run<A: Algorithm>(alg: A, key: &A::VerifyingKey, input: &[u8], signature: &[u8]) -> bool {
    if let Some(len) = A::Signature::LENGTH {
        if signature.len() != len.get() {
            return false;
        }
    }
    match A::Signature::try_from_slice(signature) {
        Ok(sig) => alg.verify_signature(&sig, key, input),
        Err(_) => false,
    }
}

/// One verification key.
#[derive(Clone)]
pub struct Key {
    kid: Option<String>,
    alg: Option<Alg>,
    pub(crate) material: Material,
    public_jwk: Map<String, Value>,
    thumbprint: String,
    /// Refused by the host's import ([`KeySet::refuse`]): verifies nothing.
    refused: bool,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print HMAC secrets.
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("family", &self.material.family())
            .finish()
    }
}

fn str_member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => err(
            ErrorCode::KeyInvalid,
            format!("JWK member \"{name}\" must be a string"),
        ),
    }
}

fn bytes_member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>> {
    let text = str_member(jwk, name)?
        .ok_or_else(|| crate::Error::new(ErrorCode::KeyInvalid, format!("JWK lacks \"{name}\"")))?;
    b64::decode_secret(text).map_err(|pos| {
        crate::Error::new(
            ErrorCode::KeyInvalid,
            format!("JWK member \"{name}\" is not base64url (at character {pos})"),
        )
    })
}

/// Parses a JWK `alg`. `ES521` is accepted as a spelling of ES512: it appears in published
/// copies of the RFC 7520 P-521 key (and Wycheproof's). It cannot widen anything, because a key
/// still verifies only its own family, and P-521 admits ES512 alone.
fn jwk_alg(name: &str) -> Option<Alg> {
    match name {
        "ES521" => Some(Alg::ES512),
        _ => Alg::from_name(name),
    }
}

impl Key {
    /// Imports one public JWK (or an `oct` secret) for verification.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<Key> {
        let kty = str_member(jwk, "kty")?
            .ok_or_else(|| crate::Error::new(ErrorCode::KeyInvalid, "JWK lacks \"kty\""))?;
        let kid = str_member(jwk, "kid")?.map(str::to_owned);
        let name = kid
            .as_deref()
            .map(|k| format!("key \"{k}\""))
            .unwrap_or_else(|| "key".into());
        if let Some(u) = str_member(jwk, "use")? {
            if u != "sig" {
                return err(
                    ErrorCode::KeyInvalid,
                    format!("{name} has use \"{u}\", not \"sig\""),
                );
            }
        }
        if let Some(ops) = jwk.get("key_ops") {
            let ops = ops
                .as_array()
                .filter(|a| a.iter().all(Value::is_string))
                .ok_or_else(|| {
                    crate::Error::new(
                        ErrorCode::KeyInvalid,
                        format!("{name}: key_ops must be an array of strings"),
                    )
                })?;
            if !ops.iter().any(|o| o == "verify") {
                return err(
                    ErrorCode::KeyInvalid,
                    format!("{name}: key_ops does not include \"verify\""),
                );
            }
        }
        let alg = match str_member(jwk, "alg")? {
            None => None,
            Some(a) => Some(jwk_alg(a).ok_or_else(|| {
                crate::Error::new(
                    ErrorCode::KeyInvalid,
                    format!("{name} has alg \"{a}\", which is not a supported JWS algorithm"),
                )
            })?),
        };
        if kty != "oct" && jwk.contains_key("d") {
            return err(
                ErrorCode::KeyInvalid,
                format!("{name} is a private key; verification keys must be public (publish only the public part)"),
            );
        }
        let (material, required): (Material, Vec<&str>) = match kty {
            "oct" => {
                let k = bytes_member(jwk, "k")?;
                let min = alg.and_then(Alg::hmac_len).unwrap_or(32);
                if k.len() < min {
                    return err(
                        ErrorCode::KeyInvalid,
                        format!(
                            "{name}: HMAC key is {} bytes, shorter than the {min}-byte hash output; use a secret of at least {min} bytes",
                            k.len()
                        ),
                    );
                }
                (
                    Material::Hmac(Box::new(HmacKey::new(k, &name)?)),
                    vec!["k", "kty"],
                )
            }
            "RSA" => (
                Material::Rsa(rsa_public(jwk, &name)?),
                vec!["e", "kty", "n"],
            ),
            "EC" => {
                let crv = str_member(jwk, "crv")?.unwrap_or("");
                let x = bytes_member(jwk, "x")?;
                let y = bytes_member(jwk, "y")?;
                let bad = || {
                    crate::Error::new(
                        ErrorCode::KeyInvalid,
                        format!("{name}: EC point is not on {crv}"),
                    )
                };
                #[cfg(feature = "rust-crypto")]
                let m = match crv {
                    "P-256" => Material::P256(
                        sec1(&x, &y, 32)
                            .and_then(|p| p256::ecdsa::VerifyingKey::from_sec1_bytes(&p).ok())
                            .ok_or_else(bad)?,
                    ),
                    "P-384" => Material::P384(
                        sec1(&x, &y, 48)
                            .and_then(|p| p384::ecdsa::VerifyingKey::from_sec1_bytes(&p).ok())
                            .ok_or_else(bad)?,
                    ),
                    "P-521" => Material::P521(Box::new(
                        sec1(&x, &y, 66)
                            .and_then(|p| p521::ecdsa::VerifyingKey::from_sec1_bytes(&p).ok())
                            .ok_or_else(bad)?,
                    )),
                    "secp256k1" => Material::K256(
                        sec1(&x, &y, 32)
                            .and_then(|p| k256::ecdsa::VerifyingKey::from_sec1_bytes(&p).ok())
                            .ok_or_else(bad)?,
                    ),
                    other => {
                        return err(
                            ErrorCode::KeyInvalid,
                            format!("{name}: unsupported EC curve \"{other}\""),
                        )
                    }
                };
                // The coordinates' lengths here; whether the point is on the curve, at the
                // host's import (a refusal skips the key, `KeySet::refuse`).
                #[cfg(not(feature = "rust-crypto"))]
                let m = match crv {
                    "P-256" => sec1(&x, &y, 32)
                        .map(|_| Material::P256(typed::Host))
                        .ok_or_else(bad)?,
                    "P-384" => sec1(&x, &y, 48)
                        .map(|_| Material::P384(typed::Host))
                        .ok_or_else(bad)?,
                    "P-521" => sec1(&x, &y, 66)
                        .map(|_| Material::P521(typed::Host))
                        .ok_or_else(bad)?,
                    "secp256k1" => Material::K256(
                        sec1(&x, &y, 32)
                            .and_then(|p| k256::ecdsa::VerifyingKey::from_sec1_bytes(&p).ok())
                            .ok_or_else(bad)?,
                    ),
                    other => {
                        return err(
                            ErrorCode::KeyInvalid,
                            format!("{name}: unsupported EC curve \"{other}\""),
                        )
                    }
                };
                (m, vec!["crv", "kty", "x", "y"])
            }
            "OKP" => {
                let crv = str_member(jwk, "crv")?.unwrap_or("");
                if crv != "Ed25519" {
                    return err(
                        ErrorCode::KeyInvalid,
                        format!("{name}: unsupported OKP curve \"{crv}\""),
                    );
                }
                let x: [u8; 32] = bytes_member(jwk, "x")?.try_into().map_err(|_| {
                    crate::Error::new(
                        ErrorCode::KeyInvalid,
                        format!("{name}: Ed25519 key must be 32 bytes"),
                    )
                })?;
                let not_a_point = || {
                    crate::Error::new(
                        ErrorCode::KeyInvalid,
                        format!("{name}: not an Ed25519 point"),
                    )
                };
                #[cfg(feature = "rust-crypto")]
                let (vk, weak) = {
                    let vk =
                        ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|_| not_a_point())?;
                    (vk, vk.is_weak())
                };
                // The same two checks ed25519-dalek makes: decompression, then small order.
                #[cfg(not(feature = "rust-crypto"))]
                let (vk, weak) = {
                    let point = curve25519_dalek::edwards::CompressedEdwardsY(x)
                        .decompress()
                        .ok_or_else(not_a_point)?;
                    (typed::Host, point.is_small_order())
                };
                if weak {
                    return err(
                        ErrorCode::KeyInvalid,
                        format!("{name}: Ed25519 key has small order"),
                    );
                }
                (Material::Ed25519(vk), vec!["crv", "kty", "x"])
            }
            other => {
                return err(
                    ErrorCode::KeyInvalid,
                    format!("{name}: unsupported kty \"{other}\""),
                )
            }
        };
        if let Some(a) = alg {
            if a.family() != material.family() {
                return err(
                    ErrorCode::KeyInvalid,
                    format!("{name}: alg {a} does not fit a {kty} key of this kind"),
                );
            }
        }
        let mut public_jwk = Map::new();
        for member in &required {
            if let Some(v) = jwk.get(*member) {
                public_jwk.insert((*member).to_owned(), v.clone());
            }
        }
        let thumbprint = thumbprint_of(&public_jwk);
        if let Material::Hmac(_) = material {
            // The "public" form of a secret key must not carry the secret.
            public_jwk.remove("k");
        }
        for member in ["kid", "alg", "use"] {
            if let Some(v) = jwk.get(member) {
                public_jwk.insert(member.to_owned(), v.clone());
            }
        }
        Ok(Key {
            kid,
            alg,
            material,
            public_jwk,
            thumbprint,
            refused: false,
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `alg` the JWK pins, if any.
    pub fn alg(&self) -> Option<Alg> {
        self.alg
    }

    pub fn family(&self) -> Family {
        self.material.family()
    }

    /// RFC 7638 thumbprint (base64url SHA-256 of the canonical required members).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public members (for `oct`: metadata only, never `k`).
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.public_jwk
    }

    /// Whether this key may verify `alg`: same family, the JWK's `alg` if it has one, and for
    /// HMAC a secret at least as long as the hash output.
    pub fn allows(&self, alg: Alg) -> bool {
        if self.refused
            || alg.family() != self.material.family()
            || self.alg.is_some_and(|a| a != alg)
        {
            return false;
        }
        match (&self.material, alg.hmac_len()) {
            (Material::Hmac(k), Some(min)) => k.len() >= min,
            _ => true,
        }
    }

    /// Algorithms this key verifies.
    pub fn algs(&self) -> Vec<Alg> {
        Alg::ALL.into_iter().filter(|a| self.allows(*a)).collect()
    }

    pub(crate) fn verify(&self, alg: Alg, input: &[u8], signature: &[u8]) -> bool {
        self.allows(alg) && self.material.verify(alg, input, signature)
    }

    /// Whether the host's WebCrypto verifies this key's signatures in this build (its import is
    /// then the last check of the key: see [`KeySet::refuse`]).
    pub fn host_verified(&self) -> bool {
        self.material.family().algs().any(Alg::needs_host)
    }

    pub(crate) fn is_secret(&self) -> bool {
        matches!(self.material, Material::Hmac(_))
    }
}

/// Uncompressed SEC1 point from JWK coordinates, which must be exactly the field size
/// (RFC 7518 §6.2.1.2: leading zeros are kept).
/// "JWKS has no usable verification key", with why when a key was skipped (an empty set has
/// no reason to give, so no empty "()").
fn no_usable_key(why: &str) -> String {
    if why.is_empty() {
        "JWKS has no usable verification key (it holds no keys)".into()
    } else {
        format!("JWKS has no usable verification key ({why})")
    }
}

fn sec1(x: &[u8], y: &[u8], len: usize) -> Option<Vec<u8>> {
    if x.len() != len || y.len() != len {
        return None;
    }
    let mut out = Vec::with_capacity(1 + 2 * len);
    out.push(4);
    out.extend_from_slice(x);
    out.extend_from_slice(y);
    Some(out)
}

fn rsa_public(jwk: &Map<String, Value>, name: &str) -> Result<typed::Rsa> {
    let n_bytes = bytes_member(jwk, "n")?;
    let e_bytes = bytes_member(jwk, "e")?;
    if n_bytes.first() == Some(&0) || e_bytes.first() == Some(&0) {
        return err(
            ErrorCode::KeyInvalid,
            format!("{name}: RSA n and e must be minimal big-endian (no leading zero)"),
        );
    }
    // Minimal big-endian: the bit length is the byte length less the first byte's leading zeros.
    let bits = n_bytes
        .first()
        .map_or(0, |b| n_bytes.len() * 8 - b.leading_zeros() as usize);
    if bits < MIN_RSA_BITS {
        return err(
            ErrorCode::KeyInvalid,
            format!("{name}: RSA modulus is {bits} bits; at least {MIN_RSA_BITS} required"),
        );
    }
    if bits > MAX_RSA_BITS {
        return err(
            ErrorCode::KeyInvalid,
            format!("{name}: RSA modulus is {bits} bits; at most {MAX_RSA_BITS} accepted"),
        );
    }
    // More than 8 bytes is above any u64 and so above MAX_RSA_EXPONENT.
    let e = (e_bytes.len() <= 8).then(|| e_bytes.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)));
    if e.is_some_and(|e| e < 3 || e % 2 == 0) {
        return err(
            ErrorCode::KeyInvalid,
            format!("{name}: RSA public exponent must be odd and at least 3"),
        );
    }
    if roca_fingerprint(&n_bytes) {
        return err(
            ErrorCode::KeyInvalid,
            format!(
                "{name}: RSA modulus has the ROCA fingerprint (CVE-2017-15361); regenerate the key"
            ),
        );
    }
    // The rsa crate's own bound (`RsaPublicKey::new`), checked here so both builds agree.
    if e.is_none_or(|e| e > MAX_RSA_EXPONENT) {
        return err(
            ErrorCode::KeyInvalid,
            format!("{name}: public exponent too large"),
        );
    }
    #[cfg(feature = "rust-crypto")]
    let key = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(&n_bytes),
        BigUint::from_bytes_be(&e_bytes),
        MAX_RSA_BITS,
    )
    .map(Box::new)
    .map_err(|e| crate::Error::new(ErrorCode::KeyInvalid, format!("{name}: {e}")))?;
    #[cfg(not(feature = "rust-crypto"))]
    let key = typed::Host;
    Ok(key)
}

/// The largest RSA public exponent the rsa crate accepts (2^33 − 1).
const MAX_RSA_EXPONENT: u64 = (1 << 33) - 1;

/// ROCA (CVE-2017-15361): Infineon-generated moduli are 65537^a·(const) modulo each small prime,
/// so n mod p lies in the subgroup generated by 65537 for every one of these primes. A random
/// modulus passes this test with negligible probability.
pub(crate) fn roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 39] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173,
    ];
    PRIMES.iter().all(|&p| {
        let r = n
            .iter()
            .fold(0u32, |acc, b| (acc * 256 + u32::from(*b)) % p);
        if r == 0 {
            return false;
        }
        let g = 65537 % p;
        let mut x = 1u32;
        for _ in 0..p {
            if x == r {
                return true;
            }
            x = (x * g) % p;
            if x == 1 {
                break;
            }
        }
        false
    })
}

/// RFC 7638 thumbprint of a JWK holding exactly its required members.
pub(crate) fn thumbprint_of(required: &Map<String, Value>) -> String {
    // serde_json's Map is ordered by key, which is the lexicographic order RFC 7638 requires.
    let canonical = serde_json::to_vec(required).unwrap_or_default();
    b64::encode(&Sha256::digest(canonical))
}

/// A key that was in a JWKS but is not usable, and why (shown by health and the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub kid: Option<String>,
    pub reason: String,
}

/// A set of verification keys, parsed once and reused for every token.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    /// Only for sets larger than [`KID_SCAN_MAX`]: a few keys are found faster by a scan than by
    /// hashing the token's `kid` (and the hasher is then no code a fresh isolate compiles).
    by_kid: Option<HashMap<String, usize>>,
    skipped: Vec<Skipped>,
}

const KID_SCAN_MAX: usize = 16;

impl KeySet {
    /// Parses a JWKS (`{"keys":[...]}`) or a single JWK. Keys that cannot verify (wrong `use`,
    /// `key_ops` without `verify`, unknown `kty`/`alg`, weak or malformed) are skipped and listed
    /// in [`KeySet::skipped`]; a single JWK that cannot verify is an error.
    pub fn from_json(text: &str) -> Result<KeySet> {
        let doc = crate::codec::json::parse_object(text.as_bytes(), 8)
            .map_err(|e| crate::Error::new(ErrorCode::KeyInvalid, format!("key JSON: {e}")))?;
        match doc.get("keys") {
            Some(Value::Array(list)) => {
                let maps: Vec<&Map<String, Value>> = list
                    .iter()
                    .map(|v| {
                        v.as_object().ok_or_else(|| {
                            crate::Error::new(
                                ErrorCode::KeyInvalid,
                                "JWKS \"keys\" must hold JSON objects",
                            )
                        })
                    })
                    .collect::<Result<_>>()?;
                KeySet::from_jwks(&maps)
            }
            Some(_) => err(ErrorCode::KeyInvalid, "JWKS \"keys\" must be an array"),
            None => Ok(KeySet::from_keys(vec![Key::from_jwk(&doc)?])?),
        }
    }

    fn from_jwks(list: &[&Map<String, Value>]) -> Result<KeySet> {
        if list.len() > MAX_KEYS {
            return err(
                ErrorCode::KeyInvalid,
                format!("JWKS holds {} keys; at most {MAX_KEYS}", list.len()),
            );
        }
        // A kid that names two signature keys is ambiguous even when one of them is broken:
        // which one the issuer meant is unknowable. Keys for other uses may share a kid.
        let mut sig_kids = std::collections::HashSet::new();
        for jwk in list {
            let for_sig = jwk.get("use").is_none_or(|u| u == "sig");
            if let (true, Some(kid)) = (for_sig, jwk.get("kid").and_then(Value::as_str)) {
                if !sig_kids.insert(kid) {
                    return err(
                        ErrorCode::KeyInvalid,
                        format!("key set has two keys with kid \"{}\"", printable(kid)),
                    );
                }
            }
        }
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for jwk in list {
            match Key::from_jwk(jwk) {
                Ok(k) => keys.push(k),
                Err(e) => skipped.push(Skipped {
                    kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
                    reason: e.message().to_owned(),
                }),
            }
        }
        if keys.is_empty() {
            let why: Vec<String> = skipped.iter().map(|s| s.reason.clone()).collect();
            return err(ErrorCode::KeyInvalid, no_usable_key(&why.join("; ")));
        }
        let mut set = KeySet::from_keys(keys)?;
        set.skipped = skipped;
        Ok(set)
    }

    /// Builds a set from imported keys. Refuses duplicate `kid`s (which key would be meant is
    /// ambiguous) and sets mixing HMAC secrets with public keys (a confusion hazard).
    pub fn from_keys(keys: Vec<Key>) -> Result<KeySet> {
        let secrets = keys.iter().filter(|k| k.is_secret()).count();
        if secrets > 0 && secrets < keys.len() {
            return err(
                ErrorCode::KeyInvalid,
                "key set mixes HMAC secrets with public keys; keep them in separate sets",
            );
        }
        let mut by_kid = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(kid) = &k.kid {
                if by_kid.insert(kid.clone(), i).is_some() {
                    return err(
                        ErrorCode::KeyInvalid,
                        format!("key set has two keys with kid \"{kid}\""),
                    );
                }
            }
        }
        Ok(KeySet {
            by_kid: (keys.len() > KID_SCAN_MAX).then_some(by_kid),
            keys,
            skipped: Vec::new(),
        })
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The host's import refused key `index` (a key this build checks only by its encoding,
    /// [`Key::host_verified`]): it is skipped from now on, as a key the full build refuses
    /// while parsing is, and its `kid` no longer names a key. Other keys are not touched.
    pub fn refuse(&mut self, index: usize, reason: &str) {
        let Some(k) = self.keys.get_mut(index) else {
            return;
        };
        if k.refused || !k.host_verified() {
            return;
        }
        k.refused = true;
        let name = k
            .kid
            .as_deref()
            .map(|kid| format!("key \"{}\"", printable(kid)))
            .unwrap_or_else(|| "key".into());
        if let (Some(kid), Some(by_kid)) = (&k.kid, self.by_kid.as_mut()) {
            by_kid.remove(kid);
        }
        self.skipped.push(Skipped {
            kid: k.kid.clone(),
            reason: format!("{name}: {}", printable(reason)),
        });
    }

    /// When every key was refused by the host: the error the full build gives while parsing.
    pub(crate) fn check_usable(&self) -> Result<()> {
        if self.keys.is_empty() || self.keys.iter().any(|k| !k.refused) {
            return Ok(());
        }
        let why: Vec<&str> = self.skipped.iter().map(|s| s.reason.as_str()).collect();
        err(ErrorCode::KeyInvalid, no_usable_key(&why.join("; ")))
    }

    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.position(kid).and_then(|i| self.keys.get(i))
    }

    /// The index of the key named `kid`, unless the host refused it.
    fn position(&self, kid: &str) -> Option<usize> {
        match &self.by_kid {
            Some(by_kid) => by_kid.get(kid).copied(),
            None => self
                .keys
                .iter()
                .position(|k| !k.refused && k.kid.as_deref() == Some(kid)),
        }
    }

    /// Indices of the keys to try for a token, by `kid` or (without one) by `alg`.
    pub(crate) fn candidates(&self, alg: Alg, kid: Option<&str>) -> Result<Vec<usize>> {
        match kid {
            Some(kid) => {
                let Some(i) = self.position(kid) else {
                    let why = self
                        .skipped
                        .iter()
                        .find(|s| s.kid.as_deref() == Some(kid))
                        .map(|s| format!(" (it was not loaded: {})", s.reason))
                        .unwrap_or_default();
                    return err(
                        ErrorCode::KeyNotFound,
                        format!("no key with kid \"{}\"{why}", printable(kid)),
                    );
                };
                match self.keys.get(i) {
                    Some(k) if k.allows(alg) => Ok(vec![i]),
                    _ => err(
                        ErrorCode::AlgNotAllowed,
                        format!("key \"{}\" does not verify {alg}", printable(kid)),
                    ),
                }
            }
            None => {
                let found: Vec<usize> = self
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.allows(alg))
                    .map(|(i, _)| i)
                    .take(MAX_KIDLESS_CANDIDATES)
                    .collect();
                if found.is_empty() {
                    err(
                        ErrorCode::KeyNotFound,
                        format!("no key for {alg} and the token has no kid"),
                    )
                } else {
                    Ok(found)
                }
            }
        }
    }
}
