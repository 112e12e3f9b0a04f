//! Helpers shared by the CLI tests.
#![allow(dead_code)] // each test file uses its own subset

pub mod server;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository's example metrics set (2026-03-10).
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/metrics")
}

/// The reviewed golden CSV of the example day, as exported where no earlier report is stored:
/// the golden file renders the report as generated (its evolution not computed), an export
/// says why there is no comparison.
pub fn golden_csv() -> String {
    include_str!("../../../cityflow-core/tests/golden/daily_report_2026-03-10.csv").replace(
        "Indisponible;non calculée : l'historique des rapports n'a pas été consulté",
        "Indisponible;aucun rapport pour le 2026-03-03",
    )
}

/// `cityflow` run in `dir` with only `vars` in its environment, so that neither the
/// developer's `.env` nor their variables leak in.
pub fn cityflow(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::cargo_bin("cityflow").unwrap();
    cmd.current_dir(dir).env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// Masks the number that follows each `key` (up to `unit`, or the end of the number).
pub fn mask_numbers_after(text: &str, key: &str, unit: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
            .unwrap_or(rest.len());
        if end > 0 && (unit.is_empty() || rest[end..].starts_with(unit)) {
            out.push('N');
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Every file below `dir` (recursively), sorted; none when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else if !is_summary_year_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A year file of a reports directory's summary index (`.summaries/daily_summaries_YYYY.jsonl`):
/// the index beside the reports, which the files store's own tests check. Left out of
/// [`files_under`]; anything else there (a pending marker, a staging file) is listed.
fn is_summary_year_file(path: &Path) -> bool {
    let in_index = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == ".summaries");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    in_index && name.starts_with("daily_summaries_") && name.ends_with(".jsonl")
}

/// The names of the files below `dir`, sorted.
pub fn file_names_under(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = files_under(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The configuration the tests use to read back what the CLI wrote to the emulators
/// (credentials are not checked by them).
pub fn emulator_aws_config(
    s3: &str,
    dynamodb: &str,
    bucket: &str,
    table: &str,
) -> cityflow_storage_aws::AwsConfig {
    let mut config =
        cityflow_storage_aws::AwsConfig::new(cityflow_storage_aws::AwsSettings::new("us-east-1"));
    config.endpoint_url_s3 = Some(s3.to_string());
    config.endpoint_url_dynamodb = Some(dynamodb.to_string());
    config.credentials = Some(cityflow_storage_aws::StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
    });
    config.s3_bucket = bucket.to_string();
    config.dynamodb_table = table.to_string();
    config
}

/// The variables that point the CLI at the S3 and DynamoDB emulators, with a bucket and a
/// table of its own (emulators accept any credentials). The mode variable is the caller's.
pub fn emulator_vars<'a>(
    s3: &'a str,
    dynamodb: &'a str,
    bucket: &'a str,
    table: &'a str,
) -> [(&'static str, &'a str); 6] {
    [
        ("AWS_ENDPOINT_URL_S3", s3),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret"),
        ("S3_REPORTS_BUCKET", bucket),
        ("DYNAMODB_REPORTS_TABLE", table),
    ]
}

/// A loopback port where nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
pub mod proxy;

/// Reads back, through the factory configured by `vars` (as a service linking the crates
/// would), what a backfill of `input` into an empty store exported: the stored dates are
/// exactly the file's days, `days` of them, each report equals a fresh computation from
/// `input` — its week-over-week comparison made with the other days of the file, since the
/// store held nothing before — and each CSV equals its rendering, one per day.
pub fn assert_backfill_matches_a_fresh_computation(
    input: &Path,
    vars: &[(&str, &str)],
    days: usize,
) {
    use cityflow_core::{render_csv, BlobKey, DateRange};

    let fresh = cityflow_ingest::ingest(
        input,
        cityflow_ingest::DaySelection::All,
        2,
        &cityflow_ingest::NoProgress,
    )
    .unwrap();
    assert_eq!(fresh.days.len(), days);
    let env: std::collections::BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = cityflow_storage::StorageConfig::from_env(&env).unwrap();
    let label = format!("{} + {}", config.csv_target(), config.json_target());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let storage = cityflow_storage::build(&config).await.unwrap();
        let dates = storage.reports.list(DateRange::ALL).await.unwrap();
        assert_eq!(dates, fresh.days, "{label}: the {days} days, once each");
        let csv_count = storage
            .blobs
            .list("")
            .await
            .unwrap()
            .iter()
            .filter(|k| k.as_str().ends_with(".csv"))
            .count();
        assert_eq!(csv_count, days, "{label}: one CSV per day");
        use cityflow_core::evolution::{previous_weeks, PastWeek, WeekFigures};
        let figures: std::collections::HashMap<_, _> = fresh
            .days
            .iter()
            .map(|d| {
                let report = fresh.report(*d, cityflow_core::Timestamp::now());
                (*d, std::sync::Arc::new(WeekFigures::of(&report)))
            })
            .collect();
        for date in &fresh.days {
            let stored = storage.reports.get(*date).await.unwrap();
            let mut expected = fresh.report(*date, stored.report.generated_at);
            let weeks = previous_weeks(*date).map(|d| match figures.get(&d) {
                Some(f) => PastWeek::Found(f.clone()),
                None => PastWeek::Missing,
            });
            expected.evolution_vs_semaine_precedente =
                cityflow_core::Evolution::compute(&expected, &weeks);
            assert_eq!(stored.report, expected, "{label}: {date}");
            let csv = storage
                .blobs
                .get(&BlobKey::report_csv(*date))
                .await
                .unwrap();
            assert_eq!(
                std::str::from_utf8(&csv).unwrap(),
                render_csv(&expected),
                "{label}: CSV of {date}"
            );
        }
    });
}
