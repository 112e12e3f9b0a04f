//! A streaming reader of the records of a `;`/`,` CSV, for the raw inputs other than the road
//! counts (bike counters, roadworks): one pass, a bounded buffer, exact line numbers.
//!
//! The road counts have their own two-core reader (`aggregate`); these files are smaller or
//! simpler, so one thread finds the records with the same vectorised scan (`scan`) and hands
//! each one, with its first line number, to the caller.

use std::io::Read;
use std::path::Path;

use crate::aggregate::source_error;
use crate::csv_input::{split_record, Field};
use crate::scan::{scan_records, Scanned};
use crate::IngestError;

/// A record (a line, or several when a quoted field holds a line break) longer than this
/// ends the run: no valid record of these inputs comes near it, and holding it means holding
/// whatever follows a stray quote.
pub const MAX_RAW_RECORD_BYTES: usize = 1 << 20;

const BLOCK_BYTES: usize = 1 << 20;

/// Plain or gzip (by its magic bytes), as every raw input may be.
pub(crate) fn decoded(input: impl Read + Send + 'static) -> std::io::Result<Box<dyn Read + Send>> {
    let mut input = std::io::BufReader::with_capacity(1 << 16, input);
    let head = std::io::BufRead::fill_buf(&mut input)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(input)))
    } else {
        Ok(Box::new(input))
    }
}

/// An error of reading `path`: the source's own (a cut download) or one naming the file.
pub(crate) fn read_error(path: &Path, e: std::io::Error) -> IngestError {
    match source_error(e) {
        Ok(source) => source,
        Err(e) => IngestError::Input {
            path: path.to_path_buf(),
            message: format!("cannot be read: {e}"),
        },
    }
}

