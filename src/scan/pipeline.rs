//! The scan pipeline: validate the request, find the targets, collect, assemble the report.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::model::arn::role_arn;
use crate::model::iam::AccountAuthorizationDetails;
use crate::model::regions::{RegionInfo, select_regions};
use crate::model::{CoverageGap, Inventory, Report, SCHEMA_VERSION, ShardInfo, Summary, ToolInfo};
use crate::scan::aws::credentials::{self, RoleToAssume};
use crate::scan::aws::iam::{self, IamClient, IamError};
use crate::scan::aws::reach::IdentityError;
use crate::scan::aws::{self, ApiCallCounter, AwsOptions, CallError};
use crate::scan::collect::{self, GapKind, Gate, TargetOutcome, TargetScan};
use crate::scan::progress::{ProgressDisplay, ProgressMode, ScanProgress};
use crate::scan::shard::{self, Shard};
use crate::scan::targets::accounts_file::{self, AccountsFileError};
use crate::scan::targets::org::{self, OrgError, Organization};
use crate::scan::targets::{AccountSelection, AccountTarget, SelectionError, filter_accounts};

/// Accounts whose role is being assumed at the same time: STS and Organizations quotas are low.
const ACCOUNT_SETUP_CONCURRENCY: usize = 4;

/// What the user asked to scan, and how hard to push.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub aws: AwsOptions,
    pub regions: Vec<String>,
    pub exclude_regions: Vec<String>,
    pub accounts: AccountSelection,
    /// Global limit on requests in flight.
    pub concurrency: usize,
    /// Limit on requests in flight per account×region.
    pub per_target_concurrency: usize,
    /// The share of each operation's default KMS quota one account×region may use per second
    /// (0.5: half); see [`crate::scan::collect::pace`].
    pub quota_share: f64,
    pub progress: ProgressMode,
    /// Limit for one account×region as a whole (listing and every key).
    pub target_timeout: std::time::Duration,
    /// `--shard K/N`: scan only the selected accounts of shard K (see [`crate::scan::shard`]).
    pub shard: Option<Shard>,
    /// Read each account's IAM authorization details (`--no-iam` turns it off).
    pub read_iam: bool,
}

/// Errors that stop a scan before anything was scanned (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Setup(#[from] aws::AwsSetupError),
    #[error(transparent)]
    Region(#[from] crate::model::regions::RegionError),
    #[error("could not identify the caller's AWS account with sts:GetCallerIdentity: {0}")]
    CallerIdentity(CallError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error(transparent)]
    AccountsFile(#[from] AccountsFileError),
    #[error(
        "could not list the organization's accounts ({0}); --org needs organizations:DescribeOrganization, ListAccounts, ListAccountsForParent and ListOrganizationalUnitsForParent from the management or a delegated administrator account"
    )]
    Organization(OrgError),
}

