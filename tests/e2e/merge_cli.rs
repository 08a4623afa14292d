//! `kms-audit merge` and `scan --shard` on the command line, on the shard fixtures in
//! tests/fixtures/merge (accounts 666666666666, 111111111111 and 222222222222 of an organization
//! in shards 1, 2 and 3 of 3), and the Kubernetes Indexed Job example.

use crate::report_examples::container_command_line;
use crate::support;

use std::path::{Path, PathBuf};

use clap::Parser;
use kms_audit::cli::Cli;
use serde_json::{Value, json};
use support::cli::{Run, command, run};

fn fixture(k: u32) -> String {
    format!("tests/fixtures/merge/shard-{k}-of-3.json")
}

fn kms_audit(args: &[&str]) -> Run {
    run(command().current_dir(env!("CARGO_MANIFEST_DIR")).args(args))
}

fn merge(extra: &[&str]) -> Run {
    let (s1, s2, s3) = (fixture(1), fixture(2), fixture(3));
    let mut args = vec!["merge", &s3, &s1, &s2];
    args.extend_from_slice(extra);
    kms_audit(&args)
}

fn load(path: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json")
}

/// A fixture changed by `edit`, written to `dir`.
fn edited(dir: &Path, k: u32, edit: impl FnOnce(&mut Value)) -> String {
    let mut report = load(&fixture(k));
    edit(&mut report);
    let path: PathBuf = dir.join(format!("edited-{k}.json"));
    std::fs::write(&path, serde_json::to_string(&report).expect("json")).expect("write");
    path.display().to_string()
}

fn check_ids(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().expect("id").to_string(),
                f["account"].as_str().expect("account").to_string(),
            )
        })
        .collect()
}

fn assert_exit_2(out: &Run, needle: &str) {
    assert_eq!(
        out.code, 2,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains(needle),
        "stderr should contain {needle:?}:\n{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "no report on error: {}", out.stdout);
}

#[test]
fn the_fixtures_are_valid_shard_reports() {
    let schema: Value =
        serde_json::from_str(&kms_audit::report::schema::report_schema()).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("schema");
    for k in 1..=3 {
        let report = load(&fixture(k));
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "shard {k}: {errors:?}");
        let account = report["targets"][0]["account"].as_str().expect("account");
        assert_eq!(kms_audit::scan::shard::shard_of(account, 3), k, "{account}");
    }
}

