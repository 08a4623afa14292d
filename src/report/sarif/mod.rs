//! The SARIF 2.1.0 report, shaped for GitHub code scanning.
//!
//! - One rule per check of the catalog (plus `SUP001`, the expired suppression), with short and
//!   full description, help text and markdown, `helpUri` (the check's catalog entry),
//!   `properties.security-severity` (GitHub's severity: critical 9.5, high 8.0, medium 5.5,
//!   low 3.0, info 1.0) and tags; the driver names kms-audit's `informationUri`.
//! - One result per finding: `ruleId`, `ruleIndex`, `level` (critical/high → error, medium →
//!   warning, low/info → note; an expired suppression is always a warning), the message, one
//!   location whose `physicalLocation.artifactLocation.uri` is the spec file and line for drift
//!   findings (and the suppressions file for `SUP001`), else the stable per-key path
//!   `aws/<account>/<region>/kms/<key-id>` at line 1 (GitHub needs a `region.startLine`), and
//!   whose logical location is the key ARN; `partialFingerprints` hold the finding's stable
//!   fingerprint (`kmsAudit/v1`, and as `primaryLocationLineHash` so upload tools do not try to
//!   hash lines of a file that is not in the repository).
//! - Suppressed findings are left out: GitHub does not honour SARIF `suppressions` (they would
//!   arrive as open alerts). [`SarifOptions::keep_suppressed`] keeps them, with a `suppressions`
//!   entry (kind `external`, status `accepted`, the reason as justification), for a workflow
//!   that dismisses them (see `docs/github-code-scanning.md`).
//! - With a baseline, `baselineState` is `new` or `unchanged`.
//! - Coverage gaps are tool execution notifications (warnings) of the invocation.
//! - `automationDetails.id` is the GitHub category and a `/`, `<prefix>/<org-or-account>/` for one file;
//!   [`split`] writes one file per account (and smaller parts when an account alone exceeds
//!   GitHub's limits).
//!
//! Hand-written serde structs of the parts kms-audit emits (as zizmor, ruff and cargo-deny do).

pub mod split;

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::analysis::suppress::EXPIRED_CHECK_ID;
use crate::catalog::CheckMeta;
use crate::model::{BaselineState, Finding, Report, Severity};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// kms-audit's home page: the driver's `informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/kms-audit/kms-audit";

/// The key of the stable fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "kmsAudit/v1";

/// The default category prefix (`--sarif-category`).
pub const DEFAULT_CATEGORY_PREFIX: &str = "kms-audit";

/// GitHub code scanning's hard limit of results per run: a run with more is rejected whole.
pub const MAX_RESULTS_PER_RUN: usize = 25_000;

/// What goes into SARIF meant for GitHub code scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifOptions {
    /// The first segment of every category (`automationDetails.id`).
    pub category_prefix: String,
    /// Write `automationDetails.id`; without it the uploader's `category` applies.
    pub automation_details: bool,
    /// Keep suppressed findings, with a SARIF `suppressions` entry.
    pub keep_suppressed: bool,
}

impl Default for SarifOptions {
    fn default() -> Self {
        SarifOptions {
            category_prefix: DEFAULT_CATEGORY_PREFIX.to_string(),
            automation_details: true,
            keep_suppressed: false,
        }
    }
}

impl SarifOptions {
    /// Whether `finding` goes into SARIF.
    pub fn includes(&self, finding: &Finding) -> bool {
        self.keep_suppressed || finding.suppressed.is_none()
    }
}

