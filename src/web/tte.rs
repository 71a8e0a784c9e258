//! Signing a letter through the API: the official named in the letter's signature block signs
//! with the passphrase of their certificate (or initials it, a paraf). The passphrase travels
//! in the request body only, and is neither logged nor stored.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::ids::LetterId;
use crate::tte::{self, Credential, Mode, TteError, bsre::BsreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/letters/{id}/sign", web::post().to(sign_api))
        .route("/api/v1/letters/{id}/sign/totp", web::post().to(totp));
}

impl From<TteError> for ApiError {
    fn from(error: TteError) -> Self {
        use TteError as E;
        let (status, code) = match &error {
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::NotSigner | E::ParafNotAllowed => (StatusCode::FORBIDDEN, "forbidden"),
            E::Void(_) | E::NotNumbered(_) | E::AlreadySigned => (StatusCode::CONFLICT, "conflict"),
            E::Locked { .. } => (StatusCode::LOCKED, "signing_locked"),
            E::WrongPassphrase { .. } | E::Remote(BsreError::WrongPassphrase) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "wrong_passphrase")
            }
            E::NoCertificate(_)
            | E::Key(_)
            | E::Signing(crate::signing::SigningError::Key(crate::signing::KeyError::Unusable(
                _,
            )))
            | E::Remote(BsreError::NotIssued(_))
            | E::Remote(BsreError::TotpNeedsV2) => (StatusCode::CONFLICT, "certificate_unusable"),
            E::Remote(_) | E::Signing(crate::signing::SigningError::TimeStamp(_)) => {
                (StatusCode::BAD_GATEWAY, "service_unavailable")
            }
            E::Letter(crate::letters::store::LetterError::Moved(_)) => {
                (StatusCode::CONFLICT, "conflict")
            }
            E::Signing(_) | E::Letter(_) | E::Database(_) => {
                return ApiError::internal(&error);
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

#[derive(Deserialize)]
struct SignBody {
    passphrase: Option<String>,
    /// A one-time code from BSrE (API v2), instead of the passphrase.
    totp: Option<String>,
    #[serde(default = "default_mode")]
    mode: Mode,
}

fn default_mode() -> Mode {
    Mode::Signature
}

async fn sign_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<SignBody>,
) -> Result<HttpResponse, ApiError> {
    let letter = LetterId(path.into_inner());
    let SignBody {
        passphrase,
        totp,
        mode,
    } = body.into_inner();
    let credential = match (passphrase, totp) {
        (Some(passphrase), None) => Credential::Passphrase(passphrase),
        (None, Some(code)) => Credential::Totp(code),
        _ => {
            return Err(ApiError::bad_request(
                "isi salah satu: passphrase atau kode OTP (totp)",
            ));
        }
    };
    let signed = sign(state, caller.person, letter, credential, mode).await?;
    Ok(HttpResponse::Created().json(signed))
}

/// Signs (or initials) `letter` as `person` with `credential`.
pub async fn sign(
    state: web::Data<AppState>,
    person: crate::ids::PersonId,
    letter: LetterId,
    credential: Credential,
    mode: Mode,
) -> Result<tte::Signed, ApiError> {
    let settings = state.tte.clone();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            Ok(tte::sign_letter_with(
                conn,
                &settings,
                letter,
                person,
                &credential,
                mode,
            )?)
        })
        .await
}

/// Has BSrE e-mail the caller a one-time code for signing the letter.
async fn totp(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let letter = LetterId(path.into_inner());
    let settings = state.tte.clone();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            Ok(tte::request_totp(conn, &settings, letter, caller.person)?)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "sent": true })))
}
