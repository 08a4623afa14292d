//! Explicit Denies: of the key policy for every principal, and of an IAM identity's own
//! policies (and its groups') for that identity.
//!
//! A Deny takes actions away only when it certainly applies to the principal; when it may
//! (conditions true for some requests, a NotPrincipal that AWS matches by session ARN), the
//! entry stays with certainty `may` and the reason says which Deny.

use crate::policy::{
    AnalysisContext, AwsPrincipal, Condition, DenyCondition, IdentityStatement, Pin, PinTarget,
    PrincipalClause, PrincipalSet, Principals, Statement, deny_condition,
};

use super::classes::{ActionSet, select};
use super::scope::{Applies, resource_applies};
use crate::model::access::Principal;

/// Who a Deny is judged against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub principal: &'a Principal,
    /// The principal's account, when it has one.
    pub account: Option<&'a str>,
    /// The principal's own ARN (a role, user, group or root user).
    pub arn: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub(crate) fn of(principal: &'a Principal) -> Subject<'a> {
        let (account, arn) = match principal {
            Principal::Role { arn } | Principal::User { arn } | Principal::Group { arn } => {
                (arn.split(':').nth(4), Some(arn.as_str()))
            }
            Principal::Account { account } => (Some(account.as_str()), None),
            Principal::AccountRoot { account } => (Some(account.as_str()), None),
            Principal::Service { for_account, .. } => (for_account.as_deref(), None),
            // Sessions and federated users: a Deny naming their account reaches them.
            Principal::Other { value } if value.starts_with("arn:") => {
                (super::principals::account_of_arn(value), None)
            }
            _ => (None, None),
        };
        Subject {
            principal,
            account,
            arn,
        }
    }
}

/// What one Deny does to one principal's access (for the actions it covers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Removes,
    NoEffect,
    /// It may apply: the entry becomes `may`, for this reason.
    May(String),
    /// For an entry open to any principal: it applies to everyone but these (those its
    /// NotPrincipal lists, or the accounts and organizations its conditions exempt), who keep
    /// the access.
    ExemptsOnly(Vec<Principal>),
}

/// Where a Deny statement comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    KeyPolicy(&'a Statement),
    /// A statement of an IAM policy of the identity (or of one of its groups).
    Identity(&'a IdentityStatement),
}

/// A Deny statement, how reasons name it, and the classified actions it covers.
#[derive(Debug, Clone)]
pub(crate) struct DenyRule<'a> {
    pub label: String,
    pub covered: ActionSet,
    pub source: Source<'a>,
}

impl<'a> DenyRule<'a> {
    /// A Deny statement of the key policy; `covered`: the classified actions it covers
    /// (worked out once per policy).
    pub(crate) fn key_policy_covering(
        stmt: &'a Statement,
        label: String,
        covered: ActionSet,
    ) -> DenyRule<'a> {
        DenyRule {
            label,
            covered,
            source: Source::KeyPolicy(stmt),
        }
    }

    pub(crate) fn identity(stmt: &'a IdentityStatement, label: String) -> DenyRule<'a> {
        DenyRule {
            label,
            covered: select(|a| stmt.actions.covers(a)),
            source: Source::Identity(stmt),
        }
    }

    /// Whether the Deny takes the covered actions away from `subject`.
    pub(crate) fn outcome(
        &self,
        subject: &Subject<'_>,
        key_arn: &str,
        ctx: &AnalysisContext,
    ) -> Outcome {
        let (resources, conditions) = match self.source {
            Source::KeyPolicy(stmt) => (&stmt.resources, stmt.conditions.as_slice()),
            Source::Identity(stmt) => (&stmt.resources, stmt.conditions.as_slice()),
        };
        match resource_applies(resources, key_arn) {
            Applies::Yes => {}
            Applies::No => return Outcome::NoEffect,
            Applies::May(why) => return Outcome::May(why),
        }
        if let Source::KeyPolicy(stmt) = self.source
            && let Some(outcome) = principal_part(&stmt.principal, subject, conditions)
        {
            return outcome;
        }
        conditions_part(conditions, subject, ctx).unwrap_or(Outcome::Removes)
    }
}

