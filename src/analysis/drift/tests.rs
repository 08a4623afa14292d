//! Drift on hand-built inventories: one test per kind, and the rules about what is not compared.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::model::{MultiRegion, Rotation, SpecLocation};

const ACCOUNT: &str = "111111111111";

fn arn(region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}")
}

fn policy(extra: &[Value]) -> Value {
    let mut statements = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*",
        "Resource": "*"
    })];
    statements.extend(extra.iter().cloned());
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A live symmetric key with rotation on (365 days) and one tag.
fn live(region: &str, id: &str, alias: &str) -> KeyRecord {
    KeyRecord {
        arn: arn(region, id),
        key_id: id.into(),
        account: ACCOUNT.into(),
        region: region.into(),
        aliases: vec![alias.into()],
        key_state: Some("Enabled".into()),
        key_manager: Some("CUSTOMER".into()),
        key_spec: Some("SYMMETRIC_DEFAULT".into()),
        key_usage: Some("ENCRYPT_DECRYPT".into()),
        origin: Some("AWS_KMS".into()),
        description: Some("App key".into()),
        rotation: Some(Rotation {
            enabled: true,
            period_days: Some(365),
            next_rotation_date: Some("2027-01-01T00:00:00Z".into()),
        }),
        policy: Some(policy(&[]).into()),
        tags: [("team".to_string(), "app".to_string())].into(),
        grants: Some(Vec::new()),
        ..KeyRecord::default()
    }
}

/// The declaration that matches [`live`] exactly.
fn declared(region: &str, alias: &str, line: u64) -> DeclaredKey {
    DeclaredKey {
        location: SpecLocation {
            file: "specs/prod.yaml".into(),
            line,
        },
        account: ACCOUNT.into(),
        region: region.into(),
        alias: Some(alias.into()),
        description: Some("App key".into()),
        key_spec: Some("SYMMETRIC_DEFAULT".into()),
        key_usage: Some("ENCRYPT_DECRYPT".into()),
        enabled: Some(true),
        enable_key_rotation: Some(true),
        rotation_period_in_days: Some(365),
        multi_region: Some(false),
        tags: Some([("team".to_string(), "app".to_string())].into()),
        policy: Some(policy(&[])),
        ..DeclaredKey::default()
    }
}

fn target(region: &str, status: &str) -> Value {
    json!({"account": ACCOUNT, "region": region, "status": status})
}

