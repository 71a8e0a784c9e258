//! The office's books as pages for its staff: the number registers with the agenda book
//! (`/register/{office}`) and the reports made (`/laporan/{office}`). An applicant of the
//! office is refused (403), someone of no role there is told it does not exist (404).

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Deserialize;

use super::AppState;
use super::auth::office_roles;
use super::desk::{PageResult, Viewer};
use super::error::ApiError;
use super::pages::page;
use crate::db::DbConn;
use crate::ids::{OfficeId, PersonId};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/register/{office}", web::get().to(registers_page))
        .route("/register/{office}/baru", web::post().to(new_register_page))
        .route(
            "/api/v1/offices/{office}/registers",
            web::post().to(new_register_api),
        )
        .route("/laporan/{office}", web::get().to(reports_page))
        .route("/audit/{office}", web::get().to(audit_page))
        .route("/api/v1/offices/{office}/audit", web::get().to(audit_api));
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

/// The office's audit log, newest first, for its auditors and admins.
async fn audit_entries(
    state: &AppState,
    person: PersonId,
    code: String,
    query: AuditQuery,
) -> Result<(String, Vec<crate::audit::Read>), ApiError> {
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let (office, roles) = office_roles(conn, person, &code)?;
            if !roles
                .iter()
                .any(|r| r == crate::people::roles::AUDITOR || r == crate::people::roles::ADMIN)
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "catatan audit dibaca oleh auditor dan administrator kantor ini",
                ));
            }
            let name = crate::office::find(conn, office)?.name;
            let entries =
                crate::audit::of_office(conn, office, query.before, query.limit.unwrap_or(100))?;
            Ok((name, entries))
        })
        .await
}

async fn audit_api(
    state: web::Data<AppState>,
    caller: super::auth::Caller,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let (_, entries) =
        audit_entries(&state, caller.person, path.into_inner(), query.into_inner()).await?;
    Ok(actix_web::HttpResponse::Ok().json(entries))
}

struct AuditLine {
    id: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    intact: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    code: String,
    office: String,
    entries: Vec<AuditLine>,
    /// The oldest entry shown: the next page starts before it.
    next: Option<i64>,
}

async fn audit_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> PageResult {
    let code = path.into_inner();
    let (office, entries) =
        audit_entries(&state, viewer.person, code.clone(), query.into_inner()).await?;
    let next = (entries.len() >= 100)
        .then(|| entries.last().map(|e| e.entry.id))
        .flatten();
    Ok(page(
        StatusCode::OK,
        &AuditPage {
            code,
            office,
            next,
            entries: entries
                .into_iter()
                .map(|r| AuditLine {
                    id: r.entry.id,
                    at: r.entry.at.format("%d-%m-%Y %H:%M:%S UTC").to_string(),
                    actor: r.actor.unwrap_or_else(|| "sistem".into()),
                    action: r.entry.action,
                    subject: r.entry.subject,
                    detail: r.entry.detail,
                    intact: r.intact,
                })
                .collect(),
        },
    ))
}

/// Sets up a register in the office with `code` as `person`; its id and first number.
async fn new_register(
    state: &AppState,
    person: PersonId,
    code: String,
    setup: crate::admin::RegisterSetup,
) -> Result<(i64, String), ApiError> {
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let (office, _) = office_roles(conn, person, &code)?;
            let (id, example) = crate::admin::create_register(conn, person, office, &setup)?;
            Ok((id.0, example))
        })
        .await
}

async fn new_register_api(
    state: web::Data<AppState>,
    caller: super::auth::Caller,
    path: web::Path<String>,
    body: web::Json<crate::admin::RegisterSetup>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let (id, example) =
        new_register(&state, caller.person, path.into_inner(), body.into_inner()).await?;
    Ok(
        actix_web::HttpResponse::Created()
            .json(serde_json::json!({ "id": id, "example": example })),
    )
}

async fn new_register_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let code = path.into_inner();
    let back = format!("/register/{code}");
    let form = form.into_inner();
    let field = |name: &str| {
        super::pages::form_field(&form, name)
            .unwrap_or_default()
            .to_owned()
    };
    viewer.check(&field("csrf"))?;
    let values = ["kka", "unit", "series"]
        .iter()
        .map(|k| (k.to_string(), field(k)))
        .collect();
    let setup = crate::admin::RegisterSetup {
        code: field("code"),
        name: field("name"),
        kind: field("kind"),
        pattern: field("pattern"),
        values,
        letter_kind: Some(field("letter_kind")),
    };
    let register = setup.code.clone();
    new_register(&state, viewer.person, code, setup)
        .await
        .map_err(|e| super::desk::PageError::from(e).back_to(back.clone()))?;
    Ok(super::pages::see_other(&format!("{back}?kode={register}")))
}

/// The most numbers a register page lists.
const MAX_LISTED: usize = 500;

/// The office with `code` if `person` is of its staff; and its name.
fn staff_office(
    conn: &mut DbConn,
    person: PersonId,
    code: &str,
) -> Result<(OfficeId, String), ApiError> {
    let (office, roles) = office_roles(conn, person, code)?;
    if crate::workflow::applicant_only(conn, office, &roles).map_err(ApiError::internal)? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "buku register dan laporan hanya untuk petugas kantor",
        ));
    }
    Ok((office, crate::office::find(conn, office)?.name))
}

#[derive(Deserialize)]
struct RegisterQuery {
    kode: Option<String>,
    dari: Option<NaiveDate>,
    sampai: Option<NaiveDate>,
}

