//! What `publish` sends, before any network: the report's findings grouped by the (account,
//! region) that must import them, each finding serialized and trimmed to Security Hub's size
//! limit, and packed into `BatchImportFindings` requests under both request limits.
//!
//! Security Hub's limits (partner guide, "Guidelines for using the BatchImportFindings API"):
//! 100 findings per request, 240 KB per finding, 6 MB per request. kms-audit stays a little
//! under each byte limit, whichever way "KB" and "MB" are read.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Finding, Report};

/// At most this many findings per request.
pub const MAX_FINDINGS_PER_BATCH: usize = 100;
/// A finding's compact JSON must not be longer than this (240 KB read as 240,000 bytes).
pub const MAX_FINDING_BYTES: usize = 240_000;
/// A request body must not be longer than this (6 MB read as 6,000,000 bytes).
pub const MAX_BATCH_BYTES: usize = 6_000_000;

/// `{"Findings":[` and `]}` around the findings, and a comma between two.
const ENVELOPE_BYTES: usize = r#"{"Findings":[]}"#.len();

/// A finding of the report: current (`resolved == false`) or resolved since the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub index: usize,
    pub resolved: bool,
}

impl Entry {
    pub fn finding<'a>(&self, report: &'a Report) -> &'a Finding {
        if self.resolved {
            &report.resolved[self.index]
        } else {
            &report.findings[self.index]
        }
    }
}

/// The findings one account must import in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub account: String,
    pub region: String,
    /// Current findings first, then resolved ones, each in report order.
    pub entries: Vec<Entry>,
}

/// The report's findings (and those resolved since the baseline) by account, then region.
pub fn groups(report: &Report) -> Vec<Group> {
    let mut by_target: BTreeMap<(&str, &str), Vec<Entry>> = BTreeMap::new();
    let current = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (i, f, false));
    let resolved = report
        .resolved
        .iter()
        .enumerate()
        .map(|(i, f)| (i, f, true));
    for (index, finding, resolved) in current.chain(resolved) {
        by_target
            .entry((finding.account.as_str(), finding.region.as_str()))
            .or_default()
            .push(Entry { index, resolved });
    }
    by_target
        .into_iter()
        .map(|((account, region), entries)| Group {
            account: account.to_string(),
            region: region.to_string(),
            entries,
        })
        .collect()
}

/// One finding ready to send: its compact JSON, and what the report needs to know about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub archived: bool,
    pub json: Vec<u8>,
    /// It was over [`MAX_FINDING_BYTES`] and was cut (the note says so in `ProductFields`).
    pub trimmed: bool,
}

/// Why a finding cannot be sent at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "finding {id} is {bytes} bytes even after trimming (Security Hub takes at most {MAX_FINDING_BYTES})"
)]
pub struct TooLarge {
    pub id: String,
    pub bytes: usize,
}

/// Serializes one ASFF finding, trimming it when it is over Security Hub's limit.
pub fn prepare(mut finding: Value, archived: bool) -> Result<Prepared, TooLarge> {
    let id = finding["Id"].as_str().unwrap_or_default().to_string();
    let json = to_json(&finding);
    if json.len() <= MAX_FINDING_BYTES {
        return Ok(Prepared {
            id,
            archived,
            json,
            trimmed: false,
        });
    }
    trim(&mut finding, json.len());
    let json = to_json(&finding);
    if json.len() > MAX_FINDING_BYTES {
        return Err(TooLarge {
            id,
            bytes: json.len(),
        });
    }
    Ok(Prepared {
        id,
        archived,
        json,
        trimmed: true,
    })
}

