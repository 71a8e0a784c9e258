//! Letter numbers and the agenda book. The secretariat numbers every outgoing letter before it
//! is signed, and every incoming letter gets a nomor agenda; each register counts per calendar
//! year, and a number issued twice or lost is a legal defect.
//!
//! How that holds: a number is issued in the same write transaction that records it against its
//! letter, and the counter row of the register's year is incremented first in that transaction,
//! so concurrent issuers queue on it (a row lock on PostgreSQL, the write lock on SQLite) and a
//! transaction that does not commit takes its number with it. The table's unique key on
//! (register, year, seq, sub) makes a duplicate impossible even for a bug.

pub mod agenda;
mod ledger;
pub mod pattern;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use serde::Serialize;

use crate::audit::{self, Event};
use crate::db::schema::{issued_numbers, letters, number_registers, register_counters};
use crate::db::{DbConn, write_transaction};
use crate::ids::{LetterId, OfficeId, PersonId, RegisterId};
use pattern::Pattern;

pub use ledger::{FIRST_DAY, LAST_DAY, csv, log, reserve, use_reserved, void, void_letter};

use crate::people::roles::SECRETARIAT;

/// Why numbering refused. The messages are what the secretariat reads, in Indonesian.
#[derive(Debug, thiserror::Error)]
pub enum NumberingError {
    #[error("hanya sekretariat kantor ini yang dapat memberi nomor")]
    NotSecretariat,
    #[error("buku register {0} tidak ditemukan")]
    RegisterNotFound(String),
    #[error("nomor {0} tidak ditemukan")]
    NumberNotFound(i64),
    #[error("surat {0} tidak ditemukan")]
    LetterNotFound(LetterId),
    #[error("surat {0} sudah bernomor")]
    AlreadyNumbered(LetterId),
    #[error("surat {0} sudah dibatalkan")]
    LetterVoid(LetterId),
    #[error("surat {letter} milik kantor lain")]
    OtherOffice { letter: LetterId },
    #[error("pola nomor tidak dapat dipakai: {0}")]
    Pattern(String),
    #[error(
        "tanggal {date} lebih awal dari nomor terakhir ({latest}); gunakan nomor sisipan untuk surat yang ditanggalkan mundur"
    )]
    BackDated { date: NaiveDate, latest: NaiveDate },
    #[error("nomor sisipan bertanggal {date} tidak boleh sesudah nomor terakhir ({latest})")]
    InsertAfterLatest { date: NaiveDate, latest: NaiveDate },
    #[error("belum ada nomor pada atau sebelum {0} di tahun itu untuk disisipi")]
    NothingToInsertAfter(NaiveDate),
    #[error("alasan wajib diisi")]
    ReasonRequired,
    #[error("nomor {0} sudah dibatalkan sebelumnya")]
    AlreadyVoid(String),
    #[error("nomor {number} berstatus {status}, bukan nomor cadangan")]
    NotReserved { number: String, status: String },
    #[error("jumlah nomor cadangan harus 1 sampai 500")]
    ReservationSize,
    #[error(
        "tanggal {date} tidak dapat diberi nomor: paling awal 1 Januari {earliest}, paling akhir hari ini"
    )]
    DateOutOfRange { date: NaiveDate, earliest: i32 },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub type Result<T> = std::result::Result<T, NumberingError>;

/// How many calendar years back a number may still be dated (letters recorded late).
const YEARS_BACK: i32 = 5;

