//! Resilience end to end: throttling, server errors, dropped connections and slow answers between
//! kms-audit and the emulator must not change the report; and only read operations are sent.

use crate::support;

use std::collections::BTreeSet;

use aws_sdk_kms::types::{GrantOperation, KeySpec, KeyUsageType};
use serde_json::{Value, json};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, kms_audit};
use support::emulator::Emulator;
use support::proxy::{Fault, FaultProxy, Rule};
use support::seed::{self, NewKey};

const REGIONS: &str = "us-east-1,eu-west-1";

async fn seed_keys(endpoint: &str) {
    for region in REGIONS.split(',') {
        let client = seed::kms(endpoint, region);
        for n in 0..4 {
            let key = seed::create_key(
                &client,
                NewKey {
                    description: Some("resilience"),
                    tags: &[("owner", "platform")],
                    ..NewKey::default()
                },
            )
            .await;
            seed::alias(&client, key.key_id(), &format!("alias/app-{n}")).await;
            if n % 2 == 0 {
                seed::enable_rotation(&client, key.key_id(), Some(180)).await;
            }
            if n == 3 {
                seed::grant(
                    &client,
                    key.key_id(),
                    "arn:aws:iam::999999999999:root",
                    &[GrantOperation::Decrypt],
                )
                .await;
            }
        }
        let signing = seed::create_key(
            &client,
            NewKey {
                spec: Some(KeySpec::EccNistP256),
                usage: Some(KeyUsageType::SignVerify),
                ..NewKey::default()
            },
        )
        .await;
        seed::alias(&client, signing.key_id(), "alias/signing").await;
        seed::create_key(&client, NewKey::default()).await;
    }
    seed::aws_managed_key(&seed::kms(endpoint, "us-east-1"), "alias/aws/ebs").await;
}

/// What must not depend on the network: the inventory, the findings, the gaps and the targets.
fn essence(report: &Value) -> Value {
    let findings: BTreeSet<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {} {}", f["check_id"], f["fingerprint"], f["severity"]))
        .collect();
    json!({
        "inventory": report["inventory"],
        "findings": findings,
        "coverage_gaps": report["coverage_gaps"],
        "targets": report["targets"],
    })
}

