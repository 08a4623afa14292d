//! An account's IAM authorization details: its users, groups, roles and managed policies, as
//! `iam:GetAccountAuthorizationDetails` returns them. Key policies that delegate to IAM ("Enable
//! IAM User Permissions") leave the question "who can use this key" to these policies.
//!
//! Policy documents are kept as JSON text, decoded from the URL-encoded form IAM returns, and
//! parsed (as identity-based policies, by the policy library) only where they are evaluated.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The IAM operation that reads these details, as coverage gaps and request counts name it.
pub const OPERATION: &str = "GetAccountAuthorizationDetails";

/// Everything IAM says about one account's identities and their policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountAuthorizationDetails {
    /// The account the details belong to (IAM's answer does not name it; the reader does).
    pub account: String,
    #[serde(default)]
    pub users: Vec<IamUser>,
    #[serde(default)]
    pub groups: Vec<IamGroup>,
    #[serde(default)]
    pub roles: Vec<IamRole>,
    /// The managed policies, customer-managed and AWS-managed, with their default version.
    #[serde(default)]
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    /// The unique id (`AIDA…`), which a key policy shows once the user is deleted.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub path: String,
    /// Names of the groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    /// The ARN of the managed policy set as permissions boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IamGroup {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IamRole {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
}

/// A managed policy attached to an identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

/// A policy embedded in one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InlinePolicy {
    pub name: String,
    /// The policy document as JSON text.
    pub document: String,
}

/// A managed policy and the document of its default version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManagedPolicy {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub default_version_id: String,
    #[serde(default)]
    pub attachment_count: u64,
    /// The default version's document as JSON text; `None` when IAM listed no default version.
    #[serde(default)]
    pub document: Option<String>,
}

impl ManagedPolicy {
    /// AWS-managed policies live under the `aws` account (`arn:aws:iam::aws:policy/…`).
    pub fn is_aws_managed(&self) -> bool {
        self.arn.split(':').nth(4) == Some("aws")
    }
}

/// A user, group or role, borrowed: what the three share, for code that treats them alike.
#[derive(Debug, Clone, Copy)]
pub struct IdentityRef<'a> {
    /// `user`, `group` or `role`.
    pub kind: &'static str,
    pub name: &'a str,
    pub arn: &'a str,
    pub attached_policies: &'a [AttachedPolicy],
    pub inline_policies: &'a [InlinePolicy],
}

impl AccountAuthorizationDetails {
    /// Every user, then every group, then every role.
    pub fn identities(&self) -> impl Iterator<Item = IdentityRef<'_>> {
        let users = self.users.iter().map(|u| IdentityRef {
            kind: "user",
            name: &u.name,
            arn: &u.arn,
            attached_policies: &u.attached_policies,
            inline_policies: &u.inline_policies,
        });
        let groups = self.groups.iter().map(|g| IdentityRef {
            kind: "group",
            name: &g.name,
            arn: &g.arn,
            attached_policies: &g.attached_policies,
            inline_policies: &g.inline_policies,
        });
        let roles = self.roles.iter().map(|r| IdentityRef {
            kind: "role",
            name: &r.name,
            arn: &r.arn,
            attached_policies: &r.attached_policies,
            inline_policies: &r.inline_policies,
        });
        users.chain(groups).chain(roles)
    }

    /// The managed policy with this ARN, if IAM listed it.
    pub fn policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policies.iter().find(|p| p.arn == arn)
    }

    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&IamGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Appends one page of IAM's answer.
    pub fn extend(&mut self, page: AccountAuthorizationDetails) {
        self.users.extend(page.users);
        self.groups.extend(page.groups);
        self.roles.extend(page.roles);
        self.policies.extend(page.policies);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_policies_are_told_apart() {
        let aws = ManagedPolicy {
            arn: "arn:aws:iam::aws:policy/PowerUserAccess".into(),
            ..ManagedPolicy::default()
        };
        let ours = ManagedPolicy {
            arn: "arn:aws:iam::111122223333:policy/aws".into(),
            ..ManagedPolicy::default()
        };
        assert!(aws.is_aws_managed());
        assert!(!ours.is_aws_managed());
    }

    #[test]
    fn round_trips_through_json() {
        let details = AccountAuthorizationDetails {
            account: "111122223333".into(),
            users: vec![IamUser {
                name: "alice".into(),
                arn: "arn:aws:iam::111122223333:user/alice".into(),
                groups: vec!["admins".into()],
                inline_policies: vec![InlinePolicy {
                    name: "p".into(),
                    document: r#"{"Statement":[]}"#.into(),
                }],
                ..IamUser::default()
            }],
            ..AccountAuthorizationDetails::default()
        };
        let json = serde_json::to_string(&details).expect("serializes");
        assert!(!json.contains("permissions_boundary"), "{json}");
        let back: AccountAuthorizationDetails = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, details);
    }
}
