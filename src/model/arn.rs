//! ARNs: the one parsed ARN type, its helpers (account id, key id, alias name, resource type
//! and id), and the IAM ARNs kms-audit builds (an account's root, a role to assume).
//!
//! An [`Arn`] borrows its fields from the text it was parsed from: parsing allocates nothing,
//! which matters because the report renderers parse a key ARN for every finding.

use super::Finding;

/// The partition an ARN-less value falls back to.
const DEFAULT_PARTITION: &str = "aws";

/// The fields of an ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
///
/// The resource is everything after the fifth colon, colons and slashes included
/// (`key/ID`, `role/path/Name`, `log-group:name:*`). Fields may be empty where the service
/// has none (`arn:aws:s3:::bucket`, `arn:aws:iam::123456789012:root`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses an ARN whose prefix is exactly `arn`; `None` when a field is missing.
    pub fn parse(text: &'a str) -> Option<Self> {
        Self::split(text)
            .filter(|(prefix, _)| *prefix == "arn")
            .map(|(_, arn)| arn)
    }

    /// Parses an ARN whose prefix is `arn` in any case (`ARN:aws:iam::…`), as policy documents
    /// are read.
    pub fn parse_any_case(text: &'a str) -> Option<Self> {
        Self::split(text)
            .filter(|(prefix, _)| prefix.eq_ignore_ascii_case("arn"))
            .map(|(_, arn)| arn)
    }

    /// Parses a KMS key or alias ARN: `arn:aws…:kms:REGION:ACCOUNT:key/…` or `…:alias/…`, with
    /// a region and an account.
    pub fn parse_kms(text: &'a str) -> Option<Self> {
        Self::parse(text).filter(|arn| {
            arn.partition.starts_with("aws")
                && arn.service == "kms"
                && !arn.region.is_empty()
                && !arn.account.is_empty()
                && (arn.resource.starts_with("key/") || arn.resource.starts_with("alias/"))
        })
    }

    /// The prefix and the fields, at the first five colons. A byte scan rather than
    /// `splitn`: this runs for every finding of every report.
    fn split(text: &'a str) -> Option<(&'a str, Self)> {
        let mut colons = [0usize; 5];
        let mut found = 0;
        for (at, byte) in text.bytes().enumerate() {
            if byte == b':' {
                colons[found] = at;
                found += 1;
                if found == colons.len() {
                    break;
                }
            }
        }
        if found < colons.len() {
            return None;
        }
        let [c0, c1, c2, c3, c4] = colons;
        // Each cut is at an ASCII colon, so every range is on a character boundary.
        let arn = Self {
            partition: text.get(c0 + 1..c1)?,
            service: text.get(c1 + 1..c2)?,
            region: text.get(c2 + 1..c3)?,
            account: text.get(c3 + 1..c4)?,
            resource: text.get(c4 + 1..)?,
        };
        Some((text.get(..c0)?, arn))
    }

    /// The account id, when the ARN has one.
    pub fn account_id(&self) -> Option<&'a str> {
        Some(self.account).filter(|a| !a.is_empty())
    }

    /// The resource type: the resource up to its first `/` or `:` (`key`, `alias`, `role`,
    /// `assumed-role`), or the whole resource when it has neither (`root`).
    pub fn resource_type(&self) -> &'a str {
        match self.resource.find(['/', ':']) {
            Some(at) => &self.resource[..at],
            None => self.resource,
        }
    }

    /// The resource id: what follows the resource type and its separator (`ID` of `key/ID`,
    /// `path/Name` of `role/path/Name`); `None` when the resource has no separator.
    pub fn resource_id(&self) -> Option<&'a str> {
        let at = self.resource.find(['/', ':'])?;
        Some(&self.resource[at + 1..])
    }

    /// Whether the ARN names a KMS key (`…:kms:…:key/…`).
    pub fn is_key(&self) -> bool {
        self.service == "kms" && self.resource.starts_with("key/")
    }

    /// The key id of a KMS key ARN (`…:key/ID` → `ID`); `None` for any other ARN or an empty id.
    pub fn key_id(&self) -> Option<&'a str> {
        self.resource
            .strip_prefix("key/")
            .filter(|id| self.service == "kms" && !id.is_empty())
    }

    /// The alias name of a KMS alias ARN, as KMS writes it (`…:alias/NAME` → `alias/NAME`).
    pub fn alias_name(&self) -> Option<&'a str> {
        Some(self.resource).filter(|r| self.service == "kms" && r.starts_with("alias/"))
    }
}

/// The key id of a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID` → `ID`).
pub fn key_id_of_arn(arn: &str) -> Option<&str> {
    Arn::parse(arn)?.key_id()
}

/// The key id of the finding's key, when it names a live key.
pub fn key_id(finding: &Finding) -> Option<&str> {
    finding.key_arn.as_deref().and_then(key_id_of_arn)
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it has none.
pub fn partition_of_arn(arn: Option<&str>) -> &str {
    arn.and_then(Arn::parse)
        .map(|arn| arn.partition)
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PARTITION)
}

