//! Europe/Paris local time, exactly and fast.
//!
//! France follows the EU rule since 1996: summer time (UTC+2) from the last Sunday of March at
//! 01:00 UTC to the last Sunday of October at 01:00 UTC, UTC+1 otherwise. The transitions are
//! computed once per year; converting an instant is then two comparisons. The tests check
//! every hour of 1996–2099 against the tz database (`chrono-tz`).

use chrono::{Datelike, NaiveDate};

/// The first and last years handled; timestamps outside are rejected as implausible.
pub const FIRST_YEAR: i32 = 1996;
pub const LAST_YEAR: i32 = 2099;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), after H. Hinnant.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number, after H. Hinnant: the inverse of
/// [`days_from_civil`], without going through chrono's calendar arithmetic.
pub fn civil_from_days(day: i64) -> (i32, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

/// The civil date of a day number.
pub fn date_of_day(day: i64) -> NaiveDate {
    let (y, m, d) = civil_from_days(day);
    NaiveDate::from_ymd_opt(y, m, d).expect("a day number within chrono's range")
}

/// The day number of a civil date.
pub fn day_of_date(date: NaiveDate) -> i64 {
    days_from_civil(date.year(), date.month(), date.day())
}

fn last_sunday(year: i32, month: u32) -> i64 {
    let last = NaiveDate::from_ymd_opt(year, month, 31).expect("March and October have 31 days");
    let back = last.weekday().num_days_from_sunday();
    day_of_date(last) - i64::from(back)
}

/// Summer-time intervals `[start, end)` in UTC seconds, per year.
#[derive(Debug, Clone)]
pub struct ParisClock {
    summer: Vec<(i64, i64)>,
}

impl Default for ParisClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ParisClock {
    pub fn new() -> Self {
        let summer = (FIRST_YEAR..=LAST_YEAR)
            .map(|y| {
                (
                    last_sunday(y, 3) * 86_400 + 3_600,
                    last_sunday(y, 10) * 86_400 + 3_600,
                )
            })
            .collect();
        ParisClock { summer }
    }

    /// The UTC offset of Paris at `utc` (seconds since the epoch), in seconds.
    pub fn offset_at(&self, utc: i64) -> i64 {
        let (year, _, _) = civil_from_days(utc.div_euclid(86_400));
        let i = (year.clamp(FIRST_YEAR, LAST_YEAR) - FIRST_YEAR) as usize;
        let (start, end) = self.summer[i];
        if (start..end).contains(&utc) {
            7_200
        } else {
            3_600
        }
    }

    /// The Paris day number of `utc`, and the hour slot within that day (0-based hours since
    /// local midnight: 0..23 on normal days, 0..22 on the spring day, 0..24 on the autumn day).
    pub fn local_day_and_slot(&self, utc: i64) -> (i64, u32) {
        let local = utc + self.offset_at(utc);
        let day = local.div_euclid(86_400);
        let slot = (utc - self.midnight_utc(day)).div_euclid(3_600);
        (day, slot as u32)
    }

    /// The UTC instant of local midnight starting `day`.
    pub fn midnight_utc(&self, day: i64) -> i64 {
        // Transitions happen at 01:00 UTC, after local midnight: the offset two hours before
        // UTC midnight of the same date is the one in force at local midnight.
        let probe = day * 86_400 - 7_200;
        day * 86_400 - self.offset_at(probe)
    }

    /// Hours in local day `day`: 23, 24 or 25.
    pub fn hours_in_day(&self, day: i64) -> u32 {
        ((self.midnight_utc(day + 1) - self.midnight_utc(day)) / 3_600) as u32
    }

    /// Local clock hour (0–23) of slot `slot` of `day`.
    pub fn clock_hour(&self, day: i64, slot: u32) -> u32 {
        let utc = self.midnight_utc(day) + i64::from(slot) * 3_600;
        ((utc + self.offset_at(utc)).rem_euclid(86_400) / 3_600) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Offset, TimeZone};

    #[test]
    fn civil_days_match_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (2025, 11, 4),
            (2100, 12, 31),
            (1996, 3, 31),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let n = days_from_civil(y, m, d);
            assert_eq!(date_of_day(n), date);
            assert_eq!(
                n,
                (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
            );
        }
        // Every day of 1900–2200 against chrono's calendar, both ways.
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for n in -25_567..84_000 {
            let date = epoch + chrono::TimeDelta::days(n);
            assert_eq!(date_of_day(n), date, "day {n}");
            assert_eq!(day_of_date(date), n);
        }
    }

    #[test]
    fn every_hour_from_1996_to_2099_matches_the_tz_database() {
        let clock = ParisClock::new();
        let paris = chrono_tz::Europe::Paris;
        let start = days_from_civil(1996, 1, 1) * 86_400;
        let end = days_from_civil(2100, 1, 1) * 86_400;
        let mut t = start;
        while t < end {
            let dt = chrono::Utc
                .timestamp_opt(t, 0)
                .unwrap()
                .with_timezone(&paris);
            let expected = i64::from(dt.offset().fix().local_minus_utc());
            assert_eq!(clock.offset_at(t), expected, "at {t}");
            let (day, slot) = clock.local_day_and_slot(t);
            assert_eq!(date_of_day(day), dt.date_naive(), "at {t}");
            assert_eq!(
                clock.clock_hour(day, slot),
                chrono::Timelike::hour(&dt),
                "at {t}"
            );
            t += 3_600;
        }
    }

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let clock = ParisClock::new();
        let day = |s: &str| day_of_date(s.parse().unwrap());
        assert_eq!(clock.hours_in_day(day("2025-03-30")), 23);
        assert_eq!(clock.hours_in_day(day("2025-10-26")), 25);
        assert_eq!(clock.hours_in_day(day("2025-11-04")), 24);
        // On the autumn day 02:00 happens twice: slots 2 and 3.
        let d = day("2025-10-26");
        assert_eq!(clock.clock_hour(d, 2), 2);
        assert_eq!(clock.clock_hour(d, 3), 2);
        assert_eq!(clock.clock_hour(d, 24), 23);
        // On the spring day 02:00 does not exist: slot 2 is 03:00.
        assert_eq!(clock.clock_hour(day("2025-03-30"), 2), 3);
    }
}
