//! # cityflow-pipeline
//!
//! "Export one day's report to the configured targets", written once: the `cityflow` CLI,
//! the Lambda function and the HTTP API call these functions and only print, answer or log
//! what they return.
//!
//! - [`metrics_day`]: the report of a day from its metrics files in an [`InputSource`] (a
//!   directory or an S3 prefix), exported to both targets.
//! - [`read_comptages`] then [`export_comptages`]: every day of a raw open-data export,
//!   streamed once from a file or an S3 object, exported `jobs` at a time.
//! - [`export_report`]: one report to both targets, concurrently, one [`TargetOutcome`]
//!   each; [`planned_exports`]: where a dry run would write.
//! - [`History`]: the previous weeks' reports of a run, from which each exported report's
//!   `evolution_vs_semaine_precedente` is computed (`cityflow_core::evolution`).
//!
//! A separate crate so that `cityflow-storage` (the factory, linked by services that only
//! read reports) does not build the open-data parser, and the parser does not know about
//! targets.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use cityflow_core::{
    add_metrics_sections, generate_from_source, generate_kinds_from_source, render_csv, BlobKey,
    BlobSinkExt, DailyReport, Error, ErrorKind, Evolution, Generated, InputSource, InputVersion,
    MetricsKind, Provenance, Result, SectionFrom, SectionOrigin, StoredReport, Timestamp,
};
use cityflow_ingest::{ingest_reader, DaySelection, Ingested, NoProgress, Progress};
use cityflow_storage::Storage;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

mod history;
pub mod raw;
pub use history::History;
pub use raw::{RawFile, RawKind, RawLayout, RawRead, RawRequest, RawSections};

/// Caps glibc's malloc arenas at one, unless `MALLOC_ARENA_MAX` is set: call it first thing
/// in `main`, before any thread exists (the `cityflow` CLI and the Lambda function do).
///
/// glibc gives each thread that allocates its own arena. The blocks the reader thread hands
/// to the parsing workers (and, for S3 inputs, the buffers filled on the runtime's threads)
/// are freed in other threads' arenas, which keep the memory. Measured on the 14-day file
/// (3,348 arcs), median peak RSS from disk 72 → 60-62 MB, from S3 86 → 67 MB, at the same speed
/// (README, Performance). Does nothing on other C libraries.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: a documented glibc tunable; called before other threads allocate.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

/// The outcome of one export to one target, as `cityflow … --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetOutcome {
    /// `csv` or `json`.
    pub format: &'static str,
    /// `localdir`, `s3`, `file`, `mongodb`, `dynamodb`.
    pub backend: String,
    /// The target, described for people, secrets redacted.
    pub target: String,
    pub ok: bool,
    /// Where it went, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of the error (`unavailable`, `configuration`, …), for callers that decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Why nothing was written although nothing failed: the target keeps a report built
    /// from newer inputs (the CSV follows its JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl TargetOutcome {
    fn new(format: &'static str, backend: String, target: String, r: Result<String>) -> Self {
        let (ok, location, error, error_kind) = match r {
            Ok(location) => (true, Some(location), None, None),
            Err(e) => (false, None, Some(e.to_string()), Some(e.kind().to_string())),
        };
        TargetOutcome {
            format,
            backend,
            target,
            ok,
            location,
            error,
            error_kind,
            skipped: None,
        }
    }

    fn skipped(format: &'static str, backend: String, target: String, why: String) -> Self {
        TargetOutcome {
            format,
            backend,
            target,
            ok: true,
            location: None,
            error: None,
            error_kind: None,
            skipped: Some(why),
        }
    }
}

/// One day's exports: the CSV's and the JSON's outcomes, and the warnings of its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayExport {
    pub date: NaiveDate,
    pub csv: TargetOutcome,
    pub json: TargetOutcome,
    /// The map of the day, when one was drawn (the road sections came from raw comptages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<TargetOutcome>,
    pub warnings: Vec<String>,
}

impl DayExport {
    /// Both targets succeeded (or had nothing to do).
    pub fn ok(&self) -> bool {
        self.csv.ok && self.json.ok && self.map.as_ref().is_none_or(|m| m.ok)
    }

    /// The stored report was built from newer inputs: nothing was written, nothing failed.
    pub fn superseded(&self) -> Option<&str> {
        self.json.skipped.as_deref()
    }

    /// Both targets not written, for one reason found before any write (an input of the day).
    fn not_attempted(storage: &Storage, date: NaiveDate, e: &Error) -> Self {
        let failed = |format, backend, target| TargetOutcome {
            format,
            backend,
            target,
            ok: false,
            location: None,
            error: Some(e.to_string()),
            error_kind: Some(e.kind().to_string()),
            skipped: None,
        };
        DayExport {
            date,
            csv: failed("csv", csv_backend(storage), storage.blobs.describe()),
            json: failed("json", json_backend(storage), storage.reports.describe()),
            map: None,
            warnings: Vec::new(),
        }
    }
}

