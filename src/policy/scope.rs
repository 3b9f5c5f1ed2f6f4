//! Scopes: `resource:action` (`users:read`), namespaced (`api.v1:read`) and simple (`admin`).
//! A granted `*` covers everything and `users:*` covers every action under `users`; a required
//! scope is always concrete, so a requirement can never widen what it asks for.

use crate::error::printable;
use crate::error::{err, Error, ErrorCode, Result};
use std::collections::{BTreeMap, HashSet};

/// Claims read for granted scopes, first present wins.
pub const DEFAULT_SCOPE_CLAIMS: [&str; 3] = ["scope", "scp", "scopes"];
const MAX_SCOPE_LEN: usize = 256;
/// Up to this many scopes a set is searched by a scan, which beats hashing at these sizes.
const SCAN_MAX: usize = 16;
const MAX_EXPR_LEN: usize = 4096;
const MAX_EXPR_DEPTH: usize = 16;

fn segment_ok(seg: &str) -> bool {
    !seg.is_empty()
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

/// A scope as its messages name it: in quotes, with its own quotes and backslashes escaped
/// (`"\"x\""`), so a scope holding quotes does not read as `""x""`.
fn quoted(scope: &str) -> String {
    format!("{:?}", printable(scope))
}

/// Validates one scope. Wildcards are allowed only as a whole last segment, and only in grants.
pub fn validate(scope: &str, allow_wildcard: bool) -> Result<()> {
    if scope.is_empty() || scope.len() > MAX_SCOPE_LEN {
        return err(
            ErrorCode::ScopeInvalid,
            format!(
                "scope {} must be 1..={MAX_SCOPE_LEN} characters",
                quoted(scope)
            ),
        );
    }
    let mut segs = scope.split(':').peekable();
    while let Some(seg) = segs.next() {
        if seg == "*" {
            if !allow_wildcard {
                return err(
                    ErrorCode::ScopeInvalid,
                    format!(
                        "required scope {} is a wildcard; name a concrete scope",
                        quoted(scope)
                    ),
                );
            }
            if segs.peek().is_some() {
                return err(
                    ErrorCode::ScopeInvalid,
                    format!(
                        "scope {}: \"*\" may only be the last segment",
                        quoted(scope)
                    ),
                );
            }
        } else if !segment_ok(seg) {
            return err(
                ErrorCode::ScopeInvalid,
                format!(
                    "scope {} has an empty segment or a character outside A-Z a-z 0-9 . _ - /",
                    quoted(scope)
                ),
            );
        }
    }
    Ok(())
}

/// A set of granted scopes with wildcard coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet {
    list: Vec<String>,
    /// An index of `list` once it is long enough that a hash lookup beats a scan (a token's own
    /// few scopes are scanned; a long claim or grants document does not make lookups quadratic).
    index: Option<HashSet<String>>,
    /// `users:*` is stored as `users:`.
    prefixes: Vec<String>,
    all: bool,
}

impl ScopeSet {
    /// Builds a set from granted scopes (wildcards allowed).
    pub fn new<S: AsRef<str>>(scopes: &[S]) -> Result<ScopeSet> {
        ScopeSet::build(&mut scopes.iter().map(AsRef::as_ref))
    }

    /// One body for every caller's kind of list (`dyn`: this is not hot enough to copy).
    fn build(scopes: &mut dyn Iterator<Item = &str>) -> Result<ScopeSet> {
        let mut set = ScopeSet::default();
        for s in scopes {
            validate(s, true)?;
            if set.has(s) {
                continue;
            }
            if s == "*" {
                set.all = true;
            } else if let Some(prefix) = s.strip_suffix('*') {
                set.prefixes.push(prefix.to_owned());
            }
            set.list.push(s.to_owned());
            match &mut set.index {
                Some(index) => {
                    index.insert(s.to_owned());
                }
                None if set.list.len() > SCAN_MAX => {
                    set.index = Some(set.list.iter().cloned().collect());
                }
                None => {}
            }
        }
        Ok(set)
    }

    /// Whether `s` is in the list as written.
    fn has(&self, s: &str) -> bool {
        match &self.index {
            Some(index) => index.contains(s),
            None => self.list.iter().any(|x| x == s),
        }
    }

    /// Parses a space-delimited scope string (RFC 6749 §3.3).
    pub fn parse(text: &str) -> Result<ScopeSet> {
        ScopeSet::build(&mut text.split(' ').filter(|s| !s.is_empty()))
    }

