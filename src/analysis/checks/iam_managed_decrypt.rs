//! IAM001 managed-policy-decrypt-all-keys (Security Hub FSBP KMS.1): a customer-managed IAM
//! policy allows kms:Decrypt or kms:ReEncryptFrom on all KMS keys. One finding per policy,
//! attached or not (as KMS.1 evaluates them); AWS-managed policies are AWS's and not evaluated.
//!
//! Needs: the account's IAM authorization details (`inventory.iam`); an account whose IAM was
//! not read is not evaluated. A policy whose default version is missing or does not parse is
//! not evaluated either (logged). The finding is about the policy: no key ARN, the policy ARN
//! as its resource; the fingerprint is the account, the policy ARN and its name.

use serde_json::json;

use super::{CheckRun, iam};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for details in ctx.inventory.iam.iter().flatten() {
        let region = iam::finding_region(ctx.targets, &details.account);
        for policy in iam::customer_managed(details) {
            let statements = match iam::offending(policy.document.as_deref()) {
                Ok(statements) => statements,
                Err(err) => {
                    tracing::warn!("IAM001: policy {} not evaluated: {err}", policy.arn);
                    continue;
                }
            };
            if statements.is_empty() {
                continue;
            }
            let (evidence, summary) = iam::describe(&statements);
            let attached = if policy.attachment_count == 0 {
                " (not attached to any identity yet)".to_string()
            } else {
                String::new()
            };
            findings.push(
                FindingBuilder::for_resource(
                    meta,
                    &details.account,
                    &region,
                    &policy.arn,
                    format!(
                        "customer-managed IAM policy {}{attached} allows {summary}",
                        policy.name
                    ),
                )
                .evidence(json!({
                    "policy_name": policy.name,
                    "policy_arn": policy.arn,
                    "policy_type": "managed",
                    "default_version_id": policy.default_version_id,
                    "attachment_count": policy.attachment_count,
                    "statements": evidence,
                }))
                .remediation(format!(
                    "Limit the policy's kms:Decrypt and kms:ReEncryptFrom to the keys it needs (their \
                     ARNs in `Resource`, not `*`), then make that the default version: `aws iam \
                     create-policy-version --policy-arn {} --policy-document file://policy.json \
                     --set-as-default`; in Terraform, the `policy` of its `aws_iam_policy`.",
                    policy.arn
                ))
                .discriminator(format!("managed:{}", policy.name))
                .build(),
            );
        }
    }
    findings
}
