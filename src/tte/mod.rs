//! Signing letters in the workflow (tanda tangan elektronik, TTE): who may sign which letter,
//! with which key, and what is kept.
//!
//! - Only an official named in a signature block of the letter signs it there, matched by NIP;
//!   another official of the office may first initial it (a paraf, invisible).
//! - The first signature of a letter certifies it (DocMDP P=2) and makes the empty fields of
//!   every signer's block, so that each later signer fills their own.
//! - The key is the official's PKCS#12 under the PKI directory, unlocked with the passphrase
//!   they type, or BSrE's signing service for the officials configured to use it. A wrong
//!   passphrase is counted; five in a row lock the official's signing for 15 minutes.
//! - Each signature is a new revision of the letter, stored with its SHA-256; the passphrase
//!   is never stored or logged.

pub mod bsre;
pub mod bulk;

use std::path::PathBuf;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::attempts::{self, Attempt, Policy, Scope};
use crate::audit::{self, Event};
use crate::db::schema::{letter_signatures, letters};
use crate::db::{DbConn, write_transaction};
use crate::ids::{LetterId, PersonId};
use crate::letters::store::{self, LetterError, NewRevision};
use crate::signing::{self, Level, Options, Rect, Reserved, SigningError, SigningKey};

/// Wrong passphrases in a row that lock an official's signing.
pub const MAX_FAILURES: i32 = 5;
/// How long the lock lasts.
pub const LOCK_MINUTES: i64 = 15;

/// What signing in the workflow needs, read once at start-up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the officials' PKCS#12 files are: `officials/USERNAME.p12`.
    pub pki_dir: PathBuf,
    pub level: Level,
    pub time_stamper: Option<signing::tsa::TimeStamper>,
    /// The CRLs embedded at B-LT and above (DER).
    pub crls: Vec<Vec<u8>>,
    /// BSrE's signing service, and the officials who sign through it.
    pub remote: Option<bsre::Remote>,
    pub letters: store::Settings,
}

impl Settings {
    /// Whether `username` signs through BSrE's service.
    pub fn bsre_signs(&self, username: &str) -> bool {
        self.remote.as_ref().is_some_and(|r| r.signs_for(username))
    }

    /// Whether `username` has a PKCS#12 file to sign with (not whether it opens).
    pub fn has_key_file(&self, username: &str) -> bool {
        self.pki_dir
            .join(signing::pki::official_p12(username))
            .is_file()
    }

    /// Signing with the officials' PKCS#12 files in `pki_dir` only, at B-B.
    pub fn local(pki_dir: PathBuf, letters: store::Settings) -> Settings {
        Settings {
            pki_dir,
            level: Level::BB,
            time_stamper: None,
            crls: Vec::new(),
            remote: None,
            letters,
        }
    }
}

/// A paraf (initials, invisible, before the signatures) or a signature in one's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Paraf,
    Signature,
}

impl Mode {
    fn id(self) -> &'static str {
        match self {
            Mode::Paraf => "paraf",
            Mode::Signature => "signature",
        }
    }
}

