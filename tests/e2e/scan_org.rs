//! End to end: `kms-audit scan --org` against an emulated AWS Organization (management account
//! plus three members in nested OUs, keys in two regions each).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, kms_audit};
use support::emulator::Emulator;
use support::org::{self, SeededOrg};
use support::proxy::FaultProxy;
use support::seed::{self, NewKey};

const REGIONS: &str = "us-east-1,eu-west-1";

/// (account, region) → key ARNs seeded there.
type Estate = BTreeMap<(String, String), BTreeSet<String>>;

async fn seed_org(endpoint: &str) -> (SeededOrg, Estate) {
    let org = org::create_org(endpoint).await;
    let mut estate = Estate::new();
    let accounts = [
        (org.management.clone(), 1),
        (org.prod.clone(), 2),
        (org.dev.clone(), 1),
        (org.sandbox.clone(), 2),
    ];
    for (account, keys_per_region) in accounts {
        for region in REGIONS.split(',') {
            let client = org::kms_in(endpoint, &account, region).await;
            let arns = estate
                .entry((account.clone(), region.to_string()))
                .or_default();
            for n in 0..keys_per_region {
                let key = seed::create_key(&client, NewKey::default()).await;
                seed::alias(&client, key.key_id(), &format!("alias/app-{n}")).await;
                let arn = key.arn().expect("arn").to_string();
                assert!(arn.contains(&account), "{arn} is in {account}");
                arns.insert(arn);
            }
        }
    }
    (org, estate)
}

/// The report's inventory as (account, region) → ARNs, checking each key's own fields agree.
fn inventory(report: &Value) -> Estate {
    let mut found = Estate::new();
    for key in report["inventory"]["keys"].as_array().expect("keys") {
        let arn = key["arn"].as_str().expect("arn");
        let account = key["account"].as_str().expect("account");
        let region = key["region"].as_str().expect("region");
        assert!(
            arn.starts_with(&format!("arn:aws:kms:{region}:{account}:key/")),
            "{arn}"
        );
        found
            .entry((account.to_string(), region.to_string()))
            .or_default()
            .insert(arn.to_string());
    }
    found
}

