//! The HTTP service: builds the actix-web application, binds its listener and runs until a
//! SIGTERM or SIGINT, then stops accepting and lets requests in flight finish.
//!
//! Each surface has its own route table (`fn configure(cfg: &mut ServiceConfig)`), mounted here.

mod admin;
mod auth;
mod books;
mod classification;
mod desk;
pub mod error;
mod health;
mod hosting;
mod jobs;
mod letter_pages;
pub mod limits;
mod numbers;
mod pages;
mod requests;
mod session;
pub mod tsa;
mod tte;
mod verify;
mod work;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, web};

use crate::db::Db;

/// How long requests in flight may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    /// What generating a letter needs: the public address for its QR code, the certificate
    /// issuer for its footer.
    pub letters: crate::letters::store::Settings,
    /// What signing a letter needs: the officials' keys, the time-stamp authority, BSrE.
    pub tte: crate::tte::Settings,
    /// The worker processes uploaded PDFs are read in, with the roots verification trusts.
    pub verifier: std::sync::Arc<crate::verify::sandbox::Sandbox>,
    /// Per-address limits on public calls, and who the client is behind trusted proxies.
    pub limits: std::sync::Arc<limits::Limits>,
    /// A demo installation: the front page lists the demo accounts and their passwords.
    pub demo: bool,
    /// The key hosting accounts' passwords are sealed under until the applicant sees them.
    pub handover: std::sync::Arc<crate::handover::Key>,
    /// The data directory: exports are kept under it for their owners to download.
    pub data_dir: std::path::PathBuf,
    /// When reports are made and the audit log checked, and who signs each office's reports:
    /// shown to the office's admins and auditors (set in the configuration, not here).
    pub schedule: crate::schedule::Schedule,
}

/// Serves on `listener` (bound by the caller, so that a taken port is reported before anything
/// else starts) and returns the server, not yet awaited, with the address it listens on.
pub fn start(listener: TcpListener, state: AppState) -> std::io::Result<(Server, SocketAddr)> {
    let local = listener.local_addr()?;
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(error::json_config())
            .wrap(from_fn(limits::limit))
            .wrap(from_fn(log_request))
            .configure(health::configure)
            .configure(numbers::configure)
            .configure(classification::configure)
            .configure(hosting::configure)
            .configure(tte::configure)
            .configure(verify::configure)
            .configure(session::configure)
            .configure(requests::configure)
            .configure(work::configure)
            .configure(desk::configure)
            .configure(letter_pages::configure)
            .configure(admin::configure)
            .configure(jobs::configure)
            .configure(books::configure)
            .route("/api/v1/openapi.json", web::get().to(openapi))
    })
    .listen(listener)?
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .run();
    Ok((server, local))
}

/// The API's OpenAPI document (`openapi.json`, kept beside the routes; a test checks that it
/// names every `/api/v1` route and no other).
async fn openapi() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(include_str!("openapi.json"))
}

/// Logs one line per request: method, path, status and time taken. Query strings are left out:
/// they may carry tokens.
async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.path().to_owned();
    let client = request
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.limits.client(request.request()))
        .map(|address| address.to_string())
        .unwrap_or_default();
    let response = next.call(request).await?;
    tracing::info!(
        target: "naskah::http",
        %method,
        path,
        client,
        status = response.status().as_u16(),
        millis = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}
