//! One streaming pass over the CSV: per (arc, local day), the hourly values.
//!
//! A reader thread reads (and un-gzips) the input in blocks, finds where each record ends
//! (once, for everyone: a `\n` outside quotes) and hands every numbered block to every worker
//! thread. The arcs are sharded: a worker looks at the arc id of every record but parses only
//! those of its arcs (by a hash of the arc id), into its own [`HourStore`]. Each (arc, day)
//! pair therefore lives in exactly one store: memory grows with the number of pairs, never
//! with rows or bytes, and is not multiplied by the number of workers. A worker sees its
//! arcs' rows in file order, so the first row of an (arc, hour) wins.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;

use crate::csv_input::{
    head_fields, parse_decimal, parse_number, parse_timestamp, split_head, split_record, Column,
    Field, Layout, Number,
};
use crate::fast_hash::BuildFastHasher;
use crate::geo::{lines_length_metres, parse_geo_point, parse_shape, Points};
use crate::hours::{Hour, HourStore, Put};
use crate::paris_time::ParisClock;
use crate::scan::{scan_records, Scanned};
use crate::{IngestError, Progress};

/// The state of traffic, most severe last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Etat {
    Inconnu = 0,
    Fluide = 1,
    PreSature = 2,
    Sature = 3,
    Bloque = 4,
}

impl Etat {
    pub const ALL: [Etat; 5] = [
        Etat::Inconnu,
        Etat::Fluide,
        Etat::PreSature,
        Etat::Sature,
        Etat::Bloque,
    ];

    fn parse(b: &[u8]) -> Option<Etat> {
        // "é" is the two bytes C3 A9 in UTF-8.
        Some(match b {
            b"" | b"Inconnu" => Etat::Inconnu,
            b"Fluide" => Etat::Fluide,
            b"Pr\xC3\xA9-satur\xC3\xA9" | b"Pre-sature" => Etat::PreSature,
            b"Satur\xC3\xA9" | b"Sature" => Etat::Sature,
            b"Bloqu\xC3\xA9" | b"Bloque" => Etat::Bloque,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Etat::Inconnu => "Inconnu",
            Etat::Fluide => "Fluide",
            Etat::PreSature => "Pré-saturé",
            Etat::Sature => "Saturé",
            Etat::Bloque => "Bloqué",
        }
    }
}

/// No flow in this hour.
const EMPTY: u32 = u32::MAX;

/// One hour of one arc on one day, as the figures read it (stored packed, see [`HourStore`]).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// Occupancy in percent; NaN when missing.
    pub taux: f64,
    /// Vehicles in the hour; `EMPTY` when missing.
    debit: u32,
    /// Offset the timestamp was written with.
    pub offset_minutes: i16,
    pub etat: Etat,
    /// Whether a row filled this hour.
    row: bool,
}

impl Slot {
    pub(crate) const NONE: Slot = Slot {
        taux: f64::NAN,
        debit: EMPTY,
        offset_minutes: 0,
        etat: Etat::Inconnu,
        row: false,
    };

    /// The hour of a row.
    pub(crate) fn new(
        debit: Option<u32>,
        taux: Option<f64>,
        offset_minutes: i16,
        etat: Etat,
    ) -> Slot {
        Slot {
            taux: taux.unwrap_or(f64::NAN),
            debit: debit.unwrap_or(EMPTY),
            offset_minutes,
            etat,
            row: true,
        }
    }

    /// Whether a row filled this hour.
    pub fn has_row(&self) -> bool {
        self.row
    }

    pub fn debit(&self) -> Option<u32> {
        (self.debit != EMPTY).then_some(self.debit)
    }

    pub fn taux(&self) -> Option<f64> {
        (!self.taux.is_nan()).then_some(self.taux)
    }
}

/// The hours of one arc on one local day (25 slots: the autumn day has 25 hours).
#[derive(Debug, Clone)]
pub struct DayHours {
    pub slots: [Slot; 25],
}

/// What is known of an arc, from its first row in the file.
#[derive(Debug, Clone)]
pub struct ArcInfo {
    pub id: String,
    pub libelle: String,
    /// `geo_point_2d` as written (`"lat, lon"`).
    pub geo_point_text: Option<String>,
    pub point: Option<(f64, f64)>,
    /// Haversine length of `geo_shape`; 0 when missing or invalid.
    pub length_metres: f64,
    /// The arrondissement of `point` ([`zone_of`](crate::zone_of)), found once.
    pub zone: &'static str,
    pub has_geometry: bool,
    /// Its `geo_shape`'s lines, (lat, lon); empty without a geometry. Kept for the map of
    /// the day: a few points per arc, not per row.
    pub lines: Vec<Points>,
    /// The line of its first row: arcs are listed in order of first appearance.
    first_line: u64,
}

/// A malformed line: counted, the first ones reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
}

/// Counts over the whole pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub bytes_read: u64,
    /// Data rows (header excluded).
    pub rows_read: u64,
    /// Rows whose `Etat arc` is `Invalide`: excluded.
    pub rows_invalide: u64,
    /// Malformed lines (field count, timestamp, number, state): skipped.
    pub rows_malformed: u64,
    /// Values dropped as impossible (negative flow, occupancy outside 0–100): the value is
    /// missing, the row is kept.
    pub values_rejected: u64,
    /// Second and later rows for an (arc, hour) already seen.
    pub duplicates: u64,
    /// Rows of days that were not requested.
    pub rows_outside_days: u64,
    /// Arcs whose `geo_shape` is missing or invalid.
    pub arcs_without_geometry: u64,
}