/// Why a letter was not signed; the messages are what the official reads.
#[derive(Debug, thiserror::Error)]
pub enum TteError {
    #[error("surat {0} tidak ditemukan")]
    NotFound(LetterId),
    #[error("surat {0} sudah dibatalkan")]
    Void(LetterId),
    #[error("surat {0} belum bernomor; sekretariat memberi nomor sebelum surat ditandatangani")]
    NotNumbered(LetterId),
    #[error("Anda tidak tercantum sebagai penanda tangan surat ini")]
    NotSigner,
    #[error(
        "paraf hanya oleh pejabat kantor ini yang bukan penanda tangan, sebelum surat ditandatangani"
    )]
    ParafNotAllowed,
    #[error("Anda sudah menandatangani surat ini")]
    AlreadySigned,
    #[error(
        "penandatanganan Anda dikunci sampai {until} UTC setelah {MAX_FAILURES} kali passphrase salah"
    )]
    Locked { until: NaiveDateTime },
    #[error(
        "passphrase salah; {left} kali lagi sebelum penandatanganan dikunci {LOCK_MINUTES} menit"
    )]
    WrongPassphrase { left: i32 },
    #[error("sertifikat elektronik Anda tidak ditemukan ({0})")]
    NoCertificate(String),
    #[error("sertifikat elektronik Anda tidak dapat dipakai: {0}")]
    Key(String),
    #[error(transparent)]
    Remote(#[from] bsre::BsreError),
    #[error("tanda tangan tidak dapat dibuat: {0}")]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Letter(#[from] LetterError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// What a signing did.
#[derive(Clone, Debug, Serialize)]
pub struct Signed {
    pub revision: i32,
    pub sha256: String,
    pub field: String,
    /// Every signer of the letter has signed.
    pub complete: bool,
}

/// The field of signer `index` (0-based) of a letter.
fn signer_field(index: usize) -> String {
    format!("TTE-{}", index + 1)
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Signing passphrases: five wrong in a row lock signing for [`LOCK_MINUTES`]; then the count
/// starts over. Counted before each passphrase is tried (`crate::attempts`), so parallel
/// attempts try at most five.
const PASSPHRASE_POLICY: Policy = Policy {
    free: MAX_FAILURES,
    wait: chrono::Duration::minutes(LOCK_MINUTES),
    doubling: false,
    longest: chrono::Duration::minutes(LOCK_MINUTES),
    forget_after: None,
};

/// Refuses while the official's signing is locked (before any work is done for the letter).
fn check_lock(conn: &mut DbConn, person: PersonId, now: NaiveDateTime) -> Result<(), TteError> {
    match attempts::waiting(
        conn,
        Scope::Passphrase,
        &attempts::passphrase_subject(person),
        now,
    )? {
        Some(until) => Err(TteError::Locked { until }),
        None => Ok(()),
    }
}

/// A place for one passphrase attempt, taken right before the passphrase is tried.
fn reserve_attempt(
    conn: &mut DbConn,
    person: PersonId,
    now: NaiveDateTime,
) -> Result<Attempt, TteError> {
    match attempts::reserve(
        conn,
        Scope::Passphrase,
        &attempts::passphrase_subject(person),
        &PASSPHRASE_POLICY,
        now,
    )? {
        Attempt::Waiting { until } => Err(TteError::Locked { until }),
        go => Ok(go),
    }
}

/// A wrong passphrase, already counted by `attempt`: audited, and answered with how many are
/// left, or with the lock it set.
fn wrong_passphrase(
    conn: &mut DbConn,
    person: PersonId,
    office: crate::ids::OfficeId,
    attempt: Attempt,
) -> Result<TteError, TteError> {
    let (failures, until) = match attempt {
        Attempt::Go {
            failures,
            waits_until,
        } => (failures, waits_until),
        Attempt::Waiting { until } => (MAX_FAILURES, Some(until)),
    };
    let locked = until.is_some();
    write_transaction(conn, |conn| {
        audit::append(
            conn,
            Event {
                actor: Some(person),
                office: Some(office),
                action: if locked {
                    "signing.locked"
                } else {
                    "signing.wrong_passphrase"
                },
                subject: format!("person:{person}"),
                detail: serde_json::json!({ "failures": failures, "locked_until": until }),
            },
        )
    })?;
    tracing::warn!(%person, failures, locked, "wrong signing passphrase");
    Ok(match until {
        Some(until) => TteError::Locked { until },
        None => TteError::WrongPassphrase {
            left: MAX_FAILURES - failures,
        },
    })
}

/// A right passphrase: the count of wrong ones starts over.
fn clear_passphrase_count(conn: &mut DbConn, person: PersonId) -> diesel::QueryResult<()> {
    attempts::clear(
        conn,
        Scope::Passphrase,
        &attempts::passphrase_subject(person),
    )
}

fn rect_of(spot: &crate::letters::SignatureSpot) -> (u32, Rect) {
    let (x, y, width, height) = spot.pdf_rect();
    (
        spot.page as u32 + 1,
        Rect {
            x,
            y,
            width,
            height,
        },
    )
}

/// What the official signs with: the passphrase of their certificate, or a one-time code
/// e-mailed by BSrE (API v2 only). Never printed.
#[derive(Clone)]
pub enum Credential {
    Passphrase(String),
    Totp(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Passphrase(_) => "Passphrase(***)",
            Credential::Totp(_) => "Totp(***)",
        })
    }
}

impl Credential {
    fn secret(&self) -> bsre::Secret<'_> {
        match self {
            Credential::Passphrase(p) => bsre::Secret::Passphrase(p),
            Credential::Totp(code) => bsre::Secret::Totp(code),
        }
    }
}

