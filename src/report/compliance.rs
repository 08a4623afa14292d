//! The compliance summary: for each framework control the catalog maps a check to, and each
//! account, pass / fail / not evaluated, with counts (`--format compliance`, `compliance-csv`,
//! `compliance-json`, and the Compliance tab of the HTML report).
//!
//! The rule (docs/compliance.md): a control **fails** in an account when an unsuppressed finding
//! of a mapped check is there; it **passes** only when every key of the account was evaluated by
//! the mapped checks and none failed; otherwise (a region or account that could not be read, a
//! key field that could not be read, no kms-audit check implementing the control) it is **not
//! evaluated**. A scope that was not evaluated is never reported as passed.
//!
//! Controls implemented by IAM checks only (FSBP KMS.1 → IAM001, KMS.2 → IAM002) count IAM
//! policies rather than keys: in an account whose IAM was not read they are not evaluated, and
//! they pass only when every policy in scope was evaluated and none failed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use comfy_table::{CellAlignment, ColumnConstraint, Table, Width};
use serde::Serialize;

use crate::catalog::CheckMeta;
use crate::model::{KeyRecord, Report, TargetStatus};

/// A framework kms-audit reports on, and how the catalog names it.
struct FrameworkDef {
    id: &'static str,
    name: &'static str,
    /// Controls listed even when no check maps to them (shown as not evaluated), with titles.
    controls: &'static [(&'static str, &'static str)],
}

const CIS_V3: &str = "cis-aws-foundations-v3.0";
const CIS_V5: &str = "cis-aws-foundations-v5.0";
const FSBP: &str = "aws-fsbp";
const PCI: &str = "pci-dss-4.0";
const NIST: &str = "nist-800-53-r5";
const CONTROL_TOWER: &str = "aws-control-tower";

const CIS_ROTATION: &str = "Ensure rotation for customer-created symmetric CMKs is enabled";

const FRAMEWORKS: &[FrameworkDef] = &[
    FrameworkDef {
        id: CIS_V3,
        name: "CIS AWS Foundations Benchmark v3.0.0",
        controls: &[("3.6", CIS_ROTATION)],
    },
    FrameworkDef {
        id: CIS_V5,
        name: "CIS AWS Foundations Benchmark v5.0.0",
        controls: &[("4.6", CIS_ROTATION)],
    },
    FrameworkDef {
        id: FSBP,
        name: "AWS Foundational Security Best Practices",
        controls: &[
            (
                "KMS.1",
                "IAM customer managed policies should not allow decryption actions on all KMS keys",
            ),
            (
                "KMS.2",
                "IAM principals should not have IAM inline policies that allow decryption actions on all KMS keys",
            ),
            (
                "KMS.3",
                "AWS KMS keys should not be deleted unintentionally",
            ),
            ("KMS.4", "AWS KMS key rotation should be enabled"),
            ("KMS.5", "KMS keys should not be publicly accessible"),
        ],
    },
    FrameworkDef {
        id: PCI,
        name: "PCI DSS 4.0",
        controls: &[
            (
                "3.6.1",
                "Procedures protect cryptographic keys against disclosure and misuse",
            ),
            (
                "3.7.4",
                "Cryptographic keys are changed at the end of their cryptoperiod",
            ),
            (
                "3.7.5",
                "Keys are retired, replaced or destroyed when no longer needed or weakened",
            ),
        ],
    },
    FrameworkDef {
        id: NIST,
        name: "NIST SP 800-53 Rev. 5",
        controls: &[
            ("SC-12", "Cryptographic Key Establishment and Management"),
            ("SC-13", "Cryptographic Protection"),
            ("SC-28", "Protection of Information at Rest"),
            ("AC-3", "Access Enforcement"),
            ("AC-5", "Separation of Duties"),
            ("CA-7", "Continuous Monitoring"),
            ("CM-2", "Baseline Configuration"),
            ("CM-3", "Configuration Change Control"),
            ("CM-8", "System Component Inventory"),
        ],
    },
    FrameworkDef {
        id: CONTROL_TOWER,
        name: "AWS Control Tower proactive controls",
        controls: &[
            (
                "CT.KMS.PR.2",
                "Require that an RSA key used for encryption is longer than 2048 bits",
            ),
            (
                "CT.KMS.PR.3",
                "Require that a key policy limits kms:CreateGrant to AWS services",
            ),
        ],
    },
];

