//! What IAM001 and IAM002 share: the accounts whose IAM was read, the region their findings
//! carry, the policies in scope of each check, and the parsed statements that allow
//! decryption on all keys.
//!
//! IAM is global, but a finding has a region (ASFF findings are imported into one Region's
//! Security Hub): an IAM finding carries `us-east-1` when the scan covered it in the account,
//! else the account's first scanned region (in name order), else `us-east-1`.
//!
//! An account whose IAM was not read (`--no-iam`, or the read failed and left a coverage gap)
//! is not evaluated: no finding, and the compliance summary shows its controls as not
//! evaluated ([`scope`]).

use serde_json::{Value, json};

use crate::analysis::access::{AllKeysStatement, decrypt_on_all_keys};
use crate::model::iam::{AccountAuthorizationDetails, InlinePolicy, ManagedPolicy};
use crate::model::{Inventory, Target, TargetStatus};
use crate::policy::IdentityPolicy;

/// The region IAM findings of `account` carry (see the module comment).
pub fn finding_region(targets: &[Target], account: &str) -> String {
    const HOME: &str = "us-east-1";
    let mut scanned: Vec<&str> = targets
        .iter()
        .filter(|t| t.account == account && t.status == TargetStatus::Scanned)
        .map(|t| t.region.as_str())
        .collect();
    scanned.sort_unstable();
    if scanned.is_empty() || scanned.contains(&HOME) {
        HOME.to_string()
    } else {
        scanned[0].to_string()
    }
}

/// The customer-managed policies IAM001 evaluates: every one the account has, attached or
/// not (FSBP KMS.1 evaluates unattached policies too: attaching one is a single call).
pub fn customer_managed(
    details: &AccountAuthorizationDetails,
) -> impl Iterator<Item = &ManagedPolicy> {
    details.policies.iter().filter(|p| !p.is_aws_managed())
}

/// An inline policy with the identity it is embedded in.
pub struct Inline<'a> {
    /// `user`, `group` or `role`.
    pub kind: &'static str,
    pub name: &'a str,
    pub arn: &'a str,
    pub policy: &'a InlinePolicy,
}

/// The inline policies IAM002 evaluates: those of every user, group and role.
pub fn inline_policies(details: &AccountAuthorizationDetails) -> Vec<Inline<'_>> {
    details
        .identities()
        .flat_map(|identity| {
            identity.inline_policies.iter().map(move |policy| Inline {
                kind: identity.kind,
                name: identity.name,
                arn: identity.arn,
                policy,
            })
        })
        .collect()
}

/// The statements of a policy document that allow kms:Decrypt or kms:ReEncryptFrom on all
/// keys; `Err` when the document is missing or does not parse (the policy is not evaluated).
pub fn offending(document: Option<&str>) -> Result<Vec<AllKeysStatement>, String> {
    let document = document.ok_or_else(|| "IAM listed no default version".to_string())?;
    let policy = IdentityPolicy::from_json_str(document).map_err(|e| e.to_string())?;
    Ok(decrypt_on_all_keys(&policy))
}

/// The evidence and the message's summary of the offending statements.
pub fn describe(statements: &[AllKeysStatement]) -> (Value, String) {
    let names: Vec<String> = statements
        .iter()
        .map(|s| match &s.sid {
            Some(sid) => format!("statement {}", Value::String(sid.clone())),
            None => format!("statement[{}]", s.statement),
        })
        .collect();
    let mut actions: Vec<&str> = statements
        .iter()
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    actions.sort_unstable();
    actions.dedup();
    let conditional = statements.iter().any(|s| s.conditional);
    let summary = format!(
        "{} on all KMS keys ({}{})",
        actions.join(" and "),
        names.join(", "),
        if conditional {
            "; a condition may narrow it at request time, which KMS.1/KMS.2 do not take into account"
        } else {
            ""
        }
    );
    (json!(statements), summary)
}

/// How far an IAM check evaluated one account: the compliance summary's items for KMS.1 and
/// KMS.2 are the account's IAM policies rather than its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Whether the account's IAM was read; `false`: nothing in it was evaluated.
    pub read: bool,
    /// The policies in scope of the check (customer-managed for IAM001, inline for IAM002).
    pub policies: u64,
    /// Of those, the ones whose document is missing or could not be parsed.
    pub unevaluated: u64,
}

/// The scope of IAM check `check_id` in `account`; `None` when `check_id` is not an IAM check.
pub fn scope(inventory: &Inventory, account: &str, check_id: &str) -> Option<Scope> {
    let documents: Vec<Option<&str>> = match inventory.iam_of(account) {
        None if matches!(check_id, "IAM001" | "IAM002") => {
            return Some(Scope {
                read: false,
                policies: 0,
                unevaluated: 0,
            });
        }
        None => return None,
        Some(details) => match check_id {
            "IAM001" => customer_managed(details)
                .map(|p| p.document.as_deref())
                .collect(),
            "IAM002" => inline_policies(details)
                .iter()
                .map(|i| Some(i.policy.document.as_str()))
                .collect(),
            _ => return None,
        },
    };
    Some(Scope {
        read: true,
        policies: documents.len() as u64,
        unevaluated: documents
            .into_iter()
            .filter(|d| offending(*d).is_err())
            .count() as u64,
    })
}
