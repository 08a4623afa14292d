//! Effective access: who can use, administer and delegate each key, and by which path.
//!
//! A pure function of the key (its policy and grants) and, when read, its account's IAM
//! authorization details. For each action class ([`ActionClass`]) it lists every principal
//! that can perform it with the path that grants it: a key-policy statement, a grant, or an IAM
//! policy when the key policy lets the account's IAM policies grant access. Explicit Denies of
//! the key policy and of the identities' IAM policies, and permissions boundaries, take access
//! away; what the analysis cannot decide (conditions, a Deny that may apply, IAM policies not
//! read) stays, as `may`, with the reason. Service control policies and the other controls in
//! [`NOT_EVALUATED`] are out of scope, and every result says so.
//!
//! Modules, each importing only those before it: `classes` (action
//! classes), `scope` (Resource, conditions), `principals`, `candidate`, `deny` → `identity`
//! (the account's IAM) → `evaluate` (candidates to entries) → `key_policy` → `grants`;
//! `inventory` (every key of a report); `predicates` (questions the checks ask) reads only the result types (`crate::model::access`).

mod candidate;
mod classes;
mod deny;
mod evaluate;
mod grants;
mod identity;
mod inventory;
mod key_policy;
mod predicates;
mod principals;
mod scope;

#[cfg(test)]
mod tests;

pub use crate::model::access::{
    AccessCondition, AccessEntry, AccessPath, ActionClass, Certainty, IamPolicyType, KeyAccess,
    Principal,
};
pub use classes::{ADMINISTER_ACTIONS, DELEGATE_ACTIONS, USE_ACTIONS};
pub use evaluate::AccessContext;
pub use identity::AccountIam;
pub use inventory::{access_report, iam_missing_reason};
pub use predicates::{AllKeysStatement, decrypt_on_all_keys};

use crate::model::KeyRecord;
use crate::model::iam::AccountAuthorizationDetails;
use crate::policy::{AnalysisContext, KeyPolicy};

use evaluate::Evaluation;

/// What no result of this analysis takes into account.
pub const NOT_EVALUATED: &[&str] = &[
    "service control policies and resource control policies (AWS Organizations)",
    "session policies, and who may assume each role (role trust policies)",
    "VPC endpoint policies",
    "the IAM policies of accounts other than the key's",
];

/// Effective access to `key`. `iam` is its account's IAM details (`None`: not read, for the
/// reason in `ctx`). Parses the IAM policies each call: for many keys of one account, build an
/// [`AccountIam`] once and call [`effective_access_with`].
pub fn effective_access(
    key: &KeyRecord,
    iam: Option<&AccountAuthorizationDetails>,
    ctx: &AccessContext,
) -> KeyAccess {
    let view = iam.map(AccountIam::new);
    effective_access_with(key, view.as_ref(), ctx)
}

/// [`effective_access`] with the account's IAM policies already parsed.
pub fn effective_access_with(
    key: &KeyRecord,
    iam: Option<&AccountIam>,
    ctx: &AccessContext,
) -> KeyAccess {
    let mut iam_missing = ctx
        .iam_missing_reason
        .clone()
        .unwrap_or_else(|| "not read".to_string());
    let iam = match iam {
        Some(view) if !view.account().is_empty() && view.account() != key.account.as_str() => {
            iam_missing = format!(
                "the IAM details given are those of account {}",
                view.account()
            );
            None
        }
        other => other,
    };
    let mut unknown = Vec::new();
    let policy = match &key.policy {
        None => {
            unknown.push("key policy: not read".to_string());
            None
        }
        Some(document) => match KeyPolicy::parse(&document.to_value()) {
            Ok(policy) => Some(policy),
            Err(err) => {
                unknown.push(format!("key policy: unreadable ({err})"));
                None
            }
        },
    };
    let mut ev = Evaluation {
        key,
        ctx: AnalysisContext {
            key_account: key.account.to_string(),
            trusted_accounts: Default::default(),
            organization_id: ctx.organization_id.clone(),
            organization_accounts: ctx.organization_accounts.clone(),
        },
        iam,
        iam_missing,
        denies: Vec::new(),
        entries: Vec::new(),
        unknown,
    };
    if let Some(policy) = &policy {
        key_policy::evaluate(&mut ev, policy);
    }
    match &key.grants {
        Some(grants) => grants::evaluate(&mut ev, grants),
        None if key.unknown.iter().any(|u| u == "grants") => {
            ev.note_unknown("grants: not read".to_string());
        }
        None => ev.note_unknown("grants: not collected".to_string()),
    }
    let mut entries = std::mem::take(&mut ev.entries);
    entries.sort_by(|a, b| (a.class, &a.principal, &a.path).cmp(&(b.class, &b.principal, &b.path)));
    entries.dedup();
    KeyAccess {
        key_arn: key.arn.clone(),
        account: key.account.to_string(),
        region: key.region.to_string(),
        entries,
        unknown: ev.unknown,
    }
}
