//! Exit codes: the contract a scheduled job acts on (DESIGN "Exit codes").

/// `0` clean, `1` findings at or above `--fail-on`, `2` invalid input or fatal error (nothing
/// scanned), `3` scan incomplete. 3 wins over 1: an audit that could not look everywhere must not
/// pass silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean = 0,
    Findings = 1,
    Invalid = 2,
    Incomplete = 3,
}

impl Outcome {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The outcome of a finished scan.
    pub fn of_scan(incomplete: bool, failing_findings: bool) -> Outcome {
        match (incomplete, failing_findings) {
            (true, _) => Outcome::Incomplete,
            (false, true) => Outcome::Findings,
            (false, false) => Outcome::Clean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn incomplete_wins_over_findings() {
        assert_eq!(Outcome::of_scan(true, true).code(), 3);
        assert_eq!(Outcome::of_scan(true, false).code(), 3);
        assert_eq!(Outcome::of_scan(false, true).code(), 1);
        assert_eq!(Outcome::of_scan(false, false).code(), 0);
    }
}
