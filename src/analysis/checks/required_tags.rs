//! TAG001 missing-required-tags: a customer-managed key lacks a tag named in `required_tags`
//! (config; the check is off while the list is empty). One finding per key, listing every
//! missing tag. Tag keys are case-sensitive, as in AWS.
//!
//! Keys pending deletion are left to DEL001. Needs: metadata and the tags (ListResourceTags);
//! not evaluated when either is unknown.

use serde_json::json;

use super::{CheckRun, cli_key_args, is_pending_deletion, known, metadata_known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let required = &ctx.config.required_tags;
    if required.is_empty() {
        return Vec::new();
    }
    ctx.inventory
        .keys
        .iter()
        .filter(|key| {
            metadata_known(key)
                && known(key, "tags")
                && key.is_customer_managed()
                && !is_pending_deletion(key)
        })
        .filter_map(|key| {
            let missing: Vec<&String> = required
                .iter()
                .filter(|tag| !key.tags.contains_key(tag.as_str()))
                .collect();
            if missing.is_empty() {
                return None;
            }
            let tags_arg: Vec<String> = missing
                .iter()
                .map(|tag| format!("TagKey={tag},TagValue=<value>"))
                .collect();
            Some(
                FindingBuilder::for_key(
                    meta,
                    key,
                    format!(
                        "key {} lacks required tag{} {}",
                        key.display_name(),
                        if missing.len() == 1 { "" } else { "s" },
                        missing
                            .iter()
                            .map(|t| format!("'{t}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .evidence(json!({
                    "missing_tags": missing,
                    "required_tags": required,
                    "tags": key.tags,
                }))
                .remediation(format!(
                    "Add the missing tags: `aws kms tag-resource {} --tags {}`.",
                    cli_key_args(key),
                    tags_arg.join(" ")
                ))
                .build(),
            )
        })
        .collect()
}
