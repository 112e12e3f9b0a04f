//! Inline SVG charts, written by hand rather than with plotters' SVG backend: the charts
//! are two simple shapes (a line over dates, horizontal bars), and writing the markup
//! ourselves gives what the pages need and a plotting library does not: `role="img"` with
//! `<title>`/`<desc>`, text labels on the values, hatching that reads without colour, every
//! string escaped by one function, and no font files or rasterizer in the build.

use std::fmt::Write;

use chrono::NaiveDate;

pub use cityflow_core::fr::escape_markup as escape;
use cityflow_core::fr::number as fr_number;

/// Round axis ticks covering `[low, high]`, as d3's `ticks` and matplotlib's `MaxNLocator`
/// choose them: about `count` ticks, a step of 1, 2, 2.5 or 5 × 10ⁿ, the ends rounded out to
/// a multiple of it, never a duplicate. `integer`: the values are counts, so the step is at
/// least 1. Returns the ticks and the step's decimals (for their labels).
pub fn nice_ticks(low: f64, high: f64, count: usize, integer: bool) -> (Vec<f64>, usize) {
    let (low, high) = if low.is_finite() && high.is_finite() && low <= high {
        (low, high)
    } else {
        (0.0, 0.0)
    };
    // A flat series still gets an axis: from its value up, as if it spanned its own size
    // (or 1 at zero).
    let high = if high > low {
        high
    } else {
        low + high.abs().max(1.0)
    };
    let span = high - low;
    let raw = span / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    if integer && step < 1.0 {
        step = 1.0;
    }
    // The decimals a label needs at this step: 0.25 needs two, 2.5 one, 5 none.
    let mut decimals = 0;
    while decimals < 6
        && ((step * 10f64.powi(decimals as i32)).round() - step * 10f64.powi(decimals as i32)).abs()
            > 1e-6
    {
        decimals += 1;
    }
    let first = (low / step).floor();
    let mut last = (high / step).ceil();
    if last <= first {
        last = first + 1.0;
    }
    let ticks = (first as i64..=last as i64)
        .map(|i| {
            let v = i as f64 * step;
            // 0.1 × 3 is 0.30000000000000004: round to the step's decimals.
            let scale = 10f64.powi(decimals as i32);
            (v * scale).round() / scale
        })
        .collect();
    (ticks, decimals)
}

const WIDTH: f64 = 640.0;

fn open_svg(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <defs><pattern id=\"{id}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#dbe7f5\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#1f4e79\" stroke-width=\"2\"/></pattern></defs>",
        escape(title),
        escape(desc)
    );
}

