//! The compliance checks: one module per check, each a pure function of the inventory, the
//! config and the organization context. No check calls AWS.
//!
//! [`REGISTRY`] holds every compliance check with its catalog file; the drift checks
//! (`DRF001`–`DRF006`, [`crate::analysis::drift::CHECKS`]) are implemented by the drift module,
//! which compares the inventory with declared specs.
//!
//! # Keys with unknown fields
//!
//! A field the scan could not read is listed in the key's `unknown` and has a coverage gap,
//! which makes the report incomplete (exit code 3, which wins over 1). A check that needs an
//! unknown field does not evaluate that key: it neither reports a finding (it would be a guess,
//! e.g. ROT001 on a key whose spec or origin is unknown, ALI001 when the aliases could not be
//! listed) nor counts it as passing (the gap is in the report and fails the run). The key
//! policy is the exception: a policy that cannot be read or parsed is itself a finding (POL003),
//! because it is the key's access control and must never pass silently. Each check module
//! states which fields it needs.

mod administer_and_use;
mod create_grant_unrestricted;
pub mod iam;
mod iam_inline_decrypt;
mod iam_managed_decrypt;
mod key_disabled;
mod no_administrator;
mod no_alias;
mod pending_deletion;
mod policy;
mod replica_inconsistent;
mod required_tags;
mod rotation_disabled;
mod rotation_period;
mod short_rsa_encryption_key;
mod through_iam;
mod untrusted_grantee;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use time::OffsetDateTime;

use crate::catalog::{CatalogFile, CheckMeta, catalog_file};
use crate::inputs::config::Config;
use crate::model::access::{AccessEntry, KeyAccess, Principal};
use crate::model::{CoverageGap, Finding, Inventory, KeyRecord, Target, TextInterner};

/// Everything a check may look at.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    pub inventory: &'a Inventory,
    /// The account×region targets of the scan (MRK001 needs to know which were scanned).
    pub targets: &'a [Target],
    pub coverage_gaps: &'a [CoverageGap],
    pub config: &'a Config,
    /// The time "days left" is measured from (DEL001).
    pub now: OffsetDateTime,
    /// The auditor's organization (config `organization_id`, else the one found by `--org`).
    pub organization_id: Option<&'a str>,
    /// The organization's member accounts, when known (POL002 trusts them).
    pub organization_accounts: Option<&'a BTreeSet<String>>,
    /// The effective access of each key, in inventory order (`None` in unit tests that do not
    /// need it). The checks built on access (POL004–POL006) read it here rather than evaluate
    /// it again.
    pub access: Option<&'a crate::model::access::AccessReport>,
}

/// One run of the checks over an inventory: the context, plus what the checks share so that
/// no work is done twice (each key policy is parsed and analysed once for POL001–POL003).
pub struct CheckRun<'a> {
    ctx: CheckContext<'a>,
    policies: policy::PolicyAnalyses<'a>,
}

impl<'a> CheckRun<'a> {
    pub fn new(ctx: CheckContext<'a>) -> Self {
        CheckRun {
            ctx,
            policies: policy::PolicyAnalyses::default(),
        }
    }
}

impl<'a> std::ops::Deref for CheckRun<'a> {
    type Target = CheckContext<'a>;
    fn deref(&self) -> &CheckContext<'a> {
        &self.ctx
    }
}

/// One check implementation and its catalog file.
pub struct Check {
    pub catalog: CatalogFile,
    /// Every finding of this check in the inventory; `meta` is the check's catalog entry.
    pub run: fn(&CheckMeta, &CheckRun<'_>) -> Vec<Finding>,
}

impl Check {
    pub fn id(&self) -> &'static str {
        self.catalog.id
    }
}

