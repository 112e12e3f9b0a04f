//! Week over week: `evolution_vs_semaine_precedente`, computed from the reports of the four
//! previous same weekdays.
//!
//! D is the report's date. The reference day is R = D − 7 calendar days (dates, not 168 hours,
//! so DST weeks are no different). The four-week band looks at D − 7, D − 14, D − 21 and
//! D − 28. Only a previous report's summary and top 10 are read ([`WeekFigures`]): a report's
//! own evolution never feeds another's.
//!
//! The definitions, as the README gives them:
//! - `indicateurs`: for the vehicle total, the lost time and the bike total,
//!   `variation_pct` = 100 × (valeur − reference) / reference; for the saturated segments and
//!   the sensor availability, `variation` = valeur − reference (a count; percentage points).
//!   A missing value on either side, or a zero reference for a percentage, gives `null`.
//! - `top_10`: D's top 10, each with its flow in R's top 10 when it is there; ranks are
//!   competition ranks by daily flow within each top 10 (equal flows share a rank: 1, 2, 2, 4).
//!   `entrees_top_10` / `sorties_top_10`: arcs that entered / left the top 10 since R.
//! - `tendance_4_semaines`: per indicator, mean, min and max over the weeks found (at least
//!   2, else `null`), and D's value qualified `habituel` within [min, max], else
//!   `exceptionnel` more than 25 % away from the mean (any difference from a zero mean), else
//!   `inhabituel`.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::{DailyReport, Summary};

/// How many previous weeks the band looks at.
pub const WEEKS: usize = 4;

/// The share of the mean beyond which a value outside the band is `exceptionnel`.
pub const EXCEPTIONAL_SHARE: f64 = 0.25;

/// Comparison with the previous weeks (the `evolution_vs_semaine_precedente` field).
///
/// Reports written before CityFlow computed it hold only a `note`; they still parse.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evolution {
    /// R = D − 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_reference: Option<NaiveDate>,
    /// Whether R's report was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disponible: Option<bool>,
    /// Why it was not (French, for people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raison: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicateurs: Option<Indicateurs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_10: Option<Vec<ArcEvolution>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrees_top_10: Option<Vec<ArcRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorties_top_10: Option<Vec<ArcRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tendance_4_semaines: Option<Tendance>,
    /// The old tool's stub ("Nécessite données historiques pour comparaison").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Any other figure, kept as it was.
    #[serde(flatten)]
    pub figures: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The five headline indicators compared with R.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicateurs {
    pub total_vehicules_paris: RelativeChange<u64>,
    pub temps_perdu_total_minutes: RelativeChange<f64>,
    pub total_velos_paris: RelativeChange<u64>,
    pub nombre_troncons_satures: Difference<u64, i64>,
    pub taux_disponibilite_capteurs: Difference<f64, f64>,
}

/// A value against its reference, as a percentage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelativeChange<T> {
    pub valeur: Option<T>,
    pub reference: Option<T>,
    pub variation_pct: Option<f64>,
}

/// A value against its reference, as a difference (a count, or percentage points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference<T, D> {
    pub valeur: Option<T>,
    pub reference: Option<T>,
    pub variation: Option<D>,
}

/// One arc of D's top 10, against R's top 10.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArcEvolution {
    pub identifiant_arc: String,
    pub libelle: String,
    pub debit_journalier_total: u64,
    /// Its flow in R's top 10; `null` when it was not there.
    pub reference: Option<u64>,
    pub variation_pct: Option<f64>,
    pub rang: u32,
    pub rang_reference: Option<u32>,
}

/// An arc that entered or left the top 10.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArcRef {
    pub identifiant_arc: String,
    pub libelle: String,
}

/// The four-week band of each indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tendance {
    /// How many of D − 7 … D − 28 had a report (0 to 4).
    pub semaines_disponibles: u8,
    /// Which ones.
    pub dates_disponibles: Vec<NaiveDate>,
    pub total_vehicules_paris: Option<Band<u64>>,
    pub temps_perdu_total_minutes: Option<Band<f64>>,
    pub nombre_troncons_satures: Option<Band<u64>>,
    pub taux_disponibilite_capteurs: Option<Band<f64>>,
    pub total_velos_paris: Option<Band<u64>>,
}