fn csv_backend(storage: &Storage) -> String {
    format!("{:?}", storage.csv_backend).to_lowercase()
}

fn json_backend(storage: &Storage) -> String {
    storage.json_backend.label().to_lowercase()
}

/// How many times the CSV is rewritten to follow its JSON under concurrent writers.
const CSV_FOLLOW_ROUNDS: usize = 5;

/// Exports `report`, built from `provenance` (when known), to both targets.
///
/// Both writes go out at once. The JSON write is conditional: a store holding the day's
/// report built from newer inputs refuses it ([`cityflow_core::ErrorKind::Superseded`]);
/// then nothing failed and both outcomes say `skipped`. The CSV follows its JSON: once both
/// writes are done, the stored JSON is read back and, while it does not render to the CSV
/// last written (a newer build landed meanwhile, or ours was refused), the CSV is rewritten
/// from the stored report — so that after any interleaving of writers both targets reflect
/// the newest inputs. When the JSON target fails, the CSV stands as written (the targets are
/// independent). Each target's failure is in its outcome, never an early return.
pub async fn export_report(
    storage: &Storage,
    report: &DailyReport,
    provenance: Option<Provenance>,
) -> DayExport {
    export_tables(storage, report, provenance, None).await
}

/// [`export_report`], and the map of the day (`map`: its SVG) to the maps' sink.
///
/// The map is written once the JSON is stored (beside the CSV's check against it), and only
/// then: a build refused because the stored report comes from newer inputs writes no map. A
/// map cannot be redrawn from a stored report (it needs the geometries), so where two builds
/// of a day race, each map carries the `built_from.newest_modified_ms` of its report and the
/// HTTP API serves a map only with the report it belongs to.
pub async fn export_report_and_map(
    storage: &Storage,
    report: &DailyReport,
    provenance: Option<Provenance>,
    map: Option<String>,
) -> DayExport {
    export_tables(storage, report, provenance, map).await
}

/// Writes the map of `date`.
async fn export_map(storage: &Storage, date: NaiveDate, svg: String) -> TargetOutcome {
    let written = storage
        .maps
        .put(
            &BlobKey::day_map(date),
            bytes::Bytes::from(svg),
            cityflow_ingest::map::MAP_CONTENT_TYPE,
        )
        .await;
    TargetOutcome::new(
        "svg",
        csv_backend(storage),
        storage.maps.describe(),
        written,
    )
}

/// The map's outcome when the report was not stored (refused or failed): not written.
fn map_not_written(storage: &Storage, why: &str) -> TargetOutcome {
    TargetOutcome::skipped(
        "svg",
        csv_backend(storage),
        storage.maps.describe(),
        format!("the report was not stored ({why}): no map"),
    )
}

/// The CSV and the JSON of [`export_report`], and the map when there is one.
async fn export_tables(
    storage: &Storage,
    report: &DailyReport,
    provenance: Option<Provenance>,
    map: Option<String>,
) -> DayExport {
    let has_map = map.is_some();
    let (csv_backend, json_backend) = (csv_backend(storage), json_backend(storage));
    let (csv_target, json_target) = (storage.blobs.describe(), storage.reports.describe());
    let mut envelope = StoredReport::new(report.clone(), Timestamp::now());
    if let Some(p) = provenance {
        envelope = envelope.built_from(p);
    }
    let csv = render_csv(report);
    let (json_result, csv_result) = tokio::join!(
        storage.reports.put(&envelope),
        storage.blobs.put_report_csv(report.date, csv.clone())
    );
    let (csv, json, map) = match (json_result, csv_result) {
        (Err(e), _) if e.kind() == ErrorKind::Superseded => {
            let why = e.to_string();
            // Our CSV may have landed over the newer one: put the stored report's back.
            let csv = match follow_stored_json(storage, report.date, None).await {
                Ok(_) => TargetOutcome::skipped(
                    "csv",
                    csv_backend,
                    csv_target,
                    format!("follows its JSON: {why}"),
                ),
                Err(e) => TargetOutcome::new("csv", csv_backend, csv_target, Err(e)),
            };
            let map = has_map.then(|| map_not_written(storage, "superseded"));
            (
                csv,
                TargetOutcome::skipped("json", json_backend, json_target, why),
                map,
            )
        }
        (Err(e), csv) => (
            TargetOutcome::new("csv", csv_backend, csv_target, csv),
            TargetOutcome::new("json", json_backend, json_target, Err(e)),
            has_map.then(|| map_not_written(storage, "its JSON failed")),
        ),
        (Ok(location), Err(e)) => {
            let map = match map {
                Some(svg) => Some(export_map(storage, report.date, svg).await),
                None => None,
            };
            (
                TargetOutcome::new("csv", csv_backend, csv_target, Err(e)),
                TargetOutcome::new("json", json_backend, json_target, Ok(location)),
                map,
            )
        }
        (Ok(location), Ok(csv_location)) => {
            // The map goes out while the CSV is checked against the stored JSON.
            let (csv, map) =
                tokio::join!(follow_stored_json(storage, report.date, Some(csv)), async {
                    match map {
                        Some(svg) => Some(export_map(storage, report.date, svg).await),
                        None => None,
                    }
                });
            (
                TargetOutcome::new("csv", csv_backend, csv_target, csv.map(|_| csv_location)),
                TargetOutcome::new("json", json_backend, json_target, Ok(location)),
                map,
            )
        }
    };
    DayExport {
        date: report.date,
        csv,
        json,
        map,
        warnings: Vec::new(),
    }
}

