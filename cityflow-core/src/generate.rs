//! Report generation from a directory of metrics files in the old tool's format.
//!
//! For a date `D` the directory may hold:
//!
//! | file | feeds |
//! |---|---|
//! | `comptages_metrics_D.json` | summary (from `global_metrics`), top 10 arcs, top 10 zones, congestion alerts (20 at most) |
//! | `bikes_metrics_D.json` | `total_velos_paris` (Σ `total_jour`), failing bike counters |
//! | `weather_metrics_D.json` | `meteo_impact` |
//! | `chantiers_metrics_D.json` | `chantiers_actifs` |
//!
//! (`traffic_metrics_D.json`, RATP disruptions, has no section in the road report and is not
//! read.) A missing file leaves its sections empty and yields a warning naming it; no file at
//! all is an error; a malformed file is an error naming the file, line and column. In every
//! error case no report is produced, so nothing can be exported.

use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::model::{
    ArcStats, CongestionAlert, DailyReport, Evolution, FailingSensor, InputVersion, Provenance,
    Roadwork, SensorKind, Severity, Summary, Timestamp, WeatherImpact, ZoneEntry, MAX_ALERTS,
    TOP_N,
};
use crate::store::{InputData, InputSource};

/// A report and what the generator has to say about how it was made.
#[derive(Debug, Clone)]
pub struct Generated {
    pub report: DailyReport,
    /// One line per missing input, naming the file and the sections left empty.
    pub warnings: Vec<String>,
    /// Where the inputs that were read are (paths, `s3://` URLs), in the order read.
    pub inputs: Vec<String>,
    /// The kind of each of `inputs`.
    pub kinds: Vec<MetricsKind>,
    /// What the report was built from: each input's version, for "newer inputs win".
    pub provenance: Provenance,
}

/// The metrics file kinds, in the order they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsKind {
    Comptages,
    Bikes,
    Weather,
    Chantiers,
}

impl MetricsKind {
    pub const ALL: [MetricsKind; 4] = [
        MetricsKind::Comptages,
        MetricsKind::Bikes,
        MetricsKind::Weather,
        MetricsKind::Chantiers,
    ];

    fn stem(self) -> &'static str {
        match self {
            MetricsKind::Comptages => "comptages",
            MetricsKind::Bikes => "bikes",
            MetricsKind::Weather => "weather",
            MetricsKind::Chantiers => "chantiers",
        }
    }

    /// `comptages_metrics_2025-11-04.json`, …
    pub fn file_name(self, date: NaiveDate) -> String {
        format!("{}_metrics_{}.json", self.stem(), date.format("%Y-%m-%d"))
    }

    /// The kind and date of a file name such as `bikes_metrics_2025-11-04.json`; `None` for
    /// any other name (other kinds, other extensions, a bad date).
    pub fn parse_file_name(name: &str) -> Option<(MetricsKind, NaiveDate)> {
        let (stem, rest) = name.split_once("_metrics_")?;
        let date = rest.strip_suffix(".json")?;
        let kind = MetricsKind::ALL.into_iter().find(|k| k.stem() == stem)?;
        Some((kind, crate::model::parse_date(date).ok()?))
    }

    /// The report sections this file feeds, for warnings.
    pub fn sections(self) -> &'static str {
        match self {
            MetricsKind::Comptages => {
                "summary road figures, top 10 tronçons, top 10 zones and congestion alerts are empty"
            }
            MetricsKind::Bikes => "total_velos_paris is 0 and no failing bike counter is listed",
            MetricsKind::Weather => "meteo_impact is null",
            MetricsKind::Chantiers => "chantiers_actifs is empty",
        }
    }
}

impl fmt::Display for MetricsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stem())
    }
}

/// Builds the report of `date` from the metrics files in `dir`; see the module docs.
pub fn generate_from_metrics_dir(
    dir: &Path,
    date: NaiveDate,
    generated_at: Timestamp,
) -> Result<Generated> {
    let shown = dir.display().to_string();
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::invalid_input(
                shown,
                "metrics directory is not a directory",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::invalid_input(
                shown,
                "metrics directory does not exist",
            ))
        }
        Err(e) => {
            return Err(Error::invalid_input(
                shown,
                format!("metrics directory cannot be read: {e}"),
            ))
        }
    }

    let mut fetched = Vec::new();
    for kind in MetricsKind::ALL {
        let path = dir.join(kind.file_name(date));
        let data = match read_metrics_file(&path)? {
            Some(bytes) => {
                let version = std::fs::metadata(&path)
                    .map(|m| file_version(&path, &m))
                    .map_err(|e| {
                        Error::invalid_input(
                            path.display().to_string(),
                            format!("cannot be read: {e}"),
                        )
                    })?;
                Some(InputData {
                    bytes: bytes.into(),
                    version,
                })
            }
            None => None,
        };
        fetched.push(Fetched {
            kind,
            location: path.display().to_string(),
            data,
        });
    }
    assemble(&shown, date, generated_at, fetched, true)
}

