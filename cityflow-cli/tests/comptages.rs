//! `cityflow simulate comptages`, `report generate --comptages` and `comptages aggregate`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn cityflow(dir: &Path) -> Command {
    common::cityflow(dir, &[])
}

fn simulate(dir: &Path, name: &str, from: &str, to: &str, seed: &str) -> PathBuf {
    cityflow(dir)
        .args([
            "simulate",
            "comptages",
            "--from",
            from,
            "--to",
            to,
            "--arcs",
            "40",
            "--seed",
            seed,
            "--out",
            name,
        ])
        .assert()
        .success();
    dir.join(name)
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                // The reports' summary index, beside them.
                .filter(|n| n != ".summaries")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn simulation_is_deterministic_and_gz_is_transparent() {
    let dir = tempfile::tempdir().unwrap();
    let a = simulate(dir.path(), "a.csv", "2025-03-29", "2025-03-31", "5");
    let b = simulate(dir.path(), "b.csv", "2025-03-29", "2025-03-31", "5");
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let gz = simulate(dir.path(), "c.csv.gz", "2025-03-29", "2025-03-31", "5");
    assert_eq!(&std::fs::read(&gz).unwrap()[..2], &[0x1f, 0x8b]);
    let agg = |p: &Path| {
        cityflow(dir.path())
            .args(["comptages", "aggregate", "--comptages"])
            .arg(p)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let plain = agg(&a);
    assert_eq!(plain, agg(&gz));
    let text = String::from_utf8(plain).unwrap();
    assert!(text.starts_with("identifiant_arc;date;debit_count;debit_sum;"));
    // The spring DST day has at most 23 hours.
    assert!(text
        .lines()
        .filter(|l| l.contains(";2025-03-30;"))
        .all(|l| l.split(';').nth(2).unwrap().parse::<u32>().unwrap() <= 23));
}

#[test]
fn one_pass_exports_every_day_of_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let input = simulate(dir.path(), "in.csv.gz", "2025-11-03", "2025-11-06", "9");
    let assert = cityflow(dir.path())
        .args([
            "report",
            "generate",
            "--json",
            "--from",
            "2025-11-04",
            "--to",
            "2025-11-05",
            "--comptages",
        ])
        .arg(&input)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["exports"].as_array().unwrap().len(), 2);
    assert!(v["stats"]["rows_read"].as_u64().unwrap() > 3000);
    assert!(v["stats"]["rows_outside_days"].as_u64().unwrap() > 0);
    assert_eq!(
        files(&dir.path().join("output/reports")),
        [
            "daily_report_2025-11-04.csv",
            "daily_report_2025-11-04.json",
            "daily_report_2025-11-05.csv",
            "daily_report_2025-11-05.json"
        ]
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("output/reports/daily_report_2025-11-04.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let r = &report["report"];
    assert_eq!(r["date"], "2025-11-04");
    assert!(r["summary"]["total_vehicules_paris"].as_u64().unwrap() > 0);
    assert_eq!(
        r["top_10_troncons_frequentes"].as_array().unwrap().len(),
        10
    );
    for arc in r["top_10_troncons_frequentes"].as_array().unwrap() {
        assert!(
            arc["heure_pic"]
                .as_str()
                .unwrap()
                .starts_with("2025-11-04T"),
            "{arc}"
        );
        assert_ne!(arc["arrondissement"], "Unknown");
    }
    // Human output: one line per day and the summary banner.
    let out = cityflow(dir.path())
        .args(["report", "generate", "--all", "--comptages"])
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("4 rapport(s) en mode LOCAL DÉVELOPPEMENT: CSV 4/4 ✓, JSON 4/4 ✓"),
        "{out}"
    );
}

#[test]
fn the_real_paris_network_can_be_simulated() {
    let referentiel = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/cityflow-original/referentiel_metrics_2025-11-04.json");
    assert!(
        referentiel.is_file(),
        "shared fixtures beside the repository"
    );
    let dir = tempfile::tempdir().unwrap();
    cityflow(dir.path())
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-11-04",
            "--to",
            "2025-11-04",
            "--seed",
            "1",
            "--out",
            "net.csv",
            "--network",
        ])
        .arg(&referentiel)
        .assert()
        .success()
        .stdout(predicates::str::contains("3348 arcs"));
    let text = std::fs::read_to_string(dir.path().join("net.csv")).unwrap();
    assert!(text.contains(";Bd_Ney;"));
    cityflow(dir.path())
        .args([
            "report",
            "generate",
            "--date",
            "2025-11-04",
            "--comptages",
            "net.csv",
        ])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("output/reports/daily_report_2025-11-04.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let zones: Vec<&str> = report["report"]["top_10_zones_congestionnees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["zone"].as_str().unwrap())
        .collect();
    assert_eq!(zones.len(), 10);
    assert!(
        zones
            .iter()
            .all(|z| z.starts_with("750") || *z == "Hors Paris"),
        "{zones:?}"
    );
}

#[test]
fn bad_comptages_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // Missing columns: exit 2, named, nothing written.
    std::fs::write(
        dir.path().join("cols.csv"),
        "Identifiant arc;Libelle\n1;a\n",
    )
    .unwrap();
    let assert = cityflow(dir.path())
        .args([
            "report",
            "generate",
            "--date",
            "2025-11-04",
            "--comptages",
            "cols.csv",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("missing required column(s): Date et heure de comptage"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!dir.path().join("output").exists());

    // A date without rows: exit 2, nothing exported.
    let input = simulate(dir.path(), "in.csv", "2025-11-03", "2025-11-03", "1");
    cityflow(dir.path())
        .args(["report", "generate", "--date", "2025-11-09", "--comptages"])
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no row falls on 2025-11-09"));
    assert!(!dir.path().join("output").exists());

    // Malformed lines: counted, the first reported with their line number, the rest exported.
    let mut text = std::fs::read_to_string(&input).unwrap();
    text.push_str("garbage line\n1;x;2025-11-03T10:00:00;1;1;Fluide;;;;;Ouvert;;;;\n");
    std::fs::write(dir.path().join("bad.csv"), &text).unwrap();
    let lines = text.lines().count();
    let assert = cityflow(dir.path())
        .args([
            "report",
            "generate",
            "--date",
            "2025-11-03",
            "--comptages",
            "bad.csv",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!("line {}: expected 15 fields", lines - 1)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("line {}: timestamp without UTC offset", lines)),
        "{stderr}"
    );
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("2 malformées"), "{stdout}");

    // A missing file.
    cityflow(dir.path())
        .args([
            "report",
            "generate",
            "--date",
            "2025-11-03",
            "--comptages",
            "nowhere.csv",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nowhere.csv"));
}
