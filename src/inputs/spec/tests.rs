//! Spec loading, validation and the importers, on files in temp dirs and on the fixtures in
//! `tests/fixtures/specs/` and `examples/specs/`.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `files` (relative path, contents) into a fresh temp dir.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn load_one(text: &str) -> Result<SpecSet, SpecErrors> {
    let dir = dir_with(&[("spec.yaml", text)]);
    load(&[dir.path().join("spec.yaml")])
}

/// The single error of an invalid spec, printed without the temp dir.
fn one_error(text: &str) -> String {
    let errors = load_one(text).expect_err("invalid spec").0;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    let file = Path::new(&e.file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    SpecError { file, ..e.clone() }.to_string()
}

const HEAD: &str = "defaults: {account: \"111111111111\", region: us-east-1}\nkeys:\n";

#[test]
fn defaults_are_merged_and_every_key_remembers_file_and_line() {
    let dir = dir_with(&[
        (
            "specs/prod.yaml",
            "defaults:\n  account: \"111111111111\"\n  region: us-east-1\n  tags: {owner: platform}\n  \
             enable_key_rotation: true\nkeys:\n  - alias: alias/payments\n    tags: {team: payments, owner: payments-team}\n    \
             policy_file: policies/p.json\n  - alias: alias/signing\n    region: eu-west-1\n    key_spec: RSA_3072\n    \
             key_usage: SIGN_VERIFY\n  - key_arn: arn:aws:kms:ap-southeast-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab\n",
        ),
        (
            "specs/policies/p.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "kms:*", "Resource": "*"}]}"#,
        ),
    ]);
    let set = load(&[dir.path().join("specs")]).expect("valid");
    assert_eq!(
        set.files.len(),
        1,
        "the policy document is not read as a spec"
    );
    let [payments, signing, by_arn] = set.keys.as_slice() else {
        panic!("{:#?}", set.keys)
    };
    assert_eq!(payments.location.line, 7);
    assert!(payments.location.file.ends_with("specs/prod.yaml"));
    assert_eq!(payments.account, "111111111111");
    assert_eq!(payments.region, "us-east-1");
    assert_eq!(payments.enable_key_rotation, Some(true));
    assert_eq!(
        payments.tags,
        Some(
            [("owner", "payments-team"), ("team", "payments")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        ),
        "tags are merged, the key's win"
    );
    assert_eq!(payments.policy_file.as_deref(), Some("policies/p.json"));
    assert_eq!(
        payments
            .policy
            .as_ref()
            .map(|p| p["Statement"][0]["Action"].clone()),
        Some(json!("kms:*"))
    );
    assert_eq!(payments.field_source("region").path, "defaults.region");
    assert_eq!(payments.field_source("region").pos.line, 3);

    assert_eq!(signing.location.line, 10);
    assert_eq!(signing.region, "eu-west-1");
    assert_eq!(
        signing.enable_key_rotation, None,
        "rotation defaults skip keys that cannot rotate"
    );

    assert_eq!(by_arn.location.line, 14);
    assert_eq!(
        by_arn.account, "222222222222",
        "account and region from the ARN"
    );
    assert_eq!(by_arn.region, "ap-southeast-2");
    assert_eq!(by_arn.alias, None);
}

#[test]
fn json_specs_read_like_yaml_with_lines() {
    let dir = dir_with(&[(
        "spec.json",
        "{\n  \"defaults\": {\"account\": \"111111111111\", \"region\": \"us-east-1\"},\n  \"keys\": [\n    {\n      \"alias\": \"alias/a\",\n      \"enabled\": false\n    }\n  ]\n}\n",
    )]);
    let set = load(&[dir.path().join("spec.json")]).expect("valid");
    assert_eq!(set.keys.len(), 1);
    assert_eq!(set.keys[0].location.line, 4);
    assert_eq!(set.keys[0].enabled, Some(false));
}

#[test]
fn an_alias_arn_is_an_alias_identity() {
    let set = load_one("keys:\n  - key_arn: arn:aws:kms:eu-west-1:111111111111:alias/app\n")
        .expect("valid");
    let key = &set.keys[0];
    assert_eq!(key.alias.as_deref(), Some("alias/app"));
    assert_eq!(key.key_arn, None);
    assert_eq!(
        (key.account.as_str(), key.region.as_str()),
        ("111111111111", "eu-west-1")
    );
}

#[test]
fn unknown_fields_are_errors_with_file_line_and_field() {
    assert_eq!(
        one_error(&format!("{HEAD}  - alias: alias/a\n    rotation: true\n")),
        "spec.yaml:4:5: keys[0].rotation: unknown field, expected one of: alias, key_arn, \
         account, region, description, key_spec, key_usage, enabled, enable_key_rotation, \
         rotation_period_in_days, multi_region, replica_regions, deletion_window_in_days, tags, \
         policy, policy_file"
    );
    assert_eq!(
        one_error("defaults: {alias: alias/x}\nkeys: []\n"),
        "spec.yaml:1:12: defaults.alias: unknown field (it can only be set on a key)"
    );
    assert_eq!(
        one_error("key:\n  - alias: alias/a\n"),
        "spec.yaml:1:1: key: unknown field, expected one of: defaults, keys"
    );
}

#[test]
fn wrong_types_name_the_field() {
    assert_eq!(
        one_error(&format!(
            "{HEAD}  - alias: alias/a\n    rotation_period_in_days: soon\n"
        )),
        "spec.yaml:4:30: keys[0].rotation_period_in_days: expected a whole number of days, \
         found string \"soon\""
    );
    assert_eq!(
        one_error(&format!("{HEAD}  - alias: alias/a\n    enabled: [1]\n")),
        "spec.yaml:4:14: keys[0].enabled: expected true or false, found a list"
    );
    assert_eq!(
        one_error(&format!(
            "{HEAD}  - alias: alias/a\n    tags: {{on: off}}\n"
        )),
        "spec.yaml:4:16: keys[0].tags.on: expected a string tag value (quote values such as \
         \"true\" or \"on\"), found boolean false"
    );
    assert_eq!(
        one_error("defaults: {account: 1234, region: us-east-1}\nkeys: []\n"),
        "spec.yaml:1:21: defaults.account: expected a 12-digit account id in quotes \
         (\"111111111111\"), found number 1234"
    );
    assert_eq!(
        one_error("keys: {alias: a}\n"),
        "spec.yaml:1:7: keys: expected a list of keys, found a mapping"
    );
}

#[test]
fn numbers_in_tags_and_unquoted_account_ids_are_accepted() {
    let set = load_one(
        "defaults: {account: 111111111111, region: us-east-1}\nkeys:\n  - alias: alias/a\n    tags: {cost-center: 1234}\n",
    )
    .expect("valid");
    assert_eq!(set.keys[0].account, "111111111111");
    assert_eq!(
        set.keys[0]
            .tags
            .as_ref()
            .and_then(|t| t.get("cost-center"))
            .map(String::as_str),
        Some("1234")
    );
}

#[test]
fn duplicate_mapping_keys_and_broken_yaml_are_errors() {
    assert_eq!(
        one_error(&format!("{HEAD}  - alias: alias/a\n    alias: alias/b\n")),
        "spec.yaml:4:5: invalid YAML/JSON: duplicate mapping key `alias` is not allowed here"
    );
    let broken = one_error("keys: [\n");
    assert!(broken.starts_with("spec.yaml:"), "{broken}");
    assert!(broken.contains("invalid YAML/JSON"), "{broken}");
}

#[test]
fn errors_stay_on_one_line_and_nesting_is_limited() {
    // Found by tests/fuzz_parsers.rs: a value with a line break split its error in two, and a
    // spec nested 64 levels deep overflowed a 2 MiB stack in a debug build.
    assert_eq!(
        one_error(&format!("{HEAD}  - alias: \"alias/a\\nb\"\n")),
        "spec.yaml:3:5: keys[0].alias: alias/a\\nb: an alias name has only letters, digits, /, _ \
         and -"
    );
    let deep = format!(
        "{HEAD}  - alias: alias/a\n    description: {}x{}\n",
        "{a: ".repeat(70),
        "}".repeat(70)
    );
    assert_eq!(
        one_error(&deep),
        "spec.yaml:4:134: invalid YAML/JSON: the document is nested more than 32 levels deep"
    );
}

#[test]
fn an_alias_declared_twice_is_an_error_naming_both_places() {
    let dir = dir_with(&[
        ("a.yaml", &format!("{HEAD}  - alias: alias/a\n")),
        (
            "b.yaml",
            &format!("{HEAD}  - alias: alias/b\n  - alias: alias/a\n"),
        ),
    ]);
    let errors = load(&[dir.path().to_path_buf()]).expect_err("duplicate").0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let a = dir.path().join("a.yaml").display().to_string();
    let b = dir.path().join("b.yaml").display().to_string();
    assert_eq!(
        errors[0].to_string(),
        format!(
            "{b}:4:5: keys[1].alias: alias/a in 111111111111 us-east-1 is already declared at \
             {a}:3"
        )
    );
}

#[test]
fn policy_files_must_exist_and_hold_json_policies() {
    let missing = one_error(&format!(
        "{HEAD}  - alias: alias/a\n    policy_file: nope.json\n"
    ));
    assert!(
        missing.starts_with("spec.yaml:4:18: keys[0].policy_file: cannot read the policy file "),
        "{missing}"
    );
    assert!(missing.contains("nope.json"), "{missing}");

    let dir = dir_with(&[
        (
            "spec.yaml",
            &format!("{HEAD}  - alias: alias/a\n    policy_file: p.json\n"),
        ),
        (
            "p.json",
            "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n",
        ),
    ]);
    let errors = load(&[dir.path().join("spec.yaml")])
        .expect_err("bad json")
        .0;
    let text = errors[0].to_string();
    assert!(
        text.contains("keys[0].policy_file: the policy file "),
        "{text}"
    );
    assert!(
        text.contains("p.json:3:24 is not valid JSON: trailing comma"),
        "{text}"
    );

    let dir = dir_with(&[
        (
            "spec.yaml",
            &format!("{HEAD}  - alias: alias/a\n    policy_file: p.json\n"),
        ),
        ("p.json", "{\"Version\": \"2012-10-17\"}"),
    ]);
    let errors = load(&[dir.path().join("spec.yaml")])
        .expect_err("no statement")
        .0;
    assert!(
        errors[0]
            .to_string()
            .ends_with("keys[0].policy_file: invalid key policy: policy document has no Statement"),
        "{}",
        errors[0]
    );
    assert_eq!(
        one_error(&format!(
            "{HEAD}  - alias: alias/a\n    policy: {{Statement: []}}\n    policy_file: p.json\n"
        ))
        .split(": ")
        .take(2)
        .collect::<Vec<_>>()
        .join(": "),
        "spec.yaml:5:5: keys[0].policy_file"
    );
}

#[test]
fn aws_limits_are_checked() {
    for (body, want) in [
        (
            "  - alias: alias/a\n    rotation_period_in_days: 30\n",
            "spec.yaml:4:5: keys[0].rotation_period_in_days: 30 is outside 90..2560 days",
        ),
        (
            "  - alias: alias/a\n    rotation_period_in_days: 3000\n",
            "spec.yaml:4:5: keys[0].rotation_period_in_days: 3000 is outside 90..2560 days",
        ),
        (
            "  - alias: alias/a\n    key_spec: HMAC_256\n    key_usage: GENERATE_VERIFY_MAC\n    enable_key_rotation: true\n",
            "spec.yaml:6:5: keys[0].enable_key_rotation: automatic rotation is only for \
             SYMMETRIC_DEFAULT keys; a HMAC_256 key cannot rotate",
        ),
        (
            "  - alias: alias/a\n    key_spec: RSA_3072\n    key_usage: GENERATE_VERIFY_MAC\n",
            "spec.yaml:5:5: keys[0].key_usage: a RSA_3072 key cannot have usage \
             GENERATE_VERIFY_MAC (it allows ENCRYPT_DECRYPT, SIGN_VERIFY)",
        ),
        (
            "  - alias: alias/a\n    key_spec: AES_256\n",
            "spec.yaml:4:5: keys[0].key_spec: unknown key spec \"AES_256\"",
        ),
        (
            "  - alias: alias/a\n    deletion_window_in_days: 3\n",
            "spec.yaml:4:5: keys[0].deletion_window_in_days: 3 is outside 7..30 days",
        ),
        (
            "  - alias: alias/a\n    enable_key_rotation: false\n    rotation_period_in_days: 180\n",
            "spec.yaml:5:5: keys[0].rotation_period_in_days: a rotation period needs \
             enable_key_rotation: true",
        ),
        (
            "  - alias: alias/a\n    multi_region: true\n    replica_regions: [us-east-1]\n",
            "spec.yaml:5:5: keys[0].replica_regions: us-east-1 is the key's own region, not a \
             replica region",
        ),
        (
            "  - alias: alias/a\n    multi_region: false\n    replica_regions: [eu-west-1]\n",
            "spec.yaml:5:5: keys[0].replica_regions: replicas need multi_region: true",
        ),
        (
            "  - alias: alias/a\n    region: mars-north-1\n",
            "spec.yaml:4:5: keys[0].region: unknown region \"mars-north-1\"",
        ),
        (
            "  - alias: payments\n",
            "spec.yaml:3:5: keys[0].alias: \"payments\" is not an alias name: it starts with alias/",
        ),
        (
            "  - alias: alias/aws/ebs\n",
            "spec.yaml:3:5: keys[0].alias: alias/aws/ebs is reserved for AWS-managed keys",
        ),
        (
            "  - description: no identity\n",
            "spec.yaml:3:5: keys[0]: a key needs an `alias` (with account and region) or a `key_arn`",
        ),
        (
            "  - key_arn: arn:aws:kms:us-east-1:111111111111:keys/x\n",
            "spec.yaml:3:5: keys[0].key_arn: \"arn:aws:kms:us-east-1:111111111111:keys/x\" is not \
             a KMS key ARN",
        ),
    ] {
        let got = one_error(&format!("{HEAD}{body}"));
        assert!(got.starts_with(want), "want {want}\n got {got}");
    }
    let errors = load_one("keys:\n  - alias: alias/a\n")
        .expect_err("no account")
        .0;
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "no account: set `account` on the key or in `defaults`",
            "no region: set `region` on the key or in `defaults`"
        ]
    );
}

