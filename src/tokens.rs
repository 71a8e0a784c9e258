//! API tokens: a random secret shown once when it is made; naskah keeps only its SHA-256, so a
//! copy of the database reveals no token. A request with `Authorization: Bearer TOKEN` acts as
//! the token's person.

use diesel::prelude::*;

use crate::audit::{self, Event};
use crate::db::schema::{api_tokens, people};
use crate::db::{DbConn, write_transaction};
use crate::digest::sha256_hex;
use crate::ids::PersonId;

/// The prefix that makes a naskah token recognisable in logs and secret scanners.
const PREFIX: &str = "nsk_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("random bytes could not be had: {0}")]
    Random(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Makes a token for `person`; returns it. It cannot be read back later.
pub fn create(conn: &mut DbConn, person: PersonId, name: &str) -> Result<String, TokenError> {
    let secret = crate::digest::random_hex(32).map_err(|e| TokenError::Random(e.to_string()))?;
    let token = format!("{PREFIX}{secret}");
    write_transaction(conn, |conn| {
        let id: i64 = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::person_id.eq(person),
                api_tokens::name.eq(name),
                api_tokens::token_sha256.eq(sha256_hex(token.as_bytes())),
                api_tokens::created_at.eq(crate::db::now()),
            ))
            .returning(api_tokens::id)
            .get_result(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(person),
                office: None,
                action: "token.created",
                subject: format!("token:{id}"),
                detail: serde_json::json!({ "name": name }),
            },
        )?;
        Ok(token)
    })
}

/// The active person a token belongs to, if the token is known and not revoked.
pub fn person_of(conn: &mut DbConn, token: &str) -> QueryResult<Option<PersonId>> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    api_tokens::table
        .inner_join(people::table)
        .filter(api_tokens::token_sha256.eq(sha256_hex(token.as_bytes())))
        .filter(api_tokens::revoked_at.is_null())
        .filter(people::active.eq(true))
        .select(api_tokens::person_id)
        .first(conn)
        .optional()
}
