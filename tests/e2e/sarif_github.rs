//! SARIF for GitHub code scanning, end to end: `-o sarif=DIR/` on a scan of the emulated
//! organization (one file per account, none for the accounts that were not fully scanned) and
//! on a synthetic inventory of more than 25,000 findings in one account (split by region, then
//! check), every file checked against the official schema, Microsoft's SARIF Multitool with
//! GitHub's ingestion rules, and GitHub's size limits.

use crate::sarif_support;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use sarif_support::{
    assert_multitool_catches_errors, assert_multitool_clean, assert_schema_valid,
    assert_within_github_limits, multitool, read_json,
};
use serde_json::Value;
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, command, kms_audit};
use support::emulator::Emulator;
use support::inventory;
use support::org;
use support::proxy::FaultProxy;
use support::seed::{self, NewKey};

const REGIONS: &str = "us-east-1,eu-west-1";

/// The files of a split directory, as its manifest lists them.
fn manifest_files(dir: &Path) -> (Value, Vec<PathBuf>) {
    let manifest = read_json(&dir.join("index.json"));
    let files = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| dir.join(f["file"].as_str().expect("file")))
        .collect();
    (manifest, files)
}

/// The `.sarif` files in `dir`: exactly the manifest's.
fn sarif_files_in(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sarif"))
        .collect()
}

