//! The Python boundary: `compile_plan`, `Plan`, `build_response`, `PipelineInputError`.
//!
//! Python objects are read here and only here; the work itself runs on borrowed
//! UTF-8 text with the GIL released once the input is large enough to be worth it.

use std::cell::RefCell;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use super::error::PipelineError;
use super::plan::{Plan as CompiledPlan, SpecEntry};
use super::response::{self, Root, Row};
use super::scanner::MAX_DEPTH;

/// The GIL is released only for at least this much input (about 15 v_post rows,
/// ~30 us of work). Releasing itself measured ~0.05 us, but re-taking it while other
/// threads run Python can wait a whole switch interval (5 ms), a bad trade for a
/// build of a few microseconds; larger builds let those threads run meanwhile.
const DETACH_MIN_BYTES: usize = 64 * 1024;

/// Each thread keeps its output buffer between calls (up to this size): a fresh
/// large allocation costs more in page faults than building the response does.
const KEPT_OUTPUT_MAX_BYTES: usize = 8 << 20;

thread_local! {
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

pyo3::create_exception!(
    fraiseql._fraiseql_rs,
    PipelineInputError,
    PyValueError,
    "A malformed plan spec or roots argument; `code` says which (INVALID_PLAN, INVALID_ROOTS, INVALID_RAW_JSON, INVALID_ERROR_JSON)."
);

fn to_py_err(py: Python<'_>, error: PipelineError) -> PyErr {
    let exception = PipelineInputError::new_err(error.to_string());
    if let Err(setattr_error) = exception.value(py).setattr("code", error.code()) {
        return setattr_error;
    }
    exception
}

/// A compiled selection plan: opaque, immutable, shareable across threads.
#[pyclass(frozen, module = "fraiseql._fraiseql_rs", name = "Plan")]
pub struct Plan {
    inner: Arc<CompiledPlan>,
}

#[pymethods]
impl Plan {
    fn __repr__(&self) -> String {
        format!("<Plan with {} entries>", self.inner.entries.len())
    }
}

/// Compiles a plan spec (see docs/architecture.md, "Pipeline") into a `Plan`.
#[pyfunction]
fn compile_plan(py: Python<'_>, spec: &Bound<'_, PyAny>) -> PyResult<Plan> {
    let entries = read_spec(spec, 1).map_err(|e| to_py_err(py, e))?;
    let compiled = CompiledPlan::compile(&entries).map_err(|e| to_py_err(py, e))?;
    Ok(Plan { inner: Arc::new(compiled) })
}

fn invalid_plan(reason: impl Into<String>) -> PipelineError {
    PipelineError::InvalidPlan(reason.into())
}

fn read_str(item: &Bound<'_, PyAny>, what: &str) -> Result<String, PipelineError> {
    let text = item.cast::<PyString>().map_err(|_| invalid_plan(format!("{what} must be a str")))?;
    text.to_str().map(str::to_owned).map_err(|_| invalid_plan(format!("{what} is not valid UTF-8")))
}

fn sequence_items<'py>(value: &Bound<'py, PyAny>) -> Option<Vec<Bound<'py, PyAny>>> {
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return Some(tuple.iter().collect());
    }
    value.cast::<PyList>().ok().map(|list| list.iter().collect())
}

fn read_spec(spec: &Bound<'_, PyAny>, depth: usize) -> Result<Vec<SpecEntry>, PipelineError> {
    if depth > MAX_DEPTH {
        return Err(invalid_plan(format!("plan nests deeper than {MAX_DEPTH} levels")));
    }
    let items = sequence_items(spec).ok_or_else(|| invalid_plan("a spec must be a list or tuple of entries"))?;
    items.iter().map(|entry| read_entry(entry, depth)).collect()
}