/// Runs a whole scan and returns the report (findings are added by later stages).
pub async fn run(request: &ScanRequest) -> Result<Report, ScanError> {
    let started = Instant::now();
    let started_at = crate::model::timestamp::now_rfc3339();
    let base = aws::load_base_config(&request.aws).await?;
    // `load_base_config` refuses a configuration without a region.
    let home_region = base.region().map(|r| r.to_string()).unwrap_or_default();
    let regions = select_regions(&home_region, &request.regions, &request.exclude_regions)?;
    let selection = &request.accounts;
    selection.validate()?;
    let listed_in_file = match &selection.accounts_file {
        Some(path) => Some(accounts_file::load(path)?),
        None => None,
    };
    aws::check_credentials(&base, &request.aws).await?;

    let counter = ApiCallCounter::default();
    let caller = aws::reach::caller_identity(&base, &counter, &request.aws)
        .await
        .map_err(|err| match err {
            IdentityError::Unreachable(err) => ScanError::Setup(err),
            IdentityError::Call(err) => ScanError::CallerIdentity(err),
        })?;
    let (accounts, organization) = resolve_accounts(
        &base,
        &counter,
        selection,
        listed_in_file,
        &caller,
        &home_region,
    )
    .await?;
    let (accounts, shard_info) = match request.shard {
        Some(shard) => take_shard(accounts, shard),
        None => (accounts, None),
    };
    tracing::info!(
        accounts = accounts.len(),
        regions = regions.len(),
        "scanning"
    );

    let setup = AccountSetup {
        base: &base,
        counter: &counter,
        caller: &caller,
        selection,
        partition: partition_of(&home_region),
        session_name: format!("kms-audit-{}", crate::model::timestamp::now_unix()),
        regions: &regions,
        global: Arc::new(Semaphore::new(request.concurrency.max(1))),
        per_target: request.per_target_concurrency,
        quota_share: request.quota_share,
        progress: Arc::new(ScanProgress::default()),
        iam: request.read_iam.then(|| IamReads {
            client: Arc::new(IamClient::new(
                &base,
                iam::endpoint_override(request.aws.endpoint_url.as_deref(), &base),
                request.aws.max_attempts,
                request.aws.attempt_timeout,
                counter.clone(),
            )),
            home_region: home_region.clone(),
            limit: request.target_timeout,
            in_flight: Arc::new(Semaphore::new(IAM_READ_CONCURRENCY)),
            started: std::sync::Mutex::new(Vec::new()),
        }),
    };
    let outcomes = setup.scan(&accounts, request).await;
    let iam = match &setup.iam {
        Some(reads) => Some(reads.finish().await),
        None => None,
    };
    let mut report = report_of(
        started,
        started_at,
        organization,
        shard_info,
        outcomes,
        &counter,
    );
    if let Some(iam) = iam {
        add_iam(&mut report, iam);
    }
    Ok(report)
}

/// Accounts whose IAM details are read at the same time: a few calls each, under IAM's own
/// (account-wide, low) request quotas.
const IAM_READ_CONCURRENCY: usize = 4;

/// The IAM reads of a scan: one per account whose role was assumed, each started as soon as
/// its credentials are ready and run beside its regions' scans.
struct IamReads {
    client: Arc<IamClient>,
    home_region: String,
    limit: std::time::Duration,
    in_flight: Arc<Semaphore>,
    started: std::sync::Mutex<Vec<tokio::task::JoinHandle<IamRead>>>,
}

/// What one account's IAM read gave.
struct IamRead {
    account: String,
    result: Result<AccountAuthorizationDetails, IamError>,
}

impl IamReads {
    /// Starts reading `account`'s IAM details with its credentials.
    fn start(&self, account: &str, config: &aws_config::SdkConfig) {
        let client = self.client.clone();
        let in_flight = self.in_flight.clone();
        let home_region = self.home_region.clone();
        let limit = self.limit;
        let account = account.to_string();
        let credentials = config.credentials_provider();
        let task = tokio::spawn(async move {
            let result = match credentials {
                None => Err(IamError::Failed(CallError::new(
                    Some("CredentialsError"),
                    "no credentials for the account",
                ))),
                Some(credentials) => {
                    let _permit = in_flight.acquire_owned().await;
                    let read =
                        client.account_authorization_details(&credentials, &account, &home_region);
                    tokio::time::timeout(limit, read).await.unwrap_or_else(|_| {
                        Err(IamError::Failed(CallError::new(
                            Some("Timeout"),
                            format!(
                                "the read did not finish within {} s (--target-timeout)",
                                limit.as_secs()
                            ),
                        )))
                    })
                }
            };
            IamRead { account, result }
        });
        if let Ok(mut started) = self.started.lock() {
            started.push(task);
        }
    }

