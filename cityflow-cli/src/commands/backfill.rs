//! `cityflow backfill --aws`: a range of any length, fanned out on AWS by the stack's
//! `CityflowBackfill` state machine (one report invocation a month). It prints the command
//! that starts the execution, and what it will do: this binary links no Step Functions
//! client, and starting a costed fan-out is a step a person should see.

use cityflow_core::months_of;
use serde_json::json;

use super::{parse_date_arg, Context};
use crate::cli::BackfillArgs;
use crate::exit::{usage, Failure};

/// The longest range: the state machine's planning step refuses more.
const MAX_DAYS: i64 = 36_525;

pub fn run(ctx: &Context, args: BackfillArgs) -> Result<u8, Failure> {
    if !args.aws {
        return Err(usage(
            "backfill runs on AWS (--aws); locally, `cityflow report generate --from D --to D \
             --raw DIR` (or --comptages FILE) backfills in one process",
        ));
    }
    let (from, to) = (
        parse_date_arg("--from", &args.from)?,
        parse_date_arg("--to", &args.to)?,
    );
    if from > to {
        return Err(usage(format!("--from {from} is after --to {to}")));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS {
        return Err(usage(format!(
            "{days} days from {from} to {to}; at most {MAX_DAYS} in one backfill"
        )));
    }
    let arn = args
        .state_machine
        .or_else(|| {
            ctx.env
                .get("CITYFLOW_BACKFILL_STATE_MACHINE")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "<the stack's BackfillStateMachineArn output>".to_string());
    let months = months_of(from, to);
    let input = json!({"from": from.to_string(), "to": to.to_string()}).to_string();
    let command = format!(
        "aws stepfunctions start-execution --state-machine-arn {arn} --name cityflow-backfill-{from}-{to}-$(date +%s) --input '{input}'"
    );
    if ctx.json {
        println!(
            "{:#}",
            json!({
                "from": from.to_string(),
                "to": to.to_string(),
                "days": days,
                "months": months.len(),
                "command": command,
            })
        );
    } else {
        println!(
            "Backfill du {from} au {to} : {days} jour(s), {} invocation(s) de la fonction (une \
             par mois), sur AWS par la machine d'états CityflowBackfill.",
            months.len()
        );
        println!("Pour la lancer :\n\n  {command}\n");
        println!(
            "Puis : aws stepfunctions describe-execution --execution-arn <executionArn> \
             (sortie : reports_written, failed_days, failed_months)."
        );
    }
    Ok(0)
}
