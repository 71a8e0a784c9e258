//! Who is calling: the person behind the request's bearer token. Handlers take a [`Caller`];
//! a request without a valid token is answered 401 before the handler runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use diesel::prelude::*;

use super::AppState;
use super::error::ApiError;
use crate::db::schema::offices;
use crate::db::{DbConn, DbError};
use crate::ids::{OfficeId, PersonId};

#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub person: PersonId,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(ApiError::unauthenticated());
            };
            let person = state
                .db
                .run(move |conn| crate::tokens::person_of(conn, &token).map_err(DbError::from))
                .await?;
            person
                .map(|person| Caller { person })
                .ok_or_else(ApiError::unauthenticated)
        })
    }
}

/// The office with `code` and the caller's roles in it. An office the caller holds no role in
/// is answered "not found", as one that does not exist: its name is not the caller's to learn.
pub fn office_roles(
    conn: &mut DbConn,
    caller: PersonId,
    code: &str,
) -> Result<(OfficeId, Vec<String>), ApiError> {
    let office: OfficeId = offices::table
        .filter(offices::code.eq(code))
        .select(offices::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("kantor"))?;
    let roles = crate::people::roles_in(conn, caller, office)?;
    if roles.is_empty() {
        return Err(ApiError::not_found("kantor"));
    }
    Ok((office, roles))
}
