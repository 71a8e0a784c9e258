//! A remote signer that speaks the API of BSrE's Esign Client Service (see
//! ../shared/reference/bsre-esign-api.md): v1 `POST /api/sign/pdf` (multipart; the answer is
//! the signed PDF), v2 `POST /api/v2/sign/pdf` (JSON, files in base64), and
//! `POST /api/v2/user/check/status`, asked before a letter goes to a signer: only a
//! certificate in status ISSUE may sign. Every call carries the application's HTTP Basic
//! credentials; the official's passphrase goes to the service and nowhere else.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::signing::Rect;

/// What the official proves they are with: the passphrase of their certificate, or (API v2)
/// a one-time code the service e-mailed them.
#[derive(Clone, Copy)]
pub enum Secret<'a> {
    Passphrase(&'a str),
    Totp(&'a str),
}

/// Which version of the service's signing call to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    V1,
    V2,
}

/// The service, as configured.
#[derive(Clone)]
pub struct Remote {
    /// The service's base address, such as `http://10.1.2.3`.
    pub url: String,
    pub username: String,
    pub password: String,
    pub api: Api,
    /// The officials (usernames) who sign through the service; the others sign with their
    /// PKCS#12.
    pub officials: Vec<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("api", &self.api)
            .field("officials", &self.officials)
            .finish_non_exhaustive()
    }
}

/// Why the service did not sign; the messages are what the official reads.
#[derive(Debug, thiserror::Error)]
pub enum BsreError {
    #[error("layanan TTE BSrE tidak dapat dihubungi: {0}")]
    Unreachable(String),
    #[error("passphrase salah")]
    WrongPassphrase,
    #[error("sertifikat elektronik tidak dapat dipakai untuk menandatangani: {0}")]
    NotIssued(String),
    #[error("layanan TTE BSrE menolak: {0}")]
    Refused(String),
    #[error("layanan TTE BSrE mengembalikan dokumen yang tidak sah: {0}")]
    BadDocument(String),
    #[error("kode OTP hanya dapat dipakai dengan API v2 layanan TTE BSrE")]
    TotpNeedsV2,
}

/// A certificate's status at BSrE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum UserStatus {
    Issue,
    Other { code: String, words: String },
}

impl UserStatus {
    fn from_code(code: &str) -> UserStatus {
        let words = match code {
            "ISSUE" => return UserStatus::Issue,
            "EXPIRED" => "sertifikat elektronik sudah kedaluwarsa",
            "RENEW" => "sertifikat elektronik sedang diperbarui",
            "WAITING_FOR_VERIFICATION" => "pendaftaran menunggu verifikasi BSrE",
            "NEW" => "pendaftaran baru; sertifikat elektronik belum terbit",
            "NO_CERTIFICATE" => "belum memiliki sertifikat elektronik",
            "NOT_REGISTERED" => "belum terdaftar di BSrE",
            "SUSPEND" => "sertifikat elektronik ditangguhkan",
            "REVOKE" => "sertifikat elektronik dicabut",
            _ => "status sertifikat elektronik tidak dikenal",
        };
        UserStatus::Other {
            code: code.to_owned(),
            words: format!("{words} ({code})"),
        }
    }

    /// What the official and the secretariat read.
    pub fn words(&self) -> &str {
        match self {
            UserStatus::Issue => "sertifikat elektronik aktif",
            UserStatus::Other { words, .. } => words,
        }
    }
}

#[derive(Deserialize)]
struct StatusAnswer {
    status: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status_code: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Properties {
    tampilan: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_x: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_y: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<f32>,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V2Request<'a> {
    nik: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    totp: Option<&'a str>,
    signature_properties: Vec<V2Properties>,
    file: Vec<String>,
}

#[derive(Deserialize)]
struct V2Answer {
    file: Vec<String>,
}

/// BSrE's code for a wrong passphrase (its Web API documents 2031 "Passphrase anda salah").
const WRONG_PASSPHRASE: i64 = 2031;
/// The largest signed file read back.
const MAX_ANSWER: u64 = 96 << 20;
const REASON: &str = "Menandatangani surat";

impl Remote {
    pub fn signs_for(&self, username: &str) -> bool {
        self.officials.iter().any(|o| o == username)
    }

    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn authorization(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!("Basic {}", BASE64.encode(pair))
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches('/'))
    }

