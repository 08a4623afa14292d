//! Drift: the live inventory compared with the declared specs (DRF001–DRF006).
//!
//! Pure function of the report (inventory and targets) and the declared keys: no AWS calls.
//!
//! - Matching: a declared key names its live key by key ARN, or by account + region + alias.
//! - DRF001 only when the declared key's account and region were scanned: a region that was
//!   not scanned, or failed, is no evidence that the key is missing. Such a key is "not
//!   evaluated": counted and listed in the summary, and a coverage gap (exit 3) unless the run
//!   explains it (`--spec-scope-ignore`, or `--regions` leaving its region out) — a declared
//!   scope that was not looked at is never reported as passed.
//! - Fields a spec leaves out are not compared. A declared key that is pending deletion is
//!   DRF002 (`key_state`), and its enabled state and rotation are then not compared (AWS
//!   reports rotation off while a key is pending deletion).
//! - DRF006 (unmanaged) only with `report_unmanaged`; a replica counts as declared when its
//!   primary is declared with the replica's region in `replica_regions`.
//! - Every finding carries declared vs actual in its evidence, and the spec's file and line.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::analysis::finding::FindingBuilder;
use crate::catalog::{CatalogFile, CheckMeta, catalog_file};
use crate::inputs::spec::{DeclaredKey, SpecSet};
use crate::model::arn::Arn;
use crate::model::{
    CoverageGap, Finding, KeyRecord, MultiRegionKeyType, NotEvaluated, Report,
    SPEC_SCOPE_OPERATION, SpecSummary, TargetStatus,
};

/// The checks this module implements, with their catalog files.
pub const CHECKS: &[CatalogFile] = &[
    catalog_file!("DRF001"),
    catalog_file!("DRF002"),
    catalog_file!("DRF003"),
    catalog_file!("DRF004"),
    catalog_file!("DRF005"),
    catalog_file!("DRF006"),
];

fn check(id: &str) -> Option<&'static CheckMeta> {
    let meta = crate::analysis::catalog().lookup(id);
    if meta.is_none() {
        tracing::error!("catalog entry {id} is missing");
    }
    meta
}

/// What the run chose not to look at, so declared keys there are explained, not gaps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// `--spec-scope-ignore`: declared keys outside the scan are expected.
    pub ignore: bool,
    /// The regions the scan was limited to (`--regions` or the config's `regions`), if any.
    pub regions: Vec<String>,
    /// `--exclude-regions`.
    pub exclude_regions: Vec<String>,
}

impl Scope {
    /// Why a declared key in `region` that was not scanned is expected, if it is.
    fn explains(&self, region: &str) -> Option<&'static str> {
        if self.ignore {
            Some("--spec-scope-ignore")
        } else if (!self.regions.is_empty() && !self.regions.iter().any(|r| r == region))
            || self.exclude_regions.iter().any(|r| r == region)
        {
            Some("--regions")
        } else {
            None
        }
    }
}

/// Everything drift yields: findings, the declared keys that could not be evaluated as
/// coverage gaps, and the summary counts.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub gaps: Vec<CoverageGap>,
    pub summary: SpecSummary,
}

/// The drift findings of `report`'s inventory against `specs`.
pub fn detect(report: &Report, specs: &SpecSet, report_unmanaged: bool) -> Vec<Finding> {
    evaluate(report, specs, report_unmanaged, &Scope::default()).findings
}

/// Drift of `report`'s inventory against `specs`, with the scope each declared key was (or
/// was not) evaluated in.
pub fn evaluate(
    report: &Report,
    specs: &SpecSet,
    report_unmanaged: bool,
    scope: &Scope,
) -> Evaluation {
    let live = Live::index(report);
    let mut tally = Tally {
        evaluation: Evaluation {
            summary: SpecSummary {
                declared: specs.keys.len() as u64,
                ..SpecSummary::default()
            },
            ..Evaluation::default()
        },
        matched: vec![false; live.keys.len()],
        covered_replicas: BTreeSet::new(),
    };
    for declared in &specs.keys {
        match live.find(declared) {
            Some(i) => tally.found(declared, i, &live.keys[i]),
            None => tally.not_found(declared, &live, scope),
        }
    }
    if report_unmanaged && let Some(meta) = check("DRF006") {
        tally.unmanaged(meta, live.keys);
    }
    tally.evaluation
}

