//! End to end: what cannot be read becomes a coverage gap (exit 3) while the rest of the scan
//! completes; a region the account has not enabled is skipped, not a gap.

use crate::support;

use serde_json::{Value, json};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, kms_audit, target_statuses};
use support::emulator::Emulator;
use support::proxy::{Fault, FaultProxy, Rule};
use support::seed::{self, NewKey};

fn key_by_arn<'a>(report: &'a Value, arn: &str) -> &'a Value {
    report["inventory"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["arn"] == arn)
        .unwrap_or_else(|| panic!("{arn} missing from the inventory"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_region_and_key_calls_become_gaps_and_the_rest_completes() {
    let emulator = Emulator::start();
    let use1 = seed::kms(&emulator.endpoint, "us-east-1");
    let euw1 = seed::kms(&emulator.endpoint, "eu-west-1");
    let healthy = seed::create_key(&use1, NewKey::default()).await;
    seed::alias(&use1, healthy.key_id(), "alias/healthy").await;
    let policy_denied = seed::create_key(&use1, NewKey::default()).await;
    // A key policy with an explicit Deny on DescribeKey, which the emulator enforces like AWS.
    let describe_denied = seed::create_key(
        &use1,
        NewKey {
            policy: Some(seed::policy(
                DEFAULT_ACCOUNT,
                &[json!({
                    "Sid": "DenyDescribe",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:DescribeKey",
                    "Resource": "*"
                })],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::create_key(&euw1, NewKey::default()).await;

    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    proxy.add_rule(Rule::deny().operation("ListKeys").region("eu-west-1"));
    proxy.add_rule(
        Rule::deny()
            .operation("GetKeyPolicy")
            .body_contains(policy_denied.key_id()),
    );
    proxy.add_rule(Rule::with(Fault::RegionNotEnabled).region("af-south-1"));

    let run = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--regions",
            "us-east-1,eu-west-1,af-south-1",
            "--format",
            "json",
            "--max-attempts",
            "2",
        ],
    );
    assert_eq!(
        run.code, 3,
        "an incomplete scan exits 3; stderr: {}",
        run.stderr
    );
    let report = run.json();

    // Every us-east-1 key is there; the unreadable fields are marked unknown.
    let keys = report["inventory"]["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 3, "us-east-1 keys only: {keys:#?}");
    let healthy = key_by_arn(&report, healthy.arn().expect("arn"));
    assert_eq!(healthy["unknown"], json!([]));
    assert_eq!(healthy["aliases"], json!(["alias/healthy"]));
    let policy_denied_arn = policy_denied.arn().expect("arn");
    let no_policy = key_by_arn(&report, policy_denied_arn);
    assert_eq!(no_policy["unknown"], json!(["policy"]));
    assert_eq!(no_policy["policy"], Value::Null);
    assert_eq!(
        no_policy["key_state"], "Enabled",
        "the rest of the key is read"
    );
    let describe_denied_arn = describe_denied.arn().expect("arn");
    let no_metadata = key_by_arn(&report, describe_denied_arn);
    assert_eq!(no_metadata["unknown"], json!(["metadata", "rotation"]));
    assert_eq!(no_metadata["key_state"], Value::Null);
    assert_eq!(no_metadata["policy"]["Statement"][1]["Sid"], "DenyDescribe");

    let gaps: Vec<(String, String, String, String)> = report["coverage_gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .map(|g| {
            (
                g["region"].as_str().unwrap_or("-").to_string(),
                g["key_arn"].as_str().unwrap_or("-").to_string(),
                g["operation"].as_str().unwrap_or("").to_string(),
                g["error_code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut want = vec![
        (
            "eu-west-1".to_string(),
            "-".to_string(),
            "ListKeys".to_string(),
            "AccessDeniedException".to_string(),
        ),
        (
            "us-east-1".to_string(),
            policy_denied_arn.to_string(),
            "GetKeyPolicy".to_string(),
            "AccessDeniedException".to_string(),
        ),
        (
            "us-east-1".to_string(),
            describe_denied_arn.to_string(),
            "DescribeKey".to_string(),
            "AccessDeniedException".to_string(),
        ),
    ];
    want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(gaps, want);

    assert_eq!(
        target_statuses(&report),
        [
            ("af-south-1", "skipped"),
            ("eu-west-1", "failed"),
            ("us-east-1", "scanned")
        ]
    );
    assert_eq!(report["summary"]["gaps"], 3);

    // The table names the gaps for the person at the terminal.
    let table = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--regions",
            "us-east-1,eu-west-1",
            "--format",
            "table",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(table.code, 3);
    assert!(
        table
            .stdout
            .contains("Coverage gaps (these were NOT audited)"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("ListKeys"), "{}", table.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_that_is_not_enabled_is_skipped_not_a_gap() {
    let emulator = Emulator::start();
    seed::create_key(
        &seed::kms(&emulator.endpoint, "us-east-1"),
        NewKey::default(),
    )
    .await;
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    proxy.add_rule(Rule::with(Fault::RegionNotEnabled).region("me-central-1"));
    // The same answer in a region every account has is a credentials problem: a gap.
    proxy.add_rule(Rule::with(Fault::RegionNotEnabled).region("eu-north-1"));

    let run = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--regions",
            "us-east-1,me-central-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["coverage_gaps"], json!([]));
    assert_eq!(report["targets"][0]["region"], "me-central-1");
    assert_eq!(report["targets"][0]["status"], "skipped");
    assert!(
        report["targets"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("region not enabled"),
        "{}",
        report["targets"][0]
    );
    assert_eq!(report["summary"]["keys"], 1);

    let run = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--regions",
            "us-east-1,eu-north-1",
            "--format",
            "json",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    assert_eq!(
        run.json()["coverage_gaps"][0]["error_code"],
        "UnrecognizedClientException"
    );
}
