//! kms-audit's own spec format (YAML or JSON):
//!
//! ```yaml
//! defaults: {account: "111111111111", region: us-east-1, tags: {owner: platform}}
//! keys:
//!   - alias: alias/payments            # or key_arn: arn:aws:kms:…
//!     description: Payments data key
//!     enable_key_rotation: true
//!     rotation_period_in_days: 180
//!     tags: {team: payments}
//!     policy_file: policies/payments.json
//! ```
//!
//! `defaults` may hold every key field except the identity (`alias`, `key_arn`), `description`
//! and `replica_regions`. A key's own value wins; `tags` are merged (the key's tags win);
//! rotation defaults are not applied to a key whose declared `key_spec` cannot rotate.
//! Unknown fields and wrong types are errors with file, line and field.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::node::{Key, Kind, Node, Pos};
use super::{DeclaredKey, FieldPath, FieldSource, SpecError};
use crate::model::SpecLocation;
use crate::model::arn::Arn;

/// Fields of a key entry.
pub const KEY_FIELDS: &[&str] = &[
    "alias",
    "key_arn",
    "account",
    "region",
    "description",
    "key_spec",
    "key_usage",
    "enabled",
    "enable_key_rotation",
    "rotation_period_in_days",
    "multi_region",
    "replica_regions",
    "deletion_window_in_days",
    "tags",
    "policy",
    "policy_file",
];

/// Fields `defaults` may hold.
pub const DEFAULT_FIELDS: &[&str] = &[
    "account",
    "region",
    "key_spec",
    "key_usage",
    "enabled",
    "enable_key_rotation",
    "rotation_period_in_days",
    "multi_region",
    "deletion_window_in_days",
    "tags",
    "policy",
    "policy_file",
];

const TOP_FIELDS: &[&str] = &["defaults", "keys"];

/// Reads a kms-audit spec document: its declared keys (defaults merged, policy files read) and
/// every problem found. `path` locates `policy_file`s.
pub fn read(doc: &Node, file: &str, path: &Path) -> (Vec<DeclaredKey>, Vec<SpecError>) {
    let mut reader = Reader {
        file,
        shared_file: file.into(),
        base_dir: path.parent().unwrap_or(Path::new("")),
        errors: Vec::new(),
    };
    let mut keys = Vec::new();
    let top = match &doc.kind {
        Kind::Null => return (keys, reader.errors),
        Kind::Map(entries) => entries,
        _ => {
            reader.error(
                doc.pos,
                None,
                format!(
                    "a spec is a mapping with `defaults` and `keys`, found {}",
                    doc.describe()
                ),
            );
            return (keys, reader.errors);
        }
    };
    reader.unknown_fields(top, TOP_FIELDS, "");
    let defaults = match doc.get("defaults") {
        Some(node) if node.kind != Kind::Null => reader.fields(node, "defaults", DEFAULT_FIELDS),
        _ => DeclaredKey::default(),
    };
    match doc.get("keys") {
        None => {}
        Some(Node {
            kind: Kind::Null, ..
        }) => {}
        Some(Node {
            kind: Kind::Seq(items),
            ..
        }) => {
            for (index, item) in items.iter().enumerate() {
                let path = format!("keys[{index}]");
                if item.as_map().is_none() {
                    reader.error(
                        item.pos,
                        Some(path),
                        format!("expected a key (a mapping), found {}", item.describe()),
                    );
                    continue;
                }
                let mut key = reader.fields(item, &path, KEY_FIELDS);
                key.fields.insert(
                    super::KEY_ENTRY,
                    FieldSource {
                        file: reader.shared_file.clone(),
                        pos: item.pos,
                        path: FieldPath::new(path.as_str()),
                    },
                );
                key.location = SpecLocation {
                    file: file.to_string(),
                    line: item.pos.line,
                };
                merge_defaults(&mut key, &defaults);
                resolve_identity(&mut key, &mut reader.errors);
                keys.push(key);
            }
        }
        Some(other) => reader.error(
            other.pos,
            Some("keys".into()),
            format!("expected a list of keys, found {}", other.describe()),
        ),
    }
    (keys, reader.errors)
}

/// Fills in what the key leaves out from `defaults` (tags are merged, the key's win).
fn merge_defaults(key: &mut DeclaredKey, defaults: &DeclaredKey) {
    macro_rules! inherit {
        ($($field:ident),*) => {$(
            if key.$field.is_none() && defaults.$field.is_some() {
                key.$field = defaults.$field.clone();
                if let Some(source) = defaults.fields.get(stringify!($field)) {
                    key.fields.insert(stringify!($field), source.clone());
                }
            }
        )*};
    }
    for (field, own, default) in [
        ("account", &mut key.account, &defaults.account),
        ("region", &mut key.region, &defaults.region),
    ] {
        if own.is_empty() && !default.is_empty() {
            own.clone_from(default);
            if let Some(source) = defaults.fields.get(field) {
                key.fields.insert(field, source.clone());
            }
        }
    }
    inherit!(key_spec, key_usage, enabled, multi_region);
    inherit!(deletion_window_in_days);
    let rotatable = key
        .key_spec
        .as_deref()
        .is_none_or(|spec| spec == "SYMMETRIC_DEFAULT");
    if rotatable {
        inherit!(enable_key_rotation, rotation_period_in_days);
    }
    if key.policy.is_none() {
        inherit!(policy, policy_file);
    }
    if let Some(default_tags) = &defaults.tags {
        let mut tags = default_tags.clone();
        match key.tags.take() {
            Some(own) => tags.extend(own),
            None => {
                if let Some(source) = defaults.fields.get("tags") {
                    key.fields.insert("tags", source.clone());
                }
            }
        }
        key.tags = Some(tags);
    }
}