/// Signs `letter` as `person` with `passphrase`, in `mode`. The signed PDF becomes the
/// letter's next revision.
pub fn sign_letter(
    conn: &mut DbConn,
    settings: &Settings,
    letter: LetterId,
    person: PersonId,
    passphrase: &str,
    mode: Mode,
) -> Result<Signed, TteError> {
    sign_letter_with(
        conn,
        settings,
        letter,
        person,
        &Credential::Passphrase(passphrase.to_owned()),
        mode,
    )
}

/// The office of `letter` when `person` may see it (`workflow::desk::letter_if_visible`);
/// otherwise "not found", as for a letter that does not exist.
pub fn visible(
    conn: &mut DbConn,
    letter: LetterId,
    person: PersonId,
) -> Result<crate::ids::OfficeId, TteError> {
    match crate::workflow::desk::letter_if_visible(conn, letter, person) {
        Ok(Some(seen)) => Ok(seen.office),
        Ok(None) => Err(TteError::NotFound(letter)),
        Err(crate::workflow::WorkflowError::Database(e)) => Err(TteError::Database(e)),
        Err(_) => Err(TteError::NotFound(letter)),
    }
}

/// [`sign_letter`] with either credential.
pub fn sign_letter_with(
    conn: &mut DbConn,
    settings: &Settings,
    letter: LetterId,
    person: PersonId,
    credential: &Credential,
    mode: Mode,
) -> Result<Signed, TteError> {
    let now = crate::db::now();
    // Who may not see the letter learns nothing of it, its state included.
    let office = visible(conn, letter, person)?;
    let (status, fields): (String, String) = letters::table
        .find(letter)
        .select((letters::status, letters::fields))
        .first(conn)?;
    match status.as_str() {
        "void" => return Err(TteError::Void(letter)),
        "draft" => return Err(TteError::NotNumbered(letter)),
        _ => {}
    }
    let official = crate::people::find(conn, person)?;
    check_lock(conn, person, now)?;

    let fields: Value = serde_json::from_str(&fields).unwrap_or(Value::Null);
    let nips = crate::letters::signer_nips(&fields);
    // The fields signed so far, first first, and who made the first signature: naskah's own
    // signer reserved every block's field with it, a remote service did not.
    let signed_so_far: Vec<(String, String)> = letter_signatures::table
        .filter(letter_signatures::letter_id.eq(letter))
        .order(letter_signatures::revision)
        .select((letter_signatures::field_name, letter_signatures::signer))
        .load(conn)?;
    let reserved = signed_so_far
        .first()
        .is_some_and(|(_, signer)| signer == "pkcs12");
    let done: Vec<String> = signed_so_far.into_iter().map(|(field, _)| field).collect();
    let own_nip = official.nip.as_deref().map(digits).unwrap_or_default();
    let index = nips.iter().position(|n| !n.is_empty() && *n == own_nip);
    let field = match (mode, index) {
        (Mode::Signature, Some(index)) => signer_field(index),
        (Mode::Signature, None) => return Err(TteError::NotSigner),
        // A field's partial name may not hold a period (ISO 32000-1 §12.7.3.2).
        (Mode::Paraf, None) if !own_nip.is_empty() => {
            format!("Paraf-{}", official.username.replace('.', "-"))
        }
        (Mode::Paraf, _) => return Err(TteError::ParafNotAllowed),
    };
    if done.contains(&field) {
        return Err(TteError::AlreadySigned);
    }
    if mode == Mode::Paraf && done.iter().any(|f| f.starts_with("TTE-")) {
        return Err(TteError::ParafNotAllowed);
    }

    // The letter as it stands; a letter numbered without its numbered revision (the process
    // stopped in between) gets it first.
    let mut latest = store::latest_revision(conn, letter)?;
    if status == "numbered"
        && latest
            .as_ref()
            .is_some_and(|(_, purpose, _)| purpose == "generated")
    {
        store::add_numbered_revision(conn, letter, person, &settings.letters)?;
        latest = store::latest_revision(conn, letter)?;
    }
    let (after, _, pdf) = latest.ok_or(TteError::NotFound(letter))?;
    let first = done.is_empty();
    let remote = settings
        .remote
        .as_ref()
        .filter(|remote| remote.signs_for(&official.username));
    let (rect, reserve) = places(
        conn,
        settings,
        letter,
        mode,
        index,
        first,
        remote.is_some() || !reserved,
    )?;
    let (signed, signer) = match remote {
        Some(remote) => {
            let nik = official.nik.clone().unwrap_or_default();
            let attempt = reserve_attempt(conn, person, now)?;
            match remote.sign(
                &pdf,
                &nik,
                credential.secret(),
                rect,
                &settings.letters.public_url,
            ) {
                Err(bsre::BsreError::WrongPassphrase) => {
                    return Err(wrong_passphrase(conn, person, office, attempt)?);
                }
                other => {
                    let signed = other?;
                    clear_passphrase_count(conn, person)?;
                    (signed, "bsre")
                }
            }
        }
        None => {
            let Credential::Passphrase(passphrase) = credential else {
                return Err(TteError::Remote(bsre::BsreError::TotpNeedsV2));
            };
            let attempt = reserve_attempt(conn, person, now)?;
            let key = unlock(settings, &official.username, passphrase).or_else(|e| match e {
                TteError::WrongPassphrase { .. } => {
                    Err(wrong_passphrase(conn, person, office, attempt)?)
                }
                other => Err(other),
            })?;
            clear_passphrase_count(conn, person)?;
            let options = Options {
                page: rect.map_or(1, |(page, _)| page),
                rect: rect.map(|(_, rect)| rect),
                certify: first,
                reason: Some(match mode {
                    Mode::Paraf => "Paraf",
                    Mode::Signature => "Menandatangani surat",
                }),
                location: None,
                field_name: Some(field.clone()),
                signed_at: chrono::Utc::now(),
                reserve,
            };
            let validation = signing::ltv::ValidationData {
                crls: settings.crls.clone(),
                ..Default::default()
            };
            let signed = signing::sign(
                &pdf,
                &key,
                &options,
                settings.level,
                settings.time_stamper.as_ref(),
                &validation,
            )?;
            (signed, "pkcs12")
        }
    };

    let complete_after = done.iter().filter(|f| f.starts_with("TTE-")).count()
        + usize::from(mode == Mode::Signature);
    // A party without a NIP holds no certificate: they sign the printed copy, and the letter
    // is complete when every official has signed.
    let officials = nips.iter().filter(|nip| !nip.is_empty()).count();
    let complete = officials > 0 && complete_after >= officials;
    let level = match signer {
        "bsre" => "BSrE".to_owned(),
        _ => settings.level.to_string(),
    };
    let new = NewRevision {
        after,
        purpose: mode.id(),
        pdf: &signed,
        actor: Some(person),
        detail: serde_json::json!({ "field": field, "level": level, "signer": signer }),
    };
    let (revision, sha256) = store::append_revision(conn, letter, new, |conn| {
        diesel::insert_into(letter_signatures::table)
            .values((
                letter_signatures::letter_id.eq(letter),
                letter_signatures::revision.eq(after + 1),
                letter_signatures::person_id.eq(person),
                letter_signatures::field_name.eq(&field),
                letter_signatures::kind.eq(mode.id()),
                letter_signatures::level.eq(&level),
                letter_signatures::signer.eq(signer),
                letter_signatures::signed_at.eq(now),
            ))
            .execute(conn)?;
        if complete {
            diesel::update(letters::table.find(letter))
                .set(letters::status.eq("signed"))
                .execute(conn)?;
            crate::notify::letter_signed(conn, letter, now)?;
        }
        Ok(())
    })?;
    Ok(Signed {
        revision,
        sha256,
        field,
        complete,
    })
}

