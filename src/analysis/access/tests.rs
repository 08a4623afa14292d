//! Effective access on written cases: each asserts the exact entry list of a key.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::model::iam::{AttachedPolicy, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy};
use crate::model::{Grant, PolicyDocument};

const KEY: &str = "111122223333";
const OTHER: &str = "444455556666";
const KEY_ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn key(statements: Value) -> KeyRecord {
    KeyRecord {
        arn: KEY_ARN.into(),
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        account: KEY.into(),
        region: "eu-west-1".into(),
        key_manager: Some("CUSTOMER".into()),
        policy: Some(PolicyDocument::from_value(
            &json!({"Version": "2012-10-17", "Statement": statements}),
        )),
        grants: Some(Vec::new()),
        ..KeyRecord::default()
    }
}

fn root_statement() -> Value {
    json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
           "Principal": {"AWS": format!("arn:aws:iam::{KEY}:root")}, "Action": "kms:*", "Resource": "*"})
}

fn ctx() -> AccessContext {
    AccessContext {
        organization_id: Some("o-mine".into()),
        organization_accounts: Some(BTreeSet::from([KEY.to_string()])),
        iam_missing_reason: Some("--no-iam".into()),
    }
}

fn doc(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn managed(name: &str, statements: Value) -> ManagedPolicy {
    ManagedPolicy {
        name: name.into(),
        arn: format!("arn:aws:iam::{KEY}:policy/{name}"),
        default_version_id: "v1".into(),
        attachment_count: 1,
        document: Some(doc(statements)),
        ..ManagedPolicy::default()
    }
}

fn attached(policy: &ManagedPolicy) -> AttachedPolicy {
    AttachedPolicy {
        name: policy.name.clone(),
        arn: policy.arn.clone(),
    }
}

fn role(name: &str) -> IamRole {
    IamRole {
        name: name.into(),
        arn: format!("arn:aws:iam::{KEY}:role/{name}"),
        ..IamRole::default()
    }
}

fn user(name: &str) -> IamUser {
    IamUser {
        name: name.into(),
        arn: format!("arn:aws:iam::{KEY}:user/{name}"),
        ..IamUser::default()
    }
}

fn details() -> AccountAuthorizationDetails {
    AccountAuthorizationDetails {
        account: KEY.into(),
        ..AccountAuthorizationDetails::default()
    }
}

/// One line per entry: `class certainty principal <- path: actions`, where `actions` is
/// `all` when the entry has every action of its class.
fn lines(access: &KeyAccess) -> Vec<String> {
    access
        .entries
        .iter()
        .map(|e| {
            let all: Vec<String> = e.class.actions().iter().map(|a| a.to_string()).collect();
            let actions = if e.actions == all {
                "all".to_string()
            } else {
                e.actions.join(",")
            };
            let certainty = match e.certainty {
                Certainty::Yes => "yes",
                Certainty::May => "may",
            };
            format!(
                "{} {certainty} {} <- {}: {actions}",
                e.class.as_str(),
                e.principal_label,
                e.path_label
            )
        })
        .collect()
}

fn assert_lines(access: &KeyAccess, want: &[&str]) {
    let got = lines(access);
    assert_eq!(got, want, "\nentries:\n{}", got.join("\n"));
}

fn reason_of<'a>(access: &'a KeyAccess, class: ActionClass, label: &str) -> &'a str {
    access
        .entries
        .iter()
        .find(|e| e.class == class && e.principal_label == label)
        .map(|e| e.reason.as_str())
        .unwrap_or_else(|| panic!("no {class:?} entry for {label}: {:#?}", lines(access)))
}

#[test]
fn root_delegation_without_iam_details() {
    let access = effective_access(&key(json!([root_statement()])), None, &ctx());
    let path = "key policy statement[0] \"Enable IAM User Permissions\"";
    assert_lines(
        &access,
        &[
            &format!("use may account root (IAM policies not read) <- {path}: all"),
            &format!("administer may account root (IAM policies not read) <- {path}: all"),
            &format!("delegate may account root (IAM policies not read) <- {path}: all"),
        ],
    );
    assert_eq!(
        reason_of(
            &access,
            ActionClass::Use,
            "account root (IAM policies not read)"
        ),
        format!(
            "{path} lets the IAM policies of account {KEY} grant access; the IAM policies of account {KEY} were not read (--no-iam): the root user and every principal they allow can"
        )
    );
    assert_eq!(
        access.unknown,
        [format!("IAM policies of account {KEY}: --no-iam")]
    );
    assert_eq!(
        access.entries[0].principal,
        Principal::Account {
            account: KEY.into()
        }
    );
}