#[test]
fn all_errors_of_a_run_are_reported_together() {
    let errors = load_one(&format!(
        "{HEAD}  - alias: alias/a\n    rotation_period_in_days: 10\n  - alias: alias/b\n    bogus: 1\n"
    ))
    .expect_err("two errors");
    assert_eq!(errors.0.len(), 2);
    let text = errors.to_string();
    assert!(text.starts_with("2 errors in specs:\n  "), "{text}");
}

#[test]
fn a_flood_of_spec_errors_is_listed_up_to_a_limit_then_counted() {
    let keys: String = (0..SHOWN_SPEC_ERRORS + 7)
        .map(|n| format!("  - alias: alias/k{n}\n    bogus: 1\n"))
        .collect();
    let errors = load_one(&format!("{HEAD}{keys}")).expect_err("errors");
    assert_eq!(errors.0.len(), SHOWN_SPEC_ERRORS + 7, "every error is kept");
    let text = errors.to_string();
    assert_eq!(text.lines().count(), 1 + SHOWN_SPEC_ERRORS + 1, "{text}");
    assert!(
        text.ends_with("… and 7 more, in 1 file in all (is --spec the right path?)"),
        "{text}"
    );
}

#[test]
fn a_policy_document_named_directly_is_not_a_spec() {
    let dir = dir_with(&[("p.json", r#"{"Statement": []}"#)]);
    let errors = load(&[dir.path().join("p.json")]).expect_err("policy").0;
    assert!(
        errors[0]
            .message
            .contains("key policy document, not a spec")
    );
    let missing = load(&[dir.path().join("nope.yaml")])
        .expect_err("missing")
        .0;
    assert!(
        missing[0].message.starts_with("cannot read the spec"),
        "{:?}",
        missing[0]
    );
}

// --- importers -------------------------------------------------------------------------

fn fixture(path: &str) -> PathBuf {
    repo().join("tests/fixtures/specs").join(path)
}

fn by_identity(set: &SpecSet) -> std::collections::BTreeMap<String, &DeclaredKey> {
    set.keys.iter().map(|k| (k.identity(), k)).collect()
}

#[test]
fn terraform_state_modules_count_for_each_replicas_aliases_and_policies() {
    let set = load(&[fixture("terraform/modules.tfstate")]).expect("valid state");
    let keys = by_identity(&set);
    assert_eq!(
        keys.keys().cloned().collect::<Vec<_>>(),
        [
            "111111111111/eu-west-1/alias/imported",
            "111111111111/eu-west-1/alias/shared",
            "111111111111/us-east-1/alias/app-a",
            "111111111111/us-east-1/alias/app-b",
            "111111111111/us-east-1/alias/imported",
            "111111111111/us-east-1/alias/shared",
            "arn:aws:kms:us-east-1:111111111111:key/cccccccc-0000-4000-8000-000000000003",
        ]
    );
    let app_a = keys["111111111111/us-east-1/alias/app-a"];
    assert_eq!(
        app_a.source.as_deref(),
        Some("terraform: module.apps.aws_kms_key.this[\"a\"]")
    );
    assert_eq!(app_a.other_aliases, ["alias/app-a-legacy"]);
    assert_eq!(app_a.enable_key_rotation, Some(true));
    assert_eq!(app_a.rotation_period_in_days, Some(180));
    assert_eq!(
        app_a.tags.as_ref().map(|t| t.len()),
        Some(2),
        "tags_all wins"
    );

    let shared = keys["111111111111/us-east-1/alias/shared"];
    assert_eq!(
        shared.replica_regions.as_deref(),
        Some(&["eu-west-1".to_string()][..])
    );
    assert_eq!(
        shared.policy.as_ref().map(|p| p["Id"].clone()),
        Some(json!("from-key-policy-resource")),
        "aws_kms_key_policy overrides the key's policy attribute"
    );
    let replica = keys["111111111111/eu-west-1/alias/shared"];
    assert_eq!(replica.multi_region, Some(true));
    assert_eq!(replica.enable_key_rotation, None);
    assert_eq!(replica.enabled, Some(false));

    let no_alias =
        keys["arn:aws:kms:us-east-1:111111111111:key/cccccccc-0000-4000-8000-000000000003"];
    assert_eq!(
        no_alias.source.as_deref(),
        Some("terraform: aws_kms_key.counted[0]")
    );
    assert_eq!(no_alias.key_spec.as_deref(), Some("ECC_NIST_P256"));
    assert_eq!(
        no_alias.enable_key_rotation, None,
        "asymmetric keys do not rotate"
    );

    // A multi-Region external key and its aws_kms_replica_external_key (their key material is
    // sensitive and never read).
    let external = keys["111111111111/us-east-1/alias/imported"];
    assert_eq!(external.enable_key_rotation, None);
    assert_eq!(
        external.description.as_deref(),
        Some("Imported key material")
    );
    assert_eq!(external.multi_region, Some(true));
    assert_eq!(
        external.replica_regions.as_deref(),
        Some(&["eu-west-1".to_string()][..])
    );
    let external_eu = keys["111111111111/eu-west-1/alias/imported"];
    assert_eq!(
        external_eu.source.as_deref(),
        Some("terraform: aws_kms_replica_external_key.imported_eu")
    );
    assert_eq!(external_eu.multi_region, Some(true));
    assert_eq!(external_eu.replica_regions, None);
    assert_eq!(external_eu.enabled, Some(true));
    assert_eq!(external_eu.enable_key_rotation, None);

    assert_eq!(set.warnings.len(), 2, "{:#?}", set.warnings);
    assert!(
        set.warnings[0].contains("aws_kms_key.never_created"),
        "{}",
        set.warnings[0]
    );
    assert!(
        set.warnings[1].contains("aws_kms_alias.orphan"),
        "{}",
        set.warnings[1]
    );
    assert!(
        set.warnings[1].contains("not in this file"),
        "{}",
        set.warnings[1]
    );
}

#[test]
fn terraform_state_locations_point_at_the_resource_instance() {
    let set = load(&[fixture("terraform/modules.tfstate")]).expect("valid state");
    let text = std::fs::read_to_string(fixture("terraform/modules.tfstate")).expect("read");
    for key in &set.keys {
        let line = text
            .lines()
            .nth(usize::try_from(key.location.line).expect("line") - 1)
            .unwrap_or_default();
        assert!(
            line.contains("\"index_key\"") || line.contains("\"name\""),
            "{}: line {} is {line}",
            key.identity(),
            key.location.line
        );
    }
}

#[test]
fn terraform_state_of_another_format_version_is_rejected() {
    let dir = dir_with(&[(
        "old.tfstate",
        "{\"version\": 3, \"terraform_version\": \"0.11.14\", \"lineage\": \"x\", \"resources\": []}",
    )]);
    let errors = load(&[dir.path().join("old.tfstate")]).expect_err("v3").0;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].to_string().contains(
            "old.tfstate:1:2: version: this is a Terraform state of format version 3 \
             (Terraform 0.11 or earlier): upgrade it with Terraform 0.12 or later"
        ),
        "{}",
        errors[0]
    );
}

/// The one error loading `text` (as `name`) gives, without the temp dir.
fn refusal_of(name: &str, text: &str) -> String {
    let dir = dir_with(&[(name, text)]);
    let errors = load(&[dir.path().join(name)]).expect_err("refused").0;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let line = errors[0].to_string();
    assert!(!line.contains('\n'), "{line}");
    line.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn unreadable_shapes_are_refused_in_one_line_saying_what_they_are() {
    // Terraform 0.11 state: `modules`, no `resources`.
    let v3 = refusal_of(
        "v3.tfstate",
        r#"{"version": 3, "terraform_version": "0.11.14", "serial": 1, "lineage": "x",
            "modules": [{"path": ["root"], "outputs": {}, "resources": {}}]}"#,
    );
    assert!(
        v3.starts_with("v3.tfstate:1:2: version: this is a Terraform state of format version 3"),
        "{v3}"
    );
    // OpenTofu state encryption: the whole state is one encrypted payload.
    let encrypted = refusal_of(
        "enc.tfstate",
        "{\"serial\": 2, \"lineage\": \"y\", \"meta\": {\"key_provider.pbkdf2.k\": \"eyJ9\"},\n \
         \"encrypted_data\": \"c2VjcmV0\", \"encryption_version\": \"v0\"}",
    );
    assert_eq!(
        encrypted,
        "enc.tfstate:2:32: encryption_version: this is an OpenTofu encrypted state \
         (encryption_version v0): decrypt it first — with the encryption configured, `tofu show \
         -json > state.json` — and pass that file"
    );
    let cfn = refusal_of(
        "stack.json",
        r#"{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}"#,
    );
    assert!(cfn.contains("this is a CloudFormation template"), "{cfn}");
    let other = refusal_of("x.json", r#"{"name": "x", "items": []}"#);
    assert_eq!(
        other,
        "x.json:1:1: this is not a kms-audit spec (`keys`, `defaults`), a Terraform state or \
         `terraform show -json` output, or a Pulumi stack export: its top-level fields are name, \
         items"
    );
    for bytes in [&b"PK\x03\x04\x14\x00\xff\xfe"[..], b"PK\x03\x04\x14\x00"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("tfplan"), bytes).expect("write");
        let errors = load(&[dir.path().join("tfplan")]).expect_err("zip").0;
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().contains(
                "tfplan: this is a binary file (a zip archive, such as a saved Terraform plan \
                 from `terraform plan -out`): convert a plan with `terraform show -json \
                 PLANFILE > plan.json` and pass that"
            ),
            "{}",
            errors[0]
        );
    }
    let configuration = refusal_of(
        "conf.json",
        r#"{"format_version": "1.0", "configuration": {}}"#,
    );
    assert!(
        configuration.contains("without `values` or `planned_values`"),
        "{configuration}"
    );
}

