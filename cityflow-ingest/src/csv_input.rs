//! The open-data CSV: header, records, fields and values.
//!
//! Hand-written for speed (one pass, no allocation per row) and for exact error reporting:
//! `;` or `,` (sniffed from the header), optional UTF-8 BOM, LF or CRLF, quoted fields with
//! `""` escapes (the `geo_shape` column holds quoted GeoJSON).

use memchr::memchr;

/// A column we read, by the name it has in the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Arc,
    Libelle,
    Timestamp,
    Debit,
    Taux,
    EtatTrafic,
    EtatArc,
    GeoPoint,
    GeoShape,
}

impl Column {
    const ALL: [Column; 9] = [
        Column::Arc,
        Column::Libelle,
        Column::Timestamp,
        Column::Debit,
        Column::Taux,
        Column::EtatTrafic,
        Column::EtatArc,
        Column::GeoPoint,
        Column::GeoShape,
    ];

    /// The header name in the export.
    pub fn name(self) -> &'static str {
        match self {
            Column::Arc => "Identifiant arc",
            Column::Libelle => "Libelle",
            Column::Timestamp => "Date et heure de comptage",
            Column::Debit => "Débit horaire",
            Column::Taux => "Taux d'occupation",
            Column::EtatTrafic => "Etat trafic",
            Column::EtatArc => "Etat arc",
            Column::GeoPoint => "geo_point_2d",
            Column::GeoShape => "geo_shape",
        }
    }

    /// Without these no figure can be computed. The others are optional: no `Libelle` → the
    /// id is the label; no `Etat arc` → no row is excluded; no geometry → length 0 and zone
    /// unknown, counted.
    fn required(self) -> bool {
        matches!(
            self,
            Column::Arc | Column::Timestamp | Column::Debit | Column::Taux | Column::EtatTrafic
        )
    }
}

/// Header names are compared without case, accents or surrounding spaces.
pub(crate) fn normalize(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .replace(['é', 'è', 'ê'], "e")
        .replace('’', "'")
}

/// Where each column is, and the separator.
#[derive(Debug, Clone)]
pub struct Layout {
    pub separator: u8,
    /// Fields per record.
    pub width: usize,
    index: [Option<usize>; 9],
}

impl Layout {
    pub fn index(&self, column: Column) -> Option<usize> {
        self.index[column as usize]
    }

    /// How many leading fields hold the values that change from row to row of an arc: its id,
    /// the timestamp, the flow, the occupancy and the state. (`Etat arc`, the label and the
    /// geometry change rarely if ever; see `Worker::known_arc_row`.)
    pub fn values_width(&self) -> usize {
        [
            Column::Arc,
            Column::Timestamp,
            Column::Debit,
            Column::Taux,
            Column::EtatTrafic,
        ]
        .iter()
        .filter_map(|c| self.index(*c))
        .max()
        .expect("required columns")
            + 1
    }

    /// Reads the header line (without its line terminator). Errors name what is missing.
    pub fn from_header(line: &[u8]) -> Result<Layout, String> {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line)
            .map_err(|e| format!("the header is not UTF-8 (byte {})", e.valid_up_to()))?;
        let separator = crate::records::sniff_separator(text)?;
        let mut fields = Vec::new();
        split_record(line, separator, &mut fields).map_err(|e| format!("header: {e}"))?;
        let names: Vec<String> = fields
            .iter()
            .map(|f| normalize(&String::from_utf8_lossy(&f.unescaped())))
            .collect();
        let mut index = [None; 9];
        for column in Column::ALL {
            index[column as usize] = names.iter().position(|n| *n == normalize(column.name()));
        }
        let missing: Vec<&str> = Column::ALL
            .iter()
            .filter(|c| c.required() && index[**c as usize].is_none())
            .map(|c| c.name())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "missing required column(s): {} (found: {})",
                missing.join(", "),
                fields
                    .iter()
                    .map(|f| String::from_utf8_lossy(&f.unescaped()).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Layout {
            separator,
            width: fields.len(),
            index,
        })
    }
}

