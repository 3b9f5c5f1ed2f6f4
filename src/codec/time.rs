//! Durations as people read them, one style for every message the core writes: validation
//! errors, revocation warnings and inspection findings.

/// "4 min 10 s", "3 d 2 h", "10 years": the two largest non-zero units. A year is 365 days,
/// so a ten-year token reads "10 years", not "3650 d".
pub fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (y, d) = (s / (365 * 86_400), s % (365 * 86_400) / 86_400);
    let (h, m, sec) = (s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let year = if y == 1 { "year" } else { "years" };
    let parts: Vec<String> = [(y, year), (d, "d"), (h, "h"), (m, "min"), (sec, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .take(2)
        .map(|(n, u)| format!("{n} {u}"))
        .collect();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// "in 4 min 10 s" / "4 min 10 s ago" / "now".
pub fn relative(delta: i64) -> String {
    match delta {
        0 => "now".into(),
        d if d > 0 => format!("in {}", duration(d)),
        d => format!("{} ago", duration(d)),
    }
}
