//! Page layout: A4 pages, words broken into lines and justified, rows and blocks that move to
//! the next page when they do not fit, page numbers from the second page on. The result is a
//! list of things to draw per page, in points from the page's top-left corner; `pdf.rs` draws
//! them.

use krilla::text::KrillaGlyph;

use super::text::{self, Shaped, Style};

pub const PAGE_WIDTH: f32 = 595.276;
pub const PAGE_HEIGHT: f32 = 841.89;
/// Margins of an Indonesian official letter: 2.5 cm left, 2 cm right and bottom, 1.5 cm top.
pub const LEFT: f32 = 70.87;
pub const RIGHT: f32 = PAGE_WIDTH - 56.69;
pub const TOP: f32 = 42.52;
pub const BOTTOM: f32 = PAGE_HEIGHT - 56.69;
pub const WIDTH: f32 = RIGHT - LEFT;

pub const BODY_SIZE: f32 = 12.0;
pub const LINE: f32 = 14.5;

/// Something to draw on a page.
#[derive(Clone, Debug)]
pub enum Draw {
    /// Text whose baseline starts at (x, y).
    Text {
        x: f32,
        y: f32,
        size: f32,
        style: Style,
        text: String,
        shaped: Shaped,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    /// A filled rectangle in a grey (0 black, 255 white), outlined in black when `outline`:
    /// a chart's bar, or a legend's key.
    Bar {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        grey: u8,
        outline: bool,
    },
    /// An empty square (a check box), or a filled one.
    Square {
        x: f32,
        y: f32,
        size: f32,
        filled: bool,
    },
    /// A QR code: `modules` dark or light, `count` on a side, drawn `size` points wide.
    Qr {
        x: f32,
        y: f32,
        size: f32,
        count: usize,
        modules: Vec<bool>,
    },
    /// An image (the regional emblem), `width` by `height` points.
    Image {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        data: std::sync::Arc<Vec<u8>>,
        png: bool,
    },
}

/// Where a block ended up, for the layout snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub block: String,
    pub page: usize,
    pub top: f32,
    pub bottom: f32,
}

/// Where a signer's block stands, so that the signature's widget can be put over it.
/// Coordinates are the layout's: points from the page's top left corner.
#[derive(Clone, Debug, PartialEq)]
pub struct SignatureSpot {
    /// The signer's index in the letter's `signers`.
    pub signer: usize,
    /// 0-based.
    pub page: usize,
    pub x: f32,
    pub top: f32,
    pub width: f32,
    pub bottom: f32,
}

impl SignatureSpot {
    /// The spot in PDF user space: (x, y of the lower edge, width, height).
    pub fn pdf_rect(&self) -> (f32, f32, f32, f32) {
        (
            self.x,
            PAGE_HEIGHT - self.bottom,
            self.width,
            self.bottom - self.top,
        )
    }
}

#[derive(Debug, Default)]
pub struct Page {
    pub draws: Vec<Draw>,
}

/// A word with its style, shaped.
#[derive(Clone, Debug)]
pub struct Word {
    pub text: String,
    pub style: Style,
    pub shaped: Shaped,
    /// Written against the word before it, without a space: the full stop after a bold name.
    pub glued: bool,
}

impl Word {
    pub fn new(text: &str, style: Style) -> Word {
        Word {
            text: text.to_owned(),
            style,
            shaped: text::shape(style, text),
            glued: false,
        }
    }

    pub fn width(&self, size: f32) -> f32 {
        self.shaped.width(size)
    }
}

/// Splits styled pieces of text into words. Runs of white space separate words; where one piece
/// ends and the next begins without white space, the two words stay together. A word wider
/// than `max` points is cut into pieces that fit.
pub fn words(pieces: &[(String, Style)], size: f32, max: f32) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut open_end = false;
    for (text, style) in pieces {
        let glue_first = open_end && !text.starts_with(char::is_whitespace);
        if !text.is_empty() {
            open_end = !text.ends_with(char::is_whitespace);
        }
        for (index, word) in text.split_whitespace().enumerate() {
            let mut whole = Word::new(word, *style);
            whole.glued = index == 0 && glue_first && !out.is_empty();
            if whole.glued || whole.width(size) <= max {
                out.push(whole);
                continue;
            }
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if text::width(*style, &piece, size) > max && piece.chars().count() > 1 {
                    piece.pop();
                    out.push(Word::new(&piece, *style));
                    piece = c.to_string();
                }
            }
            if !piece.is_empty() {
                out.push(Word::new(&piece, *style));
            }
        }
    }
    out
}

