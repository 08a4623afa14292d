//! Who can use the key: public grants (POL001) and grants to other accounts (POL002).
//!
//! Every Allow statement is evaluated against every Deny over a concrete list of actions
//! ([`KMS_ACTIONS`](super::KMS_ACTIONS) plus those the policy names), so a Deny that covers
//! only some actions leaves the rest reported. Each decision carries a reason text, because a
//! finding nobody can explain is a finding nobody fixes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::actions::ActionUniverse;
use super::conditions::{DenyCondition, Pin, PinTarget, allow_pin, deny_condition};
use super::model::{Effect, KeyPolicy, PrincipalClause, Principals, ResourceClause, Statement};
use super::principal::AwsPrincipal;

/// What the analysis needs to know about the key's surroundings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnalysisContext {
    /// The account that owns the key; its principals are never "cross-account".
    pub key_account: String,
    /// `trusted_accounts` from the config.
    pub trusted_accounts: BTreeSet<String>,
    /// The auditor's organization, when known.
    pub organization_id: Option<String>,
    /// Member accounts of that organization, when known.
    pub organization_accounts: Option<BTreeSet<String>>,
}

impl AnalysisContext {
    /// A context with only the key's account known.
    pub fn new(key_account: impl Into<String>) -> Self {
        Self {
            key_account: key_account.into(),
            ..Self::default()
        }
    }

    /// `Some(true/false)` when organization membership is known.
    fn in_organization(&self, account: &str) -> Option<bool> {
        self.organization_accounts
            .as_ref()
            .map(|set| set.contains(account))
    }
}

/// How far an account (or organization) that receives access is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountClass {
    /// Listed in `trusted_accounts`.
    Trusted,
    /// A member of the auditor's organization, or the grant requires that organization.
    Organization,
    Untrusted,
}

/// Whether a cross-account grant reaches one account or a whole organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantScope {
    Account,
    /// `account` holds an organization id (from aws:PrincipalOrgID / aws:PrincipalOrgPaths).
    Organization,
}

/// An Allow statement open to any principal (POL001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicGrant {
    /// 0-based position of the statement in the policy.
    pub statement: usize,
    pub sid: Option<String>,
    /// `Action` (or `NotAction` when `not_action`) as written.
    pub actions: Vec<String>,
    pub not_action: bool,
    /// Actions of the statement that Deny statements take away from everyone.
    pub denied_actions: Vec<String>,
    pub reason: String,
}

/// An Allow statement open to any principal but pinned to fixed callers, or fully denied:
/// kept as evidence of why POL001 did not fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestrictedGrant {
    pub statement: usize,
    pub sid: Option<String>,
    pub actions: Vec<String>,
    pub not_action: bool,
    /// The conditions (or Deny statements) that restrict it.
    pub restricted_by: Vec<String>,
    pub reason: String,
}

/// Access for an account other than the key's own (POL002 fires on `untrusted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossAccountGrant {
    pub statement: usize,
    pub sid: Option<String>,
    /// The account id, or the organization id when `scope` is `organization`.
    pub account: String,
    pub scope: GrantScope,
    /// The principal as written (ARN, service name, or the condition value that pins it).
    pub principal: String,
    pub actions: Vec<String>,
    pub not_action: bool,
    pub denied_actions: Vec<String>,
    pub classification: AccountClass,
    pub reason: String,
}

/// An Allow for an AWS service principal: not public, but without aws:SourceArn /
/// aws:SourceAccount any account's resources can make the service use the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceGrant {
    pub statement: usize,
    pub sid: Option<String>,
    pub service: String,
    pub actions: Vec<String>,
    pub not_action: bool,
    /// Restricting conditions of the statement (empty: open to the confused deputy).
    pub restricted_by: Vec<String>,
    pub reason: String,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyAnalysis {
    pub public: Vec<PublicGrant>,
    pub restricted_public: Vec<RestrictedGrant>,
    pub cross_account: Vec<CrossAccountGrant>,
    pub service_grants: Vec<ServiceGrant>,
    /// IAM unique ids (deleted principals) named anywhere in the policy.
    pub deleted_principals: Vec<String>,
    /// Principals not classified: web-identity providers, CanonicalUser, unknown forms.
    pub other_principals: Vec<String>,
}

