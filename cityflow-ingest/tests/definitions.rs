//! Each definition of the README on hand-made rows.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use cityflow_core::{SensorKind, Severity, Timestamp, ZoneEntry};
use cityflow_ingest::{ingest, ArcDay, DaySelection, Etat, IngestError, Ingested, NoProgress};

const HEADER: &str = "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic;Identifiant noeud amont;Libelle noeud amont;Identifiant noeud aval;Libelle noeud aval;Etat arc;Date debut dispo data;Date fin dispo data;geo_point_2d;geo_shape";

/// A 1 km arc along a meridian near the Louvre (75001).
const SHAPE_1KM: &str =
    r#""{""coordinates"": [[2.3376, 48.8561], [2.3376, 48.86509320]], ""type"": ""LineString""}""#;

fn row(arc: &str, ts: &str, debit: &str, taux: &str, etat: &str) -> String {
    format!("{arc};Arc {arc};{ts};{debit};{taux};{etat};1;A;2;B;Ouvert;2005-01-01;2030-12-31;48.8606, 2.3376;{SHAPE_1KM}")
}

fn write(dir: &tempfile::TempDir, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.path().join(name);
    let mut text = String::from(HEADER);
    text.push('\n');
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn run(lines: &[String], days: DaySelection) -> Ingested {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "in.csv", lines);
    ingest(&path, days, 2, &NoProgress).unwrap()
}

fn only(ingested: &Ingested, d: &str) -> ArcDay {
    let mut v = ingested.arc_days(date(d));
    assert_eq!(v.len(), 1);
    v.remove(0)
}

/// Local hours of a normal November day.
fn hour(h: u32) -> String {
    format!("2025-11-04T{h:02}:00:00+01:00")
}

#[test]
fn rows_belong_to_their_paris_local_day() {
    let lines = vec![
        row("1", "2025-11-03T23:00:00+01:00", "10", "5", "Fluide"), // Nov 3
        row("1", "2025-11-03T23:00:00Z", "20", "5", "Fluide"),      // 00:00 Paris, Nov 4
        row("1", "2025-11-04T00:30:00+00:00", "30", "5", "Fluide"), // 01:30 Paris, Nov 4
        row("1", "2025-11-04T23:00:00+01:00", "40", "5", "Fluide"), // Nov 4
        row("1", "2025-11-04T23:00:00Z", "50", "5", "Fluide"),      // Nov 5
    ];
    let i = run(&lines, DaySelection::All);
    assert_eq!(
        i.days,
        vec![date("2025-11-03"), date("2025-11-04"), date("2025-11-05")]
    );
    assert_eq!(only(&i, "2025-11-04").debit_total, 90);
    assert_eq!(only(&i, "2025-11-03").debit_total, 10);
    assert_eq!(only(&i, "2025-11-05").debit_total, 50);
}

#[test]
fn dst_days_have_23_and_25_hours() {
    // Spring: 2025-03-30, 02:00 does not exist. Autumn: 2025-10-26, 02:00 happens twice.
    let mut lines = Vec::new();
    for h in 0..24u32 {
        if h == 2 {
            continue;
        }
        let off = if h < 2 { "+01:00" } else { "+02:00" };
        lines.push(row(
            "1",
            &format!("2025-03-30T{h:02}:00:00{off}"),
            &format!("{}", 10 + h),
            "5",
            "Fluide",
        ));
    }
    for h in 0..24u32 {
        let off = if h < 3 { "+02:00" } else { "+01:00" };
        lines.push(row(
            "1",
            &format!("2025-10-26T{h:02}:00:00{off}"),
            &format!("{}", 10 + h),
            "5",
            "Fluide",
        ));
    }
    lines.push(row("1", "2025-10-26T02:00:00+01:00", "99", "5", "Fluide")); // the second 02:00
    let i = run(&lines, DaySelection::All);
    let spring = only(&i, "2025-03-30");
    assert_eq!(spring.hours_in_day, 23);
    assert_eq!(spring.debit_hours, 23);
    assert!(spring.failure.is_none());
    let autumn = only(&i, "2025-10-26");
    assert_eq!(autumn.hours_in_day, 25);
    assert_eq!(autumn.debit_hours, 25, "both 02:00 hours count");
    assert_eq!(i.aggregate.stats.duplicates, 0);
    let report = i.report(date("2025-10-26"), Timestamp::now());
    assert_eq!(report.summary.taux_disponibilite_capteurs, Some(100.0));
}