fn forms(name: &str) -> PathBuf {
    repo().join("tests/fixtures/specs/forms").join(name)
}

#[test]
fn terraform_show_json_of_a_state_declares_the_example_keys() {
    let hand = load(&[repo().join("examples/specs/kms-audit")]).expect("example spec");
    let show = load(&[forms("show-state.json")]).expect("show -json of a state");
    assert!(show.warnings.is_empty(), "{:?}", show.warnings);
    assert_eq!(comparable_set(&show), comparable_set(&hand));
    let keys = by_identity(&show);
    // The replicas sit in a nested module (module.orders.module.replicas).
    let eu = keys["123456789012/eu-west-1/alias/orders"];
    assert_eq!(
        eu.source.as_deref(),
        Some("terraform: module.orders.module.replicas.aws_kms_replica_key.replica[0]")
    );
    // The separate key policy wins over the key's stale inline policy, and says so.
    let orders = keys["123456789012/us-east-1/alias/orders"];
    assert_eq!(
        orders.policy_from.as_deref(),
        Some(
            "module.orders.aws_kms_key_policy.primary, which overrides the policy attribute of \
             module.orders.aws_kms_key.primary"
        )
    );
    assert_eq!(
        orders
            .policy
            .as_ref()
            .map(|p| p["Statement"].as_array().map(Vec::len)),
        Some(Some(2))
    );
    // The name_prefix alias (the provider writes its generated name to `name`): a further
    // alias of payments.
    let payments = keys["123456789012/us-east-1/alias/payments"];
    assert_eq!(
        payments.other_aliases,
        ["alias/payments-20261201083000000000000001"]
    );
    assert_eq!(payments.declared_from, None);
    // Findings point at the resource's `address`.
    let text = std::fs::read_to_string(forms("show-state.json")).expect("read");
    let line = text
        .lines()
        .nth(usize::try_from(payments.location.line).expect("line") - 1)
        .unwrap_or_default();
    assert!(
        line.contains("\"address\": \"aws_kms_key.payments\""),
        "{line}"
    );
}

