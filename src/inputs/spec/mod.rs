//! Declared specs: the desired state of KMS keys, which drift ([`crate::analysis::drift`]) compares with
//! the live inventory.
//!
//! Three sources give the same [`DeclaredKey`]s:
//! - kms-audit's own YAML/JSON spec files ([`format`]): `defaults` merged into every key,
//!   `policy_file` resolved relative to the spec file, unknown fields rejected;
//! - Terraform state v4 ([`terraform`]) and Pulumi stack exports ([`pulumi`]), read directly by
//!   `--spec` or turned into a spec file by `kms-audit spec import`.
//!
//! Every declared key remembers its file and line (and every field where it was set), so errors
//! and drift findings point at it. [`load`] validates everything ([`validate`]) and returns all
//! errors at once; nothing here calls AWS.

pub mod emit;
pub mod format;
mod import;
pub mod json;
pub mod node;
pub mod pulumi;
pub mod terraform;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::model::SpecLocation;
pub use import::Imported;
pub use node::Pos;

/// Parses one spec document. An empty file is a `Null` node. Plain JSON takes a fast path
/// ([`json::parse_spec`]) with the same result, less what no importer reads of a
/// `terraform show -json`; anything else, errors included, is read as YAML.
pub fn parse_document(text: &str, file: &str) -> Result<node::Node, SpecError> {
    if text.trim_start().starts_with(['{', '['])
        && let Some(node) = json::parse_spec(text)
    {
        return Ok(node);
    }
    node::parse_yaml(text, file)
}

/// One key as declared: identity (account + region + alias, or key ARN) and the attributes to
/// compare. `None` means "not declared": drift does not compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredKey {
    /// Where the key is declared (the list item of a spec, the resource of a state file).
    pub location: SpecLocation,
    /// For imported keys: the resource address (`module.kms.aws_kms_key.payments["a"]`) or
    /// Pulumi URN the key comes from.
    pub source: Option<String>,
    pub account: String,
    pub region: String,
    /// The alias that identifies the key in its account and region (`alias/...`).
    pub alias: Option<String>,
    /// The key ARN that identifies the key when there is no alias (or as well as one).
    pub key_arn: Option<String>,
    /// Further aliases an importer found for the key (not part of its identity, not compared).
    pub other_aliases: Vec<String>,
    pub description: Option<String>,
    pub key_spec: Option<String>,
    pub key_usage: Option<String>,
    pub enabled: Option<bool>,
    pub enable_key_rotation: Option<bool>,
    pub rotation_period_in_days: Option<u32>,
    pub multi_region: Option<bool>,
    pub replica_regions: Option<Vec<String>>,
    pub deletion_window_in_days: Option<u32>,
    pub tags: Option<BTreeMap<String, String>>,
    /// The declared key policy document (inline, or read from `policy_file`).
    pub policy: Option<Value>,
    /// `policy_file` as written in the spec (relative to the spec file), when the policy came
    /// from one.
    pub policy_file: Option<String>,
    /// For imported keys declared by something other than applied state (a Terraform plan's
    /// planned values): said in the evidence of every finding.
    pub declared_from: Option<String>,
    /// For imported keys whose policy is a separate resource (`aws_kms_key_policy`): which one,
    /// and whether it overrides the key's own `policy`. Said in the evidence of DRF003.
    pub policy_from: Option<String>,
    /// Where each field was set (in the key, in `defaults`, in a state resource), so that a
    /// validation error names the file, line and field.
    pub fields: BTreeMap<&'static str, FieldSource>,
}

/// The entry of [`DeclaredKey::fields`] for the key as a whole (its list item or resource).
pub const KEY_ENTRY: &str = "key";

/// Where one field of a declared key was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSource {
    /// Shared by every field of the file.
    pub file: Arc<str>,
    pub pos: Pos,
    /// The field's path for messages, e.g. `keys[2].rotation_period_in_days` or
    /// `defaults.tags`.
    pub path: FieldPath,
}

/// The path of a field for messages: written out (`keys[2].tags`), or an imported resource's
/// address, shared by its fields, and the attribute (`aws_kms_key.a: policy`). 10,000 imported
/// keys of 15 fields each then hold no string per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    base: Arc<str>,
    attribute: Option<crate::model::Text>,
}

