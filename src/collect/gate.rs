//! Bounded concurrency: one global limit on in-flight requests, one per account×region.
//!
//! The global limit protects the machine and the network; the per-target limit protects each
//! account×region's KMS request quota, which the scanner shares with production traffic.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct Gate {
    global: Arc<Semaphore>,
    target: Arc<Semaphore>,
}

impl Gate {
    /// A gate for one target, sharing `global` with every other target.
    pub fn new(global: Arc<Semaphore>, per_target: usize) -> Self {
        Gate {
            global,
            target: Arc::new(Semaphore::new(per_target.max(1))),
        }
    }

    /// Builds and runs one request once both limits allow it. The target permit is taken first
    /// so a busy target never holds global permits while it waits for its own. The request is
    /// built only after the permits are granted: an SDK operation future is several KB, and
    /// thousands of keys wait here at once on a large scan.
    pub async fn run<F, Fut>(&self, request: F) -> Fut::Output
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let _target = self.target.acquire().await;
        let _global = self.global.acquire().await;
        request().await
    }
}
