//! One pass over a block of input finds, 64 bytes at a time, everything the workers need to
//! find their way in it: where each record ends (a `\n` outside quotes), which records span
//! several lines, whether the block holds a NUL byte, and a bitmap of its separators and
//! quotes (its "structural" bytes). With that bitmap a worker finds the fields of a record by
//! counting bits instead of reading bytes again.
//!
//! The quote state comes from a prefix XOR of the quote bits, carried from block to block, as
//! simdjson does: a byte is inside quotes when an odd number of quotes comes before it since
//! the start of its record. Records start outside quotes (a record ends only there), so the
//! parity counted from the start of the block is the same.
//!
//! Before this pass the reader made two (`\n`, then the quotes of each line) and a third for
//! NUL bytes, and every worker walked the bytes of every record's first fields again.

/// What one pass over a block found.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// Where each complete record ends: the index of its `\n`, or the length of the input
    /// for a last record without one.
    pub ends: Vec<usize>,
    /// The records that span several lines (a line break inside quotes): (record, extra
    /// lines), in order.
    pub multiline: Vec<(usize, u64)>,
    /// Whether a NUL byte is among the bytes of the complete records.
    pub has_nul: bool,
    /// Bit `i % 64` of word `i / 64`: byte `i` is a separator or a quote (whether inside
    /// quotes or not). Covers at least the bytes of the complete records.
    pub structural: Vec<u64>,
}

impl Scanned {
    pub fn clear(&mut self) {
        self.ends.clear();
        self.multiline.clear();
        self.has_nul = false;
        self.structural.clear();
    }
}

/// Per 64 bytes: one bit per byte equal to each character.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Masks {
    newline: u64,
    quote: u64,
    separator: u64,
    nul: u64,
}

/// Scans `buf` (the start of a block: records begin at its first byte) into `out` (cleared
/// first) and returns how many bytes the complete records take: up to the last `\n` outside
/// quotes, or all of `buf` at the end of the input (`eof`), whose last record may lack one.
pub(crate) fn scan_records(buf: &[u8], eof: bool, separator: u8, out: &mut Scanned) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, the one feature `scan_avx2` is compiled for.
        return unsafe { scan_avx2(buf, eof, separator, out) };
    }
    scan_portable(buf, eof, separator, out)
}

fn scan_portable(buf: &[u8], eof: bool, separator: u8, out: &mut Scanned) -> usize {
    let mut state = ScanState::new(out, buf.len());
    let mut blocks = buf.chunks_exact(64);
    for block in &mut blocks {
        let m = masks_portable(block.try_into().expect("64 bytes"), separator);
        state.step(m, out);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 64];
        last[..rest.len()].copy_from_slice(rest);
        state.step_last(masks_portable(&last, separator), rest.len(), out);
    }
    state.finish(buf, eof, out)
}

/// [`scan_portable`]'s loop with the AVX2 masks. It is written out again rather than shared
/// through a closure or a generic so that the masks are computed inline, in a function
/// compiled for AVX2, whatever the optimiser decides about inlining across the two.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_avx2(buf: &[u8], eof: bool, separator: u8, out: &mut Scanned) -> usize {
    let mut state = ScanState::new(out, buf.len());
    let mut blocks = buf.chunks_exact(64);
    for block in &mut blocks {
        let m = masks_avx2(block.try_into().expect("64 bytes"), separator);
        state.step(m, out);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 64];
        last[..rest.len()].copy_from_slice(rest);
        state.step_last(masks_avx2(&last, separator), rest.len(), out);
    }
    state.finish(buf, eof, out)
}

/// What the scan carries from 64 bytes to the next.
struct ScanState {
    /// Where the next 64 bytes start.
    base: usize,
    /// All ones when the previous 64 bytes ended inside quotes.
    carry: u64,
    /// Line breaks inside quotes since the last record ended.
    extra: u64,
    first_nul: usize,
}

impl ScanState {
    fn new(out: &mut Scanned, len: usize) -> Self {
        out.clear();
        out.structural.reserve(len.div_ceil(64));
        ScanState {
            base: 0,
            carry: 0,
            extra: 0,
            first_nul: usize::MAX,
        }
    }

    /// The last `len` (< 64) bytes, padded with zeros: neither a separator, a quote nor a
    /// line break, but NUL, so those bits are dropped.
    #[inline(always)]
    fn step_last(&mut self, mut m: Masks, len: usize, out: &mut Scanned) {
        m.nul &= (1u64 << len) - 1;
        self.step(m, out);
    }

