//! The HTML report: one self-contained page (inline CSS, JS and SVG; no network, works from a
//! file:// URL) for people who would rather look than read (docs/html-report.md).
//!
//! The page is rendered client-side from the report's data, embedded once as JSON in a
//! `<script type="application/json">` block, so a 100,000-key scan is one file the browser
//! pages through instead of a million DOM nodes. Every `<`, `>` and `&` in that JSON is written
//! as a `\u` escape, so no text from AWS or the user (`</script>`, `<!--`) can end the block, and
//! the script only ever puts that text into the page with `textContent`, never as markup.
//!
//! To keep the file small the data is a compact projection of the report: enumerations are
//! indexes into a string table, a finding points at its key, and the key policies are embedded
//! up to a byte budget (the policies of keys with policy or grant findings first). The JSON
//! report remains the complete record.

use std::collections::HashMap;
use std::io::Write;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

mod access;

use super::compliance;
use crate::model::{BaselineState, Finding, KeyRecord, Report};

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Policy bytes embedded beyond those of keys with policy or grant findings: keeps the page of
/// a 100,000-key scan well under 60 MB (see the benchmark in docs/html-report.md).
const POLICY_BUDGET: usize = 8 * 1024 * 1024;

/// Writes the page.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")?;
    out.write_all(b"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")?;
    // No network: nothing may load from anywhere, and only the inline script and style run.
    out.write_all(
        b"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
          style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    )?;
    write!(
        out,
        "<title>kms-audit report · {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        escape_html(&report.started_at)
    )?;
    out.write_all(
        b"<noscript><p class=\"noscript\">This report is drawn by JavaScript, which is turned off. \
          The same data is in the JSON report.</p></noscript>\n<div id=\"app\"></div>\n",
    )?;
    out.write_all(b"<script type=\"application/json\" id=\"kms-audit-data\">")?;
    {
        let mut escaped = ScriptSafe(&mut *out);
        serde_json::to_writer(&mut escaped, &PageData::new(report))?;
    }
    out.write_all(b"</script>\n<script>\n")?;
    out.write_all(JS.as_bytes())?;
    out.write_all(b"</script>\n</body>\n</html>\n")
}

/// HTML text escaping, for the few values the page's markup holds outside the data block.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A writer that turns `<`, `>` and `&` into JSON `\u` escapes. Those bytes only occur inside
/// JSON strings (never in JSON syntax), so the output is the same JSON, and it cannot contain
/// `</script>` or `<!--`.
struct ScriptSafe<'a>(&'a mut dyn Write);

impl Write for ScriptSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut start = 0;
        for (i, b) in buf.iter().enumerate() {
            let escape: &[u8] = match b {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                b'&' => b"\\u0026",
                _ => continue,
            };
            self.0.write_all(&buf[start..i])?;
            self.0.write_all(escape)?;
            start = i + 1;
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Repeated short strings (key states, specs, origins...) stored once, referenced by index.
#[derive(Default)]
struct Strings<'a> {
    index: HashMap<&'a str, usize>,
    list: Vec<&'a str>,
}

impl<'a> Strings<'a> {
    fn of(&mut self, text: Option<&'a str>) -> i64 {
        let Some(text) = text else { return -1 };
        let next = self.list.len();
        let id = *self.index.entry(text).or_insert(next);
        if id == next {
            self.list.push(text);
        }
        id as i64
    }
}

/// Everything the page shows, borrowed from the report.
struct PageData<'a> {
    report: &'a Report,
    strings: Strings<'a>,
    /// Per key: its enumerations as string indexes (state, manager, spec, usage, origin).
    key_enums: Vec<[i64; 5]>,
    /// Per key: whether its policy is embedded.
    policy_embedded: Vec<bool>,
    key_index: HashMap<&'a str, usize>,
    compliance: compliance::ComplianceSummary,
}