impl PolicyAnalysis {
    pub fn is_public(&self) -> bool {
        !self.public.is_empty()
    }

    pub fn untrusted_cross_account(&self) -> impl Iterator<Item = &CrossAccountGrant> {
        self.cross_account
            .iter()
            .filter(|g| g.classification == AccountClass::Untrusted)
    }
}

/// Analyses who can use the key under `policy`.
pub fn analyze(policy: &KeyPolicy, ctx: &AnalysisContext) -> PolicyAnalysis {
    let universe = ActionUniverse::new(
        policy
            .statements
            .iter()
            .flat_map(|s| s.actions.patterns().iter().map(String::as_str)),
    );
    let denies: Vec<Deny<'_>> = policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny)
        .map(|s| Deny {
            stmt: s,
            covered: universe.select(|a| s.actions.covers(a)),
        })
        .collect();
    let mut out = PolicyAnalysis::default();
    collect_principals(policy, &mut out);
    for stmt in policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let allowed = universe.select(|a| stmt.actions.covers(a));
        if allowed.is_empty() {
            continue; // names no KMS action
        }
        let eval = Evaluator {
            ctx,
            universe: &universe,
            denies: &denies,
            stmt,
            allowed,
        };
        match &stmt.principal {
            PrincipalClause::Principal(p) if p.is_everyone() => {
                eval.everyone(format!("Principal {}", p.everyone_form()), &mut out);
            }
            PrincipalClause::NotPrincipal(_) => eval.everyone(
                "NotPrincipal with Allow (every principal not listed)".to_string(),
                &mut out,
            ),
            PrincipalClause::Principal(p) => eval.explicit(p, &mut out),
        }
    }
    out
}

fn collect_principals(policy: &KeyPolicy, out: &mut PolicyAnalysis) {
    fn push(list: &mut Vec<String>, v: String) {
        if !list.contains(&v) {
            list.push(v);
        }
    }
    for stmt in &policy.statements {
        let (PrincipalClause::Principal(Principals::Set(set))
        | PrincipalClause::NotPrincipal(Principals::Set(set))) = &stmt.principal
        else {
            continue;
        };
        for p in &set.aws {
            match p {
                AwsPrincipal::UniqueId { id } => push(&mut out.deleted_principals, id.clone()),
                AwsPrincipal::Unrecognized { value } => {
                    push(&mut out.other_principals, format!("AWS:{value}"));
                }
                _ => {}
            }
        }
        for f in &set.federated {
            if AwsPrincipal::parse(f).account().is_none() {
                push(&mut out.other_principals, format!("Federated:{f}"));
            }
        }
        for c in &set.canonical_user {
            push(&mut out.other_principals, format!("CanonicalUser:{c}"));
        }
        for o in &set.other {
            push(&mut out.other_principals, o.clone());
        }
    }
}

struct Deny<'a> {
    stmt: &'a Statement,
    covered: BTreeSet<usize>,
}

/// Who a grant reaches, for deciding whether a Deny takes it away.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    Everyone,
    /// A whole account (`arn: None`) or one principal of it.
    Account {
        account: &'a str,
        arn: Option<&'a str>,
    },
    Organization(&'a str),
}

enum DenyEffect {
    Removes,
    /// Applies to everyone except the populations of these pins (ORed).
    Exempts(Vec<Pin>),
    NoEffect(String),
}

struct Evaluator<'a> {
    ctx: &'a AnalysisContext,
    universe: &'a ActionUniverse,
    denies: &'a [Deny<'a>],
    stmt: &'a Statement,
    allowed: BTreeSet<usize>,
}

