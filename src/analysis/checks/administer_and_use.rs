//! POL005 administer-and-use (separation of duties): a principal that is not an AWS service can
//! both administer the key (change its policy, state, rotation, deletion) and use it for
//! cryptographic operations. One finding per (key, principal); when IAM policies alone give both,
//! one finding per IAM identity for every key it reaches ([`super::through_iam`]).
//!
//! Built on the key's effective access (`ctx.access`). Customer-managed keys only, not keys
//! pending deletion, and not a key whose policy could not be read (POL003). The key's own
//! account root user is left out: "Enable IAM User Permissions" gives it both on nearly every
//! key, so counting it would flag every key; who the IAM policies let administer and use the
//! key is judged principal by principal when the account's IAM was read. When either side is
//! only `may` (a condition, a Deny that may apply, IAM not read), the finding says "may" and
//! why, at the same severity: it is never dropped, and never stated as certain.

use serde_json::json;

use super::through_iam::{ThroughIam, Wording, only_through_iam};
use super::{CheckRun, cli_key_args, evaluated_access, is_own_root, is_pending_deletion};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;
use crate::model::access::{AccessEntry, ActionClass, Certainty, KeyAccess, Principal};

/// The principal's entries of one class. Administration granted only with
/// `kms:GrantIsForAWSResource` true (RevokeGrant in AWS's default "Allow attachment of
/// persistent resources" statement for key users) is left out: only an integrated AWS service
/// can exercise it, on the principal's behalf.
fn entries<'a>(
    access: &'a KeyAccess,
    class: ActionClass,
    principal: &Principal,
) -> Vec<&'a AccessEntry> {
    access
        .of_class(class)
        .filter(|e| &e.principal == principal)
        .filter(|e| class != ActionClass::Administer || !only_for_aws_resources(e))
        .collect()
}

fn only_for_aws_resources(entry: &AccessEntry) -> bool {
    entry.conditions.iter().any(|c| {
        c.key.eq_ignore_ascii_case("kms:GrantIsForAWSResource")
            && c.operator.eq_ignore_ascii_case("Bool")
            && c.values.iter().all(|v| v.eq_ignore_ascii_case("true"))
    })
}

/// The weaker of the best certainty of each side.
fn certainty(admin: &[&AccessEntry], usage: &[&AccessEntry]) -> Option<Certainty> {
    let best = |side: &[&AccessEntry]| side.iter().map(|e| e.certainty).min();
    Some(best(admin)?.max(best(usage)?))
}

fn describe(entries: &[&AccessEntry]) -> serde_json::Value {
    json!(
        entries
            .iter()
            .map(|e| json!({
                "path": e.path,
                "path_label": e.path_label,
                "actions": e.actions,
                "certainty": e.certainty,
                "reason": e.reason,
            }))
            .collect::<Vec<_>>()
    )
}

const WORDING: Wording = Wording {
    can: "can both administer and use",
    remediation: |label, statements| {
        format!(
            "Give administration and use to different principals: remove the key administration \
             actions (kms:PutKeyPolicy, kms:ScheduleKeyDeletion, kms:DisableKey, …) or the \
             cryptographic ones (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey*, …) from the IAM \
             policies of {label} ({statements}), or narrow their Resource to the keys it should \
             hold each role on: for a managed policy `aws iam create-policy-version --policy-arn \
             <arn> --policy-document file://policy.json --set-as-default`, for an inline one `aws \
             iam put-role-policy` (or put-user-policy, put-group-policy); in Terraform, the \
             `aws_iam_policy` or inline policy document. If the combination is intended (a \
             break-glass role), suppress the finding with a reason."
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
        for (principal, _) in access.administer_and_use() {
            let admin = entries(access, ActionClass::Administer, principal);
            let usage = entries(access, ActionClass::Use, principal);
            if admin.iter().chain(&usage).any(|e| is_own_root(e, key)) {
                continue;
            }
            let Some(certainty) = certainty(&admin, &usage) else {
                continue;
            };
            let both: Vec<&AccessEntry> = admin.iter().chain(&usage).copied().collect();
            if only_through_iam(principal, &both) {
                through_iam.add(key, principal, &both, certainty, may_reason(&admin, &usage));
                continue;
            }
            let label = &admin[0].principal_label;
            let message = match certainty {
                Certainty::Yes => format!(
                    "{label} can both administer and use key {} (administer: {}; use: {})",
                    key.display_name(),
                    admin
                        .iter()
                        .map(|e| e.path_label.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    usage
                        .iter()
                        .map(|e| e.path_label.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Certainty::May => {
                    let why = may_reason(&admin, &usage).unwrap_or("");
                    format!(
                        "{label} may both administer and use key {}: {why}",
                        key.display_name()
                    )
                }
            };
            findings.push(
                FindingBuilder::for_key(meta, key, message)
                    .evidence(json!({
                        "principal": principal,
                        "certainty": certainty,
                        "administer": describe(&admin),
                        "use": describe(&usage),
                    }))
                    .remediation(format!(
                        "Give administration and use to different principals: remove the key \
                         administration actions (kms:PutKeyPolicy, kms:ScheduleKeyDeletion, \
                         kms:DisableKey, …) or the cryptographic ones (kms:Decrypt, kms:Encrypt, \
                         kms:GenerateDataKey*, …) from {label} in the key policy or its IAM policies, \
                         then `aws kms put-key-policy {} --policy-name default --policy \
                         file://policy.json`; in Terraform, the `policy` of the `aws_kms_key`. If the \
                         combination is intended (a break-glass role), suppress the finding with a reason.",
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

/// Why the combination is only `may`: the reason of the side that is only `may`.
fn may_reason<'a>(admin: &[&'a AccessEntry], usage: &[&'a AccessEntry]) -> Option<&'a str> {
    [admin, usage]
        .into_iter()
        .find(|side| side.iter().all(|e| e.certainty == Certainty::May))
        .and_then(|side| side.first())
        .map(|e| e.reason.as_str())
}
