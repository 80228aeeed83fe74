//! Why a token was refused: a code (the GraphQL error code Python shows) and a message.
//!
//! Pure Rust; the conversion to a Python exception lives in `exceptions.rs`.

use std::borrow::Cow;

/// The reasons a token can be refused. `as_str` is the code clients see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    TokenExpired,
    TokenNotYetValid,
    InvalidSignature,
    InvalidIssuer,
    InvalidAudience,
    InvalidClaims,
    UnknownKey,
    MalformedToken,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
    TokenTooLarge,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::TokenNotYetValid => "TOKEN_NOT_YET_VALID",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::InvalidIssuer => "INVALID_ISSUER",
            Self::InvalidAudience => "INVALID_AUDIENCE",
            Self::InvalidClaims => "INVALID_CLAIMS",
            Self::UnknownKey => "UNKNOWN_KEY",
            Self::MalformedToken => "MALFORMED_TOKEN",
            Self::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            Self::UnsupportedCriticalHeader => "UNSUPPORTED_CRITICAL_HEADER",
            Self::TokenTooLarge => "TOKEN_TOO_LARGE",
        }
    }
}

/// A refused token. `kid` is set for `UnknownKey` so the caller can refresh the key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub kid: Option<String>,
}

impl AuthError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self { code, message: message.into(), kid: None }
    }

    pub fn unknown_key(kid: Option<&str>) -> Self {
        let message = match kid {
            Some(_) => "no key in the key set matches the token's kid",
            None => "the token has no kid and the key set has no single matching key",
        };
        Self { code: ErrorCode::UnknownKey, message: Cow::Borrowed(message), kid: kid.map(str::to_owned) }
    }
}

pub type AuthResult<T> = Result<T, AuthError>;

/// Shorthand for the many `Err(AuthError::new(...))` sites.
pub fn refuse<T>(code: ErrorCode, message: &'static str) -> AuthResult<T> {
    Err(AuthError::new(code, message))
}