/// A key named by ARN takes its account and region from the ARN; an alias ARN is an alias.
fn resolve_identity(key: &mut DeclaredKey, errors: &mut Vec<SpecError>) {
    let Some(arn_text) = key.key_arn.clone() else {
        return;
    };
    let Some(arn) = Arn::parse_kms(&arn_text) else {
        return; // validate() reports the malformed ARN
    };
    for (field, value, from_arn) in [
        ("account", &key.account, arn.account),
        ("region", &key.region, arn.region),
    ] {
        let source = key.field_source(field);
        let own = !source.path.to_string().starts_with("defaults");
        if key.fields.contains_key(field) && own && value != from_arn {
            errors.push(SpecError::field(
                &source,
                format!("\"{value}\" contradicts key_arn, which is in {field} {from_arn}"),
            ));
        }
    }
    key.account = arn.account.to_string();
    key.region = arn.region.to_string();
    let arn_source = key.field_source("key_arn");
    key.fields.insert("account", arn_source.clone());
    key.fields.insert("region", arn_source.clone());
    if arn.resource.starts_with("alias/") {
        if key.alias.as_deref().is_some_and(|a| a != arn.resource) {
            errors.push(SpecError::field(
                &arn_source,
                format!(
                    "the alias ARN names {} but alias is {}",
                    arn.resource,
                    key.alias.as_deref().unwrap_or_default()
                ),
            ));
        }
        key.alias = Some(arn.resource.to_string());
        key.fields.insert("alias", arn_source);
        key.key_arn = None;
    }
}