struct NumberLine {
    number: String,
    date: String,
    state: &'static str,
    letter: Option<i64>,
    note: String,
}

#[derive(Template)]
#[template(path = "registers.html")]
struct RegistersPage {
    code: String,
    office: String,
    /// Every register: code, name; the one shown first.
    registers: Vec<(String, String)>,
    register: String,
    register_name: String,
    pattern: String,
    from: String,
    to: String,
    numbers: Vec<NumberLine>,
    more: bool,
    csrf: String,
    /// The viewer may set up registers (admin or secretariat).
    may_setup: bool,
    /// The letter kinds a register may be kept for: id, name.
    kinds: Vec<(&'static str, &'static str)>,
}

async fn registers_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    query: web::Query<RegisterQuery>,
) -> PageResult {
    let code = path.into_inner();
    let RegisterQuery { kode, dari, sampai } = query.into_inner();
    let person = viewer.person;
    let csrf = viewer.csrf;
    let page_data = state
        .db
        .run(move |conn| -> Result<RegistersPage, ApiError> {
            let (office, name) = staff_office(conn, person, &code)?;
            let registers = crate::numbering::registers(conn, office)?;
            let chosen = match &kode {
                Some(k) => registers.iter().find(|r| r.code == *k),
                // The letters the office sends, before the agenda of those it receives.
                None => registers
                    .iter()
                    .find(|r| r.kind != "agenda")
                    .or(registers.first()),
            }
            .ok_or_else(|| ApiError::not_found("register"))?;
            // This month of the office's calendar, unless a period is asked for.
            let today = super::numbers::today(conn, office)?;
            let first = today.with_day(1).unwrap_or(today);
            let (from, to) = (dari.unwrap_or(first), sampai.unwrap_or(today));
            if from > to {
                return Err(ApiError::bad_request("tanggal awal sesudah tanggal akhir"));
            }
            let numbers = crate::numbering::log(conn, chosen.id, from, to)?;
            let more = numbers.len() > MAX_LISTED;
            let may_setup = crate::people::roles_in(conn, person, office)?
                .iter()
                .any(|r| {
                    r == crate::people::roles::ADMIN || r == crate::people::roles::SECRETARIAT
                });
            Ok(RegistersPage {
                csrf,
                may_setup,
                kinds: crate::letters::LetterKind::ALL
                    .iter()
                    .map(|k| (k.id(), k.name()))
                    .collect(),
                code,
                office: name,
                registers: registers
                    .iter()
                    .map(|r| (r.code.clone(), r.name.clone()))
                    .collect(),
                register: chosen.code.clone(),
                register_name: chosen.name.clone(),
                pattern: chosen.pattern.clone(),
                from: from.to_string(),
                to: to.to_string(),
                numbers: numbers
                    .into_iter()
                    .take(MAX_LISTED)
                    .map(|n| NumberLine {
                        date: n.letter_date.format("%d-%m-%Y").to_string(),
                        state: match n.status.as_str() {
                            "issued" => "terpakai",
                            "reserved" => "dicadangkan",
                            "used" => "dipakai di luar naskah",
                            "void" => "batal",
                            _ => "-",
                        },
                        letter: n.letter_id.map(|l| l.0),
                        note: n.void_reason.or(n.reason).unwrap_or_default(),
                        number: n.number,
                    })
                    .collect(),
                more,
            })
        })
        .await?;
    Ok(page(StatusCode::OK, &page_data))
}

struct ReportLine {
    kind: &'static str,
    period: String,
    letter: Option<i64>,
    made_at: String,
    made_by: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    csrf: String,
    code: String,
    office: String,
    reports: Vec<ReportLine>,
    /// The viewer is an official (with a NIP) who may make and sign a report.
    may_make: bool,
    /// The week before this one, as a period: what the form offers first.
    last_week: String,
}

async fn reports_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> PageResult {
    let code = path.into_inner();
    let person = viewer.person;
    let csrf = viewer.csrf;
    let page_data = state
        .db
        .run(move |conn| -> Result<ReportsPage, ApiError> {
            use crate::db::schema::report_runs;
            let (office, name) = staff_office(conn, person, &code)?;
            type Row = (
                String,
                String,
                Option<crate::ids::LetterId>,
                chrono::NaiveDateTime,
                String,
            );
            let rows: Vec<Row> = report_runs::table
                .filter(report_runs::office_id.eq(office))
                .order(report_runs::made_at.desc())
                .limit(200)
                .select((
                    report_runs::kind,
                    report_runs::period,
                    report_runs::letter_id,
                    report_runs::made_at,
                    report_runs::made_by,
                ))
                .load(conn)?;
            let may_make = crate::people::find(conn, person)?.nip.is_some();
            let week = super::numbers::today(conn, office)? - chrono::Duration::days(7);
            let last_week = format!("{}-W{:02}", week.iso_week().year(), week.iso_week().week());
            Ok(ReportsPage {
                may_make,
                last_week,
                csrf,
                code,
                office: name,
                reports: rows
                    .into_iter()
                    .map(|(kind, period, letter, made_at, made_by)| ReportLine {
                        kind: if kind == "sla" {
                            "Laporan SLA"
                        } else {
                            "Laporan tahunan"
                        },
                        period,
                        letter: letter.map(|l| l.0),
                        made_at: made_at.format("%d-%m-%Y %H:%M UTC").to_string(),
                        made_by,
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(page(StatusCode::OK, &page_data))
}
