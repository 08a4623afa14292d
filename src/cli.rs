//! The command line (DESIGN "Command line"): parsing, and running each subcommand.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::aws::AwsOptions;
use crate::exit::Outcome;
use crate::report::{self, Format, OutputTarget, RenderOptions};
use crate::scan::{self, ScanRequest};

#[derive(Debug, Parser)]
#[command(
    name = "kms-audit",
    version,
    about = "Read-only compliance auditor and drift scanner for AWS KMS keys",
    long_about = "Read-only compliance auditor and drift scanner for AWS KMS keys.\n\n\
        kms-audit inventories every KMS key in every region (aliases, state, deletion date, \
        rotation, multi-Region links, key policy, tags, grants) and writes table or JSON reports. \
        It only ever calls read operations.\n\n\
        Exit codes: 0 clean, 1 findings at or above --fail-on, 2 invalid input or fatal error \
        (nothing scanned), 3 scan incomplete (coverage gaps; wins over 1)."
)]
pub struct Cli {
    /// More log output on stderr (-v: progress, -vv: debug). KMS_AUDIT_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan KMS keys in the caller's account, in every enabled region or those given.
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Regions to scan (comma-separated). Default: every region of the partition; opt-in
    /// regions the account has not enabled are skipped and recorded.
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,
    /// Regions to leave out (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub exclude_regions: Vec<String>,
    /// Named profile from the AWS config files (default: the SDK's credential chain).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (e.g. a local emulator). AWS_ENDPOINT_URL works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Report format written to stdout. Default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write a report file, atomically: FORMAT=PATH (repeatable), e.g. -o json=out/scan.json.
    #[arg(short = 'o', long = "output", value_name = "FORMAT=PATH")]
    pub outputs: Vec<OutputTarget>,
    /// Most AWS requests in flight at once, across all accounts and regions.
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Most requests in flight per account and region (protects each region's KMS quota).
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub per_target_concurrency: u32,
    /// Attempts per request; throttling and server errors are retried with backoff and jitter.
    #[arg(long, default_value_t = 6, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Time limit for one attempt of one request, in seconds.
    #[arg(long, default_value_t = 20, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,
}

/// Runs the parsed command line; the error path (exit 2) is the caller's.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
    }
}

fn run_scan(args: ScanArgs) -> anyhow::Result<Outcome> {
    let request = ScanRequest {
        aws: AwsOptions {
            profile: args.profile,
            endpoint_url: args.endpoint_url,
            max_attempts: args.max_attempts,
            attempt_timeout: Duration::from_secs(args.call_timeout),
        },
        regions: args.regions,
        exclude_regions: args.exclude_regions,
        concurrency: args.concurrency as usize,
        per_target_concurrency: args.per_target_concurrency as usize,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let report = runtime.block_on(scan::run(&request))?;

    emit(&report, args.format, &args.outputs)?;
    Ok(Outcome::of_scan(report.is_incomplete(), false))
}

/// Writes the requested files, then the stdout report. Files first: if one cannot be written the
/// run fails (exit 2) with the path in the message.
fn emit(
    report: &crate::model::Report,
    format: Option<Format>,
    outputs: &[OutputTarget],
) -> anyhow::Result<()> {
    for output in outputs {
        let text = report::render(report, output.format, RenderOptions::default());
        report::write_atomic(&output.path, text.as_bytes()).with_context(|| {
            format!(
                "could not write the {} report to {}",
                output.format,
                output.path.display()
            )
        })?;
    }
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let format = format.unwrap_or(if terminal {
        Format::Table
    } else {
        Format::Json
    });
    let options = RenderOptions {
        color: terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = report::render(report, format, options);
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())
        .and_then(|_| lock.flush())
        .context("could not write the report to stdout")?;
    Ok(())
}
