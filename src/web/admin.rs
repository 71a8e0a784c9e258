//! Administration of an office's people and roles: the JSON API and the pages
//! (`/admin/{office}`). Admins of the office change; its auditors read; anyone else of the
//! office is refused (403), and someone of no role there is told the office does not exist
//! (404). A password made or reset is answered once and kept nowhere in the clear.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, office_roles};
use super::desk::{PageError, PageResult, Viewer};
use super::error::ApiError;
use super::pages::{form_field, page, see_other};
use crate::admin::{self, Member, NewAccount};
use crate::db::DbConn;
use crate::ids::{OfficeId, PersonId};
use crate::people::roles::{ADMIN, AUDITOR};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/offices/{office}/people",
        web::get().to(members_api),
    )
    .route(
        "/api/v1/offices/{office}/people",
        web::post().to(create_api),
    )
    .route(
        "/api/v1/offices/{office}/people/{id}",
        web::put().to(update_api),
    )
    .route(
        "/api/v1/offices/{office}/people/{id}/password",
        web::post().to(reset_api),
    )
    .route(
        "/api/v1/offices/{office}/people/{id}/waits",
        web::get().to(waits_api),
    )
    .route(
        "/api/v1/offices/{office}/people/{id}/waits",
        web::delete().to(clear_waits_api),
    )
    .route(
        "/api/v1/offices/{office}/holidays",
        web::get().to(holidays_api),
    )
    .route(
        "/api/v1/offices/{office}/holidays",
        web::post().to(add_holiday_api),
    )
    .route(
        "/api/v1/offices/{office}/holidays/{id}",
        web::delete().to(remove_holiday_api),
    )
    .route("/api/v1/offices/{office}", web::put().to(update_office_api))
    .route("/admin/{office}", web::get().to(office_page))
    .route("/admin/{office}/kantor", web::post().to(update_office_page))
    .route("/admin/{office}/libur", web::post().to(add_holiday_page))
    .route(
        "/admin/{office}/libur/{id}/hapus",
        web::post().to(remove_holiday_page),
    )
    .route("/admin/{office}/orang", web::post().to(create_page))
    .route("/admin/{office}/orang/{id}", web::post().to(update_page))
    .route(
        "/admin/{office}/orang/{id}/sandi",
        web::post().to(reset_page),
    )
    .route(
        "/admin/{office}/orang/{id}/buka",
        web::post().to(clear_waits_page),
    );
}

/// A person's waits as the administration page says them.
fn waits_in_words(waits: &admin::Waits) -> Vec<String> {
    let until = |count: &crate::attempts::Count| {
        count.locked_until.map_or(String::new(), |until| {
            format!(", ditahan sampai {} UTC", until.format("%Y-%m-%d %H.%M"))
        })
    };
    let mut lines: Vec<String> = waits
        .sign_in
        .iter()
        .map(|count| {
            format!(
                "masuk dari {}: {} kali gagal berturut-turut{}",
                count.subject,
                count.failures,
                until(count)
            )
        })
        .collect();
    if let Some(count) = &waits.passphrase {
        lines.push(format!(
            "penandatanganan: {} kali passphrase salah{}",
            count.failures,
            until(count)
        ));
    }
    lines
}

async fn waits_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    let waits = state
        .db
        .run(move |conn| {
            let office = readable(conn, caller.person, &code)?;
            admin::waits(conn, office, PersonId(id)).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(waits))
}

async fn clear_waits_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    let cleared = state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::clear_waits(conn, caller.person, office, PersonId(id)).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "cleared": cleared })))
}

async fn clear_waits_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, i64)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let (code, id) = path.into_inner();
    let back = format!("/admin/{code}");
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let person = viewer.person;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &code)?;
            admin::clear_waits(conn, person, office, PersonId(id)).map_err(ApiError::from)
        })
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

/// The office with `code` if `person` may read its people (admin or auditor).
fn readable(conn: &mut DbConn, person: PersonId, code: &str) -> Result<OfficeId, ApiError> {
    let (office, roles) = office_roles(conn, person, code)?;
    if roles.iter().any(|r| r == ADMIN || r == AUDITOR) {
        Ok(office)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "hanya administrator dan auditor kantor ini yang melihat daftar akun",
        ))
    }
}

/// The office with `code` if `person` holds a role there (admin rights are checked in the
/// transaction that changes).
fn office_of(conn: &mut DbConn, person: PersonId, code: &str) -> Result<OfficeId, ApiError> {
    office_roles(conn, person, code).map(|(office, _)| office)
}

async fn members_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let members = state
        .db
        .run(move |conn| {
            let office = readable(conn, caller.person, &code)?;
            admin::members(conn, office).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(members))
}