/// The Deny's Principal / NotPrincipal against the subject; `None` when it reaches the subject
/// (the conditions decide the rest).
fn principal_part(
    clause: &PrincipalClause,
    subject: &Subject<'_>,
    conditions: &[Condition],
) -> Option<Outcome> {
    match clause {
        PrincipalClause::Principal(p) if p.is_everyone() => None,
        PrincipalClause::Principal(Principals::Any) => None,
        PrincipalClause::Principal(Principals::Set(set)) => {
            if names(set, subject) {
                None
            } else {
                Some(Outcome::NoEffect)
            }
        }
        PrincipalClause::NotPrincipal(p) if p.is_everyone() => Some(Outcome::NoEffect),
        PrincipalClause::NotPrincipal(Principals::Any) => Some(Outcome::NoEffect),
        PrincipalClause::NotPrincipal(Principals::Set(set)) => {
            not_principal(set, subject, conditions)
        }
    }
}

/// Whether a Deny's Principal names the subject: its ARN, its service, or its account (a
/// Deny naming an account reaches every principal of it).
fn names(set: &PrincipalSet, subject: &Subject<'_>) -> bool {
    if let Principal::Service { service, .. } = subject.principal {
        return set.service.iter().any(|s| s.eq_ignore_ascii_case(service));
    }
    set.aws.iter().any(|q| match q {
        AwsPrincipal::Account { account, .. } => subject.account == Some(account.as_str()),
        AwsPrincipal::Arn { arn, .. } => subject.arn.is_some_and(|s| s.eq_ignore_ascii_case(arn)),
        _ => false,
    })
}

/// A Deny with NotPrincipal reaches everyone it does not list. AWS matches a role's requests by
/// their assumed-role session ARN, so a role listed by its own ARN may still be denied; and
/// listing an account exempts its root user only.
fn not_principal(
    set: &PrincipalSet,
    subject: &Subject<'_>,
    conditions: &[Condition],
) -> Option<Outcome> {
    let listed_arn = |arn: &str| {
        set.aws.iter().any(|q| match q {
            AwsPrincipal::Arn { arn: a, .. } => a.eq_ignore_ascii_case(arn),
            _ => false,
        })
    };
    let lists_account = |account: &str| {
        set.aws
            .iter()
            .any(|q| matches!(q, AwsPrincipal::Account { account: a, .. } if a == account))
    };
    match subject.principal {
        Principal::Any | Principal::Organization { .. } | Principal::OrganizationalUnit { .. } => {
            if conditions.is_empty() && matches!(subject.principal, Principal::Any) {
                Some(Outcome::ExemptsOnly(listed_principals(set)))
            } else {
                Some(Outcome::May(
                    "its NotPrincipal leaves out some principals".to_string(),
                ))
            }
        }
        Principal::Service { service, .. } => set
            .service
            .iter()
            .any(|s| s.eq_ignore_ascii_case(service))
            .then_some(Outcome::NoEffect),
        // IAM's reference: a user is exempted when both it and its account are listed.
        Principal::User { arn } if listed_arn(arn) => {
            if subject.account.is_some_and(lists_account) {
                Some(Outcome::NoEffect)
            } else {
                Some(Outcome::May(format!(
                    "its NotPrincipal lists {arn} but not its account, and AWS may still deny it"
                )))
            }
        }
        Principal::Role { arn } if listed_arn(arn) => Some(Outcome::May(format!(
            "its NotPrincipal lists {arn}, but AWS matches the role's sessions by their assumed-role ARN"
        ))),
        Principal::AccountRoot { account } if lists_account(account) => Some(Outcome::NoEffect),
        // Listing an account exempts its root user, not its other principals.
        Principal::Account { account } if lists_account(account) => Some(Outcome::May(format!(
            "its NotPrincipal exempts the root user of account {account}, not its other principals"
        ))),
        _ => None,
    }
}

