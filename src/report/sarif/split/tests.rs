use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::model::{Report, SCHEMA_VERSION, Summary, ToolInfo};

/// A report of `targets` (account, region, status) and findings (check, account, region, n).
fn report(targets: &[(&str, &str, &str)], findings: &[(&str, &str, &str, usize)]) -> Report {
    let mut all = Vec::new();
    for (check, account, region, n) in findings {
        for i in 0..*n {
            let key = format!("{account}-{region}-{check}-{i:04}");
            all.push(json!({
                "check_id": check, "name": "test-check", "severity": "high",
                "account": account, "region": region,
                "key_arn": format!("arn:aws:kms:{region}:{account}:key/{key}"),
                "aliases": [], "message": format!("finding {i}"), "evidence": {},
                "remediation": "fix it", "fingerprint": format!("{:032x}", fnv(&key)),
            }));
        }
    }
    let gaps: Vec<Value> = targets
        .iter()
        .filter(|(_, _, status)| *status == "gap")
        .map(|(account, region, _)| {
            json!({"account": account, "region": region,
                   "key_arn": format!("arn:aws:kms:{region}:{account}:key/k"),
                   "operation": "GetKeyPolicy", "error_code": "AccessDeniedException",
                   "reason": "not authorized"})
        })
        .collect();
    let targets: Vec<Value> = targets
        .iter()
        .map(|(account, region, status)| {
            let status = if *status == "gap" { "scanned" } else { status };
            json!({"account": account, "region": region, "status": status,
                   "reason": (status == "failed").then_some("AssumeRole: AccessDenied")})
        })
        .collect();
    serde_json::from_value(json!({
        "schema_version": SCHEMA_VERSION, "tool": ToolInfo::default(),
        "started_at": "2026-03-01T00:00:00Z", "finished_at": "2026-03-01T00:01:00Z",
        "organization_id": "o-test", "targets": targets, "coverage_gaps": gaps,
        "inventory": {"keys": []}, "findings": all, "summary": Summary::default(),
    }))
    .expect("a valid report")
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read(dir: &Path, file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(file)).expect("read")).expect("json")
}