/// One indicator over the weeks found, and where D's value lies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band<T> {
    pub moyenne: f64,
    pub min: T,
    pub max: T,
    /// `null` when D has no value for the indicator.
    pub qualification: Option<Qualification>,
}

/// Where a value lies against its band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Qualification {
    /// Within [min, max].
    Habituel,
    /// Outside the band, at most 25 % from the mean.
    Inhabituel,
    /// Outside the band, more than 25 % from the mean.
    Exceptionnel,
}

impl Qualification {
    pub fn as_str(self) -> &'static str {
        match self {
            Qualification::Habituel => "habituel",
            Qualification::Inhabituel => "inhabituel",
            Qualification::Exceptionnel => "exceptionnel",
        }
    }
}

/// What a previous report contributes: its date, summary and top 10 (flows and labels).
#[derive(Debug, Clone, PartialEq)]
pub struct WeekFigures {
    pub date: NaiveDate,
    pub summary: Summary,
    /// `(identifiant_arc, libelle, debit_journalier_total)`, in the report's order.
    pub top_10: Vec<(String, String, u64)>,
}

impl WeekFigures {
    pub fn of(report: &DailyReport) -> Self {
        WeekFigures {
            date: report.date,
            summary: report.summary.clone(),
            top_10: report
                .top_10_troncons_frequentes
                .iter()
                .map(|a| {
                    (
                        a.identifiant_arc.clone(),
                        a.libelle.clone(),
                        a.debit_journalier_total,
                    )
                })
                .collect(),
        }
    }
}

/// What was found for one previous week.
#[derive(Debug, Clone, PartialEq)]
pub enum PastWeek {
    Found(Arc<WeekFigures>),
    /// No report for that date.
    Missing,
    /// The report could not be read: why, naming the store or the report.
    Unreadable(String),
}

/// D − 7, D − 14, D − 21, D − 28.
pub fn previous_weeks(date: NaiveDate) -> [NaiveDate; WEEKS] {
    std::array::from_fn(|i| {
        date.checked_sub_days(Days::new(7 * (i as u64 + 1)))
            .unwrap_or(NaiveDate::MIN)
    })
}

impl Evolution {
    /// The field of a report whose history was not consulted (built without a store).
    pub fn not_computed(date: NaiveDate) -> Self {
        Evolution {
            date_reference: Some(previous_weeks(date)[0]),
            disponible: Some(false),
            raison: Some("non calculée : l'historique des rapports n'a pas été consulté".into()),
            ..Evolution::default()
        }
    }

    /// The comparison of `report` with `weeks` (D − 7 first, as [`previous_weeks`]).
    pub fn compute(report: &DailyReport, weeks: &[PastWeek; WEEKS]) -> Self {
        let date_reference = previous_weeks(report.date)[0];
        let found: Vec<&WeekFigures> = weeks
            .iter()
            .filter_map(|w| match w {
                PastWeek::Found(f) => Some(f.as_ref()),
                _ => None,
            })
            .collect();
        let tendance = Some(tendance(&report.summary, &found));
        let raison = match &weeks[0] {
            PastWeek::Found(_) => None,
            PastWeek::Missing => Some(format!("aucun rapport pour le {date_reference}")),
            PastWeek::Unreadable(why) => Some(format!(
                "le rapport du {date_reference} n'a pas pu être lu : {why}"
            )),
        };
        let PastWeek::Found(reference) = &weeks[0] else {
            return Evolution {
                date_reference: Some(date_reference),
                disponible: Some(false),
                raison,
                tendance_4_semaines: tendance,
                ..Evolution::default()
            };
        };
        let (top_10, entrees, sorties) = top_10(report, reference);
        Evolution {
            date_reference: Some(date_reference),
            disponible: Some(true),
            raison: None,
            indicateurs: Some(indicateurs(&report.summary, &reference.summary)),
            top_10: Some(top_10),
            entrees_top_10: Some(entrees),
            sorties_top_10: Some(sorties),
            tendance_4_semaines: tendance,
            note: None,
            figures: Default::default(),
        }
    }
}

