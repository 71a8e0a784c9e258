//! The database layer on both backends: migrations go up, down and up again; the two backends'
//! migrations define exactly the tables `src/db/schema.rs` declares; the audit log is
//! append-only and its chain shows every break; the demo data can be created twice.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use naskah::audit::{self, Break, Event, Fault};
use naskah::db::{DbConn, migrate, write_transaction};

use crate::common::{crate_root, naskah, on_both_backends};

/// Column name → (diesel type, nullable), per table.
type Tables = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// The tables `src/db/schema.rs` declares, read from its `diesel::table!` blocks.
fn declared_tables() -> Tables {
    let text = std::fs::read_to_string(crate_root().join("src/db/schema.rs")).expect("schema.rs");
    let mut tables = Tables::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with('{')) {
            current = Some(name.to_owned());
            tables.entry(name.to_owned()).or_default();
        } else if let (Some(table), Some((column, ty))) = (&current, line.split_once(" -> ")) {
            let ty = ty.trim_end_matches(',');
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (ty, false),
            };
            tables
                .entry(table.clone())
                .or_default()
                .insert(column.to_owned(), (ty.to_owned(), nullable));
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[derive(QueryableByName)]
struct CatalogColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    nullable: i32,
}

/// The tables the database has after the migrations, in diesel's type names.
fn catalog_tables(conn: &mut DbConn) -> Tables {
    let columns: Vec<CatalogColumn> = match conn {
        DbConn::Pg(pg) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                    data_type::text AS data_type, \
                    CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(pg),
        DbConn::Sqlite(sqlite) => diesel::sql_query(
            "SELECT m.name AS table_name, c.name AS column_name, c.type AS data_type, \
                    CASE WHEN c.\"notnull\" = 1 OR c.pk = 1 THEN 0 ELSE 1 END AS nullable \
             FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
               AND m.name <> '__diesel_schema_migrations'",
        )
        .load(sqlite),
    }
    .expect("catalog");
    let mut tables = Tables::new();
    for column in columns {
        let ty = match (
            column.data_type.to_lowercase().as_str(),
            column.column_name.as_str(),
        ) {
            ("bigint", _) | ("integer", "id") => "Int8",
            ("integer", _) => "Int4",
            ("text", _) => "Text",
            ("boolean", _) => "Bool",
            ("date", _) => "Date",
            ("timestamp" | "timestamp without time zone", _) => "Timestamp",
            ("bytea" | "blob", _) => "Bytea",
            (other, _) => panic!(
                "{}.{} has type {other}",
                column.table_name, column.column_name
            ),
        };
        tables
            .entry(column.table_name)
            .or_default()
            .insert(column.column_name, (ty.to_owned(), column.nullable == 1));
    }
    tables
}

fn table_count(conn: &mut DbConn) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Count> = match conn {
        DbConn::Pg(pg) => diesel::sql_query(
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(pg),
        DbConn::Sqlite(sqlite) => diesel::sql_query(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
        )
        .load(sqlite),
    }
    .expect("count tables");
    rows.first().map_or(0, |row| row.n)
}

fn event(n: usize) -> Event<'static> {
    Event {
        actor: None,
        office: None,
        action: "test.event",
        subject: format!("test:{n}"),
        detail: serde_json::json!({ "n": n, "text": "Pada hari ini \"Senin\"" }),
    }
}

