//! Guarantees users rely on when this runs unattended: idempotent re-runs, no partial
//! files, no secret in any output, nothing written by a dry run.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use cityflow_core::conformance::service_endpoint;
use common::{
    assert_backfill_matches_a_fresh_computation, cityflow, closed_port, emulator_aws_config,
    examples, file_names_under, golden_csv, stderr_of, stdout_of,
};

/// 8 concurrent `cityflow report generate` for one date.
fn generate_8_at_once(dir: &Path, vars: &[(&str, &str)]) {
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("cityflow"));
            cmd.current_dir(dir)
                .env_clear()
                .envs(vars.iter().copied())
                .args([
                    "report",
                    "generate",
                    "--date",
                    "2026-03-10",
                    "--metrics-dir",
                ])
                .arg(examples())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn eight_concurrent_runs_leave_one_csv_and_one_json() {
    let dir = tempfile::tempdir().unwrap();
    generate_8_at_once(dir.path(), &[]);
    assert_eq!(
        file_names_under(&dir.path().join("output")),
        [
            "daily_report_2026-03-10.csv",
            "daily_report_2026-03-10.json"
        ],
        "no second copy, no staging file left"
    );
    assert_eq!(
        std::fs::read_to_string(
            dir.path()
                .join("output/reports/daily_report_2026-03-10.csv")
        )
        .unwrap(),
        golden_csv()
    );
}

