//! `--accounts-file`: the accounts to scan without AWS Organizations (docs/organizations.md).
//!
//! ```yaml
//! accounts:
//!   - id: "222222222222"
//!     name: prod                                          # optional
//!     role_arn: arn:aws:iam::222222222222:role/KmsAudit   # optional; else from --role-name
//!     external_id: audit-2026                             # optional
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::AccountTarget;
use crate::model::arn::Arn;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    accounts: Vec<Spanned<AccountEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    id: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role_arn: Option<Spanned<String>>,
    #[serde(default)]
    external_id: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountsFileError {
    #[error("cannot read the accounts file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{path}:{line}: {field}: {reason}")]
    Invalid {
        path: PathBuf,
        line: u64,
        field: &'static str,
        reason: String,
    },
}

/// Reads and validates an accounts file.
pub fn load(path: &Path) -> Result<Vec<AccountTarget>, AccountsFileError> {
    let text = crate::inputs::input::read_text(path, crate::inputs::input::SETTINGS_LIMIT)
        .map_err(|err| AccountsFileError::Read {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Vec<AccountTarget>, AccountsFileError> {
    let file: AccountsFile = crate::inputs::yaml::from_str(text).map_err(|err| {
        let message = crate::inputs::yaml::message(&err);
        AccountsFileError::Parse {
            path: path.to_path_buf(),
            reason: match crate::inputs::yaml::location(&err) {
                Some((line, column)) => format!("line {line}, column {column}: {message}"),
                None => message,
            },
        }
    })?;
    let invalid = |line: u64, field: &'static str, reason: String| AccountsFileError::Invalid {
        path: path.to_path_buf(),
        line,
        field,
        // The values quoted in it may hold line breaks: the error stays on one line.
        reason: crate::inputs::yaml::printable(&reason),
    };
    let mut targets: Vec<AccountTarget> = Vec::new();
    for entry in file.accounts {
        let line = entry.referenced.line();
        let entry = entry.value;
        let id = entry.id.value.trim().to_string();
        if !super::is_account_id(&id) {
            return Err(invalid(
                entry.id.referenced.line(),
                "id",
                format!(
                    "'{id}' is not a 12-digit AWS account id (quote it so YAML keeps leading zeros)"
                ),
            ));
        }
        if targets.iter().any(|t| t.id == id) {
            return Err(invalid(line, "id", format!("account {id} is listed twice")));
        }
        if let Some(role_arn) = &entry.role_arn {
            let Some(arn) = Arn::parse(&role_arn.value).filter(|a| a.resource.starts_with("role/"))
            else {
                return Err(invalid(
                    role_arn.referenced.line(),
                    "role_arn",
                    format!("'{}' is not an IAM role ARN", role_arn.value),
                ));
            };
            let arn_account = arn.account;
            if arn_account != id {
                return Err(invalid(
                    role_arn.referenced.line(),
                    "role_arn",
                    format!("the role is in account {arn_account}, not in account {id}"),
                ));
            }
        }
        targets.push(AccountTarget {
            id,
            name: entry.name,
            role_arn: entry.role_arn.map(|r| r.value),
            external_id: entry.external_id,
        });
    }
    if targets.is_empty() {
        return Err(AccountsFileError::Parse {
            path: path.to_path_buf(),
            reason: "the file lists no accounts".to_string(),
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<AccountTarget>, AccountsFileError> {
        parse(Path::new("accounts.yaml"), text)
    }

    #[test]
    fn reads_accounts_with_optional_fields() {
        let targets = parse_str(
            "accounts:\n  - id: \"222222222222\"\n    name: prod\n    role_arn: arn:aws:iam::222222222222:role/KmsAudit\n    external_id: audit-2026\n  - id: \"333333333333\"\n",
        )
        .expect("valid");
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].name.as_deref(), Some("prod"));
        assert_eq!(
            targets[0].role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/KmsAudit")
        );
        assert_eq!(targets[0].external_id.as_deref(), Some("audit-2026"));
        assert_eq!(targets[1].role_arn, None);
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let err =
            parse_str("accounts:\n  - id: \"222222222222\"\n  - id: \"12345\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "accounts.yaml:3: id: '12345' is not a 12-digit AWS account id (quote it so YAML keeps leading zeros)"
        );
        let err = parse_str(
            "accounts:\n  - id: \"222222222222\"\n    role_arn: arn:aws:iam::333333333333:role/X\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("accounts.yaml:3: role_arn: the role is in account 333333333333"),
            "{err}"
        );
        let err = parse_str("accounts:\n  - id: \"222222222222\"\n  - id: \"222222222222\"\n")
            .unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
        for not_a_role in [
            "arn:aws:iam::222222222222:user/X",
            "arn:aws:iam:role/X",
            "role/X",
        ] {
            let err = parse_str(&format!(
                "accounts:\n  - id: \"222222222222\"\n    role_arn: {not_a_role}\n"
            ))
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("accounts.yaml:3: role_arn: '{not_a_role}' is not an IAM role ARN")
            );
        }
    }

    #[test]
    fn the_example_accounts_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/accounts.yaml");
        let targets = load(&path).expect("examples/accounts.yaml");
        assert_eq!(targets.len(), 2);
    }

    #[test]
    fn unknown_fields_are_errors_with_a_location() {
        let err = parse_str("accounts:\n  - id: \"222222222222\"\n    rolearn: x\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("accounts.yaml: "), "{text}");
        assert!(text.contains("rolearn"), "{text}");
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn a_line_break_in_a_value_keeps_the_error_on_one_line() {
        // Found by tests/fuzz_parsers.rs.
        let err = parse_str("accounts:\n  - id: \"line\\nbreak\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "accounts.yaml:2: id: 'line\\nbreak' is not a 12-digit AWS account id (quote it so YAML keeps leading zeros)"
        );
    }

    #[test]
    fn parser_errors_give_line_and_column_without_advice_to_programmers() {
        let err = parse_str("accounts:\n  - id: \"222222222222\"\n    id: x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "accounts.yaml: line 3, column 5: duplicate mapping key `id` is not allowed here"
        );
    }
}