/// Greedy line breaking: the words of each line, in order.
pub fn break_lines(words: Vec<Word>, size: f32, first_width: f32, width: f32) -> Vec<Vec<Word>> {
    let space = text::width(Style::Regular, " ", size);
    let mut lines: Vec<Vec<Word>> = Vec::new();
    let mut line: Vec<Word> = Vec::new();
    let mut used = 0.0;
    for word in words {
        let limit = if lines.is_empty() { first_width } else { width };
        let w = word.width(size);
        let needed = match (line.is_empty(), word.glued) {
            (true, _) => w,
            (false, true) => used + w,
            (false, false) => used + space + w,
        };
        // A glued word stays on its neighbour's line, whatever the width.
        if !line.is_empty() && !word.glued && needed > limit + 0.01 {
            lines.push(std::mem::take(&mut line));
            used = w;
        } else {
            used = needed;
        }
        line.push(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The pages being filled, and where the next line goes.
pub struct Layout {
    pub pages: Vec<Page>,
    pub placed: Vec<Placed>,
    pub signature_spots: Vec<SignatureSpot>,
    pub y: f32,
    /// The lowest a line's bottom may reach on a page.
    pub limit: f32,
}

impl Layout {
    pub fn new(limit: f32) -> Layout {
        Layout {
            pages: vec![Page::default()],
            placed: Vec::new(),
            signature_spots: Vec::new(),
            y: TOP,
            limit,
        }
    }

    pub fn page_index(&self) -> usize {
        self.pages.len() - 1
    }

    pub fn draw(&mut self, draw: Draw) {
        if let Some(page) = self.pages.last_mut() {
            page.draws.push(draw);
        }
    }

    /// Starts a new page, with its number ("- 2 -") centred at the top.
    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        let label = format!("- {} -", self.pages.len());
        let width = text::width(Style::Regular, &label, 10.0);
        self.draw(text_at(
            (PAGE_WIDTH - width) / 2.0,
            TOP + 10.0,
            10.0,
            Style::Regular,
            &label,
        ));
        self.y = TOP + 24.0;
    }

    /// Makes room for `height` points, on a new page when this one has less.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > self.limit && self.y > TOP + 24.5 {
            self.new_page();
        }
    }

    /// Records that signer `signer`'s block spans from `top` to the current position on the
    /// current page, from `x` over `width`.
    pub fn place_signer(&mut self, signer: usize, x: f32, width: f32, top: f32) {
        self.signature_spots.push(SignatureSpot {
            signer,
            page: self.page_index(),
            x,
            top,
            width,
            bottom: self.y,
        });
    }

    /// Records that `block` spans from `top` (on page `page`) to the current position.
    pub fn place(&mut self, block: &str, page: usize, top: f32) {
        self.placed.push(Placed {
            block: block.to_owned(),
            page,
            top,
            bottom: self.y,
        });
    }

    /// Where text of `size` points sits on the line that starts at the current position.
    pub fn baseline(&self, size: f32) -> f32 {
        self.y + size * 0.9
    }

    /// Draws `content` as one piece at `x` on the current line, which does not advance.
    pub fn text_here(&mut self, x: f32, size: f32, style: Style, content: &str) {
        let y = self.baseline(size);
        self.draw(text_at(x, y, size, style, content));
    }

    /// Draws one line of words from `x`, `width` wide, aligned; `justify` spreads the words to
    /// both edges.
    pub fn line(&mut self, line: &[Word], x: f32, width: f32, size: f32, align: LineAlign) {
        let baseline = self.baseline(size);
        let space = text::width(Style::Regular, " ", size);
        let words: f32 = line.iter().map(|w| w.width(size)).sum();
        let gaps = line.iter().skip(1).filter(|w| !w.glued).count();
        let natural = words + space * gaps as f32;
        let (start, gap) = match align {
            LineAlign::Left => (x, space),
            LineAlign::Center => (x + (width - natural) / 2.0, space),
            LineAlign::Justify if gaps > 0 => (x, (width - words) / gaps as f32),
            LineAlign::Justify => (x, space),
        };
        for draw in line_draws(line, start, baseline, size, gap) {
            self.draw(draw);
        }
    }

    /// Lays out a paragraph across lines (and pages), `first_indent` points in on its first
    /// line. Justified paragraphs leave their last line ragged.
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &mut self,
        words: Vec<Word>,
        x: f32,
        width: f32,
        size: f32,
        leading: f32,
        first_indent: f32,
        align: LineAlign,
    ) {
        let lines = break_lines(words, size, width - first_indent, width);
        let count = lines.len();
        for (i, line) in lines.iter().enumerate() {
            self.ensure(leading);
            let indent = if i == 0 { first_indent } else { 0.0 };
            let align = if align == LineAlign::Justify && i + 1 == count {
                LineAlign::Left
            } else {
                align
            };
            self.line(line, x + indent, width - indent, size, align);
            self.y += leading;
        }
    }

    /// A horizontal rule at the current position.
    pub fn rule(&mut self, x1: f32, x2: f32, width: f32) {
        let y = self.y;
        self.draw(Draw::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
        });
    }
}

