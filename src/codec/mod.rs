//! Byte-level encodings every layer shares: base64url as JOSE spells it, and bounded JSON with
//! typed readers over it; the one stable sort every layer uses; durations as messages spell them.

pub(crate) mod b64;
pub(crate) mod doc;
pub(crate) mod json;
pub(crate) mod sort;
pub(crate) mod time;
