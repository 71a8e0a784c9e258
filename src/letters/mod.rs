//! Letters: the kinds of official letter naskah writes, their templates (`letter-templates/`),
//! and their rendering into PDF/A documents.

mod chart;
pub mod indonesian;
mod layout;
mod pdf;
mod render;
pub mod store;
pub mod template;
mod text;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

pub use layout::{Placed, SignatureSpot};
pub use pdf::Info;
pub use render::{Electronic, Emblem, Letterhead};
pub use template::{FieldError, Template};

use crate::xml::Problem;

/// Declares the letter kinds once: identifier, variant, and the name a person reads.
macro_rules! letter_kinds {
    ($($variant:ident = $id:literal, $name:literal;)+) => {
        /// A kind of official letter (naskah dinas).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum LetterKind {
            $($variant,)+
        }

        impl LetterKind {
            pub const ALL: &'static [LetterKind] = &[$(LetterKind::$variant,)+];

            /// The identifier used in SOP definitions, templates, URLs and the database.
            pub fn id(self) -> &'static str {
                match self {
                    $(LetterKind::$variant => $id,)+
                }
            }

            /// The name as a person reads it, in Indonesian.
            pub fn name(self) -> &'static str {
                match self {
                    $(LetterKind::$variant => $name,)+
                }
            }
        }

        impl FromStr for LetterKind {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($id => Ok(LetterKind::$variant),)+
                    other => Err(format!("unknown letter kind '{other}'")),
                }
            }
        }
    };
}

letter_kinds! {
    SuratPermohonan = "surat_permohonan", "Surat Permohonan";
    LembarDisposisi = "lembar_disposisi", "Lembar Disposisi";
    LaporanUjiKelayakan = "laporan_uji_kelayakan", "Laporan Uji Kelayakan Aplikasi";
    LaporanAnalisisTeknis = "laporan_analisis_teknis", "Laporan Analisis Teknis";
    LaporanHasilHosting = "laporan_hasil_hosting", "Laporan Hasil Hosting";
    SuratRekomendasi = "surat_rekomendasi", "Surat Rekomendasi";
    SuratTanggapanPersetujuan = "surat_tanggapan_persetujuan", "Surat Tanggapan (Persetujuan)";
    SuratTanggapanPenolakan = "surat_tanggapan_penolakan", "Surat Tanggapan (Penolakan)";
    SuratTanggapanKelengkapan = "surat_tanggapan_kelengkapan", "Surat Tanggapan (Kelengkapan Dokumen)";
    SuratPemberitahuanHosting = "surat_pemberitahuan_hosting", "Surat Pemberitahuan Data dan Konfigurasi Hosting";
    BeritaAcaraSerahTerima = "berita_acara_serah_terima", "Berita Acara Serah Terima";
    LaporanSla = "laporan_sla", "Laporan SLA";
    LaporanTahunan = "laporan_tahunan", "Laporan Tahunan";
}

impl LetterKind {
    /// Whether the letter goes to the applicant's agency (a reply, a recommendation, a notice,
    /// the handover), as opposed to the Dinas's own working papers (dispositions, reports):
    /// the applicant is told when such a letter is signed.
    pub fn to_applicant(self) -> bool {
        matches!(
            self,
            LetterKind::SuratRekomendasi
                | LetterKind::SuratTanggapanPersetujuan
                | LetterKind::SuratTanggapanPenolakan
                | LetterKind::SuratTanggapanKelengkapan
                | LetterKind::SuratPemberitahuanHosting
                | LetterKind::BeritaAcaraSerahTerima
        )
    }
}

impl fmt::Display for LetterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How far a letter has come. A void letter counts as none of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterState {
    Draft,
    Numbered,
    Signed,
}

impl LetterState {
    pub fn id(self) -> &'static str {
        match self {
            LetterState::Draft => "draft",
            LetterState::Numbered => "numbered",
            LetterState::Signed => "signed",
        }
    }

    /// The state as a person reads it, in Indonesian.
    pub fn label(self) -> &'static str {
        match self {
            LetterState::Draft => "konsep",
            LetterState::Numbered => "bernomor",
            LetterState::Signed => "ditandatangani",
        }
    }
}

