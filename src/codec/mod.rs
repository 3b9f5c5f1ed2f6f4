//! Byte-level encodings every layer shares: base64url as JOSE spells it, and bounded JSON; and
//! the one stable sort every layer uses.

pub(crate) mod b64;
pub(crate) mod json;
pub(crate) mod sort;
