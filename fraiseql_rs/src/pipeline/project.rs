//! Projecting one JSON document through a plan, straight from text to text.
//!
//! For an object, one pass over its members records where each wanted value lies
//! (the last occurrence wins, as in Python's `json`), validating everything it
//! passes; then the plan's entries are written in plan order. Objects are projected
//! by their sub-plan, arrays element-wise, anything else is copied verbatim.

use super::plan::{EntryValue, Plan};
use super::scanner::{Cursor, JsonErrorKind, Key, ScanResult, MAX_DEPTH};

/// Byte range of a value inside the document.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// Buffers reused across every object of a response, so projecting allocates nothing
/// once they have grown.
#[derive(Default)]
pub struct Scratch {
    /// Slot spans of the objects being projected, a stack of per-object windows.
    spans: Vec<Option<Span>>,
    /// Decoded form of the last key that held escapes.
    key: String,
}

/// Projects a whole document (a row): one value and nothing but whitespace after it.
/// `text` must be UTF-8 (scalars are copied as they are).
pub fn project_document(text: &[u8], plan: &Plan, out: &mut Vec<u8>, scratch: &mut Scratch) -> ScanResult<()> {
    let mut cursor = Cursor::new(text, 0);
    project_value(&mut cursor, plan, 0, out, scratch)?;
    cursor.expect_end()
}

/// Checks that `text` is one complete JSON value.
pub fn validate_document(text: &[u8]) -> ScanResult<()> {
    let mut cursor = Cursor::new(text, 0);
    cursor.skip_value(0)?;
    cursor.expect_end()
}

fn project_value(
    cursor: &mut Cursor<'_>,
    plan: &Plan,
    enclosing: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> ScanResult<()> {
    cursor.skip_whitespace();
    match cursor.peek() {
        Some(b'{') => project_object(cursor, plan, enclosing, out, scratch),
        Some(b'[') => project_array(cursor, plan, enclosing, out, scratch),
        _ => {
            let start = cursor.pos();
            cursor.skip_value(enclosing)?;
            copy(cursor, Span { start, end: cursor.pos() }, out)
        }
    }
}

fn project_array(
    cursor: &mut Cursor<'_>,
    plan: &Plan,
    enclosing: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> ScanResult<()> {
    if enclosing >= MAX_DEPTH {
        return Err(cursor.error(JsonErrorKind::TooDeep));
    }
    cursor.expect(b'[')?;
    out.push(b'[');
    if !cursor.eat(b']') {
        loop {
            project_value(cursor, plan, enclosing + 1, out, scratch)?;
            if cursor.eat(b']') {
                break;
            }
            cursor.expect(b',')?;
            out.push(b',');
        }
    }
    out.push(b']');
    Ok(())
}

fn project_object(
    cursor: &mut Cursor<'_>,
    plan: &Plan,
    enclosing: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> ScanResult<()> {
    if enclosing >= MAX_DEPTH {
        return Err(cursor.error(JsonErrorKind::TooDeep));
    }
    let base = scratch.spans.len();
    scratch.spans.resize(base + plan.slot_count, None);
    let scanned = record_members(cursor, plan, enclosing + 1, scratch, base);
    let written = scanned.and_then(|()| write_entries(cursor, plan, enclosing + 1, out, scratch, base));
    scratch.spans.truncate(base);
    written
}

/// Walks the members of the object at the cursor, noting the span of each wanted key.
fn record_members(
    cursor: &mut Cursor<'_>,
    plan: &Plan,
    depth: usize,
    scratch: &mut Scratch,
    base: usize,
) -> ScanResult<()> {
    cursor.expect(b'{')?;
    if cursor.eat(b'}') {
        return Ok(());
    }
    loop {
        cursor.skip_whitespace();
        if cursor.peek() != Some(b'"') {
            return Err(cursor.error(JsonErrorKind::UnexpectedByte));
        }
        let slot = match cursor.read_key(&mut scratch.key)? {
            Key::Raw(raw) => plan.keys.find(raw),
            Key::Decoded => plan.keys.find(scratch.key.as_bytes()),
            Key::Unmatchable => None,
        };
        cursor.expect(b':')?;
        cursor.skip_whitespace();
        let start = cursor.pos();
        cursor.skip_value(depth)?;
        if let Some(slot) = slot {
            if let Some(span) = scratch.spans.get_mut(base + slot) {
                *span = Some(Span { start, end: cursor.pos() });
            }
        }
        if cursor.eat(b'}') {
            return Ok(());
        }
        cursor.expect(b',')?;
    }
}

fn write_entries(
    cursor: &Cursor<'_>,
    plan: &Plan,
    depth: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
    base: usize,
) -> ScanResult<()> {
    out.push(b'{');
    for entry in &plan.entries {
        out.extend_from_slice(&entry.prefix);
        match &entry.value {
            EntryValue::Constant(text) => out.extend_from_slice(text),
            EntryValue::Field { slot, sub } => match scratch.spans.get(base + slot).copied().flatten() {
                None => out.extend_from_slice(b"null"),
                Some(span) => match sub {
                    None => copy(cursor, span, out)?,
                    Some(sub) => {
                        let mut value = Cursor::new(cursor.bytes(), span.start);
                        project_value(&mut value, sub, depth, out, scratch)?;
                    }
                },
            },
        }
    }
    out.push(b'}');
    Ok(())
}

#[inline(always)]
fn copy(cursor: &Cursor<'_>, span: Span, out: &mut Vec<u8>) -> ScanResult<()> {
    match cursor.bytes().get(span.start..span.end) {
        Some(text) => {
            out.extend_from_slice(text);
            Ok(())
        }
        None => Err(cursor.error(JsonErrorKind::UnexpectedEnd)),
    }
}