/// The (framework id, control id) pairs of one catalog `frameworks` entry, or `None` when the
/// entry names no framework kms-audit knows ([`crate::catalog::parse_mapping`]). A standard
/// with versions gives each control to its version: `CIS AWS Foundations 3.6 / 4.6` names the
/// v3.0 and the v5.0 id of the same recommendation.
pub fn parse_mapping(entry: &str) -> Option<Vec<(&'static str, String)>> {
    let (standard, controls) = crate::catalog::parse_mapping(entry)?;
    let pairs: Vec<(&'static str, String)> = match standard.frameworks {
        [framework] => controls
            .into_iter()
            .map(|c| (*framework, c.to_string()))
            .collect(),
        versions => versions
            .iter()
            .zip(controls)
            .map(|(framework, c)| (*framework, c.to_string()))
            .collect(),
    };
    (!pairs.is_empty()).then_some(pairs)
}

/// Pass, fail or not evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    NotEvaluated,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotEvaluated => "not_evaluated",
        }
    }

    /// How the table prints it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotEvaluated => "NOT EVAL.",
        }
    }
}

/// One control in one account (or over all accounts: `account` is `all`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountResult {
    pub account: String,
    pub status: Status,
    /// Keys of the account (every key the scan listed).
    pub keys: u64,
    /// Keys evaluated by every mapped check with no finding.
    pub passed: u64,
    /// Keys (or declared keys) with an unsuppressed finding of a mapped check.
    pub failed: u64,
    /// Keys without a finding that a mapped check could not evaluate (a field unread).
    pub not_evaluated: u64,
    /// Unsuppressed findings of the mapped checks.
    pub findings: u64,
    /// Suppressed findings of the mapped checks (accepted exceptions; they do not fail).
    pub suppressed: u64,
    /// Regions of the account that could not be read, and account-wide coverage gaps.
    pub gaps: u64,
    /// Why the control is not evaluated, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlResult {
    pub id: String,
    pub title: String,
    /// The catalog checks mapped to the control.
    pub checks: Vec<String>,
    /// Over all accounts: fail if one fails, else not evaluated if one is, else pass.
    pub status: Status,
    pub total: AccountResult,
    pub accounts: Vec<AccountResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameworkResult {
    pub id: String,
    pub name: String,
    pub controls: Vec<ControlResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceSummary {
    pub schema_version: String,
    pub scanned_at: String,
    /// True when some target or field could not be read: some controls cannot pass.
    pub incomplete: bool,
    pub accounts: Vec<String>,
    pub frameworks: Vec<FrameworkResult>,
}

/// Whether a check needs a key field that can be unknown (`KeyRecord::unknown`): without it, the
/// check did not evaluate the key.
fn check_needs(check: &str, field: &str) -> bool {
    match field {
        "metadata" => true,
        "rotation" => check.starts_with("ROT"),
        "policy" => check.starts_with("POL"),
        "grants" => check.starts_with("GRT"),
        "tags" => check.starts_with("TAG"),
        "aliases" => check.starts_with("ALI"),
        // A field kms-audit does not know: assume every check needed it.
        _ => true,
    }
}

/// Drift checks compare with a declared spec and run only with `--spec`: their findings fail a
/// control, but a control never waits for them to pass.
fn is_drift(meta: &CheckMeta) -> bool {
    meta.category == "drift"
}

/// IAM checks judge IAM policies, not keys (IAM001, IAM002).
fn is_iam(meta: &CheckMeta) -> bool {
    meta.category == "iam"
}

/// What is known about one account before looking at controls.
#[derive(Default)]
struct AccountFacts<'a> {
    keys: Vec<&'a KeyRecord>,
    /// Regions that failed, and coverage gaps not tied to a listed key.
    gaps: u64,
}

