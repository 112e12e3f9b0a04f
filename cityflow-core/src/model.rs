//! The daily report model, with the exact JSON keys of the reports the old tool produced.
//!
//! Two rules shape the types:
//! - counts are integers (`u64`), even where the old tool wrote `4699.0`: such values are
//!   accepted on input when they are whole numbers, and a fractional count is an error rather
//!   than a silent rounding;
//! - floats are `f64` and `serde_json` is built with `float_roundtrip`, so a value read and
//!   written again is the same double.

use std::fmt;

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound, TimeZone, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::evolution::Evolution;

/// One day's road-traffic report for Paris.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyReport {
    /// The day the report describes (Europe/Paris calendar day).
    pub date: NaiveDate,
    /// When the report was generated.
    pub generated_at: Timestamp,
    pub summary: Summary,
    #[serde(default)]
    pub top_10_troncons_frequentes: Vec<ArcStats>,
    #[serde(default)]
    pub top_10_zones_congestionnees: Vec<ZoneEntry>,
    /// At most [`MAX_ALERTS`] alerts.
    #[serde(default)]
    pub alertes_congestion: Vec<CongestionAlert>,
    #[serde(default)]
    pub capteurs_defaillants: Vec<FailingSensor>,
    #[serde(default)]
    pub chantiers_actifs: Vec<Roadwork>,
    #[serde(default)]
    pub evolution_vs_semaine_precedente: Evolution,
    /// Weather of the day, when a weather metrics file was available.
    #[serde(default)]
    pub meteo_impact: Option<WeatherImpact>,
}

/// The number of congestion alerts a report keeps.
pub const MAX_ALERTS: usize = 20;
/// The number of entries of the "top 10" sections.
pub const TOP_N: usize = 10;

impl DailyReport {
    /// An empty report for `date`: zero totals, no sections.
    pub fn empty(date: NaiveDate, generated_at: Timestamp) -> Self {
        DailyReport {
            date,
            generated_at,
            summary: Summary::default(),
            top_10_troncons_frequentes: Vec::new(),
            top_10_zones_congestionnees: Vec::new(),
            alertes_congestion: Vec::new(),
            capteurs_defaillants: Vec::new(),
            chantiers_actifs: Vec::new(),
            evolution_vs_semaine_precedente: Evolution::default(),
            meteo_impact: None,
        }
    }
}

/// The headline figures of the day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(deserialize_with = "whole_number")]
    pub total_vehicules_paris: u64,
    pub temps_perdu_total_minutes: f64,
    #[serde(deserialize_with = "whole_number")]
    pub nombre_troncons_satures: u64,
    /// Percentage of expected sensor-hours that reported a value; `null` when no counting data
    /// was available for the day (unknown is not 100 %).
    pub taux_disponibilite_capteurs: Option<f64>,
    #[serde(deserialize_with = "whole_number")]
    pub total_velos_paris: u64,
}

/// One road segment ("arc", "tronçon") and its figures for the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArcStats {
    pub date: NaiveDate,
    pub identifiant_arc: String,
    pub libelle: String,
    /// Mean of the hourly flows that were present, in vehicles per hour.
    pub debit_horaire_moyen: f64,
    #[serde(deserialize_with = "whole_number")]
    pub debit_journalier_total: u64,
    #[serde(deserialize_with = "whole_number")]
    pub debit_max: u64,
    /// Mean occupancy rate in percent; `null` when no hour had one.
    pub taux_occupation_moyen: Option<f64>,
    pub etat_trafic_dominant: String,
    /// Timestamp of the peak hour, as written in the input.
    pub heure_pic: Option<String>,
    pub temps_perdu_minutes: f64,
    pub temps_perdu_total_minutes: f64,
    pub congestion_alerte: bool,
    pub arrondissement: String,
    /// `"lat, lon"`, as in the open-data export.
    pub geo_point_2d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_fallback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longueur_metres: Option<f64>,
}