/// Builds the report of `date` from the metrics files in `source` (a directory, an S3
/// prefix): the rules of [`generate_from_metrics_dir`], messages naming each input where the
/// source says it is (`s3://bucket/metrics/bikes_metrics_D.json`).
pub async fn generate_from_source(
    source: &dyn InputSource,
    date: NaiveDate,
    generated_at: Timestamp,
) -> Result<Generated> {
    generate_kinds_from_source(source, date, generated_at, &MetricsKind::ALL, true).await
}

/// [`generate_from_source`] reading only the files of `kinds` (the others' sections come from
/// elsewhere: the raw open data). With `require_any` false, no file at all is not an error:
/// every missing file is a warning.
pub async fn generate_kinds_from_source(
    source: &dyn InputSource,
    date: NaiveDate,
    generated_at: Timestamp,
    kinds: &[MetricsKind],
    require_any: bool,
) -> Result<Generated> {
    let mut fetched = Vec::new();
    for &kind in kinds {
        let name = kind.file_name(date);
        fetched.push(Fetched {
            kind,
            location: source.location(&name),
            data: source.read(&name).await?,
        });
    }
    assemble(&source.describe(), date, generated_at, fetched, require_any)
}

/// One metrics file looked for: where, and its bytes and version when it exists.
struct Fetched {
    kind: MetricsKind,
    location: String,
    data: Option<InputData>,
}

/// The version of a local file: its size and modification time.
pub fn file_version(path: &Path, metadata: &std::fs::Metadata) -> InputVersion {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    InputVersion {
        location: path.display().to_string(),
        size: metadata.len(),
        version: format!("mtime:{}", modified.as_nanos()),
        modified_ms: i64::try_from(modified.as_millis()).unwrap_or(i64::MAX),
    }
}

/// The rules shared by every source: a missing file is a warning, no file at all an error.
fn assemble(
    source: &str,
    date: NaiveDate,
    generated_at: Timestamp,
    fetched: Vec<Fetched>,
    require_any: bool,
) -> Result<Generated> {
    let mut warnings = Vec::new();
    let mut read = Vec::new();
    let mut versions = Vec::new();
    for f in fetched {
        match f.data {
            Some(data) => {
                versions.push(data.version);
                read.push((f.kind, f.location, data.bytes));
            }
            None => warnings.push(format!("{} not found: {}", f.location, f.kind.sections())),
        }
    }
    if read.is_empty() && require_any {
        let expected: Vec<String> = MetricsKind::ALL.iter().map(|k| k.file_name(date)).collect();
        return Err(Error::invalid_input(
            source,
            format!(
                "no metrics file for {date} (expected any of {})",
                expected.join(", ")
            ),
        ));
    }
    let files: Vec<MetricsInput> = read
        .iter()
        .map(|(kind, location, bytes)| MetricsInput {
            kind: *kind,
            source: location,
            bytes,
        })
        .collect();
    let report = generate_from_metrics(date, generated_at, &files)?;
    Ok(Generated {
        report,
        warnings,
        kinds: read.iter().map(|(kind, _, _)| *kind).collect(),
        inputs: read.into_iter().map(|(_, location, _)| location).collect(),
        provenance: Provenance::of(versions),
    })
}

/// One metrics file already in memory: its kind, a name for messages (a path, an S3 key),
/// and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct MetricsInput<'a> {
    pub kind: MetricsKind,
    pub source: &'a str,
    pub bytes: &'a [u8],
}

