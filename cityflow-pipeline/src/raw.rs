//! The raw open data other than the road counts: bike counters, the weather timeline and the
//! roadworks CSV, found where the user said (a file, a directory, an S3 key or prefix, or the
//! old tool's `raw/` layout), read once for a run, and applied to each day's report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use cityflow_core::{
    DailyReport, Error, InputLocation, InputSource, InputVersion, ListedInput, MetricsKind, Result,
    SectionFrom, SectionOrigin,
};
use cityflow_ingest::{BikeCounts, IngestError, Roadworks, WeatherDays};
use cityflow_storage::StorageConfig;

/// The three raw sources, each with its section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RawKind {
    Bikes,
    Weather,
    Chantiers,
}

impl RawKind {
    pub const ALL: [RawKind; 3] = [RawKind::Bikes, RawKind::Weather, RawKind::Chantiers];

    /// The metrics file whose sections this source replaces.
    pub fn metrics_kind(self) -> MetricsKind {
        match self {
            RawKind::Bikes => MetricsKind::Bikes,
            RawKind::Weather => MetricsKind::Weather,
            RawKind::Chantiers => MetricsKind::Chantiers,
        }
    }

    /// The section's name in `built_from.sections`.
    pub fn section(self) -> &'static str {
        match self {
            RawKind::Bikes => "bikes",
            RawKind::Weather => "weather",
            RawKind::Chantiers => "chantiers",
        }
    }

    /// The option that names it.
    pub fn option(self) -> &'static str {
        match self {
            RawKind::Bikes => "--bikes",
            RawKind::Weather => "--weather",
            RawKind::Chantiers => "--chantiers",
        }
    }
}

/// One raw input file to read: where, and the report day of its `dt=` partition when it is
/// in one (its data belongs to that day and the next: see [`RawLayout`]).
#[derive(Debug, Clone)]
pub struct RawFile {
    pub source: Arc<dyn InputSource>,
    pub listed: ListedInput,
    pub partition: Option<NaiveDate>,
}

impl RawFile {
    pub fn location(&self) -> String {
        self.source.location(&self.listed.name)
    }
}

/// Every file of `text` (a file, a directory read recursively, `s3://bucket/key` or
/// `s3://bucket/prefix`), oldest first. Nothing there is an [`Error::InvalidInput`] naming it.
pub async fn resolve_files(
    config: &StorageConfig,
    text: &str,
    label: &'static str,
) -> Result<Vec<RawFile>> {
    let location = InputLocation::parse(text).map_err(|m| Error::invalid_input(label, m))?;
    let (source, files) = match &location {
        InputLocation::Dir(path) => match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let source = cityflow_storage::input_source(config, &location, label)?;
                let files = source.list("").await?;
                (source, files)
            }
            Ok(_) => {
                let (parent, name) =
                    InputLocation::parse_file(text).map_err(|m| Error::invalid_input(text, m))?;
                let source = cityflow_storage::input_source(config, &parent, label)?;
                let listed = source.list(&name).await?;
                let files = listed.into_iter().filter(|l| l.name == name).collect();
                (source, files)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::invalid_input(
                    text,
                    format!("{label}: no such file or directory"),
                ))
            }
            Err(e) => return Err(Error::invalid_input(text, format!("{label}: {e}"))),
        },
        InputLocation::S3 { bucket, prefix } => {
            let root = InputLocation::S3 {
                bucket: bucket.clone(),
                prefix: String::new(),
            };
            let source = cityflow_storage::input_source(config, &root, label)?;
            let listed = source.list(prefix).await?;
            let exact: Vec<ListedInput> = listed
                .iter()
                .filter(|l| l.name == *prefix)
                .cloned()
                .collect();
            let files = if exact.is_empty() {
                let under = if prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}/")
                };
                listed
                    .into_iter()
                    .filter(|l| l.name.starts_with(&under))
                    .collect()
            } else {
                exact
            };
            (source, files)
        }
    };
    if files.is_empty() {
        return Err(Error::invalid_input(
            text,
            format!("{label}: no file there"),
        ));
    }
    Ok(oldest_first(
        files
            .into_iter()
            .map(|listed| RawFile {
                source: source.clone(),
                listed,
                partition: None,
            })
            .collect(),
    ))
}

