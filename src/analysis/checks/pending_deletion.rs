//! DEL001 pending-deletion: a customer-managed key in `PendingDeletion` or
//! `PendingReplicaDeletion`. Evidence: the deletion date and the whole days left, measured from
//! the context's `now` (a parameter, so the result is reproducible).
//!
//! Needs: metadata. AWS-managed keys cannot be scheduled for deletion by users and are skipped.

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{CheckRun, cli_key_args, is_pending_deletion, metadata_known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

/// Whole days from `now` until `deletion_date` (0 once the date has passed).
pub fn days_left(deletion_date: &str, now: OffsetDateTime) -> Option<i64> {
    let at = OffsetDateTime::parse(deletion_date, &Rfc3339).ok()?;
    Some((at - now).whole_days().max(0))
}

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    ctx.inventory
        .keys
        .iter()
        .filter(|key| metadata_known(key) && key.is_customer_managed() && is_pending_deletion(key))
        .map(|key| {
            let state = key.key_state.as_deref().unwrap_or_default();
            let left = key
                .deletion_date
                .as_deref()
                .and_then(|date| days_left(date, ctx.now));
            let message = match (&key.deletion_date, left) {
                (Some(date), Some(days)) => format!(
                    "key {} is scheduled for deletion on {date} ({days} day{} left)",
                    key.display_name(),
                    if days == 1 { "" } else { "s" }
                ),
                _ if state == "PendingReplicaDeletion" => format!(
                    "multi-Region primary key {} is scheduled for deletion and waits for its replicas to be deleted",
                    key.display_name()
                ),
                _ => format!("key {} is scheduled for deletion", key.display_name()),
            };
            FindingBuilder::for_key(meta, key, message)
                .evidence(json!({
                    "key_state": state,
                    "deletion_date": key.deletion_date,
                    "days_left": left,
                    "as_of": crate::model::timestamp::format_rfc3339(ctx.now),
                }))
                .remediation(format!(
                    "If the deletion is not intended: `aws kms cancel-key-deletion {args}` then \
                     `aws kms enable-key {args}`. If it is intended, confirm nothing still uses the key \
                     (CloudTrail Decrypt events) and suppress the finding until the deletion date.",
                    args = cli_key_args(key)
                ))
                .build()
        })
        .collect()
}
