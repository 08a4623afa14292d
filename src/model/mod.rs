//! The plain data every stage passes on: the inventory of keys, coverage, findings and the report.
//!
//! Field names are the stable JSON contract of the JSON report (docs/json-report.md); renaming one is a
//! breaking change for every dashboard that ingests kms-audit output.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod compact_json;
mod evidence;
pub mod iam;
mod policy_document;
mod tags;

pub mod access;
pub mod arn;
pub mod parallel;
pub mod regions;
pub mod saved_report;
pub mod timestamp;

pub use compact_json::TextInterner;
pub use evidence::Evidence;
pub use policy_document::PolicyDocument;
pub use tags::Tags;

/// A short string (an account id, a region, a key state, a date) stored inline when it fits in
/// 24 bytes: an inventory holds hundreds of thousands of them, and a heap allocation each would
/// cost more than the text.
pub type Text = compact_str::CompactString;

/// Version of the JSON report layout; bumped only on incompatible changes.
pub const SCHEMA_VERSION: &str = "1";

/// Everything collected about the keys of all scanned targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Inventory {
    pub keys: Vec<KeyRecord>,
    /// Each scanned account's IAM authorization details, read once per account
    /// (`iam:GetAccountAuthorizationDetails`). `None`: IAM was not read (`--no-iam`, or a report
    /// of an older kms-audit); an account missing from the list could not be read, and has a
    /// coverage gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<Vec<iam::AccountAuthorizationDetails>>,
}

impl Inventory {
    /// Makes equal key policies one allocation. The keys of an account mostly carry the same
    /// few policies (the default one, a team's template), so a 100,000-key inventory holds
    /// about a tenth of the policy texts it read.
    pub fn share_equal_policies(&mut self) {
        let mut interner = compact_json::TextInterner::default();
        for key in &mut self.keys {
            if let Some(policy) = &mut key.policy {
                policy.share_with(&mut interner);
            }
        }
    }

    /// The IAM details of `account`, when they were read.
    pub fn iam_of(&self, account: &str) -> Option<&iam::AccountAuthorizationDetails> {
        self.iam.as_ref()?.iter().find(|d| d.account == account)
    }
}

/// One KMS key as read from AWS. `None` fields are either not applicable or listed in `unknown`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyRecord {
    pub arn: String,
    pub key_id: String,
    #[schemars(with = "String")]
    pub account: Text,
    #[schemars(with = "String")]
    pub region: Text,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[schemars(with = "Option<String>")]
    pub key_state: Option<Text>,
    #[schemars(with = "Option<String>")]
    pub key_manager: Option<Text>,
    #[schemars(with = "Option<String>")]
    pub key_spec: Option<Text>,
    #[schemars(with = "Option<String>")]
    pub key_usage: Option<Text>,
    #[schemars(with = "Option<String>")]
    pub origin: Option<Text>,
    /// Set for keys in a CloudHSM or external key store (rotation never applies to them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    pub description: Option<String>,
    #[schemars(with = "Option<String>")]
    pub creation_date: Option<Text>,
    #[schemars(with = "Option<String>")]
    pub deletion_date: Option<Text>,
    /// `None` when automatic rotation does not apply to the key (or it could not be read: see `unknown`).
    pub rotation: Option<Rotation>,
    // Boxed: most keys are single-region, and the record is held for every key of an estate.
    #[schemars(with = "Option<MultiRegion>")]
    pub multi_region: Option<Box<MultiRegion>>,
    /// The key policy document, written compact (on one line) in JSON reports.
    pub policy: Option<PolicyDocument>,
    #[serde(default)]
    pub tags: Tags,
    /// `None` for AWS-managed keys (not collected) or when unreadable (see `unknown`).
    pub grants: Option<Vec<Grant>>,
    /// Fields that could not be read; each has a coverage gap.
    #[serde(default)]
    pub unknown: Vec<String>,
}

impl KeyRecord {
    pub fn is_customer_managed(&self) -> bool {
        self.key_manager.as_deref() == Some("CUSTOMER")
    }

