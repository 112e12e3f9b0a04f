//! Reports from the raw open-data CSV: `report generate --comptages` and
//! `comptages aggregate`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::NaiveDate;
use cityflow_core::{add_metrics_sections, render_csv, BlobSinkExt, ReportStoreExt, Timestamp};
use cityflow_ingest::{ingest, DaySelection, Ingested, Progress};
use cityflow_storage::Mode;
use futures_util::stream::{self, StreamExt};
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

fn read(
    ctx: &Context,
    path: std::path::PathBuf,
    selection: DaySelection,
) -> impl std::future::Future<Output = Result<Ingested, Failure>> {
    let visible = !ctx.json && std::io::stderr().is_terminal();
    async move {
        tokio::task::spawn_blocking(move || ingest(&path, selection, 0, &Bar::new(visible)))
            .await
            .map_err(|e| Failure::Runtime(e.into()))?
            .map_err(|e| Failure::from(cityflow_core::Error::from(e)))
    }
}

#[derive(Debug, Serialize)]
struct Outcome {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<cityflow_core::Result<String>> for Outcome {
    fn from(r: cityflow_core::Result<String>) -> Self {
        match r {
            Ok(l) => Outcome {
                ok: true,
                location: Some(l),
                error: None,
            },
            Err(e) => Outcome {
                ok: false,
                location: None,
                error: Some(e.to_string()),
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct DayExport {
    date: NaiveDate,
    csv: Outcome,
    json: Outcome,
    warnings: Vec<String>,
}

pub async fn generate(ctx: &Context, args: GenerateArgs) -> Result<u8, Failure> {
    let path = args.comptages.clone().expect("dispatched on --comptages");
    let selection = match (&args.from, &args.to, args.all, &args.date) {
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
    };
    if let Some(dir) = &args.metrics_dir {
        if !dir.is_dir() {
            return Err(usage(format!(
                "{}: metrics directory does not exist",
                dir.display()
            )));
        }
    }
    // Configuration problems surface before the long read.
    let storage = cityflow_storage::build(&ctx.config).await?;
    let started = std::time::Instant::now();
    let ingested = Arc::new(read(ctx, path.clone(), selection).await?);
    let elapsed = started.elapsed();
    let agg = &ingested.aggregate;
    for bad in &agg.first_bad_lines {
        tracing::warn!("{}: line {}: {}", path.display(), bad.line, bad.reason);
    }
    let with_rows = ingested.days_with_rows();
    if let DaySelection::One(d) = selection {
        if !with_rows.contains(&d) {
            return Err(usage(format!(
                "{}: no row falls on {d} (Europe/Paris); nothing exported",
                path.display()
            )));
        }
    }
    let (days, empty): (Vec<NaiveDate>, Vec<NaiveDate>) =
        ingested.days.iter().partition(|d| with_rows.contains(d));
    if days.is_empty() {
        // A header without rows, or a range the file does not cover: a run that would export
        // nothing is a mistake to report, not a success.
        let which = match selection {
            DaySelection::Range(f, t) => format!("between {f} and {t} (Europe/Paris)"),
            _ => "on any day".to_string(),
        };
        return Err(usage(format!(
            "{}: no valid row {which} ({} rows read, {} malformed, {} Invalide); nothing exported",
            path.display(),
            agg.stats.rows_read,
            agg.stats.rows_malformed,
            agg.stats.rows_invalide
        )));
    }
    for d in &empty {
        tracing::warn!("{}: no row on {d}: not exported", path.display());
    }

    let s = &agg.stats;
    if args.dry_run {
        // Compute every report, as an export would, then say where each would go.
        for d in &days {
            let mut report = ingested.report(*d, Timestamp::now());
            if let Some(dir) = &args.metrics_dir {
                add_metrics_sections(dir, &mut report)?;
            }
            render_csv(&report);
        }
        return super::generate::dry_run(ctx, &storage, &days, 1);
    }
    if !ctx.json {
        println!(
            "Lecture de {}: {:.1} Mo en {:.1} s, {} lignes ({} malformées, {} valeurs rejetées, {} doublons, {} lignes Invalide), {} tronçons dont {} sans géométrie",
            path.display(),
            s.bytes_read as f64 / 1e6,
            elapsed.as_secs_f64(),
            s.rows_read,
            s.rows_malformed,
            s.values_rejected,
            s.duplicates,
            s.rows_invalide,
            agg.arcs.len(),
            s.arcs_without_geometry
        );
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
    let metrics_dir = args.metrics_dir.clone();
    let export_started = std::time::Instant::now();
    let mut exports: Vec<DayExport> = stream::iter(days.iter().copied())
        .map(|date| {
            let ingested = ingested.clone();
            let storage = storage.clone();
            let metrics_dir = metrics_dir.clone();
            let bar = bar.clone();
            async move {
                let mut report = ingested.report(date, Timestamp::now());
                let mut warnings = Vec::new();
                if let Some(dir) = &metrics_dir {
                    match add_metrics_sections(dir, &mut report) {
                        Ok(w) => warnings = w,
                        Err(e) => {
                            let message = Some(e.to_string());
                            bar.inc(1);
                            return DayExport {
                                date,
                                csv: Outcome {
                                    ok: false,
                                    location: None,
                                    error: message.clone(),
                                },
                                json: Outcome {
                                    ok: false,
                                    location: None,
                                    error: message,
                                },
                                warnings,
                            };
                        }
                    }
                }
                // The two exports are independent: both in flight at once.
                let (csv, json) = tokio::join!(
                    storage.blobs.put_report_csv(date, render_csv(&report)),
                    storage.reports.put_report(&report, Timestamp::now())
                );
                let (csv, json) = (csv.into(), json.into());
                bar.inc(1);
                DayExport {
                    date,
                    csv,
                    json,
                    warnings,
                }
            }
        })
        .buffer_unordered(usize::from(args.jobs))
        .collect()
        .await;
    bar.finish_and_clear();
    // Building, rendering and exporting every report, both targets: what a backfill costs
    // after the read.
    let export_seconds = export_started.elapsed().as_secs_f64();
    let reports_per_second = if export_seconds > 0.0 {
        exports.len() as f64 / export_seconds
    } else {
        0.0
    };
    exports.sort_by_key(|e| e.date);

    let csv_ok = exports.iter().filter(|e| e.csv.ok).count();
    let json_ok = exports.iter().filter(|e| e.json.ok).count();
    let ok = csv_ok == exports.len() && json_ok == exports.len();
    for e in &exports {
        for w in &e.warnings {
            tracing::warn!("{w}");
        }
        for (what, o) in [("CSV", &e.csv), ("JSON", &e.json)] {
            if let Some(err) = &o.error {
                tracing::error!("{}: export {what} failed: {err}", e.date);
            }
        }
    }
    if ctx.json {
        let out = serde_json::json!({
            "ok": ok,
            "exit_code": if ok { 0 } else { FAILURE },
            "input": path,
            "mode": storage.mode,
            "stats": s,
            "first_bad_lines": agg.first_bad_lines.iter().map(|b| serde_json::json!({"line": b.line, "reason": b.reason})).collect::<Vec<_>>(),
            "days_without_rows": empty,
            "export_seconds": export_seconds,
            "reports_per_second": reports_per_second,
            "exports": exports,
        });
        println!("{out:#}");
    } else {
        for e in &exports {
            let mark = |o: &Outcome| if o.ok { "✓" } else { "✗" };
            println!(
                "{} {}  CSV {}  JSON {}",
                if e.csv.ok && e.json.ok { "✓" } else { "✗" },
                e.date,
                e.csv
                    .location
                    .as_deref()
                    .map_or_else(|| mark(&e.csv).to_string(), |l| l.to_string()),
                e.json
                    .location
                    .as_deref()
                    .map_or_else(|| mark(&e.json).to_string(), |l| l.to_string()),
            );
        }
        let (icon, mode) = match storage.mode {
            Mode::Local => ("🏠", "LOCAL DÉVELOPPEMENT"),
            Mode::Aws => ("☁️ ", "AWS PRODUCTION"),
        };
        println!("\n{}", "=".repeat(60));
        println!(
            "{icon} {} rapport(s) en mode {mode}: CSV {csv_ok}/{n} ✓, JSON {json_ok}/{n} ✓",
            exports.len(),
            n = exports.len()
        );
        println!("   - CSV : {}", ctx.config.csv_target());
        println!("   - JSON : {}", ctx.config.json_target());
        println!(
            "   - export : {:.1} s, {:.0} rapports/s",
            export_seconds, reports_per_second
        );
        println!("{}", "=".repeat(60));
    }
    Ok(if ok { 0 } else { FAILURE })
}

pub fn aggregate(_ctx: &Context, args: AggregateArgs) -> Result<u8, Failure> {
    let ingested = ingest(
        &args.comptages,
        DaySelection::All,
        args.threads,
        &cityflow_ingest::NoProgress,
    )
    .map_err(|e| Failure::from(cityflow_core::Error::from(e)))?;
    let rows = ingested.arc_day_aggregates();
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
        for r in &rows {
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
        rows.len(),
        s.rows_read,
        s.rows_malformed,
        s.values_rejected,
        s.duplicates,
        s.rows_invalide
    );
    Ok(0)
}
