//! The weather timeline (Visual Crossing's timeline API): `{resolvedAddress, timezone,
//! days: [{datetime: "YYYY-MM-DD", temp, tempmin, tempmax, precip, windspeed, conditions,
//! hours: […]}], currentConditions}`, one file holding one day or many.
//!
//! The weather of report day D is the `days[]` entry whose `datetime` is D, and only that:
//! the old tool took the file's first day whatever the report's day. Files read later win
//! for the same day (read oldest first).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use cityflow_core::WeatherImpact;
use serde::{Deserialize, Serialize};

use crate::records::{decoded, read_error};
use crate::IngestError;

/// The mobility score starts here (the old tool's rule), then is clamped to 0–100.
pub const BASE_SCORE: f64 = 50.0;
/// Rain from this many millimetres takes 20 points.
pub const HEAVY_RAIN_MM: f64 = 5.0;
/// Below this temperature (°C) 10 points are taken.
pub const COLD_C: f64 = 10.0;
/// Above this temperature (°C) 5 points are added.
pub const HOT_C: f64 = 25.0;
/// From this wind speed (km/h) the day is "Venteux"; no effect on the score.
pub const WINDY_KMH: f64 = 30.0;

#[derive(Debug, Deserialize)]
struct Timeline {
    days: Vec<DayInput>,
}

#[derive(Debug, Deserialize)]
struct DayInput {
    datetime: String,
    temp: Option<f64>,
    tempmin: Option<f64>,
    tempmax: Option<f64>,
    precip: Option<f64>,
    windspeed: Option<f64>,
    conditions: Option<String>,
}

/// What was read and what was rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WeatherStats {
    pub files: u64,
    pub days: u64,
    /// Days rejected as implausible (`tempmin > tempmax`, an unreadable `datetime`), `where:
    /// why`.
    pub days_rejected: Vec<String>,
    /// Days given again by a later file: the later one is kept.
    pub days_replaced: u64,
    /// Days whose `temp` lay outside [tempmin, tempmax]: replaced by their mean.
    pub temps_corrected: u64,
}

/// The weather of every day of the inputs.
#[derive(Debug, Default)]
pub struct WeatherDays {
    days: BTreeMap<NaiveDate, WeatherImpact>,
    pub stats: WeatherStats,
}

impl WeatherDays {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one timeline file (plain or gzip); `name` is used in messages. A malformed file
    /// (invalid JSON, `days` not an array, a wrong type) is an error naming it, its line and
    /// column.
    pub fn read(
        &mut self,
        name: &Path,
        input: impl Read + Send + 'static,
    ) -> Result<(), IngestError> {
        let input = std::io::BufReader::new(decoded(input).map_err(|e| read_error(name, e))?);
        let mut de = serde_json::Deserializer::from_reader(input);
        let timeline = Timeline::deserialize(&mut de)
            .and_then(|t| de.end().map(|()| t))
            .map_err(|e| {
                if e.classify() == serde_json::error::Category::Io {
                    if let Ok(source) = crate::aggregate::source_error(e.into()) {
                        return source;
                    }
                    return IngestError::Input {
                        path: name.to_path_buf(),
                        message: "cannot be read".into(),
                    };
                }
                let text = e.to_string();
                let text = text
                    .rfind(" at line ")
                    .map_or(text.as_str(), |i| &text[..i])
                    .to_string();
                let what = if e.is_eof() { "truncated" } else { "invalid" };
                IngestError::Input {
                    path: name.to_path_buf(),
                    message: format!(
                        "{what} weather timeline at line {} column {}: {text}",
                        e.line(),
                        e.column()
                    ),
                }
            })?;
        self.stats.files += 1;
        for (i, d) in timeline.days.into_iter().enumerate() {
            let at = || format!("{}: days[{i}]", name.display());
            let Ok(date) = cityflow_core::parse_date(&d.datetime) else {
                self.stats.days_rejected.push(format!(
                    "{}: datetime {:?} is not YYYY-MM-DD",
                    at(),
                    d.datetime
                ));
                continue;
            };
            match impact(date, &d) {
                Ok((w, corrected)) => {
                    self.stats.days += 1;
                    self.stats.temps_corrected += u64::from(corrected);
                    if self.days.insert(date, w).is_some() {
                        self.stats.days_replaced += 1;
                    }
                }
                Err(why) => self
                    .stats
                    .days_rejected
                    .push(format!("{} ({date}): {why}", at())),
            }
        }
        Ok(())
    }

    /// The weather of `date`, when an input had that day.
    pub fn day(&self, date: NaiveDate) -> Option<&WeatherImpact> {
        self.days.get(&date)
    }

    /// The days that have weather.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.days.keys().copied()
    }
}

