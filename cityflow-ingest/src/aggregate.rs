//! One streaming pass over the CSV: per (arc, local day), the hourly values.
//!
//! A reader thread reads (and un-gzips) the input in blocks, cuts them at record boundaries
//! and hands every numbered chunk to every worker thread. The arcs are sharded: a worker
//! walks all records but fully parses only those of its arcs (by a hash of the arc id), into
//! its own map of (arc, day) → 25 hourly slots. Each (arc, day) pair therefore lives in
//! exactly one map: memory grows with the number of pairs, never with rows or bytes, and is
//! not multiplied by the number of workers. A worker sees its arcs' rows in file order, so
//! the first row of an (arc, hour) wins.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;

use crate::csv_input::{
    parse_number, parse_timestamp, split_record, Column, Field, Instant, Layout, Number,
};
use crate::geo::{linestring_length_metres, parse_geo_point};
use crate::paris_time::ParisClock;
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

/// No row for this hour.
const EMPTY: u32 = u32::MAX;

/// One hour of one arc on one day.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// Occupancy in percent; NaN when missing.
    pub taux: f64,
    /// Vehicles in the hour; `None` when missing.
    debit: u32,
    /// Chunk of the row that filled the slot (file order), `EMPTY` when no row.
    chunk: u32,
    /// Offset the timestamp was written with.
    pub offset_minutes: i16,
    pub etat: Etat,
}

impl Slot {
    const NONE: Slot = Slot {
        taux: f64::NAN,
        debit: EMPTY,
        chunk: EMPTY,
        offset_minutes: 0,
        etat: Etat::Inconnu,
    };

    /// Whether a row filled this hour.
    pub fn has_row(&self) -> bool {
        self.chunk != EMPTY
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
    pub has_geometry: bool,
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
#[derive(Debug, Clone, Default)]
pub struct Aggregate {
    /// Every arc with at least one row that is not `Invalide`, in first-seen order.
    pub arcs: Vec<ArcInfo>,
    /// (arc index, Paris day number) → hours.
    pub days: HashMap<(u32, i64), Box<DayHours>>,
    pub stats: Stats,
    /// The first malformed lines, in file order.
    pub first_bad_lines: Vec<BadLine>,
}

/// The longest row accepted. The longest real rows (arcs with a long `geo_shape`) are a few
/// kilobytes; a megabyte-long one is garbage, and its text would otherwise end up in reports
/// (a 10 MB `Libelle` in the top 10 would make the JSON too large for DynamoDB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

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

/// Block size handed to workers.
const CHUNK_BYTES: usize = 4 << 20;

struct Chunk {
    index: u32,
    first_line: u64,
    /// Offset of the chunk in the decompressed input.
    offset: u64,
    data: Vec<u8>,
}

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
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut offset: u64 = 0; // decompressed bytes before `buf`
    let mut eof = false;
    let header_end = loop {
        if let Some(end) = memchr::memchr(b'\n', &buf) {
            break end;
        }
        if eof {
            if buf.is_empty() {
                return Err(IngestError::Input {
                    path: path.to_path_buf(),
                    message: "the file is empty (no header line)".into(),
                });
            }
            break buf.len();
        }
        eof = fill(&mut input, &mut buf, path, offset)?;
    };
    let layout =
        Layout::from_header(&buf[..header_end]).map_err(|message| IngestError::Columns {
            path: path.to_path_buf(),
            message,
        })?;
    let layout = Arc::new(layout);
    let consumed = (header_end + 1).min(buf.len());
    buf.drain(..consumed);
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

    let mut index: u32 = 0;
    let mut line: u64 = 2;
    let mut stats_bytes = 0u64;
    let send_result: Result<(), IngestError> = (|| {
        loop {
            while buf.len() < CHUNK_BYTES && !eof {
                eof = fill(&mut input, &mut buf, path, offset)?;
            }
            if buf.is_empty() {
                break;
            }
            // Cut at the last record boundary of the block (outside quotes).
            let cut = if eof {
                buf.len()
            } else {
                match last_boundary(&buf) {
                    Some(end) => end + 1,
                    // One record larger than a block: read on until it ends.
                    None => {
                        eof = fill(&mut input, &mut buf, path, offset)?;
                        continue;
                    }
                }
            };
            let rest = buf.split_off(cut);
            let data = std::mem::replace(&mut buf, rest);
            let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
            offset += data.len() as u64;
            stats_bytes += data.len() as u64;
            let chunk = Arc::new(Chunk {
                index,
                first_line: line,
                offset: offset - data.len() as u64,
                data,
            });
            line += lines;
            if senders.iter().any(|s| s.send(chunk.clone()).is_err()) {
                break;
            }
            index += 1;
            progress.read(counter.load(std::sync::atomic::Ordering::Relaxed));
        }
        Ok(())
    })();
    drop(senders);
    let mut parts: Vec<Worker> = results_rx.iter().collect();
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
    let mut merged = merge(&mut parts);
    merged.stats.bytes_read = stats_bytes + (consumed as u64);
    Ok(merged)
}

/// The last `\n` of `buf` outside quotes. Quote state is tracked from the start of the block,
/// which always begins at a record boundary.
fn last_boundary(buf: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    let mut last = None;
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[i] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            last = Some(i);
        }
    }
    last
}

