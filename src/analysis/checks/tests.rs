//! Table-driven tests on JSON inventory fixtures (`tests/fixtures/checks/*.json`).
//!
//! Every fixture key carries `expect`: the exact check ids (with multiplicity) that must fire on
//! it, so each fixture tests both directions: nothing missing, nothing extra. `defaults` is
//! merged into every key; a key without `arn` gets one from its account, region and key id.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::*;
use crate::catalog::{CatalogFile, CheckMeta};
use crate::inputs::config::{Config, ConfigError};

fn parse_config(text: &str, file: &str) -> Result<Config, ConfigError> {
    crate::inputs::config::parse(text, file, crate::analysis::catalog())
}
use crate::model::{CoverageGap, Finding, Inventory, KeyRecord, Severity, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[allow(dead_code)]
    description: String,
    now: String,
    /// Config file text (YAML), parsed like `--config`.
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    organization_accounts: Option<BTreeSet<String>>,
    targets: Vec<Target>,
    #[serde(default)]
    coverage_gaps: Vec<CoverageGap>,
    /// The IAM authorization details read (absent: IAM not read, as with `--no-iam`).
    #[serde(default)]
    iam: Option<Vec<crate::model::iam::AccountAuthorizationDetails>>,
    /// IAM findings expected (they have no key): `"ID resource"`, e.g.
    /// `"IAM001 arn:aws:iam::111111111111:policy/DecryptAll"`.
    #[serde(default)]
    expect_resources: Vec<String>,
    defaults: Value,
    keys: Vec<Value>,
}

struct Loaded {
    name: &'static str,
    inventory: Inventory,
    targets: Vec<Target>,
    gaps: Vec<CoverageGap>,
    config: Config,
    now: OffsetDateTime,
    organization_id: Option<String>,
    organization_accounts: Option<BTreeSet<String>>,
    /// Every key's effective access, as `analyze` computes it before the checks.
    access: crate::model::access::AccessReport,
    /// arn → (expected check ids, sorted; note)
    expected: BTreeMap<String, (Vec<String>, String)>,
    /// `"ID resource"` of the expected findings without a key, sorted.
    expected_resources: Vec<String>,
}

impl Loaded {
    fn ctx(&self) -> CheckContext<'_> {
        CheckContext {
            inventory: &self.inventory,
            targets: &self.targets,
            coverage_gaps: &self.gaps,
            config: &self.config,
            now: self.now,
            organization_id: self
                .config
                .organization_id
                .as_deref()
                .or(self.organization_id.as_deref()),
            organization_accounts: self.organization_accounts.as_ref(),
            access: Some(&self.access),
        }
    }

    /// Computes the access again, after a test changed the inventory, config or organization.
    fn refresh_access(&mut self) {
        self.access = access_of(
            &self.inventory,
            &self.targets,
            &self.gaps,
            self.config
                .organization_id
                .as_deref()
                .or(self.organization_id.as_deref()),
            self.organization_accounts.as_ref(),
        );
    }

    /// The findings without a key (IAM001, IAM002) on this resource ARN.
    fn findings_on_resource(&self, resource: &str) -> Vec<Finding> {
        self.run()
            .into_iter()
            .filter(|f| f.resource.as_deref() == Some(resource))
            .collect()
    }

    fn run(&self) -> Vec<Finding> {
        run_all(&self.ctx())
    }

    fn key(&self, key_id: &str) -> &KeyRecord {
        self.inventory
            .keys
            .iter()
            .find(|k| k.key_id == key_id)
            .unwrap_or_else(|| panic!("{}: no key {key_id}", self.name))
    }

    /// Adds `count` copies of key `key_id`, in its account and region, with ids `PREFIX-N`
    /// (changed further by `edit`), and recomputes the access.
    fn add_copies(
        &mut self,
        key_id: &str,
        prefix: &str,
        count: usize,
        edit: impl Fn(usize, &mut KeyRecord),
    ) {
        let template = self.key(key_id).clone();
        for n in 0..count {
            let mut key = template.clone();
            key.key_id = format!("{prefix}-{n}");
            key.arn = format!(
                "arn:aws:kms:{}:{}:key/{prefix}-{n}",
                template.region, template.account
            );
            edit(n, &mut key);
            self.inventory.keys.push(key);
        }
        self.refresh_access();
    }

    /// The findings on the (first) key with this id.
    fn findings_on(&self, key_id: &str) -> Vec<Finding> {
        let arn = self.key(key_id).arn.clone();
        self.run()
            .into_iter()
            .filter(|f| f.key_arn.as_deref() == Some(arn.as_str()))
            .collect()
    }
}

const FIXTURES: &[(&str, &str)] = &[
    (
        "rotation",
        include_str!("../../../tests/fixtures/checks/rotation.json"),
    ),
    (
        "lifecycle",
        include_str!("../../../tests/fixtures/checks/lifecycle.json"),
    ),
    (
        "policy",
        include_str!("../../../tests/fixtures/checks/policy.json"),
    ),
    (
        "grants",
        include_str!("../../../tests/fixtures/checks/grants.json"),
    ),
    (
        "multi_region",
        include_str!("../../../tests/fixtures/checks/multi_region.json"),
    ),
    (
        "access",
        include_str!("../../../tests/fixtures/checks/access.json"),
    ),
    (
        "iam",
        include_str!("../../../tests/fixtures/checks/iam.json"),
    ),
];

