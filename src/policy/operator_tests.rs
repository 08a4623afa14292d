//! One table case per IAM condition operator, against the condition-operator reference: the
//! exact string operators compare `*` and `?` literally; `StringLike`/`StringNotLike` and the
//! four ARN operators treat them as wildcards; negated, `IfExists` and `ForAllValues:` forms
//! and the non-identity operators never pin the caller.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;

const KEY: &str = "111111111111";
const TRUSTED: &str = "222222222222";
const MEMBER: &str = "333333333333";
const STRANGER: &str = "444444444444";

fn ctx() -> AnalysisContext {
    AnalysisContext {
        key_account: KEY.into(),
        trusted_accounts: BTreeSet::from([TRUSTED.to_string()]),
        organization_id: Some("o-mine".into()),
        organization_accounts: Some(BTreeSet::from([KEY.to_string(), MEMBER.to_string()])),
    }
}

/// What the analysis must conclude about a public Allow (Sid "Pub").
#[derive(Debug, PartialEq)]
enum Outcome {
    /// POL001: open to anyone.
    Public,
    /// Pinned (or denied) to the cross-account rows listed: (account or organization, class).
    Restricted(Vec<(String, AccountClass)>),
}

use AccountClass::Untrusted;
use Outcome::{Public, Restricted};

fn rows(list: &[(&str, AccountClass)]) -> Outcome {
    Restricted(list.iter().map(|(a, c)| (a.to_string(), *c)).collect())
}

struct OpCase {
    name: &'static str,
    statements: Value,
    outcome: Outcome,
    /// Substring of some reason text.
    reason: &'static str,
}

fn allow_with(
    name: &'static str,
    condition: Value,
    outcome: Outcome,
    reason: &'static str,
) -> OpCase {
    OpCase {
        name,
        statements: json!([{"Sid": "Pub", "Effect": "Allow", "Principal": "*",
            "Action": "kms:Decrypt", "Resource": "*", "Condition": condition}]),
        outcome,
        reason,
    }
}

