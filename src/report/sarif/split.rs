//! SARIF for GitHub code scanning at organization scale: one file per account, each its own
//! category, never over GitHub's limits, and never a file for an account that was not scanned.
//!
//! - **One run per file, one file per account**, category `<prefix>/<org-or-account>/<account>`.
//!   GitHub closes every alert of a category that an upload leaves out, so each account is
//!   uploaded (and closed) on its own.
//! - **Limits.** GitHub rejects a run of more than 25,000 results and a file over 10 MB
//!   compressed. An account over either is split by region
//!   (`.../<account>/<region>`), a region over either by check (`.../<region>/<check>`), and a
//!   check over either into 2, 4, 8… buckets by fingerprint (`.../<check>/<i>`): powers of two,
//!   so when the count grows a bucket only ever hands results to a new bucket. Sizes are exact:
//!   every result is measured as it will be written.
//! - **Accounts not (fully) scanned are skipped**: a failed target or any coverage gap in the
//!   account means no file, so its alerts stay as they were instead of being closed as fixed.
//!   The manifest (`index.json`) lists every file written with its category, and every account
//!   skipped with the reason; a workflow uploads exactly the files it lists.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    ByteCounter, MAX_RESULTS_PER_RUN, Rules, RunSpec, SarifOptions, result_len, write_log,
};
use crate::model::{Finding, Report, TargetStatus};

/// The limits every file of a split stays within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Results in the file's one run.
    pub results_per_run: usize,
    /// Bytes of the file as written. GitHub takes up to 10 MB gzip-compressed; gzip never makes
    /// a file more than a few bytes larger, so a file under this budget fits whatever its
    /// compression ratio.
    pub file_bytes: u64,
}

/// GitHub code scanning's limits, with the file budget a little under 10 MB.
pub const GITHUB_LIMITS: Limits = Limits {
    results_per_run: MAX_RESULTS_PER_RUN,
    file_bytes: 9_500_000,
};

/// The name of the manifest of a split directory.
pub const MANIFEST: &str = "index.json";

/// Buckets are doubled up to this many per check before giving up (a single result larger than
/// the file budget).
const MAX_BUCKETS: u32 = 4096;

/// The manifest of a split: what was written, under which category, and what was not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub organization_id: Option<String>,
    /// Whether the files carry `automationDetails.id` (else pass `category` to the uploader).
    pub automation_details: bool,
    pub limits: Limits,
    pub runs_per_file: usize,
    pub files: Vec<FileEntry>,
    /// Accounts with no file: their alerts must stay as they were.
    pub skipped: Vec<SkippedAccount>,
    /// Suppressed findings left out (see `--sarif-keep-suppressed`).
    pub suppressed_left_out: usize,
}

/// One SARIF file of a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The file name, in the split directory.
    pub file: String,
    /// The code scanning category to upload it under.
    pub category: String,
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// `i/n`: bucket i of n of the check's results, by fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    pub results: usize,
    pub bytes: u64,
}

/// An account whose SARIF was not written, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedAccount {
    pub account: String,
    /// The category its file would have had.
    pub category: String,
    pub reason: String,
}

/// Which slice of an account a part holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartKey {
    account: String,
    region: Option<String>,
    check: Option<String>,
    /// (i, n): bucket i of n.
    bucket: Option<(u32, u32)>,
}

impl PartKey {
    fn segments(&self) -> Vec<String> {
        let mut segments = vec![self.account.clone()];
        segments.extend(self.region.clone());
        segments.extend(self.check.clone());
        segments.extend(self.bucket.map(|(i, _)| i.to_string()));
        segments
    }

    fn category(&self, prefix: &str, scope: &str) -> String {
        format!("{prefix}/{scope}/{}", self.segments().join("/"))
    }

    fn file_name(&self) -> String {
        let name: Vec<String> = self.segments().iter().map(|s| file_safe(s)).collect();
        format!("{}.sarif", name.join("."))
    }
}

/// A segment of a file name: letters, digits, `-` and `_` only.
fn file_safe(segment: &str) -> String {
    segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One planned file.
struct Part<'a> {
    key: PartKey,
    findings: Vec<&'a Finding>,
    bytes: u64,
}

