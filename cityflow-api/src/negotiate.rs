//! `Accept` negotiation: which of the representations a route offers the client takes.

use axum::http::{header, HeaderMap};

use crate::problem::Problem;

/// One media range of an `Accept` header with its weight.
#[derive(Debug)]
struct MediaRange<'a> {
    kind: &'a str,
    subtype: &'a str,
    q: f32,
}

fn parse_accept(value: &str) -> Vec<MediaRange<'_>> {
    value
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let (kind, subtype) = parts.next()?.trim().split_once('/')?;
            let mut q = 1.0f32;
            for param in parts {
                if let Some((name, v)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        // An unreadable weight makes the range unusable rather than preferred.
                        q = v
                            .trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
            }
            Some(MediaRange {
                kind: kind.trim(),
                subtype: subtype.trim(),
                q,
            })
        })
        .collect()
}

/// The weight `ranges` give `offer` (`type/subtype`): the most specific matching range wins,
/// as RFC 9110 §12.5.1 says.
fn weight(ranges: &[MediaRange<'_>], offer: &str) -> f32 {
    let (kind, subtype) = offer.split_once('/').unwrap_or((offer, ""));
    let mut best: Option<(u8, f32)> = None;
    for range in ranges {
        let specificity = if range.kind.eq_ignore_ascii_case(kind)
            && range.subtype.eq_ignore_ascii_case(subtype)
        {
            2
        } else if range.kind.eq_ignore_ascii_case(kind) && range.subtype == "*" {
            1
        } else if range.kind == "*" && range.subtype == "*" {
            0
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, range.q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// Picks one of `offers` (in the server's order of preference) for the request's `Accept`
/// header; no header, or one that cannot be read at all, takes the first. `None` when the
/// header excludes every offer: the caller answers 406.
pub fn choose<'o>(headers: &HeaderMap, offers: &[&'o str]) -> Option<&'o str> {
    let Some(value) = headers.get(header::ACCEPT) else {
        return offers.first().copied();
    };
    let Ok(value) = value.to_str() else {
        return offers.first().copied();
    };
    let ranges = parse_accept(value);
    if ranges.is_empty() {
        return offers.first().copied();
    }
    let mut chosen: Option<(&str, f32)> = None;
    for offer in offers {
        let q = weight(&ranges, offer);
        if q > 0.0 && chosen.is_none_or(|(_, best)| q > best) {
            chosen = Some((offer, q));
        }
    }
    chosen.map(|(offer, _)| offer)
}

/// [`choose`], or the 406 problem naming the offers.
pub fn require<'o>(headers: &HeaderMap, offers: &[&'o str]) -> Result<&'o str, Problem> {
    choose(headers, offers).ok_or_else(|| Problem::not_acceptable(offers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    const OFFERS: &[&str] = &["application/json", "text/csv"];

    #[test]
    fn no_header_takes_the_first_offer() {
        assert_eq!(choose(&HeaderMap::new(), OFFERS), Some("application/json"));
    }

    #[test]
    fn the_highest_weight_wins_and_exact_beats_wildcard() {
        assert_eq!(choose(&accept("text/csv"), OFFERS), Some("text/csv"));
        assert_eq!(
            choose(&accept("application/json;q=0.5, text/csv"), OFFERS),
            Some("text/csv")
        );
        assert_eq!(
            choose(&accept("*/*;q=0.1, text/*;q=0.2"), OFFERS),
            Some("text/csv")
        );
        assert_eq!(
            choose(&accept("text/*, text/csv;q=0"), OFFERS),
            None,
            "text/csv;q=0 excludes it even though text/* allows it"
        );
        assert_eq!(choose(&accept("*/*"), OFFERS), Some("application/json"));
        assert_eq!(choose(&accept("TEXT/CSV"), OFFERS), Some("text/csv"));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(choose(&accept("image/png"), OFFERS), None);
        assert_eq!(choose(&accept("application/xml, text/html"), OFFERS), None);
        assert!(require(&accept("image/png"), OFFERS).is_err());
    }

    #[test]
    fn unreadable_weights_drop_their_range() {
        assert_eq!(
            choose(&accept("text/csv;q=2, application/json"), OFFERS),
            Some("application/json")
        );
        assert_eq!(choose(&accept("garbage"), OFFERS), Some("application/json"));
    }
}
