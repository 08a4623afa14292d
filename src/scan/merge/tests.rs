//! Merging shard reports, on JSON reports built here.

use serde_json::{Value, json};

use super::*;

const ORG: &str = "o-shard00001";
/// The organization's accounts; with N = 3 they fall in shards 2, 3, 3, 2, 1.
const ACCOUNTS: [&str; 5] = [
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
    "666666666666",
];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn accounts_of_shard(index: u32, count: u32) -> Vec<&'static str> {
    ACCOUNTS
        .iter()
        .copied()
        .filter(|a| shard_of(a, count) == index)
        .collect()
}

fn key(account: &str, region: &str, n: u32) -> Value {
    let id = format!("0000000{n}-aaaa-4bbb-8ccc-{account}");
    json!({
        "arn": format!("arn:aws:kms:{region}:{account}:key/{id}"), "key_id": id,
        "account": account, "region": region, "aliases": [format!("alias/k{n}")],
        "key_state": "Enabled", "key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT",
        "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS", "description": null,
        "creation_date": "2025-01-01T00:00:00Z", "deletion_date": null,
        "rotation": {"enabled": false, "period_days": null, "next_rotation_date": null},
        "multi_region": null, "policy": null, "tags": {}, "grants": [], "unknown": []
    })
}

/// Shard `index` of `count` as `scan --shard` writes it: both regions of each of its accounts,
/// one key each (listed in reverse, as targets finish in any order), started `start` seconds
/// after 09:00 and `secs` long.
fn shard(index: u32, count: u32, start: u32, secs: u32) -> ShardReport {
    let accounts = accounts_of_shard(index, count);
    let mut targets = Vec::new();
    let mut keys = Vec::new();
    for account in accounts.iter().rev() {
        for (n, region) in REGIONS.iter().enumerate().rev() {
            targets.push(json!({"account": account, "region": region, "status": "scanned"}));
            keys.push(key(account, region, n as u32));
        }
    }
    let at = |s: u32| format!("2026-03-01T09:{:02}:{:02}Z", s / 60, s % 60);
    let report = json!({
        "schema_version": "1", "tool": {"name": "kms-audit", "version": env!("CARGO_PKG_VERSION")},
        "started_at": at(start), "finished_at": at(start + secs),
        "organization_id": ORG, "organization_accounts": ACCOUNTS,
        "shard": {"index": index, "count": count, "selected_accounts": ACCOUNTS},
        "targets": targets, "coverage_gaps": [], "inventory": {"keys": keys},
        "findings": [], "resolved": [],
        "summary": {"keys": keys.len(), "findings": {}, "accounts": accounts.len(), "regions": 2,
            "gaps": 0, "duration_ms": secs * 1000 - 250,
            "api_calls": {"organizations:ListAccounts": 1, "kms:ListKeys": 2 * accounts.len()}}
    });
    ShardReport {
        file: format!("shard-{index}.json"),
        report: serde_json::from_value(report).expect("a report"),
    }
}

fn three() -> Vec<ShardReport> {
    vec![shard(1, 3, 0, 30), shard(2, 3, 5, 60), shard(3, 3, 2, 20)]
}

fn err(shards: Vec<ShardReport>) -> String {
    merge(shards, false).expect_err("merge fails").to_string()
}

#[test]
fn the_fixture_spreads_accounts_over_every_shard() {
    assert_eq!(accounts_of_shard(1, 3), ["666666666666"]);
    assert_eq!(accounts_of_shard(2, 3), ["111111111111", "444444444444"]);
    assert_eq!(accounts_of_shard(3, 3), ["222222222222", "333333333333"]);
}

