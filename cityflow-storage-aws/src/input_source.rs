//! Inputs read from S3: metrics files whole, the raw open-data export streamed.

use std::io::Read;

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use bytes::{Buf, Bytes};
use cityflow_core::{
    Error, InputData, InputSource, InputStream, InputVersion, ListedInput, Result,
};
use tokio::sync::OnceCell;

use crate::config::AwsConfig;
use crate::error::Failing;
use crate::sdk;

/// An [`InputSource`] over the objects under `s3://bucket/prefix/`. Cheap to construct: the
/// SDK is configured on first use, with the same settings as the sinks (endpoints,
/// credentials, region, timeouts).
///
/// The reader [`InputSource::open`] returns is blocking and awaits the download on the
/// runtime that opened it: read it from a thread of its own (`spawn_blocking`, as
/// `cityflow-pipeline` does) under a multi-thread runtime. On a `current_thread` runtime
/// nothing would drive the download while that thread waits.
pub struct S3InputSource {
    config: AwsConfig,
    bucket: String,
    prefix: String,
    secrets: Vec<String>,
    client: OnceCell<aws_sdk_s3::Client>,
}

impl std::fmt::Debug for S3InputSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3InputSource")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl S3InputSource {
    /// The objects under `s3://bucket/prefix/` (`prefix` without leading or trailing `/`,
    /// may be empty), reached with `config`'s endpoints, credentials and bounds.
    pub fn new(config: AwsConfig, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        S3InputSource {
            secrets: config.secrets(),
            config,
            bucket: bucket.into(),
            prefix: prefix.into(),
            client: OnceCell::new(),
        }
    }

    async fn client(&self) -> &aws_sdk_s3::Client {
        self.client
            .get_or_init(|| sdk::s3_client(&self.config))
            .await
    }

    fn object_key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// Maps an error of reading `name`: a missing bucket is a configuration error (exit 2),
    /// refused access and everything else a failure of the target (exit 1), each naming
    /// the bucket.
    fn error<E, R>(&self, e: aws_sdk_s3::error::SdkError<E, R>, name: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let location = self.location(name);
        match e.code() {
            Some("NoSuchBucket") => Error::config(
                self.describe(),
                format!(
                    "the bucket does not exist (while reading {location}); check --metrics-dir, \
                     METRICS_DIR or the input URL"
                ),
            ),
            Some(code @ ("AccessDenied" | "AllAccessDisabled" | "InvalidAccessKeyId")) => {
                Error::Backend {
                    target: self.describe(),
                    message: format!(
                        "{code} while reading {location}: the role needs s3:GetObject on it"
                    ),
                    source: None,
                }
            }
            _ => Failing {
                target: self.describe(),
                resource_variable: "METRICS_DIR",
                secrets: &self.secrets,
            }
            .map(e, &format!("read {location}")),
        }
    }
}

impl S3InputSource {
    /// GET `name`: its output, `None` when there is no such key, or the mapped error.
    async fn get_object(
        &self,
        name: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>> {
        match self
            .client()
            .await
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(name))
            .send()
            .await
        {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(self.error(e, name)),
        }
    }
}

