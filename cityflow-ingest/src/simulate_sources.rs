//! Deterministic synthetic bike counters, weather timelines and roadworks, in the formats of
//! the real sources (see [`crate::bikes`], [`crate::weather`], [`crate::chantiers`]), for the
//! benchmark and for tests at scale. Same seed, same bytes.
//!
//! Bikes look like Paris: `sites` sites (about 100 in the real network) with two directions
//! each, hourly counts with rush hours on weekdays and a flatter weekend, rows in Paris local
//! hours (a spring day has 23, an autumn day 25). Each counter-day can go wrong as real
//! counters do: a whole day at 0, a count stuck for 14 hours, 6 to 10 hours without a count,
//! and a few exact duplicate rows (overlapping exports) and negative counts.

use std::io::Write;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::csv_input::{format_timestamp, Instant};
use crate::paris_time::{day_of_date, ParisClock};
use crate::simulate::Rng;

/// The dataset's CSV export header (`comptage-velo-donnees-compteurs`).
pub const BIKES_CSV_HEADER: &str = "Identifiant du compteur;Nom du compteur;Identifiant du site de comptage;Nom du site de comptage;Comptage horaire;Date et heure de comptage;Date d'installation du site de comptage;Lien vers photo du site de comptage;Coordonnées géographiques;Identifiant technique compteur;ID Photos;test_lien_vers_photos_du_site_de_comptage_;id_photo_1;url_sites;type_dispositif;mois_annee_comptage";

/// The roadworks export header (`chantiers-perturbants-la-circulation`).
pub const CHANTIERS_CSV_HEADER: &str = "Identifiant;Typologie;Maîtrise d'ouvrage principale;Objet;Voie(s);Précisions de localisation;Date de début;Date de fin;Impact sur la circulation;Détail de l'impact sur la circulation;Niveau de perturbation;Statut;Code postal de l'arrondissement;Surface (m2);geo_shape;geo_point_2d";

/// How bike records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BikeFormat {
    /// The dataset's CSV export.
    Csv,
    /// The Opendatasoft records JSON (`{"total_count", "results"}`), one document.
    Records,
    /// One record per line.
    JsonLines,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourcesSummary {
    pub records: u64,
    pub days: u64,
    pub counters: u64,
}

const STREETS: [&str; 12] = [
    "boulevard de Sébastopol",
    "rue de Rivoli",
    "avenue Denfert Rochereau",
    "boulevard Voltaire",
    "quai de la Tournelle",
    "boulevard Diderot",
    "rue de Rennes",
    "avenue de la Grande Armée",
    "boulevard Saint-Michel",
    "rue La Fayette",
    "quai d'Austerlitz",
    "boulevard de Magenta",
];

fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), String> {
    if from > to {
        return Err(format!("--from {from} is after --to {to}"));
    }
    Ok(())
}

/// A point within about 5 km of the centre of Paris.
fn point(rng: &mut Rng) -> (f64, f64) {
    let r = 5_000.0 * rng.unit().sqrt();
    let a = rng.range(0.0, std::f64::consts::TAU);
    (
        48.8566 + r * a.sin() / 111_195.0,
        2.3522 + r * a.cos() / (111_195.0 * 48.8566_f64.to_radians().cos()),
    )
}

/// Hourly share of a day's bikes at local clock hour `h` (weekday or weekend).
fn profile(h: u32, weekend: bool) -> f64 {
    let h = f64::from(h);
    let bump = |centre: f64, width: f64| (-((h - centre) / width).powi(2)).exp();
    if weekend {
        0.15 + 0.9 * bump(15.0, 4.0)
    } else {
        0.08 + 1.0 * bump(8.5, 1.2) + 0.85 * bump(18.0, 1.5) + 0.3 * bump(13.0, 2.5)
    }
}

