//! The hosting records over HTTP: anyone with a role in the office reads them; an applicant
//! reads only those of their own requests.

use actix_web::{HttpResponse, web};

use super::AppState;
use super::auth::{Caller, office_roles};
use super::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/offices/{office}/hosting", web::get().to(list));
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let office = path.into_inner();
    let records = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let (office, roles) = office_roles(conn, caller.person, &office)?;
            let applicant_only = crate::workflow::applicant_only(conn, office, &roles)
                .map_err(ApiError::internal)?;
            let applicant = applicant_only.then_some(caller.person);
            Ok(crate::hosting::records(conn, office, applicant)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(records))
}
