//! Collection: the only part of kms-audit that talks to AWS, and the only async part.
//!
//! Per account×region: `ListKeys`, `ListAliases` and the tag listing (`tag:GetResources`) once
//! (paginated), then per key the calls of [`key::collect_key`]. Only read operations are ever
//! sent.

pub mod convert;
pub mod gate;
pub mod key;
pub mod pace;
pub mod tags;

use std::collections::HashMap;

use futures::StreamExt;

use crate::model::regions::RegionInfo;
use crate::model::{CoverageGap, KeyRecord, Target, TargetStatus};
use crate::scan::aws::CallError;
use crate::scan::aws::paginate::{Page, all_pages};
use crate::scan::collect::pace::Operation;

pub use gate::Gate;

const KEYS_PAGE: i32 = 1000;
const ALIASES_PAGE: i32 = 100;

/// Everything needed to read one account×region.
#[derive(Debug, Clone)]
pub struct TargetScan {
    pub account: String,
    pub region: RegionInfo,
    pub client: aws_sdk_kms::Client,
    /// The Resource Groups Tagging API, for the region's tag listing.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub gate: Gate,
    /// How many keys of this target are read at the same time.
    pub key_concurrency: usize,
    /// Shared counters for the progress display.
    pub progress: std::sync::Arc<crate::scan::progress::ScanProgress>,
}

/// What one account×region yielded.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    pub target: Target,
    pub keys: Vec<KeyRecord>,
    pub gaps: Vec<CoverageGap>,
}

impl TargetScan {
    /// A coverage gap in this target.
    pub fn gap(&self, key_arn: Option<&str>, operation: &str, err: &CallError) -> CoverageGap {
        CoverageGap {
            account: self.account.clone(),
            region: Some(self.region.name.to_string()),
            key_arn: key_arn.map(str::to_string),
            operation: operation.to_string(),
            error_code: err.code.clone(),
            reason: err.to_string(),
        }
    }

    fn target(&self, status: TargetStatus, reason: Option<String>) -> Target {
        Target {
            account: self.account.clone(),
            region: self.region.name.to_string(),
            status,
            reason,
        }
    }
}

impl std::fmt::Display for RegionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Reads every key of one account×region. Never fails: what cannot be read becomes a gap.
pub async fn scan_target(scan: &TargetScan) -> TargetOutcome {
    let keys = match list_keys(scan).await {
        Ok(keys) => keys,
        Err(err) if scan.region.opt_in && err.is_region_not_enabled() => {
            let reason = format!("region not enabled for this account ({err})");
            return TargetOutcome {
                target: scan.target(TargetStatus::Skipped, Some(reason)),
                keys: Vec::new(),
                gaps: Vec::new(),
            };
        }
        Err(err) => {
            let gap = scan.gap(None, "ListKeys", &err);
            return TargetOutcome {
                target: scan.target(TargetStatus::Failed, Some(gap.reason.clone())),
                keys: Vec::new(),
                gaps: vec![gap],
            };
        }
    };

    // The aliases and the tag listing do not depend on each other: ask for both at once.
    let (aliases, listed_tags) = tokio::join!(list_aliases(scan), tags::list_tagged_keys(scan));
    let mut gaps = Vec::new();
    let aliases = match aliases {
        Ok(aliases) => Some(aliases),
        Err(err) => {
            gaps.push(scan.gap(None, "ListAliases", &err));
            None
        }
    };
    // Not a gap when it fails: every key's tags are then asked of KMS directly.
    let mut listed_tags = listed_tags.unwrap_or_else(|err| {
        tracing::warn!(
            "{} {}: the tag listing (tag:GetResources) failed, reading each key's tags with \
             kms:ListResourceTags instead: {err}",
            scan.account,
            scan.region
        );
        tags::ListedTags::new()
    });

    let results: Vec<(KeyRecord, Vec<CoverageGap>)> = futures::stream::iter(keys)
        .map(|(key_id, arn)| {
            let key_aliases = aliases
                .as_ref()
                .map(|all| all.get(&key_id).cloned().unwrap_or_default());
            let key_tags = listed_tags.remove(&arn);
            async move {
                let collected = key::collect_key(scan, &key_id, &arn, key_aliases, key_tags).await;
                scan.progress.key_done();
                collected
            }
        })
        .buffer_unordered(scan.key_concurrency.max(1))
        .collect()
        .await;

    let mut records = Vec::with_capacity(results.len());
    for (record, key_gaps) in results {
        records.push(record);
        gaps.extend(key_gaps);
    }
    records.sort_by(|a, b| a.arn.cmp(&b.arn));
    TargetOutcome {
        target: scan.target(TargetStatus::Scanned, None),
        keys: records,
        gaps,
    }
}

/// Every key id and ARN of the target, across all pages.
pub(crate) async fn list_keys(scan: &TargetScan) -> Result<Vec<(String, String)>, CallError> {
    all_pages("ListKeys", |marker| async move {
        let output = scan
            .gate
            .run(Operation::ListKeys, || {
                scan.client
                    .list_keys()
                    .limit(KEYS_PAGE)
                    .set_marker(marker)
                    .send()
            })
            .await?;
        let keys = output
            .keys()
            .iter()
            .filter_map(|e| Some((e.key_id()?.to_string(), e.key_arn()?.to_string())))
            .collect();
        Page::kms("ListKeys", keys, output.truncated(), output.next_marker())
            .map_err(CallError::from)
    })
    .await
}

/// Alias names by target key id, sorted. Aliases that point at no key (AWS's predefined
/// `alias/aws/*` before the service first uses them) are left out.
pub(crate) async fn list_aliases(
    scan: &TargetScan,
) -> Result<HashMap<String, Vec<String>>, CallError> {
    let pairs = all_pages("ListAliases", |marker| async move {
        let output = scan
            .gate
            .run(Operation::ListAliases, || {
                scan.client
                    .list_aliases()
                    .limit(ALIASES_PAGE)
                    .set_marker(marker)
                    .send()
            })
            .await?;
        let pairs = output
            .aliases()
            .iter()
            .filter_map(|e| Some((e.target_key_id()?.to_string(), e.alias_name()?.to_string())))
            .collect();
        Page::kms(
            "ListAliases",
            pairs,
            output.truncated(),
            output.next_marker(),
        )
        .map_err(CallError::from)
    })
    .await?;
    let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
    for (target, name) in pairs {
        aliases.entry(target).or_default().push(name);
    }
    for names in aliases.values_mut() {
        names.sort();
    }
    Ok(aliases)
}

#[cfg(test)]
mod recorded;
