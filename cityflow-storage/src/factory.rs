//! From a [`StorageConfig`] to the store and sink implementations.

use std::sync::Arc;

use cityflow_core::{BlobSink, Error, InputLocation, InputSource, ReportStore, Result};
use cityflow_storage_fs::{FsBlobSink, FsInputSource, FsReportStore};

use crate::config::{CsvBackend, JsonBackend, Mode, StorageConfig};

/// The targets a report is exported to.
#[derive(Debug, Clone)]
pub struct Storage {
    pub mode: Mode,
    pub csv_backend: CsvBackend,
    pub json_backend: JsonBackend,
    /// Where the CSV goes.
    pub blobs: Arc<dyn BlobSink>,
    /// Where the JSON goes.
    pub reports: Arc<dyn ReportStore>,
    /// Where the maps of the days go (`daily_map_D.svg`), beside the CSV: `$OUTPUT_DIR/maps`
    /// when the CSV goes to files, the `maps` prefix beside the reports' in its bucket when it
    /// goes to S3.
    pub maps: Arc<dyn BlobSink>,
}

/// Builds the store and sink chosen by `config`.
///
/// Nothing is contacted here: backends connect on first use, with timeouts. A backend that
/// is not compiled into this build is a configuration error naming its cargo feature — never
/// a silent fallback to files.
pub async fn build(config: &StorageConfig) -> Result<Storage> {
    let blobs: Arc<dyn BlobSink> = match config.csv {
        CsvBackend::LocalDir => Arc::new(FsBlobSink::new(&config.fs.reports_dir)),
        CsvBackend::S3 => s3_sink(config)?,
    };
    let maps: Arc<dyn BlobSink> = match config.csv {
        CsvBackend::LocalDir => Arc::new(FsBlobSink::new(&config.fs.maps_dir)),
        CsvBackend::S3 => s3_maps_sink(config)?,
    };
    let reports: Arc<dyn ReportStore> = match config.json {
        JsonBackend::File => Arc::new(FsReportStore::new(&config.fs.reports_dir)),
        JsonBackend::MongoDb => mongo_store(config)?,
        JsonBackend::DynamoDb => dynamodb_store(config)?,
    };
    Ok(Storage {
        mode: config.mode,
        csv_backend: config.csv,
        json_backend: config.json,
        blobs,
        reports,
        maps,
    })
}

/// Where to read inputs at `location`: a directory, or an S3 prefix reached with the same
/// AWS settings as the sinks (endpoints, credentials, region, timeouts). `label` says what
/// the location holds, for messages about a directory (`metrics directory`). Nothing is
/// contacted here.
pub fn input_source(
    config: &StorageConfig,
    location: &InputLocation,
    label: &'static str,
) -> Result<Arc<dyn InputSource>> {
    match location {
        InputLocation::Dir(dir) => Ok(Arc::new(FsInputSource::new(dir, label))),
        InputLocation::S3 { bucket, prefix } => s3_source(config, bucket, prefix, location),
    }
}

#[cfg(feature = "aws")]
fn s3_source(
    config: &StorageConfig,
    bucket: &str,
    prefix: &str,
    _location: &InputLocation,
) -> Result<Arc<dyn InputSource>> {
    Ok(Arc::new(cityflow_storage_aws::S3InputSource::new(
        aws_config(config),
        bucket,
        prefix,
    )))
}

#[cfg(not(feature = "aws"))]
fn s3_source(
    _config: &StorageConfig,
    _bucket: &str,
    _prefix: &str,
    location: &InputLocation,
) -> Result<Arc<dyn InputSource>> {
    Err(not_compiled("S3 (inputs)", "aws", &location.to_string()))
}

#[cfg(feature = "mongo")]
fn mongo_store(config: &StorageConfig) -> Result<Arc<dyn ReportStore>> {
    use cityflow_storage_mongo::{MongoConfig, MongoReportStore};
    let mut mongo = MongoConfig::new(&config.mongo.url, &config.mongo.database);
    mongo.timeout = config.mongo.timeout;
    mongo.max_attempts = config.mongo.max_attempts;
    Ok(Arc::new(MongoReportStore::new(mongo)))
}

#[cfg(not(feature = "mongo"))]
fn mongo_store(_config: &StorageConfig) -> Result<Arc<dyn ReportStore>> {
    Err(not_compiled(
        "MongoDB (JSON export)",
        "mongo",
        "DATABASE_TYPE=mongodb",
    ))
}

#[cfg(feature = "aws")]
fn aws_config(config: &StorageConfig) -> cityflow_storage_aws::AwsConfig {
    cityflow_storage_aws::AwsConfig::new(config.aws.clone())
}

#[cfg(feature = "aws")]
fn s3_sink(config: &StorageConfig) -> Result<Arc<dyn BlobSink>> {
    Ok(Arc::new(cityflow_storage_aws::S3BlobSink::new(aws_config(
        config,
    ))))
}

/// The maps' sink: the reports' bucket, with the prefix `maps` beside the reports' prefix
/// (`reports` → `maps`, `daily/reports` → `daily/maps`).
#[cfg(feature = "aws")]
fn s3_maps_sink(config: &StorageConfig) -> Result<Arc<dyn BlobSink>> {
    let mut settings = config.aws.clone();
    settings.s3_prefix = config.maps_prefix();
    Ok(Arc::new(cityflow_storage_aws::S3BlobSink::new(
        cityflow_storage_aws::AwsConfig::new(settings),
    )))
}

