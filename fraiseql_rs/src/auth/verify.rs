//! One token, start to finish, without Python: size, shape, algorithm allow-list, key
//! lookup, signature, then claims. Runs with the GIL released.

use super::algorithm::{Algorithm, KeyFamily};
use super::claims::{self, Claims, ClaimsPolicy};
use super::errors::{refuse, AuthResult, ErrorCode};
use super::keys::{KeyMaterial, KeySet};
use super::signature;
use super::token;

/// Everything fixed when a verifier is built.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    pub algorithms: Vec<Algorithm>,
    pub policy: ClaimsPolicy,
    pub max_token_bytes: usize,
    /// The shared secret for HS*; never taken from a key set.
    pub hmac_secret: Option<KeyMaterial>,
}

pub fn verify_token(token: &str, config: &VerifierConfig, keys: &KeySet, now_s: f64) -> AuthResult<Claims> {
    if token.len() > config.max_token_bytes {
        return refuse(ErrorCode::TokenTooLarge, "the token is larger than the configured maximum");
    }
    let parts = token::split(token)?;
    let alg = parts.header.alg;
    if !config.algorithms.contains(&alg) {
        return refuse(ErrorCode::UnsupportedAlgorithm, "the token's alg is not in the allowed list");
    }
    let material = match alg.family() {
        KeyFamily::Hmac => match &config.hmac_secret {
            Some(secret) => secret,
            None => return refuse(ErrorCode::UnsupportedAlgorithm, "no shared secret is configured for HS*"),
        },
        _ => &keys.find(parts.header.kid.as_deref(), alg)?.material,
    };
    signature::verify(alg, material, parts.signing_input, &parts.signature)?;
    claims::check(parts.payload_b64, &config.policy, now_s)
}
