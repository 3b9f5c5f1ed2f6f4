#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The grants document the worker reads: checked once, every grant a valid scope.

use serde_json::json;
use tokengate::ErrorCode;
use tokengate::Grants;

#[test]
fn a_compacted_document_parses() {
    let g = Grants::from_json(
        &json!({"schema": 1, "version": 3, "generated_at": 1, "source": "x",
                "issuers": {"https://a": "users:* billing:read"},
                "tenants": {"acme": {"music": ["users:read"]}}})
        .to_string(),
    )
    .unwrap();
    assert_eq!(g.tenants["acme"]["music"], ["users:read"]);
    assert_eq!(Grants::none().issuers.len(), 0);
}

#[test]
fn bad_documents_are_refused() {
    for bad in [
        json!({"schema": 2}),
        json!({"schema": 1, "issuers": {"https://a": "bad scope!"}}),
        json!({"schema": 1, "issuers": {"https://a": ["users:read"]}}),
        json!({"schema": 1, "tenants": {"acme": {"music": "users:read"}}}),
        json!({"schema": 1, "tenants": {"acme": {"music": ["a b"]}}}),
        json!({"schema": 1, "tenant": {}}),
    ] {
        let e = Grants::from_json(&bad.to_string()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ScopeInvalid, "{bad}");
    }
}