impl FromStr for LetterState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "draft" => Ok(LetterState::Draft),
            "numbered" => Ok(LetterState::Numbered),
            "signed" => Ok(LetterState::Signed),
            other => Err(format!("'{other}' is not draft, numbered or signed")),
        }
    }
}

/// Why a letter could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {file}: {problem}")]
    Template { file: String, problem: Problem },
    #[error("template {file}: {error}")]
    Field { file: String, error: FieldError },
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error("template {file}: {problem}")]
    Unreadable { file: String, problem: String },
    /// A value holds a character no letter can print (a NUL byte, an escape): refused by name
    /// rather than written into the PDF.
    #[error("isian {0} memuat karakter kendali yang tidak dapat dicetak")]
    ControlCharacter(String),
}

/// The first field of `data` (a dotted path) whose text holds a control character other than
/// a line break or a tab.
fn unprintable(data: &Value, path: &str) -> Option<String> {
    match data {
        Value::String(text) => text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
            .then(|| path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| unprintable(item, &join(path, &i.to_string()))),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(key, value)| unprintable(value, &join(path, key))),
        _ => None,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The built-in templates, one per kind.
fn builtin(kind: LetterKind) -> &'static str {
    macro_rules! templates {
        ($($variant:ident => $file:literal,)+) => {
            match kind {
                $(LetterKind::$variant => include_str!(concat!("../../letter-templates/", $file)),)+
            }
        };
    }
    templates! {
        SuratPermohonan => "surat_permohonan.xml",
        LembarDisposisi => "lembar_disposisi.xml",
        LaporanUjiKelayakan => "laporan_uji_kelayakan.xml",
        LaporanAnalisisTeknis => "laporan_analisis_teknis.xml",
        LaporanHasilHosting => "laporan_hasil_hosting.xml",
        SuratRekomendasi => "surat_rekomendasi.xml",
        SuratTanggapanPersetujuan => "surat_tanggapan_persetujuan.xml",
        SuratTanggapanPenolakan => "surat_tanggapan_penolakan.xml",
        SuratTanggapanKelengkapan => "surat_tanggapan_kelengkapan.xml",
        SuratPemberitahuanHosting => "surat_pemberitahuan_hosting.xml",
        BeritaAcaraSerahTerima => "berita_acara_serah_terima.xml",
        LaporanSla => "laporan_sla.xml",
        LaporanTahunan => "laporan_tahunan.xml",
    }
}