/// A line over dates: x is the date (gaps stay gaps), y starts at zero; each known value
/// has a marker, the first, last, lowest and highest carry their value as text.
pub fn line_chart(
    id: &str,
    title: &str,
    points: &[(NaiveDate, Option<f64>)],
    unit: &str,
    decimals: usize,
) -> String {
    let known: Vec<(NaiveDate, f64)> = points
        .iter()
        .filter_map(|(d, v)| v.filter(|v| v.is_finite()).map(|v| (*d, v)))
        .collect();
    // Infinite when nothing is known; then only the axis (from zero) uses them.
    let lowest = known.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let highest = known.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let height = 240.0;
    let mut out = String::new();
    let desc = match (known.first(), known.last()) {
        (Some(first), Some(last)) => {
            format!(
                "{} valeurs du {} au {} : de {} à {} {unit}, dernière valeur {} {unit}.",
                known.len(),
                first.0,
                last.0,
                fr_number(lowest, decimals),
                fr_number(highest, decimals),
                fr_number(last.1, decimals)
            )
        }
        _ => "Aucune valeur sur la période.".to_string(),
    };
    open_svg(&mut out, id, height, title, &desc);
    let (left, right, top, bottom) = (70.0, 20.0, 20.0, 40.0);
    let (plot_w, plot_h) = (WIDTH - left - right, height - top - bottom);
    let _ = write!(
        out,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#333\"/>",
        top + plot_h,
        left + plot_w,
        top + plot_h,
        top + plot_h
    );
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">Aucune donnée</text></svg>",
            WIDTH / 2.0,
            height / 2.0
        );
        return out;
    };
    // The axis includes zero; a percentage axis stops at 100 unless a value goes past it.
    let (ticks, tick_decimals) = nice_ticks(lowest.min(0.0), highest.max(0.0), 5, decimals == 0);
    let mut ticks = ticks;
    if unit == "%" && highest <= 100.0 {
        ticks.retain(|t| *t <= 100.0);
    }
    let min = ticks.first().copied().unwrap_or(0.0);
    let top_tick = ticks.last().copied().unwrap_or(1.0);
    let span = if top_tick > min { top_tick - min } else { 1.0 };
    let days = (last.0 - first.0).num_days();
    // One date: in the middle, rather than on the axis.
    let x = |d: NaiveDate| {
        if days == 0 {
            left + plot_w / 2.0
        } else {
            left + plot_w * ((d - first.0).num_days() as f64 / days as f64)
        }
    };
    let y = |v: f64| top + plot_h - plot_h * ((v - min) / span);
    for value in &ticks {
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#ccc\" stroke-dasharray=\"3 3\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" class=\"tick\">{}</text>",
            left,
            y(*value),
            left + plot_w,
            y(*value),
            left - 6.0,
            y(*value) + 4.0,
            escape(&fr_number(*value, tick_decimals))
        );
    }
    // X labels: first and last date, and the middle one when there is room.
    // The end labels align with the plot's edges, so that they are never cut.
    let mut labels = vec![(first.0, "start"), (last.0, "end")];
    if points.len() > 2 {
        labels.push((points[points.len() / 2].0, "middle"));
    }
    if days == 0 {
        labels = vec![(first.0, "middle")];
    }
    for (d, anchor) in labels {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"11\">{}</text>",
            x(d),
            top + plot_h + 18.0,
            d.format("%d/%m/%Y")
        );
    }
    // The line, broken where a value is unknown.
    let mut segment = Vec::new();
    let flush = |segment: &mut Vec<String>, out: &mut String| {
        if segment.len() > 1 {
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"2\" points=\"{}\"/>",
                segment.join(" ")
            );
        }
        segment.clear();
    };
    for (d, v) in points {
        match v.filter(|v| v.is_finite()) {
            Some(v) => segment.push(format!("{:.1},{:.1}", x(*d), y(v))),
            None => flush(&mut segment, &mut out),
        }
    }
    flush(&mut segment, &mut out);
    let mut labelled = [false; 2];
    for (i, (d, v)) in known.iter().enumerate() {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#fff\" stroke=\"#1f4e79\" stroke-width=\"2\">\
             <title>{} : {} {}</title></circle>",
            x(*d),
            y(*v),
            d.format("%d/%m/%Y"),
            escape(&fr_number(*v, decimals)),
            escape(unit)
        );
        let is_extreme = (*v == highest && !labelled[0]) || (*v == lowest && !labelled[1]);
        if *v == highest {
            labelled[0] = true;
        }
        if *v == lowest {
            labelled[1] = true;
        }
        if i == 0 || i == known.len() - 1 || is_extreme {
            // Labels at the ends lean inwards, so that they stay clear of the axis labels.
            let (anchor, dx) = if known.len() == 1 {
                ("middle", 0.0)
            } else if i == 0 {
                ("start", 6.0)
            } else if i == known.len() - 1 {
                ("end", -6.0)
            } else {
                ("middle", 0.0)
            };
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"11\" class=\"value\">{}</text>",
                x(*d) + dx,
                y(*v) - 8.0,
                escape(&fr_number(*v, decimals))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, longest first as given: the label on the left, the value as text at the
/// end of each hatched bar.
pub fn bar_chart(
    id: &str,
    title: &str,
    bars: &[(String, f64)],
    unit: &str,
    decimals: usize,
) -> String {
    let row = 26.0;
    let height = 30.0 + row * bars.len().max(1) as f64;
    let mut out = String::new();
    let desc = if bars.is_empty() {
        "Aucune donnée.".to_string()
    } else {
        bars.iter()
            .enumerate()
            .map(|(i, (label, v))| {
                format!("{}. {label} : {} {unit}", i + 1, fr_number(*v, decimals))
            })
            .collect::<Vec<_>>()
            .join(" ; ")
    };
    open_svg(&mut out, id, height, title, &desc);
    if bars.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"30\" text-anchor=\"middle\">Aucune donnée</text></svg>",
            WIDTH / 2.0
        );
        return out;
    }
    let (label_w, value_w) = (250.0, 90.0);
    let plot_w = WIDTH - label_w - value_w - 10.0;
    let max = bars
        .iter()
        .map(|b| b.1)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    for (i, (label, value)) in bars.iter().enumerate() {
        let top = 15.0 + row * i as f64;
        let w = if max > 0.0 && value.is_finite() {
            plot_w * (value.max(0.0) / max)
        } else {
            0.0
        };
        let short: String = if label.chars().count() > 38 {
            label.chars().take(37).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            out,
            "<g><title>{label_full} : {value_text} {unit}</title>\
             <text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"12\">{short}</text>\
             <rect x=\"{bx}\" y=\"{top:.1}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"url(#{id}-hatch)\" stroke=\"#1f4e79\"/>\
             <text x=\"{vx:.1}\" y=\"{ty:.1}\" font-size=\"12\" class=\"value\">{value_text}</text></g>",
            label_full = escape(label),
            value_text = escape(&fr_number(*value, decimals)),
            unit = escape(unit),
            lx = label_w - 6.0,
            ty = top + 14.0,
            short = escape(&short),
            bx = label_w,
            bh = row - 8.0,
            vx = label_w + w + 6.0,
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_distinct() {
        assert_eq!(
            nice_ticks(0.0, 3_252_916.0, 5, true).0,
            vec![0.0, 1e6, 2e6, 3e6, 4e6]
        );
        let (ticks, decimals) = nice_ticks(0.0, 99.3, 5, false);
        assert_eq!(ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(decimals, 0);
        assert_eq!(
            nice_ticks(0.0, 0.0, 5, true).0,
            vec![0.0, 1.0],
            "all zero: two ticks"
        );
        assert_eq!(
            nice_ticks(0.0, 0.0, 5, false).0,
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            "flat at zero, not a count"
        );
        let (ticks, decimals) = nice_ticks(0.0, 12.0, 5, false);
        assert_eq!(ticks, vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5]);
        assert_eq!(decimals, 1);
        assert_eq!(
            nice_ticks(0.0, 3.0, 5, true).0,
            vec![0.0, 1.0, 2.0, 3.0],
            "counts step by 1 at least"
        );
        assert_eq!(nice_ticks(0.0, 0.3, 5, false).0, vec![0.0, 0.1, 0.2, 0.3]);
        for (low, high) in [
            (0.0, 1.0),
            (0.0, 7.0),
            (0.0, 123_456.0),
            (-40.0, 15.0),
            (0.0, 1e-3),
        ] {
            for integer in [false, true] {
                let (ticks, decimals) = nice_ticks(low, high, 5, integer);
                assert!(ticks.first().unwrap() <= &low && ticks.last().unwrap() >= &high);
                let labels: Vec<String> = ticks.iter().map(|t| fr_number(*t, decimals)).collect();
                let mut unique = labels.clone();
                unique.dedup();
                assert_eq!(labels, unique, "no duplicate label for {low}..{high}");
                assert!(ticks.len() <= 11, "{ticks:?}");
            }
        }
    }

    #[test]
    fn a_percentage_axis_stops_at_100() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let svg = line_chart(
            "p",
            "Disponibilité",
            &[(d("2026-03-01"), Some(99.3)), (d("2026-03-02"), Some(97.0))],
            "%",
            1,
        );
        let ticks: Vec<&str> = svg
            .split("class=\"tick\">")
            .skip(1)
            .map(|s| s.split('<').next().unwrap())
            .collect();
        assert_eq!(ticks, ["0", "20", "40", "60", "80", "100"]);
    }

    #[test]
    fn charts_are_labelled_images() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let svg = line_chart(
            "c1",
            "Véhicules",
            &[
                (d("2026-03-01"), Some(10.0)),
                (d("2026-03-02"), None),
                (d("2026-03-03"), Some(30.0)),
            ],
            "véhicules",
            0,
        );
        assert!(
            svg.contains("role=\"img\"")
                && svg.contains("<title id=\"c1-title\">Véhicules</title>")
        );
        assert!(svg.contains("de 10 à 30 véhicules"), "{svg}");
        let bars = bar_chart("c2", "Top", &[("<b>x</b>".into(), 5.0)], "véh.", 0);
        assert!(bars.contains("&lt;b&gt;x&lt;/b&gt;") && !bars.contains("<b>"));
        assert!(bars.contains("url(#c2-hatch)"));
        assert!(line_chart("c3", "t", &[], "u", 0).contains("Aucune donnée"));
    }
}
