//! The storage conformance suite, written once and run against every backend.
//!
//! A backend crate's test builds its store on an **empty** namespace (a fresh directory, a
//! fresh database, table or bucket) and calls [`report_store_suite`] or [`blob_sink_suite`].
//! Each check panics with a message naming the check and the backend, like `assert!`.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn cityflow_core::ReportStore>) {
//! cityflow_core::conformance::report_store_suite(store.as_ref()).await;
//! # }
//! ```

use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::future::join_all;

use std::sync::Arc;

use crate::error::ErrorKind;
use crate::evolution::{PastWeek, WeekFigures};
use crate::model::*;
use crate::store::{
    BlobKey, BlobSink, DateRange, ReportStore, ReportStoreExt, SummaryQuery, CSV_CONTENT_TYPE,
};

/// The endpoint of a test server, read from the environment variable `var`.
///
/// When it is unset, a backend test must not pass silently: in CI (`CI=true`) this panics, so
/// nothing is skipped there; elsewhere it prints why the test is skipped and returns `None`.
pub fn service_endpoint(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !in_ci,
                "{var} is not set and CI=true: backend tests are never skipped in CI \
                 (scripts/test starts the servers with scripts/services start)"
            );
            eprintln!(
                "skipped: {var} is not set (run `scripts/services start` then \
                 `eval \"$(scripts/services env)\"`, or use scripts/test)"
            );
            None
        }
    }
}

/// A name unique to this process and call, for test databases, tables and buckets
/// (lowercase letters, digits and `-`).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("valid test date")
}

/// A report exercising every field: exact doubles (0.1, 1e-7, 21880.515012897125), large
/// integers, nulls, non-ASCII text, every section non-empty. `seed` varies the figures so two
/// reports of the same date differ.
pub fn sample_report(date: NaiveDate, seed: u32) -> DailyReport {
    let arc = |i: u32| ArcStats {
        date,
        identifiant_arc: format!("{}", 5000 + i),
        libelle: format!("Quai_des_Célestins_{i}; \"bis\""),
        debit_horaire_moyen: 4728.302325581395 + f64::from(seed),
        debit_journalier_total: 9_007_199_254_740_991 - u64::from(i),
        debit_max: 6057 + u64::from(seed),
        taux_occupation_moyen: if i == 1 { None } else { Some(0.1) },
        etat_trafic_dominant: "Pré-saturé".into(),
        heure_pic: Some("2025-11-04T17:00:00+01:00".into()),
        temps_perdu_minutes: 1e-7,
        temps_perdu_total_minutes: 21880.515012897125,
        congestion_alerte: i % 2 == 0,
        arrondissement: "75004".into(),
        geo_point_2d: Some("48.85038153783919, 2.415013682752968".into()),
        zone_fallback: None,
        longueur_metres: Some(165.2489047255196),
    };
    let mut figures = std::collections::BTreeMap::new();
    figures.insert(
        "series".to_string(),
        serde_json::json!([[1, 2.5, null], {"k": "v"}, []]),
    );
    let mut report = DailyReport {
        date,
        generated_at: Timestamp::parse("2025-11-05T06:30:00.123456+01:00").unwrap(),
        summary: Summary {
            total_vehicules_paris: 6_017_669_532 + u64::from(seed),
            temps_perdu_total_minutes: 247731.455309913,
            nombre_troncons_satures: 25,
            taux_disponibilite_capteurs: Some(97.77777777777777),
            total_velos_paris: 4699,
        },
        top_10_troncons_frequentes: (0..10).map(arc).collect(),
        top_10_zones_congestionnees: vec![
            ZoneEntry::Zone(ZoneStats {
                zone: "75016".into(),
                temps_perdu_total_minutes: 890.9567171415712,
                debit_journalier_total: 441656,
                nombre_troncons: 120,
                nombre_troncons_satures: 3,
            }),
            ZoneEntry::LegacyArc(arc(11)),
        ],
        alertes_congestion: vec![CongestionAlert {
            arc: arc(12),
            severite: Some(Severity::Critique),
            debut_congestion: Some("2025-11-04T08:00:00+01:00".into()),
            duree_heures: Some(3),
            taux_occupation_max: Some(99.99112),
        }],
        capteurs_defaillants: vec![
            FailingSensor {
                id_compteur: "100003098-101003098".into(),
                kind: SensorKind::Bike,
                raison: None,
                heures_manquantes: None,
            },
            FailingSensor {
                id_compteur: "5462".into(),
                kind: SensorKind::Comptage,
                raison: Some("débit absent plus de 6 heures consécutives".into()),
                heures_manquantes: Some(vec![0, 1, 2, 3, 4, 5, 6]),
            },
        ],
        chantiers_actifs: vec![Roadwork {
            identifiant: "CP002664".into(),
            typologie: "2".into(),
            impact: "IMPASSE".into(),
            arrondissement: None,
        }],
        evolution_vs_semaine_precedente: Evolution::default(),
        meteo_impact: Some(WeatherImpact {
            date: Some(date),
            temp_moyenne: Some(11.6),
            temp_min: Some(-7.3),
            temp_max: Some(15.6),
            precip_totale: Some(0.0),
            vent_moyen: None,
            conditions: Some("Partially cloudy".into()),
            impact_mobilite: Some(50.0),
        }),
    };
    // A full week-over-week comparison: nulls (no reference availability, a zero bike
    // reference), negative and fractional variations, ranks, entries and exits, a band.
    let mut reference = report.clone();
    reference.summary.taux_disponibilite_capteurs = None;
    reference.summary.total_velos_paris = 0;
    reference.summary.nombre_troncons_satures = 31;
    reference.summary.temps_perdu_total_minutes = 0.1;
    reference.top_10_troncons_frequentes.swap(0, 3);
    reference.top_10_troncons_frequentes[9].identifiant_arc = "6000".into();
    let mut older = reference.clone();
    older.summary.total_vehicules_paris = 1;
    let weeks = [
        PastWeek::Found(Arc::new(WeekFigures::of(&reference))),
        PastWeek::Missing,
        PastWeek::Found(Arc::new(WeekFigures::of(&older))),
        PastWeek::Unreadable("unreadable".into()),
    ];
    report.evolution_vs_semaine_precedente = Evolution::compute(&report, &weeks);
    report.evolution_vs_semaine_precedente.figures = figures;
    report
}

