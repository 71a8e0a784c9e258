//! From a template and a letter's data to laid-out pages: each block of the template becomes
//! lines, rows, boxes, a QR code or a signature block, in the order of an Indonesian official
//! letter.

use std::sync::Arc;

use serde_json::Value;

use super::indonesian;
use super::layout::{
    self, BODY_SIZE, Draw, LEFT, LINE, Layout, LineAlign, RIGHT, TOP, WIDTH, Word,
};
use super::template::{Align, Block, FieldError, Run, SignatureStyle, Template, Text, lookup};
use super::text::{self, Style};
use crate::xml::Position;

mod signature;
mod table;

use signature::{Mark, Signer, signer_lines, signs_electronically};
use table::{cell_text, draw_box, draw_table, label_value};

/// The office's kop surat.
#[derive(Clone, Debug, Default)]
pub struct Letterhead {
    pub government: String,
    pub name: String,
    pub address: String,
    pub city: String,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub emblem: Option<Emblem>,
}

/// The regional emblem: a PNG or JPEG image.
#[derive(Clone, Debug)]
pub struct Emblem {
    pub data: Arc<Vec<u8>>,
    pub png: bool,
}

/// How an electronically signed letter points to its verification.
#[derive(Clone, Debug)]
pub struct Electronic {
    /// The public verification page of this letter; the QR code opens it.
    pub verification_url: String,
    /// Who issued the signer's certificate, for the footer statement.
    pub issuer: String,
}

/// Where the column of a signature block starts.
const SIGNATURE_X: f32 = LEFT + WIDTH * 0.52;
const SMALL: f32 = 10.0;
const SMALL_LINE: f32 = 12.0;
const QR_SIZE: f32 = 62.0;
const FOOTER_SIZE: f32 = 7.5;

/// Lays out `template` filled with `data`.
pub fn layout(
    template: &Template,
    data: &Value,
    letterhead: &Letterhead,
    electronic: &Electronic,
) -> Result<Layout, FieldError> {
    let data = &with_defaults(data, letterhead);
    let is_electronic = template.blocks.iter().any(|b| match b {
        Block::Signature {
            style: SignatureStyle::Electronic,
            party,
            ..
        } => signs_electronically(data, *party),
        Block::Signatures { left, right, .. } => {
            signs_electronically(data, *left) || signs_electronically(data, *right)
        }
        _ => false,
    });
    let footer = is_electronic.then(|| footer_words(electronic));
    let footer_height = footer
        .as_ref()
        .map_or(0.0, |lines| lines.len() as f32 * 9.0 + 8.0);
    let mut out = Layout::new(layout::BOTTOM - footer_height);
    for block in &template.blocks {
        let page = out.page_index();
        let top = out.y;
        let name = render_block(&mut out, block, data, letterhead, electronic)?;
        out.place(name, page, top);
    }
    if let Some(lines) = footer {
        let top = layout::BOTTOM - footer_height + 8.0;
        for page in &mut out.pages {
            let mut y = top;
            page.draws.push(Draw::Line {
                x1: LEFT,
                y1: y - 4.0,
                x2: RIGHT,
                y2: y - 4.0,
                width: 0.5,
            });
            let space = text::width(Style::Regular, " ", FOOTER_SIZE);
            for line in &lines {
                page.draws.extend(layout::line_draws(
                    line,
                    LEFT,
                    y + FOOTER_SIZE,
                    FOOTER_SIZE,
                    space,
                ));
                y += 9.0;
            }
        }
    }
    Ok(out)
}

/// The data, with what the office's letterhead gives for the fields the data leaves out:
/// `city` and `place` (where the letter is written), `government` and `office` (as a sentence
/// writes them).
fn with_defaults(data: &Value, letterhead: &Letterhead) -> Value {
    let mut data = data.clone();
    if let Value::Object(map) = &mut data {
        let defaults = [
            ("city", letterhead.city.clone()),
            ("place", letterhead.city.clone()),
            ("government", indonesian::title_case(&letterhead.government)),
            ("office", indonesian::title_case(&letterhead.name)),
        ];
        for (key, value) in defaults {
            map.entry(key).or_insert(Value::String(value));
        }
    }
    data
}

