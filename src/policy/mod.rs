//! Key-policy parsing and analysis: pure functions over `serde_json`, no AWS calls.
//!
//! - [`KeyPolicy::parse`] normalizes a policy document (principals, actions, conditions);
//!   [`IdentityPolicy::parse`] does the same for an IAM policy, whose statements name no principal;
//! - [`analyze`] finds public access (POL001), cross-account access (POL002) and deleted
//!   principals, each with a reason text for finding evidence;
//! - [`policy_diff`] compares a declared and a live policy semantically (DRF003).
//!
//! Modules, each importing only those above it: `text`, `actions`, `principal`, `context` →
//! `condition` (syntax) → `document` (parsing) and `pin` (what a condition pins) → `deny` →
//! `verdict` (result types) → `evaluator` ([`analyze`]); `compare` stands apart.

mod actions;
mod compare;
mod condition;
mod context;
mod deny;
mod document;
mod evaluator;
mod pin;
mod principal;
mod text;
mod verdict;

#[cfg(test)]
mod operator_tests;
#[cfg(test)]
mod tests;

pub use actions::{KMS_ACTIONS, kms_action_matches, resource_matches};
pub use compare::{PolicyDiff, StatementDiff, VersionChange, canonicalize, policy_diff};
pub use condition::{BaseOperator, Condition, ConditionOperator, SetQualifier};
pub use context::AnalysisContext;
pub use document::{
    ActionClause, Effect, IdentityPolicy, IdentityStatement, KeyPolicy, PolicyError,
    PrincipalClause, PrincipalSet, Principals, ResourceClause, Statement,
};
pub use evaluator::analyze;
pub use principal::{AwsPrincipal, is_account_id, is_unique_id};
pub use verdict::{
    AccountClass, CrossAccountGrant, GrantScope, PolicyAnalysis, PublicGrant, RestrictedGrant,
    ServiceGrant,
};

// The condition semantics the effective-access analysis shares with [`analyze`].
pub(crate) use pin::{DenyCondition, Pin, PinTarget, allow_pin, deny_condition};
pub(crate) use text::quote;