    /// Waits for every read started.
    async fn finish(&self) -> Vec<IamRead> {
        let tasks = match self.started.lock() {
            Ok(mut started) => std::mem::take(&mut *started),
            Err(_) => Vec::new(),
        };
        let mut reads = Vec::with_capacity(tasks.len());
        for task in tasks {
            match task.await {
                Ok(read) => reads.push(read),
                Err(err) => tracing::error!("an IAM read stopped: {err}"),
            }
        }
        reads
    }
}

/// The IAM details read, into the inventory; each failed read, as a coverage gap of its
/// account (IAM is global: the gap has no region).
fn add_iam(report: &mut Report, reads: Vec<IamRead>) {
    let mut read = Vec::new();
    for IamRead { account, result } in reads {
        match result {
            Ok(details) => read.push(details),
            Err(err) => {
                tracing::warn!("account {account}: {err}");
                report.coverage_gaps.push(CoverageGap {
                    account,
                    region: None,
                    key_arn: None,
                    operation: iam::OPERATION.to_string(),
                    error_code: err.error_code().map(str::to_string),
                    reason: iam_gap_reason(&err),
                });
            }
        }
    }
    report.inventory.iam = Some(read);
    report.sort_collected();
    report.refresh_summary();
}

/// The gap's reason: what failed, what it leaves undecided, and what to do.
fn iam_gap_reason(err: &IamError) -> String {
    let remedy = if err.is_denied() {
        "allow iam:GetAccountAuthorizationDetails to the audit role (examples/iam/), or pass --no-iam"
    } else {
        "re-run the scan, or pass --no-iam"
    };
    format!(
        "{err}. Access through the account's IAM policies is reported as 'may', and IAM001/IAM002 are not evaluated; {remedy}"
    )
}

/// The report of the collected targets, in a stable order, with its summary.
fn report_of(
    started: Instant,
    started_at: String,
    organization: Option<Organization>,
    shard_info: Option<ShardInfo>,
    outcomes: Vec<TargetOutcome>,
    counter: &ApiCallCounter,
) -> Report {
    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: ToolInfo::default(),
        started_at,
        finished_at: String::new(),
        organization_id: organization.as_ref().map(|o| o.id.clone()),
        organization_accounts: organization
            .as_ref()
            .map(|o| o.accounts.iter().map(|a| a.id.clone()).collect()),
        account_names: organization
            .iter()
            .flat_map(|o| &o.accounts)
            .filter_map(|a| Some((a.id.clone(), a.name.clone()?)))
            .collect(),
        shard: shard_info,
        targets: Vec::new(),
        coverage_gaps: Vec::new(),
        inventory: Inventory::default(),
        findings: Vec::new(),
        resolved: Vec::new(),
        access: None,
        summary: Summary::default(),
    };
    for outcome in outcomes {
        report.targets.push(outcome.target);
        report.inventory.keys.extend(outcome.keys);
        report.coverage_gaps.extend(outcome.gaps);
    }
    report.sort_collected();
    report.finished_at = crate::model::timestamp::now_rfc3339();
    report.summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.summary.api_calls = counter.snapshot();
    report.refresh_summary();
    report
}