#[test]
fn terraform_show_json_of_a_plan_reads_planned_values_and_says_so() {
    let hand = load(&[repo().join("examples/specs/kms-audit")]).expect("example spec");
    let plan = load(&[forms("show-plan.json")]).expect("show -json of a plan");
    assert_eq!(comparable_set(&plan), comparable_set(&hand));
    assert!(plan.keys.iter().all(|k| {
        k.declared_from.as_deref()
            == Some(
                "the planned values of a Terraform plan (what apply would make, not what is \
                 applied)",
            )
    }));
    // The key the plan creates has no ARN yet; its alias has no key: both said, not imported.
    assert_eq!(plan.warnings.len(), 2, "{:#?}", plan.warnings);
    assert!(
        plan.warnings[0].contains(
            "aws_kms_key.audit: the key has no ARN in the plan (a key the plan creates: its ARN \
             is known only after apply) (not imported)"
        ),
        "{}",
        plan.warnings[0]
    );
    assert!(
        plan.warnings[1].contains("aws_kms_alias.audit"),
        "{}",
        plan.warnings[1]
    );
}

#[test]
fn an_alias_made_with_name_prefix_takes_its_name_from_id_or_arn() {
    let state = |alias: &str| {
        format!(
            r#"{{"version": 4, "terraform_version": "1.9.8", "lineage": "l", "resources": [
  {{"mode": "managed", "type": "aws_kms_key", "name": "k", "instances": [{{"schema_version": 0,
    "attributes": {{"arn": "arn:aws:kms:us-east-1:111111111111:key/k1", "key_id": "k1"}}}}]}},
  {{"mode": "managed", "type": "aws_kms_alias", "name": "a", "instances": [{{"schema_version": 0,
    "attributes": {alias}}}]}}]}}"#
        )
    };
    for (attributes, want) in [
        // As the provider writes it: the generated name in `name`, `id` and `arn`.
        (
            r#"{"name": "alias/app-20260101000000000000000001", "name_prefix": "alias/app-",
                "id": "alias/app-20260101000000000000000001",
                "arn": "arn:aws:kms:us-east-1:111111111111:alias/app-20260101000000000000000001",
                "target_key_arn": "arn:aws:kms:us-east-1:111111111111:key/k1",
                "target_key_id": "k1"}"#,
            "alias/app-20260101000000000000000001",
        ),
        // Early provider versions did not read `name` back: only `id` and `arn` hold it.
        (
            r#"{"name": "", "name_prefix": "alias/app-", "id": "alias/app-123",
                "arn": "arn:aws:kms:us-east-1:111111111111:alias/app-123", "target_key_id": "k1"}"#,
            "alias/app-123",
        ),
        (
            r#"{"name": null, "name_prefix": "alias/app-",
                "arn": "arn:aws:kms:us-east-1:111111111111:alias/app-456", "target_key_id": "k1"}"#,
            "alias/app-456",
        ),
    ] {
        let dir = dir_with(&[("s.tfstate", &state(attributes))]);
        let set = load(&[dir.path().join("s.tfstate")]).expect("valid");
        assert_eq!(
            set.keys[0].alias.as_deref(),
            Some(want),
            "{:?}",
            set.warnings
        );
    }
    let dir = dir_with(&[(
        "s.tfstate",
        &state(r#"{"name_prefix": "alias/app-", "target_key_id": "k1"}"#),
    )]);
    let set = load(&[dir.path().join("s.tfstate")]).expect("valid");
    assert_eq!(set.keys[0].alias, None);
    assert!(
        set.warnings[0].contains("the alias has only a name_prefix (alias/app-)"),
        "{:?}",
        set.warnings
    );
}

