//! Public keys from a JWKS document, parsed once per fetch and looked up by `kid`.
//!
//! Keys that cannot be used safely are skipped (with a reason) instead of failing the whole
//! set: symmetric (`oct`) keys, which must never come from a URL; keys whose `use` is not
//! `sig`; RSA moduli under 2048 bits; unknown key types and curves.

use openssl::bn::BigNum;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use serde::Deserialize;

use super::algorithm::{Algorithm, KeyFamily};
use super::errors::{AuthError, AuthResult, ErrorCode};
use super::token::decode_segment;

/// An RSA public key parsed once per key-set fetch. `ring` has no pre-parsed RSA public
/// key and re-derives the modulus's Montgomery constants on every verification (about
/// twice the cost of the verification itself), so RSA goes through OpenSSL's `PKey`.
#[derive(Clone)]
pub struct RsaPublicKey(pub PKey<Public>);

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPublicKey")
    }
}

// The parsed key is a function of `n` and `e`, which `KeyMaterial` compares itself.
impl PartialEq for RsaPublicKey {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RsaPublicKey {}

fn parse_rsa(n: &[u8], e: &[u8]) -> Result<RsaPublicKey, String> {
    let parse = || -> Result<PKey<Public>, openssl::error::ErrorStack> {
        let rsa = Rsa::from_public_components(BigNum::from_slice(n)?, BigNum::from_slice(e)?)?;
        PKey::from_rsa(rsa)
    };
    parse().map(RsaPublicKey).map_err(|_| "RSA key rejected by OpenSSL".to_string())
}

/// Raw key bytes in the form the signature code consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// Big-endian modulus and exponent (no leading zeros), and the key parsed from them.
    Rsa { n: Vec<u8>, e: Vec<u8>, public: RsaPublicKey },
    /// Uncompressed SEC1 point `04 || x || y`.
    Ec { family: KeyFamily, point: Vec<u8> },
    Ed25519 { public: Vec<u8> },
    Hmac { secret: Vec<u8> },
}

