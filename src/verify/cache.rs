//! An opt-in cache of validation outcomes, keyed by the token itself: a lookup hashes it with
//! SipHash under a per-cache random key (so no one can choose tokens that collide) and compares
//! the stored token in full, so a hit costs no cryptographic hash.
//!
//! A hit never skips a decision that can change: times (exp/nbf/iat with leeway, max lifetime,
//! max age) are re-checked against the caller's clock, the revocation list must be the same
//! version and still fresh, grants must be the same, and the scope requirement of *this* call is
//! applied. Failures are kept only when they are intrinsic to the token and key set (malformed,
//! bad signature, unknown key…) and only for a short bound, so a clock or data change is never
//! hidden for long.

use crate::credential::Verified;
use crate::error::{Error, ErrorCode};
use crate::policy::claims::Dates;
use crate::policy::scope::ScopeSet;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// What an entry is stored under: the whole token (lookups take a `&str` and compare it in full).
pub type TokenKey = Box<str>;

/// The key an outcome for `token` is stored under.
pub fn key(token: &str) -> TokenKey {
    token.into()
}

/// SipHash-2-4 with a random 128-bit key per cache. (std's `RandomState` would do on most
/// targets, but on wasm32-unknown-unknown std has no randomness and its keys are fixed, which
/// would let anyone send tokens that all land in one bucket.)
#[derive(Debug, Clone)]
pub struct KeyedSip {
    k0: u64,
    k1: u64,
}

impl KeyedSip {
    /// A fresh random key, or `None` when the platform has no randomness.
    fn random() -> Option<KeyedSip> {
        let mut b = [0u8; 16];
        getrandom::getrandom(&mut b).ok()?;
        let (a, c) = b.split_at(8);
        Some(KeyedSip {
            k0: u64::from_le_bytes(a.try_into().ok()?),
            k1: u64::from_le_bytes(c.try_into().ok()?),
        })
    }
}

impl BuildHasher for KeyedSip {
    // `SipHasher` is deprecated only in favour of `DefaultHasher`, which cannot take a key.
    #[allow(deprecated)]
    type Hasher = std::hash::SipHasher;
    #[allow(deprecated)]
    fn build_hasher(&self) -> Self::Hasher {
        std::hash::SipHasher::new_with_keys(self.k0, self.k1)
    }
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
        /// `claims` and `header` are empty in an entry the bindings' lean path stored: they keep
        /// the result they handed out themselves.
        verified: Box<Verified>,
        /// The token's NumericDates, which a hit re-checks against the caller's clock.
        dates: Box<Dates>,
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
    key: TokenKey,
    outcome: Outcome,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

/// A bounded LRU: a hash map into a slab of nodes threaded on a recency list. The slot index of
/// an entry is stable while it lives, so a binding can keep a parallel table of result objects.
/// Without randomness for its hash key the cache stores nothing (every lookup is a miss).
#[derive(Debug)]
pub struct Cache {
    capacity: usize,
    failure_ttl: i64,
    map: Option<HashMap<TokenKey, usize, KeyedSip>>,
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
            map: KeyedSip::random().map(HashMap::with_hasher),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            hits: 0,
            misses: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.as_ref().map_or(0, HashMap::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    pub fn get(&mut self, token: &str) -> Option<(usize, &Outcome)> {
        let &i = self.map.as_ref()?.get(token)?;
        self.unlink(i);
        self.push_front(i);
        self.nodes.get(i).map(|n| (i, &n.outcome))
    }

    /// Stores an outcome, evicting the least recently used entry when full. Returns the slot
    /// (`usize::MAX` when the cache stores nothing).
    pub fn put(&mut self, key: TokenKey, outcome: Outcome) -> usize {
        let Some(map) = self.map.as_ref() else {
            return NIL;
        };
        if let Some(&i) = map.get(&key) {
            if let Some(n) = self.nodes.get_mut(i) {
                n.outcome = outcome;
            }
            self.unlink(i);
            self.push_front(i);
            return i;
        }
        // The node keeps its own copy of the token: eviction finds the map entry by it.
        let node_key = key.clone();
        let i = if let Some(i) = self.free.pop() {
            // A slot emptied by `remove`: in neither the map nor the recency list.
            if let Some(n) = self.nodes.get_mut(i) {
                n.key = node_key;
                n.outcome = outcome;
            }
            i
        } else if self.nodes.len() < self.capacity {
            self.nodes.push(Node {
                key: node_key,
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
                    if let Some(map) = self.map.as_mut() {
                        map.remove(&n.key);
                    }
                    n.key = node_key;
                    n.outcome = outcome;
                }
                None => return NIL,
            }
            i
        };
        if let Some(map) = self.map.as_mut() {
            map.insert(key, i);
        }
        self.push_front(i);
        i
    }

    /// Drops one entry (a re-check failed, or a failure outlived its bound); its slot goes on
    /// the free list for the next insertion.
    pub fn remove(&mut self, token: &str) {
        if let Some(i) = self.map.as_mut().and_then(|m| m.remove(token)) {
            self.unlink(i);
            if let Some(n) = self.nodes.get_mut(i) {
                (n.prev, n.next) = (NIL, NIL);
            }
            self.free.push(i);
        }
    }
}
