//! Which KMS actions belong to which class. The lists are concrete (not patterns) so that a
//! policy's `kms:*`, `kms:Create*` or NotAction is resolved action by action, and a Deny of a
//! few actions leaves the rest of the class reported.
//!
//! Read-only actions (Describe*, Get*, List*), RetireGrant and the custom key store and
//! account-level actions are in no class: they neither use, change nor delegate the key.

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

/// Every classified action, in byte order: an [`ActionSet`]'s bit `i` is `ORDERED[i]`, so a
/// set lists its actions in the order a sorted set of the names would. Derived from the
/// classes' lists, so a new action needs adding in one place only.
static ORDERED: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut every: Vec<&'static str> = ActionClass::ALL
        .iter()
        .flat_map(|c| c.actions().iter().copied())
        .collect();
    every.sort_unstable();
    every.dedup();
    every
});

/// A set of classified actions, as one bit per action of [`ORDERED`]: every key policy
/// statement, IAM statement and candidate carries one, so it is a word, not a tree of names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct ActionSet(u64);

impl ActionSet {
    pub(crate) fn new() -> ActionSet {
        ActionSet(0)
    }

    fn bit(action: &str) -> Option<u64> {
        ORDERED.iter().position(|a| *a == action).map(|i| 1u64 << i)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// Whether the set holds `action` (a classified action's exact name).
    pub(crate) fn contains(&self, action: &str) -> bool {
        Self::bit(action).is_some_and(|bit| self.0 & bit != 0)
    }

    /// Adds a classified action; any other name is not a member of any set, and is ignored.
    pub(crate) fn insert(&mut self, action: &str) {
        if let Some(bit) = Self::bit(action) {
            self.0 |= bit;
        }
    }

    /// The actions, in byte order.
    pub(crate) fn iter(&self) -> Actions {
        Actions(self.0)
    }

    /// The actions of both, in byte order.
    pub(crate) fn intersection(&self, other: &ActionSet) -> Actions {
        Actions(self.0 & other.0)
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&&'static str) -> bool) {
        let mut bits = 0;
        for (i, action) in ORDERED.iter().enumerate() {
            if self.0 & (1u64 << i) != 0 && keep(action) {
                bits |= 1u64 << i;
            }
        }
        self.0 = bits;
    }
}

impl FromIterator<&'static str> for ActionSet {
    fn from_iter<I: IntoIterator<Item = &'static str>>(actions: I) -> Self {
        let mut set = ActionSet::new();
        set.extend(actions);
        set
    }
}

impl Extend<&'static str> for ActionSet {
    fn extend<I: IntoIterator<Item = &'static str>>(&mut self, actions: I) {
        for action in actions {
            self.insert(action);
        }
    }
}

/// The actions of an [`ActionSet`], in byte order.
pub(crate) struct Actions(u64);

impl Iterator for Actions {
    type Item = &'static &'static str;
    fn next(&mut self) -> Option<Self::Item> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        ORDERED.get(i)
    }
}

impl IntoIterator for ActionSet {
    type Item = &'static str;
    type IntoIter = std::iter::Copied<Actions>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter().copied()
    }
}

impl IntoIterator for &ActionSet {
    type Item = &'static &'static str;
    type IntoIter = Actions;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_classified_action_has_a_bit() {
        assert!(ORDERED.len() <= 64, "an ActionSet is one u64");
        for class in ActionClass::ALL {
            for action in class.actions() {
                let set: ActionSet = [*action].into_iter().collect();
                assert_eq!(set.iter().copied().collect::<Vec<_>>(), [*action]);
            }
        }
    }

    #[test]
    fn a_set_lists_its_actions_sorted_and_ignores_unclassified_names() {
        let mut set: ActionSet = ["kms:Sign", "kms:Decrypt", "kms:DescribeKey"]
            .into_iter()
            .collect();
        assert_eq!(
            set.iter().copied().collect::<Vec<_>>(),
            ["kms:Decrypt", "kms:Sign"]
        );
        assert!(set.contains("kms:Sign") && !set.contains("kms:DescribeKey"));
        set.retain(|a| *a != "kms:Sign");
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), ["kms:Decrypt"]);
        let other: ActionSet = ["kms:Decrypt", "kms:Encrypt"].into_iter().collect();
        assert_eq!(
            set.intersection(&other).copied().collect::<Vec<_>>(),
            ["kms:Decrypt"]
        );
    }
}