/// Every file the manifest lists is there, with its bytes and results, its category as
/// `automationDetails.id`, within the limits; no two files share a category.
fn check_files(dir: &Path, manifest: &Manifest, limits: Limits) -> BTreeSet<String> {
    let mut fingerprints = BTreeSet::new();
    let mut categories = BTreeSet::new();
    for entry in &manifest.files {
        let bytes = std::fs::metadata(dir.join(&entry.file))
            .expect("file")
            .len();
        assert_eq!(bytes, entry.bytes, "{}: planned size is exact", entry.file);
        assert!(bytes <= limits.file_bytes, "{}", entry.file);
        let log = read(dir, &entry.file);
        let runs = log["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1);
        let results = runs[0]["results"].as_array().expect("results");
        assert_eq!(results.len(), entry.results, "{}", entry.file);
        assert!(results.len() <= limits.results_per_run, "{}", entry.file);
        assert_eq!(
            runs[0]["automationDetails"]["id"],
            format!("{}/", entry.category)
        );
        assert!(
            categories.insert(entry.category.clone()),
            "{}",
            entry.category
        );
        for result in results {
            assert_eq!(result["properties"]["account"], entry.account.as_str());
            let fingerprint = result["partialFingerprints"]["kmsAudit/v1"].as_str();
            assert!(fingerprints.insert(fingerprint.expect("fp").to_string()));
        }
    }
    fingerprints
}

#[test]
fn one_file_per_complete_account_and_none_for_accounts_not_fully_scanned() {
    let mut report = report(
        &[
            ("111111111111", "us-east-1", "scanned"),
            ("222222222222", "us-east-1", "failed"),
            ("333333333333", "us-east-1", "gap"),
            ("444444444444", "us-east-1", "scanned"),
        ],
        &[
            ("ROT001", "111111111111", "us-east-1", 3),
            ("ROT001", "333333333333", "us-east-1", 2),
        ],
    );
    report.findings[0].suppressed = Some(Box::new(crate::model::Suppressed {
        reason: "accepted".into(),
        expires: "2099-01-01".into(),
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_split(&report, &SarifOptions::default(), dir.path()).expect("split");
    let files: Vec<(&str, &str, usize)> = manifest
        .files
        .iter()
        .map(|f| (f.file.as_str(), f.category.as_str(), f.results))
        .collect();
    assert_eq!(
        files,
        [
            ("111111111111.sarif", "kms-audit/o-test/111111111111", 2),
            ("444444444444.sarif", "kms-audit/o-test/444444444444", 0),
        ]
    );
    let skipped: Vec<(&str, &str)> = manifest
        .skipped
        .iter()
        .map(|s| (s.account.as_str(), s.category.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("222222222222", "kms-audit/o-test/222222222222"),
            ("333333333333", "kms-audit/o-test/333333333333")
        ]
    );
    assert!(
        manifest.skipped[0]
            .reason
            .contains("AssumeRole: AccessDenied")
    );
    assert!(manifest.skipped[1].reason.contains("GetKeyPolicy failed"));
    assert_eq!(manifest.suppressed_left_out, 1);
    check_files(dir.path(), &manifest, GITHUB_LIMITS);
    assert_eq!(
        read_manifest(&dir.path().join(MANIFEST)).expect("manifest"),
        manifest
    );

    // Kept with their suppression; the category left to the uploader.
    let options = SarifOptions {
        category_prefix: "acme".into(),
        automation_details: false,
        keep_suppressed: true,
    };
    let manifest = write_split(&report, &options, dir.path()).expect("split");
    assert_eq!(manifest.files[0].results, 3);
    assert_eq!(manifest.files[0].category, "acme/o-test/111111111111");
    assert_eq!(manifest.suppressed_left_out, 0);
    let log = read(dir.path(), "111111111111.sarif");
    assert!(log["runs"][0].get("automationDetails").is_none());
    assert_eq!(
        log["runs"][0]["results"][0]["suppressions"][0]["status"],
        "accepted"
    );
}

#[test]
fn an_account_over_the_limits_splits_by_region_then_check_then_bucket() {
    let report = report(
        &[
            ("111111111111", "eu-west-1", "scanned"),
            ("111111111111", "us-east-1", "scanned"),
            ("111111111111", "us-west-2", "scanned"),
            ("222222222222", "us-east-1", "scanned"),
        ],
        &[
            ("ROT001", "111111111111", "eu-west-1", 4),
            ("ALI001", "111111111111", "us-east-1", 3),
            ("ROT001", "111111111111", "us-east-1", 13),
            ("ROT001", "222222222222", "us-east-1", 2),
        ],
    );
    let limits = Limits {
        results_per_run: 5,
        file_bytes: 1_000_000,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest =
        write_split_with(&report, &SarifOptions::default(), dir.path(), limits).expect("split");
    let parts: Vec<String> = manifest
        .files
        .iter()
        .map(|f| {
            f.category
                .trim_start_matches("kms-audit/o-test/")
                .to_string()
        })
        .collect();
    let mut want = vec![
        "111111111111/eu-west-1".to_string(),
        "111111111111/us-east-1/ALI001".to_string(),
    ];
    let buckets = manifest
        .files
        .iter()
        .filter(|f| f.check.as_deref() == Some("ROT001"))
        .count();
    assert!(buckets >= 4 && buckets.is_power_of_two(), "{parts:?}");
    want.extend((0..buckets).map(|i| format!("111111111111/us-east-1/ROT001/{i}")));
    want.push("111111111111/us-west-2".to_string());
    want.push("222222222222".to_string());
    assert_eq!(parts, want);
    assert_eq!(
        manifest.files[2].file,
        "111111111111.us-east-1.ROT001.0.sarif"
    );
    assert_eq!(manifest.files[2].bucket, Some(format!("0/{buckets}")));
    assert_eq!(manifest.files[parts.len() - 2].results, 0, "empty region");
    let written = check_files(dir.path(), &manifest, limits);
    let all: BTreeSet<String> = report
        .findings
        .iter()
        .map(|f| f.fingerprint.clone())
        .collect();
    assert_eq!(written, all, "every finding exactly once");
}

#[test]
fn the_byte_budget_is_exact_and_splits_by_size_alone() {
    let report = report(
        &[("111111111111", "us-east-1", "scanned")],
        &[
            ("ROT001", "111111111111", "us-east-1", 6),
            ("ALI001", "111111111111", "us-east-1", 6),
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = write_split(&report, &SarifOptions::default(), dir.path()).expect("split");
    assert_eq!(whole.files.len(), 1);
    // Just too small for the account in one file: by region, then by check.
    let limits = Limits {
        results_per_run: 1000,
        file_bytes: whole.files[0].bytes - 1,
    };
    let split =
        write_split_with(&report, &SarifOptions::default(), dir.path(), limits).expect("split");
    let checks: Vec<Option<&str>> = split.files.iter().map(|f| f.check.as_deref()).collect();
    assert_eq!(checks, [Some("ALI001"), Some("ROT001")]);
    check_files(dir.path(), &split, limits);
    assert!(
        !dir.path().join("111111111111.sarif").exists(),
        "the previous manifest's file is removed"
    );
}

#[test]
fn stale_files_go_and_other_files_stay() {
    let complete = report(
        &[
            ("111111111111", "us-east-1", "scanned"),
            ("222222222222", "us-east-1", "scanned"),
        ],
        &[("ROT001", "222222222222", "us-east-1", 1)],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mine.sarif"), "{}").expect("write");
    write_split(&complete, &SarifOptions::default(), dir.path()).expect("split");
    assert!(dir.path().join("222222222222.sarif").exists());
    let failed = report(
        &[
            ("111111111111", "us-east-1", "scanned"),
            ("222222222222", "us-east-1", "failed"),
        ],
        &[],
    );
    let manifest = write_split(&failed, &SarifOptions::default(), dir.path()).expect("split");
    assert_eq!(manifest.skipped.len(), 1);
    assert!(
        !dir.path().join("222222222222.sarif").exists(),
        "a skipped account's old file is not uploaded again"
    );
    assert!(dir.path().join("mine.sarif").exists());
}

#[test]
fn buckets_are_stable_when_they_double() {
    let report = report(
        &[("111111111111", "us-east-1", "scanned")],
        &[("ROT001", "111111111111", "us-east-1", 64)],
    );
    for finding in &report.findings {
        let two = bucket_of(finding, 2);
        let four = bucket_of(finding, 4);
        assert_eq!(
            four % 2,
            two,
            "bucket i of 4 takes only from bucket i mod 2 of 2"
        );
    }
}
