//! What to accept: claim rules and their defaults, scope expressions, routes, and the worker's
//! configuration. Pure functions of their inputs and the caller's clock.

pub(crate) mod claims;
pub(crate) mod config;
pub(crate) mod reload;
pub(crate) mod remote;
pub(crate) mod route;
pub(crate) mod scope;
