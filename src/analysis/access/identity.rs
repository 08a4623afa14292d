//! An account's IAM identities with their policies parsed once, for evaluating many keys: what
//! each identity's IAM policies allow on a key, and what its own Denies, its groups' Denies and
//! its permissions boundary take away.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::iam::{AccountAuthorizationDetails, AttachedPolicy, InlinePolicy};
use crate::policy::{Effect, IdentityPolicy, IdentityStatement, quote};

use super::candidate::{Candidate, Doubts, add_doubt};
use super::classes::{ActionSet, select};
use super::deny::DenyRule;
use super::scope::{Applies, access_condition, resource_applies};
use crate::model::access::{AccessCondition, AccessPath, IamPolicyType, Principal};

type Parsed = Arc<Result<IdentityPolicy, String>>;

/// One policy attached to (or embedded in) an identity.
#[derive(Debug, Clone)]
struct Doc {
    name: String,
    arn: Option<String>,
    kind: IamPolicyType,
    parsed: Parsed,
}

impl Doc {
    fn describe(&self) -> String {
        format!("{} policy {}", self.kind.as_str(), quote(&self.name))
    }
}

#[derive(Debug, Clone)]
struct Boundary {
    arn: String,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
struct Identity {
    principal: Principal,
    /// `role`, `user` or `group`.
    kind: &'static str,
    name: String,
    arn: String,
    policies: Vec<Doc>,
    /// A user's groups (indexes).
    groups: Vec<usize>,
    /// A group's users (indexes).
    members: Vec<usize>,
    boundary: Option<Boundary>,
}

/// The IAM side of one account, ready to evaluate against any of its keys.
#[derive(Debug, Clone, Default)]
pub struct AccountIam {
    account: String,
    identities: Vec<Identity>,
}

/// The key-policy statement that lets the account's IAM policies grant access.
pub(crate) struct Delegation<'a> {
    pub statement: usize,
    pub sid: Option<&'a str>,
    /// How reasons name the statement.
    pub label: &'a str,
    /// What the statement allows the account: IAM policies can grant no more.
    pub actions: &'a ActionSet,
    pub conditions: &'a [AccessCondition],
    pub notes: &'a [String],
}

fn parse(document: &str) -> Parsed {
    Arc::new(IdentityPolicy::from_json_str(document).map_err(|e| e.to_string()))
}

impl AccountIam {
    /// Parses every policy document once.
    pub fn new(details: &AccountAuthorizationDetails) -> AccountIam {
        let managed: HashMap<&str, Parsed> = details
            .policies
            .iter()
            .map(|p| {
                let parsed = match &p.document {
                    Some(document) => parse(document),
                    None => Arc::new(Err("IAM listed no default version".to_string())),
                };
                (p.arn.as_str(), parsed)
            })
            .collect();
        let docs = |attached: &[AttachedPolicy], inline: &[InlinePolicy]| -> Vec<Doc> {
            let managed_docs = attached.iter().map(|a| Doc {
                name: a.name.clone(),
                arn: Some(a.arn.clone()),
                kind: IamPolicyType::Managed,
                parsed: managed.get(a.arn.as_str()).cloned().unwrap_or_else(|| {
                    Arc::new(Err("the managed policy was not listed by IAM".to_string()))
                }),
            });
            let inline_docs = inline.iter().map(|p| Doc {
                name: p.name.clone(),
                arn: None,
                kind: IamPolicyType::Inline,
                parsed: parse(&p.document),
            });
            managed_docs.chain(inline_docs).collect()
        };
        let boundary = |arn: &Option<String>| {
            arn.as_ref().map(|arn| Boundary {
                arn: arn.clone(),
                parsed: managed.get(arn.as_str()).cloned().unwrap_or_else(|| {
                    Arc::new(Err("the policy was not listed by IAM".to_string()))
                }),
            })
        };
        let mut identities = Vec::new();
        for g in &details.groups {
            identities.push(Identity {
                principal: Principal::Group { arn: g.arn.clone() },
                kind: "group",
                name: g.name.clone(),
                arn: g.arn.clone(),
                policies: docs(&g.attached_policies, &g.inline_policies),
                groups: Vec::new(),
                members: Vec::new(),
                boundary: None,
            });
        }
        let group_count = identities.len();
        for u in &details.users {
            let user = identities.len();
            let groups: Vec<usize> = (0..group_count)
                .filter(|&g| u.groups.contains(&identities[g].name))
                .collect();
            for &g in &groups {
                identities[g].members.push(user);
            }
            identities.push(Identity {
                principal: Principal::User { arn: u.arn.clone() },
                kind: "user",
                name: u.name.clone(),
                arn: u.arn.clone(),
                policies: docs(&u.attached_policies, &u.inline_policies),
                groups,
                members: Vec::new(),
                boundary: boundary(&u.permissions_boundary),
            });
        }
        for r in &details.roles {
            identities.push(Identity {
                principal: Principal::Role { arn: r.arn.clone() },
                kind: "role",
                name: r.name.clone(),
                arn: r.arn.clone(),
                policies: docs(&r.attached_policies, &r.inline_policies),
                groups: Vec::new(),
                members: Vec::new(),
                boundary: boundary(&r.permissions_boundary),
            });
        }
        AccountIam {
            account: details.account.clone(),
            identities,
        }
    }

