//! SOP definitions: the steps, actors, required documents, time standards, outputs and
//! branches of an office's hosting procedure, read from XML (`sops/*.xml`, format in
//! `sops/README.md`) and checked before use.
//!
//! Definitions are read through [`crate::xml`] rather than a serde deserializer, because every
//! problem `naskah sop check` reports carries the line and column where it is.

mod check;
mod parse;
mod show;
pub mod time;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use check::check;
pub use show::show;

use crate::letters::{LetterKind, LetterState};
use crate::xml::{Position, Problem};
use time::TimeStandard;

/// A checked SOP definition.
#[derive(Clone, Debug, Serialize)]
pub struct Sop {
    /// A stable identifier, such as `banggai-hosting`.
    pub id: String,
    pub header: Header,
    pub roles: Vec<Role>,
    pub steps: Vec<Step>,
}

/// The SOP's cover page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Header {
    pub region: String,
    pub office: String,
    pub unit: Option<String>,
    /// Nomor SOP, where the SOP has one.
    pub number: Option<String>,
    pub title: String,
    /// Dates as the SOP gives them: `YYYY-MM-DD`, or `YYYY-MM` where only the month is known.
    pub created: Option<String>,
    pub revised: Option<String>,
    pub effective: Option<String>,
    pub approved_by: Approval,
    pub legal_basis: Vec<String>,
    pub qualifications: Vec<String>,
    pub related: Vec<String>,
    pub equipment: Vec<String>,
    pub warnings: Vec<String>,
    pub records: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Approval {
    pub position: String,
    pub name: Option<String>,
    pub nip: Option<String>,
}

/// A pelaksana: a role of the SOP.
#[derive(Clone, Debug, Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// The applying agency's role: its steps are taken by the request's applicant.
    pub applicant: bool,
}

/// Something a step needs or makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    /// A letter of the request, at least in `state`.
    Letter {
        kind: LetterKind,
        state: LetterState,
    },
    /// A document the applicant attaches.
    Attachment { id: Attachment },
    /// A record the Dinas makes: a subdomain, an IP address, a hosting account, …
    Artefact { id: Artefact },
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Letter {
                kind,
                state: LetterState::Draft,
            } => write!(f, "{}", kind.name()),
            Item::Letter { kind, state } => write!(f, "{} ({})", kind.name(), state.label()),
            Item::Attachment { id } => f.write_str(id.name()),
            Item::Artefact { id } => f.write_str(id.name()),
        }
    }
}

/// Declares a closed list of identifiers with the names a person reads.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $type:ident, $what:literal { $($variant:ident = $id:literal, $name:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $type {
            $($variant,)+
        }

        impl $type {
            pub fn id(self) -> &'static str {
                match self {
                    $($type::$variant => $id,)+
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    $($type::$variant => $name,)+
                }
            }
        }

        impl FromStr for $type {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($id => Ok($type::$variant),)+
                    other => Err(format!(concat!("unknown ", $what, " '{}'"), other)),
                }
            }
        }
    };
}

vocabulary! {
    /// Documents an applicant attaches to a request.
    Attachment, "attachment" {
        ManualBook = "manual_book", "Manual book aplikasi";
        FileAplikasi = "file_aplikasi", "File aplikasi";
        SuratPenunjukanAdmin = "surat_penunjukan_admin", "Surat penunjukan pengelola/administrator aplikasi";
        PetunjukInstalasi = "petunjuk_instalasi", "Petunjuk instalasi aplikasi";
        RekomendasiTimTeknis = "rekomendasi_tim_teknis", "Rekomendasi tim teknis";
        NamaSubdomain = "nama_subdomain", "Nama subdomain yang dimohon";
    }
}

vocabulary! {
    /// Records the Dinas makes while it works on a request.
    Artefact, "artefact" {
        SuratTerpindai = "surat_terpindai", "Surat terpindai (dokumen elektronik)";
        NomorAgenda = "nomor_agenda", "Nomor agenda";
        HasilUji = "hasil_uji", "Hasil uji kelayakan aplikasi";
        EvaluasiKeamanan = "evaluasi_keamanan", "Hasil verifikasi dan evaluasi keamanan";
        DataTindakLanjut = "data_tindak_lanjut", "Data untuk tindak lanjut";
        Server = "server", "Server hosting / VPS";
        Subdomain = "subdomain", "Subdomain";
        AlamatIp = "alamat_ip", "Alamat IP";
        AkunHosting = "akun_hosting", "Akun hosting / web panel login";
        AplikasiTerpasang = "aplikasi_terpasang", "Aplikasi terpasang";
        DokumentasiInfrastruktur = "dokumentasi_infrastruktur", "Dokumentasi infrastruktur dan jaringan";
        DokumentasiAplikasi = "dokumentasi_aplikasi", "Dokumentasi aplikasi";
    }
}

