//! The large synthetic inventory: what `kms-audit scan` would write for an estate of many
//! thousand keys, without AWS. `examples/bench_inventory.rs` writes it for the large-inventory
//! benchmark (`scripts/bench-inventory.sh`); `tests/e2e/sarif_github.rs` for more than 25,000
//! findings in one account.
//!
//! [`generate`] writes into a directory:
//! - `scan.json`: a JSON report as `kms-audit scan` writes it, with a synthetic inventory of
//!   `keys` keys spread over accounts × regions (AWS-managed and customer keys, symmetric,
//!   RSA and HMAC, realistic policies, tags and grants, and the usual neglect: keys without
//!   rotation, alias or owner tag, disabled keys, keys pending deletion, a few public or
//!   cross-account policies and grants). Findings are left empty: `kms-audit report` runs the
//!   checks again.
//! - `config.yaml`: `required_tags: [owner]`, one trusted account.
//! - `spec.yaml`: `declared` declared keys (by alias) matching live keys, one in ten drifted
//!   (description, rotation or tags), and a few declared keys that do not exist.

use std::io::Write;
use std::path::PathBuf;

use kms_audit::model::{
    Grant, Inventory, KeyRecord, Report, Rotation, SCHEMA_VERSION, Summary, Target, TargetStatus,
    ToolInfo,
};
use serde_json::json;

use super::bench::{REGIONS, account_id};

const OUTSIDER: &str = "999988887777";
const TRUSTED: &str = "444455556666";

/// What to generate.
pub struct Args {
    pub out: PathBuf,
    pub keys: usize,
    pub accounts: usize,
    pub regions: usize,
    pub declared: usize,
}

fn date(days_after_2024: u64) -> String {
    let t = time::OffsetDateTime::UNIX_EPOCH
        + time::Duration::seconds((1_704_067_200 + days_after_2024 * 86_400) as i64);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("date")
}

/// Key number `n` of the inventory; `n / targets` is its index within its account × region.
fn key(n: usize, args: &Args) -> KeyRecord {
    let targets = args.accounts * args.regions;
    let target = n % targets;
    let (a, r) = (target / args.regions, target % args.regions);
    let k = n / targets;
    let account = account_id(a);
    let region = REGIONS[r];
    let key_id = format!("{a:08}-{r:04}-4000-8000-{k:012}");
    let arn = format!("arn:aws:kms:{region}:{account}:key/{key_id}");
    let root = json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
        "Action": "kms:*", "Resource": "*"});
    let mut record = KeyRecord {
        arn: arn.clone(),
        key_id,
        account: account.as_str().into(),
        region: (*region).into(),
        origin: Some("AWS_KMS".into()),
        creation_date: Some(date((n % 700) as u64).into()),
        ..KeyRecord::default()
    };
    if k.is_multiple_of(6) {
        // AWS managed.
        record.aliases = vec![format!("alias/aws/service-{}", n % 14)];
        record.key_state = Some("Enabled".into());
        record.key_manager = Some("AWS".into());
        record.key_spec = Some("SYMMETRIC_DEFAULT".into());
        record.key_usage = Some("ENCRYPT_DECRYPT".into());
        record.description =
            Some("Default key that protects my data when no other key is defined".into());
        record.rotation = Some(Rotation {
            enabled: true,
            period_days: Some(365),
            next_rotation_date: None,
        });
        record.policy = Some(
            json!({"Version": "2012-10-17", "Id": "auto-service", "Statement": [
            {"Sid": "Allow access through the service for all principals in the account",
             "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                            "kms:ViaService": format!("s3.{region}.amazonaws.com")}}},
            {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
             "Action": ["kms:Describe*", "kms:Get*", "kms:List*"], "Resource": "*"}]})
            .into(),
        );
        return record;
    }
    let j = n;
    let (spec, usage) = match j % 6 {
        4 => ("RSA_2048", "SIGN_VERIFY"),
        5 => ("HMAC_256", "GENERATE_VERIFY_MAC"),
        _ => ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    };
    record.key_manager = Some("CUSTOMER".into());
    record.key_spec = Some(spec.into());
    record.key_usage = Some(usage.into());
    record.description = Some(format!("Application data key {n}"));
    if j % 7 != 3 {
        record.aliases = vec![alias(n)];
    }
    record.key_state = Some(
        if j % 97 == 11 {
            record.deletion_date = Some(date(800).into());
            "PendingDeletion"
        } else if j % 13 == 5 {
            "Disabled"
        } else {
            "Enabled"
        }
        .into(),
    );
    if spec == "SYMMETRIC_DEFAULT" {
        let enabled = j.is_multiple_of(2);
        record.rotation = Some(Rotation {
            enabled,
            period_days: enabled.then_some(if j.is_multiple_of(10) { 730 } else { 365 }),
            next_rotation_date: enabled.then(|| date(400).into()),
        });
    }
    let mut statements = vec![
        root,
        json!({"Sid": "AllowApplication", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:role/app-{}", n % 50)},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{region}.amazonaws.com")}}}),
    ];
    if j % 499 == 7 {
        statements.push(json!({"Sid": "Oops", "Effect": "Allow", "Principal": "*",
            "Action": "kms:Decrypt", "Resource": "*"}));
    }
    if j % 211 == 3 {
        statements.push(json!({"Sid": "Partner", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{OUTSIDER}:root")},
            "Action": "kms:Decrypt", "Resource": "*"}));
    }
    if j % 37 == 1 {
        statements.push(json!({"Sid": "Trusted", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{TRUSTED}:role/backup")},
            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}));
    }
    record.policy =
        Some(json!({"Version": "2012-10-17", "Id": "key-policy", "Statement": statements}).into());
    record.tags.insert("team", format!("team-{}", n % 40));
    record.tags.insert("env", ["prod", "dev", "staging"][n % 3]);
    if j % 10 < 7 {
        record.tags.insert("owner", format!("owner-{}", n % 300));
    }
    let mut grants = Vec::new();
    if j.is_multiple_of(4) {
        let grantee = if j % 301 == 4 {
            format!("arn:aws:iam::{OUTSIDER}:role/vendor")
        } else {
            format!("arn:aws:iam::{account}:role/app-{}", n % 50)
        };
        grants.push(Grant {
            grant_id: format!("{n:064x}"),
            name: Some(format!("grant-{n}")),
            grantee_principal: Some(grantee),
            retiring_principal: None,
            issuing_account: Some(format!("arn:aws:iam::{account}:root")),
            operations: vec!["Decrypt".into(), "Encrypt".into(), "GenerateDataKey".into()],
            constraints: None,
            creation_date: Some(date(30)),
        });
    }
    record.grants = Some(grants);
    record
}

