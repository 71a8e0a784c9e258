//! People and their roles per office. A role is a name from the office's SOP (`sekretariat`,
//! `kepala_dinas`, …) or one of naskah's own (`admin`, `auditor`); what a role may do is decided
//! by the workflow and the web layer, not here.

use std::fmt;
use std::str::FromStr;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{people, person_roles};
use crate::ids::{OfficeId, PersonId};

/// A civil servant's number (Nomor Induk Pegawai): 18 digits made of the birth date
/// (YYYYMMDD), the month of appointment (YYYYMM), the sex (1 or 2) and a sequence (3 digits).
/// Printed in its groups: `19810721 200312 1 004`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Nip(String);

impl Nip {
    /// The 18 digits without spaces, as stored.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl FromStr for Nip {
    type Err = String;

    /// Accepts the digits with or without the customary spaces.
    fn from_str(text: &str) -> Result<Self, String> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("NIP '{text}' is not 18 digits"));
        }
        let number = |range: std::ops::Range<usize>| digits[range].parse::<u32>().unwrap_or(0);
        let birth =
            chrono::NaiveDate::from_ymd_opt(number(0..4) as i32, number(4..6), number(6..8));
        if birth.is_none() {
            return Err(format!("NIP '{text}' does not start with a birth date"));
        }
        if !(1..=12).contains(&number(12..14)) {
            return Err(format!("NIP '{text}' has no month of appointment"));
        }
        if !matches!(&digits[14..15], "1" | "2") {
            return Err(format!("NIP '{text}' has a sex digit other than 1 or 2"));
        }
        Ok(Nip(digits))
    }
}

impl fmt::Display for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(
            f,
            "{} {} {} {}",
            &d[0..8],
            &d[8..14],
            &d[14..15],
            &d[15..18]
        )
    }
}

/// A person as stored.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = people)]
pub struct Person {
    pub id: PersonId,
    pub username: String,
    /// The name with titles, as printed under a signature: "LESMANA P. KOLAB, S.Kom".
    pub full_name: String,
    /// The 18 digits, for civil servants.
    pub nip: Option<String>,
    pub nik: Option<String>,
    pub email: Option<String>,
    /// Pangkat and golongan: "Pembina Utama Muda (IV/c)".
    pub rank: Option<String>,
    /// Jabatan, as printed above a signature: "Kepala Dinas".
    pub position: Option<String>,
    /// For applicants: the agency (OPD) they write for.
    pub organization: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = people)]
pub struct NewPerson<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub nip: Option<&'a str>,
    pub nik: Option<&'a str>,
    pub email: Option<&'a str>,
    pub rank: Option<&'a str>,
    pub position: Option<&'a str>,
    pub organization: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<Person>> {
    people::table
        .filter(people::username.eq(username))
        .select(Person::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: PersonId) -> QueryResult<Person> {
    people::table
        .find(id)
        .select(Person::as_select())
        .first(conn)
}

pub fn insert(conn: &mut DbConn, person: &NewPerson<'_>) -> QueryResult<PersonId> {
    diesel::insert_into(people::table)
        .values(person)
        .returning(people::id)
        .get_result(conn)
}

/// Gives `person` the `role` in `office`; giving a role twice changes nothing.
pub fn grant_role(
    conn: &mut DbConn,
    person: PersonId,
    office: OfficeId,
    role: &str,
) -> QueryResult<()> {
    let held = person_roles::table
        .filter(person_roles::person_id.eq(person))
        .filter(person_roles::office_id.eq(office))
        .filter(person_roles::role.eq(role))
        .count()
        .get_result::<i64>(conn)?;
    if held == 0 {
        diesel::insert_into(person_roles::table)
            .values((
                person_roles::person_id.eq(person),
                person_roles::office_id.eq(office),
                person_roles::role.eq(role),
                person_roles::created_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The roles `person` holds in `office`, sorted.
pub fn roles_in(conn: &mut DbConn, person: PersonId, office: OfficeId) -> QueryResult<Vec<String>> {
    person_roles::table
        .filter(person_roles::person_id.eq(person))
        .filter(person_roles::office_id.eq(office))
        .order(person_roles::role)
        .select(person_roles::role)
        .load(conn)
}

/// The roles naskah itself gives a meaning to, in each office; the other roles (kabid, jft,
/// pemohon, …) are the office's SOP's own. Every check of these reads them from here.
pub mod roles {
    /// Keeps an office's people and roles, and hears of a break in the audit log.
    pub const ADMIN: &str = "admin";
    /// Reads everything of the office and changes nothing.
    pub const AUDITOR: &str = "auditor";
    /// Assigns numbers and keeps the registers.
    pub const SECRETARIAT: &str = "sekretariat";
    /// The office's head, as the seed SOPs name the role.
    pub const HEADS: [&str; 2] = ["kepala_dinas", "kepala_dkisp"];
}

/// The first holder of any of `roles` in `office` (the lowest id: stable from call to call).
pub fn holder(
    conn: &mut DbConn,
    office: OfficeId,
    roles: &[&str],
) -> QueryResult<Option<PersonId>> {
    person_roles::table
        .filter(person_roles::office_id.eq(office))
        .filter(person_roles::role.eq_any(roles))
        .order(person_roles::person_id)
        .select(person_roles::person_id)
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nip_prints_in_groups() -> Result<(), String> {
        let nip: Nip = "19810721 200312 1 004".parse()?;
        assert_eq!(nip.digits(), "198107212003121004");
        assert_eq!(nip.to_string(), "19810721 200312 1 004");
        Ok(())
    }

    #[test]
    fn nip_rejects_what_is_not_one() {
        for bad in [
            "1975051619950111001",   // 19 digits, as OCR gave one seed's NIP
            "19811321 200312 1 004", // month 13 of birth
            "19810721 200300 1 004", // appointment month 0
            "19810721 200312 3 004", // sex digit 3
            "1981072120031210O4",    // a letter O
        ] {
            assert!(bad.parse::<Nip>().is_err(), "{bad} was accepted");
        }
    }
}
