//! Compact JWS parsing (RFC 7515 §7.1) and signature verification against a key set.
//! Parsing is split from the signature check so a binding can run the primitive natively
//! (WebCrypto / node:crypto) while every decision stays here.

use crate::codec::b64;
use crate::codec::json::{Members, Raw};
use crate::error::printable;
use crate::error::{err, Error, ErrorCode, Result};
use crate::jose::alg::Alg;
use crate::jose::keys::KeySet;
use serde_json::{Map, Value};

/// Size limits, checked before any decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted token in bytes (default 16 KiB).
    pub max_token_bytes: usize,
    /// Deepest accepted JSON nesting in header and claims (default 16; the object is level 1).
    pub max_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_token_bytes: 16 * 1024,
            max_json_depth: 16,
        }
    }
}

/// Header parameters that never select a key: a verifier that trusted them would let the token
/// choose its own key (RFC 8725 §3.10).
pub const KEY_REFERENCE_HEADERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// A parsed, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    /// The header's `typ`, when it has one (always a string: anything else is refused).
    pub typ: Option<String>,
    /// The decoded header, as strict JSON that parsing accepted (see [`Jws::header`]).
    pub header_json: Vec<u8>,
    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Jws<'_> {
    /// The header as an owned map. Validation reads the header where it lies and builds no map;
    /// this is for callers that hand one out. (Empty for a `Jws` built by hand around JSON that
    /// [`parse`] would have refused.)
    pub fn header(&self) -> Map<String, Value> {
        header_map(&self.header_json)
    }
}

/// The owned map of a header that [`parse`] accepted (so it parses again, within any depth
/// limit that first parse met).
pub(crate) fn header_map(header_json: &[u8]) -> Map<String, Value> {
    crate::codec::json::parse_object(header_json, usize::MAX).unwrap_or_default()
}

/// A header member as scanned.
fn member<'h>(header: &'h Members<'h>, name: &str) -> Option<&'h Raw<'h>> {
    header.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A header member that must be a string when present.
fn string_member(header: &Members<'_>, name: &str) -> Result<Option<String>> {
    match member(header, name) {
        None => Ok(None),
        Some(Raw::Str(v)) => Ok(Some(v.as_ref().to_owned())),
        Some(_) => err(
            ErrorCode::TokenMalformed,
            format!("header: \"{name}\" must be a string"),
        ),
    }
}

fn malformed(part: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::TokenMalformed, format!("{part}: {detail}"))
}

/// Splits a compact serialization into exactly three parts.
pub fn split<'a>(token: &'a str, limits: &Limits) -> Result<[&'a str; 3]> {
    if token.len() > limits.max_token_bytes {
        return err(
            ErrorCode::TokenTooLarge,
            format!(
                "token is {} bytes; the limit is {}",
                token.len(),
                limits.max_token_bytes
            ),
        );
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => err(
            ErrorCode::TokenMalformed,
            format!(
                "a compact JWS has 3 dot-separated parts; this has {}",
                token.split('.').count()
            ),
        ),
    }
}

/// Decodes one base64url part, naming the part and the character at fault.
pub fn decode_part(part: &str, text: &str, offset: usize) -> Result<Vec<u8>> {
    b64::decode(text).map_err(|pos| {
        if pos < text.len() {
            malformed(
                part,
                format_args!("not valid base64url at character {}", offset + pos),
            )
        } else {
            malformed(
                part,
                "not valid base64url (bad length or non-canonical final character)",
            )
        }
    })
}

/// Reads `alg`; `none` in any casing, unknown and non-string values are `alg_not_allowed`.
fn header_alg(header: &Members<'_>) -> Result<Alg> {
    match member(header, "alg") {
        Some(Raw::Str(name)) => {
            if name.eq_ignore_ascii_case("none") {
                return err(
                    ErrorCode::AlgNotAllowed,
                    "alg \"none\" (unsecured JWS) is never accepted",
                );
            }
            Alg::from_name(name).ok_or_else(|| {
                Error::new(
                    ErrorCode::AlgNotAllowed,
                    format!("unsupported alg \"{}\"", printable(name)),
                )
            })
        }
        Some(_) => err(
            ErrorCode::TokenMalformed,
            "header: \"alg\" must be a string",
        ),
        None => err(ErrorCode::TokenMalformed, "header: \"alg\" is missing"),
    }
}

