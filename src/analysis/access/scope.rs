//! Whether a statement applies to this key (its Resource / NotResource), and conditions as an
//! entry lists them.

use crate::policy::{Condition, ResourceClause, resource_matches};

use crate::model::access::AccessCondition;

/// Whether a statement's resource element covers the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Applies {
    Yes,
    No,
    /// It cannot be decided statically; the text says why.
    May(String),
}

/// `Resource` / `NotResource` against the key's ARN. A key policy's `"*"` is the key itself;
/// a pattern with a policy variable depends on the request.
pub(crate) fn resource_applies(resources: &ResourceClause, key_arn: &str) -> Applies {
    let variable = |patterns: &[String]| patterns.iter().find(|p| p.contains("${")).cloned();
    match resources {
        ResourceClause::Unspecified => Applies::Yes,
        ResourceClause::Resource(patterns) => {
            if patterns.iter().any(|p| resource_matches(p, key_arn)) {
                Applies::Yes
            } else if let Some(p) = variable(patterns) {
                Applies::May(format!("its Resource {p} holds a policy variable"))
            } else {
                Applies::No
            }
        }
        ResourceClause::NotResource(patterns) => {
            if patterns.iter().any(|p| resource_matches(p, key_arn)) {
                Applies::No
            } else if let Some(p) = variable(patterns) {
                Applies::May(format!("its NotResource {p} holds a policy variable"))
            } else {
                Applies::Yes
            }
        }
    }
}

pub(crate) fn access_condition(c: &Condition) -> AccessCondition {
    AccessCondition {
        key: c.key.clone(),
        operator: c.operator.raw.clone(),
        values: c.values.clone(),
    }
}
