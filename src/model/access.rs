//! What the analysis concludes for one key: one entry per (action class, principal, path), with
//! the conditions that restrict it and how sure the analysis is.
//!
//! These types are part of the JSON report: field names are snake_case and stable.

use std::borrow::Cow;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A class of KMS actions on a key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionClass {
    /// Cryptographic operations: Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, Sign, Verify,
    /// GenerateMac, VerifyMac, DeriveSharedSecret.
    Use,
    /// Changing the key: its policy, state, rotation, deletion, aliases, tags, key material.
    Administer,
    /// CreateGrant: handing the key's permissions to someone else.
    Delegate,
}

impl ActionClass {
    pub const ALL: [ActionClass; 3] = [
        ActionClass::Use,
        ActionClass::Administer,
        ActionClass::Delegate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionClass::Use => "use",
            ActionClass::Administer => "administer",
            ActionClass::Delegate => "delegate",
        }
    }
}

/// Who receives access.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// Any principal of any account (`"*"`, or an Allow with NotPrincipal).
    Any,
    /// Principals of an account, as far as that account's own IAM policies let them.
    Account {
        account: String,
    },
    /// The root user of an account (it needs no IAM policy).
    AccountRoot {
        account: String,
    },
    /// Principals of the accounts of an organization (aws:PrincipalOrgID).
    Organization {
        organization_id: String,
    },
    /// Principals of the accounts under an organization path (aws:PrincipalOrgPaths), as written.
    OrganizationalUnit {
        path: String,
    },
    Role {
        arn: String,
    },
    User {
        arn: String,
    },
    /// The members of an IAM group.
    Group {
        arn: String,
    },
    /// An AWS service: a Service principal, or calls through a service (kms:ViaService).
    Service {
        service: String,
        /// The account it acts for (aws:SourceAccount, aws:SourceArn, kms:CallerAccount).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_account: Option<String>,
    },
    /// Anything else, as written: assumed-role sessions, federated users, identity providers.
    Other {
        value: String,
    },
}

impl Principal {
    /// An AWS service rather than a person or workload (separation-of-duty checks skip these).
    pub fn is_service(&self) -> bool {
        matches!(self, Principal::Service { .. })
    }

    /// The principal's kind, as the JSON report's `kind` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::Any => "any",
            Principal::Account { .. } => "account",
            Principal::AccountRoot { .. } => "account_root",
            Principal::Organization { .. } => "organization",
            Principal::OrganizationalUnit { .. } => "organizational_unit",
            Principal::Role { .. } => "role",
            Principal::User { .. } => "user",
            Principal::Group { .. } => "group",
            Principal::Service { .. } => "service",
            Principal::Other { .. } => "other",
        }
    }

    /// What identifies the principal within its kind: an account id, an ARN, a service name
    /// (`*` for any principal).
    pub fn id(&self) -> &str {
        match self {
            Principal::Any => "*",
            Principal::Account { account } | Principal::AccountRoot { account } => account,
            Principal::Organization { organization_id } => organization_id,
            Principal::OrganizationalUnit { path } => path,
            Principal::Role { arn } | Principal::User { arn } | Principal::Group { arn } => arn,
            Principal::Service { service, .. } => service,
            Principal::Other { value } => value,
        }
    }

    /// How the principal reads in a table.
    pub fn describe(&self) -> String {
        match self {
            Principal::Any => "any principal".to_string(),
            Principal::Account { account } => format!("account {account}"),
            Principal::AccountRoot { account } => format!("root user of account {account}"),
            Principal::Organization { organization_id } => {
                format!("organization {organization_id}")
            }
            Principal::OrganizationalUnit { path } => format!("organization path {path}"),
            Principal::Role { arn } => format!("role {arn}"),
            Principal::User { arn } => format!("user {arn}"),
            Principal::Group { arn } => format!("group {arn}"),
            Principal::Service {
                service,
                for_account: Some(account),
            } => format!("service {service} for account {account}"),
            Principal::Service {
                service,
                for_account: None,
            } => format!("service {service}"),
            Principal::Other { value } => value.clone(),
        }
    }
}

