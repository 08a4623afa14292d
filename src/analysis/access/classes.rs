//! Which KMS actions belong to which class. The lists are concrete (not patterns) so that a
//! policy's `kms:*`, `kms:Create*` or NotAction is resolved action by action, and a Deny of a
//! few actions leaves the rest of the class reported.
//!
//! Read-only actions (Describe*, Get*, List*), RetireGrant and the custom key store and
//! account-level actions are in no class: they neither use, change nor delegate the key.

use std::collections::BTreeSet;

use crate::model::access::ActionClass;

/// Cryptographic operations with the key.
pub const USE_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:DeriveSharedSecret",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:Sign",
    "kms:Verify",
    "kms:VerifyMac",
];

/// Changes to the key: Put*, Update*, Enable*, Disable*, Schedule*, Cancel*, Create* but
/// CreateGrant, Delete*, Import*, tags, rotation, replication, RevokeGrant.
pub const ADMINISTER_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DeleteImportedKeyMaterial",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:ImportKeyMaterial",
    "kms:PutKeyPolicy",
    "kms:ReplicateKey",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
];

/// Giving the key's permissions to another principal.
pub const DELEGATE_ACTIONS: &[&str] = &["kms:CreateGrant"];

impl ActionClass {
    /// The KMS actions of the class.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            ActionClass::Use => USE_ACTIONS,
            ActionClass::Administer => ADMINISTER_ACTIONS,
            ActionClass::Delegate => DELEGATE_ACTIONS,
        }
    }

    /// The class of a KMS action (`kms:Decrypt`, any case), if it has one.
    pub fn of(action: &str) -> Option<ActionClass> {
        ActionClass::ALL.into_iter().find(|class| {
            class
                .actions()
                .iter()
                .any(|a| a.eq_ignore_ascii_case(action))
        })
    }
}

/// A set of classified actions.
pub(crate) type ActionSet = BTreeSet<&'static str>;

/// Every classified action `covers` accepts.
pub(crate) fn select(covers: impl Fn(&str) -> bool) -> ActionSet {
    ActionClass::ALL
        .iter()
        .flat_map(|c| c.actions().iter().copied())
        .filter(|a| covers(a))
        .collect()
}

/// The actions of `set` in `class`, in the class's order.
pub(crate) fn in_class(set: &ActionSet, class: ActionClass) -> Vec<&'static str> {
    class
        .actions()
        .iter()
        .copied()
        .filter(|a| set.contains(a))
        .collect()
}
