//! The scheduled-job examples stay runnable: their kms-audit command lines parse with the real
//! CLI, their inline config and suppressions load, and the GitHub workflow has what SARIF upload
//! through OIDC needs.

use clap::Parser;
use kms_audit::analysis::suppress::Suppressions;
use kms_audit::cli::Cli;
use serde_json::Value;

fn example(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The `kms-audit ...` command of a shell script: from `kms-audit scan` to the end of its
/// backslash-continued lines, with `$vars` / `${{ }}` expressions replaced as given.
fn command_line(script: &str, replacements: &[(&str, &str)]) -> Vec<String> {
    let mut script = script.replace("\\\n", " ");
    for (from, to) in replacements {
        script = script.replace(from, to);
    }
    let line = script
        .lines()
        .find(|l| l.contains("kms-audit scan"))
        .expect("a kms-audit scan command");
    let start = line.find("kms-audit scan").expect("command");
    line[start..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn assert_parses(args: &[String]) {
    if let Err(err) = Cli::try_parse_from(args) {
        panic!("`{}` does not parse: {err}", args.join(" "));
    }
}

fn step<'a>(steps: &'a [Value], uses: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(uses)))
        .unwrap_or_else(|| panic!("a {uses} step"))
}

#[test]
fn the_github_workflow_installs_the_release_and_uploads_one_sarif_file_per_account() {
    let text = example("examples/github-actions/kms-audit.yml");
    let workflow: Value = serde_saphyr::from_str(&text).expect("the workflow is YAML");
    let on = &workflow["on"];
    assert!(on["schedule"][0]["cron"].is_string(), "scheduled: {on}");
    let jobs = &workflow["jobs"];

    // scan: the pinned release tarball, checked, no build; OIDC; one SARIF file per account.
    let scan_job = &jobs["scan"];
    assert_eq!(scan_job["permissions"]["id-token"], "write", "OIDC");
    let steps = scan_job["steps"].as_array().expect("steps");
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter().all(|r| !r.contains("cargo ")),
        "no build on the runner"
    );
    let install = runs
        .iter()
        .find(|r| r.contains("releases/download"))
        .expect("an install step");
    assert!(install.contains("https://github.com/kms-audit/kms-audit/releases/download/v"));
    assert!(install.contains("x86_64-unknown-linux-gnu") && install.contains(".tar.gz"));
    assert!(install.contains("${KMS_AUDIT_SHA256}") && install.contains("sha256sum --check"));
    assert!(workflow["env"]["KMS_AUDIT_VERSION"].is_string());
    step(steps, "aws-actions/configure-aws-credentials@");
    let scan = steps
        .iter()
        .find(|s| s["id"] == "scan")
        .and_then(|s| s["run"].as_str())
        .expect("scan step");
    let args = command_line(scan, &[("$BASELINE_ARGS", "--baseline baseline/scan.json")]);
    assert!(args.iter().any(|a| a == "sarif=out/sarif/"), "{args:?}");
    assert!(
        args.iter().any(|a| a == "--sarif-keep-suppressed"),
        "{args:?}"
    );
    assert_parses(&args);
    let list = steps
        .iter()
        .find(|s| s["id"] == "files")
        .and_then(|s| s["run"].as_str())
        .expect("the step that lists the files");
    assert!(list.contains("[.files[] | {file, category}]"), "{list}");
    // The fields it reads are the manifest's.
    let entry = kms_audit::report::sarif::split::FileEntry {
        file: "a.sarif".into(),
        category: "c".into(),
        account: "111111111111".into(),
        region: None,
        check: None,
        bucket: None,
        results: 0,
        bytes: 0,
    };
    let entry = serde_json::to_value(&entry).expect("json");
    assert!(entry["file"].is_string() && entry["category"].is_string());

    // upload: one job per file, with its category; then the suppressions become dismissals.
    let upload_job = &jobs["upload"];
    assert_eq!(upload_job["needs"], "scan");
    assert_eq!(upload_job["permissions"]["security-events"], "write");
    assert_eq!(
        upload_job["strategy"]["matrix"]["sarif"],
        "${{ fromJSON(needs.scan.outputs.files) }}"
    );
    let steps = upload_job["steps"].as_array().expect("steps");
    let upload = step(steps, "github/codeql-action/upload-sarif@v4");
    assert_eq!(
        upload["with"]["sarif_file"],
        "sarif/${{ matrix.sarif.file }}"
    );
    assert_eq!(upload["with"]["category"], "${{ matrix.sarif.category }}");
    let dismiss = step(steps, "advanced-security/dismiss-alerts@");
    assert_eq!(
        dismiss["with"]["sarif-id"],
        "${{ steps.upload.outputs.sarif-id }}"
    );
    assert_eq!(dismiss["with"]["sarif-file"], upload["with"]["sarif_file"]);
    assert!(
        jobs["verdict"]["steps"][0]["run"]
            .as_str()
            .is_some_and(|r| r.contains("exit \"$CODE\""))
    );
}

#[test]
fn the_kubernetes_cronjob_command_and_inputs_are_valid() {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&example("examples/kubernetes/cronjob.yaml"))
            .expect("the manifests are YAML");
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert!(kinds.contains(&"CronJob"), "{kinds:?}");
    let inputs = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("ConfigMap");
    let config = inputs["data"]["kms-audit.yaml"].as_str().expect("config");
    kms_audit::inputs::config::parse(config, "kms-audit.yaml", kms_audit::analysis::catalog())
        .expect("the example config is valid");
    let suppressions = inputs["data"]["suppressions.yaml"]
        .as_str()
        .expect("suppressions");
    let parsed =
        Suppressions::parse("suppressions.yaml", suppressions).expect("valid suppressions");
    assert_eq!(parsed.entries.len(), 1);

    let cronjob = docs
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("CronJob");
    let container = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let mut args = container_command_line(container);
    assert_eq!(args[1], "scan");
    for format in ["json", "sarif", "csv", "ocsf", "asff"] {
        assert!(
            args.iter()
                .any(|a| a.starts_with(&format!("--output={format}=/reports/"))),
            "{format} report in {args:?}"
        );
    }
    assert_parses(&args);
    // The documented addition once the first report exists.
    args.push("--baseline=/reports/scan.json".into());
    assert_parses(&args);
}

/// What a Kubernetes example's container runs: the image's entrypoint is kms-audit and the
/// container's args are its arguments, with no shell (no `command`).
pub fn container_command_line(container: &Value) -> Vec<String> {
    assert!(
        container.get("command").is_none(),
        "no command: {container}"
    );
    let mut args = vec!["kms-audit".to_string()];
    args.extend(
        container["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("a string").to_string()),
    );
    args
}
