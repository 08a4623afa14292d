//! OCSF 1.1.0 Detection Findings (class_uid 2004) with the `cloud` profile, one JSON object per
//! line, for security lakes (Amazon Security Lake, Splunk, OpenSearch) and dashboards.
//! docs/ocsf.md is the field-by-field contract; in short:
//!
//! - `metadata.version` 1.1.0 and `metadata.profiles` `["cloud"]`: `cloud` is a profile
//!   attribute, and a line that uses it without declaring the profile fails the OCSF schema.
//! - `cloud.account` names the account (`name` from Organizations when the scan read it, else the
//!   id); `cloud.org.uid` is the organization, for accounts that belong to it.
//! - `finding_info.uid` is the finding's stable fingerprint, `finding_info.analytic` the check.
//! - The lifecycle against a baseline (see [`lifecycle`]): new findings are Create / New,
//!   findings already in the baseline Update / Other ("Existing"), resolved ones (listed last)
//!   Close / Resolved; a suppressed finding is Suppressed, with the reason in `status_detail`.
//! - Compliance mappings go under `unmapped.compliance` (`{standard: [controls]}`, as Prowler
//!   does): OCSF 1.1 defines the `compliance` object only for Compliance Findings (2003), and one
//!   class per output keeps one Security Lake custom source per kms-audit export.
//! - `time` is the end of the scan, in milliseconds since the epoch.
//! - The key is the resource (`type` `AWS::KMS::Key`, `uid` the key ARN); evidence, spec
//!   location, aliases, suppression and baseline state are under `unmapped`.

pub mod compliance;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::Value;

use crate::model::{BaselineState, Evidence, Finding, Report, Severity, SpecLocation, Suppressed};

/// The one OCSF version kms-audit emits.
pub const OCSF_VERSION: &str = "1.1.0";
/// The OCSF profiles every line uses (and declares in `metadata.profiles`).
pub const PROFILES: [&str; 1] = ["cloud"];

/// Writes one line per finding, each built and written on its own: the lines borrow from the
/// report (a large inventory has tens of thousands of findings), nothing is copied per line.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let context = Context::new(report);
    // One line per finding, built on every core and written in report order.
    for (findings, is_resolved) in [(&report.findings, false), (&report.resolved, true)] {
        crate::model::parallel::write_each(findings, out, |_, finding, line| {
            serde_json::to_writer(
                &mut *line,
                &detection_finding(&context, finding, is_resolved),
            )?;
            line.push(b'\n');
            Ok(())
        })?;
    }
    Ok(())
}

/// What every line shares, worked out once per report.
struct Context<'a> {
    report: &'a Report,
    time: i64,
    metadata: Metadata<'a>,
    /// The organization's accounts, when the scan listed them; `None` trusts `organization_id`.
    members: Option<HashSet<&'a str>>,
    /// `unmapped.compliance` by check id.
    compliance: HashMap<&'static str, Value>,
}

impl<'a> Context<'a> {
    fn new(report: &'a Report) -> Self {
        Context {
            report,
            time: epoch_millis(&report.finished_at),
            metadata: Metadata {
                version: OCSF_VERSION,
                profiles: &PROFILES,
                product: Product {
                    name: &report.tool.name,
                    vendor_name: &report.tool.name,
                    version: &report.tool.version,
                },
            },
            members: report
                .organization_accounts
                .as_ref()
                .map(|accounts| accounts.iter().map(String::as_str).collect()),
            compliance: super::all_check_meta()
                .into_iter()
                .map(|meta| (meta.id.as_str(), compliance::of(meta)))
                .collect(),
        }
    }

    /// `cloud`: provider, region, the account with its name, and the organization it belongs to.
    fn cloud(&self, f: &'a Finding) -> Cloud<'a> {
        let account = f.account.as_str();
        let name = self
            .report
            .account_names
            .get(account)
            .map_or(account, String::as_str);
        let member = self
            .members
            .as_ref()
            .is_none_or(|members| members.contains(account));
        Cloud {
            provider: "AWS",
            region: &f.region,
            account: Account {
                uid: account,
                name,
                type_id: 10,
                r#type: "AWS Account",
            },
            org: self
                .report
                .organization_id
                .as_deref()
                .filter(|_| member)
                .map(|uid| Org { uid }),
        }
    }
}

/// One line: the attributes of an OCSF 1.1.0 Detection Finding kms-audit fills, in output order.
#[derive(Serialize)]
struct Event<'a> {
    activity_id: u8,
    activity_name: &'static str,
    category_uid: u8,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    time: i64,
    message: &'a str,
    metadata: &'a Metadata<'a>,
    finding_info: FindingInfo<'a>,
    cloud: Cloud<'a>,
    resources: [Resource<'a>; 1],
    remediation: Remediation<'a>,
    unmapped: Unmapped<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    profiles: &'static [&'static str],
    product: Product<'a>,
}

#[derive(Serialize)]
struct Product<'a> {
    name: &'a str,
    vendor_name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: &'a str,
    types: [&'a str; 1],
    analytic: Analytic<'a>,
}

#[derive(Serialize)]
struct Analytic<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    r#type: &'static str,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: Account<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<Org<'a>>,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    r#type: &'static str,
}

#[derive(Serialize)]
struct Org<'a> {
    uid: &'a str,
}

#[derive(Serialize)]
struct Resource<'a> {
    name: &'a str,
    r#type: &'static str,
    region: &'a str,
    cloud_partition: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
}

