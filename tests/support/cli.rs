//! Runs the real `kms-audit` binary the way a user or a scheduled job does.

use std::process::{Command, Output};

/// Set by cargo for integration tests; examples that share this harness find the binary beside them.
pub const BIN: Option<&str> = option_env!("CARGO_BIN_EXE_kms-audit");

/// The kms-audit binary: cargo's for tests, else the one next to the running example.
pub fn bin() -> std::path::PathBuf {
    if let Some(bin) = BIN {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/<example> → target/<profile>/kms-audit
    exe.parent()
        .and_then(|examples| examples.parent())
        .map(|profile| profile.join("kms-audit"))
        .expect("kms-audit binary location")
}

/// Credentials the emulator accepts; moto maps unknown access keys to its default account.
pub const ACCESS_KEY: &str = "AKIAKMSAUDITTEST0001";
pub const SECRET_KEY: &str = "kms-audit-test-secret";
pub const DEFAULT_ACCOUNT: &str = "123456789012";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The run was refused as bad input: exit code 2, and `why` on stderr.
    #[track_caller]
    pub fn assert_refused(&self, why: &str) {
        assert_eq!(self.code, 2, "exit code; stderr: {}", self.stderr);
        assert!(
            self.stderr.contains(why),
            "{why:?} not in stderr: {}",
            self.stderr
        );
    }
}

/// A command with a clean AWS environment: static test credentials, no profile, no stray config.
pub fn command() -> Command {
    let mut cmd = Command::new(bin());
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "KMS_AUDIT_LOG",
        "COLUMNS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    cmd
}

pub fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("could not run kms-audit");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `kms-audit ARGS...` against an endpoint.
pub fn kms_audit(endpoint: &str, args: &[&str]) -> Run {
    let mut cmd = command();
    cmd.args(args).arg("--endpoint-url").arg(endpoint);
    run(&mut cmd)
}

/// The JSON report of `kms-audit ARGS... --format json --fail-on none` against an endpoint,
/// which must exit 0.
#[track_caller]
pub fn json_report(endpoint: &str, args: &[&str]) -> serde_json::Value {
    let run = kms_audit(
        endpoint,
        &[args, &["--format", "json", "--fail-on", "none"]].concat(),
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run.json()
}

/// A JSON report's targets as (region, status), in the report's order.
pub fn target_statuses(report: &serde_json::Value) -> Vec<(&str, &str)> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["region"].as_str().unwrap_or(""),
                t["status"].as_str().unwrap_or(""),
            )
        })
        .collect()
}
