//! MRK001 replica-inconsistent: a multi-Region replica whose key policy (compared
//! semantically), tags or enabled state differ from its primary's, or whose primary is gone.
//!
//! - The primary is looked up in the inventory by ARN. When it is absent, the replica's primary
//!   is "gone" only if the primary's account×region was scanned (a `scanned` target): a primary
//!   in a region that was not scanned, failed or skipped is simply not known, not gone.
//! - Each property is compared only when it is known on both keys (not in `unknown`); the ones
//!   that could not be compared are listed in evidence (`not_compared`).
//! - Enabled state is compared when both keys are Enabled or Disabled; a replica pending
//!   deletion is DEL001's and is not compared at all.
//!
//! One finding per replica, listing every difference.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{CheckRun, arn_account, arn_region, cli_key_args, is_pending_deletion, known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::{Finding, KeyRecord, MultiRegionKeyType, TargetStatus};

fn enabled_state(key: &KeyRecord) -> Option<&str> {
    key.key_state
        .as_deref()
        .filter(|s| *s == "Enabled" || *s == "Disabled")
}

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let by_arn: BTreeMap<&str, &KeyRecord> = ctx
        .inventory
        .keys
        .iter()
        .map(|k| (k.arn.as_str(), k))
        .collect();
    let mut findings = Vec::new();
    for replica in &ctx.inventory.keys {
        let Some(mrk) = replica
            .multi_region
            .as_ref()
            .filter(|m| m.key_type == MultiRegionKeyType::Replica)
        else {
            continue;
        };
        if is_pending_deletion(replica) || mrk.primary_arn.is_empty() {
            continue;
        }
        let primary_arn = mrk.primary_arn.as_str();
        match by_arn.get(primary_arn) {
            Some(primary) => {
                if let Some(finding) = compare(meta, replica, primary) {
                    findings.push(finding);
                }
            }
            None => {
                let (Some(account), Some(region)) =
                    (arn_account(primary_arn), arn_region(primary_arn))
                else {
                    continue;
                };
                let scanned = ctx.targets.iter().any(|t| {
                    t.account == account && t.region == region && t.status == TargetStatus::Scanned
                });
                if !scanned {
                    continue;
                }
                findings.push(
                    FindingBuilder::for_key(
                        meta,
                        replica,
                        format!(
                            "the primary {primary_arn} of multi-Region replica {} no longer exists \
                             (not found in {region}, which was scanned)",
                            replica.display_name()
                        ),
                    )
                    .evidence(json!({
                        "primary_arn": primary_arn,
                        "differences": ["primary_missing"],
                        "primary_region_scanned": true,
                    }))
                    .remediation(format!(
                        "Make a replica the primary of the set so it can be managed again: \
                         `aws kms update-primary-region {} --primary-region {}` (run it in the \
                         current primary's Region), or delete the orphaned replica if it is unused.",
                        cli_key_args(replica),
                        replica.region
                    ))
                    .build(),
                );
            }
        }
    }
    findings
}

fn compare(meta: &CheckMeta, replica: &KeyRecord, primary: &KeyRecord) -> Option<Finding> {
    let mut differences: Vec<&str> = Vec::new();
    let mut not_compared: Vec<&str> = Vec::new();
    let mut evidence = serde_json::Map::new();
    let mut fixes: Vec<String> = Vec::new();
    let args = cli_key_args(replica);

    // Key policy, semantically.
    match (&primary.policy, &replica.policy) {
        (Some(p), Some(r)) if known(primary, "policy") && known(replica, "policy") => {
            let diff = crate::policy::policy_diff(&p.to_value(), &r.to_value(), &replica.account);
            if !diff.is_empty() {
                differences.push("policy");
                evidence.insert(
                    "policy".into(),
                    json!({"summary": diff.summary(), "diff": diff}),
                );
                fixes.push(format!(
                    "copy the primary's key policy: `aws kms get-key-policy {} --policy-name default \
                     --output text > policy.json` then `aws kms put-key-policy {args} --policy-name \
                     default --policy file://policy.json`",
                    cli_key_args(primary)
                ));
            }
        }
        _ => not_compared.push("policy"),
    }

    // Tags.
    if known(primary, "tags") && known(replica, "tags") {
        if primary.tags != replica.tags {
            differences.push("tags");
            let only_primary: BTreeMap<&str, &str> = primary
                .tags
                .iter()
                .filter(|(k, v)| replica.tags.get(k) != Some(v))
                .collect();
            let only_replica: Vec<&str> = replica
                .tags
                .keys()
                .filter(|k| !primary.tags.contains_key(k))
                .collect();
            evidence.insert(
                "tags".into(),
                json!({"primary": primary.tags, "replica": replica.tags}),
            );
            let mut fix = String::from("align the tags");
            if !only_primary.is_empty() {
                let tags: Vec<String> = only_primary
                    .iter()
                    .map(|(k, v)| format!("TagKey={k},TagValue={v}"))
                    .collect();
                fix.push_str(&format!(
                    ": `aws kms tag-resource {args} --tags {}`",
                    tags.join(" ")
                ));
            }
            if !only_replica.is_empty() {
                let keys: Vec<&str> = only_replica.clone();
                fix.push_str(&format!(
                    "{} `aws kms untag-resource {args} --tag-keys {}`",
                    if only_primary.is_empty() { ":" } else { " and" },
                    keys.join(" ")
                ));
            }
            fixes.push(fix);
        }
    } else {
        not_compared.push("tags");
    }

    // Enabled state.
    match (enabled_state(primary), enabled_state(replica)) {
        (Some(p), Some(r)) => {
            if p != r {
                differences.push("enabled");
                evidence.insert("key_state".into(), json!({"primary": p, "replica": r}));
                fixes.push(if p == "Enabled" {
                    format!("enable the replica: `aws kms enable-key {args}`")
                } else {
                    format!("disable the replica: `aws kms disable-key {args}`")
                });
            }
        }
        _ => not_compared.push("enabled"),
    }

    if differences.is_empty() {
        return None;
    }
    evidence.insert("primary_arn".into(), Value::String(primary.arn.clone()));
    evidence.insert("differences".into(), json!(differences));
    evidence.insert("not_compared".into(), json!(not_compared));
    Some(
        FindingBuilder::for_key(
            meta,
            replica,
            format!(
                "multi-Region replica {} differs from its primary in {}: {}",
                replica.display_name(),
                primary.region,
                differences.join(", ")
            ),
        )
        .evidence(Value::Object(evidence))
        .remediation(format!(
            "Align the replica with its primary {}: {}.",
            primary.arn,
            fixes.join("; ")
        ))
        .build(),
    )
}
