//! # cityflow-ingest
//!
//! Computes daily reports straight from the raw open-data export "Comptage routier – données
//! trafic issues des capteurs permanents" (about 20 million rows, 6.2 GB a year), correctly:
//! each row belongs to the Europe/Paris local day of its timestamp (DST days have 23 or 25
//! hours), duplicates are counted once, `Invalide` arcs are excluded, lost time is computed
//! hour by hour, and zones are real arrondissements.
//!
//! One streaming pass computes every requested day ([`ingest`]); memory grows with the number
//! of (arc, day) pairs, not with the file; both cores are used. A separate crate from
//! `cityflow-core` so that services which only read reports do not build the parser.
//!
//! [`simulate`] writes deterministic synthetic data in the exact export schema.

mod aggregate;
pub mod bikes;
pub mod chantiers;
mod csv_input;
mod fast_hash;
mod figures;
mod geo;
mod hours;
pub mod map;
mod paris_time;
mod records;
mod scan;
pub mod simulate;
pub mod simulate_sources;
pub mod weather;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

pub use aggregate::{
    Aggregate, ArcInfo, BadLine, DayFilter, Etat, Stats, MAX_RECORD_BYTES, REPORTED_BAD_LINES,
};
pub use bikes::{BikeCounts, BikeDay, BikeStats};
pub use chantiers::{RoadworkStats, Roadworks};
pub use figures::{
    arc_day, arc_days, day_report, loss_per_vehicle_minutes, observed_speed_kmh, ArcDay,
};
pub use geo::{
    haversine_m, linestring_length_metres, parse_shape, zone_of, Points, Shape,
    ARRONDISSEMENT_CENTROIDS, MAX_ZONE_DISTANCE_M,
};
pub use paris_time::ParisClock;
pub use records::{in_france, MAX_RAW_RECORD_BYTES};
pub use weather::{WeatherDays, WeatherStats};

/// Why ingestion failed. Malformed lines are not errors: they are counted in [`Stats`].
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input cannot be used (empty, truncated gzip, unreadable bytes).
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// Required columns are missing.
    #[error("{}: {message}", path.display())]
    Columns { path: PathBuf, message: String },
    /// The source failed while being read (an S3 download cut and not resumed): the
    /// source's own error, whose kind says whether to retry.
    #[error("{0}")]
    Source(cityflow_core::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl IngestError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<IngestError> for cityflow_core::Error {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Source(e) => e,
            IngestError::Internal(m) => cityflow_core::Error::Backend {
                target: "ingestion".into(),
                message: m,
                source: None,
            },
            other => cityflow_core::Error::invalid_input("comptages input", other.to_string()),
        }
    }
}

/// Progress of the pass, for a progress bar. Every method has a no-op default.
pub trait Progress: Sync {
    /// The input's size in bytes (compressed size for gzip), 0 when unknown.
    fn start_reading(&self, _total_bytes: u64) {}
    /// Bytes of the input read so far.
    fn read(&self, _bytes: u64) {}
    fn done_reading(&self) {}
}

/// No progress reporting.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Which days to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaySelection {
    One(NaiveDate),
    /// Inclusive.
    Range(NaiveDate, NaiveDate),
    /// Every local day with at least one row.
    All,
}

/// The outcome of one pass.
#[derive(Debug)]
pub struct Ingested {
    pub aggregate: Aggregate,
    /// The days to report, sorted.
    pub days: Vec<NaiveDate>,
    clock: ParisClock,
}

impl Ingested {
    /// The report of `date` (comptages sections; add bikes, weather and chantiers yourself).
    pub fn report(
        &self,
        date: NaiveDate,
        generated_at: cityflow_core::Timestamp,
    ) -> cityflow_core::DailyReport {
        figures::day_report(&self.aggregate, &self.clock, date, generated_at)
    }

    /// The report of `date`, and each arc's mean occupancy rate that day (in the order of
    /// `aggregate.arcs`; `None` without data) for the map: one computation of the day's
    /// figures for both.
    pub fn report_with_occupancy(
        &self,
        date: NaiveDate,
        generated_at: cityflow_core::Timestamp,
    ) -> (cityflow_core::DailyReport, Vec<Option<f64>>) {
        let figures = figures::arc_days(&self.aggregate, &self.clock, date);
        let report =
            figures::day_report_of(&self.aggregate, &self.clock, date, generated_at, &figures);
        (report, figures.iter().map(ArcDay::taux_mean).collect())
    }