/// One field of a record, as it is in the input.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    raw: &'a [u8],
    /// Quoted with `""` escapes inside: unescape before use.
    escaped: bool,
}

impl<'a> Field<'a> {
    /// A field that was not quoted.
    pub(crate) fn unquoted(raw: &'a [u8]) -> Self {
        Field {
            raw,
            escaped: false,
        }
    }

    /// The bytes, without surrounding spaces, when no unescaping is needed.
    pub fn bytes(&self) -> &'a [u8] {
        self.raw.trim_ascii()
    }

    /// The content with `""` turned into `"`.
    pub fn unescaped(&self) -> std::borrow::Cow<'a, [u8]> {
        if self.escaped {
            let mut out = Vec::with_capacity(self.raw.len());
            let mut rest = self.raw;
            while let Some(i) = memchr(b'"', rest) {
                out.extend_from_slice(&rest[..=i]);
                // Skip the second quote of the pair.
                rest = &rest[(i + 2).min(rest.len())..];
            }
            out.extend_from_slice(rest);
            std::borrow::Cow::Owned(out)
        } else {
            std::borrow::Cow::Borrowed(self.raw)
        }
    }
}

/// The first `needle` in `haystack`. Most fields are a few bytes long: a plain loop finds the
/// separator ending them before a `memchr` call has set up (those calls took a fifth of the
/// pass); longer ones go to `memchr`.
#[inline]
fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    const SHORT: usize = 16;
    let head = &haystack[..haystack.len().min(SHORT)];
    match head.iter().position(|&c| c == needle) {
        Some(i) => Some(i),
        None if haystack.len() > SHORT => memchr(needle, &haystack[SHORT..]).map(|i| i + SHORT),
        None => None,
    }
}

/// Splits one record (no line terminator) into fields.
pub fn split_record<'a>(
    record: &'a [u8],
    separator: u8,
    fields: &mut Vec<Field<'a>>,
) -> Result<(), &'static str> {
    split_fields(record, separator, usize::MAX, fields).map(|_| ())
}

/// Splits the first `count` fields of `record` into `fields` and returns where the last of
/// them ends (at the separator that follows it, or at the end of the record): the rest of
/// the record is then split exactly as it would be on its own. `None` when the record has
/// fewer fields or a quoting error among them.
pub fn split_head<'a>(
    record: &'a [u8],
    separator: u8,
    count: usize,
    fields: &mut Vec<Field<'a>>,
) -> Option<usize> {
    match split_fields(record, separator, count, fields) {
        Ok(end) if fields.len() == count => Some(end),
        _ => None,
    }
}

/// [`split_head`] for the common head without any quote, from the structural bitmap of
/// `data` (see [`Scanned::structural`](crate::scan::Scanned::structural)): the first `count`
/// fields of the record at `start..end` of `data`, and where the last of them ends (relative
/// to `start`). Each field costs a bit count. `None` (fields left in any state) when a quote
/// comes before the end of the last of them, or the record has fewer fields: [`split_head`]
/// then decides.
#[inline]
pub(crate) fn head_fields<'a>(
    data: &'a [u8],
    structural: &[u64],
    start: usize,
    end: usize,
    separator: u8,
    count: usize,
    fields: &mut Vec<Field<'a>>,
) -> Option<usize> {
    fields.clear();
    let mut field_start = start;
    let mut found = crate::scan::structurals(structural, start, end);
    loop {
        match found.next() {
            Some(at) if data[at] == separator => {
                fields.push(Field::unquoted(&data[field_start..at]));
                if fields.len() == count {
                    return Some(at - start);
                }
                field_start = at + 1;
            }
            Some(_) => return None,
            None => {
                fields.push(Field::unquoted(&data[field_start..end]));
                return (fields.len() == count).then_some(end - start);
            }
        }
    }
}

