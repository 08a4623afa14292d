//! The page's effective-access data: each distinct entry once, as a small tuple of indexes into
//! one string table (the same principals and paths repeat across thousands of keys), and each
//! key as the positions of its entries, up to a budget, so the page of a 100,000-key scan stays
//! small. `kms-audit access KEY` and the JSON report have every entry.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::model::Report;
use crate::model::access::{AccessEntry, Certainty};

/// Entry positions embedded in one page (about 6 bytes each).
const ENTRY_BUDGET: usize = 1_000_000;
/// Distinct entries embedded in one page (about 30 bytes each).
const ROW_BUDGET: usize = 100_000;

/// `{"strings": [...], "reasons": [[string index, ...] (parts joined by "; "), ...], "rows":
/// [[class, principal, path, actions, certainty, reason], ...], "keys": [per inventory key: null
/// (not embedded) or [row, ...]], "unknown": [per key: [string index, ...]], "omitted": N,
/// "not_evaluated": [...]}`. `class` is 0 use, 1 administer, 2 delegate; `certainty` 1 for yes
/// and 0 for may; `reason` indexes `reasons`, -1 for yes.
pub struct AccessData<'a> {
    report: &'a Report,
    strings: Vec<Cow<'a, str>>,
    reasons: Vec<Vec<i64>>,
    /// Every distinct row once.
    table: Vec<[i64; 6]>,
    /// Per inventory key: its rows' positions in `table`, or `None` when not embedded.
    rows: Vec<Option<Vec<usize>>>,
    unknown: Vec<Vec<i64>>,
    omitted: usize,
}

/// The string table: each text once, borrowed from the report where it can be.
#[derive(Default)]
struct Interner<'a> {
    index: HashMap<Cow<'a, str>, i64>,
    list: Vec<Cow<'a, str>>,
    /// Each reason once, as its `; `-separated parts (strings): the parts (a statement's
    /// conditions, why the account's IAM was not read) repeat across thousands of reasons.
    reasons: Vec<Vec<i64>>,
    reason_index: HashMap<&'a str, i64>,
}

impl<'a> Interner<'a> {
    fn of(&mut self, text: Cow<'a, str>) -> i64 {
        if let Some(id) = self.index.get(&text) {
            return *id;
        }
        let id = self.list.len() as i64;
        self.index.insert(text.clone(), id);
        self.list.push(text);
        id
    }

    /// The position of `reason` in the reason table. Its parts joined with `; ` give it back.
    fn reason(&mut self, reason: &'a str) -> i64 {
        if let Some(id) = self.reason_index.get(reason) {
            return *id;
        }
        let parts = reason
            .split("; ")
            .map(|part| self.of(Cow::Borrowed(part)))
            .collect();
        let id = self.reasons.len() as i64;
        self.reasons.push(parts);
        self.reason_index.insert(reason, id);
        id
    }
}

impl<'a> AccessData<'a> {
    pub fn new(report: &'a Report) -> AccessData<'a> {
        let mut interner = Interner::default();
        let mut budget = ENTRY_BUDGET;
        let mut table: Vec<[i64; 6]> = Vec::new();
        let mut row_of: HashMap<*const AccessEntry, usize> = HashMap::new();
        let mut position: HashMap<[i64; 6], usize> = HashMap::new();
        let mut rows = Vec::new();
        let mut unknown = Vec::new();
        let mut omitted = 0;
        let keys = report
            .access
            .as_ref()
            .map_or(&[][..], |a| a.keys.as_slice());
        for (i, key) in report.inventory.keys.iter().enumerate() {
            // The analysis lists keys in inventory order; a report edited by hand may not.
            let access = keys
                .get(i)
                .filter(|a| a.key_arn == key.arn)
                .or_else(|| keys.iter().find(|a| a.key_arn == key.arn));
            let Some(access) = access else {
                rows.push(None);
                unknown.push(Vec::new());
                continue;
            };
            unknown.push(
                access
                    .unknown
                    .iter()
                    .map(|u| interner.of(Cow::Borrowed(u)))
                    .collect(),
            );
            let new_rows = access
                .entries
                .iter()
                .filter(|e| !row_of.contains_key(&e.address()))
                .count();
            if access.entries.len() > budget || table.len() + new_rows > ROW_BUDGET {
                budget = 0;
                omitted += 1;
                rows.push(None);
                continue;
            }
            budget -= access.entries.len();
            rows.push(Some(
                access
                    .entries
                    .iter()
                    .map(|e| {
                        let pointer = e.address();
                        *row_of.entry(pointer).or_insert_with(|| {
                            let tuple = row(e, &mut interner);
                            *position.entry(tuple).or_insert_with(|| {
                                table.push(tuple);
                                table.len() - 1
                            })
                        })
                    })
                    .collect(),
            ));
        }
        AccessData {
            report,
            strings: interner.list,
            reasons: interner.reasons,
            table,
            rows,
            unknown,
            omitted,
        }
    }
}

fn row<'a>(entry: &'a AccessEntry, interner: &mut Interner<'a>) -> [i64; 6] {
    let actions = if entry.actions.len() == entry.class.actions().len() {
        format!("every {} action", entry.class.as_str())
    } else {
        entry.actions.join(", ")
    };
    [
        entry.class as i64,
        interner.of(Cow::Borrowed(&entry.principal_label)),
        interner.of(Cow::Borrowed(&entry.path_label)),
        interner.of(Cow::Owned(actions)),
        i64::from(entry.certainty == Certainty::Yes),
        match entry.certainty {
            Certainty::Yes => -1,
            Certainty::May => interner.reason(&entry.reason),
        },
    ]
}

impl Serialize for AccessData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("strings", &self.strings)?;
        map.serialize_entry("reasons", &self.reasons)?;
        map.serialize_entry("rows", &self.table)?;
        map.serialize_entry("keys", &self.rows)?;
        map.serialize_entry("unknown", &self.unknown)?;
        map.serialize_entry("omitted", &self.omitted)?;
        map.serialize_entry(
            "not_evaluated",
            &self
                .report
                .access
                .as_ref()
                .map(|a| a.not_evaluated.as_slice())
                .unwrap_or_default(),
        )?;
        map.end()
    }
}
