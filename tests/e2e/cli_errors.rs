//! Bad input is one clear line on stderr and exit code 2, before any AWS call; never a panic.

use crate::support;

use support::cli::{command, run};

/// An endpoint nothing listens on: if the scanner ever sent a request there, it would hang on
/// retries or report a connection error instead of the input error the tests expect.
const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

fn assert_one_line_error(run: &support::cli::Run, needle: &str) {
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "nothing on stdout, got: {}",
        run.stdout
    );
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {}", run.stderr);
    assert!(lines[0].starts_with("kms-audit: error: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "'{needle}' in: {}", lines[0]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn unknown_region_is_rejected() {
    let run = run(command().args([
        "scan",
        "--endpoint-url",
        DEAD_ENDPOINT,
        "--regions",
        "us-east-1,mars-north-1",
    ]));
    assert_one_line_error(&run, "unknown region 'mars-north-1' in --regions");
}

#[test]
fn malformed_endpoint_url_is_rejected() {
    let no_scheme = run(command().args(["scan", "--endpoint-url", "localhost:4566"]));
    assert_one_line_error(&no_scheme, "invalid --endpoint-url 'localhost:4566'");
    let bad_port = run(command().args(["scan", "--endpoint-url", "http://localhost:99999"]));
    assert_one_line_error(&bad_port, "the port is not a number");
}

#[test]
fn missing_credentials_are_reported_with_what_to_do() {
    let mut cmd = command();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "scan",
            "--endpoint-url",
            DEAD_ENDPOINT,
            "--regions",
            "us-east-1",
        ]);
    let run = run(&mut cmd);
    assert_one_line_error(&run, "no usable AWS credentials");
    assert!(run.stderr.contains("--profile"), "{}", run.stderr);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let run = run(command().args(["scan", "--regoins", "us-east-1"]));
    run.assert_refused("unexpected argument '--regoins'");
    assert!(
        run.stderr.contains("--regions"),
        "suggests the right flag: {}",
        run.stderr
    );
}

#[test]
fn bad_output_and_limits_are_usage_errors() {
    let run_out = run(command().args(["scan", "-o", "pdf=report.pdf"]));
    run_out.assert_refused("unknown report format 'pdf'");
    let run_conc = run(command().args(["scan", "--concurrency", "0"]));
    run_conc.assert_refused("--concurrency");
}

#[test]
fn help_and_version_exit_zero() {
    let help = run(command().args(["scan", "--help"]));
    assert_eq!(help.code, 0);
    for flag in [
        "--regions",
        "--exclude-regions",
        "--endpoint-url",
        "--profile",
        "--format",
    ] {
        assert!(help.stdout.contains(flag), "--help mentions {flag}");
    }
    let version = run(command().arg("--version"));
    assert_eq!(version.code, 0);
    assert_eq!(
        version.stdout.trim(),
        format!("kms-audit {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_device_given_as_an_input_file_is_refused_at_once() {
    for (flag, needle) in [
        ("--config", "invalid config file /dev/zero"),
        ("--spec", "/dev/zero"),
        ("--suppressions", "/dev/zero"),
        ("--accounts-file", "/dev/zero"),
    ] {
        let run = run(command().args([
            "scan",
            "--endpoint-url",
            DEAD_ENDPOINT,
            "--regions",
            "us-east-1",
            flag,
            "/dev/zero",
        ]));
        assert_one_line_error(&run, needle);
        assert_eq!(
            run.stderr.matches("it is a device, not a file").count(),
            1,
            "{flag}: the reason once: {}",
            run.stderr
        );
    }
}
