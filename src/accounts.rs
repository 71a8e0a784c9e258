//! Local accounts: passwords hashed with Argon2id (never stored or logged otherwise), sign-in
//! sessions whose cookie token is kept only as its SHA-256, each with a CSRF token for its
//! forms, and sign-ins counted before they are checked (`crate::attempts`): per account and
//! address (from the fifth failure in a row the account waits there, 15 minutes, doubling up
//! to a day) and per address across accounts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::attempts::{self, Attempt, Policy, Scope};
use crate::audit::{self, Event};
use crate::db::schema::{people, sessions};
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

/// Sign-ins of one account from one address: five in a row are checked, then the account
/// waits there 15 minutes, doubling with each further failure up to a day. Its official signs
/// in from another address at once: an attacker cannot lock anyone out of their own desk.
pub const ACCOUNT_POLICY: Policy = Policy {
    free: FREE_FAILURES,
    wait: Duration::minutes(15),
    doubling: true,
    longest: Duration::days(1),
    forget_after: None,
};

/// Failed sign-ins from one address, across accounts, within an hour of each other: twenty
/// are checked, then the address waits 15 minutes, doubling up to a day.
pub const ADDRESS_POLICY: Policy = Policy {
    free: 20,
    wait: Duration::minutes(15),
    doubling: true,
    longest: Duration::days(1),
    forget_after: Some(Duration::hours(1)),
};

/// Signs `username` in with `password` from `address` (the client's IP address) at `now`.
/// The attempt is counted, for the address and for the account from that address, before the
/// password is checked; an attempt that finds either waiting is not checked at all.
pub fn sign_in(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<SignIn, AccountError> {
    let username = username.trim().to_lowercase();
    let subject = attempts::sign_in_subject(&username, address);
    if let Attempt::Waiting { until } =
        attempts::reserve(conn, Scope::SignInAddress, address, &ADDRESS_POLICY, now)?
    {
        return Ok(SignIn::Waiting { until });
    }
    if let Attempt::Waiting { until } =
        attempts::reserve(conn, Scope::SignIn, &subject, &ACCOUNT_POLICY, now)?
    {
        // Not checked: the address's place is not a failure.
        attempts::give_back(conn, Scope::SignInAddress, address, &ADDRESS_POLICY)?;
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
    let Some((person, _, _)) = person.filter(|_| good) else {
        return Ok(SignIn::Wrong);
    };
    write_transaction(conn, |conn| {
        attempts::clear(conn, Scope::SignIn, &subject)?;
        attempts::give_back(conn, Scope::SignInAddress, address, &ADDRESS_POLICY)?;
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

/// The sign-in counts of `username`, one per address it was tried from, as its office's
/// admin sees them.
pub fn sign_in_counts(conn: &mut DbConn, username: &str) -> QueryResult<Vec<attempts::Count>> {
    let prefix = attempts::sign_in_subject(username, "");
    Ok(attempts::counts(conn, Scope::SignIn, &prefix)?
        .into_iter()
        .map(|count| attempts::Count {
            subject: count.subject[prefix.len()..].to_owned(),
            ..count
        })
        .collect())
}

/// Lifts every wait on `username`'s sign-ins (an admin's act); how many counts there were.
pub fn clear_sign_in_counts(conn: &mut DbConn, username: &str) -> QueryResult<usize> {
    attempts::clear_all(
        conn,
        Scope::SignIn,
        &attempts::sign_in_subject(username, ""),
    )
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