/// What a split will write.
struct Plan<'a> {
    parts: Vec<Part<'a>>,
    skipped: Vec<SkippedAccount>,
    left_out: usize,
}

/// Sizes parts exactly: the run without results, plus each result, plus the commas.
struct Sizer<'r> {
    report: &'r Report,
    rules: &'r Rules,
    options: &'r SarifOptions,
    scope: &'r str,
    limits: Limits,
    /// Each result's bytes, by the finding's address (measured once).
    sizes: HashMap<*const Finding, u64>,
}

impl Sizer<'_> {
    fn run<'f>(&self, key: &PartKey, findings: &'f [&'f Finding]) -> RunSpec<'f> {
        RunSpec {
            category: self
                .options
                .automation_details
                .then(|| key.category(&self.options.category_prefix, self.scope)),
            findings,
            with_gaps: false,
            properties: part_properties(self.report, key),
        }
    }

    fn bytes(&mut self, key: &PartKey, findings: &[&Finding]) -> u64 {
        let mut counter = ByteCounter(0);
        // Counting cannot fail.
        let _ = write_log(
            self.report,
            self.rules,
            &self.run(key, &[]),
            false,
            &mut counter,
        );
        let mut total = counter.0;
        for finding in findings {
            let rules = self.rules;
            total += *self
                .sizes
                .entry(*finding as *const Finding)
                .or_insert_with(|| result_len(finding, rules));
        }
        total + findings.len().saturating_sub(1) as u64
    }

    /// The part when it fits the limits.
    fn fit<'a>(
        &mut self,
        key: PartKey,
        findings: Vec<&'a Finding>,
    ) -> Result<Part<'a>, Vec<&'a Finding>> {
        if findings.len() > self.limits.results_per_run {
            return Err(findings);
        }
        let bytes = self.bytes(&key, &findings);
        if bytes > self.limits.file_bytes {
            return Err(findings);
        }
        Ok(Part {
            key,
            findings,
            bytes,
        })
    }
}

fn part_properties(report: &Report, key: &PartKey) -> Value {
    let mut properties = Map::new();
    if let Some(org) = &report.organization_id {
        properties.insert("organization_id".into(), Value::from(org.clone()));
    }
    properties.insert("account".into(), Value::from(key.account.clone()));
    if let Some(region) = &key.region {
        properties.insert("region".into(), Value::from(region.clone()));
    }
    if let Some(check) = &key.check {
        properties.insert("check".into(), Value::from(check.clone()));
    }
    if let Some((i, n)) = key.bucket {
        properties.insert("bucket".into(), Value::from(format!("{i}/{n}")));
    }
    properties.insert("incomplete".into(), Value::from(false));
    Value::Object(properties)
}

/// Why each account that was not fully scanned has no file: its first gap, else its first
/// failed target.
fn incomplete_accounts(report: &Report) -> BTreeMap<&str, String> {
    let mut reasons = BTreeMap::new();
    for gap in &report.coverage_gaps {
        reasons.entry(gap.account.as_str()).or_insert_with(|| {
            let mut place = String::new();
            for part in [&gap.region, &gap.key_arn].into_iter().flatten() {
                place.push_str(" in ");
                place.push_str(part);
            }
            format!(
                "coverage gap: {} failed{place}: {}",
                gap.operation, gap.reason
            )
        });
    }
    for target in &report.targets {
        if target.status == TargetStatus::Failed {
            reasons.entry(target.account.as_str()).or_insert_with(|| {
                format!(
                    "{} was not scanned: {}",
                    target.region,
                    target.reason.as_deref().unwrap_or("failed")
                )
            });
        }
    }
    reasons
}

/// A stable hash of a fingerprint (FNV-1a), for buckets.
fn bucket_of(finding: &Finding, buckets: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in finding.fingerprint.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % u64::from(buckets)) as u32
}

