//! Security Hub's `BatchImportFindings`, sent by hand: a REST-JSON `POST /findings/import`,
//! SigV4-signed with `aws-sigv4` and sent through the same rustls connector as every SDK client.
//!
//! The generated Security Hub SDK would model all of ASFF (hundreds of resource types) for one
//! operation whose body kms-audit already writes, and cost minutes of every clean build.
//!
//! Retries follow scan's policy (`--max-attempts`, exponential backoff with full jitter from
//! 100 ms, capped at 20 s): throttling (`LimitExceededException`, `TooManyRequestsException`,
//! HTTP 429), server errors, timeouts and dropped connections are retried; anything else is final.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_http_client::{Connector, tls};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde::Deserialize;

use crate::scan::aws::{ApiCallCounter, CallError};

/// The signing name and IAM prefix of Security Hub.
const SERVICE: &str = "securityhub";

/// Security Hub's answer to one `BatchImportFindings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportResult {
    #[serde(default)]
    pub success_count: u64,
    #[serde(default)]
    pub failed_count: u64,
    #[serde(default)]
    pub failed_findings: Vec<FailedFinding>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailedFinding {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_message: String,
}

/// How requests reach Security Hub: one connection pool for every account and region.
pub struct SecurityHub {
    connector: Connector,
    /// `--endpoint-url`, `AWS_ENDPOINT_URL_SECURITYHUB` or `AWS_ENDPOINT_URL`: every region's
    /// requests go there (e.g. a local emulator). Otherwise the region's public endpoint.
    endpoint: Option<String>,
    max_attempts: u32,
    attempt_timeout: Duration,
    counter: ApiCallCounter,
}

impl SecurityHub {
    pub fn new(
        base: &aws_config::SdkConfig,
        endpoint: Option<String>,
        max_attempts: u32,
        attempt_timeout: Duration,
        counter: ApiCallCounter,
    ) -> SecurityHub {
        let mut builder = Connector::builder().connector_settings(
            HttpConnectorSettings::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(attempt_timeout)
                .build(),
        );
        if let Some(sleep) = base.sleep_impl() {
            builder = builder.sleep_impl(sleep);
        }
        let connector = builder
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build();
        SecurityHub {
            connector,
            endpoint: endpoint.map(|url| url.trim_end_matches('/').to_string()),
            max_attempts: max_attempts.max(1),
            attempt_timeout,
            counter,
        }
    }

    /// The URL of `BatchImportFindings` in `region`.
    pub fn import_url(&self, region: &str) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{endpoint}/findings/import"),
            None => format!(
                "https://securityhub.{region}.{}/findings/import",
                dns_suffix(region)
            ),
        }
    }

    /// Sends one request body, retrying what can be retried.
    pub async fn batch_import(
        &self,
        credentials: &SharedCredentialsProvider,
        region: &str,
        body: &[u8],
    ) -> Result<ImportResult, CallError> {
        let url = self.import_url(region);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.counter
                .record(format!("{SERVICE}:BatchImportFindings"));
            let outcome = tokio::time::timeout(
                self.attempt_timeout,
                self.attempt(credentials, region, &url, body),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Attempt::Retryable(CallError::new(
                    Some("Timeout"),
                    format!("no answer within {} s", self.attempt_timeout.as_secs()),
                )))
            });
            match outcome {
                Ok(result) => return Ok(result),
                Err(Attempt::Final(err)) => return Err(err),
                Err(Attempt::Retryable(err)) if attempt >= self.max_attempts => {
                    return Err(CallError::new(
                        err.code.as_deref(),
                        format!("{} (after {attempt} attempts)", err.message),
                    ));
                }
                Err(Attempt::Retryable(err)) => {
                    let delay = backoff(attempt);
                    tracing::debug!(
                        "BatchImportFindings in {region}: {err}; retrying in {} ms",
                        delay.as_millis()
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        credentials: &SharedCredentialsProvider,
        region: &str,
        url: &str,
        body: &[u8],
    ) -> Result<ImportResult, Attempt> {
        let credentials = credentials.provide_credentials().await.map_err(|err| {
            Attempt::Final(CallError::new(
                Some("CredentialsError"),
                crate::scan::aws::errors::error_chain(&err),
            ))
        })?;
        let request = signed_request(&credentials.into(), region, url, body)
            .map_err(|why| Attempt::Final(CallError::new(Some("SigningError"), why)))?;
        let response = self.connector.call(request).await.map_err(|err| {
            let class = if err.is_timeout() {
                "Timeout"
            } else {
                "ConnectionError"
            };
            Attempt::Retryable(CallError::new(
                Some(class),
                crate::scan::aws::errors::error_chain(&err),
            ))
        })?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .map(str::to_string);
        let bytes = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|err| {
                Attempt::Retryable(CallError::new(
                    Some("ConnectionError"),
                    crate::scan::aws::errors::error_chain(&err),
                ))
            })?
            .into_bytes();
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|err| {
                Attempt::Final(CallError::new(
                    Some("InvalidResponse"),
                    format!("Security Hub's answer is not a BatchImportFindings result: {err}"),
                ))
            });
        }
        let err = error_of(status, error_type.as_deref(), &bytes);
        if is_retryable(status, err.code.as_deref()) {
            Err(Attempt::Retryable(err))
        } else {
            Err(Attempt::Final(err))
        }
    }
}

