//! The README demo keeps working: its organization seeds, and an org-wide scan reads all of it.

use crate::support;

use support::cli::json_report;
use support::demo::{KEYS, REGIONS, seed_demo};
use support::emulator::Emulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_organization_is_scanned_completely() {
    let emulator = Emulator::start();
    let org = seed_demo(&emulator.endpoint).await;
    let report = json_report(
        &emulator.endpoint,
        &["scan", "--org", "--regions", &REGIONS.join(",")],
    );
    assert_eq!(report["summary"]["keys"], KEYS);
    assert_eq!(report["summary"]["accounts"], 4);
    assert_eq!(report["summary"]["gaps"], 0);
    assert_eq!(report["organization_id"], org.id.as_str());
    // Every member account holds keys in the scan.
    for account in org.members() {
        assert!(
            report["inventory"]["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .any(|k| k["account"] == account),
            "no key of {account}"
        );
    }
}
