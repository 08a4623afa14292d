//! A `pulumi stack export` as declared specs: `aws:kms/key:Key`, `aws:kms/externalKey:ExternalKey`,
//! `aws:kms/replicaKey:ReplicaKey`, `aws:kms/replicaExternalKey:ReplicaExternalKey`,
//! `aws:kms/alias:Alias` (`name` or `namePrefix`) and `aws:kms/keyPolicy:KeyPolicy` resources,
//! read from their `outputs` (what Pulumi last saw), at any depth of component parents. A
//! backend's own checkpoint file (`{"checkpoint": {"latest": ...}}`) reads the same.
//!
//! Secrets: an output Pulumi keeps encrypted (`{"4dabf18193072939515e22adb298388d": ...,
//! "ciphertext": ...}`) is not declared — a warning names the field — so it is never compared
//! with a wrong value; one exported with `--show-secrets` (`"plaintext"`) is read.
//!
//! Resources pending deletion (`"delete": true`, left over from a replacement) are ignored.

use super::SpecError;
use super::import::{Attributes, Builder, Imported, Naming, ResourceKind};
use super::node::{Key, Kind, Node};

/// Pulumi marks secret values with this signature key.
pub const SECRET_SIG: &str = "4dabf18193072939515e22adb298388d";

/// The outputs this importer reads (a secret elsewhere is no concern of drift).
const READ_OUTPUTS: &[&str] = &[
    "arn",
    "id",
    "description",
    "customerMasterKeySpec",
    "keySpec",
    "keyUsage",
    "isEnabled",
    "enabled",
    "deletionWindowInDays",
    "tags",
    "tagsAll",
    "policy",
    "multiRegion",
    "enableKeyRotation",
    "rotationPeriodInDays",
    "customKeyStoreId",
    "primaryKeyArn",
    "name",
    "namePrefix",
    "targetKeyArn",
    "targetKeyId",
    "keyId",
    "region",
];

fn kind_of(resource_type: &str) -> Option<ResourceKind> {
    Some(match resource_type {
        "aws:kms/key:Key" => ResourceKind::Key,
        "aws:kms/externalKey:ExternalKey" => ResourceKind::ExternalKey,
        "aws:kms/replicaKey:ReplicaKey" => ResourceKind::ReplicaKey,
        "aws:kms/replicaExternalKey:ReplicaExternalKey" => ResourceKind::ReplicaExternalKey,
        "aws:kms/alias:Alias" => ResourceKind::Alias,
        "aws:kms/keyPolicy:KeyPolicy" => ResourceKind::KeyPolicy,
        _ => return None,
    })
}

/// Whether a document is a Pulumi export or checkpoint.
pub fn is_pulumi(doc: &Node) -> bool {
    (doc.get("deployment").is_some() && doc.get("version").is_some())
        || doc
            .get("checkpoint")
            .is_some_and(|c| c.get("latest").is_some() || c.get("stack").is_some())
}

/// Reads the KMS keys of a Pulumi stack export document.
pub fn import(doc: &Node, file: &str) -> Result<Imported, Vec<SpecError>> {
    import_unread(doc, file)?.read_policies()
}