fn deny_with(
    name: &'static str,
    condition: Value,
    outcome: Outcome,
    reason: &'static str,
) -> OpCase {
    OpCase {
        name,
        statements: json!([
            {"Sid": "Pub", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
            {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
             "Condition": condition}]),
        outcome,
        reason,
    }
}

fn allow_cases() -> Vec<OpCase> {
    let stranger_role = format!("arn:aws:iam::{STRANGER}:role/*");
    vec![
        // String operators.
        allow_with(
            "StringEquals pins the account",
            json!({"StringEquals": {"aws:PrincipalAccount": STRANGER}}),
            rows(&[(STRANGER, Untrusted)]),
            "restricted by condition aws:PrincipalAccount StringEquals",
        ),
        allow_with(
            "StringEquals \"*\" is literal: names no account",
            json!({"StringEquals": {"aws:PrincipalAccount": "*"}}),
            rows(&[]),
            "restricted by condition aws:PrincipalAccount StringEquals \"*\"",
        ),
        allow_with(
            "StringEquals 4444* is literal",
            json!({"StringEquals": {"aws:PrincipalAccount": "4444*"}}),
            rows(&[]),
            "restricted by condition",
        ),
        allow_with(
            "StringEquals keeps the real values of a list with a literal *",
            json!({"StringEquals": {"aws:PrincipalAccount": [STRANGER, "*"]}}),
            rows(&[(STRANGER, Untrusted)]),
            "restricted by condition",
        ),
        allow_with(
            "StringNotEquals is negated",
            json!({"StringNotEquals": {"aws:PrincipalAccount": STRANGER}}),
            Public,
            "a negated operator is satisfied by every other value",
        ),
        allow_with(
            "StringEqualsIgnoreCase names the lower-case organization",
            json!({"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "O-OTHER"}}),
            rows(&[("o-other", Untrusted)]),
            "every account of organization o-other",
        ),
        allow_with(
            "StringEqualsIgnoreCase of the auditor's organization",
            json!({"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "O-MINE"}}),
            rows(&[]),
            "restricted by condition aws:PrincipalOrgID StringEqualsIgnoreCase",
        ),
        allow_with(
            "StringEqualsIgnoreCase o-* is literal",
            json!({"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "o-*"}}),
            rows(&[]),
            "restricted by condition",
        ),
        allow_with(
            "StringNotEqualsIgnoreCase is negated",
            json!({"StringNotEqualsIgnoreCase": {"aws:PrincipalOrgID": "o-mine"}}),
            Public,
            "a negated operator",
        ),
        allow_with(
            "StringLike with a wildcard pins nothing",
            json!({"StringLike": {"aws:PrincipalAccount": "4444*"}}),
            Public,
            "(wildcard value)",
        ),
        allow_with(
            "StringLike without a wildcard pins",
            json!({"StringLike": {"aws:PrincipalAccount": STRANGER}}),
            rows(&[(STRANGER, Untrusted)]),
            "restricted by condition aws:PrincipalAccount StringLike",
        ),
        allow_with(
            "StringNotLike is negated",
            json!({"StringNotLike": {"aws:PrincipalArn": stranger_role}}),
            Public,
            "a negated operator",
        ),
        allow_with(
            "StringEquals on aws:PrincipalArn compares the * of the account literally",
            json!({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}),
            rows(&[]),
            "restricted by condition aws:PrincipalArn StringEquals",
        ),
        allow_with(
            "StringEquals on aws:userid compares * literally",
            json!({"StringEquals": {"aws:userid": "*:alice"}}),
            rows(&[]),
            "restricted by condition aws:userid StringEquals",
        ),
        allow_with(
            "StringEquals on aws:PrincipalOrgPaths compares * literally",
            json!({"StringEquals": {"aws:PrincipalOrgPaths": "o-other/*"}}),
            rows(&[]),
            "restricted by condition aws:PrincipalOrgPaths StringEquals",
        ),
        allow_with(
            "StringLike on aws:PrincipalOrgPaths pins the root organization",
            json!({"StringLike": {"aws:PrincipalOrgPaths": "o-other/*"}}),
            rows(&[("o-other", Untrusted)]),
            "every account of organization o-other",
        ),
        allow_with(
            "StringEquals on aws:SourceVpc compares * literally",
            json!({"StringEquals": {"aws:SourceVpc": "vpc-*"}}),
            rows(&[]),
            "restricted by condition aws:SourceVpc StringEquals",
        ),
        // Numeric, date, Boolean and binary operators say nothing about the caller.
        allow_with(
            "NumericEquals",
            json!({"NumericEquals": {"aws:MultiFactorAuthAge": "0"}}),
            Public,
            "NumericEquals conditions do not restrict",
        ),
        allow_with(
            "NumericNotEquals",
            json!({"NumericNotEquals": {"aws:MultiFactorAuthAge": "0"}}),
            Public,
            "NumericNotEquals conditions do not restrict",
        ),
        allow_with(
            "NumericLessThan",
            json!({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
            Public,
            "NumericLessThan conditions do not restrict",
        ),
        allow_with(
            "NumericLessThanEquals",
            json!({"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}}),
            Public,
            "NumericLessThanEquals conditions do not restrict",
        ),
        allow_with(
            "NumericGreaterThan",
            json!({"NumericGreaterThan": {"aws:MultiFactorAuthAge": "1"}}),
            Public,
            "NumericGreaterThan conditions do not restrict",
        ),
        allow_with(
            "NumericGreaterThanEquals",
            json!({"NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": "1"}}),
            Public,
            "NumericGreaterThanEquals conditions do not restrict",
        ),
        allow_with(
            "DateEquals",
            json!({"DateEquals": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            Public,
            "DateEquals conditions do not restrict",
        ),
        allow_with(
            "DateNotEquals",
            json!({"DateNotEquals": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            Public,
            "DateNotEquals conditions do not restrict",
        ),
        allow_with(
            "DateLessThan",
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            Public,
            "DateLessThan conditions do not restrict",
        ),
        allow_with(
            "DateLessThanEquals",
            json!({"DateLessThanEquals": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            Public,
            "DateLessThanEquals conditions do not restrict",
        ),
        allow_with(
            "DateGreaterThan",
            json!({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
            Public,
            "DateGreaterThan conditions do not restrict",
        ),
        allow_with(
            "DateGreaterThanEquals",
            json!({"DateGreaterThanEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
            Public,
            "DateGreaterThanEquals conditions do not restrict",
        ),
        allow_with(
            "Bool",
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            Public,
            "Bool conditions do not restrict",
        ),
        allow_with(
            "BinaryEquals",
            json!({"BinaryEquals": {"aws:PrincipalTag/blob": "QmluYXJ5"}}),
            Public,
            "BinaryEquals conditions do not restrict",
        ),
        allow_with(
            "Null",
            json!({"Null": {"aws:PrincipalOrgID": "false"}}),
            Public,
            "Null conditions do not restrict",
        ),
        // IP address operators.
        allow_with(
            "IpAddress pins a range",
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            rows(&[]),
            "restricted by condition aws:SourceIp IpAddress",
        ),
        allow_with(
            "IpAddress of the whole Internet pins nothing",
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            Public,
            "address range /0 is too wide",
        ),
        allow_with(
            "NotIpAddress is negated",
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            Public,
            "a negated operator",
        ),
        // ARN operators: wildcards per segment, ArnEquals like ArnLike.
        allow_with(
            "ArnEquals with a fixed account pins it",
            json!({"ArnEquals": {"aws:PrincipalArn": stranger_role}}),
            rows(&[(STRANGER, Untrusted)]),
            "restricted by condition aws:PrincipalArn ArnEquals",
        ),
        allow_with(
            "ArnEquals with a wildcard account pins nothing",
            json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}),
            Public,
            "(wildcard account in ARN)",
        ),
        allow_with(
            "ArnLike with a fixed account pins it",
            json!({"ArnLike": {"aws:PrincipalArn": stranger_role}}),
            rows(&[(STRANGER, Untrusted)]),
            "restricted by condition aws:PrincipalArn ArnLike",
        ),
        allow_with(
            "ArnLike with a wildcard account pins nothing",
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}),
            Public,
            "(wildcard account in ARN)",
        ),
        allow_with(
            "ArnNotEquals is negated",
            json!({"ArnNotEquals": {"aws:PrincipalArn": stranger_role}}),
            Public,
            "a negated operator",
        ),
        allow_with(
            "ArnNotLike is negated",
            json!({"ArnNotLike": {"aws:PrincipalArn": stranger_role}}),
            Public,
            "a negated operator",
        ),
        // Qualifiers and IfExists.
        allow_with(
            "IfExists is true without the key",
            json!({"StringEqualsIfExists": {"aws:PrincipalAccount": STRANGER}}),
            Public,
            "an IfExists operator is true when the key is absent",
        ),
        allow_with(
            "ForAllValues: is true without the key",
            json!({"ForAllValues:StringEquals": {"aws:PrincipalAccount": STRANGER}}),
            Public,
            "ForAllValues: is true when the key is absent",
        ),
        allow_with(
            "ForAnyValue:StringEquals pins",
            json!({"ForAnyValue:StringEquals": {"aws:PrincipalAccount": STRANGER}}),
            rows(&[(STRANGER, Untrusted)]),
            "restricted by condition",
        ),
        allow_with(
            "ForAnyValue:StringEquals * is literal",
            json!({"ForAnyValue:StringEquals": {"aws:PrincipalAccount": "*"}}),
            rows(&[]),
            "restricted by condition",
        ),
        allow_with(
            "an unknown operator pins nothing",
            json!({"StringEqualz": {"aws:PrincipalAccount": STRANGER}}),
            Public,
            "(unknown operator)",
        ),
    ]
}

fn deny_cases() -> Vec<OpCase> {
    let stranger_role = format!("arn:aws:iam::{STRANGER}:role/*");
    vec![
        deny_with(
            "StringNotEquals exempts the account",
            json!({"StringNotEquals": {"aws:PrincipalAccount": KEY}}),
            rows(&[]),
            "exempts only aws:PrincipalAccount StringNotEquals \"111111111111\"",
        ),
        deny_with(
            "StringNotEquals \"*\" exempts nobody: denied to everyone",
            json!({"StringNotEquals": {"aws:PrincipalAccount": "*"}}),
            rows(&[]),
            "every action it allows is denied to everyone",
        ),
        deny_with(
            "StringNotEquals keeps the real values of a list with a literal *",
            json!({"StringNotEquals": {"aws:PrincipalAccount": [STRANGER, "*"]}}),
            rows(&[(STRANGER, Untrusted)]),
            "exempts only aws:PrincipalAccount StringNotEquals",
        ),
        deny_with(
            "StringNotEqualsIgnoreCase exempts the lower-case organization",
            json!({"StringNotEqualsIgnoreCase": {"aws:PrincipalOrgID": "O-MINE"}}),
            rows(&[]),
            "exempts only aws:PrincipalOrgID StringNotEqualsIgnoreCase",
        ),
        deny_with(
            "StringNotLike * exempts everyone",
            json!({"StringNotLike": {"aws:PrincipalAccount": "*"}}),
            Public,
            "exempts too much (wildcard value)",
        ),
        deny_with(
            "StringLike * on an always-present key denies everyone",
            json!({"StringLike": {"aws:PrincipalArn": "*"}}),
            rows(&[]),
            "every action it allows is denied to everyone",
        ),
        deny_with(
            "StringEquals * is literal: the Deny matches no caller",
            json!({"StringEquals": {"aws:PrincipalArn": "*"}}),
            Public,
            "matches no caller (StringEquals compares * and ? literally)",
        ),
        deny_with(
            "StringEqualsIgnoreCase * is literal too",
            json!({"StringEqualsIgnoreCase": {"aws:PrincipalAccount": "*"}}),
            Public,
            "matches no caller (StringEqualsIgnoreCase compares * and ? literally)",
        ),
        deny_with(
            "StringEquals of a value holds for some requests only",
            json!({"StringEquals": {"aws:PrincipalAccount": STRANGER}}),
            Public,
            "holds only for some requests",
        ),
        deny_with(
            "ArnEquals * denies everyone, as ArnLike does",
            json!({"ArnEquals": {"aws:PrincipalArn": "*"}}),
            rows(&[]),
            "every action it allows is denied to everyone",
        ),
        deny_with(
            "ArnLike * denies everyone",
            json!({"ArnLike": {"aws:PrincipalArn": "*"}}),
            rows(&[]),
            "every action it allows is denied to everyone",
        ),
        deny_with(
            "ArnNotEquals exempts the pinned account",
            json!({"ArnNotEquals": {"aws:PrincipalArn": stranger_role}}),
            rows(&[(STRANGER, Untrusted)]),
            "exempts only aws:PrincipalArn ArnNotEquals",
        ),
        deny_with(
            "ArnNotLike exempts the pinned account",
            json!({"ArnNotLike": {"aws:PrincipalArn": stranger_role}}),
            rows(&[(STRANGER, Untrusted)]),
            "exempts only aws:PrincipalArn ArnNotLike",
        ),
        deny_with(
            "NotIpAddress exempts a range",
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            rows(&[]),
            "exempts only aws:SourceIp NotIpAddress",
        ),
        deny_with(
            "IpAddress holds for some requests only",
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            Public,
            "holds only for some requests",
        ),
        deny_with(
            "Bool holds for some requests only",
            json!({"Bool": {"aws:SecureTransport": "false"}}),
            Public,
            "holds only for some requests",
        ),
        deny_with(
            "NumericGreaterThan holds for some requests only",
            json!({"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}),
            Public,
            "holds only for some requests",
        ),
        deny_with(
            "DateGreaterThan holds for some requests only",
            json!({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            Public,
            "holds only for some requests",
        ),
        deny_with(
            "Null holds for some requests only",
            json!({"Null": {"aws:PrincipalOrgID": "true"}}),
            Public,
            "holds only for some requests",
        ),
        deny_with(
            "ForAnyValue:StringNotEquals holds for some requests only",
            json!({"ForAnyValue:StringNotEquals": {"aws:PrincipalAccount": KEY}}),
            Public,
            "holds only for some requests",
        ),
    ]
}

fn outcome_of(analysis: &PolicyAnalysis) -> Outcome {
    if analysis.is_public() {
        return Public;
    }
    let mut rows: Vec<(String, AccountClass)> = analysis
        .cross_account
        .iter()
        .map(|r| (r.account.clone(), r.classification))
        .collect();
    rows.sort();
    Restricted(rows)
}

#[test]
fn every_operator_as_the_reference_defines_it() {
    let cases: Vec<OpCase> = allow_cases().into_iter().chain(deny_cases()).collect();
    let mut failures = Vec::new();
    for case in &cases {
        let doc = json!({"Version": "2012-10-17", "Statement": case.statements});
        let policy = match KeyPolicy::parse(&doc) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{}: parse error {e}", case.name));
                continue;
            }
        };
        let analysis = analyze(&policy, &ctx());
        let outcome = outcome_of(&analysis);
        let reasons: Vec<&str> = analysis
            .public
            .iter()
            .map(|g| g.reason.as_str())
            .chain(analysis.restricted_public.iter().map(|g| g.reason.as_str()))
            .chain(analysis.cross_account.iter().map(|g| g.reason.as_str()))
            .collect();
        if outcome != case.outcome {
            failures.push(format!("{}: {outcome:?} != {:?}", case.name, case.outcome));
        }
        if !reasons.iter().any(|r| r.contains(case.reason)) {
            failures.push(format!(
                "{}: no reason contains {:?}: {reasons:#?}",
                case.name, case.reason
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_base_operator_has_a_case() {
    let cases: Vec<OpCase> = allow_cases().into_iter().chain(deny_cases()).collect();
    let named: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| {
            c.statements
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["Condition"].as_object())
                .flat_map(|ops| ops.keys().cloned())
                .collect::<Vec<_>>()
        })
        .map(|op| format!("{:?}", ConditionOperator::parse(&op).base))
        .collect();
    for base in [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
        "Unknown",
    ] {
        assert!(named.contains(base), "no case for {base}");
    }
}

#[test]
fn operator_wildcard_and_case_properties() {
    let wild: Vec<&str> = [
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
    ]
    .to_vec();
    for op in [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "ForAnyValue:StringLike",
        "StringEqualsIfExists",
        "IpAddress",
        "Bool",
    ] {
        let parsed = ConditionOperator::parse(op);
        let base = format!("{:?}", parsed.base);
        assert_eq!(
            parsed.matches_wildcards(),
            wild.contains(&base.as_str()),
            "{op}"
        );
        assert_eq!(parsed.ignores_case(), base.contains("IgnoreCase"), "{op}");
    }
}