/// What [`CsvRecords::for_each`] calls with each record: its fields (`Err` for a quoting
/// error), its bytes, the line it starts on.
pub(crate) type OnRecord<'c> =
    dyn FnMut(Result<&[Field<'_>], ()>, &[u8], u64) -> Result<(), IngestError> + 'c;

/// A CSV being read: its header line, then [`CsvRecords::for_each`] over its records.
pub(crate) struct CsvRecords<'a> {
    path: &'a Path,
    input: &'a mut dyn Read,
    /// Read into up to `len`; zeroed once where it grew.
    buf: Vec<u8>,
    len: usize,
    consumed: usize,
    eof: bool,
}

impl<'a> CsvRecords<'a> {
    fn input_error(&self, message: String) -> IngestError {
        IngestError::Input {
            path: self.path.to_path_buf(),
            message,
        }
    }

    /// Appends up to one block after the `len` bytes held; true at the end of the input.
    /// The buffer is zeroed only where it grows: reused, it is read into as it is.
    fn fill(&mut self) -> Result<bool, IngestError> {
        let end = self.len + BLOCK_BYTES;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.len..end]) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    self.len += n;
                    if self.len == end {
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(self.path, e)),
            }
        }
    }

    /// Moves the bytes not yet consumed to the front of the buffer.
    fn compact(&mut self) {
        self.buf.copy_within(self.consumed..self.len, 0);
        self.len -= self.consumed;
        self.consumed = 0;
    }

    /// Opens `input` and reads its header line (BOM and line terminator removed). Errors
    /// name `path`: an empty file, a header that is not UTF-8 or longer than
    /// [`MAX_RAW_RECORD_BYTES`].
    pub(crate) fn open(
        path: &'a Path,
        input: &'a mut dyn Read,
    ) -> Result<(String, Self), IngestError> {
        let mut r = CsvRecords {
            path,
            input,
            buf: Vec::new(),
            len: 0,
            consumed: 0,
            eof: false,
        };
        let header_end = loop {
            if let Some(i) = memchr::memchr(b'\n', &r.buf[..r.len]) {
                break i;
            }
            if r.eof {
                if r.len == 0 {
                    return Err(r.input_error("the file is empty (no header line)".into()));
                }
                break r.len;
            }
            if r.len > MAX_RAW_RECORD_BYTES {
                return Err(r.input_error(format!(
                    "line 1 (the header) is longer than {} MiB",
                    MAX_RAW_RECORD_BYTES >> 20
                )));
            }
            r.eof = r.fill()?;
        };
        let header = &r.buf[..header_end];
        let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
        let header = header.strip_suffix(b"\r").unwrap_or(header);
        let header = match std::str::from_utf8(header) {
            Ok(h) => h.to_string(),
            Err(e) => {
                return Err(r.input_error(format!(
                    "line 1 (the header) is not UTF-8 (byte {})",
                    e.valid_up_to()
                )))
            }
        };
        r.consumed = (header_end + 1).min(r.len);
        Ok((header, r))
    }

    /// Calls `on_record` with every record after the header: its fields split with
    /// `separator` (`Err` for a quoting error), the record without its line terminator, and
    /// the line it starts on. Errors name the file and the line: invalid UTF-8, a NUL byte, a
    /// record over [`MAX_RAW_RECORD_BYTES`], a quote never closed before the end of the file.
    /// Returns the bytes read.
    pub(crate) fn for_each(
        self,
        separator: u8,
        on_record: &mut OnRecord<'_>,
    ) -> Result<u64, IngestError> {
        self.for_each_block(separator, &mut |block| {
            let mut fields: Vec<Field> = Vec::with_capacity(32);
            for (record, line) in block.records() {
                let split = split_record(record, separator, &mut fields)
                    .map(|()| &fields[..])
                    .map_err(|_| ());
                on_record(split, record, line)?;
            }
            Ok(Some(block))
        })
    }

    /// Hands out the records after the header a block at a time (about 1 MB of complete
    /// records, checked as [`CsvRecords::for_each`] checks them), for parsers that share the
    /// blocks between threads. `on_block` may hand back a block it is done with, whose
    /// buffers the next block reuses (no allocation and no page faults per block). Returns
    /// the bytes read.
    pub(crate) fn for_each_block(
        mut self,
        separator: u8,
        on_block: &mut dyn FnMut(Block) -> Result<Option<Block>, IngestError>,
    ) -> Result<u64, IngestError> {
        let mut spare: Option<Block> = None;
        let mut bytes = self.consumed as u64;
        let mut line: u64 = 2;
        let mut scanned = Scanned::default();
        loop {
            let pending = &self.buf[self.consumed..self.len];
            if pending.is_empty() && self.eof {
                break;
            }
            let used = scan_records(pending, self.eof, separator, &mut scanned);
            if scanned.ends.is_empty() {
                if pending.len() > MAX_RAW_RECORD_BYTES {
                    return Err(self.input_error(format!(
                        "the record starting on line {line} is longer than {} MiB (a stray '\"' \
                         or a line without its line break?)",
                        MAX_RAW_RECORD_BYTES >> 20
                    )));
                }
                if self.eof {
                    break;
                }
                self.compact();
                self.eof = self.fill()?;
                continue;
            }
            let data = &pending[..used];
            if let Err(e) = simdutf8::compat::from_utf8(data) {
                let at = e.valid_up_to();
                let bad_line = line + memchr::memchr_iter(b'\n', &data[..at]).count() as u64;
                return Err(self.input_error(format!("line {bad_line} is not valid UTF-8")));
            }
            if scanned.has_nul {
                let at = memchr::memchr(0, data).unwrap_or(0);
                let bad_line = line + memchr::memchr_iter(b'\n', &data[..at]).count() as u64;
                return Err(
                    self.input_error(format!("line {bad_line} holds a NUL byte: not a text file"))
                );
            }
            // The block takes the read buffer as it is (no copy): the bytes after its records,
            // the start of the next one, move to the front of a spare buffer.
            let mut block = spare.take().unwrap_or_default();
            let tail = self.consumed + used..self.len;
            let mut next = std::mem::take(&mut block.data);
            if next.len() < tail.len() + BLOCK_BYTES {
                next.resize(tail.len() + BLOCK_BYTES, 0);
            }
            next[..tail.len()].copy_from_slice(&self.buf[tail.clone()]);
            block.data = std::mem::replace(&mut self.buf, next);
            block.fill_from(self.consumed, used, &scanned, line);
            self.len = tail.len();
            self.consumed = 0;
            // The checks that need the records themselves, before anyone parses them.
            let count = block.ends.len();
            for (i, (record, at)) in block.records().enumerate() {
                if record.len() > MAX_RAW_RECORD_BYTES {
                    return Err(self.input_error(format!(
                        "the record starting on line {at} is longer than {} MiB",
                        MAX_RAW_RECORD_BYTES >> 20
                    )));
                }
                if self.eof
                    && i + 1 == count
                    && split_record(record, separator, &mut Vec::new()).is_err()
                {
                    let spanned = memchr::memchr_iter(b'\n', record.trim_ascii_end()).count();
                    if spanned > 0 {
                        // A quote opened and never closed: every line after it would be lost
                        // in this one record.
                        return Err(self.input_error(format!(
                            "the record starting on line {at} runs to the end of the file \
                             ({spanned} more lines): a quoted field opened in it is never \
                             closed (a stray '\"'?), so no row after it can be read"
                        )));
                    }
                }
            }
            line = block.next_line();
            bytes += used as u64;
            spare = on_block(block)?;
            if !self.eof && self.len - self.consumed < BLOCK_BYTES {
                self.compact();
                self.eof = self.fill()?;
            }
        }
        Ok(bytes)
    }
}

