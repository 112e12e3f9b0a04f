//! `cityflow report generate`: build the day's report, export CSV and JSON.

use chrono::{NaiveDate, Utc};
use cityflow_core::{Evolution, InputLocation};
use cityflow_pipeline::{metrics_day, planned_exports, DayExport, History, TargetOutcome};
use cityflow_storage::{Mode, Storage};

use super::{parse_date_arg, Context};
use crate::cli::GenerateArgs;
use crate::exit::{usage, Failure, FAILURE};

/// Yesterday in Europe/Paris: the day a morning run reports on.
pub(crate) fn yesterday_in_paris() -> NaiveDate {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    today.pred_opt().unwrap_or(today)
}

/// `--metrics-dir`, else `METRICS_DIR`, else the mode's default.
pub(crate) fn metrics_location(
    ctx: &Context,
    args: &GenerateArgs,
) -> Result<InputLocation, Failure> {
    match &args.metrics_dir {
        Some(text) => InputLocation::parse(text).map_err(|m| usage(format!("--metrics-dir: {m}"))),
        None => Ok(ctx.config.metrics_dir.clone()),
    }
}

pub async fn run(ctx: &Context, args: GenerateArgs) -> Result<u8, Failure> {
    let date = match (&args.date, ctx.config.report_date) {
        (Some(d), _) => parse_date_arg("--date", d)?,
        (None, Some(d)) => d,
        (None, None) => yesterday_in_paris(),
    };
    let location = metrics_location(ctx, &args)?;
    let source = cityflow_storage::input_source(&ctx.config, &location, "metrics directory")?;
    let storage = cityflow_storage::build(&ctx.config).await?;
    // Every input or configuration problem is found before the first write.
    let day = metrics_day(&storage, &*source, date, args.dry_run, &History::new()).await?;
    let Some(export) = day.export else {
        return dry_run(ctx, &storage, &[date], day.generated.inputs.len());
    };

    let ok = export.ok();
    if ctx.json {
        let out = serde_json::json!({
            "ok": ok,
            "exit_code": if ok { 0 } else { FAILURE },
            "date": date,
            "mode": storage.mode,
            "inputs": day.generated.inputs,
            "warnings": day.generated.warnings,
            "exports": [export.csv, export.json],
        });
        println!("{out:#}");
    } else {
        print_human(
            ctx,
            &storage,
            &location,
            day.generated.inputs.len(),
            &export,
            &day.generated.report.evolution_vs_semaine_precedente,
        );
    }
    Ok(if ok { 0 } else { FAILURE })
}

fn print_human(
    ctx: &Context,
    storage: &Storage,
    location: &InputLocation,
    inputs: usize,
    export: &DayExport,
    evolution: &Evolution,
) {
    println!("Rapport quotidien du {}", export.date);
    println!("  ✓ {inputs} fichier(s) métriques lu(s) depuis {location}");
    println!("\n[Export CSV] → {}", ctx.config.csv_target());
    match (&export.csv.location, &export.csv.error, &export.csv.skipped) {
        (Some(loc), _, _) => println!("✓ Rapport CSV: {loc}"),
        (_, Some(err), _) => println!("✗ Échec de l'export CSV: {err}"),
        (_, _, Some(why)) => println!("↷ Rapport CSV non remplacé: {why}"),
        _ => {}
    }
    let label = storage.json_backend.label();
    println!("\n[Export JSON] → {label}");
    match (
        &export.json.location,
        &export.json.error,
        &export.json.skipped,
    ) {
        (Some(loc), _, _) => println!("✓ Rapport JSON exporté vers {label}: {loc}"),
        (_, Some(err), _) => println!("✗ Échec de l'export JSON vers {label}: {err}"),
        (_, _, Some(why)) => println!("↷ Rapport JSON non remplacé ({label}): {why}"),
        _ => {}
    }
    print_evolution(evolution);
    banner(ctx, storage, &export.csv, &export.json);
}

/// One line per indicator: arrow, value, variation, four-week qualification.
pub(crate) fn print_evolution(evolution: &Evolution) {
    let reference = evolution
        .date_reference
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    if let Some(why) = evolution.unavailable_reason() {
        println!("\nÉvolution vs semaine précédente{reference} : indisponible, {why}");
        return;
    }
    println!("\nÉvolution vs semaine précédente{reference} :");
    for row in evolution.rows() {
        let mut detail = vec![if row.variation.is_empty() {
            "variation non calculable".to_string()
        } else {
            row.variation.clone()
        }];
        if let Some(q) = row.qualification {
            detail.push(q.as_str().to_string());
        }
        println!(
            "  {} {} : {} ({})",
            row.direction.arrow(),
            row.label,
            row.valeur,
            detail.join(", ")
        );
    }
}

/// `--dry-run`: what would be written where; nothing is.
pub(crate) fn dry_run(
    ctx: &Context,
    storage: &Storage,
    dates: &[NaiveDate],
    inputs: usize,
) -> Result<u8, Failure> {
    let planned = planned_exports(storage, dates);
    if ctx.json {
        println!(
            "{:#}",
            serde_json::json!({"ok": true, "dry_run": true, "mode": storage.mode, "inputs": inputs, "would_write": planned})
        );
    } else {
        println!(
            "[dry-run] {} rapport(s) calculé(s), rien n'est écrit:",
            dates.len()
        );
        for p in &planned {
            println!("  {}  CSV → {}  JSON → {}", p.date, p.csv, p.json);
        }
    }
    Ok(0)
}

/// The French name of the mode, with its icon, as the old tool printed it.
pub(crate) fn mode_banner(mode: Mode) -> (&'static str, &'static str) {
    match mode {
        Mode::Local => ("🏠", "LOCAL DÉVELOPPEMENT"),
        Mode::Aws => ("☁️ ", "AWS PRODUCTION"),
    }
}

fn banner(ctx: &Context, storage: &Storage, csv: &TargetOutcome, json: &TargetOutcome) {
    let mark = |o: &TargetOutcome| if o.ok { "✓" } else { "✗ ÉCHEC" };
    let (icon, mode) = mode_banner(storage.mode);
    println!("\n{}", "=".repeat(60));
    if csv.ok && json.ok {
        println!("{icon} Rapport exporté en mode {mode}");
    } else if csv.ok || json.ok {
        println!("{icon} Rapport exporté PARTIELLEMENT en mode {mode}");
    } else {
        println!("{icon} ÉCHEC: rapport NON exporté en mode {mode}");
    }
    println!("   - CSV : {} {}", ctx.config.csv_target(), mark(csv));
    println!("   - JSON : {} {}", ctx.config.json_target(), mark(json));
    println!("{}", "=".repeat(60));
}