    /// Reads granted scopes from the first present claim of `names`. A string is
    /// space-delimited; an array holds one scope per entry. Other types are `claim_invalid`.
    pub fn from_claims<'a>(
        claims: impl Into<crate::policy::claims::ClaimsRef<'a>>,
        names: &[String],
    ) -> Result<ScopeSet> {
        let claims = claims.into();
        for name in names {
            let bad = |why: String| {
                Error::new(ErrorCode::ClaimInvalid, format!("\"{name}\" claim: {why}"))
            };
            let Some(claim) = claims.get(name) else {
                continue;
            };
            if claim.is_null() {
                continue;
            }
            if let Some(s) = claim.as_str() {
                return ScopeSet::parse(s).map_err(|e| bad(e.message().to_owned()));
            }
            return match claim.str_items() {
                Some(Some(list)) => ScopeSet::new(&list).map_err(|e| bad(e.message().to_owned())),
                Some(None) => Err(bad("array entries must be strings".into())),
                None => Err(bad("must be a string or an array of strings".into())),
            };
        }
        Ok(ScopeSet::default())
    }

    /// Whether a concrete scope is granted: exactly, by `*`, or by a `prefix:*`.
    pub fn covers(&self, scope: &str) -> bool {
        self.all
            || self.has(scope)
            || self
                .prefixes
                .iter()
                .any(|p| scope.len() > p.len() && scope.starts_with(p.as_str()))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.list
    }

    /// The scopes, in their first places (what `as_slice` shows), without a copy.
    pub fn into_list(self) -> Vec<String> {
        self.list
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The scopes both sets grant (per-tenant grants narrowing a token). A wildcard
    /// on one side keeps the other side's narrower entries.
    pub fn intersect(&self, grants: &ScopeSet) -> ScopeSet {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.list {
            if grants.covers_pattern(s) {
                out.push(s);
            } else {
                out.extend(
                    grants
                        .list
                        .iter()
                        .filter(|g| self.covers_pattern(g))
                        .map(String::as_str),
                );
            }
        }
        // `new` drops the repeats, keeping each scope's first place.
        ScopeSet::new(&out).unwrap_or_default()
    }

    /// Like `covers`, but for a possibly-wildcard scope: `users:*` is covered by `*`, `users:*`
    /// or a shorter prefix wildcard.
    fn covers_pattern(&self, scope: &str) -> bool {
        if scope == "*" {
            return self.all;
        }
        match scope.strip_suffix('*') {
            Some(prefix) => {
                self.all
                    || self.has(scope)
                    || self
                        .prefixes
                        .iter()
                        .any(|p| prefix.len() >= p.len() && prefix.starts_with(p.as_str()))
            }
            None => self.covers(scope),
        }
    }

    /// Scopes grouped by resource: `users:read users:write admin` →
    /// `{"users": ["read","write"], "admin": []}`.
    pub fn grouped(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &self.list {
            match s.split_once(':') {
                Some((res, action)) => out
                    .entry(res.to_owned())
                    .or_default()
                    .push(action.to_owned()),
                None => {
                    out.entry(s.clone()).or_default();
                }
            }
        }
        out
    }
}

/// A parsed scope requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Scope(String),
    All(Vec<Expr>),
    Any(Vec<Expr>),
}

/// A scope requirement, parsed once and reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    expr: Expr,
    text: String,
}