#[test]
fn flows_means_peaks_and_missing_hours() {
    let lines = vec![
        row("1", &hour(7), "100", "10", "Fluide"),
        row("1", &hour(8), "", "20", "Fluide"), // missing flow
        row("1", &hour(9), "300", "", "Fluide"), // missing occupancy
        row("1", &hour(17), "300", "40", "Saturé"), // tie on the max: 09:00 is earlier
    ];
    let f = only(
        &run(&lines, DaySelection::One(date("2025-11-04"))),
        "2025-11-04",
    );
    assert_eq!(f.debit_total, 700);
    assert_eq!(f.debit_hours, 3);
    assert_eq!(f.debit_mean(), Some(700.0 / 3.0));
    assert_eq!(f.debit_max, Some(300));
    assert_eq!(f.heure_pic.as_deref(), Some("2025-11-04T09:00:00+01:00"));
    assert_eq!(f.taux_mean(), Some(70.0 / 3.0));
}

#[test]
fn duplicates_keep_the_first_row() {
    let lines = vec![
        row("1", &hour(8), "100", "10", "Fluide"),
        row("1", &hour(8), "999", "90", "Bloqué"),
        row("1", "2025-11-04T07:00:00Z", "555", "10", "Fluide"), // same instant, other offset
    ];
    let i = run(&lines, DaySelection::All);
    let f = only(&i, "2025-11-04");
    assert_eq!(f.debit_total, 100);
    assert_eq!(i.aggregate.stats.duplicates, 2);
}

#[test]
fn duplicates_across_workers_keep_the_first_in_file_order() {
    // Enough rows to span several chunks, handed to two workers; the duplicate comes last.
    let mut lines: Vec<String> = (0..40_000)
        .map(|i| {
            row(
                &format!("{}", 10 + i % 500),
                &hour((i / 500 % 24) as u32),
                "5",
                "5",
                "Fluide",
            )
        })
        .collect();
    lines.truncate(12_000);
    lines.push(row("10", &hour(0), "777", "5", "Fluide"));
    let i = run(&lines, DaySelection::All);
    let figures = i.arc_days(date("2025-11-04"));
    let arc10 = figures
        .iter()
        .find(|f| i.aggregate.arcs[f.arc as usize].id == "10")
        .unwrap();
    assert_eq!(arc10.debit_max, Some(5), "the first row wins");
    assert_eq!(i.aggregate.stats.duplicates, 1);
}

#[test]
fn negative_flows_and_impossible_occupancy_are_rejected_values() {
    let lines = vec![
        row("1", &hour(8), "-5", "10", "Fluide"),
        row("1", &hour(9), "50", "100.5", "Fluide"),
        row("1", &hour(10), "50", "100", "Bloqué"),
    ];
    let i = run(&lines, DaySelection::All);
    let f = only(&i, "2025-11-04");
    assert_eq!(i.aggregate.stats.values_rejected, 2);
    assert_eq!(f.debit_hours, 2);
    assert_eq!(f.taux_hours, 2);
}

#[test]
fn dominant_state_ties_go_to_the_most_severe() {
    let lines = vec![
        row("1", &hour(1), "1", "1", "Fluide"),
        row("1", &hour(2), "1", "1", "Saturé"),
        row("1", &hour(3), "1", "1", "Fluide"),
        row("1", &hour(4), "1", "1", "Saturé"),
        row("1", &hour(5), "1", "1", "Pré-saturé"),
    ];
    assert_eq!(
        only(&run(&lines, DaySelection::All), "2025-11-04").etat_dominant,
        Etat::Sature
    );
}