/// Managed (a policy object of its own) or inline (embedded in one identity).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IamPolicyType {
    Managed,
    Inline,
}

/// What grants the access.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccessPath {
    /// A statement of the key policy (0-based position, and its Sid when it has one).
    KeyPolicy {
        statement: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
    },
    /// A grant on the key.
    Grant {
        grant_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// An IAM policy, effective because the key policy statement lets the account's IAM
    /// policies grant access ("Enable IAM User Permissions").
    IamPolicy {
        key_policy_statement: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_policy_sid: Option<String>,
        policy_name: String,
        /// The ARN of a managed policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_arn: Option<String>,
        policy_type: IamPolicyType,
        /// The ARN of the user, group or role the policy is attached to.
        attached_to: String,
        /// The statement of the IAM policy (0-based), and its Sid.
        policy_statement: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_sid: Option<String>,
    },
}

impl IamPolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            IamPolicyType::Managed => "managed",
            IamPolicyType::Inline => "inline",
        }
    }
}

impl AccessPath {
    /// The path's kind, as the JSON report's `kind` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            AccessPath::KeyPolicy { .. } => "key_policy",
            AccessPath::Grant { .. } => "grant",
            AccessPath::IamPolicy { .. } => "iam_policy",
        }
    }
}

impl Certainty {
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Yes => "yes",
            Certainty::May => "may",
        }
    }
}

/// Whether the path certainly grants the access.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Granted, whatever the request: no condition, no Deny that may apply.
    Yes,
    /// Granted for some requests, or only if something the analysis cannot see allows it;
    /// `reason` says what.
    May,
}

/// A condition the access depends on, as the policy (or grant constraint) writes it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct AccessCondition {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl AccessCondition {
    /// `kms:ViaService StringEquals ["ec2.eu-west-1.amazonaws.com"]`.
    pub fn describe(&self) -> String {
        let values: Vec<String> = self
            .values
            .iter()
            .map(|v| serde_json::Value::String(v.clone()).to_string())
            .collect();
        format!("{} {} [{}]", self.key, self.operator, values.join(", "))
    }
}

/// One principal that can perform one class of actions on the key, by one path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct AccessEntry {
    pub class: ActionClass,
    pub principal: Principal,
    /// The principal as a table shows it.
    pub principal_label: String,
    /// The actions of the class the path grants, after Deny statements.
    // Borrowed from the class's own list (`analysis::access::classes`) when the analysis made
    // the entry, so the thousands of entries of an estate do not each own every action name.
    pub actions: Vec<Cow<'static, str>>,
    pub path: AccessPath,
    /// The path as a table shows it.
    pub path_label: String,
    /// The conditions that restrict it (empty: none).
    #[serde(default)]
    pub conditions: Vec<AccessCondition>,
    pub certainty: Certainty,
    /// Why: what grants it and, for `may`, what the analysis could not decide.
    pub reason: String,
}

/// Who can do what with one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyAccess {
    pub key_arn: String,
    #[schemars(with = "String")]
    pub account: crate::model::Text,
    #[schemars(with = "String")]
    pub region: crate::model::Text,
    /// By class, then principal, then path.
    // Keys with the same policy in one account share equal entries (one allocation each).
    pub entries: Vec<Shared<AccessEntry>>,
    /// Inputs the analysis lacked (the key policy, the grants, the account's IAM policies),
    /// each with why: the entries are incomplete when this is not empty.
    // Shared: every key of an account whose IAM was not read notes the same line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<Shared<String>>,
}

/// The effective access of every key of a report (its `access` field).
///
/// In the JSON report each distinct entry is written once, in `entries`, and each key lists
/// the positions of its own ([`AccessReportJson`]): the same few entries repeat across the
/// thousands of keys of an account, and written per key they were most of a large report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessReport {
    /// What the analysis never evaluates (service control policies, …), so no entry is read
    /// as final.
    pub not_evaluated: Vec<String>,
    /// One per key of the inventory, in inventory order.
    pub keys: Vec<KeyAccess>,
}

