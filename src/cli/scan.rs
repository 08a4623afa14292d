//! `kms-audit scan`: read the live estate, then check and report it.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::analysis::AnalysisArgs;
use super::exit_code::ExitArgs;
use super::output::{self, OutputArgs};
use crate::analysis;
use crate::analysis::exit::Outcome;
use crate::scan::aws::{AwsOptions, RetryMode};
use crate::scan::pipeline::{self, ScanRequest};
use crate::scan::progress::ProgressMode;
use crate::scan::shard::Shard;
use crate::scan::targets::AccountSelection;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan every ACTIVE account of the AWS Organization (run from the management or a delegated
    /// administrator account). The caller's own account is scanned with its own credentials.
    #[arg(long, conflicts_with = "accounts_file")]
    pub org: bool,
    /// With --org: only accounts under this OU or root, at any depth (repeatable).
    #[arg(long = "ou", value_name = "OU_ID", requires = "org")]
    pub ous: Vec<String>,
    /// Only these accounts (comma-separated); without --org or --accounts-file, exactly these.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub accounts: Vec<String>,
    /// Leave these accounts out (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub exclude_accounts: Vec<String>,
    /// YAML file listing the accounts to scan (id, optional name, role_arn, external_id).
    #[arg(long, value_name = "FILE")]
    pub accounts_file: Option<std::path::PathBuf>,
    /// Role assumed in every account but the caller's.
    #[arg(
        long,
        default_value = "OrganizationAccountAccessRole",
        value_name = "NAME"
    )]
    pub role_name: String,
    /// External id passed when assuming roles (an accounts file entry may override it).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Regions to scan (comma-separated). Default: every region of the partition; opt-in
    /// regions the account has not enabled are skipped and recorded.
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,
    /// Regions to leave out (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub exclude_regions: Vec<String>,
    /// Named profile from the AWS config files; its credentials are used even when
    /// AWS_ACCESS_KEY_ID is set. A profile the files do not define is an error. Default: the SDK's
    /// credential chain (environment, AWS_PROFILE, web identity, container, instance metadata).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// The home region: where STS is called, and which partition's regions are scanned. Default:
    /// AWS_REGION, AWS_DEFAULT_REGION or the profile's `region`; with none of them set, kms-audit
    /// stops (exit 2) rather than guess.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint (e.g. a local emulator). AWS_ENDPOINT_URL works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Do not read each account's IAM users, groups, roles and policies
    /// (iam:GetAccountAuthorizationDetails, a few calls per account). Without them, access
    /// granted through IAM policies is reported as "may", and IAM001/IAM002 (Security Hub KMS.1,
    /// KMS.2) are not evaluated.
    #[arg(long)]
    pub no_iam: bool,
    /// Analysis inputs: --suppressions, --baseline.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Reports and exit policy: --format, -o, --fail-on, --new-only.
    #[command(flatten)]
    pub output: OutputArgs,
    /// --exit-zero-on findings,gaps.
    #[command(flatten)]
    pub exit: ExitArgs,
    /// Most AWS requests in flight at once, across all accounts and regions [default: the
    /// config's `concurrency`, else 256]. Each account-region is also held to
    /// --per-target-concurrency, which is what protects its KMS request quotas.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: Option<u32>,
    /// Most requests in flight per account and region (protects each region's KMS quota).
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub per_target_concurrency: u32,
    /// Most requests per second per account, region and operation, as a percentage of the KMS
    /// default quota (ListGrants 100/s, GetKeyPolicy 1,000/s, ...): 50 leaves half of every
    /// quota to the account's own applications. Above 100 only for accounts whose quotas were
    /// raised.
    #[arg(long, default_value_t = 50, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub quota_share: u32,
    /// Attempts per request: throttling, server errors and dropped connections are retried with
    /// exponential backoff and jitter (capped at 20 s). A key's field is recorded as a coverage
    /// gap only when every attempt has failed.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// standard: exponential backoff with jitter; adaptive: also slow an account×region down after
    /// AWS throttles it (gentlest on shared quotas, much slower under throttling).
    #[arg(long, value_enum, default_value_t = RetryMode::Standard)]
    pub retry_mode: RetryMode,
    /// Time limit for one account×region as a whole, in seconds; one that runs over is recorded as
    /// failed (a coverage gap) and the rest of the scan goes on.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub target_timeout: u64,
    /// Scan only shard K of N (1 ≤ K ≤ N) of the selected accounts, for N workers whose JSON
    /// reports `kms-audit merge` joins. An account's shard depends only on its id: 1 + (first 8
    /// bytes of SHA-256(id), big-endian) mod N. Every shard lists the organization itself.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Like --shard, for a pod with no shell to compute K (a Kubernetes Indexed Job): read the
    /// shard index from environment variable VAR, 0-based as Kubernetes' JOB_COMPLETION_INDEX
    /// gives it, so this is shard K = VAR + 1 of --shards N. VAR unset, not a whole number, or not
    /// below N is an error (exit 2). E.g. --shards 8 --shard-index-env JOB_COMPLETION_INDEX.
    #[arg(
        long,
        value_name = "VAR",
        requires = "shards",
        conflicts_with = "shard"
    )]
    pub shard_index_env: Option<String>,
    /// N, the number of shards, with --shard-index-env (the Indexed Job's `completions`).
    #[arg(
        long,
        value_name = "N",
        requires = "shard_index_env",
        conflicts_with = "shard",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub shards: Option<u32>,
    /// Time limit for one attempt of one request, in seconds.
    #[arg(long, default_value_t = 20, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,
    /// Time limit for opening a connection to AWS, in seconds. The first request
    /// (sts:GetCallerIdentity) must also be answered within this plus 5 s, every retry included:
    /// an endpoint that is down, unreachable or silent stops the scan at once (exit 2) with one
    /// line naming it.
    #[arg(long, default_value_t = 3, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=60))]
    pub connect_timeout: u64,
}

