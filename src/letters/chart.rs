//! Charts in letters: horizontal bars, one row per item of a list in the letter's data, a bar
//! per series in greys that print in black and white, a marker line per row (a standard the
//! bars are held against), each bar's value written at its end, a scale with round ticks, and
//! a legend. Vector graphics, like the rest of the letter.

use serde_json::Value;

use super::layout::{self, Draw, LEFT, Layout, WIDTH};
use super::template::{Chart, FieldError, lookup};
use super::text::{self, Style};

const TEXT: f32 = 9.0;
const TITLE: f32 = 10.5;
const BAR: f32 = 7.0;
const ROW_GAP: f32 = 5.0;
const LABEL_WIDTH: f32 = 92.0;
/// Room right of the plot for the longest bar's value.
const VALUE_ROOM: f32 = 34.0;
/// The greys of the series, darkest first.
const GREYS: [u8; 3] = [70, 160, 215];

/// A number as a report writes it: `12`, `2,5`.
pub fn number(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.1}").replace('.', ",")
    }
}

/// A round upper end for a scale holding `max`: 1, 2 or 5 times a power of ten.
fn scale_end(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|end| *end >= max)
        .unwrap_or(10.0 * power)
}

fn value_of(item: &Value, field: &str) -> Option<f64> {
    item.get(field)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Draws `chart` from `data` at the current position, moving to a new page first when it does
/// not fit.
pub fn draw(out: &mut Layout, data: &Value, chart: &Chart) -> Result<(), FieldError> {
    let items = match lookup(data, &chart.source) {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(FieldError {
                field: chart.source.clone(),
                position: chart.position,
                problem: "missing from the letter's data (a list of items)".into(),
            });
        }
    };
    let series = chart.series.len();
    let row = series as f32 * BAR + ROW_GAP;
    let height = TITLE + 8.0 + items.len().max(1) as f32 * row + 3.0 * TEXT + 14.0;
    out.y += 4.0;
    out.ensure(height);

    let title_width = text::width(Style::Bold, &chart.title, TITLE);
    out.text_here(
        LEFT + (WIDTH - title_width) / 2.0,
        TITLE,
        Style::Bold,
        &chart.title,
    );
    out.y += TITLE + 8.0;

    if items.is_empty() {
        out.text_here(
            LEFT,
            TEXT + 1.0,
            Style::Regular,
            "Tidak ada data pada periode ini.",
        );
        out.y += TEXT + 12.0;
        return Ok(());
    }
    let max = items
        .iter()
        .flat_map(|item| {
            chart
                .series
                .iter()
                .chain(&chart.marker)
                .filter_map(|s| value_of(item, &s.field))
        })
        .fold(0.0, f64::max);
    // Counts get whole ticks: a scale of four steps, each a whole number.
    let whole = items.iter().all(|item| {
        chart
            .series
            .iter()
            .filter_map(|s| value_of(item, &s.field))
            .all(|v| v.fract() == 0.0)
    });
    let end = match chart.max {
        Some(cap) if f64::from(cap) < max => f64::from(cap),
        _ if whole => (scale_end(max) / 4.0).ceil() * 4.0,
        _ => scale_end(max),
    };
    let x0 = LEFT + LABEL_WIDTH;
    let plot = WIDTH - LABEL_WIDTH - VALUE_ROOM;
    let at = |value: f64| x0 + (value.min(end) / end) as f32 * plot;
    let top = out.y;

    for (i, item) in items.iter().enumerate() {
        let y = top + i as f32 * row;
        let label = item
            .get(&chart.label)
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.draw(layout::text_at(
            LEFT,
            y + series as f32 * BAR / 2.0 + TEXT * 0.35,
            TEXT,
            Style::Regular,
            label,
        ));
        for (k, s) in chart.series.iter().enumerate() {
            let value = value_of(item, &s.field).unwrap_or(0.0);
            let bar_y = y + k as f32 * BAR;
            out.draw(Draw::Bar {
                x: x0,
                y: bar_y,
                width: (at(value) - x0).max(0.0),
                height: BAR - 1.0,
                grey: GREYS[k % GREYS.len()],
                outline: true,
            });
            out.draw(layout::text_at(
                at(value) + 2.0,
                bar_y + BAR - 1.5,
                TEXT - 1.5,
                Style::Regular,
                &number(value),
            ));
        }
        if let Some(value) = chart.marker.as_ref().and_then(|m| value_of(item, &m.field)) {
            out.draw(Draw::Line {
                x1: at(value),
                y1: y - 1.5,
                x2: at(value),
                y2: y + series as f32 * BAR + 0.5,
                width: 1.4,
            });
        }
    }
    let bottom = top + items.len() as f32 * row;
    // The axis and its scale.
    out.draw(Draw::Line {
        x1: x0,
        y1: top - 2.0,
        x2: x0,
        y2: bottom,
        width: 0.6,
    });
    out.draw(Draw::Line {
        x1: x0,
        y1: bottom,
        x2: x0 + plot,
        y2: bottom,
        width: 0.6,
    });
    for tick in 0..=4 {
        let value = end * f64::from(tick) / 4.0;
        let x = at(value);
        out.draw(Draw::Line {
            x1: x,
            y1: bottom,
            x2: x,
            y2: bottom + 3.0,
            width: 0.6,
        });
        let label = number(value);
        let width = text::width(Style::Regular, &label, TEXT - 1.0);
        out.draw(layout::text_at(
            x - width / 2.0,
            bottom + 4.0 + TEXT,
            TEXT - 1.0,
            Style::Regular,
            &label,
        ));
    }
    let unit_width = text::width(Style::Regular, &chart.unit, TEXT - 1.0);
    out.draw(layout::text_at(
        x0 + plot - unit_width,
        bottom + 6.0 + 2.0 * TEXT,
        TEXT - 1.0,
        Style::Regular,
        &chart.unit,
    ));

    // The legend.
    let legend_y = bottom + 6.0 + 2.0 * TEXT;
    let mut x = LEFT;
    for (k, s) in chart.series.iter().enumerate() {
        out.draw(Draw::Bar {
            x,
            y: legend_y - BAR + 1.0,
            width: 10.0,
            height: BAR - 1.0,
            grey: GREYS[k % GREYS.len()],
            outline: true,
        });
        out.draw(layout::text_at(
            x + 13.0,
            legend_y,
            TEXT - 1.0,
            Style::Regular,
            &s.name,
        ));
        x += 13.0 + text::width(Style::Regular, &s.name, TEXT - 1.0) + 12.0;
    }
    if let Some(marker) = &chart.marker {
        out.draw(Draw::Line {
            x1: x + 4.0,
            y1: legend_y - BAR,
            x2: x + 4.0,
            y2: legend_y,
            width: 1.4,
        });
        out.draw(layout::text_at(
            x + 9.0,
            legend_y,
            TEXT - 1.0,
            Style::Regular,
            &marker.name,
        ));
    }
    out.y = legend_y + TEXT + 6.0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_end_round_and_numbers_read_indonesian() {
        assert_eq!(scale_end(0.0), 1.0);
        assert_eq!(scale_end(3.2), 5.0);
        assert_eq!(scale_end(12.0), 20.0);
        assert_eq!(scale_end(100.0), 100.0);
        assert_eq!(number(2.5), "2,5");
        assert_eq!(number(12.0), "12");
    }
}
