//! Bounded load: one global limit on in-flight requests, one per account×region, and a pace per
//! account×region×operation.
//!
//! The global limit protects the machine and the network; the per-target limit and the pace
//! ([`super::pace`]) protect each account×region's KMS request quotas, which the scanner shares
//! with production traffic.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::pace::{Operation, Pacer};

#[derive(Debug, Clone)]
pub struct Gate {
    global: Arc<Semaphore>,
    target: Arc<Semaphore>,
    pacer: Arc<Pacer>,
}

impl Gate {
    /// A gate for one target, sharing `global` with every other target.
    pub fn new(global: Arc<Semaphore>, per_target: usize, pacer: Pacer) -> Self {
        Gate {
            global,
            target: Arc::new(Semaphore::new(per_target.max(1))),
            pacer: Arc::new(pacer),
        }
    }

    /// Builds and runs one `op` request once its pace and both limits allow it. The pace comes
    /// first, so a request waiting for its turn holds no permit another operation could use; the
    /// target permit next, so a busy target never holds global permits while it waits for its
    /// own. The request is built only after the permits are granted: an SDK operation future is
    /// several KB, and thousands of keys wait here at once on a large scan.
    pub async fn run<F, Fut>(&self, op: Operation, request: F) -> Fut::Output
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        self.pacer.wait(op).await;
        let _target = self.target.acquire().await;
        let _global = self.global.acquire().await;
        request().await
    }
}
