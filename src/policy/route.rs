//! Route decisions for the edge gate: method + request path → what the gate requires, decided on
//! one canonical spelling of the path, which is also the exact path the origin receives.
//!
//! Origins disagree on how to read a path (case-insensitive routers, `//` merging, decoding of
//! `%61`, `..;` read as `..`, `\` as `/`), so a gate that matches one spelling and forwards
//! another can be walked around. The rules here:
//! - `%XX` of an unreserved character (`A-Z a-z 0-9 - . _ ~`) is decoded; other escapes stay,
//!   with upper-case hex.
//! - Rejected with 400 `path_invalid`: escaped `/` `\` `%` `;` or control characters, literal
//!   `;` `\` or control characters, a bad escape, empty segments (`//`) except a trailing `/`,
//!   dot segments (`.`, `..`, also spelled `%2e`), non-ASCII (escaped UTF-8) unless allowed, then
//!   only as valid UTF-8, and paths over 4096 bytes.
//! - Route globs (`*` = any run of characters, `/` included) match ASCII case-insensitively, so
//!   `/api/Admin` is judged by the `/api/admin*` rule; anonymous rules match their exact case.
//! - Under the protected prefix, a path that no rule matches is 404 `route_not_found` and a
//!   method no matching rule names is 405 `method_not_allowed` (default deny). `HEAD` follows
//!   `GET` rules; `*` rules match every method; `OPTIONS` gets nothing implicitly.

use crate::codec::doc;
use crate::codec::json::Raw;
use crate::error::printable;
use crate::error::{Error, ErrorCode, Result};
use crate::policy::scope::Requirement;

const MAX_PATH: usize = 4096;
const MAX_RULES: usize = 1024;

/// One configured rule, as written in the worker configuration.
#[derive(Debug)]
struct RuleInput {
    method: Option<String>,
    path: String,
    scope: Option<String>,
    token_types: Option<Vec<String>>,
    anonymous: bool,
}

impl RuleInput {
    fn read(raw: &Raw<'_>) -> doc::Result<RuleInput> {
        let fields = ["method", "path", "scope", "tokenTypes", "anonymous"];
        let o = doc::object(raw, "struct RuleInput", &fields)?;
        Ok(RuleInput {
            method: o.optional("method", doc::string)?,
            path: o.required("path", doc::string)?,
            scope: o.optional("scope", doc::string)?,
            token_types: o.optional("tokenTypes", doc::strings)?,
            anonymous: o.or("anonymous", false, doc::boolean)?,
        })
    }
}

/// The route-related part of the worker configuration; other fields are ignored here.
#[derive(Debug)]
struct RoutesInput {
    protect: String,
    routes: Vec<RuleInput>,
    allow_unicode_paths: bool,
}

impl RoutesInput {
    fn read(raw: &Raw<'_>) -> doc::Result<RoutesInput> {
        let o = doc::lenient(raw, "struct RoutesInput")?;
        Ok(RoutesInput {
            protect: o.or("protect", default_protect(), doc::string)?,
            routes: o.or("routes", Vec::new(), |r| doc::array(r, RuleInput::read))?,
            allow_unicode_paths: o.or("allowUnicodePaths", false, doc::boolean)?,
        })
    }
}

fn default_protect() -> String {
    "/api/".into()
}

#[derive(Debug, Clone)]
struct Rule {
    /// Upper-case method, or `None` for `*`.
    method: Option<String>,
    /// Lower-case glob, for rules that require a credential.
    pattern: String,
    /// The glob as written (canonicalised): an anonymous rule matches only this exact case.
    exact: String,
    scope: Option<String>,
    token_types: Option<Vec<String>>,
    anonymous: bool,
}

/// What a request needs, on the canonical path it was decided for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not under the protected prefix: not the gate's to forward (static assets, 404).
    Outside { path: String },
    /// A rule lets it through without a credential.
    Anonymous { path: String, rule: usize },
    /// A credential is required, with this rule's scope requirement and token types.
    Authenticate {
        path: String,
        rule: usize,
        scope: Option<String>,
        token_types: Option<Vec<String>>,
    },
}

