//! Signing in and out in the browser. The sign-in form is protected against cross-site posts
//! by a token in a SameSite=Strict cookie that the form repeats (there is no session yet);
//! every form of a session repeats the session's own CSRF token. A wrong password and an
//! unknown name are answered alike; after five failures in a row the account waits.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::pages::{SameSite, cookie, page, see_other, set_cookie};
use crate::accounts::{self, SignIn};

/// The session cookie.
pub const SESSION_COOKIE: &str = "naskah_sesi";
/// The sign-in form's own token.
const SIGNIN_COOKIE: &str = "naskah_masuk";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(front))
        .route("/masuk", web::get().to(signin_form))
        .route("/masuk", web::post().to(signin))
        .route("/keluar", web::post().to(signout))
        .route("/beranda", web::get().to(home));
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage<'a> {
    csrf: &'a str,
    username: &'a str,
    message: Option<String>,
}

struct DemoAccount {
    label: String,
    username: String,
    password: String,
}

struct DemoOffice {
    name: String,
    accounts: Vec<DemoAccount>,
}

#[derive(Template)]
#[template(path = "front.html")]
struct FrontPage {
    offices: Vec<DemoOffice>,
}

/// The front page; in the demo, with every demo account and its password.
async fn front(state: web::Data<AppState>) -> HttpResponse {
    let mut offices: Vec<DemoOffice> = Vec::new();
    if state.demo
        && let Ok(members) = crate::demo::members()
    {
        for member in members {
            let account = DemoAccount {
                label: format!(
                    "{} ({})",
                    member.full_name,
                    member
                        .position
                        .clone()
                        .or(member.organization.map(str::to_owned))
                        .unwrap_or_else(|| member.roles.join(", "))
                ),
                password: crate::demo::password_of(&member.username),
                username: member.username,
            };
            match offices.last_mut() {
                Some(office) if office.name == member.office => office.accounts.push(account),
                _ => offices.push(DemoOffice {
                    name: member.office.to_owned(),
                    accounts: vec![account],
                }),
            }
        }
    }
    page(StatusCode::OK, &FrontPage { offices })
}

struct InboxLine {
    subject: String,
    at: String,
    letter: Option<i64>,
    request: Option<i64>,
    unread: bool,
}

struct RequestLine {
    id: i64,
    application: String,
    opd: String,
    state: &'static str,
    step: Option<String>,
    filed: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    name: String,
    username: String,
    csrf: String,
    inbox: Vec<InboxLine>,
    requests: Vec<RequestLine>,
    waiting: Vec<WaitingLine>,
    files: bool,
    /// Offices whose administration the person keeps or reads: code, name.
    administers: Vec<(String, String)>,
    /// How many letters wait for the person's signature.
    to_sign: usize,
    /// How many of the inbox's notices shown are unread.
    unread: usize,
    /// Offices whose registers and reports the person reads: code, name.
    books: Vec<(String, String)>,
}

struct WaitingLine {
    request: i64,
    application: String,
    organization: String,
    task: String,
    deadline: String,
    late: bool,
}

/// What the home page lists: the newest 20 of the inbox and of the requests one may see.
const ON_HOME: i64 = 20;

fn random_token() -> String {
    // Without randomness no form can be trusted: an empty token matches nothing.
    crate::digest::random_hex(32).unwrap_or_default()
}

/// The sign-in form, with a fresh token in its cookie and in the form.
fn form(status: StatusCode, username: &str, message: Option<String>) -> HttpResponse {
    let token = random_token();
    let mut response = page(
        status,
        &SigninPage {
            csrf: &token,
            username,
            message,
        },
    );
    set_cookie(&mut response, SIGNIN_COOKIE, &token, 3600, SameSite::Strict);
    response
}

