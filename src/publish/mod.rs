//! `kms-audit publish securityhub`: sends a saved report's findings to AWS Security Hub.
//!
//! This is the one part of kms-audit that writes to AWS, so it is its own command with its own
//! role and its own list of operations ([`OPERATIONS`]); `scan` never links to it.
//!
//! Security Hub only takes a finding from the account it belongs to (its `AwsAccountId`), in its
//! region, unless the caller is an allow-listed partner. So the findings are grouped by
//! (account, region), and each group is imported with that account's credentials: the caller's
//! own for its own account, else the publisher role assumed in the account.

pub mod batch;
pub mod input;
pub mod securityhub;
pub mod summary;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use futures::StreamExt;
use tokio::time::Instant;

use crate::model::Report;
use crate::model::arn::{partition_of_arn, role_arn};
use crate::report::asff::AsffBuilder;
use crate::scan::aws::credentials::{RoleToAssume, assume_role};
use crate::scan::aws::{ApiCallCounter, AwsOptions, AwsSetupError, CallError};

use batch::{Batch, Batcher, Group};
use securityhub::{FailedFinding, SecurityHub};
pub use summary::{FailedBatch, PublishSummary, TargetResult};

/// Every AWS operation `publish` sends. Not part of `kms_audit::scan::aws::OPERATIONS` (the scanner's
/// read-only allowlist); `examples/iam/kms-audit-publisher-policy.json` grants exactly the
/// Security Hub one in each account, and the runner's policy the STS ones.
pub const OPERATIONS: &[&str] = &[
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "securityhub:BatchImportFindings",
];

/// The role assumed in every account but the caller's (`--publisher-role-name`).
pub const DEFAULT_PUBLISHER_ROLE: &str = "KmsAuditPublisher";

/// Security Hub's `BatchImportFindings` quota per account and region (10 per second, burst 30).
pub const IMPORT_QUOTA_PER_SECOND: f64 = 10.0;

#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub aws: AwsOptions,
    pub role_name: String,
    pub external_id: Option<String>,
    /// Most accounts published at once.
    pub concurrency: usize,
    /// Share of the import quota one account×region may use (0.5: 5 requests per second).
    pub quota_share: f64,
    /// The report file, as named by the user (for the summary).
    pub report_name: String,
    pub baseline_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Setup(#[from] AwsSetupError),
    #[error("could not identify the caller (sts:GetCallerIdentity): {0}")]
    CallerIdentity(CallError),
}

/// Who is publishing.
#[derive(Debug, Clone)]
struct Caller {
    account: String,
    partition: String,
}

/// Publishes every finding of `report` (and its `resolved` findings, archived) and says what
/// happened to each account×region. Only setup errors (no credentials, no caller identity) are
/// errors; a failed account or batch is recorded in the summary and the rest goes on.
pub async fn publish(
    request: &PublishRequest,
    report: &Report,
) -> Result<PublishSummary, PublishError> {
    let started_at = crate::model::timestamp::now_rfc3339();
    let mut summary = PublishSummary {
        destination: "securityhub".to_string(),
        report: request.report_name.clone(),
        baseline: request.baseline_name.clone(),
        started_at,
        ..PublishSummary::default()
    };
    let groups = batch::groups(report);
    let counter = ApiCallCounter::default();
    let base = crate::scan::aws::load_base_config(&request.aws).await?;
    crate::scan::aws::check_credentials(&base, &request.aws).await?;
    let caller = caller_identity(&base, &counter).await?;
    summary.caller_account = caller.account.clone();

    let endpoint = std::env::var("AWS_ENDPOINT_URL_SECURITYHUB")
        .ok()
        .filter(|url| !url.is_empty())
        .or_else(|| request.aws.endpoint_url.clone())
        .or_else(|| base.endpoint_url().map(str::to_string));
    let hub = SecurityHub::new(
        &base,
        endpoint,
        request.aws.max_attempts,
        request.aws.attempt_timeout,
        counter.clone(),
    );
    let builder = AsffBuilder::new(report);
    let context = Context {
        request,
        report,
        builder: &builder,
        hub: &hub,
        base: &base,
        caller: &caller,
        counter: &counter,
    };

    let mut by_account: BTreeMap<String, Vec<Group>> = BTreeMap::new();
    for group in groups {
        by_account
            .entry(group.account.clone())
            .or_default()
            .push(group);
    }
    let results: Vec<Vec<TargetResult>> = futures::stream::iter(by_account)
        .map(|(account, groups)| context.publish_account(account, groups))
        .buffer_unordered(request.concurrency.max(1))
        .collect()
        .await;
    summary.targets = results.into_iter().flatten().collect();
    summary
        .targets
        .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    summary.refresh_totals();
    summary.api_calls = counter.snapshot();
    summary.finished_at = crate::model::timestamp::now_rfc3339();
    Ok(summary)
}

