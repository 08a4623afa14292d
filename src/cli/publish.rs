//! `kms-audit publish securityhub REPORT.json`: the one command that writes to AWS, with its own
//! role; `scan` stays read-only.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::analysis::exit::Outcome;
use crate::publish::{self, DEFAULT_PUBLISHER_ROLE, PublishRequest};
use crate::scan::aws::{AwsOptions, RetryMode};

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(subcommand)]
    pub destination: Destination,
}

#[derive(Debug, Subcommand)]
pub enum Destination {
    /// Import a JSON report's findings into AWS Security Hub, each (account, region) group with
    /// that account's own credentials, in batches of at most 100; findings resolved since the
    /// baseline are archived. Exit 0 when every batch was imported, 3 when any failed (each is
    /// named), 2 for invalid input.
    #[command(name = "securityhub")]
    SecurityHub(SecurityHubArgs),
}

#[derive(Debug, Args)]
pub struct SecurityHubArgs {
    /// A JSON report written by `kms-audit scan`, `report` or `merge` (-o json=FILE).
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// An earlier JSON report: its findings that are gone from REPORT.json (where REPORT.json
    /// looked) are sent again with RecordState ARCHIVED, which closes them in Security Hub.
    /// Without it, the `resolved` findings saved in REPORT.json (scan --baseline) are archived.
    #[arg(long, value_name = "PREVIOUS.json")]
    pub baseline: Option<PathBuf>,
    /// Role assumed in every account but the caller's own to import its findings
    /// (examples/iam/kms-audit-publisher-stackset.yaml creates it).
    #[arg(long, default_value = DEFAULT_PUBLISHER_ROLE, value_name = "NAME")]
    pub publisher_role_name: String,
    /// External id passed when assuming the publisher role.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Named profile from the AWS config files (default: the SDK's credential chain).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (e.g. a local emulator). AWS_ENDPOINT_URL (and
    /// AWS_ENDPOINT_URL_SECURITYHUB for Security Hub alone) work too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Most accounts published at once (each account's regions go in parallel).
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Most BatchImportFindings requests per second per account and region, as a percentage of
    /// Security Hub's quota of 10 per second: 50 leaves half to the account's other finding
    /// providers.
    #[arg(long, default_value_t = 50, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(1..=300))]
    pub quota_share: u32,
    /// Attempts per request; throttling, server errors and dropped connections are retried with
    /// exponential backoff and jitter (capped at 20 s), as in scan.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Time limit for one attempt of one request, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,
    /// What stdout gets: a table per account and region, or the JSON summary.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
    /// Also write the JSON summary to this file, atomically.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

pub fn run(args: PublishArgs) -> anyhow::Result<Outcome> {
    match args.destination {
        Destination::SecurityHub(args) => run_security_hub(args),
    }
}

fn run_security_hub(args: SecurityHubArgs) -> anyhow::Result<Outcome> {
    // Every input is read and checked before the first AWS call.
    let mut report = publish::input::read(&args.report)?;
    let baseline_name = match &args.baseline {
        Some(path) => {
            let baseline = publish::input::read_baseline(path)
                .map_err(|err| anyhow::anyhow!("invalid --baseline: {err}"))?;
            crate::analysis::baseline::apply(&mut report, &baseline);
            Some(path.display().to_string())
        }
        None => None,
    };
    if report.is_incomplete() {
        tracing::warn!(
            "{} is incomplete (coverage gaps): where it could not look, findings are neither \
             sent nor archived",
            args.report.display()
        );
    }
    let request = PublishRequest {
        aws: AwsOptions {
            profile: args.profile,
            // The home region comes from the SDK's chain (AWS_REGION, the profile); each
            // finding is sent to its own region.
            region: None,
            endpoint_url: args.endpoint_url,
            connect_timeout: Duration::from_secs(3),
            max_attempts: args.max_attempts,
            attempt_timeout: Duration::from_secs(args.call_timeout),
            retry_mode: RetryMode::Standard,
        },
        role_name: args.publisher_role_name,
        external_id: args.external_id,
        concurrency: args.concurrency as usize,
        quota_share: f64::from(args.quota_share) / 100.0,
        report_name: args.report.display().to_string(),
        baseline_name,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let summary = runtime.block_on(publish::publish(&request, &report))?;
    super::free_at_exit(report);

    if let Some(path) = &args.output {
        crate::report::write_atomic_with(path, |out| summary.write_json(out))
            .with_context(|| format!("could not write the summary to {}", path.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        SummaryFormat::Table => summary.write_table(&mut out),
        SummaryFormat::Json => summary.write_json(&mut out),
    }
    .and_then(|()| out.flush());
    match written {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(err).context("could not write the summary to stdout");
        }
        _ => {}
    }
    if summary.is_complete() {
        return Ok(Outcome::Clean);
    }
    for line in summary.failure_lines() {
        eprintln!("kms-audit: error: {line}");
    }
    eprintln!(
        "kms-audit: error: {} of {} findings were not imported ({} batches failed)",
        summary.totals.failed,
        summary.totals.failed + summary.totals.imported + summary.totals.archived,
        summary.totals.failed_batches
    );
    Ok(Outcome::Incomplete)
}
