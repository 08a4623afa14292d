//! End to end: seed the example estate of `examples/specs/` into the local AWS emulator with
//! deliberate differences, scan it with `--spec`, and check that exactly the seeded drift is
//! reported, each finding pointing at the spec's file and line. Every other form of the same
//! estate — Terraform state, `terraform show -json` of a state and of a plan, the Pulumi export
//! with and without secrets (`tests/fixtures/specs/forms/`) — must give the same findings as the
//! hand-written spec.

use crate::support;

use std::path::{Path, PathBuf};

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use serde_json::{Value, json};
use support::cli::{DEFAULT_ACCOUNT, kms_audit};
use support::emulator::{Emulator, repo_root};
use support::seed::{self, NewKey};

const SCANNED: &str = "us-east-1,eu-west-1";
const PREFIX_ALIAS: &str = "alias/payments-20261201083000000000000001";

/// ARNs of the seeded keys the findings name.
struct Seeded {
    payments: String,
    signing: String,
    orders: String,
    orders_eu: String,
    legacy: String,
    scratch: String,
}

fn example_policy(name: &str) -> String {
    std::fs::read_to_string(
        repo_root()
            .join("examples/specs/kms-audit/policies")
            .join(name),
    )
    .expect("example policy")
}

fn root_statement(principal: &str) -> Value {
    json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
           "Principal": {"AWS": principal}, "Action": ["kms:*"], "Resource": "*"})
}

