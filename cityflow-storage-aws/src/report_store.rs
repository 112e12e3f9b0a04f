//! JSON reports as DynamoDB items, one per date.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType, Projection, ProjectionType,
    ReturnConsumedCapacity, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use chrono::NaiveDate;
use cityflow_core::{
    report_id, DailyReport, DateRange, Error, ReportStore, ReportSummary, Result, SetupAction,
    SetupProgress, StoredReport, SummaryQuery, Timestamp,
};
use tokio::sync::OnceCell;

use crate::config::AwsConfig;
use crate::error::Failing;
use crate::sdk;

/// DynamoDB's limit on one item, attribute names included.
pub const MAX_ITEM_BYTES: u64 = 400 * 1024;

/// A decompressed report larger than this is refused (a corrupt or hostile item).
const MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

/// How long `setup` waits for a new table to become ACTIVE.
const TABLE_ACTIVE_WAIT: Duration = Duration::from_secs(120);

/// How long `setup` waits for the summary index to become ACTIVE: DynamoDB builds an index
/// added to a full table from its items, minutes for a large one.
const INDEX_ACTIVE_WAIT: Duration = Duration::from_secs(900);

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key_element(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("name and type are set")
}

fn summary_index_keys() -> Vec<KeySchemaElement> {
    vec![
        key_element(LISTING, KeyType::Hash),
        key_element("date", KeyType::Range),
    ]
}

/// The keys and the summary: what listing and statistics read, about 600 bytes an item.
fn summary_index_projection() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::Include)
        .non_key_attributes(SUMMARY)
        .build()
}

/// A [`ReportStore`] on a DynamoDB table keyed by `report_id` (HASH) and `date` (RANGE).
/// Cheap to construct: the SDK is configured on first use.
pub struct DynamoReportStore {
    config: AwsConfig,
    secrets: Vec<String>,
    client: OnceCell<aws_sdk_dynamodb::Client>,
}

impl std::fmt::Debug for DynamoReportStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoReportStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The global secondary index listing and statistics query: every report's summary, by date.
pub const SUMMARY_INDEX: &str = "reports_by_date";

/// The partition key attribute of [`SUMMARY_INDEX`], the same on every item
/// ([`LISTING_VALUE`]), so that one `Query` reads any range in date order. A table's
/// summaries (about 600 bytes each: 2 MB for ten years) fit one partition many times over;
/// one partition takes 1,000 writes a second, which bounds a backfill's rate before
/// anything else here does.
const LISTING: &str = "listing";
const LISTING_VALUE: &str = "daily";

/// The attribute holding the report's [`ReportSummary`], written in the same `PutItem`,
/// the only one [`SUMMARY_INDEX`] projects besides the keys.
const SUMMARY: &str = "summary";

fn date_key(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn key_of(date: NaiveDate) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("report_id".to_string(), AttributeValue::S(report_id(date))),
        ("date".to_string(), AttributeValue::S(date_key(date))),
    ])
}

impl DynamoReportStore {
    pub fn new(config: AwsConfig) -> Self {
        DynamoReportStore {
            secrets: config.secrets(),
            config,
            client: OnceCell::new(),
        }
    }

    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    async fn client(&self) -> &aws_sdk_dynamodb::Client {
        self.client
            .get_or_init(|| sdk::dynamodb_client(&self.config))
            .await
    }

