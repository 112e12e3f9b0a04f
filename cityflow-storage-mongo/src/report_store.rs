//! JSON reports as MongoDB documents, one per date.

use std::future::IntoFuture;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use cityflow_core::{
    DateRange, Error, ReportStore, ReportSummary, Result, SetupAction, SetupProgress, StoredReport,
    SummaryQuery,
};
use futures_util::TryStreamExt;
use mongodb::bson::{self, doc, Document};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, IndexModel};
use tokio::sync::OnceCell;

use crate::config::MongoConfig;
use crate::error::map_error;
use crate::retry::with_retries;

/// MongoDB's limit on one document.
const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// The field holding the gzip-compressed JSON of a report too large for a plain document
/// (then `report` is absent).
const REPORT_GZ: &str = "report_gz";

/// The field holding the report's [`ReportSummary`], written in the same upsert: what
/// listing and statistics read (projected alone, through the index on `date`).
const SUMMARY: &str = "summary";

/// The two unique indexes of the collection, by name.
const INDEXES: [(&str, &str); 2] = [("date_unique", "date"), ("report_id_unique", "report_id")];

/// What [`MongoReportStore::ensure_indexes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSetup {
    /// Indexes created by this call.
    pub created: Vec<String>,
    /// Indexes that were already there.
    pub existing: Vec<String>,
}

/// A [`ReportStore`] on a MongoDB collection. Cheap to construct: nothing is contacted until
/// the first operation.
pub struct MongoReportStore {
    config: MongoConfig,
    password: Option<String>,
    client: OnceCell<Client>,
    indexes_ready: OnceCell<()>,
}

impl std::fmt::Debug for MongoReportStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoReportStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MongoReportStore {
    pub fn new(config: MongoConfig) -> Self {
        MongoReportStore {
            password: config.password(),
            config,
            client: OnceCell::new(),
            indexes_ready: OnceCell::new(),
        }
    }

    pub fn config(&self) -> &MongoConfig {
        &self.config
    }

    fn target(&self) -> String {
        format!("MongoDB at {}", self.config.redacted_url())
    }

    fn error(&self, e: mongodb::error::Error, what: &str) -> Error {
        map_error(
            e,
            &self.target(),
            what,
            self.config.timeout,
            self.password.as_deref(),
        )
    }

    /// One driver call, attempted as [`MongoConfig::retry_policy`] says: each attempt has its
    /// own deadline, which also covers a server that accepts connections and never answers;
    /// transient failures are retried with backoff. `call` makes the call anew per attempt.
    async fn bounded<T, C>(&self, what: &str, mut call: impl FnMut() -> C) -> Result<T>
    where
        C: IntoFuture<Output = mongodb::error::Result<T>>,
    {
        with_retries(&self.config.retry_policy(), &self.target(), what, || {
            let attempt = call().into_future();
            async move { attempt.await.map_err(|e| self.error(e, what)) }
        })
        .await
    }

    async fn client(&self) -> Result<&Client> {
        self.client
            .get_or_try_init(|| async {
                let mut options = self
                    .bounded("parse the connection string", || {
                        ClientOptions::parse(&self.config.url)
                    })
                    .await?;
                options.server_selection_timeout = Some(self.config.timeout);
                options.connect_timeout = Some(self.config.timeout);
                // Our retry policy is the only one: the driver's own retry would run a second
                // server selection inside one attempt and break the per-attempt deadline.
                options.retry_reads = Some(false);
                options.retry_writes = Some(false);
                options
                    .app_name
                    .get_or_insert_with(|| "cityflow".to_string());
                Client::with_options(options).map_err(|e| self.error(e, "create the client"))
            })
            .await
    }

    async fn raw_collection(&self) -> Result<Collection<Document>> {
        Ok(self
            .client()
            .await?
            .database(&self.config.database)
            .collection(&self.config.collection))
    }

    /// The collection, its indexes ensured once per store.
    async fn collection(&self) -> Result<Collection<Document>> {
        let coll = self.raw_collection().await?;
        self.indexes_ready
            .get_or_try_init(|| async {
                self.ensure_indexes().await?;
                Ok::<(), Error>(())
            })
            .await?;
        Ok(coll)
    }

