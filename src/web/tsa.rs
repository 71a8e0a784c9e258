//! The demo time-stamp authority over HTTP (RFC 3161 §3.4): `POST /` with an
//! `application/timestamp-query` body, answered with an `application/timestamp-reply`. It
//! listens on loopback only, with the demo PKI's TSA key.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::signing::tsa::Authority;

/// The largest request read: a time-stamp query is about a hundred bytes.
const MAX_REQUEST: usize = 16 * 1024;

async fn stamp(authority: web::Data<Authority>, body: web::Bytes) -> HttpResponse {
    let authority = authority.into_inner();
    match web::block(move || authority.respond(&body)).await {
        Ok(reply) => HttpResponse::Ok()
            .content_type("application/timestamp-reply")
            .body(reply),
        Err(error) => {
            tracing::error!(%error, "time-stamp failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Serves `authority` on `listener` (which must be bound to a loopback address).
pub fn start(listener: TcpListener, authority: Authority) -> std::io::Result<(Server, SocketAddr)> {
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the demo time-stamp authority listens on loopback only, not {local}"),
        ));
    }
    let authority = web::Data::from(Arc::new(authority));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(authority.clone())
            .app_data(web::PayloadConfig::new(MAX_REQUEST))
            .route("/", web::post().to(stamp))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok((server, local))
}
