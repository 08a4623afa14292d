//! Seeding an AWS Organization in the emulator: a management account, member accounts in nested
//! OUs, and KMS clients acting inside member accounts through an assumed role.

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};

use super::cli::{ACCESS_KEY, DEFAULT_ACCOUNT};

const SECRET: &str = "kms-audit-test-secret";

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
}

fn organizations(endpoint: &str) -> aws_sdk_organizations::Client {
    let config = aws_sdk_organizations::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET, None, None, "tests"))
        .http_client(kms_audit::scan::aws::https_client())
        .build();
    aws_sdk_organizations::Client::from_conf(config)
}

fn sts(endpoint: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET, None, None, "tests"))
        .http_client(kms_audit::scan::aws::https_client())
        .build();
    aws_sdk_sts::Client::from_conf(config)
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

async fn create_account(
    client: &aws_sdk_organizations::Client,
    name: &str,
    root: &str,
    parent: &str,
) -> String {
    let id = client
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .expect("CreateAccount")
        .create_account_status
        .and_then(|s| s.account_id)
        .expect("account id");
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
    let org = client
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization")
        .organization
        .expect("organization");
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
        id: org.id.expect("org id"),
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

/// A KMS client acting in `account` (through its OrganizationAccountAccessRole).
pub async fn kms_in(endpoint: &str, account: &str, region: &str) -> aws_sdk_kms::Client {
    if account == DEFAULT_ACCOUNT {
        return super::seed::kms(endpoint, region);
    }
    let credentials = sts(endpoint)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("kms-audit-seed")
        .send()
        .await
        .expect("AssumeRole")
        .credentials
        .expect("credentials");
    super::seed::kms_as(
        endpoint,
        region,
        &credentials.access_key_id,
        &credentials.secret_access_key,
        Some(&credentials.session_token),
    )
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
