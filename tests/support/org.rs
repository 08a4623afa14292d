//! Seeding an AWS Organization in the emulator: a management account, member accounts in nested
//! OUs, and KMS clients acting inside member accounts through an assumed role.

use super::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, SECRET_KEY};
use super::proxy::{FaultProxy, Rule};
use super::seed;

/// The role every member account trusts its management account with.
pub const ROLE: &str = "OrganizationAccountAccessRole";

/// The organization the tests and the demo use:
/// Root ─ Workloads ─ Prod ─ prod account
///      │           └ dev account
///      └ Sandbox ─ sandbox account
#[derive(Debug, Clone)]
pub struct SeededOrg {
    pub id: String,
    pub management: String,
    pub root: String,
    pub workloads_ou: String,
    pub prod_ou: String,
    pub sandbox_ou: String,
    pub prod: String,
    pub dev: String,
    pub sandbox: String,
}

impl SeededOrg {
    pub fn members(&self) -> [&str; 3] {
        [&self.prod, &self.dev, &self.sandbox]
    }

    /// Every account of the organization, the management account included, sorted.
    pub fn accounts(&self) -> Vec<String> {
        let mut accounts = vec![
            self.management.clone(),
            self.prod.clone(),
            self.dev.clone(),
            self.sandbox.clone(),
        ];
        accounts.sort();
        accounts
    }

    /// Makes `proxy` refuse part of the organization, as a real one does: the sandbox account's
    /// role cannot be assumed, and KMS is denied in the dev account's eu-west-1 (e.g. an SCP).
    pub fn refuse_sandbox_and_dev_eu_west_1(&self, proxy: &FaultProxy) {
        proxy.add_rule(Rule::deny().operation("AssumeRole").account(&self.sandbox));
        proxy.add_rule(
            Rule::deny()
                .operation("ListKeys")
                .account(&self.dev)
                .region("eu-west-1"),
        );
    }
}

/// An Organizations client for the emulator, acting as the management account.
pub fn organizations(endpoint: &str) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(&management_config(endpoint))
}

/// An STS client for the emulator, acting as the management account.
pub fn sts(endpoint: &str) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&management_config(endpoint))
}

fn management_config(endpoint: &str) -> aws_types::SdkConfig {
    seed::sdk_config(endpoint, "us-east-1", ACCESS_KEY, SECRET_KEY, None)
}

async fn create_ou(client: &aws_sdk_organizations::Client, parent: &str, name: &str) -> String {
    client
        .create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .expect("CreateOrganizationalUnit")
        .organizational_unit
        .and_then(|ou| ou.id)
        .expect("OU id")
}

/// Creates the organization of the default test credentials' account (all features); returns
/// its id.
pub async fn create_organization(client: &aws_sdk_organizations::Client) -> String {
    client
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization")
        .organization
        .and_then(|o| o.id)
        .expect("organization id")
}

/// Creates a member account (in the root); returns its id.
pub async fn create_member(client: &aws_sdk_organizations::Client, name: &str) -> String {
    client
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .expect("CreateAccount")
        .create_account_status
        .and_then(|s| s.account_id)
        .expect("account id")
}

/// A member account moved from the root into `parent`.
async fn create_account(
    client: &aws_sdk_organizations::Client,
    name: &str,
    root: &str,
    parent: &str,
) -> String {
    let id = create_member(client, name).await;
    client
        .move_account()
        .account_id(&id)
        .source_parent_id(root)
        .destination_parent_id(parent)
        .send()
        .await
        .expect("MoveAccount");
    id
}

/// Creates the organization (the default test credentials' account is its management account).
pub async fn create_org(endpoint: &str) -> SeededOrg {
    let client = organizations(endpoint);
    let id = create_organization(&client).await;
    let root = client
        .list_roots()
        .send()
        .await
        .expect("ListRoots")
        .roots
        .and_then(|r| r.into_iter().next())
        .and_then(|r| r.id)
        .expect("root id");
    let workloads_ou = create_ou(&client, &root, "Workloads").await;
    let prod_ou = create_ou(&client, &workloads_ou, "Prod").await;
    let sandbox_ou = create_ou(&client, &root, "Sandbox").await;
    let prod = create_account(&client, "prod", &root, &prod_ou).await;
    let dev = create_account(&client, "dev", &root, &workloads_ou).await;
    let sandbox = create_account(&client, "sandbox", &root, &sandbox_ou).await;
    SeededOrg {
        id,
        management: DEFAULT_ACCOUNT.to_string(),
        root,
        workloads_ou,
        prod_ou,
        sandbox_ou,
        prod,
        dev,
        sandbox,
    }
}

/// Credentials acting in `account`: the test credentials in the management account, else its
/// assumed [`ROLE`]'s. Returns (access key, secret, session token).
pub async fn credentials_in(
    sts: &aws_sdk_sts::Client,
    account: &str,
) -> (String, String, Option<String>) {
    if account == DEFAULT_ACCOUNT {
        return (ACCESS_KEY.to_string(), SECRET_KEY.to_string(), None);
    }
    let credentials = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{ROLE}"))
        .role_session_name("kms-audit-seed")
        .send()
        .await
        .expect("AssumeRole")
        .credentials
        .expect("credentials");
    (
        credentials.access_key_id,
        credentials.secret_access_key,
        Some(credentials.session_token),
    )
}

/// A KMS client acting in `account` (through its [`ROLE`]).
pub async fn kms_in(endpoint: &str, account: &str, region: &str) -> aws_sdk_kms::Client {
    let (key, secret, token) = credentials_in(&sts(endpoint), account).await;
    seed::kms_as(endpoint, region, &key, &secret, token.as_deref())
}

/// Every account of the organization with its name, as Organizations lists them.
pub async fn account_names(endpoint: &str) -> std::collections::BTreeMap<String, String> {
    organizations(endpoint)
        .list_accounts()
        .send()
        .await
        .expect("ListAccounts")
        .accounts
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| Some((a.id?, a.name?)))
        .collect()
}