/// Writes `sites` × 2 counters' hourly counts from `from` to `to` in `format`.
pub fn simulate_bikes(
    from: NaiveDate,
    to: NaiveDate,
    sites: usize,
    seed: u64,
    format: BikeFormat,
    out: &mut dyn Write,
) -> Result<SourcesSummary, String> {
    check_range(from, to)?;
    if sites == 0 {
        return Err("--sites must be at least 1".into());
    }
    let io = |e: std::io::Error| format!("cannot write: {e}");
    let mut rng = Rng::new(seed);
    let clock = ParisClock::new();
    struct Counter {
        id: String,
        name: String,
        site: String,
        site_name: String,
        point: Option<(f64, f64)>,
        base: f64,
    }
    let mut counters = Vec::with_capacity(2 * sites);
    for s in 0..sites {
        let street = STREETS[s % STREETS.len()];
        let number = 1 + (rng.next_u64() % 180);
        let site = format!("1000{:05}", 3000 + s);
        let site_name = format!("{number} {street}");
        // One site in fifty has no coordinates, as in the dataset.
        let p = (!rng.chance(0.02)).then(|| point(&mut rng));
        let base = rng.range(300.0, 4_000.0);
        for (d, dir) in ["NO-SE", "SE-NO"].iter().enumerate() {
            counters.push(Counter {
                id: format!("{site}-{}", 101_000_000 + s * 2 + d),
                name: format!("{site_name} {dir}"),
                site: site.clone(),
                site_name: site_name.clone(),
                point: p,
                base: base * rng.range(0.7, 1.3),
            });
        }
    }
    let mut summary = SourcesSummary {
        counters: counters.len() as u64,
        ..SourcesSummary::default()
    };
    let mut first = true;
    match format {
        BikeFormat::Csv => writeln!(out, "{BIKES_CSV_HEADER}").map_err(io)?,
        BikeFormat::Records => write!(out, "{{\"total_count\": 0, \"results\": [").map_err(io)?,
        BikeFormat::JsonLines => {}
    }
    let mut line = String::with_capacity(512);
    for date in from.iter_days().take_while(|d| *d <= to) {
        summary.days += 1;
        let day = day_of_date(date);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let midnight = clock.midnight_utc(day);
        let hours = clock.hours_in_day(day);
        let weights: Vec<f64> = (0..hours)
            .map(|s| profile(clock.clock_hour(day, s), weekend))
            .collect();
        let weight_sum: f64 = weights.iter().sum();
        for c in &counters {
            // What goes wrong with this counter today.
            let roll = rng.unit();
            let (zero, stuck, gap) = (
                roll < 0.004,
                (0.004..0.008).contains(&roll),
                (0.008..0.016).contains(&roll),
            );
            let gap_start = (rng.next_u64() % 12) as u32;
            let gap_len = 6 + (rng.next_u64() % 5) as u32;
            let stuck_value = 1 + (rng.next_u64() % 40) as u32;
            let daily = c.base * if weekend { 0.6 } else { 1.0 } * rng.range(0.8, 1.2);
            for slot in 0..hours {
                let utc = midnight + i64::from(slot) * 3_600;
                let offset = (clock.offset_at(utc) / 60) as i16;
                let when = format_timestamp(Instant {
                    utc,
                    offset_minutes: offset,
                });
                let count: Option<i64> = if zero {
                    Some(0)
                } else if stuck && (4..18).contains(&slot) {
                    Some(i64::from(stuck_value))
                } else if gap && slot >= gap_start && slot < gap_start + gap_len {
                    None
                } else if rng.chance(0.0002) {
                    Some(-(1 + (rng.next_u64() % 20) as i64))
                } else {
                    let mean = daily * weights[slot as usize] / weight_sum;
                    Some((mean * rng.range(0.75, 1.25)).round() as i64)
                };
                line.clear();
                match format {
                    BikeFormat::Csv => {
                        use std::fmt::Write as _;
                        let coords = c
                            .point
                            .map(|(lat, lon)| format!("{lat:.5},{lon:.5}"))
                            .unwrap_or_default();
                        let _ = writeln!(
                            line,
                            "{};{};{};{};{};{};2019-06-12;https://filer.eco-counter-tools.com/file/{}.jpg;{};Y2H{};;https://filer.eco-counter-tools.com/file/{}.jpg;{}.jpg;https://www.eco-visio.net/Photos/{};Boucle de comptage;{}",
                            c.id,
                            c.name,
                            c.site,
                            c.site_name,
                            count.map(|n| n.to_string()).unwrap_or_default(),
                            when,
                            c.site,
                            coords,
                            &c.id[c.id.len() - 8..],
                            c.site,
                            c.site,
                            c.site,
                            &when[..7],
                        );
                    }
                    BikeFormat::Records | BikeFormat::JsonLines => {
                        let record = serde_json::json!({
                            "id_compteur": c.id,
                            "nom_compteur": c.name,
                            "id": c.site,
                            "name": c.site_name,
                            "sum_counts": count,
                            "date": when,
                            "installation_date": "2019-06-12",
                            "url_photos_n1": null,
                            "coordinates": c.point.map(|(lat, lon)| serde_json::json!({"lon": lon, "lat": lat})),
                            "counter": format!("Y2H{}", &c.id[c.id.len() - 8..]),
                            "mois_annee_comptage": &when[..7],
                        });
                        if format == BikeFormat::Records && !first {
                            line.push_str(",\n");
                        }
                        line.push_str(&record.to_string());
                        if format == BikeFormat::JsonLines {
                            line.push('\n');
                        }
                    }
                }
                first = false;
                let copies = if rng.chance(0.001) { 2 } else { 1 };
                for _ in 0..copies {
                    out.write_all(line.as_bytes()).map_err(io)?;
                    summary.records += 1;
                    if format == BikeFormat::Records && copies == 2 && !line.starts_with(",\n") {
                        // The duplicate of the first record needs its separator.
                        line.insert_str(0, ",\n");
                    }
                }
            }
        }
    }
    if format == BikeFormat::Records {
        writeln!(out, "]}}").map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(summary)
}

/// Writes a weather timeline covering `from` to `to` (Paris, seasonal temperatures, rain and
/// wind), with each day's hours, as the timeline API answers.
pub fn simulate_weather(
    from: NaiveDate,
    to: NaiveDate,
    seed: u64,
    out: &mut dyn Write,
) -> Result<SourcesSummary, String> {
    check_range(from, to)?;
    let mut rng = Rng::new(seed);
    let mut days = Vec::new();
    for date in from.iter_days().take_while(|d| *d <= to) {
        let season = ((f64::from(date.ordinal()) - 20.0) / 365.25 * std::f64::consts::TAU).cos();
        let mean = 12.5 - 8.0 * season + rng.range(-3.0, 3.0);
        let spread = rng.range(3.0, 9.0);
        let (tmin, tmax) = (mean - spread / 2.0, mean + spread / 2.0);
        let rainy = rng.chance(0.35);
        let precip = if rainy { rng.range(0.2, 14.0) } else { 0.0 };
        let wind = rng.range(5.0, 38.0);
        let conditions = match (rainy, precip >= 5.0) {
            (true, true) => "Rain, Overcast",
            (true, false) => "Rain, Partially cloudy",
            _ if rng.chance(0.4) => "Clear",
            _ => "Partially cloudy",
        };
        let r1 = |v: f64| (v * 10.0).round() / 10.0;
        let hours: Vec<serde_json::Value> = (0..24)
            .map(|h| {
                let t = mean - spread / 2.0 * ((f64::from(h) - 3.0) / 24.0 * std::f64::consts::TAU).cos();
                serde_json::json!({"datetime": format!("{h:02}:00:00"), "temp": r1(t), "precip": r1(precip / 24.0), "windspeed": r1(wind), "conditions": conditions})
            })
            .collect();
        days.push(serde_json::json!({
            "datetime": date.to_string(),
            "tempmax": r1(tmax), "tempmin": r1(tmin), "temp": r1(mean),
            "humidity": r1(rng.range(55.0, 95.0)), "precip": r1(precip),
            "precipprob": if rainy { 100.0 } else { 0.0 },
            "windspeed": r1(wind), "conditions": conditions, "source": "obs",
            "hours": hours,
        }));
    }
    let n = days.len() as u64;
    let doc = serde_json::json!({
        "queryCost": n, "latitude": 48.8566, "longitude": 2.3522,
        "resolvedAddress": "Paris, Île-de-France, France", "address": "Paris",
        "timezone": "Europe/Paris", "tzoffset": 1.0, "days": days,
        "currentConditions": {"datetime": "07:00:00", "temp": 6.8, "conditions": "Overcast"},
    });
    serde_json::to_writer(&mut *out, &doc).map_err(|e| format!("cannot write: {e}"))?;
    writeln!(out).map_err(|e| format!("cannot write: {e}"))?;
    Ok(SourcesSummary {
        records: n,
        days: n,
        counters: 0,
    })
}

/// Writes `count` roadworks starting between `from` and `to`, lasting a day to four months,
/// in the export's CSV.
pub fn simulate_chantiers(
    from: NaiveDate,
    to: NaiveDate,
    count: usize,
    seed: u64,
    out: &mut dyn Write,
) -> Result<SourcesSummary, String> {
    check_range(from, to)?;
    let io = |e: std::io::Error| format!("cannot write: {e}");
    let mut rng = Rng::new(seed);
    let span = (to - from).num_days().max(0) as u64 + 1;
    writeln!(out, "{CHANTIERS_CSV_HEADER}").map_err(io)?;
    let impacts = ["BARRAGE_TOTAL", "IMPASSE", "RESTREINTE", "SENS_UNIQUE"];
    for i in 0..count {
        let start = from + chrono::TimeDelta::days((rng.next_u64() % span) as i64);
        let end = start + chrono::TimeDelta::days((rng.next_u64() % 120) as i64);
        let (lat, lon) = point(&mut rng);
        let zone = crate::geo::zone_of(Some((lat, lon)));
        // A third without postal code: the zone then comes from the point.
        let postal = if rng.chance(0.33) || !zone.starts_with("75") {
            ""
        } else {
            zone
        };
        let d = 0.0004;
        let shape = format!(
            "\"{{\"\"type\"\": \"\"Polygon\"\", \"\"coordinates\"\": [[[{:.6}, {:.6}], [{:.6}, {:.6}], [{:.6}, {:.6}], [{:.6}, {:.6}]]]}}\"",
            lon, lat, lon + d, lat, lon + d, lat + d, lon, lat
        );
        writeln!(
            out,
            "CP{:06};{};Ville de Paris;Travaux de voirie;{};;{};{};{};Circulation modifiée;{};En cours;{};{};{};{:.6}, {:.6}",
            4000 + i,
            1 + rng.next_u64() % 3,
            STREETS[i % STREETS.len()],
            start,
            end,
            impacts[(rng.next_u64() % 4) as usize],
            1 + rng.next_u64() % 3,
            postal,
            20 + rng.next_u64() % 2000,
            shape,
            lat,
            lon
        )
        .map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(SourcesSummary {
        records: count as u64,
        days: span,
        counters: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn simulated_bikes_read_back_in_every_format_with_the_same_figures() {
        let (from, to) = (day("2025-10-25"), day("2025-10-27"));
        let mut outputs = Vec::new();
        for format in [BikeFormat::Csv, BikeFormat::Records, BikeFormat::JsonLines] {
            let mut bytes = Vec::new();
            let s = simulate_bikes(from, to, 5, 3, format, &mut bytes).unwrap();
            let mut again = Vec::new();
            simulate_bikes(from, to, 5, 3, format, &mut again).unwrap();
            assert_eq!(bytes, again, "same seed, same bytes");
            // 10 counters, 24 + 25 + 24 hours, plus duplicates.
            assert!(s.records >= 10 * 73, "{s:?}");
            let mut b = crate::BikeCounts::new();
            b.read(Path::new("sim"), std::io::Cursor::new(bytes))
                .unwrap();
            assert_eq!(b.stats.records, s.records, "{format:?}");
            assert_eq!(b.stats.records_rejected, 0, "{format:?}: {:?}", b.stats);
            outputs.push((b.day(day("2025-10-26")), b.stats.duplicates));
        }
        assert_eq!(outputs[0], outputs[1]);
        assert_eq!(outputs[1], outputs[2]);
    }

    #[test]
    fn one_worker_or_several_give_the_same_counts() {
        let mut bytes = Vec::new();
        simulate_bikes(
            day("2025-03-28"),
            day("2025-04-01"),
            30,
            9,
            BikeFormat::Csv,
            &mut bytes,
        )
        .unwrap();
        // Rows of two files read one after the other: the later file wins in both.
        let mut later = Vec::new();
        simulate_bikes(
            day("2025-03-31"),
            day("2025-04-02"),
            30,
            10,
            BikeFormat::Csv,
            &mut later,
        )
        .unwrap();
        let read = |workers| {
            let mut b = crate::BikeCounts::with_workers(workers);
            b.read(Path::new("a.csv"), std::io::Cursor::new(bytes.clone()))
                .unwrap();
            b.read(Path::new("b.csv"), std::io::Cursor::new(later.clone()))
                .unwrap();
            b
        };
        let one = read(1);
        for workers in [2, 3] {
            let many = read(workers);
            assert_eq!(one.stats, many.stats, "{workers} workers");
            assert_eq!(one.days(), many.days());
            for d in one.days() {
                assert_eq!(one.day(d), many.day(d), "{d}, {workers} workers");
            }
        }
    }

    #[test]
    fn simulated_weather_and_roadworks_read_back() {
        let (from, to) = (day("2025-01-01"), day("2025-12-31"));
        let mut bytes = Vec::new();
        simulate_weather(from, to, 1, &mut bytes).unwrap();
        let mut w = crate::WeatherDays::new();
        w.read(Path::new("w.json"), std::io::Cursor::new(bytes))
            .unwrap();
        assert_eq!(w.days().count(), 365);
        let mut bytes = Vec::new();
        simulate_chantiers(from, to, 50, 1, &mut bytes).unwrap();
        let mut r = crate::Roadworks::new();
        r.read(Path::new("c.csv"), std::io::Cursor::new(bytes))
            .unwrap();
        assert_eq!(r.rows().len(), 50);
        assert_eq!(r.stats.rows_rejected, 0, "{:?}", r.stats);
    }
}