fn to_json(value: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its map keys are strings.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The longest text a trimmed finding keeps in any one field (characters).
const TRIMMED_FIELD_CHARS: usize = 1024;

/// Cuts what can grow without bound (a key's details and tags, long product fields and
/// requirement lists), keeping every field Security Hub requires and the finding's identity,
/// and says so in `ProductFields."kms-audit/Trimmed"`. The full finding stays in the JSON report.
fn trim(finding: &mut Value, original_bytes: usize) {
    if let Some(resources) = finding["Resources"].as_array_mut() {
        for resource in resources {
            if let Some(resource) = resource.as_object_mut() {
                resource.remove("Details");
                resource.remove("Tags");
            }
        }
    }
    if let Some(fields) = finding["ProductFields"].as_object_mut() {
        for value in fields.values_mut() {
            if let Value::String(text) = value
                && text.chars().count() > TRIMMED_FIELD_CHARS
            {
                let mut cut: String = text.chars().take(TRIMMED_FIELD_CHARS - 1).collect();
                cut.push('…');
                *text = cut;
            }
        }
        fields.insert(
            "kms-audit/Trimmed".to_string(),
            Value::String(format!(
                "this finding was {original_bytes} bytes, over Security Hub's 240 KB limit: the \
                 key's details and tags and long product fields were cut; the full finding is in \
                 the kms-audit JSON report"
            )),
        );
    }
    if let Some(requirements) = finding["Compliance"]["RelatedRequirements"].as_array_mut() {
        // Security Hub takes at most 32 related requirements.
        requirements.truncate(32);
    }
}

/// A `BatchImportFindings` request body and what is in it.
#[derive(Debug, Clone)]
pub struct Batch {
    /// 1-based, within its group.
    pub number: usize,
    /// 1-based positions of its first and last finding within the group.
    pub first: usize,
    pub last: usize,
    pub ids: Vec<String>,
    /// Parallel to `ids`: whether each finding is sent archived.
    pub archived: Vec<bool>,
    pub body: Vec<u8>,
}

/// Packs prepared findings into requests of at most [`MAX_FINDINGS_PER_BATCH`] findings and
/// [`MAX_BATCH_BYTES`] bytes, in order.
#[derive(Debug, Default)]
pub struct Batcher {
    current: Option<Batch>,
    next_number: usize,
    position: usize,
}

impl Batcher {
    pub fn new() -> Batcher {
        Batcher {
            current: None,
            next_number: 1,
            position: 0,
        }
    }

    /// Adds a finding; returns the batch it closed, if it did not fit in it.
    pub fn push(&mut self, finding: Prepared) -> Option<Batch> {
        self.position += 1;
        let closed = match &self.current {
            Some(batch)
                if batch.ids.len() >= MAX_FINDINGS_PER_BATCH
                    || batch.body.len() + 1 + finding.json.len() + 2 > MAX_BATCH_BYTES =>
            {
                self.finish()
            }
            _ => None,
        };
        let number = self.next_number;
        let position = self.position;
        let batch = self.current.get_or_insert_with(|| Batch {
            number,
            first: position,
            last: position,
            ids: Vec::new(),
            archived: Vec::new(),
            body: Vec::with_capacity(64 * 1024),
        });
        if batch.ids.is_empty() {
            batch.body.extend_from_slice(br#"{"Findings":["#);
        } else {
            batch.body.push(b',');
        }
        batch.body.extend_from_slice(&finding.json);
        batch.last = position;
        batch.ids.push(finding.id);
        batch.archived.push(finding.archived);
        closed
    }

    /// Counts a finding that is not sent (too large) so batch positions stay those of the group.
    pub fn skip(&mut self) {
        self.position += 1;
    }

    /// Closes the batch being filled, if any.
    pub fn finish(&mut self) -> Option<Batch> {
        let mut batch = self.current.take()?;
        batch.body.extend_from_slice(b"]}");
        debug_assert!(batch.body.len() <= MAX_BATCH_BYTES);
        self.next_number += 1;
        Some(batch)
    }
}

/// The size of a request holding findings of these sizes (for tests and estimates).
pub fn request_bytes(sizes: &[usize]) -> usize {
    ENVELOPE_BYTES + sizes.iter().sum::<usize>() + sizes.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(id: &str, padding: usize) -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": id,
            "Title": "t",
            "Description": "d",
            "ProductFields": {"kms-audit/CheckId": "ROT001", "kms-audit/Aliases": "a".repeat(padding)},
            "Resources": [{"Type": "AwsKmsKey", "Id": "arn:aws:kms:us-east-1:111111111111:key/k",
                           "Details": {"AwsKmsKey": {"Description": "x".repeat(padding)}},
                           "Tags": {"team": "y".repeat(padding.min(256))}}],
            "Compliance": {"Status": "FAILED", "RelatedRequirements": ["CIS 3.6"]},
        })
    }

    fn prepared(id: usize, bytes: usize) -> Prepared {
        Prepared {
            id: format!("f{id}"),
            archived: id.is_multiple_of(2),
            json: vec![b'x'; bytes],
            trimmed: false,
        }
    }

    fn all_batches(sizes: impl IntoIterator<Item = usize>) -> Vec<Batch> {
        let mut batcher = Batcher::new();
        let mut batches = Vec::new();
        for (i, size) in sizes.into_iter().enumerate() {
            batches.extend(batcher.push(prepared(i, size)));
        }
        batches.extend(batcher.finish());
        batches
    }

    #[test]
    fn at_most_100_findings_per_batch() {
        let batches = all_batches(std::iter::repeat_n(1000, 250));
        let counts: Vec<usize> = batches.iter().map(|b| b.ids.len()).collect();
        assert_eq!(counts, [100, 100, 50]);
        let ranges: Vec<(usize, usize, usize)> = batches
            .iter()
            .map(|b| (b.number, b.first, b.last))
            .collect();
        assert_eq!(ranges, [(1, 1, 100), (2, 101, 200), (3, 201, 250)]);
        for batch in &batches {
            assert_eq!(
                batch.body.len(),
                request_bytes(&vec![1000; batch.ids.len()])
            );
        }
    }

    #[test]
    fn batches_stay_under_the_request_size() {
        // 30 findings of 230 KB: 26 fit in 6 MB, so the byte limit closes the first batch.
        let batches = all_batches(std::iter::repeat_n(230_000, 30));
        let counts: Vec<usize> = batches.iter().map(|b| b.ids.len()).collect();
        assert_eq!(counts, [26, 4]);
        for batch in &batches {
            assert!(batch.body.len() <= MAX_BATCH_BYTES, "{}", batch.body.len());
        }
        // One more byte would not have fit.
        assert!(request_bytes(&[230_000; 27]) > MAX_BATCH_BYTES);
    }

    #[test]
    fn a_batch_body_is_a_batch_import_request() {
        let mut batcher = Batcher::new();
        for id in ["a", "b"] {
            let prepared = prepare(finding(id, 10), id == "b").expect("fits");
            assert!(batcher.push(prepared).is_none());
        }
        let batch = batcher.finish().expect("a batch");
        let body: Value = serde_json::from_slice(&batch.body).expect("JSON");
        assert_eq!(body["Findings"][0]["Id"], "a");
        assert_eq!(body["Findings"][1]["Id"], "b");
        assert_eq!(batch.archived, [false, true]);
        assert!(batcher.finish().is_none(), "nothing left");
    }

    #[test]
    fn skipped_findings_keep_positions() {
        let mut batcher = Batcher::new();
        batcher.push(prepared(1, 10));
        batcher.skip();
        batcher.push(prepared(3, 10));
        let batch = batcher.finish().expect("batch");
        assert_eq!((batch.first, batch.last, batch.ids.len()), (1, 3, 2));
    }

    #[test]
    fn small_findings_are_sent_as_they_are() {
        let value = finding("small", 100);
        let prepared = prepare(value.clone(), false).expect("fits");
        assert!(!prepared.trimmed);
        assert_eq!(
            serde_json::from_slice::<Value>(&prepared.json).expect("JSON"),
            value
        );
    }

    #[test]
    fn findings_over_240_kb_are_trimmed_with_a_note() {
        let big = finding("big", 200_000);
        assert!(to_json(&big).len() > MAX_FINDING_BYTES);
        let prepared = prepare(big, false).expect("fits after trimming");
        assert!(prepared.trimmed);
        assert!(prepared.json.len() <= MAX_FINDING_BYTES);
        let value: Value = serde_json::from_slice(&prepared.json).expect("JSON");
        assert_eq!(value["Id"], "big");
        assert!(value["Resources"][0]["Details"].is_null());
        assert!(value["Resources"][0]["Tags"].is_null());
        assert_eq!(
            value["Resources"][0]["Id"],
            "arn:aws:kms:us-east-1:111111111111:key/k"
        );
        let note = value["ProductFields"]["kms-audit/Trimmed"]
            .as_str()
            .expect("note");
        assert!(note.contains("240 KB"), "{note}");
        assert_eq!(
            value["ProductFields"]["kms-audit/Aliases"]
                .as_str()
                .map(|s| s.chars().count()),
            Some(TRIMMED_FIELD_CHARS)
        );
    }

    #[test]
    fn a_finding_too_large_to_trim_is_refused() {
        let mut huge = finding("huge", 10);
        huge["Description"] = Value::String("d".repeat(300_000));
        let err = prepare(huge, false).expect_err("too large");
        assert_eq!(err.id, "huge");
        assert!(err.bytes > MAX_FINDING_BYTES);
    }

    #[test]
    fn groups_by_account_then_region_with_resolved_last() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/reports/sample.json"))
                .expect("sample report");
        let report =
            crate::model::saved_report::parse_report("sample.json", &text).expect("report");
        let groups = groups(&report);
        let keys: Vec<(&str, &str)> = groups
            .iter()
            .map(|g| (g.account.as_str(), g.region.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted, "one group per account and region, in order");
        let total: usize = groups.iter().map(|g| g.entries.len()).sum();
        assert_eq!(total, report.findings.len() + report.resolved.len());
        for group in &groups {
            for entry in &group.entries {
                let finding = entry.finding(&report);
                assert_eq!(
                    (finding.account.as_str(), finding.region.as_str()),
                    (group.account.as_str(), group.region.as_str())
                );
            }
            let first_resolved = group.entries.iter().position(|e| e.resolved);
            if let Some(at) = first_resolved {
                assert!(group.entries[at..].iter().all(|e| e.resolved));
            }
        }
        assert!(groups.iter().any(|g| g.entries.iter().any(|e| e.resolved)));
    }
}
