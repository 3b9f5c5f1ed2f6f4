//! Signing keys: generation (randomness from `getrandom`), private JWK import/export, minting.
//! Used by tests, the CLI and Node scripts; the edge path only ever verifies.

use crate::codec::b64;
use crate::error::{Error, ErrorCode, Result};
use crate::jose::alg::{Alg, Es384, Es512, Family};
use crate::jose::keys::{rsa_alg, thumbprint_of, Key};
use jwt_compact::alg::{Ed25519, Es256, Es256k, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key};
use jwt_compact::{Algorithm, AlgorithmSignature};
use rand_core::{OsRng, RngCore};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use serde_json::{json, Map, Value};
use sha2::Sha256;

enum Secret {
    Hmac(Vec<u8>),
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(Box<p521::ecdsa::SigningKey>),
    K256(k256::ecdsa::SigningKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A private key bound to one algorithm.
pub struct SigningKey {
    alg: Alg,
    kid: Option<String>,
    secret: Secret,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn key_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::KeyInvalid, msg)
}

fn member_bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>> {
    let s = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| key_err(format!("private JWK lacks \"{name}\"")))?;
    b64::decode_secret(s)
        .map_err(|_| key_err(format!("private JWK member \"{name}\" is not base64url")))
}

fn big(bytes: &[u8]) -> String {
    b64::encode(bytes)
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| key_err(format!("{what} must be {N} bytes")))
}

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    OsRng
        .try_fill_bytes(&mut out)
        .map_err(|e| key_err(format!("no randomness: {e}")))?;
    Ok(out)
}

impl SigningKey {
    /// The algorithm of a generated key when the caller names none: ES256 (small keys and
    /// signatures, verified natively by WebCrypto and node:crypto).
    pub const DEFAULT_ALG: Alg = Alg::ES256;