/// The high bit of each byte of `word` that equals `byte`, exactly (no carry between bytes).
#[inline]
pub(crate) fn byte_mask(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (0x0101_0101_0101_0101 * u64::from(byte));
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Splits up to `limit` fields; returns the end of the last one split.
fn split_fields<'a>(
    record: &'a [u8],
    separator: u8,
    limit: usize,
    fields: &mut Vec<Field<'a>>,
) -> Result<usize, &'static str> {
    fields.clear();
    let mut pos = 0;
    loop {
        if record.get(pos) == Some(&b'"') {
            // Quoted field: up to the quote that is not doubled.
            let start = pos + 1;
            let mut i = start;
            let mut escaped = false;
            loop {
                match memchr(b'"', &record[i..]) {
                    None => return Err("unterminated quoted field"),
                    Some(q) => {
                        let at = i + q;
                        if record.get(at + 1) == Some(&b'"') {
                            escaped = true;
                            i = at + 2;
                        } else {
                            fields.push(Field {
                                raw: &record[start..at],
                                escaped,
                            });
                            pos = at + 1;
                            break;
                        }
                    }
                }
            }
            if fields.len() == limit {
                return Ok(pos);
            }
            match record.get(pos) {
                None => return Ok(pos),
                Some(&c) if c == separator => pos += 1,
                Some(_) => return Err("text after a closing quote"),
            }
        } else {
            match find_byte(separator, &record[pos..]) {
                Some(i) => {
                    fields.push(Field {
                        raw: &record[pos..pos + i],
                        escaped: false,
                    });
                    if fields.len() == limit {
                        return Ok(pos + i);
                    }
                    pos += i + 1;
                }
                None => {
                    fields.push(Field {
                        raw: &record[pos..],
                        escaped: false,
                    });
                    return Ok(record.len());
                }
            }
        }
    }
}

/// Field `index` of `record` (trimmed, quotes removed, escapes left as they are), without
/// splitting the rest; `None` when the record is too short or badly quoted before it.
pub fn field_at(record: &[u8], separator: u8, index: usize) -> Option<&[u8]> {
    let mut pos = 0;
    for i in 0..=index {
        let (start, end, next) = if record.get(pos) == Some(&b'"') {
            let mut j = pos + 1;
            loop {
                let q = j + memchr(b'"', &record[j..])?;
                if record.get(q + 1) == Some(&b'"') {
                    j = q + 2;
                } else {
                    break (pos + 1, q, q + 1);
                }
            }
        } else {
            let end = find_byte(separator, &record[pos..]).map_or(record.len(), |e| pos + e);
            (pos, end, end)
        };
        if i == index {
            return Some(record[start..end].trim_ascii());
        }
        if next >= record.len() {
            return None;
        }
        pos = next + 1;
    }
    None
}

/// A parsed timestamp: the UTC instant and the offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub utc: i64,
    pub offset_minutes: i16,
}

/// The value of `b` when it is only ASCII digits (0 when empty); callers bound its length.
pub(crate) fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// ISO 8601 with an offset: `2025-11-04T17:00:00+01:00` (also `Z`, `+0100`, a space instead
/// of `T`, fractional seconds). A timestamp without offset is an error: its day is ambiguous.
pub fn parse_timestamp(b: &[u8]) -> Result<Instant, &'static str> {
    if b.len() < 19 {
        return Err("timestamp too short");
    }
    let (y, mo, d) = (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]));
    let (h, mi, s) = (digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19]));
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = (y, mo, d, h, mi, s) else {
        return Err("timestamp is not YYYY-MM-DDTHH:MM:SS±HH:MM");
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err("timestamp is not YYYY-MM-DDTHH:MM:SS±HH:MM");
    }
    let year = y as i32;
    if !(crate::paris_time::FIRST_YEAR..=crate::paris_time::LAST_YEAR).contains(&year) {
        return Err("timestamp year outside 1996-2099");
    }
    if chrono::NaiveDate::from_ymd_opt(year, mo, d).is_none() || h > 23 || mi > 59 || s > 59 {
        return Err("impossible date or time");
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &rest[1 + n..];
    }
    let offset_minutes: i32 = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), hh @ ..] if !hh.is_empty() => {
            let (oh, om) = match hh {
                [a, b, b':', c, d] => (digits(&[*a, *b]), digits(&[*c, *d])),
                [a, b, c, d] => (digits(&[*a, *b]), digits(&[*c, *d])),
                [a, b] => (digits(&[*a, *b]), Some(0)),
                _ => (None, None),
            };
            let (Some(oh), Some(om)) = (oh, om) else {
                return Err("timestamp offset is not ±HH:MM");
            };
            if oh > 14 || om > 59 {
                return Err("timestamp offset out of range");
            }
            let v = (oh * 60 + om) as i32;
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        [] => return Err("timestamp without UTC offset"),
        _ => return Err("timestamp offset is not ±HH:MM"),
    };
    let days = crate::paris_time::days_from_civil(year, mo, d);
    let local = days * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    Ok(Instant {
        utc: local - i64::from(offset_minutes) * 60,
        offset_minutes: offset_minutes as i16,
    })
}

