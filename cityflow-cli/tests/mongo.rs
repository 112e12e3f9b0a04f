//! `cityflow` with `DATABASE_TYPE=mongodb`, end to end against the test server
//! (`MONGODB_TEST_URL`, set by scripts/services), and against a closed port.

mod common;

use std::time::{Duration, Instant};

use cityflow_core::conformance::{service_endpoint, unique_name};
use common::{cityflow, closed_port, examples, golden_csv};

#[test]
fn generate_to_mongodb_then_show_reads_it_back() {
    let Some(url) = service_endpoint("MONGODB_TEST_URL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = unique_name("cityflow-cli");
    let vars = [
        ("DATABASE_TYPE", "mongodb"),
        ("MONGODB_URL", url.as_str()),
        ("MONGODB_DATABASE", database.as_str()),
    ];

    let out = cityflow(dir.path(), &vars)
        .arg("setup")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("✓ created: unique index date_unique"), "{out}");
    assert!(
        out.contains("✓ created: unique index report_id_unique"),
        "{out}"
    );
    let out = cityflow(dir.path(), &vars)
        .arg("setup")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("0 created"),
        "second setup creates nothing: {out}"
    );

    for _ in 0..2 {
        let assert = cityflow(dir.path(), &vars)
            .args([
                "report",
                "generate",
                "--date",
                "2026-03-10",
                "--metrics-dir",
            ])
            .arg(examples())
            .assert()
            .success();
        let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert!(stdout.contains("[Export JSON] → MONGODB"), "{stdout}");
        assert!(
            stdout.contains("✓ Rapport JSON exporté vers MONGODB"),
            "{stdout}"
        );
        assert!(stdout.contains("- JSON : MONGODB ("), "{stdout}");
    }

    let shown = cityflow(dir.path(), &vars)
        .args(["report", "show", "--date", "2026-03-10"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&shown).unwrap();
    assert_eq!(v["report_id"], "daily_report_2026-03-10");
    assert_eq!(v["report"]["summary"]["total_vehicules_paris"], 18452310);
    // The CSV still goes to the local directory, unchanged.
    assert_eq!(
        std::fs::read_to_string(
            dir.path()
                .join("output/reports/daily_report_2026-03-10.csv")
        )
        .unwrap(),
        golden_csv()
    );
    // And no JSON file: the JSON went to MongoDB only.
    assert!(!dir
        .path()
        .join("output/reports/daily_report_2026-03-10.json")
        .exists());

    cityflow(dir.path(), &vars)
        .args(["report", "list"])
        .assert()
        .success()
        .stdout("2026-03-10\n");
}

#[test]
fn an_unreachable_mongodb_exits_1_within_seconds_without_leaking_the_password() {
    let port = closed_port();
    let url = format!("mongodb://cityflow:canary-pw-0815@127.0.0.1:{port}/?directConnection=true");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let assert = cityflow(
        dir.path(),
        &[
            ("DATABASE_TYPE", "mongodb"),
            ("MONGODB_URL", &url),
            ("MONGODB_TIMEOUT_MS", "2000"),
            ("LOG_LEVEL", "trace"),
        ],
    )
    .args([
        "report",
        "generate",
        "--date",
        "2026-03-10",
        "--metrics-dir",
    ])
    .arg(examples())
    .assert()
    .code(1);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stdout.contains("✓ Rapport CSV:"),
        "the CSV target succeeded: {stdout}"
    );
    assert!(
        stdout.contains("✗ Échec de l'export JSON vers MONGODB"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("127.0.0.1:{port}")),
        "names the target: {stdout}"
    );
    assert!(stdout.contains("unreachable"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains("canary-pw-0815"), "password leaked: {text}");
    }
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}
