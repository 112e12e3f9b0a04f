//! Building the SDK clients from an [`AwsConfig`], on first use.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::config::AwsConfig;

/// The shared SDK configuration: region, credentials, timeouts, retries.
pub(crate) async fn load(config: &AwsConfig) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.connect_timeout)
                .operation_attempt_timeout(config.attempt_timeout)
                .operation_timeout(config.operation_timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts));
    if let Some(c) = &config.credentials {
        loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            c.session_token.clone(),
            None,
            "cityflow-environment",
        ));
    }
    loader.load().await
}

pub(crate) async fn s3_client(config: &AwsConfig) -> aws_sdk_s3::Client {
    let sdk = load(config).await;
    let mut builder = aws_sdk_s3::config::Builder::from(&sdk);
    if let Some(endpoint) = config.s3_endpoint() {
        // Emulators answer on one host: virtual-host addressing (bucket.host) cannot work.
        builder = builder.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub(crate) async fn dynamodb_client(config: &AwsConfig) -> aws_sdk_dynamodb::Client {
    let sdk = load(config).await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(endpoint) = config.dynamodb_endpoint() {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}
