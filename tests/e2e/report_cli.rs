//! `kms-audit report SCAN.json` and the report flags of the real binary: every format to stdout,
//! `-o` files written atomically, exit codes 0/1/2/3 with `--fail-on` and `--new-only`,
//! suppressions and baseline, input errors as one line and exit 2, colour only on a terminal.

use crate::report_fixture;
use crate::support::cli::{Run, bin, command, run};

use std::path::Path;

use kms_audit::report::Format;
use report_fixture::{BASELINE, SCAN, SUPPRESSIONS};
use serde_json::Value;

/// `kms-audit ARGS...` from the crate root (where the fixture paths are relative to).
fn kms_audit(args: &[&str]) -> Run {
    let mut cmd = command();
    cmd.current_dir(report_fixture::root()).args(args);
    run(&mut cmd)
}

/// The fixture re-rendered with its suppressions and baseline: the command behind every sample.
fn sample_args(format: &str) -> Vec<&str> {
    vec![
        "report",
        SCAN,
        "--keep-findings",
        "--suppressions",
        SUPPRESSIONS,
        "--baseline",
        BASELINE,
        "--format",
        format,
    ]
}

fn assert_one_line_error(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {}", run.stderr);
    assert!(lines[0].starts_with("kms-audit: error: "), "{}", lines[0]);
    for needle in needles {
        assert!(lines[0].contains(needle), "'{needle}' in: {}", lines[0]);
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A copy of the fixture without coverage gaps (a complete scan), in `dir`.
fn complete_scan(dir: &Path) -> String {
    let mut report: Value = serde_json::from_str(
        &std::fs::read_to_string(report_fixture::fixture("scan.json")).expect("fixture"),
    )
    .expect("json");
    report["coverage_gaps"] = Value::Array(vec![]);
    if let Some(targets) = report["targets"].as_array_mut() {
        targets.retain(|t| t["status"] != "failed");
    }
    let path = dir.join("complete.json");
    std::fs::write(&path, report.to_string()).expect("write");
    path.display().to_string()
}

#[test]
fn report_renders_every_format_exactly_as_the_samples() {
    for format in Format::ALL {
        let run = kms_audit(&sample_args(format.as_str()));
        assert_eq!(
            run.code, 3,
            "the fixture has coverage gaps; stderr: {}",
            run.stderr
        );
        let sample = std::fs::read_to_string(
            report_fixture::root()
                .join("reports")
                .join(format!("sample.{}", format.extension())),
        )
        .expect("sample");
        assert!(
            run.stdout == sample,
            "{format} differs from the sample:\n{}",
            run.stdout
        );
    }
}

#[test]
fn several_reports_from_one_run_are_written_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let paths: Vec<(Format, String)> = Format::ALL
        .iter()
        .map(|f| {
            (
                *f,
                out.join(format!("scan.{}", f.extension()))
                    .display()
                    .to_string(),
            )
        })
        .collect();
    let mut args = vec!["report", SCAN, "--keep-findings", "--fail-on", "none"];
    let specs: Vec<String> = paths.iter().map(|(f, p)| format!("{f}={p}")).collect();
    for spec in &specs {
        args.push("-o");
        args.push(spec);
    }
    let run = kms_audit(&args);
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    for (format, path) in &paths {
        let text = std::fs::read_to_string(path).unwrap_or_else(|_| panic!("{format} file"));
        assert!(!text.is_empty());
        assert!(!text.contains('\x1b'), "files never get colour");
    }
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        Format::ALL.len(),
        "no temporary files left: {names:?}"
    );
    // With -o and no --format, stdout is the table for the job's log.
    assert!(
        run.stdout.contains("Findings by account and severity"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_report_file_that_cannot_be_written_is_exit_2_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("scan.json").display().to_string();
    let bad = dir
        .path()
        .join("missing-dir")
        .join("scan.sarif")
        .display()
        .to_string();
    let run = kms_audit(&[
        "report",
        SCAN,
        "--keep-findings",
        "-o",
        &format!("sarif={bad}"),
        "-o",
        &format!("json={good}"),
        "--format",
        "json",
    ]);
    // Checked before any work: no report is written, nothing is left behind.
    assert_one_line_error(
        &run,
        &["cannot write the sarif report to", &bad, "does not exist"],
    );
    assert!(!Path::new(&good).exists(), "no report at all");
    assert!(!Path::new(&bad).exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn exit_codes_follow_fail_on_new_only_and_coverage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let complete = complete_scan(dir.path());
    let code = |extra: &[&str]| {
        let mut args = vec![
            "report",
            complete.as_str(),
            "--keep-findings",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let run = kms_audit(&args);
        assert!(run.stderr.is_empty(), "{}", run.stderr);
        run.code
    };
    assert_eq!(
        code(&[]),
        1,
        "default --fail-on high; a critical and highs are there"
    );
    assert_eq!(code(&["--fail-on", "critical"]), 1);
    assert_eq!(code(&["--fail-on", "none"]), 0);
    // Against itself as the baseline every finding is existing: --new-only passes.
    assert_eq!(code(&["--baseline", &complete]), 1);
    assert_eq!(code(&["--baseline", &complete, "--new-only"]), 0);
    // Against the older baseline POL002 (high) and DRF001 (high) are new.
    assert_eq!(code(&["--baseline", BASELINE, "--new-only"]), 1);
    assert_eq!(
        code(&[
            "--baseline",
            BASELINE,
            "--new-only",
            "--fail-on",
            "critical"
        ]),
        0,
        "the critical finding is not new"
    );
    // The fixture itself has coverage gaps: 3 wins over 1 and over 0.
    for fail_on in ["high", "none"] {
        let run = kms_audit(&[
            "report",
            SCAN,
            "--keep-findings",
            "--fail-on",
            fail_on,
            "--format",
            "csv",
        ]);
        assert_eq!(run.code, 3, "{fail_on}: {}", run.stderr);
    }
}

#[test]
fn suppressed_findings_do_not_fail_the_run_and_expired_ones_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let complete = complete_scan(dir.path());
    let suppressions = dir.path().join("s.yaml");
    let write = |text: &str| std::fs::write(&suppressions, text).expect("write");
    let run_with = || {
        kms_audit(&[
            "report",
            &complete,
            "--keep-findings",
            "--fail-on",
            "critical",
            "--suppressions",
            suppressions.to_str().expect("utf-8"),
            "--format",
            "json",
        ])
    };
    write(
        "suppressions:\n  - check: POL001\n    key: alias/payments\n    reason: Public by design (a demo key)\n    expires: 2099-01-01\n",
    );
    let active = run_with();
    assert_eq!(
        active.code, 0,
        "the only critical finding is suppressed: {}",
        active.stderr
    );
    let report = active.json();
    let pol001 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check_id"] == "POL001")
        .expect("suppressed findings stay in the report");
    assert_eq!(
        pol001["suppressed"]["reason"],
        "Public by design (a demo key)"
    );
    assert_eq!(report["summary"]["findings"]["critical"], 0);

    write(
        "suppressions:\n  - check: POL001\n    key: alias/payments\n    reason: Public by design (a demo key)\n    expires: 2020-01-01\n",
    );
    let expired = run_with();
    assert_eq!(
        expired.code, 1,
        "an expired suppression no longer suppresses"
    );
    let report = expired.json();
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["check_id"] == "POL001" && f["suppressed"].is_null())
    );
    let sup = findings
        .iter()
        .find(|f| f["check_id"] == "SUP001")
        .expect("the expired suppression is reported");
    assert_eq!(sup["severity"], "low");
    assert_eq!(sup["spec"]["line"], 2);
}

#[test]
fn bad_inputs_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_suppressions = dir.path().join("s.yaml");
    std::fs::write(
        &bad_suppressions,
        "suppressions:\n  - check: ROT001\n    reason: x\n    expires: 2027-13-45\n",
    )
    .expect("write");
    let bad = bad_suppressions.to_str().expect("utf-8");
    let run = kms_audit(&["report", SCAN, "--suppressions", bad]);
    assert_one_line_error(&run, &[bad, "line 2", "`expires`"]);

    // `scan` checks it before any AWS call: the endpoint below would hang or fail otherwise.
    let run = kms_audit(&[
        "scan",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--regions",
        "us-east-1",
        "--suppressions",
        bad,
    ]);
    assert_one_line_error(&run, &[bad, "line 2"]);

    let run = kms_audit(&["report", "no-such-scan.json"]);
    assert_one_line_error(&run, &["could not read no-such-scan.json"]);

    let not_a_report = dir.path().join("x.json");
    std::fs::write(&not_a_report, "{\"hello\": 1}").expect("write");
    let run = kms_audit(&["report", not_a_report.to_str().expect("utf-8")]);
    assert_one_line_error(&run, &["is not a kms-audit JSON report"]);

    let run = kms_audit(&[
        "report",
        SCAN,
        "--baseline",
        not_a_report.to_str().expect("utf-8"),
    ]);
    assert_one_line_error(
        &run,
        &["invalid --baseline", "is not a kms-audit JSON report"],
    );

    let run = kms_audit(&["report", SCAN, "--new-only"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--baseline"), "{}", run.stderr);

    let run = kms_audit(&["report", SCAN, "--format", "pdf"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("sarif"),
        "lists the formats: {}",
        run.stderr
    );

    let run = kms_audit(&["report", SCAN, "-o", "pdf=x.pdf"]);
    run.assert_refused("unknown report format 'pdf'");
}

#[test]
fn without_keep_findings_the_saved_inventory_is_checked_again() {
    // No --spec is given, so the saved drift findings (DRF*) cannot come back.
    let run = kms_audit(&["report", SCAN, "--format", "json"]);
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let report = run.json();
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .all(|f| !f["check_id"].as_str().unwrap_or("").starts_with("DRF")),
        "{findings:?}"
    );
    assert_eq!(
        report["inventory"]["keys"].as_array().map(Vec::len),
        Some(9)
    );
}

#[test]
fn stdin_and_piped_stdout_default_to_json() {
    let text = std::fs::read_to_string(report_fixture::fixture("scan.json")).expect("fixture");
    let mut child = std::process::Command::new(bin())
        .current_dir(report_fixture::root())
        .args(["report", "-", "--keep-findings"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on a pipe");
    assert_eq!(report["schema_version"], "1");
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), so stdout is a TTY.
fn on_a_terminal(no_color: bool) -> String {
    let command_line = format!("{} report {SCAN} --keep-findings", bin().display());
    let mut cmd = std::process::Command::new("script");
    cmd.current_dir(report_fixture::root())
        .args(["-qec", &command_line, "/dev/null"])
        .env("TERM", "xterm-256color");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let output = cmd
        .output()
        .expect("util-linux `script` runs the binary on a pseudo-terminal; install util-linux");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let coloured = on_a_terminal(false);
    assert!(
        coloured.contains("Findings by account and severity"),
        "a table on a terminal: {coloured}"
    );
    assert!(coloured.contains("\x1b["), "colour on a terminal");
    let plain = on_a_terminal(true);
    assert!(
        plain.contains("Findings by account and severity"),
        "{plain}"
    );
    assert!(!plain.contains("\x1b["), "NO_COLOR: {plain}");
    // And never colour off a terminal, even without NO_COLOR.
    let mut cmd = command();
    cmd.current_dir(report_fixture::root())
        .env_remove("NO_COLOR")
        .args(["report", SCAN, "--keep-findings", "--format", "table"]);
    let piped = run(&mut cmd);
    assert!(!piped.stdout.contains('\x1b'), "{}", piped.stdout);
}