    fn failing(&self) -> Failing<'_> {
        Failing {
            target: self.describe(),
            resource_variable: "DYNAMODB_REPORTS_TABLE",
            secrets: &self.secrets,
        }
    }

    fn error<E, R>(&self, e: aws_sdk_dynamodb::error::SdkError<E, R>, what: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        if e.code() == Some("ResourceNotFoundException") {
            return self.failing().missing_resource(what);
        }
        self.failing().map(e, what)
    }

    fn backend(&self, message: String) -> Error {
        Error::Backend {
            target: self.describe(),
            message,
            source: None,
        }
    }

    /// The item for `report`: the report as a map, or gzip-compressed when the map would
    /// make the item exceed [`MAX_ITEM_BYTES`].
    fn item_for(&self, report: &StoredReport) -> Result<HashMap<String, AttributeValue>> {
        let ttl = report.timestamp.unix_seconds() + i64::from(self.config.ttl_days) * 86_400;
        let mut item = key_of(report.date);
        item.insert(
            "timestamp".into(),
            AttributeValue::S(report.timestamp.to_string()),
        );
        item.insert("ttl".into(), AttributeValue::N(ttl.to_string()));
        item.insert(LISTING.into(), AttributeValue::S(LISTING_VALUE.into()));
        let summary = serde_dynamo::to_attribute_value(ReportSummary::of(report)).map_err(|e| {
            self.backend(format!(
                "cannot convert the summary of {} to a DynamoDB attribute: {e}",
                report.date
            ))
        })?;
        item.insert(SUMMARY.into(), summary);
        let map: AttributeValue =
            serde_dynamo::to_attribute_value(&report.report).map_err(|e| {
                self.backend(format!(
                    "cannot convert the report for {} to a DynamoDB item: {e}",
                    report.date
                ))
            })?;
        item.insert("report".into(), map);
        if let Some(p) = &report.built_from {
            let provenance = serde_dynamo::to_attribute_value(p).map_err(|e| {
                self.backend(format!(
                    "cannot convert the provenance of {}: {e}",
                    report.date
                ))
            })?;
            item.insert("built_from".into(), provenance);
            // A top-level number, for the write's condition.
            item.insert(
                "inputs_newest_ms".into(),
                AttributeValue::N(p.newest_modified_ms.to_string()),
            );
        }
        if item_size(&item) <= MAX_ITEM_BYTES {
            return Ok(item);
        }
        item.remove("report");
        let json = serde_json::to_vec(&report.report)
            .map_err(|e| self.backend(format!("cannot serialize the report: {e}")))?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let gz_bytes = encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map_err(|e| self.backend(format!("cannot compress the report: {e}")))?;
        item.insert("report_gz".into(), AttributeValue::B(Blob::new(gz_bytes)));
        let size = item_size(&item);
        if size > MAX_ITEM_BYTES {
            return Err(Error::TooLarge {
                target: self.describe(),
                what: format!(
                    "the report for {} (even gzip-compressed, from {} bytes of JSON)",
                    report.date,
                    json.len()
                ),
                size,
                limit: MAX_ITEM_BYTES,
            });
        }
        Ok(item)
    }

    fn report_from_item(
        &self,
        date: NaiveDate,
        mut item: HashMap<String, AttributeValue>,
    ) -> Result<StoredReport> {
        let text = |item: &HashMap<String, AttributeValue>, name: &str| -> Result<String> {
            match item.get(name) {
                Some(AttributeValue::S(s)) => Ok(s.clone()),
                _ => Err(self.backend(format!(
                    "the item for {date} has no text attribute `{name}`"
                ))),
            }
        };
        let report_id = text(&item, "report_id")?;
        let timestamp = Timestamp::parse(&text(&item, "timestamp")?)
            .map_err(|m| self.backend(format!("the item for {date}: {m}")))?;
        let report: DailyReport = match (item.remove("report"), item.remove("report_gz")) {
            (Some(map), _) => serde_dynamo::from_attribute_value(map).map_err(|e| {
                self.backend(format!("the item for {date} is not a valid report: {e}"))
            })?,
            (None, Some(AttributeValue::B(blob))) => {
                let mut json = Vec::new();
                flate2::read::GzDecoder::new(blob.as_ref())
                    .take(MAX_DECOMPRESSED_BYTES)
                    .read_to_end(&mut json)
                    .map_err(|e| {
                        self.backend(format!("the compressed report for {date} is corrupt: {e}"))
                    })?;
                serde_json::from_slice(&json).map_err(|e| {
                    self.backend(format!(
                        "the compressed report for {date} is not valid: {e}"
                    ))
                })?
            }
            _ => {
                return Err(self.backend(format!(
                    "the item for {date} has neither `report` nor `report_gz`"
                )))
            }
        };
        let built_from = match item.remove("built_from") {
            Some(value) => Some(serde_dynamo::from_attribute_value(value).map_err(|e| {
                self.backend(format!(
                    "the item for {date} has an unreadable `built_from`: {e}"
                ))
            })?),
            None => None,
        };
        Ok(StoredReport {
            report_id,
            date,
            timestamp,
            report,
            built_from,
        })
    }

    /// Up to `limit` items of [`SUMMARY_INDEX`] in `range`, in date order (newest first when
    /// asked), each with the attribute `projection` (`#d`: the date, `#s`: the summary) and
    /// the keys: a `Query`, page after page, never a `Scan`. The index is eventually
    /// consistent on AWS: a report written a moment ago may be listed a moment later.
    async fn query_index(
        &self,
        range: DateRange,
        newest_first: bool,
        limit: usize,
        projection: &str,
        what: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>> {
        let mut values = HashMap::from([(
            ":listing".to_string(),
            AttributeValue::S(LISTING_VALUE.into()),
        )]);
        let mut condition = format!("{LISTING} = :listing");
        match (range.from, range.to) {
            (Some(f), Some(t)) => {
                values.insert(":from".into(), AttributeValue::S(date_key(f)));
                values.insert(":to".into(), AttributeValue::S(date_key(t)));
                condition.push_str(" AND #d BETWEEN :from AND :to");
            }
            (Some(f), None) => {
                values.insert(":from".into(), AttributeValue::S(date_key(f)));
                condition.push_str(" AND #d >= :from");
            }
            (None, Some(t)) => {
                values.insert(":to".into(), AttributeValue::S(date_key(t)));
                condition.push_str(" AND #d <= :to");
            }
            (None, None) => {}
        }
        let mut names = HashMap::from([("#d".to_string(), "date".to_string())]);
        if projection.contains("#s") {
            names.insert("#s".into(), SUMMARY.into());
        }
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let wanted = limit.saturating_sub(items.len());
            let out = self
                .client()
                .await
                .query()
                .table_name(&self.config.dynamodb_table)
                .index_name(SUMMARY_INDEX)
                .key_condition_expression(&condition)
                .set_expression_attribute_values(Some(values.clone()))
                .set_expression_attribute_names(Some(names.clone()))
                .projection_expression(projection)
                .scan_index_forward(!newest_first)
                .set_limit((wanted < 10_000).then_some(wanted as i32))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| self.error(e, what))?;
            // What the table itself counts: the evidence that list and stats read the
            // index's small items, not the reports (RUST_LOG=cityflow_storage_aws=debug).
            tracing::debug!(
                table = %self.config.dynamodb_table,
                index = SUMMARY_INDEX,
                items = out.count,
                scanned = out.scanned_count,
                read_capacity_units = out.consumed_capacity.as_ref().and_then(|c| c.capacity_units),
                "DynamoDB Query ({what})"
            );
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() && items.len() < limit => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }

    /// Whether the table has [`SUMMARY_INDEX`], and its status.
    async fn summary_index_status(&self) -> Result<Option<IndexStatus>> {
        let out = self
            .client()
            .await
            .describe_table()
            .table_name(&self.config.dynamodb_table)
            .send()
            .await
            .map_err(|e| self.error(e, "check the table's indexes"))?;
        Ok(out
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .find(|i| i.index_name() == Some(SUMMARY_INDEX))
            .map(|i| i.index_status().cloned().unwrap_or(IndexStatus::Active)))
    }

    /// Adds [`SUMMARY_INDEX`] to a table created without it, and waits until it is ACTIVE
    /// (DynamoDB builds it from the items that have the attributes). Says what it did.
    async fn ensure_summary_index(&self) -> Result<SetupAction> {
        let resource = format!("index {SUMMARY_INDEX} of {}", self.describe());
        let action = match self.summary_index_status().await? {
            Some(_) => SetupAction::existing(resource),
            None => {
                let update = GlobalSecondaryIndexUpdate::builder()
                    .create(
                        aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                            .index_name(SUMMARY_INDEX)
                            .set_key_schema(Some(summary_index_keys()))
                            .projection(summary_index_projection())
                            .build()
                            .expect("name, keys and projection are set"),
                    )
                    .build();
                match self
                    .client()
                    .await
                    .update_table()
                    .table_name(&self.config.dynamodb_table)
                    .attribute_definitions(string_attribute(LISTING))
                    .attribute_definitions(string_attribute("date"))
                    .global_secondary_index_updates(update)
                    .send()
                    .await
                {
                    Ok(_) => SetupAction::created(resource),
                    // Added meanwhile by a concurrent setup.
                    Err(e)
                        if e.code() == Some("ResourceInUseException")
                            || e.message().is_some_and(|m| m.contains("already exists")) =>
                    {
                        SetupAction::existing(resource)
                    }
                    Err(e) => return Err(self.error(e, "add the summary index")),
                }
            }
        };
        let deadline = tokio::time::Instant::now() + INDEX_ACTIVE_WAIT;
        while self.summary_index_status().await? != Some(IndexStatus::Active) {
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Unavailable {
                    target: self.describe(),
                    message: format!(
                        "the index {SUMMARY_INDEX} is not ACTIVE after {} s; run `cityflow setup` again later",
                        INDEX_ACTIVE_WAIT.as_secs()
                    ),
                    source: None,
                });
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(action)
    }

    /// Adds the summary (and the index's key) to every item written without them, by an
    /// earlier version: a `Scan` of those items, once, in setup. Idempotent and safe beside
    /// writers: each update applies only while the item is still the one read. Returns how
    /// many items it updated.
    pub async fn add_missing_summaries(&self, progress: &dyn SetupProgress) -> Result<u64> {
        let client = self.client().await;
        let mut dates = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = client
                .scan()
                .table_name(&self.config.dynamodb_table)
                .filter_expression("attribute_not_exists(#l)")
                .expression_attribute_names("#l", LISTING)
                .expression_attribute_names("#d", "date")
                .projection_expression("#d")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error(e, "find the reports without a summary"))?;
            for item in out.items() {
                if let Some(AttributeValue::S(d)) = item.get("date") {
                    if let Ok(date) = cityflow_core::parse_date(d) {
                        dates.push(date);
                    }
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let total = dates.len();
        if total > 0 {
            progress.start(
                &format!("adding summaries in {}", self.describe()),
                total as u64,
            );
        }
        let mut added = 0;
        for (i, date) in dates.into_iter().enumerate() {
            let stored = match self.get(date).await {
                Ok(stored) => stored,
                // Removed meanwhile.
                Err(e) if e.kind() == cityflow_core::ErrorKind::NotFound => {
                    progress.advance();
                    continue;
                }
                Err(e) => return Err(e),
            };
            let summary = serde_dynamo::to_attribute_value(ReportSummary::of(&stored))
                .map_err(|e| self.backend(format!("cannot convert the summary of {date}: {e}")))?;
            let result = client
                .update_item()
                .table_name(&self.config.dynamodb_table)
                .set_key(Some(key_of(date)))
                .update_expression("SET #l = :l, #s = :s")
                .condition_expression("#ts = :ts AND attribute_not_exists(#l)")
                .expression_attribute_names("#l", LISTING)
                .expression_attribute_names("#s", SUMMARY)
                .expression_attribute_names("#ts", "timestamp")
                .expression_attribute_values(":l", AttributeValue::S(LISTING_VALUE.into()))
                .expression_attribute_values(":s", summary)
                .expression_attribute_values(":ts", AttributeValue::S(stored.timestamp.to_string()))
                .send()
                .await;
            match result {
                Ok(_) => added += 1,
                // Rewritten meanwhile: the new item carries its own summary.
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {}
                Err(e) => return Err(self.error(e, &format!("add the summary of {date}"))),
            }
            progress.advance();
            if (i + 1) % 100 == 0 || i + 1 == total {
                tracing::info!(
                    done = i + 1,
                    total,
                    "adding the summaries of stored reports"
                );
            }
        }
        if total > 0 {
            progress.finish();
        }
        Ok(added)
    }

    /// Waits until the table is ACTIVE (emulators answer ACTIVE at once, DynamoDB answers
    /// CREATING first).
    async fn wait_active(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_WAIT;
        loop {
            let out = self
                .client()
                .await
                .describe_table()
                .table_name(&self.config.dynamodb_table)
                .send()
                .await
                .map_err(|e| self.error(e, "wait for the table"))?;
            if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Unavailable {
                    target: self.describe(),
                    message: format!(
                        "the table is not ACTIVE after {} s",
                        TABLE_ACTIVE_WAIT.as_secs()
                    ),
                    source: None,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[async_trait]
impl ReportStore for DynamoReportStore {
    async fn put(&self, report: &StoredReport) -> Result<String> {
        let item = self.item_for(report)?;
        let what = format!("save the report for {}", report.date);
        // PutItem replaces the whole item: one item per date, and an interrupted write
        // leaves the previous item whole.
        let mut request = self
            .client()
            .await
            .put_item()
            .table_name(&self.config.dynamodb_table)
            .set_item(Some(item));
        if let Some(p) = &report.built_from {
            // Newer inputs win, as a condition of the write.
            request = request
                .condition_expression(
                    "attribute_not_exists(inputs_newest_ms) OR inputs_newest_ms <= :newest",
                )
                .expression_attribute_values(
                    ":newest",
                    AttributeValue::N(p.newest_modified_ms.to_string()),
                );
        }
        match request.send().await {
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let stored = self.get(report.date).await?;
                Err(Error::superseded(self.describe(), report, &stored))
            }
            Ok(_) => Ok(format!(
                "dynamodb://{}/{}",
                self.config.dynamodb_table, report.report_id
            )),
            Err(e)
                if e.code() == Some("ValidationException")
                    && e.message().is_some_and(|m| m.contains("size")) =>
            {
                Err(Error::TooLarge {
                    target: self.describe(),
                    what: format!("the report for {}", report.date),
                    size: MAX_ITEM_BYTES + 1,
                    limit: MAX_ITEM_BYTES,
                })
            }
            Err(e) => Err(self.error(e, &what)),
        }
    }

    async fn get(&self, date: NaiveDate) -> Result<StoredReport> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.config.dynamodb_table)
            .set_key(Some(key_of(date)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| self.error(e, &format!("read the report for {date}")))?;
        tracing::debug!(
            table = %self.config.dynamodb_table,
            %date,
            read_capacity_units = out.consumed_capacity.as_ref().and_then(|c| c.capacity_units),
            "DynamoDB GetItem (read the report)"
        );
        match out.item {
            Some(item) => self.report_from_item(date, item),
            None => Err(Error::not_found(
                self.describe(),
                format!("report for {date}"),
            )),
        }
    }

    async fn list(&self, range: DateRange) -> Result<Vec<NaiveDate>> {
        let items = self
            .query_index(range, false, usize::MAX, "#d", "list the reports")
            .await?;
        let mut dates = Vec::with_capacity(items.len());
        for item in &items {
            if let Some(AttributeValue::S(d)) = item.get("date") {
                dates.push(
                    cityflow_core::parse_date(d)
                        .map_err(|m| self.backend(format!("an item has an invalid date: {m}")))?,
                );
            }
        }
        Ok(dates)
    }

    async fn summaries(&self, query: SummaryQuery) -> Result<Vec<ReportSummary>> {
        let items = self
            .query_index(
                query.range,
                query.newest_first,
                query.page_size(),
                "#d, #s",
                "list the report summaries",
            )
            .await?;
        items
            .into_iter()
            .filter_map(|mut item| item.remove(SUMMARY))
            .map(|value| {
                serde_dynamo::from_attribute_value(value)
                    .map_err(|e| self.backend(format!("an item has an unreadable summary: {e}")))
            })
            .collect()
    }

    async fn delete(&self, date: NaiveDate) -> Result<()> {
        self.client()
            .await
            .delete_item()
            .table_name(&self.config.dynamodb_table)
            .set_key(Some(key_of(date)))
            .send()
            .await
            .map_err(|e| self.error(e, &format!("delete the report for {date}")))?;
        Ok(())
    }

    fn describe(&self) -> String {
        match self.config.dynamodb_endpoint() {
            Some(endpoint) => format!(
                "DynamoDB table {} at {endpoint}",
                self.config.dynamodb_table
            ),
            None => format!(
                "DynamoDB table {} in {}",
                self.config.dynamodb_table, self.config.region
            ),
        }
    }

    /// Creates the table (on-demand billing), waits until it is ACTIVE, enables TTL on `ttl`.
    async fn setup_with_progress(
        &self,
        progress: Arc<dyn SetupProgress>,
    ) -> Result<Vec<SetupAction>> {
        let table = &self.config.dynamodb_table;
        let client = self.client().await;
        let mut actions = Vec::new();
        let resource = format!("table {}", self.describe());
        match client.describe_table().table_name(table).send().await {
            Ok(_) => actions.push(SetupAction::existing(resource)),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                let index = GlobalSecondaryIndex::builder()
                    .index_name(SUMMARY_INDEX)
                    .set_key_schema(Some(summary_index_keys()))
                    .projection(summary_index_projection())
                    .build()
                    .expect("name, keys and projection are set");
                match client
                    .create_table()
                    .table_name(table)
                    .attribute_definitions(string_attribute("report_id"))
                    .attribute_definitions(string_attribute("date"))
                    .attribute_definitions(string_attribute(LISTING))
                    .key_schema(key_element("report_id", KeyType::Hash))
                    .key_schema(key_element("date", KeyType::Range))
                    .global_secondary_indexes(index)
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await
                {
                    Ok(_) => actions.push(SetupAction::created(resource)),
                    // Created meanwhile by a concurrent setup.
                    Err(e) if e.code() == Some("ResourceInUseException") => {
                        actions.push(SetupAction::existing(resource))
                    }
                    Err(e) => return Err(self.error(e, "create the table")),
                }
            }
            Err(e) => return Err(self.error(e, "check the table")),
        }
        self.wait_active().await?;
        let table_created = actions.last().is_some_and(|a| a.created);
        let index = self.ensure_summary_index().await?;
        // An index made with its table was created by this call too.
        actions.push(SetupAction {
            created: index.created || table_created,
            ..index
        });
        let added = self.add_missing_summaries(&*progress).await?;
        let summaries = format!("report summaries in {}", self.describe());
        actions.push(if added > 0 {
            SetupAction::created(format!("{summaries} ({added} added)"))
        } else {
            SetupAction::existing(summaries)
        });

        let ttl_resource = format!("TTL on attribute ttl of {}", self.describe());
        let status = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| self.error(e, "check the table's TTL"))?;
        let enabled = matches!(
            status
                .time_to_live_description()
                .and_then(|d| d.time_to_live_status()),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        );
        if enabled {
            actions.push(SetupAction::existing(ttl_resource));
        } else {
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name("ttl")
                        .build()
                        .expect("enabled and attribute name are set"),
                )
                .send()
                .await
                .map_err(|e| self.error(e, "enable TTL on the table"))?;
            actions.push(SetupAction::created(ttl_resource));
        }
        Ok(actions)
    }
}

