//! Emulator benchmark helper; `scripts/bench-emulator.sh` runs it (a benchmark, not a test).
//!
//! ```text
//! bench_emulator seed  ENDPOINT [--accounts 4] [--regions 3] [--keys 25] --manifest FILE
//! bench_emulator floor ENDPOINT --manifest FILE [--concurrency 32]
//! ```
//!
//! `seed` creates an AWS Organization (the test credentials' account is its management account)
//! with `--accounts - 1` member accounts, and in every account × region `--keys` keys: a fifth
//! AWS managed (`alias/aws/*`), the rest customer managed — symmetric (rotation on for every
//! other one), RSA signing and HMAC keys, with tags, aliases and some grants. It writes the
//! manifest (accounts, regions, every key and which calls apply to it).
//!
//! `floor` sends the request set a complete `kms-audit scan --org` of that manifest sends
//! (GetCallerIdentity, DescribeOrganization, ListAccounts, one AssumeRole per member account,
//! ListKeys and ListAliases per account × region, and per key DescribeKey, GetKeyPolicy and,
//! where they apply, ListGrants and GetKeyRotationStatus; one tag listing per region; each
//! account's IAM GetAccountAuthorizationDetails, as a scan without --no-iam sends) with no ordering
//! between them beyond credentials, as fast as the emulator answers: the emulator's floor. It
//! prints one JSON line: requests by operation, errors, seconds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_kms::types::{GrantOperation, KeySpec, KeyUsageType};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use support::bench::{AWS_SERVICES, flags};
use support::cli::{ACCESS_KEY, DEFAULT_ACCOUNT, SECRET_KEY};
use support::org::{create_member, create_organization, credentials_in, organizations, sts};
use support::seed::{self, NewKey};

const REGIONS: [&str; 6] = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
    "ap-northeast-1",
];
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    management: String,
    members: Vec<String>,
    regions: Vec<String>,
    keys: Vec<ManifestKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ManifestKey {
    account: String,
    region: String,
    arn: String,
    aws_managed: bool,
    /// GetKeyRotationStatus applies (customer managed, symmetric, AWS_KMS origin).
    rotation: bool,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "bench_emulator: {problem}\nusage: bench_emulator seed ENDPOINT [--accounts N] [--regions N] \
         [--keys N] --manifest FILE\n       bench_emulator floor ENDPOINT --manifest FILE [--concurrency N]"
    );
    std::process::exit(2);
}

struct Args {
    command: String,
    endpoint: String,
    accounts: usize,
    regions: usize,
    keys: usize,
    manifest: String,
    concurrency: usize,
}

fn parse_args() -> Args {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().unwrap_or_else(|| usage("no command"));
    let endpoint = raw.next().unwrap_or_else(|| usage("no endpoint"));
    let mut args = Args {
        command,
        endpoint,
        accounts: 4,
        regions: 3,
        keys: 25,
        manifest: String::new(),
        concurrency: 32,
    };
    for flag in flags(raw, usage) {
        match flag.name.as_str() {
            "--accounts" => args.accounts = flag.number::<usize>().max(1),
            "--regions" => args.regions = flag.number::<usize>().clamp(1, REGIONS.len()),
            "--keys" => args.keys = flag.number(),
            "--concurrency" => args.concurrency = flag.number::<usize>().max(1),
            "--manifest" => args.manifest = flag.value,
            _ => flag.unknown(),
        }
    }
    if args.manifest.is_empty() {
        usage("--manifest is required");
    }
    args
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    match args.command.as_str() {
        "seed" => seed_org(&args).await,
        "floor" => floor(&args).await,
        other => usage(&format!("unknown command {other}")),
    }
}