/// The source's own error when `e` carries one (a cut download), else `e` back.
fn source_error(e: std::io::Error) -> Result<IngestError, std::io::Error> {
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

/// Appends up to one block to `buf`; true at end of input. Errors carry the byte offset.
fn fill(
    input: &mut dyn Read,
    buf: &mut Vec<u8>,
    path: &Path,
    offset: u64,
) -> Result<bool, IngestError> {
    let start = buf.len();
    buf.resize(start + CHUNK_BYTES, 0);
    let mut filled = start;
    let result = loop {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break Ok(true),
            Ok(n) => {
                filled += n;
                if filled == buf.len() {
                    break Ok(false);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let e = match source_error(e) {
                    Ok(source) => break Err(source),
                    Err(e) => e,
                };
                break Err(IngestError::Input {
                    path: path.to_path_buf(),
                    message: format!(
                        "cannot read past byte {} of the (decompressed) input: {e}",
                        offset + filled as u64
                    ),
                });
            }
        }
    };
    buf.truncate(filled);
    result
}

/// One worker's share.
struct Worker {
    /// This worker parses the arcs whose hash modulo `shards` is `shard`.
    shard: usize,
    shards: usize,
    layout: Arc<Layout>,
    clock: Arc<ParisClock>,
    filter: DayFilter,
    arc_index: HashMap<Box<[u8]>, u32>,
    arcs: Vec<ArcInfo>,
    days: HashMap<(u32, i64), Box<DayHours>>,
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
            layout,
            clock,
            filter,
            arc_index: HashMap::new(),
            arcs: Vec::new(),
            days: HashMap::new(),
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

    /// Whether this worker handles `record`: its arc's shard, or shard 0 for records whose
    /// arc cannot be read (they are malformed, and must be counted once).
    fn owns(&self, record: &[u8]) -> bool {
        if self.shards == 1 {
            return true;
        }
        let arc_column = self.layout.index(Column::Arc).expect("required");
        match crate::csv_input::field_at(record, self.layout.separator, arc_column) {
            Some(id) if !id.is_empty() => shard_of(id, self.shards) == self.shard,
            _ => self.shard == 0,
        }
    }

    fn process(&mut self, chunk: &Chunk) {
        if self.invalid_utf8_at.is_some() {
            return;
        }
        // Validating a whole chunk costs little and makes every later `from_utf8` safe; one
        // worker per chunk does it.
        if chunk.index as usize % self.shards == self.shard {
            if let Err(e) = std::str::from_utf8(&chunk.data) {
                self.invalid_utf8_at = Some(chunk.offset + e.valid_up_to() as u64);
                return;
            }
        }
        let data = &chunk.data;
        let mut pos = 0;
        let mut line = chunk.first_line;
        let mut fields: Vec<Field> = Vec::with_capacity(self.layout.width + 1);
        while pos < data.len() {
            let end = crate::csv_input::record_end(data, pos).unwrap_or(data.len());
            let mut record = &data[pos..end];
            let record_lines = 1 + memchr::memchr_iter(b'\n', record).count() as u64;
            if let Some(r) = record.strip_suffix(b"\r") {
                record = r;
            }
            pos = end + 1;
            let this_line = line;
            line += record_lines;
            if record.is_empty() || !self.owns(record) {
                continue;
            }
            self.stats.rows_read += 1;
            if record.len() > MAX_RECORD_BYTES {
                let msg = format!(
                    "a line of {} bytes, over the {} MiB limit of one row",
                    record.len(),
                    MAX_RECORD_BYTES >> 20
                );
                self.bad_line(this_line, msg);
                continue;
            }
            // No text of the export has a NUL byte: one means binary data in the file.
            if memchr::memchr(0, record).is_some() {
                self.bad_line(this_line, "a NUL byte (binary data)");
                continue;
            }
            // The borrow of `fields` ends before `self` is used mutably again.
            let fields_ok = split_record(record, self.layout.separator, &mut fields);
            if let Err(reason) = fields_ok {
                self.bad_line(this_line, reason);
                continue;
            }
            if fields.len() != self.layout.width {
                let msg = format!(
                    "expected {} fields, found {}",
                    self.layout.width,
                    fields.len()
                );
                self.bad_line(this_line, msg);
                continue;
            }
            if let Err(reason) = self.row(&fields, chunk.index, this_line) {
                self.bad_line(this_line, reason);
            }
        }
    }

    fn field<'a>(&self, fields: &[Field<'a>], column: Column) -> Option<Field<'a>> {
        self.layout.index(column).map(|i| fields[i])
    }

    fn row(&mut self, fields: &[Field], chunk: u32, line: u64) -> Result<(), String> {
        if let Some(etat_arc) = self.field(fields, Column::EtatArc) {
            if etat_arc.bytes() == b"Invalide" {
                self.stats.rows_invalide += 1;
                return Ok(());
            }
        }
        let id = self.field(fields, Column::Arc).expect("required").bytes();
        if id.is_empty() {
            return Err("empty Identifiant arc".into());
        }
        let ts = self.field(fields, Column::Timestamp).expect("required");
        let instant: Instant = parse_timestamp(ts.bytes())
            .map_err(|e| format!("{e}: {:?}", String::from_utf8_lossy(ts.bytes())))?;
        let debit = match parse_number(self.field(fields, Column::Debit).expect("required").bytes())
            .map_err(|e| format!("Débit horaire: {e}"))?
        {
            Number::Missing => EMPTY,
            Number::Value(v) if v < 0.0 => {
                self.stats.values_rejected += 1;
                EMPTY
            }
            Number::Value(v) if v.fract() != 0.0 || v >= f64::from(EMPTY) => {
                return Err(format!(
                    "Débit horaire: {v} is not a whole number of vehicles"
                ))
            }
            Number::Value(v) => v as u32,
        };
        let taux = match parse_number(self.field(fields, Column::Taux).expect("required").bytes())
            .map_err(|e| format!("Taux d'occupation: {e}"))?
        {
            Number::Missing => f64::NAN,
            Number::Value(v) if !(0.0..=100.0).contains(&v) => {
                self.stats.values_rejected += 1;
                f64::NAN
            }
            Number::Value(v) => v,
        };
        let etat_field = self.field(fields, Column::EtatTrafic).expect("required");
        let etat = Etat::parse(etat_field.bytes()).ok_or_else(|| {
            format!(
                "Etat trafic: unknown state {:?}",
                String::from_utf8_lossy(etat_field.bytes())
            )
        })?;

        let (day, slot) = self.clock.local_day_and_slot(instant.utc);
        if !self.filter.keeps(day) {
            self.stats.rows_outside_days += 1;
            // The arc still belongs to the file.
            self.arc(id, fields, line);
            return Ok(());
        }
        let arc = self.arc(id, fields, line);
        let hours = self.days.entry((arc, day)).or_insert_with(|| {
            Box::new(DayHours {
                slots: [Slot::NONE; 25],
            })
        });
        let s = &mut hours.slots[slot as usize];
        if s.has_row() {
            self.stats.duplicates += 1;
            if s.chunk <= chunk {
                return Ok(());
            }
        }
        *s = Slot {
            taux,
            debit,
            chunk,
            offset_minutes: instant.offset_minutes,
            etat,
        };
        Ok(())
    }

    /// The index of arc `id`, recording what its first row says about it.
    fn arc(&mut self, id: &[u8], fields: &[Field], line: u64) -> u32 {
        if let Some(&i) = self.arc_index.get(id) {
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
        let length = self
            .field(fields, Column::GeoShape)
            .and_then(|f| linestring_length_metres(&f.unescaped()));
        let i = self.arcs.len() as u32;
        self.arcs.push(ArcInfo {
            id: id_text,
            libelle,
            geo_point_text,
            point,
            length_metres: length.unwrap_or(0.0),
            has_geometry: length.is_some(),
            first_line: line,
        });
        self.arc_index.insert(id.into(), i);
        i
    }
}

