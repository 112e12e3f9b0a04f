//! Every section from the raw open data (issue 24): the old tool's `raw/` layout on disk and
//! in S3, each source given on its own, precedence over metrics, and the figures of the
//! example day computed by hand.
//!
//! The example day, `examples/raw/` (2026-03-10, Paris UTC+01:00):
//! - bikes: four counters, two overlapping pages (`dt=2026-03-11`, the next morning's fetch).
//!   The hourly profile sums to 744; counter 1 counts it once (744), counter 3 three times
//!   (2,232); counter 2 has no count from 02:00 to 07:00 (six hours: failing); counter 4
//!   counts 7 every hour (stuck: failing). `total_velos_paris` = 744 + 2,232 = 2,976. The
//!   pages overlap by 10 records: counted once.
//! - weather: the file holds 2026-03-10 and 2026-03-11; the report of the 10th takes the
//!   10th: 8.6 °C, 6.4 mm, 32.4 km/h: 50 − 20 (rain ≥ 5 mm) − 10 (< 10 °C) = 20.
//! - roadworks: CP002664 (2 → 20 March, 75005), CP002669 (10 March → 30 April, 75010),
//!   CP002871 (10 March only, no postal code: the zone of 48.8331, 2.3242 is 75014) are
//!   active; CP002792 ended on the 9th; CP002664 is listed twice (once); CP002905's start
//!   date `10/03/2026` is rejected with its line (7).

mod common;

use std::path::{Path, PathBuf};

use common::{cityflow, examples, files_under, stderr_of, stdout_of};
use serde_json::Value;

fn raw_examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/raw")
}

