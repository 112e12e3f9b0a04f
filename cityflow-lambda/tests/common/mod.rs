//! Helpers shared by the function's tests against the test servers.
#![allow(dead_code)] // each test file uses its own subset

pub mod emulator;

use std::path::PathBuf;

use bytes::Bytes;
use cityflow_core::{BlobKey, BlobSink};
use cityflow_storage_aws::{AwsConfig, AwsSettings, S3BlobSink, StaticCredentials};
use serde_json::{json, Value};

/// The old tool's real files, beside the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/cityflow-original")
}

/// The emulators' settings for `bucket` and `table` (credentials are not checked there).
pub fn emulator_settings(s3: &str, dynamodb: &str, bucket: &str, table: &str) -> AwsSettings {
    let mut settings = AwsSettings::new("us-east-1");
    settings.endpoint_url_s3 = Some(s3.into());
    settings.endpoint_url_dynamodb = Some(dynamodb.into());
    settings.credentials = Some(StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
    });
    settings.s3_bucket = bucket.into();
    settings.dynamodb_table = table.into();
    settings
}

/// Writes `bytes` at `s3://<settings' bucket>/key`.
pub async fn upload(settings: &AwsSettings, key: &str, bytes: Vec<u8>) {
    let mut settings = settings.clone();
    settings.s3_prefix = String::new();
    S3BlobSink::new(AwsConfig::new(settings))
        .put(
            &BlobKey::new(key).unwrap(),
            Bytes::from(bytes),
            "application/octet-stream",
        )
        .await
        .unwrap();
}

/// Uploads `examples/raw/` (the old tool's raw layout of 2026-03-10, fetched on the 11th)
/// under `raw/`, as its pipeline left it in S3; returns the keys.
pub async fn upload_raw_examples(settings: &AwsSettings) -> Vec<String> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/raw");
    let mut pending = vec![root.clone()];
    let mut keys = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                let key = format!("raw/{rel}");
                upload(settings, &key, std::fs::read(&path).unwrap()).await;
                keys.push(key);
            }
        }
    }
    keys.sort();
    keys
}

/// Uploads the fixture day's metrics (2025-11-04; its comptages file is absent) under
/// `metrics/`.
pub async fn upload_fixture_day(settings: &AwsSettings) {
    for kind in ["bikes", "weather", "chantiers", "traffic"] {
        let name = format!("{kind}_metrics_2025-11-04.json");
        let bytes = std::fs::read(fixtures().join(&name)).unwrap();
        upload(settings, &format!("metrics/{name}"), bytes).await;
    }
}

/// An S3 `ObjectCreated:Put` notification of `keys` (as S3 writes them: URL-encoded).
pub fn s3_event(bucket: &str, keys: &[&str]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|key| {
            json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2025-11-05T05:10:00.000Z", "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:EXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {},
                "s3": {"s3SchemaVersion": "1.0", "configurationId": "inputs",
                       "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                       "object": {"key": key, "size": 1}}
            })
        })
        .collect();
    json!({ "Records": records })
}

/// An EventBridge Scheduler event at `time`.
pub fn scheduled(time: &str) -> Value {
    json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.scheduler",
           "account": "123456789012", "time": time, "region": "us-east-1", "resources": [],
           "detail": {}})
}
