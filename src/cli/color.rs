//! `--color auto|always|never`: ANSI colour in the stdout table and the stderr log.
//!
//! `auto` colours a stream only when it is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>), so a job's log file or a pipe never gets escape codes; `always` and
//! `never` override both.

use std::sync::OnceLock;

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe or file.
    Always,
    /// Never colour.
    Never,
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Records the command line's choice, once, before anything is written.
pub fn set(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

/// Whether to colour a stream that is (or is not) a terminal.
pub fn enabled(is_terminal: bool) -> bool {
    decide(
        CHOICE.get().copied().unwrap_or_default(),
        is_terminal,
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    )
}

fn decide(choice: ColorChoice, is_terminal: bool, no_color: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_needs_a_terminal_and_no_no_color() {
        use ColorChoice::{Always, Auto, Never};
        assert!(decide(Auto, true, false));
        assert!(!decide(Auto, true, true));
        assert!(!decide(Auto, false, false));
        assert!(decide(Always, false, true));
        assert!(!decide(Never, true, false));
    }
}
