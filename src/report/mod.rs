//! Rendering a report, and writing it where the user asked (stdout or files, atomically).
//!
//! One module per format. Every renderer is a pure function of the [`Report`] (plus, for the
//! table, whether to colour), so the same scan renders the same bytes every time and the samples
//! in `reports/` are kept in sync by a test. Renderers stream into a writer, finding by finding,
//! so the output of a large inventory is never held in memory whole.

pub mod access;
pub mod asff;
pub mod compliance;
pub mod csv;
pub mod html;
pub mod json;
pub mod ocsf;
pub mod output;
pub mod sarif;
pub mod schema;
pub mod table;

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use crate::catalog::CheckMeta;
use crate::model::arn::key_id;
use crate::model::{Finding, Report};

pub use output::{OutputTarget, write_atomic, write_atomic_with};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// For people: scope, summary by severity and account, findings by severity, coverage gaps.
    Table,
    /// The canonical machine-readable result, including the inventory (`kms-audit report` reads it).
    Json,
    /// One finding per row, stable columns, for spreadsheets and BI tools.
    Csv,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// OCSF Detection Findings (class 2004), one JSON object per line, for security lakes.
    Ocsf,
    /// AWS Security Finding Format: a Security Hub BatchImportFindings request.
    Asff,
    /// One self-contained HTML page (inline CSS, JS and SVG; works offline from file://).
    Html,
    /// Compliance summary as a table: pass / fail / not evaluated per framework control and account.
    Compliance,
    /// The compliance summary as CSV, one row per control and account.
    ComplianceCsv,
    /// The compliance summary as JSON.
    ComplianceJson,
    /// Effective access as CSV: one row per key, action class, principal and path.
    AccessCsv,
}

impl Format {
    /// Whether the format writes effective access (`report.access`): the JSON report, the
    /// HTML page and access-csv. The others need it only through the checks' findings.
    pub fn carries_access(self) -> bool {
        matches!(self, Format::Json | Format::Html | Format::AccessCsv)
    }

    pub const ALL: [Format; 11] = [
        Format::Table,
        Format::Json,
        Format::Csv,
        Format::Sarif,
        Format::Ocsf,
        Format::Asff,
        Format::Html,
        Format::Compliance,
        Format::ComplianceCsv,
        Format::ComplianceJson,
        Format::AccessCsv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Ocsf => "ocsf",
            Format::Asff => "asff",
            Format::Html => "html",
            Format::Compliance => "compliance",
            Format::ComplianceCsv => "compliance-csv",
            Format::ComplianceJson => "compliance-json",
            Format::AccessCsv => "access-csv",
        }
    }

    /// The usual file name extension of the format (used by the samples in `reports/`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Ocsf => "ocsf.jsonl",
            Format::Asff => "asff.json",
            Format::Html => "html",
            Format::Compliance => "compliance.txt",
            Format::ComplianceCsv => "compliance.csv",
            Format::ComplianceJson => "compliance.json",
            Format::AccessCsv => "access.csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown report format '{s}' (expected table, json, csv, sarif, ocsf, asff, \
                     html, compliance, compliance-csv, compliance-json or access-csv)"
                )
            })
    }
}

/// Presentation choices that depend on where the output goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colour (only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Width of the table and compliance table in columns; `None`: [`DEFAULT_WIDTH`].
    pub width: Option<usize>,
    /// What makes the run fail, so the table's last line can give the exit code and why.
    pub fail_policy: crate::analysis::exit::FailPolicy,
}

/// The table width when the output is not a terminal (files, pipes, CI logs).
pub const DEFAULT_WIDTH: usize = 100;

impl RenderOptions {
    /// The table width, kept between 60 and 400 columns.
    pub fn table_width(&self) -> usize {
        self.width.unwrap_or(DEFAULT_WIDTH).clamp(60, 400)
    }
}

/// Renders the report in one format, as text (tests and small reports; see [`render_to`]).
pub fn render(report: &Report, format: Format, options: RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every renderer writes UTF-8.
    let _ = render_to(report, format, options, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the report in one format to `out` (give it a buffered writer: renderers write in small
/// pieces). An error is the writer's, or a serialization error as an I/O error.
pub fn render_to(
    report: &Report,
    format: Format,
    options: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table::render_to(report, options, out),
        Format::Json => json::render_to(report, out),
        Format::Csv => csv::render_to(report, out),
        Format::Sarif => sarif::render_to(report, out),
        Format::Ocsf => ocsf::render_to(report, out),
        Format::Asff => asff::render_to(report, out),
        Format::Html => html::render_to(report, out),
        Format::Compliance => compliance::render_table(report, options.table_width(), out),
        Format::ComplianceCsv => compliance::render_csv(report, out),
        Format::ComplianceJson => compliance::render_json(report, out),
        Format::AccessCsv => access::render_csv(report, out),
    }
}

/// The documentation of a finding's check: the catalog entry, or the entry of the findings
/// kms-audit raises about its own inputs (an expired suppression, `SUP001`).
pub fn check_meta(check_id: &str) -> Option<&'static CheckMeta> {
    crate::analysis::every_rule()
        .all()
        .iter()
        .find(|meta| meta.id == check_id)
}

/// Every rule a report can cite: the catalog, then `SUP001`.
pub fn all_check_meta() -> Vec<&'static CheckMeta> {
    crate::analysis::every_rule().all().iter().collect()
}

