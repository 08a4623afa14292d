//! POL006 no-key-administrator (lockout risk): no principal the scan can see can administer
//! the key: nobody can change its policy, enable or disable it, or cancel its deletion, and
//! only AWS Support can restore access.
//!
//! Built on the key's effective access (`ctx.access`, `KeyAccess::has_administrator`).
//! Customer-managed keys only; keys pending deletion are evaluated too (with no administrator,
//! nobody can cancel the deletion). A key whose policy could not be read is not evaluated
//! (POL003 reports it). Administration that is only `may` counts as an administrator: the
//! check reports keys with no path to administration at all.

use serde_json::json;

use super::{CheckRun, cli_key_args, evaluated_access};
use crate::analysis::finding::FindingBuilder;
use crate::catalog::CheckMeta;
use crate::model::Finding;
use crate::model::access::ActionClass;

pub fn run(meta: &CheckMeta, ctx: &CheckRun<'_>) -> Vec<Finding> {
    evaluated_access(ctx)
        .into_iter()
        .filter(|(_, access)| access.has_administrator() == Some(false))
        .map(|(key, access)| {
            let users: Vec<&str> = access
                .of_class(ActionClass::Use)
                .map(|e| e.principal_label.as_str())
                .collect();
            FindingBuilder::for_key(
                meta,
                key,
                format!(
                    "no principal the scan can see can administer key {}: nobody can change its \
                     policy or state or cancel its deletion",
                    key.display_name()
                ),
            )
            .evidence(json!({
                "key_state": key.key_state,
                "principals_that_can_use": users,
                "not_evaluated": ctx.access.map(|a| a.not_evaluated.clone()).unwrap_or_default(),
                "unknown": access.unknown,
            }))
            .remediation(format!(
                "If a principal can still call kms:PutKeyPolicy (check the key policy: `aws kms \
                 get-key-policy {} --policy-name default`), restore an administrator statement, \
                 e.g. \"Enable IAM User Permissions\" for the account root; in Terraform, the \
                 `policy` of the `aws_kms_key`. If nobody can, contact AWS Support to regain \
                 access to the key.",
                cli_key_args(key)
            ))
            .build()
        })
        .collect()
}
