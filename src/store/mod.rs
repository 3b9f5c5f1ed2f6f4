//! The data model kept in KV: revocation entries and snapshots, signing-key entries and their
//! rotation plan, the grants document. Every document is parsed and checked here, so the worker,
//! the cron and the CLI read and write the same thing.

pub(crate) mod audit;
pub(crate) mod grants;
pub(crate) mod keyset;
pub(crate) mod published;
pub(crate) mod revocation;
pub(crate) mod rotation;