fn report(keys: Vec<KeyRecord>, targets: Vec<Value>) -> Report {
    serde_json::from_value(json!({
        "schema_version": "1",
        "tool": {"name": "kms-audit", "version": "test"},
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:00:01Z",
        "targets": targets,
        "coverage_gaps": [],
        "inventory": {"keys": keys},
        "findings": [],
        "summary": {"keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                    "duration_ms": 0, "api_calls": {}},
    }))
    .expect("report")
}

fn scanned() -> Vec<Value> {
    vec![
        target("us-east-1", "scanned"),
        target("eu-west-1", "scanned"),
    ]
}

fn run(keys: Vec<KeyRecord>, declared: Vec<DeclaredKey>) -> Vec<Finding> {
    detect(
        &report(keys, scanned()),
        &SpecSet {
            keys: declared,
            ..SpecSet::default()
        },
        false,
    )
}

fn ids(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| {
            (
                f.check_id.as_str(),
                f.evidence["attribute"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn a_key_that_matches_its_declaration_has_no_drift() {
    let mut key = live("us-east-1", "k1", "alias/app");
    // The same policy written differently: statement order, bare account id, one-element list.
    key.policy = Some(
        json!({
            "Statement": [{"Resource": ["*"], "Action": ["kms:*"], "Principal": {"AWS": ACCOUNT},
                            "Effect": "Allow", "Sid": "Enable IAM User Permissions"}],
            "Version": "2012-10-17"
        })
        .into(),
    );
    assert_eq!(
        run(vec![key], vec![declared("us-east-1", "alias/app", 3)]),
        []
    );
}

#[test]
fn fields_left_out_are_not_compared() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.description = Some("changed".into());
    key.rotation = Some(Rotation {
        enabled: false,
        period_days: None,
        next_rotation_date: None,
    });
    key.tags.insert("extra", "x");
    key.policy = Some(
        policy(&[json!({"Sid": "More", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:Decrypt",
        "Resource": "*"})])
        .into(),
    );
    let only_identity = DeclaredKey {
        location: SpecLocation {
            file: "s.yaml".into(),
            line: 1,
        },
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        alias: Some("alias/app".into()),
        ..DeclaredKey::default()
    };
    assert_eq!(run(vec![key], vec![only_identity]), []);
}

#[test]
fn drf001_a_declared_key_missing_from_a_scanned_region() {
    let findings = run(
        vec![live("us-east-1", "k1", "alias/app")],
        vec![declared("us-east-1", "alias/gone", 12)],
    );
    let [f] = findings.as_slice() else {
        panic!("{findings:#?}")
    };
    assert_eq!(f.check_id, "DRF001");
    assert_eq!(f.key_arn, None);
    assert_eq!(f.aliases, ["alias/gone"]);
    assert_eq!(
        (f.account.as_str(), f.region.as_str()),
        (ACCOUNT, "us-east-1")
    );
    assert_eq!(
        f.spec,
        Some(Box::new(SpecLocation {
            file: "specs/prod.yaml".into(),
            line: 12
        }))
    );
    assert_eq!(
        f.evidence,
        json!({"declared": {"alias": "alias/gone"}, "account": ACCOUNT, "region": "us-east-1",
               "actual": null})
    );
    assert_eq!(
        f.message,
        "declared key alias/gone does not exist in account 111111111111, region us-east-1"
    );
}

#[test]
fn drf001_not_when_the_region_was_not_scanned_failed_or_its_aliases_are_unknown() {
    let declared_eu = declared("eu-west-1", "alias/app", 3);
    let declared_ap = declared("ap-southeast-2", "alias/app", 4);
    let specs = SpecSet {
        keys: vec![declared_eu.clone(), declared_ap],
        ..SpecSet::default()
    };
    let failed = report(
        Vec::new(),
        vec![
            target("us-east-1", "scanned"),
            target("eu-west-1", "failed"),
        ],
    );
    assert_eq!(
        detect(&failed, &specs, false),
        [],
        "failed and unscanned regions"
    );

    let mut blind = live("eu-west-1", "k2", "alias/other");
    blind.aliases.clear();
    blind.unknown.push("aliases".into());
    let no_aliases = report(vec![blind], scanned());
    assert_eq!(detect(&no_aliases, &specs, false), [], "aliases unknown");

    let mut gap = report(Vec::new(), scanned());
    gap.coverage_gaps = serde_json::from_value(json!([{"account": ACCOUNT, "region": "eu-west-1",
        "key_arn": null, "operation": "ListAliases", "reason": "throttled"}]))
    .expect("gap");
    assert_eq!(detect(&gap, &specs, false), [], "ListAliases failed");

    // By key ARN, a key is looked up without aliases.
    let by_arn = DeclaredKey {
        alias: None,
        key_arn: Some(arn("eu-west-1", "k9")),
        ..declared_eu
    };
    let findings = detect(
        &gap,
        &SpecSet {
            keys: vec![by_arn],
            ..SpecSet::default()
        },
        false,
    );
    assert_eq!(ids(&findings), [("DRF001", "")]);
    assert_eq!(findings[0].key_arn, Some(arn("eu-west-1", "k9")));
}

#[test]
fn drf002_one_finding_per_changed_attribute_with_declared_and_actual() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.description = Some("Something else".into());
    key.key_state = Some("Disabled".into());
    key.rotation = Some(Rotation {
        enabled: true,
        period_days: Some(730),
        next_rotation_date: None,
    });
    key.multi_region = Some(Box::new(MultiRegion {
        key_type: MultiRegionKeyType::Primary,
        primary_arn: key.arn.clone(),
        replica_arns: Vec::new(),
    }));
    let mut want = declared("us-east-1", "alias/app", 7);
    want.key_usage = Some("SIGN_VERIFY".into());
    let findings = run(vec![key], vec![want]);
    assert_eq!(
        ids(&findings),
        [
            ("DRF002", "description"),
            ("DRF002", "key_usage"),
            ("DRF002", "enabled"),
            ("DRF002", "rotation_period_in_days"),
            ("DRF002", "multi_region"),
        ]
    );
    let evidence: Vec<(Value, Value)> = findings
        .iter()
        .map(|f| (f.evidence["declared"].clone(), f.evidence["actual"].clone()))
        .collect();
    assert_eq!(
        evidence,
        [
            (json!("App key"), json!("Something else")),
            (json!("SIGN_VERIFY"), json!("ENCRYPT_DECRYPT")),
            (json!(true), json!(false)),
            (json!(365), json!(730)),
            (json!(false), json!(true)),
        ]
    );
    assert!(
        findings
            .iter()
            .all(|f| f.spec.as_ref().map(|s| s.line) == Some(7))
    );
    assert_eq!(
        findings[2].message,
        "alias/app is not enabled (state Disabled), declared enabled"
    );
    assert_eq!(
        findings[3].message,
        "alias/app rotates every 730 days, declared 365"
    );
    let prints: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.fingerprint.as_str()).collect();
    assert_eq!(prints.len(), 5, "one fingerprint per attribute");
}

#[test]
fn drf002_rotation_off_and_rotation_that_cannot_apply() {
    let mut off = live("us-east-1", "k1", "alias/app");
    off.rotation = Some(Rotation {
        enabled: false,
        period_days: None,
        next_rotation_date: None,
    });
    let findings = run(vec![off], vec![declared("us-east-1", "alias/app", 3)]);
    assert_eq!(ids(&findings), [("DRF002", "enable_key_rotation")]);
    assert_eq!(
        findings[0].message,
        "automatic rotation of alias/app is off, declared on"
    );

    let mut hmac = live("us-east-1", "k2", "alias/mac");
    hmac.key_spec = Some("HMAC_256".into());
    hmac.key_usage = Some("GENERATE_VERIFY_MAC".into());
    hmac.rotation = None;
    let mut want = declared("us-east-1", "alias/mac", 4);
    want.key_spec = Some("HMAC_256".into());
    want.key_usage = Some("GENERATE_VERIFY_MAC".into());
    want.rotation_period_in_days = None;
    let findings = run(vec![hmac.clone()], vec![want.clone()]);
    assert_eq!(ids(&findings), [("DRF002", "enable_key_rotation")]);
    assert_eq!(findings[0].evidence["actual"], "not applicable");
    want.enable_key_rotation = Some(false);
    assert_eq!(
        run(vec![hmac], vec![want]),
        [],
        "declared off, cannot rotate: no drift"
    );

    let mut unknown = live("us-east-1", "k3", "alias/u");
    unknown.rotation = None;
    unknown.unknown.push("rotation".into());
    assert_eq!(
        run(vec![unknown], vec![declared("us-east-1", "alias/u", 5)]),
        [],
        "an unreadable rotation status is a coverage gap, not drift"
    );
}

#[test]
fn drf002_a_declared_key_pending_deletion() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.key_state = Some("PendingDeletion".into());
    key.deletion_date = Some("2026-02-01T00:00:00Z".into());
    // AWS reports rotation off while a key is pending deletion: not a second finding.
    key.rotation = Some(Rotation {
        enabled: false,
        period_days: None,
        next_rotation_date: None,
    });
    let mut want = declared("us-east-1", "alias/app", 3);
    want.deletion_window_in_days = Some(30);
    let findings = run(vec![key], vec![want]);
    assert_eq!(ids(&findings), [("DRF002", "key_state")]);
    assert_eq!(
        findings[0].evidence,
        json!({"attribute": "key_state", "declared": "not pending deletion",
               "actual": {"key_state": "PendingDeletion", "deletion_date": "2026-02-01T00:00:00Z",
                          "declared_deletion_window_in_days": 30}})
    );
    assert_eq!(
        findings[0].message,
        "declared key alias/app is scheduled for deletion on 2026-02-01T00:00:00Z"
    );
}

#[test]
fn drf003_policy_drift_is_semantic_and_names_the_statements() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.policy = Some(
        policy(&[json!({"Sid": "AllowPartner", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:Decrypt",
        "Resource": "*"})])
        .into(),
    );
    let mut want = declared("us-east-1", "alias/app", 3);
    want.policy_file = Some("policies/app.json".into());
    let findings = run(vec![key], vec![want]);
    assert_eq!(ids(&findings), [("DRF003", "")]);
    let f = &findings[0];
    assert_eq!(
        f.message,
        "key policy of alias/app differs from the declared policy: 1 statement added \
         (\"AllowPartner\")"
    );
    assert_eq!(f.evidence["added"][0]["id"], "AllowPartner");
    assert_eq!(f.evidence["declared_policy_file"], "policies/app.json");

    let mut unreadable = live("us-east-1", "k2", "alias/x");
    unreadable.policy = None;
    unreadable.unknown.push("policy".into());
    assert_eq!(
        run(vec![unreadable], vec![declared("us-east-1", "alias/x", 4)]),
        []
    );
}

