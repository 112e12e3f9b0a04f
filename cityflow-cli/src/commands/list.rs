//! `cityflow report list`: the dates that have a stored report, read from the store's summary
//! index a page at a time (as `GET /reports` reads it), printed as the pages come.

use cityflow_core::{DateRange, ReportStoreExt};

use super::{parse_date_arg, Context};
use crate::cli::ListArgs;
use crate::exit::Failure;

pub async fn run(ctx: &Context, args: ListArgs) -> Result<u8, Failure> {
    let from = args
        .from
        .as_deref()
        .map(|d| parse_date_arg("--from", d))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|d| parse_date_arg("--to", d))
        .transpose()?;
    let range = DateRange::new(from, to)?;
    let storage = cityflow_storage::build(&ctx.config).await?;
    let mut dates = Vec::new();
    let json = ctx.json;
    storage
        .reports
        .for_each_summary(range, &mut |summary| {
            if !json {
                println!("{}", summary.date);
            }
            dates.push(summary.date);
        })
        .await?;
    if ctx.json {
        let out = serde_json::json!({
            "ok": true,
            "target": storage.reports.describe(),
            "dates": dates,
        });
        println!("{out}");
    } else {
        tracing::info!(count = dates.len(), target = %storage.reports.describe(), "listed reports");
    }
    Ok(0)
}