/// The live inventory indexed the two ways a declared key names its live key, and what the
/// scan saw of each target: a declared key found nowhere is DRF001 only where the scan could
/// have seen it.
struct Live<'a> {
    keys: &'a [KeyRecord],
    by_arn: HashMap<&'a str, usize>,
    by_alias: HashMap<(&'a str, &'a str, &'a str), usize>,
    scanned: BTreeSet<(&'a str, &'a str)>,
    /// Targets whose aliases could not be listed: a key declared by alias cannot be looked up
    /// there, so its absence proves nothing.
    alias_blind: BTreeSet<(&'a str, &'a str)>,
    status: HashMap<(&'a str, &'a str), TargetStatus>,
}

impl<'a> Live<'a> {
    /// Indexes are built once, so matching 10,000 declared keys stays linear.
    fn index(report: &'a Report) -> Self {
        let keys = &report.inventory.keys;
        let by_arn: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.arn.as_str(), i))
            .collect();
        let mut by_alias: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            for alias in &key.aliases {
                by_alias.insert(
                    (key.account.as_str(), key.region.as_str(), alias.as_str()),
                    i,
                );
            }
        }
        let scanned: BTreeSet<(&str, &str)> = report
            .targets
            .iter()
            .filter(|t| t.status == TargetStatus::Scanned)
            .map(|t| (t.account.as_str(), t.region.as_str()))
            .collect();
        let status: HashMap<(&str, &str), TargetStatus> = report
            .targets
            .iter()
            .map(|t| ((t.account.as_str(), t.region.as_str()), t.status))
            .collect();
        Live {
            keys,
            by_arn,
            by_alias,
            scanned,
            alias_blind: alias_blind(report),
            status,
        }
    }

    /// The index of the live key `declared` names: by key ARN when it has one, else by
    /// account, region and alias.
    fn find(&self, declared: &DeclaredKey) -> Option<usize> {
        match &declared.key_arn {
            Some(arn) => self.by_arn.get(arn.as_str()).copied(),
            None => declared.alias.as_deref().and_then(|alias| {
                self.by_alias
                    .get(&(declared.account.as_str(), declared.region.as_str(), alias))
                    .copied()
            }),
        }
    }

    /// Why a declared key that was not found could not be evaluated, if it could not: its
    /// target was not scanned, or (for a key declared by alias) its aliases could not be
    /// listed. `None` means the scan would have seen the key: it is missing.
    fn why_not_evaluated(&self, declared: &DeclaredKey) -> Option<String> {
        let target = (declared.account.as_str(), declared.region.as_str());
        let (account, region) = target;
        if !self.scanned.contains(&target) {
            Some(match self.status.get(&target) {
                Some(TargetStatus::Failed) => {
                    format!("the scan of account {account}, region {region} failed")
                }
                Some(TargetStatus::Skipped) => {
                    format!("account {account}, region {region} was skipped (region not enabled)")
                }
                _ => format!("account {account}, region {region} was not scanned"),
            })
        } else if declared.key_arn.is_none() && self.alias_blind.contains(&target) {
            Some(format!(
                "the aliases of account {account}, region {region} could not be listed"
            ))
        } else {
            None
        }
    }

    /// What explains a declared key not being evaluated, if the run does: a failed target is
    /// no choice of the run, and a scanned one was looked at, so neither is ever explained.
    fn explained_by(&self, declared: &DeclaredKey, scope: &Scope) -> Option<&'static str> {
        let target = (declared.account.as_str(), declared.region.as_str());
        match self.status.get(&target) {
            Some(TargetStatus::Failed) => None,
            _ if self.scanned.contains(&target) => None,
            _ => scope.explains(&declared.region),
        }
    }
}

/// The targets whose aliases could not be listed: an `aliases` field unknown on one of their
/// keys, or a target-wide ListAliases coverage gap.
fn alias_blind(report: &Report) -> BTreeSet<(&str, &str)> {
    report
        .inventory
        .keys
        .iter()
        .filter(|k| is_unknown(k, "aliases"))
        .map(|k| (k.account.as_str(), k.region.as_str()))
        .chain(
            report
                .coverage_gaps
                .iter()
                .filter(|g| g.operation == "ListAliases" && g.key_arn.is_none())
                .filter_map(|g| g.region.as_deref().map(|r| (g.account.as_str(), r))),
        )
        .collect()
}