fn footer_words(electronic: &Electronic) -> Vec<Vec<Word>> {
    let statement = format!(
        "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang diterbitkan oleh {}. Keaslian dokumen dapat diperiksa dengan memindai kode QR atau melalui {}",
        electronic.issuer, electronic.verification_url
    );
    let words = layout::words(&[(statement, Style::Regular)], FOOTER_SIZE, WIDTH);
    layout::break_lines(words, FOOTER_SIZE, WIDTH, WIDTH)
}

fn field(data: &Value, name: &str, position: Position) -> Result<String, FieldError> {
    Text::parse(&format!("{{{name}}}"), position)
        .map_err(|p| FieldError {
            field: name.to_owned(),
            position,
            problem: p.message,
        })?
        .fill(data)
}

fn optional(data: &Value, name: &str) -> Option<String> {
    match lookup(data, name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn filled_runs(runs: &[Run], data: &Value) -> Result<Vec<(String, Style)>, FieldError> {
    runs.iter()
        .map(|run| {
            Ok((
                run.text.fill(data)?,
                if run.bold {
                    Style::Bold
                } else {
                    Style::Regular
                },
            ))
        })
        .collect()
}

fn plain(text: &str, style: Style) -> Vec<(String, Style)> {
    vec![(text.to_owned(), style)]
}

fn render_block(
    out: &mut Layout,
    block: &Block,
    data: &Value,
    letterhead: &Letterhead,
    electronic: &Electronic,
) -> Result<&'static str, FieldError> {
    Ok(match block {
        Block::Letterhead {
            applicant: false, ..
        } => {
            draw_letterhead(out, letterhead);
            "letterhead"
        }
        Block::Letterhead {
            applicant: true,
            position,
        } => {
            let key = |k: &str| format!("applicant_letterhead.{k}");
            let applicant = Letterhead {
                government: field(data, &key("government"), *position)?,
                name: field(data, &key("name"), *position)?,
                address: field(data, &key("address"), *position)?,
                city: field(data, &key("city"), *position)?,
                postal_code: optional(data, &key("postal_code")),
                phone: optional(data, &key("phone")),
                website: optional(data, &key("website")),
                email: optional(data, &key("email")),
                emblem: letterhead.emblem.clone(),
            };
            draw_letterhead(out, &applicant);
            "letterhead"
        }
        Block::PlaceDate(at) => {
            let date = field(data, "date:long", *at)?;
            let place = format!("{}, {date}", field(data, "place", *at)?);
            out.ensure(LINE);
            let words = layout::words(
                &plain(&place, Style::Regular),
                BODY_SIZE,
                RIGHT - SIGNATURE_X,
            );
            out.paragraph(
                words,
                SIGNATURE_X,
                RIGHT - SIGNATURE_X,
                BODY_SIZE,
                LINE,
                0.0,
                LineAlign::Left,
            );
            out.y += 6.0;
            "place-date"
        }
        Block::Reference(at) => {
            let rows = [
                ("Nomor", field(data, "number", *at)?),
                ("Sifat", field(data, "sifat", *at)?),
                ("Lampiran", field(data, "lampiran", *at)?),
                ("Hal", field(data, "hal", *at)?),
            ];
            for (label, value) in rows {
                label_value(
                    out,
                    LEFT,
                    70.0,
                    label,
                    &plain(&value, Style::Regular),
                    BODY_SIZE,
                    LINE,
                );
            }
            out.y += LINE;
            "reference"
        }
        Block::Addressee(at) => {
            let addressee = field(data, "addressee", *at)?;
            let place = field(data, "addressee_place", *at)?;
            out.ensure(LINE * 3.0);
            let yth = "Yth.";
            let indent = text::width(Style::Regular, "Yth. ", BODY_SIZE);
            out.text_here(LEFT, BODY_SIZE, Style::Regular, yth);
            let words = layout::words(&plain(&addressee, Style::Regular), BODY_SIZE, WIDTH * 0.55);
            out.paragraph(
                words,
                LEFT + indent,
                WIDTH * 0.55,
                BODY_SIZE,
                LINE,
                0.0,
                LineAlign::Left,
            );
            out.text_here(LEFT, BODY_SIZE, Style::Regular, "di");
            out.y += LINE;
            let words = layout::words(&plain(&place, Style::Regular), BODY_SIZE, WIDTH * 0.5);
            out.paragraph(
                words,
                LEFT + indent,
                WIDTH * 0.5,
                BODY_SIZE,
                LINE,
                0.0,
                LineAlign::Left,
            );
            out.y += LINE;
            "addressee"
        }
        Block::Title { text, subtitle } => {
            let content = text.fill(data)?;
            let size = if *subtitle { BODY_SIZE } else { 13.0 };
            out.ensure(LINE * 2.0);
            let words = layout::words(&plain(&content, Style::Bold), size, WIDTH);
            out.paragraph(
                words,
                LEFT,
                WIDTH,
                size,
                size * 1.25,
                0.0,
                LineAlign::Center,
            );
            if !subtitle {
                out.y += 2.0;
            }
            if *subtitle { "subtitle" } else { "title" }
        }
        Block::Number(at) => {
            let number = format!("NOMOR: {}", field(data, "number", *at)?);
            let words = layout::words(&plain(&number, Style::Regular), BODY_SIZE, WIDTH);
            out.paragraph(words, LEFT, WIDTH, BODY_SIZE, LINE, 0.0, LineAlign::Center);
            out.y += LINE;
            "number"
        }
        Block::Paragraph {
            runs,
            align,
            indent,
        } => {
            let pieces = filled_runs(runs, data)?;
            let words = layout::words(&pieces, BODY_SIZE, WIDTH);
            let align = match align {
                Align::Left => LineAlign::Left,
                Align::Center => LineAlign::Center,
                Align::Justify => LineAlign::Justify,
            };
            let first = if *indent { 36.0 } else { 0.0 };
            out.paragraph(words, LEFT, WIDTH, BODY_SIZE, LINE, first, align);
            out.y += 6.0;
            "paragraph"
        }
        Block::List {
            items,
            source,
            position,
        } => {
            let pieces: Vec<Vec<(String, Style)>> = match source {
                None => items
                    .iter()
                    .map(|item| filled_runs(item, data))
                    .collect::<Result<_, _>>()?,
                Some(name) => match lookup(data, name) {
                    Some(Value::Array(list)) => list
                        .iter()
                        .map(|v| plain(&cell_text(Some(v)), Style::Regular))
                        .collect(),
                    _ => {
                        return Err(FieldError {
                            field: name.clone(),
                            position: *position,
                            problem: "missing from the letter's data (a list of text)".into(),
                        });
                    }
                },
            };
            for (i, pieces) in pieces.into_iter().enumerate() {
                out.ensure(LINE);
                let marker = format!("{}.", i + 1);
                out.text_here(LEFT + 18.0, BODY_SIZE, Style::Regular, &marker);
                let words = layout::words(&pieces, BODY_SIZE, WIDTH - 40.0);
                out.paragraph(
                    words,
                    LEFT + 40.0,
                    WIDTH - 40.0,
                    BODY_SIZE,
                    LINE,
                    0.0,
                    LineAlign::Justify,
                );
            }
            out.y += 6.0;
            "list"
        }
        Block::Fields { rows, boxed } => {
            for (label, runs) in rows {
                let pieces = filled_runs(runs, data)?;
                let top = out.y;
                let page = out.page_index();
                if *boxed {
                    out.y += 3.0;
                }
                label_value(
                    out,
                    LEFT + if *boxed { 4.0 } else { 0.0 },
                    120.0,
                    label,
                    &pieces,
                    BODY_SIZE,
                    LINE,
                );
                if *boxed {
                    out.y += 3.0;
                    if out.page_index() == page {
                        draw_box(out, LEFT, top, RIGHT, out.y);
                    }
                }
            }
            out.y += 6.0;
            "fields"
        }
        Block::Checkboxes {
            label,
            field: name,
            options,
            position,
        } => {
            let chosen: Vec<String> = match lookup(data, name) {
                Some(Value::String(s)) => vec![s.to_lowercase()],
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_lowercase))
                    .collect(),
                _ => {
                    return Err(FieldError {
                        field: name.clone(),
                        position: *position,
                        problem:
                            "missing from the letter's data (text, or a list of the options chosen)"
                                .into(),
                    });
                }
            };
            out.ensure(LINE * 2.0);
            out.text_here(LEFT, BODY_SIZE, Style::Bold, label);
            out.y += LINE + 2.0;
            let column = WIDTH / 2.0;
            for (i, option) in options.iter().enumerate() {
                if i % 2 == 0 {
                    out.ensure(LINE + 2.0);
                }
                let x = LEFT + column * (i % 2) as f32;
                let filled = chosen.contains(&option.to_lowercase());
                out.draw(Draw::Square {
                    x: x + 2.0,
                    y: out.y + 1.0,
                    size: 9.0,
                    filled,
                });
                out.draw(layout::text_at(
                    x + 16.0,
                    out.y + BODY_SIZE * 0.8,
                    BODY_SIZE - 1.0,
                    Style::Regular,
                    option,
                ));
                if i % 2 == 1 || i + 1 == options.len() {
                    out.y += LINE + 2.0;
                }
            }
            out.y += 6.0;
            "checkboxes"
        }
        Block::Table {
            source,
            columns,
            position,
        } => {
            draw_table(out, data, source, columns, *position)?;
            "table"
        }
        Block::Chart(chart) => {
            super::chart::draw(out, data, chart)?;
            "chart"
        }
        Block::Signature {
            party,
            style,
            position,
        } => {
            let signer = Signer::from_data(data, *party, *position)?;
            let block = signer_lines(&signer, RIGHT - SIGNATURE_X, None);
            let mark = signer.mark(*style, electronic);
            out.y += 6.0;
            out.ensure(block.height(&mark));
            let top = out.y;
            block.draw(out, SIGNATURE_X, RIGHT - SIGNATURE_X, &mark);
            if matches!(mark, Mark::Qr(_)) {
                out.place_signer(*party, SIGNATURE_X, RIGHT - SIGNATURE_X, top);
            }
            out.y += LINE;
            "signature"
        }
        Block::Signatures {
            left,
            right,
            left_label,
            right_label,
            position,
        } => {
            let half = WIDTH / 2.0 - 10.0;
            let left_signer = Signer::from_data(data, *left, *position)?;
            let right_signer = Signer::from_data(data, *right, *position)?;
            let left_block = signer_lines(&left_signer, half, Some(left_label));
            let right_block = signer_lines(&right_signer, half, Some(right_label));
            let left_mark = left_signer.mark(SignatureStyle::Electronic, electronic);
            let right_mark = right_signer.mark(SignatureStyle::Electronic, electronic);
            out.y += 6.0;
            out.ensure(
                left_block
                    .height(&left_mark)
                    .max(right_block.height(&right_mark)),
            );
            let top = out.y;
            left_block.draw(out, LEFT, half, &left_mark);
            if matches!(left_mark, Mark::Qr(_)) {
                out.place_signer(*left, LEFT, half, top);
            }
            let left_bottom = out.y;
            out.y = top;
            right_block.draw(out, RIGHT - half, half, &right_mark);
            if matches!(right_mark, Mark::Qr(_)) {
                out.place_signer(*right, RIGHT - half, half, top);
            }
            out.y = out.y.max(left_bottom) + LINE;
            "signatures"
        }
        Block::Parties(at) => {
            for (i, label) in ["PIHAK PERTAMA", "PIHAK KEDUA"].iter().enumerate() {
                let signer = Signer::from_data(data, i, *at)?;
                out.ensure(LINE * 4.0);
                out.text_here(
                    LEFT + 18.0,
                    BODY_SIZE,
                    Style::Regular,
                    &format!("{}.", i + 1),
                );
                let x = LEFT + 36.0;
                label_value(
                    out,
                    x,
                    70.0,
                    "Nama",
                    &plain(&signer.name, Style::Bold),
                    BODY_SIZE,
                    LINE,
                );
                if let Some(nip) = &signer.nip {
                    label_value(
                        out,
                        x,
                        70.0,
                        "NIP",
                        &plain(nip, Style::Regular),
                        BODY_SIZE,
                        LINE,
                    );
                }
                label_value(
                    out,
                    x,
                    70.0,
                    "Jabatan",
                    &plain(&signer.position, Style::Regular),
                    BODY_SIZE,
                    LINE,
                );
                let words = layout::words(
                    &[
                        ("Selanjutnya disebut ".to_owned(), Style::Regular),
                        (label.to_string(), Style::Bold),
                    ],
                    BODY_SIZE,
                    WIDTH - 36.0,
                );
                out.paragraph(
                    words,
                    x,
                    WIDTH - 36.0,
                    BODY_SIZE,
                    LINE,
                    0.0,
                    LineAlign::Left,
                );
                out.y += 4.0;
            }
            out.y += 4.0;
            "parties"
        }
        Block::Tembusan(at) => {
            let items: Vec<String> = match lookup(data, "tembusan") {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                Some(_) => {
                    return Err(FieldError {
                        field: "tembusan".into(),
                        position: *at,
                        problem: "is not a list of text".into(),
                    });
                }
            };
            if !items.is_empty() {
                out.ensure(SMALL_LINE * 2.0);
                out.text_here(LEFT, SMALL, Style::Regular, "Tembusan:");
                out.y += SMALL_LINE;
                for (i, item) in items.iter().enumerate() {
                    out.ensure(SMALL_LINE);
                    out.text_here(LEFT, SMALL, Style::Regular, &format!("{}.", i + 1));
                    let words = layout::words(&plain(item, Style::Regular), SMALL, WIDTH - 16.0);
                    out.paragraph(
                        words,
                        LEFT + 16.0,
                        WIDTH - 16.0,
                        SMALL,
                        SMALL_LINE,
                        0.0,
                        LineAlign::Left,
                    );
                }
            }
            "tembusan"
        }
        Block::Spacer(height) => {
            out.y += height;
            "spacer"
        }
    })
}

