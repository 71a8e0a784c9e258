//! Archive classification codes (kode klasifikasi arsip, KKA): the first part of most letter
//! numbers, and how the archive files letters. Permendagri 83/2022 sets the codes; each office
//! keeps its own list, loaded from `classification/` and edited by its secretariat, since
//! regions add the sub-codes of their own units.
//!
//! A code is three digits, optionally followed by dotted sub-codes: `500`, `500.12`,
//! `500.12.16.3`. Its ancestors are the codes it extends: `500.12.16.3` files under `500.12.16`,
//! `500.12` and `500`. Older numbering (Permendagri 78/2012) still stands on letters and in the
//! seeds, with three-digit codes whose ancestors are the tens and hundreds: `555` under `550` and
//! `500`, `067` under `060` and `000`.

use diesel::prelude::*;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::db::schema::classification_codes;
use crate::db::{DbConn, write_transaction};
use crate::ids::{OfficeId, PersonId};

/// The codes every office starts with.
pub const PERMENDAGRI_83_2022: &str = include_str!("../classification/permendagri-83-2022.txt");

/// Why a code or a list was refused; the messages are what the secretariat reads.
#[derive(Debug, thiserror::Error)]
pub enum ClassificationError {
    #[error(
        "kode klasifikasi '{0}' tidak sah: tiga angka, boleh diikuti sub-kode bertitik (contoh 500.12.6)"
    )]
    Malformed(String),
    #[error("kode klasifikasi {code} memerlukan induknya, {parent}, di daftar kantor ini")]
    NoParent { code: String, parent: String },
    #[error("kode klasifikasi {0} tidak ada di daftar kantor ini")]
    Unknown(String),
    #[error("uraian kode klasifikasi {0} wajib diisi")]
    NoTitle(String),
    #[error("baris {line}: {message}")]
    Line { line: usize, message: String },
    #[error("nasib akhir arsip '{0}' tidak dikenal: musnah, permanen atau dinilai_kembali")]
    Disposition(String),
    #[error("jumlah tahun retensi tidak boleh negatif")]
    Years,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub type Result<T> = std::result::Result<T, ClassificationError>;

/// Checks the shape of `code`: three digits, then any number of `.` and one to three digits.
pub fn check_shape(code: &str) -> Result<()> {
    let malformed = || ClassificationError::Malformed(code.to_owned());
    let mut parts = code.split('.');
    let head = parts.next().unwrap_or_default();
    if head.len() != 3 || !head.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    for part in parts {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
    }
    Ok(())
}

/// The code `code` files directly under, which an office's list must hold before it: none for
/// a top level.
fn parent(code: &str) -> Option<String> {
    ancestors(code).into_iter().next()
}

/// The codes `code` files under, nearest first. `code` must have a good shape.
pub fn ancestors(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = code.to_owned();
    while let Some(dot) = current.rfind('.') {
        current.truncate(dot);
        found.push(current.clone());
    }
    // Three digits: the tens, then the hundreds (78/2012's decimal scheme).
    let digits: Vec<u8> = current.bytes().collect();
    if digits.len() == 3 && digits[2] != b'0' {
        found.push(format!("{}{}0", digits[0] as char, digits[1] as char));
    }
    if digits.len() == 3 && digits[1] != b'0' {
        found.push(format!("{}00", digits[0] as char));
    }
    found
}

/// Parses a list: one code per line, the code, white space, its title; `#` starts a comment
/// line. Every code is checked, and none may stand twice.
pub fn parse_list(text: &str) -> Result<Vec<(String, String)>> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at_line = |message: String| ClassificationError::Line {
            line: index + 1,
            message,
        };
        let (code, title) = line
            .split_once(char::is_whitespace)
            .map(|(c, t)| (c, t.trim()))
            .ok_or_else(|| at_line(format!("'{line}' tidak punya uraian")))?;
        check_shape(code).map_err(|e| at_line(e.to_string()))?;
        if entries.iter().any(|(c, _)| c == code) {
            return Err(at_line(format!("kode {code} tertulis dua kali")));
        }
        entries.push((code.to_owned(), title.to_owned()));
    }
    Ok(entries)
}

