//! Terraform (and OpenTofu) as declared specs, from any of three documents:
//! - the state itself, format version 4 (`terraform state pull`, a `*.tfstate` file);
//! - `terraform show -json` of a state: `values.root_module`, `child_modules` at any depth;
//! - `terraform show -json PLANFILE`: its `planned_values` (what apply would leave, not what is
//!   applied — every finding of such a key says so in its evidence).
//!
//! Read: `aws_kms_key`, `aws_kms_external_key`, `aws_kms_replica_key`,
//! `aws_kms_replica_external_key`, `aws_kms_alias` and `aws_kms_key_policy` managed resources,
//! in any module, with `count` / `for_each` instances. The state records what Terraform last
//! applied, so comparing it with the live key shows what changed outside Terraform. Data sources,
//! deposed objects and other resource types are ignored; a KMS resource that cannot be mapped (no
//! ARN, alias of a key outside the state) is reported as a warning.
//!
//! Shapes that are Terraform's but not readable get a one-line refusal saying what the file is
//! and what to do ([`refusal`]): state versions 1–3, OpenTofu-encrypted state.

use std::sync::Arc;

use super::SpecError;
use super::import::{Attributes, Builder, Imported, Naming, ResourceKind};
use super::node::{Kind, Node, Pos};

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

/// Whether a resource type is one of the KMS types [`import`] reads (what the JSON reader keeps
/// of `terraform show -json`: [`super::json::parse_spec`]).
pub fn is_kms_type(resource_type: &str) -> bool {
    kind_of(resource_type).is_some()
}

/// Whether a document is one of Terraform's (readable or not): what [`import`] then handles.
pub fn is_terraform(doc: &Node) -> bool {
    let has = |name: &str| doc.get(name).is_some();
    (has("resources") && (has("terraform_version") || has("lineage")))
        || (has("format_version")
            && (has("values") || has("planned_values") || has("terraform_version")))
        || (has("modules") && has("version") && (has("lineage") || has("terraform_version")))
        || (has("encrypted_data") && has("encryption_version"))
}

/// Why a Terraform-shaped document cannot be read, in one line: what it is and what to do.
pub fn refusal(doc: &Node) -> Option<(Pos, String)> {
    if let Some((key, version)) = doc.entry("encryption_version") {
        let version = version.as_str().unwrap_or("?");
        return Some((
            key.pos,
            format!(
                "this is an OpenTofu encrypted state (encryption_version {version}): decrypt it \
                 first — with the encryption configured, `tofu show -json > state.json` — and \
                 pass that file"
            ),
        ));
    }
    if doc.get("format_version").is_some() {
        return None; // `terraform show -json`
    }
    match doc.entry("version") {
        Some((
            _,
            Node {
                kind: Kind::Int(4), ..
            },
        )) => None,
        Some((
            key,
            Node {
                kind: Kind::Int(v @ 1..=3),
                ..
            },
        )) => Some((
            key.pos,
            format!(
                "this is a Terraform state of format version {v} (Terraform 0.11 or earlier): \
                 upgrade it with Terraform 0.12 or later (`terraform apply` or `terraform \
                 refresh` rewrites it as version 4), or pass `terraform show -json` output"
            ),
        )),
        Some((key, other)) => Some((
            key.pos,
            format!(
                "only Terraform state format version 4 (Terraform 0.12 and later, OpenTofu) is \
                 supported, found {}: pass `terraform show -json` output instead",
                other.describe()
            ),
        )),
        None => Some((doc.pos, "the Terraform state has no format version".into())),
    }
}

/// Reads the KMS keys of a Terraform state, `terraform show -json` of a state, or of a plan.
pub fn import(doc: &Node, file: &str) -> Result<Imported, Vec<SpecError>> {
    import_unread(doc, file)?.read_policies()
}

