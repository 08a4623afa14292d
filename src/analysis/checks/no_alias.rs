//! ALI001 no-alias: a customer-managed key without an alias.
//!
//! Keys pending deletion are left to DEL001 (their aliases are usually removed first). Needs:
//! metadata and the aliases (ListAliases); not evaluated when either is unknown.

use serde_json::json;

use super::{CheckRun, is_pending_deletion, known, metadata_known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    ctx.inventory
        .keys
        .iter()
        .filter(|key| {
            metadata_known(key)
                && known(key, "aliases")
                && key.is_customer_managed()
                && !is_pending_deletion(key)
                && key.aliases.is_empty()
        })
        .map(|key| {
            FindingBuilder::for_key(
                meta,
                key,
                format!("customer-managed key {} has no alias", key.key_id),
            )
            .evidence(json!({"aliases": [], "description": key.description, "tags": key.tags}))
            .remediation(format!(
                "Give it a descriptive alias: `aws kms create-alias --alias-name alias/<name> \
                 --target-key-id {} --region {}`.",
                key.key_id, key.region
            ))
            .build()
        })
        .collect()
}
