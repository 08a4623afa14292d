//! End to end: effective access through IAM. Two accounts of an emulated Organization (the
//! management account A and a member B) are seeded with IAM users, groups (with members), roles,
//! customer-managed policies (attached) and inline policies — with Deny and NotAction statements
//! and a permissions boundary — and with keys whose policies enable IAM for the account, name
//! roles directly, give another account use, or leave the key without an administrator; and with
//! grants. `kms-audit scan --org` must then report, for every key, exactly the access entries
//! written below by hand from the seeding; read each account's IAM once; turn the IAM-dependent
//! entries into `may` with `--no-iam` (sending no IAM request); and record a denied IAM read as
//! one coverage gap of its account while the other account's IAM is still read. The checks on
//! access and IAM (IAM001, IAM002, POL004, POL005, POL006) must raise exactly the findings listed
//! at the end.

use crate::support;

use std::collections::BTreeMap;

use aws_sdk_kms::types::GrantOperation;
use serde_json::{Value, json};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, SECRET_KEY, kms_audit};
use support::emulator::Emulator;
use support::iam::{Iam, document};
use support::org;
use support::proxy::{FaultProxy, Rule};
use support::seed::{self, NewKey};

const REGION: &str = "us-east-1";
const ENABLE_IAM: &str = "Enable IAM User Permissions";

/// What was seeded: the two accounts, the keys and grants by name.
struct Estate {
    organization_id: String,
    /// The management account (the caller's).
    a: String,
    /// The member account (scanned through its OrganizationAccountAccessRole).
    b: String,
    keys: BTreeMap<&'static str, String>,
    grants: BTreeMap<&'static str, String>,
}

impl Estate {
    fn key(&self, name: &str) -> &str {
        &self.keys[name]
    }
    fn iam_arn(&self, account: &str, kind: &str, name: &str) -> String {
        format!("arn:aws:iam::{account}:{kind}/{name}")
    }
}

async fn create_grant(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    grantee: &str,
    name: Option<&str>,
    operations: &[GrantOperation],
) -> String {
    client
        .create_grant()
        .key_id(key_id)
        .grantee_principal(grantee)
        .set_name(name.map(str::to_string))
        .set_operations(Some(operations.to_vec()))
        .send()
        .await
        .expect("CreateGrant")
        .grant_id
        .expect("grant id")
}