/// The access report `analyze` would compute for this inventory.
fn access_of(
    inventory: &Inventory,
    targets: &[Target],
    gaps: &[CoverageGap],
    organization_id: Option<&str>,
    organization_accounts: Option<&BTreeSet<String>>,
) -> crate::model::access::AccessReport {
    let mut report: crate::model::Report = serde_json::from_value(json!({
        "schema_version": "1", "tool": {"name": "kms-audit", "version": "0"},
        "started_at": "", "finished_at": "",
        "targets": [], "coverage_gaps": [], "inventory": {"keys": []}, "findings": [],
        "summary": {"keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                    "duration_ms": 0, "api_calls": {}}
    }))
    .expect("minimal report");
    report.inventory = inventory.clone();
    report.targets = targets.to_vec();
    report.coverage_gaps = gaps.to_vec();
    report.organization_accounts = organization_accounts.map(|a| a.iter().cloned().collect());
    crate::analysis::access::access_report(&report, organization_id)
}

fn load(name: &'static str) -> Loaded {
    let text = FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    let fixture: Fixture =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let config = match &fixture.config {
        Some(yaml) => {
            parse_config(yaml, &format!("{name}.json config")).unwrap_or_else(|e| panic!("{e}"))
        }
        None => Config::default(),
    };
    let mut inventory = Inventory {
        iam: fixture.iam,
        ..Inventory::default()
    };
    let mut expected = BTreeMap::new();
    for raw in fixture.keys {
        let mut merged = fixture.defaults.clone();
        let Value::Object(fields) = raw else {
            panic!("{name}: a key is not an object");
        };
        let mut fields = fields;
        let expect: Vec<String> = serde_json::from_value(
            fields
                .remove("expect")
                .unwrap_or_else(|| panic!("{name}: every key needs `expect`: {fields:?}")),
        )
        .expect("expect is a list of check ids");
        let note = fields
            .remove("note")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        for (k, v) in fields {
            merged[k] = v;
        }
        if merged.get("arn").is_none() {
            let arn = format!(
                "arn:aws:kms:{}:{}:key/{}",
                merged["region"].as_str().expect("region"),
                merged["account"].as_str().expect("account"),
                merged["key_id"].as_str().expect("key_id")
            );
            merged["arn"] = Value::String(arn);
        }
        let key: KeyRecord = serde_json::from_value(merged.clone())
            .unwrap_or_else(|e| panic!("{name}: key {merged}: {e}"));
        let mut expect = expect;
        expect.sort();
        assert!(
            expected.insert(key.arn.clone(), (expect, note)).is_none(),
            "{name}: duplicate key {}",
            key.arn
        );
        inventory.keys.push(key);
    }
    let mut expected_resources = fixture.expect_resources;
    expected_resources.sort();
    let mut loaded = Loaded {
        name,
        inventory,
        targets: fixture.targets,
        gaps: fixture.coverage_gaps,
        config,
        now: OffsetDateTime::parse(&fixture.now, &Rfc3339).expect("now"),
        organization_id: fixture.organization_id,
        organization_accounts: fixture.organization_accounts,
        access: Default::default(),
        expected,
        expected_resources,
    };
    loaded.refresh_access();
    loaded
}

/// Every key gets exactly its expected findings: none missing, none extra.
fn assert_fixture(name: &'static str) {
    let loaded = load(name);
    let findings = loaded.run();
    let mut actual: BTreeMap<String, Vec<String>> = loaded
        .expected
        .keys()
        .map(|arn| (arn.clone(), Vec::new()))
        .collect();
    let mut resources = Vec::new();
    for finding in &findings {
        let Some(arn) = finding.key_arn.clone() else {
            let resource = finding
                .resource
                .as_deref()
                .expect("a finding without a key names its resource");
            resources.push(format!("{} {resource}", finding.check_id));
            continue;
        };
        actual
            .get_mut(&arn)
            .unwrap_or_else(|| panic!("{name}: finding on a key not in the fixture: {arn}"))
            .push(finding.check_id.to_string());
    }
    let mut wrong = Vec::new();
    for (arn, (expect, note)) in &loaded.expected {
        let mut got = actual.remove(arn).unwrap_or_default();
        got.sort();
        if &got != expect {
            let messages: Vec<&str> = findings
                .iter()
                .filter(|f| f.key_arn.as_deref() == Some(arn.as_str()))
                .map(|f| f.message.as_str())
                .collect();
            wrong.push(format!(
                "  {arn} ({note}): expected {expect:?}, got {got:?} {messages:#?}"
            ));
        }
    }
    resources.sort();
    if resources != loaded.expected_resources {
        wrong.push(format!(
            "  findings without a key: expected {:?}, got {resources:?}",
            loaded.expected_resources
        ));
    }
    assert!(
        wrong.is_empty(),
        "fixture {name}: {} key(s) with wrong findings:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Every finding is complete and carries its catalog identity.
    for f in &findings {
        let meta = crate::analysis::catalog()
            .lookup(&f.check_id)
            .expect("catalog entry");
        assert_eq!(f.name, meta.name);
        assert!(!f.message.is_empty() && !f.remediation.is_empty(), "{f:?}");
        assert!(f.evidence.value().is_object(), "{f:?}");
        assert_eq!(f.fingerprint.len(), 32);
    }
    let fingerprints: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    assert_eq!(
        fingerprints.len(),
        findings.len(),
        "{name}: fingerprints are unique"
    );
}

#[test]
fn rotation_fixture() {
    assert_fixture("rotation");
}

#[test]
fn lifecycle_fixture() {
    assert_fixture("lifecycle");
}

#[test]
fn policy_fixture() {
    assert_fixture("policy");
}

#[test]
fn grants_fixture() {
    assert_fixture("grants");
}

#[test]
fn multi_region_fixture() {
    assert_fixture("multi_region");
}

#[test]
fn access_fixture() {
    assert_fixture("access");
}

#[test]
fn iam_fixture() {
    assert_fixture("iam");
}

// --- registry and catalog -----------------------------------------------------------------

/// Every compiled-in catalog file: the compliance checks, drift, and `SUP001`.
fn every_catalog_file() -> Vec<&'static CatalogFile> {
    REGISTRY
        .iter()
        .map(|check| &check.catalog)
        .chain(crate::analysis::drift::CHECKS)
        .chain([&crate::analysis::suppress::EXPIRED_CATALOG])
        .collect()
}

#[test]
fn every_file_in_checks_is_carried_by_exactly_one_registry_entry() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("checks/ is readable")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    let mut carried = BTreeSet::new();
    for file in every_catalog_file() {
        assert!(
            carried.insert(format!("{}.yaml", file.id)),
            "checks/{}.yaml is registered twice",
            file.id
        );
    }
    assert_eq!(
        carried, on_disk,
        "registered catalog files vs checks/*.yaml"
    );
}

