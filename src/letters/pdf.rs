//! Writes laid-out pages as a PDF/A-2b document with krilla: embedded, subset fonts, an sRGB
//! output intent, XMP metadata and a document ID. The output depends only on its inputs, so the
//! same letter renders to the same bytes.

use krilla::Document;
use krilla::SerializeSettings;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};

use super::layout::{Draw, Layout, PAGE_HEIGHT, PAGE_WIDTH};
use super::text;

/// What the document says about itself.
#[derive(Clone, Debug)]
pub struct Info {
    pub title: String,
    pub author: String,
    /// When the PDF was made (UTC).
    pub created: chrono::NaiveDateTime,
    /// A stable identifier of the letter, which becomes the PDF's /ID.
    pub document_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be written: {0}")]
pub struct PdfError(String);

pub fn write(layout: &Layout, info: &Info) -> Result<Vec<u8>, PdfError> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| PdfError(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        compress_content_streams: true,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    use chrono::{Datelike, Timelike};
    let created = &info.created;
    document.set_metadata(
        Metadata::new()
            .title(info.title.clone())
            .authors(vec![info.author.clone()])
            .language("id".to_owned())
            .creator("naskah".to_owned())
            .producer(format!("naskah {}", env!("CARGO_PKG_VERSION")))
            .document_id(info.document_id.clone())
            .creation_date(
                DateTime::new(u16::try_from(created.year()).unwrap_or(2000))
                    .month(created.month() as u8)
                    .day(created.day() as u8)
                    .hour(created.hour() as u8)
                    .minute(created.minute() as u8)
                    .second(created.second() as u8)
                    .utc_offset_hour(0),
            ),
    );
    let page_size = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| PdfError("page size".into()))?;
    for page in &layout.pages {
        let mut page_builder = document.start_page_with(page_size.clone());
        let mut surface = page_builder.surface();
        for draw in &page.draws {
            match draw {
                Draw::Text {
                    x,
                    y,
                    size,
                    style,
                    text,
                    shaped,
                } => {
                    surface.draw_glyphs(
                        Point::from_xy(*x, *y),
                        &shaped.glyphs,
                        text::font(*style),
                        text,
                        *size,
                        false,
                    );
                }
                Draw::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    let mut path = PathBuilder::new();
                    path.move_to(*x1, *y1);
                    path.line_to(*x2, *y2);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: *width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
                Draw::Bar {
                    x,
                    y,
                    width,
                    height,
                    grey,
                    outline,
                } => {
                    if let Some(rect) = Rect::from_xywh(*x, *y, *width, *height) {
                        let mut path = PathBuilder::new();
                        path.push_rect(rect);
                        if let Some(path) = path.finish() {
                            surface.set_fill(Some(Fill {
                                paint: krilla::color::luma::Color::new(*grey).into(),
                                ..Fill::default()
                            }));
                            surface.set_stroke(outline.then(|| Stroke {
                                width: 0.5,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                            surface.set_fill(Some(Fill::default()));
                        }
                    }
                }
                Draw::Square { x, y, size, filled } => {
                    if let Some(rect) = Rect::from_xywh(*x, *y, *size, *size) {
                        let mut path = PathBuilder::new();
                        path.push_rect(rect);
                        if let Some(path) = path.finish() {
                            surface.set_fill(filled.then(Fill::default));
                            surface.set_stroke(Some(Stroke {
                                width: 0.8,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                            surface.set_fill(Some(Fill::default()));
                        }
                    }
                }
                Draw::Qr {
                    x,
                    y,
                    size,
                    count,
                    modules,
                } => {
                    // Drawn in module units under a scale, each row's runs of dark modules as
                    // one rectangle: a few hundred bytes of content instead of tens of kilobytes.
                    let cell = size / *count as f32;
                    let mut path = PathBuilder::new();
                    for (row, line) in modules.chunks(*count).enumerate() {
                        let mut column = 0;
                        while column < line.len() {
                            if !line[column] {
                                column += 1;
                                continue;
                            }
                            let start = column;
                            while column < line.len() && line[column] {
                                column += 1;
                            }
                            if let Some(rect) = Rect::from_xywh(
                                start as f32,
                                row as f32,
                                (column - start) as f32,
                                1.0,
                            ) {
                                path.push_rect(rect);
                            }
                        }
                    }
                    if let Some(path) = path.finish() {
                        surface.push_transform(&Transform::from_row(cell, 0.0, 0.0, cell, *x, *y));
                        surface.set_stroke(None);
                        surface.set_fill(Some(Fill {
                            opacity: NormalizedF32::ONE,
                            ..Fill::default()
                        }));
                        surface.draw_path(&path);
                        surface.pop();
                    }
                }
                Draw::Image {
                    x,
                    y,
                    width,
                    height,
                    data,
                    png,
                } => {
                    let bytes: krilla::Data = data.as_ref().clone().into();
                    // PDF/A forbids asking viewers to interpolate images.
                    let image = if *png {
                        Image::from_png(bytes, false)
                    } else {
                        Image::from_jpeg(bytes, false)
                    };
                    let image = image.map_err(PdfError)?;
                    let size = Size::from_wh(*width, *height)
                        .ok_or_else(|| PdfError("emblem size".into()))?;
                    surface.push_transform(&Transform::from_translate(*x, *y));
                    surface.draw_image(image, size);
                    surface.pop();
                }
            }
        }
        surface.finish();
        page_builder.finish();
    }
    document.finish().map_err(|e| PdfError(format!("{e:?}")))
}
