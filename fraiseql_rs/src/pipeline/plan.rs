//! The compiled selection plan: what to read from a document and how to write it.
//!
//! A plan is built once from a spec (see `docs/architecture.md`, "Pipeline") and is
//! immutable afterwards. Output keys are pre-rendered as JSON text together with the
//! separator before them, so writing an entry is one copy.

use std::collections::HashMap;

use super::error::PipelineError;
use super::scanner::MAX_DEPTH;
use super::writer::write_json_string;

/// Above this many distinct source keys a hash map beats a linear scan.
const LINEAR_LOOKUP_MAX: usize = 12;

/// One entry of a plan spec, as handed over by the Python boundary.
pub enum SpecEntry {
    Field { out_key: String, source_key: String, sub: Option<Vec<SpecEntry>> },
    Typename { out_key: String, type_name: String },
}

/// What one output key is filled from.
pub enum EntryValue {
    /// Fixed JSON text (the quoted type name of `__typename`).
    Constant(Box<[u8]>),
    /// The document value under the source key in `slot`, projected by `sub` if any.
    Field { slot: usize, sub: Option<Plan> },
}

pub struct Entry {
    /// `"outKey":`, preceded by `,` for every entry but the first.
    pub prefix: Box<[u8]>,
    pub value: EntryValue,
}

/// Finds the slot of a document key among the plan's distinct source keys.
pub enum KeyIndex {
    Linear(Vec<Box<[u8]>>),
    Hashed(HashMap<Box<[u8]>, usize>),
}

impl KeyIndex {
    #[inline(always)]
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        match self {
            KeyIndex::Linear(keys) => keys.iter().position(|candidate| **candidate == *key),
            KeyIndex::Hashed(map) => map.get(key).copied(),
        }
    }
}

/// A compiled plan for one object level.
pub struct Plan {
    pub entries: Vec<Entry>,
    pub keys: KeyIndex,
    pub slot_count: usize,
    /// Per slot: the sub-plan of the one entry reading it, when that entry has one
    /// and no other entry (an alias) reads the same slot. Such values are projected
    /// while the object is scanned, so their text is walked once, not twice.
    pub eager: Vec<Option<usize>>,
}

impl Plan {
    /// Compiles a spec; fails on duplicate output keys or nesting deeper than documents may be.
    pub fn compile(spec: &[SpecEntry]) -> Result<Plan, PipelineError> {
        Self::compile_level(spec, 1)
    }

    fn compile_level(spec: &[SpecEntry], depth: usize) -> Result<Plan, PipelineError> {
        if depth > MAX_DEPTH {
            return Err(PipelineError::InvalidPlan(format!("plan nests deeper than {MAX_DEPTH} levels")));
        }
        let mut source_keys: Vec<Box<[u8]>> = Vec::new();
        let mut out_keys: Vec<&str> = Vec::with_capacity(spec.len());
        let mut entries = Vec::with_capacity(spec.len());
        for entry in spec {
            let (out_key, value) = match entry {
                SpecEntry::Typename { out_key, type_name } => {
                    let mut text = Vec::with_capacity(type_name.len() + 2);
                    write_json_string(&mut text, type_name);
                    (out_key, EntryValue::Constant(text.into_boxed_slice()))
                }
                SpecEntry::Field { out_key, source_key, sub } => {
                    let slot = match source_keys.iter().position(|k| **k == *source_key.as_bytes()) {
                        Some(slot) => slot,
                        None => {
                            source_keys.push(source_key.as_bytes().into());
                            source_keys.len() - 1
                        }
                    };
                    let sub = match sub {
                        Some(sub_spec) => Some(Self::compile_level(sub_spec, depth + 1)?),
                        None => None,
                    };
                    (out_key, EntryValue::Field { slot, sub })
                }
            };
            if out_keys.contains(&out_key.as_str()) {
                return Err(PipelineError::InvalidPlan(format!("duplicate output key {out_key:?}")));
            }
            out_keys.push(out_key);
            let mut prefix = Vec::with_capacity(out_key.len() + 4);
            if !entries.is_empty() {
                prefix.push(b',');
            }
            write_json_string(&mut prefix, out_key);
            prefix.push(b':');
            entries.push(Entry { prefix: prefix.into_boxed_slice(), value });
        }
        let slot_count = source_keys.len();
        let mut eager: Vec<Option<usize>> = vec![None; slot_count];
        let mut readers = vec![0usize; slot_count];
        for (index, entry) in entries.iter().enumerate() {
            if let EntryValue::Field { slot, sub } = &entry.value {
                if let (Some(readers), Some(eager)) = (readers.get_mut(*slot), eager.get_mut(*slot)) {
                    *readers += 1;
                    *eager = if *readers == 1 && sub.is_some() { Some(index) } else { None };
                }
            }
        }
        let keys = if slot_count <= LINEAR_LOOKUP_MAX {
            KeyIndex::Linear(source_keys)
        } else {
            KeyIndex::Hashed(source_keys.into_iter().enumerate().map(|(slot, key)| (key, slot)).collect())
        };
        Ok(Plan { entries, keys, slot_count, eager })
    }
}