/// A code in an office's list.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = classification_codes)]
pub struct Code {
    pub code: String,
    pub title: String,
    pub updated_at: chrono::NaiveDateTime,
    pub retired_at: Option<chrono::NaiveDateTime>,
}

/// The office's codes in code order, retired ones included (they are marked).
pub fn list(conn: &mut DbConn, office: OfficeId) -> Result<Vec<Code>> {
    let mut codes: Vec<Code> = classification_codes::table
        .filter(classification_codes::office_id.eq(office))
        .select(Code::as_select())
        .load(conn)?;
    codes.sort_by_cached_key(|c| code_order(&c.code));
    Ok(codes)
}

/// Sorts 500.2 before 500.12: numerically, segment by segment.
fn code_order(code: &str) -> Vec<u32> {
    code.split('.').filter_map(|p| p.parse().ok()).collect()
}

/// The active codes of `office` among `codes`.
fn active_among(conn: &mut DbConn, office: OfficeId, codes: &[String]) -> Result<Vec<String>> {
    Ok(classification_codes::table
        .filter(classification_codes::office_id.eq(office))
        .filter(classification_codes::code.eq_any(codes))
        .filter(classification_codes::retired_at.is_null())
        .select(classification_codes::code)
        .load(conn)?)
}

/// Checks that a letter of `office` may carry `code`: a good shape, and, once the office keeps a
/// list, the code or one of its ancestors is active in it (offices add the sub-codes of their
/// units as they need them).
pub fn check_for_letter(conn: &mut DbConn, office: OfficeId, code: &str) -> Result<()> {
    check_shape(code)?;
    let kept: i64 = classification_codes::table
        .filter(classification_codes::office_id.eq(office))
        .count()
        .get_result(conn)?;
    if kept == 0 {
        return Ok(());
    }
    let mut candidates = ancestors(code);
    candidates.push(code.to_owned());
    if active_among(conn, office, &candidates)?.is_empty() {
        return Err(ClassificationError::Unknown(code.to_owned()));
    }
    Ok(())
}

/// Adds `code` to the office's list or changes its title (and brings a retired code back).
/// A code below the top level needs its parent, active, in the list.
pub fn set(
    conn: &mut DbConn,
    office: OfficeId,
    code: &str,
    title: &str,
    actor: Option<PersonId>,
) -> Result<()> {
    check_shape(code)?;
    let title = title.trim();
    if title.is_empty() {
        return Err(ClassificationError::NoTitle(code.to_owned()));
    }
    write_transaction(conn, |conn| {
        if let Some(parent) = parent(code)
            && active_among(conn, office, std::slice::from_ref(&parent))?.is_empty()
        {
            return Err(ClassificationError::NoParent {
                code: code.to_owned(),
                parent,
            });
        }
        upsert(conn, office, code, title, actor)?;
        audit::append(
            conn,
            Event {
                actor,
                office: Some(office),
                action: "classification.set",
                subject: format!("classification:{code}"),
                detail: serde_json::json!({ "code": code, "title": title }),
            },
        )?;
        Ok(())
    })
}

