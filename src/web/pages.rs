//! What every page shares: rendering with headers that keep a page to itself (no scripts,
//! no framing, no sniffing, no referrer), and the cookies naskah sets, each HttpOnly, Secure
//! and SameSite.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

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
