//! `JwtVerifier`: the Python class that owns an issuer's key set and user-context cache.
//!
//! Hot path: SHA-256 of the token -> cache hit returns the stored Python object. On a miss
//! the token is verified with the GIL released, the claims become a dict, and the
//! `user_factory` (a Python callable) builds the object that is cached and returned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::algorithm::{Algorithm, KeyFamily};
use super::claims::{Claims, ClaimsPolicy};
use super::errors::AuthResult;
use super::json_to_py::map_to_py;
use super::keys::{KeyMaterial, KeySet};
use super::user_cache::{token_digest, UserCache};
use super::verify::{verify_token, VerifierConfig};

const MIN_HMAC_SECRET_BYTES: usize = 32;

#[pyclass(module = "fraiseql._fraiseql_rs", frozen)]
pub struct JwtVerifier {
    config: VerifierConfig,
    keys: RwLock<Arc<KeySet>>,
    cache: UserCache<Py<PyAny>>,
    user_factory: Option<Py<PyAny>>,
    max_keys: usize,
    // f64 bits: shifts this verifier's clock (tests, and the harness's clock-skew fault).
    clock_offset_bits: AtomicU64,
}

fn config_error(message: String) -> PyErr {
    PyValueError::new_err(message)
}

impl JwtVerifier {
    fn now_s(&self) -> f64 {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        wall + f64::from_bits(self.clock_offset_bits.load(Ordering::Relaxed))
    }

    fn verify_detached(&self, py: Python<'_>, token: &str, now_s: f64) -> AuthResult<Claims> {
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(|p| p.into_inner()));
        py.detach(|| verify_token(token, &self.config, &keys, now_s))
    }
}

