//! Tests on the old tool's real output, read from `../shared/fixtures/cityflow-original`
//! (override with `CITYFLOW_FIXTURES_DIR`). These files are never copied into the repo.

use std::path::PathBuf;

use chrono::NaiveDate;
use cityflow_core::*;

fn fixtures() -> PathBuf {
    let dir = std::env::var_os("CITYFLOW_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/fixtures/cityflow-original")
        });
    assert!(
        dir.join("daily_report_2025-11-04.json").is_file(),
        "the shared fixtures are missing at {}: check out the project beside ../shared \
         or set CITYFLOW_FIXTURES_DIR",
        dir.display()
    );
    dir
}

fn nov4() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 4).unwrap()
}

#[test]
fn the_old_tools_report_parses_and_round_trips() {
    let text = std::fs::read_to_string(fixtures().join("daily_report_2025-11-04.json")).unwrap();
    let report: DailyReport = serde_json::from_str(&text).expect("the fixture parses");

    assert_eq!(report.date, nov4());
    // The old tool wrote a naive local time; it is read as UTC and written with its offset.
    assert_eq!(
        report.generated_at.to_string(),
        "2025-11-04T05:31:50.926576+00:00"
    );
    assert_eq!(report.summary.nombre_troncons_satures, 25);
    assert_eq!(report.summary.total_velos_paris, 4699);
    assert_eq!(report.summary.taux_disponibilite_capteurs, Some(100.0));
    assert_eq!(report.top_10_troncons_frequentes.len(), 10);
    let first = &report.top_10_troncons_frequentes[0];
    assert_eq!(first.identifiant_arc, "5319");
    assert_eq!(first.debit_journalier_total, 441656);
    assert_eq!(first.debit_horaire_moyen, 5257.809523809524);
    assert_eq!(first.zone_fallback.as_deref(), Some("Sud-Est"));
    // The old "zones" are single arcs: kept, typed as such.
    assert_eq!(report.top_10_zones_congestionnees.len(), 10);
    match &report.top_10_zones_congestionnees[0] {
        ZoneEntry::LegacyArc(a) => {
            assert_eq!(a.libelle, "PI_Lagny");
            assert_eq!(a.temps_perdu_total_minutes, 21880.515012897125);
        }
        other => panic!("expected a legacy arc, got {other:?}"),
    }
    assert_eq!(report.alertes_congestion.len(), 20);
    assert_eq!(
        report.alertes_congestion[0].arc.taux_occupation_moyen,
        Some(99.99112)
    );
    assert_eq!(report.capteurs_defaillants.len(), 2);
    assert_eq!(report.capteurs_defaillants[0].kind, SensorKind::Bike);
    assert_eq!(report.chantiers_actifs.len(), 68);
    let meteo = report.meteo_impact.as_ref().unwrap();
    assert_eq!(meteo.conditions.as_deref(), Some("Partially cloudy"));
    assert_eq!(
        report.evolution_vs_semaine_precedente.note.as_deref(),
        Some("Nécessite données historiques pour comparaison")
    );

    // Round trip: what we write reads back equal, and counts are written as integers.
    let written = serde_json::to_string_pretty(&report).unwrap();
    let again: DailyReport = serde_json::from_str(&written).unwrap();
    assert_eq!(again, report);
    assert!(
        written.contains("\"total_velos_paris\": 4699\n"),
        "{written}"
    );
    assert!(written.contains("\"debit_journalier_total\": 441656,"));

    // Every key of the fixture survives the round trip, with the same value
    // (numbers compared as f64, timestamps excepted).
    let before: serde_json::Value = serde_json::from_str(&text).unwrap();
    let after: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_same_data(&before, &after, "$");
}

/// Every value of `old` is in `new` with the same meaning.
fn assert_same_data(old: &serde_json::Value, new: &serde_json::Value, path: &str) {
    use serde_json::Value::*;
    match (old, new) {
        (Object(a), Object(b)) => {
            for (k, v) in a {
                if k == "generated_at" {
                    continue;
                }
                let w = b
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} lost in the round trip"));
                assert_same_data(v, w, &format!("{path}.{k}"));
            }
        }
        (Array(a), Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: length");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                assert_same_data(v, w, &format!("{path}[{i}]"));
            }
        }
        (Number(a), Number(b)) => assert_eq!(a.as_f64(), b.as_f64(), "{path}"),
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn generation_from_the_old_tools_metrics() {
    let generated_at = Timestamp::parse("2025-11-05T06:00:00+01:00").unwrap();
    let g = generate_from_metrics_dir(&fixtures(), nov4(), generated_at).expect("generates");
    let r = &g.report;

    assert_eq!(r.date, nov4());
    assert_eq!(r.generated_at, generated_at);
    assert_eq!(r.summary.total_velos_paris, 4699);
    assert_eq!(r.capteurs_defaillants.len(), 2);
    assert!(r
        .capteurs_defaillants
        .iter()
        .all(|s| s.kind == SensorKind::Bike));
    assert_eq!(r.capteurs_defaillants[0].id_compteur, "100003098-101003098");
    assert_eq!(r.chantiers_actifs.len(), 68);
    assert_eq!(r.chantiers_actifs[0].impact, "IMPASSE");
    let meteo = r.meteo_impact.as_ref().expect("meteo present");
    assert_eq!(meteo.temp_moyenne, Some(11.6));
    assert_eq!(meteo.impact_mobilite, Some(50.0));

    // The comptages file is absent from the fixtures: its sections are empty, with a warning.
    assert!(r.top_10_troncons_frequentes.is_empty());
    assert!(r.top_10_zones_congestionnees.is_empty());
    assert!(r.alertes_congestion.is_empty());
    assert_eq!(r.summary.total_vehicules_paris, 0);
    assert_eq!(r.summary.taux_disponibilite_capteurs, None);
    assert_eq!(g.warnings.len(), 1, "{:?}", g.warnings);
    assert!(
        g.warnings[0].contains("comptages_metrics_2025-11-04.json not found"),
        "{:?}",
        g.warnings
    );
    assert_eq!(g.inputs.len(), 3);
}

#[test]
fn generated_csv_keeps_every_chantier_and_column() {
    let g = generate_from_metrics_dir(&fixtures(), nov4(), Timestamp::now()).unwrap();
    let csv = render_csv(&g.report);
    assert!(csv.contains("Total vélos Paris;4699\n"));
    assert!(csv.contains("Identifiant;Typologie;Impact;Arrondissement\n"));
    assert!(csv.contains("CP002664;2;IMPASSE;75005\n"));
    let chantier_rows = csv.lines().filter(|l| l.starts_with("CP00")).count();
    assert_eq!(chantier_rows, 68, "the old tool cut chantiers to 20");
    assert!(csv.contains("100003098-101003098;bike;\n"));
}
