//! The compliance checks end to end: seed the local AWS emulator with keys that should and
//! should not trigger each check (including the cases other tools get wrong), scan with the
//! real binary and a config file, and assert the exact set of (check, key) pairs. Also the
//! `checks` / `explain` commands and config errors (exit 2 with file, line and field).

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use aws_sdk_kms::types::{GrantOperation, KeySpec, KeyUsageType, OriginType};
use serde_json::{Value, json};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, command, kms_audit, run};
use support::emulator::Emulator;
use support::proxy::{FaultProxy, Rule};
use support::seed::{self, NewKey};

const TRUSTED: &str = "222222222222";
const STRANGER: &str = "444444444444";
/// An endpoint nothing listens on: a scan that sent a request there would fail differently.
const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

/// What the scan must find: (label, key ARN, check ids).
#[derive(Default)]
struct Expect {
    keys: Vec<(&'static str, String, Vec<&'static str>)>,
}

impl Expect {
    fn add(&mut self, label: &'static str, arn: &str, checks: &[&'static str]) {
        self.keys.push((label, arn.to_string(), checks.to_vec()));
    }

    fn pairs(&self) -> BTreeSet<(String, String)> {
        self.keys
            .iter()
            .flat_map(|(label, _, checks)| {
                checks
                    .iter()
                    .map(move |c| (c.to_string(), label.to_string()))
            })
            .collect()
    }

    fn label(&self, arn: &str) -> String {
        self.keys
            .iter()
            .find(|(_, a, _)| a == arn)
            .map(|(l, _, _)| l.to_string())
            .unwrap_or_else(|| format!("unexpected key {arn}"))
    }
}

fn statement(sid: &str, principal: Value, action: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"})
}

/// A symmetric key with rotation on (365 days), an alias and the required `owner` tag: the
/// well-behaved baseline every case changes one thing of.
async fn good_key(client: &aws_sdk_kms::Client, alias: &str, new: NewKey<'_>) -> String {
    let meta = seed::create_key(
        client,
        NewKey {
            tags: &[("owner", "platform")],
            ..new
        },
    )
    .await;
    seed::alias(client, meta.key_id(), alias).await;
    seed::enable_rotation(client, meta.key_id(), None).await;
    meta.arn().expect("arn").to_string()
}

