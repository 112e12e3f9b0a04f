//! The bike counters of Paris open data ("comptage-velo-donnees-compteurs"): hourly counts
//! per counter, in every format the dataset is served in, into each counter's Paris days.
//!
//! Formats, recognised by their content (gzip by its magic bytes):
//! - the Opendatasoft records JSON `{"total_count": N, "results": [{id_compteur, sum_counts,
//!   date, coordinates: {lon, lat}, …}]}`, as the old tool fetched it page by page;
//! - a bare JSON array of such records, and JSON Lines (one record per line);
//! - the dataset's CSV export: `;`, French headers (`Identifiant du compteur`,
//!   `Comptage horaire`, `Date et heure de comptage`, `Coordonnées géographiques` as `lat,lon`).
//!
//! The rules (docs/inputs.md says why where they differ from the old tool):
//! - a record belongs to the Europe/Paris civil day of its timestamp, whatever file or
//!   partition it came from (23 or 25 hours on DST days);
//! - the same (counter, hour) seen twice counts once: inputs are read oldest first and the
//!   newest value stays;
//! - `sum_counts` missing or null is no measurement; a negative, fractional or non-numeric
//!   count is rejected (not summed, counted);
//! - coordinates outside France are rejected (counted); the counter still counts, in the
//!   "no coordinates" zone.
//!
//! Memory grows with (counter, day) pairs (104 bytes each), never with the input: a year of
//! 200 counters is about 8 MB.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Read};
use std::path::Path;

use chrono::NaiveDate;
use cityflow_core::{FailingSensor, SensorKind};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Serialize;

use crate::csv_input::{parse_number, parse_timestamp, Field, Number};
use crate::fast_hash::BuildFastHasher;
use crate::paris_time::{date_of_day, day_of_date, ParisClock};
use crate::records::{columns, decoded, in_france, read_error, sniff_separator, Block, CsvRecords};
use crate::IngestError;

/// A counter fails on a day when the same non-zero count is seen in more than this many of
/// its hours (stuck; the old tool's threshold).
pub const STUCK_HOURS: u32 = 12;
/// A counter fails on a day when at least this many of its hours have no valid count.
pub const MISSING_HOURS_FAILING: u32 = 6;
/// How many rejected records are kept, with their reason, for messages.
pub const REPORTED_REJECTIONS: usize = 10;

/// No valid count for this hour.
const NO_COUNT: u32 = u32::MAX;

/// One counter, as first seen.
#[derive(Debug, Clone, PartialEq)]
pub struct BikeCounter {
    /// `id_compteur` (`100003096-353242251`).
    pub id: String,
    pub name: String,
    /// (lat, lon), when valid coordinates were seen.
    pub point: Option<(f64, f64)>,
}

/// What was read and what was rejected, over every input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BikeStats {
    pub files: u64,
    pub records: u64,
    /// Records of a (counter, hour) already seen: counted once.
    pub duplicates: u64,
    /// Records without a count (`sum_counts` missing or null, an empty cell).
    pub counts_missing: u64,
    /// Negative, fractional or non-numeric counts: not summed.
    pub counts_rejected: u64,
    /// Records that cannot be placed: no counter id, a timestamp that cannot be read, a CSV
    /// line with a wrong number of fields.
    pub records_rejected: u64,
    /// Coordinates outside France or unreadable: the counter is kept without them.
    pub coordinates_rejected: u64,
    /// The first rejections, `where: why`.
    pub first_rejections: Vec<String>,
}

/// The hourly counts of every counter, by Paris day.
#[derive(Debug, Default)]
pub struct BikeCounts {
    clock: ParisClock,
    counters: Vec<BikeCounter>,
    index: HashMap<Box<[u8]>, u32, BuildFastHasher>,
    days: HashMap<(u32, i64), [u32; 25], BuildFastHasher>,
    /// The Paris days with a record, kept as records arrive (asked for once per report).
    day_numbers: BTreeSet<i64>,
    /// The first rejected records: (file, line or record number, where and why).
    rejections: Vec<(u64, u64, String)>,
    /// Threads parsing a CSV export (0: one per core, at most 4).
    workers: usize,
    /// The UTC bounds `[from, to)` and number of the Paris day of the last record.
    last_day: Option<(i64, i64, i64)>,
    pub stats: BikeStats,
}

/// A count as read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Count {
    #[default]
    Missing,
    Valid(u32),
    /// Negative, fractional, non-numeric.
    Rejected(&'static str),
}