/// What evaluating the declared keys one by one accumulates: the result so far, which live
/// keys were matched, and the replicas declared through their primary (neither is DRF006).
struct Tally {
    evaluation: Evaluation,
    matched: Vec<bool>,
    /// Replica ARNs declared through their primary's replica_regions.
    covered_replicas: BTreeSet<String>,
}

impl Tally {
    /// A declared key found live (at index `i`): its replicas count as declared, and every
    /// difference is a finding.
    fn found(&mut self, declared: &DeclaredKey, i: usize, live: &KeyRecord) {
        self.matched[i] = true;
        self.evaluation.summary.matched += 1;
        if let (Some(mrk), Some(regions)) = (&live.multi_region, &declared.replica_regions) {
            self.covered_replicas.extend(
                mrk.replica_arns
                    .iter()
                    .filter(|arn| {
                        Arn::parse_kms(arn).is_some_and(|a| regions.iter().any(|r| r == a.region))
                    })
                    .cloned(),
            );
        }
        let findings = &mut self.evaluation.findings;
        let start = findings.len();
        compare(declared, live, findings);
        note_provenance(declared, &mut findings[start..]);
    }

    /// A declared key not found live: not evaluated when the scan could not have seen it,
    /// else missing (DRF001).
    fn not_found(&mut self, declared: &DeclaredKey, live: &Live<'_>, scope: &Scope) {
        let evaluation = &mut self.evaluation;
        match live.why_not_evaluated(declared) {
            Some(reason) => not_evaluated(
                declared,
                reason,
                live.explained_by(declared, scope),
                &mut evaluation.summary,
                &mut evaluation.gaps,
            ),
            None => {
                evaluation.summary.missing += 1;
                let start = evaluation.findings.len();
                evaluation.findings.extend(missing(declared));
                note_provenance(declared, &mut evaluation.findings[start..]);
            }
        }
    }

    /// DRF006: the customer-managed live keys no spec declares, neither directly nor as a
    /// declared primary's replica. A key whose aliases are unknown is left out: it may be
    /// declared by an alias the scan could not read.
    fn unmanaged(&mut self, meta: &CheckMeta, keys: &[KeyRecord]) {
        let findings = &mut self.evaluation.findings;
        for (i, live) in keys.iter().enumerate() {
            if self.matched[i]
                || !live.is_customer_managed()
                || self.covered_replicas.contains(&live.arn)
                || is_unknown(live, "aliases")
            {
                continue;
            }
            findings.push(
                FindingBuilder::for_key(
                    meta,
                    live,
                    format!(
                        "customer-managed key {} is not declared in any spec",
                        live.display_name()
                    ),
                )
                .evidence(json!({
                    "key_state": live.key_state,
                    "key_spec": live.key_spec,
                    "key_usage": live.key_usage,
                    "description": live.description,
                    "creation_date": live.creation_date,
                    "multi_region": live.multi_region.as_ref().map(|m| m.key_type),
                }))
                .build(),
            );
        }
    }
}

/// Records a declared key that was not evaluated: listed in the summary, and a coverage gap
/// unless the run explains it.
fn not_evaluated(
    declared: &DeclaredKey,
    reason: String,
    explained_by: Option<&str>,
    summary: &mut SpecSummary,
    gaps: &mut Vec<CoverageGap>,
) {
    summary.out_of_scope += 1;
    if explained_by.is_none() {
        gaps.push(CoverageGap {
            account: declared.account.clone(),
            region: Some(declared.region.clone()),
            key_arn: declared.key_arn.clone(),
            operation: SPEC_SCOPE_OPERATION.to_string(),
            error_code: None,
            reason: format!(
                "declared key {} ({}:{}) was not evaluated: {reason}",
                declared.display_name(),
                declared.location.file,
                declared.location.line
            ),
        });
    }
    summary.not_evaluated.push(NotEvaluated {
        account: declared.account.clone(),
        region: declared.region.clone(),
        key: declared.display_name().to_string(),
        spec: declared.location.clone(),
        source: declared.source.clone(),
        reason,
        explained_by: explained_by.map(str::to_string),
    });
}

