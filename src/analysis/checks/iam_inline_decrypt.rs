//! IAM002 inline-policy-decrypt-all-keys (Security Hub FSBP KMS.2): an inline policy of a
//! user, group or role allows kms:Decrypt or kms:ReEncryptFrom on all KMS keys. One finding
//! per (identity, inline policy).
//!
//! Needs: the account's IAM authorization details (`inventory.iam`); an account whose IAM was
//! not read is not evaluated, nor is an inline policy that does not parse (logged). The
//! finding's resource is the identity's ARN (KMS.2 reports the user, group or role); the
//! fingerprint is the account, that ARN and the policy's name.

use serde_json::json;

use super::{CheckRun, iam};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for details in ctx.inventory.iam.iter().flatten() {
        let region = iam::finding_region(ctx.targets, &details.account);
        for inline in iam::inline_policies(details) {
            let statements = match iam::offending(Some(&inline.policy.document)) {
                Ok(statements) => statements,
                Err(err) => {
                    tracing::warn!(
                        "IAM002: inline policy {} of {} not evaluated: {err}",
                        inline.policy.name,
                        inline.arn
                    );
                    continue;
                }
            };
            if statements.is_empty() {
                continue;
            }
            let (evidence, summary) = iam::describe(&statements);
            let command = match inline.kind {
                "user" => "put-user-policy --user-name",
                "group" => "put-group-policy --group-name",
                _ => "put-role-policy --role-name",
            };
            findings.push(
                FindingBuilder::for_resource(
                    meta,
                    &details.account,
                    &region,
                    inline.arn,
                    format!(
                        "inline policy {} of {} {} allows {summary}",
                        inline.policy.name, inline.kind, inline.name
                    ),
                )
                .evidence(json!({
                    "policy_name": inline.policy.name,
                    "policy_type": "inline",
                    "identity_type": inline.kind,
                    "identity_name": inline.name,
                    "identity_arn": inline.arn,
                    "statements": evidence,
                }))
                .remediation(format!(
                    "Limit the inline policy's kms:Decrypt and kms:ReEncryptFrom to the keys it needs \
                     (their ARNs in `Resource`, not `*`): `aws iam {command} {} --policy-name {} \
                     --policy-document file://policy.json`; in Terraform, the `policy` of its \
                     `aws_iam_{}_policy`.",
                    inline.name, inline.policy.name, inline.kind
                ))
                .discriminator(format!("inline:{}", inline.policy.name))
                .build(),
            );
        }
    }
    findings
}