/// Refuses a number dated after today (in the easternmost zone, WIT, so that no office's today
/// is refused) or more than [`YEARS_BACK`] years back: a date far in the future would hold
/// every later number of its register back, one far in the past opens a register year nobody
/// keeps.
fn check_date(date: NaiveDate, at: NaiveDateTime) -> Result<()> {
    let today = (at + chrono::Duration::hours(9)).date();
    let earliest = today.year() - YEARS_BACK;
    if date > today || date.year() < earliest {
        return Err(NumberingError::DateOutOfRange { date, earliest });
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterKind {
    /// Outgoing letters (surat keluar).
    Outgoing,
    /// The incoming-mail book (buku agenda): nomor agenda.
    Agenda,
}

impl RegisterKind {
    pub fn id(self) -> &'static str {
        match self {
            RegisterKind::Outgoing => "outgoing",
            RegisterKind::Agenda => "agenda",
        }
    }
}

/// A register as stored.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = number_registers)]
pub struct Register {
    pub id: RegisterId,
    pub office_id: OfficeId,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub pattern: String,
    /// The values of the pattern's tokens, as a JSON object: kka, unit, series.
    pub settings: String,
    pub letter_kind: Option<String>,
    pub created_at: NaiveDateTime,
}

impl Register {
    fn values(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }

    fn parsed(&self) -> Result<Pattern> {
        Pattern::parse(&self.pattern).map_err(NumberingError::Pattern)
    }
}

/// A number in a register's log.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = issued_numbers)]
pub struct IssuedNumber {
    pub id: i64,
    pub register_id: RegisterId,
    pub year: i32,
    pub seq: i32,
    pub sub: i32,
    pub number: String,
    pub letter_date: NaiveDate,
    /// issued (to a letter), reserved (for a letter made outside naskah), used, void.
    pub status: String,
    pub letter_id: Option<LetterId>,
    pub reason: Option<String>,
    pub issued_by: PersonId,
    pub issued_at: NaiveDateTime,
    pub void_reason: Option<String>,
    pub voided_by: Option<PersonId>,
    pub voided_at: Option<NaiveDateTime>,
}

/// A new register.
#[derive(Clone, Debug)]
pub struct NewRegister<'a> {
    pub office: OfficeId,
    pub code: &'a str,
    pub name: &'a str,
    pub kind: RegisterKind,
    pub pattern: &'a str,
    pub values: BTreeMap<String, String>,
    pub letter_kind: Option<&'a str>,
}

/// Creates a register after checking its pattern.
pub fn create_register(
    conn: &mut DbConn,
    new: &NewRegister<'_>,
    actor: Option<PersonId>,
) -> Result<RegisterId> {
    Pattern::parse(new.pattern).map_err(NumberingError::Pattern)?;
    let settings = serde_json::to_string(&new.values).unwrap_or_else(|_| "{}".into());
    write_transaction(conn, |conn| {
        let id: RegisterId = diesel::insert_into(number_registers::table)
            .values((
                number_registers::office_id.eq(new.office),
                number_registers::code.eq(new.code),
                number_registers::name.eq(new.name),
                number_registers::kind.eq(new.kind.id()),
                number_registers::pattern.eq(new.pattern),
                number_registers::settings.eq(&settings),
                number_registers::letter_kind.eq(new.letter_kind),
                number_registers::created_at.eq(crate::db::now()),
            ))
            .returning(number_registers::id)
            .get_result(conn)?;
        audit::append(
            conn,
            Event {
                actor,
                office: Some(new.office),
                action: "register.created",
                subject: format!("register:{id}"),
                detail: serde_json::json!({ "code": new.code, "pattern": new.pattern, "values": new.values }),
            },
        )?;
        Ok(id)
    })
}

pub fn register(conn: &mut DbConn, id: RegisterId) -> Result<Register> {
    number_registers::table
        .find(id)
        .select(Register::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| NumberingError::RegisterNotFound(id.to_string()))
}

pub fn register_by_code(conn: &mut DbConn, office: OfficeId, code: &str) -> Result<Register> {
    number_registers::table
        .filter(number_registers::office_id.eq(office))
        .filter(number_registers::code.eq(code))
        .select(Register::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| NumberingError::RegisterNotFound(code.to_owned()))
}

pub fn registers(conn: &mut DbConn, office: OfficeId) -> Result<Vec<Register>> {
    Ok(number_registers::table
        .filter(number_registers::office_id.eq(office))
        .order(number_registers::code)
        .select(Register::as_select())
        .load(conn)?)
}

#[derive(QueryableByName)]
struct Counter {
    #[diesel(sql_type = Integer)]
    last_seq: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    last_date: Option<NaiveDate>,
}