impl Evaluator<'_> {
    fn actions(&self) -> (Vec<String>, bool) {
        (
            self.stmt.actions.patterns().to_vec(),
            self.stmt.actions.is_not_action(),
        )
    }

    /// Action names for a reason text: short, since the full list is in the evidence fields.
    fn summarize(&self, set: &BTreeSet<usize>) -> String {
        if *set == self.allowed {
            return "every action the statement allows".to_string();
        }
        let names = self.universe.names(set);
        match names.len() {
            0..=6 => names.join(", "),
            n => format!("{} and {} more", names[..6].join(", "), n - 6),
        }
    }

    /// Splits the statement's conditions into restricting pins and notes on the others.
    fn own_pins(&self) -> (Vec<Pin>, Vec<String>) {
        let mut pins = Vec::new();
        let mut notes = Vec::new();
        for c in &self.stmt.conditions {
            match allow_pin(c, self.ctx) {
                Ok(pin) => pins.push(pin),
                Err(why) => notes.push(format!(
                    "condition {} does not restrict ({why})",
                    c.describe()
                )),
            }
        }
        (pins, notes)
    }

    /// Whether the statement's own conditions require the auditor's organization.
    fn requires_our_org(&self, pins: &[Pin]) -> bool {
        let Some(ours) = &self.ctx.organization_id else {
            return false;
        };
        pins.iter().any(|p| match &p.target {
            PinTarget::Organizations(orgs) => !orgs.is_empty() && orgs.iter().all(|o| o == ours),
            _ => false,
        })
    }

    /// An Allow that reaches any principal (`*`, `{"AWS": "*"}`, NotPrincipal).
    fn everyone(&self, base: String, out: &mut PolicyAnalysis) {
        let (actions, not_action) = self.actions();
        let (pins, notes) = self.own_pins();
        if !pins.is_empty() {
            let restricted_by: Vec<String> = pins.iter().map(|p| p.description.clone()).collect();
            let mut reason = format!(
                "{base} restricted by condition {}",
                restricted_by.join(" and ")
            );
            if !notes.is_empty() {
                reason.push_str("; ");
                reason.push_str(&notes.join("; "));
            }
            out.restricted_public.push(RestrictedGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                actions,
                not_action,
                restricted_by,
                reason,
            });
            self.rows_from_all_pins(&pins, "condition", out);
            return;
        }

        let mut removed = BTreeSet::new();
        let mut restricted = BTreeSet::new();
        let mut restricting: Vec<(String, Vec<Pin>)> = Vec::new();
        let mut deny_notes = Vec::new();
        for deny in self.denies {
            let overlap: BTreeSet<usize> =
                deny.covered.intersection(&self.allowed).copied().collect();
            if overlap.is_empty() {
                continue;
            }
            let label = label(deny.stmt);
            match deny_effect(deny.stmt, Subject::Everyone, self.ctx) {
                DenyEffect::Removes => {
                    deny_notes.push(format!(
                        "Deny {label} removes {} for everyone",
                        self.summarize(&overlap)
                    ));
                    removed.extend(overlap);
                }
                DenyEffect::Exempts(pins) => {
                    restricted.extend(overlap);
                    restricting.push((label, pins));
                }
                DenyEffect::NoEffect(why) => {
                    deny_notes.push(format!("Deny {label} does not remove access: {why}"));
                }
            }
        }
        let after_removal: BTreeSet<usize> = self.allowed.difference(&removed).copied().collect();
        let remaining: BTreeSet<usize> = after_removal.difference(&restricted).copied().collect();
        let describe_restricting = |r: &(String, Vec<Pin>)| {
            format!(
                "Deny {} exempts only {}",
                r.0,
                r.1.iter()
                    .map(|p| p.description.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };

        if !remaining.is_empty() {
            let mut parts = vec![format!("{base} with no restricting condition")];
            parts.extend(notes);
            parts.extend(deny_notes);
            if !restricting.is_empty() {
                parts.push(format!(
                    "{} (not every allowed action); still open: {}",
                    restricting
                        .iter()
                        .map(describe_restricting)
                        .collect::<Vec<_>>()
                        .join("; "),
                    self.summarize(&remaining)
                ));
            }
            out.public.push(PublicGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                actions,
                not_action,
                denied_actions: self.universe.names(&removed),
                reason: parts.join("; "),
            });
        } else if !after_removal.is_empty() {
            let restricted_by: Vec<String> = restricting.iter().map(describe_restricting).collect();
            out.restricted_public.push(RestrictedGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                actions,
                not_action,
                reason: format!("{base} restricted by {}", restricted_by.join("; ")),
                restricted_by,
            });
            for (deny, pins) in &restricting {
                let source = format!("Deny {deny} exempting");
                for pin in pins {
                    self.rows_from_all_pins(std::slice::from_ref(pin), &source, out);
                }
            }
        } else {
            out.restricted_public.push(RestrictedGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                actions,
                not_action,
                restricted_by: deny_notes.clone(),
                reason: format!(
                    "{base}, but every action it allows is denied to everyone: {}",
                    deny_notes.join("; ")
                ),
            });
        }
    }

    /// Rows for the accounts (or foreign organizations) that ANDed pins leave access to.
    /// `source` says where the pins come from ("condition", "Deny statement[1] exempting").
    fn rows_from_all_pins(&self, pins: &[Pin], source: &str, out: &mut PolicyAnalysis) {
        let org_pinned = self.requires_our_org(pins);
        let mut accounts: Option<BTreeMap<String, String>> = None;
        let mut orgs: Option<BTreeSet<String>> = None;
        for pin in pins {
            match &pin.target {
                PinTarget::Accounts(list) => {
                    let these: BTreeMap<String, String> = list.iter().cloned().rev().collect();
                    accounts = Some(match accounts {
                        None => these,
                        Some(prev) => prev
                            .into_iter()
                            .filter(|(a, _)| these.contains_key(a))
                            .collect(),
                    });
                }
                PinTarget::Organizations(list) => {
                    let these: BTreeSet<String> = list.iter().cloned().collect();
                    orgs = Some(match orgs {
                        None => these,
                        Some(prev) => prev.intersection(&these).cloned().collect(),
                    });
                }
                PinTarget::Other => {}
            }
        }
        if let Some(accounts) = accounts {
            for (account, principal) in &accounts {
                let why = format!(
                    "any principal, pinned to account {account} by {source} {}",
                    pin_names(pins)
                );
                self.push_account_row(account, principal, None, org_pinned, why, out);
            }
        } else if let Some(orgs) = orgs {
            for org in &orgs {
                self.push_org_row(org, source, pins, out);
            }
        }
    }

    /// An Allow naming explicit principals.
    fn explicit(&self, principals: &Principals, out: &mut PolicyAnalysis) {
        let (pins, _) = self.own_pins();
        let org_pinned = self.requires_our_org(&pins);
        let Principals::Set(set) = principals else {
            return;
        };
        for p in &set.aws {
            if let (
                Some(account),
                AwsPrincipal::Account { arn, .. } | AwsPrincipal::Arn { arn, .. },
            ) = (p.account(), p)
            {
                let subject_arn = matches!(p, AwsPrincipal::Arn { .. }).then_some(arn.as_str());
                let why = format!("names {arn}");
                self.push_account_row(account, arn, subject_arn, org_pinned, why, out);
            }
        }
        for f in &set.federated {
            let p = AwsPrincipal::parse(f);
            if let Some(account) = p.account() {
                let why = format!("names identity provider {f}");
                self.push_account_row(account, f, Some(f), org_pinned, why, out);
            }
        }
        for service in &set.service {
            self.service(service, &pins, out);
        }
    }

    fn service(&self, service: &str, pins: &[Pin], out: &mut PolicyAnalysis) {
        let (actions, not_action) = self.actions();
        let restricted_by: Vec<String> = pins.iter().map(|p| p.description.clone()).collect();
        let reason = if restricted_by.is_empty() {
            format!(
                "service principal {service} with no aws:SourceArn / aws:SourceAccount condition: \
                 resources of any account can make the service use the key"
            )
        } else {
            format!(
                "service principal {service} limited by {}",
                restricted_by.join(" and ")
            )
        };
        out.service_grants.push(ServiceGrant {
            statement: self.stmt.index,
            sid: self.stmt.sid.clone(),
            service: service.to_string(),
            actions,
            not_action,
            restricted_by,
            reason,
        });
        // The service acting for another account's resources is that account's access.
        let org_pinned = self.requires_our_org(pins);
        let mut accounts: Option<BTreeSet<String>> = None;
        for pin in pins {
            if let PinTarget::Accounts(list) = &pin.target {
                let these: BTreeSet<String> = list.iter().map(|(a, _)| a.clone()).collect();
                accounts = Some(match accounts {
                    None => these,
                    Some(prev) => prev.intersection(&these).cloned().collect(),
                });
            }
        }
        for account in accounts.iter().flatten() {
            let why = format!(
                "service {service} acting for account {account} ({})",
                pin_names(pins)
            );
            self.push_account_row(account, service, None, org_pinned, why, out);
        }
    }

    /// The statement's actions minus those a Deny takes from `subject`.
    fn remaining_for(
        &self,
        subject: Subject<'_>,
    ) -> (BTreeSet<usize>, BTreeSet<usize>, Vec<String>) {
        let mut denied = BTreeSet::new();
        let mut notes = Vec::new();
        for deny in self.denies {
            let overlap: BTreeSet<usize> =
                deny.covered.intersection(&self.allowed).copied().collect();
            if overlap.is_empty() {
                continue;
            }
            if let DenyEffect::Removes = deny_effect(deny.stmt, subject, self.ctx) {
                notes.push(format!(
                    "Deny {} removes {}",
                    label(deny.stmt),
                    self.summarize(&overlap)
                ));
                denied.extend(overlap);
            }
        }
        let remaining = self.allowed.difference(&denied).copied().collect();
        (remaining, denied, notes)
    }

    fn push_account_row(
        &self,
        account: &str,
        principal: &str,
        arn: Option<&str>,
        org_pinned: bool,
        why: String,
        out: &mut PolicyAnalysis,
    ) {
        if account == self.ctx.key_account {
            return;
        }
        let (remaining, denied, deny_notes) = self.remaining_for(Subject::Account { account, arn });
        if remaining.is_empty() {
            return;
        }
        let org_name = self
            .ctx
            .organization_id
            .as_deref()
            .unwrap_or("(id unknown)");
        let (classification, class_text) = if self.ctx.trusted_accounts.contains(account) {
            (
                AccountClass::Trusted,
                format!("account {account} is listed in trusted_accounts"),
            )
        } else if self.ctx.in_organization(account) == Some(true) {
            (
                AccountClass::Organization,
                format!("account {account} is a member of organization {org_name}"),
            )
        } else if org_pinned {
            (
                AccountClass::Organization,
                format!("the statement requires aws:PrincipalOrgID {org_name}"),
            )
        } else if self.ctx.organization_accounts.is_none() {
            (
                AccountClass::Untrusted,
                format!(
                    "account {account} is not in trusted_accounts; organization membership unknown"
                ),
            )
        } else {
            (
                AccountClass::Untrusted,
                format!("account {account} is not in trusted_accounts nor in the organization"),
            )
        };
        let mut reason = format!("{} {why}: {class_text}", label(self.stmt));
        for note in deny_notes {
            reason.push_str("; ");
            reason.push_str(&note);
        }
        self.push_row(
            out,
            CrossAccountGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                account: account.to_string(),
                scope: GrantScope::Account,
                principal: principal.to_string(),
                actions: self.stmt.actions.patterns().to_vec(),
                not_action: self.stmt.actions.is_not_action(),
                denied_actions: self.universe.names(&denied),
                classification,
                reason,
            },
        );
    }

    /// A grant to every account of an organization that is not (known to be) the auditor's.
    fn push_org_row(&self, org: &str, source: &str, pins: &[Pin], out: &mut PolicyAnalysis) {
        let class_text = match &self.ctx.organization_id {
            Some(ours) if ours == org => return,
            Some(ours) => format!("not this organization ({ours})"),
            None => "not verifiable: the auditor's organization is unknown".to_string(),
        };
        let (remaining, denied, deny_notes) = self.remaining_for(Subject::Organization(org));
        if remaining.is_empty() {
            return;
        }
        let mut reason = format!(
            "{} opens the key to every account of organization {org} ({source} {}): {class_text}",
            label(self.stmt),
            pin_names(pins)
        );
        for note in deny_notes {
            reason.push_str("; ");
            reason.push_str(&note);
        }
        self.push_row(
            out,
            CrossAccountGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                account: org.to_string(),
                scope: GrantScope::Organization,
                principal: "*".to_string(),
                actions: self.stmt.actions.patterns().to_vec(),
                not_action: self.stmt.actions.is_not_action(),
                denied_actions: self.universe.names(&denied),
                classification: AccountClass::Untrusted,
                reason,
            },
        );
    }

    fn push_row(&self, out: &mut PolicyAnalysis, row: CrossAccountGrant) {
        let duplicate = out.cross_account.iter().any(|r| {
            r.statement == row.statement
                && r.account == row.account
                && r.scope == row.scope
                && r.principal == row.principal
        });
        if !duplicate {
            out.cross_account.push(row);
        }
    }
}

