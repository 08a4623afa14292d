//! Progress of a scan on stderr: a live bar on a terminal, a plain line every so often in a log
//! (cron, CI, Kubernetes), nothing with `--quiet`. Never on stdout, which holds the report.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Off,
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// One plain line per interval (stderr is a file or pipe).
    Lines(Duration),
}

/// Counters shared by every task of a scan; cheap to update from anywhere.
#[derive(Debug, Default)]
pub struct ScanProgress {
    targets_total: AtomicU64,
    targets_done: AtomicU64,
    keys: AtomicU64,
    gaps: AtomicU64,
}

impl ScanProgress {
    pub fn add_targets(&self, n: u64) {
        self.targets_total.fetch_add(n, Ordering::Relaxed);
    }
    pub fn key_done(&self) {
        self.keys.fetch_add(1, Ordering::Relaxed);
    }
    pub fn target_done(&self, gaps: u64) {
        self.targets_done.fetch_add(1, Ordering::Relaxed);
        self.gaps.fetch_add(gaps, Ordering::Relaxed);
    }

    fn line(&self) -> String {
        format!(
            "{}/{} account-regions, {} keys, {} coverage gaps",
            self.targets_done.load(Ordering::Relaxed),
            self.targets_total.load(Ordering::Relaxed),
            self.keys.load(Ordering::Relaxed),
            self.gaps.load(Ordering::Relaxed)
        )
    }
}

/// Shows a scan's progress until dropped or [`ProgressDisplay::finish`]ed.
pub struct ProgressDisplay {
    counters: Arc<ScanProgress>,
    task: Option<tokio::task::JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl ProgressDisplay {
    /// Starts showing `counters` in `mode` (call inside the tokio runtime).
    pub fn start(mode: ProgressMode, counters: Arc<ScanProgress>) -> ProgressDisplay {
        match mode {
            ProgressMode::Off => ProgressDisplay {
                counters,
                task: None,
                bar: None,
            },
            ProgressMode::Bar => {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:25}] {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                let shown = bar.clone();
                let watched = counters.clone();
                let task = tokio::spawn(async move {
                    loop {
                        shown.set_length(watched.targets_total.load(Ordering::Relaxed));
                        shown.set_position(watched.targets_done.load(Ordering::Relaxed));
                        shown.set_message(watched.line());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                });
                ProgressDisplay {
                    counters,
                    task: Some(task),
                    bar: Some(bar),
                }
            }
            ProgressMode::Lines(every) => {
                let watched = counters.clone();
                let task = tokio::spawn(async move {
                    let mut ticks = tokio::time::interval(every);
                    ticks.tick().await; // the first tick is immediate: skip it
                    loop {
                        ticks.tick().await;
                        eprintln!("kms-audit: progress: {}", watched.line());
                    }
                });
                ProgressDisplay {
                    counters,
                    task: Some(task),
                    bar: None,
                }
            }
        }
    }

    /// Stops the display; a bar is cleared so the terminal shows only the report.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    pub fn counters(&self) -> &Arc<ScanProgress> {
        &self.counters
    }
}

impl Drop for ProgressDisplay {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_targets_keys_and_gaps() {
        let progress = ScanProgress::default();
        progress.add_targets(4);
        progress.key_done();
        progress.key_done();
        progress.target_done(1);
        assert_eq!(
            progress.line(),
            "1/4 account-regions, 2 keys, 1 coverage gaps"
        );
    }
}
