//! The offline half of kms-audit: from a report's inventory to its findings.
//!
//! Pure functions of the inventory and the user's inputs (config, specs, suppressions,
//! baseline), so `kms-audit scan` and `kms-audit report SCAN.json` give the same findings.

use crate::model::{Finding, Report, Severity};

/// Everything the analysis needs besides the inventory, loaded and validated before any AWS call.
#[derive(Debug, Clone, Default)]
pub struct AnalysisInputs {}

/// Replaces the report's findings with a fresh analysis of its inventory.
pub fn analyze(report: &mut Report, _inputs: &AnalysisInputs) {
    let mut findings: Vec<Finding> = Vec::new();
    sort_findings(&mut findings);
    report.findings = findings;
    report.refresh_summary();
}

/// Most severe first, then by place: the order of every report.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.account.cmp(&b.account))
            .then_with(|| a.region.cmp(&b.region))
            .then_with(|| a.key_arn.cmp(&b.key_arn))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

/// The `--fail-on` threshold: `None` never fails on findings.
pub fn has_failing_findings(report: &Report, fail_on: Option<Severity>) -> bool {
    let Some(threshold) = fail_on else {
        return false;
    };
    report
        .findings
        .iter()
        .any(|f| f.suppressed.is_none() && f.severity >= threshold)
}
