//! Flags shared by `scan` and `report` that shape the analysis, loaded and validated before any
//! AWS call (a bad file is exit 2 and nothing is scanned).
//!
//! Add further analysis inputs here (e.g. `--spec`, `--config`) so both commands get them.

use std::path::PathBuf;

use clap::Args;

use crate::analysis::AnalysisInputs;
use crate::analysis::baseline::Baseline;
use crate::analysis::suppress::Suppressions;

#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// Config file (YAML): trusted_accounts, organization_id, max_rotation_period_days,
    /// required_tags, report_unmanaged, per-check `enabled` / `severity` (by id or name),
    /// concurrency, regions. Unknown keys and bad values are errors naming file, line and field.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Suppressions file (YAML): accepted findings, each with a check, optional key / account /
    /// region patterns, a reason and an expiry date. Suppressed findings stay in the reports but
    /// do not fail the run; an expired suppression no longer suppresses and is reported (SUP001).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// An earlier JSON report: each finding is marked new or existing (by fingerprint) and the
    /// findings that are gone are listed as resolved.
    #[arg(long, value_name = "SCAN.json")]
    pub baseline: Option<PathBuf>,
    /// Declared specs to compare the live keys with (repeatable): kms-audit YAML/JSON spec files
    /// or directories, Terraform / OpenTofu state (v4), `terraform show -json` of a state or a
    /// plan, Pulumi stack exports. Drift findings (DRF001–DRF006) point at the spec's file and
    /// line; a declared key the scan did not cover is a coverage gap. Checked before any AWS call.
    #[arg(long = "spec", value_name = "PATH")]
    pub specs: Vec<PathBuf>,
    /// Declared keys in accounts or regions the scan did not cover are expected: list them as
    /// not evaluated, but not as coverage gaps (no exit 3 for them). Without it, only a region
    /// left out with --regions / --exclude-regions (or the config's `regions`) is explained.
    #[arg(long)]
    pub spec_scope_ignore: bool,
}

impl AnalysisArgs {
    /// Reads and validates every input file.
    pub fn load(&self) -> anyhow::Result<AnalysisInputs> {
        let mut inputs = AnalysisInputs::default();
        if let Some(path) = &self.config {
            inputs.config = crate::inputs::config::load(path, crate::analysis::catalog())?;
        }
        if !self.specs.is_empty() {
            let mut specs = crate::inputs::spec::load(&self.specs)?;
            specs.forget_field_sources();
            for warning in &specs.warnings {
                tracing::warn!("{warning}");
            }
            inputs.specs = Some(specs);
        }
        inputs.spec_scope = crate::analysis::drift::Scope {
            ignore: self.spec_scope_ignore,
            regions: inputs.config.regions.clone(),
            exclude_regions: Vec::new(),
        };
        if let Some(path) = &self.suppressions {
            inputs.suppressions = Some(Suppressions::load(path)?);
        }
        if let Some(path) = &self.baseline {
            inputs.baseline = Some(
                Baseline::load(path).map_err(|err| anyhow::anyhow!("invalid --baseline: {err}"))?,
            );
        }
        Ok(inputs)
    }
}
