//! `kms-audit access KEY`: who can use, administer and delegate one key, from a saved report
//! (`--report`) or a live read-only scan of the key's account and region.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use crate::analysis::access::access_report;
use crate::analysis::exit::Outcome;
use crate::model::access::KeyAccess;
use crate::model::arn::Arn;
use crate::model::saved_report;
use crate::model::{KeyRecord, Report};
use crate::scan::aws::{AwsOptions, RetryMode};
use crate::scan::pipeline::{self, ScanRequest};
use crate::scan::progress::ProgressMode;
use crate::scan::targets::AccountSelection;

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// The key: its ARN, its key id, or one of its aliases (`alias/name` or the alias ARN).
    /// A key id or alias is looked up in --region (else the home region) of --account (else
    /// the caller's account); with --report, in the whole report.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Read the key from a JSON report written by `kms-audit scan` (no AWS access). Without
    /// it, the key's account and region are scanned now, read-only, as `scan` would.
    #[arg(long, value_name = "SCAN.json")]
    pub report: Option<PathBuf>,
    /// table (for people) or json (the key's `access` entry, with what the analysis never
    /// evaluates).
    #[arg(long, value_enum, default_value_t = AccessFormat::Table)]
    pub format: AccessFormat,
    /// The account to scan (live), when KEY is not an ARN. Default: the caller's.
    #[arg(long, value_name = "ID", conflicts_with = "report")]
    pub account: Option<String>,
    /// Role assumed in an account other than the caller's (live).
    #[arg(
        long,
        default_value = "OrganizationAccountAccessRole",
        value_name = "NAME"
    )]
    pub role_name: String,
    /// External id passed when assuming the role (live).
    #[arg(long, value_name = "ID", conflicts_with = "report")]
    pub external_id: Option<String>,
    /// Named profile from the AWS config files (live).
    #[arg(long, value_name = "PROFILE", conflicts_with = "report")]
    pub profile: Option<String>,
    /// The home region (live): STS, the partition, and where a key id or alias is looked up.
    #[arg(long, value_name = "REGION", conflicts_with = "report")]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint (live; AWS_ENDPOINT_URL works too).
    #[arg(long, value_name = "URL", conflicts_with = "report")]
    pub endpoint_url: Option<String>,
    /// Do not read the account's IAM policies (live): access through them is then "may".
    #[arg(long, conflicts_with = "report")]
    pub no_iam: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessFormat {
    Table,
    Json,
}

/// Exit 0 when the key's access was printed from a complete read, 3 when its account or region
/// has a coverage gap (the access shown may be incomplete), 2 when the key is not found.
pub fn run(args: AccessArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let mut report = match &args.report {
        Some(path) => saved_report::read_report(path)?,
        None => live_report(&args, quiet)?,
    };
    if report.access.is_none() {
        let organization_id = report.organization_id.clone();
        report.access = Some(access_report(&report, organization_id.as_deref()));
    }
    let index = find_key(&report, &args)?;
    let key = &report.inventory.keys[index];
    let not_evaluated = report
        .access
        .as_ref()
        .map(|a| a.not_evaluated.clone())
        .unwrap_or_default();
    let access = report
        .access
        .as_ref()
        .and_then(|a| a.key(&key.arn))
        .cloned()
        .unwrap_or_else(|| KeyAccess {
            key_arn: key.arn.clone(),
            ..KeyAccess::default()
        });
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        AccessFormat::Table => crate::report::access::render_key_table(
            key,
            &access,
            &not_evaluated,
            super::output::stdout_width(terminal)
                .unwrap_or(crate::report::DEFAULT_WIDTH)
                .clamp(60, 400),
            &mut out,
        ),
        AccessFormat::Json => {
            let value = serde_json::json!({
                "key_arn": access.key_arn,
                "account": access.account,
                "region": access.region,
                "aliases": key.aliases,
                "entries": access.entries,
                "unknown": access.unknown,
                "not_evaluated": not_evaluated,
            });
            serde_json::to_writer_pretty(&mut out, &value)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
        }
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(err) => return Err(err).context("could not write to stdout"),
    }
    let incomplete = report.coverage_gaps.iter().any(|g| {
        g.account == key.account.as_str()
            && g.region.as_deref().is_none_or(|r| r == key.region.as_str())
            && g.key_arn.as_deref().is_none_or(|a| a == key.arn)
    });
    Ok(if incomplete {
        Outcome::Incomplete
    } else {
        Outcome::Clean
    })
}