async fn seed_org(args: &Args) {
    let started = Instant::now();
    let orgs = organizations(&args.endpoint);
    create_organization(&orgs).await;
    let mut members = Vec::new();
    for i in 1..args.accounts {
        members.push(create_member(&orgs, &format!("bench-{i}")).await);
    }
    let regions: Vec<String> = REGIONS[..args.regions]
        .iter()
        .map(|r| r.to_string())
        .collect();
    let sts = sts(&args.endpoint);
    let mut targets = Vec::new();
    for account in std::iter::once(DEFAULT_ACCOUNT.to_string()).chain(members.iter().cloned()) {
        let (key, secret, token) = credentials_in(&sts, &account).await;
        for region in &regions {
            let client = seed::kms_as(&args.endpoint, region, &key, &secret, token.as_deref());
            for k in 0..args.keys {
                targets.push((account.clone(), region.clone(), client.clone(), k));
            }
        }
    }
    let aws_per_target = args.keys / 5;
    let keys: Vec<ManifestKey> = futures::stream::iter(targets)
        .map(|(account, region, client, k)| async move {
            seed_key(&client, &account, &region, k, aws_per_target).await
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let manifest = Manifest {
        management: DEFAULT_ACCOUNT.to_string(),
        members,
        regions,
        keys,
    };
    std::fs::write(
        &args.manifest,
        serde_json::to_string_pretty(&manifest).expect("manifest JSON"),
    )
    .expect("write the manifest");
    eprintln!(
        "bench_emulator: seeded {} accounts x {} regions, {} keys ({} AWS managed) in {:.1} s",
        manifest.members.len() + 1,
        manifest.regions.len(),
        manifest.keys.len(),
        manifest.keys.iter().filter(|k| k.aws_managed).count(),
        started.elapsed().as_secs_f64()
    );
}

async fn seed_key(
    client: &aws_sdk_kms::Client,
    account: &str,
    region: &str,
    k: usize,
    aws_per_target: usize,
) -> ManifestKey {
    if k < aws_per_target {
        let meta = seed::aws_managed_key(
            client,
            &format!("alias/aws/{}", AWS_SERVICES[k % AWS_SERVICES.len()]),
        )
        .await;
        return ManifestKey {
            account: account.to_string(),
            region: region.to_string(),
            arn: meta.arn.expect("ARN"),
            aws_managed: true,
            rotation: false,
        };
    }
    let j = k - aws_per_target;
    let team = format!("team-{}", j % 4);
    let tags = [("team", team.as_str()), ("env", "bench")];
    let (spec, usage) = match j % 5 {
        3 => (Some(KeySpec::Rsa2048), Some(KeyUsageType::SignVerify)),
        4 => (
            Some(KeySpec::Hmac256),
            Some(KeyUsageType::GenerateVerifyMac),
        ),
        _ => (None, None),
    };
    let symmetric = spec.is_none();
    let description = format!("bench key {k}");
    let meta = seed::create_key(
        client,
        NewKey {
            spec,
            usage,
            description: Some(&description),
            tags: &tags,
            policy: Some(seed::policy(account, &[])),
            ..NewKey::default()
        },
    )
    .await;
    let key_id = meta.key_id().to_string();
    if j % 7 != 3 {
        seed::alias(client, &key_id, &format!("alias/bench-{k}")).await;
    }
    if symmetric && j.is_multiple_of(2) {
        seed::enable_rotation(client, &key_id, None).await;
    }
    if j.is_multiple_of(4) {
        seed::grant(
            client,
            &key_id,
            &format!("arn:aws:iam::{account}:role/bench-app"),
            &[GrantOperation::Decrypt, GrantOperation::Encrypt],
        )
        .await;
    }
    ManifestKey {
        account: account.to_string(),
        region: region.to_string(),
        arn: meta.arn.expect("ARN"),
        aws_managed: false,
        rotation: symmetric,
    }
}

/// One request of the floor's request set.
#[derive(Debug, Clone)]
enum Call {
    ListKeys(usize),
    ListAliases(usize),
    DescribeKey(usize, String),
    GetKeyPolicy(usize, String),
    GetResources(usize),
    ListGrants(usize, String),
    GetKeyRotationStatus(usize, String),
}

impl Call {
    fn name(&self) -> &'static str {
        match self {
            Call::ListKeys(_) => "kms:ListKeys",
            Call::ListAliases(_) => "kms:ListAliases",
            Call::DescribeKey(..) => "kms:DescribeKey",
            Call::GetKeyPolicy(..) => "kms:GetKeyPolicy",
            Call::GetResources(_) => "tag:GetResources",
            Call::ListGrants(..) => "kms:ListGrants",
            Call::GetKeyRotationStatus(..) => "kms:GetKeyRotationStatus",
        }
    }

    /// Sends it; returns how many requests that took (pages) or the error.
    async fn send(
        &self,
        clients: &[aws_sdk_kms::Client],
        tagging: &[aws_sdk_resourcegroupstagging::Client],
    ) -> Result<u64, String> {
        let err = |e: &dyn std::fmt::Debug| format!("{}: {e:?}", self.name());
        match self {
            Call::ListKeys(t) => {
                let mut marker = None;
                let mut pages = 0;
                loop {
                    let out = clients[*t]
                        .list_keys()
                        .limit(1000)
                        .set_marker(marker)
                        .send()
                        .await
                        .map_err(|e| err(&e))?;
                    pages += 1;
                    marker = out.next_marker().map(str::to_string);
                    if !out.truncated() {
                        return Ok(pages);
                    }
                }
            }
            Call::ListAliases(t) => {
                let mut marker = None;
                let mut pages = 0;
                loop {
                    let out = clients[*t]
                        .list_aliases()
                        .limit(100)
                        .set_marker(marker)
                        .send()
                        .await
                        .map_err(|e| err(&e))?;
                    pages += 1;
                    marker = out.next_marker().map(str::to_string);
                    if !out.truncated() {
                        return Ok(pages);
                    }
                }
            }
            Call::DescribeKey(t, arn) => clients[*t]
                .describe_key()
                .key_id(arn)
                .send()
                .await
                .map(|_| 1)
                .map_err(|e| err(&e)),
            Call::GetKeyPolicy(t, arn) => clients[*t]
                .get_key_policy()
                .key_id(arn)
                .policy_name("default")
                .send()
                .await
                .map(|_| 1)
                .map_err(|e| err(&e)),
            Call::GetResources(t) => {
                let mut token: Option<String> = None;
                let mut pages = 0;
                loop {
                    let out = tagging[*t]
                        .get_resources()
                        .resource_type_filters("kms:key")
                        .resources_per_page(100)
                        .set_pagination_token(token)
                        .send()
                        .await
                        .map_err(|e| err(&e))?;
                    pages += 1;
                    match out.pagination_token().filter(|t| !t.is_empty()) {
                        Some(next) => token = Some(next.to_string()),
                        None => return Ok(pages),
                    }
                }
            }
            Call::ListGrants(t, arn) => clients[*t]
                .list_grants()
                .key_id(arn)
                .limit(100)
                .send()
                .await
                .map(|_| 1)
                .map_err(|e| err(&e)),
            Call::GetKeyRotationStatus(t, arn) => clients[*t]
                .get_key_rotation_status()
                .key_id(arn)
                .send()
                .await
                .map(|_| 1)
                .map_err(|e| err(&e)),
        }
    }
}

async fn floor(args: &Args) {
    let text = std::fs::read_to_string(&args.manifest).expect("read the manifest");
    let manifest: Manifest = serde_json::from_str(&text).expect("manifest JSON");
    let started = Instant::now();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut errors: Vec<String> = Vec::new();

    // Targets and credentials: what the scan does before its first KMS call, sent concurrently.
    let sts = sts(&args.endpoint);
    let orgs = organizations(&args.endpoint);
    let identity = sts.get_caller_identity().send();
    let organization = orgs.describe_organization().send();
    let accounts = async {
        let mut pages = 0u64;
        let mut token = None;
        loop {
            let page = orgs
                .list_accounts()
                .set_next_token(token)
                .send()
                .await
                .expect("ListAccounts");
            pages += 1;
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return pages;
            }
        }
    };
    let assumed = futures::stream::iter(manifest.members.iter())
        .map(|account| {
            let sts = sts.clone();
            async move { (account.clone(), credentials_in(&sts, account).await) }
        })
        .buffer_unordered(args.concurrency)
        .collect::<Vec<_>>();
    let (identity, organization, list_pages, assumed) =
        tokio::join!(identity, organization, accounts, assumed);
    identity.expect("GetCallerIdentity");
    organization.expect("DescribeOrganization");
    counts.insert("sts:GetCallerIdentity", 1);
    counts.insert("organizations:DescribeOrganization", 1);
    counts.insert("organizations:ListAccounts", list_pages);
    counts.insert("sts:AssumeRole", assumed.len() as u64);
    let mut credentials: BTreeMap<String, (String, String, Option<String>)> =
        assumed.into_iter().collect();
    credentials.insert(
        manifest.management.clone(),
        (ACCESS_KEY.to_string(), SECRET_KEY.to_string(), None),
    );

    // One KMS client per account × region, then every KMS request of the scan at once.
    let mut clients = Vec::new();
    let mut tagging = Vec::new();
    let mut target_index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut calls = Vec::new();
    for (account, (key, secret, token)) in &credentials {
        for region in &manifest.regions {
            let t = clients.len();
            clients.push(seed::kms_as(
                &args.endpoint,
                region,
                key,
                secret,
                token.as_deref(),
            ));
            tagging.push(seed::tagging_as(
                &args.endpoint,
                region,
                key,
                secret,
                token.as_deref(),
            ));
            target_index.insert((account.clone(), region.clone()), t);
            calls.push(Call::ListKeys(t));
            calls.push(Call::ListAliases(t));
            calls.push(Call::GetResources(t));
        }
    }
    for key in &manifest.keys {
        let t = target_index[&(key.account.clone(), key.region.clone())];
        calls.push(Call::DescribeKey(t, key.arn.clone()));
        calls.push(Call::GetKeyPolicy(t, key.arn.clone()));
        if !key.aws_managed {
            calls.push(Call::ListGrants(t, key.arn.clone()));
        }
        if key.rotation {
            calls.push(Call::GetKeyRotationStatus(t, key.arn.clone()));
        }
    }
    let clients = Arc::new(clients);
    let tagging = Arc::new(tagging);
    let kms_results = futures::stream::iter(calls)
        .map(|call| {
            let clients = clients.clone();
            let tagging = tagging.clone();
            async move { (call.name(), call.send(&clients, &tagging).await) }
        })
        .buffer_unordered(args.concurrency)
        .collect::<Vec<(&'static str, Result<u64, String>)>>();
    // Each account's IAM authorization details, once (the emulator answers in one page), beside
    // the KMS reads, as the scan reads them (unless it runs with --no-iam).
    let iam_reads = futures::future::join_all(credentials.values().map(|(key, secret, token)| {
        let iam = support::iam::Iam::new(&args.endpoint, key, secret, token.as_deref());
        async move {
            iam.call("GetAccountAuthorizationDetails", &[("MaxItems", "1000")])
                .await;
        }
    }));
    let (results, iam_done) = tokio::join!(kms_results, iam_reads);
    counts.insert("iam:GetAccountAuthorizationDetails", iam_done.len() as u64);
    let seconds = started.elapsed().as_secs_f64();
    for (name, result) in results {
        match result {
            Ok(n) => *counts.entry(name).or_default() += n,
            Err(e) => {
                *counts.entry(name).or_default() += 1;
                errors.push(e);
            }
        }
    }
    let requests: u64 = counts.values().sum();
    println!(
        "{}",
        serde_json::json!({
            "concurrency": args.concurrency,
            "requests": requests,
            "api_calls": counts,
            "errors": errors.len(),
            "first_errors": errors.iter().take(3).collect::<Vec<_>>(),
            "seconds": seconds,
            "requests_per_second": requests as f64 / seconds,
        })
    );
}
