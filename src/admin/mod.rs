//! An office's people and their roles, as its administrators keep them: accounts made with a
//! password shown once to the admin who made it (to hand to its owner), roles granted and
//! taken back among the roles the office's SOP names plus `admin` and `auditor`, accounts
//! closed (no more sign-in, sessions ended) and reopened, passwords reset.
//!
//! An admin manages the people of their own office only; the audit log records every change
//! (never a password). An admin cannot take away their own admin role or close their own
//! account, so that an office is not left without one by mistake.

mod office;

pub use office::{
    LocalHoliday, OfficeDetails, RegisterSetup, add_holiday, create_register, holidays,
    remove_holiday, update_office,
};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::schema::{people, person_roles, sessions};
use crate::db::{DbConn, write_transaction};
use crate::ids::{OfficeId, PersonId};
use crate::workflow::{self, WorkflowError};

use crate::people::roles::{ADMIN, AUDITOR};

type Result<T> = std::result::Result<T, WorkflowError>;

/// A person of the office as the admin sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: PersonId,
    pub username: String,
    pub full_name: String,
    pub nip: Option<String>,
    pub email: Option<String>,
    pub position: Option<String>,
    pub organization: Option<String>,
    pub active: bool,
    /// Has a password to sign in with.
    pub can_sign_in: bool,
    pub roles: Vec<String>,
}

/// A new account.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub full_name: String,
    pub nip: Option<String>,
    pub email: Option<String>,
    pub position: Option<String>,
    pub organization: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The roles an admin of `office` may grant: the SOP's, then admin and auditor; each with
/// its name.
pub fn grantable(conn: &mut DbConn, office: OfficeId) -> Result<Vec<(String, String)>> {
    let (_, sop) = workflow::current_sop(conn, office)?;
    let mut roles: Vec<(String, String)> = sop
        .roles
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    roles.push((ADMIN.into(), "Administrator naskah".into()));
    roles.push((AUDITOR.into(), "Auditor (hanya membaca)".into()));
    Ok(roles)
}

/// Refuses `actor` unless they are an admin of `office`.
pub fn require_admin(conn: &mut DbConn, actor: PersonId, office: OfficeId) -> Result<()> {
    if crate::people::roles_in(conn, actor, office)?
        .iter()
        .any(|r| r == ADMIN)
    {
        Ok(())
    } else {
        Err(WorkflowError::Forbidden(
            "hanya administrator kantor ini yang mengelola akun dan peran".into(),
        ))
    }
}

/// The people holding a role in `office`, by username.
pub fn members(conn: &mut DbConn, office: OfficeId) -> Result<Vec<Member>> {
    type Row = (
        PersonId,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        Option<String>,
    );
    let rows: Vec<Row> = people::table
        .filter(
            people::id.eq_any(
                person_roles::table
                    .filter(person_roles::office_id.eq(office))
                    .select(person_roles::person_id),
            ),
        )
        .order(people::username)
        .select((
            people::id,
            people::username,
            people::full_name,
            people::nip,
            people::email,
            people::position,
            people::organization,
            people::active,
            people::password_hash,
        ))
        .load(conn)?;
    let held: Vec<(PersonId, String)> = person_roles::table
        .filter(person_roles::office_id.eq(office))
        .order(person_roles::role)
        .select((person_roles::person_id, person_roles::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, username, full_name, nip, email, position, organization, active, hash)| Member {
                roles: held
                    .iter()
                    .filter(|(p, _)| *p == id)
                    .map(|(_, r)| r.clone())
                    .collect(),
                id,
                username,
                full_name,
                nip,
                email,
                position,
                organization,
                active,
                can_sign_in: hash.is_some(),
            },
        )
        .collect())
}

/// One member of `office`; not found when they hold no role there.
pub fn member(conn: &mut DbConn, office: OfficeId, person: PersonId) -> Result<Member> {
    members(conn, office)?
        .into_iter()
        .find(|m| m.id == person)
        .ok_or_else(|| {
            WorkflowError::Invalid("orang ini tidak memegang peran di kantor ini".into())
        })
}

