//! Building findings: every check and drift rule goes through [`FindingBuilder`], so findings
//! have the same shape, the catalog's name and remediation, and a stable fingerprint.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::catalog::CheckMeta;
use crate::model::{Finding, KeyRecord, Severity, SpecLocation};

/// Starts a finding for `check` on a live key; `message` says what is wrong with this key.
pub struct FindingBuilder {
    finding: Finding,
    /// What makes this finding distinct from others of the same check on the same key
    /// (e.g. the statement Sid, the grant id, the missing tag). Part of the fingerprint.
    discriminator: String,
}

impl FindingBuilder {
    /// A finding about a live key.
    pub fn for_key(check: &CheckMeta, key: &KeyRecord, message: impl Into<String>) -> Self {
        FindingBuilder {
            finding: Finding {
                check_id: check.id.as_str().into(),
                name: check.name.as_str().into(),
                severity: check.severity,
                account: key.account.clone(),
                region: key.region.clone(),
                key_arn: Some(key.arn.clone()),
                resource: None,
                keys: None,
                aliases: key.aliases.clone(),
                message: message.into(),
                evidence: Value::Object(Default::default()).into(),
                remediation: check.remediation.clone(),
                fingerprint: String::new(),
                spec: None,
                suppressed: None,
                baseline: None,
            },
            discriminator: String::new(),
        }
    }

    /// A finding about a declared key that may have no live key (e.g. DRF001).
    pub fn for_declared(
        check: &CheckMeta,
        account: &str,
        region: &str,
        key_arn: Option<&str>,
        aliases: Vec<String>,
        message: impl Into<String>,
    ) -> Self {
        let mut builder = FindingBuilder::for_key(
            check,
            &KeyRecord {
                account: account.into(),
                region: region.into(),
                aliases,
                ..KeyRecord::default()
            },
            message,
        );
        builder.finding.key_arn = key_arn.map(str::to_string);
        builder
    }

    /// A finding about an AWS resource that is not a key (an IAM policy, or the identity an
    /// inline policy is embedded in): `resource` is its ARN, and the finding has no key ARN.
    /// The fingerprint's subject is the account and the resource ARN.
    pub fn for_resource(
        check: &CheckMeta,
        account: &str,
        region: &str,
        resource: &str,
        message: impl Into<String>,
    ) -> Self {
        let mut builder =
            FindingBuilder::for_declared(check, account, region, None, Vec::new(), message);
        builder.finding.resource = Some(resource.to_string());
        builder
    }

    pub fn evidence(mut self, evidence: Value) -> Self {
        self.finding.evidence = evidence.into();
        self
    }

    /// Overrides the catalog remediation with a key-specific one (e.g. the exact CLI command).
    pub fn remediation(mut self, remediation: impl Into<String>) -> Self {
        self.finding.remediation = remediation.into();
        self
    }

    /// The keys a finding on an IAM identity covers (POL004, POL005 through IAM alone).
    pub fn keys(mut self, keys: Box<[String]>) -> Self {
        self.finding.keys = Some(keys);
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }

    pub fn spec(mut self, location: SpecLocation) -> Self {
        self.finding.spec = Some(Box::new(location));
        self
    }

    /// Distinguishes several findings of one check on one key; keep it stable across runs.
    pub fn discriminator(mut self, discriminator: impl Into<String>) -> Self {
        self.discriminator = discriminator.into();
        self
    }

    pub fn build(mut self) -> Finding {
        let subject = self
            .finding
            .key_arn
            .clone()
            .or_else(|| {
                self.finding
                    .resource
                    .as_ref()
                    .map(|resource| format!("{}/{resource}", self.finding.account))
            })
            .or_else(|| {
                self.finding.aliases.first().map(|alias| {
                    format!("{}/{}/{alias}", self.finding.account, self.finding.region)
                })
            })
            .unwrap_or_default();
        self.finding.fingerprint =
            fingerprint(&self.finding.check_id, &subject, &self.discriminator);
        // `format!` leaves spare capacity; a large scan keeps tens of thousands of findings.
        self.finding.message.shrink_to_fit();
        self.finding.remediation.shrink_to_fit();
        self.finding.fingerprint.shrink_to_fit();
        self.finding
    }
}

/// Same check, same key, same discriminator ⇒ same fingerprint, run after run. Messages and
/// evidence are left out on purpose: they may carry dates or counts that change daily.
pub fn fingerprint(check_id: &str, subject: &str, discriminator: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [check_id, subject, discriminator] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyRecord {
        KeyRecord {
            arn: "arn:aws:kms:us-east-1:111111111111:key/k1".into(),
            key_id: "k1".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            aliases: vec!["alias/app".into()],
            ..KeyRecord::default()
        }
    }

    #[test]
    fn findings_carry_catalog_metadata_and_a_stable_fingerprint() {
        let check = crate::analysis::catalog()
            .lookup("ROT001")
            .expect("catalog");
        let a = FindingBuilder::for_key(check, &key(), "rotation is off").build();
        let b = FindingBuilder::for_key(check, &key(), "a different message").build();
        assert_eq!(a.name, "rotation-disabled");
        assert_eq!(a.severity, Severity::Medium);
        assert_eq!(a.aliases, ["alias/app"]);
        assert_eq!(a.fingerprint.len(), 32);
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "message is not part of identity"
        );
        let c = FindingBuilder::for_key(check, &key(), "x")
            .discriminator("Sid1")
            .build();
        assert_ne!(a.fingerprint, c.fingerprint);
    }

    #[test]
    fn resource_findings_have_no_key_and_a_fingerprint_of_account_and_resource() {
        let check = crate::analysis::catalog()
            .lookup("IAM002")
            .expect("catalog");
        let role = "arn:aws:iam::111111111111:role/app";
        let f = FindingBuilder::for_resource(check, "111111111111", "us-east-1", role, "m")
            .discriminator("inline:DecryptAll")
            .build();
        assert_eq!(f.key_arn, None);
        assert_eq!(f.resource.as_deref(), Some(role));
        assert_eq!(
            f.fingerprint,
            fingerprint(
                "IAM002",
                &format!("111111111111/{role}"),
                "inline:DecryptAll"
            )
        );
        let other = FindingBuilder::for_resource(check, "111111111111", "eu-west-1", role, "n")
            .discriminator("inline:DecryptAll")
            .build();
        assert_eq!(
            f.fingerprint, other.fingerprint,
            "the region is not part of it"
        );
    }

    #[test]
    fn declared_findings_without_a_key_use_account_region_alias() {
        let check = crate::analysis::catalog()
            .lookup("DRF001")
            .expect("catalog");
        let f = FindingBuilder::for_declared(
            check,
            "111111111111",
            "eu-west-1",
            None,
            vec!["alias/gone".into()],
            "missing",
        )
        .build();
        assert_eq!(f.key_arn, None);
        assert_eq!(
            f.fingerprint,
            fingerprint("DRF001", "111111111111/eu-west-1/alias/gone", "")
        );
    }
}