    /// The account the details belong to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The identity with this ARN (a role, user or group of the account).
    pub(crate) fn find(&self, arn: &str) -> Option<usize> {
        self.identities
            .iter()
            .position(|i| i.arn.eq_ignore_ascii_case(arn))
    }

    /// Every path by which an identity's IAM policies grant what `d` lets them grant, and the
    /// policies that could not be read (for the key's unknowns).
    pub(crate) fn delegated(
        &self,
        d: &Delegation<'_>,
        key_arn: &str,
    ) -> (Vec<Candidate>, Vec<String>) {
        let mut out = Vec::new();
        let mut unreadable = Vec::new();
        for (index, identity) in self.identities.iter().enumerate() {
            for doc in &identity.policies {
                match doc.parsed.as_ref() {
                    Ok(policy) => {
                        for stmt in policy
                            .statements
                            .iter()
                            .filter(|s| s.effect == Effect::Allow)
                        {
                            if let Some(c) = self.candidate(d, index, doc, stmt, key_arn) {
                                out.push(c);
                            }
                        }
                    }
                    Err(why) => unreadable.push(format!(
                        "IAM {} of {} {}: not read ({why})",
                        doc.describe(),
                        identity.kind,
                        identity.arn
                    )),
                }
            }
        }
        (out, unreadable)
    }

    fn candidate(
        &self,
        d: &Delegation<'_>,
        index: usize,
        doc: &Doc,
        stmt: &IdentityStatement,
        key_arn: &str,
    ) -> Option<Candidate> {
        let identity = &self.identities[index];
        let actions: ActionSet = select(|a| stmt.actions.covers(a))
            .intersection(d.actions)
            .copied()
            .collect();
        if actions.is_empty() {
            return None;
        }
        let mut notes = d.notes.to_vec();
        match resource_applies(&stmt.resources, key_arn) {
            Applies::No => return None,
            Applies::May(why) => {
                notes.push(format!("the IAM policy statement may not apply: {why}"))
            }
            Applies::Yes => {}
        }
        let mut conditions = d.conditions.to_vec();
        let own: Vec<AccessCondition> = stmt.conditions.iter().map(access_condition).collect();
        if !own.is_empty() {
            notes.push(format!(
                "only when {}: conditions are not evaluated",
                describe_all(&own)
            ));
        }
        conditions.extend(own);
        let statement = match &stmt.sid {
            Some(sid) => format!("statement[{}] {}", stmt.index, quote(sid)),
            None => format!("statement[{}]", stmt.index),
        };
        let path_label = format!(
            "{} {statement}, attached to {} {} (IAM enabled by key policy {})",
            doc.describe(),
            identity.kind,
            identity.name,
            d.label
        );
        let grant = format!(
            "{} of {} {} allows it, and key policy {} lets the account's IAM policies grant access",
            doc.describe(),
            identity.kind,
            identity.arn,
            d.label
        );
        let path = AccessPath::IamPolicy {
            key_policy_statement: d.statement,
            key_policy_sid: d.sid.map(str::to_string),
            policy_name: doc.name.clone(),
            policy_arn: doc.arn.clone(),
            policy_type: doc.kind,
            attached_to: identity.arn.clone(),
            policy_statement: stmt.index,
            policy_sid: stmt.sid.clone(),
        };
        let mut cand = Candidate::new(identity.principal.clone(), path, path_label, actions, grant);
        cand.conditions = conditions;
        cand.notes = notes;
        cand.identity = Some(index);
        cand.bounded = true;
        Some(cand)
    }