fn count_of_number(v: f64) -> Count {
    if v < 0.0 {
        Count::Rejected("negative count")
    } else if v.fract() != 0.0 {
        Count::Rejected("fractional count")
    } else if v >= f64::from(NO_COUNT) {
        Count::Rejected("count out of range")
    } else {
        Count::Valid(v as u32)
    }
}

/// The bike section of one day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BikeDay {
    /// Σ of the day's valid counts over the counters not failing that day.
    pub total: u64,
    /// The failing counters, by id.
    pub failing: Vec<FailingSensor>,
}

impl BikeCounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts whose CSV inputs are parsed by `workers` threads (0: one per core, at most 4;
    /// 1: on the calling thread). The figures do not depend on it.
    pub fn with_workers(workers: usize) -> Self {
        BikeCounts {
            workers,
            ..Self::default()
        }
    }

    /// Reads one input (any format above, plain or gzip), `name` used in messages. Inputs
    /// read later win over earlier ones for the same (counter, hour): read oldest first.
    pub fn read(
        &mut self,
        name: &Path,
        input: impl Read + Send + 'static,
    ) -> Result<(), IngestError> {
        let mut input = std::io::BufReader::with_capacity(
            1 << 16,
            decoded(input).map_err(|e| read_error(name, e))?,
        );
        let first = loop {
            let buf = input.fill_buf().map_err(|e| read_error(name, e))?;
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => break Some(buf[i]),
                None if buf.is_empty() => break None,
                None => {
                    let n = buf.len();
                    input.consume(n);
                }
            }
        };
        self.stats.files += 1;
        match first {
            None => Err(IngestError::Input {
                path: name.to_path_buf(),
                message: "the file is empty".into(),
            }),
            Some(b'{' | b'[') => self.read_json(name, input),
            Some(_) => self.read_csv(name, &mut input),
        }
    }

    /// Every counter seen, in the order first seen.
    pub fn counters(&self) -> &[BikeCounter] {
        &self.counters
    }

    /// The Paris days with at least one record.
    pub fn days(&self) -> BTreeSet<NaiveDate> {
        self.day_numbers.iter().map(|d| date_of_day(*d)).collect()
    }

    /// Whether a record falls on `date`.
    pub fn has_day(&self, date: NaiveDate) -> bool {
        self.day_numbers.contains(&day_of_date(date))
    }

    /// The counter's counts of `date`, one per hour of the day (23, 24 or 25), `None`
    /// where it has no valid count.
    pub fn hours(&self, counter: usize, date: NaiveDate) -> Vec<Option<u32>> {
        let day = day_of_date(date);
        let n = self.clock.hours_in_day(day) as usize;
        match self.days.get(&(counter as u32, day)) {
            Some(slots) => slots[..n]
                .iter()
                .map(|&c| (c != NO_COUNT).then_some(c))
                .collect(),
            None => vec![None; n],
        }
    }

    /// Each counter's count on `date` (Σ of its valid hourly counts), for the counters with a
    /// record that day, by index into [`BikeCounts::counters`]: the map's dots.
    pub fn counts_on(&self, date: NaiveDate) -> Vec<(usize, u64)> {
        let day = day_of_date(date);
        let n = self.clock.hours_in_day(day) as usize;
        (0..self.counters.len())
            .filter_map(|c| {
                let slots = self.days.get(&(c as u32, day))?;
                let total = slots[..n]
                    .iter()
                    .filter(|s| **s != NO_COUNT)
                    .map(|s| u64::from(*s))
                    .sum();
                Some((c, total))
            })
            .collect()
    }

    /// The bike section of `date`: see the module docs and [`failure`].
    pub fn day(&self, date: NaiveDate) -> BikeDay {
        let day = day_of_date(date);
        let n = self.clock.hours_in_day(day) as usize;
        let mut out = BikeDay::default();
        let mut order: Vec<usize> = (0..self.counters.len()).collect();
        order.sort_by(|a, b| self.counters[*a].id.cmp(&self.counters[*b].id));
        for c in order {
            // On the stack: a year's reports ask for 73,000 counter-days.
            let mut hours = [None; 25];
            if let Some(slots) = self.days.get(&(c as u32, day)) {
                for (h, &s) in hours.iter_mut().zip(&slots[..n]) {
                    *h = (s != NO_COUNT).then_some(s);
                }
            }
            let hours = &hours[..n];
            match failure(hours) {
                Some(reason) => {
                    let missing: Vec<u32> = hours
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| h.is_none())
                        .map(|(slot, _)| self.clock.clock_hour(day, slot as u32))
                        .collect();
                    out.failing.push(FailingSensor {
                        id_compteur: self.counters[c].id.clone(),
                        kind: SensorKind::Bike,
                        raison: Some(reason),
                        heures_manquantes: (!missing.is_empty()).then_some(missing),
                    });
                }
                None => out.total += hours.iter().flatten().map(|&c| u64::from(c)).sum::<u64>(),
            }
        }
        out
    }

    fn counter_index(&mut self, id: &[u8], name: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.counters.len() as u32;
        self.counters.push(BikeCounter {
            id: String::from_utf8_lossy(id).into_owned(),
            name: String::from_utf8_lossy(name).into_owned(),
            point: None,
        });
        self.index.insert(id.into(), i);
        i
    }

    /// Counts a rejected record (`position`: its line, or its record number in JSON) and
    /// keeps the first ones, in input order, with `at` (where) and `why`.
    fn reject(&mut self, position: u64, at: impl FnOnce() -> String, why: &str) {
        self.stats.records_rejected += 1;
        let key = (self.stats.files, position);
        if self.rejections.len() < REPORTED_REJECTIONS
            || self
                .rejections
                .last()
                .is_some_and(|(f, p, _)| (*f, *p) > key)
        {
            self.rejections
                .push((key.0, key.1, format!("{}: {why}", at())));
            self.rejections.sort();
            self.rejections.truncate(REPORTED_REJECTIONS);
            self.stats.first_rejections =
                self.rejections.iter().map(|(_, _, r)| r.clone()).collect();
        }
    }

    /// One record: its counter, the instant of its hour, its count and coordinates.
    fn record(&mut self, counter: u32, utc: i64, count: Count, point: Option<Option<(f64, f64)>>) {
        self.stats.records += 1;
        if let Some(p) = point {
            match p {
                Some((lat, lon)) if in_france(lat, lon) => {
                    let c = &mut self.counters[counter as usize];
                    if c.point.is_none() {
                        c.point = Some((lat, lon));
                    }
                }
                _ => self.stats.coordinates_rejected += 1,
            }
        }
        // A counter's rows come hour after hour: the Paris day of the last one is most often
        // this one's too (its bounds spare the offset's calendar arithmetic).
        let (day, slot) = match self.last_day {
            Some((from, to, day)) if (from..to).contains(&utc) => {
                (day, ((utc - from) / 3_600) as u32)
            }
            _ => {
                let (day, slot) = self.clock.local_day_and_slot(utc);
                self.last_day = Some((
                    self.clock.midnight_utc(day),
                    self.clock.midnight_utc(day + 1),
                    day,
                ));
                (day, slot)
            }
        };
        let slots = self.days.entry((counter, day)).or_insert_with(|| {
            self.day_numbers.insert(day);
            [NO_COUNT; 25]
        });
        let value = match count {
            Count::Valid(v) => v,
            Count::Missing => {
                self.stats.counts_missing += 1;
                return;
            }
            Count::Rejected(_) => {
                self.stats.counts_rejected += 1;
                return;
            }
        };
        let slot = &mut slots[slot.min(24) as usize];
        if *slot != NO_COUNT {
            self.stats.duplicates += 1;
        }
        *slot = value;
    }

    fn read_csv(&mut self, name: &Path, input: &mut dyn Read) -> Result<(), IngestError> {
        let columns_error = |message: String| IngestError::Columns {
            path: name.to_path_buf(),
            message,
        };
        let (header, records) = CsvRecords::open(name, input)?;
        let separator = sniff_separator(&header).map_err(columns_error)?;
        let [id, nom, count, date, coords] = columns(
            &header,
            separator,
            [
                ("Identifiant du compteur", true),
                ("Nom du compteur", false),
                ("Comptage horaire", true),
                ("Date et heure de comptage", true),
                ("Coordonnées géographiques", false),
            ],
        )
        .map_err(columns_error)?;
        let layout = CsvLayout {
            separator,
            width: header.split(char::from(separator)).count(),
            id: id.expect("required"),
            nom,
            count: count.expect("required"),
            date: date.expect("required"),
            coords,
        };
        let workers = match self.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            n => n,
        };
        if workers < 2 {
            let mut rows = CsvRows::new(&layout, name);
            records.for_each(separator, &mut |fields, _, line| {
                rows.row(self, fields, line);
                Ok(())
            })?;
            return Ok(());
        }
        // Two or more workers, each parsing the counters whose id hashes to it (so that each
        // counter's rows are read in file order by one of them, later rows winning), on
        // blocks the reader has found and checked; their counts are merged at the end.
        let parts = std::thread::scope(|scope| -> Result<Vec<BikeCounts>, IngestError> {
            let mut senders = Vec::with_capacity(workers);
            let mut handles = Vec::with_capacity(workers);
            for shard in 0..workers {
                // Two blocks in flight per worker bound the memory held by the pipeline.
                let (tx, rx) = std::sync::mpsc::sync_channel::<std::sync::Arc<Block>>(2);
                senders.push(tx);
                let layout = &layout;
                handles.push(scope.spawn(move || {
                    let mut part = BikeCounts::new();
                    let mut rows = CsvRows::new(layout, name);
                    for block in rx {
                        let mut fields = Vec::with_capacity(32);
                        for (start, end, line) in block.spans() {
                            if owner(block.bytes(start, end), layout.separator, workers) != shard {
                                continue;
                            }
                            let split = block
                                .split(start, end, layout.separator, layout.width, &mut fields)
                                .map(|()| &fields[..]);
                            rows.row(&mut part, split, line);
                        }
                    }
                    part
                }));
            }
            // Blocks handed out, oldest first: once every worker is done with one, its
            // buffers go back to the reader.
            let mut in_flight: std::collections::VecDeque<std::sync::Arc<Block>> =
                std::collections::VecDeque::new();
            let sent = records.for_each_block(layout.separator, &mut |block| {
                let block = std::sync::Arc::new(block);
                for tx in &senders {
                    // A worker gone is a panic, reported at its join below.
                    let _ = tx.send(block.clone());
                }
                in_flight.push_back(block);
                if in_flight
                    .front()
                    .is_some_and(|b| std::sync::Arc::strong_count(b) == 1)
                {
                    let done = in_flight.pop_front().expect("checked");
                    return Ok(std::sync::Arc::into_inner(done));
                }
                Ok(None)
            });
            drop(senders);
            let parts: Vec<BikeCounts> = handles
                .into_iter()
                .map(|h| h.join())
                .collect::<Result<_, _>>()
                .map_err(|_| IngestError::Internal("a bike parsing worker panicked".into()))?;
            sent?;
            Ok(parts)
        })?;
        for part in parts {
            self.merge(part);
        }
        Ok(())
    }

    /// Adds the counts of `part` (read from the same input by another worker), its values
    /// winning for the same (counter, hour).
    fn merge(&mut self, part: BikeCounts) {
        let map: Vec<u32> = part
            .counters
            .iter()
            .map(|c| {
                let i = self.counter_index(c.id.as_bytes(), c.name.as_bytes());
                let mine = &mut self.counters[i as usize];
                if mine.point.is_none() {
                    mine.point = c.point;
                }
                i
            })
            .collect();
        for ((counter, day), slots) in part.days {
            let key = (map[counter as usize], day);
            match self.days.get_mut(&key) {
                None => {
                    self.days.insert(key, slots);
                    self.day_numbers.insert(day);
                }
                Some(mine) => {
                    for (m, p) in mine.iter_mut().zip(slots) {
                        if p != NO_COUNT {
                            if *m != NO_COUNT {
                                self.stats.duplicates += 1;
                            }
                            *m = p;
                        }
                    }
                }
            }
        }
        let s = part.stats;
        self.stats.records += s.records;
        self.stats.duplicates += s.duplicates;
        self.stats.counts_missing += s.counts_missing;
        self.stats.counts_rejected += s.counts_rejected;
        self.stats.records_rejected += s.records_rejected;
        self.stats.coordinates_rejected += s.coordinates_rejected;
        self.rejections.extend(part.rejections);
        self.rejections.sort();
        self.rejections.truncate(REPORTED_REJECTIONS);
        self.stats.first_rejections = self.rejections.iter().map(|(_, _, r)| r.clone()).collect();
    }

    fn read_json(&mut self, name: &Path, input: impl BufRead) -> Result<(), IngestError> {
        let mut reader = LineCountingReader {
            inner: input,
            newlines: 0,
        };
        let mut record = 0u64;
        loop {
            // Between top-level values (one document, or one per line): whitespace only.
            loop {
                let buf = reader.inner.fill_buf().map_err(|e| read_error(name, e))?;
                if buf.is_empty() {
                    return Ok(());
                }
                match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                    Some(i) => {
                        reader.newlines += memchr::memchr_iter(b'\n', &buf[..i]).count() as u64;
                        reader.inner.consume(i);
                        break;
                    }
                    None => {
                        let n = buf.len();
                        reader.newlines += memchr::memchr_iter(b'\n', buf).count() as u64;
                        reader.inner.consume(n);
                    }
                }
            }
            let lines_before = reader.newlines;
            let mut de = serde_json::Deserializer::from_reader(&mut reader);
            let seed = TopLevel {
                counts: self,
                record: &mut record,
                top: true,
            };
            if let Err(e) = seed.deserialize(&mut de) {
                let line = lines_before + e.line() as u64;
                let text = e.to_string();
                let text = text
                    .rfind(" at line ")
                    .map_or(text.as_str(), |i| &text[..i])
                    .to_string();
                let message = if e.is_eof() {
                    format!(
                        "truncated JSON at line {line} (record {}): {text}",
                        record + 1
                    )
                } else if e.line() == 0 {
                    format!("record {}: {text}", record + 1)
                } else {
                    format!(
                        "invalid JSON at line {line} column {} (record {}): {text}",
                        e.column(),
                        record + 1
                    )
                };
                return Err(match source_of(e) {
                    Some(source) => source,
                    None => IngestError::Input {
                        path: name.to_path_buf(),
                        message,
                    },
                });
            }
        }
    }
}

