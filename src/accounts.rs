//! Local accounts: passwords hashed with Argon2id (never stored or logged otherwise), sign-in
//! sessions whose cookie token is kept only as its SHA-256, each with a CSRF token for its
//! forms, and failed sign-ins counted per username: from the fifth in a row the account waits,
//! 15 minutes, doubling with each further failure up to a day.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::{self, Event};
use crate::db::schema::{people, sessions, signin_failures};
use crate::db::{DbConn, write_transaction};
use crate::digest::sha256_hex;
use crate::ids::PersonId;

/// How long a session lasts.
pub const SESSION: Duration = Duration::hours(12);
/// Failed sign-ins in a row before the account waits.
pub const FREE_FAILURES: i32 = 5;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("kata sandi minimal {MIN_PASSWORD} karakter")]
    TooShort,
    #[error("kata sandi tidak dapat diolah: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

fn random_hex(bytes: usize) -> Result<String, AccountError> {
    crate::digest::random_hex(bytes).map_err(|e| AccountError::Hash(e.to_string()))
}

/// The Argon2id hash of `password` (PHC string: algorithm, parameters, salt, hash).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccountError::TooShort);
    }
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn verifies(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Sets `person`'s password; the audit log records that it was set, not what to.
pub fn set_password(
    conn: &mut DbConn,
    person: PersonId,
    password: &str,
    actor: Option<PersonId>,
) -> Result<(), AccountError> {
    let hash = hash_password(password)?;
    write_transaction(conn, |conn| {
        diesel::update(people::table.find(person))
            .set(people::password_hash.eq(&hash))
            .execute(conn)?;
        audit::append(
            conn,
            Event {
                actor,
                office: None,
                action: "person.password_set",
                subject: format!("person:{person}"),
                detail: serde_json::json!({}),
            },
        )?;
        Ok(())
    })
}

/// A signed-in session: the cookie's token (given to the browser once) and the CSRF token its
/// forms carry.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub person: PersonId,
    pub csrf: String,
}

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignIn {
    In(Session),
    /// The username or the password is wrong (which one is not said).
    Wrong,
    /// Too many failures in a row: no attempt is checked before `until`.
    Waiting {
        until: NaiveDateTime,
    },
}

/// A hash to check a password against when the username is unknown, so that an unknown name
/// takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("naskah-decoy-password").unwrap_or_default())
}

/// Signs `username` in with `password` at `now`.
pub fn sign_in(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    now: NaiveDateTime,
) -> Result<SignIn, AccountError> {
    let username = username.trim().to_lowercase();
    let failures: Option<(i32, Option<NaiveDateTime>)> = signin_failures::table
        .find(&username)
        .select((signin_failures::failures, signin_failures::locked_until))
        .first(conn)
        .optional()?;
    if let Some((_, Some(until))) = failures
        && until > now
    {
        return Ok(SignIn::Waiting { until });
    }
    let person: Option<(PersonId, Option<String>, bool)> = people::table
        .filter(people::username.eq(&username))
        .select((people::id, people::password_hash, people::active))
        .first(conn)
        .optional()?;
    let hash = person
        .as_ref()
        .and_then(|(_, hash, active)| hash.clone().filter(|_| *active));
    let good = verifies(password, hash.as_deref().unwrap_or_else(|| decoy())) && hash.is_some();
    write_transaction(conn, |conn| {
        let Some((person, _, _)) = person.filter(|_| good) else {
            let count = failures.map_or(0, |(n, _)| n) + 1;
            let wait = (count >= FREE_FAILURES).then(|| {
                let doublings = (count - FREE_FAILURES).min(7) as u32;
                now + (Duration::minutes(15) * 2i32.pow(doublings)).min(Duration::days(1))
            });
            diesel::delete(signin_failures::table.find(&username)).execute(conn)?;
            diesel::insert_into(signin_failures::table)
                .values((
                    signin_failures::username.eq(&username),
                    signin_failures::failures.eq(count),
                    signin_failures::locked_until.eq(wait),
                    signin_failures::updated_at.eq(now),
                ))
                .execute(conn)?;
            return Ok(SignIn::Wrong);
        };
        diesel::delete(signin_failures::table.find(&username)).execute(conn)?;
        let session = Session {
            token: random_hex(32)?,
            person,
            csrf: random_hex(32)?,
        };
        diesel::insert_into(sessions::table)
            .values((
                sessions::token_sha256.eq(sha256_hex(session.token.as_bytes())),
                sessions::person_id.eq(person),
                sessions::csrf.eq(&session.csrf),
                sessions::created_at.eq(now),
                sessions::expires_at.eq(now + SESSION),
            ))
            .execute(conn)?;
        Ok(SignIn::In(session))
    })
}

/// The session the cookie `token` opens, while it lasts.
pub fn session(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> QueryResult<Option<Session>> {
    let found: Option<(PersonId, String)> = sessions::table
        .filter(sessions::token_sha256.eq(sha256_hex(token.as_bytes())))
        .filter(sessions::expires_at.gt(now))
        .select((sessions::person_id, sessions::csrf))
        .first(conn)
        .optional()?;
    Ok(found.map(|(person, csrf)| Session {
        token: token.to_owned(),
        person,
        csrf,
    }))
}

/// Ends the session of `token`.
pub fn sign_out(conn: &mut DbConn, token: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_sha256.eq(sha256_hex(token.as_bytes()))))
        .execute(conn)
        .map(|_| ())
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}
