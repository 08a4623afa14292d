//! `kms-audit access KEY` and `--format access-csv` end to end: a scan of the emulator saved as
//! JSON, then the access of one key from the saved report and from a live scan, and the refusals
//! of a key that is not there, a name that matches two keys and an ARN that is not KMS's.

use crate::support;

use serde_json::{Value, json};
use support::cli::{DEFAULT_ACCOUNT, Run, command, kms_audit, run};
use support::emulator::Emulator;
use support::seed::{self, NewKey};

/// (class, principal kind, principal id, path kind, key policy statement, certainty) of each
/// entry, in the order the analysis lists them.
fn entries(access: &Value) -> Vec<(String, String, String, String, Option<u64>, String)> {
    access["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let principal = &e["principal"];
            let id = ["arn", "account", "service", "value"]
                .iter()
                .find_map(|field| principal[*field].as_str())
                .unwrap_or("*");
            (
                e["class"].as_str().unwrap_or_default().to_string(),
                principal["kind"].as_str().unwrap_or_default().to_string(),
                id.to_string(),
                e["path"]["kind"].as_str().unwrap_or_default().to_string(),
                e["path"]["statement"].as_u64(),
                e["certainty"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `kms-audit ARGS...` with no AWS endpoint: reading a saved report needs none.
fn offline(args: &[&str]) -> Run {
    run(command().args(args))
}

fn entry(
    class: &str,
    kind: &str,
    id: &str,
    statement: u64,
    certainty: &str,
) -> (String, String, String, String, Option<u64>, String) {
    (
        class.into(),
        kind.into(),
        id.into(),
        "key_policy".into(),
        Some(statement),
        certainty.into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_of_one_key_from_a_saved_report_and_live_agree() {
    let emulator = Emulator::start();
    let role = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/e2e-app");
    let kms = seed::kms(&emulator.endpoint, "us-east-1");
    let app = seed::create_key(
        &kms,
        NewKey {
            policy: Some(seed::policy(
                DEFAULT_ACCOUNT,
                &[json!({
                    "Sid": "AppDecrypts",
                    "Effect": "Allow",
                    "Principal": {"AWS": role},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*"
                })],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&kms, app.key_id(), "alias/e2e-access-app").await;
    // One alias name in two regions.
    let twin_east = seed::create_key(&kms, NewKey::default()).await;
    seed::alias(&kms, twin_east.key_id(), "alias/e2e-twin").await;
    let kms_west = seed::kms(&emulator.endpoint, "eu-west-1");
    let twin_west = seed::create_key(&kms_west, NewKey::default()).await;
    seed::alias(&kms_west, twin_west.key_id(), "alias/e2e-twin").await;

    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("scan.json");
    let saved_arg = format!("json={}", saved.display());
    let scan = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--regions",
            "us-east-1,eu-west-1",
            "--fail-on",
            "none",
            "-o",
            &saved_arg,
            "--format",
            "csv",
        ],
    );
    assert_eq!(scan.code, 0, "stderr: {}", scan.stderr);
    let saved_path = saved.to_str().expect("utf-8");

    // The key policy names the account root (delegation to IAM, read: the account has no IAM
    // policy that allows anything on the key) and the role directly; DescribeKey is in no class.
    let expected = vec![
        entry("use", "account_root", DEFAULT_ACCOUNT, 0, "yes"),
        entry("use", "role", &role, 1, "yes"),
        entry("administer", "account_root", DEFAULT_ACCOUNT, 0, "yes"),
        entry("delegate", "account_root", DEFAULT_ACCOUNT, 0, "yes"),
    ];
    let saved_access = offline(&[
        "access",
        "alias/e2e-access-app",
        "--report",
        saved_path,
        "--format",
        "json",
    ]);
    assert_eq!(saved_access.code, 0, "stderr: {}", saved_access.stderr);
    let saved_access = saved_access.json();
    assert_eq!(saved_access["key_arn"], app.arn().unwrap_or_default());
    assert_eq!(entries(&saved_access), expected, "{saved_access:#}");
    let role_entry = &saved_access["entries"][1];
    assert_eq!(role_entry["actions"], json!(["kms:Decrypt"]));
    assert_eq!(role_entry["path"]["sid"], "AppDecrypts");
    assert_eq!(saved_access["unknown"], json!([]));
    assert!(
        saved_access["not_evaluated"]
            .as_array()
            .expect("not_evaluated")
            .iter()
            .any(|n| n
                .as_str()
                .is_some_and(|n| n.contains("service control policies")))
    );

    // Live, by ARN: the key's account and region are scanned now, with the same answer.
    let arn = app.arn().unwrap_or_default().to_string();
    let live = kms_audit(&emulator.endpoint, &["access", &arn, "--format", "json"]);
    assert_eq!(live.code, 0, "stderr: {}", live.stderr);
    let live = live.json();
    assert_eq!(live["entries"], saved_access["entries"]);

    // The table, for a person.
    let table = run(command()
        .args(["access", app.key_id(), "--report", saved_path])
        .env("COLUMNS", "220"));
    assert_eq!(table.code, 0, "stderr: {}", table.stderr);
    for line in [
        "Effective access to alias/e2e-access-app",
        "use (2): encrypt, decrypt",
        "administer (1):",
        "every use action",
        "delegate (1): create grants",
        "Never evaluated",
    ] {
        assert!(
            table.stdout.contains(line),
            "{line:?} not in:\n{}",
            table.stdout
        );
    }
    assert!(table.stdout.contains(&role), "{}", table.stdout);

    // Every key's access, for auditors: the role's row, from the same saved report.
    let csv = offline(&[
        "report",
        saved_path,
        "--format",
        "access-csv",
        "--fail-on",
        "none",
    ]);
    assert_eq!(csv.code, 0, "stderr: {}", csv.stderr);
    let role_rows: Vec<&str> = csv
        .stdout
        .lines()
        .filter(|l| l.contains(&format!(",role,{role},")))
        .collect();
    assert_eq!(role_rows.len(), 1, "{}", csv.stdout);
    assert!(
        role_rows[0].contains(",use,role,") && role_rows[0].contains(",kms:Decrypt,key_policy,"),
        "{}",
        role_rows[0]
    );
    // 3 keys × the root's three classes, plus the role's row, plus the header.
    assert_eq!(csv.stdout.lines().count(), 1 + 3 * 3 + 1, "{}", csv.stdout);

    // A name that matches two keys, a key that is not there, an ARN of another service.
    let twins = offline(&["access", "alias/e2e-twin", "--report", saved_path]);
    twins.assert_refused("'alias/e2e-twin' names 2 keys");
    assert!(
        twins.stderr.contains(twin_west.arn().unwrap_or_default()),
        "{}",
        twins.stderr
    );
    offline(&["access", "alias/e2e-none", "--report", saved_path])
        .assert_refused("no key 'alias/e2e-none'");
    kms_audit(&emulator.endpoint, &["access", "arn:aws:s3:::bucket"])
        .assert_refused("is not a KMS key or alias ARN");
}