/// The section of one day, and whether its `temp` was corrected.
fn impact(date: NaiveDate, d: &DayInput) -> Result<(WeatherImpact, bool), String> {
    if let (Some(min), Some(max)) = (d.tempmin, d.tempmax) {
        if min > max {
            return Err(format!("tempmin {min} > tempmax {max}: rejected"));
        }
    }
    let mut corrected = false;
    let temp = match (d.temp, d.tempmin, d.tempmax) {
        (Some(t), Some(min), Some(max)) if t < min || t > max => {
            corrected = true;
            Some((min + max) / 2.0)
        }
        (t, _, _) => t,
    };
    Ok((
        WeatherImpact {
            date: Some(date),
            temp_moyenne: temp,
            temp_min: d.tempmin,
            temp_max: d.tempmax,
            precip_totale: d.precip,
            vent_moyen: d.windspeed,
            conditions: d.conditions.clone(),
            impact_mobilite: Some(mobility_score(temp, d.precip)),
        },
        corrected,
    ))
}

/// The old tool's score: 50, −20 from 5 mm of rain, −10 below 10 °C, +5 above 25 °C,
/// clamped to 0–100. An unknown value changes nothing.
pub fn mobility_score(temp: Option<f64>, precip: Option<f64>) -> f64 {
    let mut score = BASE_SCORE;
    if precip.is_some_and(|p| p >= HEAVY_RAIN_MM) {
        score -= 20.0;
    }
    if let Some(t) = temp {
        if t < COLD_C {
            score -= 10.0;
        } else if t > HOT_C {
            score += 5.0;
        }
    }
    score.clamp(0.0, 100.0)
}

/// Whether the day's wind makes it "Venteux".
pub fn is_windy(w: &WeatherImpact) -> bool {
    w.vent_moyen.is_some_and(|v| v >= WINDY_KMH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<WeatherDays, IngestError> {
        let mut w = WeatherDays::new();
        w.read(
            Path::new("w.json"),
            std::io::Cursor::new(text.as_bytes().to_vec()),
        )?;
        Ok(w)
    }

    #[test]
    fn the_report_day_is_the_entry_of_that_date() {
        let w = read(r#"{"resolvedAddress": "Paris", "timezone": "Europe/Paris", "days": [
            {"datetime": "2025-11-03", "temp": 11.6, "tempmin": 7.3, "tempmax": 15.6, "precip": 0.0, "windspeed": 15.5, "conditions": "Partially cloudy", "hours": [{"datetime": "00:00:00"}]},
            {"datetime": "2025-11-04", "temp": 30.0, "tempmin": 5.0, "tempmax": 9.0, "precip": 6.2, "windspeed": 31.0, "conditions": "Rain"}
        ], "currentConditions": {"temp": 3}}"#)
        .unwrap();
        let d = w.day("2025-11-04".parse().unwrap()).unwrap();
        assert_eq!(d.date, Some("2025-11-04".parse().unwrap()));
        // 30 °C lies outside [5, 9]: the mean, 7 °C; rain −20, cold −10.
        assert_eq!(d.temp_moyenne, Some(7.0));
        assert_eq!(d.impact_mobilite, Some(20.0));
        assert!(is_windy(d));
        assert_eq!(w.stats.temps_corrected, 1);
        assert_eq!(
            w.day("2025-11-03".parse().unwrap())
                .unwrap()
                .impact_mobilite,
            Some(50.0)
        );
        assert!(w.day("2025-11-05".parse().unwrap()).is_none());
    }

    #[test]
    fn scores_and_rejections() {
        assert_eq!(mobility_score(Some(26.0), Some(0.0)), 55.0);
        assert_eq!(mobility_score(Some(25.0), Some(5.0)), 30.0);
        assert_eq!(mobility_score(None, None), 50.0);
        let w = read(r#"{"days": [{"datetime": "2025-11-04", "tempmin": 9, "tempmax": 3}, {"datetime": "04/11/2025"}]}"#).unwrap();
        assert_eq!(w.stats.days_rejected.len(), 2, "{:?}", w.stats);
        assert!(w.stats.days_rejected[0].contains("tempmin 9 > tempmax 3"));
        for (bad, expect) in [
            (
                r#"{"days": {"datetime": "2025-11-04"}}"#,
                "invalid type: map, expected a sequence",
            ),
            (
                r#"{"days": [{"datetime": "2025-11-04", "temp": "warm"}]}"#,
                "invalid type: string",
            ),
            (r#"{"days": [{"datetime": "2025-11-04""#, "truncated"),
            (r#"{"resolvedAddress": "Paris"}"#, "missing field `days`"),
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains(expect), "{bad}: {e}");
            assert!(e.starts_with("w.json: "), "{e}");
        }
    }
}