#[test]
fn every_catalog_file_parses_holds_its_own_id_and_is_documented() {
    let mut names = BTreeSet::new();
    for file in every_catalog_file() {
        let meta = crate::catalog::parse(file)
            .unwrap_or_else(|| panic!("checks/{}.yaml does not parse", file.id));
        assert_eq!(meta.id, file.id, "checks/{}.yaml holds its own id", file.id);
        assert!(
            names.insert(meta.name.clone()),
            "name {} is used twice",
            meta.name
        );
        assert!(
            !meta.title.is_empty() && !meta.rationale.is_empty(),
            "{}",
            meta.id
        );
        assert!(
            !meta.remediation.is_empty() && !meta.references.is_empty(),
            "{}",
            meta.id
        );
    }
    // `kms-audit checks` lists the checks the registries run; reports may also cite SUP001.
    let ids: Vec<&str> = crate::analysis::catalog()
        .all()
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    let expected: Vec<&str> = REGISTRY
        .iter()
        .map(Check::id)
        .chain(crate::analysis::drift::CHECKS.iter().map(|f| f.id))
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(
        crate::analysis::every_rule().all().len(),
        expected.len() + 1
    );
}

/// docs/checks.md carries the catalog table; it is generated from the catalog files
/// (`KMS_AUDIT_BLESS=1 cargo test --lib checks_table` rewrites it).
#[test]
fn the_checks_table_in_the_docs_is_the_catalog() {
    let mut metas: Vec<CheckMeta> = every_catalog_file()
        .into_iter()
        .filter_map(crate::catalog::parse)
        .collect();
    metas.sort_by(|a, b| a.id.cmp(&b.id));
    let mut table =
        String::from("| Id | Name | Severity | What it finds |\n| --- | --- | --- | --- |\n");
    for meta in &metas {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            meta.id,
            meta.name,
            meta.severity,
            meta.title.replace('|', "\\|")
        ));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    let doc = std::fs::read_to_string(&path).expect("docs/checks.md");
    let (start, end) = ("<!-- checks-table:start -->\n", "<!-- checks-table:end -->");
    let from = doc.find(start).expect("start marker") + start.len();
    let to = doc.find(end).expect("end marker");
    if std::env::var_os("KMS_AUDIT_BLESS").is_some() {
        let updated = format!("{}{table}{}", &doc[..from], &doc[to..]);
        std::fs::write(&path, updated).expect("write docs/checks.md");
        return;
    }
    assert_eq!(
        &doc[from..to],
        table,
        "docs/checks.md is out of date: KMS_AUDIT_BLESS=1 cargo test --lib checks_table"
    );
}

#[test]
fn every_registered_check_fires_in_some_fixture() {
    let mut fired = BTreeSet::new();
    for (name, _) in FIXTURES {
        for f in load(name).run() {
            fired.insert(f.check_id);
        }
    }
    for check in REGISTRY {
        assert!(
            fired.contains(check.id()),
            "{} never fires in the fixtures",
            check.id()
        );
    }
}

// --- evidence, messages, remediation ------------------------------------------------------

#[test]
fn rot001_evidence_and_replica_remediation_names_the_primary() {
    let loaded = load("rotation");
    let f = &loaded.findings_on("rot-off")[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["rotation_enabled"], json!(false));
    assert_eq!(f.evidence["key_spec"], json!("SYMMETRIC_DEFAULT"));
    assert!(
        f.remediation.contains(
            "aws kms enable-key-rotation --key-id arn:aws:kms:us-east-1:111111111111:key/rot-off --region us-east-1"
        ),
        "{}",
        f.remediation
    );

    let loaded = load("multi_region");
    let replica: Vec<Finding> = loaded
        .run()
        .into_iter()
        .filter(|f| {
            f.check_id == "ROT001"
                && f.key_arn.as_deref()
                    == Some("arn:aws:kms:eu-west-1:111111111111:key/mrk-rotation-off")
        })
        .collect();
    assert_eq!(replica.len(), 1);
    assert!(
        replica[0].remediation.contains(
            "--key-id arn:aws:kms:us-east-1:111111111111:key/mrk-rotation-off --region us-east-1"
        ),
        "{}",
        replica[0].remediation
    );
}

#[test]
fn rot002_names_the_period_and_the_maximum() {
    let f = &load("rotation").findings_on("rot-730")[0];
    assert_eq!(f.evidence["rotation_period_days"], json!(730));
    assert_eq!(f.evidence["max_rotation_period_days"], json!(365));
    assert!(f.message.contains("730 days"), "{}", f.message);
}