    /// The Deny statements of the identity's own policies and, for a user, of its groups'.
    pub(crate) fn deny_rules(&self, index: usize) -> Vec<DenyRule<'_>> {
        let identity = &self.identities[index];
        let mut rules = Vec::new();
        let owners = std::iter::once(index).chain(identity.groups.iter().copied());
        for owner in owners {
            let owner = &self.identities[owner];
            for doc in &owner.policies {
                let Ok(policy) = doc.parsed.as_ref() else {
                    continue;
                };
                for stmt in policy
                    .statements
                    .iter()
                    .filter(|s| s.effect == Effect::Deny)
                {
                    let label = format!(
                        "statement[{}] of {} of {} {}",
                        stmt.index,
                        doc.describe(),
                        owner.kind,
                        owner.name
                    );
                    rules.push(DenyRule::identity(stmt, label));
                }
            }
        }
        if let Some(Boundary { arn, parsed }) = &identity.boundary
            && let Ok(policy) = parsed.as_ref()
        {
            for stmt in policy
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Deny)
            {
                let label = format!("statement[{}] of permissions boundary {arn}", stmt.index);
                rules.push(DenyRule::identity(stmt, label));
            }
        }
        rules
    }

    /// What else limits the identity: policies that could not be read (they may hold a
    /// Deny), its permissions boundary (applied to `actions` when `bounded`), and for a group,
    /// its members. Returns notes that make the entries `may`.
    pub(crate) fn limits(
        &self,
        index: usize,
        bounded: bool,
        actions: &mut ActionSet,
        may: &mut Doubts,
        key_arn: &str,
    ) -> Vec<String> {
        let identity = &self.identities[index];
        let mut notes = Vec::new();
        let owners = std::iter::once(index).chain(identity.groups.iter().copied());
        for owner in owners {
            let owner = &self.identities[owner];
            for doc in &owner.policies {
                if let Err(why) = doc.parsed.as_ref() {
                    notes.push(format!(
                        "{} of {} {} was not read ({why}): a Deny in it may remove it",
                        doc.describe(),
                        owner.kind,
                        owner.name
                    ));
                }
            }
        }
        if let Some(boundary) = &identity.boundary {
            notes.extend(apply_boundary(
                boundary, identity, bounded, actions, may, key_arn,
            ));
        }
        if identity.kind == "group" {
            notes.extend(self.member_limits(identity, actions, may));
        }
        notes
    }

    /// A group's entry stands for its members: with none, nobody has it now; a member's own
    /// Deny (or permissions boundary) may take the actions it covers from that member.
    fn member_limits(
        &self,
        group: &Identity,
        actions: &ActionSet,
        may: &mut Doubts,
    ) -> Vec<String> {
        if group.members.is_empty() {
            return vec!["no user is a member of the group".to_string()];
        }
        for action in actions {
            let limited: Vec<&str> = group
                .members
                .iter()
                .map(|&m| &self.identities[m])
                .filter(|user| user.boundary.is_some() || user_denies(user, action))
                .map(|user| user.name.as_str())
                .collect();
            if !limited.is_empty() {
                add_doubt(
                    may,
                    action,
                    "members with their own Deny or permissions boundary may not have ".into(),
                    format!(": {}", limited.join(", ")),
                );
            }
        }
        Vec::new()
    }
}

/// Whether one of the user's own policies may deny `action` (an unreadable one may).
fn user_denies(user: &Identity, action: &str) -> bool {
    user.policies.iter().any(|doc| match doc.parsed.as_ref() {
        Ok(policy) => policy
            .statements
            .iter()
            .any(|s| s.effect == Effect::Deny && s.actions.covers(action)),
        Err(_) => true,
    })
}

/// A permissions boundary caps what IAM policies grant: actions it does not allow are removed;
/// actions it allows only under conditions become `may`. It caps a key-policy statement that
/// names a role too (AWS limits what a resource-based policy grants to a role ARN by the role's
/// boundary), but not one that names a user (same account: AWS does not).
fn apply_boundary(
    boundary: &Boundary,
    identity: &Identity,
    bounded: bool,
    actions: &mut ActionSet,
    may: &mut Doubts,
    key_arn: &str,
) -> Vec<String> {
    let arn = &boundary.arn;
    if !bounded && identity.kind != "role" {
        return Vec::new();
    }
    let policy = match boundary.parsed.as_ref() {
        Ok(policy) => policy,
        Err(why) => {
            return vec![format!(
                "its permissions boundary {arn} was not read ({why}): it may limit it"
            )];
        }
    };
    let (mut certain, mut conditional) = (ActionSet::new(), ActionSet::new());
    for stmt in policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let covered = select(|a| stmt.actions.covers(a));
        match resource_applies(&stmt.resources, key_arn) {
            Applies::No => {}
            Applies::Yes if stmt.conditions.is_empty() => certain.extend(covered),
            _ => conditional.extend(covered),
        }
    }
    for a in actions.iter() {
        if !certain.contains(a) && conditional.contains(a) {
            add_doubt(
                may,
                a,
                format!("permissions boundary {arn} allows "),
                " only under conditions".into(),
            );
        }
    }
    actions.retain(|a| certain.contains(a) || conditional.contains(a));
    Vec::new()
}

fn describe_all(conditions: &[AccessCondition]) -> String {
    conditions
        .iter()
        .map(AccessCondition::describe)
        .collect::<Vec<_>>()
        .join(" and ")
}
