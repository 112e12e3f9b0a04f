//! The figures of one arc on one day, and the report of a day. Definitions (README):
//!
//! - `debit_journalier_total` Σ of the hourly flows present; `debit_horaire_moyen` their mean;
//!   `debit_max`; `heure_pic` the timestamp (as written) of the max, earliest on ties;
//! - `taux_occupation_moyen` mean of the occupancies present;
//! - `etat_trafic_dominant` the most frequent state, ties to the most severe;
//! - lost time hour by hour: observed speed 50 km/h if taux < 30, 40 if < 50, 30 if < 70,
//!   else 20; per-vehicle loss = L/v − L/50 (minutes); total = Σ loss × débit over hours with
//!   both values; per-vehicle figure = total ÷ Σ of those débits;
//! - congestion alert: taux ≥ 80 during ≥ 2 consecutive hours; severity `Critique` from 90;
//! - failing sensor: more than 6 consecutive hours without flow, or the same flow 12
//!   consecutive hours or more;
//! - availability: 100 × hours with a flow ÷ (arcs of the file × hours of the day).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cityflow_core::{
    ArcStats, CongestionAlert, DailyReport, Evolution, FailingSensor, SensorKind, Severity,
    Summary, Timestamp, ZoneEntry, ZoneStats, MAX_ALERTS, TOP_N,
};

use crate::aggregate::{Aggregate, ArcInfo, DayHours, Etat};
use crate::csv_input::{format_timestamp, Instant};
use crate::paris_time::{day_of_date, ParisClock};

/// Free-flow speed, km/h.
const FREE_FLOW_KMH: f64 = 50.0;
/// Occupancy from which an hour is congested, percent.
const CONGESTED_TAUX: f64 = 80.0;
/// Consecutive congested hours that make an alert.
const ALERT_MIN_HOURS: u32 = 2;
/// More than this many consecutive hours without flow: failing.
const MAX_MISSING_RUN: u32 = 6;
/// This many consecutive hours with the same flow: stuck.
const STUCK_RUN: u32 = 12;

/// Observed speed for an occupancy, km/h.
pub fn observed_speed_kmh(taux: f64) -> f64 {
    if taux < 30.0 {
        50.0
    } else if taux < 50.0 {
        40.0
    } else if taux < 70.0 {
        30.0
    } else {
        20.0
    }
}

/// Minutes lost by one vehicle on `length_m` metres at occupancy `taux` (≥ 0).
pub fn loss_per_vehicle_minutes(length_m: f64, taux: f64) -> f64 {
    let km = length_m / 1000.0;
    (km / observed_speed_kmh(taux) * 60.0 - km / FREE_FLOW_KMH * 60.0).max(0.0)
}

/// Everything computed for one arc on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct ArcDay {
    pub arc: u32,
    pub hours_in_day: u32,
    /// Hours with a flow.
    pub debit_hours: u32,
    pub debit_total: u64,
    pub debit_max: Option<u32>,
    pub heure_pic: Option<String>,
    pub taux_hours: u32,
    pub taux_sum: f64,
    pub etat_dominant: Etat,
    pub temps_perdu_total_minutes: f64,
    pub debit_with_taux: u64,
    pub alert: Option<Alert>,
    pub failure: Option<Failure>,
}

impl ArcDay {
    pub fn debit_mean(&self) -> Option<f64> {
        (self.debit_hours > 0).then(|| self.debit_total as f64 / f64::from(self.debit_hours))
    }

    pub fn taux_mean(&self) -> Option<f64> {
        (self.taux_hours > 0).then(|| self.taux_sum / f64::from(self.taux_hours))
    }

    pub fn temps_perdu_minutes(&self) -> f64 {
        if self.debit_with_taux == 0 {
            0.0
        } else {
            self.temps_perdu_total_minutes / self.debit_with_taux as f64
        }
    }
}

/// A congestion alert of an arc on a day: the first run of ≥ 2 congested hours starts it;
/// `hours` counts every hour in such runs, `taux_max` is their highest occupancy.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub start: String,
    pub hours: u32,
    pub taux_max: f64,
}