fn oldest_first(mut files: Vec<RawFile>) -> Vec<RawFile> {
    files.sort_by(|a, b| {
        (a.listed.modified_ms, &a.listed.name).cmp(&(b.listed.modified_ms, &b.listed.name))
    });
    files
}

/// The old tool's layout under one root (`--raw DIR|s3://BUCKET/PREFIX`, `CITYFLOW_RAW`):
/// `api/bikes/dt=YYYY-MM-DD/*.json`, `api/weather/dt=YYYY-MM-DD/*.json`,
/// `batch/*chantiers*.csv` and `batch/*comptages*.csv[.gz]`. A morning's fetch (`dt=D`) holds
/// the counts of the day before, so the report of D reads the partitions `dt=D` and `dt=D+1`.
#[derive(Debug, Clone)]
pub struct RawLayout {
    pub root: Arc<dyn InputSource>,
    pub described: String,
}

/// The partitions of `dt=` days under `prefix` (`api/bikes/`), by day.
async fn partitions(root: &Arc<dyn InputSource>, prefix: &str) -> Result<Vec<RawFile>> {
    let listed = root.list(prefix).await?;
    let mut files = Vec::new();
    for l in listed {
        let rest = &l.name[prefix.len()..];
        let Some(day) = rest
            .strip_prefix("dt=")
            .and_then(|r| r.split('/').next())
            .and_then(|d| cityflow_core::parse_date(d).ok())
        else {
            continue;
        };
        if rest.ends_with(".tmp") {
            continue;
        }
        files.push(RawFile {
            source: root.clone(),
            listed: l,
            partition: Some(day),
        });
    }
    Ok(files)
}

impl RawLayout {
    /// The layout under `location`; the root must exist (checked when listed).
    pub fn new(config: &StorageConfig, location: &InputLocation) -> Result<Self> {
        Ok(RawLayout {
            root: cityflow_storage::input_source(config, location, "raw directory")?,
            described: location.to_string(),
        })
    }

    /// The bike or weather partitions a run of `days` reads: `dt=D` and `dt=D+1` for each
    /// day of a range; every partition for `None` (`--all`).
    pub async fn partitions(
        &self,
        kind: RawKind,
        days: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Vec<RawFile>> {
        let prefix = match kind {
            RawKind::Bikes => "api/bikes/",
            RawKind::Weather => "api/weather/",
            RawKind::Chantiers => unreachable!("roadworks are not partitioned"),
        };
        let all = partitions(&self.root, prefix).await?;
        Ok(oldest_first(
            all.into_iter()
                .filter(|f| match (days, f.partition) {
                    (None, _) => true,
                    (Some((from, to)), Some(p)) => p >= from && p <= to.succ_opt().unwrap_or(to),
                    (Some(_), None) => false,
                })
                .collect(),
        ))
    }

    /// The newest file under `batch/` whose name contains `needle` and ends with one of
    /// `suffixes`; `None` when there is none.
    pub async fn newest_batch(&self, needle: &str, suffixes: &[&str]) -> Result<Option<RawFile>> {
        let listed = self.root.list("batch/").await?;
        Ok(listed
            .into_iter()
            .filter(|l| {
                let file = l.name.rsplit('/').next().unwrap_or(&l.name);
                file.contains(needle) && suffixes.iter().any(|s| file.ends_with(s))
            })
            .max_by(|a, b| (a.modified_ms, &a.name).cmp(&(b.modified_ms, &b.name)))
            .map(|listed| RawFile {
                source: self.root.clone(),
                listed,
                partition: None,
            }))
    }
}

/// One raw source read: its data and the files it came from.
#[derive(Debug)]
pub struct RawRead<T> {
    pub data: T,
    pub files: Vec<(RawFile, InputVersion)>,
}

impl<T> RawRead<T> {
    /// The files whose data may belong to `date`: unpartitioned ones, and the partitions
    /// `dt=date` and `dt=date+1`.
    fn files_for(&self, date: NaiveDate) -> impl Iterator<Item = &(RawFile, InputVersion)> {
        let next = date.succ_opt();
        self.files
            .iter()
            .filter(move |(f, _)| f.partition.is_none_or(|p| p == date || Some(p) == next))
    }

