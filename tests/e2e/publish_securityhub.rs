//! End to end: `kms-audit publish securityhub` against the emulator's Security Hub, for an
//! emulated AWS Organization scanned with `scan --org`.
//!
//! The emulator's launcher refuses findings of another account or region, but the test does not
//! rely on it: the fault proxy logs which credentials (access key → account) sent each finding,
//! and each account's findings are read back with boto3 under that account's own credentials.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, kms_audit};
use support::emulator::{Emulator, repo_root};
use support::org::{self, SeededOrg};
use support::proxy::{Fault, FaultProxy, Rule};
use support::seed::{self, NewKey};

const REGIONS: &str = "us-east-1,eu-west-1";
const PUBLISHER_ROLE: &str = "KmsAuditPublisher";

/// The organization, and one key id per (account, region) to fix later.
async fn seed_org(endpoint: &str) -> (SeededOrg, BTreeMap<(String, String), Vec<String>>) {
    let org = org::create_org(endpoint).await;
    let mut keys = BTreeMap::new();
    for (account, per_region) in [
        (org.management.clone(), 1),
        (org.prod.clone(), 2),
        (org.dev.clone(), 1),
        (org.sandbox.clone(), 1),
    ] {
        for region in REGIONS.split(',') {
            let client = org::kms_in(endpoint, &account, region).await;
            for n in 0..per_region {
                // No rotation: one ROT001 finding per key.
                let key = seed::create_key(&client, NewKey::default()).await;
                seed::alias(&client, key.key_id(), &format!("alias/app-{n}")).await;
                keys.entry((account.clone(), region.to_string()))
                    .or_insert_with(Vec::new)
                    .push(key.key_id().to_string());
            }
        }
    }
    (org, keys)
}

fn scan(endpoint: &str, out: &Path) -> Value {
    let output = format!("json={}", out.display());
    let run = kms_audit(
        endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "--fail-on",
            "none",
            "-o",
            &output,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run.json()
}

fn publish(endpoint: &str, report: &Path, extra: &[&str]) -> support::cli::Run {
    let report = report.to_str().expect("utf-8");
    let mut args = vec!["publish", "securityhub", report, "--format", "json"];
    args.extend_from_slice(extra);
    kms_audit(endpoint, &args)
}

/// (account, region) → ASFF ids of the report's findings.
fn expected_ids(report: &Value, section: &str) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut ids: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for f in report[section].as_array().expect("findings") {
        let account = f["account"].as_str().expect("account").to_string();
        let region = f["region"].as_str().expect("region").to_string();
        let id = format!(
            "kms-audit/{}/{}",
            f["check_id"].as_str().expect("check"),
            f["fingerprint"].as_str().expect("fingerprint")
        );
        ids.entry((account, region)).or_default().insert(id);
    }
    ids
}

fn python() -> std::path::PathBuf {
    std::env::var_os("KMS_AUDIT_EMULATOR_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"))
}

/// Every finding Security Hub holds for `account`, per region, read with boto3 under that
/// account's own credentials (the management account's, or OrganizationAccountAccessRole's).
fn findings_of(endpoint: &str, account: &str) -> BTreeMap<String, Vec<Value>> {
    const READER: &str = r#"
import json, sys
import boto3
endpoint, account, regions = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
creds = dict(aws_access_key_id=sys.argv[4], aws_secret_access_key="kms-audit-test-secret")
if account != sys.argv[5]:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint, **creds)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                        RoleSessionName="kms-audit-test-reader")["Credentials"]
    creds = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                 aws_session_token=c["SessionToken"])
    assert boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint,
                        **creds).get_caller_identity()["Account"] == account
out = {}
for region in regions:
    hub = boto3.client("securityhub", region_name=region, endpoint_url=endpoint, **creds)
    out[region] = [f for page in hub.get_paginator("get_findings").paginate()
                   for f in page["Findings"]]
print(json.dumps(out))
"#;
    let output = std::process::Command::new(python())
        .args([
            "-c",
            READER,
            endpoint,
            account,
            REGIONS,
            ACCESS_KEY,
            DEFAULT_ACCOUNT,
        ])
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run the boto3 reader");
    assert!(
        output.status.success(),
        "boto3 reader: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("reader JSON")
}

