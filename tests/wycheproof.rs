#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every Wycheproof JWS and JWK case must agree with its `result`, apart from the few listed in
//! `DELIBERATE` with the reason we answer differently.

mod common;
use serde_json::{Map, Value};
use tokengate::{verify_jws, KeySet, Policy};

/// Cases answered differently on purpose.
/// (tcId, our answer: valid?, why).
const DELIBERATE: &[(u64, bool, &str)] = &[
    (367, true, "byte-for-byte the same token as tc 357 (\"ValidMac\", valid): canonical base64url with a correct MAC; the padding this case is named for was lost from the file"),
    (370, true, "byte-for-byte the same token as tc 357 again (named invalidBase64PaddingInPayload)"),
    (346, false, "RFC 7520 Figure 20 is PS384 but Wycheproof's copy of the key pins \"alg\": \"PS256\"; a JWK's alg limits the key to that algorithm (RFC 7517 §4.4), so the key does not verify PS384"),
    (350, false, "same token and key as 346"),
    (372, false, "'?' inserted into the header: Wycheproof lets a lenient decoder skip it; base64url has no such character and tokengate requires strict base64url"),
    (373, false, "'?' inserted into the payload: same reason as 372"),
];

/// The key set a group is verified with: the public JWK(s) when given, else the private ones
/// (symmetric keys only appear as `private`).
fn keyset_text(group: &Map<String, Value>) -> String {
    let v = group
        .get("public")
        .or_else(|| group.get("private"))
        .unwrap();
    v.to_string()
}

fn run(file: &str) -> (usize, usize) {
    let doc = common::wycheproof(file);
    let mut checked = 0;
    let mut deliberate = 0;
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let group = group.as_object().unwrap();
        let keys = KeySet::from_json(&keyset_text(group));
        for t in group["tests"].as_array().unwrap() {
            let id = t["tcId"].as_u64().unwrap();
            let expect_valid = t["result"] == "valid";
            let token = t["jws"].as_str().unwrap_or("");
            let got = match &keys {
                Ok(k) => verify_jws(token, k, &Policy::default()),
                Err(e) => Err(e.clone()),
            };
            checked += 1;
            if let Some((_, ours, why)) = DELIBERATE.iter().find(|(d, _, _)| *d == id) {
                assert_eq!(
                    got.is_ok(),
                    *ours,
                    "tc {id} is listed as deliberate ({why}) but the answer changed"
                );
                deliberate += 1;
                continue;
            }
            if got.is_ok() != expect_valid {
                failures.push(format!(
                    "tc {id} {} expected {} got {:?}",
                    t["comment"],
                    t["result"],
                    got.err().map(|e| e.to_string())
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (checked, deliberate)
}

#[test]
fn wycheproof_json_web_signature() {
    let (n, d) = run("json_web_signature_test.json");
    assert_eq!(n, 401);
    println!(
        "wycheproof json_web_signature_test.json: {n} cases, {} agree, {d} deliberately different",
        n - d
    );
}

#[test]
fn wycheproof_json_web_key() {
    let (n, d) = run("json_web_key_test.json");
    assert!(n >= 26);
    println!(
        "wycheproof json_web_key_test.json: {n} cases, {} agree, {d} deliberately different",
        n - d
    );
}

#[test]
fn tc_357_and_367_are_the_same_token() {
    // Wycheproof lists the identical string as valid (357, "ValidMac") and invalid (367,
    // "invalidBase64Padding", whose padding was lost in the file). It is canonical base64url
    // with a correct MAC, so it is valid; 367 is counted as agreeing with 357.
    let doc = common::wycheproof("json_web_signature_test.json");
    let all: Vec<&Value> = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap())
        .collect();
    let find = |id: u64| all.iter().find(|t| t["tcId"] == id).unwrap()["jws"].clone();
    assert_eq!(find(357), find(367));
}
