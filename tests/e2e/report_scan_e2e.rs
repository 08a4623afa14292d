//! End to end against the local AWS emulator: one scan writes every report format at once, the
//! SARIF validates, suppressions hold, and the saved JSON re-checks offline to the same findings
//! (and, as its own baseline, passes `--new-only`).

use crate::sarif_support;
use crate::support;

use serde_json::{Value, json};
use support::cli::{DEFAULT_ACCOUNT, command, kms_audit, run};
use support::emulator::Emulator;
use support::seed::{self, NewKey};

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report file")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_scan_writes_every_format_and_re_checks_offline() {
    let emulator = Emulator::start();
    let kms = seed::kms(&emulator.endpoint, "us-east-1");
    let public = seed::create_key(
        &kms,
        NewKey {
            policy: Some(seed::policy(
                DEFAULT_ACCOUNT,
                &[json!({
                    "Sid": "AnyoneMayDecrypt",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "kms:Decrypt",
                    "Resource": "*"
                })],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&kms, public.key_id(), "alias/e2e-public").await;
    seed::enable_rotation(&kms, public.key_id(), None).await;
    let legacy = seed::create_key(&kms, NewKey::default()).await;
    seed::alias(&kms, legacy.key_id(), "alias/e2e-legacy").await;

    let dir = tempfile::tempdir().expect("tempdir");
    let suppressions = dir.path().join("suppressions.yaml");
    std::fs::write(
        &suppressions,
        "suppressions:\n  - check: ROT001\n    key: alias/e2e-legacy\n    reason: Rotated by hand\n    expires: 2099-12-31\n",
    )
    .expect("write suppressions");
    let out = |ext: &str| dir.path().join(format!("scan.{ext}"));
    let outputs: Vec<String> = [
        ("json", "json"),
        ("sarif", "sarif"),
        ("csv", "csv"),
        ("ocsf", "ocsf.jsonl"),
        ("asff", "asff.json"),
        ("table", "txt"),
    ]
    .iter()
    .map(|(format, ext)| format!("{format}={}", out(ext).display()))
    .collect();
    let mut args = vec![
        "scan",
        "--regions",
        "us-east-1",
        "--suppressions",
        suppressions.to_str().expect("utf-8"),
        "--format",
        "json",
    ];
    for output in &outputs {
        args.push("-o");
        args.push(output);
    }
    let scan = kms_audit(&emulator.endpoint, &args);
    assert_eq!(
        scan.code, 1,
        "a critical finding fails the run; stderr: {}",
        scan.stderr
    );
    let report = scan.json();
    assert_eq!(report, read_json(&out("json")), "stdout and file agree");

    let findings = report["findings"].as_array().expect("findings");
    let of = |check: &str, alias: &str| {
        findings
            .iter()
            .find(|f| f["check_id"] == check && f["aliases"][0] == alias)
            .unwrap_or_else(|| panic!("{check} on {alias} in {findings:#?}"))
    };
    assert!(of("POL001", "alias/e2e-public")["suppressed"].is_null());
    assert_eq!(
        of("ROT001", "alias/e2e-legacy")["suppressed"]["reason"],
        "Rotated by hand"
    );

    // SARIF: valid, one result per unsuppressed finding, the key's ARN as logical location.
    let sarif = read_json(&out("sarif"));
    let schema_path = sarif_support::schema_path();
    let schema: Value = read_json(&schema_path);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    // Suppressed findings are left out of SARIF (GitHub would show them as open alerts).
    let unsuppressed = findings
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .count();
    assert_eq!(results.len(), unsuppressed);
    assert!(unsuppressed < findings.len(), "the fixture suppresses one");
    let public_result = results
        .iter()
        .find(|r| r["ruleId"] == "POL001")
        .expect("POL001 result");
    assert_eq!(
        public_result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        public.arn().expect("arn")
    );

    // CSV, OCSF, ASFF and table: one entry per finding.
    let csv_rows = std::fs::read_to_string(out("csv"))
        .expect("csv")
        .lines()
        .count();
    assert_eq!(csv_rows, findings.len() + 1, "header + one row per finding");
    let ocsf = std::fs::read_to_string(out("ocsf.jsonl")).expect("ocsf");
    assert_eq!(ocsf.lines().count(), findings.len());
    let asff = read_json(&out("asff.json"));
    assert_eq!(
        asff["Findings"].as_array().map(Vec::len),
        Some(findings.len())
    );
    let table = std::fs::read_to_string(out("txt")).expect("table");
    assert!(table.contains("alias/e2e-public"), "{table}");

    // Offline: the saved scan re-checks to the same findings, with no AWS endpoint at all.
    let saved = out("json");
    let saved = saved.to_str().expect("utf-8");
    let again = run(command()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args([
            "report",
            saved,
            "--suppressions",
            suppressions.to_str().expect("utf-8"),
            "--format",
            "json",
        ]));
    assert_eq!(again.code, 1, "stderr: {}", again.stderr);
    assert_eq!(again.json()["findings"], report["findings"]);

    // As its own baseline every finding is existing: --new-only passes.
    let baseline = run(command()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args([
            "report",
            saved,
            "--baseline",
            saved,
            "--new-only",
            "--format",
            "sarif",
        ]));
    assert_eq!(baseline.code, 0, "stderr: {}", baseline.stderr);
    let sarif: Value = serde_json::from_str(&baseline.stdout).expect("sarif");
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["baselineState"] == "unchanged")
    );
}