/// Asserts from the proxy's log that every finding was sent by its own account, in its own
/// region, and that members were reached through the publisher role.
fn assert_account_rule(proxy: &FaultProxy, org: &SeededOrg) -> usize {
    let log = proxy.log();
    let mut sent = 0;
    for seen in log.iter().filter(|s| s.operation == "BatchImportFindings") {
        let account = seen.account.as_deref().expect("a known access key");
        assert!(!seen.findings.is_empty() && seen.findings.len() <= 100);
        for (id, finding_account, finding_region) in &seen.findings {
            assert_eq!(
                (finding_account.as_str(), finding_region.as_str()),
                (account, seen.region.as_str()),
                "{id} was sent by {} ({account}) in {}",
                seen.access_key,
                seen.region
            );
        }
        if account == org.management {
            assert_eq!(seen.access_key, ACCESS_KEY, "the caller's own credentials");
        } else {
            assert_ne!(
                seen.access_key, ACCESS_KEY,
                "assumed credentials in {account}"
            );
        }
        sent += seen.findings.len();
    }
    let assumed: BTreeSet<String> = log
        .iter()
        .filter(|s| s.operation == "AssumeRole")
        .map(|s| s.account.clone().unwrap_or_default())
        .collect();
    let members: BTreeSet<String> = org.members().iter().map(|m| m.to_string()).collect();
    assert_eq!(assumed, members, "the publisher role, once per member");
    // Only publish's own operations, none of which is on scan's read-only allowlist but STS's.
    for seen in &log {
        let operation = format!("{}:{}", seen.service, seen.operation);
        assert!(
            kms_audit::publish::OPERATIONS.contains(&operation.as_str()),
            "{operation} is not a publish operation"
        );
    }
    assert!(!kms_audit::scan::aws::OPERATIONS.contains(&"securityhub:BatchImportFindings"));
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_imports_its_own_findings_and_resolved_ones_are_archived() {
    let emulator = Emulator::start();
    let (org, keys) = seed_org(&emulator.endpoint).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.json");
    let report = scan(&emulator.endpoint, &first);
    let expected = expected_ids(&report, "findings");
    assert_eq!(expected.len(), 8, "4 accounts × 2 regions have findings");
    let total: usize = expected.values().map(BTreeSet::len).sum();

    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let run = publish(
        &proxy.endpoint,
        &first,
        &["--publisher-role-name", PUBLISHER_ROLE],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["totals"]["imported"], total);
    assert_eq!(summary["totals"]["failed"], 0);
    assert_eq!(summary["totals"]["archived"], 0);
    assert_eq!(summary["caller_account"], DEFAULT_ACCOUNT);
    let targets = summary["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 8);
    for target in targets {
        let key = (
            target["account"].as_str().expect("account").to_string(),
            target["region"].as_str().expect("region").to_string(),
        );
        assert_eq!(target["imported"], expected[&key].len(), "{target}");
        let how = if key.0 == org.management {
            "caller".to_string()
        } else {
            format!("role/{PUBLISHER_ROLE}")
        };
        assert_eq!(target["credentials"], how.as_str());
    }
    assert_eq!(assert_account_rule(&proxy, &org), total);

    // Read back with each account's own credentials: exactly its own findings, all active.
    let accounts = [&org.management, &org.prod, &org.dev, &org.sandbox];
    for account in accounts {
        for (region, findings) in findings_of(&emulator.endpoint, account) {
            let ids: BTreeSet<String> = findings
                .iter()
                .map(|f| f["Id"].as_str().expect("Id").to_string())
                .collect();
            assert_eq!(
                ids,
                expected[&(account.to_string(), region.clone())],
                "{account}/{region}"
            );
            for f in &findings {
                assert_eq!(f["AwsAccountId"], account.as_str());
                assert_eq!(f["RecordState"], "ACTIVE");
                assert_eq!(f["FindingProviderFields"]["Severity"]["Label"], "MEDIUM");
                assert_eq!(f["Workflow"]["Status"], "NEW");
            }
        }
    }

    // Fix one key in prod, scan again and publish against the first scan: its finding is
    // sent again as ARCHIVED, by prod.
    let fixed = &keys[&(org.prod.clone(), "us-east-1".to_string())][0];
    let prod = org::kms_in(&emulator.endpoint, &org.prod, "us-east-1").await;
    seed::enable_rotation(&prod, fixed, None).await;
    let second = dir.path().join("second.json");
    let report = scan(&emulator.endpoint, &second);
    let still = expected_ids(&report, "findings");
    let baseline = first.to_str().expect("utf-8");
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let run = publish(&proxy.endpoint, &second, &["--baseline", baseline]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["totals"]["archived"], 1);
    assert_eq!(summary["totals"]["imported"], total - 1);
    assert_eq!(summary["baseline"], baseline);
    assert_eq!(assert_account_rule(&proxy, &org), total);

    let resolved: BTreeSet<String> = expected[&(org.prod.clone(), "us-east-1".to_string())]
        .difference(&still[&(org.prod.clone(), "us-east-1".to_string())])
        .cloned()
        .collect();
    assert_eq!(resolved.len(), 1);
    for account in accounts {
        for (region, findings) in findings_of(&emulator.endpoint, account) {
            let key = (account.to_string(), region.clone());
            assert_eq!(findings.len(), expected[&key].len(), "{account}/{region}");
            for f in &findings {
                let id = f["Id"].as_str().expect("Id");
                let archived = resolved.contains(id);
                assert_eq!(
                    f["RecordState"],
                    if archived { "ARCHIVED" } else { "ACTIVE" },
                    "{id}"
                );
                if archived {
                    assert_eq!(f["Compliance"]["Status"], "PASSED");
                    assert_eq!(f["ProductFields"]["kms-audit/Baseline"], "resolved");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_is_named_and_fails_the_run_while_the_rest_is_imported() {
    let emulator = Emulator::start();
    let (org, _) = seed_org(&emulator.endpoint).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let report_path = dir.path().join("scan.json");
    let report = scan(&emulator.endpoint, &report_path);
    let expected = expected_ids(&report, "findings");
    let total: usize = expected.values().map(BTreeSet::len).sum();

    // Security Hub refuses dev's imports in eu-west-1 (every attempt) and throttles a share of
    // all the others, which retries absorb.
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    proxy.add_rule(
        Rule::deny()
            .service("securityhub")
            .operation("BatchImportFindings")
            .account(&org.dev)
            .region("eu-west-1"),
    );
    proxy.add_rule(
        Rule::with(Fault::Throttling)
            .service("securityhub")
            .operation("BatchImportFindings")
            .percent(40),
    );
    let summary_file = dir.path().join("publish.json");
    let run = publish(
        &proxy.endpoint,
        &report_path,
        &["-o", summary_file.to_str().expect("utf-8")],
    );
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let dev_findings = expected[&(org.dev.clone(), "eu-west-1".to_string())].len();
    let name = format!(
        "{}/eu-west-1 batch 1 (findings 1-{dev_findings} of {dev_findings})",
        org.dev
    );
    assert!(
        run.stderr.contains(&format!(
            "kms-audit: error: {name} failed: AccessDeniedException"
        )),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches(" failed: ").count(),
        1,
        "only that batch failed: {}",
        run.stderr
    );
    let summary = run.json();
    assert_eq!(summary["totals"]["failed"], dev_findings);
    assert_eq!(summary["totals"]["imported"], total - dev_findings);
    assert_eq!(summary["totals"]["failed_batches"], 1);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_file).expect("summary file"))
            .expect("JSON");
    assert_eq!(saved["targets"], summary["targets"]);
    let failed: Vec<&Value> = summary["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["failed"] != 0)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["failed_batches"][0]["name"], name.as_str());

    // Throttled requests were retried: more requests than batches, and every other batch landed.
    let requests = proxy
        .log()
        .iter()
        .filter(|s| s.operation == "BatchImportFindings")
        .count() as u64;
    let batches: u64 = summary["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["batches"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        requests > batches,
        "{requests} requests for {batches} batches"
    );
    assert_eq!(
        summary["api_calls"]["securityhub:BatchImportFindings"],
        requests
    );
    let dev = findings_of(&emulator.endpoint, &org.dev);
    assert!(
        dev["eu-west-1"].is_empty(),
        "nothing imported for the refused batch"
    );
    assert_eq!(
        dev["us-east-1"].len(),
        expected[&(org.dev.clone(), "us-east-1".to_string())].len()
    );
}

#[test]
fn a_missing_report_is_invalid_input() {
    let run = kms_audit(
        "http://127.0.0.1:9",
        &["publish", "securityhub", "/nonexistent/scan.json"],
    );
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("/nonexistent/scan.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_publisher_policy_grants_exactly_the_security_hub_import() {
    let path = repo_root().join("examples/iam/kms-audit-publisher-policy.json");
    let policy: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("policy")).expect("JSON");
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow");
        match &statement["Action"] {
            Value::String(a) => {
                actions.insert(a.clone());
            }
            Value::Array(list) => {
                actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)))
            }
            other => panic!("Action {other}"),
        }
        // Only the account's own custom-integration product, never "*".
        assert_ne!(statement["Resource"], "*");
    }
    let expected: BTreeSet<String> = kms_audit::publish::OPERATIONS
        .iter()
        .filter(|op| op.starts_with("securityhub:"))
        .map(|op| op.to_string())
        .collect();
    assert_eq!(actions, expected);
    // The runner may assume the publisher role and import its own account's findings.
    let path = repo_root().join("examples/iam/kms-audit-publish-runner-policy.json");
    let runner: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("policy")).expect("JSON");
    let granted: BTreeSet<(String, String)> = runner["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| {
            (
                s["Action"].as_str().unwrap_or_default().to_string(),
                s["Resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(granted.contains(&(
        "sts:AssumeRole".to_string(),
        format!("arn:aws:iam::*:role/{PUBLISHER_ROLE}")
    )));
    let stackset =
        std::fs::read_to_string(repo_root().join("examples/iam/kms-audit-reader-stackset.yaml"))
            .expect("stackset");
    assert!(stackset.contains("Action: securityhub:BatchImportFindings"));
    assert!(stackset.contains("PublisherRoleName"));
}
