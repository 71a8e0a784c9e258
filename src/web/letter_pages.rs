//! The letter pages of a request: the form a draft is written in (its fields shown and read
//! back), numbering it and signing it from the request page, and its PDF.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::desk::{PageError, PageResult, Viewer, request_page};
use super::error::ApiError;
use super::pages::{page, see_other};
use super::work;
use crate::ids::{LetterId, RequestId};
use crate::workflow::desk;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/permohonan/{id}/surat", web::get().to(letter_form))
        .route("/permohonan/{id}/surat", web::post().to(make_letter))
        .route("/surat/{id}/nomor", web::post().to(number))
        .route("/surat/{id}/tandatangan", web::post().to(sign))
        .route("/surat/{id}/pdf", web::get().to(pdf));
}

/// A field of a draft as its form shows it.
struct FieldInput {
    key: String,
    label: String,
    value: String,
    /// Several lines: a list (one item a line) or a table (cells split by " | ").
    lines: bool,
    hint: String,
}

#[derive(Template)]
#[template(path = "letter_form.html")]
struct LetterPage {
    csrf: String,
    id: i64,
    kind: String,
    kind_name: String,
    fields: Vec<FieldInput>,
    signers: String,
}

/// What a draft's field is called on the form.
fn label(key: &str) -> String {
    LABELS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| key.replace('_', " "), |(_, l)| (*l).to_owned())
}

/// The fields of drafts by their form labels, in the order the form lists them.
const LABELS: [(&str, &str); 26] = [
    ("hal", "Hal"),
    ("sifat", "Sifat"),
    ("lampiran", "Lampiran"),
    ("addressee", "Kepada (Yth.)"),
    ("addressee_place", "Di (tempat)"),
    ("tembusan", "Tembusan"),
    ("instructions", "Instruksi disposisi"),
    ("note", "Catatan"),
    ("letter_from", "Surat dari"),
    ("letter_number", "Nomor surat"),
    ("letter_date", "Tanggal surat"),
    ("conclusion", "Kesimpulan"),
    ("results", "Hasil uji"),
    ("requirements", "Kebutuhan teknis"),
    ("configuration", "Konfigurasi"),
    ("items", "Yang diserahterimakan"),
    ("reasons", "Alasan"),
    ("missing_documents", "Dokumen yang belum lengkap"),
    ("service", "Layanan"),
    ("application_purpose", "Tujuan aplikasi"),
    ("attachments", "Lampiran yang disertakan"),
    ("sender", "Dari"),
    ("test_date", "Tanggal uji"),
    ("request_number", "Nomor surat permohonan"),
    ("request_date", "Tanggal surat permohonan"),
    ("request_subject", "Hal surat permohonan"),
];

/// Fields the person does not edit on the form: set by naskah (date, number), taken from the
/// request, or describing people (the signers).
const FIXED: [&str; 7] = [
    "date",
    "number",
    "signers",
    "applicant_letterhead",
    "applicant_organization",
    "application_name",
    "subdomain",
];

/// The columns of a table field, as its first row has them.
fn columns(rows: &[Value]) -> Vec<String> {
    rows.first()
        .and_then(Value::as_object)
        .map(|row| row.keys().filter(|k| *k != "no").cloned().collect())
        .unwrap_or_default()
}

fn inputs(draft: &Value) -> Vec<FieldInput> {
    let Some(map) = draft.as_object() else {
        return Vec::new();
    };
    // In the order the labels are listed (the letter's head first), then any others.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|key| {
        LABELS
            .iter()
            .position(|(k, _)| k == key)
            .unwrap_or(LABELS.len())
    });
    let mut out = Vec::new();
    for key in keys {
        let value = &map[key];
        if FIXED.contains(&key.as_str()) {
            continue;
        }
        let (text, lines, hint) = match value {
            Value::String(s) => (s.clone(), s.len() > 90, String::new()),
            Value::Array(items) if items.iter().all(Value::is_string) => (
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n"),
                true,
                "satu butir per baris".to_owned(),
            ),
            Value::Array(rows) => {
                let columns = columns(rows);
                let text = rows
                    .iter()
                    .map(|row| {
                        columns
                            .iter()
                            .map(|c| match row.get(c) {
                                Some(Value::String(s)) => s.clone(),
                                Some(other) => other.to_string(),
                                None => String::new(),
                            })
                            .collect::<Vec<_>>()
                            .join(" | ")
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                (
                    text,
                    true,
                    format!("satu baris per butir: {}", columns.join(" | ")),
                )
            }
            _ => continue,
        };
        out.push(FieldInput {
            label: label(key),
            key: key.clone(),
            value: text,
            lines,
            hint,
        });
    }
    out
}

/// The changes a submitted form makes to `draft`: each edited field in the draft's own shape.
fn changes(draft: &Value, form: &[(String, String)]) -> Value {
    let mut out = serde_json::Map::new();
    let Some(map) = draft.as_object() else {
        return Value::Object(out);
    };
    for (key, value) in map {
        if FIXED.contains(&key.as_str()) {
            continue;
        }
        let Some((_, given)) = form.iter().find(|(k, _)| *k == format!("f_{key}")) else {
            continue;
        };
        let lines = || {
            given
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
        };
        let changed = match value {
            Value::String(_) => Value::String(given.trim().to_owned()),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                Value::Array(lines().map(Value::String).collect())
            }
            Value::Array(rows) => {
                let columns = columns(rows);
                Value::Array(
                    lines()
                        .enumerate()
                        .map(|(i, line)| {
                            let mut row = serde_json::Map::new();
                            row.insert("no".into(), (i + 1).into());
                            let mut cells = line.split('|').map(str::trim);
                            for column in &columns {
                                row.insert(
                                    column.clone(),
                                    cells.next().unwrap_or("-").to_owned().into(),
                                );
                            }
                            Value::Object(row)
                        })
                        .collect(),
                )
            }
            _ => continue,
        };
        out.insert(key.clone(), changed);
    }
    Value::Object(out)
}