/// 100 × (value − reference) / reference; `None` for a zero reference or a missing side.
pub fn variation_pct(value: Option<f64>, reference: Option<f64>) -> Option<f64> {
    let (v, r) = (value?, reference?);
    if r == 0.0 {
        return None;
    }
    Some(100.0 * (v - r) / r).filter(|p| p.is_finite())
}

/// Counts as `f64` for percentages and means: exact below 2^53, far above any daily count.
fn count(v: u64) -> f64 {
    v as f64
}

fn indicateurs(day: &Summary, reference: &Summary) -> Indicateurs {
    let counts = |v: u64, r: u64| RelativeChange {
        valeur: Some(v),
        reference: Some(r),
        variation_pct: variation_pct(Some(count(v)), Some(count(r))),
    };
    Indicateurs {
        total_vehicules_paris: counts(day.total_vehicules_paris, reference.total_vehicules_paris),
        temps_perdu_total_minutes: RelativeChange {
            valeur: Some(day.temps_perdu_total_minutes),
            reference: Some(reference.temps_perdu_total_minutes),
            variation_pct: variation_pct(
                Some(day.temps_perdu_total_minutes),
                Some(reference.temps_perdu_total_minutes),
            ),
        },
        total_velos_paris: counts(day.total_velos_paris, reference.total_velos_paris),
        nombre_troncons_satures: Difference {
            valeur: Some(day.nombre_troncons_satures),
            reference: Some(reference.nombre_troncons_satures),
            variation: i64::try_from(day.nombre_troncons_satures)
                .ok()
                .zip(i64::try_from(reference.nombre_troncons_satures).ok())
                .and_then(|(v, r)| v.checked_sub(r)),
        },
        taux_disponibilite_capteurs: Difference {
            valeur: day.taux_disponibilite_capteurs,
            reference: reference.taux_disponibilite_capteurs,
            variation: day
                .taux_disponibilite_capteurs
                .zip(reference.taux_disponibilite_capteurs)
                .map(|(v, r)| v - r)
                .filter(|d| d.is_finite()),
        },
    }
}

/// Competition ranks by flow, highest first: equal flows share a rank (1, 2, 2, 4).
fn ranks(flows: &[u64]) -> Vec<u32> {
    flows
        .iter()
        .map(|f| 1 + flows.iter().filter(|g| *g > f).count() as u32)
        .collect()
}

fn top_10(
    report: &DailyReport,
    reference: &WeekFigures,
) -> (Vec<ArcEvolution>, Vec<ArcRef>, Vec<ArcRef>) {
    let day = &report.top_10_troncons_frequentes;
    let day_ranks = ranks(
        &day.iter()
            .map(|a| a.debit_journalier_total)
            .collect::<Vec<_>>(),
    );
    let reference_ranks = ranks(&reference.top_10.iter().map(|a| a.2).collect::<Vec<_>>());
    let in_reference = |id: &str| reference.top_10.iter().position(|a| a.0 == id);
    let top = day
        .iter()
        .zip(day_ranks)
        .map(|(arc, rang)| {
            let at = in_reference(&arc.identifiant_arc);
            let flow = at.map(|i| reference.top_10[i].2);
            ArcEvolution {
                identifiant_arc: arc.identifiant_arc.clone(),
                libelle: arc.libelle.clone(),
                debit_journalier_total: arc.debit_journalier_total,
                reference: flow,
                variation_pct: variation_pct(
                    Some(count(arc.debit_journalier_total)),
                    flow.map(count),
                ),
                rang,
                rang_reference: at.map(|i| reference_ranks[i]),
            }
        })
        .collect();
    let entrees = day
        .iter()
        .filter(|a| in_reference(&a.identifiant_arc).is_none())
        .map(|a| ArcRef {
            identifiant_arc: a.identifiant_arc.clone(),
            libelle: a.libelle.clone(),
        })
        .collect();
    let sorties = reference
        .top_10
        .iter()
        .filter(|r| !day.iter().any(|a| a.identifiant_arc == r.0))
        .map(|r| ArcRef {
            identifiant_arc: r.0.clone(),
            libelle: r.1.clone(),
        })
        .collect();
    (top, entrees, sorties)
}