#[test]
fn several_workspaces_read_in_one_run() {
    let text = std::fs::read_to_string(fixture("terraform/modules.tfstate")).expect("read");
    let other = text.replace("111111111111", "222222222222");
    let dir = dir_with(&[
        ("terraform.tfstate.d/prod/terraform.tfstate", &text),
        ("terraform.tfstate.d/staging/terraform.tfstate", &other),
    ]);
    let one = load(&[fixture("terraform/modules.tfstate")]).expect("one");
    let both = load(&[dir.path().to_path_buf()]).expect("two workspaces");
    assert_eq!(both.files.len(), 2);
    assert_eq!(both.keys.len(), 2 * one.keys.len());
    // The same state given twice declares every key twice: an error naming both places.
    let twice = load(&[
        fixture("terraform/modules.tfstate"),
        fixture("terraform/modules.tfstate"),
    ])
    .expect_err("declared twice");
    assert!(
        twice.to_string().contains("is already declared at"),
        "{twice}"
    );
}

#[test]
fn pulumi_secrets_are_read_when_plaintext_and_otherwise_named_not_compared() {
    let hand = load(&[repo().join("examples/specs/kms-audit")]).expect("example spec");
    let export = load(&[forms("pulumi-secrets.json")]).expect("export with secrets");
    let keys = by_identity(&export);
    // The plaintext policy secret is read; the encrypted description is not declared.
    assert_eq!(
        comparable(keys["123456789012/us-east-1/alias/payments"]),
        comparable(by_identity(&hand)["123456789012/us-east-1/alias/payments"])
    );
    let hmac = keys["123456789012/us-east-1/alias/webhook-hmac"];
    assert_eq!(hmac.description, None);
    assert_eq!(export.warnings.len(), 1, "{:#?}", export.warnings);
    assert!(
        export.warnings[0].contains(
            "aws:kms/key:Key::webhook-hmac: description is a secret in the export and is not \
             compared (export with --show-secrets to compare it)"
        ),
        "{}",
        export.warnings[0]
    );
    assert_eq!(
        keys["123456789012/us-east-1/alias/payments"].other_aliases,
        ["alias/payments-20261201083000000000000001"]
    );
    // Encrypted tags: not declared at all (no "no tags" declaration that would drift).
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(forms("pulumi-secrets.json")).expect("read"))
            .expect("json");
    let secret = json!({"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                        "ciphertext": "v1:x"});
    for resource in doc["deployment"]["resources"]
        .as_array_mut()
        .expect("resources")
    {
        if resource["urn"]
            .as_str()
            .is_some_and(|u| u.ends_with("Key::payments"))
        {
            resource["outputs"]["tags"] = secret.clone();
            resource["outputs"]["tagsAll"] = json!({"owner": secret.clone()});
        }
    }
    let text = serde_json::to_string_pretty(&doc).expect("json");
    let dir = dir_with(&[("e.json", &text)]);
    let set = load(&[dir.path().join("e.json")]).expect("valid");
    let payments = by_identity(&set)["123456789012/us-east-1/alias/payments"];
    assert_eq!(payments.tags, None, "{:#?}", set.warnings);
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains(": tags is a secret"))
    );
}

