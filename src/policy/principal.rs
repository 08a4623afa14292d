//! Principal values: what the `Principal` / `NotPrincipal` element names, normalized so that
//! `"123456789012"` and `arn:aws:iam::123456789012:root` are the same account.

use serde::Serialize;

use super::actions::has_wildcard;
use crate::model::arn::{Arn, root_arn};

/// Prefixes of IAM unique ids. IAM rewrites a principal ARN into its unique id when the
/// principal is deleted, so such a value in a key policy names nobody any more.
const UNIQUE_ID_PREFIXES: &[&str] = &[
    "AIDA", "AROA", "AGPA", "AIPA", "ANPA", "ANVA", "APKA", "ASCA", "ASIA", "AKIA", "ABIA", "ACCA",
];

/// One entry of the `AWS` principal list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwsPrincipal {
    /// `"*"`: every principal.
    Any,
    /// A principal ARN whose account field holds a wildcard (`arn:aws:iam::*:root`). IAM
    /// rejects these, but if one is seen it is treated like `"*"`: it names no fixed account.
    Wildcard { value: String },
    /// An account: a bare 12-digit id or `arn:<partition>:iam::<id>:root`. Grants every
    /// principal of the account that its own IAM policies allow.
    Account { account: String, arn: String },
    /// A role, user, assumed-role session, federated user or identity provider of an account.
    Arn {
        account: String,
        arn: String,
        /// The resource type: `role`, `user`, `assumed-role`, `federated-user`, …
        kind: String,
    },
    /// An IAM unique id (`AROA…`, `AIDA…`): a deleted principal. Grants nothing.
    UniqueId { id: String },
    /// Anything else, kept verbatim so it can be reported.
    Unrecognized { value: String },
}

impl AwsPrincipal {
    /// Normalizes one `AWS` principal string.
    pub fn parse(value: &str) -> Self {
        if value == "*" {
            return Self::Any;
        }
        if is_account_id(value) {
            return Self::Account {
                account: value.to_string(),
                arn: root_arn("aws", value),
            };
        }
        if let Some(arn) = Arn::parse_any_case(value)
            && (arn.service == "iam" || arn.service == "sts")
        {
            if has_wildcard(arn.account) {
                return Self::Wildcard {
                    value: value.to_string(),
                };
            }
            if is_account_id(arn.account) {
                if arn.resource == "root" {
                    return Self::Account {
                        account: arn.account.to_string(),
                        arn: root_arn(arn.partition, arn.account),
                    };
                }
                let kind = arn.resource.split('/').next().unwrap_or_default();
                return Self::Arn {
                    account: arn.account.to_string(),
                    arn: value.to_string(),
                    kind: kind.to_string(),
                };
            }
        }
        if is_unique_id(value) {
            return Self::UniqueId {
                id: value.to_string(),
            };
        }
        Self::Unrecognized {
            value: value.to_string(),
        }
    }

    /// The account the principal belongs to, when it names one.
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Account { account, .. } | Self::Arn { account, .. } => Some(account),
            _ => None,
        }
    }

    /// Whether it stands for every principal (`"*"` or a wildcard account).
    pub fn is_everyone(&self) -> bool {
        matches!(self, Self::Any | Self::Wildcard { .. })
    }

    /// The normalized text: the root ARN for accounts, else the value as written.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Any => "*",
            Self::Wildcard { value } | Self::Unrecognized { value } => value,
            Self::Account { arn, .. } | Self::Arn { arn, .. } => arn,
            Self::UniqueId { id } => id,
        }
    }
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An IAM unique id: known 4-letter prefix followed by upper-case letters and digits.
pub fn is_unique_id(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && UNIQUE_ID_PREFIXES.iter().any(|p| s.starts_with(p))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}