/// What a decision asks, which fixes its branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    YaTidak,
    Sesuai,
    Setuju,
    Lengkap,
    Lulus,
}

impl DecisionKind {
    pub fn id(self) -> &'static str {
        match self {
            DecisionKind::YaTidak => "ya-tidak",
            DecisionKind::Sesuai => "sesuai",
            DecisionKind::Setuju => "setuju",
            DecisionKind::Lengkap => "lengkap",
            DecisionKind::Lulus => "lulus",
        }
    }

    /// The values a decision of this kind must have a branch for, each once.
    pub fn values(self) -> [&'static str; 2] {
        match self {
            DecisionKind::YaTidak => ["ya", "tidak"],
            DecisionKind::Sesuai => ["sesuai", "tidak-sesuai"],
            DecisionKind::Setuju => ["setuju", "tidak-setuju"],
            DecisionKind::Lengkap => ["lengkap", "tidak-lengkap"],
            DecisionKind::Lulus => ["lulus", "tidak-lulus"],
        }
    }
}

impl FromStr for DecisionKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        const ALL: [DecisionKind; 5] = [
            DecisionKind::YaTidak,
            DecisionKind::Sesuai,
            DecisionKind::Setuju,
            DecisionKind::Lengkap,
            DecisionKind::Lulus,
        ];
        match ALL.into_iter().find(|kind| kind.id() == text) {
            Some(kind) => Ok(kind),
            None => Err(format!(
                "unknown decision kind '{text}' (ya-tidak, sesuai, setuju, lengkap, lulus)"
            )),
        }
    }
}

/// How a request ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Finished,
    Rejected,
}

impl Outcome {
    pub fn id(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Rejected => "rejected",
        }
    }
}

/// Where a step leads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "to", rename_all = "snake_case")]
pub enum Target {
    Step(String),
    End(Outcome),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Step(no) => write!(f, "langkah {no}"),
            Target::End(Outcome::Finished) => f.write_str("selesai"),
            Target::End(Outcome::Rejected) => f.write_str("selesai (ditolak)"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Branch {
    pub value: String,
    pub label: String,
    pub to: Target,
    /// What taking this branch must produce besides the step's outputs (a rejection letter).
    pub outputs: Vec<Item>,
    #[serde(skip)]
    pub position: Position,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Route {
    Next {
        to: Target,
    },
    Decision {
        kind: DecisionKind,
        question: String,
        branches: Vec<Branch>,
        #[serde(skip)]
        position: Position,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The step's number as the SOP writes it: "1", "4a".
    pub no: String,
    /// Role ids; any one of them may take the step.
    pub actors: Vec<String>,
    pub description: String,
    /// Kelengkapan: what must exist before the step can be completed.
    pub requires: Vec<Item>,
    /// Equipment and other things the step uses that naskah does not track.
    pub uses: Vec<String>,
    pub time: TimeStandard,
    /// Outputs: what the step must have made when it is completed.
    pub outputs: Vec<Item>,
    pub route: Route,
    #[serde(skip)]
    pub position: Position,
}

impl Step {
    /// Everything the step may need or make: its requirements, its outputs and, at a decision,
    /// every branch's outputs (a document may repeat across them).
    pub fn every_item(&self) -> impl Iterator<Item = &Item> {
        let branches: &[Branch] = match &self.route {
            Route::Decision { branches, .. } => branches,
            Route::Next { .. } => &[],
        };
        self.requires
            .iter()
            .chain(&self.outputs)
            .chain(branches.iter().flat_map(|b| b.outputs.iter()))
    }
}

impl Sop {
    /// Reads and checks a definition; every problem found, in document order, or the SOP.
    pub fn from_xml(text: &str) -> Result<Sop, Vec<Problem>> {
        let (sop, mut problems) = parse::parse(text)?;
        problems.extend(check(&sop));
        problems.sort_by_key(|p| p.position);
        problems.dedup();
        if problems.is_empty() {
            Ok(sop)
        } else {
            Err(problems)
        }
    }

    pub fn step(&self, no: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.no == no)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The first step: where every request starts.
    pub fn first_step(&self) -> Option<&Step> {
        self.steps.first()
    }
}

impl Step {
    /// Every target this step can lead to.
    pub fn targets(&self) -> Vec<&Target> {
        match &self.route {
            Route::Next { to } => vec![to],
            Route::Decision { branches, .. } => branches.iter().map(|b| &b.to).collect(),
        }
    }
}