#[test]
fn pulumi_export_components_replicas_aliases_and_policies() {
    let set = load(&[fixture("pulumi/stack.json")]).expect("valid export");
    let keys = by_identity(&set);
    assert_eq!(
        keys.keys().cloned().collect::<Vec<_>>(),
        [
            "111111111111/eu-west-1/alias/shared",
            "111111111111/us-east-1/alias/app-a",
            "111111111111/us-east-1/alias/imported-20251001000000000000000001",
            "111111111111/us-east-1/alias/shared",
        ]
    );
    let shared = keys["111111111111/us-east-1/alias/shared"];
    assert_eq!(
        shared.replica_regions.as_deref(),
        Some(&["eu-west-1".to_string()][..])
    );
    assert_eq!(
        shared.policy.as_ref().map(|p| p["Id"].clone()),
        Some(json!("from-key-policy-resource"))
    );
    assert_eq!(
        shared.source.as_deref(),
        Some("pulumi: aws:kms/key:Key::shared")
    );
    let app = keys["111111111111/us-east-1/alias/app-a"];
    assert_eq!(app.rotation_period_in_days, Some(180));
    assert_eq!(app.description.as_deref(), Some("App A"));
    // An ExternalKey named by a namePrefix alias; its keyMaterialBase64 is a secret output
    // kms-audit does not read: no warning for it.
    let external = keys["111111111111/us-east-1/alias/imported-20251001000000000000000001"];
    assert_eq!(
        external.source.as_deref(),
        Some("pulumi: aws:kms/externalKey:ExternalKey::imported")
    );
    assert_eq!(
        external.description.as_deref(),
        Some("Imported key material")
    );
    assert_eq!(external.multi_region, Some(false));
    assert_eq!(external.enable_key_rotation, None);
    assert_eq!(set.warnings.len(), 1, "{:#?}", set.warnings);
    assert!(
        set.warnings[0].contains("aws:kms/alias:Alias::orphan"),
        "{}",
        set.warnings[0]
    );
}