    /// Creates the unique indexes on `date` and `report_id` that are missing; says which it
    /// created and which already existed. Idempotent.
    pub async fn ensure_indexes(&self) -> Result<IndexSetup> {
        let coll = self.raw_collection().await?;
        let existing: Vec<String> = match self
            .bounded("list the indexes", || coll.list_index_names())
            .await
        {
            Ok(names) => names,
            // A collection that does not exist yet has no index.
            Err(Error::Backend { message, .. })
                if message.contains("NamespaceNotFound")
                    || message.contains("ns does not exist")
                    || message.contains("ns not found") =>
            {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let mut setup = IndexSetup::default();
        for (name, field) in INDEXES {
            if existing.iter().any(|n| n == name) {
                setup.existing.push(name.to_string());
                continue;
            }
            let model = IndexModel::builder()
                .keys(doc! { field: 1 })
                .options(
                    IndexOptions::builder()
                        .unique(true)
                        .name(name.to_string())
                        .build(),
                )
                .build();
            self.bounded(&format!("create the unique index {name}"), || {
                coll.create_index(model.clone())
            })
            .await?;
            setup.created.push(name.to_string());
        }
        Ok(setup)
    }

    /// The number of documents stored for `date` (always 0 or 1; for tests and checks).
    pub async fn count_documents_for(&self, date: NaiveDate) -> Result<u64> {
        let coll = self.collection().await?;
        self.bounded("count documents", || {
            coll.count_documents(doc! { "date": date_key(date) })
        })
        .await
    }

    /// Drops the whole database (test clean-up).
    pub async fn drop_database(&self) -> Result<()> {
        let database = self.client().await?.database(&self.config.database);
        self.bounded("drop the database", || database.drop()).await
    }
}

impl MongoReportStore {
    /// `document` with its `report` replaced by [`REPORT_GZ`]: the report's JSON, gzipped.
    /// Also returns the compressed bytes' length.
    fn compressed(
        &self,
        stored: &StoredReport,
        mut document: Document,
    ) -> Result<(Document, usize)> {
        use std::io::Write;
        let backend = |message: String| Error::Backend {
            target: self.target(),
            message,
            source: None,
        };
        let json = serde_json::to_vec(&stored.report).map_err(|e| {
            backend(format!(
                "cannot serialize the report for {}: {e}",
                stored.date
            ))
        })?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map(|gz| {
                let length = gz.len();
                document.remove("report");
                document.insert(
                    REPORT_GZ,
                    bson::Binary {
                        subtype: bson::spec::BinarySubtype::Generic,
                        bytes: gz,
                    },
                );
                (document, length)
            })
            .map_err(|e| {
                backend(format!(
                    "cannot compress the report for {}: {e}",
                    stored.date
                ))
            })
    }

    /// The `date` of a document.
    fn date_of(&self, d: &Document) -> Result<NaiveDate> {
        let text = d.get_str("date").map_err(|e| Error::Backend {
            target: self.target(),
            message: format!("a document has no text `date`: {e}"),
            source: None,
        })?;
        cityflow_core::parse_date(text).map_err(|m| Error::Backend {
            target: self.target(),
            message: format!("a document has an invalid date: {m}"),
            source: None,
        })
    }

    /// Adds its summary to every document stored without one (by an earlier version),
    /// idempotently: each update applies only while the document is still the one read, so
    /// a newer report written meanwhile keeps its own. Returns how many it added.
    pub async fn add_missing_summaries(&self, progress: &dyn SetupProgress) -> Result<u64> {
        let coll = self.collection().await?;
        let missing: Vec<Document> = self
            .bounded("find the reports without a summary", || async {
                let cursor = coll
                    .find(doc! { SUMMARY: { "$exists": false } })
                    .projection(doc! { "_id": 0, "date": 1 })
                    .await?;
                cursor.try_collect().await
            })
            .await?;
        let total = missing.len();
        if total > 0 {
            progress.start(
                &format!("adding summaries on {}", self.describe()),
                total as u64,
            );
        }
        let mut added = 0;
        for (i, d) in missing.iter().enumerate() {
            let date = self.date_of(d)?;
            let stored = match self.get(date).await {
                Ok(stored) => stored,
                // Removed meanwhile.
                Err(e) if e.kind() == cityflow_core::ErrorKind::NotFound => {
                    progress.advance();
                    continue;
                }
                Err(e) => return Err(e),
            };
            let summary =
                bson::to_document(&ReportSummary::of(&stored)).map_err(|e| Error::Backend {
                    target: self.target(),
                    message: format!("cannot convert the summary of {date} to BSON: {e}"),
                    source: None,
                })?;
            let result = self
                .bounded(&format!("add the summary of {date}"), || {
                    coll.update_one(
                        doc! {
                            "date": date_key(date),
                            "timestamp": stored.timestamp.to_string(),
                            SUMMARY: { "$exists": false },
                        },
                        doc! { "$set": { SUMMARY: summary.clone() } },
                    )
                })
                .await?;
            added += result.modified_count;
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

    /// The `report` of a document stored with [`REPORT_GZ`], as BSON.
    fn decompressed(&self, date: NaiveDate, gz: bson::Bson) -> Result<bson::Bson> {
        use std::io::Read;
        let invalid = |why: String| Error::Backend {
            target: self.target(),
            message: format!("the document for {date} holds an unreadable {REPORT_GZ}: {why}"),
            source: None,
        };
        let bson::Bson::Binary(binary) = gz else {
            return Err(invalid("not binary data".into()));
        };
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(binary.bytes.as_slice())
            .read_to_end(&mut json)
            .map_err(|e| invalid(e.to_string()))?;
        let report: cityflow_core::DailyReport =
            serde_json::from_slice(&json).map_err(|e| invalid(e.to_string()))?;
        bson::to_bson(&report).map_err(|e| invalid(e.to_string()))
    }
}

fn date_key(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The filter of the documents of `range`.
fn range_filter(range: DateRange) -> Document {
    let mut bounds = Document::new();
    if let Some(from) = range.from {
        bounds.insert("$gte", date_key(from));
    }
    if let Some(to) = range.to {
        bounds.insert("$lte", date_key(to));
    }
    if bounds.is_empty() {
        doc! {}
    } else {
        doc! { "date": bounds }
    }
}

#[async_trait]
impl ReportStore for MongoReportStore {
    async fn put(&self, report: &StoredReport) -> Result<String> {
        let what = format!("save the report for {}", report.date);
        let convert = |e: bson::ser::Error| Error::Backend {
            target: self.target(),
            message: format!("cannot convert the report for {} to BSON: {e}", report.date),
            source: None,
        };
        let mut document = bson::to_document(report).map_err(convert)?;
        document.insert(
            SUMMARY,
            bson::to_document(&ReportSummary::of(report)).map_err(convert)?,
        );
        // Over the limit, the report goes gzip-compressed in a BinData field; still over it,
        // it is refused before sending (the server would cut the connection or answer
        // cryptically).
        // (The BSON library refuses some values over 16 MB outright: that is over the limit too.)
        let size = bson::to_vec(&document)
            .map(|v| v.len() as u64)
            .unwrap_or(u64::MAX);
        let document = if size > MAX_DOCUMENT_BYTES {
            let (compressed, gz_bytes) = self.compressed(report, document)?;
            let compressed_size = bson::to_vec(&compressed)
                .map(|v| v.len() as u64)
                .unwrap_or(gz_bytes as u64);
            if compressed_size > MAX_DOCUMENT_BYTES {
                return Err(Error::TooLarge {
                    target: self.target(),
                    what: format!(
                        "the report for {} (even gzip-compressed: {compressed_size} bytes)",
                        report.date
                    ),
                    size,
                    limit: MAX_DOCUMENT_BYTES,
                });
            }
            tracing::info!(
                date = %report.date,
                size,
                compressed_size,
                "report over 16 MB stored gzip-compressed"
            );
            compressed
        } else {
            document
        };
        let coll = self.collection().await?;
        // Newer inputs win, as a condition of the write: the filter matches the day's document
        // only when it was not built from newer inputs. When it was, the upsert inserts, the
        // unique index on `date` refuses, and the stored document says why.
        let filter = match &report.built_from {
            // `$not: {$gt}` also matches a document without provenance.
            Some(p) => doc! {
                "date": date_key(report.date),
                "built_from.newest_modified_ms": { "$not": { "$gt": p.newest_modified_ms } },
            },
            None => doc! { "date": date_key(report.date) },
        };
        // Two concurrent upserts of a new date can both miss the filter and both insert; the
        // unique index on `date` rejects the second, which then finds the document and
        // replaces it (or is superseded by it). Bounded, because each attempt either
        // matches or inserts.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = self
                .bounded(&what, || {
                    coll.replace_one(filter.clone(), &document).upsert(true)
                })
                .await;
            match result {
                Ok(_) => break,
                Err(Error::AlreadyExists { .. }) if attempts < 5 => {
                    if let Ok(stored) = self.get(report.date).await {
                        if !report.may_replace(&stored) {
                            return Err(Error::superseded(self.target(), report, &stored));
                        }
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(format!(
            "{}/{}.{}/{}",
            self.config.redacted_url().trim_end_matches('/'),
            self.config.database,
            self.config.collection,
            report.report_id
        ))
    }

    async fn get(&self, date: NaiveDate) -> Result<StoredReport> {
        let coll = self.collection().await?;
        let found = self
            .bounded(&format!("read the report for {date}"), || {
                coll.find_one(doc! { "date": date_key(date) })
            })
            .await?;
        let mut document =
            found.ok_or_else(|| Error::not_found(self.describe(), format!("report for {date}")))?;
        document.remove(SUMMARY);
        if let Some(gz) = document.remove(REPORT_GZ) {
            let report = self.decompressed(date, gz)?;
            document.insert("report", report);
        }
        bson::from_document(document).map_err(|e| Error::Backend {
            target: self.target(),
            message: format!("the document for {date} is not a valid stored report: {e}"),
            source: None,
        })
    }

    async fn summaries(&self, query: SummaryQuery) -> Result<Vec<ReportSummary>> {
        let coll = self.collection().await?;
        let filter = range_filter(query.range);
        let order = if query.newest_first { -1 } else { 1 };
        let limit = query.page_size() as i64;
        // Through the unique index on `date`, the summary alone: never the report.
        let documents: Vec<Document> = self
            .bounded("list the report summaries", || async {
                let cursor = coll
                    .find(filter.clone())
                    .projection(doc! { "_id": 0, "date": 1, SUMMARY: 1 })
                    .sort(doc! { "date": order })
                    .limit(limit)
                    .await?;
                cursor.try_collect().await
            })
            .await?;
        let mut summaries = Vec::with_capacity(documents.len());
        for mut d in documents {
            match d.remove(SUMMARY) {
                Some(bson::Bson::Document(summary)) => {
                    summaries.push(bson::from_document(summary).map_err(|e| Error::Backend {
                        target: self.target(),
                        message: format!(
                            "the summary of {} is unreadable: {e}",
                            d.get_str("date").unwrap_or("a document")
                        ),
                        source: None,
                    })?)
                }
                // Written before summaries were: read from the report until `cityflow setup`
                // adds it.
                _ => {
                    let date = self.date_of(&d)?;
                    tracing::warn!(%date, "a report has no summary yet: `cityflow setup` adds it");
                    match self.get(date).await {
                        Ok(stored) => summaries.push(ReportSummary::of(&stored)),
                        Err(e) if e.kind() == cityflow_core::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(summaries)
    }

    async fn list(&self, range: DateRange) -> Result<Vec<NaiveDate>> {
        let coll = self.collection().await?;
        let filter = range_filter(range);
        let what = "list the reports";
        // The query and the reading of its cursor are one attempt: a cursor cut halfway cannot
        // be resumed, the query is run again.
        let documents: Vec<Document> = self
            .bounded(what, || async {
                let cursor = coll
                    .find(filter.clone())
                    .projection(doc! { "_id": 0, "date": 1 })
                    .sort(doc! { "date": 1 })
                    .await?;
                cursor.try_collect().await
            })
            .await?;
        documents.iter().map(|d| self.date_of(d)).collect()
    }

    async fn delete(&self, date: NaiveDate) -> Result<()> {
        let coll = self.collection().await?;
        self.bounded(&format!("delete the report for {date}"), || {
            coll.delete_one(doc! { "date": date_key(date) })
        })
        .await?;
        Ok(())
    }

    /// The unique indexes, then the summaries of reports stored without one.
    async fn setup_with_progress(
        &self,
        progress: Arc<dyn SetupProgress>,
    ) -> Result<Vec<SetupAction>> {
        let setup = self.ensure_indexes().await?;
        let on = |name: &String| format!("unique index {name} on {}", self.describe());
        let mut actions: Vec<SetupAction> = setup
            .created
            .iter()
            .map(|n| SetupAction::created(on(n)))
            .chain(setup.existing.iter().map(|n| SetupAction::existing(on(n))))
            .collect();
        let added = self.add_missing_summaries(&*progress).await?;
        let resource = format!("report summaries on {}", self.describe());
        actions.push(if added > 0 {
            SetupAction::created(format!("{resource} ({added} added)"))
        } else {
            SetupAction::existing(resource)
        });
        Ok(actions)
    }

    fn describe(&self) -> String {
        format!(
            "MongoDB {} database {} collection {}",
            self.config.redacted_url(),
            self.config.database,
            self.config.collection
        )
    }
}