/// Why a sensor is failing.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub reason: String,
    /// Local clock hours without a flow.
    pub missing_hours: Vec<u32>,
}

/// Computes the figures of `arc` on `day` from its hours (`None`: no row that day).
pub fn arc_day(
    clock: &ParisClock,
    arc_index: u32,
    arc: &ArcInfo,
    day: i64,
    hours: Option<&DayHours>,
) -> ArcDay {
    let n = clock.hours_in_day(day);
    let midnight = clock.midnight_utc(day);
    let timestamp_of = |slot: u32, offset: i16| {
        format_timestamp(Instant {
            utc: midnight + i64::from(slot) * 3_600,
            offset_minutes: offset,
        })
    };
    let mut out = ArcDay {
        arc: arc_index,
        hours_in_day: n,
        debit_hours: 0,
        debit_total: 0,
        debit_max: None,
        heure_pic: None,
        taux_hours: 0,
        taux_sum: 0.0,
        etat_dominant: Etat::Inconnu,
        temps_perdu_total_minutes: 0.0,
        debit_with_taux: 0,
        alert: None,
        failure: None,
    };
    let mut etat_counts = [0u32; 5];
    let mut missing_hours = Vec::new();
    let (mut missing_run, mut longest_missing) = (0u32, 0u32);
    let (mut same_run, mut longest_same, mut previous) = (0u32, 0u32, None::<u32>);
    let (mut congested_run, mut run_start, mut run_max, mut run_offset) = (0u32, 0u32, 0f64, 0i16);
    let mut alert: Option<Alert> = None;
    let close_run = |run: u32, start: u32, max: f64, offset: i16, alert: &mut Option<Alert>| {
        if run >= ALERT_MIN_HOURS {
            match alert {
                None => {
                    *alert = Some(Alert {
                        start: timestamp_of(start, offset),
                        hours: run,
                        taux_max: max,
                    })
                }
                Some(a) => {
                    a.hours += run;
                    a.taux_max = a.taux_max.max(max);
                }
            }
        }
    };
    let mut last_offset = 0i16;
    // The hour of the maximum, formatted once at the end.
    let mut peak: Option<(u32, i16)> = None;
    for slot in 0..n {
        let s = hours.map(|h| &h.slots[slot as usize]);
        if let Some(s) = s.filter(|s| s.has_row()) {
            etat_counts[s.etat as usize] += 1;
            last_offset = s.offset_minutes;
        }
        let debit = s.and_then(|s| s.debit());
        let taux = s.and_then(|s| s.taux());
        match debit {
            Some(d) => {
                out.debit_hours += 1;
                out.debit_total += u64::from(d);
                if out.debit_max.is_none_or(|m| d > m) {
                    out.debit_max = Some(d);
                    peak = Some((slot, s.expect("a flow has a row").offset_minutes));
                }
                missing_run = 0;
                if previous == Some(d) {
                    same_run += 1;
                } else {
                    same_run = 1;
                }
                previous = Some(d);
                longest_same = longest_same.max(same_run);
            }
            None => {
                missing_hours.push(clock.clock_hour(day, slot));
                missing_run += 1;
                longest_missing = longest_missing.max(missing_run);
                same_run = 0;
                previous = None;
            }
        }
        if let Some(t) = taux {
            out.taux_hours += 1;
            out.taux_sum += t;
            if let Some(d) = debit {
                out.temps_perdu_total_minutes +=
                    loss_per_vehicle_minutes(arc.length_metres, t) * f64::from(d);
                out.debit_with_taux += u64::from(d);
            }
        }
        match taux.filter(|t| *t >= CONGESTED_TAUX) {
            Some(t) => {
                if congested_run == 0 {
                    run_start = slot;
                    run_max = t;
                    run_offset = last_offset;
                } else {
                    run_max = run_max.max(t);
                }
                congested_run += 1;
            }
            None => {
                close_run(congested_run, run_start, run_max, run_offset, &mut alert);
                congested_run = 0;
            }
        }
    }
    close_run(congested_run, run_start, run_max, run_offset, &mut alert);
    out.alert = alert;
    out.heure_pic = peak.map(|(slot, offset)| timestamp_of(slot, offset));
    // Most frequent state; ties go to the most severe (Etat orders by severity).
    out.etat_dominant = Etat::ALL
        .iter()
        .copied()
        .max_by_key(|e| (etat_counts[*e as usize], *e))
        .expect("five states");
    if longest_missing > MAX_MISSING_RUN {
        out.failure = Some(Failure {
            reason: format!(
                "débit absent {longest_missing} heures consécutives (plus de {MAX_MISSING_RUN})"
            ),
            missing_hours,
        });
    } else if longest_same >= STUCK_RUN {
        out.failure = Some(Failure {
            reason: format!("débit identique {longest_same} heures consécutives (bloqué)"),
            missing_hours,
        });
    }
    out
}