/// How a person recognises the finding's key: its first alias, else its key id, else (for a
/// finding on an IAM policy) the resource part of its ARN (`policy/NAME`, `role/NAME`), else `-`.
pub fn key_label(finding: &Finding) -> &str {
    finding
        .aliases
        .first()
        .map(String::as_str)
        .or_else(|| key_id(finding))
        .or_else(|| resource_name(finding))
        .unwrap_or("-")
}

/// The resource part of a non-key finding's resource ARN (`role/app`).
fn resource_name(finding: &Finding) -> Option<&str> {
    let arn = finding.resource.as_deref()?;
    Some(
        crate::model::arn::Arn::parse(arn)
            .map(|a| a.resource)
            .filter(|r| !r.is_empty())
            .unwrap_or(arn),
    )
}

/// A stable per-key path used where a format wants a file: `aws/<account>/<region>/kms/<key-id>`
/// (`.../kms/alias/<name>` for a declared key that has no live key; `aws/<account>/iam/role/<name>`
/// for a finding on an IAM policy, which is global).
pub fn resource_path(finding: &Finding) -> String {
    if finding.key_arn.is_none()
        && let Some(name) = resource_name(finding)
    {
        return format!("aws/{}/iam/{name}", finding.account);
    }
    let base = format!("aws/{}/{}/kms", finding.account, finding.region);
    match (key_id(finding), finding.aliases.first()) {
        (Some(id), _) => format!("{base}/{id}"),
        (None, Some(alias)) => format!("{base}/{alias}"),
        (None, None) => base,
    }
}

/// The AWS partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`), `aws` when unknown.
pub fn partition_of(finding: &Finding) -> &str {
    crate::model::arn::partition_of_arn(finding.key_arn.as_deref().or(finding.resource.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        assert!("pdf".parse::<Format>().unwrap_err().contains("asff"));
    }

    /// A writer whose reader has gone (`kms-audit report | head`).
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_format_passes_on_the_writers_error_kind() {
        let report = crate::model::saved_report::parse_report(
            "scan.json",
            include_str!("../../tests/fixtures/reports/scan.json"),
        )
        .expect("fixture");
        for format in Format::ALL {
            let err = render_to(&report, format, RenderOptions::default(), &mut ClosedPipe)
                .expect_err("the write fails");
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{format}");
        }
    }

    /// A finding on an IAM policy (no key ARN) names the policy as its resource in every format.
    #[test]
    fn findings_on_iam_policies_name_the_policy_in_every_format() {
        let mut report = crate::model::saved_report::parse_report(
            "scan.json",
            include_str!("../../tests/fixtures/reports/scan.json"),
        )
        .expect("fixture");
        let policy = "arn:aws:iam::111111111111:policy/DecryptAll";
        let meta = crate::analysis::catalog().lookup("IAM001").expect("IAM001");
        let finding = crate::analysis::finding::FindingBuilder::for_resource(
            meta,
            "111111111111",
            "us-east-1",
            policy,
            "customer-managed IAM policy DecryptAll allows kms:Decrypt on all KMS keys",
        )
        .discriminator("managed:DecryptAll")
        .build();
        assert_eq!(key_label(&finding), "policy/DecryptAll");
        assert_eq!(
            resource_path(&finding),
            "aws/111111111111/iam/policy/DecryptAll"
        );
        report.findings = vec![finding];
        let render = |format: Format| {
            let mut out = Vec::new();
            render_to(&report, format, RenderOptions::default(), &mut out).expect("renders");
            String::from_utf8(out).expect("utf-8")
        };
        let asff: serde_json::Value = serde_json::from_str(&render(Format::Asff)).expect("asff");
        let resource = &asff["Findings"][0]["Resources"][0];
        assert_eq!(resource["Type"], "AwsIamPolicy");
        assert_eq!(resource["Id"], policy);
        assert_eq!(resource["Partition"], "aws");
        let sarif: serde_json::Value = serde_json::from_str(&render(Format::Sarif)).expect("sarif");
        let location = &sarif["runs"][0]["results"][0]["locations"][0];
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            policy
        );
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "aws/111111111111/iam/policy/DecryptAll"
        );
        let ocsf: serde_json::Value =
            serde_json::from_str(render(Format::Ocsf).lines().next().expect("a line"))
                .expect("ocsf");
        assert_eq!(ocsf["resources"][0]["type"], "AWS::IAM::Policy");
        assert_eq!(ocsf["resources"][0]["uid"], policy);
        let csv = render(Format::Csv);
        assert!(
            csv.lines().next().is_some_and(|h| h.ends_with(",resource")),
            "{csv}"
        );
        assert!(
            csv.lines().nth(1).is_some_and(|r| r.ends_with(policy)),
            "{csv}"
        );
        let json = render(Format::Json);
        assert!(
            json.contains(&format!("\"resource\": \"{policy}\"")),
            "{json}"
        );
        for format in [Format::Table, Format::Html, Format::Compliance] {
            assert!(!render(format).is_empty(), "{format}");
        }
        assert!(render(Format::Table).contains("policy/DecryptAll"));
    }

    #[test]
    fn every_catalog_check_and_the_expired_suppression_have_metadata() {
        for meta in crate::analysis::catalog().all() {
            assert_eq!(check_meta(&meta.id).map(|m| &m.id), Some(&meta.id));
        }
        assert!(check_meta("SUP001").is_some());
        assert!(check_meta("NOPE999").is_none());
        assert_eq!(
            all_check_meta().len(),
            crate::analysis::catalog().all().len() + 1
        );
    }
}
