//! `kms-audit report SCAN.json`: re-check and re-render a saved scan offline, with no AWS access.

use std::path::PathBuf;

use clap::Args;

use super::analysis::AnalysisArgs;
use super::exit_code::ExitArgs;
use super::output::{self, OutputArgs};
use crate::analysis;
use crate::analysis::exit::Outcome;
use crate::model::saved_report;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A JSON report written by `kms-audit scan` (e.g. with -o json=scan.json); `-` reads stdin.
    #[arg(value_name = "SCAN.json")]
    pub scan: PathBuf,
    /// Render the findings saved in SCAN.json instead of re-running the checks (and drift) on
    /// its inventory. Suppressions and the baseline are applied afresh either way.
    #[arg(long)]
    pub keep_findings: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub exit: ExitArgs,
}

pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    args.output.check()?;
    let mut inputs = args.analysis.load()?;
    inputs.release_access = !args.output.carries_access();
    let mut report = saved_report::read_report(&args.scan)?;
    if args.keep_findings {
        // The saved findings are kept, so access is needed only by a report that writes it.
        if args.output.carries_access() {
            analysis::ensure_access(&mut report, &inputs);
        }
        analysis::finish(&mut report, &inputs);
    } else {
        analysis::analyze_freeing_specs(&mut report, &mut inputs);
    }
    let policy = args.exit.policy(args.output.fail_policy());
    output::emit(&report, &args.output, policy)?;
    let outcome = args.exit.outcome(&report, &policy);
    super::free_at_exit((report, inputs));
    Ok(outcome)
}