impl KeyMaterial {
    pub fn family(&self) -> KeyFamily {
        match self {
            Self::Rsa { .. } => KeyFamily::Rsa,
            Self::Ec { family, .. } => *family,
            Self::Ed25519 { .. } => KeyFamily::Ed25519,
            Self::Hmac { .. } => KeyFamily::Hmac,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub kid: Option<String>,
    /// The JWK's own `alg`, when it pins one.
    pub alg: Option<Algorithm>,
    pub material: KeyMaterial,
}

impl Key {
    fn accepts(&self, alg: Algorithm) -> bool {
        self.material.family() == alg.family() && self.alg.is_none_or(|pinned| pinned == alg)
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// The keys of one issuer. Small (bounded at parse time), so lookup is a linear scan.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

/// A parsed key set and the reasons some entries were skipped.
pub struct ParsedKeySet {
    pub keys: KeySet,
    pub skipped: Vec<String>,
}

impl KeySet {
    pub fn from_jwks(json: &[u8], max_keys: usize) -> Result<ParsedKeySet, String> {
        let raw: RawJwks = serde_json::from_slice(json).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, value) in raw.keys.into_iter().enumerate() {
            if keys.len() == max_keys {
                skipped.push(format!("key {index}: more than {max_keys} keys"));
                continue;
            }
            match serde_json::from_value::<RawJwk>(value).map_err(|e| e.to_string()).and_then(parse_jwk) {
                Ok(key) => keys.push(key),
                Err(reason) => skipped.push(format!("key {index}: {reason}")),
            }
        }
        Ok(ParsedKeySet { keys: KeySet { keys }, skipped })
    }

    pub fn kids(&self) -> Vec<String> {
        self.keys.iter().filter_map(|k| k.kid.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether some key of `self` is missing from `other` (a key was rotated out).
    pub fn keys_not_in(&self, other: &KeySet) -> bool {
        self.keys.iter().any(|key| !other.keys.contains(key))
    }

    /// The key for a token's `kid` and `alg`. A `kid` is only a lookup key: it is compared
    /// for equality and never used as a path, URL or query.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> AuthResult<&Key> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Err(AuthError::unknown_key(Some(kid)));
                }
                named.find(|k| k.accepts(alg)).ok_or_else(|| {
                    AuthError::new(ErrorCode::UnsupportedAlgorithm, "the token's alg does not match its key's type")
                })
            }
            None => {
                let mut candidates = self.keys.iter().filter(|k| k.accepts(alg));
                match (candidates.next(), candidates.next()) {
                    (Some(key), None) => Ok(key),
                    _ => Err(AuthError::unknown_key(None)),
                }
            }
        }
    }
}

fn field(value: Option<String>, name: &str) -> Result<Vec<u8>, String> {
    let text = value.ok_or_else(|| format!("missing {name}"))?;
    decode_segment(&text).map_err(|_| format!("{name} is not base64url"))
}

fn parse_jwk(raw: RawJwk) -> Result<Key, String> {
    if raw.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err("use is not sig".into());
    }
    if raw.key_ops.as_ref().is_some_and(|ops| !ops.iter().any(|op| op == "verify")) {
        return Err("key_ops does not allow verify".into());
    }
    let alg = raw.alg.as_deref().map(Algorithm::parse).transpose().map_err(|_| "unsupported alg".to_string())?;
    let material = match raw.kty.as_str() {
        "RSA" => {
            let n = strip_leading_zeros(field(raw.n, "n")?);
            let e = strip_leading_zeros(field(raw.e, "e")?);
            if !(256..=1024).contains(&n.len()) {
                return Err("RSA modulus outside 2048..8192 bits".into());
            }
            // A small odd public exponent, as ring and every real issuer use: a huge one
            // would make each verification slow.
            if e.is_empty() || e.len() > 4 || e.last().is_none_or(|b| b % 2 == 0) || e == [1] {
                return Err("RSA exponent must be odd, at least 3 and below 2^32".into());
            }
            let public = parse_rsa(&n, &e)?;
            KeyMaterial::Rsa { n, e, public }
        }
        "EC" => {
            let (family, size) = match raw.crv.as_deref() {
                Some("P-256") => (KeyFamily::EcP256, 32),
                Some("P-384") => (KeyFamily::EcP384, 48),
                _ => return Err("unsupported EC curve".into()),
            };
            let (x, y) = (field(raw.x, "x")?, field(raw.y, "y")?);
            if x.len() != size || y.len() != size {
                return Err("EC coordinates have the wrong length".into());
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            KeyMaterial::Ec { family, point }
        }
        "OKP" => {
            if raw.crv.as_deref() != Some("Ed25519") {
                return Err("unsupported OKP curve".into());
            }
            let public = field(raw.x, "x")?;
            if public.len() != 32 {
                return Err("Ed25519 key is not 32 bytes".into());
            }
            KeyMaterial::Ed25519 { public }
        }
        "oct" => return Err("symmetric keys are never taken from a key set".into()),
        _ => return Err("unsupported kty".into()),
    };
    if let Some(pinned) = alg {
        if pinned.family() != material.family() {
            return Err("alg does not match kty".into());
        }
    }
    Ok(Key { kid: raw.kid, alg, material })
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let jwks = br#"{"keys":[
            {"kty":"oct","kid":"s","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"},
            {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"OKP","kid":"enc","use":"enc","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}"#;
        let parsed = KeySet::from_jwks(jwks, 10).unwrap();
        assert_eq!(parsed.keys.kids(), vec!["ed".to_string()]);
        assert_eq!(parsed.skipped.len(), 3);
        assert!(parsed.keys.find(Some("ed"), Algorithm::EdDSA).is_ok());
        assert_eq!(parsed.keys.find(Some("ed"), Algorithm::RS256).unwrap_err().code, ErrorCode::UnsupportedAlgorithm);
        assert_eq!(parsed.keys.find(Some("../etc/passwd"), Algorithm::EdDSA).unwrap_err().code, ErrorCode::UnknownKey);
    }
}
