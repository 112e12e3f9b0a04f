//! What the JSON routes return, and how it is read from the store.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use cityflow_core::{
    BlobKey, BlobSink, DailyReport, DateRange, ErrorKind, ReportStore, ReportSummary, SectionFrom,
    StoredReport, Summary, SummaryQuery, MAX_SUMMARY_PAGE,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::Problem;

/// The longest range `/stats` accepts, in days (both ends included): ten years and their
/// leap days, with room to spare.
pub const MAX_RANGE_DAYS: u64 = 3660;
/// How many reports `/stats` and the dashboard cover without a range.
pub const DEFAULT_LATEST: usize = 30;
/// The page size of `/reports` when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// The largest `limit` of `/reports`.
pub const MAX_PAGE: usize = MAX_SUMMARY_PAGE;

/// A stored report as the API serves it: the envelope, without what it was built from
/// (input paths and buckets are internals).
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<'a> {
    /// `daily_report_YYYY-MM-DD`.
    #[schema(example = "daily_report_2025-11-04")]
    pub report_id: &'a str,
    #[schema(value_type = String, format = Date, example = "2025-11-04")]
    pub date: NaiveDate,
    /// When the report was exported (RFC 3339).
    #[schema(value_type = String, format = DateTime, example = "2025-11-05T05:31:50.926576+00:00")]
    pub timestamp: String,
    /// The daily report: `summary`, `top_10_troncons_frequentes`,
    /// `top_10_zones_congestionnees`, `alertes_congestion`, `capteurs_defaillants`,
    /// `chantiers_actifs`, `evolution_vs_semaine_precedente`, `meteo_impact` (see the README's
    /// report model).
    #[schema(value_type = Object)]
    pub report: &'a DailyReport,
}

impl<'a> Envelope<'a> {
    pub fn of(stored: &'a StoredReport) -> Self {
        Envelope {
            report_id: &stored.report_id,
            date: stored.date,
            timestamp: stored.timestamp.to_string(),
            report: &stored.report,
        }
    }
}

/// The headline figures of a day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryFigures {
    pub total_vehicules_paris: u64,
    pub temps_perdu_total_minutes: f64,
    pub nombre_troncons_satures: u64,
    /// Percent of expected sensor-hours with a value; `null` when unknown.
    pub taux_disponibilite_capteurs: Option<f64>,
    pub total_velos_paris: u64,
}

impl From<&Summary> for SummaryFigures {
    fn from(s: &Summary) -> Self {
        SummaryFigures {
            total_vehicules_paris: s.total_vehicules_paris,
            temps_perdu_total_minutes: s.temps_perdu_total_minutes,
            nombre_troncons_satures: s.nombre_troncons_satures,
            taux_disponibilite_capteurs: s.taux_disponibilite_capteurs,
            total_velos_paris: s.total_velos_paris,
        }
    }
}

/// One stored report in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportItem {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub report_id: String,
    /// When it was exported (RFC 3339).
    pub timestamp: String,
    pub summary: SummaryFigures,
    /// Where to read it: JSON, CSV and the HTML page.
    pub links: Links,
}

/// The URLs of a report's representations (relative to the API's root).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Links {
    pub json: String,
    pub csv: String,
    pub html: String,
}

impl Links {
    pub fn of(date: NaiveDate) -> Self {
        Links {
            json: format!("/reports/{date}"),
            csv: format!("/reports/{date}.csv"),
            html: format!("/reports/{date}.html"),
        }
    }
}

/// `GET /reports`: one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    /// The range asked for; `null` where it is open.
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// How many reports this page holds.
    pub count: usize,
    /// The page size asked for.
    pub limit: usize,
    /// Sorted by date, oldest first.
    pub reports: Vec<ReportItem>,
    /// The cursor of the next page (`cursor=`), also given as `Link: <…>; rel="next"`;
    /// `null` on the last page. Opaque: only this API reads it.
    pub next: Option<String>,
}

/// `?from=&to=&limit=&cursor=` of `/reports`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// First date, `YYYY-MM-DD`; open when absent.
    #[param(value_type = Option<String>, format = Date, example = "2025-11-01")]
    pub from: Option<String>,
    /// Last date, `YYYY-MM-DD`, included; open when absent.
    #[param(value_type = Option<String>, format = Date, example = "2025-11-30")]
    pub to: Option<String>,
    /// Reports per page: 1 to 1000, 100 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<String>,
    /// Where the page starts: the `next` of the previous page, as given.
    #[param(value_type = Option<String>)]
    pub cursor: Option<String>,
}