#[test]
fn rot002_follows_max_rotation_period_days() {
    let mut loaded = load("rotation");
    loaded.config = parse_config("max_rotation_period_days: 800\n", "c.yaml").expect("config");
    assert!(
        loaded.findings_on("rot-730").is_empty(),
        "730 <= 800: no ROT002"
    );
    loaded.config = parse_config("max_rotation_period_days: 180\n", "c.yaml").expect("config");
    let ids: Vec<String> = loaded
        .findings_on("rot-365")
        .into_iter()
        .map(|f| f.check_id.to_string())
        .collect();
    assert_eq!(ids, ["ROT002"]);
    assert!(loaded.findings_on("rot-90").is_empty());
    assert!(
        loaded.findings_on("aws-managed").is_empty(),
        "an AWS-managed key's yearly rotation is not the customer's to change"
    );
}

#[test]
fn del001_evidence_has_deletion_date_and_days_left() {
    let loaded = load("lifecycle");
    let f = &loaded.findings_on("pending-deletion")[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["deletion_date"], json!("2026-03-08T12:00:00Z"));
    assert_eq!(f.evidence["days_left"], json!(7));
    assert_eq!(f.evidence["as_of"], json!("2026-03-01T00:00:00Z"));
    assert!(
        f.message.contains("2026-03-08T12:00:00Z (7 days left)"),
        "{}",
        f.message
    );
    assert!(f.remediation.contains("aws kms cancel-key-deletion"));

    let past = &loaded.findings_on("pending-deletion-past")[0];
    assert_eq!(past.evidence["days_left"], json!(0));
    let waiting = &loaded.findings_on("pending-replica-deletion")[0];
    assert_eq!(waiting.evidence["days_left"], Value::Null);
    assert!(
        waiting.message.contains("waits for its replicas"),
        "{}",
        waiting.message
    );
}

#[test]
fn del001_days_left_moves_with_now_but_the_fingerprint_does_not() {
    let mut loaded = load("lifecycle");
    let before = loaded.findings_on("pending-deletion")[0].clone();
    loaded.now += time::Duration::days(6);
    let after = loaded.findings_on("pending-deletion")[0].clone();
    assert_eq!(after.evidence["days_left"], json!(1));
    assert!(after.message.contains("(1 day left)"), "{}", after.message);
    assert_eq!(before.fingerprint, after.fingerprint);
}

#[test]
fn del001_days_left_is_whole_days() {
    let now = OffsetDateTime::parse("2026-03-01T00:00:00Z", &Rfc3339).expect("now");
    let days = |d: &str| pending_deletion::days_left(d, now);
    assert_eq!(days("2026-03-31T00:00:00Z"), Some(30));
    assert_eq!(days("2026-03-01T23:59:59Z"), Some(0));
    assert_eq!(days("2026-03-02T00:00:00Z"), Some(1));
    assert_eq!(days("2025-01-01T00:00:00Z"), Some(0));
    assert_eq!(days("not a date"), None);
}

#[test]
fn tag001_lists_every_missing_tag_and_is_off_without_required_tags() {
    let mut loaded = load("lifecycle");
    let f = &loaded.findings_on("no-tags")[0];
    assert_eq!(
        f.evidence["missing_tags"],
        json!(["owner", "data-classification"])
    );
    assert!(
        f.remediation.contains(
            "--tags TagKey=owner,TagValue=<value> TagKey=data-classification,TagValue=<value>"
        ),
        "{}",
        f.remediation
    );
    let f = &loaded.findings_on("tag-case-differs")[0];
    assert_eq!(f.evidence["missing_tags"], json!(["owner"]));

    loaded.config = Config::default();
    assert!(
        loaded.run().iter().all(|f| f.check_id != "TAG001"),
        "TAG001 is off while required_tags is empty"
    );
}

#[test]
fn pol001_names_the_statement_and_the_reason() {
    let loaded = load("policy");
    let f = &loaded.findings_on("wildcard-principal-arn")[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence["sid"], json!("Wild"));
    assert_eq!(f.evidence["statement_index"], json!(1));
    assert_eq!(
        f.evidence["statement"]["Condition"],
        json!({"StringLike": {"aws:PrincipalArn": "*"}})
    );
    assert!(f.message.contains("statement \"Wild\""), "{}", f.message);
    let reason = f.evidence["reason"].as_str().expect("reason");
    assert!(reason.contains("aws:PrincipalArn"), "{reason}");

    let f = &loaded.findings_on("not-principal")[0];
    assert!(
        f.evidence["reason"]
            .as_str()
            .is_some_and(|r| r.contains("NotPrincipal")),
        "{f:?}"
    );
    let f = &loaded.findings_on("public-no-sid")[0];
    assert!(f.message.contains("statement[1]"), "{}", f.message);

    let partly = &loaded.findings_on("public-partly-denied")[0];
    assert_eq!(partly.evidence["denied_actions"], json!(["kms:Decrypt"]));

    let two = loaded.findings_on("two-public-statements");
    assert_eq!(two.len(), 2);
    assert_ne!(
        two[0].fingerprint, two[1].fingerprint,
        "one fingerprint per statement"
    );
}

