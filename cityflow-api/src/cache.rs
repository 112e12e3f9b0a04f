//! HTTP caching: strong validators, conditional requests and the `Cache-Control` policy.
//!
//! - `ETag` is strong: the first 128 bits of the SHA-256 of the body bytes, so equal bytes
//!   give the same tag on every server and every backend, and any change gives another. When
//!   the response is compressed, the tag of that encoding gets a `-gzip` suffix (as Apache's
//!   mod_deflate does): a strong tag promises byte-identical bodies, and gzip bytes are not
//!   the identity bytes. `If-None-Match` matches either form.
//! - `Last-Modified` is when the report was exported (the envelope's `timestamp`).
//! - The server keeps the representations it built (see [`VersionedCache`]) under the
//!   store's version token of the report (or of the summaries a `/stats` or list answer was
//!   computed from), checked on every request: a report exported while the server runs is
//!   served on the next request. Stores without a cheap token (MongoDB, DynamoDB) are read
//!   on every request.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use axum::middleware::Next;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

/// The suffix of the tag of a gzip-encoded body.
const GZIP_SUFFIX: &str = "-gzip";

/// A strong entity tag for `body`, quoted.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

/// How long clients and shared caches may reuse a response without asking again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Revalidate every time (`no-cache`): lists, statistics, the latest report, the
    /// dashboard, and the reports of today and yesterday, which the morning run and late
    /// inputs may still replace.
    Revalidate,
    /// Fresh for an hour: reports of earlier days. Not `immutable`: a report is replaced
    /// when it is rebuilt from newer inputs (backfills, corrected metrics), and an hour
    /// bounds how long a reader may see the old one; after that the `ETag` makes the check
    /// a 304.
    Hour,
}

impl Freshness {
    /// The policy for the report of `date`, seen on `today` (Europe/Paris).
    pub fn of_report(date: NaiveDate, today: NaiveDate) -> Self {
        if today.signed_duration_since(date).num_days() >= 2 {
            Freshness::Hour
        } else {
            Freshness::Revalidate
        }
    }

    /// The `Cache-Control` value; `private` when responses depend on a token, so that shared
    /// caches do not hand them to others.
    pub fn header(self, private: bool) -> HeaderValue {
        HeaderValue::from_static(match (self, private) {
            (Freshness::Revalidate, false) => "public, no-cache",
            (Freshness::Revalidate, true) => "private, no-cache",
            (Freshness::Hour, false) => "public, max-age=3600",
            (Freshness::Hour, true) => "private, max-age=3600",
        })
    }
}

/// One representation ready to send: its bytes, type and validators.
#[derive(Debug, Clone)]
pub struct Representation {
    pub body: Bytes,
    /// The strong tag of `body`, computed once.
    pub etag: HeaderValue,
    pub content_type: &'static str,
    pub last_modified: Option<DateTime<Utc>>,
    /// `last_modified` as an HTTP date, formatted once.
    last_modified_header: Option<HeaderValue>,
    pub freshness: Freshness,
    /// Headers beyond the validators (`Content-Disposition`, `Content-Location`, `Vary`).
    pub extra: Vec<(header::HeaderName, HeaderValue)>,
}

impl Representation {
    pub fn new(body: impl Into<Bytes>, content_type: &'static str, freshness: Freshness) -> Self {
        let body = body.into();
        Representation {
            etag: HeaderValue::from_str(&etag_of(&body)).expect("hex in quotes"),
            body,
            content_type,
            last_modified: None,
            last_modified_header: None,
            freshness,
            extra: Vec::new(),
        }
    }

    pub fn last_modified(mut self, at: DateTime<Utc>) -> Self {
        self.last_modified = Some(at);
        self.last_modified_header = Some(http_date(at));
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.extra.push((name, value));
        self
    }

    /// The response to a request with `request` headers: 304 when its conditions say the
    /// client's copy is current, else 200 with the body.
    pub fn respond(self, request: &HeaderMap, private: bool) -> Response<Body> {
        let etag = self.etag;
        // The 304 carries the tag the client holds: the `-gzip` form when that is what it sent.
        let not_modified: Option<HeaderValue> = match request.get(header::IF_NONE_MATCH) {
            // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
            Some(value) => none_match(value, etag.to_str().unwrap_or_default())
                .map(|tag| HeaderValue::from_str(&tag).unwrap_or_else(|_| etag.clone())),
            None => request
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
                .zip(self.last_modified)
                .filter(|(since, modified)| modified.timestamp() <= since.timestamp())
                .map(|_| etag.clone()),
        };
        let mut builder = Response::builder()
            .header(header::CACHE_CONTROL, self.freshness.header(private))
            .header(header::ETAG, not_modified.clone().unwrap_or(etag));
        if let Some(at) = self.last_modified_header {
            builder = builder.header(header::LAST_MODIFIED, at);
        }
        for (name, value) in self.extra {
            builder = builder.header(name, value);
        }
        let response = if not_modified.is_some() {
            builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
        } else {
            builder
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, self.content_type)
                .body(Body::from(self.body))
        };
        response.expect("valid headers")
    }
}

/// Representations already built, each under the store's version token of what it was
/// built from. A request asks the store for the token first (a `stat` for files); the same
/// token means the same stored data, so the bytes and tag are reused without reading,
/// parsing, rendering or hashing again; another token (a new export) misses and rebuilds.
/// Bounded: when full, it is emptied (rebuilding an entry costs one read).
///
/// Two caches use it: reports by date and media type ([`RepresentationCache`], under
/// [`ReportStore::version`]), and the answers computed from summaries, `/stats` and the
/// pages of `/reports`, by their canonical query ([`SummaryAnswerCache`], under
/// [`ReportStore::summaries_version`] of the range they read).
///
/// [`ReportStore::version`]: cityflow_core::ReportStore::version
/// [`ReportStore::summaries_version`]: cityflow_core::ReportStore::summaries_version
#[derive(Debug)]
pub struct VersionedCache<K> {
    entries: std::sync::Mutex<std::collections::HashMap<K, (String, Representation)>>,
    capacity: usize,
}

