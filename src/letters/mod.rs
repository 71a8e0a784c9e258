//! Letters: the kinds of official letter naskah writes, and (with the letters issue) their
//! templates, rendering and storage.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_id() {
        for kind in LetterKind::ALL {
            assert_eq!(kind.id().parse::<LetterKind>(), Ok(*kind));
        }
        assert!("surat_cinta".parse::<LetterKind>().is_err());
    }
}
