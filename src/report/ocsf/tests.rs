use super::*;
use crate::model::Suppressed;
use serde_json::json;

const ORG: &str = "o-a1b2c3d4e5";
const MEMBER: &str = "111111111111";
const OUTSIDER: &str = "999999999999";

fn finding(account: &str, baseline: Option<BaselineState>) -> Finding {
    Finding {
        check_id: "ROT001".into(),
        name: "rotation-disabled".into(),
        severity: Severity::Medium,
        account: account.into(),
        region: "us-east-1".into(),
        key_arn: Some(format!("arn:aws:kms:us-east-1:{account}:key/k1")),
        resource: None,
        keys: None,
        aliases: vec!["alias/app".into()],
        message: "Automatic rotation is disabled".into(),
        evidence: json!({"rotation_enabled": false}).into(),
        remediation: "aws kms enable-key-rotation --key-id k1".into(),
        fingerprint: format!("fp-{account}"),
        spec: None,
        suppressed: None,
        baseline,
    }
}

/// A report of an organization scan: one named member account, findings set by the caller.
fn report(findings: Vec<Finding>, resolved: Vec<Finding>) -> Report {
    let mut report: Report = serde_json::from_value(json!({
        "schema_version": "1", "tool": {"name": "kms-audit", "version": "1.2.3"},
        "started_at": "2026-03-01T08:59:00Z", "finished_at": "2026-03-01T09:00:00Z",
        "organization_id": ORG,
        "organization_accounts": [MEMBER],
        "account_names": {MEMBER: "prod"},
        "targets": [], "coverage_gaps": [], "inventory": {"keys": []}, "findings": [],
        "summary": {"keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                    "duration_ms": 0, "api_calls": {}}
    }))
    .expect("minimal report");
    report.findings = findings;
    report.resolved = resolved;
    report
}

fn lines(report: &Report) -> Vec<Value> {
    let mut out = Vec::new();
    render_to(report, &mut out).expect("render");
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect()
}

fn state(
    activity_id: u8,
    activity: &'static str,
    status_id: u8,
    status: &'static str,
) -> Lifecycle {
    Lifecycle {
        activity_id,
        activity,
        status_id,
        status,
    }
}

#[test]
fn times_are_epoch_milliseconds() {
    assert_eq!(epoch_millis("2026-03-01T09:00:00Z"), 1_772_355_600_000);
    assert_eq!(epoch_millis("not a time"), 0);
}

#[test]
fn lifecycle_follows_the_baseline_and_suppression() {
    let no_baseline = finding(MEMBER, None);
    let new = finding(MEMBER, Some(BaselineState::New));
    let existing = finding(MEMBER, Some(BaselineState::Existing));
    let suppressed = Finding {
        suppressed: Some(Box::new(Suppressed {
            reason: "accepted".into(),
            expires: "2026-12-31".into(),
        })),
        ..existing.clone()
    };
    assert_eq!(lifecycle(&no_baseline, false), state(1, "Create", 1, "New"));
    assert_eq!(lifecycle(&new, false), state(1, "Create", 1, "New"));
    assert_eq!(
        lifecycle(&existing, false),
        state(2, "Update", 99, "Existing")
    );
    assert_eq!(
        lifecycle(&suppressed, false),
        state(2, "Update", 3, "Suppressed")
    );
    assert_eq!(
        lifecycle(&no_baseline, true),
        state(3, "Close", 4, "Resolved")
    );
    assert_eq!(
        status_detail(&suppressed, false).as_deref(),
        Some("Suppressed until 2026-12-31: accepted")
    );
    assert_eq!(status_detail(&no_baseline, false), None);
}

#[test]
fn accounts_are_named_and_only_members_carry_the_organization() {
    let events = lines(&report(
        vec![finding(MEMBER, None), finding(OUTSIDER, None)],
        vec![],
    ));
    assert_eq!(
        events[0]["cloud"],
        json!({
            "provider": "AWS", "region": "us-east-1",
            "account": {"uid": MEMBER, "name": "prod", "type_id": 10, "type": "AWS Account"},
            "org": {"uid": ORG},
        })
    );
    assert_eq!(
        events[1]["cloud"]["account"]["name"], OUTSIDER,
        "no name from Organizations: the id"
    );
    assert!(events[1]["cloud"].get("org").is_none(), "not a member");

    let mut single_account = report(vec![finding(MEMBER, None)], vec![]);
    single_account.organization_id = None;
    single_account.organization_accounts = None;
    single_account.account_names.clear();
    let events = lines(&single_account);
    assert_eq!(events[0]["cloud"]["account"]["name"], MEMBER);
    assert!(events[0]["cloud"].get("org").is_none());
}

#[test]
fn every_line_declares_its_version_and_profile_and_carries_compliance() {
    let events = lines(&report(vec![finding(MEMBER, None)], vec![]));
    assert_eq!(events[0]["metadata"]["version"], OCSF_VERSION);
    assert_eq!(events[0]["metadata"]["profiles"], json!(["cloud"]));
    assert!(
        events[0].get("compliance").is_none(),
        "not a Detection Finding attribute"
    );
    assert_eq!(
        events[0]["unmapped"]["compliance"]["NIST 800-53"],
        json!(["SC-12"])
    );
}

/// One line of each lifecycle state, as a security lake receives them.
#[test]
fn lines_against_a_baseline() {
    let report = report(
        vec![
            finding(MEMBER, Some(BaselineState::New)),
            finding(OUTSIDER, Some(BaselineState::Existing)),
        ],
        vec![Finding {
            fingerprint: "fp-gone".into(),
            ..finding(MEMBER, None)
        }],
    );
    insta::assert_json_snapshot!(lines(&report));
}