/// The ARN of an account as a principal: `arn:PARTITION:iam::ACCOUNT:root`.
pub fn root_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// The ARN of an IAM role: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(text: &str) -> Arn<'_> {
        Arn::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn every_field_is_read_in_each_partition() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let text = format!("arn:{partition}:kms:us-east-1:111111111111:key/abc");
            assert_eq!(
                arn(&text),
                Arn {
                    partition,
                    service: "kms",
                    region: "us-east-1",
                    account: "111111111111",
                    resource: "key/abc",
                }
            );
            assert_eq!(partition_of_arn(Some(&text)), partition);
            assert_eq!(Arn::parse_kms(&text).map(|a| a.partition), Some(partition));
        }
    }

    #[test]
    fn key_ids_come_from_key_arns_only() {
        assert_eq!(
            key_id_of_arn("arn:aws:kms:us-east-1:111111111111:key/abc"),
            Some("abc")
        );
        assert_eq!(
            key_id_of_arn("arn:aws-cn:kms:cn-north-1:111111111111:key/mrk-1"),
            Some("mrk-1")
        );
        assert_eq!(
            key_id_of_arn("arn:aws:kms:us-east-1:111111111111:alias/x"),
            None
        );
        assert_eq!(
            key_id_of_arn("arn:aws:kms:us-east-1:111111111111:key/"),
            None
        );
        assert_eq!(key_id_of_arn("arn:aws:s3:::key/x"), None);
        assert_eq!(key_id_of_arn("key/abc"), None);
        assert_eq!(key_id_of_arn(""), None);
    }

    #[test]
    fn malformed_text_is_no_arn() {
        for text in [
            "",
            "arn",
            "arn:",
            "arn:aws",
            "arn:aws:kms:us-east-1",
            "arn:aws:kms:us-east-1:111111111111",
            "urn:aws:kms:us-east-1:111111111111:key/abc",
            "111111111111",
            "*",
        ] {
            assert_eq!(Arn::parse(text), None, "{text}");
            assert_eq!(Arn::parse_kms(text), None, "{text}");
        }
        // Only the policy reading accepts another case of the prefix.
        assert_eq!(Arn::parse("ARN:aws:iam::111111111111:root"), None);
        assert_eq!(
            Arn::parse_any_case("ARN:aws:iam::111111111111:root").map(|a| a.account),
            Some("111111111111")
        );
        // Six fields, even empty ones, are an ARN.
        assert_eq!(arn("arn:::::").resource, "");
        assert_eq!(partition_of_arn(Some("arn:::::")), "aws");
        assert_eq!(partition_of_arn(Some("not an arn")), "aws");
        assert_eq!(partition_of_arn(None), "aws");
    }

    #[test]
    fn the_resource_keeps_its_slashes_and_colons() {
        let role = arn("arn:aws:iam::111111111111:role/path/to/Name");
        assert_eq!(role.resource, "role/path/to/Name");
        assert_eq!(role.resource_type(), "role");
        assert_eq!(role.resource_id(), Some("path/to/Name"));
        assert_eq!(role.region, "");
        assert_eq!(role.account_id(), Some("111111111111"));

        let logs = arn("arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/f:*");
        assert_eq!(logs.resource, "log-group:/aws/lambda/f:*");
        assert_eq!(logs.resource_type(), "log-group");
        assert_eq!(logs.resource_id(), Some("/aws/lambda/f:*"));

        let session = arn("arn:aws:sts::111111111111:assumed-role/App/session:1");
        assert_eq!(session.resource_type(), "assumed-role");
        assert_eq!(session.resource_id(), Some("App/session:1"));

        let root = arn("arn:aws-us-gov:iam::111111111111:root");
        assert_eq!(root.resource_type(), "root");
        assert_eq!(root.resource_id(), None);

        let bucket = arn("arn:aws:s3:::bucket");
        assert_eq!(bucket.account_id(), None);
        assert_eq!(bucket.resource, "bucket");
    }

    #[test]
    fn kms_arns_name_a_key_or_an_alias_in_a_region_and_account() {
        let key = Arn::parse_kms("arn:aws:kms:eu-west-1:111111111111:key/mrk-1").expect("key");
        assert!(key.is_key());
        assert_eq!(key.key_id(), Some("mrk-1"));
        assert_eq!(key.alias_name(), None);

        let alias =
            Arn::parse_kms("arn:aws:kms:eu-west-1:111111111111:alias/app/db").expect("alias");
        assert!(!alias.is_key());
        assert_eq!(alias.key_id(), None);
        assert_eq!(alias.alias_name(), Some("alias/app/db"));
        assert_eq!(alias.resource_id(), Some("app/db"));

        for text in [
            "arn:aws:kms:us-east-1:111111111111:keys/x",
            "arn:aws:kms::111111111111:key/x",
            "arn:aws:kms:us-east-1::key/x",
            "arn:aws:iam:us-east-1:111111111111:key/x",
            "arn:other:kms:us-east-1:111111111111:key/x",
            "arn:aws:kms:us-east-1:111111111111:grant/x",
            "arn:aws:kms:us-east-1:111111111111:key:x",
        ] {
            assert_eq!(Arn::parse_kms(text), None, "{text}");
        }
        // An empty key id is still a key ARN's shape (spec validation has always allowed it).
        let empty = Arn::parse_kms("arn:aws:kms:us-east-1:111111111111:key/").expect("shape");
        assert!(empty.is_key());
        assert_eq!(empty.key_id(), None);
    }

    #[test]
    fn iam_arns_are_built_in_the_partition_given() {
        assert_eq!(
            root_arn("aws-cn", "111111111111"),
            "arn:aws-cn:iam::111111111111:root"
        );
        assert_eq!(
            role_arn("aws-us-gov", "222222222222", "KmsAudit"),
            "arn:aws-us-gov:iam::222222222222:role/KmsAudit"
        );
        let built = role_arn("aws", "222222222222", "path/KmsAudit");
        let parsed = arn(&built);
        assert_eq!(parsed.resource_type(), "role");
        assert_eq!(parsed.account_id(), Some("222222222222"));
    }
}