    #[inline(always)]
    fn step(&mut self, m: Masks, out: &mut Scanned) {
        let base = self.base;
        self.base += 64;
        let inside = prefix_xor(m.quote) ^ self.carry;
        self.carry = 0u64.wrapping_sub(inside >> 63);
        out.structural.push(m.separator | m.quote);
        if m.nul != 0 && self.first_nul == usize::MAX {
            self.first_nul = base + m.nul.trailing_zeros() as usize;
        }
        if m.newline & inside == 0 && self.extra == 0 {
            // The common case: every line break ends a one-line record.
            let mut ends = m.newline;
            while ends != 0 {
                out.ends.push(base + ends.trailing_zeros() as usize);
                ends &= ends - 1;
            }
            return;
        }
        let mut breaks = m.newline;
        while breaks != 0 {
            let at = breaks.trailing_zeros();
            if inside >> at & 1 == 1 {
                self.extra += 1;
            } else {
                if self.extra > 0 {
                    out.multiline.push((out.ends.len(), self.extra));
                    self.extra = 0;
                }
                out.ends.push(base + at as usize);
            }
            breaks &= breaks - 1;
        }
    }

    fn finish(mut self, buf: &[u8], eof: bool, out: &mut Scanned) -> usize {
        let len = buf.len();
        let mut used = out.ends.last().map_or(0, |&end| end + 1);
        if eof && used < len {
            // An unterminated last record: up to the end (the parser reports what is wrong).
            // A line break as the file's last byte, inside its open quotes, ends the file's
            // last line rather than starting another.
            if buf.last() == Some(&b'\n') {
                self.extra = self.extra.saturating_sub(1);
            }
            if self.extra > 0 {
                out.multiline.push((out.ends.len(), self.extra));
            }
            out.ends.push(len);
            used = len;
        }
        out.has_nul = self.first_nul < used;
        used
    }
}

/// Bit `i` of the result: the parity of the bits `0..=i` of `x`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The masks 8 bytes at a time, for any CPU.
#[inline(always)]
fn masks_portable(block: &[u8; 64], separator: u8) -> Masks {
    let mut m = Masks::default();
    for (i, bytes) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        let shift = 8 * i;
        m.newline |= gather(crate::csv_input::byte_mask(word, b'\n')) << shift;
        m.quote |= gather(crate::csv_input::byte_mask(word, b'"')) << shift;
        m.separator |= gather(crate::csv_input::byte_mask(word, separator)) << shift;
        m.nul |= gather(crate::csv_input::byte_mask(word, 0)) << shift;
    }
    m
}

/// The high bit of each byte of `high_bits` (the only bits set) into the 8 low bits.
#[inline(always)]
fn gather(high_bits: u64) -> u64 {
    ((high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn masks_avx2(block: &[u8; 64], separator: u8) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    // SAFETY: both loads read 32 of the 64 bytes of `block`; they need no alignment.
    let (low, high) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()),
            _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>()),
        )
    };
    macro_rules! mask {
        ($byte:expr) => {{
            let byte = _mm256_set1_epi8($byte as i8);
            let low = _mm256_movemask_epi8(_mm256_cmpeq_epi8(low, byte)) as u32;
            let high = _mm256_movemask_epi8(_mm256_cmpeq_epi8(high, byte)) as u32;
            // Opaque to the optimiser: left to see a vector of booleans, LLVM rebuilt the
            // shifts of `prefix_xor` and the bit loops byte by byte, and the scan took three
            // times as long.
            std::hint::black_box(u64::from(low) | u64::from(high) << 32)
        }};
    }
    Masks {
        newline: mask!(b'\n'),
        quote: mask!(b'"'),
        separator: mask!(separator),
        nul: mask!(0u8),
    }
}

/// The structural bytes (see [`Scanned::structural`]) from `from` on and before `end`, in
/// order. It reads the bitmap 64 bits at a time from `from`, so the few fields at the start
/// of a record cost a bit count each.
pub(crate) fn structurals(structural: &[u64], from: usize, end: usize) -> Structurals<'_> {
    Structurals {
        bitmap: structural,
        base: from,
        bits: if from < end {
            bits_at(structural, from)
        } else {
            0
        },
        end,
    }
}

/// See [`structurals`].
pub(crate) struct Structurals<'a> {
    bitmap: &'a [u64],
    /// The position of bit 0 of `bits`.
    base: usize,
    bits: u64,
    end: usize,
}

impl Iterator for Structurals<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.base += 64;
            if self.base >= self.end {
                return None;
            }
            self.bits = bits_at(self.bitmap, self.base);
        }
        let at = self.base + self.bits.trailing_zeros() as usize;
        if at >= self.end {
            self.bits = 0;
            self.base = self.end;
            return None;
        }
        self.bits &= self.bits - 1;
        Some(at)
    }
}