/// The result of the pass.
#[derive(Default)]
pub struct Aggregate {
    /// Every arc with at least one row that is not `Invalide`, in first-seen order.
    pub arcs: Vec<ArcInfo>,
    pub stats: Stats,
    /// The first malformed lines, in file order.
    pub first_bad_lines: Vec<BadLine>,
    /// Per arc of `arcs`: its worker's store and its index there.
    homes: Vec<(u32, u32)>,
    stores: Vec<HourStore>,
}

impl std::fmt::Debug for Aggregate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregate")
            .field("arcs", &self.arcs.len())
            .field("pairs", &self.pair_count())
            .field("stats", &self.stats)
            .field("first_bad_lines", &self.first_bad_lines)
            .finish()
    }
}

impl Aggregate {
    /// The number of (arc, day) pairs with at least one row.
    pub fn pair_count(&self) -> usize {
        self.stores.iter().map(HourStore::pair_count).sum()
    }

    /// The hours of arc `arc` (an index of `arcs`) on Paris day number `day`; `None` when the
    /// arc has no row that day.
    pub fn hours(&self, arc: u32, day: i64) -> Option<DayHours> {
        let (store, local) = *self.homes.get(arc as usize)?;
        self.stores[store as usize]
            .hours(local, day)
            .map(|slots| DayHours { slots })
    }

    /// The Paris day numbers of arc `arc` with at least one row, sorted.
    pub fn days_of(&self, arc: u32) -> impl Iterator<Item = i64> + '_ {
        let (store, local) = self.homes[arc as usize];
        self.stores[store as usize].days_of(local)
    }

    /// Every Paris day number with at least one row.
    pub fn days(&self) -> BTreeSet<i64> {
        (0..self.arcs.len() as u32)
            .flat_map(|arc| self.days_of(arc))
            .collect()
    }
}

/// The longest row accepted. The longest real rows (arcs with a long `geo_shape`) are a few
/// kilobytes; a megabyte-long one is garbage, and its text would otherwise end up in reports
/// (a 10 MB `Libelle` in the top 10 would make the JSON too large for DynamoDB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The longest record the reader holds while looking for its end. Records up to that size
/// are read whole and, past [`MAX_RECORD_BYTES`], reported as malformed lines; a longer one
/// ends the run (see [`unended_record`]). Without a bound, one stray `"` made the rest of
/// the file a single record, held in memory whole and scanned again at each block read.
const MAX_PENDING_BYTES: usize = 16 * MAX_RECORD_BYTES;

/// How many malformed lines are reported by number.
pub const REPORTED_BAD_LINES: usize = 10;

/// Which local days to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl DayFilter {
    fn keeps(&self, day: i64) -> bool {
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }
}

/// Block size handed to workers: small enough that a block is still in cache when the
/// workers read it after the reader (4 MB blocks were 10-15 % slower here).
const CHUNK_BYTES: usize = 1 << 20;

/// `reason` a record is malformed, saying how many lines it spans when it spans several:
/// a quote opened and never closed makes the following lines part of it.
fn spanning(reason: impl Into<String>, extra_lines: u64) -> String {
    let reason = reason.into();
    if extra_lines == 0 {
        return reason;
    }
    format!(
        "{reason} (one record over {} lines: is a quote opened in it never closed?)",
        extra_lines + 1
    )
}

/// The error for a record still open after [`MAX_PENDING_BYTES`]: `pending`, starting on
/// `line` at byte `offset` of the (decompressed) input. The run fails rather than skipping
/// it: after an unclosed quote there is no telling where the next row starts, and every row
/// after it would be lost from the reports without a word.
fn unended_record(path: &Path, pending: &[u8], line: u64, offset: u64) -> IngestError {
    let limit = MAX_PENDING_BYTES >> 20;
    let breaks = memchr::memchr_iter(b'\n', pending).count();
    let message = if breaks > 0 {
        format!(
            "the record starting on line {line} (byte {offset}) runs on for more than {limit} \
             MiB and {breaks} lines without ending: a quoted field opened in it is never \
             closed (a stray '\"'?), so no row after it can be read"
        )
    } else {
        format!(
            "line {line} (byte {offset}) is longer than {limit} MiB: this is not the \
             open-data export (binary data?)"
        )
    };
    IngestError::Input {
        path: path.to_path_buf(),
        message,
    }
}

struct Chunk {
    index: u32,
    first_line: u64,
    /// Offset of the chunk in the decompressed input.
    offset: u64,
    data: Block,
    /// Its records, NUL bytes and structural bytes (see [`Scanned`]). Line numbers in
    /// messages count physical lines, hence `scan.multiline`.
    scan: Scanned,
    /// Per record: the worker that parses it (see [`Sharding`]); empty with one worker.
    owners: Vec<u32>,
}

/// How many blocks the reader keeps to reuse their buffers once the workers are done.
const RECYCLED_CHUNKS: usize = 4;

