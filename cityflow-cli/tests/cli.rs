//! End-to-end tests of the `cityflow` binary with the embedded default (files only).
//!
//! Each test runs the binary in a fresh temporary directory with a cleared environment, so
//! neither the developer's `.env` nor their variables leak in.

mod common;

use common::{cityflow, examples, files_under, golden_csv};
use predicates::prelude::*;

#[test]
fn the_main_job_exports_csv_and_json_to_files() {
    let dir = tempfile::tempdir().unwrap();
    cityflow(dir.path(), &[])
        .args([
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--metrics-dir",
        ])
        .arg(examples())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "[Export CSV] → Répertoire local (output/reports/)",
        ))
        .stdout(predicate::str::contains(
            "✓ Rapport CSV: output/reports/daily_report_2026-03-10.csv",
        ))
        .stdout(predicate::str::contains("[Export JSON] → FILE"))
        .stdout(predicate::str::contains(
            "🏠 Rapport exporté en mode LOCAL DÉVELOPPEMENT",
        ))
        .stderr(predicate::str::is_empty());

    let reports = dir.path().join("output/reports");
    let csv = std::fs::read_to_string(reports.join("daily_report_2026-03-10.csv")).unwrap();
    assert_eq!(csv, golden_csv());
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("daily_report_2026-03-10.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["report_id"], "daily_report_2026-03-10");
    assert_eq!(json["report"]["summary"]["total_velos_paris"], 4134);
    assert_eq!(
        json["report"]["summary"]["temps_perdu_total_minutes"],
        73214.62842
    );
}

#[test]
fn rerunning_a_date_leaves_one_csv_and_one_json() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        cityflow(dir.path(), &[])
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
    }
    let mut names: Vec<String> = files_under(&dir.path().join("output"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "daily_report_2026-03-10.csv",
            "daily_report_2026-03-10.json"
        ]
    );
}

#[test]
fn json_output_gives_each_targets_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let out = cityflow(dir.path(), &[("OUTPUT_DIR", "out")])
        .args([
            "report",
            "generate",
            "--json",
            "--date",
            "2026-03-10",
            "--metrics-dir",
        ])
        .arg(examples())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("stdout is one JSON value");
    assert_eq!(v["ok"], true);
    assert_eq!(v["date"], "2026-03-10");
    assert_eq!(v["mode"], "local");
    assert_eq!(v["exports"][0]["format"], "csv");
    assert_eq!(v["exports"][0]["ok"], true);
    assert_eq!(
        v["exports"][0]["location"],
        "out/reports/daily_report_2026-03-10.csv"
    );
    assert_eq!(v["exports"][1]["format"], "json");
    assert_eq!(v["exports"][1]["backend"], "file");
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn report_date_comes_from_the_environment_or_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "REPORT_DATE=2026-03-10\nMETRICS_DIR={}\nOUTPUT_DIR=from-dotenv\n",
            examples().display()
        ),
    )
    .unwrap();
    // The process environment wins over .env.
    cityflow(dir.path(), &[("OUTPUT_DIR", "from-env")])
        .args(["report", "generate"])
        .assert()
        .success();
    assert!(dir
        .path()
        .join("from-env/reports/daily_report_2026-03-10.csv")
        .is_file());
    assert!(!dir.path().join("from-dotenv").exists());
}

