//! Liveness and readiness, for load balancers and orchestrators: `/healthz` answers while the
//! process serves HTTP at all; `/readyz` answers 200 only while the database answers too.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde_json::json;

use super::AppState;
use crate::db::DbError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // Waiting for a pooled connection and the query both happen on the blocking pool.
    let answered = state
        .db
        .run(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
        .await;
    if answered.is_ok() {
        HttpResponse::Ok().json(json!({ "status": "ready", "database": "ok" }))
    } else {
        tracing::warn!("readiness check failed: the database does not answer");
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": "unreachable" }))
    }
}