/// The words of a line as few text draws as can be: one per run of words in one style, the
/// spaces between them written as space glyphs `gap` points wide. Fewer, longer runs make a
/// smaller content stream, and text extraction finds the spaces where they are.
pub fn line_draws(line: &[Word], x: f32, baseline: f32, size: f32, gap: f32) -> Vec<Draw> {
    let mut draws = Vec::new();
    let mut cursor = x;
    let mut run: Option<(f32, Style, String, Vec<KrillaGlyph>, f32)> = None;
    for (i, word) in line.iter().enumerate() {
        let spaced = i > 0 && !word.glued;
        match &mut run {
            Some((_, style, text, glyphs, width)) if *style == word.style => {
                if spaced {
                    let offset = text.len();
                    text.push(' ');
                    glyphs.push(KrillaGlyph::new(
                        text::space_glyph(word.style),
                        gap / size,
                        0.0,
                        0.0,
                        0.0,
                        offset..offset + 1,
                        None,
                    ));
                    *width += gap / size;
                }
                let offset = text.len();
                text.push_str(&word.text);
                glyphs.extend(word.shaped.glyphs.iter().map(|g| shifted(g, offset)));
                *width += word.shaped.width_em;
            }
            _ => {
                if let Some(done) = run.take() {
                    cursor = done.0 + done.4 * size;
                    draws.push(run_draw(done, baseline, size));
                }
                if spaced {
                    cursor += gap;
                }
                run = Some((
                    cursor,
                    word.style,
                    word.text.clone(),
                    word.shaped.glyphs.clone(),
                    word.shaped.width_em,
                ));
            }
        }
    }
    if let Some(done) = run {
        draws.push(run_draw(done, baseline, size));
    }
    draws
}

fn shifted(glyph: &KrillaGlyph, offset: usize) -> KrillaGlyph {
    let mut glyph = glyph.clone();
    glyph.text_range = glyph.text_range.start + offset..glyph.text_range.end + offset;
    glyph
}

fn run_draw(
    (x, style, text, glyphs, width_em): (f32, Style, String, Vec<KrillaGlyph>, f32),
    y: f32,
    size: f32,
) -> Draw {
    Draw::Text {
        x,
        y,
        size,
        style,
        text,
        shaped: Shaped { glyphs, width_em },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineAlign {
    Left,
    Center,
    Justify,
}

/// Text drawn as one piece at a baseline.
pub fn text_at(x: f32, y: f32, size: f32, style: Style, content: &str) -> Draw {
    Draw::Text {
        x,
        y,
        size,
        style,
        text: content.to_owned(),
        shaped: text::shape(style, content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pieces: &[&str]) -> Vec<(String, Style)> {
        pieces
            .iter()
            .map(|p| (p.to_string(), Style::Regular))
            .collect()
    }

    #[test]
    fn lines_never_exceed_the_width() {
        let text = "Sehubungan dengan surat Saudara perihal permohonan hosting aplikasi, dengan ini kami sampaikan bahwa permohonan tersebut telah kami terima dan akan kami proses sesuai dengan standar operasional prosedur yang berlaku.";
        let width = 200.0;
        let lines = break_lines(words(&texts(&[text]), 12.0, width), 12.0, width, width);
        assert!(lines.len() > 3);
        let space = text::width(Style::Regular, " ", 12.0);
        for line in &lines {
            let natural: f32 =
                line.iter().map(|w| w.width(12.0)).sum::<f32>() + space * (line.len() - 1) as f32;
            assert!(natural <= width + 0.01, "{natural}");
        }
        let rejoined: Vec<String> = lines.iter().flatten().map(|w| w.text.clone()).collect();
        assert_eq!(rejoined.join(" "), text);
    }

    #[test]
    fn pieces_join_only_where_no_space_separates_them() {
        let pieces = vec![
            ("SIMPUS".to_owned(), Style::Bold),
            (" ".to_owned(), Style::Regular),
            ("disetujui".to_owned(), Style::Bold),
            (".".to_owned(), Style::Regular),
        ];
        let glued: Vec<(String, bool)> = words(&pieces, 12.0, 400.0)
            .into_iter()
            .map(|w| (w.text, w.glued))
            .collect();
        assert_eq!(
            glued,
            [
                ("SIMPUS".into(), false),
                ("disetujui".into(), false),
                (".".into(), true)
            ]
        );
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut() {
        let long = "a".repeat(300);
        let pieces = words(&texts(&[&long]), 12.0, 100.0);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|w| w.width(12.0) <= 100.0));
        assert_eq!(
            pieces.iter().map(|w| w.text.as_str()).collect::<String>(),
            long
        );
    }

    #[test]
    fn running_out_of_page_starts_a_numbered_page() {
        let mut layout = Layout::new(BOTTOM);
        let many = "kata ".repeat(2_000);
        layout.paragraph(
            words(&texts(&[&many]), 12.0, WIDTH),
            LEFT,
            WIDTH,
            12.0,
            LINE,
            0.0,
            LineAlign::Justify,
        );
        assert!(layout.pages.len() >= 3);
        let numbered = layout.pages[1]
            .draws
            .iter()
            .any(|d| matches!(d, Draw::Text { text, .. } if text == "- 2 -"));
        assert!(numbered);
        for page in &layout.pages {
            for draw in &page.draws {
                if let Draw::Text { y, .. } = draw {
                    assert!(*y <= BOTTOM, "text at {y} runs off the page");
                }
            }
        }
    }
}