fn only(estate: &Estate, accounts: &[&str]) -> Estate {
    estate
        .iter()
        .filter(|((account, _), _)| accounts.contains(&account.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn scanned_accounts(report: &Value) -> BTreeSet<String> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|t| t["account"].as_str().map(str::to_string))
        .collect()
}

/// Every action the example IAM policies grant (the runner's and the member accounts' reader's).
fn iam_actions() -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for file in [
        "kms-audit-runner-policy.json",
        "kms-audit-reader-policy.json",
    ] {
        let path = support::emulator::repo_root()
            .join("examples/iam")
            .join(file);
        let policy: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("policy file"))
                .expect("json");
        for statement in policy["Statement"].as_array().expect("statements") {
            match &statement["Action"] {
                Value::String(action) => {
                    actions.insert(action.clone());
                }
                Value::Array(list) => {
                    actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)))
                }
                _ => {}
            }
        }
    }
    actions
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_scan_lists_every_key_of_every_account_and_region() {
    let emulator = Emulator::start();
    let (org, estate) = seed_org(&emulator.endpoint).await;

    let run = kms_audit(
        &emulator.endpoint,
        &["scan", "--org", "--regions", REGIONS, "--format", "json"],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(inventory(&report), estate);
    assert_eq!(report["organization_id"], org.id.as_str());
    assert_eq!(report["organization_accounts"], json!(org.accounts()));
    assert_eq!(report["summary"]["accounts"], 4);
    assert_eq!(report["summary"]["regions"], 2);
    assert_eq!(report["coverage_gaps"], json!([]));
    assert!(
        report["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .all(|t| t["status"] == "scanned")
    );
    // One AssumeRole per member account, however many regions; the management account uses the
    // caller's own credentials.
    assert_eq!(report["summary"]["api_calls"]["sts:AssumeRole"], 3);
    assert_eq!(
        report["summary"]["api_calls"]["organizations:ListAccounts"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ou_selection_is_recursive_and_excludes_apply() {
    let emulator = Emulator::start();
    let (org, estate) = seed_org(&emulator.endpoint).await;

    // Workloads holds dev directly and prod one level down, in the Prod OU.
    let run = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--org",
            "--ou",
            &org.workloads_ou,
            "--regions",
            REGIONS,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(scanned_accounts(&report), set(&[&org.prod, &org.dev]));
    assert_eq!(inventory(&report), only(&estate, &[&org.prod, &org.dev]));

    // Two OUs, minus an excluded account.
    let run = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--org",
            "--ou",
            &org.prod_ou,
            "--ou",
            &org.sandbox_ou,
            "--exclude-accounts",
            &org.sandbox,
            "--regions",
            REGIONS,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(scanned_accounts(&run.json()), set(&[&org.prod]));

    // The whole organization minus the management account.
    let run = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--org",
            "--exclude-accounts",
            DEFAULT_ACCOUNT,
            "--regions",
            REGIONS,
            "--format",
            "json",
        ],
    );
    let report = run.json();
    assert_eq!(
        scanned_accounts(&report),
        set(&[&org.prod, &org.dev, &org.sandbox])
    );
    assert_eq!(
        inventory(&report),
        only(&estate, &[&org.prod, &org.dev, &org.sandbox])
    );

    // --accounts within the organization must name organization accounts.
    let run = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--org",
            "--accounts",
            "999999999999",
            "--regions",
            REGIONS,
        ],
    );
    run.assert_refused(&format!(
        "account 999999999999 named in --accounts is not an ACTIVE account of organization {}",
        org.id
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_file_selects_exactly_its_accounts_without_organizations() {
    let emulator = Emulator::start();
    let (org, estate) = seed_org(&emulator.endpoint).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("accounts.yaml");
    std::fs::write(
        &file,
        format!(
            "accounts:\n  - id: \"{}\"\n    name: prod\n  - id: \"{}\"\n    role_arn: arn:aws:iam::{}:role/KmsAuditReader\n    external_id: audit-2026\n",
            org.prod, org.sandbox, org.sandbox
        ),
    )
    .expect("write accounts file");

    let run = kms_audit(
        &emulator.endpoint,
        &[
            "scan",
            "--accounts-file",
            file.to_str().expect("path"),
            "--regions",
            REGIONS,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(scanned_accounts(&report), set(&[&org.prod, &org.sandbox]));
    assert_eq!(
        inventory(&report),
        only(&estate, &[&org.prod, &org.sandbox])
    );
    assert_eq!(
        report["organization_id"],
        Value::Null,
        "no Organizations call was needed"
    );
    assert!(
        report["summary"]["api_calls"]
            .get("organizations:ListAccounts")
            .is_none()
    );

    // A bad entry is an input error with file and line, before any AWS call.
    std::fs::write(&file, "accounts:\n  - id: \"123\"\n").expect("write");
    let run = kms_audit(
        "http://127.0.0.1:9",
        &["scan", "--accounts-file", file.to_str().expect("path")],
    );
    run.assert_refused(&format!(
        "{}:2: id: '123' is not a 12-digit AWS account id",
        file.display()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_whose_role_cannot_be_assumed_is_a_gap_and_the_rest_completes() {
    let emulator = Emulator::start();
    let (org, estate) = seed_org(&emulator.endpoint).await;
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    org.refuse_sandbox_and_dev_eu_west_1(&proxy);

    let run = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "--format",
            "json",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let report = run.json();

    let mut complete = only(&estate, &[&org.management, &org.prod, &org.dev]);
    complete.remove(&(org.dev.clone(), "eu-west-1".to_string()));
    assert_eq!(inventory(&report), complete);

    let gaps: Vec<(String, Option<String>, String, String)> = report["coverage_gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .map(|g| {
            (
                g["account"].as_str().unwrap_or("").to_string(),
                g["region"].as_str().map(str::to_string),
                g["operation"].as_str().unwrap_or("").to_string(),
                g["error_code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut want = vec![
        (
            org.sandbox.clone(),
            None,
            "AssumeRole".to_string(),
            "AccessDenied".to_string(),
        ),
        (
            org.dev.clone(),
            Some("eu-west-1".to_string()),
            "ListKeys".to_string(),
            "AccessDeniedException".to_string(),
        ),
    ];
    want.sort();
    let mut gaps_sorted = gaps.clone();
    gaps_sorted.sort();
    assert_eq!(gaps_sorted, want);

    let failed: BTreeSet<(String, String)> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["status"] == "failed")
        .map(|t| {
            (
                t["account"].as_str().unwrap_or("").into(),
                t["region"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let want_failed: BTreeSet<(String, String)> = [
        (org.sandbox.clone(), "eu-west-1".to_string()),
        (org.sandbox.clone(), "us-east-1".to_string()),
        (org.dev.clone(), "eu-west-1".to_string()),
    ]
    .into_iter()
    .collect();
    assert_eq!(failed, want_failed);

    // An OU-scoped scan too, so the proxy sees every operation kms-audit can send.
    let by_ou = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--org",
            "--ou",
            &org.root,
            "--regions",
            REGIONS,
            "--format",
            "json",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(by_ou.code, 3, "stderr: {}", by_ou.stderr);
    assert_eq!(
        inventory(&by_ou.json()),
        complete,
        "the root OU holds every account"
    );

    // The proxy saw only read operations.
    let writes: Vec<String> = proxy
        .log()
        .iter()
        .filter(|seen| {
            !["List", "Describe", "Get"]
                .iter()
                .any(|p| seen.operation.starts_with(p))
                && seen.operation != "AssumeRole"
        })
        .map(|seen| seen.operation.clone())
        .collect();
    assert!(writes.is_empty(), "non-read operations sent: {writes:?}");

    // The IAM policies in examples/ grant exactly what the scanner called.
    let allowed = iam_actions();
    let called: BTreeSet<String> = proxy
        .log()
        .iter()
        .filter(|seen| seen.operation != "GetCallerIdentity")
        .map(|seen| format!("{}:{}", seen.service, seen.operation))
        .collect();
    for action in &called {
        assert!(
            allowed.contains(action),
            "{action} is called but not in examples/iam"
        );
    }
    for action in &allowed {
        assert!(
            called.contains(action),
            "{action} is granted but never called"
        );
    }

    // The table shows the per-account summary and the gaps.
    let table = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            REGIONS,
            "--format",
            "table",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(table.code, 3);
    assert!(table.stdout.contains(&org.sandbox), "{}", table.stdout);
    assert!(table.stdout.contains("AssumeRole"), "{}", table.stdout);
}