/// Writes `utc` in the offset it was read with, as the input did: `2025-11-04T17:00:00+01:00`.
pub fn format_timestamp(instant: Instant) -> String {
    let local = instant.utc + i64::from(instant.offset_minutes) * 60;
    let (y, mo, d) = crate::paris_time::civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let off = i64::from(instant.offset_minutes);
    let mut out = String::with_capacity(25);
    // Years are 1996–2099 here (see `parse_timestamp`), always four digits.
    push_digits(&mut out, i64::from(y), 4);
    out.push('-');
    push_digits(&mut out, i64::from(mo), 2);
    out.push('-');
    push_digits(&mut out, i64::from(d), 2);
    out.push('T');
    push_digits(&mut out, secs / 3600, 2);
    out.push(':');
    push_digits(&mut out, secs % 3600 / 60, 2);
    out.push(':');
    push_digits(&mut out, secs % 60, 2);
    out.push(if off < 0 { '-' } else { '+' });
    push_digits(&mut out, off.abs() / 60, 2);
    out.push(':');
    push_digits(&mut out, off.abs() % 60, 2);
    out
}

/// `value` (≥ 0) in exactly `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, value: i64, width: u32) {
    for i in (0..width).rev() {
        let digit = (value / 10i64.pow(i)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// A number as found in a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Missing,
    Value(f64),
}

/// Empty → missing; otherwise a finite decimal (`.` or `,` as decimal mark) or an error.
pub fn parse_number(b: &[u8]) -> Result<Number, &'static str> {
    if b.is_empty() {
        return Ok(Number::Missing);
    }
    // Fast path: plain non-negative integers, the common case for the flow.
    if b.len() <= 9 && b.iter().all(u8::is_ascii_digit) {
        return Ok(Number::Value(f64::from(digits(b).expect("digits"))));
    }
    let text = std::str::from_utf8(b).map_err(|_| "number is not text")?;
    let text = text.replace(',', ".");
    // Rust accepts "inf" and "NaN": the export never writes them, so they are malformed.
    if !text
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return Err("not a number");
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Number::Value(v)),
        _ => Err("not a number"),
    }
}