impl Decision {
    /// The canonical path: the one matched, and the one to forward.
    pub fn path(&self) -> &str {
        match self {
            Decision::Outside { path }
            | Decision::Anonymous { path, .. }
            | Decision::Authenticate { path, .. } => path,
        }
    }
}

/// A parsed route table.
#[derive(Debug, Clone)]
pub struct Router {
    protect: String,
    rules: Vec<Rule>,
    allow_unicode: bool,
}

fn config_error(message: String) -> Error {
    Error::new(ErrorCode::OptionsInvalid, message)
}

fn path_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::PathInvalid, message)
}

/// RFC 9110 `token` characters, for method names.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The method as decided and forwarded: an RFC 9110 token, upper-cased.
pub fn canonical_method(m: &str) -> Result<String> {
    method_name(m).ok_or_else(|| {
        Error::new(
            ErrorCode::MethodNotAllowed,
            format!("\"{}\" is not an HTTP method", printable(m)),
        )
    })
}

fn method_name(m: &str) -> Option<String> {
    (!m.is_empty() && m.len() <= 32 && m.bytes().all(is_tchar)).then(|| m.to_ascii_uppercase())
}

impl Router {
    /// Parses the `protect`, `routes` and `allowUnicodePaths` fields of a worker configuration
    /// (JSON text). A rule with an unknown field, a bad method, a path not starting with `/`, a
    /// scope that does not parse, or both `anonymous` and a scope, is `options_invalid`.
    pub fn from_json(text: &str) -> Result<Router> {
        let input = doc::parse(text)
            .and_then(|raw| RoutesInput::read(&raw))
            .map_err(|e| config_error(format!("configuration routes: {e}")))?;
        if !input.protect.starts_with('/') || input.protect.len() > MAX_PATH {
            return Err(config_error(format!(
                "\"protect\" must be a path starting with \"/\", got \"{}\"",
                printable(&input.protect)
            )));
        }
        let protect = canonical(&input.protect, input.allow_unicode_paths)
            .map_err(|e| config_error(format!("\"protect\": {}", e.message())))?
            .to_ascii_lowercase();
        if input.routes.len() > MAX_RULES {
            return Err(config_error(format!(
                "at most {MAX_RULES} routes, got {}",
                input.routes.len()
            )));
        }
        let mut rules = Vec::with_capacity(input.routes.len());
        for (i, r) in input.routes.into_iter().enumerate() {
            let what = format!("route {i} ({})", printable(&r.path));
            let method = match r.method.as_deref() {
                None | Some("*") => None,
                Some(m) => Some(method_name(m).ok_or_else(|| {
                    config_error(format!("{what}: \"{}\" is not a method", printable(m)))
                })?),
            };
            if !r.path.starts_with('/') || r.path.len() > MAX_PATH {
                return Err(config_error(format!("{what}: path must start with \"/\"")));
            }
            // The glob is spelled like a path: its literal runs are canonicalised the same way.
            let exact = canonical_glob(&r.path)
                .map_err(|e| config_error(format!("{what}: {}", e.message())))?;
            let pattern = exact.to_ascii_lowercase();
            if r.anonymous && (r.scope.is_some() || r.token_types.is_some()) {
                return Err(config_error(format!(
                    "{what}: an anonymous route takes no scope or tokenTypes"
                )));
            }
            let scope = match r.scope {
                Some(s) => Some(
                    Requirement::parse(&s)
                        .map_err(|e| config_error(format!("{what}: {}", e.message())))?
                        .text()
                        .to_string(),
                ),
                None => None,
            };
            if let Some(types) = &r.token_types {
                if types.is_empty() || types.iter().any(|t| t.is_empty() || t.len() > 64) {
                    return Err(config_error(format!(
                        "{what}: tokenTypes must list 1..64-character names"
                    )));
                }
            }
            rules.push(Rule {
                method,
                pattern,
                exact,
                scope,
                token_types: r.token_types,
                anonymous: r.anonymous,
            });
        }
        Ok(Router {
            protect,
            rules,
            allow_unicode: input.allow_unicode_paths,
        })
    }