/// The accounts to scan, and the organization when `--org` read it.
async fn resolve_accounts(
    base: &aws_config::SdkConfig,
    counter: &ApiCallCounter,
    selection: &AccountSelection,
    listed_in_file: Option<Vec<AccountTarget>>,
    caller: &str,
    home_region: &str,
) -> Result<(Vec<AccountTarget>, Option<Organization>), ScanError> {
    if selection.org {
        let client = aws::organizations_client(base, counter, organizations_region(home_region));
        let organization = org::describe(&client)
            .await
            .map_err(ScanError::Organization)?;
        let mut candidates: Vec<AccountTarget> = organization
            .accounts
            .iter()
            .map(|a| AccountTarget {
                id: a.id.clone(),
                name: a.name.clone(),
                ..AccountTarget::default()
            })
            .collect();
        if !selection.ous.is_empty() {
            let under = org::accounts_under(&client, &selection.ous)
                .await
                .map_err(ScanError::Organization)?;
            candidates.retain(|a| under.contains(&a.id));
        }
        let source = format!("organization {}", organization.id);
        let accounts = filter_accounts(
            candidates,
            &selection.accounts,
            &selection.exclude_accounts,
            &source,
        )?;
        return Ok((accounts, Some(organization)));
    }
    let candidates = match listed_in_file {
        Some(listed) => listed,
        None if !selection.accounts.is_empty() => selection
            .accounts
            .iter()
            .map(|id| AccountTarget::new(id.clone()))
            .collect(),
        None => vec![AccountTarget::new(caller)],
    };
    let source = match &selection.accounts_file {
        Some(path) => path.display().to_string(),
        None => "the account list".to_string(),
    };
    let accounts = filter_accounts(
        candidates,
        &selection.accounts,
        &selection.exclude_accounts,
        &source,
    )?;
    Ok((accounts, None))
}

/// Scans one account×region, or records it as failed when it does not finish in time (a region
/// that hangs must not hold the whole scan hostage).
async fn scan_with_deadline(scan: &TargetScan, limit: std::time::Duration) -> TargetOutcome {
    match tokio::time::timeout(limit, collect::scan_target(scan)).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let err = CallError::new(
                Some("Timeout"),
                format!(
                    "the account-region did not finish within {} s (--target-timeout)",
                    limit.as_secs()
                ),
            );
            scan.failed("ScanTarget", &err)
        }
    }
}

/// The selected accounts of `shard`, and what the report records about it.
fn take_shard(
    accounts: Vec<AccountTarget>,
    shard: Shard,
) -> (Vec<AccountTarget>, Option<ShardInfo>) {
    let mut selected: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    selected.sort();
    selected.dedup();
    let mine = shard::select(accounts, shard, |a| a.id.as_str());
    if mine.is_empty() {
        tracing::warn!(
            "shard {shard} holds none of the {} selected accounts: its report is empty (kms-audit merge still needs it)",
            selected.len()
        );
    } else {
        tracing::info!(
            "shard {shard}: {} of the {} selected accounts",
            mine.len(),
            selected.len()
        );
    }
    let info = ShardInfo {
        index: shard.index,
        count: shard.count,
        selected_accounts: selected,
    };
    (mine, Some(info))
}

/// A target whose task died (a bug, never an AWS answer): a gap, so the scan still completes.
fn task_failed(account: &str, region: RegionInfo, err: &tokio::task::JoinError) -> TargetOutcome {
    TargetOutcome::failed(
        account,
        region.name,
        format!("internal error while scanning: {err}"),
        GapKind::Target {
            operation: "ScanTarget",
            error_code: None,
        },
    )
}

/// What one account contributes to the scan: region scans, or failed targets.
enum Planned {
    Scan(TargetScan),
    Failed(TargetOutcome),
}

/// Shared inputs for setting up each account.
struct AccountSetup<'a> {
    base: &'a aws_config::SdkConfig,
    counter: &'a ApiCallCounter,
    caller: &'a str,
    selection: &'a AccountSelection,
    partition: &'static str,
    session_name: String,
    regions: &'a [RegionInfo],
    global: Arc<Semaphore>,
    per_target: usize,
    quota_share: f64,
    progress: Arc<ScanProgress>,
    /// `None` with `--no-iam`.
    iam: Option<IamReads>,
}