/// Says in the evidence where an imported declaration came from when it is not applied state:
/// a plan's planned values (every finding), a separate key policy resource (DRF003).
fn note_provenance(declared: &DeclaredKey, findings: &mut [Finding]) {
    if declared.declared_from.is_none() && declared.policy_from.is_none() {
        return;
    }
    for finding in findings {
        let mut evidence = finding.evidence.value().clone();
        let Some(object) = evidence.as_object_mut() else {
            continue;
        };
        if let Some(from) = &declared.declared_from {
            object.insert("declared_from".into(), json!(from));
        }
        if let Some(from) = &declared.policy_from
            && &*finding.check_id == "DRF003"
        {
            object.insert("declared_policy_from".into(), json!(from));
        }
        finding.evidence = evidence.into();
    }
}

fn missing(declared: &DeclaredKey) -> Option<Finding> {
    let meta = check("DRF001")?;
    let identity = match &declared.alias {
        Some(alias) => json!({"alias": alias}),
        None => json!({"key_arn": declared.key_arn}),
    };
    // No resource address in the evidence: a Terraform state, a Pulumi export and a
    // hand-written spec of the same key give the same finding.
    let evidence = json!({
        "declared": identity,
        "account": declared.account,
        "region": declared.region,
        "actual": null,
    });
    Some(
        FindingBuilder::for_declared(
            meta,
            &declared.account,
            &declared.region,
            declared.key_arn.as_deref(),
            declared.alias.iter().cloned().collect(),
            format!(
                "declared key {} does not exist in account {}, region {}",
                declared.display_name(),
                declared.account,
                declared.region
            ),
        )
        .evidence(evidence)
        .spec(declared.location.clone())
        .build(),
    )
}

/// Every difference between one declared key and its live key.
fn compare(declared: &DeclaredKey, live: &KeyRecord, findings: &mut Vec<Finding>) {
    attribute_drift(declared, live, findings);
    policy_drift(declared, live, findings);
    tag_drift(declared, live, findings);
    replica_drift(declared, live, findings);
}

fn is_unknown(live: &KeyRecord, field: &str) -> bool {
    live.unknown.iter().any(|f| f == field)
}

fn pending_deletion(live: &KeyRecord) -> bool {
    matches!(
        live.key_state.as_deref(),
        Some("PendingDeletion" | "PendingReplicaDeletion")
    )
}

/// DRF002: one finding per differing attribute (the attribute is the fingerprint's
/// discriminator, so fixing one leaves the others' identities unchanged). The attributes are
/// compared in a fixed order, which is the order of the findings.
fn attribute_drift(declared: &DeclaredKey, live: &KeyRecord, findings: &mut Vec<Finding>) {
    let Some(meta) = check("DRF002") else {
        return;
    };
    let mut push = |attribute: &str, declared_value: Value, actual: Value, message: String| {
        findings.push(
            FindingBuilder::for_key(meta, live, message)
                .evidence(json!({
                    "attribute": attribute,
                    "declared": declared_value,
                    "actual": actual,
                }))
                .discriminator(attribute)
                .spec(declared.location.clone())
                .build(),
        );
    };
    key_state_drift(declared, live, &mut push);
    description_drift(declared, live, &mut push);
    spec_and_usage_drift(declared, live, &mut push);
    enabled_drift(declared, live, &mut push);
    rotation_drift(declared, live, &mut push);
    multi_region_drift(declared, live, &mut push);
    alias_drift(declared, live, &mut push);
}

/// Pushes one DRF002 finding: attribute, declared value, actual value, message.
type PushAttribute<'a> = dyn FnMut(&str, Value, Value, String) + 'a;

/// Whether the live key's metadata was read: without it an absent description or a
/// single-Region key proves nothing.
fn metadata_known(live: &KeyRecord) -> bool {
    !is_unknown(live, "metadata") && live.key_state.is_some()
}

/// A declared key is never meant to be pending deletion: that is drift of its state.
fn key_state_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    if !pending_deletion(live) {
        return;
    }
    let mut actual = json!({
        "key_state": live.key_state,
        "deletion_date": live.deletion_date,
    });
    if let Some(window) = declared.deletion_window_in_days {
        actual["declared_deletion_window_in_days"] = json!(window);
    }
    let name = live.display_name();
    push(
        "key_state",
        json!("not pending deletion"),
        actual,
        format!(
            "declared key {name} is scheduled for deletion on {}",
            live.deletion_date.as_deref().unwrap_or("an unknown date")
        ),
    );
}