/// What a `/reports` request asks for, read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPage {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: usize,
    /// The last date of the previous page.
    pub after: Option<NaiveDate>,
}

impl ListQuery {
    /// The page asked for; 400 when a value is unreadable or the range inverted.
    pub fn page(&self) -> Result<ListPage, Problem> {
        let date = |name, v: &Option<String>| v.as_deref().map(|t| date_param(name, t)).transpose();
        let (from, to) = (date("from", &self.from)?, date("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(Problem::invalid_query(format!("from {f} is after to {t}")));
            }
        }
        let limit = match self.limit.as_deref() {
            None => DEFAULT_PAGE,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(Problem::invalid_query(format!(
                        "limit must be a whole number from 1 to {MAX_PAGE}"
                    )))
                }
            },
        };
        let after = self.cursor.as_deref().map(cursor_date).transpose()?;
        Ok(ListPage {
            from,
            to,
            limit,
            after,
        })
    }
}

impl ListPage {
    /// The store query of this page.
    pub fn query(&self) -> Option<SummaryQuery> {
        let mut from = self.from;
        if let Some(after) = self.after {
            let start = after.succ_opt()?;
            from = Some(from.map_or(start, |f| f.max(start)));
        }
        if let (Some(f), Some(t)) = (from, self.to) {
            if f > t {
                return None;
            }
        }
        Some(SummaryQuery::oldest_first(
            DateRange { from, to: self.to },
            self.limit,
        ))
    }

    /// The URL of the page after one that ended at `last`.
    pub fn next_url(&self, last: NaiveDate) -> String {
        let mut url = String::from("/reports?");
        if let Some(f) = self.from {
            url.push_str(&format!("from={f}&"));
        }
        if let Some(t) = self.to {
            url.push_str(&format!("to={t}&"));
        }
        url.push_str(&format!("limit={}&cursor={}", self.limit, cursor_of(last)));
        url
    }
}

/// The cursor of a page ending at `last`: opaque to clients (its form may change), plain
/// ASCII so that it needs no escaping in a URL.
pub fn cursor_of(last: NaiveDate) -> String {
    let plain = format!("v1:{last}");
    plain.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The date a cursor of [`cursor_of`] holds; 400 for anything else.
fn cursor_date(cursor: &str) -> Result<NaiveDate, Problem> {
    let bad =
        || Problem::invalid_query("cursor: not a cursor this API gave; start again without it");
    if cursor.len() > 64 || cursor.len() % 2 != 0 || !cursor.is_ascii() {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect();
    let plain = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    plain
        .strip_prefix("v1:")
        .and_then(|d| cityflow_core::parse_date(d).ok())
        .ok_or_else(bad)
}

/// One indicator over the dates of `/stats`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicator {
    /// The unit of the values (`véhicules`, `minutes`, `tronçons`, `%`, `vélos`).
    pub unit: &'static str,
    /// One point per report date, oldest first; `value` is `null` when the report does not
    /// know it (sensor availability of a day without counts).
    pub series: Vec<Point>,
    /// Mean, minimum and maximum of the known values; `null` when none is known.
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A value on a date.
#[derive(Debug, Serialize, ToSchema)]
pub struct Point {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub value: Option<f64>,
}

/// `GET /stats`: the summary's five indicators over a range of report dates.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// How many reports the figures cover.
    pub count: usize,
    pub total_vehicules_paris: Indicator,
    pub temps_perdu_total_minutes: Indicator,
    pub nombre_troncons_satures: Indicator,
    pub taux_disponibilite_capteurs: Indicator,
    pub total_velos_paris: Indicator,
}

impl Stats {
    pub fn of(from: Option<NaiveDate>, to: Option<NaiveDate>, items: &[ReportSummary]) -> Self {
        let indicator = |unit, value: &dyn Fn(&Summary) -> Option<f64>| {
            let series: Vec<Point> = items
                .iter()
                .map(|i| Point {
                    date: i.date,
                    value: value(&i.summary),
                })
                .collect();
            let known: Vec<f64> = series.iter().filter_map(|p| p.value).collect();
            let (mean, min, max) = if known.is_empty() {
                (None, None, None)
            } else {
                (
                    Some(known.iter().sum::<f64>() / known.len() as f64),
                    known.iter().copied().reduce(f64::min),
                    known.iter().copied().reduce(f64::max),
                )
            };
            Indicator {
                unit,
                series,
                mean,
                min,
                max,
            }
        };
        Stats {
            from,
            to,
            count: items.len(),
            total_vehicules_paris: indicator("véhicules", &|s| {
                Some(s.total_vehicules_paris as f64)
            }),
            temps_perdu_total_minutes: indicator("minutes", &|s| Some(s.temps_perdu_total_minutes)),
            nombre_troncons_satures: indicator("tronçons", &|s| {
                Some(s.nombre_troncons_satures as f64)
            }),
            taux_disponibilite_capteurs: indicator("%", &|s| s.taux_disponibilite_capteurs),
            total_velos_paris: indicator("vélos", &|s| Some(s.total_velos_paris as f64)),
        }
    }
}

/// `?from=&to=` of `/stats`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First date, `YYYY-MM-DD`. Alone: the range runs 3,660 days (ten years) from it. With
    /// `to`: at most 3,660 days before it, else 400 (a rule between the two parameters, which
    /// OpenAPI cannot express).
    #[param(value_type = Option<String>, format = Date, example = "2025-11-01")]
    pub from: Option<String>,
    /// Last date, `YYYY-MM-DD`, included. Alone: the range runs 3,660 days up to it.
    #[param(value_type = Option<String>, format = Date, example = "2025-11-30")]
    pub to: Option<String>,
}

