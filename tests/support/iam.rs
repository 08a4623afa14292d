//! Seeding IAM in the emulator: a small SigV4-signed Query caller (the tests have no IAM SDK
//! crate, whose model would add minutes to every clean build), signed like the scanner's own
//! IAM read (src/scan/aws/iam.rs). Test code only: it sends the mutating IAM calls the scanner
//! never does (CreateUser, CreateGroup, AddUserToGroup, CreateRole, CreatePolicy, Attach*Policy,
//! Put*Policy, PutRolePermissionsBoundary), with the credentials of the account being seeded.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_http_client::{Connector, tls};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// An IAM Query client for the emulator, acting in one account.
pub struct Iam {
    url: String,
    identity: Identity,
    connector: Connector,
}

/// A policy document as IAM takes it: `{"Version": "2012-10-17", "Statement": [...]}`.
pub fn document(statements: &[Value]) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

impl Iam {
    /// A client acting with these credentials (an assumed role's acts in the role's account).
    pub fn new(endpoint: &str, access_key: &str, secret: &str, session_token: Option<&str>) -> Iam {
        let credentials = Credentials::new(
            access_key,
            secret,
            session_token.map(str::to_string),
            None,
            "kms-audit-tests",
        );
        let connector = Connector::builder()
            .connector_settings(
                HttpConnectorSettings::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .read_timeout(Duration::from_secs(30))
                    .build(),
            )
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build();
        Iam {
            url: format!("{}/", endpoint.trim_end_matches('/')),
            identity: credentials.into(),
            connector,
        }
    }

    /// Sends `Action` with `params`; panics unless IAM answers 2xx. Returns the answer's XML.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> String {
        let mut body = format!("Action={action}&Version=2010-05-08");
        for (name, value) in params {
            body.push('&');
            body.push_str(name);
            body.push('=');
            body.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
        }
        let request = self.signed(body.as_bytes());
        let response = self
            .connector
            .call(request)
            .await
            .unwrap_or_else(|err| panic!("iam:{action}: {err}"));
        let status = response.status().as_u16();
        let bytes = ByteStream::new(response.into_body())
            .collect()
            .await
            .unwrap_or_else(|err| panic!("iam:{action}: reading the answer: {err}"))
            .into_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(
            (200..300).contains(&status),
            "iam:{action} {params:?}: HTTP {status}: {text}"
        );
        text
    }

    fn signed(&self, body: &[u8]) -> HttpRequest {
        const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region("us-east-1")
            .name("iam")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing parameters")
            .into();
        let headers = [("content-type", CONTENT_TYPE)];
        let signable = SignableRequest::new(
            "POST",
            &self.url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .expect("signable request");
        let (instructions, _signature) = sign(signable, &params).expect("signed").into_parts();
        let mut request = HttpRequest::new(SdkBody::from(body.to_vec()));
        request.set_method("POST").expect("method");
        request.set_uri(self.url.as_str()).expect("uri");
        let (signed_headers, _params) = instructions.into_parts();
        let request_headers = request.headers_mut();
        request_headers.insert("content-type", CONTENT_TYPE);
        request_headers.insert("content-length", body.len().to_string());
        for header in signed_headers {
            request_headers.insert(header.name(), header.value().to_string());
        }
        request
    }

    /// Returns the user's ARN.
    pub async fn create_user(&self, name: &str) -> String {
        arn(&self.call("CreateUser", &[("UserName", name)]).await)
    }

    /// Returns the group's ARN.
    pub async fn create_group(&self, name: &str) -> String {
        arn(&self.call("CreateGroup", &[("GroupName", name)]).await)
    }

    pub async fn add_user_to_group(&self, group: &str, user: &str) {
        self.call(
            "AddUserToGroup",
            &[("GroupName", group), ("UserName", user)],
        )
        .await;
    }

    /// A role EC2 may assume; returns its ARN.
    pub async fn create_role(&self, name: &str) -> String {
        let trust = document(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"
        })]);
        arn(&self
            .call(
                "CreateRole",
                &[("RoleName", name), ("AssumeRolePolicyDocument", &trust)],
            )
            .await)
    }

    /// A customer-managed policy; returns its ARN.
    pub async fn create_policy(&self, name: &str, document: &str) -> String {
        arn(&self
            .call(
                "CreatePolicy",
                &[("PolicyName", name), ("PolicyDocument", document)],
            )
            .await)
    }

    pub async fn attach_user_policy(&self, user: &str, policy_arn: &str) {
        self.call(
            "AttachUserPolicy",
            &[("UserName", user), ("PolicyArn", policy_arn)],
        )
        .await;
    }

    pub async fn attach_group_policy(&self, group: &str, policy_arn: &str) {
        self.call(
            "AttachGroupPolicy",
            &[("GroupName", group), ("PolicyArn", policy_arn)],
        )
        .await;
    }

    pub async fn attach_role_policy(&self, role: &str, policy_arn: &str) {
        self.call(
            "AttachRolePolicy",
            &[("RoleName", role), ("PolicyArn", policy_arn)],
        )
        .await;
    }

    pub async fn put_role_permissions_boundary(&self, role: &str, policy_arn: &str) {
        self.call(
            "PutRolePermissionsBoundary",
            &[("RoleName", role), ("PermissionsBoundary", policy_arn)],
        )
        .await;
    }

    pub async fn put_user_policy(&self, user: &str, name: &str, document: &str) {
        self.call(
            "PutUserPolicy",
            &[
                ("UserName", user),
                ("PolicyName", name),
                ("PolicyDocument", document),
            ],
        )
        .await;
    }

    pub async fn put_group_policy(&self, group: &str, name: &str, document: &str) {
        self.call(
            "PutGroupPolicy",
            &[
                ("GroupName", group),
                ("PolicyName", name),
                ("PolicyDocument", document),
            ],
        )
        .await;
    }

    pub async fn put_role_policy(&self, role: &str, name: &str, document: &str) {
        self.call(
            "PutRolePolicy",
            &[
                ("RoleName", role),
                ("PolicyName", name),
                ("PolicyDocument", document),
            ],
        )
        .await;
    }
}

/// The first `<Arn>` of an answer (the created user's, group's, role's or policy's).
fn arn(xml: &str) -> String {
    xml.split("<Arn>")
        .nth(1)
        .and_then(|rest| rest.split("</Arn>").next())
        .unwrap_or_else(|| panic!("no <Arn> in {xml}"))
        .to_string()
}
