//! One module per command; each returns the exit code or a [`Failure`].

mod backfill;
mod comptages;
mod env;
mod generate;
mod list;
mod serve;
mod setup;
mod show;
mod simulate;

use std::path::Path;

use chrono::NaiveDate;
use cityflow_storage::{EnvMap, StorageConfig};

use crate::cli::{Cli, Command, ComptagesCommand, ReportCommand, SimulateCommand};
use crate::exit::{usage, Failure};

/// What every command starts from: the environment and the decision made from it.
pub struct Context {
    pub env: EnvMap,
    pub config: StorageConfig,
    pub json: bool,
}

pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let env = cityflow_storage::load_env(Some(Path::new(".env")))?;
    crate::init_logging(&env);
    let config = StorageConfig::from_env(&env)?;
    let ctx = Context {
        env,
        config,
        json: cli.json,
    };
    match cli.command {
        Command::Env => env::run(&ctx),
        Command::Setup => setup::run(&ctx).await,
        Command::Simulate(SimulateCommand::Comptages(args)) => simulate::run(&ctx, args),
        Command::Simulate(SimulateCommand::Bikes(args)) => simulate::bikes(&ctx, args),
        Command::Simulate(SimulateCommand::Weather(args)) => simulate::weather(&ctx, args),
        Command::Simulate(SimulateCommand::Chantiers(args)) => simulate::chantiers(&ctx, args),
        Command::Comptages(ComptagesCommand::Aggregate(args)) => comptages::aggregate(&ctx, args),
        Command::Report(ReportCommand::Generate(args)) if comptages::has_raw_source(&args) => {
            comptages::generate(&ctx, args).await
        }
        Command::Report(ReportCommand::Generate(args)) if args.from.is_some() || args.all => Err(
            usage("--from/--to and --all need a raw source: --comptages, --bikes, --weather, --chantiers or --raw"),
        ),
        Command::Report(ReportCommand::Generate(args)) => generate::run(&ctx, args).await,
        Command::Report(ReportCommand::Show(args)) => show::run(&ctx, args).await,
        Command::Report(ReportCommand::List(args)) => list::run(&ctx, args).await,
        Command::Serve(args) => serve::run(&ctx, args).await,
        Command::Backfill(args) => backfill::run(&ctx, args),
    }
}

/// Parses a `--date`-like option, naming the option in the error.
pub fn parse_date_arg(option: &str, text: &str) -> Result<NaiveDate, Failure> {
    cityflow_core::parse_date(text).map_err(|m| usage(format!("{option}: {m}")))
}