impl Requirement {
    /// Parses `a and (b or c)`. `and` binds tighter than `or`; a plain space-separated list
    /// (`a b c`) means all of them.
    pub fn parse(text: &str) -> Result<Requirement> {
        if text.len() > MAX_EXPR_LEN {
            return err(ErrorCode::ScopeInvalid, "scope expression is too long");
        }
        let tokens = lex(text)?;
        if tokens.is_empty() {
            return err(ErrorCode::ScopeInvalid, "scope expression is empty");
        }
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
        };
        let expr = p.or_expr(0)?;
        if let Some(t) = p.tokens.get(p.pos) {
            return err(
                ErrorCode::ScopeInvalid,
                format!("unexpected \"{}\" in scope expression", t.text()),
            );
        }
        Ok(Requirement {
            expr,
            text: text.trim().to_owned(),
        })
    }

    pub fn all_of<S: AsRef<str>>(scopes: &[S]) -> Result<Requirement> {
        Requirement::from_list(scopes, Expr::All, " and ")
    }

    pub fn any_of<S: AsRef<str>>(scopes: &[S]) -> Result<Requirement> {
        Requirement::from_list(scopes, Expr::Any, " or ")
    }

    fn from_list<S: AsRef<str>>(
        scopes: &[S],
        make: fn(Vec<Expr>) -> Expr,
        sep: &str,
    ) -> Result<Requirement> {
        if scopes.is_empty() {
            return err(ErrorCode::ScopeInvalid, "scope requirement is empty");
        }
        let mut items = Vec::new();
        for s in scopes {
            validate(s.as_ref(), false)?;
            items.push(Expr::Scope(s.as_ref().to_owned()));
        }
        let text = scopes
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(sep);
        Ok(Requirement {
            expr: make(items),
            text,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Checks a set of granted scopes (optionally narrowed by `grants`). On failure the error
    /// is `insufficient_scope` and names the missing scopes for RFC 6750's `scope=` attribute.
    pub fn check(&self, granted: &ScopeSet, grants: Option<&ScopeSet>) -> Result<()> {
        let has = |s: &str| granted.covers(s) && grants.is_none_or(|g| g.covers(s));
        let missing = missing(&self.expr, &has);
        if missing.is_empty() {
            Ok(())
        } else {
            let list = missing.join(" ");
            Err(Error::new(
                ErrorCode::InsufficientScope,
                format!("requires {}; missing {list}", self.text),
            )
            .with_scope(list))
        }
    }
}

/// The scopes that would have to be added for `expr` to hold (empty if it holds). For `or`,
/// the alternative that needs the fewest.
fn missing(expr: &Expr, has: &dyn Fn(&str) -> bool) -> Vec<String> {
    match expr {
        Expr::Scope(s) => {
            if has(s) {
                vec![]
            } else {
                vec![s.clone()]
            }
        }
        Expr::All(items) => {
            let mut out: Vec<String> = Vec::new();
            for m in items.iter().flat_map(|e| missing(e, has)) {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            out
        }
        Expr::Any(items) => {
            let mut best: Option<Vec<String>> = None;
            for e in items {
                let m = missing(e, has);
                if m.is_empty() {
                    return m;
                }
                if best.as_ref().is_none_or(|b| m.len() < b.len()) {
                    best = Some(m);
                }
            }
            best.unwrap_or_default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Scope(String),
    And,
    Or,
    Open,
    Close,
}

impl Tok {
    fn text(&self) -> &str {
        match self {
            Tok::Scope(s) => s,
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Open => "(",
            Tok::Close => ")",
        }
    }
}

fn lex(text: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Tok>| -> Result<()> {
        if word.is_empty() {
            return Ok(());
        }
        let w = std::mem::take(word);
        out.push(match w.as_str() {
            "and" | "AND" | "&&" => Tok::And,
            "or" | "OR" | "||" => Tok::Or,
            _ => {
                validate(&w, false)?;
                Tok::Scope(w)
            }
        });
        Ok(())
    };
    for c in text.chars() {
        match c {
            '(' | ')' => {
                flush(&mut word, &mut out)?;
                out.push(if c == '(' { Tok::Open } else { Tok::Close });
            }
            c if c.is_whitespace() => flush(&mut word, &mut out)?,
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out)?;
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Tok],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr> {
        let mut items = vec![self.and_expr(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and_expr(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Any(items)
        })
    }

    /// `a and b` and juxtaposition `a b` both mean all-of.
    fn and_expr(&mut self, depth: usize) -> Result<Expr> {
        let mut items = vec![self.atom(depth)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    items.push(self.atom(depth)?);
                }
                Some(Tok::Scope(_)) | Some(Tok::Open) => items.push(self.atom(depth)?),
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::All(items)
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Expr> {
        if depth > MAX_EXPR_DEPTH {
            return err(ErrorCode::ScopeInvalid, "scope expression nests too deeply");
        }
        match self.tokens.get(self.pos).cloned() {
            Some(Tok::Scope(s)) => {
                self.pos += 1;
                Ok(Expr::Scope(s))
            }
            Some(Tok::Open) => {
                self.pos += 1;
                let e = self.or_expr(depth + 1)?;
                if self.peek() != Some(&Tok::Close) {
                    return err(
                        ErrorCode::ScopeInvalid,
                        "scope expression has an unclosed \"(\"",
                    );
                }
                self.pos += 1;
                Ok(e)
            }
            Some(t) => err(
                ErrorCode::ScopeInvalid,
                format!("expected a scope or \"(\" but found \"{}\"", t.text()),
            ),
            None => err(ErrorCode::ScopeInvalid, "scope expression ends early"),
        }
    }
}
