//! CSV rendering of a report, in the format the old tool's users know.
//!
//! `;`-separated, UTF-8, a `Section;Valeur` header, the summary lines, then one block per
//! section (`=== TOP 10 TRONÇONS FRÉQUENTÉS ===` …) separated by a `;` line. Unlike the old
//! tool, every column of a section is written (it cut them all to two and lost `Sévérité`,
//! `Impact` and `Arrondissement`), every chantier is listed, and fields containing `;`, `"` or
//! a line break are quoted. Figures are rounded for people (one decimal); the JSON keeps full
//! precision.

use crate::model::DailyReport;

/// Renders `report` as the CSV document described in the module docs.
pub fn render_csv(report: &DailyReport) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut row = |fields: &[&str]| {
        // Writing to a Vec cannot fail.
        w.write_record(fields).expect("writing CSV to memory");
    };

    let s = &report.summary;
    row(&["Section", "Valeur"]);
    row(&[
        "Total véhicules Paris",
        &s.total_vehicules_paris.to_string(),
    ]);
    row(&[
        "Temps perdu total (min)",
        &figure(s.temps_perdu_total_minutes),
    ]);
    row(&["Tronçons saturés", &s.nombre_troncons_satures.to_string()]);
    row(&[
        "Taux disponibilité capteurs (%)",
        &s.taux_disponibilite_capteurs
            .map(figure)
            .unwrap_or_default(),
    ]);
    row(&["Total vélos Paris", &s.total_velos_paris.to_string()]);

    row(&["", ""]);
    row(&["=== TOP 10 TRONÇONS FRÉQUENTÉS ===", ""]);
    if report.top_10_troncons_frequentes.is_empty() {
        row(&["Aucune donnée disponible", ""]);
    } else {
        row(&["Tronçon", "Débit Total"]);
        for arc in &report.top_10_troncons_frequentes {
            row(&[&arc.libelle, &arc.debit_journalier_total.to_string()]);
        }
    }

    row(&["", ""]);
    row(&["=== TOP 10 ZONES CONGESTIONNÉES ===", ""]);
    if report.top_10_zones_congestionnees.is_empty() {
        row(&["Aucune donnée disponible", ""]);
    } else {
        row(&["Zone", "Temps Perdu (min)"]);
        for zone in &report.top_10_zones_congestionnees {
            row(&[zone.label(), &figure(zone.temps_perdu_total_minutes())]);
        }
    }

    row(&["", ""]);
    row(&["=== CAPTEURS DÉFAILLANTS ===", ""]);
    if report.capteurs_defaillants.is_empty() {
        row(&["Aucun capteur défaillant", ""]);
    } else {
        row(&["ID Capteur", "Type", "Raison"]);
        for sensor in &report.capteurs_defaillants {
            row(&[
                &sensor.id_compteur,
                sensor.kind.as_str(),
                sensor.raison.as_deref().unwrap_or(""),
            ]);
        }
    }

    row(&["", ""]);
    row(&["=== ALERTES CONGESTION ===", ""]);
    if report.alertes_congestion.is_empty() {
        row(&["Aucune alerte", ""]);
    } else {
        row(&["Tronçon", "Taux Occupation (%)", "Sévérité"]);
        for alert in &report.alertes_congestion {
            let taux = alert
                .taux_occupation_max
                .or(alert.arc.taux_occupation_moyen)
                .map(figure)
                .unwrap_or_default();
            row(&[
                &alert.arc.libelle,
                &taux,
                alert.severite.map(|s| s.as_str()).unwrap_or(""),
            ]);
        }
    }

    row(&["", ""]);
    row(&["=== CHANTIERS ACTIFS ===", ""]);
    if report.chantiers_actifs.is_empty() {
        row(&["Aucun chantier actif", ""]);
    } else {
        row(&["Identifiant", "Typologie", "Impact", "Arrondissement"]);
        for chantier in &report.chantiers_actifs {
            row(&[
                &chantier.identifiant,
                &chantier.typologie,
                &chantier.impact,
                chantier.arrondissement.as_deref().unwrap_or(""),
            ]);
        }
    }

    row(&["", ""]);
    row(&["=== ÉVOLUTION VS SEMAINE PRÉCÉDENTE ===", ""]);
    let evolution = &report.evolution_vs_semaine_precedente;
    match evolution.unavailable_reason() {
        Some(why) => row(&["Indisponible", &why]),
        None => {
            let reference = evolution
                .date_reference
                .map(|d| d.to_string())
                .unwrap_or_default();
            row(&["Date de référence", &reference]);
            row(&[
                "Indicateur",
                "Valeur",
                "Référence",
                "Variation",
                "Tendance 4 semaines",
            ]);
            for r in evolution.rows() {
                let tendance = r.qualification.map(|q| q.as_str()).unwrap_or("");
                row(&[r.label, &r.valeur, &r.reference, &r.variation, tendance]);
            }
            for (label, arcs) in [
                ("Entrée top 10", &evolution.entrees_top_10),
                ("Sortie top 10", &evolution.sorties_top_10),
            ] {
                match arcs.as_deref().unwrap_or_default() {
                    [] => row(&[label, "aucun"]),
                    arcs => {
                        for arc in arcs {
                            row(&[label, &arc.libelle]);
                        }
                    }
                }
            }
        }
    }

    let bytes = w.into_inner().expect("flushing CSV to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// A figure for people: one decimal, `.` as separator (as the old reports).
fn figure(value: f64) -> String {
    if value.is_finite() {
        let rounded = format!("{value:.1}");
        // -0.0 reads badly.
        if rounded == "-0.0" {
            "0.0".into()
        } else {
            rounded
        }
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Roadwork, Timestamp};
    use chrono::NaiveDate;

    fn empty() -> DailyReport {
        DailyReport::empty(
            NaiveDate::from_ymd_opt(2025, 11, 4).unwrap(),
            Timestamp::parse("2025-11-05T06:00:00+01:00").unwrap(),
        )
    }

    #[test]
    fn figures_are_rounded_for_people() {
        assert_eq!(figure(21880.515012897125), "21880.5");
        assert_eq!(figure(99.99112), "100.0");
        assert_eq!(figure(-0.01), "0.0");
        assert_eq!(figure(f64::NAN), "");
    }

    #[test]
    fn empty_sections_say_so() {
        let csv = render_csv(&empty());
        assert!(csv.starts_with("Section;Valeur\nTotal véhicules Paris;0\n"));
        assert!(csv.contains("=== TOP 10 TRONÇONS FRÉQUENTÉS ===;\nAucune donnée disponible;\n"));
        assert!(csv.contains("=== CHANTIERS ACTIFS ===;\nAucun chantier actif;\n"));
        assert!(csv.contains("Taux disponibilité capteurs (%);\n"));
    }

    #[test]
    fn fields_with_separators_and_quotes_are_quoted() {
        let mut r = empty();
        r.chantiers_actifs.push(Roadwork {
            identifiant: "CP;1".into(),
            typologie: "dit \"grand\"".into(),
            impact: "ligne\nbrisée".into(),
            arrondissement: None,
        });
        let csv = render_csv(&r);
        assert!(
            csv.contains("\"CP;1\";\"dit \"\"grand\"\"\";\"ligne\nbrisée\";\n"),
            "{csv}"
        );
        // And a CSV reader gets the original fields back.
        let mut rd = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .flexible(true)
            .from_reader(csv.as_bytes());
        let rec = rd
            .records()
            .map(|r| r.unwrap())
            .find(|r| r.get(0) == Some("CP;1"))
            .unwrap();
        assert_eq!(rec.get(1), Some("dit \"grand\""));
        assert_eq!(rec.get(2), Some("ligne\nbrisée"));
    }
}
