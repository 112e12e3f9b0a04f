//! `cityflow report show`: print a stored report.

use std::io::Write;

use cityflow_core::BlobKey;

use super::{parse_date_arg, Context};
use crate::cli::{ShowArgs, ShowFormat};
use crate::exit::Failure;

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<u8, Failure> {
    let date = parse_date_arg("--date", &args.date)?;
    let storage = cityflow_storage::build(&ctx.config).await?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ShowFormat::Json => {
            let stored = storage.reports.get(date).await?;
            let text =
                serde_json::to_string_pretty(&stored).map_err(|e| Failure::Runtime(e.into()))?;
            writeln!(out, "{text}")
        }
        ShowFormat::Csv => {
            let bytes = storage.blobs.get(&BlobKey::report_csv(date)).await?;
            out.write_all(&bytes)
        }
    };
    // A closed pipe (`| head`) is not our failure.
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Failure::Runtime(e.into())),
    }
}