/// An entry of `top_10_zones_congestionnees`.
///
/// Reports computed by CityFlow list real zones (arrondissements). The old tool's metrics put
/// single arcs there; such entries are kept as they are, typed as [`ZoneEntry::LegacyArc`],
/// so that old reports still parse and nothing is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ZoneEntry {
    Zone(ZoneStats),
    LegacyArc(ArcStats),
}

impl ZoneEntry {
    /// The name to show in the "Zone" column.
    pub fn label(&self) -> &str {
        match self {
            ZoneEntry::Zone(z) => &z.zone,
            ZoneEntry::LegacyArc(a) => &a.libelle,
        }
    }

    /// Lost time in the zone (or on the legacy arc), in minutes.
    pub fn temps_perdu_total_minutes(&self) -> f64 {
        match self {
            ZoneEntry::Zone(z) => z.temps_perdu_total_minutes,
            ZoneEntry::LegacyArc(a) => a.temps_perdu_total_minutes,
        }
    }
}

/// Figures aggregated over one zone (an arrondissement, or `Hors Paris`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneStats {
    /// `75001` … `75020`, or `Hors Paris`.
    pub zone: String,
    pub temps_perdu_total_minutes: f64,
    #[serde(deserialize_with = "whole_number")]
    pub debit_journalier_total: u64,
    #[serde(deserialize_with = "whole_number")]
    pub nombre_troncons: u64,
    #[serde(deserialize_with = "whole_number")]
    pub nombre_troncons_satures: u64,
}

/// Severity of a congestion alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    #[serde(rename = "Élevée")]
    Elevee,
    #[serde(rename = "Critique")]
    Critique,
}

impl Severity {
    /// `Critique` from 90 % occupancy, `Élevée` below.
    pub fn from_taux(taux: f64) -> Self {
        if taux >= 90.0 {
            Severity::Critique
        } else {
            Severity::Elevee
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Elevee => "Élevée",
            Severity::Critique => "Critique",
        }
    }
}

/// A congestion alert: the arc's figures plus what the alert is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CongestionAlert {
    #[serde(flatten)]
    pub arc: ArcStats,
    /// Absent only in reports written by the old tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severite: Option<Severity>,
    /// Timestamp of the first congested hour, as written in the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debut_congestion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duree_heures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taux_occupation_max: Option<f64>,
}

/// What kind of sensor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SensorKind {
    /// A bike counter.
    Bike,
    /// A road-traffic counting arc.
    Comptage,
}

impl SensorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SensorKind::Bike => "bike",
            SensorKind::Comptage => "comptage",
        }
    }
}

/// A sensor that did not report properly during the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingSensor {
    pub id_compteur: String,
    #[serde(rename = "type")]
    pub kind: SensorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raison: Option<String>,
    /// Hours of the day (0–23, local time) without a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heures_manquantes: Option<Vec<u32>>,
}

/// Active roadworks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roadwork {
    pub identifiant: String,
    pub typologie: String,
    pub impact: String,
    pub arrondissement: Option<String>,
}

/// The day's weather and its estimated impact on mobility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherImpact {
    /// The day the weather figures describe (the old tool used the previous day).
    pub date: Option<NaiveDate>,
    pub temp_moyenne: Option<f64>,
    pub temp_min: Option<f64>,
    pub temp_max: Option<f64>,
    pub precip_totale: Option<f64>,
    pub vent_moyen: Option<f64>,
    pub conditions: Option<String>,
    pub impact_mobilite: Option<f64>,
}

/// The unit every [`crate::ReportStore`] saves: the report plus its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReport {
    /// `daily_report_YYYY-MM-DD`.
    pub report_id: String,
    pub date: NaiveDate,
    /// When the report was exported.
    pub timestamp: Timestamp,
    pub report: DailyReport,
    /// What the report was built from; absent in reports stored before it was recorded and
    /// in reports saved by callers that do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_from: Option<Provenance>,
}

impl StoredReport {
    /// Wraps `report`, exported at `timestamp`.
    pub fn new(report: DailyReport, timestamp: Timestamp) -> Self {
        StoredReport {
            report_id: report_id(report.date),
            date: report.date,
            timestamp,
            report,
            built_from: None,
        }
    }

