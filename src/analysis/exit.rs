//! Exit codes: the contract a scheduled job acts on (docs/exit-codes.md).

use crate::model::{BaselineState, Finding, Report, Severity};

/// `0` clean, `1` findings at or above `--fail-on`, `2` invalid input or fatal error (nothing
/// scanned), `3` scan incomplete. 3 wins over 1: an audit that could not look everywhere must not
/// pass silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean = 0,
    Findings = 1,
    Invalid = 2,
    Incomplete = 3,
}

impl Outcome {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The outcome of a finished scan.
    pub fn of_scan(incomplete: bool, failing_findings: bool) -> Outcome {
        match (incomplete, failing_findings) {
            (true, _) => Outcome::Incomplete,
            (false, true) => Outcome::Findings,
            (false, false) => Outcome::Clean,
        }
    }

    /// The outcome of an analysed report under `policy`: 3 if incomplete, else 1 if a finding
    /// fails the policy, else 0.
    pub fn of_report(report: &Report, policy: &FailPolicy) -> Outcome {
        Outcome::of_scan(report.is_incomplete(), policy.fails(report))
    }

    /// The exit code of the run: [`Outcome::of_report`] after `--exit-zero-on`. 3 still wins
    /// over 1, but only among the outcomes left unmapped.
    pub fn of_run(report: &Report, policy: &FailPolicy) -> Outcome {
        policy
            .exit_zero_on
            .map(report.is_incomplete(), policy.fails(report))
    }

    /// What the outcome means, in a word or two.
    pub fn meaning(self) -> &'static str {
        match self {
            Outcome::Clean => "clean",
            Outcome::Findings => "findings",
            Outcome::Invalid => "invalid input",
            Outcome::Incomplete => "coverage gaps",
        }
    }
}

/// `--exit-zero-on findings,gaps`: outcomes the run reports as exit 0 instead of 1 (findings)
/// and/or 3 (gaps). Exit 2 is never mapped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitZeroOn {
    pub findings: bool,
    pub gaps: bool,
}

impl ExitZeroOn {
    /// The outcome of a run with these (incomplete, failing findings) facts under this mapping.
    pub fn map(self, incomplete: bool, failing_findings: bool) -> Outcome {
        Outcome::of_scan(incomplete && !self.gaps, failing_findings && !self.findings)
    }

    /// The flag's value as a user writes it (`findings,gaps`), empty when nothing is mapped.
    pub fn list(self) -> String {
        let mut names = Vec::new();
        if self.findings {
            names.push("findings");
        }
        if self.gaps {
            names.push("gaps");
        }
        names.join(",")
    }
}

/// What makes a run fail (`--fail-on`, `--new-only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailPolicy {
    /// Fail on unsuppressed findings at or above this severity; `None` (`--fail-on none`): never.
    pub threshold: Option<Severity>,
    /// Only findings the baseline marked `new` count.
    pub new_only: bool,
    /// `--exit-zero-on`: outcomes reported as exit 0.
    pub exit_zero_on: ExitZeroOn,
}

impl Default for FailPolicy {
    /// `--fail-on high`, every finding counts.
    fn default() -> Self {
        FailPolicy {
            threshold: Some(Severity::High),
            new_only: false,
            exit_zero_on: ExitZeroOn::default(),
        }
    }
}

impl FailPolicy {
    /// Whether this finding makes the run fail. Suppressed findings never do.
    pub fn is_failing(&self, finding: &Finding) -> bool {
        let Some(threshold) = self.threshold else {
            return false;
        };
        finding.suppressed.is_none()
            && finding.severity >= threshold
            && (!self.new_only || finding.baseline == Some(BaselineState::New))
    }

    pub fn fails(&self, report: &Report) -> bool {
        report.findings.iter().any(|f| self.is_failing(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Suppressed;

    fn finding(severity: Severity) -> Finding {
        serde_json::from_value(serde_json::json!({
            "check_id": "ROT001", "name": "rotation-disabled", "severity": severity,
            "account": "111111111111", "region": "us-east-1", "key_arn": null,
            "message": "m", "remediation": "r", "fingerprint": "f"
        }))
        .expect("finding")
    }

    #[test]
    fn fail_on_threshold_suppression_and_new_only() {
        let high = FailPolicy::default();
        assert!(high.is_failing(&finding(Severity::Critical)));
        assert!(high.is_failing(&finding(Severity::High)));
        assert!(!high.is_failing(&finding(Severity::Medium)));
        let never = FailPolicy {
            threshold: None,
            new_only: false,
            ..FailPolicy::default()
        };
        assert!(!never.is_failing(&finding(Severity::Critical)));
        let mut suppressed = finding(Severity::Critical);
        suppressed.suppressed = Some(Box::new(Suppressed {
            reason: "r".into(),
            expires: "2099-01-01".into(),
        }));
        assert!(!high.is_failing(&suppressed));
        let new_only = FailPolicy {
            threshold: Some(Severity::Info),
            new_only: true,
            ..FailPolicy::default()
        };
        let mut existing = finding(Severity::Critical);
        existing.baseline = Some(BaselineState::Existing);
        assert!(!new_only.is_failing(&existing));
        existing.baseline = Some(BaselineState::New);
        assert!(new_only.is_failing(&existing));
        assert!(
            !new_only.is_failing(&finding(Severity::Critical)),
            "no baseline state"
        );
    }

    #[test]
    fn incomplete_wins_over_findings() {
        assert_eq!(Outcome::of_scan(true, true).code(), 3);
        assert_eq!(Outcome::of_scan(true, false).code(), 3);
        assert_eq!(Outcome::of_scan(false, true).code(), 1);
        assert_eq!(Outcome::of_scan(false, false).code(), 0);
    }
}
