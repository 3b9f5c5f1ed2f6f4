//! Byte-level encodings every layer shares: base64url as JOSE spells it, and bounded JSON.

pub(crate) mod b64;
pub(crate) mod json;