/// Effective access, as the JSON report writes it (its `access` field): each distinct entry
/// once, and each key's entries as positions in that list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct AccessReportJson<E = AccessEntry, K = KeyAccessJson> {
    /// What the analysis never evaluates (service control policies, …), so no entry is read
    /// as final.
    pub not_evaluated: Vec<String>,
    /// Every distinct entry once, in the order the keys first name them.
    pub entries: Vec<E>,
    /// One per key of the inventory, in inventory order.
    pub keys: Vec<K>,
}

/// Who can do what with one key: its entries are positions in `access.entries`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "KeyAccess")]
pub struct KeyAccessJson {
    pub key_arn: String,
    pub account: String,
    pub region: String,
    /// Positions in `access.entries` (from 0), by class, then principal, then path.
    pub entries: Vec<usize>,
    /// Inputs the analysis lacked (the key policy, the grants, the account's IAM policies),
    /// each with why: the entries are incomplete when this is not empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

/// A key's access as written: its fields, borrowed, with its entries' positions.
#[derive(Serialize)]
struct KeyAccessOut<'a> {
    key_arn: &'a str,
    account: &'a str,
    region: &'a str,
    entries: &'a [usize],
    #[serde(skip_serializing_if = "<[Shared<String>]>::is_empty")]
    unknown: &'a [Shared<String>],
}