#[cfg(not(feature = "aws"))]
fn s3_maps_sink(config: &StorageConfig) -> Result<Arc<dyn BlobSink>> {
    Err(not_compiled("S3 (maps)", "aws", &why_s3(config)))
}

#[cfg(not(feature = "aws"))]
fn s3_sink(config: &StorageConfig) -> Result<Arc<dyn BlobSink>> {
    Err(not_compiled("S3 (CSV export)", "aws", &why_s3(config)))
}

#[cfg(feature = "aws")]
fn dynamodb_store(config: &StorageConfig) -> Result<Arc<dyn ReportStore>> {
    Ok(Arc::new(cityflow_storage_aws::DynamoReportStore::new(
        aws_config(config),
    )))
}

#[cfg(not(feature = "aws"))]
fn dynamodb_store(config: &StorageConfig) -> Result<Arc<dyn ReportStore>> {
    Err(not_compiled(
        "DynamoDB (JSON export)",
        "aws",
        &why_dynamodb(config),
    ))
}

#[cfg_attr(feature = "aws", allow(dead_code))]
fn why_s3(config: &StorageConfig) -> String {
    match config.mode {
        Mode::Aws => format!("AWS mode ({})", config.mode_reason),
        Mode::Local => "USE_S3=true".into(),
    }
}

#[cfg_attr(feature = "aws", allow(dead_code))]
fn why_dynamodb(config: &StorageConfig) -> String {
    match config.mode {
        Mode::Aws => format!("AWS mode ({})", config.mode_reason),
        Mode::Local => "DATABASE_TYPE=dynamodb or USE_DYNAMODB=true".into(),
    }
}

#[cfg_attr(all(feature = "aws", feature = "mongo"), allow(dead_code))]
fn not_compiled(backend: &str, feature: &str, because: &str) -> Error {
    Error::config(
        because,
        format!(
            "the {backend} backend is not part of this build; rebuild with cargo feature \
             `{feature}` of cityflow-storage, or change the configuration"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvMap;
    use cityflow_core::ErrorKind;

    fn config(pairs: &[(&str, &str)]) -> StorageConfig {
        let env: EnvMap = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StorageConfig::from_env(&env).unwrap()
    }

    #[tokio::test]
    async fn the_default_builds_file_backends() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let s = build(&config(&[("OUTPUT_DIR", out.to_str().unwrap())]))
            .await
            .unwrap();
        assert_eq!(s.mode, Mode::Local);
        assert!(s.blobs.describe().contains("out/reports"));
        assert!(s.reports.describe().contains("out/reports"));
        // Building touches nothing.
        assert!(!out.exists());
    }

    #[cfg(feature = "mongo")]
    #[tokio::test]
    async fn mongodb_builds_without_contacting_the_server() {
        // Nothing listens on port 9 of loopback; building must not notice.
        let s = build(&config(&[
            ("DATABASE_TYPE", "mongodb"),
            ("MONGODB_URL", "mongodb://u:secret-pw@127.0.0.1:9/"),
        ]))
        .await
        .unwrap();
        assert_eq!(s.json_backend, JsonBackend::MongoDb);
        assert!(s.reports.describe().contains("u:***@127.0.0.1:9"));
        assert!(!format!("{:?}", s.reports).contains("secret-pw"));
    }

    #[cfg(feature = "aws")]
    #[tokio::test]
    async fn aws_mode_builds_s3_and_dynamodb_without_contacting_them() {
        let s = build(&config(&[
            ("AWS_EXECUTION_ENV", "AWS_Lambda_rust"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("S3_REPORTS_BUCKET", "my-bucket"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "canary-secret"),
        ]))
        .await
        .unwrap();
        assert_eq!(s.mode, Mode::Aws);
        assert_eq!(
            s.blobs.location(&cityflow_core::BlobKey::report_csv(
                "2025-11-04".parse().unwrap()
            )),
            "s3://my-bucket/reports/daily_report_2025-11-04.csv"
        );
        assert!(s
            .reports
            .describe()
            .contains("DynamoDB table cityflow-daily-reports"));
        assert!(!format!("{:?} {:?}", s.blobs, s.reports).contains("canary-secret"));
    }

    #[tokio::test]
    async fn a_backend_not_compiled_in_is_an_error_naming_the_feature() {
        let mut cases = Vec::new();
        if !cfg!(feature = "aws") {
            cases.push((vec![("DATABASE_TYPE", "dynamodb")], "`aws`"));
            cases.push((vec![("USE_S3", "true")], "`aws`"));
            cases.push((vec![("AWS_EXECUTION_ENV", "AWS_Lambda_rust")], "`aws`"));
        }
        if !cfg!(feature = "mongo") {
            cases.push((vec![("DATABASE_TYPE", "mongodb")], "`mongo`"));
        }
        for (pairs, feature) in cases {
            let err = build(&config(&pairs)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(err.to_string().contains(feature), "{pairs:?}: {err}");
        }
    }
}