/// The middle segment of a category: the organization id, else the account when the report
/// covers one account, else `accounts`.
pub fn scope(report: &Report) -> &str {
    if let Some(org) = report.organization_id.as_deref().filter(|o| !o.is_empty()) {
        return org;
    }
    let mut accounts = report.targets.iter().map(|t| t.account.as_str());
    match accounts.next() {
        Some(first) if accounts.all(|a| a == first) => first,
        _ => "accounts",
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_details: Option<AutomationDetails>,
    invocations: [Invocation; 1],
    results: Results<'a>,
    properties: Value,
}

/// The results, each built from its finding only when it is written, so the document never
/// holds all of them.
struct Results<'a> {
    findings: &'a [&'a Finding],
    metas: &'a [&'static CheckMeta],
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.findings
                .iter()
                .map(|finding| result(finding, self.metas)),
        )
    }
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    semantic_version: &'a str,
    information_uri: &'static str,
    rules: &'a [Rule],
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: String,
    precision: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    frameworks: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time_utc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    descriptor: Descriptor,
    properties: Value,
}

#[derive(Serialize)]
struct Descriptor {
    id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    properties: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fully_qualified_name: Option<String>,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    properties: Value,
}

/// What every run of one report shares: the rules, built once.
pub(crate) struct Rules {
    metas: Vec<&'static CheckMeta>,
    rules: Vec<Rule>,
}

impl Rules {
    pub(crate) fn of(report: &Report) -> Rules {
        let metas = super::all_check_meta();
        let rules = metas
            .iter()
            .map(|meta| rule(meta, effective_severity(report, meta)))
            .collect();
        Rules { metas, rules }
    }
}

/// One run of a SARIF log: the findings it holds and what identifies it.
pub(crate) struct RunSpec<'a> {
    pub category: Option<String>,
    pub findings: &'a [&'a Finding],
    /// Coverage gaps as notifications (a single file; the parts of a split have none).
    pub with_gaps: bool,
    pub properties: Value,
}

/// Writes a SARIF log of one run: the rules and invocation first, then the results one at a
/// time. `pretty` indents (a single file, for people); the parts of a split are compact.
pub(crate) fn write_log(
    report: &Report,
    rules: &Rules,
    run: &RunSpec<'_>,
    pretty: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: &report.tool.name,
                    version: &report.tool.version,
                    semantic_version: &report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules: &rules.rules,
                },
            },
            // GitHub takes the id up to its last `/` as the category (and the rest as a run
            // id), as upload-sarif does with its `category` input.
            automation_details: run.category.as_ref().map(|category| AutomationDetails {
                id: format!("{category}/"),
            }),
            invocations: [invocation(report, run.with_gaps)],
            results: Results {
                findings: run.findings,
                metas: &rules.metas,
            },
            properties: run.properties.clone(),
        }],
    };
    if pretty {
        serde_json::to_writer_pretty(&mut *out, &log)?;
    } else {
        serde_json::to_writer(&mut *out, &log)?;
    }
    out.write_all(b"\n")
}

/// The bytes of one result as a compact part writes it (to size the parts of a split).
pub(crate) fn result_len(finding: &Finding, rules: &Rules) -> u64 {
    let mut counter = ByteCounter(0);
    // Counting cannot fail, and every result serializes.
    let _ = serde_json::to_writer(&mut counter, &result(finding, &rules.metas));
    counter.0
}

/// A writer that only counts.
pub(crate) struct ByteCounter(pub u64);

impl Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the SARIF log of the whole report as one file, with the default options.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    render_with(report, &SarifOptions::default(), out)
}

/// Writes the SARIF log of the whole report as one run, category `<prefix>/<org-or-account>`.
/// More results than GitHub accepts in a run is an error (the upload would be rejected whole):
/// [`split`] writes such a report as one file per account.
pub fn render_with(
    report: &Report,
    options: &SarifOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| options.includes(f))
        .collect();
    if findings.len() > MAX_RESULTS_PER_RUN {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} results are more than GitHub code scanning accepts in one SARIF run ({}); \
                 write one file per account with -o sarif=DIR/",
                findings.len(),
                MAX_RESULTS_PER_RUN
            ),
        ));
    }
    let rules = Rules::of(report);
    let run = RunSpec {
        category: options
            .automation_details
            .then(|| format!("{}/{}", options.category_prefix, scope(report))),
        findings: &findings,
        with_gaps: true,
        properties: json!({
            "organization_id": report.organization_id,
            "incomplete": report.is_incomplete(),
            "summary": report.summary,
        }),
    };
    write_log(report, &rules, &run, true, out)
}

