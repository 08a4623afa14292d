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

/// The coverage gap a failed target records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GapKind<'a> {
    /// A gap of the account×region: `operation` failed there.
    Target {
        operation: &'a str,
        error_code: Option<String>,
    },
    /// A gap of the whole account (no region): `operation` failed for all its regions at once.
    Account {
        operation: &'a str,
        error_code: Option<String>,
    },
    /// None: another target of the account records the account's gap.
    Recorded,
}

impl TargetOutcome {
    /// An account×region that could not be read: no keys, and `reason` both on the target and
    /// in its coverage gap.
    pub fn failed(account: &str, region: &str, reason: String, gap: GapKind<'_>) -> Self {
        let gap = match gap {
            GapKind::Target {
                operation,
                error_code,
            } => Some((Some(region), operation, error_code)),
            GapKind::Account {
                operation,
                error_code,
            } => Some((None, operation, error_code)),
            GapKind::Recorded => None,
        };
        let gaps = gap
            .map(|(gap_region, operation, error_code)| CoverageGap {
                account: account.to_string(),
                region: gap_region.map(str::to_string),
                key_arn: None,
                operation: operation.to_string(),
                error_code,
                reason: reason.clone(),
            })
            .into_iter()
            .collect();
        TargetOutcome {
            target: Target {
                account: account.to_string(),
                region: region.to_string(),
                status: TargetStatus::Failed,
                reason: Some(reason),
            },
            keys: Vec::new(),
            gaps,
        }
    }

    /// Every region of an account failed for one reason (its role could not be assumed): a
    /// failed target each, and one coverage gap for the account, recorded by the first.
    pub fn account_failed(
        account: &str,
        regions: &[RegionInfo],
        reason: &str,
        operation: &str,
        error_code: Option<String>,
    ) -> Vec<Self> {
        let mut gap = Some(GapKind::Account {
            operation,
            error_code,
        });
        regions
            .iter()
            .map(|region| {
                let gap = gap.take().unwrap_or(GapKind::Recorded);
                Self::failed(account, region.name, reason.to_string(), gap)
            })
            .collect()
    }
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

    /// This account×region could not be read: `operation` failed with `err`.
    pub fn failed(&self, operation: &str, err: &CallError) -> TargetOutcome {
        TargetOutcome::failed(
            &self.account,
            self.region.name,
            err.to_string(),
            GapKind::Target {
                operation,
                error_code: err.code.clone(),
            },
        )
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
        Err(err) => return scan.failed("ListKeys", &err),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::regions::lookup;

    #[test]
    fn a_failed_target_carries_its_reason_and_the_gap_of_its_kind() {
        let reason = "AccessDeniedException: no".to_string();
        let failed = TargetOutcome::failed(
            "111111111111",
            "eu-west-1",
            reason.clone(),
            GapKind::Target {
                operation: "ListKeys",
                error_code: Some("AccessDeniedException".into()),
            },
        );
        assert_eq!(
            failed.target,
            Target {
                account: "111111111111".into(),
                region: "eu-west-1".into(),
                status: TargetStatus::Failed,
                reason: Some(reason.clone()),
            }
        );
        assert!(failed.keys.is_empty());
        assert_eq!(
            failed.gaps,
            [CoverageGap {
                account: "111111111111".into(),
                region: Some("eu-west-1".into()),
                key_arn: None,
                operation: "ListKeys".into(),
                error_code: Some("AccessDeniedException".into()),
                reason: reason.clone(),
            }]
        );

        let recorded =
            TargetOutcome::failed("111111111111", "eu-west-1", reason, GapKind::Recorded);
        assert_eq!(recorded.target.status, TargetStatus::Failed);
        assert!(recorded.gaps.is_empty());
    }

    #[test]
    fn a_failed_account_fails_every_region_with_one_gap_for_the_account() {
        let regions = [
            lookup("us-east-1").expect("region"),
            lookup("eu-west-1").expect("region"),
        ];
        let failed = TargetOutcome::account_failed(
            "222222222222",
            &regions,
            "could not assume the audit role: denied",
            "AssumeRole",
            Some("AccessDenied".into()),
        );
        let targets: Vec<(&str, Option<&str>)> = failed
            .iter()
            .map(|o| (o.target.region.as_str(), o.target.reason.as_deref()))
            .collect();
        let reason = Some("could not assume the audit role: denied");
        assert_eq!(targets, [("us-east-1", reason), ("eu-west-1", reason)]);
        let gaps: Vec<&CoverageGap> = failed.iter().flat_map(|o| &o.gaps).collect();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].region, None);
        assert_eq!(gaps[0].operation, "AssumeRole");
        assert_eq!(gaps[0].error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(gaps[0].reason, "could not assume the audit role: denied");
    }
}
