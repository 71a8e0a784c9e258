//! The numbering API: the secretariat numbers letters (and inserts back-dated ones), reserves
//! blocks of numbers for letters made outside naskah, voids numbers, and reads a register's log
//! as JSON or CSV. Every call checks the caller's role in the office that owns the object; an
//! object of an office the caller has no role in is answered 404.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, office_roles};
use super::error::ApiError;
use crate::db::DbConn;
use crate::db::schema::{issued_numbers, letter_revisions, letters, offices};
use crate::ids::{LetterId, OfficeId, PersonId};
use crate::numbering::{self, NumberingError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/letters/{id}/number", web::post().to(number_letter))
        .route(
            "/api/v1/letters/{id}/number/insert",
            web::post().to(insert_letter),
        )
        .route(
            "/api/v1/offices/{office}/registers/{register}/reservations",
            web::post().to(reserve),
        )
        .route(
            "/api/v1/offices/{office}/registers/{register}/numbers",
            web::get().to(list),
        )
        .route("/api/v1/numbers/{id}/void", web::post().to(void))
        .route("/api/v1/letters/{id}/void", web::post().to(void_letter))
        .route("/api/v1/numbers/{id}/use", web::post().to(use_reserved));
}

impl From<NumberingError> for ApiError {
    fn from(error: NumberingError) -> Self {
        use NumberingError as E;
        let (status, code) = match &error {
            E::NotSecretariat => (StatusCode::FORBIDDEN, "forbidden"),
            E::RegisterNotFound(_)
            | E::NumberNotFound(_)
            | E::LetterNotFound(_)
            | E::OtherOffice { .. } => (StatusCode::NOT_FOUND, "not_found"),
            E::AlreadyNumbered(_)
            | E::LetterVoid(_)
            | E::AlreadyVoid(_)
            | E::NotReserved { .. } => (StatusCode::CONFLICT, "conflict"),
            E::Pattern(_)
            | E::BackDated { .. }
            | E::InsertAfterLatest { .. }
            | E::NothingToInsertAfter(_)
            | E::ReasonRequired
            | E::ReservationSize
            | E::DateOutOfRange { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            E::Database(cause) => return ApiError::internal(cause),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Refuses, as "not found", an office the caller holds no role in.
fn visible(
    conn: &mut DbConn,
    caller: PersonId,
    office: OfficeId,
    what: &str,
) -> Result<(), ApiError> {
    if crate::people::roles_in(conn, caller, office)?.is_empty() {
        Err(ApiError::not_found(what))
    } else {
        Ok(())
    }
}

/// A letter as the numbering calls need it: its office and time zone, whether it has a PDF to
/// renew, and the caller's roles in its office (none: the letter is not found). One read for
/// the letter, one for the roles: numbering is the secretariat's hot path.
struct LetterPlace {
    office: OfficeId,
    zone: crate::office::TimeZone,
    has_pdf: bool,
    roles: Vec<String>,
}

fn letter_place(
    conn: &mut DbConn,
    caller: PersonId,
    letter: LetterId,
) -> Result<LetterPlace, ApiError> {
    let (office, zone, has_pdf): (OfficeId, String, bool) = letters::table
        .inner_join(offices::table)
        .filter(letters::id.eq(letter))
        .select((
            letters::office_id,
            offices::time_zone,
            diesel::dsl::exists(
                letter_revisions::table.filter(letter_revisions::letter_id.eq(letter)),
            ),
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("surat"))?;
    let roles = crate::people::roles_in(conn, caller, office)?;
    if roles.is_empty() {
        return Err(ApiError::not_found("surat"));
    }
    Ok(LetterPlace {
        office,
        // The column's CHECK constraint admits only the three zones.
        zone: zone.parse().unwrap_or(crate::office::TimeZone::Wib),
        has_pdf,
        roles,
    })
}

/// Prints the new number into the letter's PDF. The number stands whatever happens here: a
/// failure is logged, and signing renders the letter from its stored data again.
fn renew_pdf(
    conn: &mut DbConn,
    letter: LetterId,
    actor: PersonId,
    settings: &crate::letters::store::Settings,
) {
    if let Err(error) = crate::letters::store::add_numbered_revision(conn, letter, actor, settings)
    {
        tracing::error!(%letter, %error, "the numbered letter's PDF could not be rendered");
    }
}

/// Today in the office's time zone.
pub(super) fn today(conn: &mut DbConn, office: OfficeId) -> Result<NaiveDate, ApiError> {
    let zone = crate::office::find(conn, office)?.zone();
    Ok(numbering::local_date(chrono::Utc::now(), zone))
}

#[derive(Deserialize)]
struct NumberBody {
    register: String,
    date: Option<NaiveDate>,
}

/// Numbers `letter` in its office's register `register` with `number`, then prints the number
/// into its PDF: what both numbering routes do around their own way of taking a number.
async fn number_in_register<F>(
    state: web::Data<AppState>,
    caller: PersonId,
    letter: LetterId,
    register: String,
    number: F,
) -> Result<numbering::IssuedNumber, ApiError>
where
    F: FnOnce(
            &mut DbConn,
            &LetterPlace,
            &numbering::Register,
        ) -> Result<numbering::IssuedNumber, NumberingError>
        + Send
        + 'static,
{
    let settings = state.letters.clone();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let place = letter_place(conn, caller, letter)?;
            let register = numbering::register_by_code(conn, place.office, &register)?;
            let issued = number(conn, &place, &register)?;
            if place.has_pdf {
                renew_pdf(conn, letter, caller, &settings);
            }
            Ok(issued)
        })
        .await
}

/// Numbers `letter` in the register `register` of its office as `person` (the secretariat),
/// dated `date` or today in the office's time zone.
pub async fn number(
    state: web::Data<AppState>,
    person: PersonId,
    letter: LetterId,
    register: String,
    date: Option<NaiveDate>,
) -> Result<numbering::IssuedNumber, ApiError> {
    number_in_register(
        state,
        person,
        letter,
        register,
        move |conn, place, register| {
            let secretary = numbering::Secretary::from_roles(person, place.office, &place.roles)?;
            let date =
                date.unwrap_or_else(|| numbering::local_date(chrono::Utc::now(), place.zone));
            numbering::issue_as(conn, &secretary, register, letter, date, crate::db::now())
        },
    )
    .await
}

async fn number_letter(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<NumberBody>,
) -> Result<HttpResponse, ApiError> {
    let letter = LetterId(path.into_inner());
    let NumberBody { register, date } = body.into_inner();
    let issued = number(state, caller.person, letter, register, date).await?;
    Ok(HttpResponse::Created().json(issued))
}

#[derive(Deserialize)]
struct VoidLetterBody {
    reason: String,
}

async fn void_letter(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<VoidLetterBody>,
) -> Result<HttpResponse, ApiError> {
    let letter = LetterId(path.into_inner());
    let reason = body.into_inner().reason;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            // A letter of an office the caller holds no role in is not theirs to learn of.
            let office: Option<crate::ids::OfficeId> = {
                use diesel::prelude::*;
                crate::db::schema::letters::table
                    .find(letter)
                    .select(crate::db::schema::letters::office_id)
                    .first(conn)
                    .optional()?
            };
            let office = office.ok_or_else(|| ApiError::not_found("surat"))?;
            if crate::people::roles_in(conn, caller.person, office)?.is_empty() {
                return Err(ApiError::not_found("surat"));
            }
            Ok(numbering::void_letter(
                conn,
                letter,
                &reason,
                caller.person,
                crate::db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct InsertBody {
    register: String,
    date: NaiveDate,
    reason: String,
}

async fn insert_letter(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<InsertBody>,
) -> Result<HttpResponse, ApiError> {
    let letter = LetterId(path.into_inner());
    let InsertBody {
        register,
        date,
        reason,
    } = body.into_inner();
    let issued = number_in_register(
        state,
        caller.person,
        letter,
        register,
        move |conn, _, register| {
            numbering::insert(
                conn,
                register.id,
                letter,
                date,
                &reason,
                caller.person,
                crate::db::now(),
            )
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(issued))
}

#[derive(Deserialize)]
struct ReserveBody {
    count: u32,
    date: Option<NaiveDate>,
    reason: String,
}

async fn reserve(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<ReserveBody>,
) -> Result<HttpResponse, ApiError> {
    let (office, register) = path.into_inner();
    let body = body.into_inner();
    let reserved = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let (office, _) = office_roles(conn, caller.person, &office)?;
            let register = numbering::register_by_code(conn, office, &register)?;
            let date = match body.date {
                Some(date) => date,
                None => today(conn, office)?,
            };
            Ok(numbering::reserve(
                conn,
                register.id,
                body.count,
                date,
                &body.reason,
                caller.person,
                crate::db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(reserved))
}

#[derive(Deserialize)]
struct ListQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Option<String>,
}

/// A register's log in the form asked for.
enum Listing {
    Json(Vec<numbering::IssuedNumber>),
    Csv(String),
    Pdf(Vec<u8>),
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (office, register) = path.into_inner();
    let query = query.into_inner();
    let format = query.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "pdf") {
        return Err(ApiError::bad_request(format!(
            "format '{format}' bukan json, csv atau pdf"
        )));
    }
    let listing = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let (office, roles) = office_roles(conn, caller.person, &office)?;
            // The register holds every OPD's letters: staff read it, an applicant does not.
            if crate::workflow::applicant_only(conn, office, &roles).map_err(ApiError::internal)? {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::FORBIDDEN,
                    "forbidden",
                    "buku register hanya untuk petugas kantor",
                ));
            }
            let register = numbering::register_by_code(conn, office, &register)?;
            if format == "pdf" {
                // A printed book is of a stated period.
                let (Some(from), Some(to)) = (query.from, query.to) else {
                    return Err(ApiError::bad_request("buku agenda memerlukan from dan to"));
                };
                let pdf = numbering::agenda::pdf(conn, register.id, from, to, caller.person)
                    .map_err(ApiError::internal)?;
                return Ok(Listing::Pdf(pdf));
            }
            let from = query.from.unwrap_or(numbering::FIRST_DAY);
            let to = query.to.unwrap_or(numbering::LAST_DAY);
            let numbers = numbering::log(conn, register.id, from, to)?;
            Ok(if format == "csv" {
                Listing::Csv(numbering::csv(&numbers))
            } else {
                Listing::Json(numbers)
            })
        })
        .await?;
    Ok(match listing {
        Listing::Json(numbers) => HttpResponse::Ok().json(numbers),
        Listing::Csv(csv) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv),
        Listing::Pdf(pdf) => HttpResponse::Ok().content_type("application/pdf").body(pdf),
    })
}

/// Runs `act` on number `id` as the caller, after checking the caller holds a role in the
/// number's office, and answers with what it returns.
async fn on_number<T, F>(
    state: web::Data<AppState>,
    caller: Caller,
    id: i64,
    act: F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, PersonId) -> Result<T, NumberingError> + Send + 'static,
{
    let done = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            number_office(conn, caller.person, id)?;
            Ok(act(conn, caller.person)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(done))
}

/// The office of a number, checked against the caller.
fn number_office(conn: &mut DbConn, caller: PersonId, id: i64) -> Result<(), ApiError> {
    let register = issued_numbers::table
        .find(id)
        .select(issued_numbers::register_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("nomor"))?;
    let office = numbering::register(conn, register)?.office_id;
    visible(conn, caller, office, "nomor")
}

#[derive(Deserialize)]
struct VoidBody {
    reason: String,
}

async fn void(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<VoidBody>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    let id = path.into_inner();
    on_number(state, caller, id, move |conn, person| {
        numbering::void(conn, id, &reason, person, crate::db::now())
    })
    .await
}

#[derive(Deserialize)]
struct UseBody {
    used_for: String,
}

async fn use_reserved(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<UseBody>,
) -> Result<HttpResponse, ApiError> {
    let used_for = body.into_inner().used_for;
    let id = path.into_inner();
    on_number(state, caller, id, move |conn, person| {
        numbering::use_reserved(conn, id, &used_for, person)
    })
    .await
}
