//! Making a report: computed, written into its letter template as a nota dinas from the
//! signing official to the head of office, numbered in the office's outgoing register, signed,
//! and delivered to the head's inbox; all in one transaction that first claims the period in
//! `report_runs`. The claim's unique key makes each period's report exactly once: a second
//! instance's claim waits for the first to commit and then finds it taken; a failure anywhere
//! leaves nothing behind, so the period can be made again.

use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Period, annual, sla};
use crate::db::schema::{inbox, report_runs};
use crate::db::{DbConn, write_transaction};
use crate::ids::{LetterId, OfficeId, PersonId};
use crate::letters::LetterKind;
use crate::office::Office;
use crate::people::Person;

/// The reports naskah makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    Sla,
    Annual,
}

impl ReportKind {
    pub fn id(self) -> &'static str {
        match self {
            ReportKind::Sla => "sla",
            ReportKind::Annual => "annual",
        }
    }

    fn letter_kind(self) -> LetterKind {
        match self {
            ReportKind::Sla => LetterKind::LaporanSla,
            ReportKind::Annual => LetterKind::LaporanTahunan,
        }
    }
}

impl std::str::FromStr for ReportKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "sla" => Ok(ReportKind::Sla),
            "annual" => Ok(ReportKind::Annual),
            other => Err(format!("'{other}' is not sla or annual")),
        }
    }
}

/// Who signs the report, with what.
pub struct Signer<'a> {
    pub person: PersonId,
    pub passphrase: &'a str,
}

/// A report made.
#[derive(Debug, PartialEq, Eq)]
pub struct Made {
    pub letter: LetterId,
    pub number: String,
    pub head: PersonId,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the {kind} report of {period} is already made")]
    AlreadyMade { kind: &'static str, period: String },
    #[error("the office has no {0}")]
    Missing(&'static str),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

macro_rules! failed {
    ($($from:ty),+) => {$(
        impl From<$from> for ReportError {
            fn from(error: $from) -> Self {
                ReportError::Failed(error.to_string())
            }
        }
    )+};
}
failed!(
    crate::db::DbError,
    crate::letters::store::LetterError,
    crate::numbering::NumberingError,
    crate::tte::TteError,
    crate::workflow::WorkflowError,
    crate::letters::RenderError
);

/// The first person holding one of `roles` at `office`.
/// Claims the period: false when it is already claimed (on PostgreSQL, after waiting for a
/// claim in flight to commit or roll back).
fn claim(
    conn: &mut DbConn,
    office: OfficeId,
    kind: ReportKind,
    period: &str,
    made_by: &str,
    instance: &str,
) -> QueryResult<bool> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    const CLAIM: &str = "INSERT INTO report_runs (office_id, kind, period, made_by, instance, made_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (office_id, kind, period) DO NOTHING";
    let claim = diesel::sql_query(CLAIM)
        .bind::<BigInt, _>(office.0)
        .bind::<Text, _>(kind.id())
        .bind::<Text, _>(period)
        .bind::<Text, _>(made_by)
        .bind::<Text, _>(instance)
        .bind::<Timestamp, _>(crate::db::now());
    let claimed = match conn {
        DbConn::Pg(pg) => claim.execute(pg)?,
        DbConn::Sqlite(sqlite) => claim.execute(sqlite)?,
    };
    Ok(claimed == 1)
}

/// Which report to make, and who asks.
pub struct Order<'a> {
    pub office: &'a Office,
    pub kind: ReportKind,
    pub period: &'a Period,
    /// A username, or `schedule`.
    pub made_by: &'a str,
    /// The naskah instance making it.
    pub instance: &'a str,
}

/// Makes the report `order` names, signed by `signer`.
pub fn make(
    conn: &mut DbConn,
    tte: &crate::tte::Settings,
    order: &Order<'_>,
    signer: &Signer<'_>,
) -> Result<Made, ReportError> {
    let Order {
        office,
        kind,
        period,
        made_by,
        instance,
    } = *order;
    write_transaction(conn, |conn| {
        if !claim(conn, office.id, kind, &period.key, made_by, instance)? {
            return Err(ReportError::AlreadyMade {
                kind: kind.id(),
                period: period.key.clone(),
            });
        }
        let head = crate::people::holder(conn, office.id, &crate::people::roles::HEADS)?
            .ok_or(ReportError::Missing("head"))?;
        let secretary =
            crate::people::holder(conn, office.id, &[crate::people::roles::SECRETARIAT])?
                .ok_or(ReportError::Missing("secretariat"))?;
        let head_person = crate::people::find(conn, head)?;
        let official = crate::people::find(conn, signer.person)?;
        let today = (crate::db::now() + office.zone().offset()).date();

        let (report, hal) = match kind {
            ReportKind::Sla => {
                let (_, sop) = crate::workflow::current_sop(conn, office.id)?;
                let calendar = crate::calendar::for_office(conn, office.id)?;
                let figures = sla::compute(conn, office, &sop, &calendar, period)?;
                let hal = format!("Laporan SLA Layanan Hosting Periode {}", period.label());
                (figures.fields(), hal)
            }
            ReportKind::Annual => {
                let year = chrono::Datelike::year(&period.from);
                let figures = annual::compute(conn, office, year)?;
                let hal = format!("Laporan Tahunan Layanan Hosting dan Subdomain Tahun {year}");
                (figures.fields(), hal)
            }
        };
        let mut fields = header(&head_person, &official, &hal, today);
        if let (Some(into), Value::Object(more)) = (fields.as_object_mut(), report) {
            into.extend(more);
        }
        let letterhead = crate::letters::letterhead_of(office)?;
        let letter = crate::letters::store::create(
            conn,
            crate::letters::store::Owner {
                office: office.id,
                request: None,
                actor: Some(signer.person),
            },
            &letterhead,
            kind.letter_kind(),
            &fields,
            &tte.letters,
            crate::db::now(),
        )?;
        let register = crate::numbering::register_by_code(conn, office.id, "keluar")?;
        let issued = crate::numbering::issue(
            conn,
            register.id,
            letter,
            today,
            secretary,
            crate::db::now(),
        )?;
        crate::letters::store::add_numbered_revision(conn, letter, secretary, &tte.letters)?;
        crate::tte::sign_letter(
            conn,
            tte,
            letter,
            signer.person,
            signer.passphrase,
            crate::tte::Mode::Signature,
        )?;
        diesel::insert_into(inbox::table)
            .values((
                inbox::person_id.eq(head),
                inbox::kind.eq(format!("report.{}", kind.id())),
                inbox::subject.eq(format!("{hal} (nomor {})", issued.number)),
                inbox::letter_id.eq(letter),
                inbox::created_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        diesel::update(
            report_runs::table
                .filter(report_runs::office_id.eq(office.id))
                .filter(report_runs::kind.eq(kind.id()))
                .filter(report_runs::period.eq(&period.key)),
        )
        .set(report_runs::letter_id.eq(letter))
        .execute(conn)?;
        Ok(Made {
            letter,
            number: issued.number,
            head,
        })
    })
}

/// The nota dinas's header: from the official to the head of office.
fn header(head: &Person, official: &Person, hal: &str, date: chrono::NaiveDate) -> Value {
    let position = |p: &Person| p.position.clone().unwrap_or_else(|| p.full_name.clone());
    json!({
        "number": "(belum bernomor)",
        "sifat": "Biasa",
        "lampiran": "-",
        "date": date.to_string(),
        "hal": hal,
        "addressee": position(head),
        "sender": position(official),
        "signers": [{
            "position": position(official),
            "name": official.full_name,
            "rank": official.rank,
            "nip": official.nip,
        }],
    })
}
