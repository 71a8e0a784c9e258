//! The letter fonts (Liberation Sans regular and bold, metric-compatible with the Arial of Indonesian official
//! letters; SIL OFL, shipped in `letter-templates/fonts/`) and text shaping: rustybuzz turns a
//! word into positioned glyphs, whose advances give its width for line breaking.

use std::sync::OnceLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use rustybuzz::UnicodeBuffer;

const REGULAR: &[u8] = include_bytes!("../../letter-templates/fonts/LiberationSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../letter-templates/fonts/LiberationSans-Bold.ttf");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    Regular,
    Bold,
}

struct Loaded {
    font: Font,
    face: rustybuzz::Face<'static>,
    /// Compiled once: letters are Latin text written left to right.
    plan: rustybuzz::ShapePlan,
    units_per_em: f32,
}

fn load(data: &'static [u8]) -> Option<Loaded> {
    let face = rustybuzz::Face::from_slice(data, 0)?;
    let units_per_em = face.units_per_em() as f32;
    let plan = rustybuzz::ShapePlan::new(
        &face,
        rustybuzz::Direction::LeftToRight,
        Some(rustybuzz::script::LATIN),
        None,
        &[],
    );
    Some(Loaded {
        font: Font::new(data.into(), 0)?,
        face,
        plan,
        units_per_em,
    })
}

/// Words shaped before, per thread: letters repeat their words (the template's text, the
/// office's name), and shaping is the costliest part of laying them out.
const CACHE_LIMIT: usize = 20_000;

thread_local! {
    static SHAPED: std::cell::RefCell<std::collections::HashMap<(Style, String), Shaped>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

static FONTS: OnceLock<Option<[Loaded; 2]>> = OnceLock::new();

fn fonts() -> &'static [Loaded; 2] {
    let loaded = FONTS.get_or_init(|| Some([load(REGULAR)?, load(BOLD)?]));
    match loaded {
        Some(fonts) => fonts,
        // The fonts are compiled in and read by a test; they cannot fail to load at run time.
        None => unreachable!("the embedded letter fonts are valid"),
    }
}

fn loaded(style: Style) -> &'static Loaded {
    let fonts = fonts();
    match style {
        Style::Regular => &fonts[0],
        Style::Bold => &fonts[1],
    }
}

/// The krilla font of `style`, for drawing.
pub fn font(style: Style) -> Font {
    loaded(style).font.clone()
}

/// A run of text shaped in one style: its glyphs (advances in em) and its width in em.
#[derive(Clone, Debug)]
pub struct Shaped {
    pub glyphs: Vec<KrillaGlyph>,
    pub width_em: f32,
}

impl Shaped {
    pub fn width(&self, size: f32) -> f32 {
        self.width_em * size
    }
}

pub fn shape(style: Style, text: &str) -> Shaped {
    let key = (style, text.to_owned());
    if let Some(hit) = SHAPED.with(|cache| cache.borrow().get(&key).cloned()) {
        return hit;
    }
    let shaped = shape_uncached(style, text);
    SHAPED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, shaped.clone());
    });
    shaped
}

fn shape_uncached(style: Style, text: &str) -> Shaped {
    let loaded = loaded(style);
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.set_direction(rustybuzz::Direction::LeftToRight);
    buffer.set_script(rustybuzz::script::LATIN);
    let output = rustybuzz::shape_with_plan(&loaded.face, &loaded.plan, buffer);
    let upem = loaded.units_per_em;
    let infos = output.glyph_infos();
    let positions = output.glyph_positions();
    let mut glyphs = Vec::with_capacity(infos.len());
    let mut width = 0.0;
    for (i, (info, pos)) in infos.iter().zip(positions).enumerate() {
        let start = info.cluster as usize;
        let end = infos
            .iter()
            .skip(i + 1)
            .map(|next| next.cluster as usize)
            .find(|&c| c != start)
            .unwrap_or(text.len());
        let advance = pos.x_advance as f32 / upem;
        width += advance;
        glyphs.push(KrillaGlyph::new(
            GlyphId::new(info.glyph_id),
            advance,
            pos.x_offset as f32 / upem,
            pos.y_offset as f32 / upem,
            pos.y_advance as f32 / upem,
            start..end,
            None,
        ));
    }
    Shaped {
        glyphs,
        width_em: width,
    }
}

/// The glyph of the space in `style`.
pub fn space_glyph(style: Style) -> GlyphId {
    let loaded = loaded(style);
    GlyphId::new(loaded.face.glyph_index(' ').map_or(3, |g| u32::from(g.0)))
}

/// The width of `text` in `style` at `size` points.
pub fn width(style: Style, text: &str, size: f32) -> f32 {
    shape(style, text).width(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fonts_load_and_measure() {
        // Liberation Sans has Arial's metrics: "H" is 0.722 em wide.
        assert!((width(Style::Regular, "H", 1.0) - 0.722).abs() < 0.001);
        assert!(width(Style::Bold, "naskah", 12.0) > width(Style::Regular, "naskah", 12.0));
        assert_eq!(shape(Style::Regular, "Yth.").glyphs.len(), 4);
    }
}
