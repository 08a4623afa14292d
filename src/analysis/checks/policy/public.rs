//! POL001 public-key-policy: an Allow statement lets any principal (`*`, `{"AWS": "*"}`,
//! `NotPrincipal`) use the key with no condition pinning callers to fixed accounts, the
//! organization, an OU, a VPC or endpoint, and no Deny removing that access. One finding per
//! statement, naming its Sid and the analyzer's reason.

use serde_json::json;

use super::{put_policy_commands, statement_discriminator, statement_document, statement_label};
use crate::analysis::checks::CheckRun;
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for key in &ctx.inventory.keys {
        let Some(result) = ctx.policies.analysed(ctx, key) else {
            continue;
        };
        for grant in &result.public {
            let label = statement_label(grant.statement, grant.sid.as_deref());
            findings.push(
                FindingBuilder::for_key(
                    meta,
                    key,
                    format!(
                        "statement {label} of the key policy of {} lets any principal use the key: {}",
                        key.display_name(),
                        grant.reason
                    ),
                )
                .evidence(json!({
                    "statement_index": grant.statement,
                    "sid": grant.sid,
                    "actions": grant.actions,
                    "not_action": grant.not_action,
                    "denied_actions": grant.denied_actions,
                    "reason": grant.reason,
                    "statement": statement_document(key, grant.statement),
                    "deleted_principals": result.deleted_principals,
                }))
                .remediation(format!(
                    "Replace the wildcard principal of statement {label} with the accounts or roles \
                     that need the key, or add a condition that pins callers, such as \
                     `\"StringEquals\": {{\"aws:PrincipalOrgID\": \"o-xxxxxxxxxx\"}}` or \
                     `kms:CallerAccount` with `kms:ViaService`: {}.",
                    put_policy_commands(key)
                ))
                .discriminator(statement_discriminator(grant.statement, grant.sid.as_deref()))
                .build(),
            );
        }
    }
    findings
}