    fn origin(&self, date: NaiveDate) -> SectionOrigin {
        SectionOrigin {
            from: SectionFrom::Raw,
            inputs: self
                .files_for(date)
                .map(|(_, v)| v.location.clone())
                .collect(),
        }
    }
}

/// The raw bikes, weather and roadworks of a run, each when given.
#[derive(Debug, Default)]
pub struct RawSections {
    pub bikes: Option<RawRead<BikeCounts>>,
    pub weather: Option<RawRead<WeatherDays>>,
    pub chantiers: Option<RawRead<Roadworks>>,
}

/// How a source's parser reads one file into its data.
type ReadInto<T> = fn(
    &mut T,
    &std::path::Path,
    Box<dyn std::io::Read + Send>,
) -> std::result::Result<(), IngestError>;

/// Reads `files` into `data` one after the other, each streamed on the blocking pool.
async fn read_all<T: Send + 'static>(
    mut data: T,
    files: Vec<RawFile>,
    read: ReadInto<T>,
) -> Result<RawRead<T>> {
    let mut done = Vec::with_capacity(files.len());
    for file in files {
        let location = file.location();
        let stream = file.source.open(&file.listed.name).await?;
        let version = stream.version.clone();
        let reader = stream.reader;
        data = tokio::task::spawn_blocking(move || {
            read(&mut data, &PathBuf::from(location), reader).map(|()| data)
        })
        .await
        .map_err(|e| Error::backend("ingestion", "the reading task failed", e))?
        .map_err(raw_error)?;
        done.push((file, version));
    }
    Ok(RawRead { data, files: done })
}

/// An ingestion error as the CLI shows it: the file's own name first.
fn raw_error(e: IngestError) -> Error {
    match e {
        IngestError::Source(e) => e,
        IngestError::Internal(m) => {
            Error::backend("ingestion", m, std::io::Error::other("internal"))
        }
        IngestError::Io { path, source } => {
            Error::invalid_input(path.display().to_string(), source.to_string())
        }
        IngestError::Input { path, message } | IngestError::Columns { path, message } => {
            Error::invalid_input(path.display().to_string(), message)
        }
    }
}

