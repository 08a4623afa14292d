//! What POL004 and POL005 share for access that IAM policies alone give: one finding per IAM
//! identity (role, user or group), covering every key it reaches that way, instead of one
//! finding per key.
//!
//! Why: the cause and the fix are the identity's IAM policy, not the keys. Every member account
//! of an organization has `OrganizationAccountAccessRole` with AdministratorAccess, which reaches
//! every key whose policy enables IAM for the account: per key, that was one finding on every key
//! of the estate (340,000 on the 100,000-key benchmark), all with the same fix.
//!
//! A (key, identity) pair goes here when every path of the check's entries for it is an IAM
//! policy. When the key policy or a grant also gives the access, the key's own configuration is
//! part of the cause, and the finding stays on the key, naming every path.
//!
//! The finding is on the identity (`resource`, its ARN, in its own account, in the region IAM
//! findings carry), lists the keys in `keys` (which the compliance summary counts as failed),
//! and says "can" on the keys where every step is certain and "may", with the reason, on the
//! others: never more, never less, than the per-key findings would have said.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{CheckRun, iam};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::access::{AccessEntry, AccessPath, ActionClass, Certainty, Principal};
use crate::model::{Finding, KeyRecord};

/// How many keys a message names before "and N more".
const NAMED_KEYS: usize = 3;

/// How many distinct `may` reasons the evidence keeps: keys with different key policies give
/// different reasons, and an estate has thousands of policies.
const KEPT_REASONS: usize = 10;

/// Whether the entries give the access through IAM policies alone, to an IAM identity.
pub fn only_through_iam(principal: &Principal, entries: &[&AccessEntry]) -> bool {
    matches!(
        principal,
        Principal::Role { .. } | Principal::User { .. } | Principal::Group { .. }
    ) && !entries.is_empty()
        && entries
            .iter()
            .all(|e| matches!(e.path, AccessPath::IamPolicy { .. }))
}

/// One IAM policy statement that gives the access, without the key-policy statement that
/// enabled IAM (which differs from key to key).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct IamStatement<'a> {
    class: ActionClass,
    policy_type: &'static str,
    policy_name: &'a str,
    policy_arn: Option<&'a str>,
    attached_to: &'a str,
    statement: usize,
    sid: Option<&'a str>,
    actions: Vec<&'a str>,
}

impl<'a> IamStatement<'a> {
    fn of(entry: &'a AccessEntry) -> Option<Self> {
        let AccessPath::IamPolicy {
            policy_name,
            policy_arn,
            policy_type,
            attached_to,
            policy_statement,
            policy_sid,
            ..
        } = &entry.path
        else {
            return None;
        };
        Some(IamStatement {
            class: entry.class,
            policy_type: policy_type.as_str(),
            policy_name,
            policy_arn: policy_arn.as_deref(),
            attached_to,
            statement: *policy_statement,
            sid: policy_sid.as_deref(),
            actions: entry.actions.iter().map(|a| a.as_ref()).collect(),
        })
    }

    /// `managed policy "AdministratorAccess" statement[0]`.
    fn label(&self) -> String {
        let statement = match self.sid {
            Some(sid) => format!("statement[{}] {}", self.statement, Value::from(sid)),
            None => format!("statement[{}]", self.statement),
        };
        format!(
            "{} policy {} {statement}",
            self.policy_type,
            Value::from(self.policy_name)
        )
    }

    fn evidence(&self) -> Value {
        json!({
            "class": self.class,
            "policy_type": self.policy_type,
            "policy_name": self.policy_name,
            "policy_arn": self.policy_arn,
            "attached_to": self.attached_to,
            "policy_statement": self.statement,
            "policy_sid": self.sid,
            "actions": self.actions,
        })
    }
}

/// What one identity reaches through IAM alone.
struct Reach<'a> {
    label: &'a str,
    /// The keys, in inventory order, and whether the access is certain on each.
    keys: Vec<(&'a KeyRecord, Certainty)>,
    statements: BTreeSet<IamStatement<'a>>,
    /// Why the access is only `may` on some keys (the first [`KEPT_REASONS`] distinct ones).
    reasons: BTreeSet<&'a str>,
    /// Whether more distinct reasons were left out.
    more_reasons: bool,
}

/// The identities of one check that reach keys through IAM alone; [`ThroughIam::findings`]
/// makes their findings once every key was seen.
#[derive(Default)]
pub struct ThroughIam<'a> {
    by_identity: BTreeMap<&'a Principal, Reach<'a>>,
}

/// What the findings of one check say, filled in by the check.
pub struct Wording {
    /// "can call kms:CreateGrant without kms:GrantIsForAWSResource on"; the "may" form is
    /// made by replacing the leading "can".
    pub can: &'static str,
    /// The remediation, given the identity's label and the statements' labels.
    pub remediation: fn(label: &str, statements: &str) -> String,
}