#[test]
fn drf004_missing_changed_and_undeclared_tags() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.tags = [
        ("team", "other"),
        ("temp", "yes"),
        ("aws:cloudformation:stack-name", "s"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut want = declared("us-east-1", "alias/app", 3);
    want.tags = Some(
        [("team", "app"), ("owner", "platform")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let findings = run(vec![key], vec![want]);
    assert_eq!(ids(&findings), [("DRF004", "")]);
    assert_eq!(
        findings[0].evidence,
        json!({
            "declared": {"owner": "platform", "team": "app"},
            "actual": {"team": "other", "temp": "yes"},
            "missing": {"owner": "platform"},
            "changed": {"team": {"declared": "app", "actual": "other"}},
            "unexpected": {"temp": "yes"},
        })
    );
    assert_eq!(
        findings[0].message,
        "tags of alias/app differ from the declared tags (missing: owner; changed: team; not \
         declared: temp)"
    );
}

fn multi_region_set() -> (KeyRecord, KeyRecord) {
    let id = "mrk-1";
    let primary_arn = arn("us-east-1", id);
    let replica_arn = arn("eu-west-1", id);
    let mut primary = live("us-east-1", id, "alias/orders");
    let mut replica = live("eu-west-1", id, "alias/orders");
    for (key, kind) in [
        (&mut primary, MultiRegionKeyType::Primary),
        (&mut replica, MultiRegionKeyType::Replica),
    ] {
        key.multi_region = Some(Box::new(MultiRegion {
            key_type: kind,
            primary_arn: primary_arn.clone(),
            replica_arns: vec![replica_arn.clone()],
        }));
    }
    (primary, replica)
}

#[test]
fn drf005_declared_replica_regions_against_the_live_replicas() {
    let (primary, replica) = multi_region_set();
    let mut want = declared("us-east-1", "alias/orders", 3);
    want.multi_region = Some(true);
    want.replica_regions = Some(vec!["eu-west-1".into()]);
    assert_eq!(
        run(vec![primary.clone(), replica.clone()], vec![want.clone()]),
        []
    );

    want.replica_regions = Some(vec!["ap-southeast-2".into()]);
    let findings = run(vec![primary, replica], vec![want]);
    assert_eq!(ids(&findings), [("DRF005", "")]);
    assert_eq!(
        findings[0].evidence,
        json!({"declared": ["ap-southeast-2"], "actual": ["eu-west-1"],
               "missing": ["ap-southeast-2"], "unexpected": ["eu-west-1"],
               "multi_region_type": "PRIMARY"})
    );
    assert_eq!(
        findings[0].message,
        "replicas of alias/orders differ from the declared replica regions: no replica in \
         ap-southeast-2; undeclared replica in eu-west-1"
    );
}

#[test]
fn drf006_only_when_asked_and_not_for_declared_replicas_or_aws_keys() {
    let (primary, mut replica) = multi_region_set();
    replica.aliases.clear();
    let mut aws_managed = live("us-east-1", "aws1", "alias/aws/ebs");
    aws_managed.key_manager = Some("AWS".into());
    let stray = live("us-east-1", "k7", "alias/stray");
    let keys = vec![primary, replica, aws_managed, stray];
    let mut want = declared("us-east-1", "alias/orders", 3);
    want.multi_region = Some(true);
    want.replica_regions = Some(vec!["eu-west-1".into()]);
    let specs = SpecSet {
        keys: vec![want.clone()],
        ..SpecSet::default()
    };
    let report = report(keys.clone(), scanned());
    assert_eq!(ids(&detect(&report, &specs, false)), []);
    let findings = detect(&report, &specs, true);
    assert_eq!(ids(&findings), [("DRF006", "")]);
    assert_eq!(findings[0].key_arn, Some(arn("us-east-1", "k7")));
    assert_eq!(findings[0].spec, None);
    assert_eq!(
        findings[0].message,
        "customer-managed key alias/stray is not declared in any spec"
    );

    // Without replica_regions on the primary, the undeclared replica is unmanaged.
    want.replica_regions = None;
    let specs = SpecSet {
        keys: vec![want],
        ..SpecSet::default()
    };
    let findings = detect(&report, &specs, true);
    let arns: Vec<_> = findings.iter().filter_map(|f| f.key_arn.clone()).collect();
    assert_eq!(arns, [arn("eu-west-1", "mrk-1"), arn("us-east-1", "k7")]);
}

#[test]
fn keys_declared_by_arn_match_by_arn_and_their_alias_is_checked() {
    let key = live("us-east-1", "k1", "alias/app");
    let mut want = declared("us-east-1", "alias/renamed", 3);
    want.key_arn = Some(key.arn.clone());
    let findings = run(vec![key], vec![want]);
    assert_eq!(ids(&findings), [("DRF002", "alias")]);
    assert_eq!(findings[0].evidence["actual"], json!(["alias/app"]));
}

#[test]
fn the_same_drift_from_any_source_has_the_same_finding() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.description = Some("changed".into());
    let hand = declared("us-east-1", "alias/app", 3);
    let terraform = DeclaredKey {
        location: SpecLocation {
            file: "terraform.tfstate".into(),
            line: 120,
        },
        source: Some("terraform: aws_kms_key.app".into()),
        fields: BTreeMap::new(),
        ..hand.clone()
    };
    let a = run(vec![key.clone()], vec![hand]);
    let b = run(vec![key], vec![terraform]);
    assert_eq!(a.len(), 1);
    let strip = |f: &Finding| Finding {
        spec: None,
        ..f.clone()
    };
    assert_eq!(strip(&a[0]), strip(&b[0]));
    assert_eq!(b[0].spec.as_ref().map(|s| s.line), Some(120));
}

#[test]
fn every_drift_check_is_in_the_catalog() {
    for id in CHECKS.iter().map(|f| f.id) {
        let meta = crate::analysis::catalog()
            .lookup(id)
            .expect("catalog entry");
        assert_eq!(meta.category, "drift", "{id}");
    }
}

#[test]
fn declared_keys_outside_the_scan_are_counted_listed_and_gaps_unless_explained() {
    let keys = vec![live("us-east-1", "k1", "alias/app")];
    let targets = vec![
        target("us-east-1", "scanned"),
        target("eu-west-1", "failed"),
        target("ap-east-1", "skipped"),
    ];
    let report = report(keys, targets);
    let set = SpecSet {
        keys: vec![
            declared("us-east-1", "alias/app", 3),
            declared("us-east-1", "alias/gone", 10),
            declared("eu-west-1", "alias/app", 20),
            declared("ap-east-1", "alias/app", 30),
            declared("sa-east-1", "alias/app", 40),
        ],
        ..SpecSet::default()
    };
    let outcome = evaluate(&report, &set, false, &Scope::default());
    assert_eq!(ids(&outcome.findings), [("DRF001", "")]);
    let summary = &outcome.summary;
    assert_eq!(
        (
            summary.declared,
            summary.matched,
            summary.missing,
            summary.out_of_scope
        ),
        (5, 1, 1, 3)
    );
    let reasons: Vec<(&str, &str, Option<&str>)> = summary
        .not_evaluated
        .iter()
        .map(|n| {
            (
                n.region.as_str(),
                n.reason.as_str(),
                n.explained_by.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "eu-west-1",
                "the scan of account 111111111111, region eu-west-1 failed",
                None
            ),
            (
                "ap-east-1",
                "account 111111111111, region ap-east-1 was skipped (region not enabled)",
                None
            ),
            (
                "sa-east-1",
                "account 111111111111, region sa-east-1 was not scanned",
                None
            ),
        ]
    );
    assert_eq!(outcome.gaps.len(), 3);
    assert!(
        outcome
            .gaps
            .iter()
            .all(|g| g.operation == SPEC_SCOPE_OPERATION),
        "{:?}",
        outcome.gaps
    );
    assert_eq!(
        outcome.gaps[2].reason,
        "declared key alias/app (specs/prod.yaml:40) was not evaluated: account 111111111111, \
         region sa-east-1 was not scanned"
    );

    // --regions left sa-east-1 and ap-east-1 out: explained. A failed region never is.
    let chosen = Scope {
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        ..Scope::default()
    };
    let outcome = evaluate(&report, &set, false, &chosen);
    assert_eq!(outcome.gaps.len(), 1, "{:?}", outcome.gaps);
    assert_eq!(outcome.gaps[0].region.as_deref(), Some("eu-west-1"));
    let ignore = Scope {
        ignore: true,
        ..Scope::default()
    };
    let outcome = evaluate(&report, &set, false, &ignore);
    assert_eq!(outcome.gaps.len(), 1, "the failed region stays a gap");
    assert_eq!(
        outcome.summary.not_evaluated[2].explained_by.as_deref(),
        Some("--spec-scope-ignore")
    );
}

#[test]
fn planned_and_separate_policy_declarations_say_so_in_the_evidence() {
    let mut key = live("us-east-1", "k1", "alias/app");
    key.description = Some("Changed".into());
    key.policy = Some(
        policy(&[json!({"Sid": "Extra", "Effect": "Allow",
        "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})])
        .into(),
    );
    let mut want = declared("us-east-1", "alias/app", 3);
    want.declared_from = Some("the planned values of a Terraform plan".into());
    want.policy_from = Some("aws_kms_key_policy.app, which overrides …".into());
    let findings = run(vec![key], vec![want]);
    assert_eq!(ids(&findings), [("DRF002", "description"), ("DRF003", "")]);
    for finding in &findings {
        assert_eq!(
            finding.evidence["declared_from"],
            "the planned values of a Terraform plan"
        );
    }
    assert_eq!(findings[0].evidence["declared_policy_from"], Value::Null);
    assert_eq!(
        findings[1].evidence["declared_policy_from"],
        "aws_kms_key_policy.app, which overrides …"
    );
}

/// Comparing the specs first and freeing them gives the analysis `analyze` gives: the same
/// findings (drift and checks), declared-scope gaps and spec summary, with the specs gone.
#[test]
fn analyzing_with_the_specs_freed_first_gives_the_same_report() {
    let mut drifted = live("us-east-1", "k1", "alias/app");
    drifted.description = Some("Changed by hand".into());
    let specs = SpecSet {
        keys: vec![
            declared("us-east-1", "alias/app", 3),
            declared("eu-west-1", "alias/missing", 9),
            declared("ap-southeast-2", "alias/unscanned", 12),
        ],
        ..SpecSet::default()
    };
    let mut inputs = crate::analysis::AnalysisInputs {
        specs: Some(specs),
        ..Default::default()
    };
    // Not declared, and its rotation is off: a finding of the checks (ROT001).
    let mut unrotated = live("eu-west-1", "k2", "alias/other");
    if let Some(rotation) = &mut unrotated.rotation {
        rotation.enabled = false;
    }
    let mut kept = report(vec![drifted, unrotated], scanned());
    let mut freed = kept.clone();
    crate::analysis::analyze(&mut kept, &inputs);
    crate::analysis::analyze_freeing_specs(&mut freed, &mut inputs);
    assert!(inputs.specs.is_none());
    assert!(
        kept.findings.iter().any(|f| f.check_id == "DRF001")
            && kept.findings.iter().any(|f| f.check_id.starts_with("DRF0"))
            && kept.findings.iter().any(|f| !f.check_id.starts_with("DRF")),
        "{:?}",
        ids(&kept.findings)
    );
    assert_eq!(kept.findings, freed.findings);
    assert_eq!(kept.coverage_gaps, freed.coverage_gaps);
    assert_eq!(kept.summary, freed.summary);
    assert!(kept.summary.specs.is_some());
}
