//! How long the worker serves its copy of a KV document (key set, revocation list, grants, its own
//! configuration): as read for `ttl` seconds; then, up to `max_stale`, while one background reload
//! runs (stale-while-revalidate, so no request awaits another's I/O); past that, or with nothing
//! held, the request reads for itself, and a failed read means 503.

/// What a request does with a held copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// Younger than the TTL: serve it.
    Use,
    /// Past the TTL but within the staleness bound: serve it and reload in the background.
    Refresh,
    /// Nothing held, or older than the bound: read now.
    Read,
}

impl Reload {
    pub fn as_str(self) -> &'static str {
        match self {
            Reload::Use => "use",
            Reload::Refresh => "refresh",
            Reload::Read => "read",
        }
    }

    /// Whether the copy may still be served (fresh, or stale within the bound): last known good.
    pub fn usable(self) -> bool {
        self != Reload::Read
    }
}

/// The decision for a copy read at `read_at` (ms since the epoch; none: nothing held) at `now`.
/// A clock that stepped back makes the copy no older than zero, never younger.
pub fn reload(read_at: Option<u64>, now: u64, ttl: u32, max_stale: u32) -> Reload {
    let Some(read_at) = read_at else {
        return Reload::Read;
    };
    let age = now.saturating_sub(read_at);
    if age < u64::from(ttl) * 1000 {
        Reload::Use
    } else if age < u64::from(max_stale) * 1000 {
        Reload::Refresh
    } else {
        Reload::Read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        let t = 1_000_000;
        assert_eq!(reload(None, t, 60, 3600), Reload::Read);
        assert_eq!(reload(Some(t), t, 60, 3600), Reload::Use);
        assert_eq!(reload(Some(t), t + 59_999, 60, 3600), Reload::Use);
        assert_eq!(reload(Some(t), t + 60_000, 60, 3600), Reload::Refresh);
        assert_eq!(reload(Some(t), t + 3_599_999, 60, 3600), Reload::Refresh);
        assert_eq!(reload(Some(t), t + 3_600_000, 60, 3600), Reload::Read);
        // Read "in the future" (a clock step): as fresh as a copy read now, no fresher.
        assert_eq!(reload(Some(t + 10_000), t, 60, 3600), Reload::Use);
        // No TTL: every request past the read refreshes in the background.
        assert_eq!(reload(Some(t), t, 0, 3600), Reload::Refresh);
        assert!(!reload(Some(0), u64::MAX, u32::MAX, u32::MAX).usable());
    }
}