/// Writes `code` with `title`, active. Inside a write transaction; the table's unique key
/// refuses a concurrent second insert of the same code.
fn upsert(
    conn: &mut DbConn,
    office: OfficeId,
    code: &str,
    title: &str,
    actor: Option<PersonId>,
) -> Result<()> {
    let now = crate::db::now();
    let updated = diesel::update(
        classification_codes::table
            .filter(classification_codes::office_id.eq(office))
            .filter(classification_codes::code.eq(code)),
    )
    .set((
        classification_codes::title.eq(title),
        classification_codes::updated_by.eq(actor),
        classification_codes::updated_at.eq(now),
        classification_codes::retired_at.eq(None::<chrono::NaiveDateTime>),
    ))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(classification_codes::table)
            .values((
                classification_codes::office_id.eq(office),
                classification_codes::code.eq(code),
                classification_codes::title.eq(title),
                classification_codes::updated_by.eq(actor),
                classification_codes::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Loads a whole list into the office (adding codes, updating titles), in one transaction:
/// every code below the top level needs its parent in the list or active in the office's.
/// Returns how many codes were written.
pub fn load(
    conn: &mut DbConn,
    office: OfficeId,
    text: &str,
    actor: Option<PersonId>,
) -> Result<usize> {
    let entries = parse_list(text)?;
    write_transaction(conn, |conn| {
        let mut known: Vec<String> = list(conn, office)?
            .into_iter()
            .filter(|c| c.retired_at.is_none())
            .map(|c| c.code)
            .collect();
        known.extend(entries.iter().map(|(c, _)| c.clone()));
        for (code, title) in &entries {
            if let Some(parent) = parent(code).filter(|p| !known.contains(p)) {
                return Err(ClassificationError::NoParent {
                    code: code.clone(),
                    parent,
                });
            }
            upsert(conn, office, code, title, actor)?;
        }
        audit::append(
            conn,
            Event {
                actor,
                office: Some(office),
                action: "classification.loaded",
                subject: format!("office:{office}"),
                detail: serde_json::json!({ "codes": entries.len() }),
            },
        )?;
        Ok(entries.len())
    })
}

/// Retires `code`: it stays on the letters filed under it, but new letters cannot use it.
pub fn retire(
    conn: &mut DbConn,
    office: OfficeId,
    code: &str,
    actor: Option<PersonId>,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            classification_codes::table
                .filter(classification_codes::office_id.eq(office))
                .filter(classification_codes::code.eq(code))
                .filter(classification_codes::retired_at.is_null()),
        )
        .set((
            classification_codes::retired_at.eq(crate::db::now()),
            classification_codes::updated_by.eq(actor),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(ClassificationError::Unknown(code.to_owned()));
        }
        audit::append(
            conn,
            Event {
                actor,
                office: Some(office),
                action: "classification.retired",
                subject: format!("classification:{code}"),
                detail: serde_json::json!({ "code": code }),
            },
        )?;
        Ok(())
    })
}

/// How long the records filed under a code are kept (jadwal retensi arsip): years active,
/// years inactive, then what follows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retention {
    /// The code the retention was set for: the letter's own, or the nearest above it.
    pub code: String,
    pub active_years: i32,
    pub inactive_years: i32,
    /// `musnah`, `permanen` or `dinilai_kembali`.
    pub disposition: String,
}

/// What may follow the inactive years.
pub const DISPOSITIONS: [&str; 3] = ["musnah", "permanen", "dinilai_kembali"];

/// Sets the retention of `code` (a code of the office's list) as `actor`; it holds for the
/// codes below it that have none of their own.
pub fn set_retention(
    conn: &mut DbConn,
    office: OfficeId,
    retention: &Retention,
    actor: Option<PersonId>,
) -> Result<()> {
    use crate::db::schema::retention_schedule;
    check_shape(&retention.code)?;
    if !DISPOSITIONS.contains(&retention.disposition.as_str()) {
        return Err(ClassificationError::Disposition(
            retention.disposition.clone(),
        ));
    }
    let years = |n: i32| u32::try_from(n).is_ok();
    if !years(retention.active_years) || !years(retention.inactive_years) {
        return Err(ClassificationError::Years);
    }
    write_transaction(conn, |conn| {
        if active_among(conn, office, std::slice::from_ref(&retention.code))?.is_empty() {
            return Err(ClassificationError::Unknown(retention.code.clone()));
        }
        let now = crate::db::now();
        let existing = retention_schedule::table
            .filter(retention_schedule::office_id.eq(office))
            .filter(retention_schedule::code.eq(&retention.code))
            .count()
            .get_result::<i64>(conn)?;
        if existing == 0 {
            diesel::insert_into(retention_schedule::table)
                .values((
                    retention_schedule::office_id.eq(office),
                    retention_schedule::code.eq(&retention.code),
                    retention_schedule::active_years.eq(retention.active_years),
                    retention_schedule::inactive_years.eq(retention.inactive_years),
                    retention_schedule::disposition.eq(&retention.disposition),
                    retention_schedule::updated_at.eq(now),
                ))
                .execute(conn)?;
        } else {
            diesel::update(
                retention_schedule::table
                    .filter(retention_schedule::office_id.eq(office))
                    .filter(retention_schedule::code.eq(&retention.code)),
            )
            .set((
                retention_schedule::active_years.eq(retention.active_years),
                retention_schedule::inactive_years.eq(retention.inactive_years),
                retention_schedule::disposition.eq(&retention.disposition),
                retention_schedule::updated_at.eq(now),
            ))
            .execute(conn)?;
        }
        audit::append(
            conn,
            Event {
                actor,
                office: Some(office),
                action: "retention.set",
                subject: format!("classification:{}", retention.code),
                detail: serde_json::to_value(retention).unwrap_or_default(),
            },
        )?;
        Ok(())
    })
}

