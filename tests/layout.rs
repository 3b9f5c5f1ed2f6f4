//! The crate's layering holds: each concept imports only from the concepts below it, so there is
//! no import cycle, and the core knows nothing of wasm (the binding is its own crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

/// Bottom to top. A module may use `crate::X` only for an X listed before its own concept.
const LAYERS: &[&[&str]] = &[
    &["codec", "error"],
    &["jose"],
    &["policy"],
    &["credential"],
    &["apikey"],
    &["store"],
    &["verify"],
    &["inspect"],
];

fn layer_of(concept: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&concept))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/jose/keys.rs` → `jose`; `src/apikey.rs` → `apikey`; `src/lib.rs` → `lib`.
fn concept_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::name` a file mentions, outside comments.
fn crate_references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn every_concept_imports_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let concept = concept_of(&src, file);
        if concept == "lib" {
            continue;
        }
        let Some(own) = layer_of(&concept) else {
            problems.push(format!(
                "{}: concept `{concept}` is not in LAYERS",
                file.display()
            ));
            continue;
        };
        for name in crate_references(&fs::read_to_string(file).unwrap()) {
            // Items re-exported at the crate root (`crate::Error`) are named by their type.
            let target = match name.as_str() {
                "Error" | "ErrorCode" | "Result" => "error",
                "Alg" | "Key" | "KeySet" => "jose",
                "Policy" => "policy",
                other => other,
            };
            if target == concept {
                continue;
            }
            match layer_of(target) {
                Some(l) if l < own => {}
                Some(_) => problems.push(format!(
                    "{}: `{concept}` uses `crate::{name}` from a layer above or beside it",
                    file.display()
                )),
                None => problems.push(format!(
                    "{}: unknown crate path `crate::{name}`",
                    file.display()
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
    // The test itself must see the tree it checks.
    assert!(
        files.len() > 15,
        "found only {} files under src/",
        files.len()
    );
}

#[test]
fn the_core_knows_nothing_of_wasm() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for dep in ["wasm-bindgen", "js-sys", "serde-wasm-bindgen"] {
        let deps = manifest.split("[dev-dependencies]").next().unwrap();
        assert!(
            !deps.contains(&format!("\n{dep} ")),
            "the core crate depends on {dep}"
        );
    }
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("wasm_bindgen") && !text.contains("js_sys"),
            "{} mentions wasm",
            file.display()
        );
    }
    let binding = fs::read_to_string(root.join("bindings/wasm/Cargo.toml")).unwrap();
    assert!(
        binding.contains("wasm-bindgen = "),
        "the binding crate is where wasm lives"
    );
}