/// The compliance checks, in catalog order. Adding a check: its module, its entry here with
/// its `checks/ID.yaml`, and a fixture case (CONTRIBUTING.md, "Add a check").
pub const REGISTRY: &[Check] = &[
    Check {
        catalog: catalog_file!("ROT001"),
        run: rotation_disabled::run,
    },
    Check {
        catalog: catalog_file!("ROT002"),
        run: rotation_period::run,
    },
    Check {
        catalog: catalog_file!("DEL001"),
        run: pending_deletion::run,
    },
    Check {
        catalog: catalog_file!("STA001"),
        run: key_disabled::run,
    },
    Check {
        catalog: catalog_file!("POL001"),
        run: policy::public::run,
    },
    Check {
        catalog: catalog_file!("POL002"),
        run: policy::cross_account::run,
    },
    Check {
        catalog: catalog_file!("POL003"),
        run: policy::unreadable::run,
    },
    Check {
        catalog: catalog_file!("POL004"),
        run: create_grant_unrestricted::run,
    },
    Check {
        catalog: catalog_file!("POL005"),
        run: administer_and_use::run,
    },
    Check {
        catalog: catalog_file!("POL006"),
        run: no_administrator::run,
    },
    Check {
        catalog: catalog_file!("GRT001"),
        run: untrusted_grantee::run,
    },
    Check {
        catalog: catalog_file!("MRK001"),
        run: replica_inconsistent::run,
    },
    Check {
        catalog: catalog_file!("ALI001"),
        run: no_alias::run,
    },
    Check {
        catalog: catalog_file!("TAG001"),
        run: required_tags::run,
    },
    Check {
        catalog: catalog_file!("KEY001"),
        run: short_rsa_encryption_key::run,
    },
    Check {
        catalog: catalog_file!("IAM001"),
        run: iam_managed_decrypt::run,
    },
    Check {
        catalog: catalog_file!("IAM002"),
        run: iam_inline_decrypt::run,
    },
];

/// The checks that share one [`CheckRun`]'s key-policy analyses: they run as one job, on one
/// thread, so each policy is still analysed once.
const SHARED_POLICY_ANALYSES: &[&str] = &["POL001", "POL002", "POL003"];

/// Runs every enabled check. The config's severity overrides are applied once, to checks and
/// drift alike, by [`crate::analysis::analyze`].
///
/// The checks are independent pure functions of the context, so they run as jobs on every core
/// (each thread with its own [`CheckRun`]); the findings are joined in [`REGISTRY`] order, as a
/// sequential run gives them.
pub fn run_all(ctx: &CheckContext<'_>) -> Vec<Finding> {
    run_selected(ctx, |_| true)
}

/// The checks built on effective access ([`CheckContext::access`]). The analysis runs them
/// first, so that a run none of whose reports writes access can free it before the other checks
/// add their findings (at 100,000 keys, 50 MB of the peak).
pub const USES_ACCESS: &[&str] = &["POL004", "POL005", "POL006"];

/// [`run_all`] for the enabled checks whose id `select` accepts.
pub fn run_selected(ctx: &CheckContext<'_>, select: impl Fn(&str) -> bool) -> Vec<Finding> {
    let mut enabled: Vec<(&Check, &CheckMeta)> = Vec::new();
    for check in REGISTRY {
        if !select(check.id()) || !ctx.config.is_enabled(check.id()) {
            continue;
        }
        let Some(meta) = crate::analysis::catalog().lookup(check.id()) else {
            // Impossible with a consistent build (tested); never panic a scan over it.
            tracing::error!("check {} has no catalog entry; skipped", check.id());
            continue;
        };
        enabled.push((check, meta));
    }
    // One job per check, but one for all the checks that share the policy analyses.
    let mut jobs: Vec<Vec<usize>> = Vec::new();
    let mut shared_job = None;
    for (i, (check, _)) in enabled.iter().enumerate() {
        if SHARED_POLICY_ANALYSES.contains(&check.id()) {
            match shared_job {
                Some(job) => {
                    let job: &mut Vec<usize> = &mut jobs[job];
                    job.push(i);
                }
                None => {
                    shared_job = Some(jobs.len());
                    jobs.push(vec![i]);
                }
            }
        } else {
            jobs.push(vec![i]);
        }
    }
    let threads = crate::model::parallel::threads().min(jobs.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let worker = || {
        let run = CheckRun::new(*ctx);
        // Equal evidence is held once (ROT001's is the same on most keys): a few MB of the
        // 75,000 findings of a 100,000-key inventory.
        let mut evidence = TextInterner::default();
        let mut done: Vec<(usize, Vec<Finding>)> = Vec::new();
        loop {
            let job = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(members) = jobs.get(job) else {
                break;
            };
            for &i in members {
                let (check, meta) = enabled[i];
                let mut found = (check.run)(meta, &run);
                for finding in &mut found {
                    finding.evidence.share_with(&mut evidence);
                }
                done.push((i, found));
            }
        }
        done
    };
    let mut results: Vec<(usize, Vec<Finding>)> = if threads == 1 {
        worker()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads).map(|_| scope.spawn(worker)).collect();
            let mut results = worker();
            for handle in handles {
                match handle.join() {
                    Ok(done) => results.extend(done),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            results
        })
    };
    results.sort_by_key(|(i, _)| *i);
    join(results.into_iter().map(|(_, found)| found))
}

