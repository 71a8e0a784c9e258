//! Liveness and readiness, for load balancers and orchestrators: `/healthz` answers while the
//! process serves HTTP at all; `/readyz` answers 200 only while the database answers too.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    // The pool may wait for a connection; that wait belongs on the blocking pool.
    let ready = web::block(move || db.is_ready()).await.unwrap_or(false);
    if ready {
        HttpResponse::Ok().json(json!({ "status": "ready", "database": "ok" }))
    } else {
        tracing::warn!("readiness check failed: the database does not answer");
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": "unreachable" }))
    }
}