/// About a megabyte of complete records, checked (UTF-8, no NUL, none too long), with what
/// is needed to number their lines.
#[derive(Debug, Default)]
pub(crate) struct Block {
    /// A read buffer whose bytes `base..base + used` are the block's records.
    data: Vec<u8>,
    base: usize,
    used: usize,
    /// Where each record ends (its `\n`, or the end of the data for a last record without).
    ends: Vec<usize>,
    /// (record, extra lines) of the records spanning several lines.
    multiline: Vec<(usize, u64)>,
    /// Bit `i % 64` of word `i / 64`: byte `i` of `data` is a separator or a quote.
    structural: Vec<u64>,
    first_line: u64,
}

impl Block {
    /// The records of `data`, as `scanned` found them, from line `first_line` on; the
    /// block's buffers are reused.
    fn fill_from(&mut self, base: usize, used: usize, scanned: &Scanned, first_line: u64) {
        self.base = base;
        self.used = used;
        self.ends.clear();
        self.ends.extend_from_slice(&scanned.ends);
        self.multiline.clear();
        self.multiline.extend_from_slice(&scanned.multiline);
        self.structural.clear();
        self.structural.extend_from_slice(&scanned.structural);
        self.first_line = first_line;
    }

    /// The bytes of the block's records.
    fn data(&self) -> &[u8] {
        &self.data[self.base..self.base + self.used]
    }

    /// Each non-empty record without its line terminator, and the line it starts on.
    pub(crate) fn records(&self) -> impl Iterator<Item = (&[u8], u64)> + '_ {
        self.spans()
            .map(|(start, end, line)| (&self.data()[start..end], line))
    }

    /// Each non-empty record as its byte range in the block (line terminator excluded), and
    /// the line it starts on.
    pub(crate) fn spans(&self) -> impl Iterator<Item = (usize, usize, u64)> + '_ {
        let mut start = 0;
        let mut line = self.first_line;
        let mut multiline = self.multiline.iter().peekable();
        self.ends.iter().enumerate().filter_map(move |(i, &end)| {
            let end = end.min(self.used);
            let (from, at) = (start, line);
            line += 1 + multiline.next_if(|(r, _)| *r == i).map_or(0, |(_, n)| *n);
            start = end + 1;
            let end = if end > from && self.data()[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            (end > from).then_some((from, end, at))
        })
    }

    /// The bytes of a span.
    pub(crate) fn bytes(&self, start: usize, end: usize) -> &[u8] {
        &self.data()[start..end]
    }

    /// Splits the record at `start..end` into `fields`: from the structural bitmap when it
    /// has `width` fields and no quote (a bit count per field, however long the field),
    /// else field by field ([`split_record`], which handles quotes and says how many fields
    /// there are). `Err` for a quoting error.
    pub(crate) fn split<'a>(
        &'a self,
        start: usize,
        end: usize,
        separator: u8,
        width: usize,
        fields: &mut Vec<Field<'a>>,
    ) -> Result<(), ()> {
        match crate::csv_input::head_fields(
            self.data(),
            &self.structural,
            start,
            end,
            separator,
            width,
            fields,
        ) {
            Some(n) if n == end - start => Ok(()),
            _ => split_record(&self.data()[start..end], separator, fields).map_err(|_| ()),
        }
    }

    /// The line after the block's last record.
    fn next_line(&self) -> u64 {
        self.first_line
            + self.ends.len() as u64
            + self.multiline.iter().map(|(_, n)| n).sum::<u64>()
    }
}

