//! The key's grants as candidates: the grantee gets the grant's operations, restricted by its
//! encryption-context constraints; the key policy's Denies (and the grantee's IAM Denies)
//! still apply.

use serde_json::Value;

use crate::model::Grant;
use crate::policy::quote;

use super::candidate::Candidate;
use super::classes::select;
use super::evaluate::Evaluation;
use super::key_policy::same_account_identity;
use super::principals::of_grantee;
use crate::model::access::{AccessCondition, AccessPath};

pub(crate) fn evaluate(ev: &mut Evaluation<'_>, grants: &[Grant]) {
    for grant in grants {
        let Some(grantee) = grant.grantee_principal.as_deref() else {
            ev.note_unknown(format!("grant {}: no grantee principal", grant.grant_id));
            continue;
        };
        let actions = select(|a| {
            grant.operations.iter().any(|op| {
                a.strip_prefix("kms:")
                    .is_some_and(|name| name.eq_ignore_ascii_case(op))
            })
        });
        if actions.is_empty() {
            continue;
        }
        let path = AccessPath::Grant {
            grant_id: grant.grant_id.clone(),
            name: grant.name.clone().filter(|n| !n.is_empty()),
        };
        let path_label = match grant.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => format!("grant {} ({})", grant.grant_id, quote(name)),
            None => format!("grant {}", grant.grant_id),
        };
        let text = format!("{path_label} gives it");
        let mut cand = Candidate::new(of_grantee(grantee), path, path_label, actions, text);
        cand.conditions = constraints(grant.constraints.as_ref());
        if !cand.conditions.is_empty() {
            cand.notes.push(format!(
                "only with the encryption context its constraints require ({})",
                cand.conditions
                    .iter()
                    .map(AccessCondition::describe)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
        }
        same_account_identity(ev, &mut cand);
        ev.finish(cand);
    }
}

/// A grant's constraints as conditions: `encryption_context_subset` / `_equals` pairs, each
/// the `kms:EncryptionContext:KEY` the request must carry.
fn constraints(value: Option<&Value>) -> Vec<AccessCondition> {
    let Some(Value::Object(map)) = value else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (kind, pairs) in map {
        let operator = match kind.as_str() {
            "encryption_context_subset" => "EncryptionContextSubset",
            "encryption_context_equals" => "EncryptionContextEquals",
            other => other,
        };
        match pairs {
            Value::Object(pairs) => {
                for (key, v) in pairs {
                    out.push(AccessCondition {
                        key: format!("kms:EncryptionContext:{key}"),
                        operator: operator.to_string(),
                        values: vec![v.as_str().map_or_else(|| v.to_string(), str::to_string)],
                    });
                }
            }
            other => out.push(AccessCondition {
                key: kind.clone(),
                operator: operator.to_string(),
                values: vec![other.to_string()],
            }),
        }
    }
    out
}
