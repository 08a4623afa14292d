//! The effective access of every key of a report: each account's IAM policies are parsed once,
//! and each key is evaluated against its own account's.

use std::collections::BTreeMap;

use crate::model::Report;
use crate::model::access::{AccessReport, KeyAccess};
use crate::model::iam::OPERATION as IAM_OPERATION;

use super::evaluate::AccessContext;
use super::identity::AccountIam;
use super::{NOT_EVALUATED, effective_access_with};

/// Effective access of every key in `report`'s inventory, in inventory order.
pub fn access_report(report: &Report, organization_id: Option<&str>) -> AccessReport {
    let iam: BTreeMap<&str, AccountIam> = report
        .inventory
        .iam
        .iter()
        .flatten()
        .map(|details| (details.account.as_str(), AccountIam::new(details)))
        .collect();
    let base = AccessContext {
        organization_id: organization_id.map(str::to_string),
        organization_accounts: report
            .organization_accounts
            .as_ref()
            .map(|accounts| accounts.iter().cloned().collect()),
        iam_missing_reason: None,
    };
    let mut contexts: BTreeMap<&str, AccessContext> = BTreeMap::new();
    let keys: Vec<KeyAccess> = report
        .inventory
        .keys
        .iter()
        .map(|key| {
            let account = key.account.as_str();
            let ctx = contexts.entry(account).or_insert_with(|| AccessContext {
                iam_missing_reason: iam_missing_reason(report, account),
                ..base.clone()
            });
            effective_access_with(key, iam.get(account), ctx)
        })
        .collect();
    AccessReport {
        not_evaluated: NOT_EVALUATED.iter().map(|s| s.to_string()).collect(),
        keys,
    }
}

/// Why `account`'s IAM details are not in the report, or `None` when they are: a short phrase,
/// which the entries quote in parentheses.
pub fn iam_missing_reason(report: &Report, account: &str) -> Option<String> {
    let Some(read) = &report.inventory.iam else {
        // `--no-iam`, or a report of a kms-audit that did not read IAM.
        return Some("--no-iam".to_string());
    };
    if read.iter().any(|d| d.account == account) {
        return None;
    }
    let gap = report
        .coverage_gaps
        .iter()
        .find(|g| g.account == account && g.operation == IAM_OPERATION);
    Some(match gap {
        Some(gap) => match &gap.error_code {
            Some(code) => format!("iam:GetAccountAuthorizationDetails failed: {code}"),
            None => "iam:GetAccountAuthorizationDetails failed".to_string(),
        },
        None => "not read".to_string(),
    })
}
