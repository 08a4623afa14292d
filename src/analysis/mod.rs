//! The offline half of kms-audit: from a report's inventory to its findings.
//!
//! Pure functions of the inventory and the user's inputs (config, specs, suppressions,
//! baseline), so `kms-audit scan` and `kms-audit report SCAN.json` give the same findings.
//! Nothing in this wing calls AWS or imports [`crate::scan`].

pub mod access;
pub mod baseline;
pub mod checks;
pub mod drift;
pub mod exit;
pub mod finding;
pub mod suppress;

use std::sync::LazyLock;

use crate::catalog::Catalog;

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::from_files(
        checks::REGISTRY
            .iter()
            .map(|check| &check.catalog)
            .chain(drift::CHECKS),
    )
});

static EVERY_RULE: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::from_files(
        checks::REGISTRY
            .iter()
            .map(|check| &check.catalog)
            .chain(drift::CHECKS)
            .chain([&suppress::EXPIRED_CATALOG]),
    )
});

/// The checks this build runs, in catalog order: the compliance checks, then drift. This is
/// what `kms-audit checks` lists and what the config and suppressions may name.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

/// Every rule a report can cite: the catalog, then the findings kms-audit raises about its own
/// inputs (`SUP001`, an expired suppression).
pub fn every_rule() -> &'static Catalog {
    &EVERY_RULE
}

use crate::model::{Finding, Report};

/// Everything the analysis needs besides the inventory, loaded and validated before any AWS call.
#[derive(Debug, Clone, Default)]
pub struct AnalysisInputs {
    /// The suppressions file (`--suppressions`).
    pub suppressions: Option<crate::analysis::suppress::Suppressions>,
    /// The earlier report findings are compared with (`--baseline`).
    pub baseline: Option<crate::analysis::baseline::Baseline>,
    /// The day suppressions expire against; `None`: today (UTC).
    pub today: Option<time::Date>,
    /// The config file (`--config`); defaults without one.
    pub config: crate::inputs::config::Config,
    /// The time checks measure from (DEL001's days left). `None`: the report's `finished_at`,
    /// i.e. when the inventory was read, so re-checking a saved scan gives the same findings.
    pub now: Option<time::OffsetDateTime>,
    /// The declared specs (`--spec`); drift runs only when some were given.
    pub specs: Option<crate::inputs::spec::SpecSet>,
    /// What the run chose not to scan, so declared keys there are not coverage gaps.
    pub spec_scope: crate::analysis::drift::Scope,
    /// Free the effective access once the checks built on it have run, because no report of
    /// this run writes it ([`crate::report::Format::carries_access`]): the report then has none.
    pub release_access: bool,
}

/// Replaces the report's findings with a fresh analysis of its inventory.
pub fn analyze(report: &mut Report, inputs: &AnalysisInputs) {
    let drift = compare_specs(report, inputs, inputs.specs.as_ref());
    analyze_with(report, inputs, drift);
}

/// [`analyze`] for a run that has no further use for its declared specs (`--spec`): they are
/// compared with the inventory first, then freed before effective access and the checks,
/// whose memory is the run's peak (10 MB for 10,000 declared keys).
pub fn analyze_freeing_specs(report: &mut Report, inputs: &mut AnalysisInputs) {
    let specs = inputs.specs.take();
    let drift = compare_specs(report, inputs, specs.as_ref());
    drop(specs);
    analyze_with(report, inputs, drift);
}

/// Drift of the inventory from `specs`, computed before effective access and the checks, while
/// neither is held. A saved report's findings and declared-scope gaps (those of its own specs)
/// are dropped first.
fn compare_specs(
    report: &mut Report,
    inputs: &AnalysisInputs,
    specs: Option<&crate::inputs::spec::SpecSet>,
) -> Option<crate::analysis::drift::Evaluation> {
    report.findings = Vec::new();
    report.access = None;
    report
        .coverage_gaps
        .retain(|g| g.operation != crate::model::SPEC_SCOPE_OPERATION);
    report.summary.specs = None;
    specs.map(|specs| {
        crate::analysis::drift::evaluate(
            report,
            specs,
            inputs.config.report_unmanaged,
            &inputs.spec_scope,
        )
    })
}