/// Computes the summary from a report (analysed: suppressions applied).
pub fn summarize(report: &Report) -> ComplianceSummary {
    // The checks mapped to each (framework, control), in catalog order.
    let mut mapped: BTreeMap<(&str, String), Vec<&'static CheckMeta>> = BTreeMap::new();
    for meta in crate::analysis::catalog().all() {
        for entry in &meta.frameworks {
            for (framework, control) in parse_mapping(entry).unwrap_or_default() {
                mapped.entry((framework, control)).or_default().push(meta);
            }
        }
    }

    let mut accounts: BTreeSet<&str> = report.targets.iter().map(|t| t.account.as_str()).collect();
    accounts.extend(report.inventory.keys.iter().map(|k| k.account.as_str()));
    accounts.extend(report.findings.iter().map(|f| f.account.as_str()));
    accounts.extend(report.coverage_gaps.iter().map(|g| g.account.as_str()));
    let mut facts: BTreeMap<&str, AccountFacts> = accounts
        .iter()
        .map(|a| (*a, AccountFacts::default()))
        .collect();
    let listed: BTreeSet<&str> = report
        .inventory
        .keys
        .iter()
        .map(|k| k.arn.as_str())
        .collect();
    for key in &report.inventory.keys {
        facts
            .entry(key.account.as_str())
            .or_default()
            .keys
            .push(key);
    }
    for target in &report.targets {
        if target.status == TargetStatus::Failed {
            facts.entry(target.account.as_str()).or_default().gaps += 1;
        }
    }
    for gap in &report.coverage_gaps {
        // A key's gap is accounted for by its unknown fields; a region whose listing failed is
        // a failed target already.
        let of_listed_key = gap
            .key_arn
            .as_deref()
            .is_some_and(|arn| listed.contains(arn));
        let of_failed_target = gap.key_arn.is_none()
            && report.targets.iter().any(|t| {
                t.status == TargetStatus::Failed
                    && t.account == gap.account
                    && Some(t.region.as_str()) == gap.region.as_deref()
            });
        if !of_listed_key && !of_failed_target {
            facts.entry(gap.account.as_str()).or_default().gaps += 1;
        }
    }

    // Every control of every framework, in order; each is worked out on its own (on every
    // core), then they are put back under their frameworks.
    let mut controls: Vec<(usize, String, String, Vec<&'static CheckMeta>)> = Vec::new();
    for (index, def) in FRAMEWORKS.iter().enumerate() {
        let mut ids: Vec<(String, String)> = def
            .controls
            .iter()
            .map(|(id, title)| (id.to_string(), title.to_string()))
            .collect();
        for (framework, control) in mapped.keys() {
            if *framework == def.id && !ids.iter().any(|(id, _)| id == control) {
                ids.push((control.clone(), String::new()));
            }
        }
        for (id, title) in ids {
            let checks = mapped
                .get(&(def.id, id.clone()))
                .cloned()
                .unwrap_or_default();
            controls.push((index, id, title, checks));
        }
    }
    let mut results = crate::model::parallel::map_large(&controls, 1, |(_, id, title, checks)| {
        control_result(report, &facts, id.clone(), title.clone(), checks)
    })
    .into_iter()
    .zip(controls.iter().map(|(index, ..)| *index))
    .peekable();
    let frameworks = FRAMEWORKS
        .iter()
        .enumerate()
        .map(|(index, def)| {
            let mut controls = Vec::new();
            while let Some((result, _)) = results.next_if(|(_, of)| *of == index) {
                controls.push(result);
            }
            FrameworkResult {
                id: def.id.to_string(),
                name: def.name.to_string(),
                controls,
            }
        })
        .collect();
    ComplianceSummary {
        schema_version: "1".to_string(),
        scanned_at: report.started_at.clone(),
        incomplete: report.is_incomplete(),
        accounts: accounts.iter().map(|a| a.to_string()).collect(),
        frameworks,
    }
}

fn control_result(
    report: &Report,
    facts: &BTreeMap<&str, AccountFacts>,
    id: String,
    title: String,
    checks: &[&'static CheckMeta],
) -> ControlResult {
    let key_level: Vec<&str> = checks
        .iter()
        .filter(|m| !is_drift(m) && !is_iam(m))
        .map(|m| m.id.as_str())
        .collect();
    let iam_level: Vec<&str> = checks
        .iter()
        .filter(|m| is_iam(m))
        .map(|m| m.id.as_str())
        .collect();
    let mut hits = count_hits(report, checks);
    let accounts: Vec<AccountResult> = facts
        .iter()
        .map(|(account, fact)| {
            let hit = hits.remove(account).unwrap_or_default();
            if key_level.is_empty() && !iam_level.is_empty() {
                iam_account_result(report, account, fact, &hit, &iam_level)
            } else {
                account_result(account, fact, &hit, checks, &key_level)
            }
        })
        .collect();
    let status = accounts
        .iter()
        .map(|a| a.status)
        .max()
        .unwrap_or(Status::NotEvaluated);
    ControlResult {
        id,
        title,
        checks: checks.iter().map(|m| m.id.clone()).collect(),
        status,
        total: total_result(&accounts, status),
        accounts,
    }
}

/// One account's findings of a control's checks: the keys that failed, findings, suppressed.
#[derive(Default)]
struct Hits<'a> {
    failed: BTreeSet<&'a str>,
    findings: u64,
    suppressed: u64,
}

fn count_hits<'a>(
    report: &'a Report,
    checks: &[&'static CheckMeta],
) -> BTreeMap<&'a str, Hits<'a>> {
    let check_ids: BTreeSet<&str> = checks.iter().map(|m| m.id.as_str()).collect();
    let mut hits: BTreeMap<&str, Hits> = BTreeMap::new();
    for finding in &report.findings {
        if !check_ids.contains(finding.check_id.as_str()) {
            continue;
        }
        if let Some(keys) = &finding.keys {
            count_identity_finding(&mut hits, finding, keys);
            continue;
        }
        let entry = hits.entry(finding.account.as_str()).or_default();
        if finding.suppressed.is_some() {
            entry.suppressed += 1;
        } else {
            entry.findings += 1;
            // A finding on an IAM policy is one item (one policy, or one identity's inline
            // policy): its fingerprint names it.
            let identity = finding
                .key_arn
                .as_deref()
                .or(finding
                    .resource
                    .as_ref()
                    .map(|_| finding.fingerprint.as_str()))
                .or(finding.aliases.first().map(String::as_str))
                .unwrap_or("");
            entry.failed.insert(identity);
        }
    }
    hits
}

/// A finding on an IAM identity that covers keys (POL004, POL005 through IAM alone): each key
/// it lists fails in the key's own account, and the finding counts once in each such account.
fn count_identity_finding<'a>(
    hits: &mut BTreeMap<&'a str, Hits<'a>>,
    finding: &'a crate::model::Finding,
    keys: &'a [String],
) {
    let account_of = |arn: &'a str| {
        crate::model::arn::Arn::parse(arn).map_or(finding.account.as_str(), |a| a.account)
    };
    let accounts: BTreeSet<&str> = keys.iter().map(|arn| account_of(arn)).collect();
    for account in accounts {
        let entry = hits.entry(account).or_default();
        if finding.suppressed.is_some() {
            entry.suppressed += 1;
        } else {
            entry.findings += 1;
        }
    }
    if finding.suppressed.is_none() {
        for arn in keys {
            hits.entry(account_of(arn))
                .or_default()
                .failed
                .insert(arn.as_str());
        }
    }
}