/// The severity GitHub should show for a rule: the severity its findings have in this report
/// (the config may override the catalog's), else the catalog's.
fn effective_severity(report: &Report, meta: &CheckMeta) -> Severity {
    report
        .findings
        .iter()
        .filter(|f| f.check_id == meta.id)
        .map(|f| f.severity)
        .max()
        .unwrap_or(meta.severity)
}

pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// The SARIF level of a finding of `check_id` at `severity`.
pub fn level(check_id: &str, severity: Severity) -> &'static str {
    if check_id == EXPIRED_CHECK_ID {
        return "warning";
    }
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn rule(meta: &CheckMeta, severity: Severity) -> Rule {
    let mut text = format!(
        "{}\n\n{}\n\nRemediation: {}",
        meta.title, meta.rationale, meta.remediation
    );
    let mut markdown = format!(
        "**{}** (`{}` {}, default severity {})\n\n{}\n\n### Remediation\n\n{}\n",
        meta.title, meta.id, meta.name, meta.severity, meta.rationale, meta.remediation
    );
    if !meta.references.is_empty() {
        text.push_str("\n\nReferences:");
        markdown.push_str("\n### References\n\n");
        for reference in &meta.references {
            text.push_str(&format!("\n- {reference}"));
            markdown.push_str(&format!("- <{reference}>\n"));
        }
    }
    if !meta.frameworks.is_empty() {
        text.push_str(&format!("\n\nFrameworks: {}", meta.frameworks.join("; ")));
        markdown.push_str("\n### Frameworks\n\n");
        for framework in &meta.frameworks {
            markdown.push_str(&format!("- {framework}\n"));
        }
    }
    Rule {
        id: meta.id.clone(),
        name: meta.name.clone(),
        short_description: Text {
            text: meta.title.clone(),
        },
        full_description: Text {
            text: meta.rationale.clone(),
        },
        help: Help { text, markdown },
        help_uri: Some(help_uri(&meta.id)),
        default_configuration: Configuration {
            level: level(&meta.id, meta.severity),
        },
        properties: RuleProperties {
            tags: vec![
                "security".to_string(),
                "kms".to_string(),
                meta.category.clone(),
            ],
            security_severity: security_severity(severity).to_string(),
            precision: "high",
            frameworks: meta.frameworks.clone(),
        },
    }
}

/// Where a check is documented: its catalog entry (the expired suppression: the suppressions
/// section of the README).
pub fn help_uri(check_id: &str) -> String {
    if check_id == EXPIRED_CHECK_ID {
        format!("{INFORMATION_URI}/blob/main/README.md#suppressions")
    } else {
        format!("{INFORMATION_URI}/blob/main/checks/{check_id}.yaml")
    }
}

fn invocation(report: &Report, with_gaps: bool) -> Invocation {
    let time = |t: &str| (!t.is_empty()).then(|| t.to_string());
    Invocation {
        execution_successful: true,
        start_time_utc: time(&report.started_at),
        end_time_utc: time(&report.finished_at),
        tool_execution_notifications: report
            .coverage_gaps
            .iter()
            .filter(|_| with_gaps)
            .map(|gap| {
                let mut place = gap.account.clone();
                for part in [&gap.region, &gap.key_arn].into_iter().flatten() {
                    place.push(' ');
                    place.push_str(part);
                }
                Notification {
                    level: "warning",
                    message: Text {
                        text: format!(
                            "Not audited: {} failed for {place}: {}",
                            gap.operation, gap.reason
                        ),
                    },
                    descriptor: Descriptor { id: "coverage-gap" },
                    properties: json!(gap),
                }
            })
            .collect(),
    }
}