/// Where the columns of the CSV export are.
#[derive(Debug)]
struct CsvLayout {
    separator: u8,
    /// Fields per record.
    width: usize,
    id: usize,
    nom: Option<usize>,
    count: usize,
    date: usize,
    coords: Option<usize>,
}

/// The parser of the export's rows, with what it remembers from row to row.
struct CsvRows<'a> {
    layout: &'a CsvLayout,
    name: &'a Path,
    /// The last row's counter: the export's rows come counter by counter.
    last: Option<(Box<[u8]>, u32)>,
    /// The last row's coordinates and what they parsed to: a counter's rows repeat them,
    /// and parsing two floats per row was a tenth of the pass.
    last_point: (Vec<u8>, Option<(f64, f64)>),
}

impl<'a> CsvRows<'a> {
    fn new(layout: &'a CsvLayout, name: &'a Path) -> Self {
        CsvRows {
            layout,
            name,
            last: None,
            last_point: (Vec::new(), None),
        }
    }

    /// One row into `counts`: counted, placed, or rejected with its line.
    fn row(&mut self, counts: &mut BikeCounts, fields: Result<&[Field<'_>], ()>, line: u64) {
        let l = self.layout;
        let at = || format!("{}: line {line}", self.name.display());
        let fields = match fields {
            Ok(f) if f.len() == l.width => f,
            Ok(f) => {
                let why = format!("{} fields, {} expected", f.len(), l.width);
                counts.stats.records += 1;
                counts.reject(line, at, &why);
                return;
            }
            Err(()) => {
                counts.stats.records += 1;
                counts.reject(line, at, "badly quoted field");
                return;
            }
        };
        let id_bytes = fields[l.id].unescaped();
        let id_bytes = id_bytes.trim_ascii();
        if id_bytes.is_empty() {
            counts.stats.records += 1;
            counts.reject(line, at, "no counter id");
            return;
        }
        let utc = match parse_timestamp(fields[l.date].bytes()) {
            Ok(i) => i.utc,
            Err(why) => {
                counts.stats.records += 1;
                counts.reject(line, at, why);
                return;
            }
        };
        let counter = match &self.last {
            Some((last_id, i)) if **last_id == *id_bytes => *i,
            _ => {
                let nom = l
                    .nom
                    .map(|i| fields[i].unescaped().into_owned())
                    .unwrap_or_default();
                let i = counts.counter_index(id_bytes, nom.trim_ascii());
                self.last = Some((id_bytes.into(), i));
                i
            }
        };
        let count = match parse_number(fields[l.count].bytes()) {
            Ok(Number::Missing) => Count::Missing,
            Ok(Number::Value(v)) => count_of_number(v),
            Err(_) => Count::Rejected("non-numeric count"),
        };
        // An empty cell is no coordinates, not rejected ones.
        let last_point = &mut self.last_point;
        let point = l
            .coords
            .map(|i| fields[i].bytes())
            .filter(|t| !t.is_empty())
            .map(|t| {
                if last_point.0 != t {
                    last_point.0.clear();
                    last_point.0.extend_from_slice(t);
                    last_point.1 = std::str::from_utf8(t)
                        .ok()
                        .and_then(crate::geo::parse_geo_point);
                }
                last_point.1
            });
        counts.record(counter, utc, count, point);
    }
}

/// The worker of `shards` that parses `record`: by the bytes of its first field, so that
/// every row of a counter goes to the same worker.
fn owner(record: &[u8], separator: u8, shards: usize) -> usize {
    use std::hash::{BuildHasher, Hasher};
    let first = memchr::memchr(separator, record).map_or(record, |i| &record[..i]);
    let mut h = BuildFastHasher::default().build_hasher();
    h.write(first);
    (h.finish() % shards as u64) as usize
}

/// The source's own error (a cut download) behind a serde_json I/O error.
fn source_of(e: serde_json::Error) -> Option<IngestError> {
    if e.classify() != serde_json::error::Category::Io {
        return None;
    }
    let io: std::io::Error = e.into();
    crate::aggregate::source_error(io).ok()
}

/// Why a counter fails on a day whose hours are `hours` (23, 24 or 25), if it does.
pub fn failure(hours: &[Option<u32>]) -> Option<String> {
    let valid = hours.iter().flatten().count();
    let missing = (hours.len() - valid) as u32;
    if valid > 0 && hours.iter().flatten().all(|&c| c == 0) {
        return Some(format!(
            "comptage nul toute la journée ({valid} heures à 0)"
        ));
    }
    // The non-zero counts, sorted: equal values side by side.
    let mut same = [0u32; 25];
    let mut k = 0;
    for &c in hours.iter().flatten().filter(|&&c| c > 0) {
        same[k] = c;
        k += 1;
    }
    let same = &mut same[..k];
    same.sort_unstable();
    // The value seen in the most hours (the smallest of equals).
    let mut best: Option<(u32, u32)> = None;
    for run in same.chunk_by(|a, b| a == b) {
        let n = run.len() as u32;
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((run[0], n));
        }
    }
    if let Some((value, n)) = best.filter(|(_, n)| *n > STUCK_HOURS) {
        return Some(format!(
            "comptage identique ({value}) pendant {n} heures (bloqué)"
        ));
    }
    if missing >= MISSING_HOURS_FAILING {
        return Some(format!("{missing} heures sans comptage valide"));
    }
    None
}

