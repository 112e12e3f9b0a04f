//! `cityflow report list`: the dates that have a stored report.

use cityflow_core::DateRange;

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
    let dates = storage.reports.list(range).await?;
    if ctx.json {
        let out = serde_json::json!({
            "ok": true,
            "target": storage.reports.describe(),
            "dates": dates,
        });
        println!("{out}");
    } else {
        for d in &dates {
            println!("{d}");
        }
        tracing::info!(count = dates.len(), target = %storage.reports.describe(), "listed reports");
    }
    Ok(0)
}
