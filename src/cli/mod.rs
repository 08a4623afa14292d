//! The command line (DESIGN "Command line"): parsing, and running each subcommand.

mod analysis;
mod checks;
mod merge;
mod output;
mod report;
mod sarif;
mod scan;
mod spec;

use clap::{Parser, Subcommand};

use crate::exit::Outcome;
pub use analysis::AnalysisArgs;
pub use merge::MergeArgs;
pub use output::OutputArgs;
pub use report::ReportArgs;
pub use scan::ScanArgs;

#[derive(Debug, Parser)]
#[command(
    name = "kms-audit",
    version,
    about = "Read-only compliance auditor and drift scanner for AWS KMS keys",
    long_about = "Read-only compliance auditor and drift scanner for AWS KMS keys.\n\n\
        kms-audit inventories every KMS key in every region (aliases, state, deletion date, \
        rotation, multi-Region links, key policy, tags, grants) and writes table, JSON, CSV, \
        SARIF, OCSF or ASFF reports. It only ever calls read operations.\n\n\
        Exit codes: 0 clean, 1 findings at or above --fail-on, 2 invalid input or fatal error \
        (nothing scanned), 3 scan incomplete (coverage gaps; wins over 1).\n\n\
        Large organizations: run `scan --shard K/N -o json=shard-K.json` on N workers (e.g. a \
        Kubernetes Indexed Job), then `kms-audit merge shard-*.json`."
)]
pub struct Cli {
    /// More log output on stderr (-v: info, -vv: debug). KMS_AUDIT_LOG takes a tracing filter.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr (no progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan KMS keys: the caller's account, a list of accounts, or a whole AWS Organization
    /// (--org), in every enabled region or those given.
    Scan(ScanArgs),
    /// Re-check and re-render a saved JSON report offline (no AWS access): any format,
    /// suppressions, baseline and exit code as `scan` would give.
    Report(ReportArgs),
    /// Join the JSON reports of a sharded scan (`scan --shard K/N`) into one, re-check the whole
    /// inventory offline and report like `scan`; every shard 1..N must be there (or
    /// --allow-partial).
    Merge(MergeArgs),
    /// List the check catalog: ids, names, default severities and titles.
    Checks(checks::ChecksArgs),
    /// Explain one check: rationale, remediation, references and framework mappings.
    Explain(checks::ExplainArgs),
    /// Declared specs: `spec validate PATH...` checks them without AWS; `spec import
    /// terraform|pulumi FILE` prints a spec of the keys in a Terraform state or Pulumi export.
    Spec(spec::SpecArgs),
}

/// Runs the parsed command line; the error path (exit 2) is the caller's.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(args) => scan::run(args, cli.quiet),
        Command::Checks(args) => checks::run_checks(args),
        Command::Explain(args) => checks::run_explain(args),
        Command::Report(args) => report::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Spec(args) => spec::run(args),
    }
}
