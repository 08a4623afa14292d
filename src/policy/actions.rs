//! KMS action names and IAM-style wildcard matching.
//!
//! Deny statements are subtracted from Allow statements over a concrete list of actions, so
//! that `kms:*` minus `kms:Decrypt` can be reported precisely instead of guessed.

use std::collections::BTreeSet;

/// The KMS API actions a key policy can name (service authorization reference, 2025).
/// Action names a policy spells out literally are added to this list when analysing it, so
/// a future action is never lost.
pub const KMS_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:ConnectCustomKeyStore",
    "kms:CreateAlias",
    "kms:CreateCustomKeyStore",
    "kms:CreateGrant",
    "kms:CreateKey",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DeleteCustomKeyStore",
    "kms:DeleteImportedKeyMaterial",
    "kms:DeriveSharedSecret",
    "kms:DescribeCustomKeyStores",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DisconnectCustomKeyStore",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:GenerateRandom",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetParametersForImport",
    "kms:GetPublicKey",
    "kms:ImportKeyMaterial",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateCustomKeyStore",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
    "kms:Verify",
    "kms:VerifyMac",
];

/// IAM action matching: case-insensitive; `*` matches any run of characters, `?` exactly one.
pub fn kms_action_matches(pattern: &str, action: &str) -> bool {
    glob_matches(pattern, action, true)
}

/// IAM `Resource` matching of an ARN: case-sensitive; `*` matches any run of characters (colons
/// included) and `?` exactly one.
pub fn resource_matches(pattern: &str, arn: &str) -> bool {
    glob_matches(pattern, arn, false)
}

/// Whether `s` holds an IAM wildcard character.
pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Iterative glob match with single-star backtracking (linear in practice, no recursion).
///
/// Matches on bytes when both sides are ASCII (every IAM action and nearly every condition
/// value): this runs for every action × pattern pair of every key policy, so it must not allocate.
pub(crate) fn glob_matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        let fold = |b: u8| {
            if ignore_case {
                b.to_ascii_lowercase()
            } else {
                b
            }
        };
        return glob_core(pattern.as_bytes(), text.as_bytes(), b'*', b'?', fold);
    }
    let fold = |c: char| {
        if ignore_case {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_core(&p, &t, '*', '?', fold)
}

fn glob_core<T: Copy + PartialEq>(
    p: &[T],
    t: &[T],
    star_sym: T,
    any: T,
    fold: impl Fn(T) -> T,
) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi).copied() {
            Some(c) if c == star_sym => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if c == any || fold(c) == fold(t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == star_sym)
}

/// The concrete actions a policy is evaluated over: [`KMS_ACTIONS`] plus every literal
/// (wildcard-free) action the policy names, deduplicated case-insensitively.
#[derive(Debug, Clone)]
pub(crate) struct ActionUniverse {
    names: Vec<String>,
}

impl ActionUniverse {
    pub(crate) fn new<'a>(extra: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = KMS_ACTIONS.iter().map(|s| (*s).to_string()).collect();
        for name in extra {
            if !has_wildcard(name) && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.to_string());
            }
        }
        Self { names }
    }

    /// Indexes of the actions `covers` accepts.
    pub(crate) fn select(&self, covers: impl Fn(&str) -> bool) -> BTreeSet<usize> {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, n)| covers(n))
            .map(|(i, _)| i)
            .collect()
    }

    pub(crate) fn names(&self, set: &BTreeSet<usize>) -> Vec<String> {
        set.iter()
            .filter_map(|&i| self.names.get(i).cloned())
            .collect()
    }
}
