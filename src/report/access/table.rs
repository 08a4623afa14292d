//! The table `kms-audit access KEY` prints: one section per action class, one row per
//! principal and path, then what the analysis could not read and what it never evaluates.

use std::io::Write;

use comfy_table::Table;

use crate::model::KeyRecord;
use crate::model::access::{AccessEntry, ActionClass, Certainty, KeyAccess};

/// Writes the access of one key as a table `width` columns wide.
pub fn render_key_table(
    key: &KeyRecord,
    access: &KeyAccess,
    not_evaluated: &[String],
    width: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut text = String::new();
    let name = key.aliases.first().unwrap_or(&key.key_id);
    text.push_str(&format!(
        "Effective access to {} ({})\naccount {} · region {} · {}\n",
        printable(name),
        printable(&access.key_arn),
        printable(&access.account),
        printable(&access.region),
        match key.key_manager.as_deref() {
            Some("AWS") => "AWS managed key",
            Some("CUSTOMER") => "customer managed key",
            _ => "key manager unknown",
        }
    ));
    for class in ActionClass::ALL {
        let entries: Vec<&AccessEntry> = access.of_class(class).collect();
        text.push_str(&format!(
            "\n{} ({}): {}\n",
            class.as_str(),
            entries.len(),
            class_help(class)
        ));
        if entries.is_empty() {
            text.push_str("  nobody the analysis can see\n");
            continue;
        }
        text.push_str(&entries_table(&entries, width).to_string());
        text.push('\n');
    }
    if !access.unknown.is_empty() {
        text.push_str("\nNot read (the lists above may be incomplete):\n");
        for unknown in &access.unknown {
            text.push_str(&format!("  - {}\n", printable(unknown)));
        }
    }
    if !not_evaluated.is_empty() {
        text.push_str("\nNever evaluated (an entry may still be blocked by these):\n");
        for item in not_evaluated {
            text.push_str(&format!("  - {}\n", printable(item)));
        }
    }
    out.write_all(text.as_bytes())
}

fn class_help(class: ActionClass) -> &'static str {
    match class {
        ActionClass::Use => "encrypt, decrypt, re-encrypt, generate data keys, sign, verify, MAC",
        ActionClass::Administer => "change the policy, state, rotation, deletion, aliases, tags",
        ActionClass::Delegate => "create grants",
    }
}

fn entries_table(entries: &[&AccessEntry], width: usize) -> Table {
    let mut table =
        crate::report::table::plain_table(width, vec!["Principal", "Through", "Conditions", "Can"]);
    for entry in entries {
        let conditions = if entry.conditions.is_empty() {
            "-".to_string()
        } else {
            entry
                .conditions
                .iter()
                .map(|c| printable(&c.describe()))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let can = match entry.certainty {
            Certainty::Yes => "yes".to_string(),
            Certainty::May => format!("may: {}", printable(&entry.reason)),
        };
        let actions = if entry.actions.len() == entry.class.actions().len() {
            format!("every {} action", entry.class.as_str())
        } else {
            entry.actions.join(", ")
        };
        table.add_row(vec![
            printable(&entry.principal.describe()),
            format!("{}\n{actions}", printable(&entry.path_label)),
            conditions,
            can,
        ]);
    }
    table
}

/// Text from AWS with control characters (terminal escapes among them) made visible.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn terminal_escapes_from_aws_are_made_visible() {
        assert_eq!(printable("a\x1b[2Jb\n"), "a\\u{1b}[2Jb\\u{a}");
        assert_eq!(printable("alias/app"), "alias/app");
    }
}