/// A plain decimal (`12`, `12.345`, `12,345`: digits on both sides of the mark, at most 9
/// digits and [`MAX_DECIMALS`](crate::hours::MAX_DECIMALS) places) as its digits and places;
/// `None` for anything else, which [`parse_number`] then reads. Where both apply they agree:
/// `Decimal::value` is the double nearest to the text, as `str::parse` gives.
pub fn parse_decimal(b: &[u8]) -> Option<crate::hours::Decimal> {
    let (int, frac) = match b.iter().position(|c| matches!(c, b'.' | b',')) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    let has_mark = int.len() < b.len();
    if int.is_empty()
        || (has_mark && frac.is_empty())
        || int.len() + frac.len() > 9
        || frac.len() > usize::from(crate::hours::MAX_DECIMALS)
    {
        return None;
    }
    // At most 9 digits in all: no overflow.
    let mantissa = digits(int)? * 10u32.pow(frac.len() as u32) + digits(frac)?;
    Some(crate::hours::Decimal {
        mantissa,
        decimals: frac.len() as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic;Identifiant noeud amont;Libelle noeud amont;Identifiant noeud aval;Libelle noeud aval;Etat arc;Date debut dispo data;Date fin dispo data;geo_point_2d;geo_shape";

    #[test]
    fn header_columns_are_found_by_name() {
        let l = Layout::from_header(HEADER.as_bytes()).unwrap();
        assert_eq!(l.separator, b';');
        assert_eq!(l.width, 15);
        assert_eq!(l.index(Column::Arc), Some(0));
        assert_eq!(l.index(Column::GeoShape), Some(14));
        // BOM, CRLF, commas, other order, no accents
        let l = Layout::from_header(
            "\u{feff}Taux d'occupation,Identifiant arc,Date et heure de comptage,Debit horaire,Etat trafic\r".as_bytes(),
        )
        .unwrap();
        assert_eq!(l.separator, b',');
        assert_eq!(l.index(Column::Taux), Some(0));
        assert_eq!(l.index(Column::Debit), Some(3));
        assert_eq!(l.index(Column::GeoShape), None);
    }

    #[test]
    fn missing_columns_are_named() {
        let err = Layout::from_header(b"Identifiant arc;Libelle;Etat trafic").unwrap_err();
        assert!(err.contains("Date et heure de comptage"), "{err}");
        assert!(err.contains("Débit horaire"), "{err}");
        assert!(err.contains("Taux d'occupation"), "{err}");
        assert!(Layout::from_header(b"nothing here").is_err());
    }

    #[test]
    fn records_split_with_quotes() {
        let rec = br#"5462;AE_A4;2025-11-04T17:00:00+01:00;;5.25;Fluide;48.8, 2.3;"{""coordinates"": [[2.39, 48.82], [2.38, 48.83]], ""type"": ""LineString""}""#;
        let mut f = Vec::new();
        split_record(rec, b';', &mut f).unwrap();
        assert_eq!(f.len(), 8);
        assert_eq!(f[3].bytes(), b"");
        assert_eq!(f[6].bytes(), b"48.8, 2.3");
        assert_eq!(
            &*f[7].unescaped(),
            br#"{"coordinates": [[2.39, 48.82], [2.38, 48.83]], "type": "LineString"}"#
        );
        assert!(split_record(b"a;\"open", b';', &mut f).is_err());
        assert!(split_record(b"a;\"x\"y;b", b';', &mut f).is_err());
    }

    #[test]
    fn the_head_of_a_record_leaves_the_rest_as_it_would_split_alone() {
        let rec = br#"5462;"A;""B""";2025;12;"x";y"#;
        let mut f = Vec::new();
        let end = split_head(rec, b';', 2, &mut f).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(&*f[1].unescaped(), br#"A;"B""#);
        assert_eq!(&rec[end..], br#";2025;12;"x";y"#);
        let end = split_head(rec, b';', 5, &mut f).unwrap();
        assert_eq!(&rec[end..], b";y");
        assert_eq!(split_head(rec, b';', 6, &mut f), Some(rec.len()));
        assert_eq!(split_head(rec, b';', 7, &mut f), None, "too few fields");
        assert_eq!(split_head(b"a;\"open;b", b';', 2, &mut f), None);
        // Text after a closing quote stays in the rest, where a whole split finds it.
        let end = split_head(b"a;\"q\"x;b", b';', 2, &mut f).unwrap();
        assert_eq!(end, 5);
        // The bitmap path and the general one agree, at every length and count.
        let plain = b"5462;AE_A4;2025-11-04T17:00:00+01:00;;5.25;Fluide;0;x;12345678;;Ouvert;tail";
        let mut g = Vec::new();
        let mut scan = crate::scan::Scanned::default();
        for len in 0..=plain.len() {
            let rec = &plain[..len];
            crate::scan::scan_records(rec, true, b';', &mut scan);
            for count in 1..14 {
                let fast = head_fields(rec, &scan.structural, 0, len, b';', count, &mut f)
                    .or_else(|| split_head(rec, b';', count, &mut f));
                let general = match split_fields(rec, b';', count, &mut g) {
                    Ok(end) if g.len() == count => Some(end),
                    _ => None,
                };
                assert_eq!(fast, general, "{len} bytes, {count} fields");
                if fast.is_some() {
                    let raw = |v: &Vec<Field>| v.iter().map(|x| x.raw.to_vec()).collect::<Vec<_>>();
                    assert_eq!(raw(&f), raw(&g));
                }
            }
        }
    }

    #[test]
    fn byte_masks_are_exact() {
        let word = u64::from_le_bytes(*b";\x80;\xbb\"\x00;;");
        assert_eq!(byte_mask(word, b';'), 0x8080_0000_0080_0080);
        assert_eq!(byte_mask(word, b'"'), 0x0000_0080_0000_0000);
        assert_eq!(byte_mask(word, 0), 0x0000_8000_0000_0000);
    }

    #[test]
    fn one_field_without_splitting_the_rest() {
        let rec = b"a;\"b;\"\"c\";d";
        assert_eq!(field_at(rec, b';', 0), Some(&b"a"[..]));
        assert_eq!(field_at(rec, b';', 1), Some(&b"b;\"\"c"[..]));
        assert_eq!(field_at(rec, b';', 2), Some(&b"d"[..]));
        assert_eq!(field_at(rec, b';', 3), None);
        assert_eq!(field_at(b"", b';', 0), Some(&b""[..]));
    }

    #[test]
    fn timestamps_keep_their_offset() {
        let t = parse_timestamp(b"2025-11-04T17:00:00+01:00").unwrap();
        assert_eq!(t.offset_minutes, 60);
        assert_eq!(format_timestamp(t), "2025-11-04T17:00:00+01:00");
        let summer = parse_timestamp(b"2025-07-01T00:05:09+02:00").unwrap();
        assert_eq!(format_timestamp(summer), "2025-07-01T00:05:09+02:00");
        let west = parse_timestamp(b"1999-12-31T23:59:59-09:30").unwrap();
        assert_eq!(format_timestamp(west), "1999-12-31T23:59:59-09:30");
        let z = parse_timestamp(b"2025-11-04T16:00:00Z").unwrap();
        assert_eq!(z.utc, t.utc);
        assert_eq!(
            parse_timestamp(b"2025-11-04 18:00:00.000+0200")
                .unwrap()
                .utc,
            t.utc
        );
        for bad in [
            &b"2025-11-04T17:00:00"[..],
            b"2025-02-30T17:00:00+01:00",
            b"2025-11-04T25:00:00+01:00",
            b"3025-11-04T17:00:00+01:00",
            b"2100-01-01T00:00:00+01:00",
            b"04/11/2025 17:00",
            b"2025-11-04T17:00:00+1:00",
        ] {
            assert!(
                parse_timestamp(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn decimals_read_as_the_standard_parser_does() {
        for text in [
            "0",
            "5",
            "5.25",
            "5,25",
            "12.345",
            "99.99999",
            "100",
            "100.000000",
            "0.1",
            "7.000001",
            "123456789",
        ] {
            let d = parse_decimal(text.as_bytes()).unwrap_or_else(|| panic!("{text}"));
            let standard: f64 = text.replace(',', ".").parse().unwrap();
            assert_eq!(d.value().to_bits(), standard.to_bits(), "{text}");
            assert_eq!(
                parse_number(text.as_bytes()).unwrap(),
                Number::Value(standard)
            );
        }
        assert!(parse_decimal(b"100.000001").is_some_and(|d| !d.at_most(100)));
        assert!(parse_decimal(b"100.0").is_some_and(|d| d.at_most(100)));
        // Everything else goes to the general parser.
        for text in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            "1e3",
            "1.2345678",
            "1234567890",
            "1.2.3",
            "NaN",
            " 1",
        ] {
            assert!(parse_decimal(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b"").unwrap(), Number::Missing);
        assert_eq!(parse_number(b"123").unwrap(), Number::Value(123.0));
        assert_eq!(parse_number(b"5.25").unwrap(), Number::Value(5.25));
        assert_eq!(parse_number(b"5,25").unwrap(), Number::Value(5.25));
        assert_eq!(parse_number(b"-3").unwrap(), Number::Value(-3.0));
        for bad in [&b"NaN"[..], b"inf", b"Infinity", b"12a", b"1e999"] {
            assert!(
                parse_number(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