/// Puts the first `n` of `items` in `order` first, sorted (the rest in no order): a full sort
/// of the 3,348 arcs of a day only to keep ten of them took longer than computing them.
fn top<T>(items: &mut [T], n: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if items.len() > n {
        items.select_nth_unstable_by(n, &order);
    }
    let n = n.min(items.len());
    items[..n].sort_by(&order);
}

/// Compares arc ids numerically when both are numbers, as text otherwise.
pub(crate) fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Every arc of the file on `date`.
pub fn arc_days(agg: &Aggregate, clock: &ParisClock, date: NaiveDate) -> Vec<ArcDay> {
    let day = day_of_date(date);
    agg.arcs
        .iter()
        .enumerate()
        .map(|(i, arc)| {
            let hours = agg.hours(i as u32, day);
            arc_day(clock, i as u32, arc, day, hours.as_ref())
        })
        .collect()
}

fn arc_stats(date: NaiveDate, arc: &ArcInfo, f: &ArcDay) -> ArcStats {
    ArcStats {
        date,
        identifiant_arc: arc.id.clone(),
        libelle: arc.libelle.clone(),
        debit_horaire_moyen: f.debit_mean().unwrap_or(0.0),
        debit_journalier_total: f.debit_total,
        debit_max: u64::from(f.debit_max.unwrap_or(0)),
        taux_occupation_moyen: f.taux_mean(),
        etat_trafic_dominant: f.etat_dominant.label().to_string(),
        heure_pic: f.heure_pic.clone(),
        temps_perdu_minutes: f.temps_perdu_minutes(),
        temps_perdu_total_minutes: f.temps_perdu_total_minutes,
        congestion_alerte: f.alert.is_some(),
        arrondissement: arc.zone.to_string(),
        geo_point_2d: arc.geo_point_text.clone(),
        zone_fallback: None,
        longueur_metres: Some(arc.length_metres),
    }
}

/// The report of `date` from the aggregate (comptages sections only; bikes, weather and
/// chantiers are added by the caller from a metrics directory).
pub fn day_report(
    agg: &Aggregate,
    clock: &ParisClock,
    date: NaiveDate,
    generated_at: Timestamp,
) -> DailyReport {
    day_report_of(agg, clock, date, generated_at, &arc_days(agg, clock, date))
}

