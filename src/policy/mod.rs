//! Key-policy parsing and analysis: pure functions over `serde_json`, no AWS calls.
//!
//! - [`KeyPolicy::parse`] normalizes a policy document (principals, actions, conditions);
//! - [`analyze`] finds public access (POL001), cross-account access (POL002) and deleted
//!   principals, each with a reason text for finding evidence;
//! - [`policy_diff`] compares a declared and a live policy semantically (DRF003).

mod actions;
mod analyze;
mod compare;
mod conditions;
mod model;
mod principal;

#[cfg(test)]
mod tests;

pub use actions::{KMS_ACTIONS, kms_action_matches};
pub use analyze::{
    AccountClass, AnalysisContext, CrossAccountGrant, GrantScope, PolicyAnalysis, PublicGrant,
    RestrictedGrant, ServiceGrant, analyze,
};
pub use compare::{PolicyDiff, StatementDiff, VersionChange, canonicalize, policy_diff};
pub use conditions::{BaseOperator, Condition, ConditionOperator, SetQualifier};
pub use model::{
    ActionClause, Effect, KeyPolicy, PolicyError, PrincipalClause, PrincipalSet, Principals,
    ResourceClause, Statement,
};
pub use principal::{AwsPrincipal, is_account_id, is_unique_id};
