//! `--exit-zero-on findings,gaps` (scan, report, merge): exit 0 instead of 1 and/or 3.
//!
//! The shard pods of a Kubernetes Indexed Job need it: a pod that exits non-zero is retried (up
//! to the Job's backoffLimit) and its shard counts as failed, although a shard with findings or
//! a gap did its job. The merge Job, run without the flag, decides the real exit code.

use clap::{Args, ValueEnum};

use crate::analysis::exit::{FailPolicy, Outcome};
use crate::model::Report;

#[derive(Debug, Clone, Default, Args)]
pub struct ExitArgs {
    /// Exit 0 instead of 1 (`findings`: findings at or above --fail-on) and/or instead of 3
    /// (`gaps`: coverage gaps), as a comma list: --exit-zero-on findings,gaps. Exit 2 (invalid
    /// input, fatal error) is never mapped; with only `gaps`, a run with gaps and failing findings
    /// exits 1. For the shard pods of a Kubernetes Indexed Job, so that a shard with findings is
    /// not retried; the merge Job, without this flag, decides the real exit code.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "findings,gaps")]
    pub exit_zero_on: Vec<ZeroOn>,
}

/// An outcome `--exit-zero-on` turns into exit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ZeroOn {
    /// Exit 0 instead of 1 (findings at or above --fail-on).
    Findings,
    /// Exit 0 instead of 3 (coverage gaps: the scan is incomplete).
    Gaps,
}

impl ExitArgs {
    /// The outcome of an analysed report under `policy` and this mapping.
    pub fn outcome(&self, report: &Report, policy: &FailPolicy) -> Outcome {
        let real = Outcome::of_report(report, policy);
        let mapped = self.map(report.is_incomplete(), policy.fails(report));
        if mapped != real {
            tracing::warn!(
                "exit code {} ({}) instead of {} ({}): --exit-zero-on {}",
                mapped.code(),
                meaning(mapped),
                real.code(),
                meaning(real),
                self.list()
            );
        }
        mapped
    }

    /// Exit 3 wins over 1 as ever, but only among the outcomes left unmapped.
    fn map(&self, incomplete: bool, failing_findings: bool) -> Outcome {
        Outcome::of_scan(
            incomplete && !self.exit_zero_on.contains(&ZeroOn::Gaps),
            failing_findings && !self.exit_zero_on.contains(&ZeroOn::Findings),
        )
    }

    fn list(&self) -> String {
        let mut names: Vec<&str> = [ZeroOn::Findings, ZeroOn::Gaps]
            .into_iter()
            .filter(|z| self.exit_zero_on.contains(z))
            .map(|z| match z {
                ZeroOn::Findings => "findings",
                ZeroOn::Gaps => "gaps",
            })
            .collect();
        names.dedup();
        names.join(",")
    }
}

fn meaning(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Clean => "clean",
        Outcome::Findings => "findings",
        Outcome::Invalid => "invalid input",
        Outcome::Incomplete => "coverage gaps",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(zero_on: &[ZeroOn]) -> ExitArgs {
        ExitArgs {
            exit_zero_on: zero_on.to_vec(),
        }
    }

    #[test]
    fn each_mapping_turns_only_its_outcome_into_0() {
        use ZeroOn::{Findings, Gaps};
        // (incomplete, failing findings) → exit code, for each flag value.
        let cases: [(&[ZeroOn], [u8; 4]); 4] = [
            (&[], [0, 1, 3, 3]),
            (&[Findings], [0, 0, 3, 3]),
            (&[Gaps], [0, 1, 0, 1]),
            (&[Findings, Gaps], [0, 0, 0, 0]),
        ];
        for (zero_on, expected) in cases {
            let got: Vec<u8> = [(false, false), (false, true), (true, false), (true, true)]
                .into_iter()
                .map(|(incomplete, failing)| args(zero_on).map(incomplete, failing).code())
                .collect();
            assert_eq!(got, expected, "--exit-zero-on {zero_on:?}");
        }
    }

    #[test]
    fn the_list_is_named_once_in_order() {
        use ZeroOn::{Findings, Gaps};
        assert_eq!(args(&[Gaps, Findings, Gaps]).list(), "findings,gaps");
        assert_eq!(args(&[Gaps]).list(), "gaps");
    }
}