impl<'a> PageData<'a> {
    fn new(report: &'a Report) -> PageData<'a> {
        let keys = &report.inventory.keys;
        let mut strings = Strings::default();
        let key_enums = keys
            .iter()
            .map(|k| {
                [
                    strings.of(k.key_state.as_deref()),
                    strings.of(k.key_manager.as_deref()),
                    strings.of(k.key_spec.as_deref()),
                    strings.of(k.key_usage.as_deref()),
                    strings.of(k.origin.as_deref()),
                ]
            })
            .collect();
        let key_index: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.arn.as_str(), i))
            .collect();
        // Policies: those a policy or grant finding points into first, then the rest in report
        // order while the budget lasts.
        let mut policy_embedded = vec![false; keys.len()];
        for finding in &report.findings {
            if points_into_policy(finding)
                && let Some(&i) = finding.key_arn.as_deref().and_then(|a| key_index.get(a))
            {
                policy_embedded[i] = true;
            }
        }
        let mut budget = POLICY_BUDGET;
        for (i, key) in keys.iter().enumerate() {
            let Some(policy) = &key.policy else { continue };
            if policy_embedded[i] {
                continue;
            }
            let size = policy.json().len();
            if size > budget {
                break;
            }
            budget -= size;
            policy_embedded[i] = true;
        }
        PageData {
            report,
            strings,
            key_enums,
            policy_embedded,
            key_index,
            compliance: compliance::summarize(report),
        }
    }
}

fn points_into_policy(finding: &Finding) -> bool {
    finding.check_id.starts_with("POL") || finding.check_id.starts_with("GRT")
}

impl Serialize for PageData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.report;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("tool", &r.tool)?;
        map.serialize_entry("started_at", &r.started_at)?;
        map.serialize_entry("finished_at", &r.finished_at)?;
        map.serialize_entry("organization_id", &r.organization_id)?;
        map.serialize_entry("shard", &r.shard)?;
        map.serialize_entry("incomplete", &r.is_incomplete())?;
        map.serialize_entry(
            "summary",
            &serde_json::json!({
                "keys": r.summary.keys,
                "findings": r.summary.findings,
                "accounts": r.summary.accounts,
                "regions": r.summary.regions,
                "gaps": r.summary.gaps,
                "duration_ms": r.summary.duration_ms,
            }),
        )?;
        map.serialize_entry("targets", &r.targets)?;
        map.serialize_entry("gaps", &r.coverage_gaps)?;
        let checks: Vec<serde_json::Value> = super::all_check_meta()
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "name": m.name, "severity": m.severity, "title": m.title,
                    "remediation": m.remediation, "frameworks": m.frameworks,
                })
            })
            .collect();
        map.serialize_entry("checks", &checks)?;
        map.serialize_entry("strings", &self.strings.list)?;
        map.serialize_entry("keys", &Keys(self))?;
        map.serialize_entry("findings", &Findings(self, &r.findings))?;
        map.serialize_entry("resolved", &Findings(self, &r.resolved))?;
        map.serialize_entry(
            "baseline",
            &(r.findings.iter().any(|f| f.baseline.is_some()) || !r.resolved.is_empty()),
        )?;
        map.serialize_entry(
            "policies_omitted",
            &r.inventory
                .keys
                .iter()
                .zip(&self.policy_embedded)
                .filter(|(k, embedded)| k.policy.is_some() && !**embedded)
                .count(),
        )?;
        map.serialize_entry("compliance", &self.compliance)?;
        map.serialize_entry("access", &access::AccessData::new(r))?;
        map.end()
    }
}

struct Keys<'p, 'a>(&'p PageData<'a>);

impl Serialize for Keys<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let data = self.0;
        let keys = &data.report.inventory.keys;
        let mut seq = s.serialize_seq(Some(keys.len()))?;
        for (i, key) in keys.iter().enumerate() {
            seq.serialize_element(&KeyRow {
                key,
                enums: data.key_enums[i],
                policy: data.policy_embedded[i],
            })?;
        }
        seq.end()
    }
}

