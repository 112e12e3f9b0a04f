//! The same checks against a real MongoDB (`mongo:8.0`) in a container, with testcontainers.
//!
//! Needs a Docker engine, which the project's own machines do not have, so these tests are
//! behind the cargo feature `docker-tests` *and* ignored by default:
//!
//! ```sh
//! cargo test -p cityflow-storage-mongo --features docker-tests -- --ignored
//! ```
#![cfg(feature = "docker-tests")]

use cityflow_core::conformance::{report_store_suite, require_docker, unique_name};
use cityflow_storage_mongo::{MongoConfig, MongoReportStore};
use testcontainers_modules::mongo::Mongo;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::ImageExt;

/// The module's default tag is years old; the seed's server is MongoDB 8.
const MONGO_TAG: &str = "8.0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: cargo test -p cityflow-storage-mongo --features docker-tests -- --ignored"]
async fn real_mongo_container_conforms() {
    require_docker();
    let container = Mongo::default()
        .with_tag(MONGO_TAG)
        .start()
        .await
        .expect("start mongo:8.0 (is DOCKER_HOST right?)");
    let port = container
        .get_host_port_ipv4(27017)
        .await
        .expect("mapped port");
    let url = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let store = MongoReportStore::new(MongoConfig::new(url, unique_name("cityflow-test")));
    report_store_suite(&store).await;
    let setup = store.ensure_indexes().await.unwrap();
    assert!(
        setup.created.is_empty(),
        "indexes were created on first use"
    );
}
