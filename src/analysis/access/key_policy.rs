//! The key policy's Allow statements as candidates: who each one names (narrowed by the
//! conditions that pin the caller), and the delegation to IAM when it names the key's own
//! account.

use std::collections::BTreeSet;

use crate::policy::{
    AwsPrincipal, BaseOperator, Condition, KeyPolicy, PinTarget, PrincipalClause, PrincipalSet,
    Principals, SetQualifier, Statement, allow_pin, quote,
};

use super::candidate::Candidate;
use super::classes::{ActionSet, select};
use super::deny::DenyRule;
use super::evaluate::Evaluation;
use super::identity::Delegation;
use super::principals::{account_of_arn, of_arn};
use super::scope::{Applies, access_condition, resource_applies};
use crate::model::access::{AccessCondition, AccessPath, Principal};

/// `statement[2] "Sid"`, or `statement[2]` without Sid.
pub(crate) fn label(stmt: &Statement) -> String {
    match &stmt.sid {
        Some(sid) => format!("statement[{}] {}", stmt.index, quote(sid)),
        None => format!("statement[{}]", stmt.index),
    }
}

/// The Deny statements, then every Allow statement, of the key policy.
///
/// `covered` is [`statement_actions`] of the policy: worked out once per policy, not per key.
pub(crate) fn evaluate<'a>(ev: &mut Evaluation<'a>, policy: &'a KeyPolicy, covered: &[ActionSet]) {
    denies(ev, policy, covered);
    for (stmt, actions) in policy.statements.iter().zip(covered) {
        if stmt.effect == crate::policy::Effect::Allow {
            allow(ev, stmt, actions);
        }
    }
}

/// The key policy's Deny statements, which also apply to the key's grants.
pub(crate) fn denies<'a>(ev: &mut Evaluation<'a>, policy: &'a KeyPolicy, covered: &[ActionSet]) {
    for (stmt, actions) in policy.statements.iter().zip(covered) {
        if stmt.effect == crate::policy::Effect::Deny {
            ev.denies
                .push(DenyRule::key_policy_covering(stmt, label(stmt), *actions));
        }
    }
}

/// Whether each statement applies to the key (its Resource / NotResource): with the account
/// and the policy, all the key-policy evaluation takes from the key when IAM is not evaluated.
pub(crate) fn applies_to(policy: &KeyPolicy, key_arn: &str) -> Vec<Applies> {
    policy
        .statements
        .iter()
        .map(|stmt| resource_applies(&stmt.resources, key_arn))
        .collect()
}

/// The classified actions each statement's Action / NotAction covers, in statement order.
/// `matched` remembers the classified actions of each action pattern, which policies stamped
/// from one template share.
pub(crate) fn statement_actions(
    policy: &KeyPolicy,
    matched: &mut std::collections::HashMap<String, ActionSet>,
) -> Vec<ActionSet> {
    policy
        .statements
        .iter()
        .map(|stmt| {
            let mut named = ActionSet::new();
            for pattern in stmt.actions.patterns() {
                let of_pattern = matched.entry(pattern.clone()).or_insert_with(|| {
                    select(|a| crate::policy::ActionClause::Action(vec![pattern.clone()]).covers(a))
                });
                named.extend(of_pattern.iter().copied());
            }
            if stmt.actions.is_not_action() {
                select(|a| !named.contains(a))
            } else {
                named
            }
        })
        .collect()
}

/// What every candidate of one Allow statement shares.
struct Base<'s> {
    stmt: &'s Statement,
    label: String,
    actions: ActionSet,
    notes: Vec<String>,
}