#[test]
fn eight_concurrent_runs_leave_one_document_in_mongodb() {
    let Some(url) = service_endpoint("MONGODB_TEST_URL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = cityflow_core::conformance::unique_name("cityflow-rel");
    let vars = [
        ("DATABASE_TYPE", "mongodb"),
        ("MONGODB_URL", url.as_str()),
        ("MONGODB_DATABASE", db.as_str()),
    ];
    generate_8_at_once(dir.path(), &vars);
    cityflow(dir.path(), &vars)
        .args(["report", "list"])
        .assert()
        .success()
        .stdout("2026-03-10\n");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let count = rt.block_on(async {
        let client = mongodb::Client::with_uri_str(&url).await.unwrap();
        client
            .database(&db)
            .collection::<mongodb::bson::Document>("reports")
            .count_documents(mongodb::bson::doc! {})
            .await
            .unwrap()
    });
    assert_eq!(count, 1);
}

#[test]
fn eight_concurrent_runs_leave_one_item_and_one_object_in_aws() {
    let (Some(s3), Some(dynamodb)) = (
        service_endpoint("S3_TEST_ENDPOINT_URL"),
        service_endpoint("DYNAMODB_TEST_ENDPOINT_URL"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bucket = cityflow_core::conformance::unique_name("cityflow-rel");
    let table = cityflow_core::conformance::unique_name("cityflow-rel");
    let vars = [
        [("AWS_EXECUTION_ENV", "AWS_Lambda_rust")].as_slice(),
        &common::emulator_vars(&s3, &dynamodb, &bucket, &table),
    ]
    .concat();
    cityflow(dir.path(), &vars).arg("setup").assert().success();
    generate_8_at_once(dir.path(), &vars);
    cityflow(dir.path(), &vars)
        .args(["report", "list"])
        .assert()
        .success()
        .stdout("2026-03-10\n");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use cityflow_core::BlobSink;
        let config = emulator_aws_config(&s3, &dynamodb, &bucket, &table);
        let keys = cityflow_storage_aws::S3BlobSink::new(config)
            .list("")
            .await
            .unwrap();
        assert_eq!(keys.len(), 1, "{keys:?}");
    });
}

/// A process killed (SIGKILL) while writing leaves the previous complete files, never a
/// truncated one.
#[cfg(unix)]
#[test]
fn sigkill_during_a_large_export_never_leaves_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("metrics");
    std::fs::create_dir(&metrics).unwrap();
    // ~20 MB of chantiers: writing takes long enough to be interrupted.
    let chantiers: Vec<serde_json::Value> = (0..150_000)
        .map(|i| serde_json::json!({"identifiant": format!("CP{i:07}"), "typologie": "2", "impact": "RESTREINTE", "arrondissement": "75012"}))
        .collect();
    std::fs::write(
        metrics.join("chantiers_metrics_2026-03-10.json"),
        serde_json::to_vec(&serde_json::json!({"chantiers_actifs": chantiers})).unwrap(),
    )
    .unwrap();
    let run = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("cityflow"));
        cmd.current_dir(dir.path())
            .env_clear()
            .args([
                "report",
                "generate",
                "--date",
                "2026-03-10",
                "--metrics-dir",
            ])
            .arg(&metrics)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    assert!(run().status().unwrap().success());
    let csv_path = dir
        .path()
        .join("output/reports/daily_report_2026-03-10.csv");
    let json_path = dir
        .path()
        .join("output/reports/daily_report_2026-03-10.json");
    let complete_csv = std::fs::read(&csv_path).unwrap();
    let mut killed = 0;
    for i in 0..12u64 {
        let mut child = run().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(20 + i * 25));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            killed += 1;
        }
        child.wait().unwrap();
        assert_eq!(
            std::fs::read(&csv_path).unwrap(),
            complete_csv,
            "run {i}: CSV whole"
        );
        let json = std::fs::read(&json_path).unwrap();
        let stored: cityflow_core::StoredReport = serde_json::from_slice(&json)
            .unwrap_or_else(|e| panic!("run {i}: the JSON is not whole: {e}"));
        assert_eq!(stored.report.chantiers_actifs.len(), 150_000);
    }
    assert!(
        killed > 0,
        "no run was interrupted: the test proved nothing"
    );

    // What the killed runs left: staging files. Aged past the longest write (their writers
    // are gone), the next run removes them; a young one, or one of a running process,
    // stays.
    let reports = dir.path().join("output/reports");
    let staging = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&reports)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.') && n.ends_with(".cityflow-tmp"))
            })
            .collect()
    };
    let mut left = staging();
    eprintln!(
        "{} staging file(s) left by {killed} killed runs",
        left.len()
    );
    // The kills do not always land inside a write: one more, as a killed run leaves it (its
    // process gone: a child that ran and exited).
    let gone = std::process::Command::new("true")
        .spawn()
        .and_then(|mut c| c.wait().map(|_| c.id()))
        .unwrap();
    let stale = reports.join(format!(
        ".daily_report_2026-03-10.json.{gone}.0.cityflow-tmp"
    ));
    std::fs::write(&stale, b"half a report").unwrap();
    left.push(stale);
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    for file in &left {
        std::fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    // A young one of a killed writer: not touched (the age condition).
    let young = reports.join(".daily_report_2026-03-09.csv.4194303.0.cityflow-tmp");
    std::fs::write(&young, b"being written").unwrap();
    assert!(run().status().unwrap().success());
    assert_eq!(
        staging(),
        vec![young],
        "the stale staging files are gone, the young one stays"
    );
}