/// A fresh password: 16 characters of an alphabet without look-alikes (about 90 bits).
pub fn new_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    // 256 is not a multiple of the alphabet's 55: the slight bias costs under a bit.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

fn check_roles(conn: &mut DbConn, office: OfficeId, roles: &[String]) -> Result<()> {
    let grantable = grantable(conn, office)?;
    if let Some(unknown) = roles
        .iter()
        .find(|r| !grantable.iter().any(|(g, _)| g == *r))
    {
        return Err(WorkflowError::Invalid(format!(
            "'{unknown}' bukan peran di kantor ini (peran: {})",
            grantable
                .iter()
                .map(|(g, _)| g.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

fn blank_none(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Makes an account in `office` with `roles`, as `admin`; returns it and its first password,
/// which is shown once and kept nowhere in the clear.
pub fn create(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    new: &NewAccount,
    at: DateTime<Utc>,
) -> Result<(PersonId, String)> {
    let username = new.username.trim().to_lowercase();
    if username.len() < 3
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(WorkflowError::Invalid(
            "nama pengguna 3–64 karakter: huruf, angka, titik, garis bawah atau tanda hubung"
                .into(),
        ));
    }
    let full_name = new.full_name.trim();
    if full_name.is_empty() || full_name.len() > 200 {
        return Err(WorkflowError::Invalid(
            "nama lengkap harus diisi (paling banyak 200 karakter)".into(),
        ));
    }
    crate::workflow::one_line("nama lengkap", full_name)?;
    crate::workflow::one_line("jabatan", new.position.as_deref().unwrap_or_default())?;
    crate::workflow::one_line(
        "perangkat daerah",
        new.organization.as_deref().unwrap_or_default(),
    )?;
    let nip = match blank_none(&new.nip) {
        Some(text) => Some(
            text.parse::<crate::people::Nip>()
                .map_err(WorkflowError::Invalid)?
                .digits()
                .to_owned(),
        ),
        None => None,
    };
    let email = blank_none(&new.email);
    if email.is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(WorkflowError::Invalid("alamat surel tidak valid".into()));
    }
    if new.roles.is_empty() {
        return Err(WorkflowError::Invalid("pilih sedikitnya satu peran".into()));
    }
    let password = new_password()?;
    let hash = crate::accounts::hash_password(&password)
        .map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    let now = workflow::stored(at);
    write_transaction(conn, |conn| {
        require_admin(conn, admin, office)?;
        check_roles(conn, office, &new.roles)?;
        if crate::people::find_by_username(conn, &username)?.is_some() {
            return Err(WorkflowError::Invalid(format!(
                "nama pengguna '{username}' sudah dipakai"
            )));
        }
        let id = crate::people::insert(
            conn,
            &crate::people::NewPerson {
                username: &username,
                full_name,
                nip: nip.as_deref(),
                nik: None,
                email,
                rank: None,
                position: blank_none(&new.position),
                organization: blank_none(&new.organization),
                password_hash: Some(&hash),
                active: true,
                created_at: now,
            },
        )?;
        for role in &new.roles {
            crate::people::grant_role(conn, id, office, role)?;
        }
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "person.created",
                subject: format!("person:{id}"),
                detail: serde_json::json!({ "username": username, "roles": new.roles }),
            },
        )?;
        Ok((id, password))
    })
}

/// Sets what `person` holds in `office` (their roles there, all replaced) and whether their
/// account is open, as `admin`. Closing an account ends its sessions.
pub fn update(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    person: PersonId,
    roles: &[String],
    active: bool,
) -> Result<()> {
    write_transaction(conn, |conn| {
        require_admin(conn, admin, office)?;
        check_roles(conn, office, roles)?;
        let before = member(conn, office, person)?;
        if person == admin && (!roles.iter().any(|r| r == ADMIN) || !active) {
            return Err(WorkflowError::Invalid(
                "Anda tidak dapat mencabut peran administrator atau menutup akun Anda sendiri"
                    .into(),
            ));
        }
        diesel::delete(
            person_roles::table
                .filter(person_roles::person_id.eq(person))
                .filter(person_roles::office_id.eq(office)),
        )
        .execute(conn)?;
        for role in roles {
            crate::people::grant_role(conn, person, office, role)?;
        }
        if before.active != active {
            diesel::update(people::table.find(person))
                .set(people::active.eq(active))
                .execute(conn)?;
            if !active {
                diesel::delete(sessions::table.filter(sessions::person_id.eq(person)))
                    .execute(conn)?;
            }
        }
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "person.updated",
                subject: format!("person:{person}"),
                detail: serde_json::json!({
                    "roles_before": before.roles,
                    "roles": roles,
                    "active": active,
                }),
            },
        )?;
        Ok(())
    })
}

/// Gives `person` of `office` a new password, as `admin`; returns it to be shown once. Their
/// sessions end.
pub fn reset_password(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    person: PersonId,
) -> Result<String> {
    let password = new_password()?;
    let hash = crate::accounts::hash_password(&password)
        .map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    write_transaction(conn, |conn| -> Result<()> {
        require_admin(conn, admin, office)?;
        member(conn, office, person)?;
        diesel::update(people::table.find(person))
            .set(people::password_hash.eq(Some(&hash)))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::person_id.eq(person))).execute(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "person.password_set",
                subject: format!("person:{person}"),
                detail: serde_json::json!({ "by": "admin" }),
            },
        )?;
        Ok(())
    })?;
    Ok(password)
}