#[derive(Deserialize)]
struct KindQuery {
    jenis: String,
}

async fn letter_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    query: web::Query<KindQuery>,
) -> PageResult {
    let id = RequestId(path.into_inner());
    let refused = |e: ApiError| PageError::from(e).back_to(request_page(id));
    let kind = work::letter_kind(&query.jenis).map_err(refused)?;
    let draft = work::draft(&state, viewer.person, id, kind)
        .await
        .map_err(refused)?;
    let signers = draft
        .get("signers")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .map(|b| {
                    format!(
                        "{} — {}",
                        b.get("name").and_then(Value::as_str).unwrap_or("-"),
                        b.get("position").and_then(Value::as_str).unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    Ok(page(
        StatusCode::OK,
        &LetterPage {
            csrf: viewer.csrf,
            id: id.0,
            kind: kind.id().to_owned(),
            kind_name: kind.name().to_owned(),
            fields: inputs(&draft),
            signers,
        },
    ))
}

async fn make_letter(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let id = RequestId(path.into_inner());
    let back = request_page(id);
    let refused = |e: ApiError| PageError::from(e).back_to(back.clone());
    let form = form.into_inner();
    let field = |name: &str| super::pages::form_field(&form, name).unwrap_or_default();
    viewer.check(field("csrf"))?;
    let kind = work::letter_kind(field("jenis")).map_err(refused)?;
    let draft = work::draft(&state, viewer.person, id, kind)
        .await
        .map_err(refused)?;
    work::make_letter(&state, viewer.person, id, kind, changes(&draft, &form))
        .await
        .map_err(refused)?;
    Ok(see_other(&back))
}

/// Where to go back to after acting on `letter`: its request's page, or home.
async fn letter_back(state: &AppState, letter: LetterId) -> String {
    state
        .db
        .run(move |conn| desk::request_of(conn, letter).map_err(ApiError::from))
        .await
        .ok()
        .flatten()
        .map_or_else(|| "/beranda".to_owned(), request_page)
}

#[derive(Deserialize)]
struct NumberForm {
    #[serde(default)]
    csrf: String,
    register: Option<String>,
}

async fn number(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<NumberForm>,
) -> PageResult {
    let letter = LetterId(path.into_inner());
    let back = letter_back(&state, letter).await;
    let NumberForm { csrf, register } = form.into_inner();
    viewer.check(&csrf)?;
    super::numbers::number(
        state.clone(),
        viewer.person,
        letter,
        register.unwrap_or_else(|| "keluar".to_owned()),
        None,
    )
    .await
    .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
struct SignForm {
    #[serde(default)]
    csrf: String,
    passphrase: String,
}

async fn sign(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<SignForm>,
) -> PageResult {
    let letter = LetterId(path.into_inner());
    let back = letter_back(&state, letter).await;
    let SignForm { csrf, passphrase } = form.into_inner();
    viewer.check(&csrf)?;
    super::tte::sign(
        state.clone(),
        viewer.person,
        letter,
        crate::tte::Credential::Passphrase(passphrase),
        crate::tte::Mode::Signature,
    )
    .await
    .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

async fn pdf(state: web::Data<AppState>, viewer: Viewer, path: web::Path<i64>) -> PageResult {
    let (name, pdf) = work::pdf(&state, viewer.person, LetterId(path.into_inner())).await?;
    Ok(work::pdf_response(&name, pdf))
}