/// Makes the CSV of `date` follow the stored JSON: `written` is the CSV last written for that
/// date (none: unknown). The CSV is compared by content, so concurrent runs of the same inputs
/// (whose envelopes differ only by their timestamps) agree at once. Returns its location.
async fn follow_stored_json(
    storage: &Storage,
    date: NaiveDate,
    mut written: Option<String>,
) -> Result<String> {
    for _ in 0..CSV_FOLLOW_ROUNDS {
        let stored = storage.reports.get(date).await?;
        let csv = render_csv(&stored.report);
        if written.as_ref() == Some(&csv) {
            return Ok(storage.blobs.location(&BlobKey::report_csv(date)));
        }
        if written.is_some() {
            tracing::info!(%date, "the stored report changed while its CSV was written; following it");
        }
        storage.blobs.put_report_csv(date, csv.clone()).await?;
        written = Some(csv);
    }
    Err(Error::Unavailable {
        target: storage.blobs.describe(),
        message: format!(
            "the report for {date} kept changing while its CSV was written ({CSV_FOLLOW_ROUNDS} \
             rounds); run again"
        ),
        source: None,
    })
}

/// Where a report would be written: the CSV's location and the JSON's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedExport {
    pub date: NaiveDate,
    pub csv: String,
    pub json: String,
}

/// Where the reports of `dates` would go, without touching any target.
pub fn planned_exports(storage: &Storage, dates: &[NaiveDate]) -> Vec<PlannedExport> {
    dates
        .iter()
        .map(|d| PlannedExport {
            date: *d,
            csv: storage.blobs.location(&BlobKey::report_csv(*d)),
            json: format!(
                "{} ({})",
                storage.reports.describe(),
                cityflow_core::report_id(*d)
            ),
        })
        .collect()
}

/// A day built from metrics files, and its export (none in a dry run).
#[derive(Debug, Clone)]
pub struct MetricsDay {
    pub generated: Generated,
    pub export: Option<DayExport>,
}

/// The report of `date` from the metrics files in `source`, exported to `storage` unless
/// `dry_run`. Every input problem (no file at all, a malformed one) is an error before the
/// first write, so a bad run exports nothing; missing files are warnings, logged and
/// returned. The report's evolution is computed from `history` and the report store (a
/// reference that cannot be read is a warning, never a failure); a dry run reads no store
/// and leaves it [not computed](cityflow_core::Evolution::not_computed).
pub async fn metrics_day(
    storage: &Storage,
    source: &dyn InputSource,
    date: NaiveDate,
    dry_run: bool,
    history: &History,
) -> Result<MetricsDay> {
    let mut generated = generate_from_source(source, date, Timestamp::now()).await?;
    for w in &generated.warnings {
        tracing::warn!("{w}");
    }
    let export = if dry_run {
        // Everything an export computes, nothing written.
        render_csv(&generated.report);
        None
    } else {
        history.remember(&generated.report);
        let warnings = history
            .fill_evolution(storage.reports.as_ref(), &mut generated.report)
            .await;
        for w in &warnings {
            tracing::warn!("{w}");
        }
        generated.warnings.extend(warnings);
        let provenance = Some(generated.provenance.clone());
        let mut export = export_report(storage, &generated.report, provenance).await;
        export.warnings = generated.warnings.clone();
        log_failures(&export);
        Some(export)
    };
    Ok(MetricsDay { generated, export })
}

fn log_failures(export: &DayExport) {
    if let Some(why) = export.superseded() {
        tracing::info!(date = %export.date, "not replaced: {why}");
    }
    for failed in [&export.csv, &export.json].into_iter().filter(|o| !o.ok) {
        tracing::error!(
            date = %export.date,
            format = failed.format,
            target = %failed.target,
            "export failed: {}",
            failed.error.as_deref().unwrap_or("")
        );
    }
}

