//! Named profiles: a `--profile` (or `AWS_PROFILE`) that names no profile is refused before any
//! AWS call, naming the files looked at. The SDK would otherwise fall back silently to
//! environment credentials, or fail later with its generic "no credentials" text.

use std::path::PathBuf;

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use super::AwsSetupError;

/// Where the SDK reads profiles from: `AWS_CONFIG_FILE` (else `~/.aws/config`) and
/// `AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`).
pub fn profile_files() -> [PathBuf; 2] {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(|v| expand_home(PathBuf::from(v), home.as_ref()))
            .unwrap_or_else(|| match &home {
                Some(home) => home.join(".aws").join(default),
                None => PathBuf::from("~/.aws").join(default),
            })
    };
    [
        file("AWS_CONFIG_FILE", "config"),
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ]
}

fn expand_home(path: PathBuf, home: Option<&PathBuf>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path,
    }
}

/// Checks that `profile` is defined in the AWS config or credentials file; `flag` says where
/// the name came from (`--profile`, `AWS_PROFILE`).
pub async fn check_profile_exists(profile: &str, flag: &str) -> Result<(), AwsSetupError> {
    let files = profile_files();
    let shown = format!("{} or {}", files[0].display(), files[1].display());
    let set =
        aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
            .await
            .map_err(|err| AwsSetupError::ProfileFiles {
                files: shown.clone(),
                why: super::errors::error_chain(&err),
            })?;
    if set.get_profile(profile).is_some() {
        return Ok(());
    }
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort_unstable();
    Err(AwsSetupError::NoSuchProfile {
        profile: profile.to_string(),
        flag: flag.to_string(),
        files: shown,
        known: if names.is_empty() {
            "they define no profile".to_string()
        } else {
            format!("profiles there: {}", names.join(", "))
        },
    })
}
