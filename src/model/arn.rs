//! ARNs as kms-audit reads them: the key id and account of a key ARN.

use super::Finding;

/// The key id of a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID` → `ID`).
pub fn key_id_of_arn(arn: &str) -> Option<&str> {
    arn.split_once(":key/")
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty())
}

/// The key id of the finding's key, when it names a live key.
pub fn key_id(finding: &Finding) -> Option<&str> {
    finding.key_arn.as_deref().and_then(key_id_of_arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_come_from_key_arns_only() {
        assert_eq!(
            key_id_of_arn("arn:aws:kms:us-east-1:111111111111:key/abc"),
            Some("abc")
        );
        assert_eq!(
            key_id_of_arn("arn:aws:kms:us-east-1:111111111111:alias/x"),
            None
        );
    }
}