/// The example estate, with these differences from `examples/specs/kms-audit/keys.yaml`:
/// - alias/payments rotates every 365 days (declared 180), its `data-class` tag is `internal`
///   (declared `pci`) and it has an undeclared `temp` tag; its policy is the declared one
///   written differently (statement order, bare account id, lists) plus one more statement;
/// - alias/release-signing has another description;
/// - alias/webhook-hmac does not exist;
/// - alias/orders has a replica in eu-west-1 only (declared: eu-west-1 and ap-southeast-2), and
///   that replica is disabled; ap-southeast-2 is not scanned, so its declared replica is not
///   reported missing;
/// - plus a key pending deletion declared by ARN, and an undeclared key.
async fn seed_estate(endpoint: &str) -> Seeded {
    let use1 = seed::kms(endpoint, "us-east-1");
    let euw1 = seed::kms(endpoint, "eu-west-1");
    let base = [("owner", "platform"), ("env", "prod")];

    let payments_policy = json!({
        "Version": "2012-10-17",
        "Id": "payments-key",
        "Statement": [
            {"Sid": "AllowPartnerDecrypt", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
             "Action": "kms:Decrypt", "Resource": "*"},
            {"Resource": ["*"], "Effect": "Allow", "Sid": "AllowPaymentsService",
             "Action": ["kms:GenerateDataKey*", "kms:Encrypt", "kms:Decrypt"],
             "Principal": {"AWS": [format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/payments-api")]},
             "Condition": {"StringEquals": {"kms:ViaService": ["dynamodb.us-east-1.amazonaws.com"]}}},
            root_statement(DEFAULT_ACCOUNT),
        ]
    });
    let payments = seed::create_key(
        &use1,
        NewKey {
            description: Some("Payments data key"),
            tags: &[
                base[0],
                base[1],
                ("team", "payments"),
                ("data-class", "internal"),
                ("temp", "yes"),
            ],
            policy: Some(payments_policy.to_string()),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, payments.key_id(), "alias/payments").await;
    // A second alias, as Terraform's `name_prefix` names it (declared only by the forms in
    // tests/fixtures/specs/forms/: further aliases are not compared).
    seed::alias(&use1, payments.key_id(), PREFIX_ALIAS).await;
    seed::enable_rotation(&use1, payments.key_id(), Some(365)).await;

    let signing = seed::create_key(
        &use1,
        NewKey {
            spec: Some(KeySpec::Rsa3072),
            usage: Some(KeyUsageType::SignVerify),
            description: Some("Release signing key (2019)"),
            tags: &[base[0], base[1], ("team", "release")],
            policy: Some(example_policy("default.json")),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, signing.key_id(), "alias/release-signing").await;

    let orders_policy = example_policy("orders.json");
    let orders_tags = [base[0], base[1], ("team", "orders")];
    let orders = seed::create_key(
        &use1,
        NewKey {
            description: Some("Orders data key (multi-Region)"),
            multi_region: true,
            tags: &orders_tags,
            policy: Some(orders_policy.clone()),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, orders.key_id(), "alias/orders").await;
    seed::enable_rotation(&use1, orders.key_id(), Some(365)).await;
    let replica = seed::replicate(&use1, orders.key_id(), "eu-west-1").await;
    seed::tag(&euw1, replica.key_id(), &orders_tags).await;
    seed::put_policy(&euw1, replica.key_id(), &orders_policy).await;
    seed::alias(&euw1, replica.key_id(), "alias/orders").await;
    seed::disable(&euw1, replica.key_id()).await;

    let legacy = seed::create_key(
        &use1,
        NewKey {
            description: Some("Legacy reports key"),
            ..NewKey::default()
        },
    )
    .await;
    seed::schedule_deletion(&use1, legacy.key_id(), 7).await;

    let scratch = seed::create_key(
        &use1,
        NewKey {
            description: Some("Scratch key"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, scratch.key_id(), "alias/scratch").await;

    let arn = |meta: &aws_sdk_kms::types::KeyMetadata| meta.arn().expect("arn").to_string();
    Seeded {
        payments: arn(&payments),
        signing: arn(&signing),
        orders: arn(&orders),
        orders_eu: arn(&replica),
        legacy: arn(&legacy),
        scratch: arn(&scratch),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The 1-based line of the `nth` (0-based) line containing `needle`.
fn line_of(path: &Path, needle: &str, nth: usize) -> u64 {
    let text = std::fs::read_to_string(path).expect("read");
    let index = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle} #{nth} in {}", path.display()))
        .0;
    u64::try_from(index).expect("line") + 1
}

fn scan(endpoint: &str, dir: &Path, spec: &Path) -> Value {
    scan_with(endpoint, dir, spec, &[], 0)
}

fn scan_with(endpoint: &str, dir: &Path, spec: &Path, more: &[&str], code: i32) -> Value {
    let spec = spec.display().to_string();
    let extra = dir.join("extra.yaml").display().to_string();
    let config = dir.join("kms-audit.yaml").display().to_string();
    let run = kms_audit(
        endpoint,
        &[
            "scan",
            "--regions",
            SCANNED,
            "--spec",
            &spec,
            "--spec",
            &extra,
            "--config",
            &config,
            "--format",
            "json",
            "--fail-on",
            "none",
        ]
        .into_iter()
        .chain(more.iter().copied())
        .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, code, "stderr: {}", run.stderr);
    run.json()
}

/// The drift findings of a report, in a stable order.
fn drift(report: &Value) -> Vec<Value> {
    let mut findings: Vec<Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["check_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("DRF"))
        })
        .cloned()
        .collect();
    findings.sort_by_key(|f| {
        (
            f["check_id"].as_str().unwrap_or_default().to_string(),
            f["region"].as_str().unwrap_or_default().to_string(),
            f["aliases"][0].as_str().unwrap_or_default().to_string(),
            f["evidence"]["attribute"].to_string(),
        )
    });
    findings
}

/// (check, region, key ARN, aliases, attribute) of each finding.
fn summary(findings: &[Value]) -> Vec<(String, String, Value, Value, Value)> {
    findings
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap_or_default().to_string(),
                f["region"].as_str().unwrap_or_default().to_string(),
                f["key_arn"].clone(),
                f["aliases"].clone(),
                f["evidence"]["attribute"].clone(),
            )
        })
        .collect()
}

/// The findings without their spec location and the evidence notes on where a declaration came
/// from (`declared_from`: a plan; `declared_policy_from`: a separate key policy resource).
fn without_spec(findings: &[Value]) -> Vec<Value> {
    findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f["spec"] = Value::Null;
            if let Some(evidence) = f["evidence"].as_object_mut() {
                evidence.remove("declared_from");
                evidence.remove("declared_policy_from");
            }
            f
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_with_specs_reports_exactly_the_seeded_drift_from_any_source() {
    let emulator = Emulator::start();
    let keys = seed_estate(&emulator.endpoint).await;

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    copy_dir(&repo_root().join("examples/specs"), dir);
    std::fs::write(
        dir.join("extra.yaml"),
        format!(
            "# A key declared by ARN.\nkeys:\n  - key_arn: {}\n    description: Legacy reports key\n    enabled: true\n",
            keys.legacy
        ),
    )
    .expect("write extra spec");
    std::fs::write(dir.join("kms-audit.yaml"), "report_unmanaged: true\n").expect("config");

    let spec_file = dir.join("kms-audit/keys.yaml");
    let report = scan(&emulator.endpoint, dir, &dir.join("kms-audit"));
    let found = drift(&report);
    // 7 declared (6 + extra.yaml): 5 found, one missing (webhook-hmac), and the ap-southeast-2
    // replica not evaluated: that Region was left out with --regions, so it is listed (with its
    // line) but no coverage gap.
    assert_eq!(
        report["summary"]["specs"],
        json!({"declared": 7, "matched": 5, "missing": 1, "out_of_scope": 1, "not_evaluated": [{
            "account": DEFAULT_ACCOUNT, "region": "ap-southeast-2", "key": "alias/orders",
            "spec": {"file": spec_file.display().to_string(),
                     "line": line_of(&spec_file, "- alias: alias/orders", 2)},
            "reason": format!("account {DEFAULT_ACCOUNT}, region ap-southeast-2 was not scanned"),
            "explained_by": "--regions",
        }]})
    );
    assert_eq!(report["coverage_gaps"], json!([]));

    let s = |v: &str| v.to_string();
    let alias = |a: &str| json!([a]);
    assert_eq!(
        summary(&found),
        [
            (
                s("DRF001"),
                s("us-east-1"),
                Value::Null,
                alias("alias/webhook-hmac"),
                Value::Null
            ),
            (
                s("DRF002"),
                s("eu-west-1"),
                json!(keys.orders_eu),
                alias("alias/orders"),
                json!("enabled")
            ),
            (
                s("DRF002"),
                s("us-east-1"),
                json!(keys.legacy),
                json!([]),
                json!("key_state")
            ),
            (
                s("DRF002"),
                s("us-east-1"),
                json!(keys.payments),
                json!(["alias/payments", PREFIX_ALIAS]),
                json!("rotation_period_in_days")
            ),
            (
                s("DRF002"),
                s("us-east-1"),
                json!(keys.signing),
                alias("alias/release-signing"),
                json!("description")
            ),
            (
                s("DRF003"),
                s("us-east-1"),
                json!(keys.payments),
                json!(["alias/payments", PREFIX_ALIAS]),
                Value::Null
            ),
            (
                s("DRF004"),
                s("us-east-1"),
                json!(keys.payments),
                json!(["alias/payments", PREFIX_ALIAS]),
                Value::Null
            ),
            (
                s("DRF005"),
                s("us-east-1"),
                json!(keys.orders),
                alias("alias/orders"),
                Value::Null
            ),
            (
                s("DRF006"),
                s("us-east-1"),
                json!(keys.scratch),
                alias("alias/scratch"),
                Value::Null
            ),
        ],
        "{found:#?}"
    );

    // Every drift finding points at its declaration (DRF006: a key no spec declares).
    let file = spec_file.display().to_string();
    let extra = dir.join("extra.yaml").display().to_string();
    let at = |path: &str, line: u64| json!({"file": path, "line": line});
    let payments = line_of(&spec_file, "- alias: alias/payments", 0);
    let orders = line_of(&spec_file, "- alias: alias/orders", 0);
    let specs: Vec<&Value> = found.iter().map(|f| &f["spec"]).collect();
    assert_eq!(
        specs,
        [
            &at(&file, line_of(&spec_file, "- alias: alias/webhook-hmac", 0)),
            &at(&file, line_of(&spec_file, "- alias: alias/orders", 1)),
            &at(&extra, 3),
            &at(&file, payments),
            &at(
                &file,
                line_of(&spec_file, "- alias: alias/release-signing", 0)
            ),
            &at(&file, payments),
            &at(&file, payments),
            &at(&file, orders),
            &Value::Null,
        ]
    );
    assert_eq!((payments, orders), (16, 62), "the example spec's layout");

    // Declared vs actual, as the seeding made them.
    let evidence: Vec<&Value> = found.iter().map(|f| &f["evidence"]).collect();
    assert_eq!(
        evidence[0],
        &json!({"declared": {"alias": "alias/webhook-hmac"}, "account": DEFAULT_ACCOUNT,
                "region": "us-east-1", "actual": null})
    );
    assert_eq!(
        evidence[1],
        &json!({"attribute": "enabled", "declared": true, "actual": false})
    );
    assert_eq!(evidence[2]["actual"]["key_state"], "PendingDeletion");
    assert!(evidence[2]["actual"]["deletion_date"].is_string());
    assert_eq!(
        evidence[3],
        &json!({"attribute": "rotation_period_in_days", "declared": 180, "actual": 365})
    );
    assert_eq!(
        evidence[4],
        &json!({"attribute": "description", "declared": "Release artifact signing key",
                "actual": "Release signing key (2019)"})
    );
    assert_eq!(
        found[5]["message"],
        "key policy of alias/payments differs from the declared policy: 1 statement added \
         (\"AllowPartnerDecrypt\")"
    );
    assert_eq!(evidence[5]["added"][0]["id"], "AllowPartnerDecrypt");
    assert_eq!(evidence[5]["changed"], json!([]));
    assert_eq!(evidence[5]["removed"], json!([]));
    assert_eq!(evidence[6]["missing"], json!({}));
    assert_eq!(
        evidence[6]["changed"],
        json!({"data-class": {"declared": "pci", "actual": "internal"}})
    );
    assert_eq!(evidence[6]["unexpected"], json!({"temp": "yes"}));
    assert_eq!(
        evidence[7],
        &json!({"declared": ["ap-southeast-2", "eu-west-1"], "actual": ["eu-west-1"],
                "missing": ["ap-southeast-2"], "unexpected": [], "multi_region_type": "PRIMARY"})
    );
    let messages: Vec<&str> = found.iter().filter_map(|f| f["message"].as_str()).collect();
    assert_eq!(
        messages,
        [
            format!(
                "declared key alias/webhook-hmac does not exist in account {DEFAULT_ACCOUNT}, \
                 region us-east-1"
            )
            .as_str(),
            "alias/orders is not enabled (state Disabled), declared enabled",
            messages[2],
            "alias/payments rotates every 365 days, declared 180",
            "description of alias/release-signing is \"Release signing key (2019)\", declared \
             \"Release artifact signing key\"",
            "key policy of alias/payments differs from the declared policy: 1 statement added \
             (\"AllowPartnerDecrypt\")",
            "tags of alias/payments differ from the declared tags (changed: data-class; not \
             declared: temp)",
            "replicas of alias/orders differ from the declared replica regions: no replica in \
             ap-southeast-2",
            "customer-managed key alias/scratch is not declared in any spec",
        ]
    );
    assert!(
        messages[2].starts_with(&format!(
            "declared key {} is scheduled for deletion on ",
            keys.legacy.rsplit('/').next().unwrap_or_default()
        )),
        "{}",
        messages[2]
    );
    let severities: Vec<&str> = found
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert_eq!(
        severities,
        [
            "high", "medium", "medium", "medium", "medium", "high", "low", "medium", "info"
        ]
    );

    // Every other form of the same estate: the same findings, each pointing at the resource in
    // its file.
    let forms = repo_root().join("tests/fixtures/specs/forms");
    for name in ["show-state.json", "show-plan.json", "pulumi-secrets.json"] {
        std::fs::copy(forms.join(name), dir.join(name)).expect("copy form");
    }
    let show_needles = vec![
        ("\"address\": \"aws_kms_key.app[\\\"webhook-hmac\\\"]\"", 0),
        (
            "\"address\": \"module.orders.module.replicas.aws_kms_replica_key.replica[0]\"",
            0,
        ),
    ];
    let pulumi_needles = vec![
        ("aws:kms/key:Key::webhook-hmac", 0),
        ("ReplicaKey::orders-eu-west-1", 0),
    ];
    for (source, resource_lines) in [
        (
            dir.join("terraform/terraform.tfstate"),
            // After the aliases' index keys: the keys' own.
            vec![
                ("\"index_key\": \"webhook-hmac\"", 1),
                ("\"index_key\": 0", 1),
            ],
        ),
        (dir.join("show-state.json"), show_needles.clone()),
        (dir.join("show-plan.json"), show_needles),
        (dir.join("pulumi/stack-export.json"), pulumi_needles.clone()),
        (dir.join("pulumi-secrets.json"), pulumi_needles),
    ] {
        let report = scan(&emulator.endpoint, dir, &source);
        let imported = drift(&report);
        assert_eq!(
            without_spec(&imported),
            without_spec(&found),
            "{}",
            source.display()
        );
        let path = source.display().to_string();
        for (finding, (needle, nth)) in imported.iter().zip(&resource_lines) {
            // DRF001 (webhook-hmac) and the eu-west-1 replica's DRF002.
            let line = line_of(&source, needle, *nth);
            assert_eq!(
                finding["spec"],
                at(&path, line),
                "{}: {needle}",
                source.display()
            );
        }
        for finding in &imported[3..8] {
            assert_eq!(finding["spec"]["file"], path.as_str());
        }
        // A plan's planned values are no applied state: every finding of its keys says so.
        let planned = source.ends_with("show-plan.json");
        for finding in imported
            .iter()
            .filter(|f| f["spec"]["file"] == path.as_str())
        {
            assert_eq!(
                finding["evidence"]["declared_from"].is_string(),
                planned,
                "{}: {finding}",
                source.display()
            );
        }
        // The ap-southeast-2 replica: not scanned, explained by --regions, listed with the
        // resource it comes from, no coverage gap (exit 0 above).
        let specs = &report["summary"]["specs"];
        assert_eq!(
            (
                &specs["declared"],
                &specs["matched"],
                &specs["missing"],
                &specs["out_of_scope"]
            ),
            (&json!(7), &json!(5), &json!(1), &json!(1)),
            "{}",
            source.display()
        );
        assert_eq!(specs["not_evaluated"][0]["region"], "ap-southeast-2");
        assert_eq!(specs["not_evaluated"][0]["explained_by"], "--regions");
        assert_eq!(specs["not_evaluated"][0]["spec"]["file"], path.as_str());
        assert_eq!(report["coverage_gaps"], json!([]), "{}", source.display());
    }
}

/// A declared key in an account the scan did not cover is never passed over: it is a coverage
/// gap naming its file and line (exit 3), in JSON and in the table, unless the run says it is
/// expected (--spec-scope-ignore).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_keys_outside_the_scanned_scope_are_coverage_gaps() {
    let emulator = Emulator::start();
    let use1 = seed::kms(&emulator.endpoint, "us-east-1");
    let key = seed::create_key(&use1, NewKey::default()).await;
    seed::alias(&use1, key.key_id(), "alias/app").await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let spec = tmp.path().join("keys.yaml");
    std::fs::write(
        &spec,
        format!(
            "keys:\n  - alias: alias/app\n    account: \"{DEFAULT_ACCOUNT}\"\n    region: us-east-1\n\
             \x20 - alias: alias/elsewhere\n    account: \"222222222222\"\n    region: us-east-1\n"
        ),
    )
    .expect("spec");
    let spec_arg = spec.display().to_string();
    let base = [
        "scan",
        "--regions",
        "us-east-1",
        "--spec",
        &spec_arg,
        "--fail-on",
        "none",
    ];
    let with = |more: &[&str]| {
        kms_audit(
            &emulator.endpoint,
            &base.iter().chain(more).copied().collect::<Vec<_>>(),
        )
    };

    let run = with(&["--format", "json"]);
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let report = run.json();
    let file = spec.display();
    assert_eq!(
        report["coverage_gaps"],
        json!([{
            "account": "222222222222", "region": "us-east-1", "key_arn": null,
            "operation": "SpecScope", "error_code": null,
            "reason": format!("declared key alias/elsewhere ({file}:5) was not evaluated: \
                               account 222222222222, region us-east-1 was not scanned"),
        }])
    );
    assert_eq!(
        report["summary"]["specs"],
        json!({"declared": 2, "matched": 1, "missing": 0, "out_of_scope": 1, "not_evaluated": [{
            "account": "222222222222", "region": "us-east-1", "key": "alias/elsewhere",
            "spec": {"file": file.to_string(), "line": 5},
            "reason": "account 222222222222, region us-east-1 was not scanned",
        }]})
    );
    assert!(
        !report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["check_id"] == "DRF001"),
        "a key that was not looked for is not missing"
    );

    let table = with(&["--format", "table"]);
    assert_eq!(table.code, 3, "stderr: {}", table.stderr);
    for line in [
        "Specs: 2 declared keys · 1 matched · 0 missing · 1 not evaluated (out of scope)",
        "- 222222222222 us-east-1",
        "not evaluated: declared key alias/elsewhere (",
    ] {
        assert!(table.stdout.contains(line), "{line}\n{}", table.stdout);
    }

    let ignored = with(&["--format", "json", "--spec-scope-ignore"]);
    assert_eq!(ignored.code, 0, "stderr: {}", ignored.stderr);
    let report = ignored.json();
    assert_eq!(report["coverage_gaps"], json!([]));
    assert_eq!(
        report["summary"]["specs"]["not_evaluated"][0]["explained_by"],
        "--spec-scope-ignore"
    );
}

#[test]
fn the_example_specs_validate() {
    let run = support::cli::run(support::cli::command().args([
        "spec",
        "validate",
        &repo_root().join("examples/specs").display().to_string(),
    ]));
    // The three sources of the same estate declare each key three times.
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("is already declared at"),
        "{}",
        run.stderr
    );
    for part in [
        "kms-audit",
        "terraform/terraform.tfstate",
        "pulumi/stack-export.json",
    ] {
        let path: PathBuf = repo_root().join("examples/specs").join(part);
        let run = support::cli::run(support::cli::command().args([
            "spec",
            "validate",
            &path.display().to_string(),
        ]));
        assert_eq!(run.code, 0, "{part}: {}", run.stderr);
        assert!(
            run.stdout.ends_with("ok: 6 declared keys in 1 file\n"),
            "{}",
            run.stdout
        );
    }
}