fn pin_names(pins: &[Pin]) -> String {
    pins.iter()
        .map(|p| p.description.as_str())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `statement[2] "Sid"`, or `statement[2]` without Sid.
fn label(stmt: &Statement) -> String {
    match &stmt.sid {
        Some(sid) => format!("statement[{}] {}", stmt.index, super::model::quote(sid)),
        None => format!("statement[{}]", stmt.index),
    }
}

/// Whether a Deny statement takes access away from `subject` (for the actions it covers).
fn deny_effect(deny: &Statement, subject: Subject<'_>, ctx: &AnalysisContext) -> DenyEffect {
    if let ResourceClause::NotResource(_) = deny.resources {
        return DenyEffect::NoEffect("its NotResource may exclude this key".into());
    }
    match &deny.principal {
        PrincipalClause::Principal(p) if p.is_everyone() => {}
        PrincipalClause::Principal(p) => match subject {
            Subject::Account { account, arn } if p.aws().iter().any(|q| names(q, account, arn)) => {
            }
            Subject::Account { .. } => {
                return DenyEffect::NoEffect("it does not name this principal".into());
            }
            _ => {
                return DenyEffect::NoEffect(
                    "it names specific principals; everyone else keeps access".into(),
                );
            }
        },
        PrincipalClause::NotPrincipal(p) => {
            if p.is_everyone() {
                return DenyEffect::NoEffect("its NotPrincipal exempts everyone".into());
            }
            match subject {
                Subject::Everyone => {
                    if !deny.conditions.is_empty() {
                        return DenyEffect::NoEffect(
                            "a conditional Deny with NotPrincipal is not relied upon".into(),
                        );
                    }
                    let pins = not_principal_pins(p);
                    return if pins.is_empty() {
                        DenyEffect::Removes
                    } else {
                        DenyEffect::Exempts(pins)
                    };
                }
                Subject::Account { account, arn } => {
                    if p.aws().iter().any(|q| exempts(q, account, arn)) {
                        return DenyEffect::NoEffect(
                            "its NotPrincipal exempts this principal".into(),
                        );
                    }
                }
                Subject::Organization(_) => {
                    return DenyEffect::NoEffect(
                        "a Deny with NotPrincipal is not evaluated for a whole organization".into(),
                    );
                }
            }
        }
    }
    let mut exempt = Vec::new();
    for c in &deny.conditions {
        match deny_condition(c, ctx) {
            DenyCondition::Always => {}
            DenyCondition::Exempts(pin) => exempt.push(pin),
            DenyCondition::Partial(why) => return DenyEffect::NoEffect(why),
        }
    }
    if exempt.is_empty() {
        return DenyEffect::Removes;
    }
    match subject {
        Subject::Everyone => DenyEffect::Exempts(exempt),
        Subject::Account { account, .. } => {
            match exempt
                .iter()
                .find(|pin| !account_outside(pin, account, ctx))
            {
                None => DenyEffect::Removes,
                Some(pin) => DenyEffect::NoEffect(format!(
                    "account {account} may satisfy {}",
                    pin.description
                )),
            }
        }
        Subject::Organization(org) => {
            let outside = |pin: &Pin| match &pin.target {
                PinTarget::Organizations(orgs) => !orgs.iter().any(|o| o == org),
                _ => false,
            };
            match exempt.iter().find(|pin| !outside(pin)) {
                None => DenyEffect::Removes,
                Some(pin) => DenyEffect::NoEffect(format!(
                    "organization {org} may satisfy {}",
                    pin.description
                )),
            }
        }
    }
}

/// Whether a Deny's Principal entry `q` covers the subject: an account entry covers every
/// principal of that account.
fn names(q: &AwsPrincipal, account: &str, arn: Option<&str>) -> bool {
    match q {
        AwsPrincipal::Account { account: a, .. } => a == account,
        AwsPrincipal::Arn { arn: a, .. } => arn.is_some_and(|s| s.eq_ignore_ascii_case(a)),
        _ => false,
    }
}

/// Whether a NotPrincipal entry `q` exempts (part of) the subject. Conservative: an entry for
/// any principal of the subject's account counts when the subject is the whole account.
fn exempts(q: &AwsPrincipal, account: &str, arn: Option<&str>) -> bool {
    match q {
        AwsPrincipal::Any | AwsPrincipal::Wildcard { .. } => true,
        AwsPrincipal::Account { account: a, .. } => a == account,
        AwsPrincipal::Arn {
            account: a,
            arn: qa,
            ..
        } => match arn {
            Some(s) => s.eq_ignore_ascii_case(qa),
            None => a == account,
        },
        _ => false,
    }
}

/// The populations a `NotPrincipal` Deny leaves alone. Deleted principals exempt nobody.
fn not_principal_pins(p: &Principals) -> Vec<Pin> {
    let Principals::Set(set) = p else {
        return Vec::new();
    };
    let mut pins = Vec::new();
    for q in &set.aws {
        if let Some(account) = q.account() {
            pins.push(Pin {
                description: format!("NotPrincipal {}", q.as_str()),
                target: PinTarget::Accounts(vec![(account.to_string(), q.as_str().to_string())]),
            });
        }
    }
    for s in set
        .service
        .iter()
        .chain(&set.federated)
        .chain(&set.canonical_user)
    {
        pins.push(Pin {
            description: format!("NotPrincipal {s}"),
            target: PinTarget::Other,
        });
    }
    pins
}

/// Whether `account` is certainly outside a pin (so a Deny exempting the pin reaches it).
fn account_outside(pin: &Pin, account: &str, ctx: &AnalysisContext) -> bool {
    match &pin.target {
        PinTarget::Accounts(list) => !list.iter().any(|(a, _)| a == account),
        PinTarget::Organizations(orgs) => orgs.iter().all(|org| {
            match (ctx.in_organization(account), ctx.organization_id.as_deref()) {
                // An account belongs to one organization only.
                (Some(member), Some(ours)) if ours == org => !member,
                (Some(true), Some(_)) => true,
                _ => false,
            }
        }),
        PinTarget::Other => false,
    }
}
