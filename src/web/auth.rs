//! Who is calling: the person behind the request's bearer token (an integration) or behind
//! its session cookie (the browser). Handlers take a [`Caller`]; a request with neither is
//! answered 401 before the handler runs. A call that changes something with only a session
//! cookie must repeat the session's CSRF token in `X-CSRF-Token`, or it is refused 403: a
//! cookie travels with any site's request, the header only with naskah's own.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use diesel::prelude::*;

use super::AppState;
use super::error::ApiError;
use crate::db::schema::offices;
use crate::db::{DbConn, DbError};
use crate::ids::{OfficeId, PersonId};

/// The header that carries a session's CSRF token on API calls that change something.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

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
        let session = token
            .is_none()
            .then(|| super::pages::cookie(request, super::session::SESSION_COOKIE))
            .flatten();
        let csrf = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let writes = !request.method().is_safe();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ApiError::unauthenticated());
            };
            if let Some(token) = token {
                let person = state
                    .db
                    .run(move |conn| crate::tokens::person_of(conn, &token).map_err(DbError::from))
                    .await?;
                return person
                    .map(|person| Caller { person })
                    .ok_or_else(ApiError::unauthenticated);
            }
            let Some(cookie) = session else {
                return Err(ApiError::unauthenticated());
            };
            let session = super::session::open(&state, cookie)
                .await?
                .ok_or_else(ApiError::unauthenticated)?;
            if writes
                && !csrf.is_some_and(|given| crate::accounts::same_secret(&given, &session.csrf))
            {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::FORBIDDEN,
                    "csrf",
                    "permintaan dengan sesi memerlukan token CSRF sesi di header X-CSRF-Token",
                ));
            }
            Ok(Caller {
                person: session.person,
            })
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