/// A date from a query or a path, or the 400 naming it. The value is repeated in the
/// message only when it is short and plain: a hostile value (markup, control characters, a
/// megabyte of path) is not reflected.
pub fn date_param(name: &str, text: &str) -> Result<NaiveDate, Problem> {
    cityflow_core::parse_date(text).map_err(|_| {
        let plain = text.len() <= 40
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.' | ':' | '_'));
        let shown = if plain {
            format!("{text:?}")
        } else {
            "the value given".to_string()
        };
        Problem::invalid_date(format!(
            "{name}: {shown} is not a valid date (expected YYYY-MM-DD, e.g. 2025-11-04)"
        ))
    })
}

impl RangeQuery {
    /// The range asked for, or `None` for "the most recent reports"; 400 when a date is
    /// unreadable, the range inverted, or longer than [`MAX_RANGE_DAYS`].
    pub fn range(&self) -> Result<Option<(NaiveDate, NaiveDate)>, Problem> {
        let from = self
            .from
            .as_deref()
            .map(|t| date_param("from", t))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|t| date_param("to", t))
            .transpose()?;
        let span = Days::new(MAX_RANGE_DAYS - 1);
        let (from, to) = match (from, to) {
            (None, None) => return Ok(None),
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, f.checked_add_days(span).unwrap_or(NaiveDate::MAX)),
            (None, Some(t)) => (t.checked_sub_days(span).unwrap_or(NaiveDate::MIN), t),
        };
        if from > to {
            return Err(Problem::invalid_query(format!(
                "from {from} is after to {to}"
            )));
        }
        let days = to.signed_duration_since(from).num_days() + 1;
        if days > MAX_RANGE_DAYS as i64 {
            return Err(Problem::invalid_query(format!(
                "the range {from} to {to} covers {days} days; at most {MAX_RANGE_DAYS} are allowed"
            )));
        }
        Ok(Some((from, to)))
    }
}

/// The most summaries the API asks of the store in one call (each call has the store
/// timeout).
pub const SUMMARIES_PER_CALL: usize = 250;

/// Reads the store, each call within `timeout`.
#[derive(Debug, Clone)]
pub struct Reader {
    pub store: Arc<dyn ReportStore>,
    /// Where the maps of the days are (`daily_map_D.svg`), when this API serves them.
    pub maps: Option<Arc<dyn BlobSink>>,
    pub timeout: Duration,
}

