//! `kms-audit merge`: joins the JSON reports of a sharded scan (`scan --shard K/N`) into the
//! report one scan of all the accounts would have written (before analysis: the caller re-runs
//! the checks on the merged inventory, see [`crate::analysis`]).
//!
//! The shards must belong together: the same N, each K once, the same organization and the same
//! selected accounts, no account in two shards and none outside its shard. Anything else is an
//! input error (exit 2). A missing shard is an error too, unless `--allow-partial`: its accounts
//! then become coverage gaps (exit 3).

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{
    CoverageGap, Inventory, Report, ShardInfo, Summary, Target, TargetStatus, ToolInfo,
};
use crate::scan::shard::{Shard, shard_of};

/// The `operation` of the coverage gap recorded for each account of a missing shard.
pub const MISSING_SHARD_OPERATION: &str = "Shard";

/// One shard's report and the file it came from (for messages).
#[derive(Debug, Clone)]
pub struct ShardReport {
    pub file: String,
    pub report: Report,
}

/// Why shard reports cannot be merged (exit 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("no shard reports to merge")]
    Empty,
    #[error(
        "{file} is not a shard report (it has no \"shard\" field): merge joins the JSON reports of `kms-audit scan --shard K/N`"
    )]
    NotSharded { file: String },
    #[error(
        "the shards come from different runs: {first} is shard {first_shard} but {second} is shard {second_shard}; every shard of a run has the same N"
    )]
    MixedCounts {
        first: String,
        first_shard: String,
        second: String,
        second_shard: String,
    },
    #[error("shard {shard} is given twice: {first} and {second}")]
    DuplicateShard {
        shard: String,
        first: String,
        second: String,
    },
    #[error(
        "{first} and {second} disagree on the organization ({what}): the shards of a run must list the same organization; run them again at the same time"
    )]
    OrganizationMismatch {
        first: String,
        second: String,
        what: String,
    },
    #[error(
        "{first} and {second} selected different accounts ({detail}): every shard must be run with the same account selection (--org, --ou, --accounts, --exclude-accounts, --accounts-file)"
    )]
    SelectionMismatch {
        first: String,
        second: String,
        detail: String,
    },
    #[error(
        "{first} and {second} scanned different regions ({detail}): every shard must be run with the same --regions / --exclude-regions"
    )]
    RegionMismatch {
        first: String,
        second: String,
        detail: String,
    },
    #[error("account {account} is in two shards: {first} and {second}")]
    DuplicateAccount {
        account: String,
        first: String,
        second: String,
    },
    #[error(
        "account {account} in {file} (shard {shard}) belongs to shard {belongs}/{count}: was the report written by another version of kms-audit?"
    )]
    WrongShard {
        account: String,
        file: String,
        shard: String,
        belongs: u32,
        count: u32,
    },
    #[error(
        "{missing} missing: merge every shard's report, or pass --allow-partial to merge what is there (the missing shards' accounts become coverage gaps, exit 3)"
    )]
    MissingShards { missing: String },
    #[error("{file}: {field} '{value}' is not an RFC 3339 time")]
    BadTime {
        file: String,
        field: &'static str,
        value: String,
    },
}

/// The merged report (findings not yet analysed) and the shards that were missing.
#[derive(Debug, Clone)]
pub struct Merged {
    pub report: Report,
    /// The missing shards' K, with `--allow-partial`.
    pub missing: Vec<u32>,
}

/// Joins shard reports (see the module documentation).
pub fn merge(shards: Vec<ShardReport>, allow_partial: bool) -> Result<Merged, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    let infos = shard_infos(&shards)?;
    let count = infos[0].count;
    check_agreement(&shards, &infos)?;
    check_accounts(&shards, &infos, count)?;
    let missing = missing_shards(&infos, count, allow_partial)?;

    let (started_at, finished_at, duration_ms) = span(&shards)?;
    let selected = infos[0].selected_accounts.clone();
    let mut report = Report {
        schema_version: first.report.schema_version.clone(),
        tool: ToolInfo::default(),
        started_at,
        finished_at,
        organization_id: first.report.organization_id.clone(),
        organization_accounts: first.report.organization_accounts.clone(),
        account_names: shards
            .iter()
            .flat_map(|s| s.report.account_names.clone())
            .collect(),
        shard: None,
        targets: Vec::new(),
        coverage_gaps: Vec::new(),
        inventory: Inventory::default(),
        findings: Vec::new(),
        resolved: Vec::new(),
        access: None,
        summary: Summary {
            duration_ms,
            ..Summary::default()
        },
    };
    let regions: BTreeSet<String> = shards
        .iter()
        .flat_map(|s| s.report.targets.iter().map(|t| t.region.clone()))
        .collect();
    for shard in shards {
        add_shard(&mut report, shard);
    }
    for &index in &missing {
        record_missing_shard(&mut report, index, count, &selected, &regions);
    }
    report.sort_collected();
    report.refresh_summary();
    Ok(Merged { report, missing })
}