/// [`day_report`] from the day's figures already computed ([`arc_days`]), so that the map of
/// the day is drawn from the same pass.
pub fn day_report_of(
    agg: &Aggregate,
    clock: &ParisClock,
    date: NaiveDate,
    generated_at: Timestamp,
    figures: &[ArcDay],
) -> DailyReport {
    let mut report = DailyReport::empty(date, generated_at);
    let hours_in_day = clock.hours_in_day(day_of_date(date));
    let expected_hours = agg.arcs.len() as u64 * u64::from(hours_in_day);
    let hours_with_flow: u64 = figures.iter().map(|f| u64::from(f.debit_hours)).sum();
    report.summary = Summary {
        total_vehicules_paris: figures.iter().map(|f| f.debit_total).sum(),
        temps_perdu_total_minutes: figures.iter().map(|f| f.temps_perdu_total_minutes).sum(),
        nombre_troncons_satures: figures.iter().filter(|f| f.alert.is_some()).count() as u64,
        taux_disponibilite_capteurs: (expected_hours > 0)
            .then(|| 100.0 * hours_with_flow as f64 / expected_hours as f64),
        total_velos_paris: 0,
    };

    // Top arcs by daily flow, ties by id.
    let mut by_flow: Vec<&ArcDay> = figures.iter().filter(|f| f.debit_hours > 0).collect();
    top(&mut by_flow, TOP_N, |a, b| {
        b.debit_total
            .cmp(&a.debit_total)
            .then_with(|| id_order(&agg.arcs[a.arc as usize].id, &agg.arcs[b.arc as usize].id))
    });
    report.top_10_troncons_frequentes = by_flow
        .iter()
        .take(TOP_N)
        .map(|f| arc_stats(date, &agg.arcs[f.arc as usize], f))
        .collect();

    // Zones.
    let mut zones: BTreeMap<&'static str, ZoneStats> = BTreeMap::new();
    for f in figures {
        let arc = &agg.arcs[f.arc as usize];
        let zone = arc.zone;
        let z = zones.entry(zone).or_insert_with(|| ZoneStats {
            zone: zone.to_string(),
            temps_perdu_total_minutes: 0.0,
            debit_journalier_total: 0,
            nombre_troncons: 0,
            nombre_troncons_satures: 0,
        });
        z.temps_perdu_total_minutes += f.temps_perdu_total_minutes;
        z.debit_journalier_total += f.debit_total;
        z.nombre_troncons += 1;
        z.nombre_troncons_satures += u64::from(f.alert.is_some());
    }
    let mut zones: Vec<ZoneStats> = zones.into_values().collect();
    zones.sort_by(|a, b| {
        b.temps_perdu_total_minutes
            .total_cmp(&a.temps_perdu_total_minutes)
            .then_with(|| a.zone.cmp(&b.zone))
    });
    report.top_10_zones_congestionnees =
        zones.into_iter().take(TOP_N).map(ZoneEntry::Zone).collect();

    // Alerts by lost time, ties by id.
    let mut alerted: Vec<&ArcDay> = figures.iter().filter(|f| f.alert.is_some()).collect();
    top(&mut alerted, MAX_ALERTS, |a, b| {
        b.temps_perdu_total_minutes
            .total_cmp(&a.temps_perdu_total_minutes)
            .then_with(|| id_order(&agg.arcs[a.arc as usize].id, &agg.arcs[b.arc as usize].id))
    });
    report.alertes_congestion = alerted
        .iter()
        .take(MAX_ALERTS)
        .map(|f| {
            let a = f.alert.as_ref().expect("filtered");
            CongestionAlert {
                arc: arc_stats(date, &agg.arcs[f.arc as usize], f),
                severite: Some(Severity::from_taux(a.taux_max)),
                debut_congestion: Some(a.start.clone()),
                duree_heures: Some(a.hours),
                taux_occupation_max: Some(a.taux_max),
            }
        })
        .collect();

    let mut failing: Vec<&ArcDay> = figures.iter().filter(|f| f.failure.is_some()).collect();
    failing.sort_by(|a, b| id_order(&agg.arcs[a.arc as usize].id, &agg.arcs[b.arc as usize].id));
    report.capteurs_defaillants = failing
        .iter()
        .map(|f| {
            let failure = f.failure.as_ref().expect("filtered");
            FailingSensor {
                id_compteur: agg.arcs[f.arc as usize].id.clone(),
                kind: SensorKind::Comptage,
                raison: Some(failure.reason.clone()),
                heures_manquantes: Some(failure.missing_hours.clone()),
            }
        })
        .collect();
    // Filled from the report store by the export pipeline (cityflow-pipeline).
    report.evolution_vs_semaine_precedente = Evolution::not_computed(report.date);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_and_losses() {
        assert_eq!(observed_speed_kmh(29.99), 50.0);
        assert_eq!(observed_speed_kmh(30.0), 40.0);
        assert_eq!(observed_speed_kmh(69.9), 30.0);
        assert_eq!(observed_speed_kmh(70.0), 20.0);
        // 1 km at 20 km/h: 3 min; at 50 km/h: 1.2 min → 1.8 min lost.
        assert!((loss_per_vehicle_minutes(1000.0, 75.0) - 1.8).abs() < 1e-12);
        assert_eq!(loss_per_vehicle_minutes(1000.0, 10.0), 0.0);
    }
}
