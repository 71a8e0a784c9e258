//! What every page shares: rendering with headers that keep a page to itself (no scripts,
//! no framing, no sniffing, no referrer), and the cookies naskah sets, each HttpOnly, Secure
//! and SameSite.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

/// A refusal or failure, as a page with a way back.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: String,
    pub back: &'a str,
    pub back_label: &'a str,
}

/// `page` rendered with status `status`.
pub fn page(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(error) => {
            tracing::error!(%error, "page not rendered");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A refusal that comes before any page's own handling (a limit), as a page with a way home.
pub fn refusal_page(error: &super::error::ApiError) -> HttpResponse {
    let title = match error.status {
        StatusCode::TOO_MANY_REQUESTS => "Terlalu banyak permintaan",
        StatusCode::SERVICE_UNAVAILABLE => "Layanan sedang penuh",
        _ => "Tidak dapat diproses",
    };
    let mut response = page(
        error.status,
        &ErrorPage {
            title,
            message: error.message.clone(),
            back: "/",
            back_label: "Kembali ke halaman depan",
        },
    );
    retry_after(&mut response, error);
    response
}

/// Tells the browser when to try again, when the error says.
pub fn retry_after(response: &mut HttpResponse, error: &super::error::ApiError) {
    if let Some(seconds) = error.retry_after
        && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// The value of the cookie `name` the browser sent.
pub fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// How strictly a cookie stays with naskah's own requests.
#[derive(Clone, Copy)]
pub enum SameSite {
    /// Sent on top-level navigation from elsewhere (a link to a page), never with another
    /// site's form posts or scripts.
    Lax,
    /// Sent only with naskah's own requests.
    Strict,
}

/// Adds `Set-Cookie: name=value` to `response`, HttpOnly, Secure and SameSite, for
/// `max_age` seconds (0 removes it).
pub fn set_cookie(
    response: &mut HttpResponse,
    name: &str,
    value: &str,
    max_age: i64,
    same_site: SameSite,
) {
    let same_site = match same_site {
        SameSite::Lax => "Lax",
        SameSite::Strict => "Strict",
    };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; Secure; SameSite={same_site}; Max-Age={max_age}"
    );
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A redirect to `to` after a form (303: the browser follows with a GET).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The value of field `name` of a form read as pairs (a field given twice: its first value).
pub fn form_field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A multipart form as read: its text fields and its files (field name, file name, bytes).
/// A file input left empty is not listed.
#[derive(Default)]
pub struct Parts {
    pub texts: Vec<(String, String)>,
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl Parts {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn file(&self, name: &str) -> Option<&(String, String, Vec<u8>)> {
        self.files.iter().find(|(key, _, _)| key == name)
    }
}

/// Refuses a body that says it is larger than `limit` before a byte of it is read.
pub fn declared_within(
    request: &actix_web::HttpRequest,
    limit: usize,
) -> Result<(), super::error::ApiError> {
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(super::error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("berkas lebih dari {} MB", limit >> 20),
        )),
        _ => Ok(()),
    }
}

/// Reads a multipart form of at most `limit` bytes in all (413 beyond), and text fields of at
/// most 64 KiB each. `gate` judges the text fields that came before the first file, before a
/// byte of the file is read (the CSRF token and what says who may upload come first in
/// naskah's forms), and once more at the end.
pub async fn read_parts(
    mut form: actix_multipart::Multipart,
    limit: usize,
    gate: impl Fn(&Parts) -> Result<(), super::error::ApiError>,
) -> Result<Parts, super::error::ApiError> {
    use super::error::ApiError;
    use futures_util::StreamExt;
    let broken = |e: actix_multipart::MultipartError| {
        ApiError::bad_request(format!("unggahan tidak terbaca: {e}"))
    };
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("berkas lebih dari {} MB", limit >> 20),
        )
    };
    let mut parts = Parts::default();
    let mut total = 0usize;
    let mut gated = false;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(broken)?;
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        if file_name.is_some() && !gated {
            gate(&parts)?;
            gated = true;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(broken)?;
            total += chunk.len();
            if total > limit {
                return Err(too_large());
            }
            if file_name.is_none() && bytes.len() + chunk.len() > 64 * 1024 {
                return Err(ApiError::bad_request(format!(
                    "isian {name} terlalu panjang"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) if file_name.is_empty() && bytes.is_empty() => {}
            Some(file_name) => parts.files.push((name, file_name, bytes)),
            None => parts
                .texts
                .push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    gate(&parts)?;
    Ok(parts)
}
