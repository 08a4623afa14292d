//! Runs the real `kms-audit` binary the way a user or a scheduled job does.

use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_kms-audit");

/// Credentials the emulator accepts; moto maps unknown access keys to its default account.
pub const ACCESS_KEY: &str = "AKIAKMSAUDITTEST0001";
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
}

/// A command with a clean AWS environment: static test credentials, no profile, no stray config.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "KMS_AUDIT_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "kms-audit-test-secret")
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
