//! What `publish` did, per account and region: findings imported, archived and failed, and each
//! batch that failed, named so it can be found (and re-sent) — as a table or as JSON.

use std::io::Write;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use super::securityhub::FailedFinding;

/// The outcome of one `publish securityhub` run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishSummary {
    pub destination: String,
    /// The report that was published, as the user named it.
    pub report: String,
    /// The baseline findings were archived against, when one was given or saved in the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    pub caller_account: String,
    pub started_at: String,
    pub finished_at: String,
    pub targets: Vec<TargetResult>,
    pub totals: Totals,
    /// Requests sent, by `service:Operation`, retries included.
    pub api_calls: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Current findings Security Hub accepted.
    pub imported: u64,
    /// Findings resolved since the baseline that Security Hub accepted as `ARCHIVED`.
    pub archived: u64,
    /// Findings not accepted (their batch failed, Security Hub refused them, or they were too
    /// large even trimmed).
    pub failed: u64,
    /// Findings sent trimmed to fit Security Hub's 240 KB limit.
    pub trimmed: u64,
    pub failed_batches: u64,
}

/// One account × region: the findings it must import itself.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetResult {
    pub account: String,
    pub region: String,
    /// How the findings were sent: `caller` (its own credentials) or the role assumed.
    pub credentials: String,
    pub findings: u64,
    pub imported: u64,
    pub archived: u64,
    pub failed: u64,
    pub trimmed: u64,
    pub batches: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_batches: Vec<FailedBatch>,
    /// Findings that were never put in a batch (too large even trimmed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsent: Vec<FailedFinding>,
}

/// A batch that Security Hub did not fully accept.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FailedBatch {
    /// e.g. `111111111111/us-east-1 batch 2 (findings 101-200)`.
    pub name: String,
    pub findings: u64,
    /// Why the whole request failed; `None` when Security Hub refused only some findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_findings: Vec<FailedFinding>,
}

/// Error messages come from the network: no control characters on a terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl PublishSummary {
    pub fn is_complete(&self) -> bool {
        self.totals.failed == 0 && self.totals.failed_batches == 0
    }

    pub fn refresh_totals(&mut self) {
        let mut totals = Totals::default();
        for target in &self.targets {
            totals.imported += target.imported;
            totals.archived += target.archived;
            totals.failed += target.failed;
            totals.trimmed += target.trimmed;
            totals.failed_batches += target.failed_batches.len() as u64;
        }
        self.totals = totals;
    }

    /// Every failed batch and unsent finding, one line each, for stderr.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for target in &self.targets {
            for batch in &target.failed_batches {
                let why = match &batch.error {
                    Some(error) => error.clone(),
                    None => {
                        let first = batch.failed_findings.first();
                        format!(
                            "Security Hub refused {} of its {} findings{}",
                            batch.failed_findings.len(),
                            batch.findings,
                            first.map_or(String::new(), |f| format!(
                                ", e.g. {}: {} {}",
                                f.id, f.error_code, f.error_message
                            ))
                        )
                    }
                };
                lines.push(format!("{} failed: {}", batch.name, printable(&why)));
            }
            for finding in &target.unsent {
                lines.push(format!(
                    "{}/{}: {} not sent: {}",
                    target.account,
                    target.region,
                    finding.id,
                    printable(&finding.error_message)
                ));
            }
        }
        lines
    }

    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    pub fn write_table(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "kms-audit publish {} · {} · as {}",
            self.destination, self.report, self.caller_account
        )?;
        if let Some(baseline) = &self.baseline {
            writeln!(out, "Baseline: {baseline}")?;
        }
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "Account",
            "Region",
            "Credentials",
            "Imported",
            "Archived",
            "Failed",
            "Trimmed",
        ]);
        let number = |n: u64| Cell::new(n).set_alignment(CellAlignment::Right);
        for target in &self.targets {
            table.add_row(vec![
                Cell::new(&target.account),
                Cell::new(&target.region),
                Cell::new(&target.credentials),
                number(target.imported),
                number(target.archived),
                number(target.failed),
                number(target.trimmed),
            ]);
        }
        table.add_row(vec![
            Cell::new("Total"),
            Cell::new(""),
            Cell::new(""),
            number(self.totals.imported),
            number(self.totals.archived),
            number(self.totals.failed),
            number(self.totals.trimmed),
        ]);
        writeln!(out, "{table}")?;
        let failures = self.failure_lines();
        if failures.is_empty() {
            writeln!(out, "Every batch was imported.")?;
        } else {
            let batches = self.totals.failed_batches;
            let plural = if batches == 1 { "" } else { "es" };
            writeln!(out, "FAILED: {batches} batch{plural}")?;
            for line in failures {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }
}