/// The retention that holds for a letter filed under `code`: its own code's, else the
/// nearest code above it with one; `None` when the office has set none.
pub fn retention_of(conn: &mut DbConn, office: OfficeId, code: &str) -> Result<Option<Retention>> {
    use crate::db::schema::retention_schedule;
    let mut candidates = vec![code.to_owned()];
    candidates.extend(ancestors(code));
    let found: Vec<(String, i32, i32, String)> = retention_schedule::table
        .filter(retention_schedule::office_id.eq(office))
        .filter(retention_schedule::code.eq_any(&candidates))
        .select((
            retention_schedule::code,
            retention_schedule::active_years,
            retention_schedule::inactive_years,
            retention_schedule::disposition,
        ))
        .load(conn)?;
    Ok(candidates.iter().find_map(|c| {
        found.iter().find(|f| f.0 == *c).map(|f| Retention {
            code: f.0.clone(),
            active_years: f.1,
            inactive_years: f.2,
            disposition: f.3.clone(),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for good in ["000", "500", "500.12", "500.12.16.3", "067"] {
            assert!(check_shape(good).is_ok(), "{good}");
        }
        for bad in [
            "", "50", "5000", "500.", "500..1", "500.1234", "5a0", "500.12 ", "B/500",
        ] {
            assert!(check_shape(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ancestors_of_new_and_old_codes() {
        assert_eq!(ancestors("500.12.16.3"), ["500.12.16", "500.12", "500"]);
        assert_eq!(ancestors("555"), ["550", "500"]);
        assert_eq!(ancestors("067"), ["060", "000"]);
        assert_eq!(ancestors("500"), Vec::<String>::new());
        assert_eq!(ancestors("510.1"), ["510", "500"]);
    }

    #[test]
    fn the_bundled_list_parses_and_holds_the_branch_naskah_serves() {
        let entries = parse_list(PERMENDAGRI_83_2022).expect("bundled list");
        let tops: Vec<&str> = entries
            .iter()
            .map(|(c, _)| c.as_str())
            .filter(|c| parent(c).is_none())
            .collect();
        assert_eq!(
            tops,
            [
                "000", "100", "200", "300", "400", "500", "600", "700", "800", "900"
            ]
        );
        assert!(
            entries
                .iter()
                .any(|(c, t)| c == "500.12" && t == "Komunikasi dan Informatika")
        );
    }

    #[test]
    fn a_bad_list_names_its_line() {
        let error = parse_list("# list\n500 Perekonomian\n500.12\n").unwrap_err();
        assert_eq!(error.to_string(), "baris 3: '500.12' tidak punya uraian");
        let error = parse_list("500 A\n500 B\n").unwrap_err();
        assert_eq!(error.to_string(), "baris 2: kode 500 tertulis dua kali");
        let error = parse_list("50O Perekonomian\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("baris 1: kode klasifikasi '50O' tidak sah")
        );
    }
}