/// Envelopes are stamped with the current time: a store may derive an expiry from the
/// export time (DynamoDB's `ttl`), and an old stamp would make the emulator delete the items
/// under the suite's feet.
fn stored(date: NaiveDate, seed: u32) -> StoredReport {
    StoredReport::new(sample_report(date, seed), Timestamp::now())
}

/// Runs every [`ReportStore`] check against `store`, which must hold no report at start.
pub async fn report_store_suite(store: &dyn ReportStore) {
    let name = store.describe();
    assert!(!name.is_empty(), "describe() must name the target");
    let d1 = day("2031-01-01");
    let d2 = day("2031-01-02");
    let d3 = day("2031-01-03");

    // not found
    let err = store.get(d1).await.expect_err("get of a missing date");
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "[{name}] missing date: {err}"
    );
    assert!(
        err.to_string().contains("2031-01-01"),
        "[{name}] a not-found message names the date: {err}"
    );
    assert_eq!(
        store.list(DateRange::ALL).await.unwrap(),
        Vec::<NaiveDate>::new(),
        "[{name}] the store must start empty"
    );

    // put / get round trip, exactly equal
    let first = stored(d1, 1);
    let location = store.put(&first).await.expect("put");
    assert!(!location.is_empty(), "[{name}] put returns a location");
    let back = store.get(d1).await.expect("get after put");
    assert_eq!(back, first, "[{name}] the report must round-trip equal");

    // overwrite is an upsert
    let second = stored(d1, 2);
    store.put(&second).await.expect("second put");
    assert_eq!(
        store.get(d1).await.unwrap(),
        second,
        "[{name}] a second put replaces the first"
    );
    assert_eq!(
        store.list(DateRange::ALL).await.unwrap(),
        vec![d1],
        "[{name}] one report per date after two puts"
    );

    // concurrent puts of one date leave one report, equal to one of those written
    let writes: Vec<StoredReport> = (10..15).map(|s| stored(d2, s)).collect();
    let results = join_all(writes.iter().map(|r| store.put(r))).await;
    for r in results {
        r.expect("concurrent put");
    }
    let listed = store.list(DateRange::ALL).await.unwrap();
    if listed != vec![d1, d2] {
        // Say what the store holds, to tell a listing fault from a lost report.
        let d1_now = store.get(d1).await.map(|r| r.date);
        let again = store.list(DateRange::ALL).await;
        panic!(
            "[{name}] concurrent puts of one date must leave one report per date: listed \
             {listed:?}, expected [{d1}, {d2}]; get({d1}) now = {d1_now:?}; listed again = {again:?}"
        );
    }
    let winner = store.get(d2).await.unwrap();
    assert!(
        writes.contains(&winner),
        "[{name}] the stored report is one of those written, whole"
    );

    // list by range, sorted
    store.put(&stored(d3, 3)).await.unwrap();
    let range = |f: Option<&str>, t: Option<&str>| {
        DateRange::new(f.map(day), t.map(day)).expect("valid range")
    };
    assert_eq!(store.list(DateRange::ALL).await.unwrap(), vec![d1, d2, d3]);
    assert_eq!(
        store
            .list(range(Some("2031-01-02"), Some("2031-01-03")))
            .await
            .unwrap(),
        vec![d2, d3],
        "[{name}] inclusive range"
    );
    assert_eq!(
        store.list(range(Some("2031-01-02"), None)).await.unwrap(),
        vec![d2, d3],
        "[{name}] open-ended range"
    );
    assert_eq!(
        store.list(range(None, Some("2031-01-01"))).await.unwrap(),
        vec![d1],
        "[{name}] range open at the start"
    );
    assert!(
        store
            .list(range(Some("2030-01-01"), Some("2030-12-31")))
            .await
            .unwrap()
            .is_empty(),
        "[{name}] empty range"
    );

    // delete, and delete again
    store.delete(d2).await.expect("delete");
    let err = store.get(d2).await.expect_err("get after delete");
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "[{name}] after delete: {err}"
    );
    store
        .delete(d2)
        .await
        .expect("deleting a missing report succeeds");
    assert_eq!(store.list(DateRange::ALL).await.unwrap(), vec![d1, d3]);

    for d in [d1, d3] {
        store.delete(d).await.unwrap();
    }
    assert!(store.list(DateRange::ALL).await.unwrap().is_empty());

    version_follows_writes(store).await;
    summaries_version_follows_writes(store).await;
    summaries_follow_the_reports(store).await;
    newer_inputs_win(store).await;
    a_large_report_round_trips(store).await;
}

