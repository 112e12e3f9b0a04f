//! `cityflow`: generate, export, show and list CityFlow daily reports.
//!
//! Thin by design: parse the command line, call the libraries, print. Exit codes:
//! 0 success, 1 an export or a target failed, 2 usage, configuration or input error.

mod cli;
mod commands;
mod exit;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`cityflow env | head -3`) panicked.
    // With the default action the process ends quietly when its reader goes away.
    // SAFETY: called first thing in main, before any thread exists; sets a standard action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Still before any thread exists. The server keeps glibc's arenas: its requests allocate
    // on every runtime thread at once, and one arena made them queue on its lock (bench/api.sh
    // measured 37k → see the README); the memory argument is about ingestion.
    if !matches!(cli.command, cli::Command::Serve(_)) {
        cityflow_pipeline::limit_malloc_arenas();
    }
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            failure.report(json);
            ExitCode::from(failure.code())
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG`, else `LOG_LEVEL`, else `warn`.
pub(crate) fn init_logging(env: &cityflow_storage::EnvMap) {
    use tracing_subscriber::EnvFilter;
    let filter = env
        .get("RUST_LOG")
        .or_else(|| env.get("LOG_LEVEL"))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "warn".to_string());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| {
        eprintln!("warning: ignoring unreadable log filter {filter:?}; using `warn`");
        EnvFilter::new("warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
