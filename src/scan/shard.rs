//! `scan --shard K/N`: a deterministic slice of the selected accounts, so N workers (a Kubernetes
//! Indexed Job, an AWS Batch array job) can each scan part of an organization, and
//! `kms-audit merge` can join their reports.
//!
//! The rule: account `A` belongs to shard `1 + (h mod N)`, where `h` is the first 8 bytes of
//! SHA-256 of the 12-digit account id (as ASCII), read as a big-endian integer. It depends only
//! on the account id and N, so
//! - every account is in exactly one shard, whatever the order or source of the account list;
//! - adding or removing an account never moves another one (an organization that grows between
//!   two shards' listings cannot make an account scanned twice);
//! - shards are balanced on average (a uniform hash): with `a` accounts per shard, sizes vary by
//!   about `√a`; a shard may be empty when there are few accounts per shard.
//!
//! The same in Python, to see where an account goes:
//! `1 + int.from_bytes(hashlib.sha256(b"123456789012").digest()[:8], "big") % N`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// `K/N`: the K-th of N shards, 1 ≤ K ≤ N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 1.
    pub index: u32,
    /// N.
    pub count: u32,
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("N must be at least 1".to_string());
        }
        if index == 0 || index > count {
            return Err(format!("K must be between 1 and N (got {index}/{count})"));
        }
        Ok(Shard { index, count })
    }

    /// Whether `account` belongs to this shard.
    pub fn contains(&self, account: &str) -> bool {
        shard_of(account, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N`, e.g. `2/8`.
    fn from_str(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not K/N (e.g. 2/8: the second of eight shards)"))?;
        let number = |part: &str, name: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("'{text}' is not K/N: {name} '{part}' is not a whole number"))
        };
        Shard::new(number(k, "K")?, number(n, "N")?)
    }
}

/// The shard of `scan --shards N --shard-index-env VAR`: `value` is VAR's content, a 0-based
/// index as Kubernetes' `JOB_COMPLETION_INDEX` gives it, so the shard is K = value + 1 of N.
/// `None`: VAR is not set. Errors are one line naming VAR.
pub fn from_env_index(var: &str, value: Option<&str>, count: u32) -> Result<Shard, String> {
    let range = format!("the 0-based shard index, 0 to {}", count.saturating_sub(1));
    let value = value.ok_or_else(|| {
        format!("--shard-index-env {var}: the environment variable {var} is not set ({range})")
    })?;
    let index = value.trim().parse::<u32>().map_err(|_| {
        format!("--shard-index-env {var}: {var}='{value}' is not a whole number ({range})")
    })?;
    if index >= count {
        return Err(format!(
            "--shard-index-env {var}: {var}={index} is not below --shards {count} ({range})"
        ));
    }
    Shard::new(index + 1, count)
}

/// The shard (1..=count) `account` belongs to.
pub fn shard_of(account: &str, count: u32) -> u32 {
    let digest = Sha256::digest(account.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let hash = u64::from_be_bytes(head);
    // `count` ≥ 1 for every `Shard`; treat 0 as one shard rather than divide by zero.
    1 + (hash % u64::from(count.max(1))) as u32
}

/// The items of `accounts` that belong to `shard`, in their order.
pub fn select<T>(accounts: Vec<T>, shard: Shard, id: impl Fn(&T) -> &str) -> Vec<T> {
    accounts
        .into_iter()
        .filter(|account| shard.contains(id(account)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Synthetic 12-digit account ids, spread like real ones.
    fn accounts(n: u64) -> Vec<String> {
        (0..n)
            .map(|i| format!("{:012}", 100_000_000_000 + i * 7_919_003 % 900_000_000_000))
            .collect()
    }

    #[test]
    fn parses_k_of_n_and_rejects_the_rest() {
        assert_eq!("2/8".parse(), Ok(Shard { index: 2, count: 8 }));
        assert_eq!("1/1".parse(), Ok(Shard { index: 1, count: 1 }));
        assert_eq!(" 3 / 3 ".trim().parse::<Shard>().map(|s| s.index), Ok(3));
        for (bad, needle) in [
            ("0/3", "between 1 and N"),
            ("4/3", "between 1 and N (got 4/3)"),
            ("1/0", "N must be at least 1"),
            ("3", "is not K/N"),
            ("a/3", "K 'a' is not a whole number"),
            ("1/-3", "N '-3' is not a whole number"),
            ("", "is not K/N"),
        ] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
        assert_eq!(Shard { index: 2, count: 8 }.to_string(), "2/8");
    }

    #[test]
    fn an_index_from_the_environment_is_0_based() {
        let var = "JOB_COMPLETION_INDEX";
        assert_eq!(
            from_env_index(var, Some("0"), 3),
            Ok(Shard { index: 1, count: 3 })
        );
        assert_eq!(
            from_env_index(var, Some("2"), 3),
            Ok(Shard { index: 3, count: 3 })
        );
        assert_eq!(
            from_env_index(var, Some(" 1\n"), 3),
            Ok(Shard { index: 2, count: 3 })
        );
        for (value, needle) in [
            (
                None,
                "--shard-index-env JOB_COMPLETION_INDEX: the environment variable \
                 JOB_COMPLETION_INDEX is not set (the 0-based shard index, 0 to 2)",
            ),
            (
                Some("one"),
                "--shard-index-env JOB_COMPLETION_INDEX: JOB_COMPLETION_INDEX='one' is not a \
                 whole number (the 0-based shard index, 0 to 2)",
            ),
            (
                Some("-1"),
                "JOB_COMPLETION_INDEX='-1' is not a whole number",
            ),
            (Some(""), "JOB_COMPLETION_INDEX='' is not a whole number"),
            (
                Some("3"),
                "--shard-index-env JOB_COMPLETION_INDEX: JOB_COMPLETION_INDEX=3 is not below \
                 --shards 3 (the 0-based shard index, 0 to 2)",
            ),
        ] {
            let err = from_env_index(var, value, 3).unwrap_err();
            assert!(err.contains(needle), "{value:?}: {err}");
        }
    }

    #[test]
    fn the_rule_is_pinned() {
        // Shards written by one kms-audit version are merged by another: the rule never changes.
        let expected = [
            ("111111111111", 3, 2),
            ("222222222222", 3, 3),
            ("666666666666", 3, 1),
            ("123456789012", 3, 2),
            ("123456789012", 8, 3),
            ("123456789012", 1, 1),
        ];
        for (account, count, shard) in expected {
            assert_eq!(shard_of(account, count), shard, "{account} of {count}");
        }
    }

    #[test]
    fn every_account_is_in_exactly_one_shard() {
        let all = accounts(500);
        for count in 1..=9 {
            let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
            for index in 1..=count {
                let shard = Shard::new(index, count).expect("shard");
                for account in select(all.clone(), shard, |a| a.as_str()) {
                    let account = all.iter().find(|a| **a == account).expect("known");
                    assert!(
                        seen.insert(account, index).is_none(),
                        "{account} is in two shards of {count}"
                    );
                }
            }
            assert_eq!(
                seen.len(),
                all.len(),
                "every account has a shard of {count}"
            );
        }
    }

    #[test]
    fn shards_are_stable_whatever_the_order_and_when_accounts_are_added() {
        let shard = Shard::new(2, 5).expect("shard");
        let all = accounts(200);
        let mine = select(all.clone(), shard, |a| a.as_str());
        let mut reversed = all.clone();
        reversed.reverse();
        let mut mine_reversed = select(reversed, shard, |a| a.as_str());
        mine_reversed.reverse();
        assert_eq!(mine, mine_reversed, "order does not matter");
        // Twice as many accounts: the first 200 keep their shards.
        let grown = select(accounts(400), shard, |a| a.as_str());
        let kept: Vec<&String> = grown.iter().filter(|a| all.contains(a)).collect();
        assert_eq!(kept, mine.iter().collect::<Vec<_>>());
    }

    #[test]
    fn shards_are_balanced() {
        for (total, count) in [(1000u64, 4u32), (1000, 10), (5000, 16), (300, 3)] {
            let all = accounts(total);
            let mean = total as f64 / f64::from(count);
            for index in 1..=count {
                let size = select(all.clone(), Shard::new(index, count).expect("shard"), |a| {
                    a.as_str()
                })
                .len() as f64;
                // A uniform hash: within about 3 standard deviations (√mean) of the mean.
                let slack = 3.0 * mean.sqrt();
                assert!(
                    (size - mean).abs() <= slack,
                    "shard {index}/{count} of {total}: {size} accounts, mean {mean}"
                );
            }
        }
        // Real account ids (random 12 digits) too.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let random: Vec<String> = (0..2000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{:012}", state % 1_000_000_000_000)
            })
            .collect();
        for index in 1..=8 {
            let size = select(random.clone(), Shard::new(index, 8).expect("shard"), |a| {
                a.as_str()
            })
            .len();
            assert!((200..=300).contains(&size), "shard {index}/8: {size}");
        }
    }
}