#[test]
fn pol002_names_the_account_and_every_statement_reaching_it() {
    let loaded = load("policy");
    let f = &loaded.findings_on("stranger-two-statements")[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["account"], json!("444444444444"));
    assert_eq!(f.evidence["grants"].as_array().map(Vec::len), Some(2));
    assert!(
        f.message.contains("account 444444444444") && f.message.contains("\"S1\", \"S2\""),
        "{}",
        f.message
    );
    let mixed = &loaded.findings_on("mixed")[0];
    assert_eq!(mixed.evidence["account"], json!("444444444444"));
    let org = &loaded.findings_on("foreign-org")[0];
    assert_eq!(org.evidence["organization"], json!("o-zzzzzzzzzz"));
    let accounts: BTreeSet<String> = loaded
        .findings_on("two-strangers")
        .iter()
        .map(|f| {
            f.evidence["account"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from(["444444444444".to_string(), "555555555555".to_string()])
    );
}

#[test]
fn pol002_trusts_organization_members_only_when_the_organization_is_known() {
    let mut loaded = load("policy");
    assert!(loaded.findings_on("org-member").is_empty());
    loaded.organization_accounts = None;
    let ids: Vec<String> = loaded
        .findings_on("org-member")
        .into_iter()
        .map(|f| f.check_id.to_string())
        .collect();
    assert_eq!(ids, ["POL002"], "membership unknown: not trusted");
    // Listing the account as trusted always works.
    loaded.config = parse_config(
        "trusted_accounts: ['222222222222', '333333333333']\n",
        "c.yaml",
    )
    .expect("config");
    assert!(loaded.findings_on("org-member").is_empty());
}

#[test]
fn pol002_deleted_principals_are_evidence_not_findings() {
    let loaded = load("policy");
    assert!(loaded.findings_on("deleted-principal").is_empty());
    let mut with_stranger = load("policy");
    let key = with_stranger
        .inventory
        .keys
        .iter_mut()
        .find(|k| k.key_id == "deleted-principal")
        .expect("key");
    let mut document = key.policy.as_ref().expect("policy").to_value();
    document["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(
            json!({"Sid": "S", "Effect": "Allow", "Principal": {"AWS": "444444444444"},
                     "Action": "kms:Decrypt", "Resource": "*"}),
        );
    key.policy = Some(document.into());
    with_stranger.refresh_access();
    let f = &with_stranger.findings_on("deleted-principal")[0];
    assert_eq!(
        f.evidence["deleted_principals"],
        json!(["AROAXXXXXXXXXXXXXXXXX"])
    );
}

#[test]
fn pol003_carries_the_aws_error_code() {
    let loaded = load("policy");
    let f = &loaded.findings_on("policy-denied")[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["error_code"], json!("AccessDeniedException"));
    assert_eq!(f.evidence["operation"], json!("GetKeyPolicy"));
    assert!(f.message.contains("AccessDeniedException"), "{}", f.message);
    let f = &loaded.findings_on("policy-no-statement")[0];
    assert!(f.message.contains("no Statement"), "{}", f.message);
}

#[test]
fn grt001_one_finding_per_grant_with_its_principals() {
    let loaded = load("grants");
    let f = &loaded.findings_on("stranger-retiring")[0];
    assert_eq!(f.evidence["grant_id"], json!("g-ret"));
    assert_eq!(f.evidence["untrusted_accounts"], json!(["444444444444"]));
    assert!(f.message.contains("retiring"), "{}", f.message);
    assert!(
        f.remediation.contains("aws kms revoke-grant")
            && f.remediation.contains("--grant-id g-ret"),
        "{}",
        f.remediation
    );
    let two = loaded.findings_on("two-bad-grants");
    let ids: BTreeSet<&str> = two
        .iter()
        .map(|f| f.evidence["grant_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, BTreeSet::from(["g-1", "g-2"]));
}

#[test]
fn mrk001_lists_the_differences() {
    let loaded = load("multi_region");
    let replica = |id: &str| -> Vec<Finding> {
        let arn = format!("arn:aws:kms:eu-west-1:111111111111:key/{id}");
        loaded
            .run()
            .into_iter()
            .filter(|f| f.check_id == "MRK001" && f.key_arn.as_deref() == Some(arn.as_str()))
            .collect()
    };
    let f = &replica("mrk-policy")[0];
    assert_eq!(f.evidence["differences"], json!(["policy"]));
    assert!(
        f.evidence["policy"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Extra")),
        "{}",
        f.evidence
    );
    let f = &replica("mrk-tags")[0];
    assert_eq!(f.evidence["differences"], json!(["tags"]));
    assert!(
        f.remediation.contains("TagKey=env,TagValue=prod")
            && f.remediation.contains("untag-resource")
            && f.remediation.contains("--tag-keys extra"),
        "{}",
        f.remediation
    );
    let f = &replica("mrk-disabled")[0];
    assert_eq!(
        f.evidence["key_state"],
        json!({"primary": "Enabled", "replica": "Disabled"})
    );
    let f = &replica("mrk-orphan")[0];
    assert_eq!(f.evidence["differences"], json!(["primary_missing"]));
    assert!(f.message.contains("no longer exists"), "{}", f.message);
    assert!(replica("mrk-policy-unknown").is_empty());
}

// --- config overrides ----------------------------------------------------------------------

#[test]
fn disabled_checks_do_not_run_and_severity_overrides_apply() {
    let mut loaded = load("rotation");
    loaded.config = parse_config(
        "checks:\n  ROT001: {enabled: false}\n  pending-deletion: {severity: critical}\n",
        "c.yaml",
    )
    .expect("config");
    let mut findings = loaded.run();
    assert!(findings.iter().all(|f| f.check_id != "ROT001"));
    // The checks keep their catalog severity; the analysis applies the overrides once, to
    // checks and drift alike.
    let catalog_severity = crate::analysis::catalog()
        .lookup("DEL001")
        .expect("DEL001")
        .severity;
    assert_ne!(catalog_severity, Severity::Critical);
    assert!(
        findings
            .iter()
            .filter(|f| f.check_id == "DEL001")
            .all(|f| f.severity == catalog_severity)
    );
    loaded.config.apply_overrides(&mut findings);
    let del: Vec<&Finding> = findings.iter().filter(|f| f.check_id == "DEL001").collect();
    assert!(!del.is_empty());
    assert!(del.iter().all(|f| f.severity == Severity::Critical));
    assert!(
        findings
            .iter()
            .filter(|f| f.check_id == "ROT002")
            .all(|f| f.severity == Severity::Low)
    );
}

#[test]
fn findings_are_deterministic() {
    for (name, _) in FIXTURES {
        let loaded = load(name);
        assert_eq!(loaded.run(), loaded.run(), "{name}");
    }
}

// --- checks on effective access and IAM -----------------------------------------------------

fn only(findings: Vec<Finding>, check: &str) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| f.check_id == check)
        .collect()
}

#[test]
fn pol004_names_the_principal_and_the_path_and_says_may_when_unsure() {
    let loaded = load("access");
    // IAM was not read: a Deny there may remove the role's access, so it is "may", with why.
    let f = &only(loaded.findings_on("admin-also-uses"), "POL004")[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.evidence["principal"],
        json!({"kind": "role", "arn": "arn:aws:iam::111111111111:role/KeyAdmin"})
    );
    assert_eq!(f.evidence["certainty"], json!("may"));
    assert!(
        f.message
            .starts_with("role arn:aws:iam::111111111111:role/KeyAdmin may call kms:CreateGrant")
            && f.message
                .contains("IAM policies of account 111111111111 were not read"),
        "{}",
        f.message
    );
    // With IAM read, the role that reaches the key through AdministratorAccess certainly can:
    // IAM alone gives it, so the finding is on the role and lists the key.
    let iam = load("iam");
    let admin = "arn:aws:iam::222222222222:role/Admin";
    let f = &only(iam.findings_on_resource(admin), "POL004")[0];
    assert_eq!(f.evidence["certainty"], json!("yes"), "{f:#?}");
    assert_eq!(
        f.message,
        "role arn:aws:iam::222222222222:role/Admin can call kms:CreateGrant without \
         kms:GrantIsForAWSResource on 2 keys (alias/app, alias/batch) through IAM policies \
         (managed policy \"AdministratorAccess\" statement[0]), and may call kms:CreateGrant \
         without kms:GrantIsForAWSResource on 1 key (alias/tagged): managed policy \
         \"AdministratorAccess\" of role arn:aws:iam::222222222222:role/Admin allows it, and key \
         policy statement[0] \"Enable IAM User Permissions\" lets the account's IAM policies \
         grant access; only when aws:PrincipalTag/team StringEquals [\"ops\"]: conditions are \
         not evaluated"
    );
    assert_eq!(
        f.keys.as_deref(),
        Some(
            [
                iam.key("iam-default").arn.clone(),
                iam.key("iam-default-2").arn.clone(),
                iam.key("iam-conditional").arn.clone(),
            ]
            .as_slice()
        )
    );
    assert_eq!(f.evidence["keys"], json!(3));
    assert_eq!(f.evidence["certain_keys"], json!(2));
    // A role whose IAM policy reaches only the key that enables IAM under a condition: every
    // key is "may", and the finding says so with the reason.
    let tagged = &only(
        iam.findings_on_resource("arn:aws:iam::222222222222:role/TaggedOps"),
        "POL004",
    )[0];
    assert_eq!(tagged.evidence["certainty"], json!("may"));
    assert_eq!(tagged.evidence["certain_keys"], json!(0));
    assert!(
        tagged.message.starts_with(
            "role arn:aws:iam::222222222222:role/TaggedOps may call kms:CreateGrant without \
             kms:GrantIsForAWSResource on 1 key (alias/tagged) through IAM policies (inline \
             policy \"tagged-key\" statement[0] \"TaggedKey\"): "
        ) && tagged.message.contains("aws:PrincipalTag/team"),
        "{}",
        tagged.message
    );
    // Where the key policy names the role too, the finding stays on the key, with both paths.
    let named = &only(iam.findings_on("iam-and-key-policy"), "POL004")[0];
    assert_eq!(named.resource, None);
    assert!(
        named.message.contains("key policy statement[1] \"Admins\"")
            && named.message.contains("AdministratorAccess"),
        "{}",
        named.message
    );
    assert_eq!(
        (f.account.as_str(), f.region.as_str()),
        ("222222222222", "eu-west-1")
    );
    let may = &only(loaded.findings_on("create-grant-may"), "POL004")[0];
    assert_eq!(may.evidence["certainty"], json!("may"));
    assert!(
        may.message.contains(" may call kms:CreateGrant")
            && may.message.contains("aws:PrincipalTag/team"),
        "{}",
        may.message
    );
    let foreign = &only(loaded.findings_on("foreign-root"), "POL004")[0];
    assert_eq!(
        foreign.evidence["principal"],
        json!({"kind": "account", "account": "444444444444"})
    );
}

#[test]
fn a_finding_on_an_identity_names_three_keys_and_counts_the_rest() {
    let mut iam = load("iam");
    iam.add_copies("iam-default", "extra", 5, |_, key| {
        key.aliases = vec![format!("alias/{}", key.key_id)];
    });
    let f = &only(
        iam.findings_on_resource("arn:aws:iam::222222222222:role/Admin"),
        "POL004",
    )[0];
    assert!(
        f.message.contains(
            " on 7 keys (alias/app, alias/batch, alias/extra-0 and 4 more) through IAM policies"
        ),
        "{}",
        f.message
    );
    assert_eq!(f.keys.as_ref().map(|k| k.len()), Some(8));
    assert_eq!(f.evidence["keys"], json!(8));
    assert_eq!(f.evidence["certain_keys"], json!(7));
}

#[test]
fn a_finding_on_an_identity_keeps_ten_may_reasons() {
    let mut iam = load("iam");
    let conditional = iam
        .key("iam-conditional")
        .policy
        .as_ref()
        .map(|p| p.json().to_string())
        .expect("policy");
    iam.add_copies("iam-conditional", "tagged", 12, |n, key| {
        let policy = conditional.replace("\"ops\"", &format!("\"team-{n}\""));
        key.policy = Some(crate::model::PolicyDocument::from_text(&policy));
    });
    // TaggedOps's policy names one key: its finding still covers that key alone.
    let tagged = &only(
        iam.findings_on_resource("arn:aws:iam::222222222222:role/TaggedOps"),
        "POL004",
    )[0];
    assert_eq!(tagged.evidence["keys"], json!(1));
    let f = &only(
        iam.findings_on_resource("arn:aws:iam::222222222222:role/Admin"),
        "POL004",
    )[0];
    assert_eq!(f.evidence["keys"], json!(15));
    assert_eq!(f.evidence["may_reasons"].as_array().map(Vec::len), Some(10));
    assert_eq!(f.evidence["more_may_reasons"], json!(true));
}

#[test]
fn pol005_is_certain_or_says_may_with_the_reason() {
    let iam = load("iam");
    let f = &only(
        iam.findings_on_resource("arn:aws:iam::222222222222:role/Admin"),
        "POL005",
    )[0];
    assert_eq!(f.evidence["certainty"], json!("yes"));
    assert!(
        f.message
            .contains(" can both administer and use 2 keys (alias/app, alias/batch) through IAM policies (administer: managed policy \"AdministratorAccess\" statement[0]; use: inline policy \"decrypt-all\" statement[0], managed policy \"AdministratorAccess\" statement[0]), and may both administer and use 1 key (alias/tagged): "),
        "{}",
        f.message
    );
    let may = &only(load("access").findings_on("admin-and-use-may"), "POL005")[0];
    assert_eq!(may.evidence["certainty"], json!("may"));
    assert_eq!(
        may.severity, f.severity,
        "may is reported at the same severity"
    );
    assert!(
        may.message
            .contains(" may both administer and use key alias/app: ")
            && may.message.contains("aws:PrincipalTag/team"),
        "{}",
        may.message
    );
    assert_ne!(f.fingerprint, may.fingerprint);
}

#[test]
fn pol005_and_pol004_judge_iam_principals_when_iam_was_read() {
    let loaded = load("iam");
    assert_eq!(
        only(loaded.findings_on("iam-default"), "POL004").len()
            + only(loaded.findings_on("iam-default"), "POL005").len(),
        0,
        "IAM alone gives the access: the findings are on the role, not on the key"
    );
    let findings = loaded.findings_on_resource("arn:aws:iam::222222222222:role/Admin");
    for check in ["POL004", "POL005"] {
        let hits = only(findings.clone(), check);
        assert_eq!(hits.len(), 1, "{check}: {hits:#?}");
        assert_eq!(
            hits[0].evidence["principal"],
            json!({"kind": "role", "arn": "arn:aws:iam::222222222222:role/Admin"}),
            "{check}"
        );
        assert_eq!(hits[0].evidence["keys"], json!(3), "{check}");
    }
}

#[test]
fn pol006_lists_who_can_still_use_the_key() {
    let loaded = load("access");
    let f = &loaded.findings_on("no-admin")[0];
    assert_eq!(f.check_id, "POL006");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.evidence["principals_that_can_use"],
        json!(["role arn:aws:iam::111111111111:role/App"])
    );
    assert!(
        f.message.contains("no principal the scan can see"),
        "{}",
        f.message
    );
}

#[test]
fn access_checks_need_the_access_report() {
    let loaded = load("access");
    let mut ctx = loaded.ctx();
    ctx.access = None;
    let findings = run_all(&ctx);
    assert!(
        findings
            .iter()
            .all(|f| !["POL004", "POL005", "POL006"].contains(&f.check_id.as_str())),
        "without access, not evaluated"
    );
}

#[test]
fn iam001_one_finding_per_customer_managed_policy_attached_or_not() {
    let loaded = load("iam");
    let f = &loaded.findings_on_resource("arn:aws:iam::111111111111:policy/DecryptAll")[0];
    assert_eq!(f.check_id, "IAM001");
    assert_eq!(f.key_arn, None);
    assert_eq!(f.region, "us-east-1");
    assert_eq!(f.evidence["policy_name"], json!("DecryptAll"));
    assert_eq!(
        f.evidence["statements"][0]["actions"],
        json!(["kms:Decrypt"])
    );
    assert!(
        f.message
            == "customer-managed IAM policy DecryptAll allows kms:Decrypt on all KMS keys (statement \"Decrypt\")",
        "{}",
        f.message
    );
    assert!(f.remediation.contains(
        "aws iam create-policy-version --policy-arn arn:aws:iam::111111111111:policy/DecryptAll"
    ));
    let unattached =
        &loaded.findings_on_resource("arn:aws:iam::111111111111:policy/ReEncryptAllUnattached")[0];
    assert!(
        unattached.message.contains("not attached"),
        "{}",
        unattached.message
    );
    let conditional =
        &loaded.findings_on_resource("arn:aws:iam::111111111111:policy/DecryptAllConditional")[0];
    assert!(
        conditional.message.contains("a condition may narrow it"),
        "{}",
        conditional.message
    );
    assert_eq!(
        conditional.evidence["statements"][0]["conditional"],
        json!(true)
    );
    assert!(
        loaded
            .findings_on_resource("arn:aws:iam::aws:policy/AdministratorAccess")
            .is_empty(),
        "AWS-managed policies are AWS's"
    );
}

#[test]
fn iam002_one_finding_per_identity_and_inline_policy() {
    let loaded = load("iam");
    let f = &loaded.findings_on_resource("arn:aws:iam::111111111111:role/app")[0];
    assert_eq!(f.check_id, "IAM002");
    assert_eq!(f.evidence["policy_name"], json!("decrypt-everything"));
    assert_eq!(f.evidence["identity_type"], json!("role"));
    assert!(
        f.message
            .starts_with("inline policy decrypt-everything of role app allows kms:Decrypt"),
        "{}",
        f.message
    );
    assert!(
        f.remediation
            .contains("aws iam put-role-policy --role-name app --policy-name decrypt-everything")
    );
    let alice = &loaded.findings_on_resource("arn:aws:iam::111111111111:user/alice")[0];
    assert!(
        alice
            .remediation
            .contains("put-user-policy --user-name alice")
    );
    assert_eq!(
        alice.evidence["statements"][0]["actions"],
        json!(["kms:ReEncryptFrom"])
    );
    // 222222222222 was scanned in eu-west-1 only: its IAM findings carry that region.
    let admin = &only(
        loaded.findings_on_resource("arn:aws:iam::222222222222:role/Admin"),
        "IAM002",
    )[0];
    assert_eq!(admin.region, "eu-west-1");
    assert_eq!(admin.account, "222222222222");
    // The fingerprint is the account, the identity and the policy name: stable across regions.
    assert_eq!(
        admin.fingerprint,
        crate::analysis::finding::fingerprint(
            "IAM002",
            "222222222222/arn:aws:iam::222222222222:role/Admin",
            "inline:decrypt-all"
        )
    );
}

#[test]
fn iam_checks_do_not_evaluate_accounts_whose_iam_was_not_read() {
    let mut loaded = load("iam");
    assert!(
        loaded.run().iter().all(|f| f.account != "333333333333"),
        "333333333333's IAM could not be read"
    );
    loaded.inventory.iam = None;
    loaded.refresh_access();
    let findings = loaded.run();
    assert!(
        findings
            .iter()
            .all(|f| f.check_id != "IAM001" && f.check_id != "IAM002"),
        "--no-iam: IAM001 and IAM002 evaluate nothing"
    );
    // Without IAM the role Admin is not visible, and the root user is exempt.
    assert!(loaded.findings_on("iam-default").is_empty());
}

#[test]
fn the_new_checks_can_be_turned_off_in_the_config() {
    for (fixture, ids) in [
        ("access", ["POL004", "POL005", "POL006"].as_slice()),
        ("iam", ["IAM001", "IAM002"].as_slice()),
    ] {
        let mut loaded = load(fixture);
        for id in ids {
            assert!(loaded.run().iter().any(|f| f.check_id == *id), "{id} fires");
        }
        let text: String = ids
            .iter()
            .map(|id| format!("  {id}: {{enabled: false}}\n"))
            .collect();
        loaded.config = parse_config(&format!("checks:\n{text}"), "c.yaml").expect("config");
        assert!(
            loaded
                .run()
                .iter()
                .all(|f| !ids.contains(&f.check_id.as_str())),
            "{fixture}: {ids:?} off"
        );
    }
}

/// Only the checks of `USES_ACCESS` read effective access: the others give the same findings
/// without it, so a run that writes no access may free it before they run. And `analyze` with
/// `release_access` gives the same findings, and a report without access.
#[test]
fn only_the_checks_built_on_access_read_it() {
    for name in ["access", "iam"] {
        let loaded = load(name);
        let uses_access = |id: &str| super::USES_ACCESS.contains(&id);
        let with_access = super::run_selected(&loaded.ctx(), |id| !uses_access(id));
        let without = super::run_selected(
            &CheckContext {
                access: None,
                ..loaded.ctx()
            },
            |id| !uses_access(id),
        );
        assert_eq!(with_access, without, "{name}");
        let built_on_access = super::run_selected(&loaded.ctx(), uses_access);
        assert!(
            !built_on_access.is_empty(),
            "{name}: POL004–POL006 raise findings"
        );

        let mut report: crate::model::Report = serde_json::from_value(json!({
            "schema_version": "1", "tool": {"name": "kms-audit", "version": "0"},
            "started_at": "", "finished_at": fixture_now(&loaded),
            "targets": [], "coverage_gaps": [], "inventory": {"keys": []}, "findings": [],
            "summary": {"keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                        "duration_ms": 0, "api_calls": {}}
        }))
        .expect("minimal report");
        report.inventory = loaded.inventory.clone();
        report.targets = loaded.targets.clone();
        report.coverage_gaps = loaded.gaps.clone();
        report.organization_id = loaded.organization_id.clone();
        report.organization_accounts = loaded
            .organization_accounts
            .as_ref()
            .map(|a| a.iter().cloned().collect());
        let mut inputs = crate::analysis::AnalysisInputs {
            config: loaded.config.clone(),
            now: Some(loaded.now),
            ..Default::default()
        };
        let mut kept = report.clone();
        crate::analysis::analyze(&mut kept, &inputs);
        inputs.release_access = true;
        crate::analysis::analyze(&mut report, &inputs);
        assert!(kept.access.is_some() && report.access.is_none(), "{name}");
        assert_eq!(kept.findings, report.findings, "{name}");
        for finding in &built_on_access {
            assert!(report.findings.contains(finding), "{name}: {finding:?}");
        }
    }
}

fn fixture_now(loaded: &Loaded) -> String {
    loaded
        .now
        .format(&Rfc3339)
        .expect("the fixture's time formats")
}
