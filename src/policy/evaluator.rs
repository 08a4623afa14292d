//! Who can use the key: public grants (POL001) and grants to other accounts (POL002).
//!
//! Every Allow statement is evaluated against every Deny over a concrete list of actions
//! ([`KMS_ACTIONS`](super::KMS_ACTIONS) plus those the policy names), so a Deny that covers
//! only some actions leaves the rest reported. Each decision carries a reason text, because a
//! finding nobody can explain is a finding nobody fixes.

use std::collections::{BTreeMap, BTreeSet};

use super::actions::ActionUniverse;
use super::context::AnalysisContext;
use super::deny::{Deny, DenyEffect, Subject, deny_effect};
use super::document::{Effect, KeyPolicy, PrincipalClause, Principals, Statement};
use super::pin::{Pin, PinTarget, allow_pin};
use super::principal::AwsPrincipal;
use super::text::quote;
use super::verdict::{
    AccountClass, CrossAccountGrant, GrantScope, PolicyAnalysis, PublicGrant, RestrictedGrant,
    ServiceGrant,
};

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
        let (pins, notes) = self.own_pins();
        if !pins.is_empty() {
            self.everyone_pinned(&base, &pins, &notes, out);
            return;
        }
        let (actions, not_action) = self.actions();
        let denies = self.denies_for_everyone();
        let after_removal: BTreeSet<usize> =
            self.allowed.difference(&denies.removed).copied().collect();
        let remaining: BTreeSet<usize> = after_removal
            .difference(&denies.restricted)
            .copied()
            .collect();
        let restricted_by: Vec<String> = denies
            .restricting
            .iter()
            .map(describe_restricting)
            .collect();
        if !remaining.is_empty() {
            let mut parts = vec![format!("{base} with no restricting condition")];
            parts.extend(notes);
            parts.extend(denies.notes);
            if !restricted_by.is_empty() {
                parts.push(format!(
                    "{} (not every allowed action); still open: {}",
                    restricted_by.join("; "),
                    self.summarize(&remaining)
                ));
            }
            out.public.push(PublicGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                actions,
                not_action,
                denied_actions: self.universe.names(&denies.removed),
                reason: parts.join("; "),
            });
        } else if !after_removal.is_empty() {
            out.restricted_public.push(RestrictedGrant {
                statement: self.stmt.index,
                sid: self.stmt.sid.clone(),
                actions,
                not_action,
                reason: format!("{base} restricted by {}", restricted_by.join("; ")),
                restricted_by,
            });
            for (deny, pins) in &denies.restricting {
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
                restricted_by: denies.notes.clone(),
                reason: format!(
                    "{base}, but every action it allows is denied to everyone: {}",
                    denies.notes.join("; ")
                ),
            });
        }
    }

    /// An Allow for any principal that its own conditions pin to fixed callers.
    fn everyone_pinned(
        &self,
        base: &str,
        pins: &[Pin],
        notes: &[String],
        out: &mut PolicyAnalysis,
    ) {
        let (actions, not_action) = self.actions();
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
        self.rows_from_all_pins(pins, "condition", out);
    }

    /// What the Deny statements take from an Allow for everyone.
    fn denies_for_everyone(&self) -> EveryoneDenies {
        let mut result = EveryoneDenies::default();
        for deny in self.denies {
            let overlap: BTreeSet<usize> =
                deny.covered.intersection(&self.allowed).copied().collect();
            if overlap.is_empty() {
                continue;
            }
            let label = label(deny.stmt);
            match deny_effect(deny.stmt, Subject::Everyone, self.ctx) {
                DenyEffect::Removes => {
                    result.notes.push(format!(
                        "Deny {label} removes {} for everyone",
                        self.summarize(&overlap)
                    ));
                    result.removed.extend(overlap);
                }
                DenyEffect::Exempts(pins) => {
                    result.restricted.extend(overlap);
                    result.restricting.push((label, pins));
                }
                DenyEffect::NoEffect(why) => {
                    result
                        .notes
                        .push(format!("Deny {label} does not remove access: {why}"));
                }
            }
        }
        result
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

/// What the Deny statements do to an Allow for everyone.
#[derive(Default)]
struct EveryoneDenies {
    /// Actions denied to everyone.
    removed: BTreeSet<usize>,
    /// Actions denied to everyone outside some pinned population.
    restricted: BTreeSet<usize>,
    /// Each such Deny's label and the populations it exempts.
    restricting: Vec<(String, Vec<Pin>)>,
    /// Reason notes, in Deny order.
    notes: Vec<String>,
}

/// `Deny statement[1] exempts only aws:PrincipalOrgID "o-1" or …`.
fn describe_restricting(r: &(String, Vec<Pin>)) -> String {
    format!(
        "Deny {} exempts only {}",
        r.0,
        r.1.iter()
            .map(|p| p.description.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    )
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
        Some(sid) => format!("statement[{}] {}", stmt.index, quote(sid)),
        None => format!("statement[{}]", stmt.index),
    }
}
