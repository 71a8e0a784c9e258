//! What an office's admin sets of the office itself: its own holidays beside the national
//! ones, what its letterhead prints, and its number registers.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Result, blank_none, require_admin};
use crate::audit::{self, Event};
use crate::db::{DbConn, write_transaction};
use crate::ids::{OfficeId, PersonId};
use crate::people::roles::ADMIN;
use crate::workflow::WorkflowError;

/// A holiday of the office's own (cuti bersama daerah, a local day off), beside the national
/// ones every office keeps.
#[derive(Debug, Clone, Serialize)]
pub struct LocalHoliday {
    pub id: i64,
    pub day: chrono::NaiveDate,
    pub name: String,
}

/// The office's own holidays from `from` on, by day.
pub fn holidays(
    conn: &mut DbConn,
    office: OfficeId,
    from: chrono::NaiveDate,
) -> Result<Vec<LocalHoliday>> {
    use crate::db::schema::office_holidays;
    Ok(office_holidays::table
        .filter(office_holidays::office_id.eq(office))
        .filter(office_holidays::day.ge(from))
        .order(office_holidays::day)
        .select((
            office_holidays::id,
            office_holidays::day,
            office_holidays::name,
        ))
        .load::<(i64, chrono::NaiveDate, String)>(conn)?
        .into_iter()
        .map(|(id, day, name)| LocalHoliday { id, day, name })
        .collect())
}

/// Adds a holiday of the office's own, as `admin`. Deadlines set from now on skip it; those
/// already set stay as they were.
pub fn add_holiday(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    day: chrono::NaiveDate,
    name: &str,
) -> Result<i64> {
    use crate::db::schema::office_holidays;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(WorkflowError::Invalid(
            "nama hari libur harus diisi (paling banyak 200 karakter)".into(),
        ));
    }
    crate::workflow::one_line("nama hari libur", name)?;
    write_transaction(conn, |conn| {
        require_admin(conn, admin, office)?;
        let taken: i64 = office_holidays::table
            .filter(office_holidays::office_id.eq(office))
            .filter(office_holidays::day.eq(day))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(WorkflowError::Invalid(format!(
                "{} sudah tercatat sebagai hari libur kantor ini",
                day.format("%d-%m-%Y")
            )));
        }
        let id: i64 = diesel::insert_into(office_holidays::table)
            .values((
                office_holidays::office_id.eq(office),
                office_holidays::day.eq(day),
                office_holidays::name.eq(name),
            ))
            .returning(office_holidays::id)
            .get_result(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "calendar.holiday_added",
                subject: format!("office:{office}"),
                detail: serde_json::json!({ "day": day, "name": name }),
            },
        )?;
        Ok(id)
    })
}

/// Removes a holiday of the office's own, as `admin`.
pub fn remove_holiday(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    holiday: i64,
) -> Result<()> {
    use crate::db::schema::office_holidays;
    write_transaction(conn, |conn| {
        require_admin(conn, admin, office)?;
        let found: Option<(chrono::NaiveDate, String)> = office_holidays::table
            .filter(office_holidays::id.eq(holiday))
            .filter(office_holidays::office_id.eq(office))
            .select((office_holidays::day, office_holidays::name))
            .first(conn)
            .optional()?;
        let Some((day, name)) = found else {
            return Err(WorkflowError::Invalid(
                "hari libur itu tidak tercatat di kantor ini".into(),
            ));
        };
        diesel::delete(office_holidays::table.find(holiday)).execute(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "calendar.holiday_removed",
                subject: format!("office:{office}"),
                detail: serde_json::json!({ "day": day, "name": name }),
            },
        )?;
        Ok(())
    })
}

/// What an office's letterhead prints, as its admin edits it. The code (in addresses) and the
/// time zone (in every date and number) stay as the office was set up.
#[derive(Debug, Clone, Deserialize)]
pub struct OfficeDetails {
    pub government: String,
    pub name: String,
    pub unit: Option<String>,
    pub address: String,
    pub city: String,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
}

