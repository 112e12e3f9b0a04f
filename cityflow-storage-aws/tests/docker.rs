//! The same checks against LocalStack in a container (S3 and DynamoDB), with testcontainers.
//!
//! Needs a Docker engine, which the project's own machines do not have, so these tests are
//! behind the cargo feature `docker-tests` *and* ignored by default:
//!
//! ```sh
//! cargo test -p cityflow-storage-aws --features docker-tests -- --ignored
//! ```
#![cfg(feature = "docker-tests")]

use cityflow_core::conformance::{
    blob_sink_suite, report_store_suite, require_docker, unique_name,
};
use cityflow_core::{BlobSink, ReportStore};
use cityflow_storage_aws::{AwsConfig, DynamoReportStore, S3BlobSink, StaticCredentials};
use testcontainers_modules::localstack::LocalStack;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::ImageExt;

/// Later tags need an auth token.
const LOCALSTACK_TAG: &str = "4.14";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: cargo test -p cityflow-storage-aws --features docker-tests -- --ignored"]
async fn localstack_container_conforms() {
    require_docker();
    let container = LocalStack::default()
        .with_tag(LOCALSTACK_TAG)
        .with_env_var("SERVICES", "s3,dynamodb")
        .start()
        .await
        .expect("start localstack (is DOCKER_HOST right?)");
    let port = container
        .get_host_port_ipv4(4566)
        .await
        .expect("mapped port");
    let mut config = AwsConfig::new(cityflow_core::AwsSettings::new("us-east-1"));
    config.endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    config.credentials = Some(StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
    });
    config.s3_bucket = unique_name("cityflow");
    config.dynamodb_table = unique_name("cityflow-reports");

    let sink = S3BlobSink::new(config.clone());
    sink.setup().await.unwrap();
    blob_sink_suite(&sink).await;
    let store = DynamoReportStore::new(config);
    store.setup().await.unwrap();
    report_store_suite(&store).await;
}
