//! Offices: the Dinas that run naskah's workflows, with the letterhead (kop surat) data every
//! letter they send is printed with, and the time zone their dates and working hours are in.

use std::fmt;
use std::str::FromStr;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::offices;
use crate::ids::OfficeId;

/// Indonesia's three time zones. None has daylight saving time, so a fixed offset is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TimeZone {
    /// Waktu Indonesia Barat, UTC+7.
    Wib,
    /// Waktu Indonesia Tengah, UTC+8.
    Wita,
    /// Waktu Indonesia Timur, UTC+9.
    Wit,
}

impl TimeZone {
    pub fn code(self) -> &'static str {
        match self {
            TimeZone::Wib => "WIB",
            TimeZone::Wita => "WITA",
            TimeZone::Wit => "WIT",
        }
    }

    /// How far the zone's wall clock is ahead of UTC. None of the three has daylight saving
    /// time, so this is the whole conversion.
    pub fn offset(self) -> chrono::Duration {
        chrono::Duration::hours(match self {
            TimeZone::Wib => 7,
            TimeZone::Wita => 8,
            TimeZone::Wit => 9,
        })
    }
}

impl FromStr for TimeZone {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "WIB" => Ok(TimeZone::Wib),
            "WITA" => Ok(TimeZone::Wita),
            "WIT" => Ok(TimeZone::Wit),
            other => Err(format!("'{other}' is not WIB, WITA or WIT")),
        }
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An office as stored.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = offices)]
pub struct Office {
    pub id: OfficeId,
    /// Short stable identifier used in URLs and on the command line, such as `banggai`.
    pub code: String,
    /// The government the office belongs to, as printed: "PEMERINTAH KABUPATEN BANGGAI".
    pub government: String,
    /// The office's name, as printed: "DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN".
    pub name: String,
    /// The division that owns the hosting service, where the letterhead names one.
    pub unit: Option<String>,
    pub address: String,
    /// The place written before a letter's date: "Luwuk, 22 September 2025".
    pub city: String,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    /// The regional emblem (an image file), printed in the letterhead when set.
    pub emblem_path: Option<String>,
    pub time_zone: String,
    pub created_at: chrono::NaiveDateTime,
}

impl Office {
    pub fn zone(&self) -> TimeZone {
        // The column's CHECK constraint admits only the three codes.
        self.time_zone.parse().unwrap_or(TimeZone::Wib)
    }
}

/// The data of a new office.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = offices)]
pub struct NewOffice<'a> {
    pub code: &'a str,
    pub government: &'a str,
    pub name: &'a str,
    pub unit: Option<&'a str>,
    pub address: &'a str,
    pub city: &'a str,
    pub postal_code: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub website: Option<&'a str>,
    pub email: Option<&'a str>,
    pub emblem_path: Option<&'a str>,
    pub time_zone: &'a str,
    pub created_at: chrono::NaiveDateTime,
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Office>> {
    offices::table
        .filter(offices::code.eq(code))
        .select(Office::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: OfficeId) -> QueryResult<Office> {
    offices::table
        .find(id)
        .select(Office::as_select())
        .first(conn)
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Office>> {
    offices::table
        .order(offices::code)
        .select(Office::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, office: &NewOffice<'_>) -> QueryResult<OfficeId> {
    diesel::insert_into(offices::table)
        .values(office)
        .returning(offices::id)
        .get_result(conn)
}

/// Creates an office, records it in the audit log (with `detail`) and gives it the
/// regulation's classification codes: how every office starts, set up by an operator or by the
/// demo. Call it inside a write transaction.
pub fn create(
    conn: &mut DbConn,
    office: &NewOffice<'_>,
    detail: serde_json::Value,
) -> Result<OfficeId, String> {
    let id = insert(conn, office).map_err(|e| e.to_string())?;
    crate::audit::append(
        conn,
        crate::audit::Event {
            actor: None,
            office: Some(id),
            action: "office.created",
            subject: format!("office:{id}"),
            detail,
        },
    )
    .map_err(|e| e.to_string())?;
    crate::classification::load(conn, id, crate::classification::PERMENDAGRI_83_2022, None)
        .map_err(|e| e.to_string())?;
    Ok(id)
}