/// FNV-1a: a stable, cheap hash of the arc id, to shard arcs between workers.
fn shard_of(id: &[u8], shards: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id.trim_ascii() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % shards as u64) as usize
}

/// Merges the workers' maps; the earliest chunk wins everywhere.
fn merge(parts: &mut [Worker]) -> Aggregate {
    let mut out = Aggregate::default();
    let mut index: HashMap<String, u32> = HashMap::new();
    // Arcs: in order of first appearance in the file, whatever the scheduling.
    let mut all: Vec<(u64, usize, usize)> = Vec::new();
    for (w, part) in parts.iter().enumerate() {
        for (i, a) in part.arcs.iter().enumerate() {
            all.push((a.first_line, w, i));
        }
    }
    all.sort_unstable();
    let mut maps: Vec<Vec<u32>> = parts.iter().map(|p| vec![0; p.arcs.len()]).collect();
    for (_, w, i) in all {
        let info = &parts[w].arcs[i];
        let global = *index.entry(info.id.clone()).or_insert_with(|| {
            out.arcs.push(info.clone());
            (out.arcs.len() - 1) as u32
        });
        maps[w][i] = global;
    }
    let mut bad: Vec<BadLine> = Vec::new();
    for (w, part) in parts.iter_mut().enumerate() {
        let s = &part.stats;
        out.stats.rows_read += s.rows_read;
        out.stats.rows_invalide += s.rows_invalide;
        out.stats.rows_malformed += s.rows_malformed;
        out.stats.values_rejected += s.values_rejected;
        out.stats.duplicates += s.duplicates;
        out.stats.rows_outside_days += s.rows_outside_days;
        bad.append(&mut part.bad);
        for ((arc, day), hours) in std::mem::take(&mut part.days) {
            let key = (maps[w][arc as usize], day);
            match out.days.get_mut(&key) {
                None => {
                    out.days.insert(key, hours);
                }
                Some(existing) => {
                    for (mine, theirs) in existing.slots.iter_mut().zip(hours.slots.iter()) {
                        if !theirs.has_row() {
                            continue;
                        }
                        if mine.has_row() {
                            out.stats.duplicates += 1;
                            if mine.chunk <= theirs.chunk {
                                continue;
                            }
                        }
                        *mine = *theirs;
                    }
                }
            }
        }
    }
    bad.sort_by_key(|b| b.line);
    bad.truncate(REPORTED_BAD_LINES);
    out.first_bad_lines = bad;
    out.stats.arcs_without_geometry = out.arcs.iter().filter(|a| !a.has_geometry).count() as u64;
    out
}