/// Reads `path` (plain or gzip, by its magic bytes) and aggregates it with `workers` threads.
pub fn aggregate_file(
    path: &Path,
    filter: DayFilter,
    workers: usize,
    progress: &dyn Progress,
) -> Result<Aggregate, IngestError> {
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    progress.start_reading(total);
    aggregate_input(file, path, filter, workers, progress)
}

/// Aggregates an input already in memory (plain or gzip, by its magic bytes); `name` is used
/// in messages. The same parser as [`aggregate_file`], for fuzzing and for callers whose data
/// does not come from a file.
pub fn aggregate_bytes(
    name: &Path,
    bytes: Vec<u8>,
    filter: DayFilter,
    workers: usize,
) -> Result<Aggregate, IngestError> {
    aggregate_input(
        std::io::Cursor::new(bytes),
        name,
        filter,
        workers,
        &crate::NoProgress,
    )
}

pub(crate) fn aggregate_input(
    input: impl Read + Send + 'static,
    path: &Path,
    filter: DayFilter,
    workers: usize,
    progress: &dyn Progress,
) -> Result<Aggregate, IngestError> {
    let mut raw = std::io::BufReader::with_capacity(1 << 20, CountingReader::new(input));
    let mut magic = [0u8; 2];
    let n = read_full(&mut raw, &mut magic)
        .map_err(|e| source_error(e).unwrap_or_else(|e| IngestError::io(path, e)))?;
    let prefix = magic[..n].to_vec();
    let counter = raw.get_ref().counter.clone();
    let chained = std::io::Cursor::new(prefix.clone()).chain(raw);
    let input: Box<dyn Read + Send> = if prefix == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(chained))
    } else {
        Box::new(chained)
    };
    aggregate_reader(input, path, filter, workers, progress, &counter)
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Counts the bytes read from the file (compressed bytes for gzip), for progress.
struct CountingReader<R> {
    inner: R,
    counter: Arc<std::sync::atomic::AtomicU64>,
}

