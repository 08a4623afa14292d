//! Questions the checks ask of an access list or an IAM policy: decryption on all keys
//! (Security Hub KMS.1 / KMS.2), CreateGrant not limited to AWS services (CT.KMS.PR.3), the
//! same principal administering and using a key, and a key nobody can administer.

use serde::Serialize;

use crate::policy::{Effect, IdentityPolicy, ResourceClause, resource_matches};

use crate::model::access::{AccessEntry, ActionClass, Certainty, KeyAccess, Principal};

/// The actions KMS.1 and KMS.2 look for.
const DECRYPT_ACTIONS: &[&str] = &["kms:Decrypt", "kms:ReEncryptFrom"];

/// For each partition, two key ARNs of different regions and accounts: a resource pattern
/// that matches both keys of a partition covers every key there. A policy lives in one
/// partition, so `arn:aws:kms:*:*:key/*` covers all the keys it can reach (FSBP KMS.1/KMS.2
/// read it so).
const PROBE_KEYS: [[&str; 2]; 3] = [
    [
        "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000",
        "arn:aws:kms:eu-west-1:999999999999:key/mrk-ffffffffffffffffffffffffffffffff",
    ],
    [
        "arn:aws-cn:kms:cn-north-1:000000000000:key/00000000-0000-0000-0000-000000000000",
        "arn:aws-cn:kms:cn-northwest-1:999999999999:key/mrk-ffffffffffffffffffffffffffffffff",
    ],
    [
        "arn:aws-us-gov:kms:us-gov-west-1:000000000000:key/00000000-0000-0000-0000-000000000000",
        "arn:aws-us-gov:kms:us-gov-east-1:999999999999:key/mrk-ffffffffffffffffffffffffffffffff",
    ],
];

/// An Allow statement of an IAM policy that reaches every key with Decrypt or ReEncryptFrom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllKeysStatement {
    pub statement: usize,
    pub sid: Option<String>,
    /// Which of kms:Decrypt / kms:ReEncryptFrom it allows.
    pub actions: Vec<String>,
    /// Whether the statement has conditions (which may narrow it at request time).
    pub conditional: bool,
}

/// The statements of `policy` that allow kms:Decrypt or kms:ReEncryptFrom on all keys.
pub fn decrypt_on_all_keys(policy: &IdentityPolicy) -> Vec<AllKeysStatement> {
    policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .filter(|s| covers_every_key(&s.resources))
        .filter_map(|s| {
            let actions: Vec<String> = DECRYPT_ACTIONS
                .iter()
                .filter(|a| s.actions.covers(a))
                .map(|a| a.to_string())
                .collect();
            (!actions.is_empty()).then(|| AllKeysStatement {
                statement: s.index,
                sid: s.sid.clone(),
                actions,
                conditional: !s.conditions.is_empty(),
            })
        })
        .collect()
}

fn covers_every_key(resources: &ResourceClause) -> bool {
    PROBE_KEYS.iter().any(|probes| match resources {
        ResourceClause::Resource(patterns) => patterns
            .iter()
            .any(|p| probes.iter().all(|key| resource_matches(p, key))),
        ResourceClause::NotResource(patterns) => !patterns
            .iter()
            .any(|p| probes.iter().any(|key| resource_matches(p, key))),
        ResourceClause::Unspecified => false,
    })
}

impl KeyAccess {
    /// The entries of one class.
    pub fn of_class(&self, class: ActionClass) -> impl Iterator<Item = &AccessEntry> {
        self.entries
            .iter()
            .map(|e| &**e)
            .filter(move |e| e.class == class)
    }

    /// CreateGrant for a principal that is not an AWS service, without a
    /// `kms:GrantIsForAWSResource` condition (CT.KMS.PR.3).
    pub fn create_grant_not_limited_to_aws_resources(&self) -> impl Iterator<Item = &AccessEntry> {
        self.of_class(ActionClass::Delegate).filter(|e| {
            !e.principal.is_service()
                && !e.conditions.iter().any(|c| {
                    c.key.eq_ignore_ascii_case("kms:GrantIsForAWSResource")
                        && c.operator.eq_ignore_ascii_case("Bool")
                        && c.values.iter().any(|v| v.eq_ignore_ascii_case("true"))
                })
        })
    }

    /// Principals other than AWS services that can both administer and use the key, with the
    /// certainty of the weaker of the two (separation of duties). The account's root user is
    /// among them whenever the key policy enables IAM; a check decides whether it counts.
    pub fn administer_and_use(&self) -> Vec<(&Principal, Certainty)> {
        let best = |class: ActionClass, principal: &Principal| {
            self.of_class(class)
                .filter(|e| &e.principal == principal)
                .map(|e| e.certainty)
                .min()
        };
        let mut out: Vec<(&Principal, Certainty)> = Vec::new();
        for entry in self.of_class(ActionClass::Administer) {
            let principal = &entry.principal;
            if principal.is_service() || out.iter().any(|(p, _)| *p == principal) {
                continue;
            }
            if let (Some(admin), Some(usage)) = (
                best(ActionClass::Administer, principal),
                best(ActionClass::Use, principal),
            ) {
                out.push((principal, admin.max(usage)));
            }
        }
        out
    }

    /// Whether some principal the analysis sees can administer the key; `None` when the key
    /// policy could not be read (its administrators are unknown).
    pub fn has_administrator(&self) -> Option<bool> {
        if self.unknown.iter().any(|u| u.starts_with("key policy")) {
            return None;
        }
        Some(self.of_class(ActionClass::Administer).next().is_some())
    }
}