/// Takes `count` sequence numbers of `register` in `year`; returns the last of them and the date
/// of the latest main number before them. The upsert locks the counter row until the
/// transaction ends, so concurrent issuers queue here, and everything after it must be short.
fn next_seq(
    conn: &mut DbConn,
    register: &Register,
    year: i32,
    count: i32,
) -> Result<(i32, Option<NaiveDate>)> {
    const UPSERT: &str = "INSERT INTO register_counters (register_id, year, last_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (register_id, year) DO UPDATE SET last_seq = register_counters.last_seq + $3 \
         RETURNING last_seq, last_date";
    // On PostgreSQL the same statement then takes the lock of the office's audit chain, which every number's
    // audit entry needs: one round trip less while the register's issuers queue. Counter
    // first, audit second, as every numbering transaction takes them, so no two wait on
    // each other. (SQLite's write lock already serialises the whole transaction.)
    const UPSERT_AND_LOCK: &str = "WITH counter AS (INSERT INTO register_counters (register_id, year, last_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (register_id, year) DO UPDATE SET last_seq = register_counters.last_seq + $3 \
         RETURNING last_seq, last_date) \
         SELECT last_seq, last_date, pg_advisory_xact_lock($4) IS NOT NULL AS locked FROM counter";
    let counter: Counter = match conn {
        DbConn::Pg(pg) => diesel::sql_query(UPSERT_AND_LOCK)
            .bind::<BigInt, _>(register.id.0)
            .bind::<Integer, _>(year)
            .bind::<Integer, _>(count)
            .bind::<BigInt, _>(crate::db::lock_keys::audit_chain(audit::chain_of(Some(
                register.office_id,
            ))))
            .get_result(pg)?,
        DbConn::Sqlite(sqlite) => diesel::sql_query(UPSERT)
            .bind::<BigInt, _>(register.id.0)
            .bind::<Integer, _>(year)
            .bind::<Integer, _>(count)
            .get_result(sqlite)?,
    };
    Ok((counter.last_seq, counter.last_date))
}

/// Takes the next `count` main numbers of `register` for letters dated `date`, formatted. From
/// the counter upsert on, issuers of the register queue behind the caller until it commits, so
/// what the caller does after this is kept to a few statements.
fn take_main_numbers(
    conn: &mut DbConn,
    register: &Register,
    pattern: &Pattern,
    values: &BTreeMap<String, String>,
    date: NaiveDate,
    count: u32,
) -> Result<Vec<(i32, String)>> {
    let year = date.year();
    let (last, latest) = next_seq(conn, register, year, count as i32)?;
    advance_date(conn, register.id, year, date, latest)?;
    (last - count as i32 + 1..=last)
        .map(|seq| {
            let number = pattern
                .format(seq as u32, 0, date, values)
                .map_err(NumberingError::Pattern)?;
            Ok((seq, number))
        })
        .collect()
}

/// Refuses a main number dated before the latest one, then records `date` as the latest.
fn advance_date(
    conn: &mut DbConn,
    register: RegisterId,
    year: i32,
    date: NaiveDate,
    latest: Option<NaiveDate>,
) -> Result<()> {
    match latest {
        Some(latest) if date < latest => Err(NumberingError::BackDated { date, latest }),
        Some(latest) if date == latest => Ok(()),
        _ => {
            diesel::update(
                register_counters::table
                    .filter(register_counters::register_id.eq(register))
                    .filter(register_counters::year.eq(year)),
            )
            .set(register_counters::last_date.eq(date))
            .execute(conn)?;
            Ok(())
        }
    }
}

/// The token values for a number: the register's, then the letter's classification code and
/// sifat.
fn values_for(
    register: &Register,
    letter: Option<(&Option<String>, &str)>,
) -> BTreeMap<String, String> {
    let mut values = register.values();
    if let Some((classification, sifat)) = letter {
        if let Some(code) = classification.as_ref().filter(|c| !c.trim().is_empty()) {
            values.insert("kka".into(), code.clone());
        }
        if let Some(code) = pattern::sifat_code(sifat) {
            values
                .entry("sifat_code".into())
                .or_insert_with(|| code.to_owned());
        }
    }
    values
}

/// A row of the log, about to be written.
struct NewNumber<'a> {
    year: i32,
    seq: i32,
    sub: i32,
    number: &'a str,
    date: NaiveDate,
    status: &'a str,
    letter: Option<LetterId>,
    reason: Option<&'a str>,
}

fn insert_number(
    conn: &mut DbConn,
    register: &Register,
    new: NewNumber<'_>,
    actor: PersonId,
    at: NaiveDateTime,
) -> Result<IssuedNumber> {
    let id: i64 = diesel::insert_into(issued_numbers::table)
        .values((
            issued_numbers::register_id.eq(register.id),
            issued_numbers::year.eq(new.year),
            issued_numbers::seq.eq(new.seq),
            issued_numbers::sub.eq(new.sub),
            issued_numbers::number.eq(new.number),
            issued_numbers::letter_date.eq(new.date),
            issued_numbers::status.eq(new.status),
            issued_numbers::letter_id.eq(new.letter),
            issued_numbers::reason.eq(new.reason),
            issued_numbers::issued_by.eq(actor),
            issued_numbers::issued_at.eq(at),
        ))
        .returning(issued_numbers::id)
        .get_result(conn)?;
    Ok(IssuedNumber {
        id,
        register_id: register.id,
        year: new.year,
        seq: new.seq,
        sub: new.sub,
        number: new.number.to_owned(),
        letter_date: new.date,
        status: new.status.to_owned(),
        letter_id: new.letter,
        reason: new.reason.map(str::to_owned),
        issued_by: actor,
        issued_at: at,
        void_reason: None,
        voided_by: None,
        voided_at: None,
    })
}