fn result(finding: &Finding, metas: &[&CheckMeta]) -> SarifResult {
    let (uri, region) = match &finding.spec {
        Some(spec) => (
            path_to_uri(&spec.file),
            Region {
                start_line: spec.line.max(1),
            },
        ),
        // A synthetic location: GitHub requires a start line, and the whole "file" is line 1.
        None => (super::resource_path(finding), Region { start_line: 1 }),
    };
    let logical = match finding.key_arn.as_ref().or(finding.resource.as_ref()) {
        Some(arn) => LogicalLocation {
            name: super::key_label(finding).to_string(),
            fully_qualified_name: Some(arn.clone()),
            kind: "resource",
        },
        None => LogicalLocation {
            name: super::key_label(finding).to_string(),
            fully_qualified_name: Some(format!(
                "{}/{}/{}",
                finding.account,
                finding.region,
                super::key_label(finding)
            )),
            kind: "resource",
        },
    };
    let suppressions = finding
        .suppressed
        .iter()
        .map(|s| Suppression {
            kind: "external",
            status: "accepted",
            justification: s.reason.clone(),
            properties: json!({"expires": s.expires}),
        })
        .collect();
    SarifResult {
        rule_id: finding.check_id.to_string(),
        rule_index: metas.iter().position(|m| m.id == finding.check_id),
        level: level(&finding.check_id, finding.severity),
        message: Text {
            text: format!(
                "{} ({} in {} {})",
                finding.message,
                super::key_label(finding),
                finding.account,
                finding.region
            ),
        },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri },
                region,
            },
            logical_locations: vec![logical],
        }],
        partial_fingerprints: BTreeMap::from([
            (FINGERPRINT_KEY, finding.fingerprint.clone()),
            ("primaryLocationLineHash", finding.fingerprint.clone()),
        ]),
        suppressions,
        baseline_state: finding.baseline.map(|state| match state {
            BaselineState::New => "new",
            BaselineState::Existing => "unchanged",
        }),
        properties: json!({
            "severity": finding.severity,
            "account": finding.account,
            "region": finding.region,
            "key_arn": finding.key_arn,
            "aliases": finding.aliases,
            "evidence": finding.evidence,
            "remediation": finding.remediation,
        }),
    }
}

/// A file path as a SARIF URI: relative paths stay relative (to the repository root, where a CI
/// job runs kms-audit), `./` is dropped, `\` becomes `/`, absolute paths become `file://` URIs,
/// and characters URIs do not allow are percent-encoded.
pub fn path_to_uri(path: &str) -> String {
    let mut path = path.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            b'-' | b'.' | b'_' | b'~' | b'/' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*'
            | b'+' | b',' | b';' | b'=' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else if path.len() > 2 && path.as_bytes()[1] == b':' {
        // A Windows drive path (C:/x): keep the colon after the drive letter.
        format!("file:///{}:{}", &path[..1], &encoded[4..])
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(path_to_uri("specs/prod.yaml"), "specs/prod.yaml");
        assert_eq!(path_to_uri("./specs/prod.yaml"), "specs/prod.yaml");
        assert_eq!(path_to_uri("specs\\prod.yaml"), "specs/prod.yaml");
        assert_eq!(path_to_uri("my specs/p#1.yaml"), "my%20specs/p%231.yaml");
        assert_eq!(path_to_uri("/etc/kms/p.yaml"), "file:///etc/kms/p.yaml");
        assert_eq!(path_to_uri("C:\\specs\\p.yaml"), "file:///C:/specs/p.yaml");
        assert_eq!(path_to_uri("spécs.yaml"), "sp%C3%A9cs.yaml");
    }

    #[test]
    fn levels_follow_severity_and_expired_suppressions_warn() {
        assert_eq!(level("POL001", Severity::Critical), "error");
        assert_eq!(level("DEL001", Severity::High), "error");
        assert_eq!(level("ROT001", Severity::Medium), "warning");
        assert_eq!(level("ALI001", Severity::Low), "note");
        assert_eq!(level("DRF006", Severity::Info), "note");
        assert_eq!(level("SUP001", Severity::Low), "warning");
    }
}