fn stored(dir: &Path, date: &str) -> Value {
    let text =
        std::fs::read_to_string(dir.join(format!("output/reports/daily_report_{date}.json")))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The hand-computed figures of the example day (module docs).
fn assert_example_day(envelope: &Value) {
    let r = &envelope["report"];
    assert_eq!(r["summary"]["total_velos_paris"], 2976);
    let failing: Vec<(&str, &str)> = r["capteurs_defaillants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "bike")
        .map(|s| {
            (
                s["id_compteur"].as_str().unwrap(),
                s["raison"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failing,
        [
            ("100003096-353242252", "6 heures sans comptage valide"),
            (
                "100044493-101044493",
                "comptage identique (7) pendant 24 heures (bloqué)"
            )
        ]
    );
    let missing = &r["capteurs_defaillants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id_compteur"] == "100003096-353242252")
        .unwrap()["heures_manquantes"];
    assert_eq!(missing, &serde_json::json!([2, 3, 4, 5, 6, 7]));
    let w = &r["meteo_impact"];
    assert_eq!(w["date"], "2026-03-10");
    assert_eq!(w["temp_moyenne"], 8.6);
    assert_eq!(w["precip_totale"], 6.4);
    assert_eq!(w["impact_mobilite"], 20.0);
    assert_eq!(w["conditions"], "Rain, Overcast");
    let works: Vec<(&str, &str, &str)> = r["chantiers_actifs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["identifiant"].as_str().unwrap(),
                c["impact"].as_str().unwrap(),
                c["arrondissement"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        works,
        [
            ("CP002664", "IMPASSE", "75005"),
            ("CP002669", "RESTREINTE", "75010"),
            ("CP002871", "SENS_UNIQUE", "75014")
        ]
    );
    // The road sections, from the raw comptages of the layout.
    assert!(r["summary"]["total_vehicules_paris"].as_u64().unwrap() > 0);
    assert_eq!(
        r["top_10_troncons_frequentes"].as_array().unwrap().len(),
        10
    );
}

#[test]
fn the_old_layout_on_disk_gives_every_section_with_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_examples();
    let assert = cityflow(dir.path(), &[])
        .args(["report", "generate", "--date", "2026-03-10", "--raw"])
        .arg(&raw)
        .assert()
        .success();
    let out = stdout_of(&assert);
    assert!(out.contains("vélos : données brutes ←"), "{out}");
    assert!(out.contains("météo : données brutes ←"), "{out}");
    let err = stderr_of(&assert);
    assert!(
        err.contains("line 7: CP002905: dates \"10/03/2026\""),
        "the rejected roadwork is named with its line: {err}"
    );
    let envelope = stored(dir.path(), "2026-03-10");
    assert_example_day(&envelope);
    let sections = &envelope["built_from"]["sections"];
    for s in ["comptages", "bikes", "weather", "chantiers"] {
        assert_eq!(sections[s]["from"], "raw", "{s}: {sections}");
    }
    assert_eq!(sections["bikes"]["inputs"].as_array().unwrap().len(), 2);
    assert!(sections["comptages"]["inputs"][0]
        .as_str()
        .unwrap()
        .ends_with("batch/comptages-routiers-permanents.csv"));
    // The CSV says the same.
    let csv = std::fs::read_to_string(
        dir.path()
            .join("output/reports/daily_report_2026-03-10.csv"),
    )
    .unwrap();
    assert!(csv.contains("2976"), "{csv}");
    assert!(csv.contains("CP002871"), "{csv}");
}

#[test]
fn each_source_on_its_own_gives_the_same_sections_as_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_examples();
    let assert = cityflow(dir.path(), &[])
        .args(["--json", "report", "generate", "--date", "2026-03-10"])
        .arg("--bikes")
        .arg(raw.join("api/bikes"))
        .arg("--weather")
        .arg(raw.join("api/weather/dt=2026-03-11/weather_paris.json"))
        .arg("--chantiers")
        .arg(raw.join("batch/chantiers-perturbants-la-circulation.csv"))
        .arg("--comptages")
        .arg(raw.join("batch/comptages-routiers-permanents.csv"))
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["raw_stats"]["bikes"]["duplicates"], 10);
    assert_eq!(out["exports"][0]["built_from"]["bikes"]["from"], "raw");
    assert_example_day(&stored(dir.path(), "2026-03-10"));
}

#[test]
fn a_raw_source_wins_over_its_metrics_file_and_the_others_come_from_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_examples();
    let assert = cityflow(dir.path(), &[])
        .args(["--json", "report", "generate", "--date", "2026-03-10"])
        .arg("--metrics-dir")
        .arg(examples())
        .arg("--bikes")
        .arg(raw.join("api/bikes/dt=2026-03-11"))
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let sections = &out["exports"][0]["built_from"];
    assert_eq!(sections["bikes"]["from"], "raw", "{sections}");
    for s in ["comptages", "weather", "chantiers"] {
        assert_eq!(sections[s]["from"], "metrics", "{s}: {sections}");
        assert!(sections[s]["inputs"][0]
            .as_str()
            .unwrap()
            .contains(&format!("{s}_metrics_2026-03-10.json")));
    }
    let r = &stored(dir.path(), "2026-03-10")["report"];
    // Bikes from the raw pages only: the metrics file's failing counters are not mixed in.
    assert_eq!(r["summary"]["total_velos_paris"], 2976);
    assert!(r["capteurs_defaillants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "bike")
        .all(|s| s["id_compteur"] == "100003096-353242252"
            || s["id_compteur"] == "100044493-101044493"));
    // Weather from the metrics file, as before.
    let metrics: Value = serde_json::from_str(
        &std::fs::read_to_string(examples().join("weather_metrics_2026-03-10.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["meteo_impact"], metrics["metrics"]);
}

#[test]
fn without_metrics_nothing_is_required_and_absent_sources_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_examples();
    let assert = cityflow(dir.path(), &[])
        .args(["report", "generate", "--date", "2026-03-10", "--weather"])
        .arg(raw.join("api/weather"))
        .assert()
        .success();
    let err = stderr_of(&assert);
    for absent in [
        "comptages: no input given",
        "bikes: no input given",
        "chantiers: no input given",
    ] {
        assert!(err.contains(absent), "{absent}: {err}");
    }
    let envelope = stored(dir.path(), "2026-03-10");
    assert_eq!(envelope["report"]["meteo_impact"]["impact_mobilite"], 20.0);
    assert_eq!(envelope["report"]["summary"]["total_velos_paris"], 0);
    assert_eq!(envelope["built_from"]["sections"]["bikes"]["from"], "none");
}

#[test]
fn a_day_without_its_weather_entry_has_no_weather_section_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_examples();
    let assert = cityflow(dir.path(), &[])
        .args(["report", "generate", "--date", "2026-03-12", "--weather"])
        .arg(raw.join("api/weather"))
        .assert()
        .success();
    let err = stderr_of(&assert);
    assert!(
        err.contains("weather: no days[] entry for 2026-03-12"),
        "never another day's weather: {err}"
    );
    assert!(stored(dir.path(), "2026-03-12")["report"]["meteo_impact"].is_null());
}

#[test]
fn all_and_ranges_cover_the_days_of_the_dated_sources() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_examples();
    // The weather file covers the 10th and the 11th, the bikes the 10th: two reports.
    let assert = cityflow(dir.path(), &[])
        .args(["--json", "report", "generate", "--all", "--raw"])
        .arg(&raw)
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let dates: Vec<&str> = out["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2026-03-10", "2026-03-11"]);
    assert_example_day(&stored(dir.path(), "2026-03-10"));
    let eleventh = stored(dir.path(), "2026-03-11");
    assert_eq!(eleventh["report"]["meteo_impact"]["impact_mobilite"], 50.0);
    // Roadworks relative to the day, not the clock: CP002871 was on the 10th only.
    let ids: Vec<&str> = eleventh["report"]["chantiers_actifs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identifiant"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CP002664", "CP002669"]);

    // Roadworks alone decide no day.
    let other = tempfile::tempdir().unwrap();
    let assert = cityflow(other.path(), &[])
        .args(["report", "generate", "--all", "--chantiers"])
        .arg(raw.join("batch/chantiers-perturbants-la-circulation.csv"))
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("--all needs a dated source"));
    // A range with roadworks alone: every day of it.
    cityflow(other.path(), &[])
        .args([
            "report",
            "generate",
            "--from",
            "2026-03-09",
            "--to",
            "2026-03-11",
            "--chantiers",
        ])
        .arg(raw.join("batch/chantiers-perturbants-la-circulation.csv"))
        .assert()
        .success();
    let ninth = stored(other.path(), "2026-03-09");
    assert_eq!(
        ninth["report"]["chantiers_actifs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["identifiant"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["CP002664", "CP002792"]
    );
    assert_eq!(files_under(&other.path().join("output/reports")).len(), 6);
}

#[test]
fn a_bare_file_name_is_read_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        raw_examples().join("api/weather/dt=2026-03-11/weather_paris.json"),
        dir.path().join("weather.json"),
    )
    .unwrap();
    cityflow(dir.path(), &[])
        .args([
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--weather",
            "weather.json",
        ])
        .assert()
        .success();
    assert_eq!(
        stored(dir.path(), "2026-03-10")["report"]["meteo_impact"]["impact_mobilite"],
        20.0
    );
}

#[test]
fn a_dry_run_writes_nothing_and_says_where_each_section_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let assert = cityflow(dir.path(), &[])
        .args([
            "--json",
            "report",
            "generate",
            "--dry-run",
            "--date",
            "2026-03-10",
            "--raw",
        ])
        .arg(raw_examples())
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(
        out["would_write"][0]["built_from"]["weather"]["from"],
        "raw"
    );
    assert!(files_under(&dir.path().join("output")).is_empty());
}
