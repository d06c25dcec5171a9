//! `troche completions SHELL`: a completion script made from the parser's own definitions,
//! so it always offers the flags this binary takes.

use clap::Args;
use clap_complete::Shell;

use crate::error::{Error, Result};

#[derive(Args)]
pub(super) struct CompletionsArgs {
    /// The shell: bash, zsh, fish or powershell. Install, e.g. for bash: `troche completions
    /// bash > ~/.local/share/bash-completion/completions/troche`.
    #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish", "powershell"])]
    shell: String,
}

pub(super) fn run(a: &CompletionsArgs, cmd: &mut clap::Command) -> Result<i32> {
    let shell = match a.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, cmd, "troche", &mut script);
    // The script is the program's own text, printed as it is: escaping would break it.
    let mut out = std::io::stdout().lock();
    match std::io::Write::write_all(&mut out, &script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(0),
    }
}