impl Reader {
    async fn within<T>(
        &self,
        call: impl std::future::Future<Output = cityflow_core::Result<T>>,
    ) -> Result<T, Problem> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Problem::from_store(&e)),
            Err(_) => {
                tracing::warn!(
                    store = %self.store.describe(),
                    timeout_ms = self.timeout.as_millis() as u64,
                    "report store did not answer in time"
                );
                Err(Problem::store_unavailable())
            }
        }
    }

    /// The report of `date`; 404 when there is none.
    pub async fn get(&self, date: NaiveDate) -> Result<StoredReport, Problem> {
        self.within(self.store.get(date)).await.map_err(|p| {
            if p.status == 404 {
                Problem::not_found(format!("no report is stored for {date}"))
            } else {
                p
            }
        })
    }

    /// The map of `date` drawn for `stored` (the report it belongs to); 404 when there is
    /// none, or when the one stored was drawn for another build of the report (two builds
    /// raced: the newer one's map comes with its next build).
    pub async fn map(&self, stored: &StoredReport) -> Result<bytes::Bytes, Problem> {
        let date = stored.date;
        let none = || {
            Problem::not_found(format!(
                "no map is stored for {date}: a map is drawn for the days whose road sections \
                 come from the raw counts"
            ))
        };
        let Some(maps) = &self.maps else {
            return Err(none());
        };
        let svg = match tokio::time::timeout(self.timeout, maps.get(&BlobKey::day_map(date))).await
        {
            Ok(Ok(svg)) => svg,
            Ok(Err(e)) if e.kind() == ErrorKind::NotFound => return Err(none()),
            Ok(Err(e)) => return Err(Problem::from_store(&e)),
            Err(_) => {
                tracing::warn!(sink = %maps.describe(), "the maps did not answer in time");
                return Err(Problem::store_unavailable());
            }
        };
        let expected = stored.built_from.as_ref().map(|p| p.newest_modified_ms);
        if built_from_ms_of(&svg) != expected {
            return Err(Problem::not_found(format!(
                "the map stored for {date} was drawn for another build of its report; the \
                 next build of the day draws it again"
            )));
        }
        Ok(svg)
    }

    /// The store's version token of the report of `date`; `None` when it has none, cannot
    /// say in time, or fails (then the caller reads the report, which reports the failure).
    pub async fn version(&self, date: NaiveDate) -> Option<String> {
        match tokio::time::timeout(self.timeout, self.store.version(date)).await {
            Ok(Ok(version)) => version,
            _ => None,
        }
    }

    /// The store's token of the summaries of `range`; `None` when it has none or does not
    /// answer in time (then the summaries are read).
    pub async fn summaries_version(&self, range: DateRange) -> Option<String> {
        match tokio::time::timeout(self.timeout, self.store.summaries_version(range)).await {
            Ok(Ok(version)) => version,
            _ => None,
        }
    }

    /// One page of summaries, from the store's summary index: read by calls of at most
    /// [`SUMMARIES_PER_CALL`], each within the store timeout (a call may take the store
    /// several round trips: DynamoDB Local pages its index by about 130 items).
    pub async fn summaries(&self, query: SummaryQuery) -> Result<Vec<ReportSummary>, Problem> {
        self.summaries_up_to(query, query.page_size()).await
    }

    /// The first `wanted` summaries of `query` (all of them with `usize::MAX`), by store
    /// calls of at most [`SUMMARIES_PER_CALL`], each within the timeout.
    async fn summaries_up_to(
        &self,
        query: SummaryQuery,
        wanted: usize,
    ) -> Result<Vec<ReportSummary>, Problem> {
        let mut all = Vec::new();
        let mut next = Some(query);
        while let Some(mut call) = next {
            call.limit = (wanted - all.len()).min(SUMMARIES_PER_CALL);
            let page = self.within(self.store.summaries(call)).await?;
            let full = page.len() >= call.limit;
            next = match page.last() {
                Some(last) if full && all.len() + page.len() < wanted => call.after(last.date),
                _ => None,
            };
            all.extend(page);
        }
        Ok(all)
    }

    /// The summaries of `range`, or of the [`DEFAULT_LATEST`] most recent reports, oldest
    /// first: page after page, each store call within the timeout.
    pub async fn summaries_over(
        &self,
        range: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Vec<ReportSummary>, Problem> {
        let Some((from, to)) = range else {
            let mut recent = self
                .summaries(SummaryQuery::newest_first(DateRange::ALL, DEFAULT_LATEST))
                .await?;
            recent.reverse();
            return Ok(recent);
        };
        let range = DateRange {
            from: Some(from),
            to: Some(to),
        };
        self.summaries_up_to(
            SummaryQuery::oldest_first(range, SUMMARIES_PER_CALL),
            usize::MAX,
        )
        .await
    }

    /// The newest report date; 404 when the store holds none.
    pub async fn latest(&self) -> Result<NaiveDate, Problem> {
        self.summaries(SummaryQuery::newest_first(DateRange::ALL, 1))
            .await?
            .first()
            .map(|s| s.date)
            .ok_or_else(|| Problem::not_found("no report is stored yet"))
    }

    /// Whether the store answers within the timeout.
    pub async fn ready(&self) -> Result<(), Problem> {
        let today = chrono::Utc::now().date_naive();
        self.within(self.store.list(DateRange {
            from: Some(today),
            to: Some(today),
        }))
        .await
        .map(|_| ())
        .map_err(|_| Problem::store_unavailable())
    }
}