/// A raw open-data export read once: its figures and the days to report.
#[derive(Debug)]
pub struct ComptagesRead {
    /// Where it was read from (a path, an `s3://` URL).
    pub input: String,
    pub ingested: Arc<Ingested>,
    /// The selected days that have rows: the ones to export, sorted.
    pub days: Vec<NaiveDate>,
    /// The selected days without any row: skipped (a range only).
    pub days_without_rows: Vec<NaiveDate>,
    pub read_seconds: f64,
    /// The export's version, as it was opened.
    pub version: InputVersion,
}

/// Streams `name` from `source` once (plain or gzip, decoded on the fly; never the whole
/// input in memory) and computes the figures of the selected days. Malformed lines are
/// counted and the first ones logged. A `One` day without rows, or a selection without any
/// valid row, is an [`Error::InvalidInput`]; an S3 download cut and not resumed is the
/// source's [`Error::Unavailable`].
pub async fn read_comptages(
    source: &dyn InputSource,
    name: &str,
    selection: DaySelection,
    progress: Arc<dyn Progress + Send>,
) -> Result<ComptagesRead> {
    read_comptages_checked(source, name, selection, progress, true).await
}

/// [`read_comptages`], but a selection without any row is not an error when `require_rows`
/// is false: the read then has no day (a layout's newest export that does not cover the day
/// asked for; its road sections then come from metrics).
async fn read_comptages_checked(
    source: &dyn InputSource,
    name: &str,
    selection: DaySelection,
    progress: Arc<dyn Progress + Send>,
    require_rows: bool,
) -> Result<ComptagesRead> {
    let input = source.location(name);
    let stream = source.open(name).await?;
    let version = stream.version.clone();
    let started = std::time::Instant::now();
    let path = input.clone();
    let ingested = tokio::task::spawn_blocking(move || {
        ingest_reader(
            Path::new(&path),
            stream.reader,
            stream.size,
            selection,
            0,
            &*progress,
        )
    })
    .await
    .map_err(|e| Error::backend("ingestion", "the reading task failed", e))?
    .map_err(Error::from)?;
    let read_seconds = started.elapsed().as_secs_f64();
    let agg = &ingested.aggregate;
    for bad in &agg.first_bad_lines {
        tracing::warn!("{input}: line {}: {}", bad.line, bad.reason);
    }
    let with_rows = ingested.days_with_rows();
    if let (DaySelection::One(d), true) = (selection, require_rows) {
        if !with_rows.contains(&d) {
            return Err(Error::invalid_input(
                input,
                format!("no row falls on {d} (Europe/Paris); nothing exported"),
            ));
        }
    }
    let (days, days_without_rows): (Vec<NaiveDate>, Vec<NaiveDate>) =
        ingested.days.iter().partition(|d| with_rows.contains(d));
    if days.is_empty() && require_rows {
        // A header without rows, or a range the file does not cover: a run that would export
        // nothing is a mistake to report, not a success.
        let which = match selection {
            DaySelection::Range(f, t) => format!("between {f} and {t} (Europe/Paris)"),
            _ => "on any day".to_string(),
        };
        return Err(Error::invalid_input(
            input,
            format!(
                "no valid row {which} ({} rows read, {} malformed, {} Invalide); nothing exported",
                agg.stats.rows_read, agg.stats.rows_malformed, agg.stats.rows_invalide
            ),
        ));
    }
    for d in &days_without_rows {
        tracing::warn!("{input}: no row on {d}: not exported");
    }
    Ok(ComptagesRead {
        input,
        ingested: Arc::new(ingested),
        days,
        days_without_rows,
        read_seconds,
        version,
    })
}

/// The report of `date` from `read`, with the bikes, weather and chantiers sections from
/// `metrics` when given; what it was built from; the warnings of missing metrics files.
pub async fn comptages_report(
    read: &ComptagesRead,
    date: NaiveDate,
    metrics: Option<&dyn InputSource>,
) -> Result<(DailyReport, Provenance, Vec<String>)> {
    let raw = RawSections::default();
    build_day(
        &DayInputs {
            comptages: Some(read),
            metrics,
            raw: &raw,
        },
        date,
    )
    .await
}

/// Everything the reports of a run are built from. Each section comes from exactly one
/// input: the road sections from the raw comptages when given, else from the day's
/// comptages metrics file; the bikes, weather and roadworks sections from their raw source
/// when given, else from their metrics file. Never mixed; `built_from.sections` says which.
#[derive(Debug, Clone, Copy)]
pub struct DayInputs<'a> {
    pub comptages: Option<&'a ComptagesRead>,
    pub metrics: Option<&'a dyn InputSource>,
    pub raw: &'a RawSections,
}

