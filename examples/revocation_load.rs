//! Measures the revocation list's JSON size, load time and lookup time at 100k+ entries.
//! `cargo run --release --example revocation_load` (figures go in the README; never asserted).

use std::time::Instant;
use tokengate::RevocationList;

fn main() {
    for n in [10_000usize, 100_000, 250_000] {
        let mut list = RevocationList::new(1, 1_800_000_000);
        for i in 0..n {
            // A realistic mix: mostly jti entries, some subject cut-offs.
            if i % 10 == 0 {
                list.cut_off_subject(
                    "https://issuer.example",
                    &format!("user-{i:08}"),
                    1_800_000_000,
                    1_802_592_000,
                );
            } else {
                list.revoke_jti(
                    "https://issuer.example",
                    &format!("0a1b2c3d-{i:08}-4e5f-9a8b-7c6d5e4f3a2b"),
                    1_800_003_600,
                );
            }
        }
        let text = list.to_json();
        let runs = 5;
        let start = Instant::now();
        let mut loaded = None;
        for _ in 0..runs {
            loaded = RevocationList::from_json(&text).ok();
        }
        let load_ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        let Some(loaded) = loaded else { return };
        let lookups = 1_000_000;
        let start = Instant::now();
        let mut hits = 0;
        for i in 0..lookups {
            if loaded.is_jti_revoked(
                "https://issuer.example",
                &format!("0a1b2c3d-{:08}-4e5f-9a8b-7c6d5e4f3a2b", i % n),
            ) {
                hits += 1;
            }
        }
        let ns = start.elapsed().as_secs_f64() * 1e9 / lookups as f64;
        println!("{n:>7} entries: {:>6.1} MB JSON, load {load_ms:>6.1} ms, lookup {ns:>5.0} ns (incl. key formatting), {hits} hits", text.len() as f64 / 1e6);
    }
}