#[async_trait]
impl InputSource for S3InputSource {
    async fn read(&self, name: &str) -> Result<Option<InputData>> {
        let Some(output) = self.get_object(name).await? else {
            return Ok(None);
        };
        let version = version_of(self.location(name), &output);
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| Error::Unavailable {
                target: self.describe(),
                message: format!("the download of {} was cut: {e}", self.location(name)),
                source: None,
            })?;
        Ok(Some(InputData {
            bytes: body.into_bytes(),
            version,
        }))
    }

    async fn open(&self, name: &str) -> Result<InputStream> {
        let key = self.object_key(name);
        let Some(output) = self.get_object(name).await? else {
            return Err(Error::invalid_input(
                self.location(name),
                format!("no such object in {}", self.describe()),
            ));
        };
        let size = output.content_length().unwrap_or(0).max(0) as u64;
        let version = version_of(self.location(name), &output);
        let reader = ObjectReader {
            runtime: tokio::runtime::Handle::current(),
            client: self.client().await.clone(),
            bucket: self.bucket.clone(),
            key,
            etag: output.e_tag().map(str::to_string),
            body: Some(output.body),
            piece: Bytes::new(),
            position: 0,
            size,
            resumes_left: self.config.max_attempts,
            max_resumes: self.config.max_attempts,
            since_resume: 0,
            stall: self.config.attempt_timeout,
            target: self.describe(),
            location: self.location(name),
        };
        Ok(InputStream {
            reader: Box::new(reader),
            size,
            version,
        })
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ListedInput>> {
        let full_prefix = self.object_key(prefix);
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        // Every page: S3 returns at most 1000 keys per call.
        loop {
            let page = self
                .client()
                .await
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.error(e, prefix))?;
            for object in page.contents() {
                let Some(name) = object.key().and_then(|k| k.strip_prefix(&strip)) else {
                    continue;
                };
                // "Folders" made by consoles are empty keys ending with '/'.
                if name.ends_with('/') {
                    continue;
                }
                found.push(ListedInput {
                    name: name.to_string(),
                    size: object.size().unwrap_or(0).max(0) as u64,
                    modified_ms: object
                        .last_modified()
                        .and_then(|t| t.to_millis().ok())
                        .unwrap_or(0),
                });
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    fn location(&self, name: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.object_key(name))
    }

    fn describe(&self) -> String {
        match self.config.s3_endpoint() {
            Some(endpoint) => format!("S3 bucket {} at {endpoint}", self.bucket),
            None => format!("S3 bucket {} in {}", self.bucket, self.config.region),
        }
    }
}

/// The version of an object as a GET answered it: size, ETag, last modification.
fn version_of(
    location: String,
    output: &aws_sdk_s3::operation::get_object::GetObjectOutput,
) -> InputVersion {
    InputVersion {
        location,
        size: output.content_length().unwrap_or(0).max(0) as u64,
        version: output.e_tag().unwrap_or_default().to_string(),
        modified_ms: output
            .last_modified()
            .and_then(|t| t.to_millis().ok())
            .unwrap_or(0),
    }
}

/// Bytes received without a cut after which a download counts as flowing again.
const STEADY_BYTES: u64 = 8 << 20;

/// A blocking reader over an S3 object's body, for a parser on its own thread.
///
/// Pieces of the body are awaited on the runtime that opened the object. A body that ends
/// early, fails, or stalls longer than the attempt timeout is resumed with a ranged GET from
/// the last byte received, pinned to the object's ETag (`If-Match`) so that an object
/// replaced meanwhile is never stitched to the old one's start. After `max_attempts`
/// resumptions the read fails with an [`Error::Unavailable`] naming the object and the byte
/// reached: the caller exports nothing rather than a silently partial day.
struct ObjectReader {
    runtime: tokio::runtime::Handle,
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    etag: Option<String>,
    body: Option<ByteStream>,
    /// What is left of the last piece received.
    piece: Bytes,
    /// Bytes handed out so far.
    position: u64,
    size: u64,
    /// Resumptions left before giving up; back to `max_resumes` once [`STEADY_BYTES`] have
    /// flowed since the last one, so that a long download survives cuts far apart, while a
    /// connection that keeps dropping after a trickle still fails.
    resumes_left: u32,
    max_resumes: u32,
    since_resume: u64,
    stall: std::time::Duration,
    target: String,
    location: String,
}

impl ObjectReader {
    fn fail(&self, message: String) -> std::io::Error {
        std::io::Error::other(Error::Unavailable {
            target: self.target.clone(),
            message,
            source: None,
        })
    }

    /// Opens the rest of the object, from `position`, after `why`.
    fn resume(&mut self, why: String) -> std::io::Result<()> {
        self.body = None;
        self.since_resume = 0;
        loop {
            if self.resumes_left == 0 {
                return Err(self.fail(format!(
                    "the download of {} was cut at byte {} of {} and could not be resumed: {why}",
                    self.location, self.position, self.size
                )));
            }
            self.resumes_left -= 1;
            tracing::warn!(
                "download of {} cut at byte {} of {} ({why}); resuming with a ranged GET",
                self.location,
                self.position,
                self.size
            );
            let request = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .range(format!("bytes={}-", self.position))
                .set_if_match(self.etag.clone());
            match self.runtime.block_on(request.send()) {
                Ok(output) => {
                    self.body = Some(output.body);
                    return Ok(());
                }
                Err(e) if e.code() == Some("PreconditionFailed") => {
                    return Err(std::io::Error::other(Error::Backend {
                        target: self.target.clone(),
                        message: format!(
                            "{} was replaced while being read (at byte {} of {}); run again to \
                             read the new object whole",
                            self.location, self.position, self.size
                        ),
                        source: None,
                    }))
                }
                Err(e) => {
                    let detail = aws_sdk_s3::error::DisplayErrorContext(&e).to_string();
                    tracing::warn!("resuming {} failed: {detail}", self.location);
                }
            }
        }
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if !self.piece.is_empty() {
                let n = buf.len().min(self.piece.len());
                buf[..n].copy_from_slice(&self.piece[..n]);
                self.piece.advance(n);
                self.position += n as u64;
                return Ok(n);
            }
            if self.size > 0 && self.position >= self.size {
                return Ok(0);
            }
            let Some(body) = self.body.as_mut() else {
                self.resume("no open body".into())?;
                continue;
            };
            let next = self
                .runtime
                .block_on(async { tokio::time::timeout(self.stall, body.next()).await });
            match next {
                Ok(Some(Ok(piece))) => {
                    self.since_resume += piece.len() as u64;
                    if self.since_resume >= STEADY_BYTES {
                        self.resumes_left = self.max_resumes;
                    }
                    self.piece = piece;
                }
                // The body ended: the whole object, or a connection closed early.
                Ok(None) if self.position >= self.size => return Ok(0),
                Ok(None) => self.resume("the connection closed early".into())?,
                Ok(Some(Err(e))) => self.resume(e.to_string())?,
                Err(_) => self.resume(format!("no data for {} s", self.stall.as_secs_f64()))?,
            }
        }
    }
}
