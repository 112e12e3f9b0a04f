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