impl<R> CountingReader<R> {
    fn new(inner: R) -> Self {
        CountingReader {
            inner,
            counter: Arc::default(),
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

fn aggregate_reader(
    mut input: Box<dyn Read + Send>,
    path: &Path,
    filter: DayFilter,
    workers: usize,
    progress: &dyn Progress,
    counter: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Aggregate, IngestError> {
    let workers = workers.max(1);
    let clock = Arc::new(ParisClock::new());

    // The header: the first record.
    let mut buf = Block::default();
    let mut offset: u64 = 0; // decompressed bytes before `buf`
    let mut eof = false;
    let header_end = loop {
        if let Some(end) = memchr::memchr(b'\n', buf.bytes()) {
            break end;
        }
        if eof {
            if buf.len == 0 {
                return Err(IngestError::Input {
                    path: path.to_path_buf(),
                    message: "the file is empty (no header line)".into(),
                });
            }
            break buf.len;
        }
        eof = buf.fill(&mut input, path, offset)?;
    };
    let layout = Layout::from_header(&buf.bytes()[..header_end]).map_err(|message| {
        IngestError::Columns {
            path: path.to_path_buf(),
            message,
        }
    })?;
    let layout = Arc::new(layout);
    let consumed = (header_end + 1).min(buf.len);
    buf.consume_front(consumed);
    offset += consumed as u64;

    let (results_tx, results_rx) = mpsc::channel::<Worker>();
    let mut senders: Vec<mpsc::SyncSender<Arc<Chunk>>> = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers);
    for shard in 0..workers {
        // Two chunks in flight per worker bound the memory held by the pipeline.
        let (tx, rx) = mpsc::sync_channel::<Arc<Chunk>>(2);
        senders.push(tx);
        let layout = layout.clone();
        let clock = clock.clone();
        let results = results_tx.clone();
        handles.push(std::thread::spawn(move || {
            let mut w = Worker::new(layout, clock, filter, shard, workers);
            for chunk in rx {
                w.process(&chunk);
            }
            let _ = results.send(w);
        }));
    }
    drop(results_tx);

    let sharding = Sharding {
        shards: workers,
        separator: layout.separator,
        arc_column: layout.index(Column::Arc).expect("required"),
    };
    let mut index: u32 = 0;
    let mut line: u64 = 2;
    let mut stats_bytes = 0u64;
    // Blocks already handed out, oldest first: once every worker has dropped one, its buffers
    // are reused (no allocation, and no page faults, per block).
    let mut sent: VecDeque<Arc<Chunk>> = VecDeque::with_capacity(RECYCLED_CHUNKS + 1);
    let send_result: Result<(), IngestError> = (|| {
        loop {
            while buf.len < CHUNK_BYTES && !eof {
                eof = buf.fill(&mut input, path, offset)?;
            }
            if buf.len == 0 {
                break;
            }
            let (mut next, mut scan, mut owners) = recycle(&mut sent);
            let used = scan_records(buf.bytes(), eof, layout.separator, &mut scan);
            if scan.ends.is_empty() {
                // One record larger than a block: read on until it ends, within a bound.
                if buf.len > MAX_PENDING_BYTES {
                    return Err(unended_record(path, buf.bytes(), line, offset));
                }
                eof = buf.fill(&mut input, path, offset)?;
                continue;
            }
            sharding.owners(&buf.bytes()[..used], &scan, &mut owners);
            next.push(&buf.bytes()[used..]);
            buf.len = used;
            let data = std::mem::replace(&mut buf, next);
            let lines = scan.ends.len() as u64 + scan.multiline.iter().map(|(_, n)| n).sum::<u64>();
            offset += data.len as u64;
            stats_bytes += data.len as u64;
            let chunk = Arc::new(Chunk {
                index,
                first_line: line,
                offset: offset - data.len as u64,
                data,
                scan,
                owners,
            });
            line += lines;
            if senders.iter().any(|s| s.send(chunk.clone()).is_err()) {
                break;
            }
            sent.push_back(chunk);
            index += 1;
            progress.read(counter.load(std::sync::atomic::Ordering::Relaxed));
        }
        Ok(())
    })();
    drop(senders);
    let parts: Vec<Worker> = results_rx.iter().collect();
    for h in handles {
        if h.join().is_err() {
            return Err(IngestError::Internal("a worker thread panicked".into()));
        }
    }
    send_result?;
    if let Some(at) = parts.iter().filter_map(|w| w.invalid_utf8_at).min() {
        return Err(IngestError::Input {
            path: path.to_path_buf(),
            message: format!("invalid UTF-8 at byte {at} of the (decompressed) input"),
        });
    }
    progress.done_reading();
    let mut merged = merge(parts);
    merged.stats.bytes_read = stats_bytes + (consumed as u64);
    Ok(merged)
}

/// Buffers for the next block: those of the oldest block handed out when every worker is
/// done with it, else new ones.
fn recycle(sent: &mut VecDeque<Arc<Chunk>>) -> (Block, Scanned, Vec<u32>) {
    if sent.len() >= RECYCLED_CHUNKS {
        if let Some(oldest) = sent.pop_front() {
            if let Ok(mut chunk) = Arc::try_unwrap(oldest) {
                chunk.data.len = 0;
                return (chunk.data, chunk.scan, chunk.owners);
            }
        }
    }
    (Block::default(), Scanned::default(), Vec::new())
}

/// Which worker parses which record: the one whose shard holds the record's arc (by a hash of
/// its id), or the first for records whose arc cannot be read (they are malformed, and must
/// be counted once). The reader decides, once per record, as it has just scanned the block;
/// before, every worker read every record's id to decide for itself.
struct Sharding {
    shards: usize,
    separator: u8,
    arc_column: usize,
}

impl Sharding {
    /// Fills `owners` with the worker of each record of `data`, the block `scan` describes
    /// (nothing with one worker).
    fn owners(&self, data: &[u8], scan: &Scanned, owners: &mut Vec<u32>) {
        owners.clear();
        if self.shards == 1 {
            return;
        }
        let mut fields = Vec::with_capacity(self.arc_column + 1);
        let mut start = 0;
        for &end in &scan.ends {
            owners.push(self.owner(data, &scan.structural, start, end, &mut fields) as u32);
            start = end + 1;
        }
    }

    /// The worker of the record at `start..end` of `data`: its fields up to the arc id are
    /// read from the structural bitmap when none of them is quoted, else by [`field_at`].
    /// Both trim the id, `\r` included.
    ///
    /// [`field_at`]: crate::csv_input::field_at
    #[inline]
    fn owner<'a>(
        &self,
        data: &'a [u8],
        structural: &[u64],
        start: usize,
        end: usize,
        fields: &mut Vec<Field<'a>>,
    ) -> usize {
        let count = self.arc_column + 1;
        let id = match head_fields(data, structural, start, end, self.separator, count, fields) {
            Some(_) => Some(fields[self.arc_column].bytes()),
            None => crate::csv_input::field_at(&data[start..end], self.separator, self.arc_column),
        };
        match id {
            Some(id) if !id.is_empty() => shard_of(id, self.shards),
            _ => 0,
        }
    }
}

/// A buffer of input: `bytes[..len]` holds data. `bytes` only grows and stays initialised, so
/// that a reused block is read into without being zeroed again (that memset took 4 % of the
/// pass).
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    len: usize,
}

impl Block {
    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Appends `data`.
    fn push(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes[self.len..end].copy_from_slice(data);
        self.len = end;
    }

    /// Drops the first `n` bytes.
    fn consume_front(&mut self, n: usize) {
        self.bytes.copy_within(n..self.len, 0);
        self.len -= n;
    }

    /// Appends up to one block of `input`; true at its end. Errors carry the byte offset
    /// (`offset`: that of the first byte of this block in the decompressed input).
    fn fill(
        &mut self,
        input: &mut dyn Read,
        path: &Path,
        offset: u64,
    ) -> Result<bool, IngestError> {
        let end = self.len + CHUNK_BYTES;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        loop {
            match input.read(&mut self.bytes[self.len..end]) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    self.len += n;
                    if self.len == end {
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let e = match source_error(e) {
                        Ok(source) => return Err(source),
                        Err(e) => e,
                    };
                    return Err(IngestError::Input {
                        path: path.to_path_buf(),
                        message: format!(
                            "cannot read past byte {} of the (decompressed) input: {e}",
                            offset + self.len as u64
                        ),
                    });
                }
            }
        }
    }
}

