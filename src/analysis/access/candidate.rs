//! A candidate: one path to access for one principal, before Deny statements and permissions
//! boundaries are applied, and the doubts collected about its actions on the way.

use std::collections::BTreeMap;

use super::classes::ActionSet;
use crate::model::access::{AccessCondition, AccessPath, Principal};

/// A doubt about some actions of a candidate, read `before` + the actions (or "it", when they
/// are all the entry's) + `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Doubt {
    pub before: String,
    pub after: String,
}

/// The doubts about each action.
pub(crate) type Doubts = BTreeMap<&'static str, Vec<Doubt>>;

pub(crate) fn add_doubt(doubts: &mut Doubts, action: &'static str, before: String, after: String) {
    doubts
        .entry(action)
        .or_default()
        .push(Doubt { before, after });
}

/// One path to access for one principal, before Denies.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub principal: Principal,
    /// `None`: the principal's own description.
    pub label: Option<String>,
    pub path: AccessPath,
    pub path_label: String,
    pub actions: ActionSet,
    pub conditions: Vec<AccessCondition>,
    /// Uncertainties that make every entry of the candidate `may`.
    pub notes: Vec<String>,
    /// What grants the access: the start of every entry's reason.
    pub grant: String,
    /// The IAM identity (an index into [`AccountIam`]) whose own Denies apply.
    pub identity: Option<usize>,
    /// Whether the identity's permissions boundary limits this path (IAM policies: yes).
    pub bounded: bool,
}

impl Candidate {
    pub(crate) fn new(
        principal: Principal,
        path: AccessPath,
        path_label: String,
        actions: ActionSet,
        grant: String,
    ) -> Candidate {
        Candidate {
            principal,
            label: None,
            path,
            path_label,
            actions,
            conditions: Vec::new(),
            notes: Vec::new(),
            grant,
            identity: None,
            bounded: false,
        }
    }
}