/// The NIPs of the letter's signers, in block order (digits only; empty when a block has none).
pub fn signer_nips(fields: &Value) -> Vec<String> {
    fields
        .get("signers")
        .and_then(Value::as_array)
        .map(|signers| {
            signers
                .iter()
                .map(|s| {
                    s.get("nip")
                        .and_then(Value::as_str)
                        .map(|nip| nip.chars().filter(char::is_ascii_digit).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Realistic data for each kind, for template authors and tests (`letter-templates/samples/`).
pub fn sample(kind: LetterKind) -> Value {
    macro_rules! samples {
        ($($variant:ident => $file:literal,)+) => {
            match kind {
                $(LetterKind::$variant => include_str!(concat!("../../letter-templates/samples/", $file)),)+
            }
        };
    }
    let text = samples! {
        SuratPermohonan => "surat_permohonan.json",
        LembarDisposisi => "lembar_disposisi.json",
        LaporanUjiKelayakan => "laporan_uji_kelayakan.json",
        LaporanAnalisisTeknis => "laporan_analisis_teknis.json",
        LaporanHasilHosting => "laporan_hasil_hosting.json",
        SuratRekomendasi => "surat_rekomendasi.json",
        SuratTanggapanPersetujuan => "surat_tanggapan_persetujuan.json",
        SuratTanggapanPenolakan => "surat_tanggapan_penolakan.json",
        SuratTanggapanKelengkapan => "surat_tanggapan_kelengkapan.json",
        SuratPemberitahuanHosting => "surat_pemberitahuan_hosting.json",
        BeritaAcaraSerahTerima => "berita_acara_serah_terima.json",
        LaporanSla => "laporan_sla.json",
        LaporanTahunan => "laporan_tahunan.json",
    };
    // The samples are compiled in and parsed by a test.
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The template of `kind`: the office's own file `DIR/KIND.xml` when `overrides` names a
/// directory that has one, the built-in template otherwise.
pub fn template(
    kind: LetterKind,
    overrides: Option<&Path>,
) -> Result<(Template, String), RenderError> {
    let own = overrides
        .map(|dir| dir.join(format!("{}.xml", kind.id())))
        .filter(|p| p.is_file());
    let (text, file) = match own {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| RenderError::Unreadable {
                file: path.display().to_string(),
                problem: e.to_string(),
            })?;
            (text, path.display().to_string())
        }
        None => (
            builtin(kind).to_owned(),
            format!("letter-templates/{}.xml", kind.id()),
        ),
    };
    let template = Template::parse(&text).map_err(|problem| RenderError::Template {
        file: file.clone(),
        problem,
    })?;
    if template.kind != kind.id() {
        return Err(RenderError::Unreadable {
            file,
            problem: format!("is the template of {}, not of {}", template.kind, kind),
        });
    }
    Ok((template, file))
}

/// The kop surat of `office`, with its emblem when it has one (a PNG or JPEG file).
pub fn letterhead_of(office: &crate::office::Office) -> Result<Letterhead, RenderError> {
    let emblem = match &office.emblem_path {
        None => None,
        Some(path) => {
            let data = std::fs::read(path).map_err(|e| RenderError::Unreadable {
                file: path.clone(),
                problem: format!("the office's emblem cannot be read: {e}"),
            })?;
            let png = data.starts_with(b"\x89PNG");
            Some(Emblem {
                data: std::sync::Arc::new(data),
                png,
            })
        }
    };
    Ok(Letterhead {
        government: office.government.clone(),
        name: office.name.clone(),
        address: office.address.clone(),
        city: office.city.clone(),
        postal_code: office.postal_code.clone(),
        phone: office.phone.clone(),
        website: office.website.clone(),
        email: office.email.clone(),
        emblem,
    })
}

/// The buku agenda: a register's log for a period, printed (`letter-templates/buku_agenda.xml`).
pub fn agenda_book(
    letterhead: &Letterhead,
    data: &Value,
    info: &Info,
) -> Result<Rendered, RenderError> {
    let file = "letter-templates/buku_agenda.xml";
    let template = Template::parse(include_str!("../../letter-templates/buku_agenda.xml"))
        .map_err(|problem| RenderError::Template {
            file: file.into(),
            problem,
        })?;
    // The book is signed by hand, so it carries no verification address.
    let electronic = Electronic {
        verification_url: String::new(),
        issuer: String::new(),
    };
    render(&template, file, data, letterhead, &electronic, info)
}

/// A rendered letter: the PDF, and where each block of the template went.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
    pub structure: Vec<Placed>,
    /// Where each signer's block stands (see [`SignatureSpot`]).
    pub signature_spots: Vec<SignatureSpot>,
}

/// Renders `template` (read from `file`) with `data` into a PDF/A-2b letter.
pub fn render(
    template: &Template,
    file: &str,
    data: &Value,
    letterhead: &Letterhead,
    electronic: &Electronic,
    info: &Info,
) -> Result<Rendered, RenderError> {
    if let Some(field) = unprintable(data, "") {
        return Err(RenderError::ControlCharacter(field));
    }
    let laid_out = render::layout(template, data, letterhead, electronic).map_err(|error| {
        RenderError::Field {
            file: file.to_owned(),
            error,
        }
    })?;
    let pdf = pdf::write(&laid_out, info)?;
    Ok(Rendered {
        pdf,
        pages: laid_out.pages.len(),
        structure: laid_out.placed,
        signature_spots: laid_out.signature_spots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_parses_and_every_sample_is_an_object() {
        for kind in LetterKind::ALL {
            let parsed = template(*kind, None);
            assert!(parsed.is_ok(), "{kind}: {:?}", parsed.err());
            assert!(sample(*kind).is_object(), "{kind}: sample");
        }
    }

    #[test]
    fn every_kind_reads_back_from_its_id() {
        for kind in LetterKind::ALL {
            assert_eq!(kind.id().parse::<LetterKind>(), Ok(*kind));
        }
        assert!("surat_cinta".parse::<LetterKind>().is_err());
    }
}
