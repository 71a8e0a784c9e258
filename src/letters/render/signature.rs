//! The signature block: each signer's position, name and NIP, and the mark of an electronic
//! signature (its QR code and the issuer's words) or the space for a wet one.

use serde_json::Value;

use super::{Electronic, QR_SIZE, field, optional, plain, qr_draw};
use crate::letters::layout::{self, BODY_SIZE, Draw, LINE, Layout, LineAlign, Word};
use crate::letters::template::{FieldError, SignatureStyle};
use crate::letters::text::{self, Style};
use crate::xml::Position;

/// The person signing, from the data's `signers` list.
pub(super) struct Signer {
    pub(super) position: String,
    pub(super) name: String,
    rank: Option<String>,
    pub(super) nip: Option<String>,
}

impl Signer {
    pub(super) fn from_data(
        data: &Value,
        index: usize,
        position: Position,
    ) -> Result<Signer, FieldError> {
        let key = |k: &str| format!("signers.{index}.{k}");
        let nip = match optional(data, &key("nip")) {
            Some(_) => Some(field(data, &format!("{}:nip", key("nip")), position)?),
            None => None,
        };
        Ok(Signer {
            position: field(data, &key("position"), position)?,
            name: field(data, &key("name"), position)?,
            rank: optional(data, &key("rank")),
            nip,
        })
    }
}

impl Signer {
    /// What stands between jabatan and name: the QR code of an electronic signature, or, for a
    /// manual block or a signer without a NIP (who holds no certificate and signs the printed
    /// copy), space for ink.
    pub(super) fn mark<'a>(&self, style: SignatureStyle, electronic: &'a Electronic) -> Mark<'a> {
        match (style, &self.nip) {
            (SignatureStyle::Electronic, Some(_)) => Mark::Qr(&electronic.verification_url),
            _ => Mark::Space,
        }
    }
}

/// Whether signer `index` of `data` can sign electronically: their block has a NIP.
pub(super) fn signs_electronically(data: &Value, index: usize) -> bool {
    optional(data, &format!("signers.{index}.nip")).is_some()
}

pub(super) enum Mark<'a> {
    Qr(&'a str),
    Space,
}

/// A signature block's lines: label, position, the mark, name, rank, NIP.
pub(super) struct SignatureLines {
    label: Option<Vec<Vec<Word>>>,
    position: Vec<Vec<Word>>,
    name: Vec<Vec<Word>>,
    rank: Option<Vec<Vec<Word>>>,
    nip: Option<Vec<Vec<Word>>>,
}

pub(super) fn signer_lines(signer: &Signer, width: f32, label: Option<&String>) -> SignatureLines {
    let lines = |text: &str, style: Style| {
        layout::break_lines(
            layout::words(&plain(text, style), BODY_SIZE, width),
            BODY_SIZE,
            width,
            width,
        )
    };
    SignatureLines {
        label: label.map(|l| lines(l, Style::Bold)),
        position: lines(&format!("{},", signer.position), Style::Regular),
        name: lines(&signer.name, Style::Bold),
        rank: signer.rank.as_deref().map(|r| lines(r, Style::Regular)),
        nip: signer
            .nip
            .as_deref()
            .map(|n| lines(&format!("NIP. {n}"), Style::Regular)),
    }
}

impl SignatureLines {
    pub(super) fn line_count(&self) -> usize {
        self.label.as_ref().map_or(0, Vec::len)
            + self.position.len()
            + self.name.len()
            + self.rank.as_ref().map_or(0, Vec::len)
            + self.nip.as_ref().map_or(0, Vec::len)
    }

    pub(super) fn height(&self, mark: &Mark<'_>) -> f32 {
        let mark_height = match mark {
            Mark::Qr(_) => QR_SIZE + 18.0,
            Mark::Space => 60.0,
        };
        self.line_count() as f32 * LINE + mark_height
    }

    pub(super) fn draw(&self, out: &mut Layout, x: f32, width: f32, mark: &Mark<'_>) {
        let lines = |out: &mut Layout, lines: &[Vec<Word>]| {
            for line in lines {
                out.line(line, x, width, BODY_SIZE, LineAlign::Center);
                out.y += LINE;
            }
        };
        if let Some(label) = &self.label {
            lines(out, label);
        }
        lines(out, &self.position);
        match mark {
            Mark::Qr(url) => {
                out.y += 4.0;
                if let Some(qr) = qr_draw(url, x + (width - QR_SIZE) / 2.0, out.y, QR_SIZE) {
                    out.draw(qr);
                }
                out.y += QR_SIZE + 2.0;
                let note = "Ditandatangani secara elektronik";
                let w = text::width(Style::Regular, note, 8.0);
                out.draw(layout::text_at(
                    x + (width - w) / 2.0,
                    out.y + 8.0,
                    8.0,
                    Style::Regular,
                    note,
                ));
                out.y += 12.0;
            }
            Mark::Space => out.y += 60.0,
        }
        let name_top = out.y;
        lines(out, &self.name);
        // The name is underlined, as signature blocks print it.
        if let Some(first) = self.name.first() {
            let space = text::width(Style::Bold, " ", BODY_SIZE);
            let w: f32 = first.iter().map(|w| w.width(BODY_SIZE)).sum::<f32>()
                + space * first.len().saturating_sub(1) as f32;
            let y = name_top + BODY_SIZE + 1.5;
            out.draw(Draw::Line {
                x1: x + (width - w) / 2.0,
                y1: y,
                x2: x + (width + w) / 2.0,
                y2: y,
                width: 0.7,
            });
        }
        if let Some(rank) = &self.rank {
            lines(out, rank);
        }
        if let Some(nip) = &self.nip {
            lines(out, nip);
        }
    }
}