/// One key: `[arn, aliases, state, manager, spec, usage, origin, description, created,
/// deletion, rotation, multi_region, tags, grants, policy, unknown, custom_key_store_id]`; the
/// five enumerations are indexes into `strings` (-1: unknown); `policy` is the document, `null`
/// when the key has none, or `0` when it was left out of the page.
struct KeyRow<'a> {
    key: &'a KeyRecord,
    enums: [i64; 5],
    policy: bool,
}

impl Serialize for KeyRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let k = self.key;
        let mut seq = s.serialize_seq(Some(17))?;
        seq.serialize_element(&k.arn)?;
        seq.serialize_element(&k.aliases)?;
        for e in self.enums {
            seq.serialize_element(&e)?;
        }
        seq.serialize_element(&k.description)?;
        seq.serialize_element(&k.creation_date)?;
        seq.serialize_element(&k.deletion_date)?;
        seq.serialize_element(
            &k.rotation
                .as_ref()
                .map(|r| (r.enabled, r.period_days, r.next_rotation_date.as_deref())),
        )?;
        seq.serialize_element(&k.multi_region)?;
        seq.serialize_element(&k.tags)?;
        seq.serialize_element(&k.grants)?;
        match (&k.policy, self.policy) {
            (Some(policy), true) => seq.serialize_element(policy)?,
            (Some(_), false) => seq.serialize_element(&0)?,
            (None, _) => seq.serialize_element(&())?,
        }
        seq.serialize_element(&k.unknown)?;
        seq.serialize_element(&k.custom_key_store_id)?;
        seq.end()
    }
}

struct Findings<'p, 'a>(&'p PageData<'a>, &'a [Finding]);

impl Serialize for Findings<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for finding in self.1 {
            seq.serialize_element(&FindingRow(self.0, finding))?;
        }
        seq.end()
    }
}

/// One finding: `[check, severity, key, account, region, label, message, baseline,
/// suppressed, spec, statements]`. `key` indexes `keys` (-1: a declared key with no live key,
/// or a key the inventory does not hold); `statements` lists the policy statements it is about
/// (indexes and Sids), for highlighting. `account`, `region` and `label` are `null` when they
/// are those of the key (its ARN's account and region; its first alias, else its key id),
/// which the page fills in: at 100,000 keys they would be megabytes of repeats.
struct FindingRow<'p, 'a>(&'p PageData<'a>, &'a Finding);

/// The finding's (account, region, label) as the page writes them: `None` where the key's row
/// gives the same.
fn finding_place<'a>(
    key: Option<&crate::model::KeyRecord>,
    f: &'a Finding,
) -> (Option<&'a str>, Option<&'a str>, Option<&'a str>) {
    let label = super::key_label(f);
    let Some(arn) = key.and_then(|k| crate::model::arn::Arn::parse(&k.arn).map(|a| (k, a))) else {
        return (Some(&f.account), Some(&f.region), Some(label));
    };
    let (key, arn) = arn;
    let key_label = key
        .aliases
        .first()
        .map(String::as_str)
        .or_else(|| arn.resource.strip_prefix("key/"));
    let differs = |own: &'a str, derived: Option<&str>| (derived != Some(own)).then_some(own);
    (
        differs(&f.account, Some(arn.account)),
        differs(&f.region, Some(arn.region)),
        differs(label, key_label),
    )
}

