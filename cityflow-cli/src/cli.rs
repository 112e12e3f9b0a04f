//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// CityFlow Reports: Paris's daily road-traffic report, exported where it belongs.
///
/// On a developer's machine the CSV goes to $OUTPUT_DIR/reports and the JSON to the store
/// chosen by DATABASE_TYPE (file by default); in AWS (AWS_EXECUTION_ENV set) the CSV goes to
/// S3 and the JSON to DynamoDB. `cityflow env` shows what was detected.
#[derive(Debug, Parser)]
#[command(name = "cityflow", version, propagate_version = true)]
#[command(
    after_help = "Exit codes:\n  0  success\n  1  an export or a target failed (the output says which succeeded and which failed)\n  2  usage, configuration or input error (nothing was exported)\n\nConfiguration comes from the environment and from ./.env (the environment wins).\nLogs go to stderr; set RUST_LOG or LOG_LEVEL (default: warn)."
)]
pub struct Cli {
    /// Print a machine-readable JSON result on stdout instead of the human output.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate, export, show and list daily reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Show the detected mode, every target and every setting (secrets redacted).
    Env,
    /// Create what the configured targets need (directory, MongoDB indexes, …), idempotently.
    Setup,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Generate the report of a day from its metrics files, then export the CSV and the JSON.
    Generate(GenerateArgs),
    /// Print a stored report.
    Show(ShowArgs),
    /// List the dates that have a stored report.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The day (YYYY-MM-DD). Default: REPORT_DATE, else yesterday in Europe/Paris.
    #[arg(long)]
    pub date: Option<String>,
    /// Directory holding the *_metrics_DATE.json files. Default: METRICS_DIR, else
    /// $OUTPUT_DIR/metrics.
    #[arg(long)]
    pub metrics_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The day (YYYY-MM-DD).
    #[arg(long)]
    pub date: String,
    /// json: the stored JSON envelope from the report store; csv: the CSV from the blob sink.
    #[arg(long, value_enum, default_value_t = ShowFormat::Json)]
    pub format: ShowFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// First day, inclusive (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, inclusive (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
}