#[test]
fn merges_shards_and_re_checks_the_whole_inventory() {
    let out = merge(&["--format", "json", "--fail-on", "none"]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let report = out.json();
    assert_eq!(report.get("shard"), None);
    assert_eq!(report["organization_id"], "o-fixture0001");
    let keys: Vec<&str> = report["inventory"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["arn"].as_str().expect("arn"))
        .collect();
    assert_eq!(
        keys,
        [
            "arn:aws:kms:eu-west-1:111111111111:key/3b2c8d74-2e4f-4a5d-9c63-8f9012345678",
            "arn:aws:kms:us-east-1:111111111111:key/2a1b7c63-1d3e-4f4c-8b52-7e8f90123456",
            "arn:aws:kms:us-east-1:222222222222:key/4c3d9e85-3f5a-4b6e-8d74-901234567890",
            "arn:aws:kms:us-east-1:666666666666:key/1f0e6a52-0c2d-4e3b-9a41-6d7e8f901234",
        ],
        "sorted like a scan"
    );
    assert_eq!(report["targets"].as_array().expect("targets").len(), 6);
    // The shard's stale POL001 is gone; the checks ran again: rotation is off on one key.
    assert_eq!(
        check_ids(&report),
        [("ROT001".to_string(), "111111111111".to_string())]
    );
    assert_eq!(report["started_at"], "2026-03-01T09:00:00Z");
    assert_eq!(report["finished_at"], "2026-03-01T09:00:41Z");
    let summary = &report["summary"];
    assert_eq!(summary["duration_ms"], 41_000);
    assert_eq!(summary["keys"], 4);
    assert_eq!(summary["accounts"], 3);
    assert_eq!(summary["api_calls"]["organizations:ListAccounts"], 3);
    assert_eq!(summary["api_calls"]["sts:AssumeRole"], 2);
    assert_eq!(summary["api_calls"]["kms:ListKeys"], 6);
    assert_eq!(summary["findings"]["medium"], 1);
}

#[test]
fn merge_takes_the_analysis_and_output_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kms-audit.yaml");
    std::fs::write(&config, "required_tags: [owner]\n").expect("config");
    let json_path = dir.path().join("merged.json");
    let sarif_path = dir.path().join("merged.sarif");
    let out = merge(&[
        "--config",
        &config.display().to_string(),
        "-o",
        &format!("json={}", json_path.display()),
        "-o",
        &format!("sarif={}", sarif_path.display()),
        "--fail-on",
        "low",
    ]);
    assert_eq!(out.code, 1, "ROT001 and TAG001 fail at low: {}", out.stderr);
    assert!(
        out.stdout.contains("TAG001"),
        "a table on stdout:\n{}",
        out.stdout
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json")).expect("json");
    assert_eq!(
        check_ids(&report),
        [
            ("ROT001".to_string(), "111111111111".to_string()),
            ("TAG001".to_string(), "111111111111".to_string()),
        ]
    );
    assert!(sarif_path.exists());

    // A suppression hides the finding: --fail-on medium passes.
    let suppressions = dir.path().join("suppressions.yaml");
    std::fs::write(
        &suppressions,
        "suppressions:\n  - check: ROT001\n    key: alias/payments\n    reason: rotated by hand\n    expires: 2099-01-01\n",
    )
    .expect("suppressions");
    let out = merge(&[
        "--suppressions",
        &suppressions.display().to_string(),
        "--format",
        "json",
        "--fail-on",
        "medium",
    ]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(out.json()["findings"][0]["suppressed"].is_object());
}

#[test]
fn a_missing_shard_is_exit_2_or_with_allow_partial_gaps_and_exit_3() {
    let (s1, s2) = (fixture(1), fixture(2));
    let out = kms_audit(&["merge", &s1, &s2, "--format", "json"]);
    assert_exit_2(
        &out,
        "shard 3/3 is missing: merge every shard's report, or pass --allow-partial",
    );

    let out = kms_audit(&["merge", &s1, &s2, "--format", "json", "--allow-partial"]);
    assert_eq!(out.code, 3, "stderr: {}", out.stderr);
    assert!(
        out.stderr
            .contains("shard 3/3 is missing: its account is a coverage gap"),
        "{}",
        out.stderr
    );
    let report = out.json();
    assert_eq!(
        report["coverage_gaps"],
        json!([{
            "account": "222222222222", "region": null, "key_arn": null, "operation": "Shard",
            "error_code": null,
            "reason": "shard 3/3 was not merged (its report is missing): the account was not scanned"
        }])
    );
    let failed: Vec<(&str, &str)> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["status"] == "failed")
        .map(|t| {
            (
                t["account"].as_str().expect("account"),
                t["region"].as_str().expect("region"),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [("222222222222", "eu-west-1"), ("222222222222", "us-east-1")]
    );
}

#[test]
fn shards_that_do_not_belong_together_are_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s1, s2, s3) = (fixture(1), fixture(2), fixture(3));

    // The same account in two shards.
    let dup = edited(dir.path(), 3, |r| {
        let stray = load(&fixture(1))["inventory"]["keys"][0].clone();
        r["inventory"]["keys"]
            .as_array_mut()
            .expect("keys")
            .push(stray);
    });
    assert_exit_2(
        &kms_audit(&["merge", &s1, &s2, &dup]),
        &format!("account 666666666666 is in two shards: {s1} and {dup}"),
    );

    // Another organization.
    let other = edited(dir.path(), 2, |r| {
        r["organization_id"] = json!("o-other00001")
    });
    assert_exit_2(
        &kms_audit(&["merge", &s1, &other, &s3]),
        "disagree on the organization (o-fixture0001 vs o-other00001)",
    );

    // Another N.
    let four = edited(dir.path(), 2, |r| r["shard"]["count"] = json!(4));
    assert_exit_2(
        &kms_audit(&["merge", &s1, &four, &s3]),
        "the shards come from different runs",
    );

    // The same shard twice.
    assert_exit_2(
        &kms_audit(&["merge", &s1, &s2, &s3, &s1]),
        &format!("shard 1/3 is given twice: {s1} and {s1}"),
    );

    // A whole scan is not a shard.
    assert_exit_2(
        &kms_audit(&["merge", &s1, "tests/fixtures/reports/scan.json"]),
        "tests/fixtures/reports/scan.json is not a shard report",
    );

    // An unreadable file.
    assert_exit_2(
        &kms_audit(&["merge", &s1, &s2, "tests/fixtures/merge/nope.json"]),
        "could not read tests/fixtures/merge/nope.json",
    );

    // No shard at all.
    let out = kms_audit(&["merge"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("SHARD.json"), "{}", out.stderr);
}

#[test]
fn a_bad_shard_is_exit_2_before_any_aws_call() {
    // Nothing listens on port 9: an AWS call would fail differently (and slowly).
    for (shard, needle) in [
        ("4/3", "K must be between 1 and N (got 4/3)"),
        ("0/3", "K must be between 1 and N (got 0/3)"),
        ("1/0", "N must be at least 1"),
        ("2", "'2' is not K/N"),
        ("one/3", "K 'one' is not a whole number"),
    ] {
        let out = kms_audit(&[
            "scan",
            "--org",
            "--shard",
            shard,
            "--endpoint-url",
            "http://127.0.0.1:9",
        ]);
        assert_eq!(out.code, 2, "--shard {shard}: {}", out.stderr);
        assert!(
            out.stderr.contains("--shard <K/N>") && out.stderr.contains(needle),
            "--shard {shard}: {}",
            out.stderr
        );
    }
}

#[test]
fn help_lists_merge_and_its_flags() {
    let help = kms_audit(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("merge"), "{}", help.stdout);
    assert!(help.stdout.contains("--shard K/N"), "{}", help.stdout);
    let help = kms_audit(&["merge", "--help"]);
    assert_eq!(help.code, 0);
    for flag in [
        "--allow-partial",
        "--config",
        "--spec",
        "--suppressions",
        "--baseline",
        "--format",
        "--output",
        "--fail-on",
    ] {
        assert!(help.stdout.contains(flag), "merge --help mentions {flag}");
    }
    let help = kms_audit(&["scan", "--help"]);
    assert!(help.stdout.contains("--shard <K/N>"), "{}", help.stdout);
}

#[test]
fn the_kubernetes_indexed_job_runs_shards_then_a_merge() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes/indexed-job.yaml");
    let text = std::fs::read_to_string(&path).expect("example");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("the manifests are YAML");
    let job = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "Job" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("Job {name}"))
    };
    let config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .and_then(|d| d["data"]["kms-audit.yaml"].as_str())
        .expect("config");
    kms_audit::inputs::config::parse(config, "kms-audit.yaml", kms_audit::analysis::catalog())
        .expect("a valid config");

    let shards = job("kms-audit-shards");
    assert_eq!(shards["spec"]["completionMode"], "Indexed");
    let completions = shards["spec"]["completions"].as_u64().expect("completions");
    let container = &shards["spec"]["template"]["spec"]["containers"][0];
    let scan = container_command_line(container);
    assert_eq!(scan[1], "scan");
    assert!(
        scan.contains(&format!("--shards={completions}")),
        "--shards = completions: {scan:?}"
    );
    assert!(
        scan.contains(&"--shard-index-env=JOB_COMPLETION_INDEX".to_string()),
        "{scan:?}"
    );
    assert!(
        scan.contains(&"--output=json=/shards/shard-$(JOB_COMPLETION_INDEX).json".to_string()),
        "one report per index, named by Kubernetes' $(VAR) expansion: {scan:?}"
    );
    if let Err(err) = Cli::try_parse_from(&scan) {
        panic!("`{}` does not parse: {err}", scan.join(" "));
    }

    let merge = job("kms-audit-merge");
    assert_eq!(merge["spec"]["suspend"], true, "released after the shards");
    let merge = container_command_line(&merge["spec"]["template"]["spec"]["containers"][0]);
    assert_eq!(merge[1..3], ["merge".to_string(), "/shards".to_string()]);
    for format in ["json", "sarif", "csv", "ocsf", "asff"] {
        assert!(
            merge
                .iter()
                .any(|a| a.starts_with(&format!("--output={format}=/reports/"))),
            "{format} report in {merge:?}"
        );
    }
    if let Err(err) = Cli::try_parse_from(&merge) {
        panic!("`{}` does not parse: {err}", merge.join(" "));
    }
}

