//! The scheduled-job examples stay runnable: their kms-audit command lines parse with the real
//! CLI, their inline config and suppressions load, and the GitHub workflow has what SARIF upload
//! through OIDC needs.

use clap::Parser;
use kms_audit::cli::Cli;
use kms_audit::suppress::Suppressions;
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

#[test]
fn the_github_workflow_scans_with_oidc_and_uploads_sarif() {
    let workflow: Value = serde_saphyr::from_str(&example("examples/github-actions/kms-audit.yml"))
        .expect("the workflow is YAML");
    assert_eq!(workflow["permissions"]["id-token"], "write", "OIDC");
    assert_eq!(
        workflow["permissions"]["security-events"], "write",
        "SARIF upload"
    );
    let on = &workflow["on"];
    assert!(on["schedule"][0]["cron"].is_string(), "scheduled: {on}");
    let steps = workflow["jobs"]["audit"]["steps"]
        .as_array()
        .expect("steps");
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter()
            .any(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("upload-sarif step");
    assert_eq!(upload["with"]["sarif_file"], "out/scan.sarif");
    let scan = steps
        .iter()
        .find(|s| s["id"] == "scan")
        .and_then(|s| s["run"].as_str())
        .expect("scan step");
    let args = command_line(
        scan,
        &[(
            "${{ steps.baseline.outputs.args }}",
            "--baseline baseline/scan.json",
        )],
    );
    assert!(args.iter().any(|a| a == "sarif=out/scan.sarif"), "{args:?}");
    assert_parses(&args);
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
    kms_audit::config::parse(config, "kms-audit.yaml").expect("the example config is valid");
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
    // The image's entrypoint is kms-audit; the args are its arguments, with no shell.
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
