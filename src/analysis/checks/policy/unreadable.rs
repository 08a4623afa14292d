//! POL003 policy-unreadable: the key's policy could not be read (GetKeyPolicy failed: the key
//! lists `policy` in `unknown`), or what was read is not a key policy. Such a key can be shown
//! neither public nor private, so it is reported instead of silently passing POL001/POL002.
//! Evidence names the failed operation and its AWS error code from the coverage gap.

use serde_json::json;

use super::Unreadable;
use crate::analysis::checks::{CheckRun, cli_key_args};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for key in &ctx.inventory.keys {
        let Some(why) = ctx.policies.unreadable(ctx, key) else {
            continue;
        };
        let gap = ctx.coverage_gaps.iter().find(|g| {
            g.key_arn.as_deref() == Some(key.arn.as_str()) && g.operation == "GetKeyPolicy"
        });
        let (message, reason) = match &why {
            Unreadable::NotRead => (
                format!(
                    "the key policy of {} could not be read{}",
                    key.display_name(),
                    gap.and_then(|g| g.error_code.as_deref())
                        .map(|code| format!(" ({code})"))
                        .unwrap_or_default()
                ),
                "GetKeyPolicy failed".to_string(),
            ),
            Unreadable::Missing => (
                format!(
                    "the inventory holds no key policy for {}",
                    key.display_name()
                ),
                "no policy in the inventory".to_string(),
            ),
            Unreadable::Invalid(err) => (
                format!(
                    "the key policy of {} cannot be analysed: {err}",
                    key.display_name()
                ),
                err.to_string(),
            ),
        };
        findings.push(
            FindingBuilder::for_key(meta, key, message)
                .evidence(json!({
                    "reason": reason,
                    "operation": gap.map(|g| g.operation.as_str()),
                    "error_code": gap.and_then(|g| g.error_code.as_deref()),
                    "error": gap.map(|g| g.reason.as_str()),
                }))
                .remediation(format!(
                    "Allow the audit role `kms:GetKeyPolicy` on the key (a statement for the role in the \
                     key policy), then check it: `aws kms get-key-policy {} --policy-name default`. \
                     Or confirm the policy out of band and suppress the finding with a reason.",
                    cli_key_args(key)
                ))
                .build(),
        );
    }
    findings
}