fn plan<'a>(
    report: &'a Report,
    rules: &Rules,
    options: &SarifOptions,
    limits: Limits,
) -> std::io::Result<Plan<'a>> {
    let scope = super::scope(report);
    let incomplete = incomplete_accounts(report);
    let mut by_account: BTreeMap<&str, Vec<&Finding>> = report
        .targets
        .iter()
        .map(|t| (t.account.as_str(), Vec::new()))
        .collect();
    // An account known only from a coverage gap is listed as skipped too.
    for account in incomplete.keys() {
        by_account.entry(account).or_default();
    }
    let mut left_out = 0;
    for finding in &report.findings {
        if options.includes(finding) {
            by_account
                .entry(finding.account.as_str())
                .or_default()
                .push(finding);
        } else {
            left_out += 1;
        }
    }
    // Every result is measured once, on every core, before the accounts are split.
    let included: Vec<&Finding> = by_account.values().flatten().copied().collect();
    let lengths = crate::model::parallel::map(&included, |finding| result_len(finding, rules));
    let mut sizer = Sizer {
        report,
        rules,
        options,
        scope,
        limits,
        sizes: included
            .iter()
            .zip(lengths)
            .map(|(finding, len)| (*finding as *const Finding, len))
            .collect(),
    };
    let mut plan = Plan {
        parts: Vec::new(),
        skipped: Vec::new(),
        left_out,
    };
    for (account, findings) in by_account {
        let whole = PartKey {
            account: account.to_string(),
            region: None,
            check: None,
            bucket: None,
        };
        if let Some(reason) = incomplete.get(account) {
            plan.skipped.push(SkippedAccount {
                account: account.to_string(),
                category: whole.category(&options.category_prefix, scope),
                reason: reason.clone(),
            });
            continue;
        }
        split_account(report, &mut sizer, &mut plan, whole, findings)?;
    }
    Ok(plan)
}

/// One scanned account's parts: the whole account when it fits, else one part per region (every
/// scanned region gets its part, so fixed alerts there close), then per check, then buckets.
fn split_account<'a>(
    report: &'a Report,
    sizer: &mut Sizer<'_>,
    plan: &mut Plan<'a>,
    whole: PartKey,
    findings: Vec<&'a Finding>,
) -> std::io::Result<()> {
    let account = whole.account.clone();
    let findings = match sizer.fit(whole.clone(), findings) {
        Ok(part) => {
            plan.parts.push(part);
            return Ok(());
        }
        Err(findings) => findings,
    };
    let mut regions: BTreeSet<&str> = report
        .targets
        .iter()
        .filter(|t| t.account == account && t.status == TargetStatus::Scanned)
        .map(|t| t.region.as_str())
        .collect();
    regions.extend(findings.iter().map(|f| f.region.as_str()));
    for region in regions {
        let key = PartKey {
            region: Some(region.to_string()),
            ..whole.clone()
        };
        let in_region: Vec<&Finding> = findings
            .iter()
            .copied()
            .filter(|f| f.region == region)
            .collect();
        match sizer.fit(key.clone(), in_region) {
            Ok(part) => plan.parts.push(part),
            Err(in_region) => split_region(sizer, plan, &key, &in_region)?,
        }
    }
    Ok(())
}

/// A region too large for one part: one part per check, and buckets for a check still too large.
fn split_region<'a>(
    sizer: &mut Sizer<'_>,
    plan: &mut Plan<'a>,
    key: &PartKey,
    in_region: &[&'a Finding],
) -> std::io::Result<()> {
    let checks: BTreeSet<&str> = in_region.iter().map(|f| f.check_id.as_str()).collect();
    for check in checks {
        let key = PartKey {
            check: Some(check.to_string()),
            ..key.clone()
        };
        let of_check: Vec<&Finding> = in_region
            .iter()
            .copied()
            .filter(|f| f.check_id == check)
            .collect();
        match sizer.fit(key.clone(), of_check) {
            Ok(part) => plan.parts.push(part),
            Err(of_check) => plan.parts.extend(buckets(sizer, &key, &of_check)?),
        }
    }
    Ok(())
}