#[test]
fn joins_three_shards_like_one_scan() {
    let merged = merge(three(), false).expect("merge");
    assert!(merged.missing.is_empty());
    let report = merged.report;
    assert_eq!(report.shard, None, "the merged report covers every shard");
    assert_eq!(report.organization_id.as_deref(), Some(ORG));
    assert_eq!(report.organization_accounts.as_ref().map(Vec::len), Some(5));
    // Sorted like a scan: by account, region, ARN.
    let targets: Vec<(String, String)> = report
        .targets
        .iter()
        .map(|t| (t.account.clone(), t.region.clone()))
        .collect();
    let expected: Vec<(String, String)> = ACCOUNTS
        .iter()
        .flat_map(|a| REGIONS.iter().map(|r| (a.to_string(), r.to_string())))
        .collect();
    assert_eq!(targets, expected);
    let keys: Vec<(String, String)> = report
        .inventory
        .keys
        .iter()
        .map(|k| (k.account.to_string(), k.region.to_string()))
        .collect();
    assert_eq!(keys, expected);
    // Earliest start (shard 1 at 09:00:00), latest finish (shard 2 at 09:01:05).
    assert_eq!(report.started_at, "2026-03-01T09:00:00Z");
    assert_eq!(report.finished_at, "2026-03-01T09:01:05Z");
    assert_eq!(report.summary.duration_ms, 65_000);
    // API calls summed: every shard listed the organization.
    assert_eq!(report.summary.api_calls["organizations:ListAccounts"], 3);
    assert_eq!(report.summary.api_calls["kms:ListKeys"], 10);
    assert_eq!(report.summary.keys, 10);
    assert_eq!(report.summary.accounts, 5);
    assert_eq!(report.summary.regions, 2);
    assert_eq!(report.summary.gaps, 0);
    assert!(!report.is_incomplete());
}

#[test]
fn the_order_of_the_shards_does_not_matter() {
    let mut reversed = three();
    reversed.reverse();
    let a = merge(three(), false).expect("merge").report;
    let b = merge(reversed, false).expect("merge").report;
    assert_eq!(a, b);
}

#[test]
fn gaps_and_failed_targets_are_kept() {
    let mut shards = three();
    let gap: CoverageGap = serde_json::from_value(json!({
        "account": "111111111111", "region": null, "key_arn": null, "operation": "AssumeRole",
        "error_code": "AccessDenied", "reason": "could not assume the audit role"
    }))
    .expect("gap");
    let second = &mut shards[1].report;
    second.coverage_gaps.push(gap.clone());
    for target in second
        .targets
        .iter_mut()
        .filter(|t| t.account == "111111111111")
    {
        target.status = TargetStatus::Failed;
    }
    second
        .inventory
        .keys
        .retain(|k| k.account != "111111111111");
    let report = merge(shards, false).expect("merge").report;
    assert_eq!(report.coverage_gaps, vec![gap]);
    assert!(report.is_incomplete());
    assert_eq!(report.summary.keys, 8);
}

#[test]
fn the_wall_time_is_never_shorter_than_the_longest_shard() {
    // Times are whole seconds: two shards started and finished within the same second.
    let mut shards = vec![shard(1, 2, 0, 1), shard(2, 2, 0, 1)];
    shards[0].report.summary.duration_ms = 1_400;
    assert_eq!(
        merge(shards, false)
            .expect("merge")
            .report
            .summary
            .duration_ms,
        1_400
    );
}

#[test]
fn missing_shards_are_an_error_unless_partial() {
    let two = || vec![shard(1, 3, 0, 30), shard(2, 3, 5, 60)];
    assert_eq!(
        err(two()),
        "shard 3/3 is missing: merge every shard's report, or pass --allow-partial to merge what is there (the missing shards' accounts become coverage gaps, exit 3)"
    );
    assert!(err(vec![shard(2, 3, 0, 1)]).starts_with("shards 1/3, 3/3 are missing: "));

    let merged = merge(two(), true).expect("partial merge");
    assert_eq!(merged.missing, vec![3]);
    let report = merged.report;
    assert!(report.is_incomplete(), "exit 3");
    let gaps: Vec<(&str, &str)> = report
        .coverage_gaps
        .iter()
        .map(|g| (g.account.as_str(), g.operation.as_str()))
        .collect();
    assert_eq!(
        gaps,
        [("222222222222", "Shard"), ("333333333333", "Shard")],
        "one gap per account of the missing shard"
    );
    assert!(
        report.coverage_gaps[0]
            .reason
            .contains("shard 3/3 was not merged")
    );
    let failed: Vec<(&str, &str)> = report
        .targets
        .iter()
        .filter(|t| t.status == TargetStatus::Failed)
        .map(|t| (t.account.as_str(), t.region.as_str()))
        .collect();
    assert_eq!(
        failed,
        [
            ("222222222222", "eu-west-1"),
            ("222222222222", "us-east-1"),
            ("333333333333", "eu-west-1"),
            ("333333333333", "us-east-1"),
        ]
    );
    assert_eq!(report.summary.accounts, 5);
}