fn policy_doc(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Seeds both accounts. The comments say what each piece is for; [`expected_entries`] is the
/// access it must give.
async fn seed_estate(endpoint: &str) -> Estate {
    let organizations = org::organizations(endpoint);
    let organization_id = org::create_organization(&organizations).await;
    let a = DEFAULT_ACCOUNT.to_string();
    let b = org::create_member(&organizations, "partner").await;
    let mut keys = BTreeMap::new();
    let mut grants = BTreeMap::new();

    // --- account A: keys first, so IAM policies can name one of them ---
    let kms_a = seed::kms(endpoint, REGION);
    let arn_a = |kind: &str, name: &str| format!("arn:aws:iam::{a}:{kind}/{name}");
    let new_key = |policy: String| NewKey {
        policy: Some(policy),
        ..NewKey::default()
    };
    // (a) the key policy enables IAM for the account, nothing else.
    let iam_enabled = seed::create_key(&kms_a, new_key(seed::policy(&a, &[]))).await;
    // (b) roles named directly, IAM not enabled.
    let role_named = seed::create_key(
        &kms_a,
        new_key(policy_doc(&[
            json!({"Sid": "AppUse", "Effect": "Allow",
                   "Principal": {"AWS": arn_a("role", "app")},
                   "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}),
            json!({"Sid": "KeyAdmin", "Effect": "Allow",
                   "Principal": {"AWS": arn_a("role", "key-admin")},
                   "Action": "kms:*", "Resource": "*"}),
        ])),
    )
    .await;
    // (c) IAM enabled, and account B may use the key.
    let cross_account = seed::create_key(
        &kms_a,
        new_key(seed::policy(
            &a,
            &[
                json!({"Sid": "PartnerUse", "Effect": "Allow",
                     "Principal": {"AWS": format!("arn:aws:iam::{b}:root")},
                     "Action": ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*",
                                "kms:GenerateDataKey*", "kms:DescribeKey"],
                     "Resource": "*"}),
                json!({"Sid": "PartnerRoleDecrypt", "Effect": "Allow",
                     "Principal": {"AWS": format!("arn:aws:iam::{b}:role/partner")},
                     "Action": "kms:Decrypt", "Resource": "*"}),
            ],
        )),
    )
    .await;
    // (d) nobody can administer it: one role may use it, and grants.
    let no_admin = seed::create_key(
        &kms_a,
        new_key(policy_doc(&[json!({"Sid": "UseOnly", "Effect": "Allow",
                   "Principal": {"AWS": arn_a("role", "app")},
                   "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"})])),
    )
    .await;
    let alice_grant = create_grant(
        &kms_a,
        no_admin.key_id(),
        &arn_a("user", "alice"),
        None,
        &[
            GrantOperation::Encrypt,
            GrantOperation::Decrypt,
            GrantOperation::GenerateDataKey,
        ],
    )
    .await;
    let partner_grant = create_grant(
        &kms_a,
        no_admin.key_id(),
        &format!("arn:aws:iam::{b}:role/partner"),
        Some("partner-grant"),
        &[GrantOperation::Decrypt, GrantOperation::CreateGrant],
    )
    .await;
    for (name, key) in [
        ("iam-enabled", &iam_enabled),
        ("role-named", &role_named),
        ("cross-account", &cross_account),
        ("no-admin", &no_admin),
    ] {
        keys.insert(name, key.arn().expect("arn").to_string());
    }
    grants.insert("alice", alice_grant);
    grants.insert("partner", partner_grant);

    // --- account A's IAM ---
    let iam_a = Iam::new(endpoint, ACCESS_KEY, SECRET_KEY, None);
    let use_all = iam_a
        .create_policy(
            "kms-use-all",
            &document(&[json!({"Sid": "UseAllKeys", "Effect": "Allow",
                               "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"})]),
        )
        .await;
    // Everything but using the key and delegating it: a pure key administrator.
    let admin = iam_a
        .create_policy(
            "kms-admin",
            &document(&[json!({"Sid": "AdministerNotUse", "Effect": "Allow",
                               "NotAction": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                                             "kms:GenerateDataKey*", "kms:Sign", "kms:Verify",
                                             "kms:GenerateMac", "kms:VerifyMac",
                                             "kms:DeriveSharedSecret", "kms:CreateGrant"],
                               "Resource": "*"})]),
        )
        .await;
    assert_eq!(use_all, arn_a("policy", "kms-use-all"));
    assert_eq!(admin, arn_a("policy", "kms-admin"));
    // alice: kms-use-all, minus Encrypt by her own inline Deny.
    assert_eq!(iam_a.create_user("alice").await, arn_a("user", "alice"));
    iam_a.attach_user_policy("alice", &use_all).await;
    iam_a
        .put_user_policy(
            "alice",
            "no-encrypt",
            &document(&[json!({"Sid": "NoEncrypt", "Effect": "Deny",
                               "Action": "kms:Encrypt", "Resource": "*"})]),
        )
        .await;
    // readers (members: bob, and alice with her Deny): kms-use-all attached, and an inline
    // policy for one key only.
    assert_eq!(iam_a.create_user("bob").await, arn_a("user", "bob"));
    assert_eq!(
        iam_a.create_group("readers").await,
        arn_a("group", "readers")
    );
    iam_a.add_user_to_group("readers", "bob").await;
    iam_a.add_user_to_group("readers", "alice").await;
    iam_a.attach_group_policy("readers", &use_all).await;
    iam_a
        .put_group_policy(
            "readers",
            "readers-decrypt",
            &document(&[json!({"Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": keys["iam-enabled"]})]),
        )
        .await;
    // app: no Allow of its own, but a Deny of every data-key operation.
    assert_eq!(iam_a.create_role("app").await, arn_a("role", "app"));
    iam_a
        .put_role_policy(
            "app",
            "no-data-keys",
            &document(&[json!({"Sid": "NoDataKeys", "Effect": "Deny",
                               "Action": "kms:GenerateDataKey*", "Resource": "*"})]),
        )
        .await;
    assert_eq!(
        iam_a.create_role("key-admin").await,
        arn_a("role", "key-admin")
    );
    iam_a.attach_role_policy("key-admin", &admin).await;
    // deployer: kms-use-all, capped by a permissions boundary that allows only Decrypt (on A's
    // keys; so the boundary is no policy on all keys).
    let decrypt_only = iam_a
        .create_policy(
            "decrypt-only-boundary",
            &document(&[
                json!({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Describe*"],
                               "Resource": format!("arn:aws:kms:*:{a}:key/*")}),
            ]),
        )
        .await;
    assert_eq!(
        iam_a.create_role("deployer").await,
        arn_a("role", "deployer")
    );
    iam_a.attach_role_policy("deployer", &use_all).await;
    iam_a
        .put_role_permissions_boundary("deployer", &decrypt_only)
        .await;

    // --- account B: one key that enables IAM, and its IAM ---
    let (key_b, secret_b, token_b) = org::credentials_in(&org::sts(endpoint), &b).await;
    let kms_b = seed::kms_as(endpoint, REGION, &key_b, &secret_b, token_b.as_deref());
    let b_default = seed::create_key(&kms_b, new_key(seed::policy(&b, &[]))).await;
    keys.insert("b-default", b_default.arn().expect("arn").to_string());
    let iam_b = Iam::new(endpoint, &key_b, &secret_b, token_b.as_deref());
    let arn_b = |kind: &str, name: &str| format!("arn:aws:iam::{b}:{kind}/{name}");
    // partner: may decrypt A's keys (A's analysis does not read B's IAM; B's keys are not matched).
    assert_eq!(iam_b.create_role("partner").await, arn_b("role", "partner"));
    let partner_use = iam_b
        .create_policy(
            "partner-use-a",
            &document(&[json!({"Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": format!("arn:aws:kms:{REGION}:{a}:key/*")})]),
        )
        .await;
    iam_b.attach_role_policy("partner", &partner_use).await;
    // carol: an inline policy that decrypts with every key (IAM002).
    assert_eq!(iam_b.create_user("carol").await, arn_b("user", "carol"));
    iam_b
        .put_user_policy(
            "carol",
            "carol-decrypt-all",
            &document(&[json!({"Sid": "DecryptAll", "Effect": "Allow",
                               "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*"})]),
        )
        .await;
    // ops (member: carol): a managed policy that decrypts with every key (IAM001), and an inline
    // one that manages keys but denies deleting them.
    assert_eq!(iam_b.create_group("ops").await, arn_b("group", "ops"));
    iam_b.add_user_to_group("ops", "carol").await;
    let decrypt_all = iam_b
        .create_policy(
            "b-decrypt-all",
            &document(&[json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})]),
        )
        .await;
    iam_b.attach_group_policy("ops", &decrypt_all).await;
    iam_b
        .put_group_policy(
            "ops",
            "ops-manage",
            &document(&[
                json!({"Sid": "Manage", "Effect": "Allow",
                       "Action": ["kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion",
                                  "kms:CancelKeyDeletion", "kms:TagResource"],
                       "Resource": "*"}),
                json!({"Sid": "NoDeletion", "Effect": "Deny",
                       "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}),
            ]),
        )
        .await;

    Estate {
        organization_id,
        a,
        b,
        keys,
        grants,
    }
}

// --- the expected entries, by hand --------------------------------------------------------

fn actions_of(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|a| a.to_string()).collect();
    list.sort();
    list
}

