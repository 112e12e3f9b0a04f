//! The hourly values of every (arc, local day), packed: 24 hours in 144 bytes, exactly.
//!
//! A year of the Paris network is 3,348 arcs × 365 days = 1.2 million (arc, day) pairs; at the
//! 600 bytes of an unpacked day (25 slots of an `f64`, a `u32` and tags, behind a hash-map
//! entry and a box) the pairs alone took 750 MB. Here one hour is 6 bytes:
//!
//! | bits | holds |
//! |---|---|
//! | `debit: u16` | the flow, 0–65,534 vehicles; 65,535 = no flow |
//! | `meta` 0–2 | 0 = no row; 1–5 = a row and its `Etat trafic`; 6 = the hour is in [`Exact`] |
//! | `meta` 3–4 | the offset the timestamp was written with: 0 = +01:00, 1 = +02:00, 2 = Z |
//! | `meta` 5–7 | the occupancy's decimal places, 0–6; 7 = no occupancy |
//! | `meta` 8–31 | the occupancy's digits as an integer, below 2²⁴ |
//!
//! Why exact: the occupancy is kept as the decimal it was written as (`12.345` is 12,345 and 3
//! places), and it is read back as `12345 / 10³` in `f64`. Both numbers are exact in `f64` and
//! IEEE division rounds correctly, so the result is the double nearest to the written
//! decimal: the very value `str::parse::<f64>` gives for the text. Every figure therefore
//! matches, bit for bit, what the unpacked values gave. An hour that does not fit (a flow of
//! 65,535 or more, an occupancy with more than 6 decimals, in exponent notation or written
//! `,5`, an offset other than +01:00, +02:00 and Z) keeps its full values in [`Exact`], a side
//! table: nothing is rounded, and real exports never use it.
//!
//! The 25th hour of the autumn day (2 h happens twice) lives in a side table too, so that the
//! 364 other days do not pay for it. Pairs are appended to pages of fixed size, never moved;
//! each arc keeps its days sorted, 8 bytes a pair. Nothing here depends on the order of the
//! rows in the file.

use std::collections::HashMap;

use crate::aggregate::{Etat, Slot};

/// Hours stored inline: every day but the autumn one has at most 24.
const INLINE_HOURS: usize = 24;
/// Pairs per page: 4,096 × 144 bytes, about 590 KB.
const PAGE_PAIRS: usize = 4096;

const STATE_BITS: u32 = 0b111;
const STATE_EXACT: u32 = 6;
const OFFSET_SHIFT: u32 = 3;
const DECIMALS_SHIFT: u32 = 5;
const NO_TAUX: u32 = 7;
const MANTISSA_SHIFT: u32 = 8;
/// The occupancy's digits must be below this.
pub(crate) const MAX_MANTISSA: u32 = 1 << 24;
/// The most decimal places kept packed.
pub(crate) const MAX_DECIMALS: u8 = 6;
const NO_DEBIT: u16 = u16::MAX;

/// An occupancy as it was written, when it can be packed: `mantissa / 10^decimals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub mantissa: u32,
    pub decimals: u8,
}

impl Decimal {
    pub fn value(self) -> f64 {
        f64::from(self.mantissa) / POWERS[self.decimals as usize]
    }

    /// Whether the value is at most `limit`, compared exactly.
    pub fn at_most(self, limit: u32) -> bool {
        u64::from(self.mantissa) <= u64::from(limit) * 10u64.pow(u32::from(self.decimals))
    }
}

const POWERS: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// One row's values for its hour, as parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hour {
    /// `None`: no flow (missing or rejected).
    pub debit: Option<u32>,
    /// The occupancy; `None`: missing or rejected.
    pub taux: Option<f64>,
    /// The occupancy as written, when it is a plain decimal that can be packed.
    pub taux_decimal: Option<Decimal>,
    pub offset_minutes: i16,
    pub etat: Etat,
}