/// What holds a person's sign-in or signing back, as their office's admin sees it.
#[derive(Debug, Serialize)]
pub struct Waits {
    /// The account's sign-in counts, one per client address it was tried from.
    pub sign_in: Vec<crate::attempts::Count>,
    /// Wrong signing passphrases in a row, and the lock they set.
    pub passphrase: Option<crate::attempts::Count>,
}

/// The waits of `person`, a member of `office`.
pub fn waits(conn: &mut DbConn, office: OfficeId, person: PersonId) -> Result<Waits> {
    let member = member(conn, office, person)?;
    Ok(Waits {
        sign_in: crate::accounts::sign_in_counts(conn, &member.username)?,
        passphrase: crate::attempts::count(
            conn,
            crate::attempts::Scope::Passphrase,
            &crate::attempts::passphrase_subject(person),
        )?,
    })
}

/// Lifts every wait on `person`'s sign-ins and signing (an admin's act, audited); how many
/// counts there were.
pub fn clear_waits(
    conn: &mut DbConn,
    admin: PersonId,
    office: OfficeId,
    person: PersonId,
) -> Result<usize> {
    write_transaction(conn, |conn| {
        require_admin(conn, admin, office)?;
        let member = member(conn, office, person)?;
        let subject = crate::attempts::passphrase_subject(person);
        let passphrase =
            crate::attempts::count(conn, crate::attempts::Scope::Passphrase, &subject)?.is_some();
        crate::attempts::clear(conn, crate::attempts::Scope::Passphrase, &subject)?;
        let cleared = crate::accounts::clear_sign_in_counts(conn, &member.username)?
            + usize::from(passphrase);
        audit::append(
            conn,
            Event {
                actor: Some(admin),
                office: Some(office),
                action: "person.waits_cleared",
                subject: format!("person:{person}"),
                detail: serde_json::json!({ "cleared": cleared }),
            },
        )?;
        Ok(cleared)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_passwords_are_sixteen_unambiguous_characters_and_differ() {
        let a = super::new_password().expect("password");
        let b = super::new_password().expect("password");
        assert_eq!(a.chars().count(), 16);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() && !"01lIoO".contains(c))
        );
    }
}