fn analyze_with(
    report: &mut Report,
    inputs: &AnalysisInputs,
    drift: Option<crate::analysis::drift::Evaluation>,
) {
    let access = crate::analysis::access::access_report(report, organization_id(report, inputs));
    report.access = Some(access);
    let uses_access = |id: &str| checks::USES_ACCESS.contains(&id);
    let mut findings: Vec<Finding> = run_checks(report, inputs, uses_access);
    if inputs.release_access {
        report.access = None;
    }
    findings.extend(run_checks(report, inputs, |id| !uses_access(id)));
    // The drift gaps are added after the checks, which look only at the scan's own gaps.
    if let Some(drift) = drift {
        findings.extend(drift.findings);
        if !drift.gaps.is_empty() {
            report.coverage_gaps.extend(drift.gaps);
            report.coverage_gaps.sort_by(|a, b| {
                (&a.account, &a.region, &a.key_arn, &a.operation).cmp(&(
                    &b.account,
                    &b.region,
                    &b.key_arn,
                    &b.operation,
                ))
            });
        }
        report.summary.specs = Some(drift.summary);
    }
    // Per-check `enabled` / `severity` from the config apply to every finding (drift too).
    inputs.config.apply_overrides(&mut findings);
    // Growth by doubling leaves up to half the vector unused; reports hold on to it until exit.
    findings.shrink_to_fit();
    report.findings = findings;
    finish(report, inputs);
}

/// Computes the report's effective access when it has none: `kms-audit report --keep-findings`
/// on a report written before access was part of it.
pub fn ensure_access(report: &mut Report, inputs: &AnalysisInputs) {
    if report.access.is_none() {
        let access =
            crate::analysis::access::access_report(report, organization_id(report, inputs));
        report.access = Some(access);
    }
}

/// The stages after checks and drift, on the report's findings as they are: suppressions, then
/// the baseline, then the report order and summary. Earlier results of these stages (a saved
/// report's suppressions, baseline states, `SUP001` findings and resolved list) are dropped
/// first, so the result depends only on `inputs`. `kms-audit report --keep-findings` runs only this.
pub fn finish(report: &mut Report, inputs: &AnalysisInputs) {
    report
        .findings
        .retain(|f| f.check_id != crate::analysis::suppress::EXPIRED_CHECK_ID);
    for finding in &mut report.findings {
        finding.suppressed = None;
        finding.baseline = None;
    }
    report.resolved.clear();
    if let Some(suppressions) = &inputs.suppressions {
        let today = inputs
            .today
            .unwrap_or_else(crate::analysis::suppress::today_utc);
        crate::analysis::suppress::apply(&mut report.findings, suppressions, today);
    }
    if let Some(baseline) = &inputs.baseline {
        crate::analysis::baseline::apply(report, baseline);
    }
    sort_findings(&mut report.findings);
    sort_findings(&mut report.resolved);
    report.refresh_summary();
}

/// The compliance checks (crate::analysis::checks) whose id `select` accepts, over the report's
/// inventory.
fn run_checks(
    report: &Report,
    inputs: &AnalysisInputs,
    select: impl Fn(&str) -> bool,
) -> Vec<Finding> {
    use time::format_description::well_known::Rfc3339;
    let now = inputs.now.unwrap_or_else(|| {
        [&report.finished_at, &report.started_at]
            .into_iter()
            .find_map(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
            .unwrap_or_else(time::OffsetDateTime::now_utc)
    });
    let organization_accounts: Option<std::collections::BTreeSet<String>> = report
        .organization_accounts
        .as_ref()
        .map(|accounts| accounts.iter().cloned().collect());
    let ctx = crate::analysis::checks::CheckContext {
        inventory: &report.inventory,
        targets: &report.targets,
        coverage_gaps: &report.coverage_gaps,
        config: &inputs.config,
        now,
        organization_id: organization_id(report, inputs),
        organization_accounts: organization_accounts.as_ref(),
        access: report.access.as_ref(),
    };
    crate::analysis::checks::run_selected(&ctx, select)
}

/// The auditor's organization: the config names it; else the one `--org` found.
fn organization_id<'a>(report: &'a Report, inputs: &'a AnalysisInputs) -> Option<&'a str> {
    inputs
        .config
        .organization_id
        .as_deref()
        .or(report.organization_id.as_deref())
}

/// Most severe first, then by place: the order of every report.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.account.cmp(&b.account))
            .then_with(|| a.region.cmp(&b.region))
            .then_with(|| a.key_arn.cmp(&b.key_arn))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}