/// The source's own error when `e` carries one (a cut download), else `e` back.
pub(crate) fn source_error(e: std::io::Error) -> Result<IngestError, std::io::Error> {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<cityflow_core::Error>())
    {
        let inner = e.into_inner().expect("checked above");
        let source = inner
            .downcast::<cityflow_core::Error>()
            .expect("checked above");
        return Ok(IngestError::Source(*source));
    }
    Err(e)
}

/// One worker's share.
struct Worker {
    /// This worker parses the arcs whose hash modulo `shards` is `shard`.
    shard: usize,
    shards: usize,
    layout: Arc<Layout>,
    clock: Arc<ParisClock>,
    filter: DayFilter,
    arc_index: HashMap<Box<[u8]>, u32, BuildFastHasher>,
    /// The arcs whose id is a small number ([`small_id`]), by that number (`u32::MAX`: none):
    /// the export's ids are, and a table lookup is a fifth of the hash map's.
    numeric_arcs: Vec<u32>,
    arcs: Vec<ArcInfo>,
    /// Per arc: its first row after the fields holding values (see [`Worker::known_arc_row`]).
    tails: Vec<Option<Box<[u8]>>>,
    /// [`Layout::values_width`].
    values_width: usize,
    hours: HourStore,
    timestamps: TimestampCache,
    stats: Stats,
    bad: Vec<BadLine>,
    /// The first byte offset that is not UTF-8: the input is refused.
    invalid_utf8_at: Option<u64>,
}

impl Worker {
    fn new(
        layout: Arc<Layout>,
        clock: Arc<ParisClock>,
        filter: DayFilter,
        shard: usize,
        shards: usize,
    ) -> Self {
        Worker {
            shard,
            shards,
            values_width: layout.values_width(),
            tails: Vec::new(),
            layout,
            clock,
            filter,
            arc_index: HashMap::default(),
            numeric_arcs: Vec::new(),
            arcs: Vec::new(),
            hours: HourStore::default(),
            timestamps: TimestampCache::new(),
            stats: Stats::default(),
            bad: Vec::new(),
            invalid_utf8_at: None,
        }
    }

    fn bad_line(&mut self, line: u64, reason: impl Into<String>) {
        self.stats.rows_malformed += 1;
        if self.bad.len() < REPORTED_BAD_LINES {
            self.bad.push(BadLine {
                line,
                reason: reason.into(),
            });
        }
    }

    fn process(&mut self, chunk: &Chunk) {
        if self.invalid_utf8_at.is_some() {
            return;
        }
        // Validating a whole chunk costs little and makes every later `from_utf8` safe; one
        // worker per chunk does it, with SIMD (the standard check took 7 % of the pass).
        if chunk.index as usize % self.shards == self.shard {
            if let Err(e) = simdutf8::compat::from_utf8(chunk.data.bytes()) {
                self.invalid_utf8_at = Some(chunk.offset + e.valid_up_to() as u64);
                return;
            }
        }
        let data = chunk.data.bytes();
        let structural = &chunk.scan.structural[..];
        let mut start = 0;
        let mut line = chunk.first_line;
        let mut multiline = chunk.scan.multiline.iter().peekable();
        let mut fields: Vec<Field> = Vec::with_capacity(self.layout.width + 1);
        for (k, &end) in chunk.scan.ends.iter().enumerate() {
            let record_start = start;
            let mut record = &data[start..end];
            start = end + 1;
            let this_line = line;
            let extra_lines = multiline.next_if(|(r, _)| *r == k).map_or(0, |&(_, n)| n);
            line += 1 + extra_lines;
            // Another worker's record is never loaded.
            if chunk
                .owners
                .get(k)
                .is_some_and(|&owner| owner as usize != self.shard)
            {
                continue;
            }
            if let Some(r) = record.strip_suffix(b"\r") {
                record = r;
            }
            if record.is_empty() {
                continue;
            }
            self.stats.rows_read += 1;
            if record.len() <= MAX_RECORD_BYTES
                && !chunk.scan.has_nul
                && self.known_arc_row(
                    data,
                    structural,
                    record_start,
                    record,
                    &mut fields,
                    this_line,
                )
            {
                continue;
            }
            if record.len() > MAX_RECORD_BYTES {
                let msg = format!(
                    "a line of {} bytes, over the {} MiB limit of one row",
                    record.len(),
                    MAX_RECORD_BYTES >> 20
                );
                self.bad_line(this_line, spanning(msg, extra_lines));
                continue;
            }
            // No text of the export has a NUL byte: one means binary data in the file.
            if chunk.scan.has_nul && memchr::memchr(0, record).is_some() {
                self.bad_line(this_line, spanning("a NUL byte (binary data)", extra_lines));
                continue;
            }
            // The borrow of `fields` ends before `self` is used mutably again.
            let fields_ok = split_record(record, self.layout.separator, &mut fields);
            if let Err(reason) = fields_ok {
                self.bad_line(this_line, spanning(reason, extra_lines));
                continue;
            }
            if fields.len() != self.layout.width {
                let msg = format!(
                    "expected {} fields, found {}",
                    self.layout.width,
                    fields.len()
                );
                self.bad_line(this_line, spanning(msg, extra_lines));
                continue;
            }
            match self.row(&fields, this_line, None) {
                Err(reason) => self.bad_line(this_line, spanning(reason, extra_lines)),
                Ok(Some(arc)) if self.tails[arc as usize].is_none() => {
                    let end = split_head(
                        record,
                        self.layout.separator,
                        self.values_width,
                        &mut fields,
                    )
                    .expect("a record split whole splits in part");
                    self.tails[arc as usize] = Some(record[end..].into());
                }
                Ok(_) => {}
            }
        }
    }