#[test]
fn a_missing_shard_without_accounts_loses_nothing() {
    // With N = 7 the five accounts leave some shards empty.
    let empty: Vec<u32> = (1..=7)
        .filter(|k| accounts_of_shard(*k, 7).is_empty())
        .collect();
    let Some(&gone) = empty.first() else {
        panic!("no empty shard of 7");
    };
    let shards: Vec<ShardReport> = (1..=7)
        .filter(|k| *k != gone)
        .map(|k| shard(k, 7, 0, 10))
        .collect();
    let merged = merge(shards, true).expect("partial merge");
    assert_eq!(merged.missing, vec![gone]);
    assert!(merged.report.coverage_gaps.is_empty());
    assert!(!merged.report.is_incomplete());
    assert_eq!(merged.report.summary.accounts, 5);
}

#[test]
fn shards_of_different_runs_are_refused() {
    let message = err(vec![shard(1, 3, 0, 1), shard(2, 2, 0, 1)]);
    assert_eq!(
        message,
        "the shards come from different runs: shard-1.json is shard 1/3 but shard-2.json is shard 2/2; every shard of a run has the same N"
    );
    let message = err(vec![
        shard(1, 3, 0, 1),
        shard(1, 3, 0, 1),
        shard(2, 3, 0, 1),
    ]);
    assert_eq!(
        message,
        "shard 1/3 is given twice: shard-1.json and shard-1.json"
    );
}

#[test]
fn an_account_in_two_shards_is_named() {
    let mut shards = three();
    let stray = shards[0].report.inventory.keys[0].clone();
    shards[2].report.inventory.keys.push(stray);
    assert_eq!(
        err(shards),
        "account 666666666666 is in two shards: shard-1.json and shard-3.json"
    );
}

#[test]
fn an_account_outside_its_shard_is_refused() {
    let mut shards = three();
    // Shard 1 claims an account of shard 2, which is left out of shard 2.
    let moved: Vec<_> = shards[1]
        .report
        .targets
        .extract_if(.., |t| t.account == "444444444444")
        .collect();
    shards[1]
        .report
        .inventory
        .keys
        .retain(|k| k.account != "444444444444");
    shards[0].report.targets.extend(moved);
    let message = err(shards);
    assert!(
        message
            .starts_with("account 444444444444 in shard-1.json (shard 1/3) belongs to shard 2/3"),
        "{message}"
    );
}

#[test]
fn shards_must_agree_on_organization_selection_and_regions() {
    let mut shards = three();
    shards[1].report.organization_id = Some("o-other000001".into());
    assert_eq!(
        err(shards),
        "shard-1.json and shard-2.json disagree on the organization (o-shard00001 vs o-other000001): the shards of a run must list the same organization; run them again at the same time"
    );

    let mut shards = three();
    if let Some(accounts) = shards[2].report.organization_accounts.as_mut() {
        accounts.push("555555555555".into());
    }
    assert!(
        err(shards).contains("(organization accounts: only the second has 555555555555)"),
        "an account joined between two shards' listings"
    );

    let mut shards = three();
    shards[2].report.organization_accounts = None;
    assert!(err(shards).contains("only the first lists them"));

    let mut shards = three();
    if let Some(info) = shards[1].report.shard.as_mut() {
        info.selected_accounts.retain(|a| a != "666666666666");
    }
    let message = err(shards);
    assert!(
        message.starts_with(
            "shard-1.json and shard-2.json selected different accounts (only the first has 666666666666)"
        ),
        "{message}"
    );

    let mut shards = three();
    shards[2].report.targets.retain(|t| t.region == "us-east-1");
    let message = err(shards);
    assert!(
        message.starts_with(
            "shard-1.json and shard-3.json scanned different regions (only the first has eu-west-1)"
        ),
        "{message}"
    );
}

#[test]
fn whole_scans_and_broken_times_are_refused() {
    let mut shards = three();
    shards[1].report.shard = None;
    assert!(err(shards).starts_with("shard-2.json is not a shard report"));

    let mut shards = three();
    shards[0].report.started_at = "yesterday".into();
    assert_eq!(
        err(shards),
        "shard-1.json: started_at 'yesterday' is not an RFC 3339 time"
    );
    assert_eq!(err(Vec::new()), "no shard reports to merge");
}
