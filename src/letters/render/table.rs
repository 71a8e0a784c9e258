//! Tables of a letter: label–value rows and ruled tables with their columns, drawn from the
//! data's lists.

use serde_json::Value;

use super::{SMALL, SMALL_LINE};
use crate::letters::layout::{self, Draw, LEFT, Layout, LineAlign, RIGHT, WIDTH, Word};
use crate::letters::template::{Align, Column, FieldError, lookup};
use crate::letters::text::Style;
use crate::xml::Position;

/// "Label : value", the value wrapped in its own column.
pub(super) fn label_value(
    out: &mut Layout,
    x: f32,
    label_width: f32,
    label: &str,
    value: &[(String, Style)],
    size: f32,
    leading: f32,
) {
    out.ensure(leading);
    out.text_here(x, size, Style::Regular, label);
    out.text_here(x + label_width, size, Style::Regular, ":");
    let value_x = x + label_width + 10.0;
    let width = RIGHT - value_x - 4.0;
    let words = layout::words(value, size, width);
    if words.is_empty() {
        out.y += leading;
    } else {
        out.paragraph(words, value_x, width, size, leading, 0.0, LineAlign::Left);
    }
}

pub(super) fn draw_box(out: &mut Layout, x1: f32, y1: f32, x2: f32, y2: f32) {
    for (a, b, c, d) in [
        (x1, y1, x2, y1),
        (x1, y2, x2, y2),
        (x1, y1, x1, y2),
        (x2, y1, x2, y2),
    ] {
        out.draw(Draw::Line {
            x1: a,
            y1: b,
            x2: c,
            y2: d,
            width: 0.6,
        });
    }
}

pub(super) fn cell_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => if *b { "ya" } else { "tidak" }.to_owned(),
        _ => String::new(),
    }
}

/// A table whose rows come from the list `source` in the data. A row never splits; when one
/// does not fit, the table goes on on the next page under its header again.
pub(super) fn draw_table(
    out: &mut Layout,
    data: &Value,
    source: &str,
    columns: &[Column],
    position: Position,
) -> Result<(), FieldError> {
    let rows = match lookup(data, source) {
        Some(Value::Array(rows)) => rows,
        _ => {
            return Err(FieldError {
                field: source.to_owned(),
                position,
                problem: "missing from the letter's data (a list of rows)".into(),
            });
        }
    };
    let total: f32 = columns.iter().map(|c| c.width).sum::<f32>().max(1.0);
    let widths: Vec<f32> = columns.iter().map(|c| WIDTH * c.width / total).collect();
    let pad = 3.0;
    let lay_row = |cells: Vec<(String, Style)>| -> Vec<Vec<Vec<Word>>> {
        cells
            .iter()
            .zip(&widths)
            .map(|((text, style), w)| {
                let words = layout::words(&[(text.clone(), *style)], SMALL, w - 2.0 * pad);
                layout::break_lines(words, SMALL, w - 2.0 * pad, w - 2.0 * pad)
            })
            .collect()
    };
    let header = lay_row(
        columns
            .iter()
            .map(|c| (c.header.clone(), Style::Bold))
            .collect(),
    );
    let draw_row = |out: &mut Layout, cells: &[Vec<Vec<Word>>], aligns: &[Align]| {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = lines as f32 * SMALL_LINE + 2.0 * pad;
        let top = out.y;
        let mut x = LEFT;
        for ((cell, w), align) in cells.iter().zip(&widths).zip(aligns) {
            out.y = top + pad;
            for line in cell {
                let align = match align {
                    Align::Center => LineAlign::Center,
                    _ => LineAlign::Left,
                };
                out.line(line, x + pad, w - 2.0 * pad, SMALL, align);
                out.y += SMALL_LINE;
            }
            x += w;
        }
        out.y = top + height;
        let mut x = LEFT;
        out.draw(Draw::Line {
            x1: LEFT,
            y1: top,
            x2: RIGHT,
            y2: top,
            width: 0.6,
        });
        out.draw(Draw::Line {
            x1: LEFT,
            y1: top + height,
            x2: RIGHT,
            y2: top + height,
            width: 0.6,
        });
        for w in widths.iter().copied().chain(std::iter::once(0.0)) {
            out.draw(Draw::Line {
                x1: x,
                y1: top,
                x2: x,
                y2: top + height,
                width: 0.6,
            });
            x += w;
        }
        height
    };
    let header_aligns = vec![Align::Center; columns.len()];
    let header_height =
        header.iter().map(Vec::len).max().unwrap_or(1) as f32 * SMALL_LINE + 2.0 * pad;
    out.ensure(header_height * 2.0);
    draw_row(out, &header, &header_aligns);
    let aligns: Vec<Align> = columns.iter().map(|c| c.align).collect();
    for row in rows {
        let cells = lay_row(
            columns
                .iter()
                .map(|c| (cell_text(lookup(row, &c.field)), Style::Regular))
                .collect(),
        );
        let height =
            cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f32 * SMALL_LINE + 2.0 * pad;
        if out.y + height > out.limit {
            out.new_page();
            draw_row(out, &header, &header_aligns);
        }
        draw_row(out, &cells, &aligns);
    }
    if rows.is_empty() {
        // An empty list still says so, in a row across the table.
        let top = out.y;
        out.y += pad;
        out.text_here(LEFT + pad, SMALL, Style::Regular, "(tidak ada)");
        out.y = top + SMALL_LINE + 2.0 * pad;
        for x in [LEFT, RIGHT] {
            out.draw(Draw::Line {
                x1: x,
                y1: top,
                x2: x,
                y2: out.y,
                width: 0.6,
            });
        }
        out.draw(Draw::Line {
            x1: LEFT,
            y1: out.y,
            x2: RIGHT,
            y2: out.y,
            width: 0.6,
        });
    }
    out.y += 10.0;
    Ok(())
}