/// What every GitHub-bound file must carry: the category, `informationUri`, a `helpUri` to the
/// check's docs on every rule, and a start line on every location.
fn assert_github_shape(path: &Path, category: &str) -> Vec<Value> {
    let log = read_json(path);
    let run = &log["runs"][0];
    assert_eq!(
        run["automationDetails"]["id"],
        format!("{category}/"),
        "{}",
        path.display()
    );
    let driver = &run["tool"]["driver"];
    assert_eq!(
        driver["informationUri"],
        "https://github.com/kms-audit/kms-audit"
    );
    for rule in driver["rules"].as_array().expect("rules") {
        let id = rule["id"].as_str().expect("id");
        let help = rule["helpUri"].as_str().expect("helpUri");
        if id == "SUP001" {
            assert!(help.ends_with("README.md#suppressions"), "{help}");
        } else {
            assert_eq!(
                help,
                format!("https://github.com/kms-audit/kms-audit/blob/main/checks/{id}.yaml")
            );
            assert!(
                sarif_support::root()
                    .join(format!("checks/{id}.yaml"))
                    .is_file()
            );
        }
    }
    let results = run["results"].as_array().expect("results").clone();
    for result in &results {
        let location = &result["locations"][0]["physicalLocation"];
        assert!(
            location["region"]["startLine"]
                .as_u64()
                .is_some_and(|l| l >= 1),
            "{result}"
        );
        assert!(result.get("suppressions").is_none(), "suppressed left out");
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_scan_writes_one_valid_file_per_fully_scanned_account() {
    let tool = multitool();
    let emulator = Emulator::start();
    let org = org::create_org(&emulator.endpoint).await;
    // Each key without rotation (ROT001); the second of each region without an alias (ALI001).
    for account in [&org.management, &org.prod, &org.dev, &org.sandbox] {
        for region in REGIONS.split(',') {
            let client = org::kms_in(&emulator.endpoint, account, region).await;
            let named = seed::create_key(&client, NewKey::default()).await;
            seed::alias(&client, named.key_id(), "alias/app-0").await;
            seed::create_key(&client, NewKey::default()).await;
        }
    }
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    org.refuse_sandbox_and_dev_eu_west_1(&proxy);
    let work = tempfile::tempdir().expect("tempdir");
    let suppressions = work.path().join("suppressions.yaml");
    std::fs::write(
        &suppressions,
        format!(
            "suppressions:\n  - check: ROT001\n    key: alias/app-0\n    account: \"{}\"\n    \
             region: us-east-1\n    reason: Rotated by hand\n    expires: 2099-12-31\n",
            org.prod
        ),
    )
    .expect("write suppressions");
    let dir = work.path().join("sarif");
    let single = work.path().join("scan.sarif");
    let json = work.path().join("scan.json");
    let arg = |p: &Path| p.to_str().expect("utf-8").to_string();
    let run = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "--max-attempts",
            "1",
            "--suppressions",
            &arg(&suppressions),
            "--format",
            "table",
            "-o",
            &format!("sarif={}/", arg(&dir)),
            "-o",
            &format!("sarif={}", arg(&single)),
            "-o",
            &format!("json={}", arg(&json)),
        ],
    );
    assert_eq!(run.code, 3, "coverage gaps: exit 3\n{}", run.stderr);
    for account in [&org.dev, &org.sandbox] {
        assert!(
            run.stderr
                .contains(&format!("SARIF: no file for account {account}")),
            "{}",
            run.stderr
        );
    }
    let report = read_json(&json);
    let org_id = report["organization_id"]
        .as_str()
        .expect("org id")
        .to_string();

    // Exactly the fully scanned accounts have a file; the others are listed with the reason.
    let (manifest, files) = manifest_files(&dir);
    let listed: Vec<(String, String)> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["account"].as_str().unwrap_or("").into(),
                f["category"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = [&org.management, &org.prod]
        .iter()
        .map(|a| (a.to_string(), format!("kms-audit/{org_id}/{a}")))
        .collect();
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(sarif_files_in(&dir), files.iter().cloned().collect());
    let skipped: BTreeMap<String, String> = manifest["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["account"].as_str().unwrap_or("").into(),
                s["reason"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        skipped.keys().collect::<BTreeSet<_>>(),
        [&org.dev, &org.sandbox].into_iter().collect()
    );
    assert!(skipped[&org.sandbox].contains("AssumeRole"), "{skipped:?}");
    assert!(skipped[&org.dev].contains("ListKeys"), "{skipped:?}");
    assert_eq!(manifest["suppressed_left_out"], 1);

    // Each file holds exactly its account's unsuppressed findings.
    let findings = report["findings"].as_array().expect("findings");
    for (entry, path) in manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .zip(&files)
    {
        let account = entry["account"].as_str().expect("account");
        let results = assert_github_shape(path, entry["category"].as_str().expect("category"));
        let mut got: Vec<&str> = results
            .iter()
            .map(|r| {
                r["partialFingerprints"]["kmsAudit/v1"]
                    .as_str()
                    .expect("fp")
            })
            .collect();
        let mut want: Vec<&str> = findings
            .iter()
            .filter(|f| f["account"] == account && f["suppressed"].is_null())
            .map(|f| f["fingerprint"].as_str().expect("fp"))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{account}");
        // Per region: ROT001 on both keys, ALI001 on the unnamed one; one suppressed in prod.
        assert_eq!(
            want.len(),
            6 - usize::from(account == org.prod),
            "{account}"
        );
        assert_eq!(entry["results"], results.len());
        assert_schema_valid(&entry["file"].to_string(), &read_json(path));
        assert_within_github_limits(path);
    }

    // The single file: the whole organization as one category, suppressed findings left out.
    let single_log = read_json(&single);
    assert_schema_valid("scan.sarif", &single_log);
    assert_within_github_limits(&single);
    assert_eq!(
        single_log["runs"][0]["automationDetails"]["id"],
        format!("kms-audit/{org_id}/")
    );
    let unsuppressed = findings
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .count();
    assert_eq!(
        single_log["runs"][0]["results"].as_array().map(Vec::len),
        Some(unsuppressed)
    );

    if let Some(tool) = tool {
        let mut all = files.clone();
        all.push(single.clone());
        assert_multitool_clean(&tool, &all);
        assert_multitool_catches_errors(&tool, &files[0]);
    }

    // Once every account scans, every account has its file and the directory holds nothing else.
    let rerun = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "--format",
            "table",
            "--sarif-split",
            "account",
            "--sarif-category",
            "acme/kms",
            "-o",
            &format!("sarif={}", arg(&dir)),
        ],
    );
    assert_eq!(
        rerun.code, 0,
        "medium and low findings only\n{}",
        rerun.stderr
    );
    let (manifest, files) = manifest_files(&dir);
    assert_eq!(manifest["skipped"], serde_json::json!([]));
    let categories: BTreeSet<String> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["category"].as_str().unwrap_or("").to_string())
        .collect();
    let want: BTreeSet<String> = [&org.management, &org.prod, &org.dev, &org.sandbox]
        .iter()
        .map(|a| format!("acme/kms/{org_id}/{a}"))
        .collect();
    assert_eq!(categories, want);
    assert_eq!(sarif_files_in(&dir), files.into_iter().collect());
}