/// A report of 17 MB (over MongoDB's 16 MB document limit and DynamoDB's 400 KB item
/// limit) round-trips exactly: each backend stores it as it must (compressed where its
/// limit requires).
async fn a_large_report_round_trips(store: &dyn ReportStore) {
    let name = store.describe();
    let d = day("2031-03-01");
    let mut large = stored(d, 7);
    // Real reports grow by their roadworks and alerts: many similar entries, which compress
    // well.
    let roadwork = large.report.chantiers_actifs[0].clone();
    large.report.chantiers_actifs = (0..60_000)
        .map(|i| crate::Roadwork {
            identifiant: format!("CP{i:07}-{}", "travaux de voirie, rue de Rivoli ".repeat(8)),
            ..roadwork.clone()
        })
        .collect();
    let json = serde_json::to_vec(&large.report).unwrap().len();
    assert!(json > 17_000_000, "the report is over 16 MB ({json} bytes)");
    store
        .put(&large)
        .await
        .unwrap_or_else(|e| panic!("[{name}] a {json}-byte report must be stored: {e}"));
    let back = store.get(d).await.expect("get of the large report");
    assert!(
        back == large,
        "[{name}] the large report must round-trip equal"
    );
    store.delete(d).await.unwrap();
}

/// The summaries of `from..=to`, oldest first, in one page.
async fn summaries_of(
    store: &dyn ReportStore,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<ReportSummary> {
    let range = DateRange::new(Some(from), Some(to)).expect("valid range");
    store
        .summaries(SummaryQuery::oldest_first(range, 1000))
        .await
        .unwrap_or_else(|e| panic!("[{}] summaries: {e}", store.describe()))
}

/// The summary index says what the reports do: written with each report, replaced with it,
/// removed with it, in date order both ways, by pages, across years.
async fn summaries_follow_the_reports(store: &dyn ReportStore) {
    let name = store.describe();
    // Across a year's end: stores may keep their index by year.
    let days = [
        day("2031-12-30"),
        day("2031-12-31"),
        day("2032-01-01"),
        day("2032-01-03"),
    ];
    let all = DateRange::ALL;
    assert!(
        store
            .summaries(SummaryQuery::oldest_first(all, 10))
            .await
            .unwrap()
            .is_empty(),
        "[{name}] no summary in an empty store"
    );
    let mut written = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let mut report = stored_from(*d, 40 + i as u32, 1_700_000_000_000 + i as i64);
        if i == 0 {
            report
                .built_from
                .as_mut()
                .expect("built from")
                .sections
                .insert(
                    "comptages".into(),
                    SectionOrigin {
                        from: SectionFrom::Raw,
                        inputs: vec!["comptages-routiers-permanents.csv".into()],
                    },
                );
        }
        store.put(&report).await.expect("put");
        written.push(report);
    }
    let expected: Vec<ReportSummary> = written.iter().map(ReportSummary::of).collect();
    assert_eq!(
        store
            .summaries(SummaryQuery::oldest_first(all, 10))
            .await
            .unwrap(),
        expected,
        "[{name}] every summary, oldest first, equal to the reports'"
    );
    assert!(
        expected.iter().all(|s| s.built_from.is_some()),
        "[{name}] the summaries say what the reports were built from"
    );
    let mut newest: Vec<ReportSummary> = expected.clone();
    newest.reverse();
    assert_eq!(
        store
            .summaries(SummaryQuery::newest_first(all, 3))
            .await
            .unwrap(),
        newest[..3].to_vec(),
        "[{name}] newest first, limited"
    );
    assert_eq!(
        summaries_of(store, day("2031-12-31"), day("2032-01-02")).await,
        expected[1..3].to_vec(),
        "[{name}] an inclusive range across the year's end"
    );

    // Pages of one, both ways: every summary once, in order.
    for newest_first in [false, true] {
        let mut query = Some(SummaryQuery {
            range: all,
            limit: 1,
            newest_first,
        });
        let mut pages = Vec::new();
        while let Some(q) = query {
            let page = store.summaries(q).await.unwrap();
            assert!(page.len() <= 1, "[{name}] a page holds at most its limit");
            query = page.last().and_then(|s| q.after(s.date));
            pages.extend(page);
            assert!(pages.len() <= days.len(), "[{name}] paging ends");
        }
        let want = if newest_first { &newest } else { &expected };
        assert_eq!(&pages, want, "[{name}] pages, newest first: {newest_first}");
    }

    // Overwritten by a newer build: the summary is the new report's.
    let rewritten = stored_from(days[1], 50, 1_700_000_100_000);
    store.put(&rewritten).await.expect("newer build");
    assert_eq!(
        summaries_of(store, days[1], days[1]).await,
        vec![ReportSummary::of(&rewritten)],
        "[{name}] a report overwritten by a newer one: the newer's summary"
    );

    // Removed with the report.
    store.delete(days[2]).await.unwrap();
    let mut collected = Vec::new();
    store
        .for_each_summary(all, &mut |s| collected.push(s.date))
        .await
        .unwrap();
    assert_eq!(
        collected,
        vec![days[0], days[1], days[3]],
        "[{name}] a deleted report leaves no summary"
    );
    for d in days {
        store.delete(d).await.unwrap();
    }
    assert!(
        store
            .summaries(SummaryQuery::oldest_first(all, 10))
            .await
            .unwrap()
            .is_empty(),
        "[{name}] no summary left"
    );
}

