//! Pacing: a token bucket per account×region×operation, so that a scan never uses more than a set
//! share of each operation's request quota. KMS quotas are per account and region and shared with
//! production traffic: a scan that spends them all gets the account's own applications throttled.
//!
//! `--per-target-concurrency` bounds how many requests are in flight; this bounds how many are
//! sent per second, which is what the quotas count. Retries of a throttled request are paced by
//! the SDK's backoff instead.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The per-target operations kms-audit sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListKeys,
    ListAliases,
    DescribeKey,
    GetKeyPolicy,
    GetKeyRotationStatus,
    ListResourceTags,
    ListGrants,
    /// The Resource Groups Tagging API's tag listing.
    GetResources,
}

impl Operation {
    const ALL: [Operation; 8] = [
        Operation::ListKeys,
        Operation::ListAliases,
        Operation::DescribeKey,
        Operation::GetKeyPolicy,
        Operation::GetKeyRotationStatus,
        Operation::ListResourceTags,
        Operation::ListGrants,
        Operation::GetResources,
    ];

    /// The default request quota per account and region, in requests per second (KMS developer
    /// guide, "Request quotas", 2025). AWS publishes no per-operation figure for GetResources;
    /// 20 is a deliberately modest assumption.
    pub const fn default_quota(self) -> f64 {
        match self {
            Operation::ListKeys | Operation::ListAliases => 500.0,
            Operation::DescribeKey | Operation::ListResourceTags => 2000.0,
            Operation::GetKeyPolicy | Operation::GetKeyRotationStatus => 1000.0,
            Operation::ListGrants => 100.0,
            Operation::GetResources => 20.0,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    /// Requests per second.
    rate: f64,
    /// At most one second's worth may be sent at once.
    capacity: f64,
    /// Negative when requests are waiting for their turn.
    tokens: f64,
    last: Instant,
}

/// The buckets of one account×region.
#[derive(Debug)]
pub struct Pacer {
    buckets: Option<[Mutex<Bucket>; 8]>,
}

impl Pacer {
    /// Each operation paced at `share` of its default quota (0.5: half), per second.
    pub fn new(share: f64) -> Pacer {
        let now = Instant::now();
        Pacer {
            buckets: Some(Operation::ALL.map(|op| {
                let rate = (op.default_quota() * share).max(0.1);
                let capacity = rate.max(1.0);
                Mutex::new(Bucket {
                    rate,
                    capacity,
                    tokens: capacity,
                    last: now,
                })
            })),
        }
    }

    /// No pacing (recorded-response tests).
    pub fn unlimited() -> Pacer {
        Pacer { buckets: None }
    }

    /// Waits until one more `op` request fits in its rate. Callers are served in the order they
    /// ask: each takes the next slot, possibly in the future, and sleeps until then.
    pub async fn wait(&self, op: Operation) {
        let Some(buckets) = &self.buckets else {
            return;
        };
        let index = Operation::ALL.iter().position(|o| *o == op).unwrap_or(0);
        let delay = {
            let Ok(mut bucket) = buckets[index].lock() else {
                return;
            };
            let now = Instant::now();
            let elapsed = now.duration_since(bucket.last).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * bucket.rate).min(bucket.capacity);
            bucket.last = now;
            bucket.tokens -= 1.0;
            if bucket.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-bucket.tokens / bucket.rate)
            }
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_burst_are_spaced_at_the_rate() {
        // ListGrants at 5% of 100/s: 5 per second, a burst of 5.
        let pacer = Pacer::new(0.05);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait(Operation::ListGrants).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst goes at once");
        for _ in 0..10 {
            pacer.wait(Operation::ListGrants).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!(
            (1.99..=2.01).contains(&elapsed),
            "10 more at 5/s: {elapsed} s"
        );
        // Other operations have their own buckets.
        let before = Instant::now();
        pacer.wait(Operation::DescribeKey).await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_each_get_their_own_slot() {
        let pacer = std::sync::Arc::new(Pacer::new(0.05));
        let start = Instant::now();
        let tasks: Vec<_> = (0..15)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.wait(Operation::ListGrants).await;
                    Instant::now()
                })
            })
            .collect();
        let mut done = Vec::new();
        for task in tasks {
            done.push(
                task.await
                    .expect("task")
                    .duration_since(start)
                    .as_secs_f64(),
            );
        }
        done.sort_by(f64::total_cmp);
        assert!(
            done[4] < 0.01 && done[14] > 1.99 && done[14] < 2.01,
            "{done:?}"
        );
    }
}