impl Hour {
    /// The packed form, or `None` when a value does not fit (then it goes to [`Exact`]).
    fn pack(&self) -> Option<(u16, u32)> {
        let debit = match self.debit {
            None => NO_DEBIT,
            Some(d) if d < u32::from(NO_DEBIT) => d as u16,
            Some(_) => return None,
        };
        let offset = match self.offset_minutes {
            60 => 0,
            120 => 1,
            0 => 2,
            _ => return None,
        };
        let taux = match (self.taux, self.taux_decimal) {
            (None, _) => NO_TAUX << DECIMALS_SHIFT,
            (Some(_), Some(d)) if d.mantissa < MAX_MANTISSA && d.decimals <= MAX_DECIMALS => {
                (u32::from(d.decimals) << DECIMALS_SHIFT) | (d.mantissa << MANTISSA_SHIFT)
            }
            (Some(_), _) => return None,
        };
        let state = self.etat as u32 + 1;
        Some((debit, state | (offset << OFFSET_SHIFT) | taux))
    }
}

/// 24 hours of one arc on one day.
#[derive(Clone, Copy)]
struct Packed {
    debit: [u16; INLINE_HOURS],
    meta: [u32; INLINE_HOURS],
}

impl Packed {
    const EMPTY: Packed = Packed {
        debit: [NO_DEBIT; INLINE_HOURS],
        meta: [0; INLINE_HOURS],
    };
}

fn unpack(debit: u16, meta: u32) -> Slot {
    let state = meta & STATE_BITS;
    if state == 0 {
        return Slot::NONE;
    }
    let offset_minutes = match (meta >> OFFSET_SHIFT) & 0b11 {
        0 => 60,
        1 => 120,
        _ => 0,
    };
    let decimals = (meta >> DECIMALS_SHIFT) & 0b111;
    let taux = if decimals == NO_TAUX {
        None
    } else {
        Some(
            Decimal {
                mantissa: meta >> MANTISSA_SHIFT,
                decimals: decimals as u8,
            }
            .value(),
        )
    };
    Slot::new(
        (debit != NO_DEBIT).then_some(u32::from(debit)),
        taux,
        offset_minutes,
        Etat::ALL[(state - 1) as usize],
    )
}

/// The hours whose values do not pack, kept whole.
type Exact = HashMap<(u32, u8), Slot, crate::fast_hash::BuildFastHasher>;

/// Every (arc, day) of one worker: arcs are this worker's local indices.
#[derive(Default)]
pub(crate) struct HourStore {
    pages: Vec<Vec<Packed>>,
    /// Per arc: (day, pair) sorted by day.
    arc_days: Vec<Vec<(i32, u32)>>,
    /// Per arc: the (day, pair) of its last row. An arc's rows come day after day, 24 to a
    /// day: this small array answers most of them, and the lists of `arc_days`, one
    /// allocation per arc scattered in memory, are read once per day (on a year's file
    /// their cache and TLB misses were a tenth of the pass).
    current: Vec<(i32, u32)>,
    /// The 25th hour of autumn days: pair → (debit, meta).
    hour_25: HashMap<u32, (u16, u32), crate::fast_hash::BuildFastHasher>,
    exact: Exact,
    pairs: u32,
}

/// What [`HourStore::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Put {
    Stored,
    /// The hour already had a row: the first one stays.
    Duplicate,
}

impl HourStore {
    /// Makes room for arc `arc` (indices are handed out in order).
    pub fn add_arc(&mut self) {
        self.arc_days.push(Vec::new());
        self.current.push((i32::MIN, 0));
    }

    pub fn pair_count(&self) -> usize {
        self.pairs as usize
    }

    /// Records `hour` in `slot` (0–24) of `arc` on `day`, unless a row is already there.
    pub fn put(&mut self, arc: u32, day: i64, slot: u32, hour: &Hour) -> Put {
        let pair = self.pair_or_insert(arc, day as i32);
        let (debit, meta) = hour.pack().unwrap_or((NO_DEBIT, STATE_EXACT));
        let (page, at) = (pair as usize / PAGE_PAIRS, pair as usize % PAGE_PAIRS);
        if (slot as usize) < INLINE_HOURS {
            let p = &mut self.pages[page][at];
            if p.meta[slot as usize] != 0 {
                return Put::Duplicate;
            }
            p.debit[slot as usize] = debit;
            p.meta[slot as usize] = meta;
        } else {
            if self.hour_25.contains_key(&pair) {
                return Put::Duplicate;
            }
            self.hour_25.insert(pair, (debit, meta));
        }
        if meta == STATE_EXACT {
            let slot_value = Slot::new(hour.debit, hour.taux, hour.offset_minutes, hour.etat);
            self.exact.insert((pair, slot as u8), slot_value);
        }
        Put::Stored
    }