fn read_entry(entry: &Bound<'_, PyAny>, depth: usize) -> Result<SpecEntry, PipelineError> {
    let parts = sequence_items(entry).ok_or_else(|| invalid_plan("a spec entry must be a tuple"))?;
    let tag = parts.first().map(|tag| read_str(tag, "entry tag")).transpose()?;
    match (tag.as_deref(), parts.as_slice()) {
        (Some("field"), [_, out_key, source_key, sub]) => Ok(SpecEntry::Field {
            out_key: read_str(out_key, "out_key")?,
            source_key: read_str(source_key, "source_key")?,
            sub: if sub.is_none() { None } else { Some(read_spec(sub, depth + 1)?) },
        }),
        (Some("typename"), [_, out_key, type_name]) => Ok(SpecEntry::Typename {
            out_key: read_str(out_key, "out_key")?,
            type_name: read_str(type_name, "type_name")?,
        }),
        _ => Err(invalid_plan(
            "entries are (\"field\", out_key, source_key, sub_spec | None) or (\"typename\", out_key, type_name)",
        )),
    }
}

/// A root read from Python, owning references to its text so it can cross `detach`.
enum OwnedRoot {
    Rows { out_key: PyBackedStr, plan: Arc<CompiledPlan>, rows: Vec<Row<RowText>>, single: bool, nullable: bool },
    Raw { out_key: PyBackedStr, json: PyBackedStr },
}

fn invalid_roots(reason: impl Into<String>) -> PipelineError {
    PipelineError::InvalidRoots(reason.into())
}

fn read_text(item: &Bound<'_, PyAny>, what: &str) -> Result<PyBackedStr, PipelineError> {
    item.extract::<PyBackedStr>().map_err(|_| invalid_roots(format!("{what} must be a str encodable as UTF-8")))
}

/// A row's text, borrowed from its Python object: a str's UTF-8 form (CPython's
/// own encoder, measured faster than transcoding here), or UTF-8 checked bytes.
enum RowText {
    Str(PyBackedStr),
    Bytes(PyBackedBytes),
}

impl AsRef<[u8]> for RowText {
    fn as_ref(&self) -> &[u8] {
        match self {
            RowText::Str(text) => text.as_bytes(),
            RowText::Bytes(bytes) => bytes,
        }
    }
}

fn read_row(item: &Bound<'_, PyAny>) -> Result<Row<RowText>, PipelineError> {
    if item.is_none() {
        return Ok(Row::Null);
    }
    if let Ok(text) = item.cast::<PyString>() {
        return Ok(match PyBackedStr::try_from(text.clone()) {
            Ok(text) => Row::Text(RowText::Str(text)),
            Err(_) => Row::NotUtf8,
        });
    }
    if let Ok(bytes) = item.cast::<PyBytes>() {
        let bytes = PyBackedBytes::from(bytes.clone());
        return Ok(if simdutf8::basic::from_utf8(&bytes).is_ok() { Row::Text(RowText::Bytes(bytes)) } else { Row::NotUtf8 });
    }
    Err(invalid_roots("rows must be str, bytes or None"))
}

fn read_root(root: &Bound<'_, PyAny>) -> Result<OwnedRoot, PipelineError> {
    let parts = sequence_items(root).ok_or_else(|| invalid_roots("a root must be a tuple"))?;
    let tag = parts.first().and_then(|tag| tag.cast::<PyString>().ok()).and_then(|tag| tag.to_str().ok().map(str::to_owned));
    match (tag.as_deref(), parts.as_slice()) {
        (Some("rows"), [_, out_key, plan, rows, single, nullable]) => {
            let plan = plan.cast::<Plan>().map_err(|_| invalid_roots("the plan must come from compile_plan"))?;
            let single = single.is_truthy().map_err(|_| invalid_roots("single must be a bool"))?;
            let nullable = nullable.is_truthy().map_err(|_| invalid_roots("nullable must be a bool"))?;
            let rows = sequence_items(rows).ok_or_else(|| invalid_roots("rows must be a list"))?;
            // A single root reads only its first row, so only that one is converted.
            let wanted = if single { rows.len().min(1) } else { rows.len() };
            Ok(OwnedRoot::Rows {
                out_key: read_text(out_key, "out_key")?,
                plan: Arc::clone(&plan.get().inner),
                rows: rows.iter().take(wanted).map(read_row).collect::<Result<_, _>>()?,
                single,
                nullable,
            })
        }
        (Some("raw"), [_, out_key, json]) => {
            let out_key = read_text(out_key, "out_key")?;
            let json = read_raw_json(json, &out_key)?;
            Ok(OwnedRoot::Raw { out_key, json })
        }
        _ => Err(invalid_roots(
            "roots are (\"rows\", out_key, plan, rows, single, nullable) or (\"raw\", out_key, json_text)",
        )),
    }
}