/// How many findings the synthetic inventory yields at each split level.
fn by<'a>(findings: &'a [Value], field: &str) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f[field].as_str().unwrap_or("")).or_default() += 1;
    }
    counts
}

#[test]
fn more_than_25000_findings_split_under_githubs_limits() {
    let tool = multitool();
    let work = tempfile::tempdir().expect("tempdir");
    // One account of two regions holds most keys: its ~28,000 findings must split.
    inventory::generate(&inventory::Args {
        out: work.path().to_path_buf(),
        keys: 40_000,
        accounts: 1,
        regions: 2,
        declared: 0,
    });
    let scan = work.path().join("scan.json");
    let dir = work.path().join("sarif");
    let json = work.path().join("report.json");
    let status = command()
        .arg("report")
        .arg(&scan)
        .arg("--config")
        .arg(work.path().join("config.yaml"))
        .args(["--fail-on", "none", "--quiet", "--format", "csv"])
        .arg("-o")
        .arg(format!("sarif={}/", dir.display()))
        .arg("-o")
        .arg(format!("json={}", json.display()))
        .stdout(Stdio::null())
        .status()
        .expect("run kms-audit report");
    assert_eq!(status.code(), Some(0));
    let report = read_json(&json);
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.len() > 25_000, "{} findings", findings.len());

    // Over the limits as one file: one file per region, or per check where a region is too.
    let (manifest, files) = manifest_files(&dir);
    assert_eq!(sarif_files_in(&dir), files.iter().cloned().collect());
    let entries = manifest["files"].as_array().expect("files");
    assert!(entries.len() >= 2, "{manifest:#}");
    assert!(
        entries.iter().all(|e| !e["region"].is_null()),
        "split by region"
    );
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for (entry, path) in entries.iter().zip(&files) {
        let results = assert_github_shape(path, entry["category"].as_str().expect("category"));
        let category = entry["category"].as_str().expect("category");
        let mut want = format!(
            "kms-audit/o-bench000001/{}/{}",
            entry["account"].as_str().expect("account"),
            entry["region"].as_str().expect("region")
        );
        if let Some(check) = entry["check"].as_str() {
            want.push_str(&format!("/{check}"));
        }
        if let Some(bucket) = entry["bucket"].as_str() {
            want.push_str(&format!("/{}", bucket.split('/').next().unwrap_or("")));
        }
        assert_eq!(category, want);
        assert!(seen.insert(category.to_string()), "categories are distinct");
        for result in &results {
            assert_eq!(result["properties"]["region"], entry["region"]);
            if let Some(check) = entry["check"].as_str() {
                assert_eq!(result["ruleId"], check);
            }
        }
        assert_eq!(
            std::fs::metadata(path).expect("file").len(),
            entry["bytes"].as_u64().expect("bytes")
        );
        total += results.len();
        assert_within_github_limits(path);
        assert_schema_valid(&entry["file"].to_string(), &read_json(path));
    }
    assert_eq!(total, findings.len(), "every finding in exactly one file");
    eprintln!(
        "{} findings in {} files; by region {:?}; by check {:?}",
        findings.len(),
        files.len(),
        by(findings, "region"),
        by(findings, "check_id")
    );

    // One file of them all would be rejected: kms-audit refuses to write it.
    let single = command()
        .arg("report")
        .arg(&json)
        .args([
            "--keep-findings",
            "--fail-on",
            "none",
            "--quiet",
            "--format",
            "table",
        ])
        .arg("-o")
        .arg(format!("sarif={}", work.path().join("all.sarif").display()))
        .stdout(Stdio::null())
        .output()
        .expect("run kms-audit report");
    assert_eq!(single.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&single.stderr);
    assert!(
        stderr.contains("more than GitHub code scanning accepts"),
        "{stderr}"
    );
    assert!(stderr.contains("-o sarif=DIR/"), "{stderr}");
    assert!(!work.path().join("all.sarif").exists());

    if let Some(tool) = tool {
        assert_multitool_clean(&tool, &files);
    }
}
