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

/// One page of a KMS listing: its items, and the marker of the next page when truncated.
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub truncated: bool,
    pub next_marker: Option<String>,
}

/// Fetches every page of a KMS `Limit`/`Marker` listing, in order. `fetch` sends one request
/// for the given marker (through the target's gate).
pub(crate) async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, CallError>>,
{
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = fetch(marker.clone()).await?;
        items.extend(page.items);
        marker = next_marker(page.truncated, page.next_marker.as_deref(), &marker)?;
        if marker.is_none() {
            return Ok(items);
        }
    }
}

/// Every key id and ARN of the target, across all pages.
pub(crate) async fn list_keys(scan: &TargetScan) -> Result<Vec<(String, String)>, CallError> {
    all_pages(|marker| async move {
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
        Ok(Page {
            items: output
                .keys()
                .iter()
                .filter_map(|e| Some((e.key_id()?.to_string(), e.key_arn()?.to_string())))
                .collect(),
            truncated: output.truncated(),
            next_marker: output.next_marker().map(str::to_string),
        })
    })
    .await
}

/// Alias names by target key id, sorted. Aliases that point at no key (AWS's predefined
/// `alias/aws/*` before the service first uses them) are left out.
pub(crate) async fn list_aliases(
    scan: &TargetScan,
) -> Result<HashMap<String, Vec<String>>, CallError> {
    let pairs = all_pages(|marker| async move {
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
        Ok(Page {
            items: output
                .aliases()
                .iter()
                .filter_map(|e| Some((e.target_key_id()?.to_string(), e.alias_name()?.to_string())))
                .collect(),
            truncated: output.truncated(),
            next_marker: output.next_marker().map(str::to_string),
        })
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

/// The marker for the next page, or `None` at the end. A page that says "truncated" without a
/// new marker would loop forever (or silently stop early): that is an error, not the end.
pub(crate) fn next_marker(
    truncated: bool,
    next: Option<&str>,
    previous: &Option<String>,
) -> Result<Option<String>, CallError> {
    if !truncated {
        return Ok(None);
    }
    match next {
        Some(next) if !next.is_empty() && previous.as_deref() != Some(next) => {
            Ok(Some(next.to_string()))
        }
        _ => Err(CallError::new(
            Some("PaginationError"),
            "the response was truncated but gave no new marker; the listing may be incomplete",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::next_marker;

    #[test]
    fn pagination_ends_only_when_not_truncated() {
        assert_eq!(next_marker(false, Some("x"), &None), Ok(None));
        assert_eq!(
            next_marker(true, Some("m2"), &Some("m1".into())),
            Ok(Some("m2".into()))
        );
        assert!(next_marker(true, None, &None).is_err());
        assert!(next_marker(true, Some("m1"), &Some("m1".into())).is_err());
    }
}

#[cfg(test)]
mod recorded;