fn read_raw_json(json: &Bound<'_, PyAny>, out_key: &str) -> Result<PyBackedStr, PipelineError> {
    json.extract::<PyBackedStr>().map_err(|_| PipelineError::InvalidRawJson { out_key: out_key.to_owned() })
}

fn run(roots: &[OwnedRoot], errors: &[RowText], out: &mut Vec<u8>) -> Result<(), PipelineError> {
    let borrowed: Vec<Root<'_, RowText>> = roots
        .iter()
        .map(|root| match root {
            OwnedRoot::Rows { out_key, plan, rows, single, nullable } => {
                Root::Rows { out_key, plan, rows, single: *single, nullable: *nullable }
            }
            OwnedRoot::Raw { out_key, json } => Root::Raw { out_key, json },
        })
        .collect();
    response::build_response_into(&borrowed, errors, out)
}

fn input_bytes(roots: &[OwnedRoot]) -> usize {
    roots
        .iter()
        .map(|root| match root {
            OwnedRoot::Rows { rows, .. } => {
                rows.iter().map(|row| if let Row::Text(text) = row { text.as_ref().len() } else { 0 }).sum()
            }
            OwnedRoot::Raw { json, .. } => json.len(),
        })
        .sum()
}

/// Builds the complete response body (bytes) from root fields and error objects.
#[pyfunction]
#[pyo3(signature = (roots, errors = None))]
fn build_response<'py>(
    py: Python<'py>,
    roots: &Bound<'py, PyAny>,
    errors: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let read = || -> Result<(Vec<OwnedRoot>, Vec<RowText>), PipelineError> {
        let roots = sequence_items(roots).ok_or_else(|| invalid_roots("roots must be a list"))?;
        let roots = roots.iter().map(read_root).collect::<Result<Vec<_>, _>>()?;
        let errors = match errors {
            None => Vec::new(),
            Some(errors) => sequence_items(errors)
                .ok_or_else(|| invalid_roots("errors must be a list of str"))?
                .iter()
                .enumerate()
                .map(|(index, e)| {
                    e.extract::<PyBackedStr>()
                        .map(RowText::Str)
                        .map_err(|_| PipelineError::InvalidErrorJson { index })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok((roots, errors))
    };
    let (owned_roots, owned_errors) = read().map_err(|e| to_py_err(py, e))?;
    let detach = input_bytes(&owned_roots) >= DETACH_MIN_BYTES;
    OUTPUT.with(|buffer| {
        let mut fresh = Vec::new();
        let mut kept = buffer.try_borrow_mut();
        let out = match kept.as_deref_mut() {
            Ok(out) => out,
            Err(_) => &mut fresh,
        };
        let built = if detach {
            py.detach(|| run(&owned_roots, &owned_errors, &mut *out))
        } else {
            run(&owned_roots, &owned_errors, &mut *out)
        };
        let body = built.map(|()| PyBytes::new(py, out));
        if out.capacity() > KEPT_OUTPUT_MAX_BYTES {
            *out = Vec::new();
        }
        body.map_err(|e| to_py_err(py, e))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Plan>()?;
    m.add_function(wrap_pyfunction!(compile_plan, m)?)?;
    m.add_function(wrap_pyfunction!(build_response, m)?)?;
    m.add("PipelineInputError", m.py().get_type::<PipelineInputError>())?;
    Ok(())
}
