//! Criterion micro-benchmarks of the Rust auth core: one token verified end to end
//! (RS256, ES256, EdDSA), and a user-cache hit. Python overhead is measured separately in
//! `benchmarks/auth/`.
//!
//! The pure modules are included by path: the crate's `auth` module is private to the
//! extension, and these files do not touch Python.

// cargo builds benches with cfg(test): the included modules' test imports are unused here.
#![allow(unused_imports)]

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

// At the crate root, so the modules' `super::` paths resolve as they do in the crate.
#[allow(dead_code)]
#[path = "../src/auth/algorithm.rs"]
mod algorithm;
#[allow(dead_code)]
#[path = "../src/auth/claims.rs"]
mod claims;
#[allow(dead_code)]
#[path = "../src/auth/errors.rs"]
mod errors;
#[allow(dead_code)]
#[path = "../src/auth/keys.rs"]
mod keys;
#[allow(dead_code)]
#[path = "../src/auth/signature.rs"]
mod signature;
#[allow(dead_code)]
#[path = "../src/auth/token.rs"]
mod token;
#[allow(dead_code)]
#[path = "../src/auth/user_cache.rs"]
mod user_cache;
#[allow(dead_code)]
#[path = "../src/auth/verify.rs"]
mod verify;

use algorithm::Algorithm;
use claims::ClaimsPolicy;
use keys::KeySet;
use user_cache::{token_digest, UserCache};
use verify::{verify_token, VerifierConfig};

const ISSUER: &str = "https://issuer.fraiseql.test/";
const AUDIENCE: &str = "https://api.fraiseql.test";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now_s() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn signing_input(alg: &str, kid: &str) -> String {
    let header = format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#);
    let exp = now_s() as u64 + 3600;
    let claims = format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"bench","exp":{exp},"roles":["reader"]}}"#);
    format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()))
}

/// A JWKS with one RSA, one P-256 and one Ed25519 key, and a token signed by each.
fn fixtures() -> (Vec<u8>, Vec<(&'static str, String)>) {
    let rng = SystemRandom::new();
    let rsa = Rsa::generate(2048).unwrap();
    let rsa_key = PKey::from_rsa(rsa.clone()).unwrap();
    let rs_input = signing_input("RS256", "rsa");
    let mut signer = Signer::new(MessageDigest::sha256(), &rsa_key).unwrap();
    let rs_sig = signer.sign_oneshot_to_vec(rs_input.as_bytes()).unwrap();

    let ec_pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, ec_pkcs8.as_ref(), &rng).unwrap();
    let es_input = signing_input("ES256", "ec");
    let es_sig = ec.sign(&rng, es_input.as_bytes()).unwrap();
    let point = ec.public_key().as_ref();

    let ed_pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed = Ed25519KeyPair::from_pkcs8(ed_pkcs8.as_ref()).unwrap();
    let ed_input = signing_input("EdDSA", "ed");
    let ed_sig = ed.sign(ed_input.as_bytes());

    let jwks = format!(
        r#"{{"keys":[
            {{"kty":"RSA","kid":"rsa","n":"{}","e":"{}"}},
            {{"kty":"EC","kid":"ec","crv":"P-256","x":"{}","y":"{}"}},
            {{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"{}"}}]}}"#,
        b64(&rsa.n().to_vec()),
        b64(&rsa.e().to_vec()),
        b64(&point[1..33]),
        b64(&point[33..65]),
        b64(ed.public_key().as_ref()),
    );
    let tokens = vec![
        ("RS256", format!("{rs_input}.{}", b64(&rs_sig))),
        ("ES256", format!("{es_input}.{}", b64(es_sig.as_ref()))),
        ("EdDSA", format!("{ed_input}.{}", b64(ed_sig.as_ref()))),
    ];
    (jwks.into_bytes(), tokens)
}

fn bench_auth(c: &mut Criterion) {
    let (jwks, tokens) = fixtures();
    let keys = KeySet::from_jwks(&jwks, 64).unwrap().keys;
    let config = VerifierConfig {
        algorithms: vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
        policy: ClaimsPolicy { issuer: ISSUER.into(), audiences: vec![AUDIENCE.into()], leeway_s: 30.0 },
        max_token_bytes: 8192,
        hmac_secret: None,
    };
    for (alg, token) in &tokens {
        verify_token(token, &config, &keys, now_s()).expect("fixture token verifies");
        c.bench_function(&format!("verify_token {alg}"), |b| {
            b.iter(|| verify_token(black_box(token), &config, &keys, now_s()).unwrap())
        });
    }
    let cache: UserCache<u64> = UserCache::new(10_000, 300.0);
    let token = &tokens[0].1;
    cache.put(token_digest(token), 7, now_s(), now_s() + 3600.0);
    c.bench_function("user cache hit (sha256 + lookup)", |b| {
        b.iter(|| cache.get(&token_digest(black_box(token)), now_s(), |v| *v).unwrap())
    });
    c.bench_function("parse jwks (3 keys)", |b| b.iter(|| KeySet::from_jwks(black_box(&jwks), 64).unwrap()));
}

criterion_group!(benches, bench_auth);
criterion_main!(benches);
