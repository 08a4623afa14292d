//! The `kms-audit` binary: parse, run, map the outcome to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use kms_audit::analysis::exit::Outcome;
use kms_audit::cli::{self, Cli};

/// mimalloc rather than glibc's malloc: allocation and freeing were a third of the CPU time of
/// `kms-audit report` over 100,000 keys (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    cli::color::set(cli.color);
    init_logging(cli.verbose, cli.quiet);
    match cli::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(err) => {
            // One line, no backtrace: what went wrong and, where we know it, what to do.
            eprintln!("kms-audit: error: {err:#}");
            ExitCode::from(Outcome::Invalid.code())
        }
    }
}

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in mimalloc 3's `mimalloc.h`; the
/// test below checks its number).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed memory to the system at once. mimalloc 3 waits a second by default, which at
/// 100,000 keys keeps 20 to 30 MB of freed lists and parse buffers in the peak memory of a
/// `kms-audit report` that lasts two or three seconds.
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: `mi_option_set` stores an option value, read when mimalloc next purges; any value
    // is valid for this option.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "error,kms_audit=warn",
        (false, 1) => "warn,kms_audit=info",
        (false, _) => "info,kms_audit=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KMS_AUDIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // No escape codes in a job's log file or a pipe (--color, NO_COLOR).
        .with_ansi(cli::color::enabled(std::io::stderr().is_terminal()))
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reading and setting options has no precondition.
        let (before, after) = unsafe {
            let before = libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY);
            super::tune_allocator();
            (
                before,
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
            )
        };
        // mimalloc 3's default purge delay, in milliseconds: this is the purge_delay option.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(before, 1000);
        }
        assert_eq!(after, 0);
    }
}