/// The four sections of a report, as `built_from.sections` names them.
pub const SECTIONS: [&str; 4] = ["comptages", "bikes", "weather", "chantiers"];

/// Builds the report of `date` from `inputs` (see [`DayInputs`]): the report, what it was
/// built from, and the day's warnings (an input without data for the day, a section without
/// any input). A malformed metrics file is an error.
pub async fn build_day(
    inputs: &DayInputs<'_>,
    date: NaiveDate,
) -> Result<(DailyReport, Provenance, Vec<String>)> {
    build_day_with_map(inputs, date)
        .await
        .map(|b| (b.report, b.provenance, b.warnings))
}

/// A day built by [`build_day_with_map`].
#[derive(Debug, Clone)]
pub struct BuiltDay {
    pub report: DailyReport,
    pub provenance: Provenance,
    pub warnings: Vec<String>,
    /// Each arc's mean occupancy that day (NaN: none), from the same figures as the report,
    /// when the road sections come from the raw comptages: what [`BuiltDay::draw_map`]
    /// colours. Four bytes an arc, not the SVG: a backfill builds every day before it exports
    /// any.
    pub occupancy: Option<Vec<f32>>,
}

impl BuiltDay {
    /// The map of the day (SVG), when it has one: its arcs from `inputs`' comptages, its top
    /// 10, and the day's roadworks and bike counters when `inputs` has them raw.
    pub fn draw_map(&self, inputs: &DayInputs<'_>) -> Option<String> {
        let read = inputs.comptages?;
        let occupancy = self.occupancy.as_ref()?;
        Some(draw_map(
            read,
            inputs.raw,
            &self.report,
            occupancy,
            self.provenance.newest_modified_ms,
        ))
    }
}

/// [`build_day`], and the map of the day when the road sections come from the raw comptages
/// (they alone carry the arcs' geometries): drawn from the same figures as the report, with
/// the day's active roadworks and bike counters when those come from raw data.
pub async fn build_day_with_map(inputs: &DayInputs<'_>, date: NaiveDate) -> Result<BuiltDay> {
    let mut warnings = Vec::new();
    let mut versions = Vec::new();
    let mut origins = BTreeMap::new();
    let other_kinds = inputs.raw.metrics_kinds();
    let metrics_origin = |location: String| SectionOrigin {
        from: SectionFrom::Metrics,
        inputs: vec![location],
    };
    // The road sections: the raw export when it has rows on the day; else the day's
    // comptages metrics file when there is a metrics source; else empty.
    let raw_road = inputs.comptages.filter(|r| r.days.contains(&date));
    if let (Some(read), None) = (inputs.comptages, raw_road) {
        warnings.push(match inputs.metrics {
            Some(_) => format!(
                "{}: no row on {date}: the road sections come from metrics",
                read.input
            ),
            None => format!(
                "{}: no row on {date}: the road sections are empty",
                read.input
            ),
        });
        if inputs.metrics.is_none() {
            versions.push(read.version.clone());
            origins.insert(
                "comptages".to_string(),
                SectionOrigin {
                    from: SectionFrom::Raw,
                    inputs: vec![read.input.clone()],
                },
            );
        }
    }
    let mut road_occupancy = None;
    let mut report = if let Some(read) = raw_road {
        versions.push(read.version.clone());
        origins.insert(
            "comptages".to_string(),
            SectionOrigin {
                from: SectionFrom::Raw,
                inputs: vec![read.input.clone()],
            },
        );
        // Building a day's figures is CPU work (every arc of the file): on the blocking
        // pool, so that `export_days` builds `jobs` days on all cores instead of one.
        let ingested = read.ingested.clone();
        let (report, occupancy) = tokio::task::spawn_blocking(move || {
            ingested.report_with_occupancy(date, Timestamp::now())
        })
        .await
        .map_err(|e| Error::backend("ingestion", "building a report failed", e))?;
        road_occupancy = Some(
            occupancy
                .into_iter()
                .map(|o| o.map_or(f32::NAN, |o| o as f32))
                .collect::<Vec<f32>>(),
        );
        report
    } else if let Some(metrics) = inputs.metrics {
        let mut kinds = vec![MetricsKind::Comptages];
        kinds.extend(other_kinds.iter().copied());
        // With no raw input at all, a day without any metrics file is an error (nothing to
        // build from); otherwise missing files are warnings.
        let require_any = inputs.raw.is_empty() && inputs.comptages.is_none();
        let g = generate_kinds_from_source(metrics, date, Timestamp::now(), &kinds, require_any)
            .await?;
        warnings.extend(g.warnings);
        versions.extend(g.provenance.inputs);
        for (kind, location) in g.kinds.iter().zip(g.inputs) {
            origins.insert(kind.to_string(), metrics_origin(location));
        }
        g.report
    } else {
        empty_report(date)
    };
    if let (Some(_), Some(metrics)) = (raw_road, inputs.metrics) {
        let sections = add_metrics_sections(metrics, &mut report, &other_kinds).await?;
        versions.extend(sections.inputs);
        warnings.extend(sections.warnings);
        for (kind, location) in sections.read {
            origins.insert(kind.to_string(), metrics_origin(location));
        }
    }
    let (raw_warnings, raw_versions, raw_origins) = inputs.raw.apply(&mut report);
    warnings.extend(raw_warnings);
    versions.extend(raw_versions);
    origins.extend(raw_origins);
    for section in SECTIONS {
        if !origins.contains_key(section) {
            if inputs.metrics.is_none() {
                warnings.push(format!(
                    "{section}: no input given: {}",
                    empty_sections(section)
                ));
            }
            origins.insert(
                section.to_string(),
                SectionOrigin {
                    from: SectionFrom::None,
                    inputs: Vec::new(),
                },
            );
        }
    }
    let mut provenance = Provenance::of(versions);
    provenance.sections = origins;
    Ok(BuiltDay {
        report,
        provenance,
        warnings,
        occupancy: road_occupancy,
    })
}

