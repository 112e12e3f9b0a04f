//! Reports from the raw open data (`report generate --comptages|--bikes|--weather|
//! --chantiers|--raw`) and `comptages aggregate`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::NaiveDate;
use cityflow_core::InputLocation;
use cityflow_core::SectionFrom;
use cityflow_ingest::{ingest, DaySelection, Progress};
use cityflow_pipeline::{
    dry_run_days, export_days, planned_exports, read_raw_run, History, RawRequest, RawSections,
    TargetOutcome,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{parse_date_arg, Context};
use crate::cli::{AggregateArgs, GenerateArgs};
use crate::exit::{usage, Failure, FAILURE};

/// A progress bar on stderr, shown only on a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new(visible: bool) -> Self {
        let bar = if visible {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start_reading(&self, total: u64) {
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        self.0.set_message("lecture");
    }
    fn read(&self, bytes: u64) {
        self.0.set_position(bytes);
    }
    fn done_reading(&self) {
        self.0.finish_and_clear();
    }
}

/// Per-day outcome as `--comptages --json` prints it: each target's ok, location, error.
#[derive(Debug, Serialize)]
struct Outcome<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a str>,
}

impl<'a> From<&'a TargetOutcome> for Outcome<'a> {
    fn from(o: &'a TargetOutcome) -> Self {
        Outcome {
            ok: o.ok,
            location: o.location.as_deref(),
            error: o.error.as_deref(),
            skipped: o.skipped.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct DayLine<'a> {
    date: NaiveDate,
    csv: Outcome<'a>,
    json: Outcome<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    map: Option<Outcome<'a>>,
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    built_from: Option<&'a std::collections::BTreeMap<String, cityflow_core::SectionOrigin>>,
}

/// Whether `report generate` reads raw open data (then this module runs it).
pub(crate) fn has_raw_source(args: &GenerateArgs) -> bool {
    args.comptages.is_some()
        || args.bikes.is_some()
        || args.weather.is_some()
        || args.chantiers.is_some()
        || args.raw.is_some()
}

fn selection(ctx: &Context, args: &GenerateArgs) -> Result<DaySelection, Failure> {
    Ok(match (&args.from, &args.to, args.all, &args.date) {
        (_, _, true, _) => DaySelection::All,
        (Some(f), Some(t), _, _) => {
            let (f, t) = (parse_date_arg("--from", f)?, parse_date_arg("--to", t)?);
            if f > t {
                return Err(usage(format!("--from {f} is after --to {t}")));
            }
            DaySelection::Range(f, t)
        }
        (_, _, _, Some(d)) => DaySelection::One(parse_date_arg("--date", d)?),
        _ => DaySelection::One(
            ctx.config
                .report_date
                .unwrap_or_else(super::generate::yesterday_in_paris),
        ),
    })
}

pub async fn generate(ctx: &Context, args: GenerateArgs) -> Result<u8, Failure> {
    let selection = selection(ctx, &args)?;
    // Bikes, weather and chantiers come from metrics files only when asked for.
    let metrics = match &args.metrics_dir {
        Some(_) => {
            let location = super::generate::metrics_location(ctx, &args)?;
            if let InputLocation::Dir(dir) = &location {
                if !dir.is_dir() {
                    return Err(usage(format!(
                        "{}: metrics directory does not exist",
                        dir.display()
                    )));
                }
            }
            Some(cityflow_storage::input_source(
                &ctx.config,
                &location,
                "metrics directory",
            )?)
        }
        None => None,
    };
    // Configuration problems surface before the long read.
    let storage = cityflow_storage::build(&ctx.config).await?;
    let request = RawRequest {
        comptages: args.comptages.clone(),
        bikes: args.bikes.clone(),
        weather: args.weather.clone(),
        chantiers: args.chantiers.clone(),
        layout: match &args.raw {
            Some(text) => {
                Some(InputLocation::parse(text).map_err(|m| usage(format!("--raw: {m}")))?)
            }
            None => None,
        },
    };
    let visible = !ctx.json && std::io::stderr().is_terminal();
    let run = read_raw_run(
        &ctx.config,
        &request,
        selection,
        Arc::new(Bar::new(visible)),
    )
    .await?;
    let run_warnings = run.warnings.clone();
    for w in &run_warnings {
        tracing::warn!("{w}");
    }
    let (read, raw, days) = (&run.comptages, &run.sections, &run.days);
    let inputs = run.inputs(metrics.as_deref());
    let input_names = run.input_locations();
    if args.dry_run {
        let built = dry_run_days(&inputs, days).await?;
        let planned = planned_exports(&storage, days);
        if ctx.json {
            let lines: Vec<serde_json::Value> = planned
                .iter()
                .zip(&built)
                .map(|(p, (provenance, warnings))| {
                    serde_json::json!({"date": p.date, "csv": p.csv, "json": p.json, "built_from": provenance.sections, "warnings": warnings})
                })
                .collect();
            println!(
                "{:#}",
                serde_json::json!({"ok": true, "dry_run": true, "mode": storage.mode, "inputs": input_names, "warnings": run_warnings, "would_write": lines})
            );
        } else {
            println!(
                "[dry-run] {} rapport(s) calculé(s), rien n'est écrit:",
                days.len()
            );
            for (p, (provenance, _)) in planned.iter().zip(&built) {
                println!("  {}  CSV → {}  JSON → {}", p.date, p.csv, p.json);
                if days.len() == 1 {
                    print_sections(provenance);
                }
            }
        }
        return Ok(0);
    }
    if !ctx.json {
        if let Some(read) = &read {
            let agg = &read.ingested.aggregate;
            let s = &agg.stats;
            println!(
                "Lecture de {}: {:.1} Mo en {:.1} s, {} lignes ({} malformées, {} valeurs rejetées, {} doublons, {} lignes Invalide), {} tronçons dont {} sans géométrie",
                read.input,
                s.bytes_read as f64 / 1e6,
                read.read_seconds,
                s.rows_read,
                s.rows_malformed,
                s.values_rejected,
                s.duplicates,
                s.rows_invalide,
                agg.arcs.len(),
                s.arcs_without_geometry
            );
        }
        print_raw_summary(raw);
        println!(
            "\n[Export] {} rapport(s) → CSV: {} | JSON: {}",
            days.len(),
            ctx.config.csv_target(),
            ctx.config.json_target()
        );
    }

    let bar = if !ctx.json && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(days.len() as u64);
        b.set_style(
            ProgressStyle::with_template("export [{bar:30}] {pos}/{len} rapports ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let history = History::new();
    let done = export_days(
        &storage,
        &inputs,
        days,
        usize::from(args.jobs),
        &history,
        &|_| bar.inc(1),
    )
    .await;
    bar.finish_and_clear();

    let exports = &done.exports;
    let csv_ok = exports.iter().filter(|e| e.csv.ok).count();
    let json_ok = exports.iter().filter(|e| e.json.ok).count();
    let ok = done.ok();
    if ctx.json {
        let lines: Vec<DayLine> = exports
            .iter()
            .map(|e| DayLine {
                date: e.date,
                csv: (&e.csv).into(),
                json: (&e.json).into(),
                map: e.map.as_ref().map(Into::into),
                warnings: &e.warnings,
                built_from: done.provenances.get(&e.date).map(|p| &p.sections),
            })
            .collect();
        let stats = read.as_ref().map(|r| &r.ingested.aggregate.stats);
        let out = serde_json::json!({
            "ok": ok,
            "exit_code": if ok { 0 } else { FAILURE },
            "input": read.as_ref().map(|r| r.input.clone()),
            "inputs": input_names,
            "mode": storage.mode,
            "stats": stats,
            "raw_stats": {
                "bikes": raw.bikes.as_ref().map(|b| &b.data.stats),
                "weather": raw.weather.as_ref().map(|b| &b.data.stats),
                "chantiers": raw.chantiers.as_ref().map(|b| &b.data.stats),
            },
            "first_bad_lines": read.as_ref().map(|r| r.ingested.aggregate.first_bad_lines.iter().map(|b| serde_json::json!({"line": b.line, "reason": b.reason})).collect::<Vec<_>>()),
            "days_without_rows": read.as_ref().map(|r| r.days_without_rows.clone()),
            "warnings": run_warnings,
            "export_seconds": done.export_seconds,
            "reports_per_second": done.reports_per_second,
            "exports": lines,
        });
        println!("{out:#}");
    } else {
        for e in exports {
            let shown = |o: &TargetOutcome| match &o.location {
                Some(l) => l.clone(),
                None if o.skipped.is_some() => {
                    "↷ (entrées plus récentes déjà exportées)".to_string()
                }
                None if o.ok => "✓".to_string(),
                None => "✗".to_string(),
            };
            let map = e
                .map
                .as_ref()
                .map(|m| match (&m.location, &m.skipped) {
                    // Not a newer build's: the report itself was not stored.
                    (None, Some(_)) => "  CARTE non écrite (rapport JSON non stocké)".to_string(),
                    _ => format!("  CARTE {}", shown(m)),
                })
                .unwrap_or_default();
            println!(
                "{} {}  CSV {}  JSON {}{map}",
                if e.ok() { "✓" } else { "✗" },
                e.date,
                shown(&e.csv),
                shown(&e.json),
            );
        }
        // One day: where each section came from, and its comparison with the previous weeks.
        if let [only] = exports.as_slice() {
            if let Some(p) = done.provenances.get(&only.date) {
                print_sections(p);
            }
            if let Some(evolution) = done.evolutions.get(&only.date) {
                super::generate::print_evolution(evolution);
            }
        }
        let (icon, mode) = super::generate::mode_banner(storage.mode);
        println!("\n{}", "=".repeat(60));
        println!(
            "{icon} {} rapport(s) en mode {mode}: CSV {csv_ok}/{n} ✓, JSON {json_ok}/{n} ✓",
            exports.len(),
            n = exports.len()
        );
        println!("   - CSV : {}", ctx.config.csv_target());
        println!("   - JSON : {}", ctx.config.json_target());
        let maps = exports.iter().filter(|e| e.map.is_some()).count();
        if maps > 0 {
            let maps_ok = exports
                .iter()
                .filter(|e| e.map.as_ref().is_some_and(|m| m.location.is_some()))
                .count();
            println!(
                "   - cartes : {} ({maps_ok}/{maps} ✓)",
                ctx.config.maps_target()
            );
        }
        println!(
            "   - export : {:.1} s, {:.0} rapports/s",
            done.export_seconds, done.reports_per_second
        );
        println!("{}", "=".repeat(60));
    }
    Ok(if ok { 0 } else { FAILURE })
}

/// One line per section: where it came from.
fn print_sections(p: &cityflow_core::Provenance) {
    println!("\nSections :");
    let ordered = cityflow_pipeline::SECTIONS
        .iter()
        .filter_map(|s| p.sections.get_key_value(*s));
    for (section, origin) in ordered {
        let label = match section.as_str() {
            "comptages" => "trafic routier",
            "bikes" => "vélos",
            "weather" => "météo",
            "chantiers" => "chantiers",
            other => other,
        };
        match origin.from {
            SectionFrom::None => println!("  {label} : aucune entrée (section vide)"),
            from => println!(
                "  {label} : {} ← {}",
                match from {
                    SectionFrom::Raw => "données brutes",
                    _ => "métriques",
                },
                if origin.inputs.len() <= 2 {
                    origin.inputs.join(", ")
                } else {
                    format!("{} fichiers", origin.inputs.len())
                }
            ),
        }
    }
}

fn print_raw_summary(raw: &RawSections) {
    if let Some(b) = &raw.bikes {
        let s = &b.data.stats;
        println!(
            "Vélos: {} fichier(s), {} enregistrements, {} compteurs ({} doublons, {} comptages rejetés, {} sans comptage)",
            s.files,
            s.records,
            b.data.counters().len(),
            s.duplicates,
            s.counts_rejected,
            s.counts_missing
        );
    }
    if let Some(w) = &raw.weather {
        let s = &w.data.stats;
        println!(
            "Météo: {} fichier(s), {} jour(s) ({} rejeté(s))",
            s.files,
            s.days,
            s.days_rejected.len()
        );
    }
    if let Some(c) = &raw.chantiers {
        let s = &c.data.stats;
        println!(
            "Chantiers: {} ligne(s), {} chantier(s) ({} rejetée(s), {} doublon(s))",
            s.rows,
            c.data.rows().len(),
            s.rows_rejected,
            s.duplicates
        );
    }
}

pub fn aggregate(_ctx: &Context, args: AggregateArgs) -> Result<u8, Failure> {
    let ingested = ingest(
        &args.comptages,
        DaySelection::All,
        args.threads,
        &cityflow_ingest::NoProgress,
    )
    .map_err(|e| Failure::from(cityflow_core::Error::from(e)))?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| usage(format!("{}: {e}", p.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(
            out,
            "identifiant_arc;date;debit_count;debit_sum;debit_mean;debit_max;taux_count;taux_mean"
        )?;
        for r in ingested.arc_day_aggregates() {
            writeln!(
                out,
                "{};{};{};{};{};{};{};{}",
                r.arc_id,
                r.date,
                r.debit_count,
                if r.debit_count > 0 {
                    r.debit_sum.to_string()
                } else {
                    String::new()
                },
                opt(r.debit_mean()),
                r.debit_max.map(|m| m.to_string()).unwrap_or_default(),
                r.taux_count,
                opt(r.taux_mean()),
            )?;
        }
        out.flush()
    };
    match write(&mut out) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Failure::Runtime(e.into())),
    }
    let s = &ingested.aggregate.stats;
    eprintln!(
        "{} (arc, day) pairs from {} rows ({} malformed, {} values rejected, {} duplicates, {} Invalide)",
        ingested.aggregate.pair_count(),
        s.rows_read,
        s.rows_malformed,
        s.values_rejected,
        s.duplicates,
        s.rows_invalide
    );
    Ok(0)
}
