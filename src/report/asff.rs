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

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Map, Value, json};

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
        let text = serde_json::to_vec_pretty(&builder.finding(finding, resolved))?;
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
        asff_finding(self.report, &self.keys, finding, resolved)
    }
}

/// The `Id` of a finding in Security Hub: stable across scans.
pub fn finding_id(finding: &Finding) -> String {
    format!("kms-audit/{}/{}", finding.check_id, finding.fingerprint)
}

fn asff_finding(
    report: &Report,
    keys: &HashMap<&str, &KeyRecord>,
    f: &Finding,
    resolved: bool,
) -> Value {
    let meta = super::check_meta(&f.check_id);
    let partition = super::partition_of(f);
    let label = severity_label(f.severity);
    let mut product_fields = Map::new();
    let mut field = |name: &str, value: String| {
        if !value.is_empty() {
            product_fields.insert(
                format!("kms-audit/{name}"),
                Value::String(truncate(&value, MAX_PRODUCT_FIELD)),
            );
        }
    };
    field("CheckId", f.check_id.to_string());
    field("CheckName", f.name.to_string());
    field("Fingerprint", f.fingerprint.clone());
    field("Aliases", f.aliases.join(" "));
    if let Some(spec) = &f.spec {
        field("SpecFile", spec.file.clone());
        field("SpecLine", spec.line.to_string());
    }
    if let Some(s) = &f.suppressed {
        field("SuppressionReason", s.reason.clone());
        field("SuppressionExpires", s.expires.clone());
    }
    field(
        "Baseline",
        match (resolved, f.baseline) {
            (true, _) => "resolved",
            (false, Some(BaselineState::New)) => "new",
            (false, Some(BaselineState::Existing)) => "existing",
            (false, None) => "",
        }
        .to_string(),
    );
    let workflow = match (resolved, &f.suppressed) {
        (true, _) => "RESOLVED",
        (false, Some(_)) => "SUPPRESSED",
        (false, None) => "NEW",
    };
    let title = meta.map_or(f.name.to_string(), |m| {
        format!("{} {}", f.check_id, m.title)
    });
    let mut remediation = json!({"Text": truncate(&f.remediation, 512)});
    if let Some(url) = meta.and_then(|m| m.references.first()) {
        remediation["Url"] = json!(url);
    }
    json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(f),
        "ProductArn": format!(
            "arn:{partition}:securityhub:{}:{}:product/{}/default",
            f.region, f.account, f.account
        ),
        "ProductName": "kms-audit",
        "CompanyName": "kms-audit",
        "GeneratorId": format!("kms-audit/{}", f.check_id),
        "AwsAccountId": f.account,
        "Region": f.region,
        "Types": [TYPES],
        "CreatedAt": report.finished_at,
        "UpdatedAt": report.finished_at,
        "Severity": {"Label": label, "Original": f.severity.as_str()},
        "FindingProviderFields": {
            "Severity": {"Label": label, "Original": f.severity.as_str()},
            "Types": [TYPES],
        },
        "Title": truncate(&title, 256),
        "Description": truncate(&f.message, 1024),
        "Remediation": {"Recommendation": remediation},
        "ProductFields": product_fields,
        "Resources": [resource(keys, f, partition)],
        "Compliance": {
            "Status": if resolved { "PASSED" } else { "FAILED" },
            "RelatedRequirements": meta.map(|m| m.frameworks.clone()).unwrap_or_default(),
        },
        "Workflow": {"Status": workflow},
        "RecordState": if resolved { "ARCHIVED" } else { "ACTIVE" },
    })
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

fn resource(keys: &HashMap<&str, &KeyRecord>, f: &Finding, partition: &str) -> Value {
    if f.key_arn.is_none()
        && let Some(arn) = &f.resource
    {
        // A finding on an IAM policy (IAM001) or on the identity of an inline policy (IAM002).
        return json!({
            "Type": iam_resource_type(arn),
            "Id": arn,
            "Partition": partition,
            "Region": f.region,
        });
    }
    let Some(arn) = &f.key_arn else {
        // A declared key that has no live key: name it by its alias ARN.
        return json!({
            "Type": "Other",
            "Id": format!(
                "arn:{partition}:kms:{}:{}:{}",
                f.region,
                f.account,
                f.aliases.first().map_or("alias/unknown", String::as_str)
            ),
            "Partition": partition,
            "Region": f.region,
        });
    };
    let mut resource = json!({
        "Type": "AwsKmsKey",
        "Id": arn,
        "Partition": partition,
        "Region": f.region,
    });
    let Some(key) = keys.get(arn.as_str()) else {
        return resource;
    };
    let mut details = Map::new();
    details.insert("AWSAccountId".into(), json!(key.account));
    details.insert("KeyId".into(), json!(key.key_id));
    let mut optional = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            details.insert(name.to_string(), json!(value));
        }
    };
    optional("KeyManager", key.key_manager.as_deref());
    optional("KeyState", key.key_state.as_deref());
    optional("Origin", key.origin.as_deref());
    optional("Description", key.description.as_deref());
    if let Some(rotation) = &key.rotation {
        details.insert("KeyRotationStatus".into(), json!(rotation.enabled));
    }
    resource["Details"] = json!({ "AwsKmsKey": details });
    if !key.tags.is_empty() {
        let tags: Map<String, Value> = key
            .tags
            .iter()
            .take(50)
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        resource["Tags"] = Value::Object(tags);
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
fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
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
