//! `evolution_vs_semaine_precedente` end to end: the binary exports days one run at a time to
//! each backend, and the last report compares with what the store holds; a multi-day run takes
//! its references from itself; a stopped store never fails a report because of its reference.
//!
//! The expected figures are computed here from the stored reports, by the definitions as the
//! README states them (not by the library's code).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use cityflow_core::conformance::{service_endpoint, unique_name};
use cityflow_core::evolution::Qualification;
use cityflow_core::{DailyReport, Summary};
use common::{cityflow, closed_port, stderr_of};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 29 simulated days (2025-03-03 … 2025-03-31, the spring DST change on 03-30), 40 arcs.
fn simulated_month(dir: &Path) -> String {
    cityflow(dir, &[])
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-03-03",
            "--to",
            "2025-03-31",
            "--arcs",
            "40",
            "--seed",
            "21",
            "--out",
            "month.csv",
        ])
        .assert()
        .success();
    "month.csv".to_string()
}

/// The five Mondays of the month, in order.
const MONDAYS: [&str; 5] = [
    "2025-03-03",
    "2025-03-10",
    "2025-03-17",
    "2025-03-24",
    "2025-03-31",
];

fn stored_reports(vars: &[(&str, &str)], dates: &[NaiveDate]) -> Vec<DailyReport> {
    let env: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = cityflow_storage::StorageConfig::from_env(&env).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let storage = cityflow_storage::build(&config).await.unwrap();
        let mut out = Vec::new();
        for date in dates {
            out.push(storage.reports.get(*date).await.unwrap().report);
        }
        out
    })
}

fn pct(v: f64, r: f64) -> Option<f64> {
    (r != 0.0).then(|| 100.0 * (v - r) / r)
}

/// The README's rule, restated: inside [min, max] → habituel; more than 25 % from the mean
/// → exceptionnel; else inhabituel.
fn expected_qualification(v: f64, values: &[f64]) -> (f64, f64, f64, Qualification) {
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let q = if v >= min && v <= max {
        Qualification::Habituel
    } else if mean == 0.0 || (v - mean).abs() > 0.25 * mean.abs() {
        Qualification::Exceptionnel
    } else {
        Qualification::Inhabituel
    };
    (mean, min, max, q)
}