/// The date of `at` on the wall clock of `zone`: a letter written at 00:00:01 on 1 January in
/// Luwuk belongs to the new year, whatever UTC says.
pub fn local_date(at: chrono::DateTime<chrono::Utc>, zone: crate::office::TimeZone) -> NaiveDate {
    (at.naive_utc() + zone.offset()).date()
}

/// Loads `letter` for numbering: it must exist in the register's office, be neither numbered
/// nor void. Returns its classification code and sifat.
fn numberable(
    conn: &mut DbConn,
    letter: LetterId,
    office: OfficeId,
) -> Result<(Option<String>, String)> {
    let (letter_office, status, classification, sifat): (OfficeId, String, Option<String>, String) =
        letters::table
            .find(letter)
            .select((
                letters::office_id,
                letters::status,
                letters::classification_code,
                letters::sifat,
            ))
            .first(conn)
            .optional()?
            .ok_or(NumberingError::LetterNotFound(letter))?;
    if letter_office != office {
        return Err(NumberingError::OtherOffice { letter });
    }
    match status.as_str() {
        "void" => Err(NumberingError::LetterVoid(letter)),
        "draft" => Ok((classification, sifat)),
        _ => Err(NumberingError::AlreadyNumbered(letter)),
    }
}

/// Marks `letter` numbered and dated `date`, when it is a draft of `office`, and returns its
/// classification code and sifat; otherwise says why it cannot be numbered. One statement, made
/// before the counter is taken, so that the letter's row lock is not part of the time issuers
/// of the register queue for. The number itself lives in the log (`issued_numbers.letter_id`),
/// which the letter's next rendering reads; should the transaction fail, the mark goes with it.
fn claim_letter(
    conn: &mut DbConn,
    letter: LetterId,
    office: OfficeId,
    date: NaiveDate,
) -> Result<(Option<String>, String)> {
    let claimed: Option<(Option<String>, String)> = diesel::update(
        letters::table
            .find(letter)
            .filter(letters::office_id.eq(office))
            .filter(letters::status.eq("draft")),
    )
    .set((
        letters::status.eq("numbered"),
        letters::letter_date.eq(date),
    ))
    .returning((letters::classification_code, letters::sifat))
    .get_result(conn)
    .optional()?;
    match claimed {
        Some(claimed) => Ok(claimed),
        // Why not: numberable names it; a draft it finds was numbered in between.
        None => numberable(conn, letter, office).and(Err(NumberingError::AlreadyNumbered(letter))),
    }
}

/// The number and date of `letter`, when it has one that is not void.
pub fn number_of(conn: &mut DbConn, letter: LetterId) -> Result<Option<(String, NaiveDate)>> {
    Ok(issued_numbers::table
        .filter(issued_numbers::letter_id.eq(letter))
        .filter(issued_numbers::status.ne("void"))
        .select((issued_numbers::number, issued_numbers::letter_date))
        .first(conn)
        .optional()?)
}

/// Proof that a person holds the secretariat role in an office, checked once per request.
#[derive(Clone, Copy, Debug)]
pub struct Secretary {
    person: PersonId,
    office: OfficeId,
}

impl Secretary {
    /// From the roles the person holds in `office`, already read.
    pub fn from_roles(person: PersonId, office: OfficeId, roles: &[String]) -> Result<Secretary> {
        if roles.iter().any(|r| r == SECRETARIAT) {
            Ok(Secretary { person, office })
        } else {
            Err(NumberingError::NotSecretariat)
        }
    }

    pub fn check(conn: &mut DbConn, person: PersonId, office: OfficeId) -> Result<Secretary> {
        Secretary::from_roles(
            person,
            office,
            &crate::people::roles_in(conn, person, office)?,
        )
    }
}

/// Issues the next number of `register` to `letter`, dated `date`, as `actor`.
pub fn issue(
    conn: &mut DbConn,
    register: RegisterId,
    letter: LetterId,
    date: NaiveDate,
    actor: PersonId,
    at: NaiveDateTime,
) -> Result<IssuedNumber> {
    let register = self::register(conn, register)?;
    let secretary = Secretary::check(conn, actor, register.office_id)?;
    issue_as(conn, &secretary, &register, letter, date, at)
}

