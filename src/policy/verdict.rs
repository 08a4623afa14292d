//! The verdicts of [`super::analyze`]: who a key policy opens the key to, each with the reason
//! text a finding quotes as evidence.

use serde::Serialize;

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
