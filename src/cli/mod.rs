//! The command line (docs/cli.md): parsing, and running each subcommand.

mod access;
mod analysis;
mod checks;
pub mod color;
mod docs;
mod exit_code;
mod merge;
mod output;
mod publish;
mod report;
mod sarif;
mod scan;
mod spec;
mod writable;

use clap::{Parser, Subcommand};

use crate::analysis::exit::Outcome;
pub use analysis::AnalysisArgs;
pub use exit_code::{ExitArgs, ZeroOn};
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
        SARIF, OCSF, ASFF, HTML and compliance-summary reports. `scan` only ever calls read operations; `publish` is the \
        one command that writes to AWS (findings into Security Hub), with its own role.\n\n\
        Exit codes: 0 clean, 1 findings at or above --fail-on, 2 invalid input or fatal error \
        (nothing scanned), 3 scan incomplete (coverage gaps; wins over 1). --exit-zero-on \
        findings,gaps turns 1 and/or 3 into 0; 2 is never mapped.\n\n\
        Large organizations: run `scan --shard K/N -o json=shard-K.json` on N workers (in a \
        Kubernetes Indexed Job, without a shell: `scan --shards N --shard-index-env \
        JOB_COMPLETION_INDEX`), then `kms-audit merge shard-*.json` or `kms-audit merge DIR`."
)]
pub struct Cli {
    /// More log output on stderr (-v: info, -vv: debug). KMS_AUDIT_LOG takes a tracing filter.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr (no progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Colour in the table and the log: auto (only on a terminal, and not when NO_COLOR is set),
    /// always, or never.
    #[arg(
        long,
        value_enum,
        default_value_t = color::ColorChoice::Auto,
        global = true,
        value_name = "WHEN"
    )]
    pub color: color::ColorChoice,
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
    /// Who can use, administer and delegate one key (effective access from its key policy,
    /// grants and the account's IAM policies), from a saved report (--report) or a live
    /// read-only scan of the key's account and region.
    Access(access::AccessArgs),
    /// List the check catalog: ids, names, default severities and titles.
    Checks(checks::ChecksArgs),
    /// Explain one check: rationale, remediation, references and framework mappings.
    Explain(checks::ExplainArgs),
    /// Declared specs: `spec validate PATH...` checks them without AWS; `spec import
    /// terraform|pulumi FILE` prints a spec of the keys in a Terraform state or Pulumi export.
    Spec(spec::SpecArgs),
    /// Print a shell completion script: bash, zsh, fish or powershell.
    Completions(docs::CompletionsArgs),
    /// Print the man page kms-audit.1, or with --dir DIR write it and one page per subcommand.
    Man(docs::ManArgs),
    /// Send a saved report's findings to a dashboard. The only command that writes to AWS, with
    /// its own role: `publish securityhub REPORT.json` (docs/security-hub.md).
    Publish(publish::PublishArgs),
}

/// Runs the parsed command line; the error path (exit 2) is the caller's.
/// Leaves `value`'s memory to the operating system, which takes it back as the process ends a
/// moment later: freeing a 100,000-key report one allocation at a time takes a quarter of a
/// second (docs/benchmarks.md). Only for what a command holds until it returns.
pub(crate) fn free_at_exit<T>(value: T) {
    std::mem::forget(value);
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(args) => scan::run(args, cli.quiet),
        Command::Access(args) => access::run(args, cli.quiet),
        Command::Checks(args) => checks::run_checks(args),
        Command::Explain(args) => checks::run_explain(args),
        Command::Report(args) => report::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Spec(args) => spec::run(args),
        Command::Completions(args) => docs::run_completions(args),
        Command::Man(args) => docs::run_man(args),
        Command::Publish(args) => publish::run(args),
    }
}
