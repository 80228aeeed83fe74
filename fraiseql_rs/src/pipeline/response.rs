//! Assembling the complete response body from root fields and errors.
//!
//! Pure Rust (no Python types), so it can run with the GIL released and be tested
//! and benchmarked without an interpreter.

use super::error::PipelineError;
use super::plan::Plan;
use super::project::{project_document, validate_document, Scratch};
use super::writer::write_json_string;

/// One row as handed over: its JSON text (UTF-8 bytes), SQL `NULL` (read as JSON
/// `null`), or a string that cannot be UTF-8 (a lone surrogate), never valid JSON.
pub enum Row<S> {
    Text(S),
    Null,
    NotUtf8,
}

pub enum Root<'a, S> {
    Rows { out_key: &'a str, plan: &'a Plan, rows: &'a [Row<S>], single: bool, nullable: bool },
    Raw { out_key: &'a str, json: &'a str },
}

impl<S> Root<'_, S> {
    fn out_key(&self) -> &str {
        match self {
            Root::Rows { out_key, .. } | Root::Raw { out_key, .. } => out_key,
        }
    }
}

/// Builds `{"data":...}` or `{"data":...,"errors":[...]}`.
///
/// `errors` are complete JSON error objects placed first; errors found here
/// (rows that are not valid JSON) follow them.
#[cfg_attr(not(test), allow(dead_code))] // the Rust tests and benches use it
pub fn build_response<S: AsRef<[u8]>>(roots: &[Root<'_, S>], errors: &[S]) -> Result<Vec<u8>, PipelineError> {
    let mut out = Vec::new();
    build_response_into(roots, errors, &mut out)?;
    Ok(out)
}

/// `build_response` writing into `out` (cleared first), so a caller can reuse one
/// buffer across requests and skip the page faults of a fresh large allocation.
pub fn build_response_into<S: AsRef<[u8]>>(
    roots: &[Root<'_, S>],
    errors: &[S],
    out: &mut Vec<u8>,
) -> Result<(), PipelineError> {
    check_inputs(roots, errors)?;
    out.clear();
    out.reserve(estimated_size(roots, errors));
    let mut scratch = Scratch::default();
    let mut row_errors: Vec<Vec<u8>> = Vec::new();
    let mut data_is_null = false;
    out.extend_from_slice(b"{\"data\":");
    let data_start = out.len();
    out.push(b'{');
    for (index, root) in roots.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_json_string(out, root.out_key());
        out.push(b':');
        match root {
            Root::Raw { json, .. } => out.extend_from_slice(json.as_bytes()),
            Root::Rows { out_key, plan, rows, single, nullable } => {
                let value_start = out.len();
                if let Err(row_index) = write_rows(out, plan, rows, *single, &mut scratch) {
                    out.truncate(value_start);
                    out.extend_from_slice(b"null");
                    row_errors.push(invalid_row_error(out_key, row_index));
                    data_is_null |= !nullable;
                }
            }
        }
    }
    out.push(b'}');
    if data_is_null {
        out.truncate(data_start);
        out.extend_from_slice(b"null");
    }
    if !errors.is_empty() || !row_errors.is_empty() {
        out.extend_from_slice(b",\"errors\":[");
        let all = errors.iter().map(|e| e.as_ref()).chain(row_errors.iter().map(Vec::as_slice));
        for (index, error) in all.enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(error);
        }
        out.push(b']');
    }
    out.push(b'}');
    Ok(())
}

/// Writes a root's value; on a row that is not valid JSON returns that row's index.
fn write_rows<S: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    plan: &Plan,
    rows: &[Row<S>],
    single: bool,
    scratch: &mut Scratch,
) -> Result<(), usize> {
    if single {
        return match rows.first() {
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
            Some(row) => write_row(out, plan, row, scratch).map_err(|()| 0),
        };
    }
    out.push(b'[');
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_row(out, plan, row, scratch).map_err(|()| index)?;
    }
    out.push(b']');
    Ok(())
}

fn write_row<S: AsRef<[u8]>>(out: &mut Vec<u8>, plan: &Plan, row: &Row<S>, scratch: &mut Scratch) -> Result<(), ()> {
    match row {
        Row::Text(text) => project_document(text.as_ref(), plan, out, scratch).map_err(|_| ()),
        Row::Null => {
            out.extend_from_slice(b"null");
            Ok(())
        }
        Row::NotUtf8 => Err(()),
    }
}

/// The GraphQL error for a row that is not valid JSON (same text as the reference).
fn invalid_row_error(out_key: &str, row_index: usize) -> Vec<u8> {
    let mut error = Vec::with_capacity(128);
    error.extend_from_slice(b"{\"message\":");
    let message = format!("The database returned invalid JSON for field '{out_key}' (row {row_index}).");
    write_json_string(&mut error, &message);
    error.extend_from_slice(b",\"path\":[");
    write_json_string(&mut error, out_key);
    error.extend_from_slice(b"],\"extensions\":{\"code\":\"INVALID_DB_JSON\"}}");
    error
}

/// Rejects inputs that would make the body invalid: duplicate root keys, raw values
/// or error objects that are not valid JSON.
fn check_inputs<S: AsRef<[u8]>>(roots: &[Root<'_, S>], errors: &[S]) -> Result<(), PipelineError> {
    for (index, root) in roots.iter().enumerate() {
        let out_key = root.out_key();
        if roots.iter().take(index).any(|earlier| earlier.out_key() == out_key) {
            return Err(PipelineError::InvalidRoots(format!("duplicate root key {out_key:?}")));
        }
        if let Root::Raw { json, .. } = root {
            if validate_document(json.as_bytes()).is_err() {
                return Err(PipelineError::InvalidRawJson { out_key: out_key.to_owned() });
            }
        }
    }
    for (index, error) in errors.iter().enumerate() {
        let text = error.as_ref();
        let first = text.iter().find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
        if validate_document(text).is_err() || first != Some(&b'{') {
            return Err(PipelineError::InvalidErrorJson { index });
        }
    }
    Ok(())
}

fn estimated_size<S: AsRef<[u8]>>(roots: &[Root<'_, S>], errors: &[S]) -> usize {
    let rows: usize = roots
        .iter()
        .map(|root| match root {
            Root::Raw { json, .. } => json.len(),
            Root::Rows { rows, .. } => rows
                .iter()
                .map(|row| match row {
                    Row::Text(text) => text.as_ref().len(),
                    _ => 4,
                })
                .sum(),
        })
        .sum();
    let errors: usize = errors.iter().map(|e| e.as_ref().len() + 1).sum();
    rows + errors + 64 * (roots.len() + 1)
}