impl Serialize for AccessReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use std::collections::HashMap;
        // Equal entries are usually one allocation: look the pointer up first, and compare
        // values only for allocations not seen yet, so equal entries share a position whatever
        // the analysis shared.
        let mut by_pointer: HashMap<*const AccessEntry, usize> = HashMap::new();
        let mut by_value: HashMap<&AccessEntry, usize> = HashMap::new();
        let mut entries: Vec<&AccessEntry> = Vec::new();
        let positions: Vec<Vec<usize>> = self
            .keys
            .iter()
            .map(|key| {
                key.entries
                    .iter()
                    .map(|entry| {
                        let pointer = entry.address();
                        *by_pointer.entry(pointer).or_insert_with(|| {
                            *by_value.entry(&**entry).or_insert_with(|| {
                                entries.push(&**entry);
                                entries.len() - 1
                            })
                        })
                    })
                    .collect()
            })
            .collect();
        let keys: Vec<KeyAccessOut<'_>> = self
            .keys
            .iter()
            .zip(&positions)
            .map(|(key, entries)| KeyAccessOut {
                key_arn: &key.key_arn,
                account: &key.account,
                region: &key.region,
                entries,
                unknown: &key.unknown,
            })
            .collect();
        AccessReportJson {
            not_evaluated: self.not_evaluated.clone(),
            entries,
            keys,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AccessReport {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = AccessReportJson::<AccessEntry, KeyAccessJson>::deserialize(deserializer)?;
        let entries: Vec<Shared<AccessEntry>> = json.entries.into_iter().map(Shared::new).collect();
        let mut unknown: Interner<String> = Interner::default();
        let keys = json
            .keys
            .into_iter()
            .map(|key| {
                let shared = key
                    .entries
                    .iter()
                    .map(|&at| {
                        entries.get(at).cloned().ok_or_else(|| {
                            serde::de::Error::custom(format!(
                                "access.keys: key {} names entry {at}, but access.entries has {}",
                                key.key_arn,
                                entries.len()
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, D::Error>>()?;
                Ok(KeyAccess {
                    key_arn: key.key_arn,
                    account: key.account.into(),
                    region: key.region.into(),
                    entries: shared,
                    unknown: key
                        .unknown
                        .into_iter()
                        .map(|text| unknown.intern(text))
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, D::Error>>()?;
        Ok(AccessReport {
            not_evaluated: json.not_evaluated,
            keys,
        })
    }
}

impl JsonSchema for AccessReport {
    fn schema_name() -> Cow<'static, str> {
        "AccessReport".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        AccessReportJson::<AccessEntry, KeyAccessJson>::json_schema(generator)
    }
}

impl AccessReport {
    /// The access of the key with this ARN.
    pub fn key(&self, arn: &str) -> Option<&KeyAccess> {
        self.keys.iter().find(|k| k.key_arn == arn)
    }
}

/// A value shared by every key it appears in (an access entry is often the same for all the
/// keys of an account that share a policy): read, written and described exactly as the value
/// itself.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }

    /// Whether both are the same allocation.
    pub fn same(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The allocation's address: an identity while the value lives.
    pub fn address(&self) -> *const T {
        Arc::as_ptr(&self.0)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Shared::new)
    }
}

impl<T: JsonSchema> JsonSchema for Shared<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// One copy of each distinct value: equal values come back as the same [`Shared`].
#[derive(Debug)]
pub struct Interner<T> {
    seen: std::collections::HashSet<Shared<T>>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            seen: std::collections::HashSet::new(),
        }
    }
}

impl<T: Eq + std::hash::Hash> Interner<T> {
    /// The shared copy of `value`.
    pub fn intern(&mut self, value: T) -> Shared<T> {
        if let Some(found) = self.seen.get(&value) {
            return found.clone();
        }
        let shared = Shared::new(value);
        self.seen.insert(shared.clone());
        shared
    }

    /// The shared copy equal to `shared`: `shared` itself the first time.
    pub fn canonical(&mut self, shared: &Shared<T>) -> Shared<T> {
        if let Some(found) = self.seen.get(&**shared) {
            return found.clone();
        }
        self.seen.insert(shared.clone());
        shared.clone()
    }
}

/// A shared line reads and compares as its text.
impl PartialEq<str> for Shared<String> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Shared<String> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Shared<String> {
    fn eq(&self, other: &String) -> bool {
        **self == *other
    }
}

impl std::fmt::Display for Shared<String> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl<T> std::borrow::Borrow<T> for Shared<T> {
    fn borrow(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(class: ActionClass, account: &str, reason: &str) -> AccessEntry {
        AccessEntry {
            class,
            principal: Principal::AccountRoot {
                account: account.to_string(),
            },
            principal_label: format!("root user of account {account}"),
            actions: vec!["kms:Decrypt".into()],
            path: AccessPath::KeyPolicy {
                statement: 0,
                sid: None,
            },
            path_label: "key policy statement[0]".to_string(),
            conditions: Vec::new(),
            certainty: Certainty::May,
            reason: reason.to_string(),
        }
    }

    fn key(arn: &str, entries: Vec<Shared<AccessEntry>>) -> KeyAccess {
        KeyAccess {
            key_arn: arn.to_string(),
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            entries,
            unknown: Vec::new(),
        }
    }

    #[test]
    fn the_json_report_writes_each_distinct_entry_once_and_reads_it_back() {
        let shared = Shared::new(entry(ActionClass::Use, "111111111111", "a"));
        // Equal to `shared` but another allocation: still one position.
        let twin = Shared::new(entry(ActionClass::Use, "111111111111", "a"));
        let other = Shared::new(entry(ActionClass::Administer, "111111111111", "b"));
        let report = AccessReport {
            not_evaluated: vec!["service control policies".to_string()],
            keys: vec![
                key("arn:k1", vec![shared.clone(), other.clone()]),
                key("arn:k2", vec![twin]),
                key("arn:k3", vec![other, shared]),
            ],
        };
        let json = serde_json::to_value(&report).expect("serialises");
        assert_eq!(json["entries"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["entries"][0]["reason"], "a");
        assert_eq!(json["entries"][1]["reason"], "b");
        let positions: Vec<&serde_json::Value> =
            (0..3).map(|i| &json["keys"][i]["entries"]).collect();
        assert_eq!(
            positions,
            [
                &serde_json::json!([0, 1]),
                &serde_json::json!([0]),
                &serde_json::json!([1, 0])
            ]
        );
        let back: AccessReport = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, report);
    }

    #[test]
    fn a_position_past_the_entries_is_refused_with_the_key() {
        let json = serde_json::json!({
            "not_evaluated": [],
            "entries": [],
            "keys": [{"key_arn": "arn:k1", "account": "1", "region": "r", "entries": [3]}],
        });
        let err = serde_json::from_value::<AccessReport>(json).expect_err("refused");
        assert!(
            err.to_string()
                .contains("key arn:k1 names entry 3, but access.entries has 0"),
            "{err}"
        );
    }
}