enum Attempt {
    Retryable(CallError),
    Final(CallError),
}

/// `amazonaws.com`, or the China partition's suffix for its regions.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// A SigV4-signed `POST` of `body` to `url`.
fn signed_request(
    identity: &Identity,
    region: &str,
    url: &str,
    body: &[u8],
) -> Result<HttpRequest, String> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(SERVICE)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|err| err.to_string())?
        .into();
    let headers = [("content-type", "application/json")];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|err| err.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|err| err.to_string())?
        .into_parts();
    let mut request = HttpRequest::new(SdkBody::from(body.to_vec()));
    request.set_method("POST").map_err(|err| err.to_string())?;
    request.set_uri(url).map_err(|err| err.to_string())?;
    let (signed_headers, _params) = instructions.into_parts();
    let request_headers = request.headers_mut();
    request_headers.insert("content-type", "application/json");
    request_headers.insert("content-length", body.len().to_string());
    for header in signed_headers {
        request_headers.insert(header.name(), header.value().to_string());
    }
    Ok(request)
}

/// The AWS error of a non-2xx answer: the code from `x-amzn-ErrorType` or the body, and its
/// message.
fn error_of(status: u16, error_type: Option<&str>, body: &[u8]) -> CallError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let clean = |code: &str| {
        let code = code.split(':').next().unwrap_or(code);
        code.rsplit('#').next().unwrap_or(code).trim().to_string()
    };
    let code = error_type
        .map(clean)
        .filter(|c| !c.is_empty())
        .or_else(|| {
            ["Code", "code", "__type"]
                .iter()
                .find_map(|field| json[field].as_str().map(clean))
        })
        .unwrap_or_else(|| format!("HTTP{status}"));
    let message = ["Message", "message"]
        .iter()
        .find_map(|field| json[field].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("HTTP {status}"));
    CallError::new(Some(&code), one_line(&message))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Throttling and server-side failures; the SDK's standard retry classes.
fn is_retryable(status: u16, code: Option<&str>) -> bool {
    status == 429
        || status >= 500
        || matches!(
            code,
            Some(
                "LimitExceededException"
                    | "TooManyRequestsException"
                    | "ThrottlingException"
                    | "Throttling"
                    | "ThrottledException"
                    | "RequestLimitExceeded"
                    | "InternalException"
                    | "ServiceUnavailable"
            )
        )
}

/// Full jitter: a random delay up to 100 ms × 2^(attempt−1), capped at 20 s.
fn backoff(attempt: u32) -> Duration {
    let ceiling = (0.1 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(20.0);
    Duration::from_secs_f64(ceiling * fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_come_from_the_header_or_the_body() {
        let err = error_of(
            429,
            Some("LimitExceededException:http://internal.amazon.com/coral/"),
            br#"{"Message":"Rate exceeded"}"#,
        );
        assert_eq!(err.code.as_deref(), Some("LimitExceededException"));
        assert_eq!(err.message, "Rate exceeded");
        let err = error_of(
            403,
            None,
            br#"{"__type":"com.amazonaws#AccessDeniedException","message":"not\nallowed"}"#,
        );
        assert_eq!(err.code.as_deref(), Some("AccessDeniedException"));
        assert_eq!(err.message, "not allowed");
        let err = error_of(502, None, b"<html>bad gateway</html>");
        assert_eq!(err.code.as_deref(), Some("HTTP502"));
    }

    #[test]
    fn throttling_and_server_errors_are_retried() {
        assert!(is_retryable(429, None));
        assert!(is_retryable(500, Some("InternalException")));
        assert!(is_retryable(400, Some("ThrottlingException")));
        assert!(!is_retryable(403, Some("AccessDeniedException")));
        assert!(!is_retryable(400, Some("InvalidInputException")));
    }

    #[test]
    fn backoff_is_capped() {
        for attempt in 1..30 {
            assert!(backoff(attempt) <= Duration::from_secs(20));
        }
        assert!(backoff(1) <= Duration::from_millis(100));
    }

    #[test]
    fn requests_are_signed_for_the_region() {
        let identity: Identity =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test")
                .into();
        let request = signed_request(
            &identity,
            "eu-west-1",
            "https://securityhub.eu-west-1.amazonaws.com/findings/import",
            br#"{"Findings":[]}"#,
        )
        .expect("signed");
        assert_eq!(request.method(), "POST");
        let auth = request.headers().get("authorization").expect("signed");
        assert!(
            auth.contains("Credential=AKIDEXAMPLE/")
                && auth.contains("/eu-west-1/securityhub/aws4_request"),
            "{auth}"
        );
        assert!(request.headers().get("x-amz-date").is_some());
    }

    #[test]
    fn public_endpoints_by_partition() {
        assert_eq!(dns_suffix("us-east-1"), "amazonaws.com");
        assert_eq!(dns_suffix("cn-north-1"), "amazonaws.com.cn");
    }
}
