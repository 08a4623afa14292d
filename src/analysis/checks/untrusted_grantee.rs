//! GRT001 untrusted-grantee: a grant whose grantee or retiring principal belongs to an account
//! other than the key's own and not in `trusted_accounts`. One finding per grant.
//!
//! Principals are read as AWS principals (account ids, `:root`, role, user and assumed-role
//! ARNs). AWS service principals (`rds.amazonaws.com`) belong to no account and are not
//! reported. Needs: the grants; not evaluated when ListGrants failed (`grants` unknown) or was
//! not called (AWS-managed keys).

use serde_json::json;

use super::{CheckRun, cli_key_args};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::{Finding, Grant, KeyRecord};
use crate::policy::AwsPrincipal;

/// The untrusted principals of a grant: (role, principal, account).
fn untrusted<'g>(
    key: &KeyRecord,
    grant: &'g Grant,
    ctx: &CheckRun<'_>,
) -> Vec<(&'static str, &'g str, String)> {
    [
        ("grantee_principal", grant.grantee_principal.as_deref()),
        ("retiring_principal", grant.retiring_principal.as_deref()),
    ]
    .into_iter()
    .filter_map(|(role, principal)| {
        let principal = principal?;
        let parsed = AwsPrincipal::parse(principal);
        let account = parsed.account()?;
        (account != key.account && !ctx.config.trusted_accounts.contains(account))
            .then(|| (role, principal, account.to_string()))
    })
    .collect()
}

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for key in &ctx.inventory.keys {
        for grant in key.grants.iter().flatten() {
            let outside = untrusted(key, grant, ctx);
            if outside.is_empty() {
                continue;
            }
            let who: Vec<String> = outside
                .iter()
                .map(|(role, principal, account)| {
                    format!(
                        "{} {principal} (account {account})",
                        role.replace('_', " ").replacen("principal", "", 1).trim()
                    )
                })
                .collect();
            let accounts: std::collections::BTreeSet<&str> =
                outside.iter().map(|(_, _, a)| a.as_str()).collect();
            findings.push(
                FindingBuilder::for_key(
                    meta,
                    key,
                    format!(
                        "grant {} on key {} reaches outside the trusted accounts: {}",
                        grant.name.as_deref().unwrap_or(&grant.grant_id),
                        key.display_name(),
                        who.join(", ")
                    ),
                )
                .evidence(json!({
                    "grant_id": grant.grant_id,
                    "grant_name": grant.name,
                    "grantee_principal": grant.grantee_principal,
                    "retiring_principal": grant.retiring_principal,
                    "issuing_account": grant.issuing_account,
                    "operations": grant.operations,
                    "constraints": grant.constraints,
                    "untrusted_accounts": accounts,
                    "trusted_accounts": ctx.config.trusted_accounts,
                }))
                .remediation(format!(
                    "If the grant is not needed, revoke it: `aws kms revoke-grant {} --grant-id {}`; \
                     if account{} {} {} legitimate, add {} to `trusted_accounts` in the kms-audit config.",
                    cli_key_args(key),
                    grant.grant_id,
                    if accounts.len() == 1 { "" } else { "s" },
                    accounts.iter().copied().collect::<Vec<_>>().join(", "),
                    if accounts.len() == 1 { "is" } else { "are" },
                    if accounts.len() == 1 { "it" } else { "them" },
                ))
                .discriminator(format!("grant:{}", grant.grant_id))
                .build(),
            );
        }
    }
    findings
}
