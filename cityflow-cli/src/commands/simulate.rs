//! `cityflow simulate comptages`: deterministic synthetic open-data CSV.

use cityflow_ingest::simulate::{simulate_to_file, Network, SimulateOptions};

use super::{parse_date_arg, Context};
use crate::cli::SimulateArgs;
use crate::exit::{usage, Failure};

pub fn run(ctx: &Context, args: SimulateArgs) -> Result<u8, Failure> {
    let from = parse_date_arg("--from", &args.from)?;
    let to = parse_date_arg("--to", &args.to)?;
    if from > to {
        return Err(usage(format!("--from {from} is after --to {to}")));
    }
    if args.arcs == 0 && args.network.is_none() {
        return Err(usage("--arcs must be at least 1"));
    }
    let network = match args.network {
        Some(path) => Network::Referentiel(path),
        None => Network::Synthetic(args.arcs),
    };
    let options = SimulateOptions {
        from,
        to,
        network,
        seed: args.seed,
    };
    let summary = simulate_to_file(&options, &args.out).map_err(usage)?;
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({"ok": true, "out": args.out, "summary": summary})
        );
    } else {
        println!(
            "✓ {} rows ({} arcs × {} days, {} duplicate rows, {} Invalide arcs) written to {}",
            summary.rows,
            summary.arcs,
            summary.days,
            summary.duplicate_rows,
            summary.invalide_arcs,
            args.out.display()
        );
    }
    Ok(0)
}