    /// The same envelope, recording what the report was built from.
    pub fn built_from(mut self, provenance: Provenance) -> Self {
        self.built_from = Some(provenance);
        self
    }

    /// Whether `self` may replace `stored`: unless both say what they were built from and
    /// `stored` was built from strictly newer inputs. Equal inputs rewrite the same content;
    /// an envelope that does not say (older reports, library callers) replaces and is replaced
    /// as before.
    pub fn may_replace(&self, stored: &StoredReport) -> bool {
        match (&self.built_from, &stored.built_from) {
            (Some(new), Some(old)) => new.newest_modified_ms >= old.newest_modified_ms,
            _ => true,
        }
    }
}

/// The small record every store keeps beside each report, written with it: what listing and
/// statistics read, so that they never read whole reports (about 35 KB each, 17 MB at worst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// First, so that a line of summaries can be told apart by its date alone.
    pub date: NaiveDate,
    /// `daily_report_YYYY-MM-DD`.
    pub report_id: String,
    /// When the report was exported.
    pub timestamp: Timestamp,
    /// When the report was generated.
    pub generated_at: Timestamp,
    /// The five headline indicators.
    pub summary: Summary,
    /// What the report was built from, in brief; absent when its envelope does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_from: Option<BuiltFromSummary>,
}

/// The versions a report was built from, in brief: what orders two builds of a day and where
/// each section came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltFromSummary {
    /// [`Provenance::newest_modified_ms`].
    pub newest_modified_ms: i64,
    /// The kind of input of each section, by section.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sections: std::collections::BTreeMap<String, SectionFrom>,
}

impl ReportSummary {
    /// The summary record of `stored`.
    pub fn of(stored: &StoredReport) -> Self {
        ReportSummary {
            date: stored.date,
            report_id: stored.report_id.clone(),
            timestamp: stored.timestamp,
            generated_at: stored.report.generated_at,
            summary: stored.report.summary.clone(),
            built_from: stored.built_from.as_ref().map(|p| BuiltFromSummary {
                newest_modified_ms: p.newest_modified_ms,
                sections: p
                    .sections
                    .iter()
                    .map(|(k, v)| (k.clone(), v.from))
                    .collect(),
            }),
        }
    }
}

/// What a report was built from: every input read, and the newest modification time among
/// them, which orders two builds of the same day ("newer inputs win").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    pub inputs: Vec<InputVersion>,
    /// The newest `modified_ms` of `inputs`, milliseconds since 1970-01-01 UTC.
    pub newest_modified_ms: i64,
    /// Where each section came from, by section (`comptages`, `bikes`, `weather`,
    /// `chantiers`); empty in reports stored before it was recorded.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sections: std::collections::BTreeMap<String, SectionOrigin>,
}

/// Where one section of a report came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionOrigin {
    pub from: SectionFrom,
    /// The inputs read for it (paths, `s3://` URLs); none when it is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

/// The kind of input a section was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionFrom {
    /// The raw open data (comptages CSV, bike counters, weather timeline, roadworks CSV).
    Raw,
    /// The old tool's metrics file of the day.
    Metrics,
    /// No input: the section is empty.
    None,
}

impl SectionFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionFrom::Raw => "raw",
            SectionFrom::Metrics => "metrics",
            SectionFrom::None => "none",
        }
    }
}

impl Provenance {
    /// The provenance of `inputs` (their newest modification time computed).
    pub fn of(inputs: Vec<InputVersion>) -> Self {
        let newest_modified_ms = inputs.iter().map(|i| i.modified_ms).max().unwrap_or(0);
        Provenance {
            inputs,
            newest_modified_ms,
            sections: Default::default(),
        }
    }
}

/// One input as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputVersion {
    /// Where it was (`s3://bucket/metrics/bikes_metrics_D.json`, a path).
    pub location: String,
    /// Its size in bytes, as stored.
    pub size: u64,
    /// Its version: the S3 ETag, or the file's modification time in nanoseconds.
    pub version: String,
    /// When it was last modified, milliseconds since 1970-01-01 UTC.
    pub modified_ms: i64,
}

