//! Errors of the pipeline. Inside Rust they are a typed enum; they become the Python
//! exception `PipelineInputError` (a `ValueError` with a `code` attribute) only at
//! the boundary, in `python.rs`. Invalid JSON *rows* are not errors of this kind:
//! they become GraphQL errors inside the response (`INVALID_DB_JSON`).

use std::fmt;

/// A caller mistake: a malformed plan spec, malformed roots, or invalid JSON handed
/// over as already serialised (raw roots, error objects).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the variants name what was invalid
pub enum PipelineError {
    InvalidPlan(String),
    InvalidRoots(String),
    InvalidRawJson { out_key: String },
    InvalidErrorJson { index: usize },
}

impl PipelineError {
    pub fn code(&self) -> &'static str {
        match self {
            PipelineError::InvalidPlan(_) => "INVALID_PLAN",
            PipelineError::InvalidRoots(_) => "INVALID_ROOTS",
            PipelineError::InvalidRawJson { .. } => "INVALID_RAW_JSON",
            PipelineError::InvalidErrorJson { .. } => "INVALID_ERROR_JSON",
        }
    }
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::InvalidPlan(reason) => write!(f, "invalid plan spec: {reason}"),
            PipelineError::InvalidRoots(reason) => write!(f, "invalid roots: {reason}"),
            PipelineError::InvalidRawJson { out_key } => {
                write!(f, "raw root {out_key:?} is not valid JSON")
            }
            PipelineError::InvalidErrorJson { index } => {
                write!(f, "error {index} is not a valid JSON object")
            }
        }
    }
}
