//! The `kms-audit` binary: parse, run, map the outcome to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use kms_audit::analysis::exit::Outcome;
use kms_audit::cli::{self, Cli};

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

/// Serves every allocation of 128 KiB or more with its own mapping. glibc otherwise raises that
/// threshold as large blocks are freed, and then keeps the freed blocks of a 100,000-key report
/// (the growing key and finding lists, the read buffers) as heap it never returns, and copies
/// a growing list where a mapping is simply extended: about 20 MB of peak memory on the
/// 100,000-key benchmark (docs/benchmarks.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: `mallopt` only sets a malloc parameter; it is called before any other thread
    // exists. A refusal (return value 0) leaves glibc's defaults, which are correct too.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

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