/// Where `value` lies against `values` (at least two), or `None`.
fn band<T: Copy + PartialOrd>(
    value: Option<T>,
    values: &[T],
    as_f64: fn(T) -> f64,
) -> Option<Band<T>> {
    let (&first, rest) = values.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let (mut min, mut max) = (first, first);
    for &v in rest {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    let moyenne = values.iter().map(|&v| as_f64(v)).sum::<f64>() / values.len() as f64;
    Some(Band {
        moyenne,
        min,
        max,
        qualification: value.map(|v| qualify(as_f64(v), as_f64(min), as_f64(max), moyenne)),
    })
}

/// `habituel` within [min, max]; else `exceptionnel` more than 25 % from the mean (any
/// difference from a zero mean); else `inhabituel`.
pub fn qualify(value: f64, min: f64, max: f64, mean: f64) -> Qualification {
    if min <= value && value <= max {
        Qualification::Habituel
    } else if mean == 0.0 || (value - mean).abs() > EXCEPTIONAL_SHARE * mean.abs() {
        Qualification::Exceptionnel
    } else {
        Qualification::Inhabituel
    }
}

fn tendance(day: &Summary, weeks: &[&WeekFigures]) -> Tendance {
    let counts = |f: fn(&Summary) -> u64| {
        band(
            Some(f(day)),
            &weeks.iter().map(|w| f(&w.summary)).collect::<Vec<_>>(),
            count,
        )
    };
    let same = |v: f64| v;
    Tendance {
        semaines_disponibles: weeks.len() as u8,
        dates_disponibles: weeks.iter().map(|w| w.date).collect(),
        total_vehicules_paris: counts(|s| s.total_vehicules_paris),
        temps_perdu_total_minutes: band(
            Some(day.temps_perdu_total_minutes),
            &weeks
                .iter()
                .map(|w| w.summary.temps_perdu_total_minutes)
                .collect::<Vec<_>>(),
            same,
        ),
        nombre_troncons_satures: counts(|s| s.nombre_troncons_satures),
        // A week without the figure does not count for it.
        taux_disponibilite_capteurs: band(
            day.taux_disponibilite_capteurs,
            &weeks
                .iter()
                .filter_map(|w| w.summary.taux_disponibilite_capteurs)
                .collect::<Vec<_>>(),
            same,
        ),
        total_velos_paris: counts(|s| s.total_velos_paris),
    }
}

/// The direction of a change, for people (the CLI's arrows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Flat,
    /// No variation could be computed.
    Unknown,
}

impl Direction {
    fn of(variation: Option<f64>) -> Self {
        match variation {
            Some(v) if v > 0.0 => Direction::Up,
            Some(v) if v < 0.0 => Direction::Down,
            Some(_) => Direction::Flat,
            None => Direction::Unknown,
        }
    }

    /// ↑ ↓ → (and `?` when unknown).
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Up => "↑",
            Direction::Down => "↓",
            Direction::Flat => "→",
            Direction::Unknown => "?",
        }
    }
}

/// One indicator as people read it, formatted like the rest of the CSV (one decimal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorRow {
    pub label: &'static str,
    pub valeur: String,
    pub reference: String,
    /// `+2.5 %`, `-3` (a count), `+0.4 pt` (percentage points); empty when unknown.
    pub variation: String,
    pub direction: Direction,
    pub qualification: Option<Qualification>,
}

fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

fn optional(v: Option<String>) -> String {
    v.unwrap_or_default()
}

