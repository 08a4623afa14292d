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

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde_json::{Value, json};

use crate::model::{BaselineState, Finding, Report, Severity};

/// The one OCSF version kms-audit emits.
pub const OCSF_VERSION: &str = "1.1.0";
/// The OCSF profiles every line uses (and declares in `metadata.profiles`).
pub const PROFILES: [&str; 1] = ["cloud"];

/// Writes one line per finding, each built and written on its own.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let context = Context::new(report);
    let current = report.findings.iter().map(|f| (f, false));
    let resolved = report.resolved.iter().map(|f| (f, true));
    for (finding, is_resolved) in current.chain(resolved) {
        let event = detection_finding(&context, finding, is_resolved);
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// What every line shares, worked out once per report.
struct Context<'a> {
    report: &'a Report,
    time: i64,
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
    fn cloud(&self, f: &Finding) -> Value {
        let account = f.account.as_str();
        let name = self
            .report
            .account_names
            .get(account)
            .map_or(account, String::as_str);
        let mut cloud = json!({
            "provider": "AWS",
            "region": f.region,
            "account": {"uid": account, "name": name, "type_id": 10, "type": "AWS Account"},
        });
        let member = self
            .members
            .as_ref()
            .is_none_or(|members| members.contains(account));
        if let Some(org) = self.report.organization_id.as_deref().filter(|_| member) {
            cloud["org"] = json!({"uid": org});
        }
        cloud
    }
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

fn status_detail(f: &Finding, resolved: bool) -> Option<String> {
    if resolved {
        return Some("In the baseline and not found by this scan, which looked there".into());
    }
    if let Some(suppressed) = &f.suppressed {
        return Some(format!(
            "Suppressed until {}: {}",
            suppressed.expires, suppressed.reason
        ));
    }
    match f.baseline {
        Some(BaselineState::Existing) => Some("Already in the baseline".into()),
        Some(BaselineState::New) => Some("Not in the baseline".into()),
        None => None,
    }
}

fn detection_finding(context: &Context, f: &Finding, resolved: bool) -> Value {
    let report = context.report;
    let meta = super::check_meta(&f.check_id);
    let state = lifecycle(f, resolved);
    let (severity_id, severity) = severity(f.severity);
    let mut event = json!({
        "activity_id": state.activity_id,
        "activity_name": state.activity,
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200400 + u32::from(state.activity_id),
        "type_name": format!("Detection Finding: {}", state.activity),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": state.status_id,
        "status": state.status,
        "time": context.time,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": PROFILES,
            "product": {
                "name": report.tool.name,
                "vendor_name": report.tool.name,
                "version": report.tool.version,
            },
        },
        "finding_info": {
            "uid": f.fingerprint,
            "title": meta.map_or(f.name.as_str(), |m| m.title.as_str()),
            "desc": f.message,
            "types": [meta.map_or("kms", |m| m.category.as_str())],
            "analytic": {
                "uid": f.check_id,
                "name": f.name,
                "type_id": 1,
                "type": "Rule",
            },
        },
        "cloud": context.cloud(f),
        "resources": [resource(f)],
        "remediation": {
            "desc": f.remediation,
            "references": meta.map(|m| m.references.clone()).unwrap_or_default(),
        },
        "unmapped": {
            "aliases": f.aliases,
            "evidence": f.evidence,
            "spec": f.spec,
            "suppressed": f.suppressed,
            "baseline": if resolved { json!("resolved") } else { json!(f.baseline) },
            "compliance": context
                .compliance
                .get(f.check_id.as_str())
                .cloned()
                .unwrap_or_else(|| json!({})),
        },
    });
    if let Some(detail) = status_detail(f, resolved) {
        event["status_detail"] = json!(detail);
    }
    event
}

fn resource(f: &Finding) -> Value {
    let mut resource = json!({
        "name": super::key_label(f),
        "type": "AWS::KMS::Key",
        "region": f.region,
        "cloud_partition": super::partition_of(f),
    });
    if let Some(arn) = &f.key_arn {
        resource["uid"] = json!(arn);
    }
    resource
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