impl Base<'_> {
    fn path(&self) -> (AccessPath, String) {
        (
            AccessPath::KeyPolicy {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
            },
            format!("key policy {}", self.label),
        )
    }

    /// A candidate for `principal`, the conditions in `consumed` being those that narrowed the
    /// statement to it (they restrict it, but leave nothing undecided).
    fn candidate(
        &self,
        principal: Principal,
        consumed: &BTreeSet<usize>,
        grant: String,
    ) -> Candidate {
        let (path, path_label) = self.path();
        let mut cand = Candidate::new(principal, path, path_label, self.actions, grant);
        cand.conditions = self.stmt.conditions.iter().map(access_condition).collect();
        cand.notes = self.notes.clone();
        let open: Vec<AccessCondition> = self
            .stmt
            .conditions
            .iter()
            .enumerate()
            .filter(|(i, _)| !consumed.contains(i))
            .map(|(_, c)| access_condition(c))
            .collect();
        if !open.is_empty() {
            cand.notes.push(format!(
                "only when {}: conditions are not evaluated",
                open.iter()
                    .map(AccessCondition::describe)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
        }
        cand
    }
}

fn allow(ev: &mut Evaluation<'_>, stmt: &Statement, actions: &ActionSet) {
    if actions.is_empty() {
        return;
    }
    let actions = *actions;
    let mut notes = Vec::new();
    match resource_applies(&stmt.resources, &ev.key.arn) {
        Applies::No => return,
        Applies::May(why) => notes.push(format!("the statement may not apply to the key: {why}")),
        Applies::Yes => {}
    }
    let base = Base {
        stmt,
        label: label(stmt),
        actions,
        notes,
    };
    match &stmt.principal {
        PrincipalClause::Principal(Principals::Set(set))
            if !set.aws.iter().any(AwsPrincipal::is_everyone) =>
        {
            explicit(ev, &base, set);
        }
        _ => open(ev, &base),
    }
}

/// An Allow for any principal (`"*"`, `{"AWS": "*"}`, or NotPrincipal), narrowed by the
/// conditions that pin the caller.
fn open(ev: &mut Evaluation<'_>, base: &Base<'_>) {
    let narrowed = narrow(&base.stmt.conditions, ev);
    for (principal, label) in narrowed.principals {
        let grant = format!("key policy {} allows {}", base.label, principal.describe());
        let mut cand = base.candidate(principal, &narrowed.consumed, grant);
        cand.label = label;
        same_account_identity(ev, &mut cand);
        ev.finish(cand);
    }
}

/// Who an Allow for any principal reaches once its conditions are applied.
struct Narrowed {
    principals: Vec<(Principal, Option<String>)>,
    /// The conditions that narrowed it.
    consumed: BTreeSet<usize>,
}

/// The most specific caller pin wins: the service called through (with the caller's
/// account), exact principal ARNs, accounts, organization paths, organizations. A pin that
/// names nobody (`aws:PrincipalAccount StringEquals "*"`) leaves no principal at all.
fn narrow(conditions: &[Condition], ev: &Evaluation<'_>) -> Narrowed {
    let mut found = Pins::default();
    for (i, c) in conditions.iter().enumerate() {
        found.add(i, c, ev);
    }
    let key_account = ev.key.account.as_str();
    let mut consumed = BTreeSet::new();
    let principals: Vec<(Principal, Option<String>)> = if found.nobody {
        Vec::new()
    } else if let Some((i, services)) = &found.services {
        consumed.insert(*i);
        let accounts: Vec<Option<String>> = match &found.accounts {
            Some((j, list)) => {
                consumed.insert(*j);
                list.iter().cloned().map(Some).collect()
            }
            None => vec![None],
        };
        services
            .iter()
            .flat_map(|s| {
                accounts.iter().map(|a| {
                    let principal = Principal::Service {
                        service: s.clone(),
                        for_account: a.clone(),
                    };
                    (principal, None)
                })
            })
            .collect()
    } else if let Some((i, arns)) = &found.arns {
        consumed.insert(*i);
        arns.iter()
            .map(|arn| {
                let principal = match AwsPrincipal::parse(arn) {
                    AwsPrincipal::Arn { arn, kind, .. } => of_arn(&arn, &kind),
                    AwsPrincipal::Account { account, .. } => Principal::AccountRoot { account },
                    _ => Principal::Other { value: arn.clone() },
                };
                (principal, None)
            })
            .collect()
    } else if let Some((i, accounts)) = &found.accounts {
        consumed.insert(*i);
        accounts
            .iter()
            .map(|a| {
                let label = (a == key_account).then(|| format!("every principal of account {a}"));
                (Principal::Account { account: a.clone() }, label)
            })
            .collect()
    } else if let Some(accounts) = &found.arn_accounts {
        accounts
            .iter()
            .map(|a| (Principal::Account { account: a.clone() }, None))
            .collect()
    } else if let Some((i, paths)) = &found.org_paths {
        consumed.insert(*i);
        paths
            .iter()
            .map(|p| (Principal::OrganizationalUnit { path: p.clone() }, None))
            .collect()
    } else if let Some((i, orgs)) = &found.orgs {
        consumed.insert(*i);
        orgs.iter()
            .map(|o| {
                let principal = Principal::Organization {
                    organization_id: o.clone(),
                };
                (principal, None)
            })
            .collect()
    } else {
        vec![(Principal::Any, None)]
    };
    Narrowed {
        principals,
        consumed,
    }
}

/// The caller pins of a statement's conditions: (condition index, values).
#[derive(Default)]
struct Pins {
    services: Option<(usize, Vec<String>)>,
    accounts: Option<(usize, Vec<String>)>,
    arns: Option<(usize, Vec<String>)>,
    /// Accounts of principal ARN patterns (`arn:aws:iam::111122223333:role/*`): they narrow
    /// to the account, but the pattern still restricts within it.
    arn_accounts: Option<Vec<String>>,
    org_paths: Option<(usize, Vec<String>)>,
    orgs: Option<(usize, Vec<String>)>,
    nobody: bool,
}

impl Pins {
    fn add(&mut self, i: usize, c: &Condition, ev: &Evaluation<'_>) {
        let key = c.key.to_ascii_lowercase();
        if key == "kms:viaservice" {
            if self.services.is_none()
                && let Some(values) = service_values(c)
            {
                self.services = Some((i, values));
            }
            return;
        }
        let Ok(pin) = allow_pin(c, ev.ctx) else {
            return;
        };
        if pin.names_nobody() {
            self.nobody = true;
            return;
        }
        let accounts = |target: &PinTarget| match target {
            PinTarget::Accounts(list) => Some(list.iter().map(|(a, _)| a.clone()).collect()),
            _ => None,
        };
        match key.as_str() {
            "aws:principalaccount" | "kms:calleraccount" if self.accounts.is_none() => {
                self.accounts = accounts(&pin.target).map(|list| (i, list));
            }
            "aws:principalarn" if self.arns.is_none() => {
                if c.values.iter().all(|v| !v.contains(['*', '?'])) {
                    self.arns = Some((i, c.values.clone()));
                } else {
                    self.arn_accounts = accounts(&pin.target);
                }
            }
            "aws:principalorgpaths" if self.org_paths.is_none() => {
                self.org_paths = Some((i, c.values.clone()));
            }
            "aws:principalorgid" if self.orgs.is_none() => {
                if let PinTarget::Organizations(orgs) = &pin.target {
                    self.orgs = Some((i, orgs.clone()));
                }
            }
            _ => {}
        }
    }
}

/// The services a positive kms:ViaService condition names; `None` when it could be true for
/// other calls too (negated, IfExists, ForAllValues:, policy variables). A literal `*` under
/// an exact operator names no service.
fn service_values(c: &Condition) -> Option<Vec<String>> {
    let op = &c.operator;
    let positive = matches!(
        op.base,
        BaseOperator::StringEquals
            | BaseOperator::StringEqualsIgnoreCase
            | BaseOperator::StringLike
    );
    if !positive || op.if_exists || op.qualifier == Some(SetQualifier::ForAllValues) {
        return None;
    }
    if c.values.is_empty() || c.values.iter().any(|v| v.contains("${")) {
        return None;
    }
    let values: Vec<String> = c
        .values
        .iter()
        .filter(|v| op.matches_wildcards() || !v.contains(['*', '?']))
        .cloned()
        .collect();
    if values
        .iter()
        .any(|v| v.chars().all(|ch| ch == '*' || ch == '?'))
    {
        return None;
    }
    Some(values)
}

/// An Allow naming principals.
fn explicit(ev: &mut Evaluation<'_>, base: &Base<'_>, set: &PrincipalSet) {
    let none = BTreeSet::new();
    let key_account = ev.key.account.to_string();
    for p in &set.aws {
        let (principal, grant) = match p {
            AwsPrincipal::Account { account, .. } if *account == key_account => {
                root_delegation(ev, base);
                continue;
            }
            AwsPrincipal::Account { account, .. } => (
                Principal::Account {
                    account: account.clone(),
                },
                format!(
                    "key policy {} allows account {account}; its own IAM policies decide which of its principals can",
                    base.label
                ),
            ),
            AwsPrincipal::Arn { arn, kind, .. } => {
                let principal = of_arn(arn, kind);
                let grant = format!("key policy {} allows {}", base.label, principal.describe());
                (principal, grant)
            }
            AwsPrincipal::Unrecognized { value } => (
                Principal::Other {
                    value: value.clone(),
                },
                format!("key policy {} names {}", base.label, quote(value)),
            ),
            // Deleted principals (unique ids) grant nothing; "*" is handled as open.
            _ => continue,
        };
        let mut cand = base.candidate(principal, &none, grant);
        if let Principal::Role { arn } | Principal::User { arn } | Principal::Other { value: arn } =
            &cand.principal
            && let Some(account) = account_of_arn(arn)
            && account != key_account
        {
            cand.notes.push(format!(
                "it also needs an IAM policy of account {account} that allows it (the IAM policies of other accounts are not evaluated)"
            ));
        }
        same_account_identity(ev, &mut cand);
        ev.finish(cand);
    }
    for service in &set.service {
        service_candidate(ev, base, service);
    }
    let others = set
        .federated
        .iter()
        .cloned()
        .chain(
            set.canonical_user
                .iter()
                .map(|c| format!("CanonicalUser:{c}")),
        )
        .chain(set.other.iter().cloned());
    for value in others {
        let grant = format!("key policy {} names {}", base.label, quote(&value));
        let cand = base.candidate(Principal::Other { value }, &none, grant);
        ev.finish(cand);
    }
}

/// A service principal, for the accounts aws:SourceAccount / aws:SourceArn pin it to.
fn service_candidate(ev: &mut Evaluation<'_>, base: &Base<'_>, service: &str) {
    let mut consumed = BTreeSet::new();
    let mut accounts: Vec<Option<String>> = vec![None];
    for (i, c) in base.stmt.conditions.iter().enumerate() {
        let key = c.key.to_ascii_lowercase();
        if !matches!(key.as_str(), "aws:sourceaccount" | "aws:sourcearn") || !consumed.is_empty() {
            continue;
        }
        if let Ok(pin) = allow_pin(c, ev.ctx)
            && let PinTarget::Accounts(list) = &pin.target
        {
            consumed.insert(i);
            accounts = list.iter().map(|(a, _)| Some(a.clone())).collect();
        }
    }
    for account in accounts {
        let principal = Principal::Service {
            service: service.to_string(),
            for_account: account,
        };
        let grant = format!("key policy {} allows {}", base.label, principal.describe());
        let cand = base.candidate(principal, &consumed, grant);
        ev.finish(cand);
    }
}

/// The key policy names the key's own account: the account's IAM policies decide, and its
/// root user needs none.
fn root_delegation(ev: &mut Evaluation<'_>, base: &Base<'_>) {
    let account = ev.key.account.to_string();
    let none = BTreeSet::new();
    let Some(iam) = ev.iam else {
        let reason = ev.iam_missing.clone();
        let grant = format!(
            "key policy {} lets the IAM policies of account {account} grant access",
            base.label
        );
        let mut cand = base.candidate(
            Principal::Account {
                account: account.clone(),
            },
            &none,
            grant,
        );
        cand.label = Some("account root (IAM policies not read)".to_string());
        cand.notes.push(format!(
            "the IAM policies of account {account} were not read ({reason}): the root user and every principal they allow can"
        ));
        ev.note_unknown(format!("IAM policies of account {account}: {reason}"));
        ev.finish(cand);
        return;
    };
    let grant = format!(
        "key policy {} allows account {account}; its root user needs no IAM policy",
        base.label
    );
    let root = base.candidate(Principal::AccountRoot { account }, &none, grant);
    let conditions = root.conditions.clone();
    let notes = root.notes.clone();
    ev.finish(root);
    let delegation = Delegation {
        statement: base.stmt.index,
        sid: base.stmt.sid.as_deref(),
        label: &base.label,
        actions: &base.actions,
        conditions: &conditions,
        notes: &notes,
    };
    let (candidates, unreadable) = iam.delegated(&delegation, &ev.key.arn);
    for text in unreadable {
        ev.note_unknown(text);
    }
    for cand in candidates {
        ev.finish(cand);
    }
}

/// A role or user of the key's own account named directly: its IAM Denies apply (or, when IAM
/// was not read, may).
pub(crate) fn same_account_identity(ev: &Evaluation<'_>, cand: &mut Candidate) {
    let (Principal::Role { arn } | Principal::User { arn }) = &cand.principal else {
        return;
    };
    if account_of_arn(arn) != Some(ev.key.account.as_str()) {
        return;
    }
    match ev.iam {
        Some(iam) => cand.identity = iam.find(arn),
        None => cand.notes.push(format!(
            "the IAM policies of account {} were not read ({}): a Deny there may remove it",
            ev.key.account, ev.iam_missing
        )),
    }
}