/// Builds the report of `date` from metrics files already read (from a directory, an object
/// store, a message): the same rules as [`generate_from_metrics_dir`], without the file
/// system. A kind given twice, or a malformed file, is an [`Error::InvalidInput`] naming its
/// source (with line and column); kinds not given leave their sections empty.
pub fn generate_from_metrics(
    date: NaiveDate,
    generated_at: Timestamp,
    files: &[MetricsInput<'_>],
) -> Result<DailyReport> {
    let mut comptages: Option<ComptagesMetrics> = None;
    let mut bikes: Option<BikesMetrics> = None;
    let mut weather: Option<WeatherMetrics> = None;
    let mut chantiers: Option<ChantiersMetrics> = None;
    for (i, file) in files.iter().enumerate() {
        if files[..i].iter().any(|f| f.kind == file.kind) {
            return Err(Error::invalid_input(
                file.source,
                format!("a second {} metrics file for {date}", file.kind),
            ));
        }
        match file.kind {
            MetricsKind::Comptages => comptages = Some(parse(file.source, file.bytes)?),
            MetricsKind::Bikes => bikes = Some(parse(file.source, file.bytes)?),
            MetricsKind::Weather => weather = Some(parse(file.source, file.bytes)?),
            MetricsKind::Chantiers => chantiers = Some(parse(file.source, file.bytes)?),
        }
    }

    let mut report = DailyReport::empty(date, generated_at);
    // Filled from the report store by the export pipeline (cityflow-pipeline).
    report.evolution_vs_semaine_precedente = Evolution::not_computed(date);

    if let Some(c) = comptages {
        let g = c.global_metrics;
        report.summary = Summary {
            total_vehicules_paris: g.total_vehicules_jour,
            temps_perdu_total_minutes: g.temps_perdu_total_paris,
            nombre_troncons_satures: g.nombre_troncons_satures,
            taux_disponibilite_capteurs: g.taux_disponibilite_capteurs,
            total_velos_paris: 0,
        };
        report.top_10_troncons_frequentes = c.top_10_troncons.into_iter().take(TOP_N).collect();
        report.top_10_zones_congestionnees = c
            .top_10_zones_congestionnees
            .into_iter()
            .take(TOP_N)
            .collect();
        report.alertes_congestion = c
            .alertes_congestion
            .into_iter()
            .take(MAX_ALERTS)
            .map(with_severity)
            .collect();
    }
    apply_other_sections(&mut report, bikes, weather, chantiers);
    Ok(report)
}

/// Fills the bikes, weather and chantiers sections of `report` from the metrics files of
/// `report.date` in `source`, for reports whose road figures come from elsewhere (the raw
/// open-data CSV). Missing files leave their sections as they are (empty in a freshly
/// computed report) and are returned as warnings; malformed files are errors naming the
/// file, line and column.
pub async fn add_metrics_sections(
    source: &dyn InputSource,
    report: &mut DailyReport,
    kinds: &[MetricsKind],
) -> Result<MetricsSections> {
    let mut warnings = Vec::new();
    let mut inputs = Vec::new();
    let mut read = Vec::new();
    let date = report.date;
    let mut parsed = Vec::new();
    for &kind in kinds.iter().filter(|k| **k != MetricsKind::Comptages) {
        let name = kind.file_name(date);
        let location = source.location(&name);
        match source.read(&name).await? {
            Some(data) => {
                inputs.push(data.version);
                read.push((kind, location.clone()));
                parsed.push((kind, location, data.bytes));
            }
            None => warnings.push(format!("{location} not found: {}", kind.sections())),
        }
    }
    let (mut bikes, mut weather, mut chantiers) = (None, None, None);
    for (kind, location, bytes) in parsed {
        match kind {
            MetricsKind::Bikes => bikes = Some(parse(&location, &bytes)?),
            MetricsKind::Weather => weather = Some(parse(&location, &bytes)?),
            MetricsKind::Chantiers => chantiers = Some(parse(&location, &bytes)?),
            MetricsKind::Comptages => {}
        }
    }
    apply_other_sections(report, bikes, weather, chantiers);
    Ok(MetricsSections {
        warnings,
        inputs,
        read,
    })
}

/// What [`add_metrics_sections`] found: warnings for the missing files, versions of the
/// files read.
#[derive(Debug, Clone, Default)]
pub struct MetricsSections {
    pub warnings: Vec<String>,
    pub inputs: Vec<InputVersion>,
    /// The files read: kind and location.
    pub read: Vec<(MetricsKind, String)>,
}

/// The sections that come from the bikes, weather and chantiers files, whatever the road
/// figures come from. Failing bike counters are added to those already listed.
fn apply_other_sections(
    report: &mut DailyReport,
    bikes: Option<BikesMetrics>,
    weather: Option<WeatherMetrics>,
    chantiers: Option<ChantiersMetrics>,
) {
    if let Some(b) = bikes {
        report.summary.total_velos_paris = b.metrics.iter().map(|m| m.total_jour).sum();
        report
            .capteurs_defaillants
            .extend(b.failing_sensors.into_iter().map(|id| FailingSensor {
                id_compteur: id,
                kind: SensorKind::Bike,
                raison: None,
                heures_manquantes: None,
            }));
    }
    if let Some(w) = weather {
        report.meteo_impact = Some(w.metrics);
    }
    if let Some(c) = chantiers {
        report.chantiers_actifs = c.into_roadworks();
    }
}

/// The old tool's alerts carry no severity; it is derived from the highest occupancy known
/// for the alert (its maximum when present, else its mean) with the rule of
/// [`Severity::from_taux`].
fn with_severity(mut alert: CongestionAlert) -> CongestionAlert {
    if alert.severite.is_none() {
        alert.severite = alert
            .taux_occupation_max
            .or(alert.arc.taux_occupation_moyen)
            .map(Severity::from_taux);
    }
    alert
}

/// The bytes of the metrics file `path`; `Ok(None)` when it does not exist.
pub fn read_metrics_file(path: &Path) -> Result<Option<Vec<u8>>> {
    let shown = path.display().to_string();
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) if path.is_dir() => Err(Error::invalid_input(
            shown,
            "is a directory, not a metrics file",
        )),
        Err(e) => Err(Error::invalid_input(shown, format!("cannot be read: {e}"))),
    }
}

