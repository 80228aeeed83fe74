//! Splitting a compact JWS (`header.payload.signature`) and reading its header.
//!
//! Only `alg`, `kid` and `crit` are read from the header. `jku`, `x5u`, `jwk` and `x5c`
//! are never read at all, so they can neither cause a fetch nor bring in a key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use super::algorithm::Algorithm;
use super::errors::{refuse, AuthResult, ErrorCode};

/// The header fields verification depends on.
#[derive(Debug)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// A token split into its parts; the payload is decoded only after the signature checks out.
#[derive(Debug)]
pub struct CompactToken<'a> {
    pub header: Header,
    pub signing_input: &'a [u8],
    pub payload_b64: &'a str,
    pub signature: Vec<u8>,
}

// serde rejects a duplicated `alg`, `kid` or `crit`, so two parsers can never disagree
// about which `alg` a token names.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// Strict base64url: no padding, no trailing bits, no other alphabet.
pub fn decode_segment(segment: &str) -> AuthResult<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .or_else(|_| refuse(ErrorCode::MalformedToken, "a token segment is not base64url"))
}

/// The first non-blank byte must open an object: serde would also read a struct from an array.
pub fn is_json_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

pub fn split(token: &str) -> AuthResult<CompactToken<'_>> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return refuse(ErrorCode::MalformedToken, "a token has exactly three segments");
    };
    // The header first, so that an unsigned `alg: none` token is reported as such.
    let header = parse_header(&decode_segment(header_b64)?)?;
    if payload_b64.is_empty() || signature_b64.is_empty() {
        return refuse(ErrorCode::MalformedToken, "a token segment is empty");
    }
    let signature = decode_segment(signature_b64)?;
    let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    Ok(CompactToken { header, signing_input, payload_b64, signature })
}

fn parse_header(bytes: &[u8]) -> AuthResult<Header> {
    if !is_json_object(bytes) {
        return refuse(ErrorCode::MalformedToken, "the token header is not a JSON object");
    }
    let raw: RawHeader = serde_json::from_slice(bytes)
        .or_else(|_| refuse(ErrorCode::MalformedToken, "the token header is not a valid JWS header"))?;
    // We implement no JWS extension, so any critical one is by definition not understood.
    if raw.crit.is_some() {
        return refuse(ErrorCode::UnsupportedCriticalHeader, "the token names a critical header extension");
    }
    Ok(Header { alg: Algorithm::parse(&raw.alg)?, kid: raw.kid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn padding_and_standard_alphabet_are_refused() {
        assert!(decode_segment("YQ==").is_err());
        assert!(decode_segment("+/8").is_err());
        assert_eq!(decode_segment("YQ").unwrap(), b"a");
    }

    #[test]
    fn segment_count_is_exact() {
        let header = b64(r#"{"alg":"RS256"}"#);
        for token in [header.clone(), format!("{header}.e30"), format!("{header}.e30.c2ln.x")] {
            assert_eq!(split(&token).unwrap_err().code, ErrorCode::MalformedToken);
        }
        assert!(split(&format!("{header}.e30.c2ln")).is_ok());
    }

    #[test]
    fn duplicate_alg_and_array_headers_are_malformed() {
        for header in [r#"{"alg":"RS256","alg":"HS256"}"#, r#"["RS256"]"#, r#"{"alg":1}"#, r#"{"kid":"a"}"#] {
            let token = format!("{}.e30.c2ln", b64(header));
            assert_eq!(split(&token).unwrap_err().code, ErrorCode::MalformedToken, "{header}");
        }
    }

    #[test]
    fn crit_is_refused() {
        let token = format!("{}.e30.c2ln", b64(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#));
        assert_eq!(split(&token).unwrap_err().code, ErrorCode::UnsupportedCriticalHeader);
    }
}
