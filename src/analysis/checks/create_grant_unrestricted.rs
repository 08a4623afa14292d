//! POL004 create-grant-not-limited-to-aws-services (AWS Control Tower CT.KMS.PR.3): a principal
//! that is not an AWS service can call kms:CreateGrant on the key without the condition
//! `kms:GrantIsForAWSResource` true. One finding per (key, principal), naming every path
//! (key-policy statement, grant, IAM policy) that gives it; when IAM policies alone give it, one
//! finding per IAM identity for every key it reaches ([`super::through_iam`]).
//!
//! Built on the key's effective access (`ctx.access`). Customer-managed keys only, not keys
//! pending deletion (DEL001 reports them), and not a key whose policy could not be read (POL003).
//! The key's own account root user is left out: it holds CreateGrant through "Enable IAM User
//! Permissions" on nearly every key; the principals that statement lets IAM policies reach are
//! judged one by one when the account's IAM was read. `may` access is reported as "may", with
//! the reason.

use std::collections::BTreeMap;

use serde_json::json;

use super::through_iam::{ThroughIam, Wording, only_through_iam};
use super::{CheckRun, cli_key_args, evaluated_access, is_own_root, is_pending_deletion};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;
use crate::model::access::{AccessEntry, Certainty, Principal};

const WORDING: Wording = Wording {
    can: "can call kms:CreateGrant without kms:GrantIsForAWSResource on",
    remediation: |label, statements| {
        format!(
            "Add `\"Condition\": {{\"Bool\": {{\"kms:GrantIsForAWSResource\": \"true\"}}}}` to the IAM \
             policy statements that allow kms:CreateGrant to {label} ({statements}), or remove \
             kms:CreateGrant from them: for a managed policy `aws iam create-policy-version \
             --policy-arn <arn> --policy-document file://policy.json --set-as-default`, for an \
             inline one `aws iam put-role-policy` (or put-user-policy, put-group-policy); in \
             Terraform, the `aws_iam_policy` or inline policy document. An AWS managed policy \
             (AdministratorAccess) cannot be edited: attach a narrower policy instead, or \
             suppress the finding with a reason."
        )
    },
};

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut through_iam = ThroughIam::default();
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
            if only_through_iam(principal, &entries) {
                let certainty = if certain {
                    Certainty::Yes
                } else {
                    Certainty::May
                };
                let reason = entries.first().map(|e| e.reason.as_str());
                through_iam.add(key, principal, &entries, certainty, reason);
                continue;
            }
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
    findings.extend(through_iam.findings(meta, ctx, &WORDING));
    findings
}