#[test]
fn show_and_list_read_back_what_was_exported() {
    let dir = tempfile::tempdir().unwrap();
    cityflow(dir.path(), &[])
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

    let out = cityflow(dir.path(), &[])
        .args(["report", "show", "--date", "2026-03-10"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["report"]["chantiers_actifs"][2]["identifiant"],
        "EX-CH-03; lot \"B\""
    );

    cityflow(dir.path(), &[])
        .args(["report", "show", "--date", "2026-03-10", "--format", "csv"])
        .assert()
        .success()
        .stdout(golden_csv());

    cityflow(dir.path(), &[])
        .args(["report", "list"])
        .assert()
        .success()
        .stdout("2026-03-10\n");
    cityflow(dir.path(), &[])
        .args(["report", "list", "--from", "2026-03-11"])
        .assert()
        .success()
        .stdout("");
    cityflow(dir.path(), &[])
        .args(["report", "list", "--json", "--to", "2026-03-10"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"dates\":[\"2026-03-10\"]"));

    // A date without a report: a clear error, exit 1 (the store answered, nothing is there).
    cityflow(dir.path(), &[])
        .args(["report", "show", "--date", "2026-03-09"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("report for 2026-03-09 not found"));
}

#[test]
fn env_shows_mode_targets_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        (
            "MONGODB_URL",
            "mongodb://admin:canary-s3cret@db.internal:27017/",
        ),
        ("DATABASE_TYPE", "mongodb"),
        ("CITYFLOW_API_TOKEN", "canary-t0ken"),
        ("CITYFLOW_API_MAX_CONCURRENCY", "64"),
    ];
    let assert = cityflow(dir.path(), &vars).arg("env").assert().success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(out.contains("🏠 Mode LOCAL DÉVELOPPEMENT"), "{out}");
    assert!(
        out.contains("MONGODB (mongodb://admin:***@db.internal:27017/"),
        "{out}"
    );
    assert!(!out.contains("canary-s3cret"), "{out}");
    // `cityflow serve`'s settings: set ones marked, defaults shown, the token never.
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("no {name} in {out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("CITYFLOW_API_TOKEN"), "* CITYFLOW_API_TOKEN ***");
    assert_eq!(
        line("CITYFLOW_API_MAX_CONCURRENCY"),
        "* CITYFLOW_API_MAX_CONCURRENCY 64"
    );
    assert_eq!(
        line("CITYFLOW_API_BIND"),
        "CITYFLOW_API_BIND 127.0.0.1:8080"
    );
    assert!(!out.contains("canary-t0ken"), "{out}");
    cityflow(dir.path(), &[("CITYFLOW_API_TIMEOUT_MS", "soon")])
        .arg("env")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CITYFLOW_API_TIMEOUT_MS"));

    let assert = cityflow(dir.path(), &[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")])
        .args(["env", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["mode"], "aws");
    assert_eq!(v["csv"]["backend"], "s3");
    assert_eq!(v["json"]["backend"], "dynamodb");
    assert_eq!(
        v["csv"]["target"],
        "S3 Bucket (s3://cityflow-reports/reports/)"
    );
}

/// Each bad input: exit 2, exactly one line on stderr naming the problem, nothing written.
#[test]
fn bad_inputs_exit_2_with_one_clear_line_and_write_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let empty_dir = scratch.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let malformed = scratch.path().join("malformed");
    std::fs::create_dir(&malformed).unwrap();
    for f in std::fs::read_dir(examples()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, malformed.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        malformed.join("bikes_metrics_2026-03-10.json"),
        "{\n  \"metrics\": [\n    {\"total_jour\": 12,}\n  ]\n}\n",
    )
    .unwrap();
    let fractional = scratch.path().join("fractional");
    std::fs::create_dir(&fractional).unwrap();
    std::fs::write(
        fractional.join("bikes_metrics_2026-03-10.json"),
        r#"{"metrics": [{"total_jour": 12.5}], "failing_sensors": []}"#,
    )
    .unwrap();
    let dir_as_file = scratch.path().join("dir-as-file");
    std::fs::create_dir_all(dir_as_file.join("weather_metrics_2026-03-10.json")).unwrap();

    let ex = examples();
    // (name, arguments, environment, expected part of the message)
    type Case<'a> = (&'a str, Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "missing metrics directory",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                "nowhere".into(),
            ],
            vec![],
            "metrics directory does not exist",
        ),
        (
            "empty metrics directory",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                empty_dir.display().to_string(),
            ],
            vec![],
            "no metrics file for 2026-03-10",
        ),
        (
            "malformed metrics JSON",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                malformed.display().to_string(),
            ],
            vec![],
            "bikes_metrics_2026-03-10.json: malformed metrics file at line 3 column",
        ),
        (
            "fractional count",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                fractional.display().to_string(),
            ],
            vec![],
            "12.5 is not a whole non-negative number",
        ),
        (
            "metrics file that is a directory",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                dir_as_file.display().to_string(),
            ],
            vec![],
            "is a directory, not a metrics file",
        ),
        (
            "invalid date",
            vec![
                "--date".into(),
                "2026-02-30".into(),
                "--metrics-dir".into(),
                ex.display().to_string(),
            ],
            vec![],
            "--date: \"2026-02-30\" is not a valid date (expected YYYY-MM-DD",
        ),
        (
            "invalid REPORT_DATE",
            vec!["--metrics-dir".into(), ex.display().to_string()],
            vec![("REPORT_DATE", "10/03/2026")],
            "REPORT_DATE",
        ),
        (
            "unknown DATABASE_TYPE",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                ex.display().to_string(),
            ],
            vec![("DATABASE_TYPE", "postgres")],
            "DATABASE_TYPE: unknown value \"postgres\"; valid values: mongodb, dynamodb, file",
        ),
        (
            "path traversal in S3_REPORTS_PREFIX",
            vec![
                "--date".into(),
                "2026-03-10".into(),
                "--metrics-dir".into(),
                ex.display().to_string(),
            ],
            vec![("S3_REPORTS_PREFIX", "../../etc")],
            "S3_REPORTS_PREFIX",
        ),
    ];
    for (name, args, vars, expected) in cases {
        let run = tempfile::tempdir().unwrap();
        let assert = cityflow(run.path(), &vars)
            .args(["report", "generate"])
            .args(&args)
            .assert()
            .code(2);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert_eq!(
            stderr.lines().count(),
            1,
            "{name}: one line expected, got {stderr:?}"
        );
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{name}: {stderr:?} should contain {expected:?}"
        );
        assert!(
            files_under(run.path()).is_empty(),
            "{name}: nothing may be written, found {:?}",
            files_under(run.path())
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    cityflow(dir.path(), &[])
        .args(["report", "frobnicate"])
        .assert()
        .code(2);
    cityflow(dir.path(), &[])
        .args(["report", "show"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--date"));
    cityflow(dir.path(), &[])
        .args([
            "report",
            "list",
            "--from",
            "2026-03-10",
            "--to",
            "2026-03-01",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("after"));
    cityflow(dir.path(), &[])
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"));
}

#[test]
fn a_failed_export_exits_1_and_says_which_target_succeeded() {
    let dir = tempfile::tempdir().unwrap();
    // A non-empty directory where the JSON file should go: the CSV export succeeds, the JSON
    // export cannot replace it.
    let blocker = dir
        .path()
        .join("output/reports/daily_report_2026-03-10.json");
    std::fs::create_dir_all(blocker.join("keep")).unwrap();
    let assert = cityflow(dir.path(), &[])
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
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("✓ Rapport CSV: output/reports/daily_report_2026-03-10.csv"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ Échec de l'export JSON vers FILE"),
        "{stdout}"
    );
    assert!(stdout.contains("Rapport exporté PARTIELLEMENT"), "{stdout}");
    assert!(
        stdout.contains("- JSON : FILE (output/reports/) ✗ ÉCHEC"),
        "{stdout}"
    );
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("export failed"), "{stderr}");
    assert!(dir
        .path()
        .join("output/reports/daily_report_2026-03-10.csv")
        .is_file());

    // With --json, the outcome of each target.
    let assert = cityflow(dir.path(), &[])
        .args([
            "report",
            "generate",
            "--json",
            "--date",
            "2026-03-10",
            "--metrics-dir",
        ])
        .arg(examples())
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exports"][0]["ok"], true);
    assert_eq!(v["exports"][1]["ok"], false);
    assert!(v["exports"][1]["error"]
        .as_str()
        .unwrap()
        .contains("daily_report_2026-03-10.json"));
}

#[test]
fn a_missing_metrics_file_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m");
    std::fs::create_dir(&metrics).unwrap();
    std::fs::copy(
        examples().join("bikes_metrics_2026-03-10.json"),
        metrics.join("bikes_metrics_2026-03-10.json"),
    )
    .unwrap();
    let assert = cityflow(dir.path(), &[])
        .args([
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--metrics-dir",
        ])
        .arg(&metrics)
        .assert()
        .success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("comptages_metrics_2026-03-10.json not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("weather_metrics_2026-03-10.json not found"),
        "{stderr}"
    );
    assert!(stderr.contains("WARN"), "{stderr}");
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    // `cityflow env | head -1`: the reader is gone before the command prints.
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cityflow"))
        .arg("env")
        .current_dir(dir.path())
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn backfill_on_aws_prints_the_state_machine_execution_for_any_range() {
    let dir = tempfile::tempdir().unwrap();
    let arn = "arn:aws:states:eu-west-3:123456789012:stateMachine:cityflow-backfill";
    let out = common::cityflow(dir.path(), &[("CITYFLOW_BACKFILL_STATE_MACHINE", arn)])
        .args([
            "--json",
            "backfill",
            "--aws",
            "--from",
            "2016-01-15",
            "--to",
            "2026-01-14",
        ])
        .assert()
        .success();
    let answer: serde_json::Value = serde_json::from_str(&common::stdout_of(&out)).unwrap();
    assert_eq!(answer["days"], 3653);
    assert_eq!(
        answer["months"], 121,
        "ten years from mid-month: 121 pieces"
    );
    let command = answer["command"].as_str().unwrap();
    assert!(command.starts_with(&format!(
        "aws stepfunctions start-execution --state-machine-arn {arn} "
    )));
    assert!(command.ends_with("--input '{\"from\":\"2016-01-15\",\"to\":\"2026-01-14\"}'"));

    for (args, says) in [
        (
            vec!["backfill", "--from", "2016-01-01", "--to", "2016-12-31"],
            "--aws",
        ),
        (
            vec![
                "backfill",
                "--aws",
                "--from",
                "2017-01-01",
                "--to",
                "2016-12-31",
            ],
            "after",
        ),
        (
            vec![
                "backfill",
                "--aws",
                "--from",
                "2016-02-30",
                "--to",
                "2016-12-31",
            ],
            "--from",
        ),
    ] {
        let out = common::cityflow(dir.path(), &[])
            .args(&args)
            .assert()
            .code(2);
        assert!(common::stderr_of(&out).contains(says), "{args:?}");
    }
    assert!(common::files_under(dir.path()).is_empty(), "writes nothing");
}