on_both_backends! {
    fn migrations_go_up_down_and_up_again(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let known = migrate::known_versions(&conn);
        assert_eq!(migrate::run_pending(&mut conn).expect("up"), known);
        assert!(table_count(&mut conn) >= 11);
        let mut reverted = migrate::revert_all(&mut conn).expect("down");
        reverted.reverse();
        assert_eq!(reverted, known);
        assert_eq!(table_count(&mut conn), 0, "down removes every table");
        assert_eq!(migrate::run_pending(&mut conn).expect("up again"), known);
        assert!(migrate::run_pending(&mut conn).expect("nothing pending").is_empty());
    }

    fn schema_matches_migrations(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        migrate::run_pending(&mut conn).expect("migrate");
        let declared = declared_tables();
        assert!(declared.len() >= 11, "schema.rs parsed: {declared:?}");
        assert_eq!(catalog_tables(&mut conn), declared);
    }

    fn audit_log_is_append_only_and_its_chain_shows_breaks(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        migrate::run_pending(&mut conn).expect("migrate");
        for n in 1..=5 {
            write_transaction(&mut conn, |c| audit::append(c, event(n))).expect("append");
        }
        assert_eq!(audit::verify(&mut conn).expect("verify"), vec![]);

        // A rolled-back change leaves no entry behind and no gap.
        let rolled_back: Result<(), diesel::result::Error> = write_transaction(&mut conn, |c| {
            audit::append(c, event(99))?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(rolled_back.is_err());
        let entry = write_transaction(&mut conn, |c| audit::append(c, event(6))).expect("append");
        // Gapless is the chain's numbering (`seq`); PostgreSQL's ids come from a sequence,
        // which a rollback does not give back.
        assert_eq!((entry.chain, entry.seq), (0, 6));

        for statement in [
            "UPDATE audit_log SET action = 'forged' WHERE id = 2",
            "DELETE FROM audit_log WHERE id = 3",
        ] {
            let refused = conn.batch_execute(statement);
            assert!(
                refused.as_ref().is_err_and(|e| e.to_string().contains("append-only")),
                "{statement}: {refused:?}"
            );
        }

        // Someone with the power to drop the guard edits one entry and deletes another.
        let unguard = match &*conn {
            DbConn::Pg(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            DbConn::Sqlite(_) => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete",
        };
        conn.batch_execute(unguard).expect("drop the guard");
        conn.batch_execute("UPDATE audit_log SET detail = '{\"n\":20}' WHERE id = 2")
            .expect("edit");
        conn.batch_execute("DELETE FROM audit_log WHERE id = 4").expect("delete");
        assert_eq!(
            audit::verify(&mut conn).expect("verify"),
            vec![
                Break { office: None, fault: Fault::Altered { seq: 2 } },
                Break { office: None, fault: Fault::Missing { from: 4, to: 4 } },
            ]
        );
    }

    fn nested_write_transactions_roll_back_only_the_inner_part(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        migrate::run_pending(&mut conn).expect("migrate");
        write_transaction(&mut conn, |c| {
            audit::append(c, event(1))?;
            let inner: Result<(), diesel::result::Error> = write_transaction(c, |c| {
                audit::append(c, event(2))?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            assert!(inner.is_err());
            audit::append(c, event(3))
        })
        .expect("outer commits");
        let subjects: Vec<String> = naskah::db::schema::audit_log::table
            .order(naskah::db::schema::audit_log::id)
            .select(naskah::db::schema::audit_log::subject)
            .load(&mut *conn)
            .expect("entries");
        assert_eq!(subjects, ["test:1", "test:3"]);
        assert_eq!(audit::verify(&mut conn).expect("verify"), vec![]);
    }

    fn demo_data_is_created_once(db) {
        let output = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .arg("demo")
            .output()
            .expect("run");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let pki = db.dir.path().join("pki");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            format!("demo data: 5 office(s) and 39 person(s) created; demo PKI in {}", pki.display())
        );
        let root = std::fs::read(pki.join(naskah::signing::pki::ROOT_CERT)).expect("the demo PKI's root");
        let again = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .arg("demo")
            .output()
            .expect("run");
        assert_eq!(
            String::from_utf8_lossy(&again.stdout).trim(),
            format!("demo data: 0 office(s) and 0 person(s) created; demo PKI in {}", pki.display())
        );
        assert_eq!(std::fs::read(pki.join(naskah::signing::pki::ROOT_CERT)).expect("root"), root, "the PKI is kept");

        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let offices = naskah::office::list(&mut conn).expect("offices");
        let codes: Vec<&str> = offices.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes, ["banggai", "bolmut", "malut", "sumbar", "tarakan"]);
        let banggai = &offices[0];
        assert_eq!(banggai.city, "Luwuk");
        assert_eq!(banggai.time_zone, "WITA");
        let head = naskah::people::find_by_username(&mut conn, "banggai.kadis")
            .expect("query")
            .expect("the head of Banggai's office");
        assert_eq!(head.nip.as_deref(), Some("198107212003121004"));
        assert_eq!(
            naskah::people::roles_in(&mut conn, head.id, banggai.id).expect("roles"),
            ["kepala_dinas"]
        );
        assert_eq!(audit::verify(&mut conn).expect("verify"), vec![]);
    }

    fn migrate_command_reports_what_it_did(db) {
        let run = || {
            let output = naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .arg("migrate")
                .output()
                .expect("run");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        };
        let migrations = std::fs::read_dir(crate_root().join("schema/sqlite")).expect("schema").count();
        assert!(run().starts_with(&format!("applied {migrations} migration(s): ")));
        assert_eq!(run(), "database is up to date");
    }
}

/// A short command against PostgreSQL used to crash at exit (SIGSEGV, no message) about one run
/// in four, when the pool was opening a spare connection as the process ended.
#[test]
fn exits_cleanly_after_short_commands() {
    let db = crate::common::TestDb::new(crate::common::Backend::Postgres);
    for run in 0..40 {
        let output = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .env("NASKAH_LOG", "warn")
            .arg("migrate")
            .output()
            .expect("run");
        assert!(
            output.status.success(),
            "run {run}: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
