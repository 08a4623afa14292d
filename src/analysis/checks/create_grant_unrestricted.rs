//! POL004 create-grant-not-limited-to-aws-services (AWS Control Tower CT.KMS.PR.3): a principal
//! that is not an AWS service can call kms:CreateGrant on the key without the condition
//! `kms:GrantIsForAWSResource` true. One finding per (key, principal), naming every path
//! (key-policy statement, grant, IAM policy) that gives it.
//!
//! Built on the key's effective access (`ctx.access`). Customer-managed keys only, not keys
//! pending deletion (DEL001 reports them), and not a key whose policy could not be read (POL003).
//! The key's own account root user is left out: it holds CreateGrant through "Enable IAM User
//! Permissions" on nearly every key; the principals that statement lets IAM policies reach are
//! judged one by one when the account's IAM was read. `may` access is reported as "may", with
//! the reason.

use std::collections::BTreeMap;

use serde_json::json;

use super::{CheckRun, cli_key_args, evaluated_access, is_own_root, is_pending_deletion};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;
use crate::model::access::{AccessEntry, Certainty, Principal};

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (key, access) in evaluated_access(ctx) {
        if is_pending_deletion(key) {
            continue;
        }
        let mut by_principal: BTreeMap<&Principal, Vec<&AccessEntry>> = BTreeMap::new();
        for entry in access.create_grant_not_limited_to_aws_resources() {
            if !is_own_root(entry, key) {
                by_principal
                    .entry(&entry.principal)
                    .or_default()
                    .push(entry);
            }
        }
        for (principal, entries) in by_principal {
            let certain = entries.iter().any(|e| e.certainty == Certainty::Yes);
            let paths: Vec<&str> = entries.iter().map(|e| e.path_label.as_str()).collect();
            let label = &entries[0].principal_label;
            let message = if certain {
                format!(
                    "{label} can call kms:CreateGrant on key {} without kms:GrantIsForAWSResource ({})",
                    key.display_name(),
                    paths.join(", ")
                )
            } else {
                format!(
                    "{label} may call kms:CreateGrant on key {} without kms:GrantIsForAWSResource: {}",
                    key.display_name(),
                    entries[0].reason
                )
            };
            findings.push(
                FindingBuilder::for_key(meta, key, message)
                    .evidence(json!({
                        "principal": principal,
                        "certainty": if certain { Certainty::Yes } else { Certainty::May },
                        "paths": entries.iter().map(|e| json!({
                            "path": e.path,
                            "path_label": e.path_label,
                            "actions": e.actions,
                            "conditions": e.conditions,
                            "certainty": e.certainty,
                            "reason": e.reason,
                        })).collect::<Vec<_>>(),
                    }))
                    .remediation(format!(
                        "Add `\"Condition\": {{\"Bool\": {{\"kms:GrantIsForAWSResource\": \"true\"}}}}` to \
                         the key-policy statement (or IAM policy) that allows kms:CreateGrant to {label}, \
                         or remove kms:CreateGrant from it, then `aws kms put-key-policy {} \
                         --policy-name default --policy file://policy.json`; in Terraform, the \
                         `policy` of the `aws_kms_key`.",
                        cli_key_args(key)
                    ))
                    .discriminator(format!("principal:{}", principal.describe()))
                    .build(),
            );
        }
    }
    findings
}
