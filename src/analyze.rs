//! The offline half of kms-audit: from a report's inventory to its findings.
//!
//! Pure functions of the inventory and the user's inputs (config, specs, suppressions,
//! baseline), so `kms-audit scan` and `kms-audit report SCAN.json` give the same findings.

use crate::model::{Finding, Report, Severity};

/// Everything the analysis needs besides the inventory, loaded and validated before any AWS call.
#[derive(Debug, Clone, Default)]
pub struct AnalysisInputs {
    /// The suppressions file (`--suppressions`).
    pub suppressions: Option<crate::suppress::Suppressions>,
    /// The earlier report findings are compared with (`--baseline`).
    pub baseline: Option<crate::baseline::Baseline>,
    /// The day suppressions expire against; `None`: today (UTC).
    pub today: Option<time::Date>,
}

/// Replaces the report's findings with a fresh analysis of its inventory.
pub fn analyze(report: &mut Report, inputs: &AnalysisInputs) {
    let mut findings: Vec<Finding> = Vec::new();
    report.findings = findings;
    finish(report, inputs);
}

/// The stages after checks and drift, on the report's findings as they are: suppressions, then
/// the baseline, then the report order and summary. Earlier results of these stages (a saved
/// report's suppressions, baseline states, `SUP001` findings and resolved list) are dropped
/// first, so the result depends only on `inputs`. `kms-audit report --keep-findings` runs only this.
pub fn finish(report: &mut Report, inputs: &AnalysisInputs) {
    report
        .findings
        .retain(|f| f.check_id != crate::suppress::EXPIRED_CHECK_ID);
    for finding in &mut report.findings {
        finding.suppressed = None;
        finding.baseline = None;
    }
    report.resolved.clear();
    if let Some(suppressions) = &inputs.suppressions {
        let today = inputs.today.unwrap_or_else(crate::suppress::today_utc);
        crate::suppress::apply(&mut report.findings, suppressions, today);
    }
    if let Some(baseline) = &inputs.baseline {
        crate::baseline::apply(report, baseline);
    }
    sort_findings(&mut report.findings);
    sort_findings(&mut report.resolved);
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
