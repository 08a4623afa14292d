//! `kms-audit spec validate`, `kms-audit spec import`, and `--spec` errors: invalid specs fail
//! fast (exit 2, before any AWS call) with file, line and field; imports print specs that load
//! back; `report SCAN.json --spec` finds drift offline.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::cli::{Run, command, run};
use support::emulator::repo_root;

/// Nothing listens here: a request sent to it would fail with a connection error, not the input
/// error these tests expect.
const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

fn kms_audit(args: &[&str]) -> Run {
    run(command().args(args))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn assert_input_error(run: &Run, expected: &str) {
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    assert_eq!(
        run.stderr.trim_end(),
        format!("kms-audit: error: {expected}"),
        "stderr"
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn scan_rejects_an_invalid_spec_before_any_aws_call() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let spec = write(
        tmp.path(),
        "prod.yaml",
        "defaults:\n  account: \"111111111111\"\n  region: us-east-1\nkeys:\n  - alias: alias/payments\n    rotation_period_in_days: 30\n",
    );
    for args in [
        vec!["scan", "--endpoint-url", DEAD_ENDPOINT, "--spec", &spec],
        vec!["spec", "validate", &spec],
    ] {
        assert_input_error(
            &kms_audit(&args),
            &format!(
                "invalid spec: {spec}:6:5: keys[0].rotation_period_in_days: 30 is outside \
                 90..2560 days"
            ),
        );
    }
}

#[test]
fn every_problem_of_every_spec_is_listed_with_file_line_and_field() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let a = write(
        tmp.path(),
        "specs/a.yaml",
        "defaults: {account: \"111111111111\", region: us-east-1}\nkeys:\n  - alias: alias/app\n    rotaton: true\n  - alias: alias/mac\n    key_spec: HMAC_256\n    key_usage: GENERATE_VERIFY_MAC\n    enable_key_rotation: true\n",
    );
    let b = write(
        tmp.path(),
        "specs/b.json",
        "{\n  \"defaults\": {\"account\": \"111111111111\", \"region\": \"us-east-1\"},\n  \"keys\": [\n    {\"alias\": \"alias/app\", \"policy_file\": \"missing.json\"}\n  ]\n}\n",
    );
    let run = kms_audit(&[
        "scan",
        "--endpoint-url",
        DEAD_ENDPOINT,
        "--spec",
        &tmp.path().join("specs").display().to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let missing = tmp.path().join("specs/missing.json").display().to_string();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[0], "kms-audit: error: 4 errors in specs:");
    assert_eq!(
        lines[1],
        format!(
            "  {a}:4:5: keys[0].rotaton: unknown field, expected one of: alias, key_arn, account, \
             region, description, key_spec, key_usage, enabled, enable_key_rotation, \
             rotation_period_in_days, multi_region, replica_regions, deletion_window_in_days, \
             tags, policy, policy_file"
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "  {a}:8:5: keys[1].enable_key_rotation: automatic rotation is only for \
             SYMMETRIC_DEFAULT keys; a HMAC_256 key cannot rotate"
        )
    );
    assert_eq!(
        lines[3],
        format!(
            "  {b}:4:6: keys[0].alias: alias/app in 111111111111 us-east-1 is already declared at {a}:3"
        )
    );
    assert!(
        lines[4].starts_with(&format!(
            "  {b}:4:43: keys[0].policy_file: cannot read the policy file {missing}: "
        )),
        "{}",
        lines[4]
    );
    assert_eq!(lines.len(), 5, "{}", run.stderr);
}

#[test]
fn validate_lists_the_declared_keys() {
    let examples = repo_root().join("examples/specs/kms-audit");
    let run = kms_audit(&["spec", "validate", &examples.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = examples.join("keys.yaml").display().to_string();
    assert_eq!(
        run.stdout,
        format!(
            "{file}:16  123456789012 us-east-1 alias/payments\n\
             {file}:44  123456789012 us-east-1 alias/release-signing\n\
             {file}:53  123456789012 us-east-1 alias/webhook-hmac\n\
             {file}:62  123456789012 us-east-1 alias/orders\n\
             {file}:75  123456789012 eu-west-1 alias/orders\n\
             {file}:85  123456789012 ap-southeast-2 alias/orders\n\
             ok: 6 declared keys in 1 file\n"
        )
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

/// The YAML without comment lines.
fn uncommented(yaml: &str) -> String {
    yaml.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn terraform_and_pulumi_imports_of_one_estate_print_the_same_spec() {
    let examples = repo_root().join("examples/specs");
    let terraform = kms_audit(&[
        "spec",
        "import",
        "terraform",
        &examples
            .join("terraform/terraform.tfstate")
            .display()
            .to_string(),
    ]);
    let pulumi = kms_audit(&[
        "spec",
        "import",
        "pulumi",
        &examples
            .join("pulumi/stack-export.json")
            .display()
            .to_string(),
    ]);
    for run in [&terraform, &pulumi] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.is_empty(), "{}", run.stderr);
    }
    assert!(
        terraform.stdout.contains(
            "  # terraform: module.orders.aws_kms_key.primary\n  - alias: alias/orders\n"
        ),
        "{}",
        terraform.stdout
    );
    assert!(
        pulumi
            .stdout
            .contains("  # pulumi: aws:kms/key:Key::orders-primary\n  - alias: alias/orders\n"),
        "{}",
        pulumi.stdout
    );
    assert_eq!(uncommented(&terraform.stdout), uncommented(&pulumi.stdout));

    // The printed spec is a valid spec of the same six keys.
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = write(tmp.path(), "imported.yaml", &terraform.stdout);
    let run = kms_audit(&["spec", "validate", &path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, terraform.stdout);
    assert!(run.stdout.ends_with("ok: 6 declared keys in 1 file\n"));
}

#[test]
fn resources_that_cannot_be_imported_are_reported() {
    let state = repo_root().join("tests/fixtures/specs/terraform/modules.tfstate");
    let state = state.display().to_string();
    let run = kms_audit(&["spec", "import", "terraform", &state]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        warnings,
        [
            format!(
                "kms-audit: warning: {state}:404: aws_kms_key.never_created: the key has no ARN \
                 in the state (never created?) (not imported)"
            ),
            format!(
                "kms-audit: warning: {state}:392: aws_kms_alias.orphan: alias/orphan targets \
                 99999999-0000-4000-8000-000000000009, which is not in this file (not imported)"
            ),
        ]
    );
    assert!(
        run.stdout.contains("# Not imported:\n#   "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  # also aliased as alias/app-a-legacy (not compared)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn import_names_the_format_a_file_really_has() {
    let state = repo_root().join("examples/specs/terraform/terraform.tfstate");
    let state = state.display().to_string();
    assert_input_error(
        &kms_audit(&["spec", "import", "pulumi", &state]),
        &format!(
            "{state} is not a Pulumi stack export: it looks like a Terraform state (use `spec \
             import terraform`)"
        ),
    );
}

#[test]
fn report_finds_drift_in_a_saved_scan_offline() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let spec = write(
        tmp.path(),
        "spec.yaml",
        "defaults: {account: \"111111111111\", region: us-east-1}\nkeys:\n  - alias: alias/payments\n    description: Payments key\n  - alias: alias/gone\n  - alias: alias/elsewhere\n    account: \"222222222222\"\n    region: eu-west-1\n",
    );
    let scan = repo_root().join("tests/fixtures/reports/scan.json");
    let run = kms_audit(&[
        "report",
        &scan.display().to_string(),
        "--spec",
        &spec,
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(
        run.code, 3,
        "the saved scan has coverage gaps: {}",
        run.stderr
    );
    let report = run.json();
    let drift: Vec<(String, String, Value)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check_id"].as_str().is_some_and(|c| c.starts_with("DRF")))
        .map(|f| {
            (
                f["check_id"].as_str().unwrap_or_default().to_string(),
                f["aliases"][0].as_str().unwrap_or_default().to_string(),
                f["spec"]["line"].clone(),
            )
        })
        .collect();
    // alias/elsewhere: 222222222222 eu-west-1 failed, so its absence is no evidence.
    assert_eq!(
        drift,
        [
            (
                "DRF001".to_string(),
                "alias/gone".to_string(),
                Value::from(5)
            ),
            (
                "DRF002".to_string(),
                "alias/payments".to_string(),
                Value::from(3)
            ),
        ]
    );
}

#[test]
fn show_json_and_plans_import_and_other_shapes_are_refused_in_one_line() {
    let forms = repo_root().join("tests/fixtures/specs/forms");
    for name in ["show-state.json", "show-plan.json"] {
        let path = forms.join(name).display().to_string();
        let imported = kms_audit(&["spec", "import", "terraform", &path]);
        assert_eq!(imported.code, 0, "{name}: {}", imported.stderr);
        for alias in ["alias/payments", "alias/orders", "alias/webhook-hmac"] {
            assert!(
                imported.stdout.contains(&format!("alias: {alias}\n")),
                "{name}: {alias}\n{}",
                imported.stdout
            );
        }
        let validated = kms_audit(&["spec", "validate", &path]);
        assert_eq!(validated.code, 0, "{name}: {}", validated.stderr);
        assert!(
            validated
                .stdout
                .ends_with("ok: 6 declared keys in 1 file\n"),
            "{}",
            validated.stdout
        );
    }
    // The plan's key to be created: a warning, on stderr and in the header.
    let plan = forms.join("show-plan.json").display().to_string();
    let imported = kms_audit(&["spec", "import", "terraform", &plan]);
    assert!(
        imported.stderr.contains("kms-audit: warning: ")
            && imported
                .stderr
                .contains("aws_kms_key.audit: the key has no ARN in the plan")
            && imported.stdout.contains("# Not imported:")
            && imported.stdout.contains(
                "# Declared by the planned values of a Terraform plan (what apply would make, \
                 not what is applied).\n"
            ),
        "{}",
        imported.stderr
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let v3 = write(
        tmp.path(),
        "old.tfstate",
        "{\"version\": 3, \"terraform_version\": \"0.11.14\", \"serial\": 9, \"lineage\": \"l\",\n \"modules\": []}\n",
    );
    let v3_message = format!(
        "invalid spec: {v3}:1:2: version: this is a Terraform state of format version 3 \
         (Terraform 0.11 or earlier): upgrade it with Terraform 0.12 or later (`terraform apply` \
         or `terraform refresh` rewrites it as version 4), or pass `terraform show -json` output"
    );
    for args in [
        vec!["scan", "--endpoint-url", DEAD_ENDPOINT, "--spec", &v3],
        vec!["spec", "validate", &v3],
        vec!["spec", "import", "terraform", &v3],
    ] {
        assert_input_error(&kms_audit(&args), &v3_message);
    }
    let encrypted = write(
        tmp.path(),
        "enc.tfstate",
        "{\"meta\": {\"key_provider.pbkdf2.k\": \"e30=\"}, \"encrypted_data\": \"AAAA\", \"encryption_version\": \"v0\"}",
    );
    assert_input_error(
        &kms_audit(&["spec", "validate", &encrypted]),
        &format!(
            "invalid spec: {encrypted}:1:71: encryption_version: this is an OpenTofu encrypted \
             state (encryption_version v0): decrypt it first — with the encryption configured, \
             `tofu show -json > state.json` — and pass that file"
        ),
    );
    let other = write(tmp.path(), "other.json", "{\"Version\": 1, \"items\": []}");
    assert_input_error(
        &kms_audit(&["spec", "import", "terraform", &other]),
        &format!(
            "{other}: this is not a kms-audit spec (`keys`, `defaults`), a Terraform state or \
             `terraform show -json` output, or a Pulumi stack export: its top-level fields are \
             Version, items"
        ),
    );
}