/// The map of `report`'s day: the arcs of `read` coloured by `occupancy`, its top 10, and
/// the day's roadworks and bike counters from `raw`.
fn draw_map(
    read: &ComptagesRead,
    raw: &RawSections,
    report: &DailyReport,
    occupancy: &[f32],
    built_from_ms: i64,
) -> String {
    use cityflow_ingest::map::{DayMap, MapCounter, MapRoadwork};
    let date = report.date;
    let roadworks = raw
        .chantiers
        .as_ref()
        .map(|c| c.data.rows_active_on(date))
        .unwrap_or_default();
    let bikes = raw.bikes.as_ref().map(|b| &b.data);
    let counters = bikes
        .map(|b| {
            b.counts_on(date)
                .into_iter()
                .filter_map(|(i, count)| {
                    let counter = &b.counters()[i];
                    counter.point.map(|point| MapCounter {
                        name: &counter.name,
                        point,
                        count,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    DayMap {
        date: Some(date),
        arcs: read.ingested.map_arcs(
            &occupancy
                .iter()
                .map(|o| (!o.is_nan()).then_some(f64::from(*o)))
                .collect::<Vec<_>>(),
        ),
        top: report
            .top_10_troncons_frequentes
            .iter()
            .map(|a| a.identifiant_arc.as_str())
            .collect(),
        roadworks: roadworks
            .iter()
            .filter_map(|r| {
                r.shape.as_ref().map(|shape| MapRoadwork {
                    id: &r.roadwork.identifiant,
                    shape,
                })
            })
            .collect(),
        counters,
        built_from_ms: Some(built_from_ms),
    }
    .render()
}

/// What is empty when `section` has no input.
fn empty_sections(section: &str) -> &'static str {
    let kind = match section {
        "bikes" => MetricsKind::Bikes,
        "weather" => MetricsKind::Weather,
        "chantiers" => MetricsKind::Chantiers,
        _ => MetricsKind::Comptages,
    };
    kind.sections()
}

/// A report without any figure yet (its evolution not computed).
fn empty_report(date: NaiveDate) -> DailyReport {
    let mut report = DailyReport::empty(date, Timestamp::now());
    report.evolution_vs_semaine_precedente = Evolution::not_computed(date);
    report
}

/// A report, what it was built from, and the warnings of its inputs.
type BuiltReport = BuiltDay;

/// Every day of a comptages run, exported.
#[derive(Debug, Clone)]
pub struct ComptagesExport {
    /// One per day, sorted by date.
    pub exports: Vec<DayExport>,
    /// Each built report's week-over-week comparison, as exported.
    pub evolutions: BTreeMap<NaiveDate, Evolution>,
    /// What each built report was built from.
    pub provenances: BTreeMap<NaiveDate, Provenance>,
    /// Building, rendering and exporting every report to both targets: what a backfill costs
    /// after the read.
    pub export_seconds: f64,
    pub reports_per_second: f64,
}

impl ComptagesExport {
    pub fn ok(&self) -> bool {
        self.exports.iter().all(DayExport::ok)
    }
}

/// Builds and exports the report of every day of `read`, `jobs` days at a time (at least
/// one), calling `on_day` as each finishes (for a progress bar). A day whose metrics file is
/// malformed fails on both targets with that reason; the other days go on.
///
/// Every report is built first and remembered in `history`, then each gets its evolution and
/// is exported: a day compares with a previous week of the same run even before that week
/// is exported, or when its export failed.
pub async fn export_comptages(
    storage: &Storage,
    read: &ComptagesRead,
    metrics: Option<Arc<dyn InputSource>>,
    jobs: usize,
    history: &History,
    on_day: &(dyn Fn(&DayExport) + Sync),
) -> ComptagesExport {
    let raw = RawSections::default();
    let inputs = DayInputs {
        comptages: Some(read),
        metrics: metrics.as_deref(),
        raw: &raw,
    };
    export_days(storage, &inputs, &read.days, jobs, history, on_day).await
}

/// Builds and exports the report of each of `days` from `inputs`, `jobs` days at a time:
/// [`export_comptages`] for any inputs.
pub async fn export_days(
    storage: &Storage,
    inputs: &DayInputs<'_>,
    days: &[NaiveDate],
    jobs: usize,
    history: &History,
    on_day: &(dyn Fn(&DayExport) + Sync),
) -> ComptagesExport {
    let started = std::time::Instant::now();
    let jobs = jobs.max(1);
    let built: Vec<(NaiveDate, Result<BuiltReport>)> = stream::iter(days.iter().copied())
        .map(|date| async move { (date, build_day_with_map(inputs, date).await) })
        .buffered(jobs)
        .collect()
        .await;
    for (_, report) in &built {
        if let Ok(built) = report {
            history.remember(&built.report);
        }
    }
    let done: Vec<(DayExport, Option<(Evolution, Provenance)>)> = stream::iter(built)
        .map(|(date, built)| async move {
            let (export, evolution) = match built {
                Ok(built) => {
                    let map = built.draw_map(inputs);
                    let BuiltDay {
                        mut report,
                        provenance,
                        mut warnings,
                        ..
                    } = built;
                    let kept = provenance.clone();
                    warnings.extend(
                        history
                            .fill_evolution(storage.reports.as_ref(), &mut report)
                            .await,
                    );
                    let export = DayExport {
                        warnings,
                        ..export_report_and_map(storage, &report, Some(provenance), map).await
                    };
                    (export, Some((report.evolution_vs_semaine_precedente, kept)))
                }
                Err(e) => (DayExport::not_attempted(storage, date, &e), None),
            };
            on_day(&export);
            (export, evolution)
        })
        .buffer_unordered(jobs)
        .collect()
        .await;
    let export_seconds = started.elapsed().as_secs_f64();
    let mut exports = Vec::with_capacity(done.len());
    let mut evolutions = BTreeMap::new();
    let mut provenances = BTreeMap::new();
    for (export, built) in done {
        if let Some((e, p)) = built {
            evolutions.insert(export.date, e);
            provenances.insert(export.date, p);
        }
        exports.push(export);
    }
    exports.sort_by_key(|e| e.date);
    for e in &exports {
        for w in &e.warnings {
            tracing::warn!("{w}");
        }
        log_failures(e);
    }
    ComptagesExport {
        reports_per_second: if export_seconds > 0.0 {
            exports.len() as f64 / export_seconds
        } else {
            0.0
        },
        exports,
        evolutions,
        provenances,
        export_seconds,
    }
}

/// A dry run of [`export_comptages`]: every report built, its metrics sections read and its
/// CSV rendered, nothing written; the first input problem is an error.
pub async fn dry_run_comptages(
    read: &ComptagesRead,
    metrics: Option<&dyn InputSource>,
) -> Result<()> {
    let raw = RawSections::default();
    let inputs = DayInputs {
        comptages: Some(read),
        metrics,
        raw: &raw,
    };
    dry_run_days(&inputs, &read.days).await.map(|_| ())
}

/// A dry run of [`export_days`]: every report built and its CSV rendered, nothing written;
/// the first input problem is an error. Returns each day's provenance and warnings (not the
/// reports: a year of them is not to be held).
pub async fn dry_run_days(
    inputs: &DayInputs<'_>,
    days: &[NaiveDate],
) -> Result<Vec<(Provenance, Vec<String>)>> {
    let mut out = Vec::with_capacity(days.len());
    for d in days {
        let (report, provenance, warnings) = build_day(inputs, *d).await?;
        render_csv(&report);
        out.push((provenance, warnings));
    }
    Ok(out)
}

/// A run over raw inputs, read once: the comptages (when any), the other raw sections, the
/// days to report and the warnings of the run as a whole.
#[derive(Debug)]
pub struct RawRun {
    pub comptages: Option<ComptagesRead>,
    pub sections: RawSections,
    /// The selected days: `One` → that day; a range → its days that a dated source covers
    /// (every day of it when only roadworks are given); `All` → every day a dated source
    /// covers (comptages rows, bike records, weather days).
    pub days: Vec<NaiveDate>,
    pub warnings: Vec<String>,
}

impl RawRun {
    /// The inputs of each day, with `metrics` for the sections without a raw source.
    pub fn inputs<'a>(&'a self, metrics: Option<&'a dyn InputSource>) -> DayInputs<'a> {
        DayInputs {
            comptages: self.comptages.as_ref(),
            metrics,
            raw: &self.sections,
        }
    }

    /// Every input read, as users will see it.
    pub fn input_locations(&self) -> Vec<String> {
        let raw = &self.sections;
        self.comptages
            .iter()
            .map(|r| r.input.clone())
            .chain(
                raw.bikes
                    .iter()
                    .flat_map(|b| b.files.iter().map(|(_, v)| v.location.clone())),
            )
            .chain(
                raw.weather
                    .iter()
                    .flat_map(|b| b.files.iter().map(|(_, v)| v.location.clone())),
            )
            .chain(
                raw.chantiers
                    .iter()
                    .flat_map(|b| b.files.iter().map(|(_, v)| v.location.clone())),
            )
            .collect()
    }
}

/// Reads every raw input of `request` for `selection`: the bikes, weather and roadworks
/// first, then the comptages (the long read; `progress` follows it). Every input problem is
/// an error before anything is written: a malformed file, a source named but empty, `--all`
/// without a dated source, a selection no source covers.
pub async fn read_raw_run(
    config: &cityflow_storage::StorageConfig,
    request: &raw::RawRequest,
    selection: DaySelection,
    progress: Arc<dyn Progress + Send>,
) -> Result<RawRun> {
    read_raw(config, request, selection, progress, true).await
}

/// The raw inputs of exactly `days` (a scheduled run, an S3 notification): as
/// [`read_raw_run`], but nothing is required: a source the layout lacks, or that has no data
/// on a day, leaves that day's section to the metrics files.
pub async fn read_raw_days(
    config: &cityflow_storage::StorageConfig,
    request: &raw::RawRequest,
    days: &[NaiveDate],
) -> Result<RawRun> {
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return Err(Error::invalid_input("raw inputs", "no day to build"));
    };
    let selection = if first == last {
        DaySelection::One(*first)
    } else {
        DaySelection::Range(*first, *last)
    };
    let mut run = read_raw(config, request, selection, Arc::new(NoProgress), false).await?;
    run.days = days.to_vec();
    Ok(run)
}

async fn read_raw(
    config: &cityflow_storage::StorageConfig,
    request: &raw::RawRequest,
    selection: DaySelection,
    progress: Arc<dyn Progress + Send>,
    strict: bool,
) -> Result<RawRun> {
    let range = match selection {
        DaySelection::One(d) => Some((d, d)),
        DaySelection::Range(f, t) => Some((f, t)),
        DaySelection::All => None,
    };
    let found = raw::resolve_sources(config, request, range).await?;
    if strict
        && selection == DaySelection::All
        && found.comptages.is_none()
        && found.bikes.is_none()
        && found.weather.is_none()
    {
        return Err(Error::invalid_input(
            "--all",
            "--all needs a dated source (comptages, bikes or weather): roadworks cover ranges, \
             give --date or --from/--to",
        ));
    }
    let mut warnings = found.warnings;
    let sections = RawSections::read(found.bikes, found.weather, found.chantiers).await?;
    warnings.extend(sections.run_warnings());
    let comptages = match &found.comptages {
        Some(file) => {
            Some(read_comptages(&*file.source, &file.listed.name, selection, progress).await?)
        }
        None => None,
    };
    let mut covered: std::collections::BTreeSet<NaiveDate> = sections.days();
    if let Some(r) = &comptages {
        covered.extend(r.days.iter().copied());
    }
    let dated = comptages.is_some() || sections.bikes.is_some() || sections.weather.is_some();
    let days: Vec<NaiveDate> = match selection {
        DaySelection::One(d) => vec![d],
        DaySelection::Range(f, t) if !dated => f.iter_days().take_while(|d| *d <= t).collect(),
        DaySelection::Range(f, t) => covered.range(f..=t).copied().collect(),
        DaySelection::All => covered.into_iter().collect(),
    };
    if days.is_empty() && strict {
        let which = match selection {
            DaySelection::Range(f, t) => format!("between {f} and {t}"),
            _ => "on any day".to_string(),
        };
        return Err(Error::invalid_input(
            "raw inputs",
            format!("no raw input has data {which}; nothing exported"),
        ));
    }
    Ok(RawRun {
        comptages,
        sections,
        days,
        warnings,
    })
}
