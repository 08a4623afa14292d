//! `kms-audit merge SHARD.json|DIR...`: join the JSON reports of `scan --shard K/N`, re-run the
//! analysis on the whole inventory, and report like `scan`. No AWS access.

use std::path::{Path, PathBuf};

use anyhow::Context;

use clap::Args;

use super::analysis::AnalysisArgs;
use super::exit_code::ExitArgs;
use super::output::{self, OutputArgs};
use crate::analysis;
use crate::analysis::exit::Outcome;
use crate::model::saved_report;
use crate::scan::merge::{self, ShardReport};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON reports of every shard of one run (`scan --shard K/N -o json=...`), K = 1..N,
    /// in any order. A directory stands for every `*.json` file directly inside it (sorted by
    /// name, hidden files left out, as a shell glob would), for jobs with no shell to expand one.
    #[arg(value_name = "SHARD.json|DIR", required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// Merge even when some shards' reports are missing: their accounts become coverage gaps
    /// (exit 3) instead of an error (exit 2).
    #[arg(long)]
    pub allow_partial: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub exit: ExitArgs,
}

pub fn run(args: MergeArgs) -> anyhow::Result<Outcome> {
    args.output.check()?;
    let mut inputs = args.analysis.load()?;
    inputs.release_access = !args.output.carries_access();
    let shards = shard_files(&args.shards)?
        .iter()
        .map(|path| {
            Ok(ShardReport {
                file: path.display().to_string(),
                report: saved_report::read_report(path)?,
            })
        })
        .collect::<anyhow::Result<Vec<ShardReport>>>()?;
    let merged = merge::merge(shards, args.allow_partial)?;
    let mut report = merged.report;
    // The shards' own findings are dropped and the analysis runs once on the whole inventory,
    // as `kms-audit report` does: one set of inputs, and checks that compare keys (MRK001) or
    // declared keys with every account (drift) see everything.
    analysis::analyze_freeing_specs(&mut report, &mut inputs);
    let policy = args.exit.policy(args.output.fail_policy());
    output::emit(&report, &args.output, policy)?;
    let outcome = args.exit.outcome(&report, &policy);
    super::free_at_exit((report, inputs));
    Ok(outcome)
}

/// The shard report files named by the arguments: files as given, directories replaced by the
/// `*.json` files directly inside them. A directory without one is an error naming it.
fn shard_files(args: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let inside = json_files_in(arg)?;
            if inside.is_empty() {
                anyhow::bail!(
                    "the directory {} holds no *.json shard report (merge takes the JSON reports of `scan --shard`, or the directory they were written to)",
                    arg.display()
                );
            }
            files.extend(inside);
        } else {
            files.push(arg.clone());
        }
    }
    Ok(files)
}

/// `DIR/*.json`: regular files (or links to them) whose name ends in `.json` and does not start
/// with a dot, sorted by name.
fn json_files_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("could not read {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("could not read {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if name.ends_with(".json") && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
