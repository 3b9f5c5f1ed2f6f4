//! One error type for every rejection. The code is the stable contract (tests, JSON output,
//! `WWW-Authenticate`); the message is for people and may change.

use std::fmt;

macro_rules! codes {
    ($( $variant:ident => $code:literal, $status:literal, $oauth:literal, $doc:literal; )*) => {
        /// Stable machine-readable failure codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $( #[doc = $doc] $variant, )* }

        impl ErrorCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The snake_case code, e.g. `token_expired`.
            pub fn as_str(self) -> &'static str { match self { $(ErrorCode::$variant => $code,)* } }

            /// HTTP status an edge worker answers with.
            pub fn status(self) -> u16 { match self { $(ErrorCode::$variant => $status,)* } }

            /// RFC 6750 `error` attribute (or OAuth error for non-token failures).
            pub fn oauth_error(self) -> &'static str { match self { $(ErrorCode::$variant => $oauth,)* } }

            /// One line explaining when the code is produced.
            pub fn description(self) -> &'static str { match self { $(ErrorCode::$variant => $doc,)* } }

            /// Parses a code string back (for bindings and tests).
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    TokenMalformed => "token_malformed", 401, "invalid_token", "Not a compact JWS: wrong number of parts, bad base64url, bad or duplicate JSON, nesting too deep.";
    TokenTooLarge => "token_too_large", 401, "invalid_token", "Token longer than the configured maximum; rejected before any decoding.";
    AlgNotAllowed => "alg_not_allowed", 401, "invalid_token", "`alg` is `none`, unknown, not in the allow-list, or not the algorithm of the selected key.";
    CritUnsupported => "crit_unsupported", 401, "invalid_token", "The `crit` header lists an extension this validator does not understand.";
    KeyNotFound => "key_not_found", 401, "invalid_token", "No key in the set matches the token's `kid` (or, without `kid`, its `alg`).";
    SignatureInvalid => "signature_invalid", 401, "invalid_token", "The signature does not verify with the selected key.";
    TokenExpired => "token_expired", 401, "invalid_token", "`exp` is in the past (beyond the leeway).";
    TokenNotYetValid => "token_not_yet_valid", 401, "invalid_token", "`nbf` is in the future (beyond the leeway).";
    TokenIssuedInFuture => "token_issued_in_future", 401, "invalid_token", "`iat` is in the future (beyond the leeway).";
    LifetimeExceeded => "lifetime_exceeded", 401, "invalid_token", "`exp - iat` (or `exp - now` without `iat`) exceeds the maximum lifetime.";
    TokenTooOld => "token_too_old", 401, "invalid_token", "More time than the maximum age has passed since `iat`.";
    IssuerNotAllowed => "issuer_not_allowed", 401, "invalid_token", "`iss` is not one of the allowed issuers.";
    AudienceNotAllowed => "audience_not_allowed", 401, "invalid_token", "No `aud` value is one of the allowed audiences.";
    TypNotAllowed => "typ_not_allowed", 401, "invalid_token", "The `typ` header is not one of the allowed values.";
    TokenTypeNotAllowed => "token_type_not_allowed", 401, "invalid_token", "The token-type claim (e.g. refresh vs access) is not allowed here.";
    ClaimMissing => "claim_missing", 401, "invalid_token", "A claim the policy requires is absent.";
    ClaimInvalid => "claim_invalid", 401, "invalid_token", "A claim has the wrong JSON type or an out-of-range value (e.g. `exp` as a string).";
    SubjectMismatch => "subject_mismatch", 403, "insufficient_scope", "`sub` is not the expected user (token bound to someone else).";
    ClaimMismatch => "claim_mismatch", 403, "insufficient_scope", "A required claim value (tenant, module, ...) differs.";
    InsufficientScope => "insufficient_scope", 403, "insufficient_scope", "The granted scopes do not satisfy the requirement.";
    TokenRevoked => "token_revoked", 401, "invalid_token", "The token's `jti` is revoked or its subject was cut off after it was issued.";
    RevocationDataStale => "revocation_data_stale", 503, "temporarily_unavailable", "The revocation list is older than its allowed staleness; failing closed.";
    ApikeyMalformed => "apikey_malformed", 401, "invalid_token", "Not a well-formed API key (prefix, length or checksum wrong).";
    ApikeyUnknown => "apikey_unknown", 401, "invalid_token", "No record for this API key.";
    ApikeyRevoked => "apikey_revoked", 401, "invalid_token", "The API key was revoked.";
    ApikeyPurged => "apikey_purged", 401, "invalid_token", "The API key was revoked and purged.";
    ApikeyExpired => "apikey_expired", 401, "invalid_token", "The API key is past its expiry.";
    CredentialMissing => "credential_missing", 401, "unauthorized", "A protected route was called without any credential (the challenge carries no `error`, RFC 6750 §3.1).";
    InvalidRequest => "invalid_request", 400, "invalid_request", "The request carries no usable credential form (e.g. two credentials).";
    PathInvalid => "path_invalid", 400, "invalid_request", "The request path is refused before routing: an encoded `/`, `\\`, `%` or `;`, a dot or empty segment, a control character (see Security model).";
    MethodNotAllowed => "method_not_allowed", 405, "invalid_request", "Rules match this path, but none for this method (default deny); `Allow` lists the methods.";
    RouteNotFound => "route_not_found", 404, "invalid_request", "No rule matches this path under the protected prefix (default deny).";
    KeyInvalid => "key_invalid", 500, "server_error", "A configured key (JWK/JWKS) is malformed, weak or unusable for signatures.";
    OptionsInvalid => "options_invalid", 500, "server_error", "Validation options are inconsistent or malformed.";
    ScopeInvalid => "scope_invalid", 500, "server_error", "A scope requirement or grant set does not parse.";
    RevocationInvalid => "revocation_invalid", 500, "server_error", "A revocation list does not parse.";
    DataUnavailable => "data_unavailable", 503, "temporarily_unavailable", "Configuration, keys, revocations, grants or records could not be read or are invalid beyond their last-known-good bound.";
    RecordInvalid => "record_invalid", 500, "server_error", "A stored API-key record does not parse (server-side data: the edge answers 503).";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection: stable code, human message, and (for `insufficient_scope`) the scopes to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    scope: Option<String>,
    allow: Option<String>,
}

impl Error {
    #[cold]
    #[inline(never)]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            scope: None,
            allow: None,
        }
    }

    /// Attaches the scope(s) an RFC 6750 `insufficient_scope` answer should name.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Attaches the methods a `method_not_allowed` answer lists in `Allow`.
    pub fn with_allow(mut self, methods: impl Into<String>) -> Self {
        self.allow = Some(methods.into());
        self
    }

    pub fn allow(&self) -> Option<&str> {
        self.allow.as_deref()
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// What a gate sends for this error raised while deciding a request. The client's problems
    /// (4xx) and stale revocation data (503 with its own description) go out as they are; any
    /// other server-side problem (keys, options, records or data the core refuses) is a 503
    /// `data_unavailable` whose description tells nothing of the server: its detail is logged.
    /// Never a 500 for a request.
    pub fn answered(&self) -> Error {
        if self.status() < 500 || self.code == ErrorCode::RevocationDataStale {
            return self.clone();
        }
        Error::new(ErrorCode::DataUnavailable, UNAVAILABLE)
    }

    /// Seconds a client should wait before retrying (`Retry-After`), for 503 answers.
    pub fn retry_after(&self) -> Option<u32> {
        (self.status() == 503).then_some(RETRY_AFTER)
    }

    /// A ready RFC 6750 §3 `WWW-Authenticate` value, e.g.
    /// `Bearer realm="api", error="invalid_token", error_description="token expired"`.
    pub fn www_authenticate(&self, realm: &str) -> String {
        let mut out = bare_challenge(realm);
        if self.code == ErrorCode::CredentialMissing {
            return out;
        }
        out.push_str(&format!(", error=\"{}\"", self.code.oauth_error()));
        out.push_str(&format!(", error_description=\"{}\"", quote(&self.message)));
        if let Some(scope) = &self.scope {
            out.push_str(&format!(", scope=\"{}\"", quote(scope)));
        }
        out
    }
}

/// The description of every 503 `data_unavailable` a gate sends.
const UNAVAILABLE: &str = "authorization data is unavailable; try again shortly";

/// `Retry-After` for server-side data problems: the worker's data reloads within a minute.
const RETRY_AFTER: u32 = 30;

/// The realm of every challenge when the caller names none.
pub const DEFAULT_REALM: &str = "api";

/// The challenge for a request that carried no credential (RFC 6750 §3.1: no `error`).
pub fn bare_challenge(realm: &str) -> String {
    format!("Bearer realm=\"{}\"", quote(realm))
}

/// RFC 6750 attribute values allow %x20-21 / %x23-5B / %x5D-7E: drop `"` and `\` and anything
/// outside printable ASCII so a message can never break the header.
fn quote(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand used across the crate.
#[cold]
#[inline(never)]
pub(crate) fn err<T>(code: ErrorCode, message: impl Into<String>) -> Result<T> {
    Err(Error::new(code, message))
}

/// Untrusted strings echoed in messages: bounded and printable.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}