/// The position of the key KEY names in the report's inventory; an error that says what to do
/// when it names none, or several.
fn find_key(report: &Report, args: &AccessArgs) -> anyhow::Result<usize> {
    let wanted = args.key.trim();
    let alias = alias_name(wanted);
    let matches: Vec<usize> = report
        .inventory
        .keys
        .iter()
        .enumerate()
        .filter(|(_, k)| names(k, wanted, alias.as_deref()))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            let place = match &args.report {
                Some(path) => path.display().to_string(),
                None => "the scanned account and region".to_string(),
            };
            bail!(
                "no key '{wanted}' in {place} ({} keys): give the key's ARN, key id or alias, as `kms-audit scan` lists them",
                report.inventory.keys.len()
            )
        }
        many => {
            let arns: Vec<&str> = many
                .iter()
                .map(|i| report.inventory.keys[*i].arn.as_str())
                .collect();
            bail!(
                "'{wanted}' names {} keys: {}; give the key's ARN",
                many.len(),
                arns.join(", ")
            )
        }
    }
}

/// `alias/name` of an alias name or alias ARN.
fn alias_name(text: &str) -> Option<String> {
    if text.starts_with("alias/") {
        return Some(text.to_string());
    }
    let arn = Arn::parse(text)?;
    arn.resource
        .starts_with("alias/")
        .then(|| arn.resource.to_string())
}

fn names(key: &KeyRecord, wanted: &str, alias: Option<&str>) -> bool {
    if key.arn == wanted || key.key_id == wanted {
        return true;
    }
    if let Some(alias) = alias {
        // An alias ARN also names its account and region.
        let place_matches = match Arn::parse(wanted) {
            Some(arn) if arn.resource.starts_with("alias/") => {
                arn.account == key.account.as_str() && arn.region == key.region.as_str()
            }
            _ => true,
        };
        return place_matches && key.aliases.iter().any(|a| a == alias);
    }
    false
}

/// Scans the key's account and region now (read-only, as `scan` does).
fn live_report(args: &AccessArgs, quiet: bool) -> anyhow::Result<Report> {
    let arn = Arn::parse(args.key.trim());
    if let Some(arn) = &arn
        && arn.service != "kms"
    {
        bail!(
            "'{}' is not a KMS key or alias ARN (its service is '{}')",
            args.key,
            arn.service
        );
    }
    if let Some(region) = &args.region
        && crate::model::regions::lookup(region).is_none()
    {
        bail!(
            "unknown region '{region}' in --region: use an AWS region code such as us-east-1 or eu-west-1"
        );
    }
    let (account, region) = match &arn {
        Some(arn) => (Some(arn.account.to_string()), Some(arn.region.to_string())),
        None => (args.account.clone(), args.region.clone()),
    };
    if let (Some(arn_account), Some(flag)) = (arn.as_ref().map(|a| a.account), &args.account)
        && arn_account != flag
    {
        bail!(
            "--account {flag} does not match the account {arn_account} of {}",
            args.key
        );
    }
    let request = ScanRequest {
        aws: AwsOptions {
            profile: args.profile.clone(),
            region: args.region.clone().or_else(|| region.clone()),
            endpoint_url: args.endpoint_url.clone(),
            connect_timeout: Duration::from_secs(3),
            max_attempts: 10,
            attempt_timeout: Duration::from_secs(20),
            retry_mode: RetryMode::Standard,
        },
        regions: region.into_iter().collect(),
        exclude_regions: Vec::new(),
        accounts: AccountSelection {
            accounts: account.into_iter().collect(),
            role_name: args.role_name.clone(),
            external_id: args.external_id.clone(),
            ..AccountSelection::default()
        },
        concurrency: 64,
        per_target_concurrency: 8,
        quota_share: 0.5,
        progress: if quiet || !std::io::stderr().is_terminal() {
            ProgressMode::Off
        } else {
            ProgressMode::Bar
        },
        target_timeout: Duration::from_secs(3600),
        shard: None,
        read_iam: !args.no_iam,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let report = runtime.block_on(pipeline::run(&request))?;
    for gap in &report.coverage_gaps {
        tracing::warn!(
            "coverage gap: account {} {}: {} ({})",
            gap.account,
            gap.region.as_deref().unwrap_or("(all regions)"),
            gap.operation,
            gap.reason
        );
    }
    Ok(report)
}
