//! What to scan: the accounts (the caller's, a list, an accounts file or an AWS Organization)
//! (the region table and its selection are in [`crate::model::regions`]).

pub mod accounts_file;
pub mod org;

use std::path::PathBuf;

/// One account to scan, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountTarget {
    pub id: String,
    pub name: Option<String>,
    /// The role to assume; default `arn:<partition>:iam::<id>:role/<--role-name>`.
    pub role_arn: Option<String>,
    /// Overrides `--external-id` for this account.
    pub external_id: Option<String>,
}

impl AccountTarget {
    pub fn new(id: impl Into<String>) -> Self {
        AccountTarget {
            id: id.into(),
            ..AccountTarget::default()
        }
    }
}

/// Which accounts the user asked for (docs/organizations.md).
#[derive(Debug, Clone, Default)]
pub struct AccountSelection {
    /// List the accounts of the AWS Organization.
    pub org: bool,
    /// With `org`: only accounts under these OUs or roots, recursively.
    pub ous: Vec<String>,
    /// Only these accounts (with `org` or a file), or exactly these accounts (alone).
    pub accounts: Vec<String>,
    pub exclude_accounts: Vec<String>,
    pub accounts_file: Option<PathBuf>,
    /// Role assumed in every account but the caller's.
    pub role_name: String,
    pub external_id: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    #[error("'{0}' in {1} is not a 12-digit AWS account id")]
    BadAccountId(String, &'static str),
    #[error(
        "'{0}' in --ou is not an organizational unit id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)"
    )]
    BadOu(String),
    #[error("--ou needs --org: OUs are read from AWS Organizations")]
    OuWithoutOrg,
    #[error("'{0}' is not a valid IAM role name for --role-name")]
    BadRoleName(String),
    #[error("account {account} named in --accounts is not an ACTIVE account of {source_name}")]
    UnknownAccount {
        account: String,
        source_name: String,
    },
    #[error(
        "the account selection is empty: --accounts, --ou and --exclude-accounts leave nothing to scan"
    )]
    Empty,
}

pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_ou_or_root(text: &str) -> bool {
    let ok_chars = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = text.strip_prefix("ou-") {
        matches!(rest.split_once('-'), Some((a, b)) if ok_chars(a) && ok_chars(b))
    } else if let Some(rest) = text.strip_prefix("r-") {
        ok_chars(rest)
    } else {
        false
    }
}

impl AccountSelection {
    /// Checks the selection's syntax before any AWS call.
    pub fn validate(&self) -> Result<(), SelectionError> {
        for (ids, flag) in [
            (&self.accounts, "--accounts"),
            (&self.exclude_accounts, "--exclude-accounts"),
        ] {
            if let Some(bad) = ids.iter().find(|id| !is_account_id(id)) {
                return Err(SelectionError::BadAccountId(bad.clone(), flag));
            }
        }
        if !self.ous.is_empty() && !self.org {
            return Err(SelectionError::OuWithoutOrg);
        }
        if let Some(bad) = self.ous.iter().find(|ou| !is_ou_or_root(ou)) {
            return Err(SelectionError::BadOu(bad.clone()));
        }
        let role_ok = !self.role_name.is_empty()
            && self.role_name.len() <= 64
            && self
                .role_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
        if !role_ok {
            return Err(SelectionError::BadRoleName(self.role_name.clone()));
        }
        Ok(())
    }
}

/// Narrows candidate accounts by `--accounts` (each must be a candidate) and `--exclude-accounts`.
pub fn filter_accounts(
    candidates: Vec<AccountTarget>,
    include: &[String],
    exclude: &[String],
    source_name: &str,
) -> Result<Vec<AccountTarget>, SelectionError> {
    if let Some(missing) = include
        .iter()
        .find(|id| !candidates.iter().any(|c| &c.id == *id))
    {
        return Err(SelectionError::UnknownAccount {
            account: missing.clone(),
            source_name: source_name.to_string(),
        });
    }
    let selected: Vec<AccountTarget> = candidates
        .into_iter()
        .filter(|c| include.is_empty() || include.contains(&c.id))
        .filter(|c| !exclude.contains(&c.id))
        .collect();
    if selected.is_empty() {
        return Err(SelectionError::Empty);
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(targets: &[AccountTarget]) -> Vec<&str> {
        targets.iter().map(|t| t.id.as_str()).collect()
    }

    fn selection() -> AccountSelection {
        AccountSelection {
            role_name: "OrganizationAccountAccessRole".into(),
            ..AccountSelection::default()
        }
    }

    #[test]
    fn validates_ids_ous_and_role_names() {
        assert_eq!(selection().validate(), Ok(()));
        let bad = AccountSelection {
            accounts: vec!["1234".into()],
            ..selection()
        };
        assert_eq!(
            bad.validate(),
            Err(SelectionError::BadAccountId("1234".into(), "--accounts"))
        );
        let no_org = AccountSelection {
            ous: vec!["ou-ab12-cd34ef56".into()],
            ..selection()
        };
        assert_eq!(no_org.validate(), Err(SelectionError::OuWithoutOrg));
        let good_ou = AccountSelection {
            org: true,
            ous: vec!["ou-ab12-cd34ef56".into(), "r-ab12".into()],
            ..selection()
        };
        assert_eq!(good_ou.validate(), Ok(()));
        let bad_ou = AccountSelection {
            org: true,
            ous: vec!["engineering".into()],
            ..selection()
        };
        assert_eq!(
            bad_ou.validate(),
            Err(SelectionError::BadOu("engineering".into()))
        );
        let bad_role = AccountSelection {
            role_name: "has space".into(),
            ..selection()
        };
        assert!(matches!(
            bad_role.validate(),
            Err(SelectionError::BadRoleName(_))
        ));
    }

    #[test]
    fn include_must_name_candidates_and_exclude_wins() {
        let candidates: Vec<AccountTarget> = ["111111111111", "222222222222", "333333333333"]
            .into_iter()
            .map(AccountTarget::new)
            .collect();
        let all =
            filter_accounts(candidates.clone(), &[], &["222222222222".into()], "o-x").expect("ok");
        assert_eq!(ids(&all), ["111111111111", "333333333333"]);
        let some = filter_accounts(
            candidates.clone(),
            &["333333333333".into(), "111111111111".into()],
            &["111111111111".into()],
            "o-x",
        )
        .expect("ok");
        assert_eq!(ids(&some), ["333333333333"]);
        let err = filter_accounts(
            candidates.clone(),
            &["444444444444".into()],
            &[],
            "organization o-x",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "account 444444444444 named in --accounts is not an ACTIVE account of organization o-x"
        );
        let none = filter_accounts(
            candidates,
            &["111111111111".into()],
            &["111111111111".into()],
            "o-x",
        );
        assert_eq!(none.unwrap_err(), SelectionError::Empty);
    }
}