/// `kms:*` in each class.
fn all_use() -> Vec<String> {
    actions_of(kms_audit::analysis::access::USE_ACTIONS)
}
fn all_administer() -> Vec<String> {
    actions_of(kms_audit::analysis::access::ADMINISTER_ACTIONS)
}
const CREATE_GRANT: &[&str] = &["kms:CreateGrant"];

fn entry(class: &str, principal: Value, path: Value, actions: Vec<String>, certain: bool) -> Value {
    json!({
        "class": class,
        "principal": principal,
        "path": path,
        "actions": actions,
        "certainty": if certain { "yes" } else { "may" },
    })
}

fn key_policy(statement: usize, sid: Option<&str>) -> Value {
    let mut path = json!({"kind": "key_policy", "statement": statement});
    if let Some(sid) = sid {
        path["sid"] = json!(sid);
    }
    path
}

fn grant(id: &str, name: Option<&str>) -> Value {
    let mut path = json!({"kind": "grant", "grant_id": id});
    if let Some(name) = name {
        path["name"] = json!(name);
    }
    path
}

/// An IAM policy statement, through the key policy's statement 0 ("Enable IAM User Permissions").
fn iam_policy(
    name: &str,
    managed_arn: Option<&str>,
    attached_to: &str,
    statement: usize,
    sid: Option<&str>,
) -> Value {
    let mut path = json!({
        "kind": "iam_policy",
        "key_policy_statement": 0,
        "key_policy_sid": ENABLE_IAM,
        "policy_name": name,
        "policy_type": if managed_arn.is_some() { "managed" } else { "inline" },
        "attached_to": attached_to,
        "policy_statement": statement,
    });
    if let Some(arn) = managed_arn {
        path["policy_arn"] = json!(arn);
    }
    if let Some(sid) = sid {
        path["policy_sid"] = json!(sid);
    }
    path
}

fn principal(kind: &str, arn: &str) -> Value {
    json!({"kind": kind, "arn": arn})
}
fn account(id: &str) -> Value {
    json!({"kind": "account", "account": id})
}
fn account_root(id: &str) -> Value {
    json!({"kind": "account_root", "account": id})
}

/// Statement 0 enables IAM for `account`: with its IAM read, the root user in every class
/// plus `iam` (what the account's IAM policies grant); without, one `may` entry per class for
/// the account as a whole.
fn iam_enabled_entries(account_id: &str, read: bool, iam: Vec<Value>) -> Vec<Value> {
    let path = key_policy(0, Some(ENABLE_IAM));
    let who = if read {
        account_root(account_id)
    } else {
        account(account_id)
    };
    let mut entries = vec![
        entry(
            "administer",
            who.clone(),
            path.clone(),
            all_administer(),
            read,
        ),
        entry("use", who.clone(), path.clone(), all_use(), read),
        entry("delegate", who, path, actions_of(CREATE_GRANT), read),
    ];
    if read {
        entries.extend(iam);
    }
    entries
}