/// Sets the office's letterhead details, as `admin`: letters made afterwards print them;
/// letters made before keep theirs.
pub fn update_office(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    details: &OfficeDetails,
) -> Result<()> {
    use crate::db::schema::offices;
    let line = |label: &str, text: &str| -> Result<String> {
        let text = text.trim();
        if text.is_empty() || text.len() > 300 || text.contains(char::is_control) {
            Err(WorkflowError::Invalid(format!(
                "{label} harus diisi, satu baris, paling banyak 300 karakter"
            )))
        } else {
            Ok(text.to_owned())
        }
    };
    let optional = |label: &str, text: &Option<String>| -> Result<Option<String>> {
        match blank_none(text) {
            Some(t) => line(label, t).map(Some),
            None => Ok(None),
        }
    };
    let government = line("Pemerintah daerah", &details.government)?;
    let name = line("Nama kantor", &details.name)?;
    let address = line("Alamat", &details.address)?;
    let city = line("Kota", &details.city)?;
    let unit = optional("Unit", &details.unit)?;
    let postal_code = optional("Kode pos", &details.postal_code)?;
    let phone = optional("Telepon", &details.phone)?;
    let website = optional("Situs web", &details.website)?;
    let email = optional("Surel", &details.email)?;
    write_transaction(conn, |conn| {
        require_admin(conn, admin, office)?;
        let before = crate::office::find(conn, office)?;
        diesel::update(offices::table.find(office))
            .set((
                offices::government.eq(&government),
                offices::name.eq(&name),
                offices::unit.eq(&unit),
                offices::address.eq(&address),
                offices::city.eq(&city),
                offices::postal_code.eq(&postal_code),
                offices::phone.eq(&phone),
                offices::website.eq(&website),
                offices::email.eq(&email),
            ))
            .execute(conn)?;
        // The letterhead must still be printable.
        let after = crate::office::find(conn, office)?;
        crate::letters::letterhead_of(&after)
            .map_err(|e| WorkflowError::Invalid(format!("kop surat tidak dapat dibuat: {e}")))?;
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "office.updated",
                subject: format!("office:{office}"),
                detail: serde_json::json!({
                    "before": { "government": before.government, "name": before.name,
                                "unit": before.unit, "address": before.address,
                                "city": before.city },
                    "after": { "government": government, "name": name, "unit": unit,
                               "address": address, "city": city },
                }),
            },
        )?;
        Ok(())
    })
}

/// A new number register, as the office's admin or secretariat sets it up.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisterSetup {
    pub code: String,
    pub name: String,
    /// `outgoing` (surat keluar) or `agenda` (the incoming-mail book).
    pub kind: String,
    /// `{kka}/{seq}/{unit}/{year}` and the like (`naskah number preview` documents them).
    pub pattern: String,
    /// The register's values for the pattern's value tokens: kka, unit, series.
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, String>,
    /// The kind of letter it numbers; every kind when none.
    pub letter_kind: Option<String>,
}

/// Sets up a number register in `office`, as `actor` (its admin or secretariat); returns it
/// and its first number as it would read today (`sifat_code` B when the pattern has it).
pub fn create_register(
    conn: &mut DbConn,
    actor: PersonId,
    office: OfficeId,
    setup: &RegisterSetup,
) -> Result<(crate::ids::RegisterId, String)> {
    use crate::numbering::{self, RegisterKind, pattern::Pattern};
    let roles = crate::people::roles_in(conn, actor, office)?;
    if !roles
        .iter()
        .any(|r| r == ADMIN || r == crate::people::roles::SECRETARIAT)
    {
        return Err(WorkflowError::Forbidden(
            "register disiapkan oleh administrator atau sekretariat kantor ini".into(),
        ));
    }
    let code = setup.code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
    {
        return Err(WorkflowError::Invalid(
            "kode register 1–32 huruf kecil, angka, garis bawah atau tanda hubung".into(),
        ));
    }
    let name = setup.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(WorkflowError::Invalid("nama register harus diisi".into()));
    }
    let kind = match setup.kind.as_str() {
        "outgoing" => RegisterKind::Outgoing,
        "agenda" => RegisterKind::Agenda,
        other => {
            return Err(WorkflowError::Invalid(format!(
                "'{other}' bukan jenis register (outgoing atau agenda)"
            )));
        }
    };
    let letter_kind = match blank_none(&setup.letter_kind) {
        Some(id) => Some(
            id.parse::<crate::letters::LetterKind>()
                .map_err(|_| WorkflowError::Invalid(format!("'{id}' bukan jenis surat")))?
                .id(),
        ),
        None => None,
    };
    let values: std::collections::BTreeMap<String, String> = setup
        .values
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    if let Some(unknown) = values
        .keys()
        .find(|k| !["kka", "unit", "series"].contains(&k.as_str()))
    {
        return Err(WorkflowError::Invalid(format!(
            "'{unknown}' bukan isian register (kka, unit, series)"
        )));
    }
    let pattern = Pattern::parse(setup.pattern.trim())
        .map_err(|e| WorkflowError::Invalid(format!("pola nomor tidak dapat dipakai: {e}")))?;
    let today = (crate::db::now() + crate::office::find(conn, office)?.zone().offset()).date();
    let mut with_sifat = values.clone();
    with_sifat.insert("sifat_code".into(), "B".into());
    let example = pattern
        .format(1, 0, today, &with_sifat)
        .map_err(|e| WorkflowError::Invalid(format!("pola nomor tidak dapat dipakai: {e}")))?;
    if numbering::register_by_code(conn, office, code).is_ok() {
        return Err(WorkflowError::Invalid(format!(
            "register '{code}' sudah ada di kantor ini"
        )));
    }
    let id = numbering::create_register(
        conn,
        &numbering::NewRegister {
            office,
            code,
            name,
            kind,
            pattern: setup.pattern.trim(),
            values,
            letter_kind,
        },
        Some(actor),
    )
    .map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    Ok((id, example))
}
