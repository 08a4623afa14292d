//! A report file is never left half-written: killing kms-audit while it writes large reports
//! leaves either no file or a complete one, and the next run clears the debris.

use crate::support;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use serde_json::{Value, json};

const KEYS: usize = 6_000;

/// A saved scan with many keys, built from one key template.
fn big_report(path: &Path) {
    let keys: Vec<Value> = (0..KEYS)
        .map(|i| {
            let id = format!("{i:08}-0000-4000-8000-000000000000");
            json!({
                "arn": format!("arn:aws:kms:us-east-1:111111111111:key/{id}"),
                "key_id": id, "account": "111111111111", "region": "us-east-1",
                "aliases": [format!("alias/app-{i}")], "key_state": "Enabled",
                "key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT",
                "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS", "description": "bulk",
                "creation_date": "2026-01-01T00:00:00Z", "deletion_date": null,
                "rotation": {"enabled": i % 2 == 0, "period_days": null, "next_rotation_date": null},
                "multi_region": null,
                "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}]},
                "tags": {"owner": "platform"}, "grants": [], "unknown": []
            })
        })
        .collect();
    let report = json!({
        "schema_version": "1", "tool": {"name": "kms-audit", "version": "0.1.0"},
        "started_at": "2026-11-25T00:00:00Z", "finished_at": "2026-11-25T00:01:00Z",
        "organization_id": null,
        "targets": [{"account": "111111111111", "region": "us-east-1", "status": "scanned"}],
        "coverage_gaps": [], "inventory": {"keys": keys}, "findings": [], "resolved": [],
        "summary": {"keys": KEYS, "findings": {}, "accounts": 1, "regions": 1, "gaps": 0,
            "duration_ms": 60000, "api_calls": {}}
    });
    std::fs::write(path, serde_json::to_vec(&report).expect("json")).expect("write");
}

fn check_complete_or_absent(path: &Path) {
    if !path.exists() {
        return;
    }
    let text = std::fs::read_to_string(path).expect("read");
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is a partial report ({err})", path.display()));
    assert_eq!(
        report["inventory"]["keys"].as_array().map(Vec::len),
        Some(KEYS)
    );
}

#[test]
fn killing_kms_audit_while_it_writes_never_leaves_a_partial_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("scan.json");
    big_report(&input);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let json_out = out.join("report.json");
    let args = [
        "report".to_string(),
        input.display().to_string(),
        "--fail-on".into(),
        "none".into(),
        "-o".into(),
        format!("sarif={}", out.join("report.sarif").display()),
        "-o".into(),
        format!("json={}", json_out.display()),
        "-o".into(),
        format!("csv={}", out.join("report.csv").display()),
    ];

    // How long a whole run takes here, to spread the kills over it.
    let started = Instant::now();
    let full = support::cli::run(support::cli::command().args(&args).stdout(Stdio::null()));
    assert_eq!(full.code, 0, "stderr: {}", full.stderr);
    let whole = started.elapsed();
    std::fs::remove_file(&json_out).expect("remove");

    let mut killed_mid_run = 0;
    for step in 1..=8u32 {
        let mut child = support::cli::command()
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(whole * step / 9);
        if child.try_wait().expect("wait").is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        check_complete_or_absent(&json_out);
    }
    assert!(
        killed_mid_run >= 4,
        "only {killed_mid_run} kills landed mid-run (run takes {whole:?})"
    );

    // A normal run afterwards writes every report and removes the dead runs' temp files.
    let last = support::cli::run(support::cli::command().args(&args).stdout(Stdio::null()));
    assert_eq!(last.code, 0, "stderr: {}", last.stderr);
    check_complete_or_absent(&json_out);
    assert!(json_out.exists());
    let debris: Vec<String> = std::fs::read_dir(&out)
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(debris.is_empty(), "temp files left: {debris:?}");
}