/// A store's version token, when it has one, changes with every write of the date.
async fn version_follows_writes(store: &dyn ReportStore) {
    let name = store.describe();
    let d = day("2031-02-01");
    assert_eq!(
        store.version(d).await.unwrap(),
        None,
        "[{name}] no report, no token"
    );
    store.put(&stored(d, 1)).await.unwrap();
    let first = store.version(d).await.unwrap();
    assert_eq!(
        store.version(d).await.unwrap(),
        first,
        "[{name}] stable without writes"
    );
    store.put(&stored(d, 2)).await.unwrap();
    let second = store.version(d).await.unwrap();
    if first.is_some() {
        assert_ne!(first, second, "[{name}] a write changes the token");
    }
    store.put(&stored(d, 2)).await.unwrap();
    if second.is_some() {
        assert_ne!(
            store.version(d).await.unwrap(),
            second,
            "[{name}] even rewriting the same content changes the token"
        );
    }
    store.delete(d).await.unwrap();
    assert_eq!(
        store.version(d).await.unwrap(),
        None,
        "[{name}] deleted, no token"
    );
}

/// A store's token of the summaries of a range, when it has one, is stable without writes
/// and changes with every write and removal of a report of the range.
async fn summaries_version_follows_writes(store: &dyn ReportStore) {
    let name = store.describe();
    let (d1, d2) = (day("2031-04-01"), day("2031-04-02"));
    let range = DateRange {
        from: Some(d1),
        to: Some(d2),
    };
    let token = || async { store.summaries_version(range).await.unwrap() };
    store.put(&stored(d1, 1)).await.unwrap();
    let first = token().await;
    assert_eq!(token().await, first, "[{name}] stable without writes");
    if first.is_none() {
        // No token: nothing more to check; leave the store empty for the next checks.
        store.delete(d1).await.unwrap();
        return;
    }
    let mut seen = vec![first];
    let mut expect_new = |now: Option<String>, what: &str| {
        assert!(now.is_some(), "[{name}] a token after {what}");
        assert!(!seen.contains(&now), "[{name}] {what} changes the token");
        seen.push(now);
    };
    store.put(&stored(d2, 1)).await.unwrap();
    expect_new(token().await, "a new report of the range");
    store.put(&stored(d2, 2)).await.unwrap();
    expect_new(token().await, "a report replaced");
    store.put(&stored(d2, 2)).await.unwrap();
    expect_new(token().await, "the same report written again");
    store.delete(d1).await.unwrap();
    expect_new(token().await, "a report removed");
    store.delete(d2).await.unwrap();
    let empty = token().await;
    assert!(
        !seen.contains(&empty),
        "[{name}] the last report removed changes the token"
    );
}

