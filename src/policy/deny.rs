//! Whether a Deny statement takes access away from a principal, an account, an organization or
//! everyone (for the actions it covers).
//!
//! Conservative: a Deny that may not apply (conditions true only for some requests, a
//! NotResource that may exclude the key, a NotPrincipal that may exempt the subject) takes
//! nothing away.

use std::collections::BTreeSet;

use super::context::AnalysisContext;
use super::document::{PrincipalClause, Principals, ResourceClause, Statement};
use super::pin::{DenyCondition, Pin, PinTarget, deny_condition};
use super::principal::AwsPrincipal;

/// A Deny statement and the actions (indexes into the policy's action universe) it covers.
pub(crate) struct Deny<'a> {
    pub stmt: &'a Statement,
    pub covered: BTreeSet<usize>,
}

/// Who a grant reaches, for deciding whether a Deny takes it away.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    Everyone,
    /// A whole account (`arn: None`) or one principal of it.
    Account {
        account: &'a str,
        arn: Option<&'a str>,
    },
    Organization(&'a str),
}

pub(crate) enum DenyEffect {
    Removes,
    /// Applies to everyone except the populations of these pins (ORed).
    Exempts(Vec<Pin>),
    NoEffect(String),
}

/// Whether a Deny statement takes access away from `subject` (for the actions it covers).
pub(crate) fn deny_effect(
    deny: &Statement,
    subject: Subject<'_>,
    ctx: &AnalysisContext,
) -> DenyEffect {
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
