//! `kms-audit spec`: check declared specs without AWS, and turn Terraform state or a Pulumi
//! export into a kms-audit spec.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::analysis::exit::Outcome;
use crate::inputs::spec::{self, SourceFormat, SpecErrors};

#[derive(Debug, Args)]
pub struct SpecArgs {
    #[command(subcommand)]
    pub command: SpecCommand,
}

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Check spec files and directories (kms-audit YAML/JSON specs, Terraform states, Pulumi
    /// exports) without calling AWS: unknown fields, wrong types, duplicate keys, missing policy
    /// files, AWS limits. Prints the declared keys; errors name file, line and field (exit 2).
    Validate(ValidateArgs),
    /// Print a kms-audit spec (YAML) of the KMS keys in a Terraform state or Pulumi stack
    /// export. Resources that cannot be mapped are reported on stderr and in the header.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files or directories (read recursively: *.yaml, *.yml, *.json, *.tfstate).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What FILE is.
    #[arg(value_enum)]
    pub tool: ImportTool,
    /// A Terraform state file (`terraform state pull > STATE.tfstate`), `terraform show -json`
    /// of a state or a plan, or a Pulumi export (`pulumi stack export > EXPORT.json`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportTool {
    /// Terraform or OpenTofu: state format version 4 (Terraform 0.12 and later), or
    /// `terraform show -json` of a state or a plan.
    Terraform,
    /// `pulumi stack export` output.
    Pulumi,
}

pub fn run(args: SpecArgs) -> anyhow::Result<Outcome> {
    match args.command {
        SpecCommand::Validate(args) => validate(args),
        SpecCommand::Import(args) => import(args),
    }
}

fn validate(args: ValidateArgs) -> anyhow::Result<Outcome> {
    let set = spec::load(&args.paths)?;
    for warning in &set.warnings {
        eprintln!("kms-audit: warning: {warning}");
    }
    let mut out = String::new();
    for key in &set.keys {
        out.push_str(&format!(
            "{}:{}  {} {} {}\n",
            key.location.file,
            key.location.line,
            key.account,
            key.region,
            key.display_name()
        ));
    }
    let files = set.files.len();
    out.push_str(&format!(
        "ok: {} declared {} in {files} {}\n",
        set.keys.len(),
        if set.keys.len() == 1 { "key" } else { "keys" },
        if files == 1 { "file" } else { "files" }
    ));
    print!("{out}");
    Ok(Outcome::Clean)
}

fn import(args: ImportArgs) -> anyhow::Result<Outcome> {
    let file = args.file.display().to_string();
    let text = crate::inputs::input::read_text(&args.file, crate::inputs::input::SPEC_LIMIT)
        .with_context(|| format!("cannot read {file}"))?;
    let doc = spec::parse_document(&text, &file).map_err(|err| SpecErrors(vec![err]))?;
    // The tree holds all that is read of the text: free the text (47 MB at 10,000 keys) now.
    drop(text);
    let (format, what) = (spec::detect_format(&doc), describe(args.tool));
    let unread = match (args.tool, format) {
        (ImportTool::Terraform, SourceFormat::Terraform) => {
            spec::terraform::import_unread(&doc, &file)
        }
        (ImportTool::Pulumi, SourceFormat::Pulumi) => spec::pulumi::import_unread(&doc, &file),
        (_, SourceFormat::Unknown) => anyhow::bail!(
            "{file}: {}",
            spec::unknown_shape(&doc, true).unwrap_or_default()
        ),
        (_, other) => anyhow::bail!(
            "{file} is not a {what}: it looks like {}",
            match other {
                SourceFormat::Terraform => "a Terraform state (use `spec import terraform`)",
                SourceFormat::Pulumi => "a Pulumi export (use `spec import pulumi`)",
                SourceFormat::PolicyDocument => "a key policy document",
                SourceFormat::Spec => "a kms-audit spec",
                SourceFormat::Unknown => "none of the formats kms-audit reads",
            }
        ),
    }
    .map_err(SpecErrors)?;
    // The tree is done with: free it before the policies are parsed.
    drop(doc);
    let imported = unread.read_policies().map_err(SpecErrors)?;
    let errors = spec::validate::validate(&imported.keys);
    if !errors.is_empty() {
        return Err(SpecErrors(errors).into());
    }
    for warning in &imported.warnings {
        eprintln!("kms-audit: warning: {warning}");
    }
    let mut header = vec![
        format!("kms-audit spec imported from {file} ({what})."),
        "Keys are identified by alias where they have one, else by key ARN.".to_string(),
    ];
    if let Some(from) = imported
        .keys
        .iter()
        .find_map(|k| k.declared_from.as_deref())
    {
        header.push(format!("Declared by {from}."));
    }
    if !imported.warnings.is_empty() {
        header.push("Not imported:".to_string());
        header.extend(imported.warnings.iter().map(|w| format!("  {w}")));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    spec::emit::write_yaml(&imported.keys, &header, &mut out)
        .and_then(|()| std::io::Write::flush(&mut out))
        .context("cannot write the imported spec to standard output")?;
    Ok(Outcome::Clean)
}

fn describe(tool: ImportTool) -> &'static str {
    match tool {
        ImportTool::Terraform => "Terraform state or `terraform show -json` output",
        ImportTool::Pulumi => "Pulumi stack export",
    }
}
