//! Response pipeline: rows (JSON text) + selection plan -> response bytes.
//!
//! Table of contents:
//! - `scanner`: validating JSON scanner over borrowed bytes (no values built)
//! - `plan`: the compiled selection plan
//! - `project`: one document through a plan, text to text
//! - `response`: the whole `{"data":...,"errors":[...]}` body
//! - `writer`: JSON strings the pipeline writes itself
//! - `error`: `PipelineError`, the typed errors of this module
//! - `python`: the Python boundary (the only place that sees Python objects)
//!
//! No input may make this module panic: indexing goes through `get`, and clippy
//! holds the code to that outside tests.
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
mod plan;
mod project;
mod python;
mod response;
mod scanner;
mod writer;

#[cfg(test)]
mod tests;

pub use python::register;

// The Rust-level API, for the Rust tests and `benches/pipeline.rs` (which mounts this
// folder as a module, since the crate root keeps `pipeline` private).
#[allow(unused_imports)]
pub use {
    plan::{Plan, SpecEntry},
    response::{build_response, build_response_into, Root, Row},
};
