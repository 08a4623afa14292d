//! What the analysis knows about a key's surroundings: its account, the trusted accounts and
//! the auditor's organization. Kept apart so every evaluator depends on it, not on each other.

use std::collections::BTreeSet;

use serde::Serialize;

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
    pub(crate) fn in_organization(&self, account: &str) -> Option<bool> {
        self.organization_accounts
            .as_ref()
            .map(|set| set.contains(account))
    }
}
