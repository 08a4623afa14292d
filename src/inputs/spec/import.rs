//! What the Terraform and Pulumi importers share: reading a KMS resource's attributes into a
//! [`DeclaredKey`], and linking aliases, replicas and separate key policies to their keys.
//!
//! Identity of an imported key: its alias when it has one (the first in sort order; others are
//! kept in `other_aliases`), so that the import matches live keys the same way a hand-written
//! spec does; the key ARN otherwise. Account and region come from the ARNs in the state.

use std::collections::BTreeMap;

use serde_json::Value;

use super::node::{Kind, Node, Pos};
use super::{DeclaredKey, FieldPath, FieldSource, SpecError};
use crate::model::SpecLocation;
use crate::model::arn::Arn;
use std::sync::Arc;

/// The keys an importer found, and what it could not map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub keys: Vec<DeclaredKey>,
    pub warnings: Vec<String>,
    /// The policy documents not read yet ([`Imported::read_policies`]): empty once imported.
    policies: Vec<PolicyText>,
}

impl Imported {
    /// Reads every policy document as JSON, in file order: an invalid one is an error (even
    /// when another overrides it); each key gets the one that applies to it. [`super::load`]
    /// does it once the document's node tree is dropped, so the two are never held together.
    pub fn read_policies(mut self) -> Result<Imported, Vec<SpecError>> {
        let mut errors = Vec::new();
        for text in std::mem::take(&mut self.policies) {
            match serde_json::from_str::<Value>(&text.text) {
                Ok(mut doc) => {
                    if let Some(i) = text.key {
                        compact(&mut doc);
                        let key = &mut self.keys[i];
                        key.policy = Some(doc);
                        key.fields.insert("policy", text.source);
                    }
                }
                Err(err) => errors.push(SpecError::field(
                    &text.source,
                    format!("the policy is not valid JSON: {err}"),
                )),
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// The kinds of resources that describe KMS keys, in both tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `aws_kms_key` / `aws:kms/key:Key`
    Key,
    /// `aws_kms_external_key` / `aws:kms/externalKey:ExternalKey`
    ExternalKey,
    /// `aws_kms_replica_key` / `aws:kms/replicaKey:ReplicaKey`
    ReplicaKey,
    /// `aws_kms_replica_external_key` / `aws:kms/replicaExternalKey:ReplicaExternalKey`
    ReplicaExternalKey,
    /// `aws_kms_alias` / `aws:kms/alias:Alias`
    Alias,
    /// `aws_kms_key_policy` / `aws:kms/keyPolicy:KeyPolicy`
    KeyPolicy,
}

/// How a tool spells attribute names: Terraform in snake_case, Pulumi in camelCase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Snake,
    Camel,
}

impl Naming {
    fn name(self, snake: &str) -> String {
        match self {
            Naming::Snake => snake.to_string(),
            Naming::Camel => {
                let mut out = String::new();
                let mut upper = false;
                for c in snake.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.push(c.to_ascii_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

/// Every attribute [`Attributes`] is asked for, in snake_case: of a `terraform show -json`, the
/// JSON reader keeps only these ([`super::json::parse_spec`]). A new attribute read must be
/// added here (a test compares imports of the pruned and the whole document).
pub const READ_ATTRIBUTES: &[&str] = &[
    "arn",
    "custom_key_store_id",
    "customer_master_key_spec",
    "deletion_window_in_days",
    "description",
    "enable_key_rotation",
    "enabled",
    "id",
    "is_enabled",
    "key_id",
    "key_spec",
    "key_usage",
    "multi_region",
    "name",
    "name_prefix",
    "policy",
    "primary_key_arn",
    "region",
    "rotation_period_in_days",
    "tags",
    "tags_all",
    "target_key_arn",
    "target_key_id",
];

/// The attributes of one resource instance, read with the tool's naming.
pub struct Attributes<'a> {
    pub node: &'a Node,
    pub naming: Naming,
    pub file: &'a Arc<str>,
    /// The resource's address (Terraform) or URN (Pulumi), for messages (shared by the paths
    /// of its fields).
    pub address: &'a Arc<str>,
    /// The resource's id when the tool keeps it beside the attributes (Pulumi's `id`).
    pub id: Option<&'a str>,
    /// Attributes whose value is withheld (a Pulumi secret): not declared, so not compared.
    pub withheld: &'a [String],
}

impl Attributes<'_> {
    /// The attribute `snake` (in the tool's spelling), unless absent or null.
    fn get(&self, snake: &str) -> Option<(&Node, FieldSource)> {
        debug_assert!(
            READ_ATTRIBUTES.contains(&snake),
            "{snake} not in READ_ATTRIBUTES"
        );
        let name = self.naming.name(snake);
        let (key, node) = self.node.entry(&name)?;
        if node.kind == Kind::Null {
            return None;
        }
        Some((
            node,
            FieldSource {
                file: self.file.clone(),
                pos: key.pos,
                path: FieldPath::attribute(self.address, &name),
            },
        ))
    }

    /// Whether the attribute `snake` was withheld (see [`Attributes::withheld`]).
    fn is_withheld(&self, snake: &str) -> bool {
        let name = self.naming.name(snake);
        self.withheld.contains(&name)
    }

    pub fn string(&self, snake: &str) -> Option<(String, FieldSource)> {
        let (node, source) = self.get(snake)?;
        node.as_str().map(|s| (s.to_string(), source))
    }

    /// A non-empty string.
    pub fn text(&self, snake: &str) -> Option<(String, FieldSource)> {
        self.string(snake).filter(|(s, _)| !s.is_empty())
    }

    pub fn bool(&self, snake: &str) -> Option<(bool, FieldSource)> {
        let (node, source) = self.get(snake)?;
        match node.kind {
            Kind::Bool(b) => Some((b, source)),
            _ => None,
        }
    }

    pub fn u32(&self, snake: &str) -> Option<(u32, FieldSource)> {
        let (node, source) = self.get(snake)?;
        match node.kind {
            Kind::Int(i) => u32::try_from(i).ok().map(|v| (v, source)),
            Kind::Float(f) if f.fract() == 0.0 && f >= 0.0 && f <= f64::from(u32::MAX) => {
                Some((f as u32, source))
            }
            _ => None,
        }
    }

    pub fn string_map(&self, snake: &str) -> Option<(BTreeMap<String, String>, FieldSource)> {
        let (node, source) = self.get(snake)?;
        let entries = node.as_map()?;
        let map = entries
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.name.to_string(), s.to_string())))
            .collect();
        Some((map, source))
    }
}

/// One key resource on its way to a [`DeclaredKey`].
struct PendingKey {
    key: DeclaredKey,
    arn: String,
    /// For replicas: the primary's ARN.
    primary_arn: Option<String>,
    aliases: Vec<(String, FieldSource)>,
    /// The key resource's own `policy` attribute, if set: its index in [`Builder::texts`] (a
    /// separate key policy overrides it).
    inline_policy: Option<usize>,
    /// The policy document that applies to the key (its own, or a separate key policy's).
    applied_policy: Option<usize>,
}

struct PendingAlias {
    name: String,
    target_arn: Option<String>,
    target_id: Option<String>,
    /// From the alias ARN, to tell a multi-Region key's copies apart.
    region: Option<String>,
    account: Option<String>,
    source: FieldSource,
    address: String,
}

struct PendingPolicy {
    key_ref: String,
    /// The Region the policy resource is in, when it says (provider v6 `region`).
    region: Option<String>,
    /// Its policy document: its index in [`Builder::texts`].
    policy: usize,
    address: String,
}

/// A policy document as written in the file, read as JSON once the resources are linked: only
/// the one that applies to each key is kept (a separate key policy overrides the key's own), so
/// a file of 10,000 keys never holds both parsed.
#[derive(Debug, Clone, PartialEq)]
struct PolicyText {
    text: String,
    source: FieldSource,
    /// The key it is the policy of, once linked.
    key: Option<usize>,
}

/// The keys of a document by ARN and by key id (a multi-Region id names several).
#[derive(Default)]
struct KeyIndex {
    by_arn: std::collections::HashMap<String, usize>,
    by_id: std::collections::HashMap<String, Vec<usize>>,
}

/// Gives every list and mapping of a parsed policy the capacity it holds, no more: parsing
/// grows them as it goes (a mapping of 5 statements fields keeps room for 7), and the policies
/// of 10,000 keys are kept for the whole run.
fn compact(value: &mut Value) {
    match value {
        Value::Array(items) => {
            items.shrink_to_fit();
            items.iter_mut().for_each(compact);
        }
        Value::Object(map) => {
            let mut exact: serde_json::Map<String, Value> =
                std::mem::take(map).into_iter().collect();
            exact.values_mut().for_each(compact);
            *map = exact;
        }
        _ => {}
    }
}

/// Sets `key.$field` and remembers where it was read, when the attribute is there.
macro_rules! set {
    ($key:ident, $field:ident, $value:expr) => {
        if let Some((value, source)) = $value {
            $key.$field = Some(value);
            $key.fields.insert(stringify!($field), source);
        }
    };
}

/// Rotation of an `aws_kms_key`: AWS rotates only symmetric keys outside a custom key store,
/// so for the others the state's rotation attributes declare nothing; a period is declared
/// only while rotation is on.
fn read_rotation(key: &mut DeclaredKey, attrs: &Attributes<'_>) {
    let custom_store = attrs.text("custom_key_store_id").is_some();
    let symmetric = key
        .key_spec
        .as_deref()
        .is_none_or(|s| s == "SYMMETRIC_DEFAULT");
    if symmetric && !custom_store {
        set!(key, enable_key_rotation, attrs.bool("enable_key_rotation"));
        if key.enable_key_rotation == Some(true) {
            set!(
                key,
                rotation_period_in_days,
                attrs.u32("rotation_period_in_days").filter(|(d, _)| *d > 0)
            );
        }
    }
}

/// Collects resources, then links them ([`Builder::finish`]).
pub struct Builder {
    file: Arc<str>,
    tool: &'static str,
    keys: Vec<PendingKey>,
    aliases: Vec<PendingAlias>,
    policies: Vec<PendingPolicy>,
    /// Every policy document read, in file order (their errors come in that order).
    texts: Vec<PolicyText>,
    /// Said of every key of the document (a plan's planned values).
    declared_from: Option<String>,
    pub warnings: Vec<String>,
    pub errors: Vec<SpecError>,
}

impl Builder {
    pub fn new(file: &str, tool: &'static str) -> Self {
        Builder {
            file: file.into(),
            tool,
            keys: Vec::new(),
            aliases: Vec::new(),
            policies: Vec::new(),
            texts: Vec::new(),
            declared_from: None,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The file being read, as messages name it (shared by the sources of every field).
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// Every key of this document is declared by `what` (e.g. a plan's planned values): the
    /// evidence of their findings says so.
    pub fn set_declared_from(&mut self, what: &str) {
        self.declared_from = Some(what.to_string());
    }

    /// The document declares no resources at all: a warning, so an empty import is not silent.
    pub fn note_empty(&mut self, pos: Pos, message: &str) {
        self.warnings.push(format!(
            "{}:{}: {message}: no keys declared",
            self.file, pos.line
        ));
    }

    pub fn warn(&mut self, pos: Pos, address: &str, message: impl AsRef<str>) {
        self.warnings.push(format!(
            "{}:{}: {address}: {} (not imported)",
            self.file,
            pos.line,
            message.as_ref()
        ));
    }

    /// Adds one resource instance of a supported kind; `pos` is where the resource is written.
    pub fn add(&mut self, kind: ResourceKind, attrs: &Attributes<'_>, pos: Pos) {
        if attrs.node.as_map().is_none() {
            self.warn(pos, attrs.address, "the resource has no attributes");
            return;
        }
        match kind {
            ResourceKind::Key
            | ResourceKind::ExternalKey
            | ResourceKind::ReplicaKey
            | ResourceKind::ReplicaExternalKey => self.add_key(kind, attrs, pos),
            ResourceKind::Alias => self.add_alias(attrs, pos),
            ResourceKind::KeyPolicy => self.add_policy(attrs, pos),
        }
    }

    /// The resource's policy document, kept as text until [`Builder::finish`] (its index in
    /// `texts`).
    fn policy(&mut self, attrs: &Attributes<'_>) -> Option<usize> {
        let (text, source) = attrs.text("policy")?;
        self.texts.push(PolicyText {
            text,
            source,
            key: None,
        });
        Some(self.texts.len() - 1)
    }

    /// A key resource: its ARN gives the key's identity, account and region (without one it
    /// is not imported); its attributes the declared fields.
    fn add_key(&mut self, kind: ResourceKind, attrs: &Attributes<'_>, pos: Pos) {
        let Some((arn, arn_source)) = self.key_arn(attrs, pos) else {
            return;
        };
        let Some(parsed) = Arn::parse_kms(&arn).filter(Arn::is_key) else {
            self.warn(
                pos,
                attrs.address,
                format!("\"{arn}\" is not a KMS key ARN"),
            );
            return;
        };
        let mut key = self.new_key(attrs, pos, &parsed, arn_source);
        let inline_policy = self.read_common_fields(&mut key, attrs);
        let primary_arn = self.read_kind_fields(kind, &mut key, attrs, pos);
        if key.multi_region == Some(true) && primary_arn.is_none() {
            key.replica_regions = Some(Vec::new());
        }
        self.keys.push(PendingKey {
            key,
            arn,
            primary_arn,
            aliases: Vec::new(),
            inline_policy,
            applied_policy: inline_policy,
        });
    }

    /// The key's ARN, or a warning that says why it has none (a secret, a key a plan creates,
    /// a key never created).
    fn key_arn(&mut self, attrs: &Attributes<'_>, pos: Pos) -> Option<(String, FieldSource)> {
        let found = attrs.text("arn");
        if found.is_none() {
            let why = if attrs.is_withheld("arn") {
                "the key's ARN is a secret in the export"
            } else if self.declared_from.is_some() {
                "the key has no ARN in the plan (a key the plan creates: its ARN is known only \
                 after apply)"
            } else {
                "the key has no ARN in the state (never created?)"
            };
            self.warn(pos, attrs.address, why);
        }
        found
    }

    /// A declared key with what its ARN and the resource's place say: location, source,
    /// account, region, and where each was read.
    fn new_key(
        &self,
        attrs: &Attributes<'_>,
        pos: Pos,
        parsed: &Arn<'_>,
        arn_source: FieldSource,
    ) -> DeclaredKey {
        let mut key = DeclaredKey {
            location: SpecLocation {
                file: self.file.to_string(),
                line: pos.line,
            },
            source: Some(format!("{}: {}", self.tool, attrs.address)),
            account: parsed.account.to_string(),
            region: parsed.region.to_string(),
            declared_from: self.declared_from.clone(),
            ..DeclaredKey::default()
        };
        key.fields.insert(
            super::KEY_ENTRY,
            FieldSource {
                file: self.file.clone(),
                pos,
                path: FieldPath::new(attrs.address.clone()),
            },
        );
        key.fields.insert("account", arn_source.clone());
        key.fields.insert("region", arn_source.clone());
        key.fields.insert("key_arn", arn_source);
        key
    }

    /// The fields every kind of key resource has. Returns the resource's own `policy`, if set
    /// (a separate key policy resource then overrides it, and the evidence says so).
    fn read_common_fields(
        &mut self,
        key: &mut DeclaredKey,
        attrs: &Attributes<'_>,
    ) -> Option<usize> {
        set!(key, description, attrs.string("description"));
        set!(
            key,
            key_spec,
            attrs
                .text("customer_master_key_spec")
                .or_else(|| attrs.text("key_spec"))
        );
        set!(key, key_usage, attrs.text("key_usage"));
        set!(
            key,
            enabled,
            attrs.bool("is_enabled").or_else(|| attrs.bool("enabled"))
        );
        set!(
            key,
            deletion_window_in_days,
            attrs.u32("deletion_window_in_days")
        );
        set!(
            key,
            tags,
            attrs
                .string_map("tags_all")
                .or_else(|| attrs.string_map("tags"))
        );
        let inline_policy = self.policy(attrs);
        if key.tags.is_none() && !attrs.is_withheld("tags") && !attrs.is_withheld("tags_all") {
            // No tags in the state: the tool declares none.
            key.tags = Some(BTreeMap::new());
        }
        inline_policy
    }

    /// The fields that depend on the kind of key resource: multi-Region and rotation for a
    /// key, the primary for a replica. Returns a replica's primary ARN.
    fn read_kind_fields(
        &mut self,
        kind: ResourceKind,
        key: &mut DeclaredKey,
        attrs: &Attributes<'_>,
        pos: Pos,
    ) -> Option<String> {
        let mut primary_arn = None;
        match kind {
            ResourceKind::Key => {
                set!(key, multi_region, attrs.bool("multi_region"));
                read_rotation(key, attrs);
            }
            ResourceKind::ExternalKey => {
                set!(key, multi_region, attrs.bool("multi_region"));
            }
            ResourceKind::ReplicaKey | ResourceKind::ReplicaExternalKey => {
                key.multi_region = Some(true);
                primary_arn = attrs.text("primary_key_arn").map(|(a, _)| a);
                if primary_arn.is_none() {
                    self.warnings.push(format!(
                        "{}:{}: {}: the replica names no primary key; its region is not added \
                         to any replica_regions",
                        self.file, pos.line, attrs.address
                    ));
                }
            }
            ResourceKind::Alias | ResourceKind::KeyPolicy => {}
        }
        primary_arn
    }

    fn add_alias(&mut self, attrs: &Attributes<'_>, pos: Pos) {
        let alias_arn = attrs.text("arn").map(|(a, _)| a);
        let parsed = alias_arn.as_deref().and_then(Arn::parse_kms);
        // An alias made with `name_prefix` may leave `name` empty: its real name is its id
        // (`alias/...`) and the last part of its ARN.
        let from_id = || {
            attrs
                .text("id")
                .or_else(|| {
                    attrs.id.filter(|id| !id.is_empty()).map(|id| {
                        (
                            id.to_string(),
                            FieldSource {
                                file: self.file.clone(),
                                pos,
                                path: FieldPath::attribute(attrs.address, "id"),
                            },
                        )
                    })
                })
                .filter(|(id, _)| id.starts_with("alias/"))
        };
        let from_arn = || {
            parsed.as_ref().and_then(Arn::alias_name).and_then(|name| {
                attrs
                    .text("arn")
                    .map(|(_, source)| (name.to_string(), source))
            })
        };
        let Some((name, source)) = attrs.text("name").or_else(from_id).or_else(from_arn) else {
            let why = match attrs.text("name_prefix") {
                Some((prefix, _)) => format!(
                    "the alias has only a name_prefix ({prefix}): its name is known only after \
                     apply"
                ),
                None if attrs.is_withheld("name") => {
                    "the alias's name is a secret in the export".to_string()
                }
                None => "the alias has no name".to_string(),
            };
            self.warn(pos, attrs.address, why);
            return;
        };
        self.aliases.push(PendingAlias {
            name,
            target_arn: attrs.text("target_key_arn").map(|(a, _)| a),
            target_id: attrs.text("target_key_id").map(|(a, _)| a),
            region: parsed.as_ref().map(|a| a.region.to_string()),
            account: parsed.as_ref().map(|a| a.account.to_string()),
            source,
            address: attrs.address.to_string(),
        });
    }

    fn add_policy(&mut self, attrs: &Attributes<'_>, pos: Pos) {
        let Some((key_ref, _)) = attrs.text("key_id") else {
            self.warn(pos, attrs.address, "the key policy names no key");
            return;
        };
        let Some(policy) = self.policy(attrs) else {
            self.warn(pos, attrs.address, "the key policy has no policy document");
            return;
        };
        self.policies.push(PendingPolicy {
            key_ref,
            region: attrs.text("region").map(|(r, _)| r),
            policy,
            address: attrs.address.to_string(),
        });
    }

    /// The index of the key a reference (key ARN, or key id plus the region/account it must
    /// be in) names. A bare multi-Region key id names the primary first.
    fn find(
        &self,
        index: &KeyIndex,
        reference: &str,
        region: Option<&str>,
        account: Option<&str>,
    ) -> Option<usize> {
        if let Some(&i) = index.by_arn.get(reference) {
            return Some(i);
        }
        let id = Arn::parse_kms(reference)
            .and_then(|a| a.key_id())
            .unwrap_or(reference);
        let candidates = index.by_id.get(id)?;
        let matches = |i: &&usize| {
            let k = &self.keys[**i];
            region.is_none_or(|r| r == k.key.region) && account.is_none_or(|a| a == k.key.account)
        };
        candidates
            .iter()
            .filter(matches)
            .find(|i| self.keys[**i].primary_arn.is_none())
            .or_else(|| candidates.iter().find(matches))
            .copied()
    }

    /// Links aliases, replicas and key policies to their keys and gives each key its identity;
    /// the policy documents are left for [`Imported::read_policies`]. Policies link first, then
    /// aliases, then replicas: the warnings come in that order.
    pub fn finish_unread(mut self) -> Result<Imported, Vec<SpecError>> {
        let index = self.index();
        self.link_policies(&index);
        self.link_aliases(&index);
        self.link_replicas(&index);
        for (i, key) in self.keys.iter().enumerate() {
            if let Some(text) = key.applied_policy {
                self.texts[text].key = Some(i);
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(Imported {
            keys: self
                .keys
                .into_iter()
                .map(PendingKey::into_declared)
                .collect(),
            warnings: self.warnings,
            policies: self.texts,
        })
    }

    /// Joins look keys up by ARN and id: an index, so 10,000 keys join in linear time.
    fn index(&self) -> KeyIndex {
        let mut index = KeyIndex::default();
        for (i, k) in self.keys.iter().enumerate() {
            index.by_arn.entry(k.arn.clone()).or_insert(i);
            if let Some(id) = Arn::parse_kms(&k.arn).and_then(|a| a.key_id()) {
                index.by_id.entry(id.to_string()).or_default().push(i);
            }
        }
        index
    }

    /// Gives each separate key policy resource to its key; one whose key is not in the file
    /// is a warning.
    fn link_policies(&mut self, index: &KeyIndex) {
        for policy in std::mem::take(&mut self.policies) {
            match self.find(index, &policy.key_ref, policy.region.as_deref(), None) {
                Some(i) => self.keys[i].take_policy(policy),
                None => self.warnings.push(format!(
                    "{}:{}: {}: the key policy is for {}, which is not in this file (not \
                     imported)",
                    self.file,
                    self.texts[policy.policy].source.pos.line,
                    policy.address,
                    policy.key_ref
                )),
            }
        }
    }

    /// Gives each alias to the key it targets (by ARN, else by key id in the alias's region
    /// and account); one whose key is not in the file is a warning.
    fn link_aliases(&mut self, index: &KeyIndex) {
        for alias in std::mem::take(&mut self.aliases) {
            let found = alias
                .target_arn
                .as_deref()
                .and_then(|arn| self.find(index, arn, None, None))
                .or_else(|| {
                    alias.target_id.as_deref().and_then(|id| {
                        self.find(index, id, alias.region.as_deref(), alias.account.as_deref())
                    })
                });
            match found {
                Some(i) => self.keys[i].aliases.push((alias.name, alias.source)),
                None => self.warnings.push(format!(
                    "{}:{}: {}: {} targets {}, which is not in this file (not imported)",
                    self.file,
                    alias.source.pos.line,
                    alias.address,
                    alias.name,
                    // `target_key_id` is what the configuration names; the provider always
                    // derives `target_key_arn` from it.
                    alias
                        .target_id
                        .or(alias.target_arn)
                        .unwrap_or_else(|| "no key".to_string())
                )),
            }
        }
    }

    /// Adds each replica's region to its primary's `replica_regions`, so the primary declares
    /// its replicas as a hand-written spec does; a primary not in the file is a warning.
    fn link_replicas(&mut self, index: &KeyIndex) {
        let replicas: Vec<(usize, String, String)> = self
            .keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                k.primary_arn
                    .clone()
                    .map(|primary| (i, primary, k.key.region.clone()))
            })
            .collect();
        for (i, primary_arn, region) in replicas {
            match index.by_arn.get(&primary_arn).copied() {
                Some(p) => {
                    let primary = &mut self.keys[p].key;
                    primary
                        .replica_regions
                        .get_or_insert_with(Vec::new)
                        .push(region);
                    if let Some(source) = self.keys[i].key.fields.get("key_arn").cloned() {
                        self.keys[p]
                            .key
                            .fields
                            .entry("replica_regions")
                            .or_insert(source);
                    }
                }
                None => self.warnings.push(format!(
                    "{}:{}: {}: the primary key {primary_arn} is not in this file; the replica \
                     is imported, but its region is not added to any replica_regions",
                    self.file,
                    self.keys[i].key.location.line,
                    self.keys[i].key.source.clone().unwrap_or_default()
                )),
            }
        }
    }
}

impl PendingKey {
    /// A separate key policy resource wins over the key's own `policy`: it is what Terraform
    /// applies last (and what it recommends). The evidence names it, and what it overrides.
    fn take_policy(&mut self, policy: PendingPolicy) {
        self.applied_policy = Some(policy.policy);
        let key_address = self
            .key
            .fields
            .get(super::KEY_ENTRY)
            .map(|s| s.path.to_string())
            .unwrap_or_default();
        self.key.policy_from = Some(if self.inline_policy.is_some() {
            format!(
                "{}, which overrides the policy attribute of {key_address}",
                policy.address
            )
        } else {
            policy.address.clone()
        });
    }

    /// The finished key: identified by its first alias in sort order (the others kept in
    /// `other_aliases`) so it matches live keys as a hand-written spec does, else by its ARN;
    /// replica regions sorted, so the output does not depend on the file's order.
    fn into_declared(mut self) -> DeclaredKey {
        self.aliases.sort_by(|a, b| a.0.cmp(&b.0));
        self.aliases.dedup_by(|a, b| a.0 == b.0);
        let mut aliases = self.aliases.into_iter();
        let key = &mut self.key;
        match aliases.next() {
            Some((alias, source)) => {
                key.alias = Some(alias);
                key.fields.insert("alias", source);
                key.other_aliases = aliases.map(|(a, _)| a).collect();
            }
            None => key.key_arn = Some(self.arn),
        }
        if let Some(regions) = &mut key.replica_regions {
            regions.sort();
        }
        self.key
    }
}
