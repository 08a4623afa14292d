//! POL002 untrusted-cross-account: the key policy gives an account other than the key's own
//! access to the key, and that account is not in `trusted_accounts` and (when the organization's
//! accounts are known) not a member of the organization. Also fires for a statement opened to
//! another organization (`aws:PrincipalOrgID` naming an organization that is not the auditor's).
//!
//! One finding per untrusted account (or organization) per key, listing every statement that
//! reaches it. Principals given as IAM unique ids (deleted principals) grant nothing and are
//! only listed in evidence.

use std::collections::BTreeMap;

use serde_json::json;

use super::{put_policy_commands, statement_document, statement_label};
use crate::analysis::checks::CheckRun;
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;
use crate::policy::{CrossAccountGrant, GrantScope};

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for key in &ctx.inventory.keys {
        let Some(result) = ctx.policies.analysed(ctx, key) else {
            continue;
        };
        let mut by_account: BTreeMap<(&str, bool), Vec<&CrossAccountGrant>> = BTreeMap::new();
        for grant in result.untrusted_cross_account() {
            let is_org = grant.scope == GrantScope::Organization;
            by_account
                .entry((grant.account.as_str(), is_org))
                .or_default()
                .push(grant);
        }
        for ((account, is_org), grants) in by_account {
            let subject = if is_org {
                format!("every account of organization {account}")
            } else {
                format!("account {account}")
            };
            let statements: Vec<String> = grants
                .iter()
                .map(|g| statement_label(g.statement, g.sid.as_deref()))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let first_reason = grants.first().map(|g| g.reason.as_str()).unwrap_or("");
            let evidence_grants: Vec<serde_json::Value> = grants
                .iter()
                .map(|g| {
                    json!({
                        "statement_index": g.statement,
                        "sid": g.sid,
                        "principal": g.principal,
                        "actions": g.actions,
                        "not_action": g.not_action,
                        "denied_actions": g.denied_actions,
                        "reason": g.reason,
                        "statement": statement_document(key, g.statement),
                    })
                })
                .collect();
            findings.push(
                FindingBuilder::for_key(
                    meta,
                    key,
                    format!(
                        "the key policy of {} gives {subject} access to the key (statement{} {}): {first_reason}",
                        key.display_name(),
                        if statements.len() == 1 { "" } else { "s" },
                        statements.join(", ")
                    ),
                )
                .evidence(json!({
                    "account": if is_org { None } else { Some(account) },
                    "organization": if is_org { Some(account) } else { None },
                    "grants": evidence_grants,
                    "trusted_accounts": ctx.config.trusted_accounts,
                    "organization_id": ctx.organization_id,
                    "organization_membership_known": ctx.organization_accounts.is_some(),
                    "deleted_principals": result.deleted_principals,
                }))
                .remediation(format!(
                    "Remove {subject} from statement{} {} if it should not use the key: {}. If it is a \
                     legitimate partner, add it to `trusted_accounts` in the kms-audit config.",
                    if statements.len() == 1 { "" } else { "s" },
                    statements.join(", "),
                    put_policy_commands(key)
                ))
                .discriminator(format!(
                    "{}:{account}",
                    if is_org { "organization" } else { "account" }
                ))
                .build(),
            );
        }
    }
    findings
}
