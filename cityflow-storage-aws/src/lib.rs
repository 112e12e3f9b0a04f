//! # cityflow-storage-aws
//!
//! The AWS backend of CityFlow, for AWS mode (`AWS_EXECUTION_ENV` set, as in Lambda) and for
//! local tests of it (`USE_S3=true`, `DATABASE_TYPE=dynamodb`):
//!
//! - [`S3BlobSink`] writes the CSV to `s3://$S3_REPORTS_BUCKET/$S3_REPORTS_PREFIX/daily_report_D.csv`
//!   with `Content-Type: text/csv; charset=utf-8`; get, list by prefix (every page), delete.
//! - [`DynamoReportStore`] keeps one item per date in `$DYNAMODB_REPORTS_TABLE`, key
//!   `report_id` (HASH) + `date` (RANGE): `{report_id, date, timestamp, report: M, ttl: N}`.
//!   Numbers are DynamoDB numbers written from the shortest exact decimal text of each value
//!   (through `serde_dynamo`): no float→Decimal hacks, no precision lost. An item that would
//!   exceed DynamoDB's 400 KB stores the report gzip-compressed in the binary attribute
//!   `report_gz` instead, decoded transparently on read; still too large → `TooLarge`.
//!
//! Configuration ([`AwsConfig`]) is plain data; the SDK is configured on first use from it:
//! the region, the standard endpoint variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, with path-style S3 addressing when an endpoint is set),
//! static credentials when given, else the SDK's default chain (profiles, container and
//! instance roles, as in Lambda). Every attempt is bounded (connect and attempt timeouts),
//! with the SDK's standard retries and an overall operation bound, so an unreachable
//! endpoint fails within 15 s with a message naming the service and endpoint. Secrets never
//! appear in messages or `Debug`.

mod blob_sink;
mod config;
mod error;
mod input_source;
mod report_store;
mod sdk;

pub use blob_sink::S3BlobSink;
pub use cityflow_core::{AwsSettings, StaticCredentials};
pub use config::AwsConfig;
pub use input_source::S3InputSource;
pub use report_store::{DynamoReportStore, MAX_ITEM_BYTES};