/// [`import`], the policy documents left unread ([`Imported::read_policies`]): so that the
/// caller can drop the document (and its text) before they are parsed, as [`super::load`] does.
pub fn import_unread(doc: &Node, file: &str) -> Result<Imported, Vec<SpecError>> {
    let deployment = doc
        .get("deployment")
        .or_else(|| doc.get("checkpoint").and_then(|c| c.get("latest")));
    let Some(deployment) = deployment.filter(|d| d.as_map().is_some()) else {
        if doc.get("checkpoint").is_some() {
            // A stack that was never deployed.
            let mut builder = Builder::new(file, "pulumi");
            builder.note_empty(doc.pos, "the Pulumi checkpoint has no deployment");
            return builder.finish_unread();
        }
        return Err(vec![SpecError::at(
            file,
            doc.pos,
            Some("deployment".into()),
            "the Pulumi export has no deployment",
        )]);
    };
    let mut builder = Builder::new(file, "pulumi");
    let resources = deployment
        .get("resources")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    let shared_file = builder.file().clone();
    for resource in resources {
        let Some(resource_type) = resource.get("type").and_then(Node::as_str) else {
            continue;
        };
        let Some(kind) = kind_of(resource_type) else {
            continue;
        };
        if resource.get("delete").and_then(|d| d.to_json().as_bool()) == Some(true) {
            continue;
        }
        let urn = resource
            .get("urn")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let name = urn.rsplit("::").next().unwrap_or(urn);
        let address: std::sync::Arc<str> = format!("{resource_type}::{name}").into();
        let pos = resource
            .entry("urn")
            .map_or(resource.pos, |(key, _)| key.pos);
        let Some(outputs) = resource.get("outputs") else {
            builder.warn(pos, &address, "the resource has no outputs");
            continue;
        };
        let (outputs, withheld) = reveal(outputs);
        for (field, line) in &withheld {
            builder.warnings.push(format!(
                "{file}:{line}: {address}: {field} is a secret in the export and is not compared \
                 (export with --show-secrets to compare it)"
            ));
        }
        let withheld: Vec<String> = withheld.into_iter().map(|(field, _)| field).collect();
        builder.add(
            kind,
            &Attributes {
                node: &outputs,
                naming: Naming::Camel,
                file: &shared_file,
                address: &address,
                id: resource.get("id").and_then(Node::as_str),
                withheld: &withheld,
            },
            pos,
        );
    }
    builder.finish_unread()
}

/// The outputs with secrets resolved: a plaintext secret is replaced by its value; an output
/// holding an encrypted secret (at any depth) is dropped and returned with its line.
fn reveal(outputs: &Node) -> (std::borrow::Cow<'_, Node>, Vec<(String, u64)>) {
    let Some(entries) = outputs.as_map() else {
        return (std::borrow::Cow::Borrowed(outputs), Vec::new());
    };
    if !entries.iter().any(|(_, v)| has_secret(v)) {
        return (std::borrow::Cow::Borrowed(outputs), Vec::new());
    }
    let mut withheld = Vec::new();
    let mut kept: Vec<(Key, Node)> = Vec::new();
    for (key, value) in entries {
        if !has_secret(value) {
            kept.push((key.clone(), value.clone()));
            continue;
        }
        match plaintext(value) {
            Some(node) if READ_OUTPUTS.contains(&key.name.as_str()) => {
                kept.push((key.clone(), node))
            }
            Some(_) => {}
            None => {
                if READ_OUTPUTS.contains(&key.name.as_str()) {
                    withheld.push((key.name.to_string(), key.pos.line));
                }
            }
        }
    }
    (
        std::borrow::Cow::Owned(Node {
            pos: outputs.pos,
            kind: Kind::Map(kept),
        }),
        withheld,
    )
}

fn has_secret(node: &Node) -> bool {
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .any(|(k, v)| k.name == SECRET_SIG || has_secret(v)),
        Kind::Seq(items) => items.iter().any(has_secret),
        _ => false,
    }
}

/// The value of a secret exported in plaintext (`"plaintext"` holds its JSON), at the secret's
/// place; `None` if it (or a secret inside it) is encrypted.
fn plaintext(node: &Node) -> Option<Node> {
    match &node.kind {
        Kind::Map(entries) if node.get(SECRET_SIG).is_some() => {
            let text = entries
                .iter()
                .find(|(k, _)| k.name == "plaintext")?
                .1
                .as_str()?;
            let mut value = super::parse_document(text, "").ok()?;
            relocate(&mut value, node.pos);
            // A plaintext secret holds no further secrets.
            (!has_secret(&value)).then_some(value)
        }
        Kind::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k.clone(), plaintext(v)?));
            }
            Some(Node {
                pos: node.pos,
                kind: Kind::Map(out),
            })
        }
        Kind::Seq(items) => Some(Node {
            pos: node.pos,
            kind: Kind::Seq(items.iter().map(plaintext).collect::<Option<Vec<_>>>()?),
        }),
        _ => Some(node.clone()),
    }
}

/// Places a value parsed from a secret's text at the secret itself (its own lines mean nothing).
fn relocate(node: &mut Node, pos: super::node::Pos) {
    node.pos = pos;
    match &mut node.kind {
        Kind::Map(entries) => {
            for (k, v) in entries {
                k.pos = pos;
                relocate(v, pos);
            }
        }
        Kind::Seq(items) => items.iter_mut().for_each(|v| relocate(v, pos)),
        _ => {}
    }
}
