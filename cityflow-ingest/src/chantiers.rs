//! The roadworks of Paris open data ("chantiers-perturbants-la-circulation"): a CSV, `;`,
//! French headers, `geo_shape` as GeoJSON in a quoted field.
//!
//! A roadwork is active on day D when `Date de début ≤ D ≤ Date de fin`, both inclusive:
//! relative to the report's day, never to the clock (the old tool used `now()`, so a
//! backfill listed today's roadworks on every past day).

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use cityflow_core::Roadwork;
use serde::Serialize;

use crate::records::{columns, decoded, in_france, read_error, sniff_separator, CsvRecords};
use crate::IngestError;

/// How many rejected rows are kept, with their line and reason, for messages.
pub const REPORTED_REJECTIONS: usize = 10;

/// One roadwork and its dates.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadworkRow {
    pub roadwork: Roadwork,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Its `geo_shape` (a polygon, usually), for the map; `None` when absent, unreadable or
    /// outside France.
    pub shape: Option<crate::geo::Shape>,
}

/// What was read and rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoadworkStats {
    pub rows: u64,
    /// Rows without an identifier, with a date that cannot be read, or ending before they
    /// start; the first ones as `file: line N: why`.
    pub rows_rejected: u64,
    pub first_rejections: Vec<String>,
    /// Rows whose `Identifiant` was already listed: listed once (the first row).
    pub duplicates: u64,
    /// `geo_point_2d` outside France or unreadable: the zone is then unknown.
    pub coordinates_rejected: u64,
}

/// Every roadwork of the inputs.
#[derive(Debug, Default)]
pub struct Roadworks {
    rows: Vec<RoadworkRow>,
    seen: HashSet<String>,
    pub stats: RoadworkStats,
}

/// `YYYY-MM-DD`, possibly followed by a time (`2025-11-04T08:00:00+01:00`): the date.
fn parse_day(text: &[u8]) -> Option<NaiveDate> {
    let text = std::str::from_utf8(text).ok()?.trim();
    let day = match text.as_bytes().get(10) {
        None => text,
        Some(b'T' | b' ') => &text[..10],
        Some(_) => return None,
    };
    cityflow_core::parse_date(day).ok()
}

