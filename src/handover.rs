//! Handing a hosting account over to the applicant: the technical team enters the account and
//! its password; the password is sealed (AES-256-GCM) under a key kept in the data directory,
//! never in the database, and the applicant reveals it once. Revealing wipes the sealed
//! bytes: afterwards naskah knows only that, when and to whom it was revealed. The password
//! never enters a letter, the audit log or the log.
//!
//! The key is `secrets/handover.key` under the data directory (32 random bytes, mode 0600,
//! made on first use). Processes sharing a database must share it; without it, sealed
//! passwords cannot be revealed and must be handed over again.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

use crate::audit::{self, Event};
use crate::db::schema::account_handovers as handovers;
use crate::db::{DbConn, write_transaction};
use crate::ids::{PersonId, RequestId};
use crate::sop::Artefact;
use crate::workflow::{self, ItemRef, WorkflowError};

const NONCE: usize = 12;
const TAG: usize = 16;
/// The longest password accepted.
const MAX_PASSWORD: usize = 256;

/// The key passwords are sealed under.
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// The key under `data_dir`, made (32 random bytes, readable by the owner only) when
    /// missing.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Key> {
        let path = data_dir.join("secrets").join("handover.key");
        match std::fs::read(&path) {
            Ok(bytes) => bytes.try_into().map(Key).map_err(|_| {
                std::io::Error::other(format!("{} does not hold 32 bytes", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                openssl::rand::rand_bytes(&mut key).map_err(std::io::Error::other)?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(&path) {
                    Ok(mut file) => {
                        file.write_all(&key)?;
                        file.sync_all()?;
                        Ok(Key(key))
                    }
                    // Another process made it first: theirs is the key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Key::load_or_create(data_dir)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// A key kept in memory only, for a server whose handovers need not outlive it (the
    /// numbering benchmark's).
    pub fn ephemeral() -> Result<Key, openssl::error::ErrorStack> {
        let mut key = [0u8; 32];
        openssl::rand::rand_bytes(&mut key)?;
        Ok(Key(key))
    }

    /// `password` sealed for `account` of `request`: nonce, ciphertext, tag. The request and
    /// account are bound in, so sealed bytes moved to another row do not open.
    fn seal(&self, request: RequestId, account: &str, password: &str) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE];
        openssl::rand::rand_bytes(&mut nonce).map_err(|e| e.to_string())?;
        let mut tag = [0u8; TAG];
        let sealed = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(&nonce),
            bound(request, account).as_bytes(),
            password.as_bytes(),
            &mut tag,
        )
        .map_err(|e| e.to_string())?;
        Ok([&nonce[..], &sealed, &tag].concat())
    }

    fn open(&self, request: RequestId, account: &str, sealed: &[u8]) -> Option<String> {
        if sealed.len() < NONCE + TAG {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG);
        let plain = decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(nonce),
            bound(request, account).as_bytes(),
            ciphertext,
            tag,
        )
        .ok()?;
        String::from_utf8(plain).ok()
    }
}

fn bound(request: RequestId, account: &str) -> String {
    format!("naskah handover {request} {account}")
}

/// A handover as a request's page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Handover {
    pub account: String,
    pub created_at: NaiveDateTime,
    /// When the applicant saw the password (or it was replaced by a newer handover); none
    /// while it waits for them.
    pub revealed_at: Option<NaiveDateTime>,
    /// Replaced by a newer handover before the applicant saw it.
    pub replaced: bool,
}

/// The account and its password, revealed.
#[derive(Debug, serde::Serialize)]
pub struct Revealed {
    /// The request's application, for the page that shows it.
    pub application: String,
    pub account: String,
    pub password: String,
}

/// Hands `account` with `password` over on `request`, as `actor` (staff of the office, as
/// for any record): records the `akun_hosting` artefact and seals the password for the
/// applicant. An earlier handover not yet revealed is replaced (its password wiped).
pub fn hand_over(
    conn: &mut DbConn,
    key: &Key,
    request: RequestId,
    actor: PersonId,
    account: &str,
    password: &str,
    at: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let account = account.trim();
    if account.is_empty() || account.len() > 200 || account.contains(char::is_control) {
        return Err(WorkflowError::Invalid(
            "nama akun harus diisi (paling banyak 200 karakter, satu baris)".into(),
        ));
    }
    if password.is_empty() || password.len() > MAX_PASSWORD {
        return Err(WorkflowError::Invalid(format!(
            "kata sandi harus diisi (paling banyak {MAX_PASSWORD} byte)"
        )));
    }
    let sealed = key
        .seal(request, account, password)
        .map_err(WorkflowError::Invalid)?;
    let now = workflow::stored(at);
    write_transaction(conn, |conn| {
        workflow::add_item_in(
            conn,
            request,
            actor,
            ItemRef::Artefact(Artefact::AkunHosting),
            account,
            None,
            at,
        )?;
        let office = workflow::find(conn, request)?.office_id;
        // What was not revealed is withdrawn: only the newest password is the account's.
        let withdrawn = diesel::update(
            handovers::table
                .filter(handovers::request_id.eq(request))
                .filter(handovers::revealed_at.is_null()),
        )
        .set((
            handovers::sealed.eq(None::<Vec<u8>>),
            handovers::revealed_at.eq(Some(now)),
        ))
        .execute(conn)?;
        diesel::insert_into(handovers::table)
            .values((
                handovers::request_id.eq(request),
                handovers::account.eq(account),
                handovers::sealed.eq(Some(sealed)),
                handovers::created_by.eq(actor),
                handovers::created_at.eq(now),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(actor),
                office: Some(office),
                action: "request.account_handed_over",
                subject: format!("request:{request}"),
                detail: serde_json::json!({ "account": account, "replaced": withdrawn }),
            },
        )?;
        Ok(())
    })
}

