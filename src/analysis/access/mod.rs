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
use crate::model::access::Shared;
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
    let analysis = analysis_context(key.account.as_str(), ctx);
    effective_access_in(key, iam, ctx, &analysis, &mut Shares::default())
}

/// What the keys evaluated one after the other share: each distinct key policy is parsed once,
/// and equal entries are one allocation.
#[derive(Default)]
pub(crate) struct Shares<'k> {
    /// Parsed key policies by their text, with each statement's covered actions (the error
    /// message when one does not parse).
    policies: std::collections::HashMap<&'k str, Result<Parsed, String>>,
    entries: crate::model::access::Interner<AccessEntry>,
    /// The lines of `KeyAccess::unknown`, the same for many keys.
    unknown: crate::model::access::Interner<String>,
    /// The classified actions of each action pattern.
    patterns: std::collections::HashMap<String, classes::ActionSet>,
    /// What a key policy gives (its entries, and the unknowns it notes) in one account, by
    /// which statements apply to the key: the same for every key with that policy there, as
    /// long as no IAM policy is evaluated (IAM statements name resources of their own).
    key_policy_results: std::collections::HashMap<KeyPolicyCase<'k>, KeyPolicyResult>,
}

/// (account, policy text, whether each statement applies to the key).
type KeyPolicyCase<'k> = (&'k str, &'k str, Vec<scope::Applies>);
type KeyPolicyResult = (Vec<Shared<AccessEntry>>, Vec<String>);

/// A parsed key policy and the actions each of its statements covers.
type Parsed = (KeyPolicy, Vec<classes::ActionSet>);

/// The policy analyzer's context for the keys of `account`: built once per account, not once
/// per key (it holds the organization's account set).
pub(crate) fn analysis_context(account: &str, ctx: &AccessContext) -> AnalysisContext {
    AnalysisContext {
        key_account: account.to_string(),
        trusted_accounts: Default::default(),
        organization_id: ctx.organization_id.clone(),
        organization_accounts: ctx.organization_accounts.clone(),
    }
}

/// [`effective_access_with`] with the analyzer context of the key's account
/// ([`analysis_context`]) already built.
pub(crate) fn effective_access_in<'k>(
    key: &'k KeyRecord,
    iam: Option<&AccountIam>,
    ctx: &AccessContext,
    analysis: &AnalysisContext,
    shares: &mut Shares<'k>,
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
    let text = key.policy.as_ref().map(|document| document.json());
    let policy = match &key.policy {
        None => {
            unknown.push("key policy: not read".to_string());
            None
        }
        Some(document) => match shares.policies.entry(document.json()).or_insert_with(|| {
            KeyPolicy::parse(&document.to_value())
                .map(|policy| {
                    let covered = key_policy::statement_actions(&policy, &mut shares.patterns);
                    (policy, covered)
                })
                .map_err(|e| e.to_string())
        }) {
            Ok((policy, covered)) => Some((&*policy, covered.as_slice())),
            Err(err) => {
                unknown.push(format!("key policy: unreadable ({err})"));
                None
            }
        },
    };
    let mut ev = Evaluation {
        key,
        ctx: analysis,
        iam,
        iam_missing,
        denies: Vec::new(),
        entries: Vec::new(),
        unknown,
    };
    // The key policy's entries, shared; `ev.entries` then holds only those still to share.
    let mut kept: Vec<Shared<AccessEntry>> = Vec::new();
    match (policy, text) {
        (Some((policy, covered)), Some(text)) if ev.iam.is_none() => {
            let case = (
                key.account.as_str(),
                text,
                key_policy::applies_to(policy, &key.arn),
            );
            match shares.key_policy_results.get(&case) {
                Some((entries, unknown)) => {
                    kept = entries.clone();
                    ev.unknown = unknown.clone();
                    key_policy::denies(&mut ev, policy, covered);
                }
                None => {
                    key_policy::evaluate(&mut ev, policy, covered);
                    let found = std::mem::take(&mut ev.entries);
                    kept = Vec::with_capacity(found.len());
                    kept.extend(found.into_iter().map(|entry| shares.entries.intern(entry)));
                    shares
                        .key_policy_results
                        .insert(case, (kept.clone(), ev.unknown.clone()));
                }
            }
        }
        (Some((policy, covered)), _) => key_policy::evaluate(&mut ev, policy, covered),
        (None, _) => {}
    }
    match &key.grants {
        Some(grants) => grants::evaluate(&mut ev, grants),
        None if key.unknown.iter().any(|u| u == "grants") => {
            ev.note_unknown("grants: not read".to_string());
        }
        None => ev.note_unknown("grants: not collected".to_string()),
    }
    // In the order they were found (key policy, then grants), sorted (stably) and without
    // repeats. Not `into_iter().map().collect()` on the entries: that would keep their (much
    // larger) buffer behind every key's list of shared entries.
    let entries = std::mem::take(&mut ev.entries);
    let mut shared = Vec::with_capacity(kept.len() + entries.len());
    shared.extend(kept);
    shared.extend(
        entries
            .into_iter()
            .map(|entry| shares.entries.intern(entry)),
    );
    shared.sort_by(|a, b| (a.class, &a.principal, &a.path).cmp(&(b.class, &b.principal, &b.path)));
    shared.dedup_by(|a, b| **a == **b);
    shared.shrink_to_fit();
    KeyAccess {
        key_arn: key.arn.clone(),
        account: key.account.clone(),
        region: key.region.clone(),
        entries: shared,
        unknown: ev
            .unknown
            .into_iter()
            .map(|text| shares.unknown.intern(text))
            .collect(),
    }
}
