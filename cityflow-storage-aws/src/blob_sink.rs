//! The CSV (and any blob) in S3.

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;
use cityflow_core::{BlobKey, BlobSink, Error, Result, SetupAction};
use tokio::sync::OnceCell;

use crate::config::AwsConfig;
use crate::error::Failing;
use crate::sdk;

/// A [`BlobSink`] on an S3 bucket, keys under the configured prefix. Cheap to construct: the
/// SDK is configured on first use.
pub struct S3BlobSink {
    config: AwsConfig,
    secrets: Vec<String>,
    client: OnceCell<aws_sdk_s3::Client>,
}

impl std::fmt::Debug for S3BlobSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl S3BlobSink {
    pub fn new(config: AwsConfig) -> Self {
        S3BlobSink {
            secrets: config.secrets(),
            config,
            client: OnceCell::new(),
        }
    }

    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    async fn client(&self) -> &aws_sdk_s3::Client {
        self.client
            .get_or_init(|| sdk::s3_client(&self.config))
            .await
    }

    fn failing(&self) -> Failing<'_> {
        Failing {
            target: self.describe(),
            resource_variable: "S3_REPORTS_BUCKET",
            secrets: &self.secrets,
        }
    }

    /// The full object key of `key`: `prefix/key`.
    fn object_key(&self, key: &str) -> String {
        if self.config.s3_prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.config.s3_prefix)
        }
    }

    /// Maps an error, recognising a missing bucket.
    fn error<E, R>(&self, e: aws_sdk_s3::error::SdkError<E, R>, what: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        if e.code() == Some("NoSuchBucket") {
            return self.failing().missing_resource(what);
        }
        self.failing().map(e, what)
    }
}

#[async_trait]
impl BlobSink for S3BlobSink {
    async fn put(&self, key: &BlobKey, bytes: Bytes, content_type: &str) -> Result<String> {
        let object_key = self.object_key(key.as_str());
        // S3 stores an object whole or not at all: a failed upload leaves the previous one.
        self.client()
            .await
            .put_object()
            .bucket(&self.config.s3_bucket)
            .key(&object_key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| self.error(e, &format!("write {object_key} (s3:PutObject)")))?;
        Ok(self.location(key))
    }

    async fn get(&self, key: &BlobKey) -> Result<Bytes> {
        let object_key = self.object_key(key.as_str());
        let what = format!("read {object_key} (s3:GetObject)");
        let output = match self
            .client()
            .await
            .get_object()
            .bucket(&self.config.s3_bucket)
            .key(&object_key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.code() == Some("NoSuchKey") => {
                return Err(Error::not_found(self.describe(), key.to_string()))
            }
            Err(e) => return Err(self.error(e, &what)),
        };
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| Error::Unavailable {
                target: self.describe(),
                message: format!("the download of {object_key} was cut: {e}"),
                source: None,
            })?;
        Ok(body.into_bytes())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>> {
        let full_prefix = self.object_key(prefix);
        let strip = if self.config.s3_prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.config.s3_prefix)
        };
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        // Every page: S3 returns at most 1000 keys per call.
        loop {
            let page = self
                .client()
                .await
                .list_objects_v2()
                .bucket(&self.config.s3_bucket)
                .prefix(&full_prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.error(e, &format!("list {full_prefix} (s3:ListBucket)")))?;
            for object in page.contents() {
                if let Some(k) = object.key().and_then(|k| k.strip_prefix(&strip)) {
                    // Objects written by others may not be valid keys for us: skip them.
                    if let Ok(k) = BlobKey::new(k) {
                        keys.push(k);
                    }
                }
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        let object_key = self.object_key(key.as_str());
        self.client()
            .await
            .delete_object()
            .bucket(&self.config.s3_bucket)
            .key(&object_key)
            .send()
            .await
            .map_err(|e| self.error(e, &format!("delete {object_key} (s3:DeleteObject)")))?;
        Ok(())
    }

    fn location(&self, key: &BlobKey) -> String {
        format!(
            "s3://{}/{}",
            self.config.s3_bucket,
            self.object_key(key.as_str())
        )
    }

    fn describe(&self) -> String {
        match self.config.s3_endpoint() {
            Some(endpoint) => format!("S3 bucket {} at {endpoint}", self.config.s3_bucket),
            None => format!(
                "S3 bucket {} in {}",
                self.config.s3_bucket, self.config.region
            ),
        }
    }

    /// Creates the bucket if it does not exist (with a location constraint outside
    /// us-east-1, as S3 requires).
    async fn setup(&self) -> Result<Vec<SetupAction>> {
        let resource = format!("bucket {}", self.describe());
        let client = self.client().await;
        match client
            .head_bucket()
            .bucket(&self.config.s3_bucket)
            .send()
            .await
        {
            Ok(_) => return Ok(vec![SetupAction::existing(resource)]),
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => {}
            Err(e) => return Err(self.failing().map(e, "check the bucket")),
        }
        let mut create = client.create_bucket().bucket(&self.config.s3_bucket);
        if self.config.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(
                        self.config.region.as_str(),
                    ))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(vec![SetupAction::created(resource)]),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => {
                Ok(vec![SetupAction::existing(resource)])
            }
            Err(e) if e.code() == Some("BucketAlreadyExists") => Err(Error::AlreadyExists {
                target: self.describe(),
                what: format!(
                    "bucket {} (owned by another account: choose another S3_REPORTS_BUCKET)",
                    self.config.s3_bucket
                ),
            }),
            Err(e) => Err(self.failing().map(e, "create the bucket")),
        }
    }
}