/// A reader that counts the line breaks it hands out, for line numbers across documents.
struct LineCountingReader<R> {
    inner: R,
    newlines: u64,
}

impl<R: Read> Read for LineCountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        Ok(n)
    }
}

/// A top-level JSON value: a records object (`results`), an array of records, or a record
/// (one line of JSON Lines). Records go straight to the counts: the input is never held.
struct TopLevel<'a> {
    counts: &'a mut BikeCounts,
    record: &'a mut u64,
    /// Whether a `results` list or an array is allowed here (not inside a record list).
    top: bool,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.top {
            f.write_str("a records object {\"results\": [...]}, an array of records or a record")
        } else {
            f.write_str("a counter record (an object)")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if !self.top {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        each_record(seq, self.counts, self.record)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rec = JsonRecord::default();
        let mut had_results = false;
        let mut had_record_field = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "results" if self.top => {
                    had_results = true;
                    map.next_value_seed(Results {
                        counts: &mut *self.counts,
                        record: &mut *self.record,
                    })?;
                }
                "id_compteur" => {
                    had_record_field = true;
                    rec.id = map.next_value::<Option<StringOrNumber>>()?.map(|s| s.0);
                }
                "nom_compteur" => rec.name = map.next_value::<Option<String>>()?,
                "sum_counts" => {
                    had_record_field = true;
                    rec.count = map.next_value::<JsonCount>()?.0;
                }
                "date" => {
                    had_record_field = true;
                    rec.date = map.next_value::<Option<String>>()?;
                }
                "coordinates" => {
                    rec.coordinates = Some(map.next_value::<Option<Coordinates>>()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if had_results {
            return Ok(());
        }
        if !had_record_field {
            return Err(de::Error::custom(if self.top {
                "neither a `results` list nor a counter record (no id_compteur, sum_counts or date)"
            } else {
                "not a counter record (no id_compteur, sum_counts or date)"
            }));
        }
        *self.record += 1;
        let n = *self.record;
        let counts = self.counts;
        let Some(id) = rec.id.filter(|i| !i.trim().is_empty()) else {
            counts.stats.records += 1;
            counts.reject(n, || format!("record {n}"), "no id_compteur");
            return Ok(());
        };
        let Some(utc) = rec
            .date
            .as_deref()
            .map(|d| parse_timestamp(d.trim().as_bytes()))
            .and_then(Result::ok)
            .map(|i| i.utc)
        else {
            counts.stats.records += 1;
            counts.reject(
                n,
                || format!("record {n}"),
                "no readable `date` (RFC 3339 with an offset)",
            );
            return Ok(());
        };
        let counter = counts.counter_index(
            id.trim().as_bytes(),
            rec.name.unwrap_or_default().trim().as_bytes(),
        );
        let point = rec
            .coordinates
            .map(|c| c.and_then(|c| Some((c.lat?, c.lon?))));
        counts.record(counter, utc, rec.count, point);
        Ok(())
    }
}

/// Every element of `seq` as a counter record, into `counts`.
fn each_record<'de, A: SeqAccess<'de>>(
    mut seq: A,
    counts: &mut BikeCounts,
    record: &mut u64,
) -> Result<(), A::Error> {
    while seq
        .next_element_seed(TopLevel {
            counts: &mut *counts,
            record: &mut *record,
            top: false,
        })?
        .is_some()
    {}
    Ok(())
}

/// The `results` list of a records object.
struct Results<'a> {
    counts: &'a mut BikeCounts,
    record: &'a mut u64,
}

impl<'de> DeserializeSeed<'de> for Results<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Results<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("`results` as an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        each_record(seq, self.counts, self.record)
    }
}