struct Reader<'a> {
    file: &'a str,
    shared_file: std::sync::Arc<str>,
    base_dir: &'a Path,
    errors: Vec<SpecError>,
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, field: Option<String>, message: impl Into<String>) {
        self.errors
            .push(SpecError::at(self.file, pos, field, message));
    }

    fn unknown_fields(&mut self, entries: &[(Key, Node)], allowed: &[&str], prefix: &str) {
        for (key, _) in entries {
            if !allowed.contains(&key.name.as_str()) {
                let hint = if prefix == "defaults" && KEY_FIELDS.contains(&key.name.as_str()) {
                    " (it can only be set on a key)".to_string()
                } else {
                    format!(", expected one of: {}", allowed.join(", "))
                };
                let field = if prefix.is_empty() {
                    key.name.to_string()
                } else {
                    format!("{prefix}.{}", key.name)
                };
                self.error(key.pos, Some(field), format!("unknown field{hint}"));
            }
        }
    }

    /// Reads the fields of a key entry or of `defaults` (`path` is `keys[2]` or `defaults`).
    fn fields(&mut self, node: &Node, path: &str, allowed: &[&'static str]) -> DeclaredKey {
        let mut key = DeclaredKey::default();
        let Some(entries) = node.as_map() else {
            self.error(
                node.pos,
                Some(path.to_string()),
                format!("expected a mapping, found {}", node.describe()),
            );
            return key;
        };
        self.unknown_fields(entries, allowed, path);
        let both_policies = node.get("policy").is_some() && node.get("policy_file").is_some();
        for (name, value) in entries {
            let Some(field) = allowed.iter().find(|f| **f == name.name) else {
                continue;
            };
            let field_path = format!("{path}.{field}");
            let source = FieldSource {
                file: self.shared_file.clone(),
                pos: name.pos,
                path: FieldPath::new(field_path.as_str()),
            };
            if value.kind == Kind::Null || (both_policies && *field == "policy_file") {
                // `field: ~` is the same as leaving the field out; with both policy fields
                // the file is not read (the error below says why).
                continue;
            }
            let set = match *field {
                "alias" => self.string(value, &field_path).map(|v| key.alias = Some(v)),
                "key_arn" => self
                    .string(value, &field_path)
                    .map(|v| key.key_arn = Some(v)),
                "account" => self.account(value, &field_path).map(|v| key.account = v),
                "region" => self.string(value, &field_path).map(|v| key.region = v),
                "description" => self
                    .string(value, &field_path)
                    .map(|v| key.description = Some(v)),
                "key_spec" => self
                    .string(value, &field_path)
                    .map(|v| key.key_spec = Some(v)),
                "key_usage" => self
                    .string(value, &field_path)
                    .map(|v| key.key_usage = Some(v)),
                "enabled" => self.bool(value, &field_path).map(|v| key.enabled = Some(v)),
                "enable_key_rotation" => self
                    .bool(value, &field_path)
                    .map(|v| key.enable_key_rotation = Some(v)),
                "multi_region" => self
                    .bool(value, &field_path)
                    .map(|v| key.multi_region = Some(v)),
                "rotation_period_in_days" => self
                    .u32(value, &field_path)
                    .map(|v| key.rotation_period_in_days = Some(v)),
                "deletion_window_in_days" => self
                    .u32(value, &field_path)
                    .map(|v| key.deletion_window_in_days = Some(v)),
                "replica_regions" => self
                    .string_list(value, &field_path)
                    .map(|v| key.replica_regions = Some(v)),
                "tags" => self.tags(value, &field_path).map(|v| key.tags = Some(v)),
                "policy" => self
                    .policy(value, &field_path)
                    .map(|v| key.policy = Some(v)),
                "policy_file" => self.policy_file(value, &field_path).map(|(text, doc)| {
                    key.policy_file = Some(text);
                    key.policy = Some(doc);
                }),
                _ => None,
            };
            if set.is_some() {
                key.fields.insert(field, source);
            }
        }
        if both_policies && let Some((both, _)) = node.entry("policy_file") {
            self.error(
                both.pos,
                Some(format!("{path}.policy_file")),
                "set either `policy` or `policy_file`, not both",
            );
        }
        key
    }

    fn type_error(&mut self, node: &Node, path: &str, expected: &str) {
        self.error(
            node.pos,
            Some(path.to_string()),
            format!("expected {expected}, found {}", node.describe()),
        );
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.to_string()),
            _ => {
                self.type_error(node, path, "a string");
                None
            }
        }
    }

    /// Account ids are strings; an unquoted 12-digit number is accepted as the same id.
    fn account(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.to_string()),
            Kind::Int(i) if i.to_string().len() == 12 => Some(i.to_string()),
            _ => {
                self.error(
                    node.pos,
                    Some(path.to_string()),
                    format!(
                        "expected a 12-digit account id in quotes (\"111111111111\"), found {}",
                        node.describe()
                    ),
                );
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            _ => {
                self.type_error(node, path, "true or false");
                None
            }
        }
    }

    fn u32(&mut self, node: &Node, path: &str) -> Option<u32> {
        match &node.kind {
            Kind::Int(i) => match u32::try_from(*i) {
                Ok(v) => Some(v),
                Err(_) => {
                    self.type_error(node, path, "a whole number of days");
                    None
                }
            },
            _ => {
                self.type_error(node, path, "a whole number of days");
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let Some(items) = node.as_seq() else {
            self.type_error(node, path, "a list of strings");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.string(item, &format!("{path}[{i}]")) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Tag values are strings; numbers are accepted as their text (`cost-center: 1234`).
    fn tags(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        let Some(entries) = node.as_map() else {
            self.type_error(node, path, "a mapping of tag names to values");
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in entries {
            let text = match &value.kind {
                Kind::Str(s) => Some(s.to_string()),
                Kind::Int(i) => Some(i.to_string()),
                Kind::Float(f) => Some(f.to_string()),
                _ => None,
            };
            match text {
                Some(text) => {
                    out.insert(key.name.to_string(), text);
                }
                None => {
                    ok = false;
                    self.type_error(
                        value,
                        &format!("{path}.{}", key.name),
                        "a string tag value (quote values such as \"true\" or \"on\")",
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// An inline policy: a mapping, or a string holding the JSON document.
    fn policy(&mut self, node: &Node, path: &str) -> Option<Value> {
        match &node.kind {
            Kind::Map(_) => Some(node.to_json()),
            Kind::Str(text) => match serde_json::from_str::<Value>(text) {
                Ok(doc) => Some(doc),
                Err(err) => {
                    self.error(
                        node.pos,
                        Some(path.to_string()),
                        format!("the policy string is not valid JSON: {err}"),
                    );
                    None
                }
            },
            _ => {
                self.type_error(node, path, "a policy document (a mapping or a JSON string)");
                None
            }
        }
    }

    /// Reads the JSON policy document `policy_file` names, relative to the spec file.
    fn policy_file(&mut self, node: &Node, path: &str) -> Option<(String, Value)> {
        let text = self.string(node, path)?;
        let full = self.base_dir.join(&text);
        let contents =
            match crate::inputs::input::read_text(&full, crate::inputs::input::POLICY_LIMIT) {
                Ok(contents) => contents,
                Err(err) => {
                    self.error(
                        node.pos,
                        Some(path.to_string()),
                        format!("cannot read the policy file {}: {err}", full.display()),
                    );
                    return None;
                }
            };
        match serde_json::from_str::<Value>(&contents) {
            Ok(doc) => Some((text, doc)),
            Err(err) => {
                let message = err.to_string();
                let suffix = format!(" at line {} column {}", err.line(), err.column());
                let message = message.strip_suffix(&suffix).unwrap_or(&message);
                self.error(
                    node.pos,
                    Some(path.to_string()),
                    format!(
                        "the policy file {}:{}:{} is not valid JSON: {message}",
                        full.display(),
                        err.line(),
                        err.column()
                    ),
                );
                None
            }
        }
    }
}
