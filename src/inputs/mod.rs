//! What the user gives kms-audit besides AWS: the config file, declared specs (kms-audit YAML,
//! Terraform, Pulumi), and the file and YAML reading they share.
//!
//! Everything here is read and validated before any AWS call, and every error names its file,
//! line and field. Nothing in this wing calls AWS.

pub mod config;
pub mod input;
pub mod spec;
pub mod yaml;
