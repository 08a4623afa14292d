//! The demo estate: an AWS Organization (management + 3 member accounts, 2 regions) with a
//! realistic mix of well-kept and neglected keys. Used by `scripts/demo.sh` and by a test that
//! keeps the demo working.

use aws_sdk_kms::types::{GrantOperation, KeySpec, KeyUsageType};
use serde_json::json;

use super::org::{self, SeededOrg};
use super::seed::{self, NewKey};

pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// How many keys the demo creates (AWS-managed key included).
pub const KEYS: usize = 19;

/// Seeds the demo organization; returns it.
pub async fn seed_demo(endpoint: &str) -> SeededOrg {
    let org = org::create_org(endpoint).await;
    let [use1, euw1] = REGIONS;

    // Management account: the organization trail's key, well kept, and an AWS-managed key.
    let mgmt = org::kms_in(endpoint, &org.management, use1).await;
    let trail = seed::create_key(
        &mgmt,
        NewKey {
            description: Some("Organization CloudTrail logs"),
            tags: &[("owner", "security"), ("classification", "internal")],
            policy: Some(seed::policy(
                &org.management,
                &[json!({
                    "Sid": "AllowCloudTrailEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {
                        "aws:SourceArn": format!("arn:aws:cloudtrail:us-east-1:{}:trail/org-trail", org.management)
                    }}
                })],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&mgmt, trail.key_id(), "alias/org-cloudtrail").await;
    seed::enable_rotation(&mgmt, trail.key_id(), Some(365)).await;
    seed::aws_managed_key(&mgmt, "alias/aws/s3").await;

    // prod: payments (good), a multi-Region orders key, a legacy export key nobody rotates,
    // a key someone opened to the world, and a signing key.
    let prod = org::kms_in(endpoint, &org.prod, use1).await;
    let payments = seed::create_key(
        &prod,
        NewKey {
            description: Some("Payments card data"),
            tags: &[("owner", "payments"), ("classification", "pci")],
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod, payments.key_id(), "alias/payments").await;
    seed::enable_rotation(&prod, payments.key_id(), Some(180)).await;
    let orders = seed::create_key(
        &prod,
        NewKey {
            description: Some("Orders, replicated for failover"),
            multi_region: true,
            tags: &[("owner", "orders")],
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod, orders.key_id(), "alias/orders").await;
    seed::enable_rotation(&prod, orders.key_id(), None).await;
    seed::replicate(&prod, orders.key_id(), euw1).await;
    let prod_eu = org::kms_in(endpoint, &org.prod, euw1).await;
    seed::alias(&prod_eu, orders.key_id(), "alias/orders").await;
    let legacy = seed::create_key(
        &prod,
        NewKey {
            description: Some("Legacy nightly export"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod, legacy.key_id(), "alias/legacy-export").await;
    let public = seed::create_key(
        &prod,
        NewKey {
            description: Some("Shared artifacts"),
            policy: Some(seed::policy(
                &org.prod,
                &[json!({
                    "Sid": "ShareWithEveryone",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*"
                })],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod, public.key_id(), "alias/shared-artifacts").await;
    seed::enable_rotation(&prod, public.key_id(), None).await;
    let signing = seed::create_key(
        &prod,
        NewKey {
            spec: Some(KeySpec::Rsa3072),
            usage: Some(KeyUsageType::SignVerify),
            description: Some("Release signing"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod, signing.key_id(), "alias/release-signing").await;
    let prod_eu_data = seed::create_key(
        &prod_eu,
        NewKey {
            description: Some("EU customer data"),
            tags: &[("owner", "payments"), ("classification", "pii")],
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&prod_eu, prod_eu_data.key_id(), "alias/eu-customers").await;
    seed::enable_rotation(&prod_eu, prod_eu_data.key_id(), Some(90)).await;

    // dev: a disabled key, a key scheduled for deletion, a key without an alias, an HMAC key.
    let dev = org::kms_in(endpoint, &org.dev, use1).await;
    let disabled = seed::create_key(
        &dev,
        NewKey {
            description: Some("Old test data"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&dev, disabled.key_id(), "alias/old-test-data").await;
    seed::disable(&dev, disabled.key_id()).await;
    let doomed = seed::create_key(
        &dev,
        NewKey {
            description: Some("Reports (retired?)"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&dev, doomed.key_id(), "alias/reports").await;
    seed::enable_rotation(&dev, doomed.key_id(), None).await;
    seed::schedule_deletion(&dev, doomed.key_id(), 7).await;
    let orphan = seed::create_key(&dev, NewKey::default()).await;
    seed::enable_rotation(&dev, orphan.key_id(), None).await;
    let hmac = seed::create_key(
        &dev,
        NewKey {
            spec: Some(KeySpec::Hmac256),
            usage: Some(KeyUsageType::GenerateVerifyMac),
            description: Some("Webhook signatures"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&dev, hmac.key_id(), "alias/webhooks").await;
    let dev_eu = org::kms_in(endpoint, &org.dev, euw1).await;
    let dev_eu_key = seed::create_key(
        &dev_eu,
        NewKey {
            description: Some("Dev EU"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&dev_eu, dev_eu_key.key_id(), "alias/dev-eu").await;
    seed::enable_rotation(&dev_eu, dev_eu_key.key_id(), Some(730)).await;

    // sandbox: a key granted to an outside account, a key whose policy trusts an outside
    // account, and a key left without rotation.
    let sandbox = org::kms_in(endpoint, &org.sandbox, use1).await;
    let granted = seed::create_key(
        &sandbox,
        NewKey {
            description: Some("Vendor exchange"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&sandbox, granted.key_id(), "alias/vendor-exchange").await;
    seed::enable_rotation(&sandbox, granted.key_id(), None).await;
    seed::grant(
        &sandbox,
        granted.key_id(),
        "arn:aws:iam::999999999999:role/vendor-sync",
        &[GrantOperation::Decrypt, GrantOperation::GenerateDataKey],
    )
    .await;
    let trusting = seed::create_key(
        &sandbox,
        NewKey {
            description: Some("Partner analytics"),
            policy: Some(seed::policy(
                &org.sandbox,
                &[json!({
                    "Sid": "PartnerAnalytics",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::888888888888:root"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*"
                })],
            )),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&sandbox, trusting.key_id(), "alias/partner-analytics").await;
    seed::enable_rotation(&sandbox, trusting.key_id(), None).await;
    let scratch = seed::create_key(
        &sandbox,
        NewKey {
            description: Some("Scratch"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&sandbox, scratch.key_id(), "alias/scratch").await;
    let sandbox_eu = org::kms_in(endpoint, &org.sandbox, euw1).await;
    let ecc = seed::create_key(
        &sandbox_eu,
        NewKey {
            spec: Some(KeySpec::EccNistP256),
            usage: Some(KeyUsageType::SignVerify),
            description: Some("Token signing"),
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&sandbox_eu, ecc.key_id(), "alias/token-signing").await;
    let mgmt_eu = org::kms_in(endpoint, &org.management, euw1).await;
    let backup = seed::create_key(
        &mgmt_eu,
        NewKey {
            description: Some("Backups"),
            tags: &[("owner", "platform")],
            ..NewKey::default()
        },
    )
    .await;
    seed::alias(&mgmt_eu, backup.key_id(), "alias/backups").await;
    seed::enable_rotation(&mgmt_eu, backup.key_id(), None).await;
    org
}
