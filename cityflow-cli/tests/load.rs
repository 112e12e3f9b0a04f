//! Load: a 365-day backfill from the raw open-data CSV with `--jobs 8`, into MongoDB and S3
//! in one run and DynamoDB (CSV to files) in another, on the test servers. Every backend then
//! holds exactly the 365 days, each report equal to the one computed locally from the same
//! file, each CSV equal to its rendering. The speed (reports/s) is measured by
//! `bench/backfill.sh`, not asserted here.

mod common;

use cityflow_core::conformance::{service_endpoint, unique_name};
use common::{assert_backfill_matches_a_fresh_computation, cityflow};

#[test]
fn a_365_day_backfill_lands_once_per_day_on_every_backend() {
    let (Some(mongo), Some(s3), Some(dynamodb)) = (
        service_endpoint("MONGODB_TEST_URL"),
        service_endpoint("S3_TEST_ENDPOINT_URL"),
        service_endpoint("DYNAMODB_TEST_ENDPOINT_URL"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("year.csv.gz");
    cityflow(dir.path(), &[])
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--arcs",
            "40",
            "--seed",
            "365",
            "--out",
        ])
        .arg(&input)
        .assert()
        .success();

    let output_dir = dir.path().join("output").display().to_string();
    let database = unique_name("cityflow-load");
    let bucket = unique_name("cityflow-load");
    let table = unique_name("cityflow-load");
    let common_vars = [
        ("OUTPUT_DIR", output_dir.as_str()),
        ("AWS_ENDPOINT_URL_S3", s3.as_str()),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("S3_REPORTS_BUCKET", bucket.as_str()),
        ("DYNAMODB_REPORTS_TABLE", table.as_str()),
        ("MONGODB_URL", mongo.as_str()),
        ("MONGODB_DATABASE", database.as_str()),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = common_vars.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let mongo_and_s3 = with(&[("DATABASE_TYPE", "mongodb"), ("USE_S3", "true")]);
    let dynamodb_and_files = with(&[("DATABASE_TYPE", "dynamodb")]);

    for vars in [&mongo_and_s3, &dynamodb_and_files] {
        cityflow(dir.path(), vars).arg("setup").assert().success();
        let out = cityflow(dir.path(), vars)
            .args([
                "report",
                "generate",
                "--all",
                "--jobs",
                "8",
                "--json",
                "--comptages",
            ])
            .arg(&input)
            .assert()
            .success();
        let summary: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let exports = summary["exports"].as_array().unwrap();
        assert_eq!(exports.len(), 365);
        assert!(exports
            .iter()
            .all(|e| e["csv"]["ok"] == true && e["json"]["ok"] == true));
        assert!(summary["reports_per_second"].as_f64().unwrap() > 0.0);
    }

    for vars in [&mongo_and_s3, &dynamodb_and_files] {
        assert_backfill_matches_a_fresh_computation(&input, vars, 365);
    }
}
