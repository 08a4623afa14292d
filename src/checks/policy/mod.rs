//! The key-policy checks (POL001 public, POL002 untrusted cross-account, POL003 unreadable),
//! built on the analyzer in `crate::policy`.
//!
//! POL001 and POL002 evaluate every key whose policy was read and parses, AWS-managed keys
//! included (their policies allow `"AWS": "*"` pinned by `kms:CallerAccount` + `kms:ViaService`,
//! which the analyzer recognises as restricted). A policy that was not read or does not parse
//! is POL003's, never a silent pass.

pub mod cross_account;
pub mod public;
pub mod unreadable;

use std::collections::BTreeMap;

use serde_json::Value;

use super::CheckContext;
use crate::model::KeyRecord;
use crate::policy::{AnalysisContext, KeyPolicy, PolicyAnalysis, PolicyError};

/// Why a key's policy cannot be analysed.
pub(crate) enum Unreadable {
    /// GetKeyPolicy failed (listed in `unknown`, with a coverage gap).
    NotRead,
    /// The inventory holds no policy for the key, without saying why.
    Missing,
    /// The document does not parse as a key policy.
    Invalid(PolicyError),
}

/// The parsed policy of a key, or why there is none.
pub(crate) fn parsed(key: &KeyRecord) -> Result<KeyPolicy, Unreadable> {
    if !super::known(key, "policy") {
        return Err(Unreadable::NotRead);
    }
    let document = key.policy.as_ref().ok_or(Unreadable::Missing)?;
    KeyPolicy::parse(document).map_err(Unreadable::Invalid)
}

/// Analyses key policies, with one analyzer context per key account (the trusted and
/// organization account sets are cloned once per account, not once per key).
pub(crate) struct Analyzer<'c> {
    ctx: &'c CheckContext<'c>,
    contexts: BTreeMap<String, AnalysisContext>,
}

impl<'c> Analyzer<'c> {
    pub(crate) fn new(ctx: &'c CheckContext<'c>) -> Self {
        Analyzer {
            ctx,
            contexts: BTreeMap::new(),
        }
    }

    /// The analysis of a key's policy; `None` when it cannot be analysed (POL003 reports that).
    pub(crate) fn analysis(&mut self, key: &KeyRecord) -> Option<PolicyAnalysis> {
        let policy = parsed(key).ok()?;
        let ctx = self.ctx;
        let context = self
            .contexts
            .entry(key.account.clone())
            .or_insert_with(|| AnalysisContext {
                key_account: key.account.clone(),
                trusted_accounts: ctx.config.trusted_accounts.clone(),
                organization_id: ctx.organization_id.map(str::to_string),
                organization_accounts: ctx.organization_accounts.cloned(),
            });
        Some(crate::policy::analyze(&policy, context))
    }
}

/// The statement at `index` as written in the key's policy, for evidence.
pub(crate) fn statement_document(key: &KeyRecord, index: usize) -> Value {
    let decoded;
    let mut document = match &key.policy {
        Some(doc) => doc,
        None => return Value::Null,
    };
    if let Value::String(text) = document {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                decoded = value;
                document = &decoded;
            }
            Err(_) => return Value::Null,
        }
    }
    match document.get("Statement") {
        Some(Value::Array(items)) => items.get(index).cloned().unwrap_or(Value::Null),
        Some(one @ Value::Object(_)) if index == 0 => one.clone(),
        _ => Value::Null,
    }
}

/// How findings name a statement: `"Sid"` or `statement[2]` (no Sid).
pub(crate) fn statement_label(index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) if !sid.is_empty() => format!("\"{sid}\""),
        _ => format!("statement[{index}]"),
    }
}

/// The fingerprint discriminator of a statement: its Sid, else its position.
pub(crate) fn statement_discriminator(index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) if !sid.is_empty() => format!("sid:{sid}"),
        _ => format!("index:{index}"),
    }
}

/// The AWS CLI commands that fetch, then replace, a key's policy.
pub(crate) fn put_policy_commands(key: &KeyRecord) -> String {
    let args = super::cli_key_args(key);
    format!(
        "`aws kms get-key-policy {args} --policy-name default --output text > policy.json`, edit \
         it, then `aws kms put-key-policy {args} --policy-name default --policy file://policy.json`"
    )
}
