//! STA001 key-disabled: a customer-managed key in state `Disabled`. Needs: metadata.

use serde_json::json;

use super::{CheckRun, cli_key_args, metadata_known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    ctx.inventory
        .keys
        .iter()
        .filter(|key| {
            metadata_known(key)
                && key.is_customer_managed()
                && key.key_state.as_deref() == Some("Disabled")
        })
        .map(|key| {
            FindingBuilder::for_key(
                meta,
                key,
                format!("customer-managed key {} is disabled", key.display_name()),
            )
            .evidence(json!({"key_state": "Disabled", "description": key.description}))
            .remediation(format!(
                "Enable it if it is needed: `aws kms enable-key {args}`; otherwise, after checking \
                 CloudTrail for recent use, schedule its deletion: `aws kms schedule-key-deletion {args} \
                 --pending-window-in-days 30`.",
                args = cli_key_args(key)
            ))
            .build()
        })
        .collect()
}
