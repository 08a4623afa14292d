//! The scan pipeline: validate the request, find the targets, collect, assemble the report.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::aws::{self, ApiCallCounter, AwsOptions, CallError};
use crate::collect::{self, Gate, TargetScan};
use crate::model::{Inventory, Report, SCHEMA_VERSION, Summary, ToolInfo};
use crate::targets::select_regions;

/// What the user asked to scan, and how hard to push.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub aws: AwsOptions,
    pub regions: Vec<String>,
    pub exclude_regions: Vec<String>,
    /// Global limit on requests in flight.
    pub concurrency: usize,
    /// Limit on requests in flight per account×region.
    pub per_target_concurrency: usize,
}

/// Errors that stop a scan before anything was scanned (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Setup(#[from] aws::AwsSetupError),
    #[error(transparent)]
    Region(#[from] crate::targets::regions::RegionError),
    #[error("could not identify the caller's AWS account with sts:GetCallerIdentity: {0}")]
    CallerIdentity(CallError),
}

/// Runs a whole scan and returns the report (findings are added by later stages).
pub async fn run(request: &ScanRequest) -> Result<Report, ScanError> {
    let started = Instant::now();
    let started_at = crate::time::now_rfc3339();
    let base = aws::load_base_config(&request.aws).await?;
    let home_region = base
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| aws::DEFAULT_HOME_REGION.to_string());
    let regions = select_regions(&home_region, &request.regions, &request.exclude_regions)?;
    aws::check_credentials(&base).await?;

    let counter = ApiCallCounter::default();
    let account = caller_account(&base, &counter).await?;
    tracing::info!(account = %account, regions = regions.len(), "scanning");

    let global = Arc::new(Semaphore::new(request.concurrency.max(1)));
    let scans: Vec<TargetScan> = regions
        .iter()
        .map(|region| TargetScan {
            account: account.clone(),
            region: *region,
            client: aws::kms_client(&base, region.name, &counter),
            gate: Gate::new(global.clone(), request.per_target_concurrency),
            key_concurrency: request.per_target_concurrency,
        })
        .collect();

    let outcomes: Vec<_> = futures::stream::iter(scans.iter())
        .map(collect::scan_target)
        .buffer_unordered(request.concurrency.max(1))
        .collect()
        .await;

    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: ToolInfo::default(),
        started_at,
        finished_at: String::new(),
        organization_id: None,
        targets: Vec::new(),
        coverage_gaps: Vec::new(),
        inventory: Inventory::default(),
        findings: Vec::new(),
        resolved: Vec::new(),
        summary: Summary::default(),
    };
    for outcome in outcomes {
        report.targets.push(outcome.target);
        report.inventory.keys.extend(outcome.keys);
        report.coverage_gaps.extend(outcome.gaps);
    }
    report
        .targets
        .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    report
        .inventory
        .keys
        .sort_by(|a, b| (&a.account, &a.region, &a.arn).cmp(&(&b.account, &b.region, &b.arn)));
    report.coverage_gaps.sort_by(|a, b| {
        (&a.account, &a.region, &a.key_arn, &a.operation).cmp(&(
            &b.account,
            &b.region,
            &b.key_arn,
            &b.operation,
        ))
    });
    report.finished_at = crate::time::now_rfc3339();
    report.summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.summary.api_calls = counter.snapshot();
    report.refresh_summary();
    Ok(report)
}

async fn caller_account(
    base: &aws_config::SdkConfig,
    counter: &ApiCallCounter,
) -> Result<String, ScanError> {
    let identity = aws::sts_client(base, counter)
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| ScanError::CallerIdentity(err.into()))?;
    identity.account().map(str::to_string).ok_or_else(|| {
        ScanError::CallerIdentity(CallError::new(None, "the response named no account"))
    })
}