fn scan(endpoint: &str) -> (i32, Value) {
    let run = kms_audit(
        endpoint,
        &["scan", "--regions", REGIONS, "--format", "json"],
    );
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}; stderr: {}",
        run.code,
        run.stderr
    );
    (run.code, run.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_errors_drops_and_slowness_do_not_change_the_report() {
    let emulator = Emulator::start();
    seed_keys(&emulator.endpoint).await;

    let clean_proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let (clean_code, clean) = scan(&clean_proxy.endpoint);
    assert_eq!(clean["summary"]["keys"], 13);
    assert_eq!(clean["coverage_gaps"], json!([]));
    assert!(!clean["findings"].as_array().expect("findings").is_empty());

    // 30% of KMS requests throttled.
    let throttled = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    throttled.add_rule(Rule::with(Fault::Throttling).service("kms").percent(30));
    let (code, report) = scan(&throttled.endpoint);
    assert_eq!(code, clean_code);
    assert_eq!(
        essence(&report),
        essence(&clean),
        "30% throttling changed the report"
    );
    let refused = throttled.log().iter().filter(|s| s.refused).count();
    assert!(refused >= 10, "the proxy throttled only {refused} requests");
    let sent = |r: &Value| -> u64 {
        r["summary"]["api_calls"]
            .as_object()
            .expect("api_calls")
            .values()
            .filter_map(Value::as_u64)
            .sum()
    };
    assert!(
        sent(&report) >= sent(&clean) + refused as u64,
        "retries are counted as calls"
    );

    // Server errors, dropped connections and slow answers, all at once.
    let flaky = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    flaky.add_rule(Rule::with(Fault::InternalError).service("kms").percent(15));
    flaky.add_rule(Rule::with(Fault::DropConnection).service("kms").percent(25));
    flaky.add_rule(Rule::with(Fault::Slow(150)).service("kms").percent(35));
    let (code, report) = scan(&flaky.endpoint);
    assert_eq!(code, clean_code);
    assert_eq!(
        essence(&report),
        essence(&clean),
        "5xx/drops/slowness changed the report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_tag_listing_loses_no_tags() {
    let emulator = Emulator::start();
    seed_keys(&emulator.endpoint).await;
    let clean_proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let (clean_code, clean) = scan(&clean_proxy.endpoint);
    let calls = |r: &Value, op: &str| r["summary"]["api_calls"][op].as_u64().unwrap_or(0);
    // 4 tagged and 2 untagged customer keys per region: only the untagged are asked per key.
    assert_eq!(calls(&clean, "tag:GetResources"), 2);
    assert_eq!(calls(&clean, "kms:ListResourceTags"), 4);

    // A role without tag:GetResources: every customer key's tags are read with ListResourceTags.
    let denied = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    denied.add_rule(Rule::deny().service("tag").operation("GetResources"));
    let (code, report) = scan(&denied.endpoint);
    assert_eq!(code, clean_code);
    assert_eq!(
        essence(&report),
        essence(&clean),
        "a denied tag listing changed the report"
    );
    assert_eq!(calls(&report, "kms:ListResourceTags"), 12);
    assert!(
        denied
            .log()
            .iter()
            .any(|s| s.refused && s.operation == "GetResources")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_only_sends_read_operations() {
    let emulator = Emulator::start();
    seed_keys(&emulator.endpoint).await;
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let (_, report) = scan(&proxy.endpoint);
    assert_eq!(report["summary"]["keys"], 13);
    let allowed: BTreeSet<&str> = kms_audit::scan::aws::OPERATIONS.iter().copied().collect();
    let sent: BTreeSet<String> = proxy
        .log()
        .iter()
        .map(|seen| format!("{}:{}", seen.service, seen.operation))
        .collect();
    for operation in &sent {
        assert!(
            allowed.contains(operation.as_str()),
            "{operation} is not on the read-only allowlist"
        );
    }
    // The account's IAM is read (once), beside the KMS reads: the proxy saw it as a read.
    assert!(
        sent.contains("iam:GetAccountAuthorizationDetails"),
        "the IAM read was not sent: {sent:?}"
    );
    assert_eq!(
        proxy
            .log()
            .iter()
            .filter(|seen| seen.service == "iam")
            .count(),
        1,
        "one IAM read for the one account"
    );
    assert_eq!(
        report["summary"]["api_calls"]["iam:GetAccountAuthorizationDetails"],
        1
    );
    // Every listed operation is a read: no Create/Put/Update/Delete/Enable/Disable/Schedule/...
    for operation in &allowed {
        let name = operation.split(':').nth(1).unwrap_or_default();
        assert!(
            ["List", "Describe", "Get"]
                .iter()
                .any(|p| name.starts_with(p))
                || name == "AssumeRole",
            "{operation} does not read"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_scan_logs_progress_lines_unless_quiet() {
    let emulator = Emulator::start();
    seed_keys(&emulator.endpoint).await;
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    proxy.add_rule(Rule::with(Fault::Slow(400)).service("kms"));
    let args = [
        "scan",
        "--regions",
        REGIONS,
        "--format",
        "json",
        "--fail-on",
        "none",
        "--per-target-concurrency",
        "2",
        "--endpoint-url",
        &proxy.endpoint,
    ];

    let mut cmd = support::cli::command();
    cmd.env("KMS_AUDIT_PROGRESS_INTERVAL", "1").args(args);
    let run = support::cli::run(&mut cmd);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("kms-audit: progress: "))
        .collect();
    assert!(!lines.is_empty(), "no progress lines: {}", run.stderr);
    assert!(lines[0].contains("/2 account-regions"), "{}", lines[0]);
    assert_eq!(
        run.json()["summary"]["keys"],
        13,
        "progress never touches stdout"
    );

    let mut cmd = support::cli::command();
    cmd.env("KMS_AUDIT_PROGRESS_INTERVAL", "1")
        .arg("--quiet")
        .args(args);
    let run = support::cli::run(&mut cmd);
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains("progress"), "--quiet: {}", run.stderr);
}
