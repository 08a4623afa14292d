//! The table report: what a security engineer reads at a terminal, 80 columns wide.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::model::{KeyRecord, Report, TargetStatus};

const WIDTH: u16 = 80;

pub fn render(report: &Report, _options: super::RenderOptions) -> String {
    let summary = &report.summary;
    let scanned = report
        .targets
        .iter()
        .filter(|t| t.status == TargetStatus::Scanned)
        .count();
    let skipped = report
        .targets
        .iter()
        .filter(|t| t.status == TargetStatus::Skipped)
        .count();
    let mut out = format!(
        "kms-audit {}: {} keys in {} account(s), {} region(s); {} of {} targets scanned, {} skipped, {} coverage gap(s); {} ms\n",
        report.tool.version,
        summary.keys,
        summary.accounts,
        summary.regions,
        scanned,
        report.targets.len(),
        skipped,
        summary.gaps,
        summary.duration_ms
    );

    if !report.inventory.keys.is_empty() {
        let mut keys = new_table(&[
            "Account", "Region", "Key", "State", "Spec", "Rotation", "MRK",
        ]);
        for key in &report.inventory.keys {
            keys.add_row(vec![
                key.account.clone(),
                key.region.clone(),
                key.display_name().to_string(),
                state(key),
                field(&key.key_spec),
                rotation(key),
                multi_region(key),
            ]);
        }
        out.push('\n');
        out.push_str(&keys.to_string());
        out.push('\n');
    }

    if !report.coverage_gaps.is_empty() {
        let mut gaps = new_table(&["Account", "Region", "Key", "Operation", "Reason"]);
        for gap in &report.coverage_gaps {
            gaps.add_row(vec![
                gap.account.clone(),
                gap.region.clone().unwrap_or_else(|| "-".into()),
                gap.key_arn
                    .as_deref()
                    .and_then(|arn| arn.rsplit('/').next())
                    .unwrap_or("-")
                    .to_string(),
                gap.operation.clone(),
                gap.reason.clone(),
            ]);
        }
        out.push_str("\nCoverage gaps (these were NOT audited):\n");
        out.push_str(&gaps.to_string());
        out.push('\n');
    }
    out
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH)
        .set_header(header.to_vec());
    table
}

fn field(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "?".to_string())
}

fn state(key: &KeyRecord) -> String {
    let mut state = field(&key.key_state);
    if key.key_manager.as_deref() == Some("AWS") {
        state.push_str(" (AWS)");
    }
    state
}

fn rotation(key: &KeyRecord) -> String {
    match &key.rotation {
        Some(r) if r.enabled => match r.period_days {
            Some(days) => format!("{days}d"),
            None => "on".to_string(),
        },
        Some(_) => "off".to_string(),
        None if key.unknown.iter().any(|f| f == "rotation") => "?".to_string(),
        None => "n/a".to_string(),
    }
}

fn multi_region(key: &KeyRecord) -> String {
    match &key.multi_region {
        Some(mrk) => match mrk.key_type {
            crate::model::MultiRegionKeyType::Primary => "primary".to_string(),
            crate::model::MultiRegionKeyType::Replica => "replica".to_string(),
        },
        None => "-".to_string(),
    }
}