impl FieldPath {
    pub fn new(path: impl Into<Arc<str>>) -> Self {
        FieldPath {
            base: path.into(),
            attribute: None,
        }
    }

    /// `ADDRESS: ATTRIBUTE`.
    pub fn attribute(address: &Arc<str>, attribute: &str) -> Self {
        FieldPath {
            base: address.clone(),
            attribute: Some(attribute.into()),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        match &self.attribute {
            Some(attribute) => write!(f, ": {attribute}"),
            None => Ok(()),
        }
    }
}

impl PartialEq<&str> for FieldPath {
    fn eq(&self, other: &&str) -> bool {
        match &self.attribute {
            None => *self.base == **other,
            Some(attribute) => {
                other
                    .strip_prefix(&*self.base)
                    .and_then(|rest| rest.strip_prefix(": "))
                    == Some(attribute.as_str())
            }
        }
    }
}

impl Default for DeclaredKey {
    fn default() -> Self {
        DeclaredKey {
            location: SpecLocation {
                file: String::new(),
                line: 0,
            },
            source: None,
            account: String::new(),
            region: String::new(),
            alias: None,
            key_arn: None,
            other_aliases: Vec::new(),
            description: None,
            key_spec: None,
            key_usage: None,
            enabled: None,
            enable_key_rotation: None,
            rotation_period_in_days: None,
            multi_region: None,
            replica_regions: None,
            deletion_window_in_days: None,
            tags: None,
            policy: None,
            policy_file: None,
            declared_from: None,
            policy_from: None,
            fields: BTreeMap::new(),
        }
    }
}

impl DeclaredKey {
    /// A stable identity: `account/region/alias`, or the key ARN when there is no alias.
    pub fn identity(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}/{}/{alias}", self.account, self.region),
            None => self.key_arn.clone().unwrap_or_default(),
        }
    }

    /// How a person recognises the declared key: its alias, else its key ARN.
    pub fn display_name(&self) -> &str {
        self.alias
            .as_deref()
            .or(self.key_arn.as_deref())
            .unwrap_or("(unnamed key)")
    }

    /// Where `field` was set, else where the key is declared (the `key` entry of `fields`).
    pub fn field_source(&self, field: &str) -> FieldSource {
        self.fields
            .get(field)
            .or_else(|| self.fields.get(KEY_ENTRY))
            .cloned()
            .unwrap_or_else(|| FieldSource {
                file: self.location.file.as_str().into(),
                pos: Pos {
                    line: self.location.line,
                    column: 1,
                },
                path: FieldPath::new(field),
            })
    }
}

/// All declared keys loaded for one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecSet {
    pub keys: Vec<DeclaredKey>,
    /// The files that were read, in order.
    pub files: Vec<String>,
    /// Things that were not imported (e.g. an alias whose key is not in a Terraform state):
    /// reported, never dropped silently.
    pub warnings: Vec<String>,
}

impl SpecSet {
    /// Drops the per-field positions once the specs are valid: they only locate validation
    /// errors, and on 10,000 declared keys they hold tens of MB (a file name and a path per
    /// field) for the whole scan. Findings keep each key's `location`.
    pub fn forget_field_sources(&mut self) {
        for key in &mut self.keys {
            key.fields = BTreeMap::new();
        }
    }
}

/// One problem in a spec, with file, line, column and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// The field path, e.g. `keys[0].rotation_period_in_days`.
    pub field: Option<String>,
    pub message: String,
}

impl SpecError {
    pub fn at(
        file: impl Into<String>,
        pos: Pos,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        SpecError {
            file: file.into(),
            line: pos.line,
            column: pos.column,
            field,
            message: message.into(),
        }
    }

    /// An error about a field of a declared key, at the place the field was written.
    pub fn field(source: &FieldSource, message: impl Into<String>) -> Self {
        SpecError::at(
            source.file.to_string(),
            source.pos,
            Some(source.path.to_string()),
            message,
        )
    }

    /// An error about a whole file (unreadable, not a spec).
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError {
            file: file.into(),
            line: 0,
            column: 0,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        f.write_str(": ")?;
        // Values quoted in the message may hold line breaks: each error stays on one line.
        if let Some(field) = &self.field {
            write!(f, "{}: ", crate::inputs::yaml::printable(field))?;
        }
        f.write_str(&crate::inputs::yaml::printable(&self.message))
    }
}

impl std::error::Error for SpecError {}

