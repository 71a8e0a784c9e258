//! The archive and the audit log as an auditor relies on them: `naskah audit verify` names
//! every change made behind naskah's back (a byte of a stored PDF, a PDF replaced with its hash,
//! a revision removed, an audit entry edited or removed) with its position, and exits 1; on an
//! untouched database it exits 0.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use naskah::db::DbConn;
use naskah::db::schema::letter_revisions;
use naskah::letters::{self, LetterKind};

use crate::common::{naskah, on_both_backends};

/// Two letters of the demo's Banggai office, each with its generated revision.
fn two_letters(conn: &mut DbConn) -> [naskah::ids::LetterId; 2] {
    naskah::db::migrate::run_pending(conn).expect("migrate");
    naskah::demo::create(conn).expect("demo");
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("q")
        .expect("office");
    let settings = naskah::letters::store::Settings {
        public_url: "https://naskah.example.go.id".into(),
        tte_issuer: "BSrE".into(),
        templates: None,
    };
    let letterhead = letters::letterhead_of(&office).expect("letterhead");
    [
        LetterKind::SuratRekomendasi,
        LetterKind::BeritaAcaraSerahTerima,
    ]
    .map(|kind| {
        naskah::letters::store::create(
            conn,
            naskah::letters::store::Owner {
                office: office.id,
                request: None,
                actor: None,
            },
            &letterhead,
            kind,
            &letters::sample(kind),
            &settings,
            naskah::db::now(),
        )
        .expect("letter")
    })
}

/// What someone with the database's keys could do: take the append-only guards away.
fn unguard(conn: &mut DbConn) {
    let statements = match conn {
        DbConn::Pg(_) => {
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; \
             ALTER TABLE letter_revisions DISABLE TRIGGER letter_revisions_append_only"
        }
        DbConn::Sqlite(_) => {
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
             DROP TRIGGER letter_revisions_no_update; DROP TRIGGER letter_revisions_no_delete"
        }
    };
    conn.batch_execute(statements).expect("drop the guards");
}

on_both_backends! {
    fn audit_verify_names_every_change_made_behind_naskahs_back(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let [first, second] = two_letters(&mut conn);
        let verify = || {
            let output = naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .args(["audit", "verify"])
                .output()
                .expect("naskah audit verify");
            (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
        };
        let (code, text) = verify();
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("0 break(s)") && text.contains("2 revisions"), "{text}");

        unguard(&mut conn);
        // A byte of the first letter's PDF.
        let mut pdf: Vec<u8> = letter_revisions::table
            .filter(letter_revisions::letter_id.eq(first))
            .select(letter_revisions::pdf)
            .first(&mut *conn)
            .expect("pdf");
        pdf[400] ^= 0x20;
        diesel::update(letter_revisions::table.filter(letter_revisions::letter_id.eq(first)))
            .set(letter_revisions::pdf.eq(&pdf))
            .execute(&mut *conn)
            .expect("change a byte");
        // The second letter's PDF replaced, its hash column with it.
        let forged = b"%PDF-1.7 forged".to_vec();
        diesel::update(letter_revisions::table.filter(letter_revisions::letter_id.eq(second)))
            .set((
                letter_revisions::pdf.eq(&forged),
                letter_revisions::sha256.eq(naskah::digest::sha256_hex(&forged)),
                letter_revisions::size.eq(forged.len() as i64),
            ))
            .execute(&mut *conn)
            .expect("replace");
        // An audit entry edited, another removed.
        conn.batch_execute("UPDATE audit_log SET subject = 'office:99' WHERE id = 2")
            .expect("edit");
        conn.batch_execute("DELETE FROM audit_log WHERE id = 3").expect("delete");

        let (code, text) = verify();
        assert_eq!(code, Some(1), "{text}");
        for expected in [
            "audit entry 2: its content does not match its hash".to_owned(),
            "audit entry 3: missing".to_owned(),
            format!("letter {first} revision 1: the PDF does not match its stored SHA-256 or size"),
            format!("letter {second} revision 1: stored SHA-256"),
        ] {
            assert!(text.contains(&expected), "{expected} in:\n{text}");
        }

        // A revision removed: the log still records it.
        diesel::delete(letter_revisions::table.filter(letter_revisions::letter_id.eq(first)))
            .execute(&mut *conn)
            .expect("delete a revision");
        let (code, text) = verify();
        assert_eq!(code, Some(1));
        assert!(
            text.contains(&format!(
                "letter {first} revision 1: recorded in the audit log, gone from the archive"
            )),
            "{text}"
        );
        let output = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["audit", "verify", "--json"])
            .output()
            .expect("naskah audit verify --json");
        let found: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(found["breaks"][0], serde_json::json!({"kind": "altered", "id": 2}));
        assert_eq!(found["flaws"].as_array().map(Vec::len), Some(2), "{found}");
    }
}
