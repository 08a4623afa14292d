//! ROT002 rotation-period-too-long: rotation is on and `RotationPeriodInDays` is longer than
//! `max_rotation_period_days` (config, default 365).
//!
//! Customer-managed keys only (an AWS-managed key's yearly period cannot be changed), and not
//! keys pending deletion. Needs: the rotation period; a key whose period is not known (the API
//! did not return it) is not evaluated.

use serde_json::json;

use super::rotation_disabled::{rotation_applies, rotation_owner_args};
use super::{CheckRun, is_pending_deletion};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let max = ctx.config.max_rotation_period_days;
    ctx.inventory
        .keys
        .iter()
        .filter(|key| rotation_applies(key) && !is_pending_deletion(key))
        .filter_map(|key| {
            let rotation = key.rotation.as_ref().filter(|r| r.enabled)?;
            let period = rotation.period_days.filter(|days| *days > max)?;
            Some(
                FindingBuilder::for_key(
                    meta,
                    key,
                    format!(
                        "key {} rotates every {period} days, longer than the maximum of {max} days",
                        key.display_name()
                    ),
                )
                .evidence(json!({
                    "rotation_period_days": period,
                    "max_rotation_period_days": max,
                    "next_rotation_date": rotation.next_rotation_date,
                }))
                .remediation(format!(
                    "Shorten the period: `aws kms enable-key-rotation {} --rotation-period-in-days {max}`, \
                     or raise `max_rotation_period_days` in the kms-audit config if {period} days is intended.",
                    rotation_owner_args(key)
                ))
                .build(),
            )
        })
        .collect()
}