/// Every key's entries, by key ARN, with A's and B's IAM read (`iam_a`, `iam_b`) or not.
fn expected_entries(e: &Estate, iam_a: bool, iam_b: bool) -> BTreeMap<String, Vec<Value>> {
    let (a, b) = (e.a.as_str(), e.b.as_str());
    let alice = e.iam_arn(a, "user", "alice");
    let readers = e.iam_arn(a, "group", "readers");
    let app = e.iam_arn(a, "role", "app");
    let key_admin = e.iam_arn(a, "role", "key-admin");
    let deployer = e.iam_arn(a, "role", "deployer");
    let use_all = e.iam_arn(a, "policy", "kms-use-all");
    let admin = e.iam_arn(a, "policy", "kms-admin");
    let partner = e.iam_arn(b, "role", "partner");

    // What A's IAM policies grant on a key of A whose policy enables IAM (statement 0).
    let iam_of_a = |key: &str| {
        let mut entries = vec![
            // kms-use-all on alice: Decrypt; her own Deny takes Encrypt away.
            entry(
                "use",
                principal("user", &alice),
                iam_policy("kms-use-all", Some(&use_all), &alice, 0, Some("UseAllKeys")),
                actions_of(&["kms:Decrypt"]),
                true,
            ),
            // kms-use-all on readers: its member alice's own Deny may take Encrypt from her
            // (bob has none), so the group's entry is `may`.
            entry(
                "use",
                principal("group", &readers),
                iam_policy(
                    "kms-use-all",
                    Some(&use_all),
                    &readers,
                    0,
                    Some("UseAllKeys"),
                ),
                actions_of(&["kms:Decrypt", "kms:Encrypt"]),
                false,
            ),
            // kms-use-all on deployer: its permissions boundary leaves Decrypt only.
            entry(
                "use",
                principal("role", &deployer),
                iam_policy(
                    "kms-use-all",
                    Some(&use_all),
                    &deployer,
                    0,
                    Some("UseAllKeys"),
                ),
                actions_of(&["kms:Decrypt"]),
                true,
            ),
            // kms-admin's NotAction: every administrative action, no use, no CreateGrant.
            entry(
                "administer",
                principal("role", &key_admin),
                iam_policy(
                    "kms-admin",
                    Some(&admin),
                    &key_admin,
                    0,
                    Some("AdministerNotUse"),
                ),
                all_administer(),
                true,
            ),
        ];
        // readers-decrypt names the iam-enabled key only (no member denies Decrypt).
        if key == e.key("iam-enabled") {
            entries.push(entry(
                "use",
                principal("group", &readers),
                iam_policy("readers-decrypt", None, &readers, 0, None),
                actions_of(&["kms:Decrypt"]),
                true,
            ));
        }
        entries
    };

    let mut out = BTreeMap::new();
    out.insert(
        e.key("iam-enabled").to_string(),
        iam_enabled_entries(a, iam_a, iam_of_a(e.key("iam-enabled"))),
    );

    // Roles named directly: their own IAM Denies apply (app's removes GenerateDataKey); without
    // IAM, such a Deny may apply, so every entry is `may`.
    let app_actions = if iam_a {
        vec!["kms:Decrypt", "kms:Encrypt"]
    } else {
        vec!["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    };
    let admin_path = key_policy(1, Some("KeyAdmin"));
    out.insert(
        e.key("role-named").to_string(),
        vec![
            entry(
                "use",
                principal("role", &app),
                key_policy(0, Some("AppUse")),
                actions_of(&app_actions),
                iam_a,
            ),
            entry(
                "administer",
                principal("role", &key_admin),
                admin_path.clone(),
                all_administer(),
                iam_a,
            ),
            entry(
                "use",
                principal("role", &key_admin),
                admin_path.clone(),
                all_use(),
                iam_a,
            ),
            entry(
                "delegate",
                principal("role", &key_admin),
                admin_path,
                actions_of(CREATE_GRANT),
                iam_a,
            ),
        ],
    );

    // Another account's use: its own IAM policies decide (never read for A's keys): `yes`.
    let mut cross = iam_enabled_entries(a, iam_a, iam_of_a(e.key("cross-account")));
    cross.push(entry(
        "use",
        account(b),
        key_policy(1, Some("PartnerUse")),
        actions_of(&[
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyPair",
            "kms:GenerateDataKeyPairWithoutPlaintext",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ]),
        true,
    ));
    // A role of another account named directly: it also needs an IAM policy of its own account,
    // which the analysis does not evaluate for A's keys (NOT_EVALUATED), so `may`.
    cross.push(entry(
        "use",
        principal("role", &partner),
        key_policy(2, Some("PartnerRoleDecrypt")),
        actions_of(&["kms:Decrypt"]),
        false,
    ));
    out.insert(e.key("cross-account").to_string(), cross);

    // No administrator: app may use it; the grants give alice (minus Encrypt, by her Deny) and
    // B's partner role (a principal of another account: no IAM of A applies) their operations.
    let alice_grant = if iam_a {
        vec!["kms:Decrypt", "kms:GenerateDataKey"]
    } else {
        vec!["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    };
    out.insert(
        e.key("no-admin").to_string(),
        vec![
            entry(
                "use",
                principal("role", &app),
                key_policy(0, Some("UseOnly")),
                actions_of(&["kms:Decrypt", "kms:Encrypt"]),
                iam_a,
            ),
            entry(
                "use",
                principal("user", &alice),
                grant(&e.grants["alice"], None),
                actions_of(&alice_grant),
                iam_a,
            ),
            entry(
                "use",
                principal("role", &partner),
                grant(&e.grants["partner"], Some("partner-grant")),
                actions_of(&["kms:Decrypt"]),
                true,
            ),
            entry(
                "delegate",
                principal("role", &partner),
                grant(&e.grants["partner"], Some("partner-grant")),
                actions_of(CREATE_GRANT),
                true,
            ),
        ],
    );

    // B's key enables IAM for B.
    let carol = e.iam_arn(b, "user", "carol");
    let ops = e.iam_arn(b, "group", "ops");
    let decrypt_all = e.iam_arn(b, "policy", "b-decrypt-all");
    let iam_of_b = vec![
        entry(
            "use",
            principal("user", &carol),
            iam_policy("carol-decrypt-all", None, &carol, 0, Some("DecryptAll")),
            actions_of(&["kms:Decrypt", "kms:ReEncryptFrom"]),
            true,
        ),
        entry(
            "use",
            principal("group", &ops),
            iam_policy("b-decrypt-all", Some(&decrypt_all), &ops, 0, None),
            actions_of(&["kms:Decrypt"]),
            true,
        ),
        // ops-manage: its own Deny takes ScheduleKeyDeletion away.
        entry(
            "administer",
            principal("group", &ops),
            iam_policy("ops-manage", None, &ops, 0, Some("Manage")),
            actions_of(&[
                "kms:CancelKeyDeletion",
                "kms:DisableKey",
                "kms:EnableKey",
                "kms:TagResource",
            ]),
            true,
        ),
    ];
    out.insert(
        e.key("b-default").to_string(),
        iam_enabled_entries(b, iam_b, iam_of_b),
    );
    out
}

/// What `unknown` each key must list: the IAM policies of its account, when they were not
/// read and its key policy enables IAM.
fn expected_unknown(
    e: &Estate,
    why_a: Option<&str>,
    why_b: Option<&str>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = e
        .keys
        .values()
        .map(|arn| (arn.clone(), Vec::new()))
        .collect();
    if let Some(why) = why_a {
        for key in ["iam-enabled", "cross-account"] {
            out.insert(
                e.key(key).to_string(),
                vec![format!("IAM policies of account {}: {why}", e.a)],
            );
        }
    }
    if let Some(why) = why_b {
        out.insert(
            e.key("b-default").to_string(),
            vec![format!("IAM policies of account {}: {why}", e.b)],
        );
    }
    out
}

/// The report's entries by key ARN, each reduced to what the expectations name. A key lists
/// positions in `access.entries`, where each distinct entry is written once.
fn reported_entries(report: &Value) -> BTreeMap<String, Vec<Value>> {
    let table = report["access"]["entries"]
        .as_array()
        .expect("access.entries");
    report["access"]["keys"]
        .as_array()
        .expect("access.keys")
        .iter()
        .map(|key| {
            let entries = key["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|at| {
                    let at = at.as_u64().expect("an entry's position") as usize;
                    let e = table
                        .get(at)
                        .expect("the position of an entry in access.entries");
                    let mut actions: Vec<String> = e["actions"]
                        .as_array()
                        .expect("actions")
                        .iter()
                        .map(|a| a.as_str().expect("action").to_string())
                        .collect();
                    actions.sort();
                    entry(
                        e["class"].as_str().expect("class"),
                        e["principal"].clone(),
                        e["path"].clone(),
                        actions,
                        e["certainty"] == "yes",
                    )
                })
                .collect();
            (
                key["key_arn"].as_str().expect("key_arn").to_string(),
                entries,
            )
        })
        .collect()
}

fn reported_unknown(report: &Value) -> BTreeMap<String, Vec<String>> {
    report["access"]["keys"]
        .as_array()
        .expect("access.keys")
        .iter()
        .map(|key| {
            let unknown = key["unknown"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|u| u.as_str().expect("unknown").to_string())
                        .collect()
                })
                .unwrap_or_default();
            (
                key["key_arn"].as_str().expect("key_arn").to_string(),
                unknown,
            )
        })
        .collect()
}

fn sorted(mut entries: Vec<Value>) -> Vec<Value> {
    entries.sort_by_key(|v| v.to_string());
    entries
}

/// Each key's entries equal the expected ones (as sets: the report's own order is by class,
/// principal and path), and no key is missing or extra.
#[track_caller]
fn assert_entries(report: &Value, expected: BTreeMap<String, Vec<Value>>, e: &Estate) {
    let reported = reported_entries(report);
    assert_eq!(
        reported.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "access.keys lists every key once"
    );
    for (arn, want) in expected {
        let name = e
            .keys
            .iter()
            .find(|(_, a)| **a == arn)
            .map(|(n, _)| *n)
            .unwrap_or("?");
        let got = sorted(reported[&arn].clone());
        let want = sorted(want);
        assert!(
            got == want,
            "key {name} ({arn}): entries differ\nreported:\n{}\nexpected:\n{}",
            serde_json::to_string_pretty(&got).unwrap_or_default(),
            serde_json::to_string_pretty(&want).unwrap_or_default()
        );
    }
}

/// The report's `inventory.iam`, per account: users (with groups), groups, roles and the
/// customer-managed policies, by name, with what is attached or embedded.
fn iam_inventory(report: &Value) -> Value {
    let names = |list: &Value, field: &str| -> Vec<String> {
        let mut names: Vec<String> = list
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|x| x[field].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let identities = |list: &Value, with_groups: bool| -> Value {
        let mut out = serde_json::Map::new();
        for i in list.as_array().expect("identities") {
            let mut v = json!({
                "attached": names(&i["attached_policies"], "name"),
                "inline": names(&i["inline_policies"], "name"),
            });
            if with_groups {
                v["groups"] = i["groups"].clone();
            }
            if let Some(boundary) = i["permissions_boundary"].as_str() {
                v["boundary"] = json!(boundary.rsplit('/').next());
            }
            out.insert(i["name"].as_str().expect("name").to_string(), v);
        }
        Value::Object(out)
    };
    let mut out = serde_json::Map::new();
    for details in report["inventory"]["iam"]
        .as_array()
        .expect("inventory.iam")
    {
        out.insert(
            details["account"].as_str().expect("account").to_string(),
            json!({
                "users": identities(&details["users"], true),
                "groups": identities(&details["groups"], false),
                "roles": identities(&details["roles"], false),
                "policies": names(&details["policies"], "name"),
            }),
        );
    }
    Value::Object(out)
}

fn expected_iam_inventory(e: &Estate, accounts: &[&str]) -> Value {
    let a = json!({
        "users": {
            "alice": {"attached": ["kms-use-all"], "inline": ["no-encrypt"], "groups": ["readers"]},
            "bob": {"attached": [], "inline": [], "groups": ["readers"]},
        },
        "groups": {"readers": {"attached": ["kms-use-all"], "inline": ["readers-decrypt"]}},
        "roles": {
            "app": {"attached": [], "inline": ["no-data-keys"]},
            "deployer": {"attached": ["kms-use-all"], "inline": [],
                         "boundary": "decrypt-only-boundary"},
            "key-admin": {"attached": ["kms-admin"], "inline": []},
        },
        "policies": ["decrypt-only-boundary", "kms-admin", "kms-use-all"],
    });
    // moto creates the member's OrganizationAccountAccessRole with CreateAccount, with no
    // policy (AWS attaches AdministratorAccess; moto loads no AWS-managed policies by default).
    let b = json!({
        "users": {"carol": {"attached": [], "inline": ["carol-decrypt-all"], "groups": ["ops"]}},
        "groups": {"ops": {"attached": ["b-decrypt-all"], "inline": ["ops-manage"]}},
        "roles": {
            "OrganizationAccountAccessRole": {"attached": [], "inline": []},
            "partner": {"attached": ["partner-use-a"], "inline": []},
        },
        "policies": ["b-decrypt-all", "partner-use-a"],
    });
    let mut out = serde_json::Map::new();
    for account in accounts {
        let details = if *account == e.a {
            a.clone()
        } else {
            b.clone()
        };
        out.insert(account.to_string(), details);
    }
    Value::Object(out)
}

fn scan_args() -> Vec<&'static str> {
    vec![
        "scan",
        "--org",
        "--regions",
        REGION,
        "--format",
        "json",
        "--fail-on",
        "none",
        "--max-attempts",
        "1",
    ]
}

fn iam_requests(proxy: &FaultProxy) -> Vec<(String, Option<String>)> {
    proxy
        .log()
        .iter()
        .filter(|seen| seen.service == "iam")
        .map(|seen| (seen.operation.clone(), seen.account.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_through_iam_policies_grants_and_key_policies_across_two_accounts() {
    let emulator = Emulator::start();
    let estate = seed_estate(&emulator.endpoint).await;
    let (a, b) = (estate.a.clone(), estate.b.clone());

    // With IAM: every key's entries, each account's IAM read once.
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let run = kms_audit(&proxy.endpoint, &scan_args());
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["organization_id"], estate.organization_id.as_str());
    assert_eq!(report["coverage_gaps"], json!([]));
    assert_eq!(report["summary"]["keys"], 5);
    assert_entries(&report, expected_entries(&estate, true, true), &estate);
    assert_eq!(
        reported_unknown(&report),
        expected_unknown(&estate, None, None)
    );
    assert_eq!(
        iam_inventory(&report),
        expected_iam_inventory(&estate, &[&a, &b])
    );
    let mut accounts: Vec<&str> = report["inventory"]["iam"]
        .as_array()
        .expect("inventory.iam")
        .iter()
        .map(|d| d["account"].as_str().expect("account"))
        .collect();
    accounts.sort();
    let mut want_accounts = vec![a.as_str(), b.as_str()];
    want_accounts.sort();
    assert_eq!(accounts, want_accounts);
    // One IAM read per account (the emulator answers in one page), whatever the number of keys.
    assert_eq!(
        report["summary"]["api_calls"]["iam:GetAccountAuthorizationDetails"],
        2
    );
    let mut sent = iam_requests(&proxy);
    sent.sort();
    let mut want_sent = vec![
        (
            "GetAccountAuthorizationDetails".to_string(),
            Some(a.clone()),
        ),
        (
            "GetAccountAuthorizationDetails".to_string(),
            Some(b.clone()),
        ),
    ];
    want_sent.sort();
    assert_eq!(sent, want_sent);
    assert_checks(
        &report,
        &estate,
        true,
        &["IAM001", "IAM002", "POL004", "POL005", "POL006"],
    );
    assert_identity_findings_list_their_keys(&report, &estate);

    // --no-iam: no IAM request; what depended on IAM is `may`, the rest unchanged.
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    let run = kms_audit(&proxy.endpoint, &[scan_args(), vec!["--no-iam"]].concat());
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["coverage_gaps"], json!([]));
    assert!(
        report["inventory"].get("iam").is_none(),
        "no inventory.iam with --no-iam: {}",
        report["inventory"]["iam"]
    );
    assert!(
        report["summary"]["api_calls"]
            .get("iam:GetAccountAuthorizationDetails")
            .is_none(),
        "{}",
        report["summary"]["api_calls"]
    );
    assert_eq!(iam_requests(&proxy), vec![], "no IAM request with --no-iam");
    assert_entries(&report, expected_entries(&estate, false, false), &estate);
    let why = "--no-iam";
    assert_eq!(
        reported_unknown(&report),
        expected_unknown(&estate, Some(why), Some(why))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_iam_read_is_one_gap_of_its_account_and_the_other_is_still_read() {
    let emulator = Emulator::start();
    let estate = seed_estate(&emulator.endpoint).await;
    let proxy = FaultProxy::start(&emulator.endpoint, (ACCESS_KEY, DEFAULT_ACCOUNT));
    proxy.add_rule(
        Rule::deny()
            .service("iam")
            .operation("GetAccountAuthorizationDetails")
            .account(&estate.b),
    );

    let run = kms_audit(&proxy.endpoint, &scan_args());
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let report = run.json();
    let gaps = report["coverage_gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["account"], estate.b.as_str());
    assert_eq!(gaps[0]["region"], Value::Null);
    assert_eq!(gaps[0]["operation"], "GetAccountAuthorizationDetails");
    assert_eq!(gaps[0]["error_code"], "AccessDenied");
    assert!(
        gaps[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("--no-iam")),
        "{}",
        gaps[0]["reason"]
    );
    // Every key is still in the inventory and every target scanned.
    assert_eq!(report["summary"]["keys"], 5);
    assert!(
        report["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .all(|t| t["status"] == "scanned"),
        "{}",
        report["targets"]
    );
    // A's IAM is read (once); B's was asked for once and refused.
    assert_eq!(
        iam_inventory(&report),
        expected_iam_inventory(&estate, &[&estate.a])
    );
    assert_eq!(
        report["summary"]["api_calls"]["iam:GetAccountAuthorizationDetails"],
        2
    );
    let refused: Vec<Option<String>> = proxy
        .log()
        .iter()
        .filter(|seen| seen.service == "iam" && seen.refused)
        .map(|seen| seen.account.clone())
        .collect();
    assert_eq!(refused, vec![Some(estate.b.clone())]);
    // A's keys as with IAM; B's key: its IAM-dependent entries are `may`.
    assert_entries(&report, expected_entries(&estate, true, false), &estate);
    assert_eq!(
        reported_unknown(&report),
        expected_unknown(
            &estate,
            None,
            Some("iam:GetAccountAuthorizationDetails failed: AccessDenied")
        )
    );
    // B's IAM policies are not judged (IAM001/IAM002 on A only); its gap says so.
    assert_checks(&report, &estate, false, &["IAM001", "IAM002"]);
}

// ==== Checks on this estate: IAM001, IAM002, POL004, POL005, POL006 ========================
// The checks on effective access and IAM, all in one place. A finding is matched by (check,
// account, its key ARN or, for a finding on an IAM policy, its resource ARN, a text its message
// must contain); each check must raise exactly the findings listed for it.

/// What a finding is about: a key, or an IAM resource (a managed policy, or the identity an inline
/// policy is embedded in).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Key(String),
    Resource(String),
}

type ExpectedFinding = (&'static str, String, Subject, &'static str);

/// The findings of each check on the estate; `iam_b`: whether B's IAM was read (A's always is).
/// Without B's IAM only the IAM checks are asserted (`assert_checks`' `checks`).
fn expected_check_findings(e: &Estate, iam_b: bool) -> Vec<ExpectedFinding> {
    let (a, b) = (e.a.clone(), e.b.clone());
    let key = |name: &str| Subject::Key(e.key(name).to_string());
    let iam =
        |account: &str, kind: &str, name: &str| Subject::Resource(e.iam_arn(account, kind, name));
    let mut out = vec![
        // IAM001 (FSBP KMS.1): a customer-managed policy allows kms:Decrypt/ReEncryptFrom on
        // all keys: kms-use-all (A) and b-decrypt-all (B); not kms-admin (its NotAction leaves
        // Decrypt out), not decrypt-only-boundary nor partner-use-a (A's keys only).
        (
            "IAM001",
            a.clone(),
            iam(&a, "policy", "kms-use-all"),
            "kms-use-all",
        ),
        // POL004: CreateGrant without kms:GrantIsForAWSResource for a principal that is not an
        // AWS service nor the key account's root: key-admin on role-named (kms:*), and B's
        // partner role through its grant on no-admin.
        ("POL004", a.clone(), key("role-named"), "key-admin"),
        ("POL004", a.clone(), key("no-admin"), "partner"),
        // POL005: a principal other than the account root that can administer and use:
        // key-admin on role-named (its key policy names the role); group ops on b-default,
        // through IAM alone (b-decrypt-all and ops-manage), so that finding is on the group and
        // lists the key (`assert_identity_findings_list_their_keys`).
        ("POL005", a.clone(), key("role-named"), "key-admin"),
        (
            "POL005",
            b.clone(),
            iam(&b, "group", "ops"),
            "administer: inline policy \"ops-manage\"",
        ),
        // POL006: nobody visible can administer: no-admin only.
        ("POL006", a, key("no-admin"), ""),
    ];
    if iam_b {
        out.extend([
            (
                "IAM001",
                b.clone(),
                iam(&b, "policy", "b-decrypt-all"),
                "b-decrypt-all",
            ),
            // IAM002 (FSBP KMS.2): an inline policy does: carol-decrypt-all (B), a finding on
            // the user it is embedded in; not readers-decrypt (one key), and Denies allow nothing.
            (
                "IAM002",
                b.clone(),
                iam(&b, "user", "carol"),
                "carol-decrypt-all",
            ),
        ]);
    }
    out
}

/// A POL004/POL005 finding on an IAM identity (IAM alone gives the access) lists the keys it
/// covers, names its statements and is certain where every step is; here, group ops on
/// b-default only.
#[track_caller]
fn assert_identity_findings_list_their_keys(report: &Value, e: &Estate) {
    let findings = report["findings"].as_array().expect("findings");
    let on_identities: Vec<&Value> = findings
        .iter()
        .filter(|f| ["POL004", "POL005"].contains(&f["check_id"].as_str().unwrap_or("")))
        .filter(|f| f.get("resource").is_some())
        .collect();
    assert_eq!(on_identities.len(), 1, "{on_identities:#?}");
    let ops = on_identities[0];
    assert_eq!(ops["resource"], json!(e.iam_arn(&e.b, "group", "ops")));
    assert_eq!(ops["keys"], json!([e.key("b-default")]));
    assert_eq!(ops.get("key_arn"), Some(&Value::Null));
    assert_eq!(ops["evidence"]["certainty"], json!("yes"));
    assert_eq!(ops["evidence"]["keys"], json!(1));
    assert_eq!(
        ops["message"],
        json!(format!(
            "group {} can both administer and use 1 key ({}) through IAM policies (administer: \
             inline policy \"ops-manage\" statement[0] \"Manage\"; use: managed policy \
             \"b-decrypt-all\" statement[0])",
            e.iam_arn(&e.b, "group", "ops"),
            e.key("b-default").rsplit('/').next().unwrap_or_default()
        ))
    );
    // Every other POL004/POL005 finding is on a key.
    assert!(
        findings
            .iter()
            .filter(|f| ["POL004", "POL005"].contains(&f["check_id"].as_str().unwrap_or("")))
            .filter(|f| f.get("resource").is_none())
            .all(|f| f["key_arn"].is_string() && f.get("keys").is_none())
    );
}

/// The findings of `checks` are exactly the expected ones.
#[track_caller]
fn assert_checks(report: &Value, e: &Estate, iam_b: bool, checks: &[&str]) {
    let catalog: Vec<&str> = kms_audit::analysis::catalog()
        .all()
        .iter()
        .map(|meta| meta.id.as_str())
        .collect();
    let findings = report["findings"].as_array().expect("findings");
    for check in checks {
        assert!(catalog.contains(check), "{check} is not in the catalog");
        let mut want: Vec<(String, Subject, &str)> = expected_check_findings(e, iam_b)
            .into_iter()
            .filter(|(id, ..)| id == check)
            .map(|(_, account, subject, text)| (account, subject, text))
            .collect();
        want.sort();
        let got: Vec<&Value> = findings
            .iter()
            .filter(|f| f["check_id"] == *check)
            .collect();
        let shown = serde_json::to_string_pretty(&got).unwrap_or_default();
        assert_eq!(got.len(), want.len(), "{check}: findings {shown}");
        for (account, subject, text) in &want {
            let (key, resource) = match subject {
                Subject::Key(arn) => (Some(arn.as_str()), None),
                Subject::Resource(arn) => (None, Some(arn.as_str())),
            };
            assert!(
                got.iter().any(|f| f["account"] == account.as_str()
                    && f["key_arn"].as_str() == key
                    && f["resource"].as_str() == resource
                    && f["message"].as_str().is_some_and(|m| m.contains(text))),
                "{check}: no finding for account {account}, {subject:?}, mentioning {text:?} in {shown}"
            );
        }
    }
}