    /// POSTs `body` to `path` with the application's credentials; the answer's body when the
    /// service says 200, else what it refused, in its words.
    fn call(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, BsreError> {
        let unreachable = |e: ureq::Error| BsreError::Unreachable(e.to_string());
        let mut response = self
            .agent()
            .post(&self.endpoint(path))
            .header("Authorization", &self.authorization())
            .header("Content-Type", content_type)
            .send(body)
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(unreachable)?;
        if status != 200 {
            return Err(refusal(status, &String::from_utf8_lossy(&answer)));
        }
        Ok(answer)
    }

    fn call_json(&self, path: &str, body: &impl Serialize) -> Result<Vec<u8>, BsreError> {
        self.call(path, "application/json", &json(body)?)
    }

    /// Asks the service to e-mail `nik` a one-time code for signing one document (API v2).
    pub fn request_totp(&self, nik: &str) -> Result<(), BsreError> {
        if self.api != Api::V2 {
            return Err(BsreError::TotpNeedsV2);
        }
        self.call_json(
            "/api/v2/sign/get/totp",
            &serde_json::json!({ "nik": nik, "data": 1 }),
        )?;
        Ok(())
    }

    /// The status of the certificate of `nik`.
    pub fn check_status(&self, nik: &str) -> Result<UserStatus, BsreError> {
        let body = self.call_json(
            "/api/v2/user/check/status",
            &serde_json::json!({ "nik": nik }),
        )?;
        let answer: StatusAnswer =
            serde_json::from_slice(&body).map_err(|e| BsreError::Refused(e.to_string()))?;
        Ok(UserStatus::from_code(answer.status.trim()))
    }

    /// Has the service sign `pdf` for `nik` with `passphrase`, visibly over `place` (page,
    /// rectangle) when given, and checks what comes back: the letter's bytes unchanged, with
    /// something appended.
    pub fn sign(
        &self,
        pdf: &[u8],
        nik: &str,
        secret: Secret<'_>,
        place: Option<(u32, Rect)>,
        link: &str,
    ) -> Result<Vec<u8>, BsreError> {
        if let UserStatus::Other { words, .. } = self.check_status(nik)? {
            return Err(BsreError::NotIssued(words));
        }
        let signed = match (self.api, secret) {
            (Api::V1, Secret::Passphrase(passphrase)) => {
                self.sign_v1(pdf, nik, passphrase, place, link)?
            }
            (Api::V1, Secret::Totp(_)) => return Err(BsreError::TotpNeedsV2),
            (Api::V2, secret) => self.sign_v2(pdf, nik, secret, place)?,
        };
        if signed.len() <= pdf.len() || !signed.starts_with(pdf) {
            return Err(BsreError::BadDocument(
                "isi surat diubah, bukan ditambah tanda tangan".into(),
            ));
        }
        Ok(signed)
    }

    fn sign_v1(
        &self,
        pdf: &[u8],
        nik: &str,
        passphrase: &str,
        place: Option<(u32, Rect)>,
        link: &str,
    ) -> Result<Vec<u8>, BsreError> {
        let mut form = Multipart::new()?;
        form.text("nik", nik);
        form.text("passphrase", passphrase);
        match place {
            Some((page, rect)) => {
                form.text("tampilan", "visible");
                form.text("image", "false");
                form.text("linkQR", link);
                form.text("page", &page.to_string());
                form.text("xAxis", &rect.x.to_string());
                form.text("yAxis", &rect.y.to_string());
                form.text("width", &rect.width.to_string());
                form.text("height", &rect.height.to_string());
            }
            None => form.text("tampilan", "invisible"),
        }
        form.text("reason", REASON);
        form.file("file", "surat.pdf", "application/pdf", pdf);
        let (content_type, body) = form.finish();
        self.call("/api/sign/pdf", &content_type, &body)
    }

    fn sign_v2(
        &self,
        pdf: &[u8],
        nik: &str,
        secret: Secret<'_>,
        place: Option<(u32, Rect)>,
    ) -> Result<Vec<u8>, BsreError> {
        let properties = match place {
            Some((page, rect)) => V2Properties {
                tampilan: "VISIBLE",
                page: Some(page),
                origin_x: Some(rect.x),
                origin_y: Some(rect.y),
                width: Some(rect.width),
                height: Some(rect.height),
                reason: REASON,
            },
            None => V2Properties {
                tampilan: "INVISIBLE",
                page: None,
                origin_x: None,
                origin_y: None,
                width: None,
                height: None,
                reason: REASON,
            },
        };
        let (passphrase, totp) = match secret {
            Secret::Passphrase(passphrase) => (Some(passphrase), None),
            Secret::Totp(code) => (None, Some(code)),
        };
        let request = V2Request {
            nik,
            passphrase,
            totp,
            signature_properties: vec![properties],
            file: vec![BASE64.encode(pdf)],
        };
        let body = self.call_json("/api/v2/sign/pdf", &request)?;
        let answer: V2Answer =
            serde_json::from_slice(&body).map_err(|e| BsreError::BadDocument(e.to_string()))?;
        let first = answer
            .file
            .first()
            .ok_or_else(|| BsreError::BadDocument("tanpa berkas".into()))?;
        BASE64
            .decode(first)
            .map_err(|e| BsreError::BadDocument(e.to_string()))
    }
}

fn json(value: &impl Serialize) -> Result<Vec<u8>, BsreError> {
    serde_json::to_vec(value).map_err(|e| BsreError::Refused(e.to_string()))
}

/// An error answer, read as the service words it.
fn refusal(status: u16, body: &str) -> BsreError {
    let answer: Option<ErrorAnswer> = serde_json::from_str(body).ok();
    let message = answer
        .as_ref()
        .and_then(|a| a.error.clone().or_else(|| a.message.clone()))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let code = answer.as_ref().and_then(|a| a.status_code);
    let lower = message.to_lowercase();
    if code == Some(WRONG_PASSPHRASE) || lower.contains("passphrase") || lower.contains("otp") {
        return BsreError::WrongPassphrase;
    }
    match status {
        401 | 403 => BsreError::Refused(format!("kredensial aplikasi ditolak ({message})")),
        _ => BsreError::Refused(message),
    }
}

/// A multipart/form-data body.
struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Multipart {
    fn new() -> Result<Multipart, BsreError> {
        let mut random = [0u8; 12];
        openssl::rand::rand_bytes(&mut random)
            .map_err(|e| BsreError::Unreachable(e.to_string()))?;
        let boundary = format!("naskah-{}", crate::digest::hex(&random));
        Ok(Multipart {
            boundary,
            body: Vec::new(),
        })
    }

    fn text(&mut self, name: &str, value: &str) {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n",
                self.boundary
            )
            .as_bytes(),
        );
    }

    fn file(&mut self, name: &str, filename: &str, content_type: &str, bytes: &[u8]) {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
    }

    fn finish(mut self) -> (String, Vec<u8>) {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            self.body,
        )
    }
}