#[test]
fn lost_time_is_computed_hour_by_hour() {
    // 1 km: at taux 75 (20 km/h) a vehicle loses 1.8 min; at taux 10, nothing.
    let lines = vec![
        row("1", &hour(8), "100", "75", "Bloqué"),
        row("1", &hour(9), "300", "10", "Fluide"),
        row("1", &hour(10), "50", "", "Inconnu"), // no occupancy: not in lost time
    ];
    let f = only(&run(&lines, DaySelection::All), "2025-11-04");
    assert!(
        (f.temps_perdu_total_minutes - 180.0).abs() < 0.5,
        "{}",
        f.temps_perdu_total_minutes
    );
    assert!((f.temps_perdu_minutes() - 180.0 / 400.0).abs() < 0.002);
    // The daily mean occupancy (42.5) would have given another answer.
}

#[test]
fn an_alert_needs_two_consecutive_congested_hours() {
    let two = vec![
        row("1", &hour(8), "10", "85", "Bloqué"),
        row("1", &hour(9), "10", "91", "Bloqué"),
        row("1", &hour(10), "10", "50", "Saturé"),
        row("2", &hour(8), "10", "95", "Bloqué"), // 1 hour only
        row("2", &hour(9), "10", "79.9", "Saturé"),
        row("2", &hour(10), "10", "95", "Bloqué"),
    ];
    let i = run(&two, DaySelection::All);
    let figures = i.arc_days(date("2025-11-04"));
    let a = figures[0].alert.as_ref().expect("2 hours → alert");
    assert_eq!(a.hours, 2);
    assert_eq!(a.taux_max, 91.0);
    assert_eq!(a.start, "2025-11-04T08:00:00+01:00");
    assert!(figures[1].alert.is_none(), "1 hour → no alert");
    let report = i.report(date("2025-11-04"), Timestamp::now());
    assert_eq!(report.summary.nombre_troncons_satures, 1);
    assert_eq!(report.alertes_congestion.len(), 1);
    assert_eq!(
        report.alertes_congestion[0].severite,
        Some(Severity::Critique)
    );
    assert_eq!(report.alertes_congestion[0].duree_heures, Some(2));
}

fn full_day(arc: &str, debit: impl Fn(u32) -> Option<u32>) -> Vec<String> {
    (0..24)
        .map(|h| {
            row(
                arc,
                &hour(h),
                &debit(h).map(|d| d.to_string()).unwrap_or_default(),
                "5",
                "Fluide",
            )
        })
        .collect()
}

#[test]
fn stuck_sensors_need_12_equal_hours() {
    let mut lines = full_day("12", |h| {
        Some(if (5..17).contains(&h) { 42 } else { 100 + h })
    });
    lines.extend(full_day("11", |h| {
        Some(if (5..16).contains(&h) { 42 } else { 100 + h })
    }));
    let i = run(&lines, DaySelection::All);
    let f = i.arc_days(date("2025-11-04"));
    assert!(
        f[0].failure.as_ref().unwrap().reason.contains("12 heures"),
        "{:?}",
        f[0].failure
    );
    assert!(f[1].failure.is_none(), "11 hours is not stuck");
}

