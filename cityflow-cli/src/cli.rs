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
    /// Generate synthetic input data.
    #[command(subcommand)]
    Simulate(SimulateCommand),
    /// Work on the raw open-data traffic-count CSV.
    #[command(subcommand)]
    Comptages(ComptagesCommand),
    /// Serve the stored reports over HTTP: JSON API, CSV, pages (see the README's "HTTP API").
    Serve(ServeArgs),
    /// A backfill of any length on AWS: prints the command that starts the stack's
    /// CityflowBackfill state machine over `--from`..`--to` (one invocation a month).
    Backfill(BackfillArgs),
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub to: String,
    /// On AWS, through the deployed state machine (the only way this command runs; locally,
    /// `report generate --from --to` backfills).
    #[arg(long)]
    pub aws: bool,
    /// The state machine's ARN: the stack's `BackfillStateMachineArn` output [default:
    /// CITYFLOW_BACKFILL_STATE_MACHINE].
    #[arg(long, value_name = "ARN")]
    pub state_machine: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: CITYFLOW_API_BIND, else 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
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
    #[arg(long, conflicts_with_all = ["from", "to", "all"])]
    pub date: Option<String>,
    /// Directory or s3://bucket/prefix holding the *_metrics_DATE.json files. Default:
    /// METRICS_DIR, else $OUTPUT_DIR/metrics (local mode) or s3://$S3_REPORTS_BUCKET/metrics
    /// (AWS mode). With --comptages it only supplies bikes, weather and chantiers, and is
    /// optional.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub metrics_dir: Option<String>,
    /// Compute the road figures from the raw open-data CSV (plain or .gz, a file or
    /// s3://bucket/key, streamed) instead of metrics files; one pass computes every requested
    /// day.
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub comptages: Option<String>,
    /// Bike counters (Opendatasoft records JSON, a JSON array, JSON Lines or the CSV export;
    /// plain or .gz): a file, a directory of files or s3://bucket/key-or-prefix. Replaces the
    /// bikes metrics file.
    #[arg(long, value_name = "PATH|s3://BUCKET/KEY")]
    pub bikes: Option<String>,
    /// Visual Crossing weather timeline JSON: a file, a directory or s3://bucket/key-or-prefix.
    /// Replaces the weather metrics file.
    #[arg(long, value_name = "PATH|s3://BUCKET/KEY")]
    pub weather: Option<String>,
    /// Roadworks CSV ("chantiers perturbants"): a file, a directory or s3://bucket/key-or-prefix.
    /// Replaces the chantiers metrics file.
    #[arg(long, value_name = "PATH|s3://BUCKET/KEY")]
    pub chantiers: Option<String>,
    /// The old tool's raw layout under one root: api/bikes/dt=D/, api/weather/dt=D/ (the
    /// report of D reads dt=D and dt=D+1), the newest batch/*chantiers*.csv and
    /// batch/*comptages*.csv[.gz]. The options above win over it, source by source.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub raw: Option<String>,
    /// First day of a range (with a raw source), inclusive.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day of a range (with a raw source), inclusive.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Every day a dated raw source covers (comptages rows, bike records, weather days).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub all: bool,
    /// Compute everything and print where it would go, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Reports exported at the same time (with a raw source).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// Deterministic synthetic data in the exact open-data schema.
    Comptages(SimulateArgs),
    /// Bike counters: `--sites` sites × 2 directions, hourly (CSV export, records JSON or
    /// JSON Lines).
    Bikes(SimulateBikesArgs),
    /// A weather timeline (Visual Crossing's format), one day per date.
    Weather(SimulateSourceArgs),
    /// Roadworks in the open-data CSV.
    Chantiers(SimulateChantiersArgs),
}

/// The period, seed and output of a simulated source.
#[derive(Debug, Args)]
pub struct SimulateSourceArgs {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub to: String,
    /// Seed: same seed, same bytes.
    #[arg(long)]
    pub seed: u64,
    /// Output file; gzip-compressed when it ends with .gz.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SimulateBikesArgs {
    #[command(flatten)]
    pub common: SimulateSourceArgs,
    /// Counting sites (two counters each, one per direction).
    #[arg(long, default_value_t = 100)]
    pub sites: usize,
    /// csv: the dataset's CSV export; json: the Opendatasoft records JSON; jsonl: one
    /// record per line. Default: from the file name (.csv, .jsonl, else json).
    #[arg(long, value_enum)]
    pub format: Option<BikeFormatArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BikeFormatArg {
    Csv,
    Json,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct SimulateChantiersArgs {
    #[command(flatten)]
    pub common: SimulateSourceArgs,
    /// Roadworks to write.
    #[arg(long, default_value_t = 300)]
    pub count: usize,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub to: String,
    /// Number of synthetic arcs scattered over Paris.
    #[arg(long, conflicts_with = "network", default_value_t = 200)]
    pub arcs: usize,
    /// Use the arcs of a referentiel metrics file (real names, lengths, coordinates).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
    /// Seed: same seed, same bytes.
    #[arg(long)]
    pub seed: u64,
    /// Output file; gzip-compressed when it ends with .gz.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ComptagesCommand {
    /// Per arc and Paris local day: count, sum, mean and max of the flow, count and mean of
    /// the occupancy, as CSV (the aggregation compared with DuckDB in the benchmark).
    Aggregate(AggregateArgs),
}

#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// The raw open-data CSV (plain or .gz).
    #[arg(long, value_name = "FILE")]
    pub comptages: PathBuf,
    /// Where to write the CSV (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Parsing threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
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