impl Serialize for FindingRow<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (data, f) = (self.0, self.1);
        let key = f
            .key_arn
            .as_deref()
            .and_then(|arn| data.key_index.get(arn))
            .map_or(-1, |&i| i as i64);
        let record = usize::try_from(key)
            .ok()
            .and_then(|i| data.report.inventory.keys.get(i));
        let (account, region, label) = finding_place(record, f);
        let mut seq = s.serialize_seq(Some(11))?;
        seq.serialize_element(&f.check_id)?;
        seq.serialize_element(&f.severity)?;
        seq.serialize_element(&key)?;
        seq.serialize_element(&account)?;
        seq.serialize_element(&region)?;
        seq.serialize_element(&label)?;
        seq.serialize_element(&f.message)?;
        seq.serialize_element(&f.baseline.map(|b| match b {
            BaselineState::New => "new",
            BaselineState::Existing => "existing",
        }))?;
        seq.serialize_element(
            &f.suppressed
                .as_ref()
                .map(|s| (s.reason.as_str(), s.expires.as_str())),
        )?;
        seq.serialize_element(&f.spec.as_ref().map(|s| format!("{}:{}", s.file, s.line)))?;
        seq.serialize_element(&statements(f))?;
        seq.end()
    }
}

/// The policy statements a finding's evidence names: `statement_index` and `sid`, at the top or
/// in `grants` (POL001, POL002). Parsed without caching, and only for policy and grant checks.
fn statements(f: &Finding) -> Vec<serde_json::Value> {
    if !points_into_policy(f) {
        return Vec::new();
    }
    let Ok(evidence) = serde_json::from_str::<serde_json::Value>(f.evidence.json()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut add = |v: &serde_json::Value| {
        for field in ["statement_index", "sid"] {
            let item = &v[field];
            if (item.is_u64() || item.is_string()) && !out.contains(item) {
                out.push(item.clone());
            }
        }
    };
    add(&evidence);
    if let Some(grants) = evidence["grants"].as_array() {
        grants.iter().for_each(&mut add);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        crate::model::saved_report::parse_report(
            "scan.json",
            include_str!("../../../tests/fixtures/reports/scan.json"),
        )
        .expect("fixture")
    }

    /// The JSON of the data block, unescaped by a JSON parser.
    fn data_block(page: &str) -> serde_json::Value {
        let start = page.find("id=\"kms-audit-data\">").expect("data block")
            + "id=\"kms-audit-data\">".len();
        let end = start + page[start..].find("</script>").expect("end");
        serde_json::from_str(&page[start..end]).expect("the data block is JSON")
    }

    #[test]
    fn text_from_aws_cannot_leave_the_data_block() {
        let mut report = fixture();
        let evil = "</script><script>alert(1)</script><!--\"><img src=x onerror=alert(2)>&amp;";
        report.inventory.keys[0].description = Some(evil.to_string());
        report.inventory.keys[0].tags.insert("owner", evil);
        report.findings[0].message = evil.to_string();
        let page = crate::report::render(&report, crate::report::Format::Html, Default::default());
        assert!(
            !page.contains("<img"),
            "markup from AWS is never in the page"
        );
        assert!(!page.contains("<!--\""));
        // The two script blocks of the page, nothing more.
        assert_eq!(page.matches("</script>").count(), 2);
        assert_eq!(page.matches("<script").count(), 2);
        let data = data_block(&page);
        assert_eq!(
            data["keys"][0][7], evil,
            "the text itself survives, as data"
        );
        assert_eq!(data["keys"][0][12]["owner"], evil);
        assert_eq!(data["findings"][0][6], evil);
    }

    #[test]
    fn the_page_is_self_contained() {
        let page =
            crate::report::render(&fixture(), crate::report::Format::Html, Default::default());
        let start = page.find("id=\"kms-audit-data\">").expect("data");
        let end = page.find("</script>").expect("end");
        // The SVG namespace is a name, not an address anything is loaded from.
        let outside_data = format!("{}{}", &page[..start], &page[end..])
            .replace("\"http://www.w3.org/2000/svg\"", "");
        for needle in [
            "http://",
            "https://",
            "src=",
            "@import",
            "url(",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!outside_data.contains(needle), "{needle}");
        }
    }

    #[test]
    fn findings_point_at_their_keys_and_statements() {
        let report = fixture();
        let page = crate::report::render(&report, crate::report::Format::Html, Default::default());
        let data = data_block(&page);
        let findings = data["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), report.findings.len());
        for (row, finding) in findings.iter().zip(&report.findings) {
            assert_eq!(row[0], finding.check_id.as_str());
            let key = row[2].as_i64().expect("index");
            if key >= 0 {
                assert_eq!(
                    data["keys"][key as usize][0].as_str(),
                    finding.key_arn.as_deref()
                );
            }
        }
        let pol001 = findings.iter().find(|f| f[0] == "POL001").expect("POL001");
        assert_eq!(pol001[10], serde_json::json!(["PublicDecrypt"]));
        assert_eq!(data["policies_omitted"], 0);
    }

    #[test]
    fn findings_leave_out_only_the_place_their_key_row_gives() {
        let report = fixture();
        let page = crate::report::render(&report, crate::report::Format::Html, Default::default());
        let data = data_block(&page);
        let findings = data["findings"].as_array().expect("findings");
        let mut left_out = 0;
        for (row, finding) in findings.iter().zip(&report.findings) {
            let key = row[2].as_i64().expect("index");
            let written = [&row[3], &row[4], &row[5]];
            let own = [
                finding.account.as_str(),
                finding.region.as_str(),
                crate::report::key_label(finding),
            ];
            if key < 0 {
                assert_eq!(written, own.map(serde_json::Value::from).each_ref());
                continue;
            }
            // What the page derives from the key row: the ARN's account and region, the first
            // alias or else the key id.
            let k = &data["keys"][key as usize];
            let arn = k[0].as_str().expect("arn");
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let label = k[1][0]
                .as_str()
                .unwrap_or_else(|| parts[5].trim_start_matches("key/"));
            for (value, (own, derived)) in written
                .iter()
                .zip(own.iter().zip([parts[4], parts[3], label]))
            {
                if value.is_null() {
                    left_out += 1;
                    assert_eq!(*own, derived, "left out only when the key row gives it");
                } else {
                    assert_eq!(value.as_str(), Some(*own));
                }
            }
        }
        assert!(
            left_out > 0,
            "the fixture's findings on keys leave their place out"
        );
    }

    #[test]
    fn access_rows_are_written_once_and_their_reasons_read_back_whole() {
        let mut report = fixture();
        report.access = Some(crate::analysis::access::access_report(&report, None));
        let page = crate::report::render(&report, crate::report::Format::Html, Default::default());
        let data = data_block(&page);
        let a = &data["access"];
        let strings = a["strings"].as_array().expect("strings");
        let s = |v: &serde_json::Value| strings[v.as_u64().expect("string index") as usize].clone();
        let rows = a["rows"].as_array().expect("rows");
        let distinct: std::collections::HashSet<String> =
            rows.iter().map(|r| r.to_string()).collect();
        assert_eq!(distinct.len(), rows.len(), "each row once");
        let access = report.access.as_ref().expect("access");
        let mut checked = 0;
        for (i, key) in access.keys.iter().enumerate() {
            let positions = a["keys"][i].as_array().expect("the key is embedded");
            assert_eq!(positions.len(), key.entries.len());
            for (at, entry) in positions.iter().zip(&key.entries) {
                let row = &rows[at.as_u64().expect("row") as usize];
                assert_eq!(s(&row[1]), entry.principal_label.as_str());
                assert_eq!(s(&row[2]), entry.path_label.as_str());
                if entry.certainty == crate::model::access::Certainty::May {
                    let parts = a["reasons"][row[5].as_u64().expect("reason") as usize]
                        .as_array()
                        .expect("parts")
                        .iter()
                        .map(|p| s(p).as_str().expect("part").to_string())
                        .collect::<Vec<_>>();
                    assert_eq!(parts.join("; "), entry.reason);
                    checked += 1;
                } else {
                    assert_eq!(row[5], -1);
                }
            }
        }
        assert!(checked > 0, "the fixture has `may` entries");
    }
}