#[test]
fn failing_sensors_miss_more_than_6_consecutive_hours() {
    let mut lines = full_day("7", |h| (!(3..10).contains(&h)).then_some(10 + h));
    lines.extend(full_day("6", |h| (!(3..9).contains(&h)).then_some(10 + h)));
    let i = run(&lines, DaySelection::All);
    let f = i.arc_days(date("2025-11-04"));
    let failure = f[0].failure.as_ref().expect("7 missing hours");
    assert_eq!(failure.missing_hours, vec![3, 4, 5, 6, 7, 8, 9]);
    assert!(f[1].failure.is_none(), "6 missing hours is allowed");
    let report = i.report(date("2025-11-04"), Timestamp::now());
    assert_eq!(report.capteurs_defaillants.len(), 1);
    assert_eq!(report.capteurs_defaillants[0].kind, SensorKind::Comptage);
    assert_eq!(report.capteurs_defaillants[0].id_compteur, "7");
    // 48 expected hours, 35 with a flow.
    let avail = report.summary.taux_disponibilite_capteurs.unwrap();
    assert!((avail - 100.0 * 35.0 / 48.0).abs() < 1e-9, "{avail}");
}

#[test]
fn a_day_without_rows_counts_all_hours_missing() {
    let mut lines = full_day("1", |h| Some(10 + h));
    lines.push(row("2", "2025-11-05T08:00:00+01:00", "10", "5", "Fluide"));
    let i = run(&lines, DaySelection::One(date("2025-11-04")));
    let report = i.report(date("2025-11-04"), Timestamp::now());
    // Arc 2 belongs to the file but has no row that day.
    assert_eq!(i.aggregate.arcs.len(), 2);
    assert_eq!(report.capteurs_defaillants.len(), 1);
    assert_eq!(report.capteurs_defaillants[0].id_compteur, "2");
    assert_eq!(report.summary.taux_disponibilite_capteurs, Some(50.0));
}

#[test]
fn invalide_rows_are_excluded() {
    let mut bad = row("1", &hour(8), "1000", "5", "Fluide");
    bad = bad.replace(";Ouvert;", ";Invalide;");
    let lines = vec![bad, row("1", &hour(9), "10", "5", "Fluide")];
    let i = run(&lines, DaySelection::All);
    assert_eq!(only(&i, "2025-11-04").debit_total, 10);
    assert_eq!(i.aggregate.stats.rows_invalide, 1);
}

#[test]
fn zones_are_arrondissements_never_unknown() {
    let lines = vec![
        row("1", &hour(8), "10", "85", "Bloqué"),
        row("1", &hour(9), "10", "85", "Bloqué"),
    ];
    let report = run(&lines, DaySelection::All).report(date("2025-11-04"), Timestamp::now());
    assert_eq!(report.top_10_troncons_frequentes[0].arrondissement, "75001");
    match &report.top_10_zones_congestionnees[0] {
        ZoneEntry::Zone(z) => {
            assert_eq!(z.zone, "75001");
            assert_eq!(z.nombre_troncons, 1);
            assert_eq!(z.nombre_troncons_satures, 1);
            assert!(z.temps_perdu_total_minutes > 0.0);
        }
        other => panic!("{other:?}"),
    }
    let length = report.top_10_troncons_frequentes[0]
        .longueur_metres
        .unwrap();
    assert!((length - 1000.0).abs() < 1.0, "{length}");
}

#[test]
fn a_november_report_never_shows_another_months_peak() {
    let lines = vec![
        row("1", "2025-02-02T15:00:00+01:00", "99999", "5", "Fluide"),
        row("1", &hour(8), "10", "5", "Fluide"),
    ];
    let report = run(&lines, DaySelection::All).report(date("2025-11-04"), Timestamp::now());
    let arc = &report.top_10_troncons_frequentes[0];
    assert_eq!(arc.heure_pic.as_deref(), Some("2025-11-04T08:00:00+01:00"));
    assert_eq!(arc.debit_journalier_total, 10);
    assert_eq!(report.summary.total_vehicules_paris, 10);
}