    /// The first alias, else the key id: how a person recognises the key in a table.
    pub fn display_name(&self) -> &str {
        self.aliases
            .first()
            .map_or(self.key_id.as_str(), String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rotation {
    pub enabled: bool,
    pub period_days: Option<u32>,
    #[schemars(with = "Option<String>")]
    pub next_rotation_date: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MultiRegion {
    #[serde(rename = "type")]
    pub key_type: MultiRegionKeyType,
    pub primary_arn: String,
    #[serde(default)]
    pub replica_arns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum MultiRegionKeyType {
    Primary,
    Replica,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Grant {
    pub grant_id: String,
    pub name: Option<String>,
    pub grantee_principal: Option<String>,
    pub retiring_principal: Option<String>,
    pub issuing_account: Option<String>,
    #[serde(default)]
    pub operations: Vec<String>,
    pub constraints: Option<Value>,
    pub creation_date: Option<String>,
}

/// One account × region the scan tried to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Target {
    pub account: String,
    pub region: String,
    pub status: TargetStatus,
    /// Why the target was skipped or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    /// Every key was listed (individual fields may still be unknown).
    Scanned,
    /// The region or account could not be read: a coverage gap.
    Failed,
    /// Not applicable, e.g. an opt-in region that is not enabled for the account. Not a gap.
    Skipped,
}

/// Something the scan could not read. An audit that could not look everywhere must say so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CoverageGap {
    pub account: String,
    pub region: Option<String>,
    pub key_arn: Option<String>,
    /// The AWS operation that failed, e.g. `AssumeRole` or `GetKeyPolicy`.
    pub operation: String,
    /// The AWS error code when there was one, e.g. `AccessDeniedException`.
    #[serde(default)]
    pub error_code: Option<String>,
    pub reason: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity '{other}' (expected critical, high, medium, low or info)"
            )),
        }
    }
}

/// Where a declared key lives in a spec file, so drift findings point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SpecLocation {
    pub file: String,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Suppressed {
    pub reason: String,
    pub expires: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Existing,
}

/// One problem on one key (or one declared key), with everything needed to act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    #[schemars(with = "String")]
    pub check_id: Text,
    #[schemars(with = "String")]
    pub name: Text,
    pub severity: Severity,
    #[schemars(with = "String")]
    pub account: Text,
    #[schemars(with = "String")]
    pub region: Text,
    pub key_arn: Option<String>,
    /// The resource a finding that is not about a key is about: the ARN of an IAM policy
    /// (IAM001) or of the user, group or role an inline policy is embedded in (IAM002).
    /// Absent on key findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The keys a finding on an IAM identity covers: POL004 and POL005 report access that the
    /// identity's IAM policies alone give once for every key it reaches, and list those keys'
    /// ARNs here, in inventory order. Absent on every other finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<String>>")]
    pub keys: Option<Box<[String]>>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub message: String,
    #[serde(default)]
    pub evidence: Evidence,
    pub remediation: String,
    pub fingerprint: String,
    #[serde(default)]
    // Boxed, as `suppressed`: most findings have neither, and a scan holds every finding.
    #[schemars(with = "Option<SpecLocation>")]
    pub spec: Option<Box<SpecLocation>>,
    #[serde(default)]
    #[schemars(with = "Option<Suppressed>")]
    pub suppressed: Option<Box<Suppressed>>,
    #[serde(default)]
    pub baseline: Option<BaselineState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "kms-audit".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub keys: u64,
    /// Unsuppressed findings per severity; every severity is always present.
    pub findings: BTreeMap<Severity, u64>,
    pub accounts: u64,
    pub regions: u64,
    pub gaps: u64,
    pub duration_ms: u64,
    /// Requests sent, by `service:Operation` (retries included: that is what quotas see).
    pub api_calls: BTreeMap<String, u64>,
    /// The declared specs compared with the inventory, when there were any (`--spec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specs: Option<SpecSummary>,
}

/// What became of the declared keys: a spec key outside the scanned scope is counted and
/// listed, never passed over in silence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpecSummary {
    pub declared: u64,
    /// Found among the live keys (and compared).
    pub matched: u64,
    /// Not found where the scan looked (DRF001).
    pub missing: u64,
    /// Not evaluated: their account and region were not scanned, failed, or could not be
    /// searched by alias.
    pub out_of_scope: u64,
    /// Each declared key that was not evaluated, with where it is declared.
    #[serde(default)]
    pub not_evaluated: Vec<NotEvaluated>,
}

/// A declared key drift could not evaluate. Unless the run explains it (`explained_by`), it
/// is also a coverage gap (operation [`SPEC_SCOPE_OPERATION`]) and the run is incomplete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotEvaluated {
    pub account: String,
    pub region: String,
    /// The declared alias, else the key ARN.
    pub key: String,
    pub spec: SpecLocation,
    /// The resource address or Pulumi URN of an imported key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub reason: String,
    /// `--spec-scope-ignore`, or `--regions` when the region was left out on purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<String>,
}

