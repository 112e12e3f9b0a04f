//! Golden test of the CSV rendering, on the example metrics set of the repository.
//!
//! The golden file was reviewed by hand against the old tool's format
//! (`../shared/fixtures/cityflow-original/daily_report_2025-11-04.csv`): same header, same
//! section titles and separators, plus the columns the old tool cut off. To update it after
//! an intended change: `UPDATE_GOLDEN=1 cargo test -p cityflow-core --test golden`, then
//! review the diff.

use std::path::PathBuf;

use cityflow_core::{generate_from_metrics_dir, render_csv, Timestamp};

#[test]
fn csv_of_the_example_day_matches_the_golden_file() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let generated = generate_from_metrics_dir(
        &root.join("../examples/metrics"),
        "2026-03-10".parse().unwrap(),
        Timestamp::parse("2026-03-11T06:00:00+01:00").unwrap(),
    )
    .unwrap();
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);
    let csv = render_csv(&generated.report);
    let golden = root.join("tests/golden/daily_report_2026-03-10.csv");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &csv).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(csv, expected, "CSV differs from {}", golden.display());
}

/// The example day compared with four earlier weeks made from it: fewer vehicles, more lost
/// time, one arc out of the top 10 and another in.
#[test]
fn csv_with_the_weeks_evolution_matches_the_golden_file() {
    use cityflow_core::evolution::{PastWeek, WeekFigures};
    use cityflow_core::Evolution;
    use std::sync::Arc;

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut report = generate_from_metrics_dir(
        &root.join("../examples/metrics"),
        "2026-03-10".parse().unwrap(),
        Timestamp::parse("2026-03-11T06:00:00+01:00").unwrap(),
    )
    .unwrap()
    .report;
    let weeks: [PastWeek; 4] = std::array::from_fn(|i| {
        let mut week = report.clone();
        week.date = report.date - chrono::Days::new(7 * (i as u64 + 1));
        let s = &mut week.summary;
        s.total_vehicules_paris = s.total_vehicules_paris * (95 - i as u64) / 100;
        s.temps_perdu_total_minutes *= 1.2 + i as f64 / 10.0;
        s.nombre_troncons_satures += 1;
        s.taux_disponibilite_capteurs = s.taux_disponibilite_capteurs.map(|t| t + 1.25);
        s.total_velos_paris = 4134;
        let top = &mut week.top_10_troncons_frequentes;
        top.pop();
        top[0].debit_journalier_total = 100_000;
        let mut gone = top[1].clone();
        gone.identifiant_arc = "EX-OUT".into();
        gone.libelle = "Rue_Sortie_Du_Top".into();
        top.push(gone);
        PastWeek::Found(Arc::new(WeekFigures::of(&week)))
    });
    report.evolution_vs_semaine_precedente = Evolution::compute(&report, &weeks);
    let csv = render_csv(&report);
    let golden = root.join("tests/golden/daily_report_2026-03-10_evolution.csv");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &csv).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(csv, expected, "CSV differs from {}", golden.display());
}

#[test]
fn the_csv_keeps_the_old_format_lines() {
    // The lines every reader of the old CSV relies on, as the old tool wrote them.
    let old = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/cityflow-original/daily_report_2025-11-04.csv"),
    )
    .expect("shared fixtures beside the repository");
    let golden = include_str!("golden/daily_report_2026-03-10.csv");
    for line in [
        "Section;Valeur",
        ";",
        "=== TOP 10 TRONÇONS FRÉQUENTÉS ===;",
        "Tronçon;Débit Total",
        "=== TOP 10 ZONES CONGESTIONNÉES ===;",
        "Zone;Temps Perdu (min)",
        "=== CAPTEURS DÉFAILLANTS ===;",
        "=== ALERTES CONGESTION ===;",
        "=== CHANTIERS ACTIFS ===;",
    ] {
        assert!(old.lines().any(|l| l == line), "old: {line}");
        assert!(golden.lines().any(|l| l == line), "ours: {line}");
    }
    for label in [
        "Total véhicules Paris;",
        "Temps perdu total (min);",
        "Tronçons saturés;",
        "Taux disponibilité capteurs (%);",
        "Total vélos Paris;",
    ] {
        assert!(old.lines().any(|l| l.starts_with(label)), "old: {label}");
        assert!(
            golden.lines().any(|l| l.starts_with(label)),
            "ours: {label}"
        );
    }
}

#[test]
fn metrics_in_memory_give_the_same_report_as_the_directory() {
    use cityflow_core::{generate_from_metrics, ErrorKind, MetricsInput, MetricsKind};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/metrics");
    let date = "2026-03-10".parse().unwrap();
    let at = Timestamp::parse("2026-03-11T06:00:00+01:00").unwrap();
    let from_dir = generate_from_metrics_dir(&dir, date, at).unwrap().report;
    let read: Vec<(MetricsKind, Vec<u8>)> = MetricsKind::ALL
        .iter()
        .map(|k| (*k, std::fs::read(dir.join(k.file_name(date))).unwrap()))
        .collect();
    let files: Vec<MetricsInput> = read
        .iter()
        .map(|(kind, bytes)| MetricsInput {
            kind: *kind,
            source: "s3://bucket/metrics/x.json",
            bytes,
        })
        .collect();
    assert_eq!(generate_from_metrics(date, at, &files).unwrap(), from_dir);

    // A kind given twice, or a malformed file: an error naming the source.
    let twice = [files[1], files[1]];
    let e = generate_from_metrics(date, at, &twice).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("a second bikes metrics file"), "{e}");
    let bad = [MetricsInput {
        kind: MetricsKind::Weather,
        source: "s3://bucket/metrics/weather.json",
        bytes: b"{\"metrics\": ",
    }];
    let e = generate_from_metrics(date, at, &bad).unwrap_err();
    assert!(
        e.to_string()
            .contains("s3://bucket/metrics/weather.json: malformed metrics file at line 1"),
        "{e}"
    );
}