/// The index of each wanted column in `header` (names compared without case, accents or
/// surrounding spaces), or an error naming the missing required ones.
pub(crate) fn columns<const N: usize>(
    header: &str,
    separator: u8,
    wanted: [(&str, bool); N],
) -> Result<[Option<usize>; N], String> {
    let names: Vec<String> = header
        .split(char::from(separator))
        .map(|n| crate::csv_input::normalize(n.trim_matches('"')))
        .collect();
    let mut found = [None; N];
    let mut missing = Vec::new();
    for (i, (name, required)) in wanted.iter().enumerate() {
        let want = crate::csv_input::normalize(name);
        found[i] = names.iter().position(|n| *n == want);
        if found[i].is_none() && *required {
            missing.push(format!("`{name}`"));
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(format!(
            "missing required column(s) {} (header: {:?})",
            missing.join(", "),
            header.chars().take(160).collect::<String>()
        ))
    }
}

/// `;` when the header has at least as many as `,`; an error when it has neither.
pub(crate) fn sniff_separator(header: &str) -> Result<u8, String> {
    match (header.matches(';').count(), header.matches(',').count()) {
        (0, 0) => Err(format!(
            "the header has neither `;` nor `,` separators: {:?}",
            header.chars().take(120).collect::<String>()
        )),
        (s, c) if s >= c => Ok(b';'),
        _ => Ok(b','),
    }
}

/// Metropolitan France and Corsica, generously: a point outside is implausible for Paris
/// open data and is rejected (the record stays, without coordinates).
pub fn in_france(lat: f64, lon: f64) -> bool {
    (41.0..=51.5).contains(&lat) && (-5.5..=10.0).contains(&lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8]) -> Result<Vec<(String, u64)>, IngestError> {
        let mut out = Vec::new();
        let mut input = text;
        let (header, records) = CsvRecords::open(Path::new("t.csv"), &mut input)?;
        records.for_each(sniff_separator(&header).unwrap(), &mut |_, r, l| {
            out.push((String::from_utf8(r.to_vec()).unwrap(), l));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn records_and_their_lines() {
        let got = records(b"a;b\r\n1;2\r\n\"x\ny\";3\n4;5").unwrap();
        assert_eq!(
            got,
            vec![
                ("1;2".into(), 2),
                ("\"x\ny\";3".into(), 3),
                ("4;5".into(), 5)
            ]
        );
        let e = records(b"").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = records(b"a;b\n1;2\n\xff;3\n").unwrap_err().to_string();
        assert!(e.contains("line 3 is not valid UTF-8"), "{e}");
        let e = records(b"a;b\n1;\0\n").unwrap_err().to_string();
        assert!(e.contains("line 2 holds a NUL"), "{e}");
        let mut long = b"a;b\n1;2\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', 3 << 20));
        long.extend(b";3\n");
        let e = records(&long).unwrap_err().to_string();
        assert!(e.contains("starting on line 3 is longer than 1 MiB"), "{e}");
    }

    #[test]
    fn a_quote_never_closed_is_an_error_not_a_lost_end_of_file() {
        let e = records(b"a;b\n1;2\n\"x;3\n4;5\n6;7\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the record starting on line 3 runs to the end of the file (2 more lines)"),
            "{e}"
        );
        // On one line, the last one: that record alone is badly quoted.
        let got = records(b"a;b\n1;2\n\"x;3\n").unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn records_across_blocks_keep_their_line_numbers() {
        let mut text = b"a;b\n".to_vec();
        for i in 0..300_000 {
            text.extend(format!("{i};\"v\"\n").as_bytes());
        }
        let got = records(&text).unwrap();
        assert_eq!(got.len(), 300_000);
        assert!(got
            .iter()
            .enumerate()
            .all(|(i, (r, l))| *l == i as u64 + 2 && r.starts_with(&format!("{i};"))));
    }
}
