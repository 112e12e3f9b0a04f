//! Deterministic synthetic data in the exact open-data schema.
//!
//! Realistic enough to exercise every definition: daily profiles with morning and evening
//! rush hours (flatter at weekends), occupancy following the flow and traffic states
//! consistent with occupancy, missing hours, sensors out for 8 hours, sensors stuck on one
//! value for 13 hours, congested arcs (occupancy ≥ 80 for 2–3 hours), `Invalide` arcs, exact
//! duplicate rows, a few impossible values, and DST days (rows follow Paris local hours, so
//! a spring day has 23 hours of rows and an autumn day 25). Same seed, same bytes.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::csv_input::{format_timestamp, Instant};
use crate::paris_time::{day_of_date, ParisClock};

/// The export's header.
pub const HEADER: &str = "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic;Identifiant noeud amont;Libelle noeud amont;Identifiant noeud aval;Libelle noeud aval;Etat arc;Date debut dispo data;Date fin dispo data;geo_point_2d;geo_shape";

/// A small, fast, reproducible generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// How an arc behaves over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Normal,
    /// Every row `Invalide`.
    Invalide,
    /// Some days, 8 consecutive hours without flow.
    Outage,
    /// Some days, the same flow for 13 consecutive hours.
    Stuck,
    /// Weekdays, occupancy ≥ 80 at rush hours.
    Congested,
}

/// One arc of the simulated network.
#[derive(Debug, Clone)]
pub struct SimArc {
    pub id: String,
    pub libelle: String,
    pub lat: f64,
    pub lon: f64,
    pub length_m: f64,
    pub noeud_amont: String,
    pub noeud_aval: String,
}

/// Where the arcs come from.
#[derive(Debug, Clone)]
pub enum Network {
    /// `n` arcs scattered over Paris.
    Synthetic(usize),
    /// The arcs of a referentiel metrics file (`{"mapping": {id: {libelle, longueur_metres,
    /// noeud_amont, noeud_aval, geo_point_2d, …}}}`), as the old tool wrote it.
    Referentiel(std::path::PathBuf),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub network: Network,
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SimulateSummary {
    pub arcs: usize,
    pub days: usize,
    pub rows: u64,
    pub duplicate_rows: u64,
    pub invalide_arcs: usize,
}

/// Loads the arcs of `network`.
pub fn network_arcs(network: &Network, rng: &mut Rng) -> Result<Vec<SimArc>, String> {
    match network {
        Network::Synthetic(n) => Ok((0..*n)
            .map(|i| {
                // Within about 5 km of the centre of Paris.
                let r = 5_000.0 * rng.unit().sqrt();
                let a = rng.range(0.0, std::f64::consts::TAU);
                let lat = 48.8566 + r * a.cos() / 111_195.0;
                let lon = 2.3522 + r * a.sin() / (111_195.0 * 48.8566f64.to_radians().cos());
                SimArc {
                    id: format!("{}", 1000 + i),
                    libelle: format!("Arc_simule_{i}"),
                    lat,
                    lon,
                    length_m: rng.range(40.0, 600.0),
                    noeud_amont: format!("{}", 5000 + i),
                    noeud_aval: format!("{}", 5001 + i),
                }
            })
            .collect()),
        Network::Referentiel(path) => load_referentiel(path),
    }
}

fn load_referentiel(path: &Path) -> Result<Vec<SimArc>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        mapping: std::collections::BTreeMap<String, Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        libelle: Option<String>,
        longueur_metres: Option<f64>,
        noeud_amont: Option<serde_json::Value>,
        noeud_aval: Option<serde_json::Value>,
        geo_point_2d: Option<String>,
    }
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = serde_json::from_slice(&text)
        .map_err(|e| format!("{}: not a referentiel file: {e}", path.display()))?;
    let node = |v: &Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut arcs: Vec<SimArc> = file
        .mapping
        .into_iter()
        .filter_map(|(id, e)| {
            let (lat, lon) = crate::geo::parse_geo_point(e.geo_point_2d.as_deref()?)?;
            Some(SimArc {
                libelle: e.libelle.unwrap_or_else(|| id.clone()),
                lat,
                lon,
                length_m: e.longueur_metres.filter(|l| *l > 0.0).unwrap_or(100.0),
                noeud_amont: node(&e.noeud_amont),
                noeud_aval: node(&e.noeud_aval),
                id,
            })
        })
        .collect();
    arcs.sort_by(|a, b| match (a.id.parse::<u64>(), b.id.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.id.cmp(&b.id),
    });
    if arcs.is_empty() {
        return Err(format!("{}: no arc with coordinates", path.display()));
    }
    Ok(arcs)
}