/// A signature's widget (page, rectangle), and the empty fields made with it.
type Places = (Option<(u32, Rect)>, Vec<Reserved>);

/// Where the signature goes (for a signature, its signer's block) and, with the first
/// signature, the empty fields of every other signer's block. The places come from the
/// letter's layout, rendered again only when they are needed: for the first signature, and for
/// a signature whose field nobody reserved or that a remote service draws. A later local signer
/// fills the field the first one reserved.
fn places(
    conn: &mut DbConn,
    settings: &Settings,
    letter: LetterId,
    mode: Mode,
    index: Option<usize>,
    first: bool,
    unreserved: bool,
) -> Result<Places, TteError> {
    if !(first || unreserved && mode == Mode::Signature) {
        return Ok((None, Vec::new()));
    }
    let spots = store::render_stored(conn, letter, &settings.letters)?.signature_spots;
    let rect = match (mode, index) {
        (Mode::Signature, Some(index)) => spots.iter().find(|s| s.signer == index).map(rect_of),
        _ => None,
    };
    let reserve = spots
        .iter()
        .filter(|_| first)
        .filter(|s| mode == Mode::Paraf || Some(s.signer) != index)
        .map(|spot| {
            let (page, rect) = rect_of(spot);
            Reserved {
                name: signer_field(spot.signer),
                page,
                rect,
            }
        })
        .collect();
    Ok((rect, reserve))
}

