//! Native cost of one validation by phase (release build): `cargo run --release --example validate_speed`.
use std::time::Instant;
use tokengate::{Alg, Context, KeySet, Policy, SigningKey, Validator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = 1_800_000_000;
    let claims = serde_json::json!({"iss": "https://issuer.example", "aud": "api", "sub": "user-1", "iat": now, "exp": now + 7200, "jti": "bench-1", "scope": "users:read billing:read"});
    for alg in [Alg::HS256, Alg::ES256, Alg::EdDSA, Alg::RS256] {
        let k = SigningKey::generate(alg, Some("b".into()), None)?;
        let set = if alg == Alg::HS256 {
            serde_json::json!({"keys": [k.private_jwk()]})
        } else {
            serde_json::json!({"keys": [k.public_jwk()]})
        };
        let v = Validator::new(
            KeySet::from_json(&set.to_string())?,
            Policy::from_json(r#"{"issuer":"https://issuer.example","audience":"api"}"#)?,
        );
        let t = k.mint(claims.as_object().ok_or("claims")?)?;
        let ctx = Context::default();
        let n = if alg == Alg::HS256 { 200_000 } else { 2_000 };
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(v.prepare(&t)?);
        }
        let prep = t0.elapsed().as_nanos() as f64 / n as f64;
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(v.validate(&t, now, &ctx)?);
        }
        let full = t0.elapsed().as_nanos() as f64 / n as f64;
        let out = v.validate(&t, now, &ctx)?;
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(serde_json::to_string(&out)?);
        }
        let ser = t0.elapsed().as_nanos() as f64 / n as f64;
        println!("{alg}: prepare {prep:.0} ns, validate {full:.0} ns, result to JSON {ser:.0} ns");
    }
    Ok(())
}