impl RawSections {
    /// Reads the files of each source given; the first bad input is an error naming it.
    pub async fn read(
        bikes: Option<Vec<RawFile>>,
        weather: Option<Vec<RawFile>>,
        chantiers: Option<Vec<RawFile>>,
    ) -> Result<Self> {
        let mut out = RawSections::default();
        if let Some(files) = bikes {
            out.bikes = Some(read_all(BikeCounts::new(), files, |d, p, r| d.read(p, r)).await?);
        }
        if let Some(files) = weather {
            out.weather = Some(read_all(WeatherDays::new(), files, |d, p, r| d.read(p, r)).await?);
        }
        if let Some(mut files) = chantiers {
            // The first row of an identifier is kept: the newest file first.
            files.reverse();
            out.chantiers = Some(read_all(Roadworks::new(), files, |d, p, r| d.read(p, r)).await?);
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.bikes.is_none() && self.weather.is_none() && self.chantiers.is_none()
    }

    /// The sources given.
    pub fn kinds(&self) -> Vec<RawKind> {
        let mut k = Vec::new();
        if self.bikes.is_some() {
            k.push(RawKind::Bikes);
        }
        if self.weather.is_some() {
            k.push(RawKind::Weather);
        }
        if self.chantiers.is_some() {
            k.push(RawKind::Chantiers);
        }
        k
    }

    /// The metrics kinds whose sections still come from metrics files: those of the
    /// sources not given.
    pub fn metrics_kinds(&self) -> Vec<MetricsKind> {
        let given = self.kinds();
        RawKind::ALL
            .into_iter()
            .filter(|k| !given.contains(k))
            .map(RawKind::metrics_kind)
            .collect()
    }

    /// The days the dated sources cover (bike records, weather days): roadworks cover ranges
    /// and decide no day.
    pub fn days(&self) -> BTreeSet<NaiveDate> {
        let mut days = BTreeSet::new();
        if let Some(b) = &self.bikes {
            days.extend(b.data.days());
        }
        if let Some(w) = &self.weather {
            days.extend(w.data.days());
        }
        days
    }

    /// Warnings about the run as a whole (rejected values, counted once), for the log.
    pub fn run_warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(b) = &self.bikes {
            let s = &b.data.stats;
            if s.counts_rejected > 0 {
                w.push(format!(
                    "bikes: {} negative, fractional or non-numeric count(s) rejected (not summed)",
                    s.counts_rejected
                ));
            }
            if s.records_rejected > 0 {
                w.push(format!(
                    "bikes: {} record(s) rejected, first: {}",
                    s.records_rejected,
                    s.first_rejections.join("; ")
                ));
            }
            if s.coordinates_rejected > 0 {
                w.push(format!(
                    "bikes: {} record(s) with coordinates outside France or unreadable (counter kept, without coordinates)",
                    s.coordinates_rejected
                ));
            }
        }
        if let Some(ww) = &self.weather {
            for r in &ww.data.stats.days_rejected {
                w.push(format!("weather: {r}"));
            }
        }
        if let Some(c) = &self.chantiers {
            let s = &c.data.stats;
            for r in &s.first_rejections {
                w.push(format!("roadworks: row rejected: {r}"));
            }
            if s.rows_rejected as usize > s.first_rejections.len() {
                w.push(format!(
                    "roadworks: {} row(s) rejected in all",
                    s.rows_rejected
                ));
            }
            if s.coordinates_rejected > 0 {
                w.push(format!(
                    "roadworks: {} geo_point_2d outside France or unreadable (zone unknown)",
                    s.coordinates_rejected
                ));
            }
        }
        w
    }

    /// Fills the sections of the sources given in `report` (replacing what is there), and
    /// returns the warnings of the day, the versions of the files used and each section's
    /// origin.
    pub fn apply(
        &self,
        report: &mut DailyReport,
    ) -> (
        Vec<String>,
        Vec<InputVersion>,
        BTreeMap<String, SectionOrigin>,
    ) {
        let date = report.date;
        let mut warnings = Vec::new();
        let mut versions = Vec::new();
        let mut origins = BTreeMap::new();
        if let Some(b) = &self.bikes {
            let day = b.data.day(date);
            if !b.data.has_day(date) {
                warnings.push(format!(
                    "bikes: no record on {date} in {} file(s): every counter is missing",
                    b.files.len()
                ));
            }
            report.summary.total_velos_paris = day.total;
            report
                .capteurs_defaillants
                .retain(|s| s.kind != cityflow_core::SensorKind::Bike);
            report.capteurs_defaillants.extend(day.failing);
            versions.extend(b.files_for(date).map(|(_, v)| v.clone()));
            origins.insert(RawKind::Bikes.section().to_string(), b.origin(date));
        }
        if let Some(w) = &self.weather {
            report.meteo_impact = w.data.day(date).cloned();
            if report.meteo_impact.is_none() {
                warnings.push(format!(
                    "weather: no days[] entry for {date} in {} file(s): meteo_impact is null",
                    w.files.len()
                ));
            }
            versions.extend(w.files_for(date).map(|(_, v)| v.clone()));
            origins.insert(RawKind::Weather.section().to_string(), w.origin(date));
        }
        if let Some(c) = &self.chantiers {
            report.chantiers_actifs = c.data.active_on(date);
            versions.extend(c.files_for(date).map(|(_, v)| v.clone()));
            origins.insert(RawKind::Chantiers.section().to_string(), c.origin(date));
        }
        (warnings, versions, origins)
    }
}