async fn create_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let new = body.into_inner();
    let (id, password) = state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::create(conn, caller.person, office, &new, chrono::Utc::now())
                .map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "id": id, "password": password })))
}

#[derive(Deserialize)]
struct UpdateBody {
    roles: Vec<String>,
    active: bool,
}

async fn update_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    let UpdateBody { roles, active } = body.into_inner();
    state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::update(conn, caller.person, office, PersonId(id), &roles, active)
                .map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn reset_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    let password = state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::reset_password(conn, caller.person, office, PersonId(id)).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "password": password })))
}

async fn update_office_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<admin::OfficeDetails>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let details = body.into_inner();
    state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::update_office(conn, caller.person, office, &details).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn update_office_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let code = path.into_inner();
    let back = format!("/admin/{code}");
    let form = form.into_inner();
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let text = |name: &str| form_field(&form, name).unwrap_or_default().to_owned();
    let some = |name: &str| form_field(&form, name).map(str::to_owned);
    let details = admin::OfficeDetails {
        government: text("government"),
        name: text("name"),
        unit: some("unit"),
        address: text("address"),
        city: text("city"),
        postal_code: some("postal_code"),
        phone: some("phone"),
        website: some("website"),
        email: some("email"),
    };
    let person = viewer.person;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &code)?;
            admin::update_office(conn, person, office, &details).map_err(ApiError::from)
        })
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

/// The first day of the office's current year: holidays are listed from it.
fn this_year(conn: &mut DbConn, office: OfficeId) -> Result<chrono::NaiveDate, ApiError> {
    use chrono::Datelike;
    let today = super::numbers::today(conn, office)?;
    Ok(today.with_ordinal(1).unwrap_or(today))
}

async fn holidays_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            let from = this_year(conn, office)?;
            admin::holidays(conn, office, from).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize)]
struct HolidayBody {
    day: chrono::NaiveDate,
    name: String,
}

async fn add_holiday_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<HolidayBody>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let HolidayBody { day, name } = body.into_inner();
    let id = state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::add_holiday(conn, caller.person, office, day, &name).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

async fn remove_holiday_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    state
        .db
        .run(move |conn| {
            let office = office_of(conn, caller.person, &code)?;
            admin::remove_holiday(conn, caller.person, office, id).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// Pages.

struct MemberLine {
    member: Member,
    /// What holds their sign-in or signing back, in words.
    waits: Vec<String>,
    /// Each grantable role: id, name, held.
    roles: Vec<(String, String, bool)>,
    roles_text: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    csrf: String,
    code: String,
    office: String,
    /// The viewer changes (admin); else they read (auditor).
    may_change: bool,
    members: Vec<MemberLine>,
    grantable: Vec<(String, String)>,
    /// The office's own holidays this year and later: id, day, name.
    holidays: Vec<(i64, String, String)>,
    /// The letterhead's details as stored.
    details: crate::office::Office,
    /// Each official with a NIP and how they sign: username, name, "berkas kunci" / "BSrE" /
    /// "belum ada sertifikat".
    certificates: Vec<(String, String, &'static str)>,
    /// The schedule as configured: what, when (cron with seconds, office local time).
    schedule: Vec<(&'static str, String)>,
    /// Who signs the office's scheduled reports; none: they are not made.
    report_signer: Option<String>,
}

#[derive(Template)]
#[template(path = "password_once.html")]
struct PasswordPage {
    code: String,
    username: String,
    full_name: String,
    password: String,
}

async fn office_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> PageResult {
    let code = path.into_inner();
    let person = viewer.person;
    let read = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = readable(conn, person, &code)?;
            let found = crate::office::find(conn, office)?;
            let roles = crate::people::roles_in(conn, person, office)?;
            let members = admin::members(conn, office)?
                .into_iter()
                .map(|member| {
                    let waits = admin::waits(conn, office, member.id)?;
                    Ok((member, waits_in_words(&waits)))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let grantable = admin::grantable(conn, office)?;
            let from = this_year(conn, office)?;
            let holidays = admin::holidays(conn, office, from)?;
            Ok((code, found, roles, members, grantable, holidays))
        })
        .await?;
    let (code, details, roles, members, grantable, holidays) = read;
    let certificates = members
        .iter()
        .map(|(m, _)| m)
        .filter(|m| m.nip.is_some())
        .map(|m| {
            let how = if state.tte.bsre_signs(&m.username) {
                "melalui BSrE"
            } else if state.tte.has_key_file(&m.username) {
                "berkas kunci PKCS#12 tersedia"
            } else {
                "belum ada sertifikat"
            };
            (m.username.clone(), m.full_name.clone(), how)
        })
        .collect();
    let members = members
        .into_iter()
        .map(|(member, waits)| MemberLine {
            waits,
            roles: grantable
                .iter()
                .map(|(id, name)| (id.clone(), name.clone(), member.roles.contains(id)))
                .collect(),
            roles_text: member
                .roles
                .iter()
                .map(|r| {
                    grantable
                        .iter()
                        .find(|(id, _)| id == r)
                        .map_or(r.clone(), |(_, name)| name.clone())
                })
                .collect::<Vec<_>>()
                .join(", "),
            member,
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &AdminPage {
            csrf: viewer.csrf,
            schedule: vec![
                ("Laporan SLA (pekan sebelumnya)", state.schedule.sla.clone()),
                (
                    "Laporan tahunan (tahun sebelumnya)",
                    state.schedule.annual.clone(),
                ),
                (
                    "Pemeriksaan catatan audit (WIB)",
                    state.schedule.audit.clone(),
                ),
            ],
            report_signer: state.schedule.signers.get(&code).map(|(u, _)| u.clone()),
            code,
            office: details.name.clone(),
            details,
            certificates,
            may_change: roles.iter().any(|r| r == ADMIN),
            members,
            grantable,
            holidays: holidays
                .into_iter()
                .map(|h| (h.id, h.day.format("%d-%m-%Y").to_string(), h.name))
                .collect(),
        },
    ))
}

async fn add_holiday_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let code = path.into_inner();
    let back = format!("/admin/{code}");
    let form = form.into_inner();
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let refused = |e: ApiError| PageError::from(e).back_to(back.clone());
    let day = form_field(&form, "day")
        .unwrap_or_default()
        .parse::<chrono::NaiveDate>()
        .map_err(|_| refused(ApiError::bad_request("tanggal tidak valid")))?;
    let name = form_field(&form, "name").unwrap_or_default().to_owned();
    let person = viewer.person;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &code)?;
            admin::add_holiday(conn, person, office, day, &name).map_err(ApiError::from)
        })
        .await
        .map_err(refused)?;
    Ok(see_other(&back))
}