/// The description, when declared and the metadata was read (no description is "").
fn description_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    if let Some(want) = &declared.description
        && metadata_known(live)
    {
        let actual = live.description.clone().unwrap_or_default();
        if *want != actual {
            let name = live.display_name();
            push(
                "description",
                json!(want),
                json!(actual),
                format!("description of {name} is \"{actual}\", declared \"{want}\""),
            );
        }
    }
}

/// Key spec and key usage, each when both sides are known.
fn spec_and_usage_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    let name = live.display_name();
    for (attribute, want, actual) in [
        ("key_spec", &declared.key_spec, &live.key_spec),
        ("key_usage", &declared.key_usage, &live.key_usage),
    ] {
        if let (Some(want), Some(actual)) = (want, actual)
            && want != actual
        {
            push(
                attribute,
                json!(want),
                json!(actual),
                format!("{attribute} of {name} is {actual}, declared {want}"),
            );
        }
    }
}

/// Enabled or not, unless the key is pending deletion (then its state is the drift).
fn enabled_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    if let Some(want) = declared.enabled
        && !pending_deletion(live)
        && let Some(state) = &live.key_state
    {
        let actual = state == "Enabled";
        if want != actual {
            let name = live.display_name();
            push(
                "enabled",
                json!(want),
                json!(actual),
                format!(
                    "{name} is {} (state {state}), declared {}",
                    if actual { "enabled" } else { "not enabled" },
                    if want { "enabled" } else { "disabled" }
                ),
            );
        }
    }
}

/// Automatic rotation and its period, unless the key is pending deletion (AWS reports
/// rotation off then) or its rotation could not be read.
fn rotation_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    if pending_deletion(live) || is_unknown(live, "rotation") {
        return;
    }
    let name = live.display_name();
    let live_rotation = live.rotation.as_ref();
    if let Some(want) = declared.enable_key_rotation {
        let actual = live_rotation.is_some_and(|r| r.enabled);
        if want != actual {
            let actual_value = match live_rotation {
                Some(r) => json!(r.enabled),
                None => json!("not applicable"),
            };
            let state = match live_rotation {
                Some(_) => "off".to_string(),
                None => format!(
                    "not applicable to a {} {} key",
                    live.key_spec.as_deref().unwrap_or("?"),
                    live.origin.as_deref().unwrap_or("?")
                ),
            };
            push(
                "enable_key_rotation",
                json!(want),
                actual_value,
                if want {
                    format!("automatic rotation of {name} is {state}, declared on")
                } else {
                    format!("automatic rotation of {name} is on, declared off")
                },
            );
        }
    }
    if let (Some(want), Some(rotation)) = (declared.rotation_period_in_days, live_rotation)
        && rotation.enabled
        && let Some(actual) = rotation.period_days
        && actual != want
    {
        push(
            "rotation_period_in_days",
            json!(want),
            json!(actual),
            format!("{name} rotates every {actual} days, declared {want}"),
        );
    }
}

/// Multi-Region or single-Region, when the metadata was read.
fn multi_region_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    if let Some(want) = declared.multi_region
        && metadata_known(live)
    {
        let actual = live.multi_region.is_some();
        if want != actual {
            let name = live.display_name();
            push(
                "multi_region",
                json!(want),
                json!(actual),
                format!(
                    "{name} is {}a multi-Region key, declared {}",
                    if actual { "" } else { "not " },
                    if want {
                        "multi-Region"
                    } else {
                        "single-Region"
                    }
                ),
            );
        }
    }
}

/// A key declared by ARN *and* alias must carry that alias (a key declared by alias alone was
/// found by it).
fn alias_drift(declared: &DeclaredKey, live: &KeyRecord, push: &mut PushAttribute<'_>) {
    if let (Some(alias), Some(_)) = (&declared.alias, &declared.key_arn)
        && !live.aliases.iter().any(|a| a == alias)
    {
        push(
            "alias",
            json!(alias),
            json!(live.aliases),
            format!("{} does not have the declared alias {alias}", live.arn),
        );
    }
}

