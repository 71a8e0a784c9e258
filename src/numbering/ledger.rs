//! What becomes of numbers once they exist: ranges reserved for letters made outside naskah
//! and then used or voided, numbers voided with their letters, and the register's log and its
//! CSV export.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{
    IssuedNumber, NewNumber, NumberingError, Result, Secretary, check_date, insert_number,
    register, take_main_numbers, values_for,
};
use crate::audit::{self, Event};
use crate::db::schema::{issued_numbers, letters};
use crate::db::{DbConn, write_transaction};
use crate::ids::{LetterId, OfficeId, PersonId, RegisterId};

/// Reserves `count` consecutive numbers for letters made outside naskah. Each ends as used
/// (with what it was used for) or void.
pub fn reserve(
    conn: &mut DbConn,
    register: RegisterId,
    count: u32,
    date: NaiveDate,
    reason: &str,
    actor: PersonId,
    at: NaiveDateTime,
) -> Result<Vec<IssuedNumber>> {
    write_transaction(conn, |conn| {
        let register = self::register(conn, register)?;
        // Who asks first: a caller who may not reserve learns nothing of the rules.
        Secretary::check(conn, actor, register.office_id)?;
        if reason.trim().is_empty() {
            return Err(NumberingError::ReasonRequired);
        }
        if !(1..=500).contains(&count) {
            return Err(NumberingError::ReservationSize);
        }
        check_date(date, at)?;
        let pattern = register.parsed()?;
        let values = values_for(&register, None);
        let year = date.year();
        let taken = take_main_numbers(conn, &register, &pattern, &values, date, count)?;
        let mut reserved = Vec::with_capacity(taken.len());
        for (seq, number) in taken {
            let new = NewNumber {
                year,
                seq,
                sub: 0,
                number: &number,
                date,
                status: "reserved",
                letter: None,
                reason: Some(reason.trim()),
            };
            reserved.push(insert_number(conn, &register, new, actor, at)?);
        }
        audit::append_locked(
            conn,
            Event {
                actor: Some(actor),
                office: Some(register.office_id),
                action: "number.reserved",
                subject: format!("register:{}", register.id),
                detail: serde_json::json!({
                    "first": reserved.first().map(|n| &n.number),
                    "last": reserved.last().map(|n| &n.number),
                    "count": count,
                    "reason": reason.trim(),
                }),
            },
        )?;
        Ok(reserved)
    })
}

fn number_row(conn: &mut DbConn, id: i64) -> Result<IssuedNumber> {
    issued_numbers::table
        .find(id)
        .select(IssuedNumber::as_select())
        .first(conn)
        .optional()?
        .ok_or(NumberingError::NumberNotFound(id))
}

/// Marks a reserved number used, with what it was used for.
pub fn use_reserved(
    conn: &mut DbConn,
    id: i64,
    used_for: &str,
    actor: PersonId,
) -> Result<IssuedNumber> {
    if used_for.trim().is_empty() {
        return Err(NumberingError::ReasonRequired);
    }
    write_transaction(conn, |conn| {
        let number = number_row(conn, id)?;
        let register = register(conn, number.register_id)?;
        Secretary::check(conn, actor, register.office_id)?;
        if number.status != "reserved" {
            return Err(NumberingError::NotReserved {
                number: number.number,
                status: number.status,
            });
        }
        let reason = format!(
            "{} | dipakai untuk: {}",
            number.reason.clone().unwrap_or_default(),
            used_for.trim()
        );
        diesel::update(issued_numbers::table.find(id))
            .set((
                issued_numbers::status.eq("used"),
                issued_numbers::reason.eq(&reason),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(actor),
                office: Some(register.office_id),
                action: "number.used",
                subject: format!("number:{id}"),
                detail: serde_json::json!({ "number": number.number, "used_for": used_for.trim() }),
            },
        )?;
        number_row(conn, id)
    })
}