/// [`import`], the policy documents left unread ([`Imported::read_policies`]): so that the
/// caller can drop the document (and its text) before they are parsed, as [`super::load`] does.
pub fn import_unread(doc: &Node, file: &str) -> Result<Imported, Vec<SpecError>> {
    if let Some((pos, message)) = refusal(doc) {
        let field = if doc.get("encryption_version").is_some() {
            "encryption_version"
        } else {
            "version"
        };
        return Err(vec![SpecError::at(file, pos, Some(field.into()), message)]);
    }
    let mut builder = Builder::new(file, "terraform");
    if doc.get("format_version").is_some() {
        show_json(doc, &mut builder);
    } else {
        state(doc, &mut builder);
    }
    builder.finish_unread()
}

/// State format 4: `resources[]`, each with `module`, `type`, `name` and `instances[]`.
fn state(doc: &Node, builder: &mut Builder) {
    let file = builder.file().clone();
    let resources = doc
        .get("resources")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    for resource in resources {
        if resource.get("mode").and_then(Node::as_str) != Some("managed") {
            continue;
        }
        let Some(resource_type) = resource.get("type").and_then(Node::as_str) else {
            continue;
        };
        let Some(kind) = kind_of(resource_type) else {
            continue;
        };
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
                Some((key, value)) => (index_suffix(value), key.pos),
                None => (String::new(), name_pos),
            };
            let address: Arc<str> = format!("{module}{resource_type}.{name}{index}").into();
            let Some(attributes) = instance.get("attributes") else {
                builder.warn(pos, &address, "the instance has no attributes");
                continue;
            };
            add_resource(builder, kind, attributes, &file, &address, pos);
        }
    }
}

/// `["key"]` or `[0]`: how Terraform writes an instance key in an address.
fn index_suffix(value: &Node) -> String {
    match &value.kind {
        Kind::Str(s) => format!("[\"{s}\"]"),
        Kind::Int(i) => format!("[{i}]"),
        _ => String::new(),
    }
}

/// `terraform show -json`: `values` (a state) or `planned_values` (a plan), each a tree of
/// modules whose resources carry their full address and their `values`.
/// Adds one Terraform resource instance: both the raw state (`attributes`) and `show -json`
/// (`values`) name fields in snake_case and carry no separate id.
fn add_resource(
    builder: &mut Builder,
    kind: ResourceKind,
    node: &Node,
    file: &Arc<str>,
    address: &Arc<str>,
    pos: Pos,
) {
    let attrs = Attributes {
        node,
        naming: Naming::Snake,
        file,
        address,
        id: None,
        withheld: &[],
    };
    builder.add(kind, &attrs, pos);
}

fn show_json(doc: &Node, builder: &mut Builder) {
    let (root, plan) = match (doc.get("planned_values"), doc.get("values")) {
        (Some(planned), _) => (planned, true),
        (None, Some(values)) => (values, false),
        (None, None) => {
            builder.note_empty(doc.pos, "the `terraform show -json` output has no state");
            return;
        }
    };
    if plan {
        builder.set_declared_from(
            "the planned values of a Terraform plan (what apply would make, not what is applied)",
        );
    }
    let Some(module) = root.get("root_module") else {
        builder.note_empty(root.pos, "the document has no root_module");
        return;
    };
    let file = builder.file().clone();
    let mut stack = vec![module];
    while let Some(module) = stack.pop() {
        for resource in module
            .get("resources")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
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
            let (address, pos) = match resource.entry("address") {
                Some((key, value)) => (Arc::from(value.as_str().unwrap_or_default()), key.pos),
                None => (Arc::from(""), resource.pos),
            };
            if resource.get("deposed_key").is_some() {
                continue;
            }
            let Some(values) = resource.get("values") else {
                builder.warn(pos, &address, "the resource has no values");
                continue;
            };
            add_resource(builder, kind, values, &file, &address, pos);
        }
        // Depth first, in file order.
        let children = module
            .get("child_modules")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        stack.extend(children.iter().rev());
    }
}
