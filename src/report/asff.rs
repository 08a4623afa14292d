//! AWS Security Finding Format (SchemaVersion 2018-10-08): a Security Hub `BatchImportFindings`
//! request, `{"Findings": [...]}`, for users who import with their own tooling.
//! `kms-audit publish securityhub` sends the same findings itself (docs/security-hub.md):
//! Security Hub takes at most 100 findings per call, and only from the finding's own account.
//!
//! - `ProductArn` is the custom-integration product of the finding's own account and region
//!   (`arn:aws:securityhub:<region>:<account>:product/<account>/default`), `AwsAccountId` and
//!   `Region` the key's: each (account, region) group must be imported by that account, there.
//! - Severity and types are in `FindingProviderFields`, the only place a finding provider can
//!   change them after the first import; the top-level copies are what a new finding starts with.
//! - `Id` is `kms-audit/<check>/<fingerprint>`: stable across scans, so a re-import updates the
//!   finding instead of duplicating it.
//! - The key is an `AwsKmsKey` resource with `Details.AwsKmsKey` from the inventory.
//! - Suppressed findings have `Workflow.Status` `SUPPRESSED` (Security Hub takes `Workflow` only
//!   at a finding's first import); findings resolved since the
//!   baseline come last with `RecordState` `ARCHIVED`, `Workflow.Status` `RESOLVED` and
//!   `Compliance.Status` `PASSED`, which closes them in Security Hub.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::model::{BaselineState, Finding, KeyRecord, Report, Severity};

pub const SCHEMA_VERSION: &str = "2018-10-08";

const TYPES: &str = "Software and Configuration Checks/AWS Security Best Practices";

/// Security Hub rejects a `ProductFields` value longer than this.
const MAX_PRODUCT_FIELD: usize = 2048;

/// Writes `{"Findings": [...]}` exactly as serde_json's pretty printer does, the findings built
/// and serialized on every core, a bounded batch at a time, and written in report order.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let builder = AsffBuilder::new(report);
    if report.findings.is_empty() && report.resolved.is_empty() {
        return out.write_all(b"{\n  \"Findings\": []\n}\n");
    }
    out.write_all(b"{\n  \"Findings\": [")?;
    let current = report.findings.len();
    let element = |index: usize, finding: &Finding, resolved: bool, buffer: &mut Vec<u8>| {
        buffer.extend_from_slice(if index == 0 { b"\n    " } else { b",\n    " });
        let text = serde_json::to_vec_pretty(&builder.record(finding, resolved))?;
        crate::model::parallel::push_indented_json(buffer, &text, 2);
        Ok(())
    };
    crate::model::parallel::write_each(&report.findings, out, |i, f, buffer| {
        element(i, f, false, buffer)
    })?;
    crate::model::parallel::write_each(&report.resolved, out, |i, f, buffer| {
        element(current + i, f, true, buffer)
    })?;
    out.write_all(b"\n  ]\n}\n")
}

/// Builds the ASFF finding of any finding of one report (with its key's details from the
/// inventory), one at a time: shared by the file output and `kms-audit publish`.
pub struct AsffBuilder<'a> {
    report: &'a Report,
    keys: HashMap<&'a str, &'a KeyRecord>,
}

