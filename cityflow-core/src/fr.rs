//! How numbers, dates and places are written for a French reader (`fr-FR`), on the pages
//! and the map: thousands separated by a narrow no-break space, a decimal comma, `12,5 %`,
//! month names, `Paris 13e`; and markup escaping. Written here rather than with an ICU
//! crate: these few rules are all the outputs need, and ICU's data would outweigh them.

use chrono::{Datelike, NaiveDate};

/// The narrow no-break space (U+202F) that `fr-FR` puts between thousands and before `%`.
pub const NNBSP: char = '\u{202F}';

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A number the French way: `1 234 567,8`; `—` for a value that is not finite.
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(NNBSP);
        }
        grouped.push(digit);
    }
    // "−0,0" would be a sign on nothing.
    let sign = if value < 0.0 && !text.trim_matches(['0', '.']).is_empty() {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// A change, always signed: `+2,5`, `−3`, `0`.
pub fn signed(value: f64, decimals: usize) -> String {
    let text = number(value, decimals);
    if text.starts_with('−') || text == "—" || text.trim_matches(['0', ',']).is_empty() {
        text
    } else {
        format!("+{text}")
    }
}

/// A percentage: `12,5 %`.
pub fn percent(value: f64, decimals: usize) -> String {
    format!("{}{NNBSP}%", number(value, decimals))
}

/// A date: `10 mars 2026`, `1er mars 2026`.
pub fn date(day: NaiveDate) -> String {
    let d = day.day();
    let month = MONTHS[day.month0() as usize];
    if d == 1 {
        format!("1er {month} {}", day.year())
    } else {
        format!("{d} {month} {}", day.year())
    }
}

/// A zone as a Parisian names it: the postal code `75013` reads `Paris 13e`, `75001`
/// `Paris 1er`, `75116` (the 16th's second code) `Paris 16e`. Anything else (`Hors Paris`,
/// `Sans coordonnées`, an old report's free text) is shown as it is.
pub fn zone(label: &str) -> String {
    let digits = label.trim();
    let arrondissement = digits
        .strip_prefix("75")
        .filter(|rest| rest.len() == 3 && rest.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|rest| rest.parse::<u32>().ok())
        .map(|n| if n == 116 { 16 } else { n })
        .filter(|n| (1..=20).contains(n));
    match arrondissement {
        Some(1) => "Paris 1er".to_string(),
        Some(n) => format!("Paris {n}e"),
        None => label.to_string(),
    }
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business in a page; show them as the replacement
            // character rather than emit invalid XML.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(1234567.0, 0), "1\u{202F}234\u{202F}567");
        assert_eq!(number(98.456, 1), "98,5");
        assert_eq!(number(-12.0, 0), "−12");
        assert_eq!(number(-0.01, 1), "0,0");
        assert_eq!(number(f64::NAN, 1), "—");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(1000.0, 0), "1\u{202F}000");
        assert_eq!(percent(12.5, 1), "12,5\u{202F}%");
        assert_eq!(signed(2.5, 1), "+2,5");
        assert_eq!(signed(-3.0, 0), "−3");
        assert_eq!(signed(0.0, 0), "0");
        assert_eq!(signed(12345.0, 0), "+12\u{202F}345");
    }

    #[test]
    fn dates_and_times() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(date(d("2026-03-10")), "10 mars 2026");
        assert_eq!(date(d("2026-08-01")), "1er août 2026");
    }

    #[test]
    fn zones() {
        assert_eq!(zone("75013"), "Paris 13e");
        assert_eq!(zone("75001"), "Paris 1er");
        assert_eq!(zone("75020"), "Paris 20e");
        assert_eq!(zone("75116"), "Paris 16e");
        assert_eq!(zone("75021"), "75021");
        assert_eq!(zone("Hors Paris"), "Hors Paris");
        assert_eq!(zone("7501"), "7501");
        assert_eq!(zone("93100"), "93100");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_markup("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape_markup("a\u{0}b"), "a\u{FFFD}b");
    }
}