/// The `data-built-from-ms` a map carries on its root element.
fn built_from_ms_of(svg: &[u8]) -> Option<i64> {
    const ATTRIBUTE: &[u8] = b" data-built-from-ms=\"";
    let head = &svg[..svg.len().min(1024)];
    let at = head.windows(ATTRIBUTE.len()).position(|w| w == ATTRIBUTE)? + ATTRIBUTE.len();
    let digits = &head[at..];
    let end = digits.iter().position(|b| *b == b'"')?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// Whether the report's road sections came from the raw counts: then a map was drawn.
pub fn has_map(stored: &StoredReport) -> bool {
    stored
        .built_from
        .as_ref()
        .and_then(|p| p.sections.get("comptages"))
        .is_some_and(|s| s.from == SectionFrom::Raw)
}

/// The list entry of a report, from its summary.
pub fn item_of(summary: &ReportSummary) -> ReportItem {
    ReportItem {
        date: summary.date,
        report_id: summary.report_id.clone(),
        timestamp: summary.timestamp.to_string(),
        summary: SummaryFigures::from(&summary.summary),
        links: Links::of(summary.date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>) -> RangeQuery {
        RangeQuery {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
        }
    }

    #[test]
    fn a_maps_build_is_read_from_its_root_element() {
        assert_eq!(
            built_from_ms_of(b"<svg xmlns=\"x\" data-built-from-ms=\"1796290380791\"><title>"),
            Some(1_796_290_380_791)
        );
        assert_eq!(built_from_ms_of(b"<svg xmlns=\"x\">"), None);
        assert_eq!(built_from_ms_of(b"<svg data-built-from-ms=\"12"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(q(None, None).range().unwrap(), None);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            q(Some("2016-01-01"), Some("2025-12-31")).range().unwrap(),
            Some((d("2016-01-01"), d("2025-12-31"))),
            "ten years and their three leap days are allowed"
        );
        assert_eq!(
            q(Some("2025-01-01"), None).range().unwrap(),
            Some((d("2025-01-01"), d("2035-01-08")))
        );
        assert_eq!(
            q(None, Some("2025-01-01")).range().unwrap(),
            Some((d("2014-12-26"), d("2025-01-01")))
        );
        for (from, to) in [
            (Some("2015-01-01"), Some("2025-01-08")),
            (Some("2025-02-01"), Some("2025-01-01")),
            (Some("2025-13-01"), None),
            (Some("0000-01-01"), Some("9999-12-31")),
            (None, Some("yesterday")),
        ] {
            let p = q(from, to).range().unwrap_err();
            assert_eq!(p.status, 400, "{from:?} {to:?}");
        }
        assert!(q(Some("+262143-01-01"), None).range().is_err());
    }

    fn lq(pairs: &[(&str, &str)]) -> ListQuery {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        ListQuery {
            from: get("from"),
            to: get("to"),
            limit: get("limit"),
            cursor: get("cursor"),
        }
    }

    #[test]
    fn list_pages_and_their_cursors() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let first = lq(&[("to", "2025-12-31"), ("limit", "2")]).page().unwrap();
        assert_eq!(first.limit, 2);
        assert_eq!(first.query().unwrap().range.from, None);
        let next = first.next_url(d("2025-01-05"));
        let cursor = next.rsplit_once("cursor=").unwrap().1;
        assert_eq!(
            next,
            format!("/reports?to=2025-12-31&limit=2&cursor={cursor}")
        );
        let second = lq(&[("to", "2025-12-31"), ("limit", "2"), ("cursor", cursor)])
            .page()
            .unwrap();
        assert_eq!(second.query().unwrap().range.from, Some(d("2025-01-06")));
        assert_eq!(second.query().unwrap().range.to, Some(d("2025-12-31")));
        // A cursor past the range's end: nothing left.
        let past = lq(&[("to", "2025-01-05"), ("cursor", cursor)])
            .page()
            .unwrap();
        assert_eq!(past.query(), None);
        assert_eq!(lq(&[]).page().unwrap().limit, DEFAULT_PAGE);
        for bad in [
            [("limit", "0")],
            [("limit", "1001")],
            [("limit", "ten")],
            [("cursor", "2025-01-05")],
            [("cursor", "zz")],
            [("cursor", "76313a32")],
            [("from", "2025-02-30")],
        ] {
            assert_eq!(lq(&bad).page().unwrap_err().status, 400, "{bad:?}");
        }
        assert_eq!(
            lq(&[("from", "2025-02-01"), ("to", "2025-01-01")])
                .page()
                .unwrap_err()
                .status,
            400
        );
    }
}