async fn signin_form() -> HttpResponse {
    form(StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct SigninForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn signin(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Form<SigninForm>,
) -> Result<HttpResponse, ApiError> {
    let SigninForm {
        username,
        password,
        csrf,
    } = body.into_inner();
    let expected = cookie(&request, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !accounts::same_secret(&csrf, &expected) {
        return Ok(form(
            StatusCode::FORBIDDEN,
            &username,
            Some("Formulir kedaluwarsa atau tidak berasal dari naskah; silakan coba lagi.".into()),
        ));
    }
    let name = username.clone();
    let address = state
        .limits
        .client(&request)
        .map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    let outcome = state
        .db
        .run(move |conn| {
            accounts::sign_in(conn, &name, &password, &address, crate::db::now())
                .map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    Ok(match outcome {
        SignIn::In(session) => {
            let mut response = see_other("/beranda");
            set_cookie(
                &mut response,
                SESSION_COOKIE,
                &session.token,
                accounts::SESSION.num_seconds(),
                SameSite::Lax,
            );
            set_cookie(&mut response, SIGNIN_COOKIE, "", 0, SameSite::Strict);
            response
        }
        SignIn::Wrong => form(
            StatusCode::UNAUTHORIZED,
            &username,
            Some("Nama pengguna atau kata sandi salah.".into()),
        ),
        SignIn::Waiting { until } => form(
            StatusCode::TOO_MANY_REQUESTS,
            &username,
            Some(format!(
                "Terlalu banyak percobaan masuk yang gagal. Silakan coba lagi setelah pukul {} UTC.",
                until.format("%H:%M")
            )),
        ),
    })
}

/// The session the request's cookie opens.
async fn session_of(
    state: &AppState,
    request: &HttpRequest,
) -> Result<Option<accounts::Session>, ApiError> {
    match cookie(request, SESSION_COOKIE) {
        Some(token) => open(state, token).await,
        None => Ok(None),
    }
}

/// The live session whose cookie holds `token`, if any: what pages and API calls made with a
/// session cookie both read.
pub async fn open(state: &AppState, token: String) -> Result<Option<accounts::Session>, ApiError> {
    state
        .db
        .run(move |conn| {
            accounts::session(conn, &token, crate::db::now()).map_err(crate::db::DbError::from)
        })
        .await
        .map_err(ApiError::from)
}

async fn home(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let Some(token) = cookie(&request, SESSION_COOKIE) else {
        return Ok(see_other("/masuk"));
    };
    // The session and the page in one trip to the pool: the page every user opens most.
    let read = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            use crate::db::schema::inbox;
            use diesel::prelude::*;
            let Some(session) = accounts::session(conn, &token, crate::db::now())? else {
                return Ok(None);
            };
            let person = session.person;
            let found = crate::people::find(conn, person)?;
            type Notice = (
                String,
                chrono::NaiveDateTime,
                Option<crate::ids::LetterId>,
                Option<crate::ids::RequestId>,
                Option<chrono::NaiveDateTime>,
            );
            let inbox: Vec<Notice> = inbox::table
                .filter(inbox::person_id.eq(person))
                .order(inbox::id.desc())
                .limit(ON_HOME)
                .select((
                    inbox::subject,
                    inbox::created_at,
                    inbox::letter_id,
                    inbox::request_id,
                    inbox::read_at,
                ))
                .load(conn)?;
            let reach = crate::workflow::reach(conn, person)?;
            let requests = crate::workflow::requests_within(conn, person, &reach, ON_HOME, None)?;
            let waiting = crate::workflow::desk::waiting(conn, person, chrono::Utc::now())?;
            let files = crate::workflow::files_anywhere(conn, person)?;
            let administers: Vec<(String, String)> = {
                use crate::db::schema::{offices, person_roles};
                person_roles::table
                    .inner_join(offices::table)
                    .filter(person_roles::person_id.eq(person))
                    .filter(
                        person_roles::role
                            .eq_any([crate::people::roles::ADMIN, crate::people::roles::AUDITOR]),
                    )
                    .select((offices::code, offices::name))
                    .distinct()
                    .order(offices::code)
                    .load(conn)?
            };
            // The offices whose books (registers, reports) the person keeps or reads.
            let books: Vec<(String, String)> = if reach.whole.is_empty() {
                Vec::new()
            } else {
                use crate::db::schema::offices;
                offices::table
                    .filter(offices::id.eq_any(&reach.whole))
                    .order(offices::code)
                    .select((offices::code, offices::name))
                    .load(conn)?
            };
            Ok(Some((
                session,
                found,
                inbox,
                requests,
                waiting,
                files,
                administers,
                books,
            )))
        })
        .await?;
    let Some((session, found, inbox, requests, waiting, files, administers, books)) = read else {
        return Ok(see_other("/masuk"));
    };
    let when = |t: chrono::NaiveDateTime| t.format("%d-%m-%Y %H:%M UTC").to_string();
    let unread = inbox.iter().filter(|(.., read)| read.is_none()).count();
    Ok(page(
        StatusCode::OK,
        &HomePage {
            name: found.full_name,
            username: found.username,
            csrf: session.csrf,
            inbox: inbox
                .into_iter()
                .map(|(subject, at, letter, request, read)| InboxLine {
                    subject,
                    at: when(at),
                    letter: letter.map(|l| l.0),
                    request: request.map(|r| r.0),
                    unread: read.is_none(),
                })
                .collect(),
            requests: requests
                .into_iter()
                .map(|r| RequestLine {
                    id: r.id.0,
                    state: match r.status.as_str() {
                        "finished" => "selesai",
                        "rejected" => "ditolak",
                        "withdrawn" => "ditarik",
                        _ => "dalam proses",
                    },
                    application: r.application_name,
                    opd: r.applicant_organization,
                    step: r.current_step,
                    filed: when(r.filed_at),
                })
                .collect(),
            to_sign: waiting.iter().filter(|w| w.what == "sign").count(),
            unread,
            waiting: waiting
                .into_iter()
                .map(|w| WaitingLine {
                    request: w.request.0,
                    application: w.application,
                    organization: w.organization,
                    task: w.task,
                    deadline: w
                        .deadline
                        .map(|d| d.format("%d-%m-%Y %H:%M").to_string())
                        .unwrap_or_else(|| "tanpa batas waktu".into()),
                    late: w.late,
                })
                .collect(),
            files,
            administers,
            books,
        },
    ))
}

#[derive(Deserialize)]
struct SignoutForm {
    #[serde(default)]
    csrf: String,
}

async fn signout(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Form<SignoutForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(session) = session_of(&state, &request).await? else {
        return Ok(see_other("/masuk"));
    };
    if !accounts::same_secret(&body.csrf, &session.csrf) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "formulir tanpa token yang sah",
        ));
    }
    let token = session.token;
    state
        .db
        .run(move |conn| accounts::sign_out(conn, &token).map_err(crate::db::DbError::from))
        .await?;
    let mut response = see_other("/masuk");
    set_cookie(&mut response, SESSION_COOKIE, "", 0, SameSite::Lax);
    Ok(response)
}
