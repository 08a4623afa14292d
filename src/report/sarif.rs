//! The SARIF 2.1.0 report, shaped for GitHub code scanning.
//!
//! - One rule per check of the catalog (plus `SUP001`, the expired suppression), with short and
//!   full description, help text and markdown, `helpUri`, `properties.security-severity` (GitHub's
//!   severity: critical 9.5, high 8.0, medium 5.5, low 3.0, info 1.0) and tags.
//! - One result per finding: `ruleId`, `ruleIndex`, `level` (critical/high → error, medium →
//!   warning, low/info → note; an expired suppression is always a warning), the message, one
//!   location whose `physicalLocation.artifactLocation.uri` is the spec file and line for drift
//!   findings (and the suppressions file for `SUP001`), else the stable per-key path
//!   `aws/<account>/<region>/kms/<key-id>`, and whose logical location is the key ARN;
//!   `partialFingerprints` hold the finding's stable fingerprint (`kmsAudit/v1`, and as
//!   `primaryLocationLineHash` so upload tools do not try to hash lines of a file that is not in
//!   the repository).
//! - Suppressed findings carry a SARIF `suppressions` entry (kind `external`, status `accepted`,
//!   the reason as justification): GitHub shows them as dismissed; they never fail the run.
//! - With a baseline, `baselineState` is `new` or `unchanged`.
//! - Coverage gaps are tool execution notifications (warnings) of the invocation.
//!
//! Hand-written serde structs of the parts kms-audit emits (as zizmor, ruff and cargo-deny do).

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::catalog::CheckMeta;
use crate::model::{BaselineState, Finding, Report, Severity};
use crate::suppress::EXPIRED_CHECK_ID;

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the stable fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "kmsAudit/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    automation_details: AutomationDetails,
    invocations: Vec<Invocation>,
    results: Results<'a>,
    properties: Value,
}

/// The results, each built from its finding only when it is written, so the document never
/// holds all of them.
struct Results<'a> {
    findings: &'a [Finding],
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
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: String,
    version: String,
    semantic_version: String,
    rules: Vec<Rule>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
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

/// Writes the SARIF log: the rules and invocation first, then the results one at a time.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let metas = super::all_check_meta();
    let rules = metas
        .iter()
        .map(|meta| rule(meta, effective_severity(report, meta)))
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool.name.clone(),
                    version: report.tool.version.clone(),
                    semantic_version: report.tool.version.clone(),
                    rules,
                },
            },
            automation_details: AutomationDetails {
                id: "kms-audit/".to_string(),
            },
            invocations: vec![invocation(report)],
            results: Results {
                findings: &report.findings,
                metas: &metas,
            },
            properties: json!({
                "organization_id": report.organization_id,
                "incomplete": report.is_incomplete(),
                "summary": report.summary,
            }),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
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
        help_uri: meta.references.first().cloned(),
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

fn invocation(report: &Report) -> Invocation {
    let time = |t: &str| (!t.is_empty()).then(|| t.to_string());
    Invocation {
        execution_successful: true,
        start_time_utc: time(&report.started_at),
        end_time_utc: time(&report.finished_at),
        tool_execution_notifications: report
            .coverage_gaps
            .iter()
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
            Some(Region {
                start_line: spec.line.max(1),
            }),
        ),
        None => (super::resource_path(finding), None),
    };
    let logical = match &finding.key_arn {
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