#[test]
fn crlf_bom_commas_and_gzip_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        row("1", &hour(8), "10", "5,5", "Fluide"),
        row("1", &hour(9), "20", "6", "Fluide"),
    ];
    // CRLF + BOM
    let text = format!("\u{feff}{HEADER}\r\n{}\r\n{}\r\n", lines[0], lines[1]);
    let crlf = dir.path().join("crlf.csv");
    std::fs::write(&crlf, &text).unwrap();
    let f = only(
        &ingest(&crlf, DaySelection::All, 2, &NoProgress).unwrap(),
        "2025-11-04",
    );
    assert_eq!(f.debit_total, 30);
    assert_eq!(f.taux_mean(), Some(5.75), "decimal comma read");
    // gzip, detected by content
    let gz = dir.path().join("data.bin");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    assert_eq!(
        only(
            &ingest(&gz, DaySelection::All, 2, &NoProgress).unwrap(),
            "2025-11-04"
        )
        .debit_total,
        30
    );
    // comma-separated, other column order
    let comma = dir.path().join("comma.csv");
    std::fs::write(
        &comma,
        "Date et heure de comptage,Identifiant arc,Débit horaire,Taux d'occupation,Etat trafic\n2025-11-04T08:00:00+01:00,1,10,5,Fluide\n",
    )
    .unwrap();
    let i = ingest(&comma, DaySelection::All, 2, &NoProgress).unwrap();
    assert_eq!(only(&i, "2025-11-04").debit_total, 10);
    assert_eq!(i.aggregate.stats.arcs_without_geometry, 1);
}