/// Parses a compact JWS without verifying it.
pub fn parse<'a>(token: &'a str, limits: &Limits, understood_crit: &[String]) -> Result<Jws<'a>> {
    let [h, p, s] = split(token, limits)?;
    if h.is_empty() {
        return err(ErrorCode::TokenMalformed, "header: empty");
    }
    let header_bytes = decode_part("header", h, 0)?;
    let header = crate::codec::json::scan_object(&header_bytes, limits.max_json_depth)
        .map_err(|e| malformed("header", e))?;
    let alg = header_alg(&header)?;
    let kid = string_member(&header, "kid")?;
    let typ = string_member(&header, "typ")?;
    check_crit(&header, understood_crit)?;
    drop(header);
    let payload = decode_part("payload", p, h.len() + 1)?;
    let signature = decode_part("signature", s, h.len() + p.len() + 2)?;
    if signature.is_empty() {
        return err(ErrorCode::SignatureInvalid, "signature is empty");
    }
    let signing_input = token.get(..h.len() + 1 + p.len()).unwrap_or_default();
    Ok(Jws {
        alg,
        kid,
        typ,
        header_json: header_bytes,
        signing_input,
        payload,
        signature,
    })
}

/// RFC 7515 §4.1.11: `crit` is a non-empty array of extension names; any name this validator
/// does not understand makes the token invalid.
fn check_crit(header: &Members<'_>, understood: &[String]) -> Result<()> {
    let Some(crit) = member(header, "crit") else {
        return Ok(());
    };
    let list = match crit {
        Raw::Array(a) if !a.is_empty() => a,
        _ => return Err(malformed("header", "\"crit\" must be a non-empty array")),
    };
    // Which understood names the header has, found once: a lookup per `crit` entry would cost
    // entries × members, both as many as the token's size allows.
    let present: Vec<bool> = understood
        .iter()
        .map(|u| member(header, u).is_some())
        .collect();
    for name in list {
        let Raw::Str(name) = name else {
            return Err(malformed("header", "\"crit\" entries must be strings"));
        };
        let Some(known) = understood.iter().position(|u| u == name) else {
            return err(
                ErrorCode::CritUnsupported,
                format!("crit extension \"{}\" is not understood", printable(name)),
            );
        };
        if !present.get(known).copied().unwrap_or(false) {
            return err(
                ErrorCode::TokenMalformed,
                format!("crit names \"{}\" but the header lacks it", printable(name)),
            );
        }
    }
    Ok(())
}

impl<'a> Jws<'a> {
    /// Checks the signature with the key(s) `keys` selects by `kid` or `alg`. `allowed` is the
    /// policy's algorithm allow-list (empty: whatever the keys allow). Returns the index of the
    /// key that verified.
    pub fn verify(&self, keys: &KeySet, allowed: &[Alg]) -> Result<usize> {
        self.verify_with(keys, allowed, |i, alg, input, sig| {
            keys.keys()
                .get(i)
                .is_some_and(|k| k.verify(alg, input, sig))
        })
    }

    /// Like [`Jws::verify`], with the primitive supplied by the caller (`key index, alg,
    /// signing input, signature → valid`).
    pub fn verify_with(
        &self,
        keys: &KeySet,
        allowed: &[Alg],
        mut primitive: impl FnMut(usize, Alg, &[u8], &[u8]) -> bool,
    ) -> Result<usize> {
        let candidates = self.candidates(keys, allowed)?;
        for i in candidates {
            if primitive(i, self.alg, self.signing_input.as_bytes(), &self.signature) {
                return Ok(i);
            }
        }
        err(ErrorCode::SignatureInvalid, "signature does not verify")
    }

    /// The keys a signature check may use, after the allow-list and ECDSA length rules.
    pub fn candidates(&self, keys: &KeySet, allowed: &[Alg]) -> Result<Vec<usize>> {
        if !allowed.is_empty() && !allowed.contains(&self.alg) {
            return err(
                ErrorCode::AlgNotAllowed,
                format!("alg {} is not in the allowed list", self.alg),
            );
        }
        if let Some(len) = self.alg.signature_len() {
            if self.signature.len() != len {
                return err(
                    ErrorCode::SignatureInvalid,
                    format!(
                        "{} signature must be {len} bytes; got {}",
                        self.alg,
                        self.signature.len()
                    ),
                );
            }
        }
        keys.candidates(self.alg, self.kid.as_deref())
    }
}

/// The unverified `iss` of a token, for choosing which issuer's validator to apply (that
/// validator then checks `iss` and the signature like any other claim). `None` when the token
/// does not parse far enough.
pub fn peek_issuer(token: &str, limits: &Limits) -> Option<String> {
    peek_claims(token, &["iss"], limits).pop().flatten()
}

/// Unverified string claims, parsed exactly as validation parses them, for choosing data before
/// validation (an issuer's validator, a tenant's grants). Whatever is chosen is applied to a
/// token whose signature and claims the core then checks.
pub fn peek_claims(token: &str, names: &[&str], limits: &Limits) -> Vec<Option<String>> {
    let claims = split(token, limits)
        .ok()
        .and_then(|[_, payload, _]| b64::decode(payload).ok())
        .and_then(|bytes| crate::codec::json::parse_object(&bytes, limits.max_json_depth).ok());
    names
        .iter()
        .map(|n| {
            claims
                .as_ref()
                .and_then(|c| c.get(*n))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .collect()
}
