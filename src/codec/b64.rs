//! Strict base64url (RFC 7515 §2): no padding, no whitespace, only the URL-safe alphabet, and
//! canonical trailing bits, so one token has exactly one encoding.
//!
//! Token parts hold nothing secret and are decoded on every request, so they use the fast
//! `base64` engine; key material is decoded once, in constant time, with `base64ct`.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use base64ct::{Base64UrlUnpadded, Encoding};

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

fn first_invalid(text: &str) -> Option<usize> {
    text.bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Decodes strictly; on failure returns the 0-based index of the first offending character
/// (or the length when the problem is the length / trailing bits).
pub fn decode(text: &str) -> Result<Vec<u8>, usize> {
    // The engine rejects every byte outside the alphabet itself; the scan for the position runs
    // only on failure (it cost as much as the decoding on every request).
    STRICT
        .decode(text)
        .map_err(|_| first_invalid(text).unwrap_or(text.len()))
}

/// [`decode`] in constant time, for key material.
pub fn decode_secret(text: &str) -> Result<Vec<u8>, usize> {
    if let Some(pos) = first_invalid(text) {
        return Err(pos);
    }
    Base64UrlUnpadded::decode_vec(text).map_err(|_| text.len())
}

pub fn encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_padding_whitespace_and_noncanonical_bits() {
        assert_eq!(decode("Zm9v"), Ok(b"foo".to_vec()));
        assert_eq!(decode("Zm8"), Ok(b"fo".to_vec()));
        assert_eq!(decode("Zm8="), Err(3));
        assert_eq!(decode("Zm 8"), Err(2));
        assert_eq!(decode("Zm+8"), Err(2));
        // "Zm9" encodes "fo" with non-zero trailing bits: "Zm8" is the canonical form.
        assert!(decode("Zm9").is_err());
        assert!(decode("Z").is_err());
        assert_eq!(decode(""), Ok(vec![]));
    }

    #[test]
    fn both_decoders_agree() {
        for text in [
            "", "Zm9v", "Zm8", "Zm9", "Z", "Zm8=", "Zm 8", "_-_-", "AAAA_w", "AAAA_x",
        ] {
            assert_eq!(decode(text), decode_secret(text), "{text:?}");
        }
    }
}
