//! `--exit-zero-on findings,gaps` (scan, report, merge): exit 0 instead of 1 and/or 3.
//!
//! The shard pods of a Kubernetes Indexed Job need it: a pod that exits non-zero is retried (up
//! to the Job's backoffLimit) and its shard counts as failed, although a shard with findings or
//! a gap did its job. The merge Job, run without the flag, decides the real exit code.

use clap::{Args, ValueEnum};

use crate::analysis::exit::{ExitZeroOn, FailPolicy, Outcome};
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
    /// The mapping as the analysis applies it.
    pub fn mapping(&self) -> ExitZeroOn {
        ExitZeroOn {
            findings: self.exit_zero_on.contains(&ZeroOn::Findings),
            gaps: self.exit_zero_on.contains(&ZeroOn::Gaps),
        }
    }

    /// `policy` (from --fail-on and --new-only) with this mapping.
    pub fn policy(&self, policy: FailPolicy) -> FailPolicy {
        FailPolicy {
            exit_zero_on: self.mapping(),
            ..policy
        }
    }

    /// The exit code of an analysed report under `policy` (which carries this mapping), with a
    /// warning when the mapping changed it.
    pub fn outcome(&self, report: &Report, policy: &FailPolicy) -> Outcome {
        let real = Outcome::of_report(report, policy);
        let mapped = Outcome::of_run(report, policy);
        if mapped != real {
            tracing::warn!(
                "exit code {} ({}) instead of {} ({}): --exit-zero-on {}",
                mapped.code(),
                mapped.meaning(),
                real.code(),
                real.meaning(),
                policy.exit_zero_on.list()
            );
        }
        mapped
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
                .map(|(incomplete, failing)| {
                    args(zero_on).mapping().map(incomplete, failing).code()
                })
                .collect();
            assert_eq!(got, expected, "--exit-zero-on {zero_on:?}");
        }
    }

    #[test]
    fn the_list_is_named_once_in_order() {
        use ZeroOn::{Findings, Gaps};
        assert_eq!(
            args(&[Gaps, Findings, Gaps]).mapping().list(),
            "findings,gaps"
        );
        assert_eq!(args(&[Gaps]).mapping().list(), "gaps");
    }
}