/// What drift compares, without the places it came from.
fn comparable(key: &DeclaredKey) -> serde_json::Value {
    json!({
        "identity": key.identity(),
        "description": key.description,
        "key_spec": key.key_spec,
        "key_usage": key.key_usage,
        "enabled": key.enabled,
        "enable_key_rotation": key.enable_key_rotation,
        "rotation_period_in_days": key.rotation_period_in_days,
        "multi_region": key.multi_region,
        "replica_regions": key.replica_regions.as_ref().map(|r| {
            let mut r = r.clone();
            r.sort();
            r
        }),
        "deletion_window_in_days": key.deletion_window_in_days,
        "tags": key.tags,
        "policy": key.policy.as_ref().map(crate::policy::canonicalize),
    })
}

fn comparable_set(set: &SpecSet) -> Vec<serde_json::Value> {
    let mut all: Vec<_> = set.keys.iter().map(comparable).collect();
    all.sort_by_key(|v| v["identity"].as_str().unwrap_or_default().to_string());
    all
}

#[test]
fn the_example_spec_terraform_state_and_pulumi_export_declare_the_same_keys() {
    let examples = repo().join("examples/specs");
    let hand = load(&[examples.join("kms-audit")]).expect("example spec");
    let terraform = load(&[examples.join("terraform/terraform.tfstate")]).expect("example state");
    let pulumi = load(&[examples.join("pulumi/stack-export.json")]).expect("example export");
    assert_eq!(hand.keys.len(), 6);
    assert!(terraform.warnings.is_empty(), "{:?}", terraform.warnings);
    assert!(pulumi.warnings.is_empty(), "{:?}", pulumi.warnings);
    assert_eq!(comparable_set(&terraform), comparable_set(&hand));
    assert_eq!(comparable_set(&pulumi), comparable_set(&hand));
}

#[test]
fn imports_print_as_specs_that_load_back_the_same() {
    for source in [
        fixture("terraform/modules.tfstate"),
        fixture("pulumi/stack.json"),
        repo().join("examples/specs/terraform/terraform.tfstate"),
    ] {
        let imported = load(std::slice::from_ref(&source)).expect("valid import");
        let yaml = emit::to_yaml(&imported.keys, &["imported".to_string()]);
        let dir = dir_with(&[("spec.yaml", &yaml)]);
        let again = load(&[dir.path().join("spec.yaml")])
            .unwrap_or_else(|err| panic!("{}: {err}\n{yaml}", source.display()));
        assert_eq!(
            comparable_set(&again),
            comparable_set(&imported),
            "{}:\n{yaml}",
            source.display()
        );
    }
}

#[test]
fn plain_scalars_are_only_used_where_they_read_back_as_strings() {
    for (text, want) in [
        ("us-east-1", "us-east-1"),
        ("alias/payments", "alias/payments"),
        ("Payments data key", "Payments data key"),
        ("123456789012", "\"123456789012\""),
        ("2012-10-17", "\"2012-10-17\""),
        ("on", "\"on\""),
        ("*", "\"*\""),
        ("kms:*", "kms:*"),
        ("a: b", "\"a: b\""),
        ("", "\"\""),
        ("x #y", "\"x #y\""),
    ] {
        assert_eq!(emit::scalar(text), want, "{text}");
    }
}