/// An envelope of `date` built from inputs last modified at `newest_ms`.
pub fn stored_from(date: NaiveDate, seed: u32, newest_ms: i64) -> StoredReport {
    stored(date, seed).built_from(crate::Provenance::of(vec![crate::InputVersion {
        location: format!("s3://inputs/metrics/bikes_metrics_{date}.json"),
        size: 1000 + u64::from(seed),
        version: format!("\"etag-{seed}\""),
        modified_ms: newest_ms,
    }]))
}

/// "Newer inputs win": a store keeps the report built from the newest inputs whatever the
/// order of the writes, equal inputs rewrite, and envelopes that do not say replace as
/// before.
async fn newer_inputs_win(store: &dyn ReportStore) {
    let name = store.describe();
    let d = day("2031-02-01");
    let (old_ms, new_ms) = (1_700_000_000_000, 1_700_000_060_000);

    // Older after newer: refused, the newer kept.
    let newer = stored_from(d, 21, new_ms);
    store.put(&newer).await.expect("put of the newer");
    let older = stored_from(d, 22, old_ms);
    let err = store
        .put(&older)
        .await
        .expect_err("an older build must be refused");
    assert_eq!(err.kind(), ErrorKind::Superseded, "[{name}] {err}");
    assert!(
        err.to_string().contains("2031-02-01"),
        "[{name}] the refusal names the date: {err}"
    );
    assert_eq!(
        store.get(d).await.unwrap(),
        newer,
        "[{name}] the newer stays"
    );
    assert_eq!(
        summaries_of(store, d, d).await,
        vec![ReportSummary::of(&newer)],
        "[{name}] a refused write leaves the summary of the newer"
    );

    // Equal inputs rewrite (a second delivery of one event).
    let again = stored_from(d, 23, new_ms);
    store.put(&again).await.expect("equal inputs rewrite");
    assert_eq!(
        store.get(d).await.unwrap(),
        again,
        "[{name}] equal inputs rewrite"
    );

    // Newer after older: replaces.
    let newest = stored_from(d, 24, new_ms + 1);
    store.put(&newest).await.expect("a newer build replaces");
    assert_eq!(
        store.get(d).await.unwrap(),
        newest,
        "[{name}] newer replaces"
    );

    // An envelope that does not say replaces, and is replaced by anything.
    let unsaid = stored(d, 25);
    store
        .put(&unsaid)
        .await
        .expect("an envelope without provenance replaces");
    assert_eq!(store.get(d).await.unwrap(), unsaid);
    store
        .put(&older)
        .await
        .expect("anything replaces an envelope without provenance");
    assert_eq!(store.get(d).await.unwrap(), older);

    // Concurrent builds from different inputs: the newest wins, whatever the interleaving.
    let d2 = day("2031-02-02");
    let builds: Vec<StoredReport> = (0..6)
        .map(|i| stored_from(d2, 30 + i, old_ms + i64::from((i * 7) % 6) * 1000))
        .collect();
    let results = join_all(builds.iter().map(|r| store.put(r))).await;
    for r in &results {
        if let Err(e) = r {
            assert_eq!(
                e.kind(),
                ErrorKind::Superseded,
                "[{name}] concurrent put: {e}"
            );
        }
    }
    let newest_ms = builds
        .iter()
        .map(|b| b.built_from.as_ref().unwrap().newest_modified_ms)
        .max()
        .unwrap();
    let kept = store.get(d2).await.unwrap();
    assert_eq!(
        kept.built_from.as_ref().unwrap().newest_modified_ms,
        newest_ms,
        "[{name}] concurrent builds: the newest inputs win"
    );
    assert!(builds.contains(&kept), "[{name}] kept whole");
    assert_eq!(
        summaries_of(store, d2, d2).await,
        vec![ReportSummary::of(&kept)],
        "[{name}] concurrent builds: the summary is the kept report's"
    );
    for day in [d, d2] {
        store.delete(day).await.unwrap();
    }
}

