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

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use super::CheckRun;
use crate::model::KeyRecord;
use crate::policy::{AnalysisContext, KeyPolicy, PolicyAnalysis, PolicyError};

/// Why a key's policy cannot be analysed.
#[derive(Clone)]
pub(crate) enum Unreadable {
    /// GetKeyPolicy failed (listed in `unknown`, with a coverage gap).
    NotRead,
    /// The inventory holds no policy for the key, without saying why.
    Missing,
    /// The document does not parse as a key policy.
    Invalid(PolicyError),
}

/// The key-policy analyses of one check run, shared by POL001, POL002 and POL003.
///
/// Parsing and analysing a policy is most of the checks' time on a large inventory, so each
/// distinct (key account, policy text) is analysed once: keys with the same policy in the same
/// account (common: the default key policy, policies stamped from one template) share it.
#[derive(Default)]
pub struct PolicyAnalyses<'a> {
    /// One analyzer context per key account (the trusted and organization account sets are
    /// cloned once per account, not once per key).
    contexts: RefCell<HashMap<&'a str, AnalysisContext>>,
    results: RefCell<HashMap<(&'a str, &'a str), SharedAnalysis>>,
}

/// A policy's analysis or parse error, shared by every key with that policy in that account.
type SharedAnalysis = Rc<Result<PolicyAnalysis, PolicyError>>;

/// A successful analysis from [`PolicyAnalyses`] (shared, not copied).
pub(crate) struct Analysed(SharedAnalysis);

impl std::ops::Deref for Analysed {
    type Target = PolicyAnalysis;
    fn deref(&self) -> &PolicyAnalysis {
        match self.0.as_ref() {
            Ok(analysis) => analysis,
            // `PolicyAnalyses::analysed` only wraps successful analyses.
            Err(_) => unreachable!("Analysed holds an analysis"),
        }
    }
}

impl<'a> PolicyAnalyses<'a> {
    /// The analysis of a key's policy, or why it cannot be analysed (POL003 reports that).
    pub(crate) fn analysis(
        &self,
        run: &CheckRun<'a>,
        key: &'a KeyRecord,
    ) -> Result<SharedAnalysis, Unreadable> {
        if !super::known(key, "policy") {
            return Err(Unreadable::NotRead);
        }
        let document = key.policy.as_ref().ok_or(Unreadable::Missing)?;
        let cache_key = (key.account.as_str(), document.json());
        if let Some(done) = self.results.borrow().get(&cache_key) {
            return Ok(Rc::clone(done));
        }
        let result = KeyPolicy::parse(&document.to_value()).map(|policy| {
            let mut contexts = self.contexts.borrow_mut();
            let context = contexts
                .entry(key.account.as_str())
                .or_insert_with(|| AnalysisContext {
                    key_account: key.account.to_string(),
                    trusted_accounts: run.config.trusted_accounts.clone(),
                    organization_id: run.organization_id.map(str::to_string),
                    organization_accounts: run.organization_accounts.cloned(),
                });
            crate::policy::analyze(&policy, context)
        });
        let result = Rc::new(result);
        self.results
            .borrow_mut()
            .insert(cache_key, Rc::clone(&result));
        Ok(result)
    }

    /// The analysis of a key's policy; `None` when it cannot be analysed (POL003 reports that).
    pub(crate) fn analysed(&self, run: &CheckRun<'a>, key: &'a KeyRecord) -> Option<Analysed> {
        self.analysis(run, key)
            .ok()
            .filter(|result| result.is_ok())
            .map(Analysed)
    }

    /// Why a key's policy cannot be analysed, if it cannot.
    pub(crate) fn unreadable(&self, run: &CheckRun<'a>, key: &'a KeyRecord) -> Option<Unreadable> {
        match self.analysis(run, key) {
            Err(why) => Some(why),
            Ok(result) => match result.as_ref() {
                Ok(_) => None,
                Err(err) => Some(Unreadable::Invalid(err.clone())),
            },
        }
    }
}

/// The statement at `index` as written in the key's policy, for evidence.
pub(crate) fn statement_document(key: &KeyRecord, index: usize) -> Value {
    let Some(policy) = &key.policy else {
        return Value::Null;
    };
    let mut document = policy.to_value();
    // Terraform state and some exports carry the policy as an encoded string.
    if let Value::String(text) = &document {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => document = value,
            Err(_) => return Value::Null,
        }
    }
    match document.get_mut("Statement").map(Value::take) {
        Some(Value::Array(mut items)) if index < items.len() => items.swap_remove(index),
        Some(one @ Value::Object(_)) if index == 0 => one,
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