/// Reports by date and media type (three media per date, about a year of dates).
pub type RepresentationCache = VersionedCache<(NaiveDate, &'static str)>;

/// `/stats` and list pages by their canonical query (`stats 2025-01-01 2025-12-31`).
pub type SummaryAnswerCache = VersionedCache<String>;

impl<K> VersionedCache<K> {
    pub fn with_capacity(capacity: usize) -> Self {
        VersionedCache {
            entries: std::sync::Mutex::default(),
            capacity,
        }
    }
}

impl Default for RepresentationCache {
    fn default() -> Self {
        VersionedCache::with_capacity(3 * 400)
    }
}

impl Default for SummaryAnswerCache {
    /// Answers are at most a few hundred kilobytes (a page of 1,000 summaries is about
    /// 400 KB): 256 of them bound the cache to about 100 MB at worst.
    fn default() -> Self {
        VersionedCache::with_capacity(256)
    }
}

impl<K: std::hash::Hash + Eq> VersionedCache<K> {
    /// The representation kept under `key` when it was built from data whose token is
    /// `version`.
    pub fn get(&self, key: &K, version: &str) -> Option<Representation> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(v, _)| v == version)
            .map(|(_, rep)| rep.clone())
    }

    pub fn insert(&self, key: K, version: String, rep: Representation) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (version, rep));
    }
}

/// The tag of an `If-None-Match` value that matches `etag`, quoted (weak comparison, as
/// RFC 9110 §13.1.2 requires for this header; the `-gzip` form of the tag matches too).
fn none_match(value: &HeaderValue, etag: &str) -> Option<String> {
    let text = value.to_str().ok()?;
    if text.trim() == "*" {
        return Some(etag.to_string());
    }
    let bare = etag.trim_matches('"');
    text.split(',').find_map(|candidate| {
        let candidate = candidate.trim();
        let candidate = candidate.strip_prefix("W/").unwrap_or(candidate);
        let candidate = candidate.trim_matches('"');
        (candidate == bare || candidate.strip_suffix(GZIP_SUFFIX) == Some(bare))
            .then(|| format!("\"{candidate}\""))
    })
}

/// An HTTP date (`Tue, 04 Nov 2025 05:31:50 GMT`).
pub fn http_date(at: DateTime<Utc>) -> HeaderValue {
    HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).expect("ASCII")
}

/// Middleware, outside compression: a compressed body gets its own strong tag.
pub async fn tag_encoded_bodies(request: Request<Body>, next: Next) -> Response<Body> {
    let mut response = next.run(request).await;
    let gzip = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if gzip {
        if let Some(tag) = response
            .headers()
            .get(header::ETAG)
            .and_then(|t| t.to_str().ok())
        {
            if let Some(bare) = tag.strip_suffix('"') {
                if let Ok(value) = HeaderValue::from_str(&format!("{bare}{GZIP_SUFFIX}\"")) {
                    response.headers_mut().insert(header::ETAG, value);
                }
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_strong_stable_and_content_based() {
        let a = etag_of(b"{\"a\":1}");
        assert_eq!(a, etag_of(b"{\"a\":1}"));
        assert_ne!(a, etag_of(b"{\"a\":2}"));
        assert!(
            a.starts_with('"') && a.ends_with('"') && a.len() == 34,
            "{a}"
        );
    }

    #[test]
    fn if_none_match_forms() {
        let tag = etag_of(b"x");
        let bare = tag.trim_matches('"');
        for matching in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            format!("\"{bare}-gzip\""),
            "*".to_string(),
        ] {
            assert!(
                none_match(&HeaderValue::from_str(&matching).unwrap(), &tag).is_some(),
                "{matching}"
            );
        }
        for other in ["\"other\"", "\"\"", "garbage"] {
            assert!(
                none_match(&HeaderValue::from_static(other), &tag).is_none(),
                "{other}"
            );
        }
    }

    #[test]
    fn the_gzip_form_is_echoed() {
        let tag = etag_of(b"x");
        let gz = format!("\"{}-gzip\"", tag.trim_matches('"'));
        assert_eq!(
            none_match(&HeaderValue::from_str(&gz).unwrap(), &tag),
            Some(gz)
        );
    }

    #[test]
    fn freshness_by_age() {
        let today: NaiveDate = "2026-03-12".parse().unwrap();
        assert_eq!(Freshness::of_report(today, today), Freshness::Revalidate);
        assert_eq!(
            Freshness::of_report("2026-03-11".parse().unwrap(), today),
            Freshness::Revalidate
        );
        assert_eq!(
            Freshness::of_report("2026-03-10".parse().unwrap(), today),
            Freshness::Hour
        );
        assert_eq!(Freshness::Hour.header(false), "public, max-age=3600");
        assert_eq!(Freshness::Revalidate.header(true), "private, no-cache");
    }

    #[test]
    fn http_dates() {
        let at = DateTime::parse_from_rfc3339("2025-11-04T05:31:50.9+00:00")
            .unwrap()
            .to_utc();
        assert_eq!(http_date(at), "Tue, 04 Nov 2025 05:31:50 GMT");
    }
}
