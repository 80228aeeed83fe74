//! Signature verification with `ring` (RSA: OpenSSL, see `keys::RsaPublicKey`), plus the checks we do not leave to the crate.
//!
//! `ring` already refuses ECDSA scalars outside `[1, n-1]`; we check r and s ourselves as
//! well so the "psychic signature" (r = s = 0) can never depend on a library version.

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use ring::{hmac, signature};

use super::algorithm::{Algorithm, KeyFamily};
use super::errors::{refuse, AuthResult, ErrorCode};
use super::keys::{KeyMaterial, RsaPublicKey};

const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

fn bad_signature<T>() -> AuthResult<T> {
    refuse(ErrorCode::InvalidSignature, "the token's signature is invalid")
}

/// A big-endian scalar is usable when it is neither zero nor at or above the group order.
fn scalar_in_range(scalar: &[u8], order: &[u8]) -> bool {
    scalar.iter().any(|b| *b != 0) && scalar < order
}

/// ECDSA in JWS is the fixed-width `r || s` form, never DER.
fn check_ecdsa_shape(signature: &[u8], order: &[u8]) -> AuthResult<()> {
    let width = order.len();
    if signature.len() != 2 * width {
        return bad_signature();
    }
    let (r, s) = signature.split_at(width);
    if !scalar_in_range(r, order) || !scalar_in_range(s, order) {
        return bad_signature();
    }
    Ok(())
}

/// RS* is PKCS#1 v1.5; PS* is PSS with MGF1 over the same hash and a salt as long as
/// the hash (RFC 7518 section 3.5), nothing else.
fn verify_rsa(alg: Algorithm, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> Result<bool, ErrorStack> {
    let digest = match alg {
        Algorithm::RS256 | Algorithm::PS256 => MessageDigest::sha256(),
        Algorithm::RS384 | Algorithm::PS384 => MessageDigest::sha384(),
        _ => MessageDigest::sha512(),
    };
    let mut verifier = Verifier::new(digest, &key.0)?;
    if matches!(alg, Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512) {
        verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
        verifier.set_rsa_mgf1_md(digest)?;
        verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
    } else {
        verifier.set_rsa_padding(Padding::PKCS1)?;
    }
    verifier.verify_oneshot(signature, message)
}

/// Verify `signature` over `message` with `alg` and `key`. The caller has already matched
/// the key's family to the algorithm; this checks again so the two can never drift apart.
pub fn verify(alg: Algorithm, key: &KeyMaterial, message: &[u8], signature: &[u8]) -> AuthResult<()> {
    if key.family() != alg.family() {
        return refuse(ErrorCode::UnsupportedAlgorithm, "the token's alg does not match its key's type");
    }
    let verified = match (alg, key) {
        (Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512, KeyMaterial::Hmac { secret }) => {
            let hash = match alg {
                Algorithm::HS256 => hmac::HMAC_SHA256,
                Algorithm::HS384 => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            hmac::verify(&hmac::Key::new(hash, secret), message, signature)
        }
        (_, KeyMaterial::Rsa { public, .. }) => {
            return match verify_rsa(alg, public, message, signature) {
                Ok(true) => Ok(()),
                _ => bad_signature(),
            };
        }
        (_, KeyMaterial::Ec { family, point }) => {
            let (order, algorithm): (&[u8], &dyn signature::VerificationAlgorithm) = match family {
                KeyFamily::EcP256 => (&P256_ORDER, &signature::ECDSA_P256_SHA256_FIXED),
                _ => (&P384_ORDER, &signature::ECDSA_P384_SHA384_FIXED),
            };
            check_ecdsa_shape(signature, order)?;
            signature::UnparsedPublicKey::new(algorithm, point).verify(message, signature)
        }
        (_, KeyMaterial::Ed25519 { public }) => {
            signature::UnparsedPublicKey::new(&signature::ED25519, public).verify(message, signature)
        }
        _ => return bad_signature(),
    };
    verified.or_else(|_| bad_signature())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psychic_signature_is_refused_before_the_crate_sees_it() {
        let zero = vec![0u8; 64];
        assert_eq!(check_ecdsa_shape(&zero, &P256_ORDER).unwrap_err().code, ErrorCode::InvalidSignature);
        let mut at_order = P256_ORDER.to_vec();
        at_order.extend_from_slice(&[1u8; 32]);
        assert!(check_ecdsa_shape(&at_order, &P256_ORDER).is_err());
        let mut below = P256_ORDER.to_vec();
        below[31] -= 1;
        below.extend_from_slice(&[1u8; 32]);
        assert!(check_ecdsa_shape(&below, &P256_ORDER).is_ok());
        assert!(check_ecdsa_shape(&[1u8; 63], &P256_ORDER).is_err());
    }

    #[test]
    fn hmac_round_trip_and_family_mismatch() {
        let key = KeyMaterial::Hmac { secret: b"0123456789abcdef0123456789abcdef".to_vec() };
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, b"0123456789abcdef0123456789abcdef"), b"msg");
        assert!(verify(Algorithm::HS256, &key, b"msg", tag.as_ref()).is_ok());
        assert!(verify(Algorithm::HS256, &key, b"msh", tag.as_ref()).is_err());
        assert_eq!(verify(Algorithm::RS256, &key, b"msg", tag.as_ref()).unwrap_err().code, ErrorCode::UnsupportedAlgorithm);
    }
}
