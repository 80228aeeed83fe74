//! JWT verification, key-set cache and user-context cache.
//!
//! Pure Rust (no Python): `algorithm`, `errors`, `token`, `keys`, `signature`, `claims`,
//! `verify`, `user_cache`. The Python face: `exceptions` (`JwtError`), `json_to_py`,
//! `verifier` (`JwtVerifier`).

pub mod algorithm;
pub mod claims;
pub mod errors;
mod exceptions;
mod json_to_py;
pub mod keys;
pub mod signature;
pub mod token;
pub mod user_cache;
pub mod verifier;
pub mod verify;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<verifier::JwtVerifier>()?;
    m.add("JwtError", m.py().get_type::<exceptions::JwtError>())?;
    Ok(())
}