/// The lists end to end, in order. The first list (ROT001's, among the largest) is extended
/// rather than all copied into a new one, and each other list is freed once moved: a fresh list
/// of every finding would briefly hold each finding twice.
fn join(mut lists: impl Iterator<Item = Vec<Finding>>) -> Vec<Finding> {
    let mut findings = lists.next().unwrap_or_default();
    let rest: Vec<Vec<Finding>> = lists.collect();
    findings.reserve_exact(rest.iter().map(Vec::len).sum());
    for found in rest {
        findings.extend(found);
    }
    findings
}

// --- helpers shared by the checks ---------------------------------------------------------

const PENDING_DELETION_STATES: [&str; 2] = ["PendingDeletion", "PendingReplicaDeletion"];

fn is_pending_deletion(key: &KeyRecord) -> bool {
    key.key_state
        .as_deref()
        .is_some_and(|s| PENDING_DELETION_STATES.contains(&s))
}

/// The customer-managed keys whose metadata was read and whose key policy the access
/// analysis evaluated, with their effective access: what POL004–POL006 look at. Empty when the
/// context carries no access.
fn evaluated_access<'a>(ctx: &CheckRun<'a>) -> Vec<(&'a KeyRecord, &'a KeyAccess)> {
    let Some(access) = ctx.access else {
        return Vec::new();
    };
    ctx.inventory
        .keys
        .iter()
        .zip(&access.keys)
        .filter(|(key, access)| {
            key.arn == access.key_arn
                && metadata_known(key)
                && key.is_customer_managed()
                && access.has_administrator().is_some()
        })
        .collect()
}

/// Whether an access entry is the key's own account root user: named as such, or (when the
/// account's IAM was not read) the account the "Enable IAM User Permissions" statement hands
/// to IAM, which the access analysis labels `account root (IAM policies not read)`.
fn is_own_root(entry: &AccessEntry, key: &KeyRecord) -> bool {
    match &entry.principal {
        Principal::AccountRoot { account } => account == key.account.as_str(),
        Principal::Account { account } => {
            account == key.account.as_str() && entry.principal_label.starts_with("account root")
        }
        _ => false,
    }
}

/// Whether a field was read (not listed in `unknown`).
fn known(key: &KeyRecord, field: &str) -> bool {
    !key.unknown.iter().any(|f| f == field)
}

/// Whether DescribeKey's fields (state, manager, spec, origin, …) are known.
fn metadata_known(key: &KeyRecord) -> bool {
    known(key, "metadata") && key.key_manager.is_some()
}

/// `--key-id <arn> --region <region>`: the arguments every AWS CLI remediation needs.
fn cli_key_args(key: &KeyRecord) -> String {
    let id = if key.arn.is_empty() {
        &key.key_id
    } else {
        &key.arn
    };
    format!("--key-id {id} --region {}", key.region)
}