/// The `operation` of a coverage gap for a declared key that was not evaluated.
pub const SPEC_SCOPE_OPERATION: &str = "SpecScope";

/// The canonical result of a scan: what `--format json` prints and `kms-audit report` reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub schema_version: String,
    pub tool: ToolInfo,
    pub started_at: String,
    pub finished_at: String,
    /// The AWS Organization the accounts belong to, when it is known.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The ACTIVE accounts of that organization (when it was read), so checks can tell
    /// organization accounts from outsiders, offline too.
    #[serde(default)]
    pub organization_accounts: Option<Vec<String>>,
    /// Account names by account id, as Organizations lists them (empty when the organization
    /// was not read), so exports such as OCSF can name accounts offline too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub account_names: BTreeMap<String, String>,
    /// The slice of the accounts this report covers, when it was written by `scan --shard K/N`;
    /// absent from whole scans and merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    pub targets: Vec<Target>,
    pub coverage_gaps: Vec<CoverageGap>,
    pub inventory: Inventory,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub resolved: Vec<Finding>,
    /// Who can use, administer and delegate each key (effective access), from the key policy,
    /// the grants and, where read, the account's IAM policies. Computed by the analysis, like
    /// the findings; a saved report's copy is never read back (it is most of a large report,
    /// and the analysis gives the same from the inventory), so `report`, `merge`, `publish`
    /// and `--baseline` skip over it.
    #[serde(
        default,
        deserialize_with = "skip_saved_access",
        skip_serializing_if = "Option::is_none"
    )]
    pub access: Option<access::AccessReport>,
    pub summary: Summary,
}

/// Reads past a saved report's `access` without building it (see [`Report::access`]).
fn skip_saved_access<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<access::AccessReport>, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer)?;
    Ok(None)
}

/// Which shard of a sharded scan a report covers (`scan --shard K/N`), so `kms-audit merge` can
/// check that the shards of a run are all there and belong together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardInfo {
    /// K: this report's shard, from 1.
    #[schemars(range(min = 1))]
    pub index: u32,
    /// N: the number of shards of the run.
    #[schemars(range(min = 1))]
    pub count: u32,
    /// Every account the run selected, before sharding (the same in every shard of a run): an
    /// account belongs to shard `1 + (first 8 bytes of SHA-256(account id), big-endian) mod N`.
    pub selected_accounts: Vec<String>,
}

impl Report {
    /// Puts targets, inventory and coverage gaps in report order (by account, region, then key
    /// or operation), whatever order the targets finished in.
    pub fn sort_collected(&mut self) {
        self.targets
            .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        self.inventory
            .keys
            .sort_by(|a, b| (&a.account, &a.region, &a.arn).cmp(&(&b.account, &b.region, &b.arn)));
        if let Some(iam) = &mut self.inventory.iam {
            iam.sort_by(|a, b| a.account.cmp(&b.account));
        }
        self.coverage_gaps.sort_by(|a, b| {
            (&a.account, &a.region, &a.key_arn, &a.operation).cmp(&(
                &b.account,
                &b.region,
                &b.key_arn,
                &b.operation,
            ))
        });
    }

    /// Recomputes the counts of `summary` from the report's own contents (timing and API calls kept).
    pub fn refresh_summary(&mut self) {
        let mut findings: BTreeMap<Severity, u64> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for finding in self.findings.iter().filter(|f| f.suppressed.is_none()) {
            *findings.entry(finding.severity).or_default() += 1;
        }
        let accounts: std::collections::BTreeSet<&str> =
            self.targets.iter().map(|t| t.account.as_str()).collect();
        let regions: std::collections::BTreeSet<&str> =
            self.targets.iter().map(|t| t.region.as_str()).collect();
        self.summary.keys = self.inventory.keys.len() as u64;
        self.summary.findings = findings;
        self.summary.accounts = accounts.len() as u64;
        self.summary.regions = regions.len() as u64;
        self.summary.gaps = self.coverage_gaps.len() as u64;
    }

    /// True when some target or field could not be read (exit code 3).
    pub fn is_incomplete(&self) -> bool {
        !self.coverage_gaps.is_empty()
            || self
                .targets
                .iter()
                .any(|t| t.status == TargetStatus::Failed)
    }
}