/// Every problem found in the specs of one run (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

/// How many spec errors are listed; the rest are counted.
pub const SHOWN_SPEC_ERRORS: usize = 50;

impl fmt::Display for SpecErrors {
    /// One error: `invalid spec: FILE:LINE:COL: FIELD: MESSAGE`; several: a count, then one
    /// per line, at most [`SHOWN_SPEC_ERRORS`] (a wrong `--spec` directory can yield thousands).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "invalid spec: {one}"),
            many => {
                write!(f, "{} errors in specs:", many.len())?;
                for error in many.iter().take(SHOWN_SPEC_ERRORS) {
                    write!(f, "\n  {error}")?;
                }
                if many.len() > SHOWN_SPEC_ERRORS {
                    let files: std::collections::BTreeSet<&str> =
                        many.iter().map(|e| e.file.as_str()).collect();
                    let files = match files.len() {
                        1 => "1 file".to_string(),
                        n => format!("{n} files"),
                    };
                    write!(
                        f,
                        "\n  … and {} more, in {files} in all (is --spec the right path?)",
                        many.len() - SHOWN_SPEC_ERRORS
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SpecErrors {}

/// What a spec file holds, told from its contents (not its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// kms-audit's own format (`defaults`, `keys`).
    Spec,
    /// Terraform or OpenTofu: a state file, `terraform show -json` of a state or a plan (or a
    /// Terraform shape that is refused with a reason: [`terraform::refusal`]).
    Terraform,
    /// A `pulumi stack export` file (or a backend's checkpoint file).
    Pulumi,
    /// A key policy document (`Statement`): what `policy_file` points at, not a spec.
    PolicyDocument,
    /// A mapping that is none of these: refused with what it holds ([`unknown_shape`]).
    Unknown,
}

/// Tells the format of a parsed document.
pub fn detect_format(doc: &node::Node) -> SourceFormat {
    let has = |name: &str| doc.get(name).is_some();
    if has("keys") || has("defaults") {
        SourceFormat::Spec
    } else if pulumi::is_pulumi(doc) {
        SourceFormat::Pulumi
    } else if terraform::is_terraform(doc) {
        SourceFormat::Terraform
    } else if has("Statement") {
        SourceFormat::PolicyDocument
    } else if doc.as_map().is_some_and(|m| !m.is_empty()) {
        SourceFormat::Unknown
    } else {
        SourceFormat::Spec
    }
}

/// The one-line refusal of a document of no known format: what it looks like, what to do.
/// `None` for a YAML document of unknown fields, which is read as a spec (whose errors then name
/// each field); a JSON one is some other tool's file and refused.
pub fn unknown_shape(doc: &node::Node, json: bool) -> Option<String> {
    let has = |name: &str| doc.get(name).is_some();
    let what = if has("AWSTemplateFormatVersion") || (has("Resources") && has("Outputs")) {
        "a CloudFormation template, which kms-audit does not read: declare its keys in a \
         kms-audit spec (`keys:`)"
            .to_string()
    } else if has("provider_schemas") {
        "Terraform provider schemas (`terraform providers schema -json`), not a state: pass \
         `terraform show -json` output or the state file"
            .to_string()
    } else if has("format_version") {
        "`terraform show -json` output without `values` or `planned_values` (of a \
         configuration?): pass `terraform show -json` of a state or a plan"
            .to_string()
    } else if !json {
        return None;
    } else {
        let fields: Vec<&str> = doc
            .as_map()
            .unwrap_or_default()
            .iter()
            .take(8)
            .map(|(k, _)| k.name.as_str())
            .collect();
        format!(
            "not a kms-audit spec (`keys`, `defaults`), a Terraform state or `terraform show \
             -json` output, or a Pulumi stack export: its top-level fields are {}",
            fields.join(", ")
        )
    };
    Some(format!("this is {what}"))
}

/// Loads and validates every spec named by `paths` (files, or directories read recursively:
/// `*.yaml`, `*.yml`, `*.json`, `*.tfstate`). Key policy documents met in a directory are
/// skipped (they are `policy_file` targets); given by name they are an error.
pub fn load(paths: &[PathBuf]) -> Result<SpecSet, SpecErrors> {
    let mut set = SpecSet::default();
    let mut errors = Vec::new();
    for path in paths {
        let files = match spec_files(path) {
            Ok(files) => files,
            Err(err) => {
                errors.push(err);
                continue;
            }
        };
        let explicit = files.len() == 1 && files[0] == *path;
        for file in files {
            load_file(&file, explicit, &mut set, &mut errors);
        }
    }
    errors.extend(validate::validate(&set.keys));
    // In file order, so a long list reads top to bottom (the sort is stable per file).
    let order: Vec<String> = errors
        .iter()
        .map(|e| e.file.clone())
        .fold(Vec::new(), |mut v, f| {
            if !v.contains(&f) {
                v.push(f);
            }
            v
        });
    errors.sort_by_key(|e| (order.iter().position(|f| *f == e.file), e.line, e.column));
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(SpecErrors(errors))
    }
}

/// Loads one file into `set`, adding its problems to `errors`.
fn load_file(path: &Path, explicit: bool, set: &mut SpecSet, errors: &mut Vec<SpecError>) {
    let file = path.display().to_string();
    let text = match crate::inputs::input::read_text(path, crate::inputs::input::SPEC_LIMIT) {
        Ok(text) => text,
        Err(err) => {
            let message = match binary_kind(path) {
                Some(what) => what.to_string(),
                None => format!("cannot read the file: {err}"),
            };
            errors.push(SpecError::file(&file, message));
            return;
        }
    };
    if text.starts_with("PK\u{3}\u{4}") {
        errors.push(SpecError::file(&file, ZIP_REFUSAL));
        return;
    }
    let doc = match parse_document(&text, &file) {
        Ok(doc) => doc,
        Err(err) => {
            errors.push(err);
            return;
        }
    };
    // The node tree holds all that is read of the text: on 10,000 keys the text, the tree and
    // the imported keys do not fit in memory together.
    let json = text.trim_start().starts_with('{');
    drop(text);
    let imported = match detect_format(&doc) {
        SourceFormat::Spec => {
            let (keys, errs) = format::read(&doc, &file, path);
            set.keys.extend(keys);
            errors.extend(errs);
            set.files.push(file);
            return;
        }
        SourceFormat::Terraform => terraform::import_unread(&doc, &file),
        SourceFormat::Pulumi => pulumi::import_unread(&doc, &file),
        SourceFormat::Unknown => {
            match unknown_shape(&doc, json) {
                Some(what) => errors.push(SpecError::at(&file, doc.pos, None, what)),
                // A hand-written YAML spec with a misspelt top-level field: its unknown-field
                // errors say more.
                None => {
                    let (keys, errs) = format::read(&doc, &file, path);
                    set.keys.extend(keys);
                    errors.extend(errs);
                    set.files.push(file);
                }
            }
            return;
        }
        SourceFormat::PolicyDocument => {
            if explicit {
                errors.push(SpecError::file(
                    &file,
                    "this is a key policy document, not a spec: reference it from a spec with \
                     `policy_file`",
                ));
            } else {
                tracing::debug!(file = %file, "skipping a key policy document");
            }
            return;
        }
    };
    // The policies are read once the node tree is dropped, for the same reason.
    drop(doc);
    match imported.and_then(import::Imported::read_policies) {
        Ok(imported) => {
            set.keys.extend(imported.keys);
            set.warnings.extend(imported.warnings);
            set.files.push(file);
        }
        Err(errs) => errors.extend(errs),
    }
}

/// What a file that is not text is, when kms-audit can tell and say what to do.
fn binary_kind(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path).ok()?;
    file.read_exact(&mut head).ok()?;
    (head == *b"PK\x03\x04").then_some(ZIP_REFUSAL)
}

const ZIP_REFUSAL: &str = "this is a binary file (a zip archive, such as a saved Terraform plan \
                           from `terraform plan -out`): convert a plan with `terraform show \
                           -json PLANFILE > plan.json` and pass that";

/// The spec files a path names: itself, or the spec-like files under a directory, sorted.
fn spec_files(path: &Path) -> Result<Vec<PathBuf>, SpecError> {
    let meta = std::fs::metadata(path).map_err(|err| {
        SpecError::file(
            path.display().to_string(),
            format!("cannot read the spec: {err}"),
        )
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    walk(path, &mut files).map_err(|err| {
        SpecError::file(
            path.display().to_string(),
            format!("cannot read the spec directory: {err}"),
        )
    })?;
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json" | "tfstate"))
        {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