#[test]
fn root_delegation_with_iam_details() {
    let decrypt_all = managed(
        "kms-decrypt-all",
        json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]),
    );
    let mut app = role("app");
    app.attached_policies.push(attached(&decrypt_all));
    let mut alice = user("alice");
    alice.inline_policies.push(InlinePolicy {
        name: "alice-one-key".into(),
        document: doc(json!([{"Sid": "One", "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey*"], "Resource": KEY_ARN}])),
    });
    let mut bob = user("bob");
    bob.inline_policies.push(InlinePolicy {
        name: "other-key".into(),
        document: doc(json!([{"Effect": "Allow", "Action": "kms:*",
            "Resource": format!("arn:aws:kms:eu-west-1:{KEY}:key/another")}])),
    });
    let iam = AccountAuthorizationDetails {
        roles: vec![app],
        users: vec![alice, bob],
        policies: vec![decrypt_all],
        ..details()
    };
    let access = effective_access(&key(json!([root_statement()])), Some(&iam), &ctx());
    let root = "key policy statement[0] \"Enable IAM User Permissions\"";
    let via = "(IAM enabled by key policy statement[0] \"Enable IAM User Permissions\")";
    assert_lines(
        &access,
        &[
            &format!("use yes root user of account {KEY} <- {root}: all"),
            &format!(
                "use yes role arn:aws:iam::{KEY}:role/app <- managed policy \"kms-decrypt-all\" statement[0], attached to role app {via}: kms:Decrypt"
            ),
            &format!(
                "use yes user arn:aws:iam::{KEY}:user/alice <- inline policy \"alice-one-key\" statement[0] \"One\", attached to user alice {via}: kms:Encrypt,kms:GenerateDataKey,kms:GenerateDataKeyPair,kms:GenerateDataKeyPairWithoutPlaintext,kms:GenerateDataKeyWithoutPlaintext"
            ),
            &format!("administer yes root user of account {KEY} <- {root}: all"),
            &format!("delegate yes root user of account {KEY} <- {root}: all"),
        ],
    );
    assert!(access.unknown.is_empty(), "{:?}", access.unknown);
    let app = access
        .entries
        .iter()
        .find(|e| e.principal_label.contains("role/app"))
        .expect("app");
    assert_eq!(
        app.path,
        AccessPath::IamPolicy {
            key_policy_statement: 0,
            key_policy_sid: Some("Enable IAM User Permissions".into()),
            policy_name: "kms-decrypt-all".into(),
            policy_arn: Some(format!("arn:aws:iam::{KEY}:policy/kms-decrypt-all")),
            policy_type: IamPolicyType::Managed,
            attached_to: format!("arn:aws:iam::{KEY}:role/app"),
            policy_statement: 0,
            policy_sid: None,
        }
    );
    assert_eq!(
        app.reason,
        format!(
            "managed policy \"kms-decrypt-all\" of role arn:aws:iam::{KEY}:role/app allows it, and key policy statement[0] \"Enable IAM User Permissions\" lets the account's IAM policies grant access"
        )
    );
}