    /// The rows of an arc already seen, fast: only the fields holding values are split, and
    /// the rest of the record must be, byte for byte, the rest of the arc's first row. That
    /// one was split whole and checked; the rest of a record splits on its own, so this one
    /// would split the same, into the right number of fields, and its `Etat arc`, when it is
    /// in the rest, is that of the first row: not `Invalide`, or the arc would not be known.
    /// Returns false, having done nothing, when that does not hold: the caller then takes the
    /// general path. Only for blocks without a NUL byte (see [`Scanned::has_nul`]).
    /// The record is `record` (its `\r` removed), at `start` in `data`, the chunk whose
    /// structural bitmap is `structural`.
    fn known_arc_row<'a>(
        &mut self,
        data: &'a [u8],
        structural: &[u64],
        start: usize,
        record: &'a [u8],
        fields: &mut Vec<Field<'a>>,
        line: u64,
    ) -> bool {
        let separator = self.layout.separator;
        let head = head_fields(
            data,
            structural,
            start,
            start + record.len(),
            separator,
            self.values_width,
            fields,
        )
        .or_else(|| split_head(record, separator, self.values_width, fields));
        let Some(end) = head else {
            return false;
        };
        let id = self.field(fields, Column::Arc).expect("required").bytes();
        let Some(arc) = self.known_arc(id) else {
            return false;
        };
        if self.tails[arc as usize].as_deref() != Some(&record[end..]) {
            return false;
        }
        if let Err(reason) = self.row(fields, line, Some(arc)) {
            self.bad_line(line, reason);
        }
        true
    }

    /// The field of `column`; `None` when the layout has no such column, or when `fields` is
    /// only the head of a record and the column is in its rest (see `known_arc_row`).
    fn field<'a>(&self, fields: &[Field<'a>], column: Column) -> Option<Field<'a>> {
        self.layout
            .index(column)
            .and_then(|i| fields.get(i).copied())
    }

    /// Parses a row into its hour. `arc`: its arc when already known. Returns the arc, unless
    /// the row is `Invalide`.
    fn row(
        &mut self,
        fields: &[Field],
        line: u64,
        arc: Option<u32>,
    ) -> Result<Option<u32>, String> {
        if let Some(etat_arc) = self.field(fields, Column::EtatArc) {
            if etat_arc.bytes() == b"Invalide" {
                self.stats.rows_invalide += 1;
                return Ok(None);
            }
        }
        let id = self.field(fields, Column::Arc).expect("required").bytes();
        if id.is_empty() {
            return Err("empty Identifiant arc".into());
        }
        let ts = self
            .field(fields, Column::Timestamp)
            .expect("required")
            .bytes();
        let (day, slot, offset_minutes) = self
            .timestamps
            .get(ts, &self.clock)
            .map_err(|e| format!("{e}: {:?}", String::from_utf8_lossy(ts)))?;
        let debit_text = self.field(fields, Column::Debit).expect("required").bytes();
        let debit = match plain_integer(debit_text) {
            Some(v) => Some(v),
            None => match parse_number(debit_text).map_err(|e| format!("Débit horaire: {e}"))? {
                Number::Missing => None,
                Number::Value(v) if v < 0.0 => {
                    self.stats.values_rejected += 1;
                    None
                }
                Number::Value(v) if v.fract() != 0.0 || v >= f64::from(EMPTY) => {
                    return Err(format!(
                        "Débit horaire: {v} is not a whole number of vehicles"
                    ))
                }
                Number::Value(v) => Some(v as u32),
            },
        };
        let taux_text = self.field(fields, Column::Taux).expect("required").bytes();
        let (taux, taux_decimal) = match parse_decimal(taux_text) {
            Some(d) if d.at_most(100) => (Some(d.value()), Some(d)),
            Some(_) => {
                self.stats.values_rejected += 1;
                (None, None)
            }
            None => match parse_number(taux_text).map_err(|e| format!("Taux d'occupation: {e}"))? {
                Number::Missing => (None, None),
                Number::Value(v) if !(0.0..=100.0).contains(&v) => {
                    self.stats.values_rejected += 1;
                    (None, None)
                }
                Number::Value(v) => (Some(v), None),
            },
        };
        let etat_field = self.field(fields, Column::EtatTrafic).expect("required");
        let etat = Etat::parse(etat_field.bytes()).ok_or_else(|| {
            format!(
                "Etat trafic: unknown state {:?}",
                String::from_utf8_lossy(etat_field.bytes())
            )
        })?;

        // The arc belongs to the file even when its rows are outside the selected days.
        let arc = match arc {
            Some(arc) => arc,
            None => self.arc(id, fields, line),
        };
        if !self.filter.keeps(day) {
            self.stats.rows_outside_days += 1;
            return Ok(Some(arc));
        }
        let hour = Hour {
            debit,
            taux,
            taux_decimal,
            offset_minutes,
            etat,
        };
        if self.hours.put(arc, day, slot, &hour) == Put::Duplicate {
            self.stats.duplicates += 1;
        }
        Ok(Some(arc))
    }

    /// The index of arc `id`, if it has one.
    fn known_arc(&self, id: &[u8]) -> Option<u32> {
        match small_id(id) {
            Some(n) => self
                .numeric_arcs
                .get(n as usize)
                .copied()
                .filter(|i| *i != u32::MAX),
            None => self.arc_index.get(id).copied(),
        }
    }

    /// The index of arc `id`, recording what its first row says about it.
    fn arc(&mut self, id: &[u8], fields: &[Field], line: u64) -> u32 {
        if let Some(i) = self.known_arc(id) {
            return i;
        }
        let text = |f: Option<Field>| {
            f.map(|f| String::from_utf8_lossy(&f.unescaped()).trim().to_string())
        };
        let id_text = String::from_utf8_lossy(id).into_owned();
        let libelle = text(self.field(fields, Column::Libelle))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| id_text.clone());
        let geo_point_text = text(self.field(fields, Column::GeoPoint)).filter(|t| !t.is_empty());
        let point = geo_point_text.as_deref().and_then(parse_geo_point);
        let lines = self
            .field(fields, Column::GeoShape)
            .and_then(|f| parse_shape(&f.unescaped()))
            .filter(|s| s.polygons.is_empty())
            .map(|s| s.lines);
        let length = lines.as_deref().map(lines_length_metres);
        let i = self.arcs.len() as u32;
        self.arcs.push(ArcInfo {
            id: id_text,
            libelle,
            geo_point_text,
            point,
            zone: crate::geo::zone_of(point),
            length_metres: length.unwrap_or(0.0),
            has_geometry: length.is_some(),
            lines: lines.unwrap_or_default(),
            first_line: line,
        });
        self.hours.add_arc();
        self.tails.push(None);
        match small_id(id) {
            Some(n) => {
                let n = n as usize;
                if self.numeric_arcs.len() <= n {
                    self.numeric_arcs.resize(n + 1, u32::MAX);
                }
                self.numeric_arcs[n] = i;
            }
            None => {
                self.arc_index.insert(id.into(), i);
            }
        }
        i
    }
}

