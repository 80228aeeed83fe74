//! Registered-claim checks: `exp` (required), `nbf`, `iat`, `iss` (exact), `aud`.
//!
//! Dates must be JSON numbers: a string `exp` is refused, never ignored.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::errors::{refuse, AuthResult, ErrorCode};
use super::token::{decode_segment, is_json_object};

/// What a token's claims must satisfy.
#[derive(Debug, Clone)]
pub struct ClaimsPolicy {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub leeway_s: f64,
}

/// The verified claims and the token's expiry (Unix seconds).
#[derive(Debug)]
pub struct Claims {
    pub map: Map<String, Value>,
    pub exp: f64,
}

// Parsed separately from the full map so that a duplicated registered claim is an error
// rather than "last one wins".
#[derive(Deserialize)]
struct Registered {
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    nbf: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    iss: Option<Value>,
    #[serde(default)]
    aud: Option<Value>,
}

fn numeric_date(value: &Option<Value>, name: &'static str) -> AuthResult<Option<f64>> {
    match value {
        None => Ok(None),
        Some(Value::Number(number)) => Ok(number.as_f64()),
        Some(_) => Err(super::errors::AuthError::new(
            ErrorCode::InvalidClaims,
            format!("the {name} claim is not a number"),
        )),
    }
}

/// Decode the payload (after the signature was verified) and check it against `policy`.
pub fn check(payload_b64: &str, policy: &ClaimsPolicy, now_s: f64) -> AuthResult<Claims> {
    let bytes = decode_segment(payload_b64)?;
    if !is_json_object(&bytes) {
        return refuse(ErrorCode::MalformedToken, "the token payload is not a JSON object");
    }
    let registered: Registered = serde_json::from_slice(&bytes)
        .or_else(|_| refuse(ErrorCode::MalformedToken, "the token payload is not valid JSON claims"))?;
    let Some(exp) = numeric_date(&registered.exp, "exp")? else {
        return refuse(ErrorCode::InvalidClaims, "the token has no exp claim");
    };
    if now_s > exp + policy.leeway_s {
        return refuse(ErrorCode::TokenExpired, "the token has expired");
    }
    if let Some(nbf) = numeric_date(&registered.nbf, "nbf")? {
        if now_s + policy.leeway_s < nbf {
            return refuse(ErrorCode::TokenNotYetValid, "the token is not valid yet (nbf)");
        }
    }
    if let Some(iat) = numeric_date(&registered.iat, "iat")? {
        if now_s + policy.leeway_s < iat {
            return refuse(ErrorCode::TokenNotYetValid, "the token was issued in the future (iat)");
        }
    }
    match &registered.iss {
        Some(Value::String(iss)) if *iss == policy.issuer => {}
        _ => return refuse(ErrorCode::InvalidIssuer, "the token's issuer is not the expected one"),
    }
    check_audience(&registered.aud, &policy.audiences)?;
    let map: Map<String, Value> = serde_json::from_slice(&bytes)
        .or_else(|_| refuse(ErrorCode::MalformedToken, "the token payload is not valid JSON claims"))?;
    Ok(Claims { map, exp })
}

fn check_audience(aud: &Option<Value>, accepted: &[String]) -> AuthResult<()> {
    let matches = |value: &Value| matches!(value, Value::String(a) if accepted.iter().any(|x| x == a));
    let ok = match aud {
        Some(Value::String(_)) => matches(aud.as_ref().unwrap()),
        Some(Value::Array(items)) => {
            items.iter().all(Value::is_string) && items.iter().any(matches)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        refuse(ErrorCode::InvalidAudience, "the token's audience is not accepted")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn policy() -> ClaimsPolicy {
        ClaimsPolicy { issuer: "https://issuer".into(), audiences: vec!["api".into()], leeway_s: 30.0 }
    }

    fn code(claims: &str) -> Option<ErrorCode> {
        check(&URL_SAFE_NO_PAD.encode(claims), &policy(), 1000.0).err().map(|e| e.code)
    }

    #[test]
    fn registered_claims() {
        let ok = r#"{"iss":"https://issuer","aud":"api","exp":1100}"#;
        assert_eq!(code(ok), None);
        assert_eq!(code(r#"{"iss":"https://issuer","aud":["x","api"],"exp":1100}"#), None);
        assert_eq!(code(r#"{"iss":"https://issuer","aud":"api","exp":"1100"}"#), Some(ErrorCode::InvalidClaims));
        assert_eq!(code(r#"{"iss":"https://issuer","aud":"api"}"#), Some(ErrorCode::InvalidClaims));
        assert_eq!(code(r#"{"iss":"https://issuer","aud":"api","exp":980}"#), None); // within the leeway
        assert_eq!(code(r#"{"iss":"https://issuer","aud":"api","exp":960,"exp":1100}"#), Some(ErrorCode::MalformedToken));
        assert_eq!(code(r#"{"iss":"https://issuer","aud":"api","exp":900}"#), Some(ErrorCode::TokenExpired));
        assert_eq!(code(r#"{"iss":"https://issuer","aud":"api","exp":1100,"nbf":1100}"#), Some(ErrorCode::TokenNotYetValid));
        assert_eq!(code(r#"{"iss":"https://issuer/","aud":"api","exp":1100}"#), Some(ErrorCode::InvalidIssuer));
        assert_eq!(code(r#"{"iss":"https://issuer","aud":["x",1],"exp":1100}"#), Some(ErrorCode::InvalidAudience));
    }
}
