//! Counts the requests kms-audit sends, by operation, where the SDK sends them.
//!
//! The counts go into the report's `summary.api_calls` so users and benchmarks can see the cost
//! of a scan (calls per key) and how close it came to the account's KMS request quotas.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Shared, cheap-to-clone tally of requests per `service:Operation` (every attempt counts:
/// a retried request uses quota twice).
#[derive(Debug, Clone, Default)]
pub struct ApiCallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl ApiCallCounter {
    pub fn record(&self, operation: String) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(operation).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Intercept for ApiCallCounter {
    fn name(&self) -> &'static str {
        "kms-audit-api-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.record(format!(
                "{}:{}",
                iam_prefix(metadata.service()),
                metadata.name()
            ));
        }
        Ok(())
    }
}

/// The SDK names services by their SDK id ("KMS", "STS"); IAM actions use a lowercase prefix.
fn iam_prefix(service: &str) -> String {
    match service {
        "Resource Groups Tagging API" => "tag".to_string(),
        _ => service.to_ascii_lowercase().replace(' ', ""),
    }
}