/// [`issue`] for a caller that has its secretary and register in hand.
pub fn issue_as(
    conn: &mut DbConn,
    secretary: &Secretary,
    register: &Register,
    letter: LetterId,
    date: NaiveDate,
    at: NaiveDateTime,
) -> Result<IssuedNumber> {
    if secretary.office != register.office_id {
        return Err(NumberingError::NotSecretariat);
    }
    let actor = secretary.person;
    check_date(date, at)?;
    write_transaction(conn, |conn| {
        let pattern = register.parsed()?;
        let (classification, sifat) = claim_letter(conn, letter, register.office_id, date)?;
        let values = values_for(register, Some((&classification, &sifat)));
        let year = date.year();
        // Everything above only reads; from here on, issuers of this register queue behind us.
        let Some((seq, number)) =
            take_main_numbers(conn, register, &pattern, &values, date, 1)?.pop()
        else {
            return Err(NumberingError::ReservationSize);
        };
        let new = NewNumber {
            year,
            seq,
            sub: 0,
            number: &number,
            date,
            status: "issued",
            letter: Some(letter),
            reason: None,
        };
        let issued = insert_number(conn, register, new, actor, at)?;
        audit::append_locked(
            conn,
            Event {
                actor: Some(actor),
                office: Some(register.office_id),
                action: "number.issued",
                subject: format!("letter:{letter}"),
                detail: serde_json::json!({ "register": register.code, "number": number, "year": year, "seq": seq }),
            },
        )?;
        Ok(issued)
    })
}

/// A back-dated insert (nomor sisipan): the next sub-number of the last number issued on or
/// before `date`, without moving the counter. Needs a reason, and is logged.
pub fn insert(
    conn: &mut DbConn,
    register: RegisterId,
    letter: LetterId,
    date: NaiveDate,
    reason: &str,
    actor: PersonId,
    at: NaiveDateTime,
) -> Result<IssuedNumber> {
    if reason.trim().is_empty() {
        return Err(NumberingError::ReasonRequired);
    }
    write_transaction(conn, |conn| {
        let register = self::register(conn, register)?;
        Secretary::check(conn, actor, register.office_id)?;
        check_date(date, at)?;
        let pattern = register.parsed()?;
        let (classification, sifat) = claim_letter(conn, letter, register.office_id, date)?;
        let year = date.year();
        // Taking the counter row's lock (adding nothing) serialises us with issuers.
        let (_, latest) = next_seq(conn, &register, year, 0)?;
        let latest = latest.ok_or(NumberingError::NothingToInsertAfter(date))?;
        if date > latest {
            return Err(NumberingError::InsertAfterLatest { date, latest });
        }
        let base: (i32, NaiveDate) = issued_numbers::table
            .filter(issued_numbers::register_id.eq(register.id))
            .filter(issued_numbers::year.eq(year))
            .filter(issued_numbers::sub.eq(0))
            .filter(issued_numbers::letter_date.le(date))
            .order(issued_numbers::seq.desc())
            .select((issued_numbers::seq, issued_numbers::letter_date))
            .first(conn)
            .optional()?
            .ok_or(NumberingError::NothingToInsertAfter(date))?;
        let last_sub: Option<i32> = issued_numbers::table
            .filter(issued_numbers::register_id.eq(register.id))
            .filter(issued_numbers::year.eq(year))
            .filter(issued_numbers::seq.eq(base.0))
            .select(diesel::dsl::max(issued_numbers::sub))
            .first(conn)?;
        let sub = last_sub.unwrap_or(0) + 1;
        let values = values_for(&register, Some((&classification, &sifat)));
        let number = pattern
            .format(base.0 as u32, sub as u32, date, &values)
            .map_err(NumberingError::Pattern)?;
        let new = NewNumber {
            year,
            seq: base.0,
            sub,
            number: &number,
            date,
            status: "issued",
            letter: Some(letter),
            reason: Some(reason.trim()),
        };
        let issued = insert_number(conn, &register, new, actor, at)?;
        audit::append_locked(
            conn,
            Event {
                actor: Some(actor),
                office: Some(register.office_id),
                action: "number.inserted",
                subject: format!("letter:{letter}"),
                detail: serde_json::json!({ "register": register.code, "number": number, "after": base.0, "sub": sub, "reason": reason.trim() }),
            },
        )?;
        Ok(issued)
    })
}
