//! Table-driven tests: parsing, action matching, access analysis and semantic diff.

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

/// Only the key account known: no trusted accounts, no organization.
fn bare_ctx() -> AnalysisContext {
    AnalysisContext::new(KEY)
}

fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Id": "key-policy", "Statement": statements})
}

fn root_admin() -> Value {
    json!({"Sid": "Root", "Effect": "Allow",
           "Principal": {"AWS": format!("arn:aws:iam::{KEY}:root")},
           "Action": "kms:*", "Resource": "*"})
}

/// An Allow for everyone (`Principal "*"`) with the given conditions.
fn public_with(condition: Value) -> Value {
    json!({"Sid": "Pub", "Effect": "Allow", "Principal": "*",
           "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*", "Condition": condition})
}

fn open_allow() -> Value {
    json!({"Sid": "Pub", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"})
}

struct Case {
    name: &'static str,
    policy: Value,
    ctx: AnalysisContext,
    public: Vec<&'static str>,
    restricted: Vec<&'static str>,
    cross: Vec<(&'static str, AccountClass)>,
    deleted: Vec<&'static str>,
    /// Substrings expected somewhere in the reasons (public, restricted, cross-account, service).
    reasons: Vec<&'static str>,
    denied: Vec<&'static str>,
}

fn case(name: &'static str, statements: Value) -> Case {
    Case {
        name,
        policy: policy(statements),
        ctx: ctx(),
        public: vec![],
        restricted: vec![],
        cross: vec![],
        deleted: vec![],
        reasons: vec![],
        denied: vec![],
    }
}

impl Case {
    fn public(mut self, sids: &[&'static str]) -> Self {
        self.public = sids.to_vec();
        self
    }
    fn restricted(mut self, sids: &[&'static str]) -> Self {
        self.restricted = sids.to_vec();
        self
    }
    fn cross(mut self, rows: &[(&'static str, AccountClass)]) -> Self {
        self.cross = rows.to_vec();
        self
    }
    fn deleted(mut self, ids: &[&'static str]) -> Self {
        self.deleted = ids.to_vec();
        self
    }
    fn reason(mut self, text: &'static str) -> Self {
        self.reasons.push(text);
        self
    }
    fn denied(mut self, actions: &[&'static str]) -> Self {
        self.denied = actions.to_vec();
        self
    }
    fn with_ctx(mut self, ctx: AnalysisContext) -> Self {
        self.ctx = ctx;
        self
    }
}

use AccountClass::{Organization as Org, Trusted, Untrusted};

fn analyze_cases() -> Vec<Case> {
    let managed_key = json!([
        {"Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
         "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:CreateGrant", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": KEY,
                                        "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}},
        {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
         "Principal": {"AWS": format!("arn:aws:iam::{KEY}:root")},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"}
    ]);
    vec![
        // --- baseline and principal forms -------------------------------------------------
        case("default key policy grants only the key account", json!([root_admin()])),
        case("Principal * without condition", json!([root_admin(), open_allow()]))
            .public(&["Pub"])
            .reason("Principal \"*\" with no restricting condition"),
        case(
            "AWS * without condition",
            json!([{"Sid": "Pub", "Effect": "Allow", "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .public(&["Pub"])
        .reason("Principal {\"AWS\": \"*\"} with no restricting condition"),
        case(
            "AWS * inside an array",
            json!([{"Sid": "Pub", "Effect": "Allow",
                    "Principal": {"AWS": [format!("arn:aws:iam::{KEY}:root"), "*"]},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .public(&["Pub"]),
        case(
            "wildcard account in a principal ARN counts as everyone",
            json!([{"Sid": "Pub", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .public(&["Pub"]),
        case(
            "NotPrincipal with Allow",
            json!([{"Sid": "NotP", "Effect": "Allow",
                    "NotPrincipal": {"AWS": format!("arn:aws:iam::{STRANGER}:root")},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .public(&["NotP"])
        .reason("NotPrincipal with Allow"),
        case(
            "NotPrincipal with Allow pinned to the key account",
            json!([{"Sid": "NotP", "Effect": "Allow",
                    "NotPrincipal": {"AWS": format!("arn:aws:iam::{STRANGER}:root")},
                    "Action": "kms:Decrypt", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": KEY}}}]),
        )
        .restricted(&["NotP"]),
        case(
            "NotAction with Principal *",
            json!([{"Sid": "Pub", "Effect": "Allow", "Principal": "*",
                    "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*"}]),
        )
        .public(&["Pub"]),
        case(
            "Action prefix wildcard kms:Get*",
            json!([{"Sid": "Pub", "Effect": "Allow", "Principal": "*",
                    "Action": "kms:Get*", "Resource": "*"}]),
        )
        .public(&["Pub"]),
        case(
            "an Allow naming no KMS action grants nothing on the key",
            json!([{"Sid": "S3", "Effect": "Allow", "Principal": "*",
                    "Action": "s3:*", "Resource": "*"}]),
        ),
        // --- restricting conditions -------------------------------------------------------
        case(
            "aws:PrincipalAccount pinned to the key account",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalAccount": KEY}}))]),
        )
        .restricted(&["Pub"])
        .reason("restricted by condition aws:PrincipalAccount StringEquals \"111111111111\""),
        case(
            "aws:PrincipalAccount pinned to an untrusted account",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalAccount": STRANGER}}))]),
        )
        .restricted(&["Pub"])
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "aws:PrincipalAccount pinned to several accounts",
            json!([public_with(
                json!({"StringEquals": {"aws:PrincipalAccount": [KEY, TRUSTED, MEMBER]}})
            )]),
        )
        .restricted(&["Pub"])
        .cross(&[(TRUSTED, Trusted), (MEMBER, Org)]),
        case(
            "aws:PrincipalOrgID of this organization",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalOrgID": "o-mine"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "aws:PrincipalOrgID of another organization",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalOrgID": "o-other"}}))]),
        )
        .restricted(&["Pub"])
        .cross(&[("o-other", Untrusted)])
        .reason("every account of organization o-other"),
        case(
            "aws:PrincipalOrgID with the organization unknown",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalOrgID": "o-mine"}}))]),
        )
        .with_ctx(bare_ctx())
        .restricted(&["Pub"])
        .cross(&[("o-mine", Untrusted)])
        .reason("organization is unknown"),
        case(
            "StringEqualsIgnoreCase aws:PrincipalOrgID",
            json!([public_with(
                json!({"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "o-mine"}})
            )]),
        )
        .restricted(&["Pub"]),
        case(
            "condition keys are case-insensitive",
            json!([public_with(json!({"StringEquals": {"AWS:PRINCIPALORGID": "o-mine"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "ForAnyValue:StringLike aws:PrincipalOrgPaths",
            json!([public_with(json!({"ForAnyValue:StringLike":
                {"aws:PrincipalOrgPaths": ["o-mine/r-ab12/ou-ab12-11111111/*"]}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "ForAllValues:StringEquals is vacuously true",
            json!([public_with(json!({"ForAllValues:StringEquals":
                {"aws:PrincipalOrgPaths": ["o-mine/r-ab12/ou-ab12-11111111/"]}}))]),
        )
        .public(&["Pub"])
        .reason("ForAllValues: is true when the key is absent"),
        case(
            "StringEqualsIfExists does not restrict",
            json!([public_with(json!({"StringEqualsIfExists": {"aws:PrincipalAccount": KEY}}))]),
        )
        .public(&["Pub"])
        .reason("an IfExists operator is true when the key is absent"),
        case(
            "StringNotEquals does not restrict",
            json!([public_with(json!({"StringNotEquals": {"aws:PrincipalAccount": STRANGER}}))]),
        )
        .public(&["Pub"])
        .reason("negated operator"),
        case(
            "StringNotLike does not restrict",
            json!([public_with(json!({"StringNotLike":
                {"aws:PrincipalArn": "arn:aws:iam::444444444444:role/*"}}))]),
        )
        .public(&["Pub"]),
        case(
            "StringLike aws:PrincipalArn * does not restrict",
            json!([public_with(json!({"StringLike": {"aws:PrincipalArn": "*"}}))]),
        )
        .public(&["Pub"])
        .reason("condition aws:PrincipalArn StringLike \"*\" does not restrict (wildcard value)"),
        case(
            "ArnLike aws:PrincipalArn with wildcard account does not restrict",
            json!([public_with(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}))]),
        )
        .public(&["Pub"])
        .reason("wildcard account"),
        case(
            "ArnLike aws:PrincipalArn with a fixed trusted account",
            json!([public_with(json!({"ArnLike":
                {"aws:PrincipalArn": format!("arn:aws:iam::{TRUSTED}:role/*")}}))]),
        )
        .restricted(&["Pub"])
        .cross(&[(TRUSTED, Trusted)]),
        case(
            "ArnEquals aws:PrincipalArn of an untrusted role",
            json!([public_with(json!({"ArnEquals":
                {"aws:PrincipalArn": format!("arn:aws:iam::{STRANGER}:role/App")}}))]),
        )
        .restricted(&["Pub"])
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "StringLike partial wildcard in an account does not restrict",
            json!([public_with(json!({"StringLike": {"aws:PrincipalAccount": "4444*"}}))]),
        )
        .public(&["Pub"]),
        case(
            "Bool alone does not restrict",
            json!([public_with(json!({"Bool": {"aws:SecureTransport": "true"}}))]),
        )
        .public(&["Pub"])
        .reason("Bool conditions do not restrict the principal"),
        case(
            "Null alone does not restrict",
            json!([public_with(json!({"Null": {"aws:PrincipalOrgID": "false"}}))]),
        )
        .public(&["Pub"]),
        case(
            "Numeric alone does not restrict",
            json!([public_with(json!({"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}))]),
        )
        .public(&["Pub"]),
        case(
            "Date alone does not restrict",
            json!([public_with(json!({"DateGreaterThan":
                {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}))]),
        )
        .public(&["Pub"]),
        case(
            "a restricting condition ANDed with a Bool restricts",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalOrgID": "o-mine"},
                                      "Bool": {"aws:SecureTransport": true}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "IpAddress with a fixed range",
            json!([public_with(json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "IpAddress 0.0.0.0/0 does not restrict",
            json!([public_with(json!({"IpAddress": {"aws:SourceIp": ["0.0.0.0/0"]}}))]),
        )
        .public(&["Pub"])
        .reason("too wide"),
        case(
            "IpAddress ::/0 does not restrict",
            json!([public_with(json!({"IpAddress": {"aws:SourceIp": "::/0"}}))]),
        )
        .public(&["Pub"]),
        case(
            "NotIpAddress does not restrict",
            json!([public_with(json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))]),
        )
        .public(&["Pub"]),
        case(
            "aws:SourceVpce fixed",
            json!([public_with(json!({"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "aws:SourceVpc with a wildcard does not restrict",
            json!([public_with(json!({"StringLike": {"aws:SourceVpc": "vpc-*"}}))]),
        )
        .public(&["Pub"]),
        case(
            "kms:ViaService alone does not pin the account",
            json!([public_with(json!({"StringEquals":
                {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}))]),
        )
        .public(&["Pub"])
        .reason("kms:ViaService limits the AWS service"),
        case("AWS-managed key default policy (kms:CallerAccount + kms:ViaService)", managed_key)
            .restricted(&[
                "Allow access through EBS for all principals in the account that are authorized to use EBS",
            ]),
        case(
            "kms:CallerAccount + kms:ViaService for another account",
            json!([public_with(json!({"StringEquals": {"kms:CallerAccount": STRANGER,
                                                       "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}))]),
        )
        .restricted(&["Pub"])
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "aws:userid of one role",
            json!([public_with(json!({"StringLike": {"aws:userid": "AROAEXAMPLEROLEID1234:*"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "aws:userid wildcard does not restrict",
            json!([public_with(json!({"StringLike": {"aws:userid": "*:alice"}}))]),
        )
        .public(&["Pub"]),
        case(
            "aws:PrincipalServiceName fixed",
            json!([public_with(json!({"StringEquals":
                {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "policy variable for the key's own account",
            json!([public_with(json!({"StringEquals":
                {"aws:PrincipalAccount": "${aws:ResourceAccount}"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "policy variable for the key's own organization",
            json!([public_with(json!({"StringEquals":
                {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "caller-dependent policy variable does not restrict",
            json!([public_with(json!({"StringEquals": {"aws:PrincipalAccount": "${aws:username}"}}))]),
        )
        .public(&["Pub"])
        .reason("policy variable"),
        case(
            "aws:SourceArn of a whole S3 bucket restricts",
            json!([public_with(json!({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}}))]),
        )
        .restricted(&["Pub"]),
        case(
            "aws:SourceArn arn:aws:s3:::* does not restrict",
            json!([public_with(json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}))]),
        )
        .public(&["Pub"]),
        case(
            "unknown condition key does not restrict",
            json!([public_with(json!({"StringEquals":
                {"kms:EncryptionContext:app": "payments"}}))]),
        )
        .public(&["Pub"])
        .reason("does not identify the caller"),
        // --- Deny statements ----------------------------------------------------------------
        case(
            "unconditional Deny of everything removes public access",
            json!([open_allow(),
                   {"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]),
        )
        .restricted(&["Pub"])
        .reason("every action it allows is denied")
        .reason("removes every action the statement allows for everyone"),
        case(
            "unconditional Deny of some actions leaves the rest public",
            json!([public_with(json!({})),
                   {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .public(&["Pub"])
        .denied(&["kms:Decrypt"])
        .reason("removes kms:Decrypt for everyone"),
        case(
            "Deny outside my organization restricts public access to the org",
            json!([open_allow(),
                   {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-mine"}}}]),
        )
        .restricted(&["Pub"])
        .reason("exempts only aws:PrincipalOrgID StringNotEquals \"o-mine\""),
        case(
            "Deny outside my organization for Decrypt only leaves the rest public",
            json!([open_allow(),
                   {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-mine"}}}]),
        )
        .public(&["Pub"])
        .reason("still open"),
        case(
            "Deny outside listed accounts pins public access to them",
            json!([open_allow(),
                   {"Sid": "Accounts", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalAccount": [KEY, STRANGER]}}}]),
        )
        .restricted(&["Pub"])
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "Deny unless through a VPC endpoint restricts",
            json!([open_allow(),
                   {"Sid": "Vpce", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}}]),
        )
        .restricted(&["Pub"]),
        case(
            "Deny with ForAnyValue:StringNotEquals is not relied upon",
            json!([open_allow(),
                   {"Sid": "Odd", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"ForAnyValue:StringNotEquals": {"aws:PrincipalOrgID": "o-mine"}}}]),
        )
        .public(&["Pub"]),
        case(
            "Deny on insecure transport does not remove access",
            json!([open_allow(),
                   {"Sid": "Tls", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
        )
        .public(&["Pub"])
        .reason("Deny statement[1] \"Tls\" does not remove access"),
        case(
            "Deny whose condition matches everyone removes access",
            json!([open_allow(),
                   {"Sid": "All", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalArn": "*"}}}]),
        )
        .restricted(&["Pub"]),
        case(
            "Deny naming one principal leaves everyone else",
            json!([open_allow(),
                   {"Sid": "One", "Effect": "Deny",
                    "Principal": {"AWS": format!("arn:aws:iam::{STRANGER}:root")},
                    "Action": "kms:*", "Resource": "*"}]),
        )
        .public(&["Pub"]),
        case(
            "Deny with NotPrincipal restricts public access to the exempted account",
            json!([open_allow(),
                   {"Sid": "OnlyTrusted", "Effect": "Deny",
                    "NotPrincipal": {"AWS": [format!("arn:aws:iam::{TRUSTED}:root"),
                                             format!("arn:aws:iam::{KEY}:root")]},
                    "Action": "kms:*", "Resource": "*"}]),
        )
        .restricted(&["Pub"])
        .cross(&[(TRUSTED, Trusted)]),
        case(
            "Deny with NotPrincipal of a deleted principal denies everyone",
            json!([open_allow(),
                   {"Sid": "Gone", "Effect": "Deny", "NotPrincipal": {"AWS": "AROAGONEROLEID0000001"},
                    "Action": "kms:*", "Resource": "*"}]),
        )
        .restricted(&["Pub"])
        .deleted(&["AROAGONEROLEID0000001"]),
        case(
            "Deny with NotResource is not relied upon",
            json!([open_allow(),
                   {"Sid": "Other", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "NotResource": "arn:aws:kms:us-east-1:111111111111:key/other"}]),
        )
        .public(&["Pub"])
        .reason("NotResource may exclude this key"),
        // --- explicit cross-account principals ---------------------------------------------
        case(
            "untrusted account root",
            json!([root_admin(),
                   {"Sid": "X", "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{STRANGER}:root")},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .cross(&[(STRANGER, Untrusted)])
        .reason("not in trusted_accounts nor in the organization"),
        case(
            "bare account id is the account root",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "trusted role",
            json!([{"Sid": "X", "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{TRUSTED}:role/Reader")},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .cross(&[(TRUSTED, Trusted)]),
        case(
            "organization member assumed-role session",
            json!([{"Sid": "X", "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:sts::{MEMBER}:assumed-role/App/s1")},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .cross(&[(MEMBER, Org)]),
        case(
            "untrusted account pinned by aws:PrincipalOrgID of this organization",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": "kms:Decrypt", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-mine"}}}]),
        )
        .cross(&[(STRANGER, Org)])
        .reason("requires aws:PrincipalOrgID o-mine"),
        case(
            "untrusted account with membership unknown",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .with_ctx(bare_ctx())
        .cross(&[(STRANGER, Untrusted)])
        .reason("organization membership unknown"),
        case(
            "aws-cn and aws-us-gov partitions",
            json!([{"Sid": "X", "Effect": "Allow",
                    "Principal": {"AWS": [format!("arn:aws-cn:iam::{STRANGER}:root"),
                                          format!("arn:aws-us-gov:iam::{TRUSTED}:user/ops")]},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .cross(&[(STRANGER, Untrusted), (TRUSTED, Trusted)]),
        case(
            "Deny naming the account removes its grant",
            json!([{"Sid": "X", "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{STRANGER}:role/App")},
                    "Action": "kms:Decrypt", "Resource": "*"},
                   {"Sid": "D", "Effect": "Deny", "Principal": {"AWS": STRANGER},
                    "Action": "kms:*", "Resource": "*"}]),
        ),
        case(
            "Deny of other actions leaves the grant",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"},
                   {"Sid": "D", "Effect": "Deny", "Principal": "*",
                    "Action": "kms:Encrypt", "Resource": "*"}]),
        )
        .cross(&[(STRANGER, Untrusted)])
        .reason("removes kms:Encrypt"),
        case(
            "Deny outside my organization removes a known outsider",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": "kms:Decrypt", "Resource": "*"},
                   {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-mine"}}}]),
        ),
        case(
            "Deny outside my organization keeps an account of unknown membership",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": "kms:Decrypt", "Resource": "*"},
                   {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-mine"}}}]),
        )
        .with_ctx(AnalysisContext {
            organization_id: Some("o-mine".into()),
            ..bare_ctx()
        })
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "Deny with NotPrincipal exempting the grantee keeps it",
            json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
                    "Action": "kms:Decrypt", "Resource": "*"},
                   {"Sid": "D", "Effect": "Deny", "NotPrincipal": {"AWS": STRANGER},
                    "Action": "kms:*", "Resource": "*"}]),
        )
        .cross(&[(STRANGER, Untrusted)]),
        // --- deleted principals and services -----------------------------------------------
        case(
            "deleted role in an Allow grants nothing",
            json!([root_admin(),
                   {"Sid": "Gone", "Effect": "Allow", "Principal": {"AWS": "AROAEXAMPLEDELETED01"},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .deleted(&["AROAEXAMPLEDELETED01"]),
        case(
            "deleted user and role next to a live principal",
            json!([{"Sid": "Mixed", "Effect": "Allow",
                    "Principal": {"AWS": ["AIDAEXAMPLEDELETED02", STRANGER, "AROAEXAMPLEDELETED03"]},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .cross(&[(STRANGER, Untrusted)])
        .deleted(&["AIDAEXAMPLEDELETED02", "AROAEXAMPLEDELETED03"]),
        case(
            "CloudTrail service principal with aws:SourceArn of the key account",
            json!([{"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceArn":
                        format!("arn:aws:cloudtrail:us-east-1:{KEY}:trail/org")},
                                  "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                        format!("arn:aws:cloudtrail:*:{KEY}:trail/*")}}}]),
        )
        .reason("service principal cloudtrail.amazonaws.com limited by aws:SourceArn"),
        case(
            "service principal for another account's resources",
            json!([{"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": STRANGER}}}]),
        )
        .cross(&[(STRANGER, Untrusted)]),
        case(
            "service principal without source condition is not public",
            json!([{"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*"}]),
        )
        .reason("resources of any account"),
        case(
            "mixed policy: one public, one untrusted, one trusted",
            json!([root_admin(), open_allow(),
                   {"Sid": "X", "Effect": "Allow", "Principal": {"AWS": [STRANGER, TRUSTED]},
                    "Action": "kms:Decrypt", "Resource": "*"}]),
        )
        .public(&["Pub"])
        .cross(&[(STRANGER, Untrusted), (TRUSTED, Trusted)]),
    ]
}

#[test]
fn analyze_table() {
    let cases = analyze_cases();
    assert!(cases.len() >= 45, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let parsed = match KeyPolicy::parse(&case.policy) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{}: parse error {e}", case.name));
                continue;
            }
        };
        let a = analyze(&parsed, &case.ctx);
        let sids = |it: Vec<Option<String>>| -> Vec<String> {
            it.into_iter().map(|s| s.unwrap_or_default()).collect()
        };
        let public = sids(a.public.iter().map(|g| g.sid.clone()).collect());
        let restricted = sids(a.restricted_public.iter().map(|g| g.sid.clone()).collect());
        let mut cross: Vec<(String, AccountClass)> = a
            .cross_account
            .iter()
            .map(|g| (g.account.clone(), g.classification))
            .collect();
        cross.sort();
        let mut want_cross: Vec<(String, AccountClass)> = case
            .cross
            .iter()
            .map(|(a, c)| (a.to_string(), *c))
            .collect();
        want_cross.sort();
        let reasons: Vec<&str> = a
            .public
            .iter()
            .map(|g| g.reason.as_str())
            .chain(a.restricted_public.iter().map(|g| g.reason.as_str()))
            .chain(a.cross_account.iter().map(|g| g.reason.as_str()))
            .chain(a.service_grants.iter().map(|g| g.reason.as_str()))
            .collect();
        let denied: Vec<String> = a
            .public
            .iter()
            .flat_map(|g| g.denied_actions.clone())
            .collect();
        let mut problems = Vec::new();
        if public != case.public {
            problems.push(format!("public {public:?} != {:?}", case.public));
        }
        if restricted != case.restricted {
            problems.push(format!(
                "restricted {restricted:?} != {:?}",
                case.restricted
            ));
        }
        if cross != want_cross {
            problems.push(format!("cross {cross:?} != {want_cross:?}"));
        }
        if a.deleted_principals != case.deleted {
            problems.push(format!(
                "deleted {:?} != {:?}",
                a.deleted_principals, case.deleted
            ));
        }
        if denied != case.denied {
            problems.push(format!("denied {denied:?} != {:?}", case.denied));
        }
        for want in &case.reasons {
            if !reasons.iter().any(|r| r.contains(want)) {
                problems.push(format!(
                    "no reason contains {want:?}; reasons: {reasons:#?}"
                ));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", case.name, problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn analysis_serializes_for_evidence() {
    let p = KeyPolicy::parse(&policy(json!([open_allow()]))).unwrap();
    let a = analyze(&p, &ctx());
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["public"][0]["sid"], "Pub");
    assert_eq!(v["public"][0]["statement"], 0);
    assert_eq!(v["public"][0]["actions"], json!(["kms:*"]));
    assert!(a.is_public());
    assert_eq!(a.untrusted_cross_account().count(), 0);
}

#[test]
fn cross_account_row_shape() {
    let p = KeyPolicy::parse(&policy(json!([
        {"Sid": "X", "Effect": "Allow", "Principal": {"AWS": STRANGER},
         "Action": "kms:Decrypt", "Resource": "*"}
    ])))
    .unwrap();
    let a = analyze(&p, &ctx());
    let row = &a.cross_account[0];
    assert_eq!(row.principal, format!("arn:aws:iam::{STRANGER}:root"));
    assert_eq!(row.scope, GrantScope::Account);
    assert_eq!(row.sid.as_deref(), Some("X"));
    assert_eq!(row.actions, vec!["kms:Decrypt".to_string()]);
    assert_eq!(a.untrusted_cross_account().count(), 1);
    let v = serde_json::to_value(row).unwrap();
    assert_eq!(v["classification"], "untrusted");
}

// --- parsing -------------------------------------------------------------------------------

#[test]
fn parse_normalizes_shapes() {
    let p = KeyPolicy::from_json_str(
        r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"","Effect":"Allow",
            "Principal":{"AWS":"123456789012","Service":["s3.amazonaws.com"]},
            "Action":"kms:Decrypt","Resource":"*",
            "Condition":{"ForAnyValue:StringLikeIfExists":{"aws:PrincipalOrgPaths":["o-1/*"]},
                         "Bool":{"aws:SecureTransport":true},
                         "NumericLessThan":{"aws:MultiFactorAuthAge":300}}}}"#,
    )
    .unwrap();
    assert_eq!(p.version.as_deref(), Some("2012-10-17"));
    assert_eq!(p.id.as_deref(), Some("x"));
    let s = &p.statements[0];
    assert_eq!(s.sid, None, "an empty Sid is no Sid");
    assert_eq!(s.effect, Effect::Allow);
    let PrincipalClause::Principal(Principals::Set(set)) = &s.principal else {
        panic!("expected a principal set");
    };
    assert_eq!(
        set.aws,
        vec![AwsPrincipal::Account {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:root".into()
        }]
    );
    assert_eq!(set.service, vec!["s3.amazonaws.com".to_string()]);
    assert_eq!(s.actions, ActionClause::Action(vec!["kms:Decrypt".into()]));
    assert_eq!(s.resources, ResourceClause::Resource(vec!["*".into()]));
    let op = &s.conditions[0].operator;
    assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
    assert_eq!(op.base, BaseOperator::StringLike);
    assert!(op.if_exists);
    assert_eq!(s.conditions[1].values, vec!["true".to_string()]);
    assert_eq!(s.conditions[2].values, vec!["300".to_string()]);
    assert!(s.conditions[0].key_is("AWS:PrincipalOrgPaths"));
}

#[test]
fn parse_rejects_malformed_statements() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([1, 2]), "not a JSON object"),
        (json!({"Version": "2012-10-17"}), "no Statement"),
        (
            policy(json!([{"Principal": "*", "Action": "kms:*"}])),
            "missing Effect",
        ),
        (
            policy(json!([{"Effect": "Maybe", "Principal": "*", "Action": "kms:*"}])),
            "Allow or Deny",
        ),
        (
            policy(json!([{"Effect": "Allow", "Action": "kms:*"}])),
            "missing Principal",
        ),
        (
            policy(
                json!([{"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "kms:*"}]),
            ),
            "both Principal and NotPrincipal",
        ),
        (
            policy(json!([{"Effect": "Allow", "Principal": "*"}])),
            "missing Action",
        ),
        (
            policy(
                json!([{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "NotAction": "x"}]),
            ),
            "both Action and NotAction",
        ),
        (
            policy(json!([{"Effect": "Allow", "Principal": "someone", "Action": "kms:*"}])),
            "Principal string",
        ),
        (
            policy(json!([{"Effect": "Allow", "Principal": "*", "Action": 5}])),
            "Action must be",
        ),
        (
            policy(
                json!([{"Effect": "Allow", "Principal": "*", "Action": "kms:*",
                           "Condition": {"StringEquals": {"aws:x": {"a": 1}}}}]),
            ),
            "values must be",
        ),
        (
            policy(
                json!([{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Condition": []}]),
            ),
            "Condition must",
        ),
    ];
    for (doc, want) in cases {
        let err = KeyPolicy::parse(&doc).expect_err(want).to_string();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
    assert!(matches!(
        KeyPolicy::from_json_str("{"),
        Err(PolicyError::Json(_))
    ));
}

#[test]
fn parse_accepts_policy_as_json_string() {
    let text = policy(json!([open_allow()])).to_string();
    let p = KeyPolicy::parse(&Value::String(text)).unwrap();
    assert_eq!(p.statements.len(), 1);
}

#[test]
fn aws_principal_forms() {
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("*", None, "any"),
        ("123456789012", Some("123456789012"), "account"),
        (
            "arn:aws:iam::123456789012:root",
            Some("123456789012"),
            "account",
        ),
        (
            "arn:aws-cn:iam::123456789012:root",
            Some("123456789012"),
            "account",
        ),
        (
            "arn:aws-us-gov:iam::123456789012:role/x",
            Some("123456789012"),
            "arn",
        ),
        (
            "arn:aws:iam::123456789012:user/path/u",
            Some("123456789012"),
            "arn",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/R/s",
            Some("123456789012"),
            "arn",
        ),
        (
            "arn:aws:sts::123456789012:federated-user/f",
            Some("123456789012"),
            "arn",
        ),
        ("arn:aws:iam::*:root", None, "wildcard"),
        ("AROAABCDEFGHIJKLMNOPQ", None, "unique_id"),
        ("AIDAABCDEFGHIJKLMNOPQ", None, "unique_id"),
        ("12345", None, "unrecognized"),
        ("arn:aws:s3:::bucket", None, "unrecognized"),
    ];
    for (input, account, kind) in cases {
        let p = AwsPrincipal::parse(input);
        assert_eq!(p.account(), account, "{input}");
        let v = serde_json::to_value(&p).unwrap();
        let got = match &v {
            Value::String(s) => s.clone(),
            Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
            _ => String::new(),
        };
        assert_eq!(got, kind, "{input}");
    }
    assert_eq!(
        AwsPrincipal::parse("arn:aws-cn:iam::123456789012:root").as_str(),
        "arn:aws-cn:iam::123456789012:root"
    );
}

#[test]
fn condition_operator_parsing() {
    use BaseOperator::*;
    let cases: Vec<(&str, Option<SetQualifier>, BaseOperator, bool)> = vec![
        ("StringEquals", None, StringEquals, false),
        ("StringNotEqualsIfExists", None, StringNotEquals, true),
        (
            "ForAnyValue:StringEquals",
            Some(SetQualifier::ForAnyValue),
            StringEquals,
            false,
        ),
        (
            "ForAllValues:StringLikeIfExists",
            Some(SetQualifier::ForAllValues),
            StringLike,
            true,
        ),
        (
            "StringEqualsIgnoreCase",
            None,
            StringEqualsIgnoreCase,
            false,
        ),
        ("ArnLike", None, ArnLike, false),
        ("ArnNotEqualsIfExists", None, ArnNotEquals, true),
        ("Bool", None, Bool, false),
        ("BoolIfExists", None, Bool, true),
        ("Null", None, Null, false),
        (
            "NumericGreaterThanEquals",
            None,
            NumericGreaterThanEquals,
            false,
        ),
        ("DateLessThan", None, DateLessThan, false),
        ("IpAddress", None, IpAddress, false),
        ("NotIpAddressIfExists", None, NotIpAddress, true),
        ("BinaryEquals", None, BinaryEquals, false),
        ("Whatever", None, Unknown, false),
        ("IfExists", None, Unknown, true),
    ];
    for (raw, q, base, if_exists) in cases {
        let op = ConditionOperator::parse(raw);
        assert_eq!(
            (op.qualifier, op.base, op.if_exists),
            (q, base, if_exists),
            "{raw}"
        );
        assert_eq!(op.raw, raw);
    }
}

#[test]
fn action_matching() {
    let cases = [
        ("kms:*", "kms:Decrypt", true),
        ("*", "kms:Decrypt", true),
        ("kms:Get*", "kms:GetKeyPolicy", true),
        ("kms:get*", "KMS:GETKEYPOLICY", true),
        ("kms:Get*", "kms:DescribeKey", false),
        ("kms:ReEncrypt*", "kms:ReEncryptFrom", true),
        ("kms:Decrypt", "kms:Decrypt", true),
        ("kms:Decrypt", "kms:DecryptX", false),
        ("kms:*Key", "kms:DescribeKey", true),
        ("kms:*Key", "kms:DescribeKeys", false),
        (
            "kms:Generate*Pair*",
            "kms:GenerateDataKeyPairWithoutPlaintext",
            true,
        ),
        ("kms:?ncrypt", "kms:Encrypt", true),
        ("kms:?ncrypt", "kms:Decrypt", false),
        ("s3:*", "kms:Decrypt", false),
        ("", "kms:Decrypt", false),
        ("**", "", true),
    ];
    for (pattern, action, want) in cases {
        assert_eq!(
            kms_action_matches(pattern, action),
            want,
            "{pattern} vs {action}"
        );
    }
}

// --- semantic diff -------------------------------------------------------------------------

fn base_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{KEY}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Use", "Effect": "Allow",
             "Principal": {"AWS": [format!("arn:aws:iam::{KEY}:role/App"), format!("arn:aws:iam::{KEY}:role/Batch")]},
             "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]},
                           "Bool": {"aws:SecureTransport": "true"}}},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalAccount": KEY}}}
        ]
    })
}

/// Applies `edit` to a copy of the base policy's statement `index`.
fn edited(index: usize, edit: impl FnOnce(&mut Value)) -> Value {
    let mut p = base_policy();
    edit(&mut p["Statement"][index]);
    p
}

struct DiffCase {
    name: &'static str,
    actual: Value,
    added: Vec<&'static str>,
    removed: Vec<&'static str>,
    changed: Vec<&'static str>,
    version: bool,
}

fn same(name: &'static str, actual: Value) -> DiffCase {
    DiffCase {
        name,
        actual,
        added: vec![],
        removed: vec![],
        changed: vec![],
        version: false,
    }
}

fn diff_cases() -> Vec<DiffCase> {
    let reversed = {
        let mut p = base_policy();
        if let Some(items) = p["Statement"].as_array_mut() {
            items.reverse();
        }
        p
    };
    let deny_desc = "Deny *: kms:ScheduleKeyDeletion";
    vec![
        same("identical", base_policy()),
        same("statement order", reversed),
        same(
            "single-element array vs string",
            edited(0, |s| s["Action"] = json!(["kms:*"])),
        ),
        same(
            "bare account id vs root ARN",
            edited(0, |s| s["Principal"] = json!({"AWS": KEY})),
        ),
        same(
            "array element order",
            edited(1, |s| {
                s["Action"] = json!(["kms:GenerateDataKey*", "kms:Encrypt", "kms:Decrypt"]);
                s["Principal"]["AWS"] = json!([
                    format!("arn:aws:iam::{KEY}:role/Batch"),
                    format!("arn:aws:iam::{KEY}:role/App")
                ]);
            }),
        ),
        same("Id is ignored", {
            let mut p = base_policy();
            p["Id"] = json!("something-else");
            p
        }),
        same(
            "policy as an encoded string with other whitespace",
            Value::String(serde_json::to_string_pretty(&base_policy()).unwrap_or_default()),
        ),
        same(
            "condition keys case and bool vs string",
            edited(1, |s| {
                s["Condition"] = json!({"Bool": {"AWS:SecureTransport": true},
                                    "StringEquals": {"KMS:VIAService": "s3.us-east-1.amazonaws.com"}});
            }),
        ),
        same(
            "action case",
            edited(1, |s| {
                s["Action"] = json!(["KMS:decrypt", "kms:ENCRYPT", "kms:GenerateDataKey*"])
            }),
        ),
        same(
            "{AWS: *} is *",
            edited(2, |s| s["Principal"] = json!({"AWS": ["*"]})),
        ),
        same("empty Sid is no Sid", edited(2, |s| s["Sid"] = json!(""))),
        same("duplicated statement", {
            let mut p = base_policy();
            let dup = p["Statement"][0].clone();
            if let Some(items) = p["Statement"].as_array_mut() {
                items.push(dup);
            }
            p
        }),
        DiffCase {
            version: true,
            ..same("Version differs", {
                let mut p = base_policy();
                p["Version"] = json!("2008-10-17");
                p
            })
        },
        DiffCase {
            changed: vec!["Use"],
            ..same(
                "action added to a Sid statement",
                edited(1, |s| {
                    s["Action"] = json!([
                        "kms:Decrypt",
                        "kms:Encrypt",
                        "kms:GenerateDataKey*",
                        "kms:ReEncrypt*"
                    ])
                }),
            )
        },
        DiffCase {
            changed: vec!["Use"],
            ..same(
                "condition value changed",
                edited(1, |s| {
                    s["Condition"]["StringEquals"]["kms:ViaService"] =
                        json!("s3.eu-west-1.amazonaws.com")
                }),
            )
        },
        DiffCase {
            changed: vec![deny_desc],
            ..same(
                "Sid-less statement changed",
                edited(2, |s| {
                    s["Condition"]["StringNotEquals"]["aws:PrincipalAccount"] =
                        json!([KEY, TRUSTED])
                }),
            )
        },
        DiffCase {
            added: vec!["Public"],
            ..same("statement added live", {
                let mut p = base_policy();
                if let Some(items) = p["Statement"].as_array_mut() {
                    items.push(json!({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}));
                }
                p
            })
        },
        DiffCase {
            removed: vec!["Use"],
            ..same("statement removed live", {
                let mut p = base_policy();
                if let Some(items) = p["Statement"].as_array_mut() {
                    items.remove(1);
                }
                p
            })
        },
        DiffCase {
            removed: vec!["Use"],
            added: vec!["UseRenamed"],
            ..same("Sid renamed", edited(1, |s| s["Sid"] = json!("UseRenamed")))
        },
    ]
}

#[test]
fn policy_diff_table() {
    let cases = diff_cases();
    assert!(cases.len() >= 15);
    let declared = base_policy();
    let mut failures = Vec::new();
    for case in &cases {
        let diff = policy_diff(&declared, &case.actual, KEY);
        let ids = |l: &[StatementDiff]| l.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        let got = (
            ids(&diff.added),
            ids(&diff.removed),
            ids(&diff.changed),
            diff.version.is_some(),
        );
        let want = (
            case.added.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            case.removed
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            case.changed
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            case.version,
        );
        if got != want {
            failures.push(format!("{}: got {got:?}, want {want:?}", case.name));
        }
        let expect_empty = want.0.is_empty() && want.1.is_empty() && want.2.is_empty() && !want.3;
        if diff.is_empty() != expect_empty || !diff.other_fields.is_empty() {
            failures.push(format!(
                "{}: is_empty {} other {:?}",
                case.name,
                diff.is_empty(),
                diff.other_fields
            ));
        }
        if expect_empty && canonicalize(&declared) != canonicalize(&case.actual) {
            failures.push(format!("{}: canonical forms differ", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn changed_statement_carries_both_sides() {
    let actual = edited(1, |s| s["Action"] = json!("kms:Decrypt"));
    let diff = policy_diff(&base_policy(), &actual, KEY);
    let c = &diff.changed[0];
    assert_eq!(
        c.declared.as_ref().unwrap()["Action"],
        json!(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"])
    );
    assert_eq!(c.actual.as_ref().unwrap()["Action"], json!(["kms:Decrypt"]));
    assert_eq!(diff.summary(), "1 statement changed (\"Use\")");
    assert!(serde_json::to_value(&diff).is_ok());
}

#[test]
fn version_defaults_and_sidless_description() {
    let mut no_version = base_policy();
    if let Some(m) = no_version.as_object_mut() {
        m.remove("Version");
    }
    let mut old = base_policy();
    old["Version"] = json!("2008-10-17");
    assert!(
        policy_diff(&no_version, &old, KEY).is_empty(),
        "missing Version is 2008-10-17"
    );
    let d = policy_diff(&no_version, &base_policy(), KEY);
    assert_eq!(
        d.version,
        Some(VersionChange {
            declared: Some("2008-10-17".into()),
            actual: Some("2012-10-17".into())
        })
    );
    assert!(
        d.summary()
            .contains("Version 2008-10-17 declared, 2012-10-17 live")
    );

    let declared = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": KEY}, "Action": "kms:*", "Resource": "*"}]});
    let actual = json!({"Version": "2012-10-17", "Statement": []});
    let d = policy_diff(&declared, &actual, KEY);
    assert_eq!(
        d.removed[0].id,
        format!("Allow arn:aws:iam::{KEY}:root (key account): kms:*")
    );
}

#[test]
fn a_diff_summary_stays_on_one_line() {
    // Found by tests/fuzz_parsers.rs: a declared Version or Sid with a line break split the
    // DRF003 message in two.
    let mut declared = base_policy();
    declared["Version"] = json!("line\nbreak");
    let summary = policy_diff(&declared, &base_policy(), KEY).summary();
    assert_eq!(summary, "Version line\\nbreak declared, 2012-10-17 live");
}

#[test]
fn partition_is_inferred_for_bare_ids() {
    let declared = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": KEY}, "Action": "kms:*", "Resource": "*"}]});
    let actual = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws-cn:iam::{KEY}:root")},
         "Action": "kms:*", "Resource": "*"}]});
    assert!(policy_diff(&declared, &actual, KEY).is_empty());
    assert_eq!(
        canonicalize(&actual)["Statement"][0]["Principal"]["AWS"],
        json!([format!("arn:aws-cn:iam::{KEY}:root")])
    );
}

#[test]
fn non_policy_documents_compare_structurally() {
    let d = policy_diff(&json!("not json {"), &json!({"Statement": []}), KEY);
    assert_eq!(d.other_fields, vec!["document".to_string()]);
    let d = policy_diff(
        &json!({"Statement": [], "Extra": 1}),
        &json!({"Statement": []}),
        KEY,
    );
    assert_eq!(d.other_fields, vec!["Extra".to_string()]);
    assert!(!d.is_empty());
}

#[test]
fn canonical_form_is_stable() {
    let c = canonicalize(&base_policy());
    assert_eq!(canonicalize(&c), c, "canonicalize is idempotent");
    assert!(c.get("Id").is_none());
    let keys: Vec<&String> = c["Statement"][0]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}
