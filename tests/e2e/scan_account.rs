//! End to end: seed a 30-key, 3-region account in the local AWS emulator, run the real binary,
//! and check that every key comes back with exactly the right fields.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_kms::types::{GrantOperation, KeySpec, KeyUsageType, OriginType};
use serde_json::{Value, json};
use support::cli::{DEFAULT_ACCOUNT, json_report, target_statuses};
use support::emulator::Emulator;
use support::seed::{self, NewKey};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const PAGE: usize = 4;

/// What the scan must report for one seeded key.
#[derive(Debug, Clone, Default)]
struct Expected {
    arn: String,
    region: &'static str,
    aliases: Vec<&'static str>,
    state: &'static str,
    manager: &'static str,
    spec: &'static str,
    usage: &'static str,
    origin: &'static str,
    description: &'static str,
    /// None: rotation not applicable; Some((enabled, period))
    rotation: Option<(bool, Option<u64>)>,
    /// (type, primary arn, replica arns)
    multi_region: Option<(&'static str, String, Vec<String>)>,
    tags: Vec<(&'static str, &'static str)>,
    pending_deletion: bool,
    grants: Option<usize>,
    policy_sids: Vec<&'static str>,
}

struct Kind {
    spec: KeySpec,
    usage: KeyUsageType,
    spec_name: &'static str,
    usage_name: &'static str,
}

fn kind(spec: KeySpec, usage: KeyUsageType) -> Kind {
    let spec_name = spec.as_str().to_string().leak();
    let usage_name = usage.as_str().to_string().leak();
    Kind {
        spec,
        usage,
        spec_name,
        usage_name,
    }
}

async fn seed_estate(endpoint: &str) -> Vec<Expected> {
    let mut expected = Vec::new();
    let root_sid = vec!["Enable IAM User Permissions"];

    // A multi-Region primary in us-east-1 with replicas in the two other regions.
    let use1 = seed::kms(endpoint, "us-east-1");
    let primary = seed::create_key(
        &use1,
        NewKey {
            description: Some("Global orders key"),
            multi_region: true,
            tags: &[("team", "orders")],
            ..NewKey::default()
        },
    )
    .await;
    let primary_id = primary.key_id().to_string();
    let primary_arn = primary.arn().expect("arn").to_string();
    seed::alias(&use1, &primary_id, "alias/global-orders").await;
    seed::enable_rotation(&use1, &primary_id, Some(730)).await;
    let mut replica_arns = Vec::new();
    for region in &REGIONS[1..] {
        let replica = seed::replicate(&use1, &primary_id, region).await;
        replica_arns.push(replica.arn().expect("arn").to_string());
    }
    replica_arns.sort();
    expected.push(Expected {
        arn: primary_arn.clone(),
        region: "us-east-1",
        aliases: vec!["alias/global-orders"],
        description: "Global orders key",
        rotation: Some((true, Some(730))),
        multi_region: Some(("PRIMARY", primary_arn.clone(), replica_arns.clone())),
        tags: vec![("team", "orders")],
        grants: Some(0),
        policy_sids: root_sid.clone(),
        ..symmetric()
    });
    for (i, region) in REGIONS[1..].iter().enumerate() {
        let client = seed::kms(endpoint, region);
        let alias = ["alias/global-orders-eu", "alias/global-orders-ap"][i];
        seed::alias(&client, &primary_id, alias).await;
        expected.push(Expected {
            arn: replica_arns
                .iter()
                .find(|arn| arn.contains(region))
                .expect("replica arn")
                .clone(),
            region,
            aliases: vec![alias],
            description: "Global orders key",
            rotation: Some((true, Some(730))),
            multi_region: Some(("REPLICA", primary_arn.clone(), replica_arns.clone())),
            grants: Some(0),
            policy_sids: root_sid.clone(),
            ..symmetric()
        });
    }

    for region in REGIONS {
        let client = seed::kms(endpoint, region);
        let short = &region[..2];

        // Symmetric keys: rotation on with a custom period, on with the default, off.
        let key = seed::create_key(
            &client,
            NewKey {
                description: Some("Payments data key"),
                tags: &[("team", "payments"), ("env", "prod")],
                ..NewKey::default()
            },
        )
        .await;
        let payments = leak(format!("alias/payments-{short}"));
        seed::alias(&client, key.key_id(), payments).await;
        seed::enable_rotation(&client, key.key_id(), Some(180)).await;
        expected.push(Expected {
            arn: key.arn().expect("arn").into(),
            region,
            aliases: vec![payments],
            description: "Payments data key",
            rotation: Some((true, Some(180))),
            tags: vec![("env", "prod"), ("team", "payments")],
            grants: Some(0),
            policy_sids: root_sid.clone(),
            ..symmetric()
        });

        let key = seed::create_key(&client, NewKey::default()).await;
        seed::enable_rotation(&client, key.key_id(), None).await;
        expected.push(Expected {
            arn: key.arn().expect("arn").into(),
            region,
            rotation: Some((true, Some(365))),
            grants: Some(0),
            policy_sids: root_sid.clone(),
            ..symmetric()
        });

        // Two aliases, rotation off, a grant to another account and a custom policy.
        let custom_policy = seed::policy(
            DEFAULT_ACCOUNT,
            &[json!({
                "Sid": "AllowPartnerDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": ["kms:Decrypt"],
                "Resource": "*"
            })],
        );
        let key = seed::create_key(
            &client,
            NewKey {
                description: Some("Shared with partner"),
                policy: Some(custom_policy),
                ..NewKey::default()
            },
        )
        .await;
        let (a1, a2) = (
            leak(format!("alias/shared-{short}")),
            leak(format!("alias/partner-{short}")),
        );
        seed::alias(&client, key.key_id(), a1).await;
        seed::alias(&client, key.key_id(), a2).await;
        seed::grant(
            &client,
            key.key_id(),
            "arn:aws:iam::999999999999:role/partner",
            &[GrantOperation::Decrypt],
        )
        .await;
        let mut aliases = vec![a1, a2];
        aliases.sort();
        expected.push(Expected {
            arn: key.arn().expect("arn").into(),
            region,
            aliases,
            description: "Shared with partner",
            rotation: Some((false, None)),
            grants: Some(1),
            policy_sids: vec!["Enable IAM User Permissions", "AllowPartnerDecrypt"],
            ..symmetric()
        });

        // Keys rotation never applies to.
        for kind in [
            kind(KeySpec::Rsa3072, KeyUsageType::SignVerify),
            kind(KeySpec::EccNistP256, KeyUsageType::SignVerify),
            kind(KeySpec::Hmac384, KeyUsageType::GenerateVerifyMac),
        ] {
            let key = seed::create_key(
                &client,
                NewKey {
                    spec: Some(kind.spec.clone()),
                    usage: Some(kind.usage.clone()),
                    ..NewKey::default()
                },
            )
            .await;
            let alias = leak(format!(
                "alias/{}-{short}",
                kind.spec_name.to_ascii_lowercase().replace('_', "-")
            ));
            seed::alias(&client, key.key_id(), alias).await;
            expected.push(Expected {
                arn: key.arn().expect("arn").into(),
                region,
                aliases: vec![alias],
                spec: kind.spec_name,
                usage: kind.usage_name,
                rotation: None,
                grants: Some(0),
                policy_sids: root_sid.clone(),
                ..symmetric()
            });
        }

        // Disabled, and pending deletion.
        let key = seed::create_key(&client, NewKey::default()).await;
        seed::disable(&client, key.key_id()).await;
        expected.push(Expected {
            arn: key.arn().expect("arn").into(),
            region,
            state: "Disabled",
            rotation: Some((false, None)),
            grants: Some(0),
            policy_sids: root_sid.clone(),
            ..symmetric()
        });
        let key = seed::create_key(&client, NewKey::default()).await;
        seed::enable_rotation(&client, key.key_id(), None).await;
        seed::schedule_deletion(&client, key.key_id(), 7).await;
        expected.push(Expected {
            arn: key.arn().expect("arn").into(),
            region,
            state: "PendingDeletion",
            // AWS reports rotation off while a key is pending deletion.
            rotation: Some((false, None)),
            pending_deletion: true,
            grants: Some(0),
            policy_sids: root_sid.clone(),
            ..symmetric()
        });
    }

    // An imported-material key and an RSA encryption key in us-east-1.
    let key = seed::create_key(
        &use1,
        NewKey {
            origin: Some(OriginType::External),
            description: Some("Imported material"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&use1, key.key_id(), "alias/imported").await;
    let imported_state = leak(
        key.key_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    );
    expected.push(Expected {
        arn: key.arn().expect("arn").into(),
        region: "us-east-1",
        aliases: vec!["alias/imported"],
        state: imported_state,
        origin: "EXTERNAL",
        description: "Imported material",
        rotation: None,
        grants: Some(0),
        policy_sids: root_sid.clone(),
        ..symmetric()
    });

    // An RSA encryption key without an alias.
    let key = seed::create_key(
        &use1,
        NewKey {
            spec: Some(KeySpec::Rsa4096),
            usage: Some(KeyUsageType::EncryptDecrypt),
            ..NewKey::default()
        },
    )
    .await;
    expected.push(Expected {
        arn: key.arn().expect("arn").into(),
        region: "us-east-1",
        spec: "RSA_4096",
        rotation: None,
        grants: Some(0),
        policy_sids: root_sid.clone(),
        ..symmetric()
    });

    // An AWS-managed key, as a service creates it on first use.
    let managed = seed::aws_managed_key(&use1, "alias/aws/ebs").await;
    expected.push(Expected {
        arn: managed.arn().expect("arn").into(),
        region: "us-east-1",
        aliases: vec!["alias/aws/ebs"],
        manager: "AWS",
        description: leak(managed.description().unwrap_or_default().to_string()),
        rotation: Some((true, Some(365))),
        grants: None,
        // The policy AWS gives the EBS key: use through EC2, metadata for the account.
        policy_sids: vec![
            "Allow access through ec2 for all principals in the account that are authorized to use ec2",
            "Allow direct access to key metadata to the account",
        ],
        ..symmetric()
    });
    expected
}

fn symmetric() -> Expected {
    Expected {
        state: "Enabled",
        manager: "CUSTOMER",
        spec: "SYMMETRIC_DEFAULT",
        usage: "ENCRYPT_DECRYPT",
        origin: "AWS_KMS",
        ..Expected::default()
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn check_key(actual: &Value, want: &Expected) {
    let ctx = format!("key {} ({:?})", want.arn, want.aliases);
    assert_eq!(actual["account"], DEFAULT_ACCOUNT, "{ctx}");
    assert_eq!(actual["region"], want.region, "{ctx}");
    assert_eq!(actual["aliases"], json!(want.aliases), "{ctx}: aliases");
    assert_eq!(actual["key_state"], want.state, "{ctx}: state");
    assert_eq!(actual["key_manager"], want.manager, "{ctx}: manager");
    assert_eq!(actual["key_spec"], want.spec, "{ctx}: spec");
    assert_eq!(actual["key_usage"], want.usage, "{ctx}: usage");
    assert_eq!(actual["origin"], want.origin, "{ctx}: origin");
    assert_eq!(
        actual["description"], want.description,
        "{ctx}: description"
    );
    match want.rotation {
        None => assert_eq!(actual["rotation"], Value::Null, "{ctx}: rotation"),
        Some((enabled, period)) => {
            assert_eq!(actual["rotation"]["enabled"], enabled, "{ctx}: rotation");
            assert_eq!(
                actual["rotation"]["period_days"],
                json!(period),
                "{ctx}: period"
            );
            let next = &actual["rotation"]["next_rotation_date"];
            if enabled && want.manager == "CUSTOMER" {
                assert!(next.is_string(), "{ctx}: next rotation date {next}");
            } else {
                assert!(next.is_null(), "{ctx}: next rotation date {next}");
            }
        }
    }
    match &want.multi_region {
        None => assert_eq!(actual["multi_region"], Value::Null, "{ctx}: multi_region"),
        Some((kind, primary, replicas)) => assert_eq!(
            actual["multi_region"],
            json!({"type": kind, "primary_arn": primary, "replica_arns": replicas}),
            "{ctx}: multi_region"
        ),
    }
    let tags: BTreeMap<&str, &str> = want.tags.iter().copied().collect();
    assert_eq!(actual["tags"], json!(tags), "{ctx}: tags");
    assert_eq!(
        actual["deletion_date"].is_string(),
        want.pending_deletion,
        "{ctx}: deletion date"
    );
    match want.grants {
        None => assert_eq!(actual["grants"], Value::Null, "{ctx}: grants"),
        Some(n) => assert_eq!(
            actual["grants"].as_array().map(Vec::len),
            Some(n),
            "{ctx}: grants"
        ),
    }
    let sids: Vec<&str> = actual["policy"]["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: no policy statements"))
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(sids, want.policy_sids, "{ctx}: policy statements");
    assert_eq!(actual["unknown"], json!([]), "{ctx}: unknown fields");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_every_key_of_a_three_region_account_with_exact_fields() {
    // Pages of at most 4 items: every listing of this estate takes several pages.
    let emulator = Emulator::start_with_page_size(Some(PAGE));
    let expected = seed_estate(&emulator.endpoint).await;
    assert!(
        expected.len() >= 30,
        "the estate has {} keys",
        expected.len()
    );

    let report = json_report(
        &emulator.endpoint,
        &["scan", "--regions", &REGIONS.join(",")],
    );

    let keys = report["inventory"]["keys"].as_array().expect("keys");
    let found: BTreeSet<&str> = keys.iter().filter_map(|k| k["arn"].as_str()).collect();
    let wanted: BTreeSet<&str> = expected.iter().map(|e| e.arn.as_str()).collect();
    assert_eq!(
        found, wanted,
        "the scan must return exactly the seeded keys"
    );
    for want in &expected {
        let actual = keys
            .iter()
            .find(|k| k["arn"] == want.arn.as_str())
            .expect("seeded key in report");
        check_key(actual, want);
    }

    assert_eq!(report["coverage_gaps"], json!([]));
    assert_eq!(
        target_statuses(&report),
        [
            ("ap-southeast-2", "scanned"),
            ("eu-west-1", "scanned"),
            ("us-east-1", "scanned")
        ]
    );
    let summary = &report["summary"];
    assert_eq!(summary["keys"], expected.len());
    assert_eq!(summary["accounts"], 1);
    assert_eq!(summary["regions"], 3);
    assert_eq!(summary["gaps"], 0);

    // Calls per key: one DescribeKey and GetKeyPolicy each; grants only for customer keys;
    // tags from one tag listing per region, asked per key only for customer keys the listing
    // does not have (untagged ones); rotation only where it applies; listing once per region.
    let calls = &summary["api_calls"];
    let customer = expected.iter().filter(|e| e.manager == "CUSTOMER").count();
    let rotating = expected
        .iter()
        .filter(|e| e.manager == "CUSTOMER" && e.rotation.is_some())
        .count();
    assert_eq!(calls["kms:DescribeKey"], expected.len());
    assert_eq!(calls["kms:GetKeyPolicy"], expected.len());
    let untagged = expected
        .iter()
        .filter(|e| e.manager == "CUSTOMER" && e.tags.is_empty())
        .count();
    assert!(untagged > 0 && untagged < customer, "the fixture has both");
    assert_eq!(calls["kms:ListResourceTags"], untagged);
    assert_eq!(calls["tag:GetResources"], REGIONS.len());
    assert_eq!(calls["kms:ListGrants"], customer);
    assert_eq!(calls["kms:GetKeyRotationStatus"], rotating);
    let key_pages: usize = REGIONS
        .iter()
        .map(|region| {
            let n = expected.iter().filter(|e| e.region == *region).count();
            n.div_ceil(PAGE).max(1)
        })
        .sum();
    assert_eq!(
        calls["kms:ListKeys"], key_pages,
        "one call per page of keys"
    );
    // Aliases include AWS's predefined alias/aws/* ones: at least one page per region more.
    assert!(calls["kms:ListAliases"].as_u64().unwrap_or(0) > 3 * 4);
    assert_eq!(calls["sts:GetCallerIdentity"], 1);
}