/// Each report's shard, or the error for the first report that is not a shard's.
fn shard_infos(shards: &[ShardReport]) -> Result<Vec<&ShardInfo>, MergeError> {
    shards
        .iter()
        .map(|s| {
            s.report
                .shard
                .as_ref()
                .ok_or_else(|| MergeError::NotSharded {
                    file: s.file.clone(),
                })
        })
        .collect()
}

/// Each account in one shard only, and in its own.
fn check_accounts(
    shards: &[ShardReport],
    infos: &[&ShardInfo],
    count: u32,
) -> Result<(), MergeError> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for shard in shards {
        for account in accounts_of(&shard.report) {
            if let Some(previous) = owner.insert(account, &shard.file) {
                return Err(MergeError::DuplicateAccount {
                    account: account.to_string(),
                    first: previous.to_string(),
                    second: shard.file.clone(),
                });
            }
        }
    }
    for (shard, info) in shards.iter().zip(infos) {
        for account in accounts_of(&shard.report) {
            let belongs = shard_of(account, count);
            if belongs != info.index {
                return Err(MergeError::WrongShard {
                    account: account.to_string(),
                    file: shard.file.clone(),
                    shard: label(info),
                    belongs,
                    count,
                });
            }
        }
    }
    Ok(())
}

/// The K of every shard not given; an error unless `allow_partial`.
fn missing_shards(
    infos: &[&ShardInfo],
    count: u32,
    allow_partial: bool,
) -> Result<Vec<u32>, MergeError> {
    let present: BTreeSet<u32> = infos.iter().map(|i| i.index).collect();
    let missing: Vec<u32> = (1..=count).filter(|k| !present.contains(k)).collect();
    if !missing.is_empty() && !allow_partial {
        let names: Vec<String> = missing.iter().map(|k| format!("{k}/{count}")).collect();
        let missing = match names.as_slice() {
            [one] => format!("shard {one} is"),
            _ => format!("shards {} are", names.join(", ")),
        };
        return Err(MergeError::MissingShards { missing });
    }
    Ok(missing)
}

/// One shard's targets, keys, gaps and API calls into the merged report.
fn add_shard(report: &mut Report, shard: ShardReport) {
    let versions = (&shard.report.tool.version, &report.tool.version);
    if versions.0 != versions.1 {
        tracing::warn!(
            "{} was written by kms-audit {}; merging with {}",
            shard.file,
            versions.0,
            versions.1
        );
    }
    let Report {
        targets,
        coverage_gaps,
        inventory,
        summary,
        ..
    } = shard.report;
    report.targets.extend(targets);
    // A shard's declared keys in other shards' accounts are no gap of the merged run; drift
    // (and its scope) is evaluated afresh on the merged inventory.
    report.coverage_gaps.extend(
        coverage_gaps
            .into_iter()
            .filter(|g| g.operation != crate::model::SPEC_SCOPE_OPERATION),
    );
    report.inventory.keys.extend(inventory.keys);
    // IAM was read in the merged run when some shard read it (shards of one run share flags).
    if let Some(iam) = inventory.iam {
        report
            .inventory
            .iam
            .get_or_insert_with(Vec::new)
            .extend(iam);
    }
    for (operation, calls) in summary.api_calls {
        *report.summary.api_calls.entry(operation).or_default() += calls;
    }
}

fn label(info: &ShardInfo) -> String {
    format!("{}/{}", info.index, info.count)
}

/// Every account a shard report names: its targets, keys and gaps.
fn accounts_of(report: &Report) -> BTreeSet<&str> {
    report
        .targets
        .iter()
        .map(|t| t.account.as_str())
        .chain(report.inventory.keys.iter().map(|k| k.account.as_str()))
        .chain(report.coverage_gaps.iter().map(|g| g.account.as_str()))
        .collect()
}

/// The same N, each K once, the same organization, selection and regions.
fn check_agreement(shards: &[ShardReport], infos: &[&ShardInfo]) -> Result<(), MergeError> {
    let (first, first_info) = (&shards[0], infos[0]);
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (shard, info) in shards.iter().zip(infos) {
        if info.count != first_info.count {
            return Err(MergeError::MixedCounts {
                first: first.file.clone(),
                first_shard: label(first_info),
                second: shard.file.clone(),
                second_shard: label(info),
            });
        }
        // A report of a `Shard` that cannot exist was edited by hand or is corrupt.
        if Shard::new(info.index, info.count).is_err() {
            return Err(MergeError::NotSharded {
                file: shard.file.clone(),
            });
        }
        if let Some(previous) = seen.insert(info.index, &shard.file) {
            return Err(MergeError::DuplicateShard {
                shard: label(info),
                first: previous.to_string(),
                second: shard.file.clone(),
            });
        }
    }
    let regions_of = |report: &Report| -> BTreeSet<String> {
        report.targets.iter().map(|t| t.region.clone()).collect()
    };
    // Empty shards scanned no region: compare the others with the first non-empty one.
    let reference = shards.iter().find(|s| !s.report.targets.is_empty());
    for (shard, info) in shards.iter().zip(infos).skip(1) {
        let mismatch = |what: &str| MergeError::OrganizationMismatch {
            first: first.file.clone(),
            second: shard.file.clone(),
            what: what.to_string(),
        };
        if shard.report.organization_id != first.report.organization_id {
            return Err(mismatch(&format!(
                "{} vs {}",
                first.report.organization_id.as_deref().unwrap_or("none"),
                shard.report.organization_id.as_deref().unwrap_or("none")
            )));
        }
        let members = |r: &Report| {
            r.organization_accounts
                .as_ref()
                .map(|a| a.iter().cloned().collect::<BTreeSet<String>>())
        };
        if let Some(detail) = set_difference(
            members(&first.report).as_ref(),
            members(&shard.report).as_ref(),
        ) {
            return Err(mismatch(&format!("organization accounts: {detail}")));
        }
        let selected = |i: &ShardInfo| i.selected_accounts.iter().cloned().collect();
        if let Some(detail) = set_difference(Some(&selected(first_info)), Some(&selected(info))) {
            return Err(MergeError::SelectionMismatch {
                first: first.file.clone(),
                second: shard.file.clone(),
                detail,
            });
        }
    }
    if let Some(reference) = reference {
        let expected = regions_of(&reference.report);
        for shard in shards.iter().filter(|s| !s.report.targets.is_empty()) {
            if let Some(detail) = set_difference(Some(&expected), Some(&regions_of(&shard.report)))
            {
                return Err(MergeError::RegionMismatch {
                    first: reference.file.clone(),
                    second: shard.file.clone(),
                    detail,
                });
            }
        }
    }
    Ok(())
}

