//! Large-inventory benchmark input; `scripts/bench-inventory.sh` runs it (a benchmark, not a test).
//!
//! ```text
//! bench_inventory --out DIR [--keys 100000] [--accounts 200] [--regions 17] [--declared 10000]
//! bench_inventory --parse SCAN.json value|typed|reader
//! ```
//!
//! Writes `scan.json`, `config.yaml` and `spec.yaml` into DIR: the synthetic inventory of
//! `tests/support/inventory.rs` (which the SARIF split test generates too), `--keys` keys over
//! accounts × regions, `--declared` of them declared in the spec.

// The pieces of tests/support the generator needs (all of it would link the AWS SDK clients the
// tests seed with).
#[path = "../tests/support/bench.rs"]
#[allow(dead_code)]
mod bench;
#[path = "../tests/support/inventory.rs"]
mod inventory;

use std::path::PathBuf;

use bench::{REGIONS, flags};
use inventory::{Args, generate};
use kms_audit::model::Report;

fn usage(problem: &str) -> ! {
    eprintln!(
        "bench_inventory: {problem}\nusage: bench_inventory --out DIR [--keys N] [--accounts N] \
         [--regions N (max 17)] [--declared N]"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        out: PathBuf::new(),
        keys: 100_000,
        accounts: 200,
        regions: 17,
        declared: 10_000,
    };
    for flag in flags(std::env::args().skip(1), usage) {
        match flag.name.as_str() {
            "--out" => args.out = PathBuf::from(&flag.value),
            "--keys" => args.keys = flag.number(),
            "--accounts" => args.accounts = flag.number::<usize>().max(1),
            "--regions" => args.regions = flag.number::<usize>().clamp(1, REGIONS.len()),
            "--declared" => args.declared = flag.number(),
            _ => flag.unknown(),
        }
    }
    if args.out.as_os_str().is_empty() {
        usage("--out is required");
    }
    args
}

/// `bench_inventory --parse FILE value|typed|reader`: how reading a saved report costs in time
/// and peak memory: the whole text through a `serde_json::Value` first (as `kms-audit report`
/// used to), the whole text straight into the typed `Report`, or as `kms-audit report` reads it
/// now (typed, from a buffered reader, never the whole text). Evidence for the large-inventory
/// findings in the README.
fn parse_experiment(file: &str, via: &str) {
    let started = std::time::Instant::now();
    let text = || std::fs::read_to_string(file).expect("read the report");
    let report: Report = match via {
        "value" => {
            let value: serde_json::Value = serde_json::from_str(&text()).expect("JSON");
            serde_json::from_value(value).expect("a report")
        }
        "typed" => serde_json::from_str(&text()).expect("a report"),
        "reader" => kms_audit::model::saved_report::read_report(std::path::Path::new(file))
            .unwrap_or_else(|err| usage(&err.to_string())),
        other => usage(&format!(
            "--parse: unknown way {other} (value, typed or reader)"
        )),
    };
    let seconds = started.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?")
        .to_string();
    println!(
        "parse via {via}: {} keys in {seconds:.2} s, peak {peak}",
        report.inventory.keys.len()
    );
}

fn main() {
    let raw: Vec<String> = std::env::args().collect();
    if raw.len() == 4 && raw[1] == "--parse" {
        return parse_experiment(&raw[2], &raw[3]);
    }
    generate(&parse_args());
}