/// The 64 bits of `bitmap` from bit `at` on (zeros past its end).
#[inline]
fn bits_at(bitmap: &[u64], at: usize) -> u64 {
    let (word, shift) = (at / 64, at % 64);
    let low = bitmap.get(word).map_or(0, |w| w >> shift);
    if shift == 0 {
        return low;
    }
    low | bitmap.get(word + 1).map_or(0, |w| w << (64 - shift))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record finding this pass replaced, line by line: the reference.
    fn reference(buf: &[u8], eof: bool) -> (usize, Vec<usize>, Vec<(usize, u64)>, bool) {
        let mut ends = Vec::new();
        let mut multiline = Vec::new();
        let mut pos = 0;
        let used = 'outer: loop {
            if pos >= buf.len() {
                break buf.len();
            }
            let mut search = pos;
            let mut in_quotes = false;
            let mut extra = 0u64;
            let end = loop {
                match buf[search..].iter().position(|&c| c == b'\n') {
                    Some(i) => {
                        let nl = search + i;
                        if buf[search..nl].iter().filter(|&&c| c == b'"').count() % 2 == 1 {
                            in_quotes = !in_quotes;
                        }
                        if !in_quotes {
                            break nl;
                        }
                        extra += 1;
                        search = nl + 1;
                    }
                    None if eof => {
                        // The file's last byte, a line break inside quotes, adds no line.
                        if search == buf.len() && extra > 0 {
                            extra -= 1;
                        }
                        break buf.len();
                    }
                    None => break 'outer pos,
                }
            };
            if extra > 0 {
                multiline.push((ends.len(), extra));
            }
            ends.push(end);
            pos = end + 1;
        };
        let has_nul = buf[..used].contains(&0);
        (used, ends, multiline, has_nul)
    }

    fn check(buf: &[u8], separator: u8) {
        for eof in [false, true] {
            let (used, ends, multiline, has_nul) = reference(buf, eof);
            let mut portable = Scanned::default();
            let got = scan_portable(buf, eof, separator, &mut portable);
            let mut fast = Scanned::default();
            let got_fast = scan_records(buf, eof, separator, &mut fast);
            for (what, got, out) in [
                ("portable", got, &portable),
                ("dispatched", got_fast, &fast),
            ] {
                let input = String::from_utf8_lossy(buf);
                assert_eq!(got, used, "{what} used, eof {eof}: {input:?}");
                assert_eq!(out.ends, ends, "{what} ends, eof {eof}: {input:?}");
                assert_eq!(out.multiline, multiline, "{what} multiline: {input:?}");
                assert_eq!(out.has_nul, has_nul, "{what} NUL: {input:?}");
                for (i, &c) in buf.iter().enumerate() {
                    let bit = out.structural[i / 64] >> (i % 64) & 1 == 1;
                    assert_eq!(
                        bit,
                        c == separator || c == b'"',
                        "{what} byte {i}: {input:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn records_as_the_line_by_line_reference_finds_them() {
        let cases: [&[u8]; 9] = [
            b"",
            b"a;b\nc;d\n",
            b"a;b\nc;d",
            b"a;\"x\ny\";b\nc\n",
            b"\"unterminated\nrest;of\nfile",
            b"\n\n\n",
            b"a\0b\nc",
            b"\"\"\"\";\"\n\";\"\"\n",
            b"x\r\ny\r\n",
        ];
        for case in cases {
            check(case, b';');
            check(case, b',');
        }
    }

    #[test]
    fn records_at_every_length_and_alphabet_mix() {
        // A small generator (no dependency): xorshift over an alphabet rich in the bytes that
        // matter, at lengths crossing the 64-byte words several times.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"ab;;,\"\"\n\n\r\0 1";
        for len in 0..300 {
            for _ in 0..20 {
                let buf: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                check(&buf, b';');
            }
        }
    }

    #[test]
    fn structurals_within_bounds() {
        let mut out = Scanned::default();
        let buf = b"abc;def\"ghi".repeat(20);
        scan_records(&buf, true, b';', &mut out);
        let expected: Vec<usize> = (0..buf.len())
            .filter(|&i| buf[i] == b';' || buf[i] == b'"')
            .collect();
        for from in 0..=buf.len() {
            for end in from..=buf.len() {
                let want: Vec<usize> = expected
                    .iter()
                    .copied()
                    .filter(|&i| i >= from && i < end)
                    .collect();
                let got: Vec<usize> = structurals(&out.structural, from, end).collect();
                assert_eq!(got, want, "{from}..{end}");
            }
        }
    }
}