impl<'a> ThroughIam<'a> {
    /// Records that `principal` has the access on `key` by `entries` (all IAM paths, see
    /// [`only_through_iam`]), `certainty` overall, and why when it is only `may`.
    pub fn add(
        &mut self,
        key: &'a KeyRecord,
        principal: &'a Principal,
        entries: &[&'a AccessEntry],
        certainty: Certainty,
        reason: Option<&'a str>,
    ) {
        let label = entries.first().map_or("", |e| e.principal_label.as_str());
        let reach = self.by_identity.entry(principal).or_insert_with(|| Reach {
            label,
            keys: Vec::new(),
            statements: BTreeSet::new(),
            reasons: BTreeSet::new(),
            more_reasons: false,
        });
        reach.keys.push((key, certainty));
        reach
            .statements
            .extend(entries.iter().filter_map(|e| IamStatement::of(e)));
        if certainty == Certainty::May
            && let Some(reason) = reason
            && !reach.reasons.contains(reason)
        {
            if reach.reasons.len() < KEPT_REASONS {
                reach.reasons.insert(reason);
            } else {
                reach.more_reasons = true;
            }
        }
    }

    /// One finding per identity.
    pub fn findings(self, meta: &CheckMeta, ctx: &CheckRun<'_>, wording: &Wording) -> Vec<Finding> {
        self.by_identity
            .into_iter()
            .map(|(principal, reach)| finding(meta, ctx, wording, principal, reach))
            .collect()
    }
}

fn finding(
    meta: &CheckMeta,
    ctx: &CheckRun<'_>,
    wording: &Wording,
    principal: &Principal,
    reach: Reach<'_>,
) -> Finding {
    let arn = principal.id();
    let account = crate::model::arn::Arn::parse(arn)
        .map(|a| a.account.to_string())
        .filter(|a| !a.is_empty())
        .or_else(|| reach.keys.first().map(|(k, _)| k.account.to_string()))
        .unwrap_or_default();
    let region = iam::finding_region(ctx.targets, &account);
    let total = reach.keys.len();
    let certain = reach
        .keys
        .iter()
        .filter(|(_, c)| *c == Certainty::Yes)
        .count();
    let statements_text = statement_labels(&reach.statements);
    let named = |certainty: Option<Certainty>| -> String {
        let keys: Vec<&KeyRecord> = reach
            .keys
            .iter()
            .filter(|(_, c)| certainty.is_none_or(|want| *c == want))
            .map(|(k, _)| *k)
            .collect();
        let names: Vec<&str> = keys
            .iter()
            .take(NAMED_KEYS)
            .map(|k| k.display_name())
            .collect();
        let more = match keys.len().saturating_sub(NAMED_KEYS) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        format!("{} ({}{more})", plural_keys(keys.len()), names.join(", "))
    };
    let may = wording.can.replacen("can", "may", 1);
    let reason = reach.reasons.first().copied().unwrap_or("");
    let message = if certain == total {
        format!(
            "{} {} {} through IAM policies ({statements_text})",
            reach.label,
            wording.can,
            named(None)
        )
    } else if certain == 0 {
        format!(
            "{} {may} {} through IAM policies ({statements_text}): {reason}",
            reach.label,
            named(None)
        )
    } else {
        format!(
            "{} {} {} through IAM policies ({statements_text}), and {may} {}: {reason}",
            reach.label,
            wording.can,
            named(Some(Certainty::Yes)),
            named(Some(Certainty::May))
        )
    };
    let overall = if certain > 0 {
        Certainty::Yes
    } else {
        Certainty::May
    };
    FindingBuilder::for_resource(meta, &account, &region, arn, message)
        .evidence(json!({
            "principal": principal,
            "certainty": overall,
            "keys": total,
            "certain_keys": certain,
            "statements": reach.statements.iter().map(IamStatement::evidence).collect::<Vec<_>>(),
            "may_reasons": reach.reasons,
            "more_may_reasons": reach.more_reasons,
        }))
        .remediation((wording.remediation)(reach.label, &statements_text))
        .discriminator(format!("principal:{}", principal.describe()))
        .keys(reach.keys.iter().map(|(k, _)| k.arn.clone()).collect())
        .build()
}

/// The statements as a message names them: `managed policy "A" statement[0], …`, or by class
/// when they give more than one (`administer: …; use: …`, POL005).
fn statement_labels(statements: &BTreeSet<IamStatement<'_>>) -> String {
    let of_class = |class: ActionClass| -> String {
        let mut labels: Vec<String> = Vec::new();
        for label in statements
            .iter()
            .filter(|s| s.class == class)
            .map(IamStatement::label)
        {
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        labels.join(", ")
    };
    let classes: BTreeSet<ActionClass> = statements.iter().map(|s| s.class).collect();
    if classes.len() == 1 {
        return classes.first().map(|c| of_class(*c)).unwrap_or_default();
    }
    [
        ActionClass::Administer,
        ActionClass::Use,
        ActionClass::Delegate,
    ]
    .into_iter()
    .filter(|c| classes.contains(c))
    .map(|c| format!("{}: {}", c.as_str(), of_class(c)))
    .collect::<Vec<_>>()
    .join("; ")
}

fn plural_keys(n: usize) -> String {
    if n == 1 {
        "1 key".to_string()
    } else {
        format!("{n} keys")
    }
}