/// The check's results in the fewest power-of-two buckets that all fit.
fn buckets<'a>(
    sizer: &mut Sizer<'_>,
    key: &PartKey,
    findings: &[&'a Finding],
) -> std::io::Result<Vec<Part<'a>>> {
    let mut n = 2;
    while n <= MAX_BUCKETS {
        let mut groups: Vec<Vec<&Finding>> = vec![Vec::new(); n as usize];
        for finding in findings {
            groups[bucket_of(finding, n) as usize].push(finding);
        }
        let mut parts = Vec::new();
        for (i, group) in groups.into_iter().enumerate() {
            let key = PartKey {
                bucket: Some((i as u32, n)),
                ..key.clone()
            };
            match sizer.fit(key, group) {
                Ok(part) => parts.push(part),
                Err(_) => break,
            }
        }
        if parts.len() == n as usize {
            return Ok(parts);
        }
        n *= 2;
    }
    Err(std::io::Error::other(format!(
        "the {} results of {} cannot be split under GitHub's limits",
        findings.len(),
        key.segments().join("/")
    )))
}

/// Writes the report as one SARIF file per account (and smaller parts where needed) into
/// `dir`, then its manifest, each atomically. Files that the previous manifest in `dir` listed
/// and this split does not write are removed, so a directory reused across runs holds exactly
/// what the manifest lists.
pub fn write_split(
    report: &Report,
    options: &SarifOptions,
    dir: &Path,
) -> std::io::Result<Manifest> {
    write_split_with(report, options, dir, GITHUB_LIMITS)
}

/// [`write_split`] under other limits (tests).
pub fn write_split_with(
    report: &Report,
    options: &SarifOptions,
    dir: &Path,
    limits: Limits,
) -> std::io::Result<Manifest> {
    let rules = Rules::of(report);
    let plan = plan(report, &rules, options, limits)?;
    std::fs::create_dir_all(dir)?;
    let scope = super::scope(report);
    let previous = read_manifest(&dir.join(MANIFEST)).ok();
    // The files are independent: written on every core, listed in plan order.
    let written = crate::model::parallel::map_large(&plan.parts, 1, |part| {
        let file = part.key.file_name();
        let run = RunSpec {
            category: options
                .automation_details
                .then(|| part.key.category(&options.category_prefix, scope)),
            findings: &part.findings,
            with_gaps: false,
            properties: part_properties(report, &part.key),
        };
        crate::report::write_atomic_with(&dir.join(&file), |out| {
            write_log(report, &rules, &run, false, out)
        })?;
        Ok(FileEntry {
            file,
            category: part.key.category(&options.category_prefix, scope),
            account: part.key.account.clone(),
            region: part.key.region.clone(),
            check: part.key.check.clone(),
            bucket: part.key.bucket.map(|(i, n)| format!("{i}/{n}")),
            results: part.findings.len(),
            bytes: part.bytes,
        })
    });
    let files = written
        .into_iter()
        .collect::<std::io::Result<Vec<FileEntry>>>()?;
    for skipped in &plan.skipped {
        tracing::warn!(
            "SARIF: no file for account {} ({}); its code scanning alerts are left as they were",
            skipped.account,
            skipped.reason
        );
    }
    let manifest = Manifest {
        tool: report.tool.name.clone(),
        version: report.tool.version.clone(),
        organization_id: report.organization_id.clone(),
        automation_details: options.automation_details,
        limits,
        runs_per_file: 1,
        files,
        skipped: plan.skipped,
        suppressed_left_out: plan.left_out,
    };
    let mut text = serde_json::to_vec_pretty(&manifest)?;
    text.push(b'\n');
    crate::report::write_atomic(&dir.join(MANIFEST), &text)?;
    if let Some(previous) = previous {
        let current: BTreeSet<&str> = manifest.files.iter().map(|f| f.file.as_str()).collect();
        for old in &previous.files {
            // Only plain file names that a split writes.
            let plain = old.file.ends_with(".sarif")
                && !old.file.contains(['/', '\\'])
                && !old.file.starts_with('.');
            if plain && !current.contains(old.file.as_str()) {
                let _ = std::fs::remove_file(dir.join(&old.file));
            }
        }
    }
    Ok(manifest)
}

/// Reads the manifest of a split directory.
pub fn read_manifest(path: &Path) -> std::io::Result<Manifest> {
    let text = std::fs::read(path)?;
    serde_json::from_slice(&text).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests;