#[test]
fn missing_columns_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.csv");
    std::fs::write(&p, "Identifiant arc;Libelle;Etat trafic\n1;a;Fluide\n").unwrap();
    match ingest(&p, DaySelection::All, 2, &NoProgress) {
        Err(IngestError::Columns { message, .. }) => {
            assert!(message.contains("Date et heure de comptage"), "{message}");
            assert!(message.contains("Débit horaire"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_lines_are_counted_and_the_first_ten_reported() {
    let mut lines = vec![row("1", &hour(8), "10", "5", "Fluide")];
    for i in 0..15 {
        lines.push(format!("bad line {i}"));
    }
    lines.push(row("1", "2025-11-04T09:00:00", "10", "5", "Fluide")); // no offset
    lines.push(row("1", &hour(10), "1O", "5", "Fluide")); // letter O
    lines.push(row("1", &hour(11), "NaN", "5", "Fluide"));
    lines.push(row("1", &hour(12), "10", "5", "Embouteillé"));
    lines.push(row("1", &hour(13), "10", "5", "Fluide"));
    let i = run(&lines, DaySelection::All);
    let s = &i.aggregate.stats;
    assert_eq!(s.rows_malformed, 19);
    assert_eq!(i.aggregate.first_bad_lines.len(), 10);
    assert_eq!(
        i.aggregate.first_bad_lines[0].line, 3,
        "line numbers count the header"
    );
    assert!(
        i.aggregate.first_bad_lines[0].reason.contains("fields"),
        "{:?}",
        i.aggregate.first_bad_lines[0]
    );
    assert_eq!(only(&i, "2025-11-04").debit_total, 20, "processing went on");
}

#[test]
fn line_numbers_count_the_lines_inside_quoted_fields() {
    // A label with a line break in it: one record over two lines, then a malformed line.
    let two_lines = row("2", &hour(8), "7", "5", "Fluide").replacen("Arc 2", "\"Arc\n2\"", 1);
    let lines = vec![
        row("1", &hour(8), "10", "5", "Fluide"),
        two_lines,
        row("2", &hour(9), "8", "5", "Fluide"),
        "bad".to_string(),
    ];
    let i = run(&lines, DaySelection::All);
    assert_eq!(i.aggregate.stats.rows_read, 4);
    assert_eq!(i.aggregate.stats.rows_malformed, 1);
    // Header 1, arc 1 on 2, arc 2 on 3–4, its second row on 5, the bad line on 6.
    assert_eq!(i.aggregate.first_bad_lines[0].line, 6);
    let arc2 = i
        .arc_days(date("2025-11-04"))
        .into_iter()
        .find(|f| i.aggregate.arcs[f.arc as usize].id == "2")
        .unwrap();
    assert_eq!(
        arc2.debit_total, 15,
        "both rows of arc 2, the second by the fast path"
    );
    assert_eq!(i.aggregate.arcs[arc2.arc as usize].libelle, "Arc\n2");
}

#[test]
fn a_known_arc_turning_invalide_is_excluded_from_then_on() {
    // Its later rows differ from its first one only in `Etat arc`, after the values.
    let lines = vec![
        row("1", &hour(8), "10", "5", "Fluide"),
        row("1", &hour(9), "20", "5", "Fluide").replace(";Ouvert;", ";Invalide;"),
        row("1", &hour(10), "30", "5", "Fluide"),
    ];
    let i = run(&lines, DaySelection::All);
    assert_eq!(i.aggregate.stats.rows_invalide, 1);
    assert_eq!(only(&i, "2025-11-04").debit_total, 40);
}

#[test]
fn truncated_gzip_and_invalid_utf8_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}\n");
    for h in 0..24 {
        text.push_str(&row("1", &hour(h), "10", "5", "Fluide"));
        text.push('\n');
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let p = dir.path().join("cut.csv.gz");
    std::fs::write(&p, &gz[..gz.len() / 2]).unwrap();
    let err = ingest(&p, DaySelection::All, 2, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cut.csv.gz"), "{err}");
    assert!(err.contains("byte"), "{err}");

    let mut bytes = text.into_bytes();
    let at = bytes.len() - 40;
    bytes[at] = 0xFF;
    let p = dir.path().join("latin.csv");
    std::fs::write(&p, &bytes).unwrap();
    let err = ingest(&p, DaySelection::All, 2, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("invalid UTF-8 at byte {at}")),
        "{err}"
    );

    let p = dir.path().join("empty.csv");
    std::fs::write(&p, "").unwrap();
    assert!(ingest(&p, DaySelection::All, 2, &NoProgress)
        .unwrap_err()
        .to_string()
        .contains("empty"));
}

#[test]
fn a_quote_never_closed_is_named_instead_of_swallowing_the_file() {
    // Near the end of the file it swallows a few rows into one malformed record, as before
    // (the reader cannot know where it should have ended), whose reason says so.
    let mut lines = vec![
        row("1", &hour(8), "10", "5", "Fluide"),
        row("2", &hour(8), "7", "5", "Fluide").replacen("Arc 2", "\"Arc 2", 1),
    ];
    lines.extend((9..12).map(|h| row("1", &hour(h), "10", "5", "Fluide")));
    let i = run(&lines, DaySelection::All);
    assert_eq!(i.aggregate.stats.rows_malformed, 1);
    let bad = &i.aggregate.first_bad_lines[0];
    assert_eq!(bad.line, 3);
    assert!(
        bad.reason.contains("one record over 4 lines") && bad.reason.contains("never closed"),
        "{}",
        bad.reason
    );
    assert_eq!(
        only(&i, "2025-11-04").debit_total,
        10,
        "the row before it counts"
    );

    // Far from the end, it would take every later row with it: the run stops and says where.
    let filler = row("1", &hour(9), "10", "5", "Fluide");
    let rows_past_limit = (17 << 20) / filler.len();
    lines.truncate(2);
    lines.extend(std::iter::repeat_n(filler, rows_past_limit));
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "stray.csv", &lines);
    let start = HEADER.len() + 1 + lines[0].len() + 1;
    let err = ingest(&path, DaySelection::All, 2, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("stray.csv"), "{err}");
    assert!(
        err.contains(&format!("starting on line 3 (byte {start})")),
        "{err}"
    );
    assert!(err.contains("never closed"), "{err}");

    // A line of garbage longer than the bound, without any line break, stops it too.
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "binary.csv", &["x".repeat(17 << 20)]);
    let err = ingest(&path, DaySelection::All, 2, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2 (byte"), "{err}");
    assert!(err.contains("longer than 16 MiB"), "{err}");
}