    /// Generates a new key. RSA keys are 2048 bits unless `rsa_bits` says otherwise (2048..=4096).
    pub fn generate(alg: Alg, kid: Option<String>, rsa_bits: Option<usize>) -> Result<SigningKey> {
        let secret = match alg.family() {
            Family::Oct => Secret::Hmac(random_bytes(alg.hmac_len().unwrap_or(32))?),
            Family::Rsa => {
                let bits = rsa_bits.unwrap_or(2048);
                if !(2048..=4096).contains(&bits) {
                    return Err(key_err("RSA key size must be 2048..=4096 bits"));
                }
                Secret::Rsa(Box::new(
                    RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| key_err(e.to_string()))?,
                ))
            }
            Family::P256 => Secret::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            Family::P384 => Secret::P384(p384::ecdsa::SigningKey::random(&mut OsRng)),
            Family::P521 => Secret::P521(Box::new(p521::ecdsa::SigningKey::random(&mut OsRng))),
            Family::Secp256k1 => Secret::K256(k256::ecdsa::SigningKey::random(&mut OsRng)),
            Family::Ed25519 => {
                Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut OsRng)))
            }
        };
        let mut key = SigningKey { alg, kid, secret };
        if key.kid.is_none() {
            key.kid = Some(thumbprint_of(&key.required_public_members()));
        }
        Ok(key)
    }

    /// Imports a private JWK. The algorithm is the JWK's `alg`, else `alg`, else the family's
    /// default (HS256, RS256, or the curve's one algorithm).
    pub fn from_jwk(text: &str, alg: Option<Alg>) -> Result<SigningKey> {
        let jwk: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| key_err(format!("private JWK: {e}")))?;
        let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let jwk_alg = jwk
            .get("alg")
            .and_then(Value::as_str)
            .map(|a| Alg::from_name(a).ok_or_else(|| key_err(format!("unsupported alg \"{a}\""))))
            .transpose()?;
        if let (Some(a), Some(b)) = (jwk_alg, alg) {
            if a != b {
                return Err(key_err(format!("key is for {a}, not {b}")));
            }
        }
        let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
        let secret = match kty {
            "oct" => Secret::Hmac(member_bytes(&jwk, "k")?),
            "RSA" => {
                let n = BigUint::from_bytes_be(&member_bytes(&jwk, "n")?);
                let e = BigUint::from_bytes_be(&member_bytes(&jwk, "e")?);
                let d = BigUint::from_bytes_be(&member_bytes(&jwk, "d")?);
                let p = BigUint::from_bytes_be(&member_bytes(&jwk, "p")?);
                let q = BigUint::from_bytes_be(&member_bytes(&jwk, "q")?);
                let key = RsaPrivateKey::from_components(n, e, d, vec![p, q])
                    .map_err(|e| key_err(e.to_string()))?;
                key.validate().map_err(|e| key_err(e.to_string()))?;
                Secret::Rsa(Box::new(key))
            }
            "EC" => {
                let d = member_bytes(&jwk, "d")?;
                match crv {
                    "P-256" => Secret::P256(
                        p256::ecdsa::SigningKey::from_slice(&d)
                            .map_err(|_| key_err("bad P-256 private key"))?,
                    ),
                    "P-384" => Secret::P384(
                        p384::ecdsa::SigningKey::from_slice(&d)
                            .map_err(|_| key_err("bad P-384 private key"))?,
                    ),
                    "P-521" => Secret::P521(Box::new(
                        p521::ecdsa::SigningKey::from_slice(&d)
                            .map_err(|_| key_err("bad P-521 private key"))?,
                    )),
                    "secp256k1" => Secret::K256(
                        k256::ecdsa::SigningKey::from_slice(&d)
                            .map_err(|_| key_err("bad secp256k1 private key"))?,
                    ),
                    other => return Err(key_err(format!("unsupported curve \"{other}\""))),
                }
            }
            "OKP" if crv == "Ed25519" => {
                let d = fixed::<32>(&member_bytes(&jwk, "d")?, "Ed25519 private key")?;
                Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&d)))
            }
            other => {
                return Err(key_err(format!(
                    "unsupported private key type \"{other}\" {crv}"
                )))
            }
        };
        let family = match &secret {
            Secret::Hmac(_) => Family::Oct,
            Secret::Rsa(_) => Family::Rsa,
            Secret::P256(_) => Family::P256,
            Secret::P384(_) => Family::P384,
            Secret::P521(_) => Family::P521,
            Secret::K256(_) => Family::Secp256k1,
            Secret::Ed25519(_) => Family::Ed25519,
        };
        let alg = jwk_alg.or(alg).unwrap_or(match family {
            Family::Oct => Alg::HS256,
            Family::Rsa => Alg::RS256,
            f => f.algs().next().unwrap_or(Alg::EdDSA),
        });
        if alg.family() != family {
            return Err(key_err(format!("{alg} cannot be used with a {kty} key")));
        }
        let key = SigningKey { alg, kid, secret };
        // The public members in the JWK, if given, must be this key's (a mismatch is a mix-up).
        for (name, value) in key.required_public_members() {
            if let Some(given) = jwk.get(&name) {
                if given != &value && name != "k" {
                    return Err(key_err(format!(
                        "private JWK: \"{name}\" does not match the private key"
                    )));
                }
            }
        }
        if let Secret::Hmac(k) = &key.secret {
            if k.len() < alg.hmac_len().unwrap_or(32) {
                return Err(key_err(format!(
                    "HMAC key is {} bytes; {alg} needs at least {}",
                    k.len(),
                    alg.hmac_len().unwrap_or(32)
                )));
            }
        }
        Ok(key)
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    fn required_public_members(&self) -> Map<String, Value> {
        let v = match &self.secret {
            Secret::Hmac(k) => json!({"kty": "oct", "k": big(k)}),
            Secret::Rsa(k) => {
                json!({"kty": "RSA", "n": big(&k.n().to_bytes_be()), "e": big(&k.e().to_bytes_be())})
            }
            Secret::P256(k) => ec_json(
                "P-256",
                k.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            Secret::P384(k) => ec_json(
                "P-384",
                k.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            Secret::P521(k) => ec_json(
                "P-521",
                p521::ecdsa::VerifyingKey::from(k.as_ref())
                    .to_encoded_point(false)
                    .as_bytes(),
            ),
            Secret::K256(k) => ec_json(
                "secp256k1",
                k.verifying_key().to_encoded_point(false).as_bytes(),
            ),
            Secret::Ed25519(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": big(k.verifying_key().as_bytes())})
            }
        };
        v.as_object().cloned().unwrap_or_default()
    }

    /// The public JWK (`kid`, `alg`, `use: sig`). For HMAC there is no public part: this is
    /// the secret JWK, since verifying needs the secret.
    pub fn public_jwk(&self) -> Map<String, Value> {
        let mut m = self.required_public_members();
        self.add_meta(&mut m);
        m
    }

    /// The JWK to publish or give to verifiers. An HMAC key has none (its "public" JWK is the
    /// secret itself), so it is refused: a JWKS or a key store must never receive it.
    pub fn shareable_jwk(&self) -> Result<Map<String, Value>> {
        if matches!(self.secret, Secret::Hmac(_)) {
            return Err(key_err(
                "an HMAC key has no public part (its JWK is the secret); share the secret out of band, or use an asymmetric alg (ES256, EdDSA, RS256, ...)",
            ));
        }
        Ok(self.public_jwk())
    }

    /// The private JWK, for storing the key (file mode 0600; never in KV).
    pub fn private_jwk(&self) -> Map<String, Value> {
        let mut m = self.required_public_members();
        match &self.secret {
            Secret::Hmac(_) => {}
            Secret::Rsa(k) => {
                let primes = k.primes();
                m.insert("d".into(), big(&k.d().to_bytes_be()).into());
                if let [p, q] = primes {
                    m.insert("p".into(), big(&p.to_bytes_be()).into());
                    m.insert("q".into(), big(&q.to_bytes_be()).into());
                    let one = BigUint::from(1u32);
                    m.insert("dp".into(), big(&(k.d() % (p - &one)).to_bytes_be()).into());
                    m.insert("dq".into(), big(&(k.d() % (q - &one)).to_bytes_be()).into());
                    // qi = q^(p-2) mod p (Fermat; p is prime).
                    let qi = q.modpow(&(p - BigUint::from(2u32)), p);
                    m.insert("qi".into(), big(&qi.to_bytes_be()).into());
                }
            }
            Secret::P256(k) => {
                m.insert("d".into(), big(&k.to_bytes()).into());
            }
            Secret::P384(k) => {
                m.insert("d".into(), big(&k.to_bytes()).into());
            }
            Secret::P521(k) => {
                m.insert("d".into(), big(&k.to_bytes()).into());
            }
            Secret::K256(k) => {
                m.insert("d".into(), big(&k.to_bytes()).into());
            }
            Secret::Ed25519(k) => {
                m.insert("d".into(), big(k.as_bytes()).into());
            }
        }
        self.add_meta(&mut m);
        m
    }

    fn add_meta(&self, m: &mut Map<String, Value>) {
        if let Some(kid) = &self.kid {
            m.insert("kid".into(), kid.clone().into());
        }
        m.insert("alg".into(), self.alg.name().into());
        m.insert("use".into(), "sig".into());
    }

    /// The verification key for this signing key.
    pub fn verification_key(&self) -> Result<Key> {
        Key::from_jwk(&self.public_jwk())
    }

    /// Signs `input` (the JWS signing input) and returns the raw signature.
    pub fn sign_bytes(&self, input: &[u8]) -> Vec<u8> {
        fn s<A: Algorithm>(alg: A, key: &A::SigningKey, input: &[u8]) -> Vec<u8> {
            alg.sign(key, input).as_bytes().into_owned()
        }
        match (&self.secret, self.alg) {
            (Secret::Hmac(k), Alg::HS384) => s(Hs384, &Hs384Key::new(k), input),
            (Secret::Hmac(k), Alg::HS512) => s(Hs512, &Hs512Key::new(k), input),
            (Secret::Hmac(k), _) => s(Hs256, &Hs256Key::new(k), input),
            (Secret::Rsa(k), alg) => s(rsa_alg(alg), k.as_ref(), input),
            (Secret::P256(k), _) => s(Es256, k, input),
            (Secret::P384(k), _) => s(Es384, k, input),
            (Secret::P521(k), _) => s(Es512, k.as_ref(), input),
            (Secret::K256(k), _) => s(Es256k::<Sha256>::default(), k, input),
            (Secret::Ed25519(k), _) => s(Ed25519, k.as_ref(), input),
        }
    }

    /// Signs a compact JWS over arbitrary payload bytes. `header` may add members (e.g. `typ`,
    /// `cty`); `alg` and `kid` always come from the key.
    pub fn sign_jws(&self, payload: &[u8], header: &Map<String, Value>) -> Result<String> {
        let mut h = Map::new();
        h.insert("alg".into(), self.alg.name().into());
        for (k, v) in header {
            if k != "alg" && k != "kid" {
                h.insert(k.clone(), v.clone());
            }
        }
        if let Some(kid) = &self.kid {
            h.insert("kid".into(), kid.clone().into());
        }
        let header_json = serde_json::to_vec(&h).map_err(|e| key_err(e.to_string()))?;
        let mut out = b64::encode(&header_json);
        out.push('.');
        out.push_str(&b64::encode(payload));
        let sig = self.sign_bytes(out.as_bytes());
        out.push('.');
        out.push_str(&b64::encode(&sig));
        Ok(out)
    }

    /// Mints a JWT with `typ: JWT` over `claims`.
    pub fn mint(&self, claims: &Map<String, Value>) -> Result<String> {
        let payload = serde_json::to_vec(claims).map_err(|e| key_err(e.to_string()))?;
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        self.sign_jws(&payload, &header)
    }
}

fn ec_json(crv: &str, sec1: &[u8]) -> Value {
    // Uncompressed SEC1: 0x04 ‖ x ‖ y, coordinates of equal length.
    let coords = sec1.get(1..).unwrap_or_default();
    let (x, y) = coords.split_at(coords.len() / 2);
    json!({"kty": "EC", "crv": crv, "x": big(x), "y": big(y)})
}

/// Builds a verification key set from signing keys (tests, CLI `public-jwk --jwks`).
pub fn public_jwks(keys: &[&SigningKey]) -> Value {
    json!({"keys": keys.iter().map(|k| Value::Object(k.public_jwk())).collect::<Vec<_>>()})
}
