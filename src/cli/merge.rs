//! `kms-audit merge SHARD.json...`: join the JSON reports of `scan --shard K/N`, re-run the
//! analysis on the whole inventory, and report like `scan`. No AWS access.

use std::path::PathBuf;

use clap::Args;

use super::analysis::AnalysisArgs;
use super::output::{self, OutputArgs};
use crate::analyze;
use crate::exit::Outcome;
use crate::merge::{self, ShardReport};
use crate::report::json;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON reports of every shard of one run (`scan --shard K/N -o json=...`), K = 1..N,
    /// in any order.
    #[arg(value_name = "SHARD.json", required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// Merge even when some shards' reports are missing: their accounts become coverage gaps
    /// (exit 3) instead of an error (exit 2).
    #[arg(long)]
    pub allow_partial: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: MergeArgs) -> anyhow::Result<Outcome> {
    args.output.check()?;
    let inputs = args.analysis.load()?;
    let shards = args
        .shards
        .iter()
        .map(|path| {
            Ok(ShardReport {
                file: path.display().to_string(),
                report: json::read_report(path)?,
            })
        })
        .collect::<anyhow::Result<Vec<ShardReport>>>()?;
    let merged = merge::merge(shards, args.allow_partial)?;
    let mut report = merged.report;
    // The shards' own findings are dropped and the analysis runs once on the whole inventory,
    // as `kms-audit report` does: one set of inputs, and checks that compare keys (MRK001) or
    // declared keys with every account (drift) see everything.
    analyze::analyze(&mut report, &inputs);
    output::emit(&report, &args.output)?;
    Ok(Outcome::of_report(&report, &args.output.fail_policy()))
}