impl<'a> AsffBuilder<'a> {
    pub fn new(report: &'a Report) -> AsffBuilder<'a> {
        let keys = report
            .inventory
            .keys
            .iter()
            .map(|key| (key.arn.as_str(), key))
            .collect();
        AsffBuilder { report, keys }
    }

    /// The ASFF finding of `finding`; `resolved` (a finding of `report.resolved`) archives it.
    pub fn finding(&self, finding: &Finding, resolved: bool) -> Value {
        serde_json::to_value(self.record(finding, resolved)).unwrap_or(Value::Null)
    }

    /// The same finding as a typed record borrowing from the report: what the file output
    /// serializes, without building a `Value` of each of 100,000 findings first.
    fn record<'b>(&'b self, finding: &'b Finding, resolved: bool) -> AsffFinding<'b> {
        asff_finding(self.report, &self.keys, finding, resolved)
    }
}

/// The `Id` of a finding in Security Hub: stable across scans.
pub fn finding_id(finding: &Finding) -> String {
    format!("kms-audit/{}/{}", finding.check_id, finding.fingerprint)
}

/// One ASFF finding, its fields in the order Security Hub's documentation lists them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffFinding<'a> {
    schema_version: &'static str,
    id: String,
    product_arn: String,
    product_name: &'static str,
    company_name: &'static str,
    generator_id: String,
    aws_account_id: &'a str,
    region: &'a str,
    types: [&'static str; 1],
    created_at: &'a str,
    updated_at: &'a str,
    severity: AsffSeverity,
    finding_provider_fields: ProviderFields,
    title: Cow<'a, str>,
    description: Cow<'a, str>,
    remediation: AsffRemediation<'a>,
    product_fields: ProductFields<'a>,
    resources: [AsffResource<'a>; 1],
    compliance: AsffCompliance<'a>,
    workflow: AsffWorkflow,
    record_state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffSeverity {
    label: &'static str,
    original: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderFields {
    severity: AsffSeverity,
    types: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffRemediation<'a> {
    recommendation: Recommendation<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Recommendation<'a> {
    text: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// `kms-audit/<name>` → value, in the order they are added; empty values are left out.
struct ProductFields<'a>(Vec<(&'static str, Cow<'a, str>)>);

impl<'a> ProductFields<'a> {
    fn add(&mut self, name: &'static str, value: impl Into<Cow<'a, str>>) {
        let value = value.into();
        if !value.is_empty() {
            let value = match value {
                Cow::Borrowed(text) => truncate(text, MAX_PRODUCT_FIELD),
                Cow::Owned(text) => Cow::Owned(truncate(&text, MAX_PRODUCT_FIELD).into_owned()),
            };
            self.0.push((name, value));
        }
    }
}

impl Serialize for ProductFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffResource<'a> {
    #[serde(rename = "Type")]
    resource_type: &'static str,
    id: Cow<'a, str>,
    partition: &'a str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<ResourceDetails<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<ResourceTags<'a>>,
}

#[derive(Serialize)]
struct ResourceDetails<'a> {
    #[serde(rename = "AwsKmsKey")]
    kms_key: KmsKeyDetails<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KmsKeyDetails<'a> {
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_manager: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_rotation_status: Option<bool>,
}

/// The key's first 50 tags (Security Hub's limit), in key order.
struct ResourceTags<'a>(&'a crate::model::Tags);

impl Serialize for ResourceTags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().take(50))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffCompliance<'a> {
    status: &'static str,
    related_requirements: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffWorkflow {
    status: &'static str,
}

fn asff_finding<'a>(
    report: &'a Report,
    keys: &HashMap<&str, &'a KeyRecord>,
    f: &'a Finding,
    resolved: bool,
) -> AsffFinding<'a> {
    let meta = super::check_meta(&f.check_id);
    let partition = super::partition_of(f);
    let label = severity_label(f.severity);
    let mut product_fields = ProductFields(Vec::new());
    product_fields.add("kms-audit/CheckId", f.check_id.as_str());
    product_fields.add("kms-audit/CheckName", f.name.as_str());
    product_fields.add("kms-audit/Fingerprint", f.fingerprint.as_str());
    product_fields.add("kms-audit/Aliases", f.aliases.join(" "));
    if let Some(spec) = &f.spec {
        product_fields.add("kms-audit/SpecFile", spec.file.as_str());
        product_fields.add("kms-audit/SpecLine", spec.line.to_string());
    }
    if let Some(s) = &f.suppressed {
        product_fields.add("kms-audit/SuppressionReason", s.reason.as_str());
        product_fields.add("kms-audit/SuppressionExpires", s.expires.as_str());
    }
    product_fields.add(
        "kms-audit/Baseline",
        match (resolved, f.baseline) {
            (true, _) => "resolved",
            (false, Some(BaselineState::New)) => "new",
            (false, Some(BaselineState::Existing)) => "existing",
            (false, None) => "",
        },
    );
    let workflow = match (resolved, &f.suppressed) {
        (true, _) => "RESOLVED",
        (false, Some(_)) => "SUPPRESSED",
        (false, None) => "NEW",
    };
    let title = match meta {
        Some(m) => Cow::Owned(truncate(&format!("{} {}", f.check_id, m.title), 256).into_owned()),
        None => truncate(&f.name, 256),
    };
    let severity = || AsffSeverity {
        label,
        original: f.severity.as_str(),
    };
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: finding_id(f),
        product_arn: format!(
            "arn:{partition}:securityhub:{}:{}:product/{}/default",
            f.region, f.account, f.account
        ),
        product_name: "kms-audit",
        company_name: "kms-audit",
        generator_id: format!("kms-audit/{}", f.check_id),
        aws_account_id: &f.account,
        region: &f.region,
        types: [TYPES],
        created_at: &report.finished_at,
        updated_at: &report.finished_at,
        severity: severity(),
        finding_provider_fields: ProviderFields {
            severity: severity(),
            types: [TYPES],
        },
        title,
        description: truncate(&f.message, 1024),
        remediation: AsffRemediation {
            recommendation: Recommendation {
                text: truncate(&f.remediation, 512),
                url: meta.and_then(|m| m.references.first()).map(String::as_str),
            },
        },
        product_fields,
        resources: [resource(keys, f, partition)],
        compliance: AsffCompliance {
            status: if resolved { "PASSED" } else { "FAILED" },
            related_requirements: meta.map_or(&[], |m| m.frameworks.as_slice()),
        },
        workflow: AsffWorkflow { status: workflow },
        record_state: if resolved { "ARCHIVED" } else { "ACTIVE" },
    }
}