/// A control in one account: pass only when every key was evaluated and none failed.
fn account_result(
    account: &str,
    fact: &AccountFacts,
    hit: &Hits<'_>,
    checks: &[&'static CheckMeta],
    key_level: &[&str],
) -> AccountResult {
    let failed_keys: BTreeSet<&str> = hit.failed.iter().copied().collect();
    let keys = fact.keys.len() as u64;
    let failed = hit.failed.len() as u64;
    let failed_listed = fact
        .keys
        .iter()
        .filter(|k| failed_keys.contains(k.arn.as_str()))
        .count() as u64;
    // With no key-level check, no key was evaluated for the control.
    let unevaluated = if key_level.is_empty() {
        keys - failed_listed
    } else {
        fact.keys
            .iter()
            .filter(|k| !failed_keys.contains(k.arn.as_str()))
            .filter(|k| {
                k.unknown
                    .iter()
                    .any(|field| key_level.iter().any(|check| check_needs(check, field)))
            })
            .count() as u64
    };
    let passed = keys.saturating_sub(failed_listed + unevaluated);
    let (status, reason) = account_status(hit, checks, key_level, fact, unevaluated);
    AccountResult {
        account: account.to_string(),
        status,
        keys,
        passed,
        failed,
        not_evaluated: unevaluated,
        findings: hit.findings,
        suppressed: hit.suppressed,
        gaps: fact.gaps,
        reason,
    }
}

/// A control of IAM checks in one account: its items are the IAM policies in scope; not
/// evaluated when the account's IAM was not read or a policy could not be parsed.
fn iam_account_result(
    report: &Report,
    account: &str,
    fact: &AccountFacts,
    hit: &Hits<'_>,
    iam_level: &[&str],
) -> AccountResult {
    use crate::analysis::checks::iam;
    let scopes: Vec<iam::Scope> = iam_level
        .iter()
        .filter_map(|check| iam::scope(&report.inventory, account, check))
        .collect();
    let read = scopes.iter().all(|s| s.read);
    let policies: u64 = scopes.iter().map(|s| s.policies).sum();
    let unevaluated: u64 = scopes.iter().map(|s| s.unevaluated).sum();
    let failed = hit.failed.len() as u64;
    let (status, reason) = if hit.findings > 0 {
        (Status::Fail, None)
    } else if !read {
        (Status::NotEvaluated, Some("IAM not read".to_string()))
    } else if unevaluated > 0 {
        (
            Status::NotEvaluated,
            Some(format!(
                "{} unreadable",
                plural(unevaluated, "IAM policy", "IAM policies")
            )),
        )
    } else {
        (Status::Pass, None)
    };
    AccountResult {
        account: account.to_string(),
        status,
        keys: policies,
        passed: policies.saturating_sub(failed + unevaluated),
        failed,
        not_evaluated: unevaluated,
        findings: hit.findings,
        suppressed: hit.suppressed,
        gaps: fact.gaps,
        reason,
    }
}

/// Fail on any finding; otherwise not evaluated (and why) unless every key was evaluated.
fn account_status(
    hit: &Hits<'_>,
    checks: &[&'static CheckMeta],
    key_level: &[&str],
    fact: &AccountFacts,
    unevaluated: u64,
) -> (Status, Option<String>) {
    if hit.findings > 0 {
        (Status::Fail, None)
    } else if key_level.is_empty() {
        let reason = if checks.is_empty() {
            "no kms-audit check yet"
        } else {
            "drift only (needs --spec)"
        };
        (Status::NotEvaluated, Some(reason.to_string()))
    } else if fact.gaps > 0 {
        (
            Status::NotEvaluated,
            Some(format!(
                "{} unread",
                plural(fact.gaps, "region/scope", "regions/scopes")
            )),
        )
    } else if unevaluated > 0 {
        (
            Status::NotEvaluated,
            Some(format!(
                "{} partly unread",
                plural(unevaluated, "key", "keys")
            )),
        )
    } else {
        (Status::Pass, None)
    }
}

/// The `all` row: the sums, the worst status, and the first reason a control is not evaluated.
fn total_result(accounts: &[AccountResult], status: Status) -> AccountResult {
    let sum = |f: fn(&AccountResult) -> u64| accounts.iter().map(f).sum::<u64>();
    AccountResult {
        account: "all".to_string(),
        status,
        keys: sum(|a| a.keys),
        passed: sum(|a| a.passed),
        failed: sum(|a| a.failed),
        not_evaluated: sum(|a| a.not_evaluated),
        findings: sum(|a| a.findings),
        suppressed: sum(|a| a.suppressed),
        gaps: sum(|a| a.gaps),
        reason: match status {
            Status::NotEvaluated if accounts.is_empty() => Some("no account was scanned".into()),
            Status::NotEvaluated => accounts
                .iter()
                .filter(|a| a.status == Status::NotEvaluated)
                .find_map(|a| a.reason.clone()),
            _ => None,
        },
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `--format compliance`: one table per framework; for each control a row over all accounts,
/// then a row per account.
pub fn render_table(report: &Report, width: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let summary = summarize(report);
    let wrap = |text: &str, indent: &str| {
        let mut line = String::new();
        super::table::push_wrapped(&mut line, text, indent, width);
        line
    };
    let mut head = wrap(
        &format!(
            "Compliance summary · scan of {} · {}",
            if summary.scanned_at.is_empty() {
                "(unknown time)"
            } else {
                &summary.scanned_at
            },
            plural(summary.accounts.len() as u64, "account", "accounts")
        ),
        "",
    );
    head.push_str(&wrap(
        "A control passes only when every key in scope was evaluated and none failed. Keys: Pass, \
         Fail, N.E. (not evaluated); Finds: unsuppressed findings; Suppr.: suppressed ones.",
        "",
    ));
    if summary.incomplete {
        head.push_str(&wrap(
            "INCOMPLETE: some accounts, regions or keys could not be read; controls there are NOT \
             EVALUATED, not passed.",
            "",
        ));
    }
    out.write_all(head.as_bytes())?;
    for framework in &summary.frameworks {
        writeln!(out, "\n{}", framework.name)?;
        // The legend: control titles and checks, so the table itself stays narrow.
        let mut legend = String::new();
        for control in &framework.controls {
            let iam_only = !control.checks.is_empty()
                && control
                    .checks
                    .iter()
                    .all(|id| crate::analysis::catalog().lookup(id).is_some_and(is_iam));
            let checks = if control.checks.is_empty() {
                "no kms-audit check yet".to_string()
            } else if iam_only {
                format!(
                    "checks {}; counts IAM policies, not keys",
                    control.checks.join(", ")
                )
            } else {
                format!("checks {}", control.checks.join(", "))
            };
            legend.push_str(&wrap(
                &format!("  {:<6} {} ({checks})", control.id, control.title),
                "         ",
            ));
        }
        out.write_all(legend.as_bytes())?;
        writeln!(out, "{}", framework_table(framework, width))?;
    }
    Ok(())
}

/// One framework's table: a row per control and account, the control id on its first row.
fn framework_table(framework: &FrameworkResult, width: usize) -> Table {
    let mut table = crate::report::table::plain_table(
        width,
        vec![
            "Control", "Account", "Status", "Keys", "Pass", "Fail", "N.E.", "Finds", "Suppr.",
        ],
    );
    for column in 3..9 {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    // Control ids, account ids and statuses whole; the note is the column that wraps.
    let longest_id = framework
        .controls
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(0);
    // Long control ids (`CT.KMS.PR.2`) take their width from the status notes, which wrap.
    let wide_ids = longest_id > "Control".len();
    if wide_ids && let Some(column) = table.column_mut(0) {
        let min = u16::try_from(longest_id + 2).unwrap_or(u16::MAX);
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min)));
    }
    let status_min = if wide_ids { 24 } else { 26 };
    for (column, min) in [(1, 14), (2, status_min), (8, 8)] {
        if let Some(column) = table.column_mut(column) {
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min)));
        }
    }
    for control in &framework.controls {
        let mut rows = vec![("all", &control.total)];
        rows.extend(control.accounts.iter().map(|a| (a.account.as_str(), a)));
        for (index, (account, result)) in rows.into_iter().enumerate() {
            table.add_row(vec![
                if index == 0 {
                    control.id.clone()
                } else {
                    String::new()
                },
                account.to_string(),
                match &result.reason {
                    Some(reason) => format!("{}\n{reason}", result.status.label()),
                    None => result.status.label().to_string(),
                },
                result.keys.to_string(),
                result.passed.to_string(),
                result.failed.to_string(),
                result.not_evaluated.to_string(),
                result.findings.to_string(),
                result.suppressed.to_string(),
            ]);
        }
    }
    table
}

