//! ROT001 rotation-disabled: a customer-managed symmetric key with KMS-generated material,
//! Enabled, whose automatic rotation is off.
//!
//! Never fires on asymmetric, HMAC, imported (`EXTERNAL`) or custom key store keys (rotation
//! cannot apply), AWS-managed keys (they rotate yearly by themselves), disabled keys or keys
//! pending deletion (AWS reports rotation off for them by design; the emulator does not).
//! Needs: metadata (manager, spec, origin, store, state) and the rotation status; when either
//! is unknown the key is not evaluated (its coverage gap fails the run instead).

use serde_json::json;

use super::{CheckRun, cli_key_args, metadata_known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::{Finding, KeyRecord, MultiRegionKeyType};

/// Whether automatic rotation applies to the key at all (AWS rejects EnableKeyRotation otherwise).
pub(crate) fn rotation_applies(key: &KeyRecord) -> bool {
    metadata_known(key)
        && key.is_customer_managed()
        && key.key_spec.as_deref() == Some("SYMMETRIC_DEFAULT")
        && key.origin.as_deref() == Some("AWS_KMS")
        && key.custom_key_store_id.is_none()
}

/// For a multi-Region replica, rotation is set on the primary: the CLI arguments that name it.
pub(crate) fn rotation_owner_args(key: &KeyRecord) -> String {
    match &key.multi_region {
        Some(mrk) if mrk.key_type == MultiRegionKeyType::Replica && !mrk.primary_arn.is_empty() => {
            format!(
                "--key-id {} --region {}",
                mrk.primary_arn,
                crate::model::arn::Arn::parse(&mrk.primary_arn)
                    .map(|a| a.region)
                    .filter(|r| !r.is_empty())
                    .unwrap_or(&key.region)
            )
        }
        _ => cli_key_args(key),
    }
}

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    ctx.inventory
        .keys
        .iter()
        .filter(|key| rotation_applies(key) && key.key_state.as_deref() == Some("Enabled"))
        .filter_map(|key| {
            let rotation = key.rotation.as_ref()?;
            if rotation.enabled {
                return None;
            }
            let replica_of = key
                .multi_region
                .as_ref()
                .filter(|m| m.key_type == MultiRegionKeyType::Replica)
                .map(|m| m.primary_arn.clone());
            let mut remediation = format!(
                "Enable automatic rotation: `aws kms enable-key-rotation {} --rotation-period-in-days {}`.",
                rotation_owner_args(key),
                ctx.config.max_rotation_period_days
            );
            if let Some(primary) = &replica_of {
                remediation.push_str(&format!(
                    " This key is a multi-Region replica: rotation is set on its primary {primary} and applies to every replica."
                ));
            } else {
                remediation.push_str(" In Terraform set `enable_key_rotation = true` on the `aws_kms_key`.");
            }
            Some(
                FindingBuilder::for_key(
                    meta,
                    key,
                    format!(
                        "automatic rotation is off on customer-managed symmetric key {}",
                        key.display_name()
                    ),
                )
                .evidence(json!({
                    "key_state": key.key_state,
                    "key_manager": key.key_manager,
                    "key_spec": key.key_spec,
                    "origin": key.origin,
                    "rotation_enabled": false,
                    "multi_region_primary": replica_of,
                }))
                .remediation(remediation)
                .build(),
            )
        })
        .collect()
}
