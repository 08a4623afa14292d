//! Key tags: one listing per account×region instead of one call per key.
//!
//! The Resource Groups Tagging API (`tag:GetResources`, read-only) lists every tagged KMS key of
//! a region with its tags, 100 keys per page. That replaces `ListResourceTags` for every tagged
//! key, which brings a customer-managed key to four calls (DescribeKey, GetKeyPolicy,
//! GetKeyRotationStatus, ListGrants) and spares the account's KMS request quota.
//!
//! The listing only has keys that have (or had) tags, and follows tag changes with a short
//! delay. So a key it does not list with at least one tag is still asked directly
//! (`ListResourceTags`): an untagged key is exactly where TAG001 would fire, and a finding must
//! not rest on a lagging index. If the listing cannot be read at all (e.g. the role lacks
//! `tag:GetResources`), every key is asked directly: slower, but nothing is lost.

use std::collections::HashMap;

use crate::model::Tags;
use crate::scan::aws::CallError;
use crate::scan::collect::pace::Operation;

use super::TargetScan;
use crate::scan::aws::paginate::{Page, all_pages};

/// How many keys one GetResources page holds (the API's maximum).
const RESOURCES_PAGE: i32 = 100;
const TAGS_PAGE: i32 = 50;

/// The tags the region's listing gave, by key ARN; only keys with at least one tag.
pub type ListedTags = HashMap<String, Tags>;

/// Every tagged KMS key of the target with its tags, across all pages.
pub async fn list_tagged_keys(scan: &TargetScan) -> Result<ListedTags, CallError> {
    let listed = all_pages("GetResources", |token| async move {
        let output = scan
            .gate
            .run(Operation::GetResources, || {
                scan.tagging
                    .get_resources()
                    .resource_type_filters("kms:key")
                    .resources_per_page(RESOURCES_PAGE)
                    .set_pagination_token(token)
                    .send()
            })
            .await?;
        let tagged = output
            .resource_tag_mapping_list()
            .iter()
            .filter_map(|mapping| {
                let arn = mapping.resource_arn()?;
                let tags: Tags = mapping
                    .tags()
                    .iter()
                    .map(|tag| (tag.key().to_string(), tag.value().to_string()))
                    .collect();
                (!tags.is_empty()).then(|| (arn.to_string(), tags))
            })
            .collect();
        // The API ends a listing with an empty (or absent) token.
        Ok::<_, CallError>(Page {
            items: tagged,
            next: output.pagination_token().map(str::to_string),
        })
    })
    .await?;
    Ok(listed.into_iter().collect())
}

/// The tags of one key, asked of KMS (`ListResourceTags`), for keys the listing does not have.
pub async fn read_tags(scan: &TargetScan, arn: &str) -> Result<Tags, CallError> {
    let tags = all_pages("ListResourceTags", |marker| async move {
        let output = scan
            .gate
            .run(Operation::ListResourceTags, || {
                scan.client
                    .list_resource_tags()
                    .key_id(arn)
                    .limit(TAGS_PAGE)
                    .set_marker(marker)
                    .send()
            })
            .await?;
        let tags = output
            .tags()
            .iter()
            .map(|tag| (tag.tag_key().to_string(), tag.tag_value().to_string()))
            .collect();
        Page::kms(
            "ListResourceTags",
            tags,
            output.truncated(),
            output.next_marker(),
        )
        .map_err(CallError::from)
    })
    .await?;
    Ok(tags.into_iter().collect())
}