#[derive(Debug, Default)]
struct JsonRecord {
    id: Option<String>,
    name: Option<String>,
    count: Count,
    date: Option<String>,
    /// `Some(None)`: `coordinates: null`.
    coordinates: Option<Option<Coordinates>>,
}

#[derive(Debug, serde::Deserialize)]
struct Coordinates {
    lon: Option<f64>,
    lat: Option<f64>,
}

/// Counter ids are strings in the dataset; a number is read as its text.
struct StringOrNumber(String);

impl<'de> serde::Deserialize<'de> for StringOrNumber {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StringOrNumber;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a counter id (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `sum_counts`: a number (checked), null, or a string (non-numeric, rejected); an object or
/// an array is a wrong type, an error.
struct JsonCount(Count);

impl<'de> serde::Deserialize<'de> for JsonCount {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = JsonCount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`sum_counts` as a number or null")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonCount, E> {
                Ok(JsonCount(if v < u64::from(NO_COUNT) {
                    Count::Valid(v as u32)
                } else {
                    Count::Rejected("count out of range")
                }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonCount, E> {
                Ok(JsonCount(count_of_number(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonCount, E> {
                Ok(JsonCount(count_of_number(v)))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonCount, E> {
                Ok(JsonCount(Count::Rejected("non-numeric count")))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<JsonCount, E> {
                Ok(JsonCount(Count::Rejected("non-numeric count")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<JsonCount, E> {
                Ok(JsonCount(Count::Missing))
            }
            fn visit_none<E: de::Error>(self) -> Result<JsonCount, E> {
                Ok(JsonCount(Count::Missing))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> Result<BikeCounts, IngestError> {
        let mut b = BikeCounts::new();
        b.read(
            Path::new(name),
            std::io::Cursor::new(text.as_bytes().to_vec()),
        )?;
        Ok(b)
    }

    #[test]
    fn failures_follow_the_three_rules() {
        let h = |v: &[Option<u32>]| failure(v);
        let mut day = vec![Some(3); 24];
        for (i, slot) in day.iter_mut().enumerate().take(12) {
            *slot = Some(i as u32 + 10);
        }
        // 12 hours of the same count: not yet stuck.
        assert_eq!(h(&day), None);
        day[0] = Some(3);
        assert!(
            h(&day).unwrap().contains("identique (3) pendant 13 heures"),
            "{:?}",
            h(&day)
        );
        assert!(h(&[Some(0); 24]).unwrap().contains("nul"));
        let mut gaps = vec![Some(1); 24];
        for (i, slot) in gaps.iter_mut().enumerate() {
            *slot = Some(i as u32 + 1);
        }
        for slot in gaps.iter_mut().take(5) {
            *slot = None;
        }
        assert_eq!(h(&gaps), None);
        gaps[5] = None;
        assert_eq!(h(&gaps).unwrap(), "6 heures sans comptage valide");
        assert_eq!(h(&[None; 24]).unwrap(), "24 heures sans comptage valide");
        // Zero hours alone are not "stuck".
        let mut zeros = vec![Some(0); 24];
        zeros[3] = Some(1);
        assert_eq!(h(&zeros), None);
    }

    #[test]
    fn every_json_shape_gives_the_same_counts() {
        let rec = |h: u32, n: &str| {
            format!(
                r#"{{"id_compteur": "C1", "nom_compteur": "Rue X", "sum_counts": {n}, "date": "2025-11-04T{h:02}:00:00+01:00", "coordinates": {{"lon": 2.35, "lat": 48.85}}}}"#
            )
        };
        let records: Vec<String> = (0..3).map(|h| rec(h, &(h + 1).to_string())).collect();
        let object = format!(
            r#"{{"total_count": 3, "results": [{}]}}"#,
            records.join(", ")
        );
        let array = format!("[{}]", records.join(",\n"));
        let lines = records.join("\n") + "\n";
        for (name, text) in [("a.json", &object), ("b.json", &array), ("c.jsonl", &lines)] {
            let b = read(name, text).unwrap();
            let d: NaiveDate = "2025-11-04".parse().unwrap();
            assert_eq!(
                &b.hours(0, d)[..4],
                &[Some(1), Some(2), Some(3), None],
                "{name}"
            );
            assert_eq!(b.stats.records, 3, "{name}");
            assert_eq!(b.counters()[0].point, Some((48.85, 2.35)));
        }
    }

    #[test]
    fn json_errors_name_the_line_and_record() {
        let e = read("x.json", "{\"results\": [\n{\"id_compteur\": \"C1\", \"sum_counts\": {\"a\": 1}, \"date\": \"2025-11-04T00:00:00+01:00\"}]}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.json: invalid JSON at line 2"), "{e}");
        assert!(e.contains("record 1"), "{e}");
        let e = read("x.json", "{\"results\": [{\"id_compteur\": \"C1\", \"sum_")
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated JSON"), "{e}");
        let e = read("x.json", "{\"results\": 3}").unwrap_err().to_string();
        assert!(e.contains("`results` as an array"), "{e}");
        let ok =
            "{\"id_compteur\": \"C1\", \"sum_counts\": 1, \"date\": \"2025-11-04T00:00:00+01:00\"}";
        let e = read("x.jsonl", &format!("{ok}\n{ok}\n{{\"id_compteur\": ]\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("record 3"), "{e}");
    }

    #[test]
    fn implausible_values_are_counted_not_summed() {
        let text = [
            r#"{"id_compteur": "C1", "sum_counts": -4, "date": "2025-11-04T01:00:00+01:00"}"#,
            r#"{"id_compteur": "C1", "sum_counts": 2.5, "date": "2025-11-04T02:00:00+01:00"}"#,
            r#"{"id_compteur": "C1", "sum_counts": "abc", "date": "2025-11-04T03:00:00+01:00"}"#,
            r#"{"id_compteur": "C1", "sum_counts": null, "date": "2025-11-04T04:00:00+01:00"}"#,
            r#"{"id_compteur": "C1", "date": "2025-11-04T05:00:00+01:00"}"#,
            r#"{"id_compteur": "C1", "sum_counts": 7, "date": "2025-11-04T06:00:00+01:00", "coordinates": {"lon": 120.0, "lat": 48.0}}"#,
            r#"{"id_compteur": "C1", "sum_counts": 7, "date": "2025-11-04T06:00:00+01:00"}"#,
            r#"{"id_compteur": "C1", "sum_counts": 7, "date": "yesterday"}"#,
        ]
        .join("\n");
        let b = read("x.jsonl", &text).unwrap();
        assert_eq!(b.stats.counts_rejected, 3);
        assert_eq!(b.stats.counts_missing, 2);
        assert_eq!(b.stats.coordinates_rejected, 1);
        assert_eq!(b.stats.duplicates, 1);
        assert_eq!(b.stats.records_rejected, 1);
        assert_eq!(b.counters()[0].point, None);
    }

    #[test]
    fn the_csv_export_is_read_by_its_french_headers() {
        let text = "Identifiant du compteur;Nom du compteur;Identifiant du site de comptage;Nom du site de comptage;Comptage horaire;Date et heure de comptage;Date d'installation du site de comptage;Lien vers photo du site de comptage;Coordonnées géographiques\n\
            100003096-353242251;97 avenue Denfert Rochereau SO-NE;100003096;97 avenue Denfert Rochereau;12;2025-11-04T00:00:00+01:00;2012-02-22;;48.83511,2.33338\n\
            100003096-353242251;97 avenue Denfert Rochereau SO-NE;100003096;97 avenue Denfert Rochereau;;2025-11-04T01:00:00+01:00;2012-02-22;;48.83511,2.33338\n\
            100003096-353242251;97 avenue Denfert Rochereau SO-NE;100003096;97 avenue Denfert Rochereau;-1;2025-11-04T02:00:00+01:00;2012-02-22;;48.83511,2.33338\n\
            100003096-353242251;too;few\n";
        let b = read("bikes.csv", text).unwrap();
        let d: NaiveDate = "2025-11-04".parse().unwrap();
        assert_eq!(&b.hours(0, d)[..3], &[Some(12), None, None]);
        assert_eq!(b.counters()[0].point, Some((48.83511, 2.33338)));
        assert_eq!(b.stats.counts_missing, 1);
        assert_eq!(b.stats.counts_rejected, 1);
        assert_eq!(b.stats.records_rejected, 1);
        assert!(
            b.stats.first_rejections[0].contains("line 5"),
            "{:?}",
            b.stats
        );
        let e = read(
            "bikes.csv",
            "Identifiant du compteur;Date et heure de comptage\nC1;2025-11-04T00:00:00+01:00\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`Comptage horaire`"), "{e}");
    }
}