/// An arc id written as a number below 2²⁰ with no sign and no leading zero (so that two
/// different texts never give the same number): its value.
fn small_id(id: &[u8]) -> Option<u32> {
    if id.is_empty() || id.len() > 7 || (id[0] == b'0' && id.len() > 1) {
        return None;
    }
    let n = crate::csv_input::digits(id)?;
    (n < 1 << 20).then_some(n)
}

/// A flow written as a plain non-negative integer (the common case), without going through
/// `f64`.
fn plain_integer(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    crate::csv_input::digits(b)
}

/// The few hundred timestamps of a file repeat for every arc: each is parsed once.
///
/// Direct-mapped by a hash of the text; a miss parses and replaces the entry. Only valid
/// timestamps are kept, so a malformed one is reported every time it is met.
struct TimestampCache {
    entries: Vec<Option<CachedTimestamp>>,
}

struct CachedTimestamp {
    text: [u8; TIMESTAMP_KEY_BYTES],
    len: u8,
    day: i64,
    slot: u32,
    offset_minutes: i16,
}

/// Longer timestamps (fractions of a second) are parsed every time.
const TIMESTAMP_KEY_BYTES: usize = 32;
const TIMESTAMP_CACHE_ENTRIES: usize = 1024;

impl TimestampCache {
    fn new() -> Self {
        TimestampCache {
            entries: (0..TIMESTAMP_CACHE_ENTRIES).map(|_| None).collect(),
        }
    }

    /// (Paris day, hour slot, offset as written) of `text`.
    fn get(&mut self, text: &[u8], clock: &ParisClock) -> Result<(i64, u32, i16), &'static str> {
        if text.len() > TIMESTAMP_KEY_BYTES {
            let instant = parse_timestamp(text)?;
            let (day, slot) = clock.local_day_and_slot(instant.utc);
            return Ok((day, slot, instant.offset_minutes));
        }
        let mut h = crate::fast_hash::FastHasher::default();
        std::hash::Hasher::write(&mut h, text);
        let at = std::hash::Hasher::finish(&h) as usize % TIMESTAMP_CACHE_ENTRIES;
        if let Some(e) = &self.entries[at] {
            if &e.text[..e.len as usize] == text {
                return Ok((e.day, e.slot, e.offset_minutes));
            }
        }
        let instant = parse_timestamp(text)?;
        let (day, slot) = clock.local_day_and_slot(instant.utc);
        let mut key = [0u8; TIMESTAMP_KEY_BYTES];
        key[..text.len()].copy_from_slice(text);
        self.entries[at] = Some(CachedTimestamp {
            text: key,
            len: text.len() as u8,
            day,
            slot,
            offset_minutes: instant.offset_minutes,
        });
        Ok((day, slot, instant.offset_minutes))
    }
}

