//! The previous weeks' reports of a run, for `evolution_vs_semaine_precedente`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use chrono::NaiveDate;
use cityflow_core::evolution::{previous_weeks, PastWeek, WeekFigures, WEEKS};
use cityflow_core::{DailyReport, ErrorKind, Evolution, ReportStore, ReportStoreExt};
use futures_util::future::join_all;

/// How long a report waits for its previous weeks' reports, all four reads together. A
/// reference is worth less than the export itself: a store that does not answer within this
/// budget makes the comparison unavailable and leaves the export its own full timeouts, so
/// that a run against a stopped store still fails within the bounds of the README (an
/// unavailable target within 15 s) plus this budget at most. A healthy store answers these
/// small reads in milliseconds.
pub const REFERENCE_READ_BUDGET: Duration = Duration::from_secs(2);

/// What a run knows of past reports: the ones it built itself, and the ones it read from the
/// report store, each read at most once.
///
/// A report built in the run is [remembered](History::remember) before any export, so a
/// later day of the same run compares with it even before it is exported, or when its
/// export failed. The store is read only for the dates the run did not build: in a backfill
/// of N consecutive days, at most 28 reads in all instead of 4 per report. When a read finds
/// the store unavailable, the run stops asking it (each later report says why its reference
/// is unavailable) instead of waiting for its timeouts again.
#[derive(Debug, Default)]
pub struct History {
    known: Mutex<HashMap<NaiveDate, PastWeek>>,
    /// Why the store could not be read, once a read found it unavailable.
    store_down: Mutex<Option<String>>,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    /// A report built in this run: later days of the run compare with it.
    pub fn remember(&self, report: &DailyReport) {
        self.lock_known().insert(
            report.date,
            PastWeek::Found(Arc::new(WeekFigures::of(report))),
        );
    }

    /// Fills `report`'s comparison with its previous weeks and returns the warnings of the
    /// reads (a reference that could not be read, naming the store). Never fails: a reference
    /// that cannot be had makes the comparison unavailable, not the report.
    pub async fn fill_evolution(
        &self,
        store: &dyn ReportStore,
        report: &mut DailyReport,
    ) -> Vec<String> {
        let dates = previous_weeks(report.date);
        let reads = join_all(dates.iter().map(|d| self.week(store, *d)));
        let weeks: Vec<PastWeek> = match tokio::time::timeout(REFERENCE_READ_BUDGET, reads).await {
            Ok(weeks) => weeks,
            Err(_) => {
                let why = format!(
                    "{} did not answer within {} s",
                    store.describe(),
                    REFERENCE_READ_BUDGET.as_secs()
                );
                *self.lock_down() = Some(why);
                // What was known or read in time stays; the rest is unreadable.
                join_all(dates.iter().map(|d| self.week(store, *d))).await
            }
        };
        let weeks: [PastWeek; WEEKS] = weeks.try_into().expect("one per previous week");
        let mut warnings = Vec::new();
        if let PastWeek::Unreadable(why) = &weeks[0] {
            warnings.push(format!(
                "{}: évolution vs semaine précédente indisponible, la référence du {} n'a pas pu être lue : {why}",
                report.date, dates[0]
            ));
        }
        report.evolution_vs_semaine_precedente = Evolution::compute(report, &weeks);
        warnings
    }

    async fn week(&self, store: &dyn ReportStore, date: NaiveDate) -> PastWeek {
        if let Some(known) = self.lock_known().get(&date) {
            return known.clone();
        }
        if let Some(why) = self.lock_down().clone() {
            return PastWeek::Unreadable(why);
        }
        let week = match store.get_opt(date).await {
            Ok(Some(stored)) => PastWeek::Found(Arc::new(WeekFigures::of(&stored.report))),
            Ok(None) => PastWeek::Missing,
            Err(e) => {
                let why = e.to_string();
                if e.kind() == ErrorKind::Unavailable {
                    *self.lock_down() = Some(why.clone());
                }
                PastWeek::Unreadable(why)
            }
        };
        // A report built meanwhile by this run wins over what the store held.
        self.lock_known().entry(date).or_insert(week).clone()
    }

    fn lock_known(&self) -> std::sync::MutexGuard<'_, HashMap<NaiveDate, PastWeek>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_down(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.store_down.lock().unwrap_or_else(|e| e.into_inner())
    }
}
