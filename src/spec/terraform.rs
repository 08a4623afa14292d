//! Terraform state (format version 4) as declared specs: `aws_kms_key`, `aws_kms_external_key`,
//! `aws_kms_replica_key`, `aws_kms_replica_external_key`, `aws_kms_alias` and
//! `aws_kms_key_policy` managed resources, in any module, with `count` / `for_each` instances.
//!
//! The state records what Terraform last applied, so comparing it with the live key shows what
//! changed outside Terraform. Data sources, deposed objects and other resource types are
//! ignored; a KMS resource that cannot be mapped (no ARN, alias of a key outside the state) is
//! reported as a warning.

use super::SpecError;
use super::import::{Attributes, Builder, Imported, Naming, ResourceKind};
use super::node::{Kind, Node};

fn kind_of(resource_type: &str) -> Option<ResourceKind> {
    Some(match resource_type {
        "aws_kms_key" => ResourceKind::Key,
        "aws_kms_external_key" => ResourceKind::ExternalKey,
        "aws_kms_replica_key" => ResourceKind::ReplicaKey,
        "aws_kms_replica_external_key" => ResourceKind::ReplicaExternalKey,
        "aws_kms_alias" => ResourceKind::Alias,
        "aws_kms_key_policy" => ResourceKind::KeyPolicy,
        _ => return None,
    })
}

/// Reads the KMS keys of a Terraform state document.
pub fn import(doc: &Node, file: &str) -> Result<Imported, Vec<SpecError>> {
    match doc.entry("version") {
        Some((
            _,
            Node {
                kind: Kind::Int(4), ..
            },
        )) => {}
        Some((key, other)) => {
            return Err(vec![SpecError::at(
                file,
                key.pos,
                Some("version".into()),
                format!(
                    "only Terraform state format version 4 (Terraform 0.12 and later) is \
                     supported, found {}",
                    other.describe()
                ),
            )]);
        }
        None => {
            return Err(vec![SpecError::at(
                file,
                doc.pos,
                Some("version".into()),
                "the Terraform state has no format version",
            )]);
        }
    }
    let mut builder = Builder::new(file, "terraform");
    let resources = doc
        .get("resources")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    for resource in resources {
        if resource.get("mode").and_then(Node::as_str) != Some("managed") {
            continue;
        }
        let Some(kind) = resource
            .get("type")
            .and_then(Node::as_str)
            .and_then(kind_of)
        else {
            continue;
        };
        let resource_type = resource
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let name = resource
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let name_pos = resource
            .entry("name")
            .map_or(resource.pos, |(key, _)| key.pos);
        let module = resource
            .get("module")
            .and_then(Node::as_str)
            .map(|m| format!("{m}."))
            .unwrap_or_default();
        let instances = resource
            .get("instances")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        for instance in instances {
            if instance.get("deposed").is_some() {
                continue; // an object waiting to be destroyed after a replacement
            }
            let (index, pos) = match instance.entry("index_key") {
                Some((
                    key,
                    Node {
                        kind: Kind::Str(s), ..
                    },
                )) => (format!("[\"{s}\"]"), key.pos),
                Some((
                    key,
                    Node {
                        kind: Kind::Int(i), ..
                    },
                )) => (format!("[{i}]"), key.pos),
                _ => (String::new(), name_pos),
            };
            let address = format!("{module}{resource_type}.{name}{index}");
            let Some(attributes) = instance.get("attributes") else {
                builder.warn(pos, &address, "the instance has no attributes");
                continue;
            };
            builder.add(
                kind,
                &Attributes {
                    node: attributes,
                    naming: Naming::Snake,
                    file,
                    address: &address,
                },
                pos,
            );
        }
    }
    builder.finish()
}
