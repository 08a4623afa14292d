//! OCSF output as security lakes read it: every line of a scan of the emulated organization, with
//! and without a baseline, parses with py-ocsf-models as a Detection Finding and validates
//! against the OCSF 1.1.0 JSON Schema with the cloud profile; account names, organization,
//! compliance mappings and the baseline lifecycle are exact.

use crate::report_fixture;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kms_audit::report::{self, Format, RenderOptions};
use serde_json::{Value, json};
use support::cli::kms_audit;
use support::emulator::Emulator;
use support::ocsf::{assert_valid_file, py_ocsf_models, schema, schema_errors, schema_validator};
use support::org;
use support::seed::{self, NewKey};

const REGION: &str = "us-east-1";

/// ROT001's catalog mappings (checks/ROT001.yaml), as `unmapped.compliance` must carry them.
fn rot001_compliance() -> Value {
    json!({
        "CIS AWS Foundations": ["3.6", "4.6"],
        "AWS FSBP": ["KMS.4"],
        "PCI DSS 4.0": ["3.6.1", "3.7.4"],
        "NIST 800-53": ["SC-12"],
    })
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn the_schema_fixture_is_ocsf_1_1_0_with_the_cloud_profile() {
    let schema = schema();
    assert_eq!(kms_audit::report::ocsf::OCSF_VERSION, "1.1.0");
    assert!(
        schema["$id"]
            .as_str()
            .is_some_and(|id| id.contains("/1.1.0/classes/detection_finding?profiles=cloud")),
        "{}",
        schema["$id"]
    );
    assert!(schema["properties"]["cloud"].is_object());
    assert!(schema["properties"].get("compliance").is_none());
}

#[test]
fn the_sample_validates_and_the_checks_can_fail() {
    let report = report_fixture::analyzed();
    let text = report::render(&report, Format::Ocsf, RenderOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let events = assert_valid_file(&write(dir.path(), "sample.ocsf.jsonl", &text));
    assert_eq!(events.len(), report.findings.len() + report.resolved.len());

    // Each consumer rejects what issue reports showed: no declared profile, a `compliance`
    // object on a Detection Finding, an account without a name.
    let validator = schema_validator();
    let mut undeclared = events[0].clone();
    undeclared["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("profiles");
    assert!(!schema_errors(&validator, &undeclared).is_empty());
    let mut compliance = events[0].clone();
    compliance["compliance"] = json!({"standards": ["NIST 800-53"]});
    assert!(!schema_errors(&validator, &compliance).is_empty());
    let mut unnamed = events[0].clone();
    unnamed["cloud"]["account"]
        .as_object_mut()
        .expect("account")
        .remove("name");
    assert!(
        schema_errors(&validator, &unnamed).is_empty(),
        "optional in OCSF 1.1.0"
    );
    let bad = write(
        dir.path(),
        "unnamed.ocsf.jsonl",
        &format!("{}\n{}\n", events[0], unnamed),
    );
    if let Some(verdict) = py_ocsf_models(&bad) {
        assert_eq!(verdict.lines, 2);
        assert_eq!(verdict.errors.len(), 1, "{:?}", verdict.errors);
        assert!(
            verdict.errors[0].contains(":2: ") && verdict.errors[0].contains("cloud.account.name"),
            "{:?}",
            verdict.errors
        );
    }
}

/// One line per finding, in the JSON report's order, then the resolved findings.
fn fingerprints(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["finding_info"]["uid"].as_str().expect("uid").to_string())
        .collect()
}

fn report_fingerprints(report: &Value, field: &str) -> Vec<String> {
    report[field]
        .as_array()
        .expect(field)
        .iter()
        .map(|f| f["fingerprint"].as_str().expect("fingerprint").to_string())
        .collect()
}

/// (activity_id, status_id, status) of each line, by fingerprint.
fn lifecycle(events: &[Value]) -> BTreeMap<String, (u64, u64, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["finding_info"]["uid"].as_str().expect("uid").to_string(),
                (
                    e["activity_id"].as_u64().expect("activity"),
                    e["status_id"].as_u64().expect("status_id"),
                    e["status"].as_str().expect("status").to_string(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_scans_with_and_without_a_baseline_validate_line_by_line() {
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    let seeded = org::create_org(endpoint).await;
    let names = org::account_names(endpoint).await;
    assert_eq!(names.get(&seeded.prod).map(String::as_str), Some("prod"));

    // A key without rotation (ROT001) in the management account and in each member.
    let mut keys = BTreeMap::new();
    for account in [
        seeded.management.as_str(),
        seeded.prod.as_str(),
        seeded.dev.as_str(),
        seeded.sandbox.as_str(),
    ] {
        let client = org::kms_in(endpoint, account, REGION).await;
        let key = seed::create_key(&client, NewKey::default()).await;
        seed::alias(&client, key.key_id(), "alias/ocsf-app").await;
        keys.insert(account.to_string(), (client, key));
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let first_ocsf = dir.path().join("first.ocsf.jsonl");
    let first_json = dir.path().join("first.json");
    let first = kms_audit(
        endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGION,
            "--fail-on",
            "none",
            "-o",
            &format!("json={}", first_json.display()),
            "-o",
            &format!("ocsf={}", first_ocsf.display()),
        ],
    );
    assert_eq!(first.code, 0, "stderr: {}", first.stderr);
    let first_report: Value =
        serde_json::from_str(&std::fs::read_to_string(&first_json).expect("json")).expect("json");
    let events = assert_valid_file(&first_ocsf);
    assert_eq!(
        fingerprints(&events),
        report_fingerprints(&first_report, "findings")
    );
    let rot001: Vec<&Value> = events
        .iter()
        .filter(|e| e["finding_info"]["analytic"]["uid"] == "ROT001")
        .collect();
    let rot001_accounts: BTreeSet<&str> = rot001
        .iter()
        .map(|e| e["cloud"]["account"]["uid"].as_str().expect("account"))
        .collect();
    assert_eq!(
        rot001_accounts,
        keys.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        "one ROT001 per seeded key"
    );
    for event in &events {
        let account = event["cloud"]["account"]["uid"].as_str().expect("account");
        assert_eq!(event["metadata"]["version"], "1.1.0");
        assert_eq!(event["metadata"]["profiles"], json!(["cloud"]));
        assert_eq!(
            event["cloud"]["account"]["name"],
            names[account].as_str(),
            "{account} is named as in Organizations"
        );
        assert_eq!(event["cloud"]["org"], json!({"uid": seeded.id}));
        assert_eq!(
            (&event["activity_id"], &event["status_id"]),
            (&json!(1), &json!(1))
        );
        assert!(event.get("status_detail").is_none(), "no baseline: {event}");
        let check = event["finding_info"]["analytic"]["uid"]
            .as_str()
            .expect("check");
        let meta = kms_audit::analysis::catalog()
            .lookup(check)
            .expect("a catalog check");
        let standards: Vec<&String> = event["unmapped"]["compliance"]
            .as_object()
            .expect("compliance")
            .keys()
            .collect();
        assert_eq!(
            standards.len(),
            meta.frameworks.len(),
            "{check}: {standards:?}"
        );
    }
    for event in &rot001 {
        assert_eq!(event["unmapped"]["compliance"], rot001_compliance());
    }

    // Fix the management account's key, break a new one in prod, and scan against the first
    // report: one resolved, one new, the rest existing.
    let (client, fixed) = &keys[&seeded.management];
    seed::enable_rotation(client, fixed.key_id(), None).await;
    let (prod_client, _) = &keys[&seeded.prod];
    let added = seed::create_key(prod_client, NewKey::default()).await;
    let second_ocsf = dir.path().join("second.ocsf.jsonl");
    let second = kms_audit(
        endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGION,
            "--fail-on",
            "none",
            "--baseline",
            first_json.to_str().expect("utf-8"),
            "--format",
            "json",
            "-o",
            &format!("ocsf={}", second_ocsf.display()),
        ],
    );
    assert_eq!(second.code, 0, "stderr: {}", second.stderr);
    let second_report = second.json();
    let events = assert_valid_file(&second_ocsf);
    let mut expected = report_fingerprints(&second_report, "findings");
    expected.extend(report_fingerprints(&second_report, "resolved"));
    assert_eq!(fingerprints(&events), expected);

    let fixed_arn = fixed.arn().expect("arn");
    let added_arn = added.arn().expect("arn");
    let resolved: Vec<&Value> = events.iter().filter(|e| e["activity_id"] == 3).collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0]["resources"][0]["uid"], fixed_arn);
    assert_eq!(resolved[0]["finding_info"]["analytic"]["uid"], "ROT001");
    assert_eq!(
        (&resolved[0]["activity_id"], &resolved[0]["activity_name"]),
        (&json!(3), &json!("Close"))
    );
    assert_eq!(
        (&resolved[0]["status_id"], &resolved[0]["status"]),
        (&json!(4), &json!("Resolved"))
    );
    assert_eq!(resolved[0]["type_uid"], 200403);
    assert_eq!(
        resolved[0]["cloud"]["account"]["name"],
        names[&seeded.management].as_str()
    );
    assert_eq!(resolved[0]["unmapped"]["compliance"], rot001_compliance());
    assert_eq!(
        events.last().map(|e| &e["finding_info"]["uid"]),
        Some(&resolved[0]["finding_info"]["uid"]),
        "resolved findings come last"
    );

    let before: BTreeSet<String> = report_fingerprints(&first_report, "findings")
        .into_iter()
        .collect();
    let states = lifecycle(&events);
    let fixed_fp = resolved[0]["finding_info"]["uid"].as_str().expect("uid");
    for (fingerprint, state) in &states {
        let expected = if fingerprint == fixed_fp {
            (3, 4, "Resolved".to_string())
        } else if before.contains(fingerprint) {
            (2, 99, "Existing".to_string())
        } else {
            (1, 1, "New".to_string())
        };
        assert_eq!(state, &expected, "{fingerprint}");
    }
    let new: Vec<&Value> = events.iter().filter(|e| e["activity_id"] == 1).collect();
    assert!(!new.is_empty());
    assert!(
        new.iter().all(|e| e["resources"][0]["uid"] == added_arn),
        "only the added key's findings are new"
    );
    assert!(
        new.iter()
            .any(|e| e["finding_info"]["analytic"]["uid"] == "ROT001")
    );
    assert_eq!(
        events.iter().filter(|e| e["activity_id"] == 2).count(),
        before.len() - 1,
        "every first-scan finding but the fixed one is existing"
    );
    for event in &events {
        let detail = event["status_detail"].as_str().expect("status_detail");
        let expected = match event["activity_id"].as_u64() {
            Some(1) => "Not in the baseline",
            Some(2) => "Already in the baseline",
            _ => "In the baseline and not found by this scan, which looked there",
        };
        assert_eq!(detail, expected);
    }
}
