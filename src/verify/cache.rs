//! An opt-in cache of validation outcomes, keyed by the SHA-256 of the token.
//!
//! A hit never skips a decision that can change: times (exp/nbf/iat with leeway, max lifetime,
//! max age) are re-checked against the caller's clock, the revocation list must be the same
//! version and still fresh, grants must be the same, and the scope requirement of *this* call is
//! applied. Failures are kept only when they are intrinsic to the token and key set (malformed,
//! bad signature, unknown key…) and only for a short bound, so a clock or data change is never
//! hidden for long.

use crate::credential::Verified;
use crate::error::{Error, ErrorCode};
use crate::policy::scope::ScopeSet;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub type TokenHash = [u8; 32];

pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Longest time a failure may be served from the cache.
pub const MAX_FAILURE_TTL: i64 = 60;
/// Entries kept when the caller names no size.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Seconds a failure is kept when the caller names no bound.
pub const DEFAULT_FAILURE_TTL: i64 = 5;

/// Codes that depend only on the token bytes and the key set, never on the clock, revocation
/// data or the call's scope requirement.
pub fn is_intrinsic(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::TokenMalformed
            | ErrorCode::TokenTooLarge
            | ErrorCode::AlgNotAllowed
            | ErrorCode::KeyNotFound
            | ErrorCode::SignatureInvalid
            | ErrorCode::CritUnsupported
    )
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// `granted` is the token's scopes before any grant intersection.
    Valid {
        verified: Box<Verified>,
        granted: ScopeSet,
        /// Version and `generated_at` of the revocation list it was checked against.
        revocations: Option<(u64, i64, u64)>,
        grants: Option<ScopeSet>,
    },
    Invalid {
        error: Error,
        stored_at: i64,
    },
}

#[derive(Debug)]
struct Node {
    key: TokenHash,
    outcome: Outcome,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

/// A bounded LRU: a hash map into a slab of nodes threaded on a recency list. The slot index of
/// an entry is stable while it lives, so a binding can keep a parallel table of result objects.
#[derive(Debug)]
pub struct Cache {
    capacity: usize,
    failure_ttl: i64,
    map: HashMap<TokenHash, usize>,
    nodes: Vec<Node>,
    /// Slots emptied by `remove`, reused first.
    free: Vec<usize>,
    head: usize,
    tail: usize,
    pub hits: u64,
    pub misses: u64,
}

impl Cache {
    pub fn new(capacity: usize, failure_ttl: i64) -> Cache {
        Cache {
            capacity: capacity.clamp(1, 1 << 20),
            failure_ttl: failure_ttl.clamp(0, MAX_FAILURE_TTL),
            map: HashMap::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            hits: 0,
            misses: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn failure_ttl(&self) -> i64 {
        self.failure_ttl
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = match self.nodes.get(i) {
            Some(n) => (n.prev, n.next),
            None => return,
        };
        match self.nodes.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.nodes.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    fn push_front(&mut self, i: usize) {
        let old = self.head;
        if let Some(n) = self.nodes.get_mut(i) {
            n.prev = NIL;
            n.next = old;
        }
        if let Some(h) = self.nodes.get_mut(old) {
            h.prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// The entry for `key`, marked most recently used, with its slot. (Hits and misses are
    /// counted by the caller, which knows whether the entry still applied.)
    pub fn get(&mut self, key: &TokenHash) -> Option<(usize, &Outcome)> {
        let &i = self.map.get(key)?;
        self.unlink(i);
        self.push_front(i);
        self.nodes.get(i).map(|n| (i, &n.outcome))
    }

    /// Stores an outcome, evicting the least recently used entry when full. Returns the slot.
    pub fn put(&mut self, key: TokenHash, outcome: Outcome) -> usize {
        if let Some(&i) = self.map.get(&key) {
            if let Some(n) = self.nodes.get_mut(i) {
                n.outcome = outcome;
            }
            self.unlink(i);
            self.push_front(i);
            return i;
        }
        let i = if let Some(i) = self.free.pop() {
            // A slot emptied by `remove`: in neither the map nor the recency list.
            if let Some(n) = self.nodes.get_mut(i) {
                n.key = key;
                n.outcome = outcome;
            }
            i
        } else if self.nodes.len() < self.capacity {
            self.nodes.push(Node {
                key,
                outcome,
                prev: NIL,
                next: NIL,
            });
            self.nodes.len() - 1
        } else {
            // Full: evict the least recently used entry and take its slot.
            let i = self.tail;
            self.unlink(i);
            match self.nodes.get_mut(i) {
                Some(n) => {
                    self.map.remove(&n.key);
                    n.key = key;
                    n.outcome = outcome;
                }
                None => return NIL,
            }
            i
        };
        self.map.insert(key, i);
        self.push_front(i);
        i
    }

    /// Drops one entry (a re-check failed, or a failure outlived its bound); its slot goes on
    /// the free list for the next insertion.
    pub fn remove(&mut self, key: &TokenHash) {
        if let Some(i) = self.map.remove(key) {
            self.unlink(i);
            if let Some(n) = self.nodes.get_mut(i) {
                (n.prev, n.next) = (NIL, NIL);
            }
            self.free.push(i);
        }
    }
}