/// Exports the five Mondays one run each, in order, then checks the stored reports.
fn five_mondays_in_order(dir: &Path, vars: &[(&str, &str)], label: &str) {
    let input = simulated_month(dir);
    let mut last_output = String::new();
    for date in MONDAYS {
        last_output = common::stdout_of(
            &cityflow(dir, vars)
                .args(["report", "generate", "--comptages", &input, "--date", date])
                .assert()
                .success(),
        );
    }
    // The human output: one line per indicator, an arrow, the variation, the qualification.
    assert!(
        last_output.contains("Évolution vs semaine précédente (2025-03-24) :"),
        "{label}: {last_output}"
    );
    for indicator in [
        "Total véhicules Paris",
        "Temps perdu total (min)",
        "Tronçons saturés",
        "Taux disponibilité capteurs (%)",
        "Total vélos Paris",
    ] {
        let line = last_output
            .lines()
            .find(|l| l.contains(&format!(" {indicator} : ")))
            .unwrap_or_else(|| panic!("{label}: no line for {indicator}: {last_output}"));
        assert!(
            ["  ↑ ", "  ↓ ", "  → ", "  ? "]
                .iter()
                .any(|a| line.starts_with(a)),
            "{label}: {line}"
        );
        assert!(
            ["habituel", "inhabituel", "exceptionnel"]
                .iter()
                .any(|q| line.contains(q)),
            "{label}: four weeks available, so qualified: {line}"
        );
    }
    let dates: Vec<NaiveDate> = MONDAYS.iter().map(|s| d(s)).collect();
    let reports = stored_reports(vars, &dates);

    let first = &reports[0].evolution_vs_semaine_precedente;
    assert_eq!(first.date_reference, Some(d("2025-02-24")), "{label}");
    assert_eq!(first.disponible, Some(false), "{label}");
    assert_eq!(
        first.raison.as_deref(),
        Some("aucun rapport pour le 2025-02-24"),
        "{label}"
    );
    assert_eq!(
        first
            .tendance_4_semaines
            .as_ref()
            .unwrap()
            .semaines_disponibles,
        0
    );
    // The second has one week: a reference, but no band.
    let second = &reports[1].evolution_vs_semaine_precedente;
    assert_eq!(second.disponible, Some(true), "{label}");
    assert_eq!(
        second
            .tendance_4_semaines
            .as_ref()
            .unwrap()
            .total_vehicules_paris,
        None,
        "{label}"
    );

    let (day, reference) = (&reports[4], &reports[3]);
    let e = &day.evolution_vs_semaine_precedente;
    assert_eq!(e.date_reference, Some(d("2025-03-24")), "{label}");
    assert_eq!(e.disponible, Some(true), "{label}");
    let i = e.indicateurs.as_ref().unwrap();
    let (s, r): (&Summary, &Summary) = (&day.summary, &reference.summary);
    assert_eq!(
        i.total_vehicules_paris.valeur,
        Some(s.total_vehicules_paris)
    );
    assert_eq!(
        i.total_vehicules_paris.reference,
        Some(r.total_vehicules_paris)
    );
    assert_eq!(
        i.total_vehicules_paris.variation_pct,
        pct(
            s.total_vehicules_paris as f64,
            r.total_vehicules_paris as f64
        ),
        "{label}"
    );
    assert_eq!(
        i.temps_perdu_total_minutes.variation_pct,
        pct(s.temps_perdu_total_minutes, r.temps_perdu_total_minutes),
        "{label}"
    );
    assert_eq!(
        i.nombre_troncons_satures.variation,
        Some(s.nombre_troncons_satures as i64 - r.nombre_troncons_satures as i64),
        "{label}"
    );
    assert_eq!(
        i.taux_disponibilite_capteurs.variation,
        s.taux_disponibilite_capteurs
            .zip(r.taux_disponibilite_capteurs)
            .map(|(v, r)| v - r),
        "{label}"
    );
    // No bike metrics: 0 against 0, a percentage of a zero reference is null.
    assert_eq!(i.total_velos_paris.variation_pct, None, "{label}");

    // Top 10: every arc's reference is its flow in R's stored top 10, when there.
    let top = e.top_10.as_ref().unwrap();
    assert_eq!(top.len(), day.top_10_troncons_frequentes.len());
    for arc in top {
        let in_r = reference
            .top_10_troncons_frequentes
            .iter()
            .find(|a| a.identifiant_arc == arc.identifiant_arc);
        assert_eq!(
            arc.reference,
            in_r.map(|a| a.debit_journalier_total),
            "{label}: {}",
            arc.identifiant_arc
        );
    }
    let entered: Vec<&str> = e
        .entrees_top_10
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.identifiant_arc.as_str())
        .collect();
    let expected_entered: Vec<&str> = day
        .top_10_troncons_frequentes
        .iter()
        .filter(|a| {
            !reference
                .top_10_troncons_frequentes
                .iter()
                .any(|b| b.identifiant_arc == a.identifiant_arc)
        })
        .map(|a| a.identifiant_arc.as_str())
        .collect();
    assert_eq!(entered, expected_entered, "{label}");

    // The band over the four previous Mondays, read back from the store.
    let t = e.tendance_4_semaines.as_ref().unwrap();
    assert_eq!(t.semaines_disponibles, 4, "{label}");
    let weeks: Vec<f64> = reports[..4]
        .iter()
        .map(|r| r.summary.total_vehicules_paris as f64)
        .collect();
    let (mean, min, max, q) = expected_qualification(s.total_vehicules_paris as f64, &weeks);
    let band = t.total_vehicules_paris.as_ref().unwrap();
    assert_eq!(band.moyenne, mean, "{label}");
    assert_eq!((band.min as f64, band.max as f64), (min, max), "{label}");
    assert_eq!(band.qualification, Some(q), "{label}");
    let lost: Vec<f64> = reports[..4]
        .iter()
        .map(|r| r.summary.temps_perdu_total_minutes)
        .collect();
    let (mean, _, _, q) = expected_qualification(s.temps_perdu_total_minutes, &lost);
    let band = t.temps_perdu_total_minutes.as_ref().unwrap();
    assert!((band.moyenne - mean).abs() <= 1e-9 * mean.abs(), "{label}");
    assert_eq!(band.qualification, Some(q), "{label}");
}