async fn remove_holiday_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, i64)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let (code, id) = path.into_inner();
    let back = format!("/admin/{code}");
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let person = viewer.person;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &code)?;
            admin::remove_holiday(conn, person, office, id).map_err(ApiError::from)
        })
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

/// The roles ticked on a form: fields `peran` (repeated).
fn ticked(form: &[(String, String)]) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == "peran")
        .map(|(_, v)| v.clone())
        .collect()
}

async fn create_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let code = path.into_inner();
    let back = format!("/admin/{code}");
    let form = form.into_inner();
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let text = |name: &str| form_field(&form, name).map(str::to_owned);
    let new = NewAccount {
        username: text("username").unwrap_or_default(),
        full_name: text("full_name").unwrap_or_default(),
        nip: text("nip"),
        email: text("email"),
        position: text("position"),
        organization: text("organization"),
        roles: ticked(&form),
    };
    let person = viewer.person;
    let office_code = code.clone();
    let (id, password) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &office_code)?;
            admin::create(conn, person, office, &new, chrono::Utc::now()).map_err(ApiError::from)
        })
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    password_page(&state, code, id, password).await
}

async fn update_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, i64)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let (code, id) = path.into_inner();
    let back = format!("/admin/{code}");
    let form = form.into_inner();
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let roles = ticked(&form);
    let active = form_field(&form, "active") == Some("ya");
    let person = viewer.person;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &code)?;
            admin::update(conn, person, office, PersonId(id), &roles, active)
                .map_err(ApiError::from)
        })
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

async fn reset_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, i64)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let (code, id) = path.into_inner();
    let back = format!("/admin/{code}");
    viewer.check(form_field(&form, "csrf").unwrap_or_default())?;
    let person = viewer.person;
    let office_code = code.clone();
    let password = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = office_of(conn, person, &office_code)?;
            admin::reset_password(conn, person, office, PersonId(id)).map_err(ApiError::from)
        })
        .await
        .map_err(|e| PageError::from(e).back_to(back))?;
    password_page(&state, code, PersonId(id), password).await
}

/// The page that shows a password once.
async fn password_page(
    state: &AppState,
    code: String,
    id: PersonId,
    password: String,
) -> PageResult {
    let found = state
        .db
        .run(move |conn| crate::people::find(conn, id).map_err(ApiError::from))
        .await?;
    Ok(page(
        StatusCode::OK,
        &PasswordPage {
            code,
            username: found.username,
            full_name: found.full_name,
            password,
        },
    ))
}
