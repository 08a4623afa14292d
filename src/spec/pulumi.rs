//! A `pulumi stack export` as declared specs: `aws:kms/key:Key`, `aws:kms/externalKey:ExternalKey`,
//! `aws:kms/replicaKey:ReplicaKey`, `aws:kms/replicaExternalKey:ReplicaExternalKey`,
//! `aws:kms/alias:Alias` and `aws:kms/keyPolicy:KeyPolicy` resources, read from their
//! `outputs` (what Pulumi last saw), at any depth of component parents.
//!
//! Resources pending deletion (`"delete": true`, left over from a replacement) are ignored.

use super::SpecError;
use super::import::{Attributes, Builder, Imported, Naming, ResourceKind};
use super::node::Node;

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

/// Reads the KMS keys of a Pulumi stack export document.
pub fn import(doc: &Node, file: &str) -> Result<Imported, Vec<SpecError>> {
    let Some(deployment) = doc.get("deployment").filter(|d| d.as_map().is_some()) else {
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
        let address = format!("{resource_type}::{name}");
        let pos = resource
            .entry("urn")
            .map_or(resource.pos, |(key, _)| key.pos);
        let Some(outputs) = resource.get("outputs") else {
            builder.warn(pos, &address, "the resource has no outputs");
            continue;
        };
        builder.add(
            kind,
            &Attributes {
                node: outputs,
                naming: Naming::Camel,
                file,
                address: &address,
            },
            pos,
        );
    }
    builder.finish()
}