/// Parses one metrics file; a malformed one is an error naming `source`, line and column.
fn parse<T: DeserializeOwned>(source: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid_input(
            source,
            format!(
                "malformed metrics file at line {} column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e)
            ),
        )
    })
}

/// serde_json appends " at line L column C" to its messages; we give the position first.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[derive(Deserialize)]
struct ComptagesMetrics {
    global_metrics: GlobalMetrics,
    #[serde(default)]
    top_10_troncons: Vec<ArcStats>,
    #[serde(default)]
    top_10_zones_congestionnees: Vec<ZoneEntry>,
    #[serde(default)]
    alertes_congestion: Vec<CongestionAlert>,
}

#[derive(Deserialize)]
struct GlobalMetrics {
    #[serde(deserialize_with = "crate::model::whole_number")]
    total_vehicules_jour: u64,
    temps_perdu_total_paris: f64,
    #[serde(deserialize_with = "crate::model::whole_number")]
    nombre_troncons_satures: u64,
    taux_disponibilite_capteurs: Option<f64>,
}

#[derive(Deserialize)]
struct BikesMetrics {
    metrics: Vec<BikeCounter>,
    #[serde(default)]
    failing_sensors: Vec<String>,
}

#[derive(Deserialize)]
struct BikeCounter {
    #[serde(deserialize_with = "crate::model::whole_number")]
    total_jour: u64,
}

#[derive(Deserialize)]
struct WeatherMetrics {
    metrics: WeatherImpact,
}

#[derive(Deserialize)]
struct ChantiersMetrics {
    chantiers_actifs: Vec<RoadworkInput>,
}

/// The old files write `typologie` as a string; other exports as a number. Both are read.
#[derive(Deserialize)]
struct RoadworkInput {
    identifiant: String,
    #[serde(deserialize_with = "string_or_number")]
    typologie: String,
    #[serde(default)]
    impact: Option<String>,
    #[serde(default)]
    arrondissement: Option<String>,
}

impl From<RoadworkInput> for Roadwork {
    fn from(r: RoadworkInput) -> Self {
        Roadwork {
            identifiant: r.identifiant,
            typologie: r.typologie,
            impact: r.impact.unwrap_or_default(),
            arrondissement: r.arrondissement,
        }
    }
}

impl ChantiersMetrics {
    fn into_roadworks(self) -> Vec<Roadwork> {
        self.chantiers_actifs
            .into_iter()
            .map(Roadwork::from)
            .collect()
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrNumber {
        S(String),
        N(serde_json::Number),
    }
    Ok(match StringOrNumber::deserialize(deserializer)? {
        StringOrNumber::S(s) => s,
        StringOrNumber::N(n) => n.to_string(),
    })
}