#[test]
fn five_mondays_exported_in_order_to_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    five_mondays_in_order(dir.path(), &[("OUTPUT_DIR", out)], "files");
}

#[test]
fn five_mondays_exported_in_order_to_mongodb() {
    let Some(url) = service_endpoint("MONGODB_TEST_URL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let database = unique_name("cityflow-wow");
    five_mondays_in_order(
        dir.path(),
        &[
            ("OUTPUT_DIR", out.to_str().unwrap()),
            ("DATABASE_TYPE", "mongodb"),
            ("MONGODB_URL", &url),
            ("MONGODB_DATABASE", &database),
        ],
        "mongodb",
    );
}

#[test]
fn five_mondays_exported_in_order_to_dynamodb_and_s3() {
    let (Some(s3), Some(dynamodb)) = (
        service_endpoint("S3_TEST_ENDPOINT_URL"),
        service_endpoint("DYNAMODB_TEST_ENDPOINT_URL"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique_name("cityflow-wow");
    let table = unique_name("cityflow-wow");
    let vars = [
        [("CITYFLOW_ENV", "aws")].as_slice(),
        &common::emulator_vars(&s3, &dynamodb, &bucket, &table),
    ]
    .concat();
    cityflow(dir.path(), &vars).arg("setup").assert().success();
    five_mondays_in_order(dir.path(), &vars, "dynamodb + s3");
}

/// The first CSV lines of a report: `label;value`.
fn csv_value(csv: &str, label: &str) -> String {
    csv.lines()
        .find_map(|l| l.strip_prefix(&format!("{label};")))
        .unwrap_or_else(|| panic!("no {label} line in\n{csv}"))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_15_day_run_compares_with_itself_when_the_store_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let input = simulated_month(dir.path());
    let port = closed_port().to_string();
    let url = format!("mongodb://127.0.0.1:{port}/");
    let vars = [
        ("DATABASE_TYPE", "mongodb"),
        ("MONGODB_URL", url.as_str()),
        ("MONGODB_TIMEOUT_MS", "200"),
        ("MONGODB_MAX_ATTEMPTS", "1"),
    ];
    // Every JSON export fails (exit 1), every CSV is written, and no report fails because of
    // its reference: the first week's references are unreadable, the second's come from the
    // run itself, never exported.
    let assert = cityflow(dir.path(), &vars)
        .args([
            "report",
            "generate",
            "--comptages",
            &input,
            "--from",
            "2025-03-03",
            "--to",
            "2025-03-17",
        ])
        .assert()
        .code(1);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains(
            "la référence du 2025-02-24 n'a pas pu être lue : MongoDB at mongodb://127.0.0.1:"
        ),
        "{stderr}"
    );

    let reports = dir.path().join("output/reports");
    let csv = |date: &str| {
        std::fs::read_to_string(reports.join(format!("daily_report_{date}.csv"))).unwrap()
    };
    for day in 3..=17 {
        assert!(
            reports
                .join(format!("daily_report_2025-03-{day:02}.csv"))
                .exists(),
            "CSV of day {day}"
        );
    }
    let early = csv("2025-03-05");
    assert!(
        early.contains(
            // Quoted: the driver's detail holds quotes.
            "Indisponible;\"le rapport du 2025-02-26 n'a pas pu être lu : MongoDB at mongodb://127.0.0.1:"
        ),
        "{early}"
    );
    let late = csv("2025-03-15");
    let reference = csv("2025-03-08");
    assert!(late.contains("Date de référence;2025-03-08"), "{late}");
    let vehicles = |c: &str| csv_value(c, "Total véhicules Paris");
    let row = late
        .lines()
        .skip_while(|l| !l.starts_with("Indicateur;"))
        .find(|l| l.starts_with("Total véhicules Paris;"))
        .unwrap()
        .to_string();
    let fields: Vec<&str> = row.split(';').collect();
    assert_eq!(fields[1], vehicles(&late), "{row}");
    assert_eq!(fields[2], vehicles(&reference), "{row}");
    let (v, r): (f64, f64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!(fields[3], format!("{:+.1} %", 100.0 * (v - r) / r), "{row}");
}