impl AccountSetup<'_> {
    /// Every account×region of `accounts`, with the progress display. Accounts are set up a few
    /// at a time (one AssumeRole each); their regions are scanned as soon as they are ready, all
    /// under the same global limit.
    async fn scan(&self, accounts: &[AccountTarget], request: &ScanRequest) -> Vec<TargetOutcome> {
        self.progress
            .add_targets((accounts.len() * self.regions.len()) as u64);
        let display = ProgressDisplay::start(request.progress, self.progress.clone());
        let progress = &self.progress;
        let outcomes: Vec<TargetOutcome> = futures::stream::iter(accounts.iter())
            .map(|account| self.account(account))
            .buffer_unordered(ACCOUNT_SETUP_CONCURRENCY)
            .flat_map(futures::stream::iter)
            .map(|planned| async move {
                let outcome = match planned {
                    // Each account-region runs as its own task, so SDK request work (signing,
                    // serialization) spreads over every core instead of the one driving this
                    // stream.
                    Planned::Scan(scan) => {
                        let limit = request.target_timeout;
                        let account = scan.account.clone();
                        let region = scan.region;
                        tokio::spawn(async move { scan_with_deadline(&scan, limit).await })
                            .await
                            .unwrap_or_else(|err| task_failed(&account, region, &err))
                    }
                    Planned::Failed(outcome) => outcome,
                };
                progress.target_done(outcome.gaps.len() as u64);
                outcome
            })
            .buffer_unordered(targets_in_flight(
                request.concurrency,
                request.per_target_concurrency,
            ))
            .collect()
            .await;
        display.finish();
        outcomes
    }

    /// Credentials for the account (the caller's own, or its role), then one scan per region.
    /// A role that cannot be assumed fails every region of the account with one coverage gap.
    async fn account(&self, account: &AccountTarget) -> Vec<Planned> {
        match self.credentials(account).await {
            Ok(config) => {
                if let Some(iam) = &self.iam {
                    iam.start(&account.id, &config);
                }
                self.regions
                    .iter()
                    .map(|region| {
                        Planned::Scan(TargetScan {
                            account: account.id.clone(),
                            region: *region,
                            client: aws::kms_client(
                                &config,
                                &account.id,
                                region.name,
                                self.counter,
                            ),
                            tagging: aws::tagging_client(
                                &config,
                                &account.id,
                                region.name,
                                self.counter,
                            ),
                            gate: Gate::new(
                                self.global.clone(),
                                self.per_target,
                                crate::scan::collect::pace::Pacer::new(self.quota_share),
                            ),
                            key_concurrency: self.per_target,
                            progress: self.progress.clone(),
                        })
                    })
                    .collect()
            }
            Err(err) => TargetOutcome::account_failed(
                &account.id,
                self.regions,
                &format!("could not assume the audit role: {err}"),
                "AssumeRole",
                err.code,
            )
            .into_iter()
            .map(Planned::Failed)
            .collect(),
        }
    }

    async fn credentials(
        &self,
        account: &AccountTarget,
    ) -> Result<aws_config::SdkConfig, CallError> {
        if account.id == self.caller && account.role_arn.is_none() {
            return Ok(self.base.clone());
        }
        let role = RoleToAssume {
            role_arn: account.role_arn.clone().unwrap_or_else(|| {
                role_arn(self.partition, &account.id, &self.selection.role_name)
            }),
            external_id: account
                .external_id
                .clone()
                .or_else(|| self.selection.external_id.clone()),
            session_name: self.session_name.clone(),
        };
        credentials::assume_role(self.base, &role, self.counter).await
    }
}

fn partition_of(home_region: &str) -> &'static str {
    if home_region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if home_region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

/// AWS Organizations lives in one region per partition.
fn organizations_region(home_region: &str) -> &'static str {
    match partition_of(home_region) {
        "aws-us-gov" => "us-gov-west-1",
        "aws-cn" => "cn-northwest-1",
        _ => "us-east-1",
    }
}

/// How many account-regions are scanned at once: enough for their per-target limits to fill the
/// global one twice over (a target spends part of its time listing, one request at a time), and
/// no more, since every target in flight holds its keys' state in memory.
fn targets_in_flight(concurrency: usize, per_target: usize) -> usize {
    let concurrency = concurrency.max(1);
    (2 * concurrency)
        .div_ceil(per_target.max(1))
        .clamp(1, concurrency)
}
