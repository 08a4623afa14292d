//! End to end: `scan --org --shard K/3` for K = 1..3, merged with `kms-audit merge`, equals one
//! `scan --org` of the same emulated organization (management + 3 members, keys in 2 regions,
//! findings of several checks including a multi-Region replica and cross-account policies).

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use support::cli::{DEFAULT_ACCOUNT, Run, command, kms_audit, run};
use support::emulator::Emulator;
use support::org::{self, SeededOrg};
use support::seed::{self, NewKey};

const REGIONS: &str = "us-east-1,eu-west-1";
const STRANGER: &str = "999999999999";

fn allow(sid: &str, principal: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal},
           "Action": "kms:Decrypt", "Resource": "*"})
}

async fn seed_org(endpoint: &str) -> SeededOrg {
    let org = org::create_org(endpoint).await;
    let accounts = [
        (org.management.clone(), 1),
        (org.prod.clone(), 2),
        (org.dev.clone(), 1),
        (org.sandbox.clone(), 2),
    ];
    for (account, keys_per_region) in &accounts {
        for region in REGIONS.split(',') {
            let client = org::kms_in(endpoint, account, region).await;
            for n in 0..*keys_per_region {
                let key = seed::create_key(&client, NewKey::default()).await;
                seed::alias(&client, key.key_id(), &format!("alias/app-{n}")).await;
            }
            // A key without an alias (ALI001) in every account and region.
            seed::create_key(&client, NewKey::default()).await;
        }
    }
    // Cross-account policies: to another member (trusted: the organization is known), and to an
    // outsider (POL002).
    let dev = org::kms_in(endpoint, &org.dev, "us-east-1").await;
    for (alias, principal) in [
        ("alias/to-member", format!("arn:aws:iam::{}:root", org.prod)),
        ("alias/to-stranger", format!("arn:aws:iam::{STRANGER}:root")),
    ] {
        let key = seed::create_key(
            &dev,
            NewKey {
                policy: Some(seed::policy(&org.dev, &[allow("Other", &principal)])),
                ..NewKey::default()
            },
        )
        .await;
        seed::alias(&dev, key.key_id(), alias).await;
    }
    // A multi-Region key whose replica's tags differ (MRK001).
    let prod_use1 = org::kms_in(endpoint, &org.prod, "us-east-1").await;
    let prod_euw1 = org::kms_in(endpoint, &org.prod, "eu-west-1").await;
    let primary = seed::create_key(
        &prod_use1,
        NewKey {
            multi_region: true,
            tags: &[("owner", "payments")],
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod_use1, primary.key_id(), "alias/payments").await;
    let replica = seed::replicate(&prod_use1, primary.key_id(), "eu-west-1").await;
    seed::alias(&prod_euw1, replica.key_id(), "alias/payments-eu").await;
    seed::tag(&prod_euw1, replica.key_id(), &[("owner", "someone-else")]).await;
    // A disabled key in the management account (STA001).
    let management = org::kms_in(endpoint, DEFAULT_ACCOUNT, "eu-west-1").await;
    let disabled = seed::create_key(&management, NewKey::default()).await;
    seed::alias(&management, disabled.key_id(), "alias/retired").await;
    seed::disable(&management, disabled.key_id()).await;
    org
}

/// `kms-audit ARGS...` with no endpoint: merge never talks to AWS.
fn offline(args: &[&str]) -> Run {
    run(command().args(args))
}

fn read(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).expect("a JSON report")
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

/// What identifies a finding, whatever the run's timing.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().expect("check").to_string(),
                f["fingerprint"].as_str().expect("fingerprint").to_string(),
                f["key_arn"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&kms_audit::report::schema::report_schema()).expect("schema");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn assert_valid(validator: &jsonschema::Validator, name: &str, report: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_merged_equal_one_scan_of_the_organization() {
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    let org = seed_org(endpoint).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let validator = schema_validator();

    let whole_path = dir.path().join("whole.json");
    let whole_run = kms_audit(
        endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "-o",
            &format!("json={}", path_arg(&whole_path)),
        ],
    );
    assert_eq!(
        whole_run.code, 1,
        "POL002 is high; stderr: {}",
        whole_run.stderr
    );
    let whole = read(&whole_path);

    let org_accounts = org.accounts();
    let mut shard_paths = Vec::new();
    let mut seen_accounts = BTreeSet::new();
    for k in 1..=3u32 {
        let path = dir.path().join(format!("shard-{k}.json"));
        let run = kms_audit(
            endpoint,
            &[
                "scan",
                "--org",
                "--regions",
                REGIONS,
                "--shard",
                &format!("{k}/3"),
                "-o",
                &format!("json={}", path_arg(&path)),
            ],
        );
        assert!(
            run.code == 0 || run.code == 1,
            "shard {k}/3: exit {}; stderr: {}",
            run.code,
            run.stderr
        );
        let shard = read(&path);
        assert_valid(&validator, &format!("shard-{k}.json"), &shard);
        assert_eq!(
            shard["shard"],
            json!({"index": k, "count": 3, "selected_accounts": org_accounts})
        );
        // Exactly the accounts the rule gives this shard, with every region.
        let expected: BTreeSet<String> = org_accounts
            .iter()
            .filter(|a| kms_audit::scan::shard::shard_of(a, 3) == k)
            .cloned()
            .collect();
        let targets = shard["targets"].as_array().expect("targets");
        let accounts: BTreeSet<String> = targets
            .iter()
            .map(|t| t["account"].as_str().expect("account").to_string())
            .collect();
        assert_eq!(accounts, expected, "shard {k}/3");
        assert_eq!(targets.len(), 2 * expected.len(), "two regions each");
        seen_accounts.extend(accounts);
        // Every shard lists the organization itself.
        assert_eq!(shard["organization_id"], org.id.as_str());
        assert_eq!(
            shard["summary"]["api_calls"]["organizations:ListAccounts"],
            1
        );
        shard_paths.push(path);
    }
    assert_eq!(
        seen_accounts.into_iter().collect::<Vec<_>>(),
        org_accounts,
        "every account in exactly one shard"
    );

    // Merged in any order.
    let merged_path = dir.path().join("merged.json");
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(shard_paths.iter().rev().map(|p| path_arg(p)));
    args.extend(["-o".into(), format!("json={}", path_arg(&merged_path))]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let merge_run = offline(&args);
    assert_eq!(
        merge_run.code, whole_run.code,
        "the same exit code; stderr: {}",
        merge_run.stderr
    );
    assert!(
        merge_run.stdout.contains("POL002"),
        "the table on stdout:\n{}",
        merge_run.stdout
    );
    let merged = read(&merged_path);
    assert_valid(&validator, "merged.json", &merged);

    assert_eq!(merged.get("shard"), None, "a merged report is whole");
    for field in [
        "inventory",
        "targets",
        "coverage_gaps",
        "organization_id",
        "organization_accounts",
        "resolved",
    ] {
        assert_eq!(merged[field], whole[field], "{field}");
    }
    assert_eq!(findings(&merged), findings(&whole));
    for field in ["keys", "findings", "accounts", "regions", "gaps"] {
        assert_eq!(merged["summary"][field], whole["summary"][field], "{field}");
    }
    let checks: BTreeSet<&str> = merged["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["check_id"].as_str())
        .collect();
    for check in ["POL002", "MRK001", "STA001", "ALI001", "ROT001"] {
        assert!(checks.contains(check), "{check} in {checks:?}");
    }
    // The member key trusted to another member is not POL002: the organization is known.
    assert_eq!(
        merged["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["check_id"] == "POL002")
            .count(),
        1
    );
    // API calls are summed: KMS and STS as one scan, Organizations and the caller's identity once
    // per shard.
    let calls = |report: &Value, op: &str| report["summary"]["api_calls"][op].as_u64();
    for (operation, _) in whole["summary"]["api_calls"].as_object().expect("calls") {
        let factor =
            if operation.starts_with("organizations:") || operation == "sts:GetCallerIdentity" {
                3
            } else {
                1
            };
        assert_eq!(
            calls(&merged, operation),
            calls(&whole, operation).map(|n| n * factor),
            "{operation}"
        );
    }
    assert!(merged["summary"]["duration_ms"].as_u64().is_some());
    assert!(merged["started_at"].as_str() <= merged["finished_at"].as_str());

    // A missing shard is an input error, or with --allow-partial coverage gaps and exit 3.
    let two = [
        "merge",
        &path_arg(&shard_paths[0]),
        &path_arg(&shard_paths[1]),
        "--format",
        "json",
    ];
    let out = offline(&two);
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("shard 3/3 is missing"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "no report: {}", out.stdout);

    let mut partial = two.to_vec();
    partial.push("--allow-partial");
    let out = offline(&partial);
    let report = out.json();
    let lost: Vec<&String> = org_accounts
        .iter()
        .filter(|a| kms_audit::scan::shard::shard_of(a, 3) == 3)
        .collect();
    let gaps: Vec<&str> = report["coverage_gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|g| g["operation"] == "Shard")
        .filter_map(|g| g["account"].as_str())
        .collect();
    assert_eq!(gaps, lost, "one gap per account of the missing shard");
    if lost.is_empty() {
        assert!(out.code < 2, "nothing lost; stderr: {}", out.stderr);
    } else {
        assert_eq!(out.code, 3, "stderr: {}", out.stderr);
    }

    // The same shard twice.
    let out = offline(&[
        "merge",
        &path_arg(&shard_paths[0]),
        &path_arg(&shard_paths[0]),
        &path_arg(&shard_paths[1]),
        &path_arg(&shard_paths[2]),
    ]);
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("shard 1/3 is given twice"),
        "{}",
        out.stderr
    );
}

/// The Indexed Job without a shell: each pod runs the same arguments with its own
/// `JOB_COMPLETION_INDEX` (0-based), exits 0 despite findings (`--exit-zero-on`), and the merge Job
/// reads the shard directory; the merged report equals one scan, and the merge gives the real
/// exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_from_job_completion_index_merged_from_a_directory_equal_one_scan() {
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    seed_org(endpoint).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).expect("shard dir");

    let whole_path = dir.path().join("whole.json");
    let whole_run = kms_audit(
        endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "-o",
            &format!("json={}", path_arg(&whole_path)),
        ],
    );
    assert_eq!(whole_run.code, 1, "POL002; stderr: {}", whole_run.stderr);
    let whole = read(&whole_path);

    for index in 0..3u32 {
        // The pod's arguments are the same for every index: only the environment differs.
        let out_path = shards.join(format!("shard-{index}.json"));
        let mut cmd = command();
        cmd.env("JOB_COMPLETION_INDEX", index.to_string()).args([
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "--shards",
            "3",
            "--shard-index-env",
            "JOB_COMPLETION_INDEX",
            "--exit-zero-on",
            "findings,gaps",
            "--endpoint-url",
            endpoint,
            "-o",
            &format!("json={}", path_arg(&out_path)),
        ]);
        let out = run(&mut cmd);
        assert_eq!(
            out.code, 0,
            "index {index}: findings do not fail a shard pod; stderr: {}",
            out.stderr
        );
        let shard = read(&out_path);
        assert_eq!(shard["shard"]["index"], index + 1, "K = index + 1");
        assert_eq!(shard["shard"]["count"], 3);
    }

    let merged_path = dir.path().join("merged.json");
    let merge_run = offline(&[
        "merge",
        &path_arg(&shards),
        "--format",
        "json",
        "-o",
        &format!("json={}", path_arg(&merged_path)),
    ]);
    assert_eq!(
        merge_run.code, whole_run.code,
        "the merge Job decides the real exit code; stderr: {}",
        merge_run.stderr
    );
    let merged = read(&merged_path);
    for field in [
        "inventory",
        "targets",
        "coverage_gaps",
        "organization_id",
        "organization_accounts",
    ] {
        assert_eq!(merged[field], whole[field], "{field}");
    }
    assert_eq!(findings(&merged), findings(&whole));
    assert!(!findings(&merged).is_empty());
    // The same report whether the shards are named one by one or by their directory.
    let by_name = offline(&[
        "merge",
        &path_arg(&shards.join("shard-2.json")),
        &path_arg(&shards.join("shard-0.json")),
        &path_arg(&shards.join("shard-1.json")),
        "--format",
        "json",
    ]);
    assert_eq!(by_name.code, merge_run.code, "{}", by_name.stderr);
    assert_eq!(findings(&by_name.json()), findings(&merged));
    assert_eq!(by_name.json()["inventory"], merged["inventory"]);
}