#[test]
fn secrets_never_appear_in_any_output() {
    const PASSWORD: &str = "canary-mongo-pw-31337";
    const SECRET: &str = "canary-aws-secret-27182";
    const TOKEN: &str = "canary-aws-token-16180";
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let mongo_url = format!(
        "mongodb://cityflow:{PASSWORD}@127.0.0.1:{port}/?directConnection=true&authSource=admin"
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let base = [
        ("MONGODB_URL", mongo_url.as_str()),
        ("MONGODB_TIMEOUT_MS", "500"),
        ("AWS_ACCESS_KEY_ID", "AKIDCANARY"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", TOKEN),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("LOG_LEVEL", "trace"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let ex = examples().display().to_string();
    let one_day = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad-inputs/comptages/one-day.csv")
        .display()
        .to_string();
    // (environment, arguments)
    type Run<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let runs: Vec<Run> = vec![
        (with(&[("DATABASE_TYPE", "mongodb")]), vec!["env"]),
        (with(&[("DATABASE_TYPE", "mongodb")]), vec!["env", "--json"]),
        (
            with(&[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")]),
            vec!["env"],
        ),
        (
            with(&[("DATABASE_TYPE", "mongodb")]),
            vec![
                "report",
                "generate",
                "--date",
                "2026-03-10",
                "--metrics-dir",
                &ex,
            ],
        ),
        (
            with(&[("DATABASE_TYPE", "mongodb")]),
            vec![
                "report",
                "generate",
                "--json",
                "--date",
                "2026-03-10",
                "--metrics-dir",
                &ex,
            ],
        ),
        (
            with(&[("DATABASE_TYPE", "mongodb")]),
            vec!["report", "list"],
        ),
        (
            with(&[("DATABASE_TYPE", "mongodb")]),
            vec!["report", "show", "--date", "2026-03-10"],
        ),
        (
            with(&[("DATABASE_TYPE", "mongodb")]),
            vec!["setup", "--json"],
        ),
        (
            with(&[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")]),
            vec![
                "report",
                "generate",
                "--date",
                "2026-03-10",
                "--metrics-dir",
                &ex,
            ],
        ),
        (
            with(&[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")]),
            vec!["report", "list", "--json"],
        ),
        (
            with(&[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")]),
            vec!["setup"],
        ),
        (
            with(&[
                ("DATABASE_TYPE", "mongodb"),
                ("MONGODB_URL", "bogus://u:canary-mongo-pw-31337@h/"),
            ]),
            vec!["env"],
        ),
        (
            with(&[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")]),
            vec![
                "report",
                "generate",
                "--dry-run",
                "--date",
                "2026-03-10",
                "--metrics-dir",
                &ex,
            ],
        ),
        (
            with(&[("DATABASE_TYPE", "mongodb"), ("USE_S3", "true")]),
            vec![
                "report",
                "generate",
                "--all",
                "--json",
                "--comptages",
                &one_day,
            ],
        ),
        (
            with(&[("AWS_EXECUTION_ENV", "AWS_Lambda_rust")]),
            vec!["report", "generate", "--all", "--comptages", &one_day],
        ),
    ];
    for (vars, args) in runs {
        let assert = cityflow(dir.path(), &vars).args(&args).assert();
        let all = format!("{}{}", stdout_of(&assert), stderr_of(&assert));
        for canary in [PASSWORD, SECRET, TOKEN] {
            assert!(!all.contains(canary), "{args:?} printed a secret:\n{all}");
        }
    }
}

#[test]
fn a_dry_run_computes_everything_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout_of(
        &cityflow(dir.path(), &[])
            .args([
                "report",
                "generate",
                "--dry-run",
                "--date",
                "2026-03-10",
                "--metrics-dir",
            ])
            .arg(examples())
            .assert()
            .success(),
    );
    assert!(
        out.contains("CSV → output/reports/daily_report_2026-03-10.csv"),
        "{out}"
    );
    // A bad input is still found.
    cityflow(dir.path(), &[])
        .args([
            "report",
            "generate",
            "--dry-run",
            "--date",
            "2026-03-10",
            "--metrics-dir",
            "nowhere",
        ])
        .assert()
        .code(2);
    let sim = dir.path().join("s.csv");
    cityflow(dir.path(), &[])
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-11-03",
            "--to",
            "2025-11-04",
            "--arcs",
            "5",
            "--seed",
            "1",
            "--out",
        ])
        .arg(&sim)
        .assert()
        .success();
    let out = stdout_of(
        &cityflow(dir.path(), &[])
            .args(["report", "generate", "--dry-run", "--all", "--comptages"])
            .arg(&sim)
            .assert()
            .success(),
    );
    assert!(
        out.contains("2025-11-04  CSV → output/reports/daily_report_2025-11-04.csv"),
        "{out}"
    );
    assert_eq!(file_names_under(dir.path()), ["s.csv"]);
}

/// A listening socket that accepts connections and never answers, for `seconds` at most.
fn silent_server(seconds: u64) -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        let mut held = Vec::new();
        while std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((socket, _)) => held.push(socket), // keep it open, say nothing
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (port, handle)
}

#[test]
fn a_server_that_never_answers_fails_within_15_s() {
    let (port, server) = silent_server(60);
    let dir = tempfile::tempdir().unwrap();
    let mongo = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let endpoint = format!("http://127.0.0.1:{port}");
    // (environment, the failed export's line, the other export's line)
    for (vars, failed, done) in [
        (
            vec![
                ("DATABASE_TYPE", "mongodb"),
                ("MONGODB_URL", mongo.as_str()),
            ],
            "✗ Échec de l'export JSON vers MONGODB",
            "✓ Rapport CSV:",
        ),
        (
            vec![
                ("DATABASE_TYPE", "dynamodb"),
                ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
            ],
            "✗ Échec de l'export JSON vers DYNAMODB",
            "✓ Rapport CSV:",
        ),
        (
            vec![
                ("USE_S3", "true"),
                ("AWS_ENDPOINT_URL_S3", endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
            ],
            "✗ Échec de l'export CSV",
            "✓ Rapport JSON exporté vers FILE",
        ),
    ] {
        let started = std::time::Instant::now();
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
            .code(1);
        let elapsed = started.elapsed();
        let out = stdout_of(&assert);
        assert!(out.contains(done), "{failed}: {out}");
        assert!(out.contains(failed), "{out}");
        assert!(
            out.contains(&format!("127.0.0.1:{port}")),
            "names the target: {out}"
        );
        assert!(
            elapsed < Duration::from_secs(15),
            "{failed} took {elapsed:?}"
        );
    }
    drop(server); // the thread ends by itself at its deadline
}

/// A multi-day export killed halfway, then run again: every day present once, each equal to
/// a fresh computation. The CSV goes to files (whose count tells when to kill); the JSON to
/// the store `vars` select, read back through the factory.
#[cfg(unix)]
fn killed_backfill_then_rerun(vars: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    cityflow(dir.path(), &[])
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-10-01",
            "--to",
            "2025-10-30",
            "--arcs",
            "300",
            "--seed",
            "4",
            "--out",
        ])
        .arg(&input)
        .assert()
        .success();
    let output_dir = dir.path().join("output");
    let output_dir_text = output_dir.display().to_string();
    let mut vars = vars.to_vec();
    vars.push(("OUTPUT_DIR", output_dir_text.as_str()));
    let reports = output_dir.join("reports");
    let generate = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("cityflow"));
        cmd.current_dir(dir.path())
            .env_clear()
            .envs(vars.iter().copied())
            .args(["report", "generate", "--all", "--jobs", "2", "--comptages"])
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let csv_done = |names: &[String]| {
        names
            .iter()
            .filter(|n| n.ends_with(".csv") && !n.starts_with('.'))
            .count()
    };
    cityflow(dir.path(), &vars).arg("setup").assert().success();
    let mut child = generate().spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // Kill once some, not all, days are out.
    loop {
        let n = csv_done(&file_names_under(&reports));
        if n >= 3 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill = csv_done(&file_names_under(&reports));
    assert!(
        after_kill < 30,
        "the kill came too late to prove anything ({after_kill} days out)"
    );

    assert!(generate().status().unwrap().success());

    assert_backfill_matches_a_fresh_computation(&input, &vars, 30);
    let csv_names: Vec<String> = file_names_under(&reports)
        .into_iter()
        .filter(|n| !n.starts_with('.') && n.ends_with(".csv"))
        .collect();
    assert_eq!(csv_names.len(), 30, "one CSV per day: {csv_names:?}");
}

#[cfg(unix)]
#[test]
fn a_backfill_killed_halfway_then_rerun_is_complete_and_correct() {
    killed_backfill_then_rerun(&[]);
}

#[cfg(unix)]
#[test]
fn a_backfill_into_mongodb_killed_halfway_then_rerun_is_complete_and_correct() {
    let Some(url) = service_endpoint("MONGODB_TEST_URL") else {
        return;
    };
    let db = cityflow_core::conformance::unique_name("cityflow-kill");
    killed_backfill_then_rerun(&[
        ("DATABASE_TYPE", "mongodb"),
        ("MONGODB_URL", url.as_str()),
        ("MONGODB_DATABASE", db.as_str()),
    ]);
}