fn alias(n: usize) -> String {
    format!("alias/app-{n}")
}

/// Writes `scan.json`, `config.yaml` and `spec.yaml` into `args.out`.
pub fn generate(args: &Args) {
    std::fs::create_dir_all(&args.out).expect("create --out");
    let started = std::time::Instant::now();
    let keys: Vec<KeyRecord> = (0..args.keys).map(|n| key(n, args)).collect();
    let mut targets = Vec::new();
    for a in 0..args.accounts {
        for region in &REGIONS[..args.regions] {
            targets.push(Target {
                account: account_id(a),
                region: region.to_string(),
                status: TargetStatus::Scanned,
                reason: None,
            });
        }
    }

    // The spec: declared keys by alias, one in ten drifted, plus 1% declared but missing.
    let mut spec =
        String::from("# Synthetic declared keys for the large-inventory benchmark.\nkeys:\n");
    let mut declared = 0;
    for record in keys
        .iter()
        .filter(|r| r.is_customer_managed() && !r.aliases.is_empty())
    {
        if declared >= args.declared {
            break;
        }
        let drift = declared.is_multiple_of(10);
        let description = if drift {
            "Declared description that differs"
        } else {
            record.description.as_deref().unwrap_or_default()
        };
        spec.push_str(&format!(
            "  - alias: {}\n    account: \"{}\"\n    region: {}\n    description: {description}\n    key_spec: {}\n    enabled: {}\n",
            record.aliases[0],
            record.account,
            record.region,
            record.key_spec.as_deref().unwrap_or_default(),
            record.key_state.as_deref() != Some("Disabled"),
        ));
        if let Some(rotation) = &record.rotation {
            spec.push_str(&format!(
                "    enable_key_rotation: {}\n",
                rotation.enabled != (declared % 10 == 3)
            ));
        }
        spec.push_str("    tags:\n");
        for (k, v) in &record.tags {
            let v = if declared % 10 == 7 && k == "env" {
                "declared-env"
            } else {
                v
            };
            spec.push_str(&format!("      {k}: {v}\n"));
        }
        declared += 1;
    }
    for i in 0..args.declared / 100 {
        spec.push_str(&format!(
            "  - alias: alias/declared-but-missing-{i}\n    account: \"{}\"\n    region: {}\n    description: Never created\n",
            account_id(i % args.accounts),
            REGIONS[i % args.regions]
        ));
    }
    std::fs::write(args.out.join("spec.yaml"), spec).expect("write spec.yaml");
    std::fs::write(
        args.out.join("config.yaml"),
        format!("required_tags: [owner]\ntrusted_accounts: [\"{TRUSTED}\"]\n"),
    )
    .expect("write config.yaml");

    // Built from JSON so fields other engineers add to the report (with serde defaults) need no
    // change here.
    let mut report: Report = serde_json::from_value(json!({
        "schema_version": SCHEMA_VERSION,
        "tool": ToolInfo::default(),
        "started_at": date(700),
        "finished_at": date(700),
        "organization_id": "o-bench000001",
        "organization_accounts": (0..args.accounts).map(account_id).collect::<Vec<_>>(),
        "account_names": (0..args.accounts)
            .map(|i| (account_id(i), format!("workload-{i:03}")))
            .collect::<std::collections::BTreeMap<_, _>>(),
        "targets": [],
        "coverage_gaps": [],
        "inventory": {"keys": []},
        "findings": [],
        "summary": Summary::default(),
    }))
    .expect("a minimal report");
    report.targets = targets;
    report.inventory = Inventory { keys, iam: None };
    report.refresh_summary();
    let file = std::fs::File::create(args.out.join("scan.json")).expect("create scan.json");
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, &report).expect("write scan.json");
    writer.flush().expect("flush scan.json");
    eprintln!(
        "bench_inventory: {} keys over {} accounts x {} regions, {declared} declared keys, in {:.1} s",
        report.inventory.keys.len(),
        args.accounts,
        args.regions,
        started.elapsed().as_secs_f64()
    );
}