/// Voids a number, which keeps it in the log with its reason; its letter is voided with it.
pub fn void(
    conn: &mut DbConn,
    id: i64,
    reason: &str,
    actor: PersonId,
    at: NaiveDateTime,
) -> Result<IssuedNumber> {
    if reason.trim().is_empty() {
        return Err(NumberingError::ReasonRequired);
    }
    write_transaction(conn, |conn| {
        let number = number_row(conn, id)?;
        let register = register(conn, number.register_id)?;
        Secretary::check(conn, actor, register.office_id)?;
        if number.status == "void" {
            return Err(NumberingError::AlreadyVoid(number.number));
        }
        diesel::update(issued_numbers::table.find(id))
            .set((
                issued_numbers::status.eq("void"),
                issued_numbers::void_reason.eq(reason.trim()),
                issued_numbers::voided_by.eq(actor),
                issued_numbers::voided_at.eq(at),
            ))
            .execute(conn)?;
        if let Some(letter) = number.letter_id {
            mark_letter_void(conn, letter, reason, at)?;
        }
        audit::append(
            conn,
            Event {
                actor: Some(actor),
                office: Some(register.office_id),
                action: "number.voided",
                subject: format!("number:{id}"),
                detail: serde_json::json!({ "number": number.number, "letter": number.letter_id, "reason": reason.trim() }),
            },
        )?;
        number_row(conn, id)
    })
}

/// Sets `letter` void, with why and when; inside the voiding transaction.
fn mark_letter_void(
    conn: &mut DbConn,
    letter: LetterId,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(letters::table.find(letter))
        .set((
            letters::status.eq("void"),
            letters::voided_at.eq(at),
            letters::void_reason.eq(reason.trim()),
        ))
        .execute(conn)
}

/// Voids `letter` as a person of its office's secretariat: with its number, when it has one
/// (the number stays in the register, void); a draft on its own. Letters are voided, never
/// removed.
pub fn void_letter(
    conn: &mut DbConn,
    letter: LetterId,
    reason: &str,
    actor: PersonId,
    at: NaiveDateTime,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let (office, status): (OfficeId, String) = letters::table
            .find(letter)
            .select((letters::office_id, letters::status))
            .first(conn)
            .optional()?
            .ok_or(NumberingError::LetterNotFound(letter))?;
        Secretary::check(conn, actor, office)?;
        if reason.trim().is_empty() {
            return Err(NumberingError::ReasonRequired);
        }
        if status == "void" {
            return Err(NumberingError::LetterVoid(letter));
        }
        let number: Option<i64> = issued_numbers::table
            .filter(issued_numbers::letter_id.eq(letter))
            .filter(issued_numbers::status.ne("void"))
            .select(issued_numbers::id)
            .first(conn)
            .optional()?;
        if let Some(number) = number {
            void(conn, number, reason, actor, at)?;
            return Ok(());
        }
        mark_letter_void(conn, letter, reason, at)?;
        audit::append(
            conn,
            Event {
                actor: Some(actor),
                office: Some(office),
                action: "letter.voided",
                subject: format!("letter:{letter}"),
                detail: serde_json::json!({ "reason": reason.trim() }),
            },
        )?;
        Ok(())
    })
}

/// The first and last days a log period may name: the range both databases store and compare
/// as dates (chrono's own extremes are beyond PostgreSQL's and sort wrongly as SQLite text).
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

/// The log of `register` for letters dated `from` to `to` (inclusive), in number order.
pub fn log(
    conn: &mut DbConn,
    register: RegisterId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<IssuedNumber>> {
    Ok(issued_numbers::table
        .filter(issued_numbers::register_id.eq(register))
        .filter(issued_numbers::letter_date.ge(from))
        .filter(issued_numbers::letter_date.le(to))
        .order((
            issued_numbers::year,
            issued_numbers::seq,
            issued_numbers::sub,
        ))
        .select(IssuedNumber::as_select())
        .load(conn)?)
}

/// The log as CSV, one number a line, with a header.
pub fn csv(numbers: &[IssuedNumber]) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    let mut out = String::from(
        "nomor,tahun,urut,sisipan,tanggal,status,surat,keterangan,alasan_batal,diberikan_pada\r\n",
    );
    for n in numbers {
        out.push_str(
            &[
                field(&n.number),
                n.year.to_string(),
                n.seq.to_string(),
                n.sub.to_string(),
                n.letter_date.to_string(),
                n.status.clone(),
                n.letter_id.map(|l| l.to_string()).unwrap_or_default(),
                field(n.reason.as_deref().unwrap_or_default()),
                field(n.void_reason.as_deref().unwrap_or_default()),
                n.issued_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}