/// The size DynamoDB charges for an item, after AWS's published rules: names and strings by
/// their UTF-8 length, binaries by their length, numbers by about one byte per two
/// significant digits plus one, 1 byte for booleans and nulls, 3 bytes per list or map plus
/// 1 byte per element. Slightly generous, never smaller than DynamoDB's own count.
pub(crate) fn item_size(item: &HashMap<String, AttributeValue>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> u64 {
    match value {
        AttributeValue::S(s) => s.len() as u64,
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len() as u64,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<u64>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() as u64 + value_size(v))
                .sum::<u64>()
        }
        AttributeValue::Ss(v) => v.iter().map(|s| s.len() as u64).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len() as u64).sum(),
        _ => 0,
    }
}

fn number_size(n: &str) -> u64 {
    let digits = n
        .split(['e', 'E'])
        .next()
        .unwrap_or(n)
        .chars()
        .filter(char::is_ascii_digit)
        .count() as u64;
    digits.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_published_rules() {
        let item = HashMap::from([
            ("a".to_string(), AttributeValue::S("hello".into())),
            ("n".to_string(), AttributeValue::N("12345".into())),
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([(
                    "k".to_string(),
                    AttributeValue::Bool(true),
                )])),
            ),
        ]);
        // a:1+5, n:1+(3+1), m:1+3+(1+1+1)
        assert_eq!(item_size(&item), 6 + 5 + 7);
    }
}
