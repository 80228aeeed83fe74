//! The Python face of `AuthError`: `JwtError(code, message, kid)`, a `ValueError`.
//!
//! `fraiseql.auth` turns it into `fraiseql.auth.AuthError` at its one boundary.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

use super::errors::AuthError;

create_exception!(
    _fraiseql_rs,
    JwtError,
    PyValueError,
    "A token was refused. args: (code, message, kid or None)."
);

impl From<AuthError> for PyErr {
    fn from(error: AuthError) -> PyErr {
        JwtError::new_err((error.code.as_str(), error.message.into_owned(), error.kid))
    }
}
