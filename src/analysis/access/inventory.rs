//! The effective access of every key of a report: each account's IAM policies are parsed once,
//! and each key is evaluated against its own account's.

use std::collections::BTreeMap;

use crate::model::Report;
use crate::model::access::{AccessReport, KeyAccess};
use crate::model::iam::OPERATION as IAM_OPERATION;

use super::evaluate::AccessContext;
use super::identity::AccountIam;
use super::{NOT_EVALUATED, Shares, analysis_context, effective_access_in};
use crate::policy::AnalysisContext;

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
    // Each account's contexts are built once, before the keys are shared out between threads.
    let mut contexts: BTreeMap<&str, (AccessContext, AnalysisContext)> = BTreeMap::new();
    for key in &report.inventory.keys {
        let account = key.account.as_str();
        contexts.entry(account).or_insert_with(|| {
            let ctx = AccessContext {
                iam_missing_reason: iam_missing_reason(report, account),
                ..base.clone()
            };
            let analysis = analysis_context(account, &ctx);
            (ctx, analysis)
        });
    }
    // On every core, in inventory order; each thread shares policies and entries among its keys.
    let keys: Vec<KeyAccess> =
        crate::model::parallel::map_chunks(&report.inventory.keys, |chunk| {
            let mut shares = Shares::default();
            chunk
                .iter()
                .map(|key| {
                    let account = key.account.as_str();
                    let (ctx, analysis) = &contexts[account];
                    effective_access_in(key, iam.get(account), ctx, analysis, &mut shares)
                })
                .collect()
        });
    AccessReport {
        not_evaluated: NOT_EVALUATED.iter().map(|s| s.to_string()).collect(),
        keys: share_between_threads(keys),
    }
}

/// Makes equal entries one allocation across the whole inventory: each thread shared only
/// among its own keys, and the keys of an account may be split between threads (or, in a
/// report not sorted by account, spread over all of them). Entries already seen by address are
/// not compared again.
fn share_between_threads(mut keys: Vec<KeyAccess>) -> Vec<KeyAccess> {
    use crate::model::access::{AccessEntry, Interner, Shared};
    let mut canonical: Interner<AccessEntry> = Interner::default();
    // The replaced allocations stay alive until the end, so no address is reused meanwhile.
    let mut by_address: std::collections::HashMap<
        *const AccessEntry,
        (Shared<AccessEntry>, Shared<AccessEntry>),
    > = std::collections::HashMap::new();
    for key in &mut keys {
        for entry in &mut key.entries {
            let (_, shared) = by_address
                .entry(entry.address())
                .or_insert_with(|| (entry.clone(), canonical.canonical(entry)));
            if !Shared::same(entry, shared) {
                *entry = shared.clone();
            }
        }
    }
    keys
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
