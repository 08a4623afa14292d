//! `kms-audit completions SHELL` and `kms-audit man [--dir DIR]`: shell completions and man
//! pages generated from the same clap definition as `--help`, so they never drift from the flags.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory, ValueEnum};

use super::Cli;
use crate::analysis::exit::Outcome;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print a completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// The shells kms-audit ships completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// `source <(kms-audit completions bash)`, or save it as
    /// /usr/share/bash-completion/completions/kms-audit.
    Bash,
    /// Save it as `_kms-audit` in a directory of `$fpath`.
    Zsh,
    /// Save it as ~/.config/fish/completions/kms-audit.fish.
    Fish,
    /// `kms-audit completions powershell | Out-String | Invoke-Expression`, e.g. in $PROFILE.
    Powershell,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write kms-audit.1 and one page per subcommand (kms-audit-scan.1, ...) into DIR (created
    /// if missing) instead of printing kms-audit.1 to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The program name completions and man pages are written for.
const NAME: &str = "kms-audit";

pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell.generator(),
        &mut Cli::command(),
        NAME,
        &mut script,
    );
    if args.shell == Shell::Bash {
        script = fix_bash_case_labels(&script);
    }
    print(&script)?;
    Ok(Outcome::Clean)
}

/// clap_complete 4.6 names the bash function of subcommand `scan` `kms__audit__subcmd__scan`
/// where it sets `cmd`, but labels its `case` branch `kms__subcmd__audit__subcmd__scan` (the `-`
/// of a hyphenated program name is replaced twice), so no subcommand's flags would complete.
fn fix_bash_case_labels(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("kms__subcmd__audit", "kms__audit")
        .into_bytes()
}

pub fn run_man(args: ManArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Gives subcommands their full names (kms-audit-scan), as their pages are titled.
    command.build();
    match args.dir {
        None => {
            let mut page = Vec::new();
            render(&command, &mut page)?;
            print(&page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create the directory {}", dir.display()))?;
            let mut written = Vec::new();
            write_pages(&command, &dir, &mut written)?;
            tracing::info!("wrote {} man pages to {}", written.len(), dir.display());
        }
    }
    Ok(Outcome::Clean)
}

/// The pages of `command` and of every visible subcommand, depth first, each written atomically.
fn write_pages(
    command: &clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let mut page = Vec::new();
    render(command, &mut page)?;
    let path = dir.join(format!("{}.1", page_name(command)));
    crate::report::write_atomic(&path, &page)
        .with_context(|| format!("could not write the man page {}", path.display()))?;
    written.push(path);
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}

fn page_name(command: &clap::Command) -> &str {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
}

fn render(command: &clap::Command, out: &mut Vec<u8>) -> anyhow::Result<()> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .context("could not render the man page")
}

fn print(bytes: &[u8]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    match lock.write_all(bytes).and_then(|()| lock.flush()) {
        Ok(()) => Ok(()),
        // `kms-audit man | head`: the reader has what it wanted.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(err).context("could not write to stdout"),
    }
}