#[pymethods]
impl JwtVerifier {
    #[new]
    #[pyo3(signature = (
        issuer, audiences, algorithms, *, leeway_s=30.0, max_token_bytes=8192,
        cache_max_entries=10_000, cache_ttl_s=300.0, hmac_secret=None, user_factory=None, max_keys=64
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        issuer: String,
        audiences: Vec<String>,
        algorithms: Vec<String>,
        leeway_s: f64,
        max_token_bytes: usize,
        cache_max_entries: usize,
        cache_ttl_s: f64,
        hmac_secret: Option<Vec<u8>>,
        user_factory: Option<Py<PyAny>>,
        max_keys: usize,
    ) -> PyResult<Self> {
        if audiences.is_empty() {
            return Err(config_error("at least one audience is required".into()));
        }
        if !(0.0..=300.0).contains(&leeway_s) {
            return Err(config_error("leeway_s must be between 0 and 300".into()));
        }
        let algorithms = algorithms
            .iter()
            .map(|name| Algorithm::parse(name).map_err(|_| config_error(format!("unsupported algorithm {name:?}"))))
            .collect::<PyResult<Vec<_>>>()?;
        if algorithms.is_empty() {
            return Err(config_error("at least one algorithm is required".into()));
        }
        let wants_hmac = algorithms.iter().any(|a| a.family() == KeyFamily::Hmac);
        let hmac_secret = match (wants_hmac, hmac_secret) {
            (true, Some(secret)) if secret.len() >= MIN_HMAC_SECRET_BYTES => Some(KeyMaterial::Hmac { secret }),
            (true, Some(_)) => return Err(config_error("an HS* secret must be at least 32 bytes".into())),
            (true, None) => return Err(config_error("HS* algorithms need hmac_secret".into())),
            (false, Some(_)) => return Err(config_error("hmac_secret given but no HS* algorithm allowed".into())),
            (false, None) => None,
        };
        Ok(Self {
            config: VerifierConfig {
                algorithms,
                policy: ClaimsPolicy { issuer, audiences, leeway_s },
                max_token_bytes,
                hmac_secret,
            },
            keys: RwLock::new(Arc::new(KeySet::default())),
            cache: UserCache::new(cache_max_entries, cache_ttl_s),
            user_factory,
            max_keys,
            clock_offset_bits: AtomicU64::new(0f64.to_bits()),
        })
    }

    /// The user object for `token`: from the cache, or verified and built by `user_factory`
    /// (the claims dict itself when there is no factory). Raises `JwtError`.
    fn validate(&self, py: Python<'_>, token: &str) -> PyResult<Py<PyAny>> {
        if token.len() > self.config.max_token_bytes {
            return Err(verify_token(token, &self.config, &KeySet::default(), 0.0).unwrap_err().into());
        }
        let digest = token_digest(token);
        let now_s = self.now_s();
        if let Some(user) = self.cache.get(&digest, now_s, |user| user.clone_ref(py)) {
            return Ok(user);
        }
        let claims = self.verify_detached(py, token, now_s)?;
        let claims_dict = map_to_py(py, &claims.map)?;
        let user = match &self.user_factory {
            Some(factory) => factory.call1(py, (claims_dict,))?,
            None => claims_dict.into_any().unbind(),
        };
        self.cache.put(digest, user.clone_ref(py), now_s, claims.exp);
        Ok(user)
    }

    /// Verify `token` without the cache and return its claims as a dict. Raises `JwtError`.
    fn verify<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyDict>> {
        let claims = self.verify_detached(py, token, self.now_s())?;
        map_to_py(py, &claims.map)
    }

    /// Replace the key set with the keys of a JWKS document. Returns `(kids, skipped)`.
    /// A document with no usable key raises `ValueError` and changes nothing, so a broken
    /// endpoint can never empty a good key set. When a key disappears, cached users are
    /// dropped: their tokens must verify again.
    fn set_keys(&self, py: Python<'_>, jwks: &Bound<'_, PyBytes>) -> PyResult<(Vec<String>, Vec<String>)> {
        let bytes = jwks.as_bytes();
        let parsed = py
            .detach(|| KeySet::from_jwks(bytes, self.max_keys))
            .map_err(config_error)?;
        if parsed.keys.is_empty() {
            let reasons = parsed.skipped.join("; ");
            return Err(config_error(format!("the key set has no usable key ({reasons})")));
        }
        let kids = parsed.keys.kids();
        let mut current = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let removed = current.keys_not_in(&parsed.keys);
        *current = Arc::new(parsed.keys);
        drop(current);
        if removed {
            self.cache.clear();
        }
        Ok((kids, parsed.skipped))
    }

    /// Forget every key and cached user (the keys went past their maximum staleness).
    fn clear_keys(&self) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(KeySet::default());
        self.cache.clear();
    }

    /// Forget the keys but keep the users already verified (until their entries expire,
    /// never past their token's `exp`): for keys given up because the provider has been
    /// unreachable too long, which says nothing against the tokens they verified. New
    /// tokens cannot be verified until keys are set again. (A provider that retires a key
    /// goes through `set_keys`, which does clear the cache.)
    fn forget_keys(&self) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(KeySet::default());
    }

    /// The `kid`s of the current key set.
    #[getter]
    fn kids(&self) -> Vec<String> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).kids()
    }

    /// Seconds added to the wall clock when checking `exp`, `nbf` and `iat`.
    #[getter]
    fn clock_offset_s(&self) -> f64 {
        f64::from_bits(self.clock_offset_bits.load(Ordering::Relaxed))
    }

    fn set_clock_offset(&self, seconds: f64) {
        self.clock_offset_bits.store(seconds.to_bits(), Ordering::Relaxed);
    }

    fn cache_clear(&self) {
        self.cache.clear();
    }

    fn cache_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.cache.stats();
        let dict = PyDict::new(py);
        dict.set_item("size", stats.size)?;
        dict.set_item("hits", stats.hits)?;
        dict.set_item("misses", stats.misses)?;
        dict.set_item("evictions", stats.evictions)?;
        dict.set_item("expirations", stats.expirations)?;
        Ok(dict)
    }
}