/// The official's key, from their PKCS#12 under the PKI directory.
fn unlock(settings: &Settings, username: &str, passphrase: &str) -> Result<SigningKey, TteError> {
    let file = settings.pki_dir.join(signing::pki::official_p12(username));
    let der = std::fs::read(&file).map_err(|_| TteError::NoCertificate(username.to_owned()))?;
    SigningKey::from_pkcs12(&der, passphrase).map_err(|e| match e {
        signing::KeyError::WrongPassphrase => TteError::WrongPassphrase { left: 0 },
        other => TteError::Key(other.to_string()),
    })
}

/// A letter whose long-term proof was renewed.
#[derive(Clone, Debug, Serialize)]
pub struct Refreshed {
    pub letter: LetterId,
    pub revision: i32,
    /// When the certificate of the time-stamp it had last expires.
    pub authority_expires: chrono::DateTime<chrono::Utc>,
}

/// What [`refresh_ltv`] did: the letters renewed, and those that could not be, with why.
#[derive(Debug, Default)]
pub struct RefreshOutcome {
    pub refreshed: Vec<Refreshed>,
    pub failed: Vec<(LetterId, String)>,
}

/// Re-stamps every signed letter whose newest time-stamp's authority certificate expires
/// within `within`: a revision with the DSS brought up to date and a new document time-stamp
/// (B-LTA). Letters without a time-stamp (B-B) are left as they are. A letter that cannot be
/// renewed is reported and the others go on.
pub fn refresh_ltv(
    conn: &mut DbConn,
    settings: &Settings,
    within: chrono::Duration,
    actor: Option<PersonId>,
) -> Result<RefreshOutcome, TteError> {
    let stamper = settings
        .time_stamper
        .as_ref()
        .ok_or(TteError::Signing(SigningError::NoTimeStamper(Level::BLTA)))?;
    let signed: Vec<LetterId> = letters::table
        .filter(letters::status.eq("signed"))
        .order(letters::id)
        .select(letters::id)
        .load(conn)?;
    let horizon = chrono::Utc::now() + within;
    let mut refreshed = Vec::new();
    let mut failed = Vec::new();
    for letter in signed {
        let Some((after, _, pdf)) = store::latest_revision(conn, letter)? else {
            continue;
        };
        let seen = match signing::ltv::newest_time_stamp(&pdf) {
            Ok(Some(seen)) if seen.authority_expires <= horizon => seen,
            Ok(_) => continue,
            Err(error) => {
                failed.push((letter, error.to_string()));
                continue;
            }
        };
        let renewed = match signing::ltv::refresh(&pdf, stamper, &settings.crls) {
            Ok(renewed) => renewed,
            Err(error) => {
                failed.push((letter, error.to_string()));
                continue;
            }
        };
        let new = NewRevision {
            after,
            purpose: "timestamp",
            pdf: &renewed,
            actor,
            detail: serde_json::json!({ "authority_expires": seen.authority_expires }),
        };
        match store::append_revision(conn, letter, new, |_| Ok(())) {
            Ok((revision, _)) => refreshed.push(Refreshed {
                letter,
                revision,
                authority_expires: seen.authority_expires,
            }),
            Err(error) => failed.push((letter, error.to_string())),
        }
    }
    Ok(RefreshOutcome { refreshed, failed })
}

/// Asks BSrE to e-mail `person` a one-time code for signing `letter`, when they sign through
/// BSrE's API v2.
pub fn request_totp(
    conn: &mut DbConn,
    settings: &Settings,
    letter: LetterId,
    person: PersonId,
) -> Result<(), TteError> {
    visible(conn, letter, person)?;
    let official = crate::people::find(conn, person)?;
    // Only an official may sign (a signer of the letter) or paraf it (another official): a
    // code is asked for nobody else.
    if official
        .nip
        .as_deref()
        .map(digits)
        .unwrap_or_default()
        .is_empty()
    {
        return Err(TteError::ParafNotAllowed);
    }
    let remote = settings
        .remote
        .as_ref()
        .filter(|remote| remote.signs_for(&official.username))
        .ok_or(TteError::Remote(bsre::BsreError::TotpNeedsV2))?;
    remote.request_totp(official.nik.as_deref().unwrap_or_default())?;
    Ok(())
}