    /// Decides a request. `path` is the request's path as the URL parser gives it (still
    /// percent-encoded, without the query). Errors: `path_invalid` (400), `method_not_allowed`
    /// (405, with the allowed methods), `route_not_found` (404).
    pub fn decide(&self, method: &str, path: &str) -> Result<Decision> {
        let method = canonical_method(method)?;
        let path = canonical(path, self.allow_unicode)?;
        let lower = path.to_ascii_lowercase();
        if !lower.starts_with(&self.protect) {
            return Ok(Decision::Outside { path });
        }
        let mut allow: Vec<&str> = Vec::new();
        let mut any = false;
        for (i, rule) in self.rules.iter().enumerate() {
            // Case-insensitive matching can only make a credential rule stricter for an origin
            // that tells `/Admin` from `/admin`; for an anonymous rule it could open a path such
            // an origin protects, so those match the exact case only.
            let matched = if rule.anonymous {
                glob(rule.exact.as_bytes(), path.as_bytes())
            } else {
                glob(rule.pattern.as_bytes(), lower.as_bytes())
            };
            if !matched {
                continue;
            }
            let hit = match &rule.method {
                None => true,
                Some(m) => *m == method || (method == "HEAD" && m == "GET"),
            };
            if !hit {
                any = true;
                if let Some(m) = &rule.method {
                    allow.push(m);
                    if m == "GET" {
                        allow.push("HEAD");
                    }
                }
                continue;
            }
            return Ok(if rule.anonymous {
                Decision::Anonymous { path, rule: i }
            } else {
                Decision::Authenticate {
                    path,
                    rule: i,
                    scope: rule.scope.clone(),
                    token_types: rule.token_types.clone(),
                }
            });
        }
        if any {
            let mut seen = std::collections::BTreeSet::new();
            allow.retain(|m| seen.insert(*m));
            let list = allow.join(", ");
            return Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} is not allowed here; allowed: {list}"),
            )
            .with_allow(list));
        }
        Err(Error::new(
            ErrorCode::RouteNotFound,
            "no route is configured for this path",
        ))
    }
}

