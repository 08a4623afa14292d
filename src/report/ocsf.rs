//! OCSF Detection Findings (class_uid 2004, OCSF 1.1.0), one JSON object per line, for security
//! lakes (Amazon Security Lake, Splunk, OpenSearch) and dashboards.
//!
//! - `finding_info.uid` is the finding's stable fingerprint, `finding_info.analytic` the check.
//! - `activity_id`: 1 Create (no baseline, or new since the baseline), 2 Update (already in the
//!   baseline), 3 Close (resolved since the baseline; these lines come last).
//! - `status_id`: 1 New, 3 Suppressed (with the reason in `status_detail`), 4 Resolved.
//! - `time` is the end of the scan, in milliseconds since the epoch.
//! - The key is the resource (`type` `AWS::KMS::Key`, `uid` the key ARN); the account and region
//!   are in `cloud`; evidence, spec location, aliases and suppression are under `unmapped`.

use std::io::Write;

use serde_json::{Value, json};

use crate::model::{BaselineState, Finding, Report, Severity};

pub const OCSF_VERSION: &str = "1.1.0";

/// Writes one line per finding, each built and written on its own.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let time = epoch_millis(&report.finished_at);
    let current = report.findings.iter().map(|f| (f, false));
    let resolved = report.resolved.iter().map(|f| (f, true));
    for (finding, is_resolved) in current.chain(resolved) {
        let event = detection_finding(report, finding, is_resolved, time);
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn detection_finding(report: &Report, f: &Finding, resolved: bool, time: i64) -> Value {
    let meta = super::check_meta(&f.check_id);
    let (activity_id, activity_name) = match (resolved, f.baseline) {
        (true, _) => (3, "Close"),
        (false, Some(BaselineState::Existing)) => (2, "Update"),
        (false, _) => (1, "Create"),
    };
    let (status_id, status) = match (resolved, &f.suppressed) {
        (true, _) => (4, "Resolved"),
        (false, Some(_)) => (3, "Suppressed"),
        (false, None) => (1, "New"),
    };
    let (severity_id, severity) = severity(f.severity);
    let mut event = json!({
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200400 + activity_id,
        "type_name": format!("Detection Finding: {activity_name}"),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "time": time,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
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
        "cloud": {
            "provider": "AWS",
            "region": f.region,
            "account": {"uid": f.account, "type_id": 10, "type": "AWS Account"},
        },
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
        },
    });
    if let Some(suppressed) = &f.suppressed {
        event["status_detail"] = json!(format!(
            "Suppressed until {}: {}",
            suppressed.expires, suppressed.reason
        ));
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
mod tests {
    use super::*;

    #[test]
    fn times_are_epoch_milliseconds() {
        assert_eq!(epoch_millis("2026-03-01T09:00:00Z"), 1_772_355_600_000);
        assert_eq!(epoch_millis("not a time"), 0);
    }
}