/// The CSV columns of `--format compliance-csv`, one row per control and account (`all` first).
pub const CSV_COLUMNS: [&str; 14] = [
    "framework",
    "framework_name",
    "control",
    "title",
    "account",
    "status",
    "keys",
    "passed",
    "failed",
    "not_evaluated",
    "findings",
    "suppressed",
    "gaps",
    "checks",
];

pub fn render_csv(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let summary = summarize(report);
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    let io = |err: csv::Error| match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        kind => std::io::Error::other(format!("{kind:?}")),
    };
    writer.write_record(CSV_COLUMNS).map_err(io)?;
    for framework in &summary.frameworks {
        for control in &framework.controls {
            for result in std::iter::once(&control.total).chain(&control.accounts) {
                writer
                    .write_record([
                        framework.id.as_str(),
                        framework.name.as_str(),
                        control.id.as_str(),
                        control.title.as_str(),
                        result.account.as_str(),
                        result.status.as_str(),
                        &result.keys.to_string(),
                        &result.passed.to_string(),
                        &result.failed.to_string(),
                        &result.not_evaluated.to_string(),
                        &result.findings.to_string(),
                        &result.suppressed.to_string(),
                        &result.gaps.to_string(),
                        &control.checks.join(" "),
                    ])
                    .map_err(io)?;
            }
        }
    }
    writer.flush()
}