/// The QR code of `url` as a square of `size` points at (x, y). The mask is fixed rather than
/// chosen by scoring all eight: any mask reads the same, and the scoring took a tenth of the
/// time of rendering a letter.
fn qr_draw(url: &str, x: f32, y: f32, size: f32) -> Option<Draw> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let ec_level = qrcode::EcLevel::M;
    let bits = qrcode::bits::encode_auto(url.as_bytes(), ec_level).ok()?;
    let version = bits.version();
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec_level).ok()?;
    let mut canvas = Canvas::new(version, ec_level);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    canvas.apply_mask(MaskPattern::Checkerboard);
    let count = version.width().max(0) as usize;
    let modules = canvas
        .into_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some(Draw::Qr {
        x,
        y,
        size,
        count,
        modules,
    })
}

/// The kop surat: emblem at the left, the government and office centred, the address and
/// contacts, then a thick and a thin rule.
fn draw_letterhead(out: &mut Layout, head: &Letterhead) {
    let top = TOP;
    let text_left = if head.emblem.is_some() {
        LEFT + 70.0
    } else {
        LEFT
    };
    let width = RIGHT - text_left;
    if let Some(emblem) = &head.emblem {
        out.draw(Draw::Image {
            x: LEFT,
            y: top,
            width: 56.0,
            height: 68.0,
            data: emblem.data.clone(),
            png: emblem.png,
        });
    }
    out.y = top;
    // A name that does not fit on one line is set smaller, down to 11 points, before it wraps.
    let centred = |out: &mut Layout, text: &str, style: Style, size: f32| {
        let natural = text::width(style, text, size);
        let size = if natural > width {
            (size * width / natural).max(11.0)
        } else {
            size
        };
        let words = layout::words(&plain(text, style), size, width);
        out.paragraph(
            words,
            text_left,
            width,
            size,
            size * 1.2,
            0.0,
            LineAlign::Center,
        );
    };
    centred(out, &head.government.to_uppercase(), Style::Bold, 14.0);
    centred(out, &head.name.to_uppercase(), Style::Bold, 15.0);
    // An address may be left empty (an applicant's whose street naskah does not know).
    let mut address = head.address.clone();
    if !address.trim().is_empty() {
        address.push_str(", ");
    }
    address.push_str(&head.city);
    if let Some(code) = &head.postal_code {
        address.push_str(&format!(" {code}"));
    }
    centred(out, &address, Style::Regular, 10.0);
    let contacts: Vec<String> = [
        head.phone.as_ref().map(|p| format!("Telepon {p}")),
        head.website.as_ref().map(|w| format!("Laman {w}")),
        head.email.as_ref().map(|e| format!("Pos-el {e}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !contacts.is_empty() {
        centred(out, &contacts.join(" | "), Style::Regular, 10.0);
    }
    out.y = out.y.max(top + 70.0) + 3.0;
    out.rule(LEFT, RIGHT, 2.0);
    out.y += 2.5;
    out.rule(LEFT, RIGHT, 0.6);
    out.y += 14.0;
}