/// DRF003: semantic policy comparison (statement order, string vs one-element list, account id
/// vs root ARN, key order and whitespace are not differences).
fn policy_drift(declared: &DeclaredKey, live: &KeyRecord, findings: &mut Vec<Finding>) {
    let (Some(want), Some(actual)) = (&declared.policy, &live.policy) else {
        return; // not declared, or unreadable (POL003 reports that)
    };
    let Some(meta) = check("DRF003") else {
        return;
    };
    let diff = crate::policy::policy_diff(want, &actual.to_value(), &live.account);
    if diff.is_empty() {
        return;
    }
    let mut evidence = serde_json::to_value(&diff).unwrap_or_default();
    if let Some(file) = &declared.policy_file {
        evidence["declared_policy_file"] = json!(file);
    }
    findings.push(
        FindingBuilder::for_key(
            meta,
            live,
            format!(
                "key policy of {} differs from the declared policy: {}",
                live.display_name(),
                diff.summary()
            ),
        )
        .evidence(evidence)
        .spec(declared.location.clone())
        .build(),
    );
}

/// DRF004: declared tags missing or different, and live tags the spec does not declare (tags
/// are declared as a whole, as Terraform and Pulumi manage them). `aws:` system tags are
/// ignored.
fn tag_drift(declared: &DeclaredKey, live: &KeyRecord, findings: &mut Vec<Finding>) {
    let Some(want) = &declared.tags else {
        return;
    };
    if is_unknown(live, "tags") || !live.is_customer_managed() {
        return;
    }
    let Some(meta) = check("DRF004") else {
        return;
    };
    let actual: BTreeMap<&str, &str> = live
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect();
    let mut missing = BTreeMap::new();
    let mut changed = BTreeMap::new();
    let mut unexpected = BTreeMap::new();
    for (k, v) in want {
        match actual.get(k.as_str()) {
            None => {
                missing.insert(k.clone(), json!(v));
            }
            Some(a) if *a != v => {
                changed.insert(k.clone(), json!({"declared": v, "actual": a}));
            }
            Some(_) => {}
        }
    }
    for (k, v) in &actual {
        if !want.contains_key(*k) {
            unexpected.insert(k.to_string(), json!(v));
        }
    }
    if missing.is_empty() && changed.is_empty() && unexpected.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    for (list, what) in [
        (&missing, "missing"),
        (&changed, "changed"),
        (&unexpected, "not declared"),
    ] {
        if !list.is_empty() {
            let names: Vec<&str> = list.keys().map(String::as_str).collect();
            parts.push(format!("{what}: {}", names.join(", ")));
        }
    }
    findings.push(
        FindingBuilder::for_key(
            meta,
            live,
            format!(
                "tags of {} differ from the declared tags ({})",
                live.display_name(),
                parts.join("; ")
            ),
        )
        .evidence(json!({
            "declared": want,
            "actual": actual,
            "missing": missing,
            "changed": changed,
            "unexpected": unexpected,
        }))
        .spec(declared.location.clone())
        .build(),
    );
}

/// DRF005: the regions of the live multi-Region key's replicas vs the declared replica regions.
fn replica_drift(declared: &DeclaredKey, live: &KeyRecord, findings: &mut Vec<Finding>) {
    let Some(want) = &declared.replica_regions else {
        return;
    };
    if is_unknown(live, "metadata") || live.key_state.is_none() {
        return;
    }
    let Some(meta) = check("DRF005") else {
        return;
    };
    let actual: BTreeSet<String> = live
        .multi_region
        .iter()
        .flat_map(|m| m.replica_arns.iter())
        .filter_map(|arn| Arn::parse_kms(arn).map(|a| a.region.to_string()))
        .collect();
    let want_set: BTreeSet<String> = want.iter().cloned().collect();
    if actual == want_set {
        return;
    }
    let missing: Vec<&String> = want_set.difference(&actual).collect();
    let unexpected: Vec<&String> = actual.difference(&want_set).collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "no replica in {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unexpected.is_empty() {
        parts.push(format!(
            "undeclared replica in {}",
            unexpected
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let key_type = live.multi_region.as_ref().map(|m| match m.key_type {
        MultiRegionKeyType::Primary => "PRIMARY",
        MultiRegionKeyType::Replica => "REPLICA",
    });
    findings.push(
        FindingBuilder::for_key(
            meta,
            live,
            format!(
                "replicas of {} differ from the declared replica regions: {}",
                live.display_name(),
                parts.join("; ")
            ),
        )
        .evidence(json!({
            "declared": want_set,
            "actual": actual,
            "missing": missing,
            "unexpected": unexpected,
            "multi_region_type": key_type,
        }))
        .spec(declared.location.clone())
        .build(),
    );
}

#[cfg(test)]
mod tests;
