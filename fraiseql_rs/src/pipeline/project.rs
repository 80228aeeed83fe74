//! Projecting one JSON document through a plan, straight from text to text.
//!
//! For an object, one pass over its members records where each wanted value lies
//! (the last occurrence wins, as in Python's `json`), validating everything it
//! passes; then the plan's entries are written in plan order. Objects are projected
//! by their sub-plan, arrays element-wise, anything else is copied verbatim.
//!
//! A member with a sub-plan is projected during that pass, into a side buffer of
//! its nesting level, and copied into place afterwards: its text is walked once
//! (copying is much cheaper than scanning again). Only a slot read by several
//! entries (aliases) is scanned again per entry.

use std::mem;

use super::plan::{EntryValue, Plan};
use super::scanner::{Cursor, JsonErrorKind, Key, ScanResult, MAX_DEPTH};

/// Byte range of a value.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// What an object's pass found for one slot of the plan.
#[derive(Clone, Copy)]
enum Found {
    Missing,
    /// Text in the document, to copy or project when written.
    Text(Span),
    /// Already projected, in the side buffer of the object's level.
    Projected(Span),
}

/// Buffers reused across every object of a response, so projecting allocates nothing
/// once they have grown.
#[derive(Default)]
pub struct Scratch {
    /// Per-slot findings of the objects being projected, a stack of windows.
    found: Vec<Found>,
    /// Eagerly projected members, one buffer per object nesting level.
    sides: Vec<Vec<u8>>,
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
    let base = scratch.found.len();
    scratch.found.resize(base + plan.slot_count, Found::Missing);
    if scratch.sides.len() <= enclosing {
        scratch.sides.resize_with(enclosing + 1, Vec::new);
    }
    let side_base = scratch.sides.get(enclosing).map_or(0, Vec::len);
    let scanned = record_members(cursor, plan, enclosing, scratch, base);
    let written = scanned.and_then(|()| write_entries(cursor, plan, enclosing, out, scratch, base));
    scratch.found.truncate(base);
    if let Some(side) = scratch.sides.get_mut(enclosing) {
        side.truncate(side_base);
    }
    written
}

/// Walks the members of the object at the cursor (nested in `enclosing` containers),
/// noting where each wanted value is and projecting the eager ones.
fn record_members(
    cursor: &mut Cursor<'_>,
    plan: &Plan,
    enclosing: usize,
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
        let found = match slot.and_then(|slot| eager_sub_plan(plan, slot)) {
            Some(sub) => project_to_side(cursor, sub, enclosing, scratch)?,
            None => {
                let start = cursor.pos();
                cursor.skip_value(enclosing + 1)?;
                Found::Text(Span { start, end: cursor.pos() })
            }
        };
        if let Some(entry) = slot.and_then(|slot| scratch.found.get_mut(base + slot)) {
            *entry = found;
        }
        if cursor.eat(b'}') {
            return Ok(());
        }
        cursor.expect(b',')?;
    }
}

fn eager_sub_plan(plan: &Plan, slot: usize) -> Option<&Plan> {
    let entry = plan.eager.get(slot).copied().flatten()?;
    match &plan.entries.get(entry)?.value {
        EntryValue::Field { sub, .. } => sub.as_ref(),
        EntryValue::Constant(_) => None,
    }
}

/// Projects the member value at the cursor into the side buffer of level `enclosing`.
fn project_to_side(cursor: &mut Cursor<'_>, sub: &Plan, enclosing: usize, scratch: &mut Scratch) -> ScanResult<Found> {
    // Taken out while nested levels use the scratch, put back whatever happens.
    let mut side = scratch.sides.get_mut(enclosing).map(mem::take).unwrap_or_default();
    let start = side.len();
    let projected = project_value(cursor, sub, enclosing + 1, &mut side, scratch);
    let end = side.len();
    if let Some(slot) = scratch.sides.get_mut(enclosing) {
        *slot = side;
    }
    projected.map(|()| Found::Projected(Span { start, end }))
}

fn write_entries(
    cursor: &Cursor<'_>,
    plan: &Plan,
    enclosing: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
    base: usize,
) -> ScanResult<()> {
    out.push(b'{');
    for entry in &plan.entries {
        out.extend_from_slice(&entry.prefix);
        let EntryValue::Field { slot, sub } = &entry.value else {
            if let EntryValue::Constant(text) = &entry.value {
                out.extend_from_slice(text);
            }
            continue;
        };
        match scratch.found.get(base + slot).copied().unwrap_or(Found::Missing) {
            Found::Missing => out.extend_from_slice(b"null"),
            Found::Projected(span) => {
                let side = scratch.sides.get(enclosing).and_then(|side| side.get(span.start..span.end));
                out.extend_from_slice(side.ok_or_else(|| cursor.error(JsonErrorKind::UnexpectedEnd))?);
            }
            Found::Text(span) => match sub {
                None => copy(cursor, span, out)?,
                Some(sub) => {
                    let mut value = Cursor::new(cursor.bytes(), span.start);
                    project_value(&mut value, sub, enclosing + 1, out, scratch)?;
                }
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