/// How two sets differ, in words; `None` when they are equal.
fn set_difference(
    first: Option<&BTreeSet<String>>,
    second: Option<&BTreeSet<String>>,
) -> Option<String> {
    match (first, second) {
        (None, None) => None,
        (Some(_), None) => Some("only the first lists them".to_string()),
        (None, Some(_)) => Some("only the second lists them".to_string()),
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) => {
            let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
                x.difference(y).cloned().collect::<Vec<String>>().join(", ")
            };
            let mut parts = Vec::new();
            let (a_only, b_only) = (only(a, b), only(b, a));
            if !a_only.is_empty() {
                parts.push(format!("only the first has {a_only}"));
            }
            if !b_only.is_empty() {
                parts.push(format!("only the second has {b_only}"));
            }
            Some(parts.join("; "))
        }
    }
}

/// Earliest start, latest finish, and the wall time between them (never less than the longest
/// shard's own duration: the times in the reports are whole seconds).
fn span(shards: &[ShardReport]) -> Result<(String, String, u64), MergeError> {
    let parse = |file: &str, field: &'static str, value: &str| {
        OffsetDateTime::parse(value, &Rfc3339).map_err(|_| MergeError::BadTime {
            file: file.to_string(),
            field,
            value: value.to_string(),
        })
    };
    let mut earliest: Option<(OffsetDateTime, &str)> = None;
    let mut latest: Option<(OffsetDateTime, &str)> = None;
    let mut longest = 0;
    for shard in shards {
        let started = parse(&shard.file, "started_at", &shard.report.started_at)?;
        let finished = parse(&shard.file, "finished_at", &shard.report.finished_at)?;
        if earliest.is_none_or(|(at, _)| started < at) {
            earliest = Some((started, &shard.report.started_at));
        }
        if latest.is_none_or(|(at, _)| finished > at) {
            latest = Some((finished, &shard.report.finished_at));
        }
        longest = longest.max(shard.report.summary.duration_ms);
    }
    let (Some((start, started_at)), Some((finish, finished_at))) = (earliest, latest) else {
        return Err(MergeError::Empty);
    };
    let wall = u64::try_from((finish - start).whole_milliseconds()).unwrap_or(0);
    Ok((
        started_at.to_string(),
        finished_at.to_string(),
        wall.max(longest),
    ))
}

/// A missing shard's accounts (from the selection the other shards recorded) become failed
/// targets in every region the run scanned, and one coverage gap each.
fn record_missing_shard(
    report: &mut Report,
    index: u32,
    count: u32,
    selected: &[String],
    regions: &BTreeSet<String>,
) {
    let reason = format!(
        "shard {index}/{count} was not merged (its report is missing): the account was not scanned"
    );
    let accounts: Vec<&String> = selected
        .iter()
        .filter(|a| shard_of(a, count) == index)
        .collect();
    if accounts.is_empty() {
        tracing::warn!(
            "shard {index}/{count} is missing, but it held none of the selected accounts: nothing is lost"
        );
    } else {
        let what = match accounts.len() {
            1 => "its account is a coverage gap".to_string(),
            n => format!("its {n} accounts are coverage gaps"),
        };
        tracing::warn!("shard {index}/{count} is missing: {what}");
    }
    for account in accounts {
        for region in regions {
            report.targets.push(Target {
                account: account.clone(),
                region: region.clone(),
                status: TargetStatus::Failed,
                reason: Some(reason.clone()),
            });
        }
        report.coverage_gaps.push(CoverageGap {
            account: account.clone(),
            region: None,
            key_arn: None,
            operation: MISSING_SHARD_OPERATION.to_string(),
            error_code: None,
            reason: reason.clone(),
        });
    }
}

#[cfg(test)]
mod tests;