    /// The arcs of the map: each arc of the file with its geometry and `occupancy` (from
    /// [`Ingested::report_with_occupancy`]).
    pub fn map_arcs<'a>(&'a self, occupancy: &[Option<f64>]) -> Vec<map::MapArc<'a>> {
        self.aggregate
            .arcs
            .iter()
            .zip(occupancy.iter().copied().chain(std::iter::repeat(None)))
            .map(|(arc, occupancy)| map::MapArc {
                id: &arc.id,
                libelle: &arc.libelle,
                lines: &arc.lines,
                occupancy,
            })
            .collect()
    }

    /// The local days with at least one (non-`Invalide`) row.
    pub fn days_with_rows(&self) -> std::collections::BTreeSet<NaiveDate> {
        self.aggregate
            .days()
            .into_iter()
            .map(paris_time::date_of_day)
            .collect()
    }

    /// Per (arc, local day) with at least one row: the flow's count, sum, mean and max and the
    /// occupancy's count and mean, sorted by arc id (numerically when both are numbers) then
    /// day. Duplicates, `Invalide` rows and rejected values excluded. Computed as they are
    /// read: a year of the network is 1.2 million of them, not to be held at once.
    pub fn arc_day_aggregates(&self) -> impl Iterator<Item = ArcDayAggregate> + '_ {
        let agg = &self.aggregate;
        let mut arcs: Vec<u32> = (0..agg.arcs.len() as u32).collect();
        arcs.sort_by(|a, b| {
            figures::id_order(&agg.arcs[*a as usize].id, &agg.arcs[*b as usize].id)
        });
        arcs.into_iter().flat_map(move |arc| {
            agg.days_of(arc).map(move |day| {
                let hours = agg.hours(arc, day).expect("a day of the arc");
                let mut a = ArcDayAggregate {
                    arc_id: agg.arcs[arc as usize].id.clone(),
                    date: paris_time::date_of_day(day),
                    debit_count: 0,
                    debit_sum: 0,
                    debit_max: None,
                    taux_count: 0,
                    taux_sum: 0.0,
                };
                for s in &hours.slots {
                    if let Some(d) = s.debit() {
                        a.debit_count += 1;
                        a.debit_sum += u64::from(d);
                        a.debit_max = Some(a.debit_max.map_or(d, |m: u32| m.max(d)));
                    }
                    if let Some(t) = s.taux() {
                        a.taux_count += 1;
                        a.taux_sum += t;
                    }
                }
                a
            })
        })
    }

    /// The figures of every arc of the file on `date`.
    pub fn arc_days(&self, date: NaiveDate) -> Vec<ArcDay> {
        figures::arc_days(&self.aggregate, &self.clock, date)
    }
}

/// Plain per-(arc, day) aggregates; see [`Ingested::arc_day_aggregates`].
#[derive(Debug, Clone, PartialEq)]
pub struct ArcDayAggregate {
    pub arc_id: String,
    pub date: NaiveDate,
    pub debit_count: u32,
    pub debit_sum: u64,
    pub debit_max: Option<u32>,
    pub taux_count: u32,
    pub taux_sum: f64,
}

impl ArcDayAggregate {
    pub fn debit_mean(&self) -> Option<f64> {
        (self.debit_count > 0).then(|| self.debit_sum as f64 / f64::from(self.debit_count))
    }
    pub fn taux_mean(&self) -> Option<f64> {
        (self.taux_count > 0).then(|| self.taux_sum / f64::from(self.taux_count))
    }
}

/// Reads `path` once and prepares the reports of the selected days, with `workers` parsing
/// threads (0: one per core).
pub fn ingest(
    path: &Path,
    days: DaySelection,
    workers: usize,
    progress: &dyn Progress,
) -> Result<Ingested, IngestError> {
    let aggregate =
        aggregate::aggregate_file(path, day_filter(days), worker_count(workers), progress)?;
    Ok(Ingested::new(aggregate, days))
}

/// [`ingest`] of an input opened elsewhere (an S3 object, a pipe): `reader` is streamed once,
/// gzip recognised by its content and decoded on the fly; `name` is used in messages and
/// `total_bytes` (0 when unknown) for progress. A read error whose inner error is a
/// [`cityflow_core::Error`] comes back as [`IngestError::Source`].
pub fn ingest_reader(
    name: &Path,
    reader: Box<dyn std::io::Read + Send>,
    total_bytes: u64,
    days: DaySelection,
    workers: usize,
    progress: &dyn Progress,
) -> Result<Ingested, IngestError> {
    progress.start_reading(total_bytes);
    let aggregate = aggregate::aggregate_input(
        reader,
        name,
        day_filter(days),
        worker_count(workers),
        progress,
    )?;
    Ok(Ingested::new(aggregate, days))
}

/// [`ingest`] of an input already in memory (plain or gzip); `name` is used in messages.
pub fn ingest_bytes(
    name: &Path,
    bytes: Vec<u8>,
    days: DaySelection,
    workers: usize,
) -> Result<Ingested, IngestError> {
    let aggregate =
        aggregate::aggregate_bytes(name, bytes, day_filter(days), worker_count(workers))?;
    Ok(Ingested::new(aggregate, days))
}

fn day_filter(days: DaySelection) -> DayFilter {
    match days {
        DaySelection::One(d) => DayFilter {
            from: Some(paris_time::day_of_date(d)),
            to: Some(paris_time::day_of_date(d)),
        },
        DaySelection::Range(f, t) => DayFilter {
            from: Some(paris_time::day_of_date(f)),
            to: Some(paris_time::day_of_date(t)),
        },
        DaySelection::All => DayFilter {
            from: None,
            to: None,
        },
    }
}

fn worker_count(workers: usize) -> usize {
    if workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        workers
    }
}

impl Ingested {
    fn new(aggregate: Aggregate, days: DaySelection) -> Ingested {
        let days = match days {
            DaySelection::One(d) => vec![d],
            DaySelection::Range(f, t) => f.iter_days().take_while(|d| *d <= t).collect(),
            DaySelection::All => aggregate
                .days()
                .into_iter()
                .map(paris_time::date_of_day)
                .collect(),
        };
        Ingested {
            aggregate,
            days,
            clock: ParisClock::new(),
        }
    }
}