pub fn render_json(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &summarize(report))?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        crate::model::saved_report::parse_report(
            "scan.json",
            include_str!("../../tests/fixtures/reports/scan.json"),
        )
        .expect("fixture")
    }

    /// The fixture with every target scanned and every field read.
    fn complete_fixture() -> Report {
        let mut report = fixture();
        report.coverage_gaps.clear();
        report.targets.retain(|t| t.status != TargetStatus::Failed);
        for key in &mut report.inventory.keys {
            key.unknown.clear();
        }
        report
    }

    fn control<'a>(summary: &'a ComplianceSummary, framework: &str, id: &str) -> &'a ControlResult {
        summary
            .frameworks
            .iter()
            .find(|f| f.id == framework)
            .and_then(|f| f.controls.iter().find(|c| c.id == id))
            .unwrap_or_else(|| panic!("{framework} {id}"))
    }

    #[test]
    fn every_catalog_mapping_names_a_known_framework() {
        for meta in crate::analysis::catalog().all() {
            for entry in &meta.frameworks {
                let parsed = parse_mapping(entry);
                assert!(
                    parsed.as_ref().is_some_and(|p| !p.is_empty()),
                    "{}: {entry}",
                    meta.id
                );
                for (framework, _) in parsed.unwrap_or_default() {
                    assert!(
                        FRAMEWORKS.iter().any(|f| f.id == framework),
                        "{}: {entry} maps to {framework}, which the summary does not list",
                        meta.id
                    );
                }
            }
        }
        assert_eq!(
            parse_mapping("CIS AWS Foundations 3.6 / 4.6"),
            Some(vec![(CIS_V3, "3.6".into()), (CIS_V5, "4.6".into())])
        );
        assert_eq!(
            parse_mapping("NIST 800-53 SC-12, SC-28"),
            Some(vec![(NIST, "SC-12".into()), (NIST, "SC-28".into())])
        );
        assert_eq!(parse_mapping("ISO 27001 A.10"), None);
    }

    #[test]
    fn fsbp_iam_controls_are_not_evaluated_where_iam_was_not_read() {
        let summary = summarize(&fixture());
        for (id, check) in [("KMS.1", "IAM001"), ("KMS.2", "IAM002")] {
            let c = control(&summary, FSBP, id);
            assert_eq!(c.checks, vec![check]);
            assert_eq!(c.status, Status::NotEvaluated);
            assert!(
                c.accounts.iter().all(|a| a.status == Status::NotEvaluated
                    && a.reason.as_deref() == Some("IAM not read"))
            );
        }
        assert_eq!(
            control(&summary, CONTROL_TOWER, "CT.KMS.PR.3").checks,
            vec!["POL004"]
        );
        assert_eq!(control(&summary, FSBP, "KMS.4").checks, vec!["ROT001"]);
        assert_eq!(control(&summary, CIS_V3, "3.6").checks, vec!["ROT001"]);
        assert_eq!(control(&summary, CIS_V5, "4.6").checks, vec!["ROT001"]);
    }

    #[test]
    fn a_control_fails_on_findings_and_never_passes_an_unread_scope() {
        // The fixture: 111111111111 has a public policy (POL001) and a key whose policy could not
        // be read; 222222222222 could not list eu-west-1.
        let summary = summarize(&fixture());
        let kms5 = control(&summary, FSBP, "KMS.5");
        let by = |account: &str| {
            kms5.accounts
                .iter()
                .find(|a| a.account == account)
                .expect("account")
        };
        assert_eq!(by("111111111111").status, Status::Fail);
        assert_eq!(by("111111111111").findings, 1);
        assert_eq!(by("222222222222").status, Status::NotEvaluated);
        assert_eq!(by("222222222222").gaps, 1);
        assert_eq!(kms5.status, Status::Fail);
    }

    /// KMS.1 and KMS.2 per account: pass where IAM was read and no policy failed, fail on a
    /// finding, not evaluated where IAM was not read or a policy could not be parsed.
    #[test]
    fn fsbp_iam_controls_follow_the_iam_read_in_each_account() {
        use crate::model::iam::{
            AccountAuthorizationDetails, IamRole, InlinePolicy, ManagedPolicy,
        };
        let mut report = fixture();
        let narrow = r#"{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111111111111:key/k"}]}"#;
        report.inventory.iam = Some(vec![AccountAuthorizationDetails {
            account: "111111111111".into(),
            roles: vec![IamRole {
                name: "app".into(),
                arn: "arn:aws:iam::111111111111:role/app".into(),
                inline_policies: vec![InlinePolicy {
                    name: "narrow".into(),
                    document: narrow.into(),
                }],
                ..IamRole::default()
            }],
            policies: vec![
                ManagedPolicy {
                    name: "Narrow".into(),
                    arn: "arn:aws:iam::111111111111:policy/Narrow".into(),
                    document: Some(narrow.into()),
                    ..ManagedPolicy::default()
                },
                ManagedPolicy {
                    name: "Broken".into(),
                    arn: "arn:aws:iam::111111111111:policy/Broken".into(),
                    document: Some("{".into()),
                    ..ManagedPolicy::default()
                },
            ],
            ..AccountAuthorizationDetails::default()
        }]);
        let summary = summarize(&report);
        let by = |id: &str, account: &str| {
            control(&summary, FSBP, id)
                .accounts
                .iter()
                .find(|a| a.account == account)
                .cloned()
                .expect("account")
        };
        let kms2 = by("KMS.2", "111111111111");
        assert_eq!((kms2.status, kms2.keys, kms2.passed), (Status::Pass, 1, 1));
        let kms1 = by("KMS.1", "111111111111");
        assert_eq!(kms1.status, Status::NotEvaluated);
        assert_eq!(kms1.reason.as_deref(), Some("1 IAM policy unreadable"));
        assert_eq!((kms1.keys, kms1.passed, kms1.not_evaluated), (2, 1, 1));
        assert_eq!(by("KMS.2", "222222222222").status, Status::NotEvaluated);
        assert_eq!(
            by("KMS.2", "222222222222").reason.as_deref(),
            Some("IAM not read")
        );

        // An IAM002 finding fails KMS.2 in its account.
        let meta = crate::analysis::catalog().lookup("IAM002").expect("IAM002");
        report.findings.push(
            crate::analysis::finding::FindingBuilder::for_resource(
                meta,
                "111111111111",
                "us-east-1",
                "arn:aws:iam::111111111111:role/app",
                "inline policy wide of role app allows kms:Decrypt on all KMS keys",
            )
            .discriminator("inline:wide")
            .build(),
        );
        let summary = summarize(&report);
        let kms2 = control(&summary, FSBP, "KMS.2");
        let one = kms2
            .accounts
            .iter()
            .find(|a| a.account == "111111111111")
            .expect("account");
        assert_eq!((one.status, one.failed, one.findings), (Status::Fail, 1, 1));
        assert_eq!(kms2.status, Status::Fail);
    }

    /// A POL004 finding on an IAM identity fails CT.KMS.PR.3 for each key it lists, in the key's
    /// own account; a suppressed one fails nothing.
    #[test]
    fn a_finding_on_an_identity_fails_the_keys_it_lists() {
        let mut report = complete_fixture();
        report.findings.clear();
        let arns: Vec<String> = report
            .inventory
            .keys
            .iter()
            .map(|k| k.arn.clone())
            .collect();
        let meta = crate::analysis::catalog().lookup("POL004").expect("POL004");
        let mut finding = crate::analysis::finding::FindingBuilder::for_resource(
            meta,
            "111111111111",
            "us-east-1",
            "arn:aws:iam::111111111111:role/Admin",
            "role Admin can call kms:CreateGrant without kms:GrantIsForAWSResource on 3 keys",
        )
        .build();
        // Two keys of 111111111111 and one of 222222222222.
        finding.keys = Some(vec![arns[1].clone(), arns[2].clone(), arns[6].clone()].into());
        report.findings.push(finding);
        let summary = summarize(&report);
        let pr3 = control(&summary, CONTROL_TOWER, "CT.KMS.PR.3");
        let by = |account: &str| {
            pr3.accounts
                .iter()
                .find(|a| a.account == account)
                .cloned()
                .expect("account")
        };
        let (one, two) = (by("111111111111"), by("222222222222"));
        assert_eq!(
            (one.status, one.keys, one.failed, one.passed, one.findings),
            (Status::Fail, 6, 2, 4, 1)
        );
        assert_eq!(
            (two.status, two.keys, two.failed, two.passed, two.findings),
            (Status::Fail, 3, 1, 2, 1)
        );
        assert_eq!(pr3.status, Status::Fail);

        report.findings[0].suppressed = Some(Box::new(crate::model::Suppressed {
            reason: "break-glass".into(),
            expires: "2099-01-01".into(),
        }));
        let summary = summarize(&report);
        let pr3 = control(&summary, CONTROL_TOWER, "CT.KMS.PR.3");
        assert!(
            pr3.accounts
                .iter()
                .all(|a| a.status == Status::Pass && a.failed == 0 && a.suppressed == 1),
            "{pr3:#?}"
        );
    }

    #[test]
    fn a_complete_clean_account_passes() {
        let mut report = complete_fixture();
        report.findings.retain(|f| f.check_id != "POL001");
        let summary = summarize(&report);
        let kms5 = control(&summary, FSBP, "KMS.5");
        assert_eq!(kms5.status, Status::Pass, "{kms5:#?}");
        assert_eq!(kms5.total.passed, kms5.total.keys);
        assert!(kms5.total.keys > 0);
    }
}
