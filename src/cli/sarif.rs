//! SARIF flags for GitHub code scanning (`--sarif-split`, `--sarif-category`,
//! `--sarif-omit-category`, `--sarif-keep-suppressed`), and where `-o sarif=` writes.

use std::path::Path;

use clap::{Args, ValueEnum};

use crate::report::sarif::{DEFAULT_CATEGORY_PREFIX, SarifOptions};
use crate::report::{Format, OutputTarget};

#[derive(Debug, Clone, Args)]
pub struct SarifArgs {
    /// How -o sarif=PATH is written: none (one file) or account (PATH is a directory of one file
    /// per account, each its own code scanning category, split further when an account exceeds
    /// GitHub's limits, with an index.json). `-o sarif=DIR/` (trailing slash) implies account.
    #[arg(long, value_enum, default_value_t = SarifSplit::None, value_name = "HOW")]
    pub sarif_split: SarifSplit,
    /// The first segment of every SARIF category: PREFIX/<org-or-account>[/<account>...].
    #[arg(long, default_value = DEFAULT_CATEGORY_PREFIX, value_name = "PREFIX", value_parser = parse_prefix)]
    pub sarif_category: String,
    /// Write no automationDetails in SARIF: the uploader's `category` applies.
    #[arg(long)]
    pub sarif_omit_category: bool,
    /// Keep suppressed findings in SARIF, with a `suppressions` entry (GitHub still shows them as
    /// open alerts unless a step dismisses them; by default they are left out).
    #[arg(long)]
    pub sarif_keep_suppressed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SarifSplit {
    None,
    Account,
}

fn parse_prefix(text: &str) -> Result<String, String> {
    let text = text.trim_end_matches('/');
    if text.is_empty() {
        return Err("the category prefix is empty (use --sarif-omit-category to leave the category to the uploader)".into());
    }
    Ok(text.to_string())
}

impl SarifArgs {
    pub fn options(&self) -> SarifOptions {
        SarifOptions {
            category_prefix: self.sarif_category.clone(),
            automation_details: !self.sarif_omit_category,
            keep_suppressed: self.sarif_keep_suppressed,
        }
    }

    /// Whether `-o sarif=PATH` writes a split directory.
    pub fn is_split(&self, target: &OutputTarget) -> bool {
        target.format == Format::Sarif
            && (self.sarif_split == SarifSplit::Account || names_directory(&target.path))
    }

    /// `--sarif-split account` needs a `-o sarif=DIR`: checked before any work.
    pub fn check(&self, stdout: Option<Format>, outputs: &[OutputTarget]) -> anyhow::Result<()> {
        if self.sarif_split == SarifSplit::Account
            && !outputs.iter().any(|o| o.format == Format::Sarif)
        {
            anyhow::bail!(
                "--sarif-split account writes a directory: add -o sarif=DIR/ (stdout{} gets one file)",
                if stdout == Some(Format::Sarif) {
                    " with --format sarif"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }
}

/// `DIR/` (a trailing separator) or an existing directory.
fn names_directory(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) || path.is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(split: SarifSplit) -> SarifArgs {
        SarifArgs {
            sarif_split: split,
            sarif_category: DEFAULT_CATEGORY_PREFIX.into(),
            sarif_omit_category: false,
            sarif_keep_suppressed: false,
        }
    }

    #[test]
    fn a_trailing_slash_or_the_flag_makes_a_split() {
        let dir: OutputTarget = "sarif=out/sarif/".parse().expect("target");
        let file: OutputTarget = "sarif=out/scan.sarif".parse().expect("target");
        let json: OutputTarget = "json=out/".parse().expect("target");
        assert!(args(SarifSplit::None).is_split(&dir));
        assert!(!args(SarifSplit::None).is_split(&file));
        assert!(args(SarifSplit::Account).is_split(&file));
        assert!(!args(SarifSplit::Account).is_split(&json));
    }

    #[test]
    fn a_split_needs_a_sarif_output() {
        let file: OutputTarget = "sarif=out".parse().expect("target");
        assert!(args(SarifSplit::Account).check(None, &[file]).is_ok());
        let err = args(SarifSplit::Account)
            .check(Some(Format::Sarif), &[])
            .expect_err("no directory");
        assert!(err.to_string().contains("-o sarif=DIR/"), "{err}");
        assert!(args(SarifSplit::None).check(None, &[]).is_ok());
    }

    #[test]
    fn prefixes_lose_trailing_slashes_and_cannot_be_empty() {
        assert_eq!(parse_prefix("acme/kms/"), Ok("acme/kms".to_string()));
        assert!(parse_prefix("/").is_err());
    }
}
