//! `cityflow simulate comptages|bikes|weather|chantiers`: deterministic synthetic open data.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use cityflow_ingest::simulate::{simulate_to_file, Network, SimulateOptions};
use cityflow_ingest::simulate_sources::{
    simulate_bikes, simulate_chantiers, simulate_weather, BikeFormat, SourcesSummary,
};

use super::{parse_date_arg, Context};
use crate::cli::{
    BikeFormatArg, SimulateArgs, SimulateBikesArgs, SimulateChantiersArgs, SimulateSourceArgs,
};
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

fn period(args: &SimulateSourceArgs) -> Result<(NaiveDate, NaiveDate), Failure> {
    let from = parse_date_arg("--from", &args.from)?;
    let to = parse_date_arg("--to", &args.to)?;
    if from > to {
        return Err(usage(format!("--from {from} is after --to {to}")));
    }
    Ok((from, to))
}

/// Writes to `path` through `write`, gzip-compressed when it ends with `.gz`.
fn to_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<SourcesSummary, String>,
) -> Result<SourcesSummary, Failure> {
    let file =
        std::fs::File::create(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let summary = if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(&mut buffered, flate2::Compression::fast());
        let s = write(&mut gz).map_err(usage)?;
        gz.finish()
            .map_err(|e| usage(format!("{}: {e}", path.display())))?;
        s
    } else {
        write(&mut buffered).map_err(usage)?
    };
    buffered
        .flush()
        .map_err(|e| usage(format!("{}: {e}", path.display())))?;
    Ok(summary)
}

fn done(ctx: &Context, what: &str, out: &Path, s: &SourcesSummary) -> Result<u8, Failure> {
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({"ok": true, "out": out, "summary": s})
        );
    } else {
        println!(
            "✓ {} {what} ({} days) written to {}",
            s.records,
            s.days,
            out.display()
        );
    }
    Ok(0)
}

pub fn bikes(ctx: &Context, args: SimulateBikesArgs) -> Result<u8, Failure> {
    let (from, to) = period(&args.common)?;
    let out = &args.common.out;
    let name = out.to_string_lossy();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let format = match args.format {
        Some(BikeFormatArg::Csv) => BikeFormat::Csv,
        Some(BikeFormatArg::Json) => BikeFormat::Records,
        Some(BikeFormatArg::Jsonl) => BikeFormat::JsonLines,
        None if name.ends_with(".csv") => BikeFormat::Csv,
        None if name.ends_with(".jsonl") || name.ends_with(".ndjson") => BikeFormat::JsonLines,
        None => BikeFormat::Records,
    };
    let s = to_file(out, |w| {
        simulate_bikes(from, to, args.sites, args.common.seed, format, w)
    })?;
    done(
        ctx,
        &format!("hourly records of {} counters", s.counters),
        out,
        &s,
    )
}

pub fn weather(ctx: &Context, args: SimulateSourceArgs) -> Result<u8, Failure> {
    let (from, to) = period(&args)?;
    let s = to_file(&args.out, |w| simulate_weather(from, to, args.seed, w))?;
    done(ctx, "weather days", &args.out, &s)
}

pub fn chantiers(ctx: &Context, args: SimulateChantiersArgs) -> Result<u8, Failure> {
    let (from, to) = period(&args.common)?;
    let s = to_file(&args.common.out, |w| {
        simulate_chantiers(from, to, args.count, args.common.seed, w)
    })?;
    done(ctx, "roadworks", &args.common.out, &s)
}
