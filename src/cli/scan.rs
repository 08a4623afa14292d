//! `kms-audit scan`: read the live estate, then check and report it.

use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::output;
use crate::analyze::{self, AnalysisInputs};
use crate::aws::AwsOptions;
use crate::exit::Outcome;
use crate::model::Severity;
use crate::report::{Format, OutputTarget};
use crate::scan::{self, ScanRequest};

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
    /// Exit 1 when an unsuppressed finding is at or above this severity (`none`: never).
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = parse_fail_on)]
    pub fail_on: FailOn,
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

pub fn run(args: ScanArgs) -> anyhow::Result<Outcome> {
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
    let mut report = runtime.block_on(scan::run(&request))?;
    analyze::analyze(&mut report, &AnalysisInputs::default());

    output::emit(&report, args.format, &args.outputs)?;
    Ok(Outcome::of_scan(
        report.is_incomplete(),
        analyze::has_failing_findings(&report, args.fail_on.0),
    ))
}

/// `--fail-on`: a severity, or `none` (never fail on findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn(pub Option<Severity>);

pub fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(FailOn(None));
    }
    text.parse::<Severity>()
        .map(|s| FailOn(Some(s)))
        .map_err(|err| format!("{err}, or none"))
}