/// The ASFF resource type of an IAM ARN (`…:policy/…`, `…:role/…`, `…:user/…`, `…:group/…`).
fn iam_resource_type(arn: &str) -> &'static str {
    let resource = crate::model::arn::Arn::parse(arn).map_or("", |a| a.resource);
    match resource.split('/').next() {
        Some("policy") => "AwsIamPolicy",
        Some("role") => "AwsIamRole",
        Some("user") => "AwsIamUser",
        Some("group") => "AwsIamGroup",
        _ => "Other",
    }
}

fn resource<'a>(
    keys: &HashMap<&str, &'a KeyRecord>,
    f: &'a Finding,
    partition: &'a str,
) -> AsffResource<'a> {
    let plain = |resource_type, id| AsffResource {
        resource_type,
        id,
        partition,
        region: &f.region,
        details: None,
        tags: None,
    };
    if f.key_arn.is_none()
        && let Some(arn) = &f.resource
    {
        // A finding on an IAM policy (IAM001) or on the identity of an inline policy (IAM002).
        return plain(iam_resource_type(arn), Cow::Borrowed(arn.as_str()));
    }
    let Some(arn) = &f.key_arn else {
        // A declared key that has no live key: name it by its alias ARN.
        return plain(
            "Other",
            Cow::Owned(format!(
                "arn:{partition}:kms:{}:{}:{}",
                f.region,
                f.account,
                f.aliases.first().map_or("alias/unknown", String::as_str)
            )),
        );
    };
    let mut resource = plain("AwsKmsKey", Cow::Borrowed(arn.as_str()));
    let Some(key) = keys.get(arn.as_str()) else {
        return resource;
    };
    resource.details = Some(ResourceDetails {
        kms_key: KmsKeyDetails {
            aws_account_id: &key.account,
            key_id: &key.key_id,
            key_manager: key.key_manager.as_deref(),
            key_state: key.key_state.as_deref(),
            origin: key.origin.as_deref(),
            description: key.description.as_deref(),
            key_rotation_status: key.rotation.as_ref().map(|rotation| rotation.enabled),
        },
    });
    if !key.tags.is_empty() {
        resource.tags = Some(ResourceTags(&key.tags));
    }
    resource
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFORMATIONAL",
    }
}

/// Security Hub rejects longer fields; cut at a character boundary with an ellipsis.
fn truncate(text: &str, max_chars: usize) -> Cow<'_, str> {
    // A text of at most `max_chars` bytes has at most that many characters.
    if text.len() <= max_chars || text.chars().count() <= max_chars {
        return Cow::Borrowed(text);
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    Cow::Owned(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_fields_are_cut_to_security_hub_limits() {
        assert_eq!(truncate("short", 256), "short");
        let long = "é".repeat(300);
        let cut = truncate(&long, 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with('…'));
    }
}
