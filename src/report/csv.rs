//! The CSV report: one finding per row (suppressed ones included, flagged), for spreadsheets and BI.
//!
//! The columns are a stable contract: new columns are only ever appended. A header row is always
//! written, even when there are no findings. Findings the baseline resolved are not rows (they
//! are in the JSON report's `resolved`).
//!
//! Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) are prefixed with `'`; no value kms-audit writes itself starts that way, but
//! messages can quote text read from AWS (aliases, tags, descriptions).

use std::io::Write;

use crate::model::{BaselineState, Finding, Report};

/// The columns, in order.
pub const COLUMNS: [&str; 20] = [
    "scanned_at",
    "severity",
    "check_id",
    "name",
    "account",
    "region",
    "key_id",
    "aliases",
    "key_arn",
    "message",
    "suppressed",
    "suppression_reason",
    "suppression_expires",
    "baseline",
    "spec_file",
    "spec_line",
    "fingerprint",
    "remediation",
    "evidence",
    "resource",
];

/// Writes the header and one row per finding.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    writer.write_record(COLUMNS).map_err(into_io)?;
    for finding in &report.findings {
        writer
            .write_record(row(report, finding).iter().map(|cell| escape(cell)))
            .map_err(into_io)?;
    }
    writer.flush()
}

/// The writer's own error when there is one, so the caller still sees its kind (a closed pipe
/// is not a failure: `kms-audit report --format csv | head`).
pub(crate) fn into_io(err: csv::Error) -> std::io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        kind => std::io::Error::other(format!("{kind:?}")),
    }
}

fn row(report: &Report, f: &Finding) -> [String; 20] {
    [
        report.finished_at.clone(),
        f.severity.as_str().to_string(),
        f.check_id.to_string(),
        f.name.to_string(),
        f.account.to_string(),
        f.region.to_string(),
        crate::model::arn::key_id(f).unwrap_or_default().to_string(),
        f.aliases.join(";"),
        f.key_arn.clone().unwrap_or_default(),
        f.message.clone(),
        f.suppressed.is_some().to_string(),
        f.suppressed
            .as_ref()
            .map(|s| s.reason.clone())
            .unwrap_or_default(),
        f.suppressed
            .as_ref()
            .map(|s| s.expires.clone())
            .unwrap_or_default(),
        match f.baseline {
            Some(BaselineState::New) => "new".to_string(),
            Some(BaselineState::Existing) => "existing".to_string(),
            None => String::new(),
        },
        f.spec.as_ref().map(|s| s.file.clone()).unwrap_or_default(),
        f.spec
            .as_ref()
            .map(|s| s.line.to_string())
            .unwrap_or_default(),
        f.fingerprint.clone(),
        f.remediation.clone(),
        if f.evidence.is_null() {
            String::new()
        } else {
            f.evidence.to_string()
        },
        // The IAM policy or identity of a finding that is not about a key (IAM001, IAM002).
        f.resource.clone().unwrap_or_default(),
    ]
}

/// Defuses spreadsheet formulas (OWASP "CSV injection").
pub(crate) fn escape(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(escape("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape("alias/app"), "alias/app");
        assert_eq!(escape(""), "");
    }
}
