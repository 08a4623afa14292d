//! From candidates to entries: every path found (a key-policy statement, an IAM policy
//! statement, a grant) becomes a candidate for one principal; Deny statements and permissions
//! boundaries then take actions away, and what is left becomes one entry per action class.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::model::KeyRecord;
use crate::policy::AnalysisContext;

use super::candidate::{Candidate, Doubt, Doubts, add_doubt};
use super::classes::{ActionSet, in_class};
use super::deny::{DenyRule, Outcome, Subject};
use super::identity::AccountIam;
use crate::model::access::{AccessEntry, ActionClass, Certainty, Principal};

/// What the analysis needs besides the key and its account's IAM details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessContext {
    /// The auditor's organization, when known.
    pub organization_id: Option<String>,
    /// Member accounts of that organization, when known.
    pub organization_accounts: Option<BTreeSet<String>>,
    /// Why the key account's IAM details are absent (`--no-iam`, the read was denied…), for the
    /// entry that stands for the IAM policies nobody read.
    pub iam_missing_reason: Option<String>,
}

/// The state of one key's analysis.
pub(crate) struct Evaluation<'a> {
    pub key: &'a KeyRecord,
    pub ctx: &'a AnalysisContext,
    pub iam: Option<&'a AccountIam>,
    /// Why IAM was not read, when it was not.
    pub iam_missing: String,
    /// The key policy's Deny statements.
    pub denies: Vec<DenyRule<'a>>,
    pub entries: Vec<AccessEntry>,
    pub unknown: Vec<String>,
}

impl Evaluation<'_> {
    pub(crate) fn note_unknown(&mut self, text: String) {
        if !self.unknown.contains(&text) {
            self.unknown.push(text);
        }
    }

    /// Applies the Denies (and boundary) to `cand` and records what is left.
    pub(crate) fn finish(&mut self, cand: Candidate) {
        let mut actions = cand.actions;
        let mut may = Doubts::new();
        let mut spawned = Vec::new();
        let identity_rules = match (self.iam, cand.identity) {
            (Some(iam), Some(i)) => iam.deny_rules(i),
            _ => Vec::new(),
        };
        let subject = Subject::of(&cand.principal);
        for rule in self.denies.iter().chain(&identity_rules) {
            let overlap: ActionSet = rule.covered.intersection(&actions).copied().collect();
            if overlap.is_empty() {
                continue;
            }
            match rule.outcome(&subject, &self.key.arn, self.ctx) {
                Outcome::Removes => actions.retain(|a| !overlap.contains(a)),
                Outcome::NoEffect => {}
                Outcome::May(why) => {
                    for a in &overlap {
                        let before = format!("Deny {} may remove ", rule.label);
                        add_doubt(&mut may, a, before, format!(": {why}"));
                    }
                }
                Outcome::ExemptsOnly(listed) => {
                    actions.retain(|a| !overlap.contains(a));
                    for principal in listed {
                        let mut exempted = cand.clone();
                        exempted.label = match &principal {
                            Principal::Account { account } if *account == self.key.account => {
                                Some(format!("every principal of account {account}"))
                            }
                            _ => None,
                        };
                        exempted.principal = principal;
                        exempted.actions = overlap;
                        exempted.grant = format!(
                            "{}; Deny {} denies it to every other principal",
                            cand.grant, rule.label
                        );
                        spawned.push(exempted);
                    }
                }
            }
        }
        let mut notes = cand.notes.clone();
        if let (Some(iam), Some(i)) = (self.iam, cand.identity) {
            notes.extend(iam.limits(i, cand.bounded, &mut actions, &mut may, &self.key.arn));
        }
        self.record(&cand, &actions, &notes, &may);
        for exempted in spawned {
            self.finish(exempted);
        }
    }

    fn record(&mut self, cand: &Candidate, actions: &ActionSet, notes: &[String], may: &Doubts) {
        for class in ActionClass::ALL {
            let class_actions = in_class(actions, class);
            if class_actions.is_empty() {
                continue;
            }
            let mut why: Vec<String> = notes.to_vec();
            why.extend(render_doubts(&class_actions, may));
            let certainty = if why.is_empty() {
                Certainty::Yes
            } else {
                Certainty::May
            };
            let reason = std::iter::once(cand.grant.clone())
                .chain(why)
                .collect::<Vec<_>>()
                .join("; ");
            self.entries.push(AccessEntry {
                class,
                principal_label: cand
                    .label
                    .clone()
                    .unwrap_or_else(|| cand.principal.describe()),
                principal: cand.principal.clone(),
                actions: class_actions.iter().map(|a| Cow::Borrowed(*a)).collect(),
                path: cand.path.clone(),
                path_label: cand.path_label.clone(),
                conditions: cand.conditions.clone(),
                certainty,
                reason,
            });
        }
    }
}

/// The doubts about an entry's actions, each once, naming the actions it is about unless it
/// is about all of them.
fn render_doubts(class_actions: &[&'static str], may: &Doubts) -> Vec<String> {
    let mut grouped: Vec<(&Doubt, Vec<&str>)> = Vec::new();
    for action in class_actions {
        for doubt in may.get(action).into_iter().flatten() {
            match grouped.iter_mut().find(|(d, _)| *d == doubt) {
                Some((_, list)) => list.push(action),
                None => grouped.push((doubt, vec![action])),
            }
        }
    }
    grouped
        .into_iter()
        .map(|(doubt, list)| {
            let what = if list.len() == class_actions.len() {
                "it".to_string()
            } else {
                list.join(", ")
            };
            format!("{}{what}{}", doubt.before, doubt.after)
        })
        .collect()
}