/// The principals a NotPrincipal lists, as entries name them.
fn listed_principals(set: &PrincipalSet) -> Vec<Principal> {
    let mut out: Vec<Principal> = set
        .aws
        .iter()
        .filter_map(|q| match q {
            AwsPrincipal::Account { account, .. } => Some(Principal::AccountRoot {
                account: account.clone(),
            }),
            AwsPrincipal::Arn { arn, kind, .. } => Some(super::principals::of_arn(arn, kind)),
            _ => None,
        })
        .collect();
    out.extend(set.service.iter().map(|s| Principal::Service {
        service: s.clone(),
        for_account: None,
    }));
    out
}

/// The Deny's conditions against the subject; `None` when all of them hold for it. For an
/// entry open to any principal, conditions that exempt fixed accounts or organizations leave
/// the access to exactly those ([`Outcome::ExemptsOnly`]).
fn conditions_part(
    conditions: &[Condition],
    subject: &Subject<'_>,
    ctx: &AnalysisContext,
) -> Option<Outcome> {
    let mut exempted: Vec<Principal> = Vec::new();
    for c in conditions {
        match deny_condition(c, ctx) {
            DenyCondition::Always => {}
            DenyCondition::Exempts(pin) => {
                if matches!(subject.principal, Principal::Any)
                    && let Some(population) = population(&pin)
                {
                    // ANDed conditions: the Deny spares whoever fails any one of them.
                    exempted.extend(population);
                    continue;
                }
                match exempt(&pin, subject, ctx) {
                    Some(true) => return Some(Outcome::NoEffect),
                    Some(false) => {}
                    None => {
                        return Some(Outcome::May(format!(
                            "it applies when {}, which the analysis cannot decide for {}",
                            pin.description,
                            subject.principal.describe()
                        )));
                    }
                }
            }
            DenyCondition::Partial(why) => return Some(Outcome::May(why)),
        }
    }
    (!exempted.is_empty()).then_some(Outcome::ExemptsOnly(exempted))
}

/// The principals a condition of a Deny exempts, when they are fixed accounts or organizations.
fn population(pin: &Pin) -> Option<Vec<Principal>> {
    match &pin.target {
        PinTarget::Accounts(list) if !list.is_empty() => Some(
            list.iter()
                .map(|(account, _)| Principal::Account {
                    account: account.clone(),
                })
                .collect(),
        ),
        PinTarget::Organizations(orgs) if !orgs.is_empty() => Some(
            orgs.iter()
                .map(|o| Principal::Organization {
                    organization_id: o.clone(),
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Whether the subject is in the population a Deny's condition exempts (`None`: unknown).
fn exempt(pin: &Pin, subject: &Subject<'_>, ctx: &AnalysisContext) -> Option<bool> {
    if subject.principal.is_service() {
        // A service's request may lack the caller keys (aws:PrincipalAccount…) altogether.
        return None;
    }
    match &pin.target {
        PinTarget::Accounts(list) => {
            let account = subject.account?;
            Some(list.iter().any(|(a, _)| a == account))
        }
        PinTarget::Organizations(orgs) => {
            if let Principal::Organization { organization_id } = subject.principal {
                return Some(orgs.contains(organization_id));
            }
            let account = subject.account?;
            let ours = ctx.organization_id.as_deref()?;
            let member = ctx
                .organization_accounts
                .as_ref()
                .map(|set| set.contains(account))?;
            if orgs.iter().any(|o| o == ours) {
                Some(member)
            } else if member {
                // An account belongs to one organization only.
                Some(false)
            } else {
                None
            }
        }
        PinTarget::Other => None,
    }
}