/// How often a scan whose stderr is not a terminal logs a progress line: 30 s, or
/// `KMS_AUDIT_PROGRESS_INTERVAL` seconds.
fn progress_interval() -> Duration {
    std::env::var("KMS_AUDIT_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|secs| *secs > 0)
        .map_or(Duration::from_secs(30), Duration::from_secs)
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    text.parse()
}

/// `--concurrency` when neither the flag nor the config sets it.
const DEFAULT_CONCURRENCY: u32 = 256;

/// `--shard K/N`, or `--shards N --shard-index-env VAR` read from the environment now.
fn shard(args: &ScanArgs) -> anyhow::Result<Option<Shard>> {
    match (&args.shard_index_env, args.shards) {
        (Some(var), Some(count)) => {
            let value = std::env::var_os(var).map(|v| v.to_string_lossy().into_owned());
            let shard = crate::scan::shard::from_env_index(var, value.as_deref(), count)
                .map_err(anyhow::Error::msg)?;
            tracing::info!("shard {shard} ({var}={})", shard.index - 1);
            Ok(Some(shard))
        }
        _ => Ok(args.shard),
    }
}

pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let shard = shard(&args)?;
    if let Some(region) = &args.region
        && crate::model::regions::lookup(region).is_none()
    {
        anyhow::bail!(
            "unknown region '{region}' in --region: use an AWS region code such as us-east-1 or eu-west-1"
        );
    }
    // Every input file and output path is checked before the first AWS call.
    args.output.check()?;
    let mut inputs = args.analysis.load()?;
    inputs.release_access = !args.output.carries_access();
    if !args.regions.is_empty() {
        inputs.spec_scope.regions.clone_from(&args.regions);
    }
    inputs
        .spec_scope
        .exclude_regions
        .clone_from(&args.exclude_regions);
    let request = ScanRequest {
        aws: AwsOptions {
            profile: args.profile,
            region: args.region,
            endpoint_url: args.endpoint_url,
            connect_timeout: Duration::from_secs(args.connect_timeout),
            max_attempts: args.max_attempts,
            attempt_timeout: Duration::from_secs(args.call_timeout),
            retry_mode: args.retry_mode,
        },
        // The config's `regions` and `concurrency` apply when the flags are not given.
        regions: if args.regions.is_empty() {
            inputs.config.regions.clone()
        } else {
            args.regions
        },
        exclude_regions: args.exclude_regions,
        accounts: AccountSelection {
            org: args.org,
            ous: args.ous,
            accounts: args.accounts,
            exclude_accounts: args.exclude_accounts,
            accounts_file: args.accounts_file,
            role_name: args.role_name,
            external_id: args.external_id,
        },
        concurrency: args
            .concurrency
            .or(inputs.config.concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY) as usize,
        per_target_concurrency: args.per_target_concurrency as usize,
        quota_share: f64::from(args.quota_share) / 100.0,
        progress: if quiet {
            ProgressMode::Off
        } else if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines(progress_interval())
        },
        target_timeout: Duration::from_secs(args.target_timeout),
        shard,
        read_iam: !args.no_iam,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let mut report = runtime.block_on(pipeline::run(&request))?;
    // Each key's policy was read on its own; equal ones become one text before the analysis.
    report.inventory.share_equal_policies();
    analysis::analyze_freeing_specs(&mut report, &mut inputs);

    let policy = args.exit.policy(args.output.fail_policy());
    output::emit(&report, &args.output, policy)?;
    let outcome = args.exit.outcome(&report, &policy);
    super::free_at_exit(report);
    Ok(outcome)
}
