//! FraiseQL's native core. This file is a table of contents: modules and the
//! Python module's export list, nothing else.

mod auth;
mod pipeline;

use pyo3::prelude::*;

/// The private extension module `fraiseql._fraiseql_rs`.
#[pymodule]
fn _fraiseql_rs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    pipeline::register(m)?;
    auth::register(m)?;
    Ok(())
}