/// Runs every [`BlobSink`] check against `sink`, which must hold no blob at start.
pub async fn blob_sink_suite(sink: &dyn BlobSink) {
    let name = sink.describe();
    assert!(!name.is_empty(), "describe() must name the target");
    let k1 = BlobKey::report_csv(day("2031-01-01"));
    let k2 = BlobKey::report_csv(day("2031-01-02"));
    let nested = BlobKey::new("archive/2031/daily_report_2031-01-03.csv").unwrap();

    // not found
    let err = sink.get(&k1).await.expect_err("get of a missing key");
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "[{name}] missing key: {err}"
    );
    assert!(
        err.to_string().contains(k1.as_str()),
        "[{name}] a not-found message names the key: {err}"
    );
    assert!(
        sink.list("").await.unwrap().is_empty(),
        "[{name}] must start empty"
    );

    // put / get
    let csv = "Section;Valeur\nTotal vélos Paris;4699\n\"a;b\";\"dit \"\"x\"\"\"\n";
    let location = sink
        .put(&k1, Bytes::from(csv), CSV_CONTENT_TYPE)
        .await
        .expect("put");
    assert_eq!(
        location,
        sink.location(&k1),
        "[{name}] put returns location()"
    );
    assert!(
        location.ends_with(k1.as_str()),
        "[{name}] the location ends with the key: {location}"
    );
    assert_eq!(sink.get(&k1).await.unwrap(), Bytes::from(csv));

    // overwrite
    sink.put(&k1, Bytes::from_static(b"v2"), CSV_CONTENT_TYPE)
        .await
        .unwrap();
    assert_eq!(sink.get(&k1).await.unwrap(), Bytes::from_static(b"v2"));

    // binary and empty payloads, nested keys
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    sink.put(&k2, Bytes::from(binary.clone()), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(sink.get(&k2).await.unwrap(), Bytes::from(binary));
    sink.put(&nested, Bytes::new(), CSV_CONTENT_TYPE)
        .await
        .unwrap();
    assert_eq!(sink.get(&nested).await.unwrap(), Bytes::new());

    // concurrent puts of one key leave one whole blob
    let payloads: Vec<Bytes> = (0..5u8).map(|i| Bytes::from(vec![i; 100_000])).collect();
    let results = join_all(
        payloads
            .iter()
            .map(|p| sink.put(&k2, p.clone(), CSV_CONTENT_TYPE)),
    )
    .await;
    for r in results {
        r.expect("concurrent put");
    }
    let winner = sink.get(&k2).await.unwrap();
    assert!(
        payloads.contains(&winner),
        "[{name}] concurrent puts leave one whole blob"
    );

    // list by prefix, sorted
    assert_eq!(
        sink.list("").await.unwrap(),
        vec![nested.clone(), k1.clone(), k2.clone()],
        "[{name}] every key, sorted, no staging files"
    );
    assert_eq!(
        sink.list("daily_report_").await.unwrap(),
        vec![k1.clone(), k2.clone()]
    );
    assert_eq!(sink.list("archive/").await.unwrap(), vec![nested.clone()]);
    assert!(sink.list("nothing-here").await.unwrap().is_empty());

    // invalid keys never reach a backend
    for bad in ["../escape.csv", "/abs.csv", "a\\b.csv", "nul\0.csv"] {
        assert_eq!(
            BlobKey::new(bad).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
    }

    // delete, and delete again
    sink.delete(&k1).await.expect("delete");
    assert_eq!(
        sink.get(&k1).await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "[{name}] after delete"
    );
    sink.delete(&k1)
        .await
        .expect("deleting a missing blob succeeds");
    for k in [&k2, &nested] {
        sink.delete(k).await.unwrap();
    }
    assert!(sink.list("").await.unwrap().is_empty());
}

/// A [`crate::SetupProgress`] that records what it is told, for tests of setup's long steps.
#[derive(Debug, Default)]
pub struct RecordedProgress {
    /// Each step started: what, and its total.
    pub steps: std::sync::Mutex<Vec<(String, u64)>>,
    /// Reports done, over all steps.
    pub advanced: std::sync::atomic::AtomicU64,
    /// Steps finished.
    pub finished: std::sync::atomic::AtomicU64,
}

impl RecordedProgress {
    /// Asserts one step of `total` reports, each advanced once, then finished; `what` is in
    /// its message.
    pub fn assert_one_step(&self, what: &str, total: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let steps = self.steps.lock().unwrap().clone();
        assert_eq!(steps.len(), 1, "one step: {steps:?}");
        assert!(steps[0].0.contains(what), "{steps:?}");
        assert_eq!(steps[0].1, total, "{steps:?}");
        assert_eq!(self.advanced.load(SeqCst), total, "each report once");
        assert_eq!(self.finished.load(SeqCst), 1, "finished once");
    }
}

impl crate::SetupProgress for RecordedProgress {
    fn start(&self, what: &str, total: u64) {
        self.steps.lock().unwrap().push((what.to_string(), total));
    }
    fn advance(&self) {
        self.advanced
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