async fn caller_identity(
    base: &SdkConfig,
    counter: &ApiCallCounter,
) -> Result<Caller, PublishError> {
    let identity = crate::scan::aws::sts_client(base, counter)
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| PublishError::CallerIdentity(CallError::from(err)))?;
    let account = identity.account.unwrap_or_default();
    let partition = partition_of_arn(identity.arn.as_deref()).to_string();
    Ok(Caller { account, partition })
}

struct Context<'a> {
    request: &'a PublishRequest,
    report: &'a Report,
    builder: &'a AsffBuilder<'a>,
    hub: &'a SecurityHub,
    base: &'a SdkConfig,
    caller: &'a Caller,
    counter: &'a ApiCallCounter,
}

impl Context<'_> {
    /// One account: its credentials once, then each of its regions (at once: each region has
    /// its own import quota).
    async fn publish_account(&self, account: String, groups: Vec<Group>) -> Vec<TargetResult> {
        let (credentials, how) = match self.credentials_for(&account).await {
            Ok(found) => found,
            Err((how, err)) => {
                // Every batch of the account fails, each named.
                return groups
                    .iter()
                    .map(|group| self.unreachable(group, &how, &err))
                    .collect();
            }
        };
        futures::future::join_all(
            groups
                .iter()
                .map(|group| self.publish_group(group, &credentials, &how)),
        )
        .await
    }

    async fn credentials_for(
        &self,
        account: &str,
    ) -> Result<(SharedCredentialsProvider, String), (String, CallError)> {
        if account == self.caller.account {
            let provider = self.base.credentials_provider().ok_or_else(|| {
                (
                    "caller".to_string(),
                    CallError::new(None, "no credential provider is configured"),
                )
            })?;
            return Ok((provider, "caller".to_string()));
        }
        let role = RoleToAssume {
            role_arn: role_arn(&self.caller.partition, account, &self.request.role_name),
            external_id: self.request.external_id.clone(),
            session_name: "kms-audit-publish".to_string(),
        };
        let how = format!("role/{}", self.request.role_name);
        let config = assume_role(self.base, &role, self.counter)
            .await
            .map_err(|err| {
                (
                    how.clone(),
                    CallError::new(
                        err.code.as_deref(),
                        format!("could not assume {}: {err}", role.role_arn),
                    ),
                )
            })?;
        let provider = config.credentials_provider().ok_or_else(|| {
            (
                how.clone(),
                CallError::new(None, "the assumed role has no credentials"),
            )
        })?;
        Ok((provider, how))
    }

    /// The result of a group whose account could not be reached: all its batches failed.
    fn unreachable(&self, group: &Group, how: &str, err: &CallError) -> TargetResult {
        let mut result = self.empty_result(group, how);
        let mut batcher = Batcher::new();
        let mut entries = group.entries.iter();
        while let Some(batch) = self.next_batch(&mut entries, &mut batcher, &mut result) {
            result.batches += 1;
            result.failed += batch.ids.len() as u64;
            result.failed_batches.push(FailedBatch {
                name: batch_name(group, &batch),
                findings: batch.ids.len() as u64,
                error: Some(err.to_string()),
                failed_findings: Vec::new(),
            });
        }
        result
    }

    fn empty_result(&self, group: &Group, how: &str) -> TargetResult {
        TargetResult {
            account: group.account.clone(),
            region: group.region.clone(),
            credentials: how.to_string(),
            findings: group.entries.len() as u64,
            ..TargetResult::default()
        }
    }

    /// Builds findings until a batch is full, or the last one when `entries` runs out: batches
    /// are built one at a time, so memory holds one request per account×region in flight.
    fn next_batch<'e>(
        &self,
        entries: &mut impl Iterator<Item = &'e batch::Entry>,
        batcher: &mut Batcher,
        result: &mut TargetResult,
    ) -> Option<Batch> {
        for entry in entries.by_ref() {
            let finding = self
                .builder
                .finding(entry.finding(self.report), entry.resolved);
            match batch::prepare(finding, entry.resolved) {
                Ok(prepared) => {
                    result.trimmed += u64::from(prepared.trimmed);
                    if let Some(full) = batcher.push(prepared) {
                        return Some(full);
                    }
                }
                Err(too_large) => {
                    batcher.skip();
                    result.failed += 1;
                    result.unsent.push(FailedFinding {
                        id: too_large.id.clone(),
                        error_code: "FindingTooLarge".to_string(),
                        error_message: too_large.to_string(),
                    });
                }
            }
        }
        batcher.finish()
    }

    /// One account×region: builds its batches one at a time and sends each, paced under the
    /// region's import quota.
    async fn publish_group(
        &self,
        group: &Group,
        credentials: &SharedCredentialsProvider,
        how: &str,
    ) -> TargetResult {
        let mut result = self.empty_result(group, how);
        let interval = Duration::from_secs_f64(
            1.0 / (IMPORT_QUOTA_PER_SECOND * self.request.quota_share).max(0.01),
        );
        let mut next_send = Instant::now();
        let mut batcher = Batcher::new();
        let mut entries = group.entries.iter();
        while let Some(batch) = self.next_batch(&mut entries, &mut batcher, &mut result) {
            tokio::time::sleep_until(next_send).await;
            next_send = Instant::now() + interval;
            self.send(group, credentials, batch, &mut result).await;
        }
        result
    }

    async fn send(
        &self,
        group: &Group,
        credentials: &SharedCredentialsProvider,
        batch: Batch,
        result: &mut TargetResult,
    ) {
        result.batches += 1;
        let sent = batch.ids.len() as u64;
        let archived_sent = batch.archived.iter().filter(|a| **a).count() as u64;
        match self
            .hub
            .batch_import(credentials, &group.region, &batch.body)
            .await
        {
            Ok(answer) => {
                let refused: std::collections::HashSet<&str> = answer
                    .failed_findings
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect();
                let archived_refused = batch
                    .ids
                    .iter()
                    .zip(&batch.archived)
                    .filter(|(id, archived)| **archived && refused.contains(id.as_str()))
                    .count() as u64;
                // Trust the counts over the list when they disagree: a refusal without an id
                // still failed.
                let failed = answer
                    .failed_count
                    .max(answer.failed_findings.len() as u64)
                    .min(sent);
                result.failed += failed;
                result.archived += archived_sent - archived_refused;
                result.imported += (sent - failed).saturating_sub(archived_sent - archived_refused);
                if failed > 0 {
                    result.failed_batches.push(FailedBatch {
                        name: batch_name(group, &batch),
                        findings: sent,
                        error: None,
                        failed_findings: answer.failed_findings,
                    });
                }
            }
            Err(err) => {
                result.failed += sent;
                result.failed_batches.push(FailedBatch {
                    name: batch_name(group, &batch),
                    findings: sent,
                    error: Some(err.to_string()),
                    failed_findings: Vec::new(),
                });
            }
        }
    }
}

/// How a batch is named in the summary and in errors: where, which one, which findings.
pub fn batch_name(group: &Group, batch: &Batch) -> String {
    format!(
        "{}/{} batch {} (findings {}-{} of {})",
        group.account,
        group.region,
        batch.number,
        batch.first,
        batch.last,
        group.entries.len()
    )
}