/// `daily_report_YYYY-MM-DD`: the identity of a day's report in every store.
pub fn report_id(date: NaiveDate) -> String {
    format!("daily_report_{}", date.format("%Y-%m-%d"))
}

/// Parses a calendar date written `YYYY-MM-DD` (exactly), with a message saying what was
/// expected.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    if t.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(d);
        }
    }
    Err(format!(
        "{text:?} is not a valid date (expected YYYY-MM-DD, e.g. 2025-11-04)"
    ))
}

/// An instant with its UTC offset, written as RFC 3339 (`2025-11-04T05:31:50.926576+00:00`).
///
/// On input, a timestamp without an offset, as the old tool wrote them
/// (`2025-11-04T05:31:50.926576`), is read as UTC: the old tool ran in Lambda and containers
/// whose clock is UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Timestamp {
    /// The current time, in UTC, to the microsecond (the precision every store and the old
    /// tool's readers keep).
    pub fn now() -> Self {
        Timestamp(Utc::now().trunc_subsecs(6).fixed_offset())
    }

    /// Parses RFC 3339, or an ISO 8601 local date-time read as UTC.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(Timestamp(t));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
                return Ok(Timestamp(Utc.from_utc_datetime(&naive).fixed_offset()));
            }
        }
        Err(format!(
            "`{text}` is not a timestamp (expected RFC 3339, e.g. 2025-11-04T05:31:50+01:00)"
        ))
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.0.timestamp()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.fixed_offset())
    }
}

impl From<DateTime<FixedOffset>> for Timestamp {
    fn from(t: DateTime<FixedOffset>) -> Self {
        Timestamp(t)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Reads a count: an integer, or a float with no fractional part (`4699.0`), as the old tool
/// wrote them. Negative, fractional or non-finite values are errors.
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct WholeNumber;
    impl serde::de::Visitor<'_> for WholeNumber {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative whole number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative; a count is expected")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
            // 2^53: beyond it not every whole number is representable, so equality proves nothing.
            const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_EXACT {
                Ok(v as u64)
            } else {
                Err(E::custom(format!(
                    "{v} is not a whole non-negative number; a count is expected"
                )))
            }
        }
    }
    deserializer.deserialize_any(WholeNumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_timestamps_are_read_as_utc_and_written_with_offset() {
        let t = Timestamp::parse("2025-11-04T05:31:50.926576").unwrap();
        assert_eq!(t.to_string(), "2025-11-04T05:31:50.926576+00:00");
        let t = Timestamp::parse("2025-11-04T06:31:50+01:00").unwrap();
        assert_eq!(t.to_string(), "2025-11-04T06:31:50+01:00");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn counts_accept_whole_floats_and_reject_fractions() {
        #[derive(Deserialize)]
        struct C {
            #[serde(deserialize_with = "whole_number")]
            n: u64,
        }
        let c: C = serde_json::from_str(r#"{"n": 4699.0}"#).unwrap();
        assert_eq!(c.n, 4699);
        let c: C = serde_json::from_str(r#"{"n": 12}"#).unwrap();
        assert_eq!(c.n, 12);
        let err = serde_json::from_str::<C>(r#"{"n": 6017669532.560001}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a whole"), "{err}");
        assert!(serde_json::from_str::<C>(r#"{"n": -1}"#).is_err());
    }

    #[test]
    fn counts_are_written_as_integers() {
        let s = Summary {
            total_vehicules_paris: 12,
            temps_perdu_total_minutes: 1.5,
            nombre_troncons_satures: 3,
            taux_disponibilite_capteurs: None,
            total_velos_paris: 4699,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""total_velos_paris":4699}"#), "{json}");
        assert!(
            json.contains(r#""taux_disponibilite_capteurs":null"#),
            "{json}"
        );
    }

    #[test]
    fn report_id_has_the_seed_shape() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        assert_eq!(report_id(d), "daily_report_2025-11-04");
    }
}