/// A route glob's literal runs canonicalised like paths; `*` kept.
fn canonical_glob(glob: &str) -> Result<String> {
    let mut out = String::with_capacity(glob.len());
    for (i, part) in glob.split('*').enumerate() {
        if i > 0 {
            out.push('*');
        }
        out.push_str(&canonical_chars(part, true)?);
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// The canonical spelling of a request path (see the module doc), or `path_invalid`.
pub fn canonical(path: &str, allow_unicode: bool) -> Result<String> {
    if path.len() > MAX_PATH {
        return Err(path_error(format!("path is longer than {MAX_PATH} bytes")));
    }
    if !path.starts_with('/') {
        return Err(path_error("path must start with \"/\""));
    }
    let out = canonical_chars(path, allow_unicode)?;
    // Escaping literal non-ASCII can lengthen a path: the bound holds for what is forwarded too,
    // so deciding again on the forwarded path gives the same answer.
    if out.len() > MAX_PATH {
        return Err(path_error(format!("path is longer than {MAX_PATH} bytes")));
    }
    let segments: Vec<&str> = out.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() && i != last {
            return Err(path_error("path has an empty segment (\"//\")"));
        }
        if *seg == "." || *seg == ".." {
            return Err(path_error("path has a dot segment (\".\" or \"..\")"));
        }
    }
    Ok(out)
}

/// Decodes unreserved escapes and checks every character; no segment rules.
fn canonical_chars(text: &str, allow_unicode: bool) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(path_error(
                    "path has a \"%\" not followed by two hex digits",
                ));
            };
            let v = (h << 4) | l;
            if is_unreserved(v) {
                out.push(char::from(v));
                i += 3;
            } else if v >= 0x80 {
                // A run of escaped bytes must be whole UTF-8 characters.
                let mut run = Vec::new();
                while let (Some(b'%'), Some(h), Some(l)) = (
                    bytes.get(i).copied(),
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    let v = (h << 4) | l;
                    if v < 0x80 {
                        break;
                    }
                    run.push(v);
                    i += 3;
                }
                if !allow_unicode {
                    return Err(path_error(
                        "path has non-ASCII characters (allowUnicodePaths is off)",
                    ));
                }
                if std::str::from_utf8(&run).is_err() {
                    return Err(path_error("path has escaped bytes that are not UTF-8"));
                }
                for v in run {
                    out.push_str(&format!("%{v:02X}"));
                }
            } else if v < 0x20 || v == 0x7f || b"/\\%;".contains(&v) {
                return Err(path_error(format!(
                    "path has an escaped {} (%{v:02X})",
                    match v {
                        b'/' => "\"/\"",
                        b'\\' => "\"\\\"",
                        b'%' => "\"%\"",
                        b';' => "\";\"",
                        _ => "control character",
                    }
                )));
            } else {
                out.push_str(&format!("%{v:02X}"));
                i += 3;
            }
        } else if b < 0x20 || b == 0x7f {
            return Err(path_error("path has a control character"));
        } else if b == b';' || b == b'\\' {
            return Err(path_error(format!(
                "path has a \"{}\" (parameters and backslashes are refused)",
                char::from(b)
            )));
        } else if b >= 0x80 {
            if !allow_unicode {
                return Err(path_error(
                    "path has non-ASCII characters (allowUnicodePaths is off)",
                ));
            }
            // Literal non-ASCII (not what a URL parser produces): kept escaped.
            let ch_len = text
                .get(i..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf8);
            for v in bytes.get(i..i + ch_len).unwrap_or_default() {
                out.push_str(&format!("%{v:02X}"));
            }
            i += ch_len;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    Ok(out)
}

/// `*` matches any run of bytes (`/` included); everything else literally. Iterative with one
/// backtrack point, so hostile patterns and paths stay linear-ish.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if text.get(t) == Some(&c) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived readers these replaced: the reference for what is accepted and how a refusal
    /// is worded.
    mod before {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[allow(dead_code)]
        pub struct RuleInput {
            #[serde(default)]
            method: Option<String>,
            path: String,
            #[serde(default)]
            scope: Option<String>,
            #[serde(default)]
            token_types: Option<Vec<String>>,
            #[serde(default)]
            anonymous: bool,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        pub struct RoutesInput {
            #[serde(default)]
            protect: String,
            #[serde(default)]
            routes: Vec<RuleInput>,
            #[serde(default)]
            allow_unicode_paths: bool,
        }
    }

    #[test]
    fn routes_are_read_as_the_derived_reader_read_them() {
        for text in [
            r#"{}"#,
            r#"{"protect":"/","other":1,"routes":[{"path":"/a","method":"GET","scope":"s","tokenTypes":["t"],"anonymous":false}]}"#,
            r#"{"routes":[{"path":"/a","method":null,"scope":null,"tokenTypes":null}]}"#,
            r#"{"routes":[{"method":"GET"}]}"#,
            r#"{"routes":[{"path":"/a","bogus":1}]}"#,
            r#"{"routes":[{"path":"/a","anonymous":null}]}"#,
            r#"{"routes":[{"path":"/a","tokenTypes":"t"}]}"#,
            r#"{"routes":{"path":"/a"}}"#,
            r#"{"routes":null}"#,
            r#"{"protect":5}"#,
            r#"{"protect":null}"#,
            r#"{"allowUnicodePaths":"yes"}"#,
        ] {
            let ours = doc::parse(text)
                .and_then(|raw| RoutesInput::read(&raw))
                .map(drop);
            assert_eq!(ours, doc::derived::<before::RoutesInput>(text), "{text}");
        }
    }
}
