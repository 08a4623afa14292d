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

use super::{CheckRun, cli_key_args, is_pending_deletion, known};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::arn::Arn;
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
                let Some((account, region)) = Arn::parse(primary_arn)
                    .filter(|a| !a.account.is_empty() && !a.region.is_empty())
                    .map(|a| (a.account, a.region))
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

/// One finding for a replica that differs from its primary in any compared property, listing
/// every difference and a fix for each. The properties are compared in a fixed order (policy,
/// tags, enabled state), which is their order in the message and the evidence.
fn compare(meta: &CheckMeta, replica: &KeyRecord, primary: &KeyRecord) -> Option<Finding> {
    let mut comparison = Comparison {
        args: cli_key_args(replica),
        ..Comparison::default()
    };
    comparison.policy(replica, primary);
    comparison.tags(replica, primary);
    comparison.enabled(replica, primary);
    comparison.finding(meta, replica, primary)
}

/// What comparing a replica with its primary found so far.
#[derive(Default)]
struct Comparison {
    differences: Vec<&'static str>,
    not_compared: Vec<&'static str>,
    evidence: serde_json::Map<String, Value>,
    fixes: Vec<String>,
    /// The replica's key arguments for the AWS CLI commands in the fixes.
    args: String,
}

impl Comparison {
    /// The key policies, compared semantically (statement order, a string vs a one-element
    /// list, and the like are not differences).
    fn policy(&mut self, replica: &KeyRecord, primary: &KeyRecord) {
        match (&primary.policy, &replica.policy) {
            (Some(p), Some(r)) if known(primary, "policy") && known(replica, "policy") => {
                let diff =
                    crate::policy::policy_diff(&p.to_value(), &r.to_value(), &replica.account);
                if !diff.is_empty() {
                    self.differences.push("policy");
                    self.evidence.insert(
                        "policy".into(),
                        json!({"summary": diff.summary(), "diff": diff}),
                    );
                    let args = &self.args;
                    self.fixes.push(format!(
                        "copy the primary's key policy: `aws kms get-key-policy {} --policy-name \
                         default --output text > policy.json` then `aws kms put-key-policy \
                         {args} --policy-name default --policy file://policy.json`",
                        cli_key_args(primary)
                    ));
                }
            }
            _ => self.not_compared.push("policy"),
        }
    }

    /// The tags, when known on both keys; the fix tags what only the primary has and untags
    /// what only the replica has.
    fn tags(&mut self, replica: &KeyRecord, primary: &KeyRecord) {
        if !(known(primary, "tags") && known(replica, "tags")) {
            self.not_compared.push("tags");
            return;
        }
        if primary.tags == replica.tags {
            return;
        }
        self.differences.push("tags");
        self.evidence.insert(
            "tags".into(),
            json!({"primary": primary.tags, "replica": replica.tags}),
        );
        self.fixes.push(tag_fix(replica, primary, &self.args));
    }

    /// Enabled or disabled, when both keys are one or the other.
    fn enabled(&mut self, replica: &KeyRecord, primary: &KeyRecord) {
        match (enabled_state(primary), enabled_state(replica)) {
            (Some(p), Some(r)) => {
                if p != r {
                    let args = &self.args;
                    self.differences.push("enabled");
                    self.evidence
                        .insert("key_state".into(), json!({"primary": p, "replica": r}));
                    self.fixes.push(if p == "Enabled" {
                        format!("enable the replica: `aws kms enable-key {args}`")
                    } else {
                        format!("disable the replica: `aws kms disable-key {args}`")
                    });
                }
            }
            _ => self.not_compared.push("enabled"),
        }
    }

    /// The finding, if anything differed.
    fn finding(
        self,
        meta: &CheckMeta,
        replica: &KeyRecord,
        primary: &KeyRecord,
    ) -> Option<Finding> {
        let Comparison {
            differences,
            not_compared,
            mut evidence,
            fixes,
            args: _,
        } = self;
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
}

/// The commands that give the replica its primary's tags: tag what the replica lacks or has
/// with another value, untag what only the replica has.
fn tag_fix(replica: &KeyRecord, primary: &KeyRecord, args: &str) -> String {
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
    fix
}
