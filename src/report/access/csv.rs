//! `--format access-csv`: one row per (key, action class, principal, path), for auditors.
//!
//! The columns are a stable contract: new columns are only ever appended. A header row is
//! always written. A key whose access could not be fully decided has a row per entry found and
//! its `unknown` inputs in the last column of each row, and a key with no entry at all still
//! has one row (class empty) so that it is never missing from the sheet.

use std::collections::HashMap;
use std::io::Write;

use crate::model::Report;
use crate::model::access::{AccessEntry, AccessPath, KeyAccess};
use crate::report::csv::{escape, into_io};

/// The columns, in order.
pub const COLUMNS: [&str; 17] = [
    "scanned_at",
    "account",
    "region",
    "key_id",
    "aliases",
    "key_arn",
    "class",
    "principal_kind",
    "principal",
    "actions",
    "path_kind",
    "path",
    "iam_policy_attached_to",
    "certainty",
    "conditions",
    "reason",
    "key_unknown",
];

/// Writes the header and every key's entries. A report without an access analysis (written
/// by `kms-audit report --keep-findings` from an old report) has only the header.
pub fn render_csv(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(out);
    writer.write_record(COLUMNS).map_err(into_io)?;
    let Some(access) = &report.access else {
        return writer.flush();
    };
    let aliases: HashMap<&str, String> = report
        .inventory
        .keys
        .iter()
        .map(|k| (k.arn.as_str(), k.aliases.join(";")))
        .collect();
    for key in &access.keys {
        let key_cells = KeyCells {
            scanned_at: &report.finished_at,
            key,
            aliases: aliases.get(key.key_arn.as_str()).map_or("", String::as_str),
            unknown: key
                .unknown
                .iter()
                .map(|line| line.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        };
        if key.entries.is_empty() {
            writer
                .write_record(key_cells.row(None).iter().map(|c| escape(c)))
                .map_err(into_io)?;
        }
        for entry in &key.entries {
            writer
                .write_record(key_cells.row(Some(entry)).iter().map(|c| escape(c)))
                .map_err(into_io)?;
        }
    }
    writer.flush()
}

/// The cells every row of one key shares.
struct KeyCells<'a> {
    scanned_at: &'a str,
    key: &'a KeyAccess,
    aliases: &'a str,
    unknown: String,
}

impl KeyCells<'_> {
    fn row(&self, entry: Option<&AccessEntry>) -> [String; 17] {
        let key = self.key;
        let key_id = key
            .key_arn
            .rsplit_once("key/")
            .map_or("", |(_, id)| id)
            .to_string();
        let mut row = [
            self.scanned_at.to_string(),
            key.account.to_string(),
            key.region.to_string(),
            key_id,
            self.aliases.to_string(),
            key.key_arn.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            self.unknown.clone(),
        ];
        if let Some(entry) = entry {
            row[6] = entry.class.as_str().to_string();
            row[7] = entry.principal.kind().to_string();
            row[8] = entry.principal.id().to_string();
            row[9] = entry.actions.join(";");
            row[10] = entry.path.kind().to_string();
            row[11] = entry.path_label.clone();
            row[12] = match &entry.path {
                AccessPath::IamPolicy { attached_to, .. } => attached_to.clone(),
                _ => String::new(),
            };
            row[13] = entry.certainty.as_str().to_string();
            row[14] = entry
                .conditions
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; ");
            row[15] = entry.reason.clone();
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyRecord;
    use crate::model::access::{AccessReport, ActionClass, Certainty, Principal, Shared};

    fn report(access: Vec<KeyAccess>) -> Report {
        let mut report: Report = serde_json::from_value(serde_json::json!({
            "schema_version": "1", "tool": {"name": "kms-audit", "version": "0"},
            "started_at": "", "finished_at": "2026-12-01T00:00:00Z", "targets": [],
            "coverage_gaps": [], "inventory": {"keys": []}, "findings": [], "summary": {
                "keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                "duration_ms": 0, "api_calls": {}}
        }))
        .expect("a minimal report");
        report.inventory.keys = access
            .iter()
            .map(|a| KeyRecord {
                arn: a.key_arn.clone(),
                aliases: vec!["=cmd|' /C calc'!A0".into()],
                ..KeyRecord::default()
            })
            .collect();
        report.access = Some(AccessReport {
            not_evaluated: Vec::new(),
            keys: access,
        });
        report
    }

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        render_csv(report, &mut out).expect("renders");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn one_row_per_entry_and_a_row_for_a_key_without_entries() {
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/k1";
        let entry = AccessEntry {
            class: ActionClass::Delegate,
            principal: Principal::Role {
                arn: "arn:aws:iam::111122223333:role/ops".into(),
            },
            principal_label: "role".into(),
            actions: vec!["kms:CreateGrant".into()],
            path: AccessPath::Grant {
                grant_id: "g1".into(),
                name: Some("+SUM(1)".into()),
            },
            path_label: "@grant +SUM(1)".into(),
            conditions: Vec::new(),
            certainty: Certainty::May,
            reason: "a condition".into(),
        };
        let csv = render(&report(vec![
            KeyAccess {
                key_arn: arn.into(),
                account: "111122223333".into(),
                region: "eu-west-1".into(),
                entries: vec![entry.into()],
                unknown: Vec::new(),
            },
            KeyAccess {
                key_arn: format!("{arn}2"),
                account: "111122223333".into(),
                region: "eu-west-1".into(),
                entries: Vec::new(),
                unknown: vec![Shared::new("key policy: not read".to_string())],
            },
        ]));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "2026-12-01T00:00:00Z,111122223333,eu-west-1,k1,'=cmd|' /C calc'!A0,\
             arn:aws:kms:eu-west-1:111122223333:key/k1,delegate,role,\
             arn:aws:iam::111122223333:role/ops,kms:CreateGrant,grant,'@grant +SUM(1),,may,,\
             a condition,"
        );
        assert_eq!(
            lines[2],
            "2026-12-01T00:00:00Z,111122223333,eu-west-1,k12,'=cmd|' /C calc'!A0,\
             arn:aws:kms:eu-west-1:111122223333:key/k12,,,,,,,,,,,key policy: not read"
        );
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn a_report_without_access_has_only_the_header() {
        let mut report = report(Vec::new());
        report.access = None;
        assert_eq!(render(&report), format!("{}\n", COLUMNS.join(",")));
    }
}
