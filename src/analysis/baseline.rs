//! Baseline (`--baseline previous.json`): which findings are new since an earlier report, which
//! are still there, and which are gone.
//!
//! Findings are matched by fingerprint (same check, same key, same discriminator ⇒ same
//! fingerprint across runs). Every finding of the current report is marked `new` or `existing`;
//! `resolved` lists the baseline's findings that are gone, but only where this scan looked: a
//! baseline finding whose account and region were not scanned (not a target this time, or a failed
//! target) or whose key has a coverage gap went out of sight, it was not fixed, so it is not listed.

use std::collections::HashSet;
use std::path::Path;

use crate::model::{BaselineState, Finding, Report, TargetStatus};

/// The findings of an earlier report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// The file as the user named it.
    pub file: String,
    pub findings: Vec<Finding>,
}

impl Baseline {
    /// Reads a JSON report written by `kms-audit scan`, `report` or `merge`.
    pub fn load(path: &Path) -> Result<Baseline, crate::model::saved_report::ReadError> {
        let report = crate::model::saved_report::read_report(path)?;
        Ok(Baseline::from_report(path.display().to_string(), report))
    }

    pub fn from_report(file: String, report: Report) -> Baseline {
        Baseline {
            file,
            findings: report.findings,
        }
    }
}

/// Marks the report's findings `new` or `existing` and fills `resolved`.
pub fn apply(report: &mut Report, baseline: &Baseline) {
    let before: HashSet<&str> = baseline
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    for finding in &mut report.findings {
        finding.baseline = Some(if before.contains(finding.fingerprint.as_str()) {
            BaselineState::Existing
        } else {
            BaselineState::New
        });
    }
    let now: HashSet<&str> = report
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut seen = HashSet::new();
    let resolved: Vec<Finding> = baseline
        .findings
        .iter()
        .filter(|f| !now.contains(f.fingerprint.as_str()))
        .filter(|f| seen.insert(f.fingerprint.as_str()))
        .filter(|f| looked_at(report, f))
        .map(|f| Finding {
            baseline: None,
            ..f.clone()
        })
        .collect();
    report.resolved = resolved;
}

/// Whether this scan fully looked where `finding` was: its account and region were scanned and
/// nothing about its key (or its whole region) is a coverage gap.
fn looked_at(report: &Report, finding: &Finding) -> bool {
    let scanned = report.targets.iter().any(|t| {
        t.account == finding.account
            && t.region == finding.region
            && t.status == TargetStatus::Scanned
    });
    let gap = report.coverage_gaps.iter().any(|gap| {
        gap.account == finding.account
            && gap.region.as_ref().is_none_or(|r| *r == finding.region)
            && gap
                .key_arn
                .as_ref()
                .is_none_or(|arn| Some(arn) == finding.key_arn.as_ref())
    });
    scanned && !gap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CoverageGap, Severity};
    use serde_json::json;

    fn finding(fp: &str, account: &str, key: &str) -> Finding {
        Finding {
            check_id: "ROT001".into(),
            name: "rotation-disabled".into(),
            severity: Severity::Medium,
            account: account.into(),
            region: "us-east-1".into(),
            key_arn: Some(format!("arn:aws:kms:us-east-1:{account}:key/{key}")),
            resource: None,
            keys: None,
            aliases: vec![],
            message: "m".into(),
            evidence: json!({}).into(),
            remediation: "r".into(),
            fingerprint: fp.into(),
            spec: None,
            suppressed: None,
            baseline: None,
        }
    }

    /// A report built from JSON, so the tests do not depend on every field of `Report`.
    fn report(findings: Vec<Finding>) -> Report {
        let mut report: Report = serde_json::from_value(json!({
            "schema_version": "1", "tool": {"name": "kms-audit", "version": "0"},
            "started_at": "", "finished_at": "",
            "targets": [
                {"account": "111111111111", "region": "us-east-1", "status": "scanned"},
                {"account": "222222222222", "region": "us-east-1", "status": "failed"}
            ],
            "coverage_gaps": [], "inventory": {"keys": []}, "findings": [],
            "summary": {"keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                        "duration_ms": 0, "api_calls": {}}
        }))
        .expect("minimal report");
        report.findings = findings;
        report
    }

    #[test]
    fn marks_new_and_existing_and_lists_resolved() {
        let baseline = Baseline {
            file: "prev.json".into(),
            findings: vec![
                finding("a", "111111111111", "k1"),
                finding("gone", "111111111111", "k2"),
            ],
        };
        let mut now = report(vec![
            finding("a", "111111111111", "k1"),
            finding("b", "111111111111", "k3"),
        ]);
        apply(&mut now, &baseline);
        assert_eq!(now.findings[0].baseline, Some(BaselineState::Existing));
        assert_eq!(now.findings[1].baseline, Some(BaselineState::New));
        assert_eq!(now.resolved.len(), 1);
        assert_eq!(now.resolved[0].fingerprint, "gone");
        assert_eq!(now.resolved[0].baseline, None);
    }

    #[test]
    fn findings_out_of_sight_are_not_resolved() {
        let baseline = Baseline {
            file: "prev.json".into(),
            findings: vec![
                finding("failed-target", "222222222222", "k1"),
                finding("not-a-target", "333333333333", "k1"),
                finding("key-gap", "111111111111", "k9"),
                finding("fixed", "111111111111", "k8"),
            ],
        };
        let mut now = report(vec![]);
        now.coverage_gaps.push(CoverageGap {
            account: "111111111111".into(),
            region: Some("us-east-1".into()),
            key_arn: Some("arn:aws:kms:us-east-1:111111111111:key/k9".into()),
            operation: "GetKeyPolicy".into(),
            error_code: Some("AccessDeniedException".into()),
            reason: "denied".into(),
        });
        apply(&mut now, &baseline);
        let resolved: Vec<&str> = now
            .resolved
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        assert_eq!(resolved, ["fixed"]);
    }
}