/// A stable, cheap hash of the arc id (its value when it is a [`small_id`], else FNV-1a), to
/// shard arcs between workers. The id is
/// trimmed here and in [`Worker::row`] alike, so all the rows of an arc go to one worker.
/// The hash is mixed (FNV's high bits are poor on short ids) and brought into `0..shards`
/// by a multiplication: the division of `h % shards` took a seventh of a worker's loop.
fn shard_of(id: &[u8], shards: usize) -> usize {
    let id = id.trim_ascii();
    let mut h: u64 = match small_id(id) {
        Some(n) => u64::from(n),
        None => {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for &b in id {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            h
        }
    };
    // The finaliser of MurmurHash3.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (((h >> 32) * shards as u64) >> 32) as usize
}

/// Puts the workers' shares together. No copy of the hours: each arc's hours stay in the
/// store of the one worker that parsed them.
fn merge(parts: Vec<Worker>) -> Aggregate {
    let mut out = Aggregate::default();
    // Arcs: in order of first appearance in the file, whatever the scheduling.
    let mut all: Vec<(u64, usize, usize)> = Vec::new();
    for (w, part) in parts.iter().enumerate() {
        for (i, a) in part.arcs.iter().enumerate() {
            all.push((a.first_line, w, i));
        }
    }
    all.sort_unstable();
    let mut bad: Vec<BadLine> = Vec::new();
    let mut arcs: Vec<Vec<Option<ArcInfo>>> = Vec::with_capacity(parts.len());
    for part in parts {
        let s = &part.stats;
        out.stats.rows_read += s.rows_read;
        out.stats.rows_invalide += s.rows_invalide;
        out.stats.rows_malformed += s.rows_malformed;
        out.stats.values_rejected += s.values_rejected;
        out.stats.duplicates += s.duplicates;
        out.stats.rows_outside_days += s.rows_outside_days;
        bad.extend(part.bad);
        arcs.push(part.arcs.into_iter().map(Some).collect());
        out.stores.push(part.hours);
    }
    for (_, w, i) in all {
        out.arcs.push(arcs[w][i].take().expect("each arc once"));
        out.homes.push((w as u32, i as u32));
    }
    bad.sort_by_key(|b| b.line);
    bad.truncate(REPORTED_BAD_LINES);
    out.first_bad_lines = bad;
    out.stats.arcs_without_geometry = out.arcs.iter().filter(|a| !a.has_geometry).count() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(buf: &[u8], eof: bool) -> (usize, Vec<usize>, Vec<(usize, u64)>) {
        let mut scan = Scanned::default();
        let used = scan_records(buf, eof, b';', &mut scan);
        (used, scan.ends, scan.multiline)
    }

    #[test]
    fn records_end_at_line_breaks_outside_quotes() {
        let buf = b"a;\"x\ny\";b\nnext;\"\"\"q\"\"\"\npartial;\"open\n";
        let (used, ends, multiline) = split(buf, false);
        assert_eq!(ends, vec![9, 22]);
        assert_eq!(multiline, vec![(0, 1)]);
        assert_eq!(used, 23, "the unterminated record waits for more input");
        let (used, ends, _) = split(buf, true);
        assert_eq!(used, buf.len());
        assert_eq!(ends, vec![9, 22, buf.len()], "at the end it is a record");
        assert_eq!(split(b"no end", false), (0, vec![], vec![]));
    }

    #[test]
    fn all_rows_of_an_arc_go_to_one_worker() {
        for shards in 1..5 {
            assert_eq!(shard_of(b" 42 ", shards), shard_of(b"42", shards));
        }
        // And the arcs spread over the workers.
        let mut per_shard = [0; 2];
        for id in 0..3348 {
            per_shard[shard_of(id.to_string().as_bytes(), 2)] += 1;
        }
        assert!(per_shard.iter().all(|n| *n > 1500), "{per_shard:?}");
    }

    #[test]
    fn small_ids_are_canonical_numbers() {
        assert_eq!(small_id(b"0"), Some(0));
        assert_eq!(small_id(b"4014"), Some(4014));
        assert_eq!(small_id(b"1048575"), Some((1 << 20) - 1));
        for other in [
            &b""[..],
            b"04014",
            b"1048576",
            b"12345678",
            b"-1",
            b"A12",
            b"1 2",
        ] {
            assert_eq!(
                small_id(other),
                None,
                "{:?}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn plain_integers() {
        assert_eq!(plain_integer(b"0"), Some(0));
        assert_eq!(plain_integer(b"999999999"), Some(999_999_999));
        assert_eq!(
            plain_integer(b"1000000000"),
            None,
            "left to the general parser"
        );
        assert_eq!(plain_integer(b""), None);
        assert_eq!(plain_integer(b"-1"), None);
        assert_eq!(plain_integer(b"1.0"), None);
    }

    #[test]
    fn timestamps_are_cached_by_their_text() {
        let clock = ParisClock::new();
        let mut cache = TimestampCache::new();
        let a = cache.get(b"2025-10-26T02:00:00+02:00", &clock).unwrap();
        let b = cache.get(b"2025-10-26T02:00:00+01:00", &clock).unwrap();
        assert_eq!((a.1, a.2), (2, 120));
        assert_eq!((b.1, b.2), (3, 60), "the second 2 h of the autumn day");
        assert_eq!(cache.get(b"2025-10-26T02:00:00+02:00", &clock).unwrap(), a);
        assert!(cache.get(b"2025-10-26T02:00:00", &clock).is_err());
        let long = b"2025-10-26T02:00:00.000000000+02:00";
        assert_eq!(cache.get(long, &clock).unwrap(), a);
    }
}
