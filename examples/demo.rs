//! Seeds the demo organization into a running local AWS emulator: `scripts/demo.sh` runs it.
//!
//! Usage: `cargo run --example demo -- ENDPOINT_URL`

#[path = "../tests/support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
    let Some(endpoint) = std::env::args().nth(1) else {
        eprintln!("usage: demo ENDPOINT_URL   (scripts/demo.sh starts the emulator and runs this)");
        std::process::exit(2);
    };
    let org = support::demo::seed_demo(&endpoint).await;
    eprintln!(
        "demo: seeded organization {} (management {}, members {}) with {} keys in {}",
        org.id,
        org.management,
        org.members().join(", "),
        support::demo::KEYS,
        support::demo::REGIONS.join(", ")
    );
}