/// Seeds the estate; returns the expectations and the key ids whose calls the proxy refuses.
async fn seed_estate(endpoint: &str) -> (Expect, String, String) {
    let mut expect = Expect::default();
    let use1 = seed::kms(endpoint, "us-east-1");
    let euw1 = seed::kms(endpoint, "eu-west-1");
    let apse2 = seed::kms(endpoint, "ap-southeast-2");
    let tags: &[(&str, &str)] = &[("owner", "platform")];

    expect.add(
        "good",
        &good_key(&use1, "alias/good", NewKey::default()).await,
        &[],
    );

    // --- rotation ---
    let k = seed::create_key(
        &use1,
        NewKey {
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, k.key_id(), "alias/rot-off").await;
    expect.add("rot-off", k.arn().expect("arn"), &["ROT001"]);

    let k = seed::create_key(
        &use1,
        NewKey {
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, k.key_id(), "alias/rot-730").await;
    seed::enable_rotation(&use1, k.key_id(), Some(730)).await;
    expect.add("rot-730", k.arn().expect("arn"), &["ROT002"]);

    // Rotation never applies: asymmetric, HMAC, imported material, custom key store. KEY001
    // fires on RSA-2048 used for encryption only.
    for (label, alias, spec, usage, ids) in [
        (
            "rsa",
            "alias/rsa",
            KeySpec::Rsa2048,
            KeyUsageType::SignVerify,
            &[][..],
        ),
        (
            "rsa-2048-encrypt",
            "alias/rsa-2048-encrypt",
            KeySpec::Rsa2048,
            KeyUsageType::EncryptDecrypt,
            &["KEY001"][..],
        ),
        (
            "rsa-3072-encrypt",
            "alias/rsa-3072-encrypt",
            KeySpec::Rsa3072,
            KeyUsageType::EncryptDecrypt,
            &[][..],
        ),
        (
            "ecc",
            "alias/ecc",
            KeySpec::EccNistP256,
            KeyUsageType::SignVerify,
            &[][..],
        ),
        (
            "hmac",
            "alias/hmac",
            KeySpec::Hmac256,
            KeyUsageType::GenerateVerifyMac,
            &[][..],
        ),
    ] {
        let k = seed::create_key(
            &use1,
            NewKey {
                spec: Some(spec),
                usage: Some(usage),
                tags,
                ..NewKey::default()
            },
        )
        .await;
        seed::alias(&use1, k.key_id(), alias).await;
        expect.add(label, k.arn().expect("arn"), ids);
    }
    let k = seed::create_key(
        &use1,
        NewKey {
            origin: Some(OriginType::External),
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, k.key_id(), "alias/imported").await;
    expect.add("imported", k.arn().expect("arn"), &[]);
    let k = seed::create_key_in_custom_store(&use1, "cks-1234567890abcdef0").await;
    seed::alias(&use1, k.key_id(), "alias/cloudhsm").await;
    seed::tag(&use1, k.key_id(), tags).await;
    expect.add("cloudhsm", k.arn().expect("arn"), &[]);

    // AWS-managed: no rotation, alias, tag or lifecycle findings; its policy is not public.
    let k = seed::aws_managed_key(&use1, "alias/aws/s3").await;
    expect.add("aws-managed", k.arn().expect("arn"), &[]);

    // --- lifecycle and hygiene ---
    // Pending deletion with rotation on before: AWS then reports rotation off. Only DEL001,
    // even without alias and tags.
    let k = seed::create_key(&use1, NewKey::default()).await;
    seed::enable_rotation(&use1, k.key_id(), None).await;
    seed::schedule_deletion(&use1, k.key_id(), 7).await;
    expect.add("deleting", k.arn().expect("arn"), &["DEL001"]);

    let k = seed::create_key(
        &use1,
        NewKey {
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, k.key_id(), "alias/disabled").await;
    seed::disable(&use1, k.key_id()).await;
    expect.add("disabled", k.arn().expect("arn"), &["STA001"]);

    let k = seed::create_key(
        &use1,
        NewKey {
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::enable_rotation(&use1, k.key_id(), None).await;
    expect.add("no-alias", k.arn().expect("arn"), &["ALI001"]);

    let k = seed::create_key(&use1, NewKey::default()).await;
    seed::alias(&use1, k.key_id(), "alias/untagged").await;
    seed::enable_rotation(&use1, k.key_id(), None).await;
    expect.add("untagged", k.arn().expect("arn"), &["TAG001"]);

    // --- key policies ---
    let root = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root");
    for (label, alias, extra, checks) in [
        (
            "public",
            "alias/public",
            vec![statement("Public", json!("*"), "kms:Decrypt")],
            &["POL001"][..],
        ),
        (
            "wildcard-arn",
            "alias/wildcard-arn",
            vec![
                json!({"Sid": "AnyArn", "Effect": "Allow", "Principal": {"AWS": "*"},
                        "Action": "kms:Decrypt", "Resource": "*",
                        "Condition": {"StringLike": {"aws:PrincipalArn": "*"}}}),
            ],
            &["POL001"][..],
        ),
        (
            "not-principal",
            "alias/not-principal",
            vec![
                json!({"Sid": "AllButRoot", "Effect": "Allow", "NotPrincipal": {"AWS": root},
                        "Action": "kms:Encrypt", "Resource": "*"}),
            ],
            &["POL001"][..],
        ),
        (
            "via-service",
            "alias/via-service",
            vec![
                json!({"Sid": "ViaEc2", "Effect": "Allow", "Principal": {"AWS": "*"},
                        "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
                        "Condition": {"StringEquals": {"kms:CallerAccount": DEFAULT_ACCOUNT,
                                                       "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}),
            ],
            &[][..],
        ),
        (
            "public-denied",
            "alias/public-denied",
            vec![
                statement("Public", json!("*"), "kms:Decrypt"),
                json!({"Sid": "DenyAll", "Effect": "Deny", "Principal": "*",
                       "Action": "kms:Decrypt", "Resource": "*"}),
            ],
            &[][..],
        ),
        (
            "trusted-partner",
            "alias/trusted-partner",
            vec![statement(
                "Partner",
                json!({"AWS": format!("arn:aws:iam::{TRUSTED}:root")}),
                "kms:Decrypt",
            )],
            &[][..],
        ),
        (
            "stranger",
            "alias/stranger",
            vec![statement(
                "Stranger",
                json!({"AWS": format!("arn:aws:iam::{STRANGER}:role/reader")}),
                "kms:Decrypt",
            )],
            &["POL002"][..],
        ),
        (
            "deleted-principal",
            "alias/deleted-principal",
            vec![statement(
                "Gone",
                json!({"AWS": "AROAXXXXXXXXXXXXXXXXX"}),
                "kms:Decrypt",
            )],
            &[][..],
        ),
    ] {
        let arn = good_key(
            &use1,
            alias,
            NewKey {
                policy: Some(seed::policy(DEFAULT_ACCOUNT, &extra)),
                ..NewKey::default()
            },
        )
        .await;
        expect.add(label, &arn, checks);
    }

    // --- grants ---
    for (label, alias, grantee, checks) in [
        (
            "grant-own",
            "alias/grant-own",
            format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/app"),
            &[][..],
        ),
        (
            "grant-trusted",
            "alias/grant-trusted",
            format!("arn:aws:iam::{TRUSTED}:role/partner"),
            &[][..],
        ),
        (
            "grant-stranger",
            "alias/grant-stranger",
            format!("arn:aws:iam::{STRANGER}:role/partner"),
            &["GRT001"][..],
        ),
    ] {
        let arn = good_key(&use1, alias, NewKey::default()).await;
        seed::grant(&use1, &arn, &grantee, &[GrantOperation::Decrypt]).await;
        expect.add(label, &arn, checks);
    }

    // --- unreadable: the proxy refuses GetKeyPolicy on one key, DescribeKey on another ---
    let policy_denied = good_key(&use1, "alias/policy-denied", NewKey::default()).await;
    expect.add("policy-denied", &policy_denied, &["POL003"]);
    // No alias, no tags, rotation off: with its metadata unknown none of that may be reported.
    let k = seed::create_key(&use1, NewKey::default()).await;
    let describe_denied = k.arn().expect("arn").to_string();
    expect.add("describe-denied", &describe_denied, &[]);

    // --- multi-Region ---
    for (label, replica_label, change, replica_checks) in [
        ("mrk-same", "mrk-same-replica", "none", &[][..]),
        ("mrk-tags", "mrk-tags-replica", "tags", &["MRK001"][..]),
        (
            "mrk-disabled",
            "mrk-disabled-replica",
            "disable",
            &["MRK001", "STA001"][..],
        ),
        (
            "mrk-policy",
            "mrk-policy-replica",
            "policy",
            &["MRK001"][..],
        ),
    ] {
        let alias = format!("alias/{label}");
        let primary = good_key(
            &use1,
            &alias,
            NewKey {
                multi_region: true,
                ..NewKey::default()
            },
        )
        .await;
        let replica = seed::replicate(&use1, &primary, "eu-west-1").await;
        let replica_arn = replica.arn().expect("arn").to_string();
        let replica_id = replica.key_id();
        seed::alias(&euw1, replica_id, &format!("{alias}-eu")).await;
        match change {
            "tags" => seed::tag(&euw1, replica_id, &[("owner", "someone-else")]).await,
            _ => seed::tag(&euw1, replica_id, tags).await,
        }
        if change == "disable" {
            seed::disable(&euw1, replica_id).await;
        }
        if change == "policy" {
            let wider = seed::policy(
                DEFAULT_ACCOUNT,
                &[statement(
                    "Extra",
                    json!({"AWS": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/app")}),
                    "kms:Decrypt",
                )],
            );
            seed::put_policy(&euw1, replica_id, &wider).await;
        }
        expect.add(label, &primary, &[]);
        expect.add(replica_label, &replica_arn, replica_checks);
    }
    // Rotation off on a multi-Region set: the primary and its replica both report it.
    let k = seed::create_key(
        &use1,
        NewKey {
            multi_region: true,
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, k.key_id(), "alias/mrk-rot-off").await;
    let replica = seed::replicate(&use1, k.key_id(), "eu-west-1").await;
    seed::alias(&euw1, replica.key_id(), "alias/mrk-rot-off-eu").await;
    seed::tag(&euw1, replica.key_id(), tags).await;
    expect.add("mrk-rot-off", k.arn().expect("arn"), &["ROT001"]);
    expect.add(
        "mrk-rot-off-replica",
        replica.arn().expect("arn"),
        &["ROT001"],
    );
    // A replica whose primary lives in a region the scan does not cover: not "primary gone".
    let far = seed::create_key(
        &apse2,
        NewKey {
            multi_region: true,
            tags,
            ..NewKey::default()
        },
    )
    .await;
    seed::enable_rotation(&apse2, far.key_id(), None).await;
    let replica = seed::replicate(&apse2, far.key_id(), "eu-west-1").await;
    seed::alias(&euw1, replica.key_id(), "alias/far-replica").await;
    seed::tag(&euw1, replica.key_id(), tags).await;
    expect.add("far-primary-replica", replica.arn().expect("arn"), &[]);

    (expect, policy_denied, describe_denied)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

/// (check id, key label) for every finding of a JSON report.
fn found(report: &Value, expect: &Expect) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap_or_default().to_string(),
                expect.label(f["key_arn"].as_str().unwrap_or_default()),
            )
        })
        .collect()
}

fn finding<'a>(report: &'a Value, check: &str, arn: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check_id"] == check && f["key_arn"] == arn)
        .unwrap_or_else(|| panic!("no {check} finding on {arn}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_fires_on_exactly_the_keys_it_should() {
    let emulator = Emulator::start();
    let (expect, policy_denied, describe_denied) = seed_estate(&emulator.endpoint).await;
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let key_id = |arn: &str| arn.rsplit('/').next().unwrap_or_default().to_string();
    proxy.add_rule(
        Rule::deny()
            .operation("GetKeyPolicy")
            .body_contains(&key_id(&policy_denied)),
    );
    proxy.add_rule(
        Rule::deny()
            .operation("DescribeKey")
            .body_contains(&key_id(&describe_denied)),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    // The config's regions replace --regions; ap-southeast-2 is deliberately left out.
    let config = write(
        dir.path(),
        "kms-audit.yaml",
        &format!(
            "trusted_accounts: ['{TRUSTED}']\nrequired_tags: [owner]\n\
             regions: [us-east-1, eu-west-1]\n"
        ),
    );
    let scan = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--config",
            &config,
            "--format",
            "json",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(
        scan.code, 3,
        "the refused calls are coverage gaps: exit 3; stderr: {}",
        scan.stderr
    );
    let report = scan.json();

    // Every key in the inventory is one the test seeded, and the other way round.
    let inventory: BTreeSet<String> = report["inventory"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["arn"].as_str().unwrap_or_default().to_string())
        .collect();
    let seeded: BTreeSet<String> = expect.keys.iter().map(|(_, arn, _)| arn.clone()).collect();
    assert_eq!(inventory, seeded);
    let targets: BTreeSet<&str> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|t| t["region"].as_str())
        .collect();
    assert_eq!(targets, BTreeSet::from(["eu-west-1", "us-east-1"]));

    // The exact set of (check, key) pairs, both directions.
    let got = found(&report, &expect);
    let want = expect.pairs();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing findings: {missing:#?}\nunexpected findings: {extra:#?}"
    );
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(want.len()),
        "one finding per (check, key) here"
    );

    // Evidence that made them fire.
    let arn_of = |label: &str| {
        expect
            .keys
            .iter()
            .find(|(l, _, _)| *l == label)
            .map(|(_, a, _)| a.clone())
            .expect("label")
    };
    let del = finding(&report, "DEL001", &arn_of("deleting"));
    assert_eq!(del["severity"], "high");
    assert!(del["evidence"]["deletion_date"].is_string(), "{del}");
    let days = del["evidence"]["days_left"].as_i64().expect("days_left");
    assert!((6..=7).contains(&days), "{del}");
    let public = finding(&report, "POL001", &arn_of("public"));
    assert_eq!(public["severity"], "critical");
    assert_eq!(public["evidence"]["sid"], "Public");
    let stranger = finding(&report, "POL002", &arn_of("stranger"));
    assert_eq!(stranger["evidence"]["account"], STRANGER);
    let unreadable = finding(&report, "POL003", &policy_denied);
    assert_eq!(
        unreadable["evidence"]["error_code"],
        "AccessDeniedException"
    );
    let grant = finding(&report, "GRT001", &arn_of("grant-stranger"));
    assert_eq!(grant["evidence"]["untrusted_accounts"], json!([STRANGER]));
    let rot = finding(&report, "ROT002", &arn_of("rot-730"));
    assert_eq!(rot["evidence"]["rotation_period_days"], 730);
    let mrk = finding(&report, "MRK001", &arn_of("mrk-policy-replica"));
    assert_eq!(mrk["evidence"]["differences"], json!(["policy"]));
    let mrk = finding(&report, "MRK001", &arn_of("mrk-disabled-replica"));
    assert_eq!(mrk["evidence"]["differences"], json!(["enabled"]));
    assert_eq!(report["summary"]["findings"]["critical"], 3);

    // The same scan with per-check overrides: ROT001 off (by id), GRT001 off (by name),
    // POL001 downgraded; --regions replaces the config's regions.
    let overrides = write(
        dir.path(),
        "overrides.yaml",
        &format!(
            "trusted_accounts: ['{TRUSTED}']\nrequired_tags: [owner]\nchecks:\n  ROT001:\n    \
             enabled: false\n  untrusted-grantee: {{enabled: false}}\n  public-key-policy: \
             {{severity: low}}\n"
        ),
    );
    let rescan = kms_audit(
        &proxy.endpoint,
        &[
            "scan",
            "--config",
            &overrides,
            "--regions",
            "us-east-1,eu-west-1",
            "--format",
            "json",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(rescan.code, 3, "stderr: {}", rescan.stderr);
    let rereport = rescan.json();
    let got = found(&rereport, &expect);
    let want: BTreeSet<(String, String)> = expect
        .pairs()
        .into_iter()
        .filter(|(check, _)| check != "ROT001" && check != "GRT001")
        .collect();
    assert_eq!(got, want);
    for f in rereport["findings"].as_array().expect("findings") {
        if f["check_id"] == "POL001" {
            assert_eq!(f["severity"], "low", "{f}");
        }
    }
    assert_eq!(rereport["summary"]["findings"]["critical"], 0);
}

/// POL002 with the organization as context: members found by `--org` are trusted; without
/// `--org` membership is unknown, and `organization_id` from the config trusts only statements
/// pinned to it. GRT001 never trusts organization membership.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_members_are_trusted_by_pol002_only_when_known() {
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    let org = support::org::create_org(endpoint).await;
    let use1 = seed::kms(endpoint, "us-east-1");
    let mut expect = Expect::default();
    let member_root = format!("arn:aws:iam::{}:root", org.prod);
    let keyed = |sid: &str, principal: Value| {
        Some(seed::policy(
            DEFAULT_ACCOUNT,
            &[statement(sid, principal, "kms:Decrypt")],
        ))
    };

    let member = good_key(
        &use1,
        "alias/to-member",
        NewKey {
            policy: keyed("Member", json!({"AWS": member_root})),
            ..NewKey::default()
        },
    )
    .await;
    let stranger = good_key(
        &use1,
        "alias/to-stranger",
        NewKey {
            policy: keyed(
                "Stranger",
                json!({"AWS": format!("arn:aws:iam::{STRANGER}:root")}),
            ),
            ..NewKey::default()
        },
    )
    .await;
    let org_pinned_policy = seed::policy(
        DEFAULT_ACCOUNT,
        &[
            json!({"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                 "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id}}}),
        ],
    );
    let org_pinned = good_key(
        &use1,
        "alias/org-pinned",
        NewKey {
            policy: Some(org_pinned_policy),
            ..NewKey::default()
        },
    )
    .await;
    let granted = good_key(&use1, "alias/grant-member", NewKey::default()).await;
    seed::grant(
        &use1,
        &granted,
        &format!("arn:aws:iam::{}:role/app", org.prod),
        &[GrantOperation::Decrypt],
    )
    .await;
    // A key in a member account that names the management account.
    let prod_client = support::org::kms_in(endpoint, &org.prod, "us-east-1").await;
    let in_member = good_key(
        &prod_client,
        "alias/to-management",
        NewKey {
            policy: Some(seed::policy(
                &org.prod,
                &[statement(
                    "Management",
                    json!({"AWS": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root")}),
                    "kms:Decrypt",
                )],
            )),
            ..NewKey::default()
        },
    )
    .await;

    // --org: the report carries the organization and its accounts.
    expect.add("to-member", &member, &[]);
    expect.add("to-stranger", &stranger, &["POL002"]);
    expect.add("org-pinned", &org_pinned, &[]);
    expect.add("grant-member", &granted, &["GRT001"]);
    expect.add("to-management", &in_member, &[]);
    let run_org = kms_audit(
        endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            "us-east-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        run_org.code, 1,
        "POL002 is high; stderr: {}",
        run_org.stderr
    );
    let report = run_org.json();
    assert_eq!(report["organization_id"], org.id.as_str());
    assert_eq!(found(&report, &expect), expect.pairs());
    let f = finding(&report, "POL002", &stranger);
    assert_eq!(f["evidence"]["organization_membership_known"], true);

    // The caller's account alone, organization_id from the config: members are not known.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "org.yaml",
        &format!("organization_id: {}\n", org.id),
    );
    let alone = kms_audit(
        endpoint,
        &[
            "scan",
            "--config",
            &config,
            "--regions",
            "us-east-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(alone.code, 1, "stderr: {}", alone.stderr);
    let report = alone.json();
    let mut expect_alone = Expect::default();
    expect_alone.add("to-member", &member, &["POL002"]);
    expect_alone.add("to-stranger", &stranger, &["POL002"]);
    expect_alone.add("org-pinned", &org_pinned, &[]);
    expect_alone.add("grant-member", &granted, &["GRT001"]);
    assert_eq!(found(&report, &expect_alone), expect_alone.pairs());
    let f = finding(&report, "POL002", &member);
    assert_eq!(f["evidence"]["organization_membership_known"], false);
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("organization membership unknown")),
        "{f}"
    );
}

// --- `kms-audit checks` and `kms-audit explain` ---------------------------------------------

/// The ids `kms-audit checks` lists: every check the registries run, in catalog order.
fn catalog_ids() -> Vec<&'static str> {
    kms_audit::analysis::catalog()
        .all()
        .iter()
        .map(|meta| meta.id.as_str())
        .collect()
}

#[test]
fn checks_lists_the_catalog_as_a_table() {
    let out = run(command().args(["checks"]));
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    for id in catalog_ids() {
        assert!(out.stdout.contains(id), "{id} in:\n{}", out.stdout);
    }
    assert!(out.stdout.contains("rotation-disabled"));
    assert!(out.stdout.contains("critical"));
    for line in out.stdout.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
}

#[test]
fn checks_json_has_every_field_of_every_entry() {
    let out = run(command().args(["checks", "--format", "json"]));
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let entries: Vec<Value> = serde_json::from_str(&out.stdout).expect("JSON array");
    let ids: Vec<&str> = entries.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, catalog_ids());
    for e in &entries {
        for field in [
            "name",
            "severity",
            "category",
            "title",
            "rationale",
            "remediation",
        ] {
            assert!(
                e[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} of {e}"
            );
        }
        assert!(
            e["references"].as_array().is_some_and(|r| !r.is_empty()),
            "{e}"
        );
    }
    let rot = &entries[0];
    assert_eq!(rot["severity"], "medium");
    let frameworks = rot["frameworks"].to_string();
    assert!(
        frameworks.contains("CIS AWS Foundations 3.6 / 4.6") && frameworks.contains("FSBP KMS.4"),
        "{frameworks}"
    );
    let pol = entries
        .iter()
        .find(|e| e["id"] == "POL001")
        .expect("POL001");
    assert!(pol["frameworks"].to_string().contains("KMS.5"));
    let del = entries
        .iter()
        .find(|e| e["id"] == "DEL001")
        .expect("DEL001");
    assert!(del["frameworks"].to_string().contains("KMS.3"));
}

#[test]
fn explain_prints_one_entry_by_id_or_name() {
    let by_id = run(command().args(["explain", "ROT001"]));
    assert_eq!(by_id.code, 0, "stderr: {}", by_id.stderr);
    assert!(
        by_id
            .stdout
            .starts_with("ROT001 rotation-disabled (severity medium, category rotation)"),
        "{}",
        by_id.stdout
    );
    for part in [
        "Why it matters:",
        "How to fix:",
        "aws kms enable-key-rotation",
        "Frameworks:",
        "CIS AWS Foundations 3.6 / 4.6",
        "References:",
        "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
    ] {
        assert!(by_id.stdout.contains(part), "{part} in:\n{}", by_id.stdout);
    }
    let by_name = run(command().args(["explain", "rotation-disabled"]));
    let lower = run(command().args(["explain", "rot001"]));
    assert_eq!(by_name.stdout, by_id.stdout);
    assert_eq!(lower.stdout, by_id.stdout);
    let drift = run(command().args(["explain", "DRF003"]));
    assert_eq!(drift.code, 0);
    assert!(drift.stdout.starts_with("DRF003 policy-drift"));
    // The built-in expired-suppression finding is explained too, by id or name.
    let expired = run(command().args(["explain", "SUP001"]));
    assert_eq!(expired.code, 0);
    assert!(
        expired.stdout.starts_with("SUP001 expired-suppression"),
        "{}",
        expired.stdout
    );
    let by_name = run(command().args(["explain", "expired-suppression"]));
    assert_eq!(by_name.stdout, expired.stdout);
}

#[test]
fn explain_an_unknown_check_is_exit_2() {
    let out = run(command().args(["explain", "ROT999"]));
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert_eq!(
        out.stderr.trim(),
        "kms-audit: error: unknown check 'ROT999': run `kms-audit checks` for the ids and names"
    );
}

// --- config errors: exit 2 before any AWS call, naming file, line and field --------------------

fn scan_with_config(config: &str) -> support::cli::Run {
    run(command().args([
        "scan",
        "--endpoint-url",
        DEAD_ENDPOINT,
        "--regions",
        "us-east-1",
        "--config",
        config,
    ]))
}

fn assert_config_error(out: &support::cli::Run, needles: &[&str]) {
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {}", out.stderr);
    for needle in needles {
        assert!(lines[0].contains(needle), "'{needle}' in: {}", lines[0]);
    }
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn unknown_config_key_is_exit_2_with_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "kms-audit.yaml",
        "trusted_accounts: ['222222222222']\nrequired_tag: [owner]\n",
    );
    let out = scan_with_config(&path);
    assert_config_error(
        &out,
        &[
            &format!("kms-audit: error: invalid config file {path}, line 2, column 1"),
            "field `required_tag`",
            "unknown field `required_tag`",
            "required_tags",
        ],
    );
}

#[test]
fn bad_config_values_are_exit_2_with_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text, needles) in [
        (
            "account.yaml",
            "# partners\ntrusted_accounts:\n  - '222222222222'\n  - '2222'\n",
            &[
                "line 4",
                "field `trusted_accounts[1]`",
                "not an AWS account id",
            ][..],
        ),
        (
            "period.yaml",
            "max_rotation_period_days: 5000\n",
            &["line 1", "field `max_rotation_period_days`", "90 to 2560"][..],
        ),
        (
            "type.yaml",
            "max_rotation_period_days: yearly\n",
            &["line 1", "field `max_rotation_period_days`"][..],
        ),
        (
            "check.yaml",
            "checks:\n  ROT001: {enabled: false}\n  NOPE001: {enabled: false}\n",
            &[
                "line 3",
                "field `checks.NOPE001`",
                "unknown check 'NOPE001'",
            ][..],
        ),
        (
            "severity.yaml",
            "checks:\n  rotation-disabled:\n    severity: urgent\n",
            &[
                "line 3",
                "field `checks.rotation-disabled.severity`",
                "unknown severity 'urgent'",
            ][..],
        ),
        (
            "nested.yaml",
            "checks:\n  ROT001:\n    enable: false\n",
            &[
                "line 3",
                "field `checks.ROT001.enable`",
                "unknown field `enable`",
            ][..],
        ),
        (
            "syntax.yaml",
            "checks: {ROT001: {enabled: false}\n",
            &["line "][..],
        ),
    ] {
        let path = write(dir.path(), name, text);
        let out = scan_with_config(&path);
        let mut all = vec![format!("invalid config file {path}")];
        all.extend(needles.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        assert_config_error(&out, &refs);
    }
}

#[test]
fn missing_config_file_is_exit_2_with_its_path() {
    let out = scan_with_config("/nonexistent/kms-audit.yaml");
    assert_config_error(
        &out,
        &["invalid config file /nonexistent/kms-audit.yaml: cannot read it"],
    );
}

#[test]
fn report_validates_the_config_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "bad.yaml", "organization_id: acme\n");
    let scan = write(dir.path(), "scan.json", "{}");
    let out = run(command().args(["report", &scan, "--config", &path]));
    assert_config_error(&out, &["line 1", "field `organization_id`"]);
}
