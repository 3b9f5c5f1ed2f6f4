//! Strict base64url (RFC 7515 §2): no padding, no whitespace, only the URL-safe alphabet, and
//! canonical trailing bits, so one token has exactly one encoding.

use base64ct::{Base64UrlUnpadded, Encoding};

/// Decodes strictly; on failure returns the 0-based index of the first offending character
/// (or the length when the problem is the length / trailing bits).
pub fn decode(text: &str) -> Result<Vec<u8>, usize> {
    if let Some(pos) = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
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
}