/// Reveals the waiting password of `request` to `person`, who must be its applicant, and
/// wipes it: a second call finds nothing (`Gone`).
pub fn reveal(
    conn: &mut DbConn,
    key: &Key,
    request: RequestId,
    person: PersonId,
    at: DateTime<Utc>,
) -> Result<Revealed, WorkflowError> {
    write_transaction(conn, |conn| {
        let req = workflow::find(conn, request)?;
        if req.applicant_id != person {
            return Err(WorkflowError::Forbidden(
                "kata sandi akun hanya dapat dilihat oleh pemohon".into(),
            ));
        }
        let waiting: Option<(i64, String, Option<Vec<u8>>)> = handovers::table
            .filter(handovers::request_id.eq(request))
            .filter(handovers::revealed_at.is_null())
            .order(handovers::id.desc())
            .select((handovers::id, handovers::account, handovers::sealed))
            .first(conn)
            .optional()?;
        let Some((id, account, Some(sealed))) = waiting else {
            return Err(WorkflowError::Gone(
                "tidak ada kata sandi yang menunggu: sudah pernah ditampilkan, atau belum diserahkan"
                    .into(),
            ));
        };
        let password = key.open(request, &account, &sealed).ok_or_else(|| {
            WorkflowError::Invalid(
                "kata sandi tidak dapat dibuka dengan kunci server ini; minta tim teknis menyerahkan ulang"
                    .into(),
            )
        })?;
        // Claimed by the update: of two reveals at once, one sees the password.
        let wiped = diesel::update(
            handovers::table
                .filter(handovers::id.eq(id))
                .filter(handovers::revealed_at.is_null()),
        )
        .set((
            handovers::sealed.eq(None::<Vec<u8>>),
            handovers::revealed_by.eq(Some(person)),
            handovers::revealed_at.eq(Some(workflow::stored(at))),
        ))
        .execute(conn)?;
        if wiped != 1 {
            return Err(WorkflowError::Gone("kata sandi sudah ditampilkan".into()));
        }
        audit::append(
            conn,
            Event {
                actor: Some(person),
                office: Some(req.office_id),
                action: "request.account_revealed",
                subject: format!("request:{request}"),
                detail: serde_json::json!({ "account": account }),
            },
        )?;
        Ok(Revealed {
            application: req.application_name,
            account,
            password,
        })
    })
}

/// The handovers of `request`, oldest first.
pub fn of_request(conn: &mut DbConn, request: RequestId) -> QueryResult<Vec<Handover>> {
    handovers::table
        .filter(handovers::request_id.eq(request))
        .order(handovers::id)
        .select((
            handovers::account,
            handovers::created_at,
            handovers::revealed_at,
            handovers::revealed_by,
        ))
        .load::<(
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<PersonId>,
        )>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(account, created_at, revealed_at, by)| Handover {
                    account,
                    created_at,
                    replaced: revealed_at.is_some() && by.is_none(),
                    revealed_at,
                })
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_password_opens_only_with_its_key_request_and_account() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = Key::load_or_create(dir.path()).expect("key");
        let again = Key::load_or_create(dir.path()).expect("key");
        assert_eq!(key.0, again.0, "made once, then read");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets/handover.key"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = key
            .seal(RequestId(7), "simpus", "S3cret!kata-sandi")
            .expect("seal");
        assert!(!String::from_utf8_lossy(&sealed).contains("S3cret"));
        assert_eq!(
            key.open(RequestId(7), "simpus", &sealed).as_deref(),
            Some("S3cret!kata-sandi")
        );
        assert_eq!(key.open(RequestId(8), "simpus", &sealed), None);
        assert_eq!(key.open(RequestId(7), "lain", &sealed), None);
        let other = Key::load_or_create(tempfile::tempdir().expect("tempdir").path()).expect("key");
        assert_eq!(other.open(RequestId(7), "simpus", &sealed), None);
        let mut flipped = sealed.clone();
        flipped[NONCE] ^= 1;
        assert_eq!(key.open(RequestId(7), "simpus", &flipped), None);
    }
}