impl Evolution {
    /// The five indicators as rows, in the summary's order; empty when R was not available.
    pub fn rows(&self) -> Vec<IndicatorRow> {
        let Some(i) = &self.indicateurs else {
            return Vec::new();
        };
        let band = self.tendance_4_semaines.as_ref();
        let pct = |p: Option<f64>| optional(p.map(|p| format!("{p:+.1} %")));
        vec![
            IndicatorRow {
                label: "Total véhicules Paris",
                valeur: optional(i.total_vehicules_paris.valeur.map(|v| v.to_string())),
                reference: optional(i.total_vehicules_paris.reference.map(|v| v.to_string())),
                variation: pct(i.total_vehicules_paris.variation_pct),
                direction: Direction::of(i.total_vehicules_paris.variation_pct),
                qualification: band
                    .and_then(|b| b.total_vehicules_paris.as_ref())
                    .and_then(|b| b.qualification),
            },
            IndicatorRow {
                label: "Temps perdu total (min)",
                valeur: optional(i.temps_perdu_total_minutes.valeur.map(one_decimal)),
                reference: optional(i.temps_perdu_total_minutes.reference.map(one_decimal)),
                variation: pct(i.temps_perdu_total_minutes.variation_pct),
                direction: Direction::of(i.temps_perdu_total_minutes.variation_pct),
                qualification: band
                    .and_then(|b| b.temps_perdu_total_minutes.as_ref())
                    .and_then(|b| b.qualification),
            },
            IndicatorRow {
                label: "Tronçons saturés",
                valeur: optional(i.nombre_troncons_satures.valeur.map(|v| v.to_string())),
                reference: optional(i.nombre_troncons_satures.reference.map(|v| v.to_string())),
                variation: optional(
                    i.nombre_troncons_satures
                        .variation
                        .map(|v| format!("{v:+}")),
                ),
                direction: Direction::of(i.nombre_troncons_satures.variation.map(|v| v as f64)),
                qualification: band
                    .and_then(|b| b.nombre_troncons_satures.as_ref())
                    .and_then(|b| b.qualification),
            },
            IndicatorRow {
                label: "Taux disponibilité capteurs (%)",
                valeur: optional(i.taux_disponibilite_capteurs.valeur.map(one_decimal)),
                reference: optional(i.taux_disponibilite_capteurs.reference.map(one_decimal)),
                variation: optional(
                    i.taux_disponibilite_capteurs
                        .variation
                        .map(|v| format!("{v:+.1} pt")),
                ),
                direction: Direction::of(i.taux_disponibilite_capteurs.variation),
                qualification: band
                    .and_then(|b| b.taux_disponibilite_capteurs.as_ref())
                    .and_then(|b| b.qualification),
            },
            IndicatorRow {
                label: "Total vélos Paris",
                valeur: optional(i.total_velos_paris.valeur.map(|v| v.to_string())),
                reference: optional(i.total_velos_paris.reference.map(|v| v.to_string())),
                variation: pct(i.total_velos_paris.variation_pct),
                direction: Direction::of(i.total_velos_paris.variation_pct),
                qualification: band
                    .and_then(|b| b.total_velos_paris.as_ref())
                    .and_then(|b| b.qualification),
            },
        ]
    }