#[test]
fn merge_takes_a_directory_of_shard_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for k in 1..=3 {
        std::fs::copy(
            root.join(fixture(k)),
            dir.path().join(format!("shard-{k}.json")),
        )
        .expect("copy");
    }
    // Not *.json, hidden, or in a subdirectory: left out, as by a shell glob.
    std::fs::write(dir.path().join("notes.txt"), "not a report").expect("txt");
    std::fs::write(dir.path().join(".shard-1.json.123.tmp"), "{").expect("temp");
    std::fs::write(dir.path().join(".hidden.json"), "{").expect("hidden");
    std::fs::create_dir(dir.path().join("old.json")).expect("subdir");
    let by_dir = kms_audit(&[
        "merge",
        &dir.path().display().to_string(),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(by_dir.code, 0, "stderr: {}", by_dir.stderr);
    let by_files = merge(&["--format", "json", "--fail-on", "none"]);
    let (a, b) = (by_dir.json(), by_files.json());
    for field in ["inventory", "targets", "findings", "coverage_gaps"] {
        assert_eq!(a[field], b[field], "{field}");
    }

    // A directory and a file together; a shard given both ways is given twice.
    let out = kms_audit(&["merge", &dir.path().display().to_string(), &fixture(1)]);
    assert_exit_2(&out, "shard 1/3 is given twice");

    let empty = tempfile::tempdir().expect("tempdir");
    std::fs::write(empty.path().join("readme.txt"), "").expect("txt");
    let out = kms_audit(&["merge", &empty.path().display().to_string()]);
    assert_exit_2(
        &out,
        &format!(
            "the directory {} holds no *.json shard report",
            empty.path().display()
        ),
    );
}

#[test]
fn the_shard_index_from_the_environment_is_checked_before_any_aws_call() {
    let scan = |index: Option<&str>, extra: &[&str]| {
        let mut cmd = command();
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("JOB_COMPLETION_INDEX");
        if let Some(index) = index {
            cmd.env("JOB_COMPLETION_INDEX", index);
        }
        cmd.args(["scan", "--org", "--endpoint-url", "http://127.0.0.1:9"])
            .args(extra);
        run(&mut cmd)
    };
    let env_flags = ["--shards", "3", "--shard-index-env", "JOB_COMPLETION_INDEX"];
    for (index, needle) in [
        (
            None,
            "kms-audit: error: --shard-index-env JOB_COMPLETION_INDEX: the environment variable \
             JOB_COMPLETION_INDEX is not set (the 0-based shard index, 0 to 2)",
        ),
        (
            Some("x"),
            "kms-audit: error: --shard-index-env JOB_COMPLETION_INDEX: JOB_COMPLETION_INDEX='x' \
             is not a whole number (the 0-based shard index, 0 to 2)",
        ),
        (
            Some("3"),
            "kms-audit: error: --shard-index-env JOB_COMPLETION_INDEX: JOB_COMPLETION_INDEX=3 is \
             not below --shards 3 (the 0-based shard index, 0 to 2)",
        ),
    ] {
        let out = scan(index, &env_flags);
        assert_exit_2(&out, needle);
        assert_eq!(out.stderr.trim_end(), needle, "one line");
    }
    // Usage errors: the two forms conflict, and each half needs the other.
    let out = scan(
        Some("0"),
        &["--shard", "1/3", "--shards", "3", "--shard-index-env", "I"],
    );
    assert_exit_2(&out, "cannot be used with");
    let out = scan(Some("0"), &["--shard-index-env", "JOB_COMPLETION_INDEX"]);
    assert_exit_2(&out, "--shards <N>");
    let out = scan(Some("0"), &["--shards", "3"]);
    assert_exit_2(&out, "--shard-index-env <VAR>");
    let out = scan(
        Some("0"),
        &["--shards", "0", "--shard-index-env", "JOB_COMPLETION_INDEX"],
    );
    assert_exit_2(&out, "--shards <N>");
}

#[test]
fn exit_zero_on_maps_findings_and_gaps_but_never_input_errors() {
    let (s1, s2) = (fixture(1), fixture(2));
    // ROT001 (medium) fails at --fail-on low: exit 1, or 0 with --exit-zero-on findings.
    assert_eq!(merge(&["--fail-on", "low", "--format", "json"]).code, 1);
    let out = merge(&[
        "--fail-on",
        "low",
        "--format",
        "json",
        "--exit-zero-on",
        "findings",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("exit code 0 (clean) instead of 1 (findings): --exit-zero-on findings"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.json()["findings"][0]["check_id"],
        "ROT001",
        "still reported"
    );
    let out = merge(&[
        "--fail-on",
        "low",
        "--format",
        "json",
        "--exit-zero-on",
        "gaps",
    ]);
    assert_eq!(out.code, 1, "gaps only: {}", out.stderr);

    // A missing shard with --allow-partial: gaps, exit 3.
    let partial = |extra: &[&str]| {
        let mut args = vec!["merge", &s1, &s2, "--allow-partial", "--format", "json"];
        args.extend_from_slice(extra);
        kms_audit(&args)
    };
    assert_eq!(partial(&[]).code, 3);
    assert_eq!(partial(&["--exit-zero-on", "gaps"]).code, 0);
    assert_eq!(partial(&["--exit-zero-on", "findings"]).code, 3);
    // Gaps and failing findings: 3; with only gaps mapped, the findings still fail (1).
    assert_eq!(partial(&["--fail-on", "low"]).code, 3);
    assert_eq!(
        partial(&["--fail-on", "low", "--exit-zero-on", "gaps"]).code,
        1
    );
    assert_eq!(
        partial(&["--fail-on", "low", "--exit-zero-on", "gaps,findings"]).code,
        0
    );

    // `report` takes it too.
    let report = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "tests/fixtures/reports/scan.json",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        kms_audit(&args).code
    };
    let plain = report(&["--fail-on", "info"]);
    assert!(
        plain == 1 || plain == 3,
        "the fixture fails at info: {plain}"
    );
    assert_eq!(
        report(&["--fail-on", "info", "--exit-zero-on", "findings,gaps"]),
        0
    );

    // Exit 2 is never mapped.
    let out = kms_audit(&["merge", &s1, &s2, "--exit-zero-on", "findings,gaps"]);
    assert_exit_2(&out, "shard 3/3 is missing");
    let out = kms_audit(&["merge", &s1, "--exit-zero-on", "errors"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("invalid value 'errors'") && out.stderr.contains("findings, gaps"),
        "{}",
        out.stderr
    );
}