/// What a run of raw inputs was asked to read: each source's location as the user wrote it
/// (a file, a directory, `s3://…`), and the old layout's root. A source given wins over the
/// layout's, source by source.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub comptages: Option<String>,
    pub bikes: Option<String>,
    pub weather: Option<String>,
    pub chantiers: Option<String>,
    pub layout: Option<InputLocation>,
}

impl RawRequest {
    pub fn is_empty(&self) -> bool {
        self.comptages.is_none()
            && self.bikes.is_none()
            && self.weather.is_none()
            && self.chantiers.is_none()
            && self.layout.is_none()
    }
}

/// The files of each source of `request` for a run over `days` (`None`: every day), and
/// warnings for what the layout lacks.
pub struct ResolvedSources {
    pub comptages: Option<RawFile>,
    pub bikes: Option<Vec<RawFile>>,
    pub weather: Option<Vec<RawFile>>,
    pub chantiers: Option<Vec<RawFile>>,
    pub warnings: Vec<String>,
}

/// Finds the files of every source of `request`. A source named but empty (no such file, no
/// file under a prefix) is an [`Error::InvalidInput`]; a source the layout lacks is a warning.
pub async fn resolve_sources(
    config: &StorageConfig,
    request: &RawRequest,
    days: Option<(NaiveDate, NaiveDate)>,
) -> Result<ResolvedSources> {
    let layout = match &request.layout {
        Some(location) => {
            if let InputLocation::Dir(dir) = location {
                if !dir.is_dir() {
                    return Err(Error::invalid_input(
                        dir.display().to_string(),
                        "raw directory does not exist",
                    ));
                }
            }
            Some(RawLayout::new(config, location)?)
        }
        None => None,
    };
    let mut out = ResolvedSources {
        comptages: None,
        bikes: None,
        weather: None,
        chantiers: None,
        warnings: Vec::new(),
    };
    for kind in RawKind::ALL {
        let given = match kind {
            RawKind::Bikes => &request.bikes,
            RawKind::Weather => &request.weather,
            RawKind::Chantiers => &request.chantiers,
        };
        let files = match (given, &layout) {
            (Some(text), _) => Some(resolve_files(config, text, kind.option()).await?),
            (None, Some(layout)) => {
                let files: Vec<RawFile> = match kind {
                    RawKind::Chantiers => layout
                        .newest_batch("chantiers", &[".csv", ".csv.gz"])
                        .await?
                        .into_iter()
                        .collect(),
                    _ => layout.partitions(kind, days).await?,
                };
                if files.is_empty() {
                    let pattern = match kind {
                        RawKind::Chantiers => "batch/*chantiers*.csv",
                        RawKind::Bikes => "api/bikes/dt=…/",
                        RawKind::Weather => "api/weather/dt=…/",
                    };
                    out.warnings.push(format!(
                        "{}: no {} input in the raw layout ({pattern})",
                        layout.described,
                        kind.section()
                    ));
                    None
                } else {
                    Some(files)
                }
            }
            (None, None) => None,
        };
        match kind {
            RawKind::Bikes => out.bikes = files,
            RawKind::Weather => out.weather = files,
            RawKind::Chantiers => out.chantiers = files,
        }
    }
    out.comptages = match (&request.comptages, &layout) {
        (Some(text), _) => {
            let (location, name) = InputLocation::parse_file(text)
                .map_err(|m| Error::invalid_input("--comptages", m))?;
            let source = cityflow_storage::input_source(config, &location, "directory")?;
            Some(RawFile {
                source,
                listed: ListedInput {
                    name,
                    size: 0,
                    modified_ms: 0,
                },
                partition: None,
            })
        }
        (None, Some(layout)) => {
            let found = layout
                .newest_batch("comptages", &[".csv", ".csv.gz"])
                .await?;
            if found.is_none() {
                out.warnings.push(format!(
                    "{}: no comptages input in the raw layout (batch/*comptages*.csv[.gz])",
                    layout.described
                ));
            }
            found
        }
        (None, None) => None,
    };
    Ok(out)
}