#[derive(Serialize)]
struct Remediation<'a> {
    desc: &'a str,
    references: &'a [String],
}

#[derive(Serialize)]
struct Unmapped<'a> {
    aliases: &'a [String],
    evidence: &'a Evidence,
    spec: &'a Option<Box<SpecLocation>>,
    suppressed: &'a Option<Box<Suppressed>>,
    baseline: Option<&'static str>,
    compliance: &'a Value,
}

/// Where a finding stands against the baseline, as OCSF activity and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub activity_id: u8,
    pub activity: &'static str,
    pub status_id: u8,
    pub status: &'static str,
}

/// New (or no baseline): Create / New. In the baseline: Update / Other "Existing" (OCSF 1.1 has
/// no status for a finding seen before and still open: "In Progress" would claim someone works on
/// it). Gone since the baseline: Close / Resolved. Suppressed: the activity as above, status
/// Suppressed.
pub fn lifecycle(f: &Finding, resolved: bool) -> Lifecycle {
    let (activity_id, activity) = match (resolved, f.baseline) {
        (true, _) => (3, "Close"),
        (false, Some(BaselineState::Existing)) => (2, "Update"),
        (false, _) => (1, "Create"),
    };
    let (status_id, status) = match (resolved, &f.suppressed, f.baseline) {
        (true, _, _) => (4, "Resolved"),
        (false, Some(_), _) => (3, "Suppressed"),
        (false, None, Some(BaselineState::Existing)) => (99, "Existing"),
        (false, None, _) => (1, "New"),
    };
    Lifecycle {
        activity_id,
        activity,
        status_id,
        status,
    }
}

fn status_detail(f: &Finding, resolved: bool) -> Option<Cow<'_, str>> {
    if resolved {
        return Some(Cow::Borrowed(
            "In the baseline and not found by this scan, which looked there",
        ));
    }
    if let Some(suppressed) = &f.suppressed {
        return Some(Cow::Owned(format!(
            "Suppressed until {}: {}",
            suppressed.expires, suppressed.reason
        )));
    }
    match f.baseline {
        Some(BaselineState::Existing) => Some(Cow::Borrowed("Already in the baseline")),
        Some(BaselineState::New) => Some(Cow::Borrowed("Not in the baseline")),
        None => None,
    }
}

static NO_COMPLIANCE: LazyLock<Value> = LazyLock::new(|| Value::Object(Default::default()));

fn detection_finding<'a>(context: &'a Context, f: &'a Finding, resolved: bool) -> Event<'a> {
    let meta = super::check_meta(&f.check_id);
    let state = lifecycle(f, resolved);
    let (severity_id, severity) = severity(f.severity);
    Event {
        activity_id: state.activity_id,
        activity_name: state.activity,
        category_uid: 2,
        category_name: "Findings",
        class_uid: 2004,
        class_name: "Detection Finding",
        type_uid: 200400 + u32::from(state.activity_id),
        type_name: match state.activity_id {
            1 => "Detection Finding: Create",
            2 => "Detection Finding: Update",
            _ => "Detection Finding: Close",
        },
        severity_id,
        severity,
        status_id: state.status_id,
        status: state.status,
        time: context.time,
        message: &f.message,
        metadata: &context.metadata,
        finding_info: FindingInfo {
            uid: &f.fingerprint,
            title: meta.map_or(f.name.as_str(), |m| m.title.as_str()),
            desc: &f.message,
            types: [meta.map_or("kms", |m| m.category.as_str())],
            analytic: Analytic {
                uid: &f.check_id,
                name: &f.name,
                type_id: 1,
                r#type: "Rule",
            },
        },
        cloud: context.cloud(f),
        resources: [Resource {
            name: super::key_label(f),
            r#type: resource_type(f),
            region: &f.region,
            cloud_partition: super::partition_of(f),
            uid: f.key_arn.as_deref().or(f.resource.as_deref()),
        }],
        remediation: Remediation {
            desc: &f.remediation,
            references: meta.map_or(&[], |m| m.references.as_slice()),
        },
        unmapped: Unmapped {
            aliases: &f.aliases,
            evidence: &f.evidence,
            spec: &f.spec,
            suppressed: &f.suppressed,
            baseline: match (resolved, f.baseline) {
                (true, _) => Some("resolved"),
                (false, Some(BaselineState::New)) => Some("new"),
                (false, Some(BaselineState::Existing)) => Some("existing"),
                (false, None) => None,
            },
            compliance: context
                .compliance
                .get(f.check_id.as_str())
                .unwrap_or(&NO_COMPLIANCE),
        },
        status_detail: status_detail(f, resolved),
    }
}

/// The CloudFormation type of the finding's resource: a key, or (IAM001, IAM002) an IAM policy
/// or the user, group or role of an inline policy.
fn resource_type(f: &Finding) -> &'static str {
    let Some(arn) = f.resource.as_deref().filter(|_| f.key_arn.is_none()) else {
        return "AWS::KMS::Key";
    };
    let resource = crate::model::arn::Arn::parse(arn).map_or("", |a| a.resource);
    match resource.split('/').next() {
        Some("policy") => "AWS::IAM::Policy",
        Some("role") => "AWS::IAM::Role",
        Some("user") => "AWS::IAM::User",
        Some("group") => "AWS::IAM::Group",
        _ => "AWS::IAM::Resource",
    }
}

fn severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// An RFC 3339 time in milliseconds since the epoch (0 when it cannot be read).
fn epoch_millis(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