/// The JSON reader keeps only what the Terraform importer reads of a `terraform show -json`:
/// importing what it keeps gives exactly what importing the whole document gives, warnings,
/// errors and positions included.
#[test]
fn a_pruned_terraform_show_json_imports_like_the_whole_document() {
    let odd = r#"{"format_version":"1.0","terraform_version":"1.9.8","values":{"root_module":{
      "resources":[
        "not a resource",
        {"address":"aws_kms_key.a","mode":"managed","type":"aws_kms_key","name":"a",
         "values":{"arn":"arn:aws:kms:us-east-1:111111111111:key/1111","tags":{"a":"b"},
                   "tags_all":null,"policy":"{\"Statement\":[]}","is_enabled":true,
                   "timeouts":null,"xks_key_id":""},
         "sensitive_values":{"tags":{}}},
        {"values":{"arn":"arn:aws:kms:us-east-1:111111111111:key/2222","tags":{"x":"y"},
                   "tags_all":{"x":"y","z":"w"}},
         "type":"aws_kms_key","mode":"managed","address":"aws_kms_key.b"},
        {"address":"data.aws_kms_key.c","mode":"data","type":"aws_kms_key","values":{}},
        {"address":"aws_kms_key.d","mode":"managed","type":"aws_kms_key","values":null},
        {"address":"aws_kms_key.e","mode":"managed","type":"aws_kms_key","deposed_key":"x",
         "values":{"arn":"arn:aws:kms:us-east-1:111111111111:key/5555"}},
        {"address":"aws_kms_key.f","mode":"managed","type":"aws_kms_key"},
        {"address":"aws_kms_alias.a","mode":"managed","type":"aws_kms_alias",
         "values":{"name":"alias/a","target_key_id":"1111",
                   "arn":"arn:aws:kms:us-east-1:111111111111:alias/a"}},
        {"address":"aws_kms_key_policy.p","mode":"managed","type":"aws_kms_key_policy",
         "values":{"key_id":"2222","policy":"{\"Statement\":[{\"Effect\":\"Allow\"}]}"}},
        {"address":"aws_kms_key_policy.q","mode":"managed","type":"aws_kms_key_policy",
         "values":{"key_id":"9999","policy":"{\"Statement\":[]}"}},
        {"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket",
         "values":{"arn":"arn:aws:s3:::b","policy":"not json"}}],
      "child_modules":[{"address":"module.m","resources":[
        {"address":"module.m.aws_kms_replica_key.r","mode":"managed",
         "type":"aws_kms_replica_key","values":{
           "arn":"arn:aws:kms:eu-west-1:111111111111:key/mrk-1",
           "primary_key_arn":"arn:aws:kms:us-east-1:111111111111:key/mrk-1"}}],
        "child_modules":[7]}, "x"]}}}"#;
    let invalid_policy = r#"{"format_version":"1.0","values":{"root_module":{"resources":[
        {"address":"aws_kms_key.a","mode":"managed","type":"aws_kms_key","values":{
          "arn":"arn:aws:kms:us-east-1:111111111111:key/1111","policy":"{nope"}},
        {"address":"aws_kms_key_policy.p","mode":"managed","type":"aws_kms_key_policy",
         "values":{"key_id":"1111","policy":"[1,"}}]}}}"#;
    let plan_and_state = r#"{"format_version":"1.2","values":{"root_module":{}},
      "planned_values":{"root_module":{"resources":[
        {"address":"aws_kms_key.a","mode":"managed","type":"aws_kms_key",
         "values":{"description":"new"}}]}}, "prior_state":{"values":{"root_module":{}}}}"#;
    let mut texts = vec![
        odd.to_string(),
        invalid_policy.to_string(),
        plan_and_state.to_string(),
    ];
    for file in [
        "tests/fixtures/specs/forms/show-state.json",
        "tests/fixtures/specs/forms/show-plan.json",
    ] {
        texts.push(std::fs::read_to_string(repo().join(file)).expect("fixture"));
    }
    // On one line, as `terraform show -json` writes it: the columns of what is read after
    // coming back to a resource's `values` are counted right too.
    let one_line: Vec<String> = texts.iter().map(|t| t.replace('\n', " ")).collect();
    texts.extend(one_line);
    for text in &texts {
        let whole = json::parse(text).expect("valid JSON");
        let pruned = json::parse_spec(text).expect("valid JSON");
        assert_eq!(detect_format(&pruned), SourceFormat::Terraform);
        assert_eq!(
            terraform::import(&pruned, "t.json"),
            terraform::import(&whole, "t.json"),
            "{text}"
        );
    }
    assert_ne!(
        json::parse_spec(odd),
        json::parse(odd),
        "nothing was left out"
    );
    // Invalid JSON anywhere, kept or not, is still refused (and read by the YAML reader).
    for bad in [
        r#"{"format_version":"1.0","values":{"root_module":{"resources":[{"type":"x","a":1,"a":2}]}}}"#,
        r#"{"format_version":"1.0","values":{"root_module":{"resources":[{"sensitive_values":{"x":01}}]}}}"#,
        r#"{"values":{"root_module":{"resources":[{"type":"aws_s3_bucket","values":{"b":"\ud800"}}]}},"format_version":"1.0"}"#,
    ] {
        assert_eq!(json::parse_spec(bad), None, "{bad}");
        assert_eq!(
            parse_document(bad, "bad.json"),
            node::parse_yaml(bad, "bad.json"),
            "{bad}"
        );
    }
    // Anything else is read whole.
    for text in [
        r#"{"keys":[],"values":{"root_module":{"resources":[{"type":"x"}]}},"format_version":"1"}"#,
        r#"{"version":3,"deployment":{},"values":{"root_module":{"resources":[{"type":"x"}]}}}"#,
        r#"{"values":{"root_module":{"resources":[{"type":"x"}]}}}"#,
    ] {
        assert_eq!(json::parse_spec(text), json::parse(text), "{text}");
    }
}
