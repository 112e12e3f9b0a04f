//! `cityflow report generate`: build the day's report, export CSV and JSON.

use chrono::{NaiveDate, Utc};
use cityflow_core::{
    generate_from_metrics_dir, render_csv, BlobSinkExt, Error, ReportStoreExt, Timestamp,
};
use cityflow_storage::{Mode, Storage};
use serde::Serialize;

use super::{parse_date_arg, Context};
use crate::cli::GenerateArgs;
use crate::exit::{Failure, FAILURE};

/// The outcome of one export, as `--json` prints it.
#[derive(Debug, Serialize)]
struct ExportOutcome {
    format: &'static str,
    backend: String,
    target: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<String>,
}

impl ExportOutcome {
    fn new(
        format: &'static str,
        backend: String,
        target: String,
        r: Result<String, Error>,
    ) -> Self {
        let (ok, location, error, error_kind) = match r {
            Ok(location) => (true, Some(location), None, None),
            Err(e) => (false, None, Some(e.to_string()), Some(e.kind().to_string())),
        };
        ExportOutcome {
            format,
            backend,
            target,
            ok,
            location,
            error,
            error_kind,
        }
    }
}

/// Yesterday in Europe/Paris: the day a morning run reports on.
pub(crate) fn yesterday_in_paris() -> NaiveDate {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    today.pred_opt().unwrap_or(today)
}

pub async fn run(ctx: &Context, args: GenerateArgs) -> Result<u8, Failure> {
    let date = match (&args.date, ctx.config.report_date) {
        (Some(d), _) => parse_date_arg("--date", d)?,
        (None, Some(d)) => d,
        (None, None) => yesterday_in_paris(),
    };
    let metrics_dir = args
        .metrics_dir
        .clone()
        .unwrap_or_else(|| ctx.config.metrics_dir.clone());

    // Everything that can be wrong with the input or the configuration is found before the
    // first write, so a bad run exports nothing.
    let generated = generate_from_metrics_dir(&metrics_dir, date, Timestamp::now())?;
    let storage = cityflow_storage::build(&ctx.config).await?;
    for w in &generated.warnings {
        tracing::warn!("{w}");
    }
    let report = &generated.report;
    let csv = render_csv(report);
    let human = !ctx.json;
    if args.dry_run {
        return dry_run(ctx, &storage, &[date], generated.inputs.len());
    }

    if human {
        println!("Rapport quotidien du {date}");
        println!(
            "  ✓ {} fichier(s) métriques lu(s) depuis {}",
            generated.inputs.len(),
            metrics_dir.display()
        );
        println!("\n[Export CSV] → {}", ctx.config.csv_target());
    }
    let csv_outcome = ExportOutcome::new(
        "csv",
        format!("{:?}", storage.csv_backend).to_lowercase(),
        storage.blobs.describe(),
        storage.blobs.put_report_csv(date, csv).await,
    );
    if human {
        match (&csv_outcome.location, &csv_outcome.error) {
            (Some(loc), _) => println!("✓ Rapport CSV: {loc}"),
            (_, Some(err)) => println!("✗ Échec de l'export CSV: {err}"),
            _ => {}
        }
        println!("\n[Export JSON] → {}", storage.json_backend.label());
    }
    let json_outcome = ExportOutcome::new(
        "json",
        storage.json_backend.label().to_lowercase(),
        storage.reports.describe(),
        storage.reports.put_report(report, Timestamp::now()).await,
    );
    if human {
        match (&json_outcome.location, &json_outcome.error) {
            (Some(loc), _) => println!(
                "✓ Rapport JSON exporté vers {}: {loc}",
                storage.json_backend.label()
            ),
            (_, Some(err)) => println!(
                "✗ Échec de l'export JSON vers {}: {err}",
                storage.json_backend.label()
            ),
            _ => {}
        }
        banner(ctx, &storage, &csv_outcome, &json_outcome);
    }

    let ok = csv_outcome.ok && json_outcome.ok;
    if ctx.json {
        let out = serde_json::json!({
            "ok": ok,
            "exit_code": if ok { 0 } else { FAILURE },
            "date": date,
            "mode": storage.mode,
            "inputs": generated.inputs,
            "warnings": generated.warnings,
            "exports": [csv_outcome, json_outcome],
        });
        println!("{out:#}");
    }
    for failed in [&csv_outcome, &json_outcome].into_iter().filter(|o| !o.ok) {
        tracing::error!(
            format = failed.format,
            target = %failed.target,
            "export failed: {}",
            failed.error.as_deref().unwrap_or("")
        );
    }
    Ok(if ok { 0 } else { FAILURE })
}

/// `--dry-run`: what would be written where; nothing is.
pub(crate) fn dry_run(
    ctx: &Context,
    storage: &Storage,
    dates: &[NaiveDate],
    inputs: usize,
) -> Result<u8, Failure> {
    let targets: Vec<serde_json::Value> = dates
        .iter()
        .map(|d| {
            serde_json::json!({
                "date": d,
                "csv": storage.blobs.location(&cityflow_core::BlobKey::report_csv(*d)),
                "json": format!("{} ({})", storage.reports.describe(), cityflow_core::report_id(*d)),
            })
        })
        .collect();
    if ctx.json {
        println!(
            "{:#}",
            serde_json::json!({"ok": true, "dry_run": true, "mode": storage.mode, "inputs": inputs, "would_write": targets})
        );
    } else {
        println!(
            "[dry-run] {} rapport(s) calculé(s), rien n'est écrit:",
            dates.len()
        );
        for t in &targets {
            println!(
                "  {}  CSV → {}  JSON → {}",
                t["date"].as_str().unwrap_or_default(),
                t["csv"].as_str().unwrap_or_default(),
                t["json"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(0)
}

fn banner(ctx: &Context, storage: &Storage, csv: &ExportOutcome, json: &ExportOutcome) {
    let mark = |o: &ExportOutcome| if o.ok { "✓" } else { "✗ ÉCHEC" };
    let all_ok = csv.ok && json.ok;
    let (icon, mode) = match storage.mode {
        Mode::Local => ("🏠", "LOCAL DÉVELOPPEMENT"),
        Mode::Aws => ("☁️ ", "AWS PRODUCTION"),
    };
    println!("\n{}", "=".repeat(60));
    if all_ok {
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