#[test]
fn group_policy_with_not_action_and_iam_deny() {
    // The group's managed policy allows everything but IAM (NotAction); a member's inline Deny
    // and the group's own inline Deny take actions away.
    let not_iam = managed(
        "everything-but-iam",
        json!([{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}]),
    );
    let admins = IamGroup {
        name: "admins".into(),
        arn: format!("arn:aws:iam::{KEY}:group/admins"),
        attached_policies: vec![attached(&not_iam)],
        inline_policies: vec![InlinePolicy {
            name: "no-deletion".into(),
            document: doc(
                json!([{"Effect": "Deny", "Action": ["kms:ScheduleKeyDeletion", "kms:Decrypt"], "Resource": "*"}]),
            ),
        }],
        ..IamGroup::default()
    };
    let mut carol = user("carol");
    carol.groups.push("admins".into());
    carol.inline_policies.push(InlinePolicy {
        name: "carol-use".into(),
        document: doc(
            json!([{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Sign"], "Resource": "*"}]),
        ),
    });
    carol.inline_policies.push(InlinePolicy {
        name: "no-grants".into(),
        document: doc(json!([{"Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*"}])),
    });
    let iam = AccountAuthorizationDetails {
        groups: vec![admins],
        users: vec![carol],
        policies: vec![not_iam],
        ..details()
    };
    let access = effective_access(&key(json!([root_statement()])), Some(&iam), &ctx());
    let root = "key policy statement[0] \"Enable IAM User Permissions\"";
    let group = format!(
        "group arn:aws:iam::{KEY}:group/admins <- managed policy \"everything-but-iam\" statement[0], attached to group admins (IAM enabled by key policy statement[0] \"Enable IAM User Permissions\")"
    );
    let use_without_decrypt = USE_ACTIONS
        .iter()
        .filter(|a| **a != "kms:Decrypt")
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    let admin_without_deletion = ADMINISTER_ACTIONS
        .iter()
        .filter(|a| **a != "kms:ScheduleKeyDeletion")
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    assert_lines(
        &access,
        &[
            &format!("use yes root user of account {KEY} <- {root}: all"),
            // The group's Deny of Decrypt reaches its member too.
            &format!(
                "use yes user arn:aws:iam::{KEY}:user/carol <- inline policy \"carol-use\" statement[0], attached to user carol (IAM enabled by key policy statement[0] \"Enable IAM User Permissions\"): kms:Sign"
            ),
            &format!("use yes {group}: {use_without_decrypt}"),
            &format!("administer yes root user of account {KEY} <- {root}: all"),
            &format!("administer yes {group}: {admin_without_deletion}"),
            &format!("delegate yes root user of account {KEY} <- {root}: all"),
            &format!("delegate may {group}: all"),
        ],
    );
    let delegate = access
        .entries
        .iter()
        .find(|e| e.class == ActionClass::Delegate && e.principal_label.starts_with("group"))
        .expect("group delegate");
    assert!(
        delegate.reason.ends_with(
            "; members with their own Deny or permissions boundary may not have it: carol"
        ),
        "{}",
        delegate.reason
    );
}

#[test]
fn key_policy_deny_with_not_principal() {
    let alice = format!("arn:aws:iam::{KEY}:user/alice");
    let bob = format!("arn:aws:iam::{KEY}:user/bob");
    let app = format!("arn:aws:iam::{KEY}:role/app");
    let statements = json!([
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": [alice, bob, app]},
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"},
        {"Sid": "OnlyAlice", "Effect": "Deny",
         "NotPrincipal": {"AWS": [alice, app, format!("arn:aws:iam::{KEY}:root")]},
         "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}
    ]);
    let iam = AccountAuthorizationDetails {
        users: vec![user("alice"), user("bob")],
        roles: vec![role("app")],
        ..details()
    };
    let access = effective_access(&key(statements), Some(&iam), &ctx());
    // Bob is denied; alice is exempted; the role may still be denied (AWS matches its
    // sessions by assumed-role ARN); the public Encrypt is left to the principals exempted.
    assert_lines(
        &access,
        &[
            &format!(
                "use yes root user of account {KEY} <- key policy statement[1] \"Public\": kms:Encrypt"
            ),
            &format!("use may role {app} <- key policy statement[0] \"Use\": kms:Decrypt"),
            &format!("use may role {app} <- key policy statement[1] \"Public\": kms:Encrypt"),
            &format!("use yes user {alice} <- key policy statement[0] \"Use\": kms:Decrypt"),
            &format!("use yes user {alice} <- key policy statement[1] \"Public\": kms:Encrypt"),
        ],
    );
    assert!(
        reason_of(&access, ActionClass::Use, &format!("user {alice}"))
            .contains("key policy statement[0] \"Use\" allows user"),
    );
    let role_reason = access
        .entries
        .iter()
        .find(|e| e.principal_label == format!("role {app}"))
        .map(|e| e.reason.clone())
        .unwrap_or_default();
    assert!(
        role_reason
            .contains("Deny statement[2] \"OnlyAlice\" may remove it: its NotPrincipal lists"),
        "{role_reason}"
    );
}

#[test]
fn a_grant_and_a_condition_restricted_cross_account_statement() {
    let other_role = format!("arn:aws:iam::{OTHER}:role/reader");
    let mut record = key(json!([
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OTHER},
         "Action": ["kms:Decrypt"], "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Sid": "PartnerOpen", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OTHER}:root")},
         "Action": ["kms:DescribeKey", "kms:Verify"], "Resource": "*"}
    ]));
    record.grants = Some(vec![Grant {
        grant_id: "g-1".into(),
        name: Some("batch".into()),
        grantee_principal: Some(other_role.clone()),
        operations: vec!["Decrypt".into(), "CreateGrant".into(), "RetireGrant".into()],
        constraints: Some(json!({"encryption_context_subset": {"app": "batch"}})),
        ..Grant::default()
    }]);
    let access = effective_access(&record, None, &ctx());
    assert_lines(
        &access,
        &[
            &format!("use may account {OTHER} <- key policy statement[0] \"Partner\": kms:Decrypt"),
            &format!(
                "use yes account {OTHER} <- key policy statement[1] \"PartnerOpen\": kms:Verify"
            ),
            &format!("use may role {other_role} <- grant g-1 (\"batch\"): kms:Decrypt"),
            &format!("delegate may role {other_role} <- grant g-1 (\"batch\"): all"),
        ],
    );
    assert_eq!(
        reason_of(&access, ActionClass::Use, &format!("account {OTHER}")),
        format!(
            "key policy statement[0] \"Partner\" allows account {OTHER}; its own IAM policies decide which of its principals can; only when aws:SourceIp IpAddress [\"203.0.113.0/24\"]: conditions are not evaluated"
        )
    );
    let grant = access
        .entries
        .iter()
        .find(|e| e.class == ActionClass::Delegate)
        .expect("grant");
    assert_eq!(
        grant.reason,
        "grant g-1 (\"batch\") gives it; only with the encryption context its constraints require (kms:EncryptionContext:app EncryptionContextSubset [\"batch\"])"
    );
    assert_eq!(
        grant.conditions,
        [AccessCondition {
            key: "kms:EncryptionContext:app".into(),
            operator: "EncryptionContextSubset".into(),
            values: vec!["batch".into()],
        }]
    );
    // The key's own account is not delegated to: IAM not being read is no unknown here.
    assert!(access.unknown.is_empty(), "{:?}", access.unknown);
}

#[test]
fn service_principals_via_service_and_organizations() {
    let statements = json!([
        {"Sid": "ViaEc2", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": KEY, "kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}},
        {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringLike": {"aws:SourceArn": format!("arn:aws:cloudtrail:*:{KEY}:trail/*")}}},
        {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-mine"}}},
        {"Sid": "Ou", "Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-mine/r-ab12/ou-ab12-11111111/*"}}},
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Verify", "Resource": "*"},
        {"Sid": "Nobody", "Effect": "Allow", "Principal": "*", "Action": "kms:Sign", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": "*"}}}
    ]);
    let access = effective_access(&key(statements), Some(&details()), &ctx());
    assert_lines(
        &access,
        &[
            "use yes any principal <- key policy statement[4] \"Public\": kms:Verify",
            "use yes organization o-mine <- key policy statement[2] \"Org\": kms:Decrypt",
            "use yes organization path o-mine/r-ab12/ou-ab12-11111111/* <- key policy statement[3] \"Ou\": kms:Encrypt",
            &format!(
                "use yes service cloudtrail.amazonaws.com for account {KEY} <- key policy statement[1] \"Trail\": kms:GenerateDataKey,kms:GenerateDataKeyPair,kms:GenerateDataKeyPairWithoutPlaintext,kms:GenerateDataKeyWithoutPlaintext"
            ),
            &format!(
                "use yes service ec2.eu-west-1.amazonaws.com for account {KEY} <- key policy statement[0] \"ViaEc2\": kms:Decrypt"
            ),
            &format!(
                "delegate yes service ec2.eu-west-1.amazonaws.com for account {KEY} <- key policy statement[0] \"ViaEc2\": all"
            ),
        ],
    );
    let via = access
        .entries
        .iter()
        .find(|e| e.path_label.contains("ViaEc2") && e.class == ActionClass::Use)
        .expect("via");
    assert_eq!(
        via.principal,
        Principal::Service {
            service: "ec2.eu-west-1.amazonaws.com".into(),
            for_account: Some(KEY.into())
        }
    );
    // The pins restrict it, and are listed, but leave nothing undecided.
    assert_eq!(via.conditions.len(), 2);
    assert_eq!(
        via.reason,
        format!(
            "key policy statement[0] \"ViaEc2\" allows service ec2.eu-west-1.amazonaws.com for account {KEY}"
        )
    );
}

#[test]
fn a_public_statement_and_key_policy_denies() {
    let statements = json!([
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoAdmin", "Effect": "Deny", "Principal": "*", "NotAction": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"},
        {"Sid": "MaybeTls", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]);
    let access = effective_access(&key(statements), None, &ctx());
    assert_lines(
        &access,
        &["use may any principal <- key policy statement[0] \"Public\": kms:Decrypt,kms:Encrypt"],
    );
    assert_eq!(
        access.entries[0].reason,
        "key policy statement[0] \"Public\" allows any principal; Deny statement[2] \"MaybeTls\" may remove kms:Encrypt: its condition aws:SecureTransport Bool \"false\" holds only for some requests"
    );
    assert_eq!(access.has_administrator(), Some(false));
}

#[test]
fn unreadable_inputs_are_unknowns_not_passes() {
    let mut record = key(json!([]));
    record.policy = None;
    record.grants = None;
    record.unknown = vec!["policy".into(), "grants".into()];
    let access = effective_access(&record, None, &ctx());
    assert!(access.entries.is_empty());
    assert_eq!(access.unknown, ["key policy: not read", "grants: not read"]);
    assert_eq!(access.has_administrator(), None);

    let mut broken = key(json!([]));
    broken.policy = Some(PolicyDocument::from_value(
        &json!({"Statement": [{"Effect": "Allow"}]}),
    ));
    let access = effective_access(&broken, None, &ctx());
    assert_eq!(
        access.unknown,
        ["key policy: unreadable (statement 0: missing Principal (required in a key policy))"]
    );

    // An attached managed policy IAM did not list, and an unparseable inline policy.
    let mut app = role("app");
    app.attached_policies.push(AttachedPolicy {
        name: "gone".into(),
        arn: format!("arn:aws:iam::{KEY}:policy/gone"),
    });
    app.inline_policies.push(InlinePolicy {
        name: "bad".into(),
        document: "{not json".into(),
    });
    let iam = AccountAuthorizationDetails {
        roles: vec![app],
        ..details()
    };
    let access = effective_access(&key(json!([root_statement()])), Some(&iam), &ctx());
    assert_eq!(
        access.unknown,
        [
            format!(
                "IAM managed policy \"gone\" of role arn:aws:iam::{KEY}:role/app: not read (the managed policy was not listed by IAM)"
            ),
            format!(
                "IAM inline policy \"bad\" of role arn:aws:iam::{KEY}:role/app: not read (policy is not valid JSON: key must be a string at line 1 column 2)"
            ),
        ]
    );
}

#[test]
fn permissions_boundaries_cap_iam_policies() {
    let everything = managed(
        "kms-all",
        json!([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]),
    );
    let boundary = managed(
        "use-only",
        json!([{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}]),
    );
    let mut app = role("app");
    app.attached_policies.push(attached(&everything));
    app.permissions_boundary = Some(boundary.arn.clone());
    let mut ops = role("ops");
    ops.attached_policies.push(attached(&everything));
    ops.permissions_boundary = Some(format!("arn:aws:iam::{KEY}:policy/unlisted"));
    let iam = AccountAuthorizationDetails {
        roles: vec![app, ops],
        policies: vec![everything, boundary],
        ..details()
    };
    let statements = json!([{"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": KEY}, "Action": ["kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"], "Resource": "*"}]);
    let access = effective_access(&key(statements), Some(&iam), &ctx());
    let path = |r: &str| {
        format!(
            "managed policy \"kms-all\" statement[0], attached to role {r} (IAM enabled by key policy statement[0] \"Root\")"
        )
    };
    assert_lines(
        &access,
        &[
            &format!(
                "use yes root user of account {KEY} <- key policy statement[0] \"Root\": kms:Decrypt,kms:Encrypt"
            ),
            &format!(
                "use yes role arn:aws:iam::{KEY}:role/app <- {}: kms:Decrypt,kms:Encrypt",
                path("app")
            ),
            &format!(
                "use may role arn:aws:iam::{KEY}:role/ops <- {}: kms:Decrypt,kms:Encrypt",
                path("ops")
            ),
            &format!(
                "administer yes root user of account {KEY} <- key policy statement[0] \"Root\": kms:PutKeyPolicy"
            ),
            &format!(
                "administer may role arn:aws:iam::{KEY}:role/ops <- {}: kms:PutKeyPolicy",
                path("ops")
            ),
        ],
    );
}

/// A key-policy statement that names a role is capped by the role's boundary (AWS limits what a
/// resource-based policy grants to a role ARN); one that names a user is not.
#[test]
fn a_role_named_in_the_key_policy_is_capped_by_its_boundary() {
    let boundary = managed(
        "use-only",
        json!([{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}]),
    );
    let mut app = role("app");
    app.permissions_boundary = Some(boundary.arn.clone());
    let mut ops = role("ops");
    ops.permissions_boundary = Some(format!("arn:aws:iam::{KEY}:policy/unlisted"));
    let mut dev = crate::model::iam::IamUser {
        name: "dev".into(),
        arn: format!("arn:aws:iam::{KEY}:user/dev"),
        ..Default::default()
    };
    dev.permissions_boundary = Some(boundary.arn.clone());
    let iam = AccountAuthorizationDetails {
        roles: vec![app, ops],
        users: vec![dev],
        policies: vec![boundary],
        ..details()
    };
    let named = |who: &str| {
        json!({"Sid": who, "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{KEY}:{who}")},
               "Action": ["kms:Decrypt", "kms:PutKeyPolicy"], "Resource": "*"})
    };
    let statements = json!([named("role/app"), named("role/ops"), named("user/dev")]);
    let access = effective_access(&key(statements), Some(&iam), &ctx());
    assert_lines(
        &access,
        &[
            &format!(
                "use yes role arn:aws:iam::{KEY}:role/app <- key policy statement[0] \"role/app\": kms:Decrypt"
            ),
            &format!(
                "use may role arn:aws:iam::{KEY}:role/ops <- key policy statement[1] \"role/ops\": kms:Decrypt"
            ),
            &format!(
                "use yes user arn:aws:iam::{KEY}:user/dev <- key policy statement[2] \"user/dev\": kms:Decrypt"
            ),
            &format!(
                "administer may role arn:aws:iam::{KEY}:role/ops <- key policy statement[1] \"role/ops\": kms:PutKeyPolicy"
            ),
            &format!(
                "administer yes user arn:aws:iam::{KEY}:user/dev <- key policy statement[2] \"user/dev\": kms:PutKeyPolicy"
            ),
        ],
    );
}

#[test]
fn checks_can_ask_the_access_list() {
    let statements = json!([
        root_statement(),
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{KEY}:role/admin")},
         "Action": ["kms:PutKeyPolicy", "kms:Decrypt", "kms:CreateGrant"], "Resource": "*"},
        {"Sid": "Services", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{KEY}:role/app")},
         "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    ]);
    let iam = AccountAuthorizationDetails {
        roles: vec![role("admin"), role("app")],
        ..details()
    };
    let access = effective_access(&key(statements), Some(&iam), &ctx());
    let unlimited: Vec<&str> = access
        .create_grant_not_limited_to_aws_resources()
        .map(|e| e.principal_label.as_str())
        .collect();
    assert_eq!(
        unlimited,
        [
            format!("root user of account {KEY}"),
            format!("role arn:aws:iam::{KEY}:role/admin")
        ]
    );
    let both: Vec<(String, Certainty)> = access
        .administer_and_use()
        .into_iter()
        .map(|(p, c)| (p.describe(), c))
        .collect();
    assert_eq!(
        both,
        [
            (format!("root user of account {KEY}"), Certainty::Yes),
            (
                format!("role arn:aws:iam::{KEY}:role/admin"),
                Certainty::Yes
            )
        ]
    );
    assert_eq!(access.has_administrator(), Some(true));
}

#[test]
fn iam_policies_allowing_decrypt_on_all_keys() {
    let policy = crate::policy::IdentityPolicy::from_json_str(&doc(json!([
        {"Sid": "All", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Sid": "Pattern", "Effect": "Allow", "Action": "kms:ReEncrypt*", "Resource": "arn:aws*:kms:*:*:key/*"},
        {"Sid": "OnePartition", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:key/*"},
        {"Sid": "OneRegion", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:*:key/*"},
        {"Sid": "OneAccount", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": format!("arn:aws:kms:*:{KEY}:key/*")},
        {"Sid": "Deny", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "NotRes", "Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:s3:::bucket/*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Sid": "Encrypt", "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}
    ])))
    .expect("parses");
    let found: Vec<(Option<String>, Vec<String>, bool)> = decrypt_on_all_keys(&policy)
        .into_iter()
        .map(|s| (s.sid, s.actions, s.conditional))
        .collect();
    assert_eq!(
        found,
        [
            (
                Some("All".into()),
                vec!["kms:Decrypt".into(), "kms:ReEncryptFrom".into()],
                false
            ),
            (
                Some("Pattern".into()),
                vec!["kms:ReEncryptFrom".into()],
                false
            ),
            (
                Some("OnePartition".into()),
                vec!["kms:Decrypt".into()],
                false
            ),
            (Some("NotRes".into()), vec!["kms:Decrypt".into()], true),
        ]
    );
}

#[test]
fn entries_serialize_with_stable_snake_case_names() {
    let access = effective_access(&key(json!([root_statement()])), None, &ctx());
    let value = serde_json::to_value(&access.entries[0]).expect("serializes");
    assert_eq!(
        value,
        json!({
            "class": "use",
            "principal": {"kind": "account", "account": KEY},
            "principal_label": "account root (IAM policies not read)",
            "actions": USE_ACTIONS,
            "path": {"kind": "key_policy", "statement": 0, "sid": "Enable IAM User Permissions"},
            "path_label": "key policy statement[0] \"Enable IAM User Permissions\"",
            "conditions": [],
            "certainty": "may",
            "reason": access.entries[0].reason,
        })
    );
    let schema = schemars::schema_for!(KeyAccess);
    let text = serde_json::to_string(&schema).expect("schema");
    assert!(text.contains("\"key_policy_statement\""), "{text}");
}

#[test]
fn deny_guards_narrow_a_public_statement() {
    let statements = json!([
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"},
        {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-mine"}}},
        {"Sid": "TwoAccounts", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": [KEY, OTHER]}}}
    ]);
    let access = effective_access(&key(statements), None, &ctx());
    assert_lines(
        &access,
        &[
            &format!(
                "use yes every principal of account {KEY} <- key policy statement[0] \"Public\": kms:Encrypt"
            ),
            &format!("use yes account {OTHER} <- key policy statement[0] \"Public\": kms:Encrypt"),
            "use yes organization o-mine <- key policy statement[0] \"Public\": kms:Decrypt",
        ],
    );
    assert_eq!(
        reason_of(&access, ActionClass::Use, "organization o-mine"),
        "key policy statement[0] \"Public\" allows any principal; Deny statement[1] \"OrgOnly\" denies it to every other principal"
    );
}

#[test]
fn iam_details_recorded_from_the_emulator() {
    // The JSON twin of tests/fixtures/iam/moto-5.2.5.xml (checked by the IAM reader's tests).
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam/moto-5.2.5.json");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let iam: AccountAuthorizationDetails = serde_json::from_str(&text).expect("details");
    let mut record = key(
        json!([{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]),
    );
    record.account = "123456789012".into();
    record.arn = "arn:aws:kms:us-east-1:123456789012:key/k1".into();
    let access = effective_access(&record, Some(&iam), &ctx());
    let root = "key policy statement[0] \"Enable IAM User Permissions\"";
    let via = "(IAM enabled by key policy statement[0] \"Enable IAM User Permissions\")";
    let alice = format!(
        "user arn:aws:iam::123456789012:user/alice <- inline policy \"inline-kms\" statement[0], attached to user alice {via}"
    );
    let admins = |policy: &str, kind: &str| {
        format!(
            "group arn:aws:iam::123456789012:group/admins <- {kind} policy \"{policy}\" statement[0], attached to group admins {via}"
        )
    };
    assert_lines(
        &access,
        &[
            &format!("use yes root user of account 123456789012 <- {root}: all"),
            &format!(
                "use yes role arn:aws:iam::123456789012:role/app <- managed policy \"kms-decrypt-all\" statement[0], attached to role app {via}: kms:Decrypt,kms:ReEncryptFrom"
            ),
            &format!("use may {alice}: all"),
            &format!("use yes {}: all", admins("everything-but-iam", "managed")),
            &format!("administer yes root user of account 123456789012 <- {root}: all"),
            &format!("administer may {alice}: all"),
            &format!(
                "administer yes {}: all",
                admins("everything-but-iam", "managed")
            ),
            &format!("delegate yes root user of account 123456789012 <- {root}: all"),
            &format!("delegate may {alice}: all"),
            &format!(
                "delegate yes {}: all",
                admins("everything-but-iam", "managed")
            ),
            &format!("delegate yes {}: all", admins("group-inline", "inline")),
        ],
    );
    assert!(
        reason_of(&access, ActionClass::Use, "user arn:aws:iam::123456789012:user/alice")
            .ends_with("only when kms:ViaService StringEquals [\"s3.us-east-1.amazonaws.com\"]: conditions are not evaluated"),
    );
}

/// A report of one key in each of two accounts: `KEY`, whose IAM was read, and `OTHER`.
fn two_account_report(iam: Option<Vec<AccountAuthorizationDetails>>) -> crate::model::Report {
    let mut report: crate::model::Report = serde_json::from_value(json!({
        "schema_version": "1", "tool": {"name": "kms-audit", "version": "0"},
        "started_at": "", "finished_at": "", "targets": [], "coverage_gaps": [],
        "inventory": {"keys": []}, "findings": [], "summary": {
            "keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
            "duration_ms": 0, "api_calls": {}}
    }))
    .expect("a minimal report");
    let mine = key(json!([root_statement()]));
    let mut theirs = key(
        json!([{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{OTHER}:root")}, "Action": "kms:*", "Resource": "*"}]),
    );
    theirs.account = OTHER.into();
    theirs.arn = KEY_ARN.replace(KEY, OTHER);
    report.inventory.keys = vec![mine, theirs];
    report.inventory.iam = iam;
    report
}

#[test]
fn every_key_is_evaluated_against_its_own_accounts_iam() {
    let user = IamUser {
        name: "alice".into(),
        arn: format!("arn:aws:iam::{KEY}:user/alice"),
        inline_policies: vec![InlinePolicy {
            name: "decrypt".into(),
            document: doc(json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}])),
        }],
        ..IamUser::default()
    };
    let details = AccountAuthorizationDetails {
        account: KEY.into(),
        users: vec![user],
        ..AccountAuthorizationDetails::default()
    };
    let mut report = two_account_report(Some(vec![details]));
    report.coverage_gaps.push(crate::model::CoverageGap {
        account: OTHER.into(),
        region: None,
        key_arn: None,
        operation: crate::model::iam::OPERATION.into(),
        error_code: Some("AccessDenied".into()),
        reason: "denied".into(),
    });
    let access = access_report(&report, None);
    assert_eq!(access.not_evaluated, NOT_EVALUATED);
    assert_eq!(access.keys.len(), 2);
    let alice = Principal::User {
        arn: format!("arn:aws:iam::{KEY}:user/alice"),
    };
    assert!(
        access.keys[0]
            .of_class(ActionClass::Use)
            .any(|e| e.principal == alice && e.actions == ["kms:Decrypt"]),
        "{:#?}",
        access.keys[0]
    );
    assert!(
        access.keys[0].unknown.is_empty(),
        "{:?}",
        access.keys[0].unknown
    );
    // The other account's IAM could not be read: its delegation to IAM stays `may`, with why.
    assert_eq!(
        access.keys[1].unknown,
        [format!(
            "IAM policies of account {OTHER}: iam:GetAccountAuthorizationDetails failed: AccessDenied"
        )]
    );
    assert!(
        access.keys[1]
            .of_class(ActionClass::Use)
            .all(|e| e.principal != alice)
    );
}

#[test]
fn why_iam_is_missing_is_told_apart() {
    let not_read = two_account_report(None);
    assert_eq!(
        iam_missing_reason(&not_read, KEY).as_deref(),
        Some("--no-iam")
    );
    let read = two_account_report(Some(vec![AccountAuthorizationDetails {
        account: KEY.into(),
        ..AccountAuthorizationDetails::default()
    }]));
    assert_eq!(iam_missing_reason(&read, KEY), None);
    assert_eq!(
        iam_missing_reason(&read, OTHER).as_deref(),
        Some("not read")
    );
}