    /// Why there is no comparison, for people; `None` when there is one.
    pub fn unavailable_reason(&self) -> Option<String> {
        if self.indicateurs.is_some() {
            return None;
        }
        Some(
            self.raison
                .clone()
                .or_else(|| self.note.clone())
                .unwrap_or_else(|| "non calculée".to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ArcStats, Timestamp};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn arc(id: &str, flow: u64) -> ArcStats {
        ArcStats {
            date: d("2026-03-10"),
            identifiant_arc: id.into(),
            libelle: format!("Arc {id}"),
            debit_horaire_moyen: flow as f64 / 24.0,
            debit_journalier_total: flow,
            debit_max: flow / 10,
            taux_occupation_moyen: None,
            etat_trafic_dominant: "Fluide".into(),
            heure_pic: None,
            temps_perdu_minutes: 0.0,
            temps_perdu_total_minutes: 0.0,
            congestion_alerte: false,
            arrondissement: "75001".into(),
            geo_point_2d: None,
            zone_fallback: None,
            longueur_metres: None,
        }
    }

    fn report(
        date: &str,
        vehicles: u64,
        lost: f64,
        saturated: u64,
        taux: Option<f64>,
        bikes: u64,
        top: &[(&str, u64)],
    ) -> DailyReport {
        let mut r = DailyReport::empty(
            d(date),
            Timestamp::parse("2026-03-11T06:00:00+01:00").unwrap(),
        );
        r.summary = Summary {
            total_vehicules_paris: vehicles,
            temps_perdu_total_minutes: lost,
            nombre_troncons_satures: saturated,
            taux_disponibilite_capteurs: taux,
            total_velos_paris: bikes,
        };
        r.top_10_troncons_frequentes = top.iter().map(|(id, f)| arc(id, *f)).collect();
        r
    }

    fn found(r: &DailyReport) -> PastWeek {
        PastWeek::Found(Arc::new(WeekFigures::of(r)))
    }

    /// `day` against `reference` as D − 7, the other weeks missing.
    fn against(day: &DailyReport, reference: &DailyReport) -> Evolution {
        Evolution::compute(
            day,
            &[
                found(reference),
                PastWeek::Missing,
                PastWeek::Missing,
                PastWeek::Missing,
            ],
        )
    }

    #[test]
    fn the_reference_is_seven_calendar_days_before_even_across_dst() {
        // D = the Sunday after the spring change (2026-03-29) and after the autumn change
        // (2026-10-25): R is the change day itself, 7 dates earlier, not 168 hours.
        assert_eq!(
            previous_weeks(d("2026-04-05")),
            [
                d("2026-03-29"),
                d("2026-03-22"),
                d("2026-03-15"),
                d("2026-03-08")
            ]
        );
        assert_eq!(
            previous_weeks(d("2026-11-01")),
            [
                d("2026-10-25"),
                d("2026-10-18"),
                d("2026-10-11"),
                d("2026-10-04")
            ]
        );
        let day = report("2026-04-05", 110, 10.0, 3, Some(90.0), 5, &[]);
        let reference = report("2026-03-29", 100, 10.0, 3, Some(90.0), 5, &[]);
        let e = against(&day, &reference);
        assert_eq!(e.date_reference, Some(d("2026-03-29")));
        assert_eq!(e.disponible, Some(true));
    }

    #[test]
    fn indicators_up_down_zero_and_missing() {
        let day = report("2026-03-10", 110, 50.0, 3, Some(95.5), 0, &[]);
        let reference = report("2026-03-03", 100, 80.0, 5, None, 0, &[]);
        let e = against(&day, &reference);
        let i = e.indicateurs.clone().unwrap();
        assert_eq!(i.total_vehicules_paris.variation_pct, Some(10.0));
        assert_eq!(i.temps_perdu_total_minutes.variation_pct, Some(-37.5));
        assert_eq!(i.nombre_troncons_satures.variation, Some(-2));
        // A missing reference: null, never NaN.
        assert_eq!(i.taux_disponibilite_capteurs.reference, None);
        assert_eq!(i.taux_disponibilite_capteurs.variation, None);
        // A zero reference for a percentage: null, never infinity.
        assert_eq!(i.total_velos_paris.reference, Some(0));
        assert_eq!(i.total_velos_paris.variation_pct, None);
        let json = serde_json::to_string(&e).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
        assert!(json.contains(r#""variation_pct":null"#), "{json}");
    }

    #[test]
    fn percentage_points_for_the_sensor_availability() {
        let day = report("2026-03-10", 1, 1.0, 0, Some(96.5), 1, &[]);
        let reference = report("2026-03-03", 1, 1.0, 0, Some(98.0), 1, &[]);
        let e = against(&day, &reference);
        let i = e.indicateurs.clone().unwrap();
        assert_eq!(i.taux_disponibilite_capteurs.variation, Some(-1.5));
        assert_eq!(e.rows()[3].variation, "-1.5 pt");
        assert_eq!(e.rows()[3].direction, Direction::Down);
        assert_eq!(e.rows()[2].variation, "+0");
        assert_eq!(e.rows()[2].direction, Direction::Flat);
    }

    #[test]
    fn top_10_with_entries_exits_and_tied_ranks() {
        let day = report(
            "2026-03-10",
            1,
            1.0,
            0,
            None,
            0,
            &[("a", 500), ("b", 400), ("c", 400), ("d", 300)],
        );
        let reference = report(
            "2026-03-03",
            1,
            1.0,
            0,
            None,
            0,
            &[("b", 450), ("a", 450), ("e", 200)],
        );
        let e = against(&day, &reference);
        let top = e.top_10.unwrap();
        let ranks: Vec<(u32, Option<u32>)> =
            top.iter().map(|a| (a.rang, a.rang_reference)).collect();
        // b and c tie at 400 (rank 2, then 4); a and b tie at 450 in R (both rank 1).
        assert_eq!(
            ranks,
            vec![(1, Some(1)), (2, Some(1)), (2, None), (4, None)]
        );
        assert_eq!(top[0].reference, Some(450));
        assert_eq!(top[1].variation_pct, Some(100.0 * (400.0 - 450.0) / 450.0));
        assert_eq!(top[2].reference, None);
        assert_eq!(top[2].variation_pct, None);
        let ids = |v: &Option<Vec<ArcRef>>| {
            v.as_ref()
                .unwrap()
                .iter()
                .map(|a| a.identifiant_arc.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&e.entrees_top_10), ["c", "d"]);
        assert_eq!(ids(&e.sorties_top_10), ["e"]);
        assert_eq!(e.sorties_top_10.unwrap()[0].libelle, "Arc e");
    }

    #[test]
    fn the_25_percent_boundary_on_both_sides() {
        // mean 100, band [90, 110]
        assert_eq!(qualify(110.0, 90.0, 110.0, 100.0), Qualification::Habituel);
        assert_eq!(qualify(90.0, 90.0, 110.0, 100.0), Qualification::Habituel);
        assert_eq!(
            qualify(125.0, 90.0, 110.0, 100.0),
            Qualification::Inhabituel
        );
        assert_eq!(
            qualify(125.000001, 90.0, 110.0, 100.0),
            Qualification::Exceptionnel
        );
        assert_eq!(qualify(75.0, 90.0, 110.0, 100.0), Qualification::Inhabituel);
        assert_eq!(
            qualify(74.999999, 90.0, 110.0, 100.0),
            Qualification::Exceptionnel
        );
        // min = max
        assert_eq!(qualify(100.0, 100.0, 100.0, 100.0), Qualification::Habituel);
        assert_eq!(
            qualify(101.0, 100.0, 100.0, 100.0),
            Qualification::Inhabituel
        );
        // a zero mean: any difference is exceptional
        assert_eq!(qualify(0.0, 0.0, 0.0, 0.0), Qualification::Habituel);
        assert_eq!(qualify(1.0, 0.0, 0.0, 0.0), Qualification::Exceptionnel);
        // a negative mean would measure 25 % of its magnitude
        assert_eq!(
            qualify(-130.0, -110.0, -90.0, -100.0),
            Qualification::Exceptionnel
        );
    }

    #[test]
    fn the_band_needs_two_weeks() {
        let day = report("2026-03-29", 130, 10.0, 2, Some(99.0), 7, &[]);
        let w = |date: &str, v: u64| report(date, v, 10.0, 2, Some(99.0), 7, &[]);
        let four = [
            w("2026-03-22", 100),
            w("2026-03-15", 90),
            w("2026-03-08", 110),
            w("2026-03-01", 100),
        ];

        for available in 0..=4 {
            let mut list: [PastWeek; 4] = std::array::from_fn(|_| PastWeek::Missing);
            for (i, r) in four.iter().enumerate().take(available) {
                list[i] = found(r);
            }
            let t = Evolution::compute(&day, &list).tendance_4_semaines.unwrap();
            assert_eq!(t.semaines_disponibles as usize, available);
            assert_eq!(t.dates_disponibles.len(), available);
            let b = &t.total_vehicules_paris;
            if available < 2 {
                assert_eq!(*b, None, "{available} week(s): nothing qualified");
            } else {
                assert!(b.is_some(), "{available} weeks");
            }
        }
        let t = Evolution::compute(&day, &four.clone().map(|r| found(&r)))
            .tendance_4_semaines
            .unwrap();
        let b = t.total_vehicules_paris.unwrap();
        assert_eq!((b.min, b.max, b.moyenne), (90, 110, 100.0));
        // 130 is 30 % above the mean of 100, outside [90, 110]
        assert_eq!(b.qualification, Some(Qualification::Exceptionnel));
        // all weeks equal (min = max): D equal is habitual
        let lost = t.temps_perdu_total_minutes.unwrap();
        assert_eq!((lost.min, lost.max), (10.0, 10.0));
        assert_eq!(lost.qualification, Some(Qualification::Habituel));
    }

    #[test]
    fn a_band_skips_weeks_without_the_figure_and_leaves_a_missing_day_unqualified() {
        let day = report("2026-03-29", 1, 1.0, 0, None, 0, &[]);
        let w = |date: &str, taux: Option<f64>| report(date, 1, 1.0, 0, taux, 0, &[]);
        let list = [
            found(&w("2026-03-22", Some(90.0))),
            found(&w("2026-03-15", None)),
            found(&w("2026-03-08", Some(80.0))),
            PastWeek::Missing,
        ];
        let t = Evolution::compute(&day, &list).tendance_4_semaines.unwrap();
        let b = t.taux_disponibilite_capteurs.unwrap();
        assert_eq!((b.min, b.max, b.moyenne), (80.0, 90.0, 85.0));
        assert_eq!(b.qualification, None);
    }

    #[test]
    fn without_the_reference_the_reason_is_given_and_the_band_still_computed() {
        let day = report("2026-03-29", 100, 1.0, 0, None, 0, &[("a", 1)]);
        let w = |date: &str| report(date, 100, 1.0, 0, None, 0, &[]);
        let list = [
            PastWeek::Missing,
            found(&w("2026-03-15")),
            found(&w("2026-03-08")),
            PastWeek::Missing,
        ];
        let e = Evolution::compute(&day, &list);
        assert_eq!(e.disponible, Some(false));
        assert_eq!(
            e.raison.as_deref(),
            Some("aucun rapport pour le 2026-03-22")
        );
        assert!(e.indicateurs.is_none() && e.top_10.is_none());
        assert_eq!(e.tendance_4_semaines.unwrap().semaines_disponibles, 2);

        let list = [
            PastWeek::Unreadable("MongoDB at 127.0.0.1:9 unavailable".into()),
            PastWeek::Missing,
            PastWeek::Missing,
            PastWeek::Missing,
        ];
        let e = Evolution::compute(&day, &list);
        assert_eq!(
            e.raison.as_deref(),
            Some(
                "le rapport du 2026-03-22 n'a pas pu être lu : MongoDB at 127.0.0.1:9 unavailable"
            )
        );
        assert_eq!(e.unavailable_reason(), e.raison);
        assert!(e.rows().is_empty());
    }

    #[test]
    fn a_previous_reports_own_evolution_is_never_read() {
        let mut reference = report("2026-03-03", 100, 1.0, 0, None, 0, &[]);
        reference.evolution_vs_semaine_precedente.note = Some("ignored".into());
        assert_eq!(WeekFigures::of(&reference).summary, reference.summary);
        // WeekFigures holds no evolution at all: nothing of it can feed the next report.
    }

    #[test]
    fn old_stub_and_new_field_round_trip() {
        let old: Evolution =
            serde_json::from_str(r#"{"note": "Nécessite données historiques pour comparaison"}"#)
                .unwrap();
        assert_eq!(
            old.note.as_deref(),
            Some("Nécessite données historiques pour comparaison")
        );
        assert_eq!(
            old.unavailable_reason().as_deref(),
            Some("Nécessite données historiques pour comparaison")
        );

        let day = report(
            "2026-03-29",
            130,
            12.345678901234567,
            2,
            Some(99.1),
            7,
            &[("a", 10), ("b", 9)],
        );
        let w = |date: &str, v: u64| report(date, v, 0.1, 2, Some(98.7), 7, &[("b", 11), ("c", 1)]);
        let list = [
            found(&w("2026-03-22", 100)),
            found(&w("2026-03-15", 90)),
            PastWeek::Missing,
            PastWeek::Missing,
        ];
        let e = Evolution::compute(&day, &list);
        let text = serde_json::to_string(&e).unwrap();
        let back: Evolution = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
    }
}