impl Roadworks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one roadworks CSV (plain or gzip); `name` is used in messages.
    pub fn read(
        &mut self,
        name: &Path,
        input: impl Read + Send + 'static,
    ) -> Result<(), IngestError> {
        let mut input = decoded(input).map_err(|e| read_error(name, e))?;
        let columns_error = |message: String| IngestError::Columns {
            path: name.to_path_buf(),
            message,
        };
        let (header, records) = CsvRecords::open(name, &mut input)?;
        let sep = sniff_separator(&header).map_err(columns_error)?;
        let width = header.split(char::from(sep)).count();
        let [id, typologie, start, end, impact, postal, point, shape] = columns(
            &header,
            sep,
            [
                ("Identifiant", true),
                ("Typologie", false),
                ("Date de début", true),
                ("Date de fin", true),
                ("Impact sur la circulation", false),
                ("Code postal de l'arrondissement", false),
                ("geo_point_2d", false),
                ("geo_shape", false),
            ],
        )
        .map_err(columns_error)?;
        records.for_each(sep, &mut |fields, _, line| {
            self.stats.rows += 1;
            let reject = |stats: &mut RoadworkStats, why: String| {
                stats.rows_rejected += 1;
                if stats.first_rejections.len() < REPORTED_REJECTIONS {
                    stats
                        .first_rejections
                        .push(format!("{}: line {line}: {why}", name.display()));
                }
            };
            let fields = match fields {
                Ok(f) if f.len() == width => f,
                Ok(f) => {
                    let n = f.len();
                    reject(&mut self.stats, format!("{n} fields, {width} expected"));
                    return Ok(());
                }
                Err(()) => {
                    reject(&mut self.stats, "badly quoted field".into());
                    return Ok(());
                }
            };
            let text = |i: Option<usize>| {
                i.map(|i| {
                    String::from_utf8_lossy(&fields[i].unescaped())
                        .trim()
                        .to_string()
                })
                .unwrap_or_default()
            };
            let identifiant = text(id);
            if identifiant.is_empty() {
                reject(&mut self.stats, "no Identifiant".into());
                return Ok(());
            }
            let (from, to) = (text(start), text(end));
            let (Some(from_day), Some(to_day)) =
                (parse_day(from.as_bytes()), parse_day(to.as_bytes()))
            else {
                reject(
                    &mut self.stats,
                    format!("{identifiant}: dates {from:?} / {to:?} are not YYYY-MM-DD"),
                );
                return Ok(());
            };
            if to_day < from_day {
                reject(
                    &mut self.stats,
                    format!("{identifiant}: ends ({to_day}) before it starts ({from_day})"),
                );
                return Ok(());
            }
            if !self.seen.insert(identifiant.clone()) {
                self.stats.duplicates += 1;
                return Ok(());
            }
            let postal = text(postal);
            let arrondissement = if !postal.is_empty() {
                postal
            } else {
                let point_text = text(point);
                let p = crate::geo::parse_geo_point(&point_text)
                    .filter(|(lat, lon)| in_france(*lat, *lon));
                if p.is_none() && !point_text.is_empty() {
                    self.stats.coordinates_rejected += 1;
                }
                crate::geo::zone_of(p).to_string()
            };
            self.rows.push(RoadworkRow {
                roadwork: Roadwork {
                    identifiant,
                    typologie: text(typologie),
                    impact: text(impact),
                    arrondissement: Some(arrondissement),
                },
                start: from_day,
                end: to_day,
                shape: shape
                    .and_then(|i| crate::geo::parse_shape(&fields[i].unescaped()))
                    .filter(|s| s.points().all(|(lat, lon)| in_france(lat, lon))),
            });
            Ok(())
        })?;
        Ok(())
    }

    /// Every roadwork active on `date`, by identifier.
    pub fn active_on(&self, date: NaiveDate) -> Vec<Roadwork> {
        self.rows_active_on(date)
            .into_iter()
            .map(|r| r.roadwork.clone())
            .collect()
    }

    /// Every roadwork row active on `date`, by identifier (with its shape, for the map).
    pub fn rows_active_on(&self, date: NaiveDate) -> Vec<&RoadworkRow> {
        let mut active: Vec<&RoadworkRow> = self
            .rows
            .iter()
            .filter(|r| r.start <= date && date <= r.end)
            .collect();
        active.sort_by(|a, b| a.roadwork.identifiant.cmp(&b.roadwork.identifiant));
        active
    }

    pub fn rows(&self) -> &[RoadworkRow] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Identifiant;Typologie;Maîtrise d'ouvrage principale;Date de début;Date de fin;Impact sur la circulation;Niveau de perturbation;Code postal de l'arrondissement;geo_shape;geo_point_2d";

    #[test]
    fn active_relative_to_the_day_inclusive() {
        let shape = "\"{\"\"type\"\": \"\"Polygon\"\", \"\"coordinates\"\": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]]}\"";
        let text = format!(
            "{HEADER}\nCP1;1;Ville;2025-11-01;2025-11-04;BARRAGE_TOTAL;2;75005;{shape};48.85, 2.35\n\
             CP2;2;Ville;2025-11-05;2025-12-01;RESTREINTE;1;;{shape};48.8606, 2.3376\n\
             CP1;1;Ville;2025-01-01;2025-01-02;IMPASSE;1;75005;;\n\
             CP3;1;Ville;04/11/2025;2025-11-30;IMPASSE;1;75010;;\n\
             CP4;1;Ville;2025-11-01;2025-11-30;SENS_UNIQUE;1;;;12.0, 100.0\n"
        );
        let mut r = Roadworks::new();
        r.read(Path::new("c.csv"), std::io::Cursor::new(text.into_bytes()))
            .unwrap();
        let ids = |d: &str| -> Vec<String> {
            r.active_on(d.parse().unwrap())
                .into_iter()
                .map(|w| w.identifiant)
                .collect()
        };
        assert_eq!(ids("2025-11-04"), ["CP1", "CP4"]);
        assert_eq!(ids("2025-11-05"), ["CP2", "CP4"]);
        assert_eq!(ids("2025-10-31"), Vec::<String>::new());
        let cp2 = &r.active_on("2025-11-05".parse().unwrap())[0];
        assert_eq!(cp2.arrondissement.as_deref(), Some("75001"));
        assert_eq!(cp2.impact, "RESTREINTE");
        assert_eq!(r.stats.duplicates, 1);
        assert_eq!(r.stats.rows_rejected, 1);
        assert!(
            r.stats.first_rejections[0].starts_with("c.csv: line 5: CP3"),
            "{:?}",
            r.stats
        );
        assert_eq!(r.stats.coordinates_rejected, 1);
        assert_eq!(
            r.active_on("2025-11-05".parse().unwrap())[1]
                .arrondissement
                .as_deref(),
            Some(crate::geo::ZONE_NO_COORDINATES)
        );
    }
}