/// Weekday flow profile by local hour (relative to the arc's base flow).
const WEEKDAY: [f64; 24] = [
    0.18, 0.11, 0.08, 0.07, 0.10, 0.28, 0.70, 1.30, 1.65, 1.25, 0.95, 0.92, 1.00, 0.98, 0.95, 1.05,
    1.25, 1.55, 1.70, 1.30, 0.85, 0.62, 0.45, 0.28,
];
const WEEKEND: [f64; 24] = [
    0.30, 0.22, 0.15, 0.10, 0.08, 0.10, 0.20, 0.40, 0.60, 0.80, 0.95, 1.05, 1.10, 1.10, 1.05, 1.05,
    1.10, 1.15, 1.10, 0.95, 0.75, 0.60, 0.48, 0.35,
];

fn etat_for(taux: Option<f64>) -> &'static str {
    match taux {
        None => "Inconnu",
        Some(t) if t < 15.0 => "Fluide",
        Some(t) if t < 35.0 => "Pré-saturé",
        Some(t) if t < 60.0 => "Saturé",
        Some(_) => "Bloqué",
    }
}

/// Quotes a field if it holds the separator or a quote.
fn field(text: &str) -> String {
    if text.contains([';', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes the simulated export to `out`.
pub fn simulate(options: &SimulateOptions, out: &mut dyn Write) -> Result<SimulateSummary, String> {
    if options.from > options.to {
        return Err(format!(
            "--from {} is after --to {}",
            options.from, options.to
        ));
    }
    let mut rng = Rng::new(options.seed);
    let arcs = network_arcs(&options.network, &mut rng)?;
    let clock = ParisClock::new();

    // Per arc: its behaviour, base flow, and the static parts of its rows.
    struct Prepared {
        behaviour: Behaviour,
        base: f64,
        prefix: String,
        suffix: String,
    }
    let prepared: Vec<Prepared> = arcs
        .iter()
        .map(|a| {
            let roll = rng.unit();
            let behaviour = if roll < 0.01 {
                Behaviour::Invalide
            } else if roll < 0.02 {
                Behaviour::Outage
            } else if roll < 0.025 {
                Behaviour::Stuck
            } else if roll < 0.055 {
                Behaviour::Congested
            } else {
                Behaviour::Normal
            };
            // A segment of the arc's length through its point, in a random direction.
            let bearing = rng.range(0.0, std::f64::consts::PI);
            let half = a.length_m / 2.0;
            let dlat = half * bearing.cos() / 111_194.93;
            let dlon = half * bearing.sin() / (111_194.93 * a.lat.to_radians().cos());
            let shape = format!(
                "{{\"coordinates\": [[{:.7}, {:.7}], [{:.7}, {:.7}]], \"type\": \"LineString\"}}",
                a.lon - dlon,
                a.lat - dlat,
                a.lon + dlon,
                a.lat + dlat
            );
            let etat_arc = if behaviour == Behaviour::Invalide {
                "Invalide"
            } else {
                "Ouvert"
            };
            Prepared {
                behaviour,
                base: rng.range(4.6, 7.9).exp(),
                prefix: format!("{};{};", field(&a.id), field(&a.libelle)),
                suffix: format!(
                    ";{};{};{};{};{etat_arc};2005-01-01;2030-12-31;{:.7}, {:.7};{}\n",
                    field(&a.noeud_amont),
                    field(&format!("Noeud_{}", a.noeud_amont)),
                    field(&a.noeud_aval),
                    field(&format!("Noeud_{}", a.noeud_aval)),
                    a.lat,
                    a.lon,
                    field(&shape)
                ),
            }
        })
        .collect();

    let mut summary = SimulateSummary {
        arcs: arcs.len(),
        invalide_arcs: prepared
            .iter()
            .filter(|p| p.behaviour == Behaviour::Invalide)
            .count(),
        ..SimulateSummary::default()
    };
    let io = |e: std::io::Error| format!("cannot write: {e}");
    out.write_all(HEADER.as_bytes()).map_err(io)?;
    out.write_all(b"\n").map_err(io)?;
    let mut line = String::with_capacity(512);
    for date in options.from.iter_days().take_while(|d| *d <= options.to) {
        summary.days += 1;
        let day = day_of_date(date);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let hours = clock.hours_in_day(day);
        // Per arc and day: an outage window, a stuck window.
        let windows: Vec<(Option<u32>, Option<u32>)> = prepared
            .iter()
            .map(|p| match p.behaviour {
                Behaviour::Outage if rng.chance(0.4) => (Some(rng.range(0.0, 14.0) as u32), None),
                Behaviour::Stuck if rng.chance(0.4) => (None, Some(rng.range(0.0, 9.0) as u32)),
                _ => (None, None),
            })
            .collect();
        let mut stuck_value: Vec<Option<u32>> = vec![None; prepared.len()];
        for slot in 0..hours {
            let utc = clock.midnight_utc(day) + i64::from(slot) * 3_600;
            let offset = (clock.offset_at(utc) / 60) as i16;
            let ts = format_timestamp(Instant {
                utc,
                offset_minutes: offset,
            });
            let hour = clock.clock_hour(day, slot) as usize;
            let profile = if weekend {
                WEEKEND[hour]
            } else {
                WEEKDAY[hour]
            };
            for (i, p) in prepared.iter().enumerate() {
                let mut debit = Some((p.base * profile * rng.range(0.85, 1.15)).round() as u32);
                let mut taux =
                    Some((2.0 + 45.0 * (profile / 1.7).powi(2) * rng.range(0.6, 1.4)).min(79.0));
                match (p.behaviour, windows[i]) {
                    (Behaviour::Outage, (Some(start), _)) if (start..start + 8).contains(&slot) => {
                        debit = None;
                        taux = None;
                    }
                    (Behaviour::Stuck, (_, Some(start))) if (start..start + 13).contains(&slot) => {
                        let v = *stuck_value[i].get_or_insert(debit.unwrap_or(0));
                        debit = Some(v);
                    }
                    (Behaviour::Congested, _)
                        if !weekend && matches!(hour, 8 | 9 | 17 | 18 | 19) =>
                    {
                        taux = Some(rng.range(81.0, 96.0));
                    }
                    _ => {}
                }
                if rng.chance(0.01) {
                    debit = None;
                }
                if rng.chance(0.005) {
                    taux = None;
                }
                line.clear();
                line.push_str(&p.prefix);
                line.push_str(&ts);
                line.push(';');
                // A few impossible values, which the ingestion must reject.
                if rng.chance(0.0001) {
                    line.push_str("-1");
                } else if let Some(d) = debit {
                    line.push_str(itoa(d).as_str());
                }
                line.push(';');
                if rng.chance(0.0001) {
                    line.push_str("101.5");
                } else if let Some(t) = taux {
                    line.push_str(&format!("{t:.3}"));
                }
                line.push(';');
                line.push_str(etat_for(taux));
                line.push_str(&p.suffix);
                out.write_all(line.as_bytes()).map_err(io)?;
                summary.rows += 1;
                if rng.chance(0.001) {
                    out.write_all(line.as_bytes()).map_err(io)?;
                    summary.rows += 1;
                    summary.duplicate_rows += 1;
                }
            }
        }
    }
    out.flush().map_err(io)?;
    Ok(summary)
}

fn itoa(v: u32) -> String {
    v.to_string()
}

/// Writes the simulated export to `path`, gzip-compressed when it ends with `.gz`.
pub fn simulate_to_file(options: &SimulateOptions, path: &Path) -> Result<SimulateSummary, String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::fast());
        let summary = simulate(options, &mut gz)?;
        gz.finish()
            .and_then(|mut w| w.flush())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(summary)
    } else {
        let mut w = buffered;
        simulate(options, &mut w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let options = SimulateOptions {
            from: "2025-10-25".parse().unwrap(),
            to: "2025-10-26".parse().unwrap(),
            network: Network::Synthetic(20),
            seed: 7,
        };
        let mut a = Vec::new();
        let mut b = Vec::new();
        let sa = simulate(&options, &mut a).unwrap();
        simulate(&options, &mut b).unwrap();
        assert_eq!(a, b);
        // 24 + 25 hours (autumn DST day) × 20 arcs, plus duplicates.
        assert_eq!(sa.rows, 49 * 20 + sa.duplicate_rows);
        let mut c = Vec::new();
        simulate(&SimulateOptions { seed: 8, ..options }, &mut c).unwrap();
        assert_ne!(a, c);
    }
}