    fn pair_or_insert(&mut self, arc: u32, day: i32) -> u32 {
        let (current_day, current_pair) = self.current[arc as usize];
        if current_day == day {
            return current_pair;
        }
        let days = &mut self.arc_days[arc as usize];
        // A new day after the last one (the usual case) needs no search.
        let found = match days.last() {
            Some(&(last, _)) if last < day => Err(days.len()),
            _ => days.binary_search_by_key(&day, |(d, _)| *d),
        };
        match found {
            Ok(at) => {
                self.current[arc as usize] = days[at];
                days[at].1
            }
            Err(at) => {
                let pair = self.pairs;
                self.pairs += 1;
                if self.pages.last().is_none_or(|p| p.len() == PAGE_PAIRS) {
                    self.pages.push(Vec::with_capacity(PAGE_PAIRS));
                }
                self.pages.last_mut().expect("a page").push(Packed::EMPTY);
                days.insert(at, (day, pair));
                self.current[arc as usize] = (day, pair);
                pair
            }
        }
    }

    fn pair(&self, arc: u32, day: i64) -> Option<u32> {
        let days = self.arc_days.get(arc as usize)?;
        // An arc usually has a row every day from its first: then `day` is at its distance
        // from the first day, and one read finds it. A report reads every arc's list for one
        // day; a binary search there missed the cache at each of its steps (on a year's file
        // it was 3 % of the whole job).
        let first = i64::from(days.first()?.0);
        if let Some(&(d, pair)) = day
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| days.get(i))
        {
            if i64::from(d) == day {
                return Some(pair);
            }
        }
        let day = i32::try_from(day).ok()?;
        days.binary_search_by_key(&day, |(d, _)| *d)
            .ok()
            .map(|at| days[at].1)
    }

    fn slot(&self, pair: u32, slot: usize) -> Slot {
        let (debit, meta) = if slot < INLINE_HOURS {
            let p = &self.pages[pair as usize / PAGE_PAIRS][pair as usize % PAGE_PAIRS];
            (p.debit[slot], p.meta[slot])
        } else {
            match self.hour_25.get(&pair) {
                Some(&v) => v,
                None => return Slot::NONE,
            }
        };
        if meta == STATE_EXACT {
            return self.exact[&(pair, slot as u8)];
        }
        unpack(debit, meta)
    }

    /// The 25 hours of `arc` on `day`, or `None` when it has no row that day.
    pub fn hours(&self, arc: u32, day: i64) -> Option<[Slot; 25]> {
        let pair = self.pair(arc, day)?;
        Some(std::array::from_fn(|slot| self.slot(pair, slot)))
    }

    /// The days of `arc` with at least one row, sorted.
    pub fn days_of(&self, arc: u32) -> impl Iterator<Item = i64> + '_ {
        self.arc_days[arc as usize]
            .iter()
            .map(|(d, _)| i64::from(*d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(debit: Option<u32>, taux: Option<(u32, u8)>, offset: i16, etat: Etat) -> Hour {
        let decimal = taux.map(|(mantissa, decimals)| Decimal { mantissa, decimals });
        Hour {
            debit,
            taux: decimal.map(Decimal::value),
            taux_decimal: decimal,
            offset_minutes: offset,
            etat,
        }
    }

    #[test]
    fn packed_hours_read_back_exactly() {
        let mut store = HourStore::default();
        store.add_arc();
        let cases = [
            hour(Some(0), Some((0, 0)), 60, Etat::Inconnu),
            hour(
                Some(65_534),
                Some((100_000_000 / 100, 4)),
                120,
                Etat::Bloque,
            ),
            hour(None, None, 0, Etat::Fluide),
            hour(Some(812), Some((12_345, 3)), 60, Etat::PreSature),
            hour(Some(7), Some((MAX_MANTISSA - 1, 6)), 120, Etat::Sature),
        ];
        for (slot, h) in cases.iter().enumerate() {
            assert_eq!(store.put(0, 20_000, slot as u32, h), Put::Stored);
        }
        assert!(store.exact.is_empty(), "all of these pack");
        let hours = store.hours(0, 20_000).unwrap();
        for (slot, h) in cases.iter().enumerate() {
            let s = hours[slot];
            assert!(s.has_row());
            assert_eq!(s.debit(), h.debit);
            assert_eq!(s.taux().map(f64::to_bits), h.taux.map(f64::to_bits));
            assert_eq!(s.offset_minutes, h.offset_minutes);
            assert_eq!(s.etat, h.etat);
        }
        assert!(!hours[cases.len()].has_row());
        // "12.345" read by the standard parser is the same double.
        assert_eq!(hours[3].taux(), Some("12.345".parse::<f64>().unwrap()));
    }

    #[test]
    fn values_that_do_not_pack_are_kept_whole() {
        let mut store = HourStore::default();
        store.add_arc();
        let big_flow = hour(Some(65_535), Some((5, 1)), 60, Etat::Fluide);
        let odd_offset = hour(Some(3), None, 330, Etat::Fluide);
        let long_taux = Hour {
            taux: Some(1.0 / 3.0),
            taux_decimal: None,
            ..hour(Some(4), None, 60, Etat::Sature)
        };
        store.put(0, 5, 0, &big_flow);
        store.put(0, 5, 1, &odd_offset);
        store.put(0, 5, 24, &long_taux);
        assert_eq!(store.exact.len(), 3);
        let hours = store.hours(0, 5).unwrap();
        assert_eq!(hours[0].debit(), Some(65_535));
        assert_eq!(hours[1].offset_minutes, 330);
        assert_eq!(hours[24].taux(), Some(1.0 / 3.0));
        assert_eq!(hours[24].etat, Etat::Sature);
    }

    #[test]
    fn first_row_of_an_hour_stays() {
        let mut store = HourStore::default();
        store.add_arc();
        store.add_arc();
        let first = hour(Some(1), None, 60, Etat::Fluide);
        let second = hour(Some(2), None, 60, Etat::Fluide);
        assert_eq!(store.put(1, 9, 3, &first), Put::Stored);
        assert_eq!(store.put(1, 9, 3, &second), Put::Duplicate);
        assert_eq!(store.put(1, 9, 24, &first), Put::Stored);
        assert_eq!(store.put(1, 9, 24, &second), Put::Duplicate);
        assert_eq!(store.hours(1, 9).unwrap()[3].debit(), Some(1));
        assert!(store.hours(0, 9).is_none());
    }

    #[test]
    fn days_stay_sorted_whatever_the_order_of_rows() {
        let mut store = HourStore::default();
        store.add_arc();
        let h = hour(Some(1), None, 60, Etat::Fluide);
        for day in [7, 3, 9, 1, 3, 8, 2] {
            store.put(0, day, 0, &h);
        }
        assert_eq!(store.days_of(0).collect::<Vec<_>>(), vec![1, 2, 3, 7, 8, 9]);
        assert_eq!(store.pair_count(), 6);
        for day in [1, 2, 3, 7, 8, 9] {
            assert!(store.hours(0, day).is_some(), "day {day}");
        }
        // Gaps, both ends and far away: found neither at their distance from the first day
        // nor by the search.
        for day in [
            0,
            4,
            5,
            6,
            10,
            -1,
            i64::from(i32::MAX) + 1,
            i64::MAX,
            i64::MIN,
        ] {
            assert!(store.hours(0, day).is_none(), "day {day}");
        }
    }

    #[test]
    fn a_pair_is_144_bytes() {
        assert_eq!(std::mem::size_of::<Packed>(), 144);
    }
}
