//! KEY001 short-rsa-encryption-key: a customer-managed RSA key used for encryption whose key is
//! 2048 bits (Control Tower CT.KMS.PR.2 asks for more). Needs: metadata.
//!
//! KMS cannot change a key's spec, so the remediation is a new key. Keys pending deletion are
//! left out: they are already on their way out.

use serde_json::json;

use super::{CheckRun, cli_key_args, is_pending_deletion, metadata_known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

/// The RSA key spec CT.KMS.PR.2 refuses for encryption.
const SHORT_RSA_SPEC: &str = "RSA_2048";

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    ctx.inventory
        .keys
        .iter()
        .filter(|key| {
            metadata_known(key)
                && key.is_customer_managed()
                && !is_pending_deletion(key)
                && key.key_spec.as_deref() == Some(SHORT_RSA_SPEC)
                && key.key_usage.as_deref() == Some("ENCRYPT_DECRYPT")
        })
        .map(|key| {
            FindingBuilder::for_key(
                meta,
                key,
                format!(
                    "RSA key {} is 2048 bits and used for encryption",
                    key.display_name()
                ),
            )
            .evidence(json!({"key_spec": SHORT_RSA_SPEC, "key_usage": "ENCRYPT_DECRYPT"}))
            .remediation(format!(
                "KMS cannot change a key's spec. Create an RSA_3072 or RSA_4096 key \
                 (`aws kms create-key --key-spec RSA_3072 --key-usage ENCRYPT_DECRYPT --region {region}`), \
                 move encryption to it, then, after checking CloudTrail for recent use, disable this \
                 key and schedule its deletion: `aws kms schedule-key-deletion {args} --pending-window-in-days 30`.",
                region = key.region,
                args = cli_key_args(key)
            ))
            .build()
        })
        .collect()
}
