//! An office's accounts and roles as its admin keeps them: in the domain on both backends,
//! and on the pages.

use diesel::prelude::*;
use naskah::admin::{self, NewAccount};
use naskah::db::schema::{audit_log, sessions};
use naskah::workflow::WorkflowError;

use crate::common::on_both_backends;

fn account(username: &str, roles: &[&str]) -> NewAccount {
    NewAccount {
        username: username.into(),
        full_name: "Operator Uji, S.Kom".into(),
        nip: None,
        email: Some("operator@banggaikab.go.id".into()),
        position: Some("Operator".into()),
        organization: None,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

on_both_backends! {
    fn an_admin_keeps_the_accounts_and_roles_of_their_office_only(db) {
        use naskah::accounts::{SignIn, sign_in};
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        naskah::demo::create(&mut conn).expect("demo");
        let id = |conn: &mut naskah::db::DbConn, username: &str| {
            naskah::people::find_by_username(conn, username).expect("q").expect("person").id
        };
        let banggai = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office").id;
        let admin = id(&mut conn, "banggai.admin");
        let kadis = id(&mut conn, "banggai.kadis");
        let now = chrono::Utc::now();

        // Only an admin of the office makes accounts, with roles the office knows.
        let refused = admin::create(&mut conn, kadis, banggai, &account("banggai.operator", &["tim_teknis"]), now);
        assert!(matches!(refused, Err(WorkflowError::Forbidden(_))), "{refused:?}");
        let refused = admin::create(&mut conn, admin, banggai, &account("banggai.operator", &["bupati"]), now);
        assert!(matches!(&refused, Err(WorkflowError::Invalid(m)) if m.contains("bupati")), "{refused:?}");
        let refused = admin::create(&mut conn, admin, banggai, &account("banggai.kadis", &["tim_teknis"]), now);
        assert!(matches!(&refused, Err(WorkflowError::Invalid(m)) if m.contains("sudah dipakai")), "{refused:?}");
        let refused = admin::create(&mut conn, admin, banggai, &account("a b", &["tim_teknis"]), now);
        assert!(matches!(refused, Err(WorkflowError::Invalid(_))), "{refused:?}");
        let (operator, password) = admin::create(&mut conn, admin, banggai, &account("Banggai.Operator", &["tim_teknis"]), now).expect("made");
        let member = admin::member(&mut conn, banggai, operator).expect("member");
        assert_eq!((member.username.as_str(), member.roles.as_slice()), ("banggai.operator", &["tim_teknis".to_owned()][..]));
        let signed = sign_in(&mut conn, "banggai.operator", &password, "127.0.0.1", naskah::db::now()).expect("sign in");
        assert!(matches!(signed, SignIn::In(_)), "the first password signs in");

        // Roles replaced, the account closed: its sessions end and it cannot sign in.
        let roles = vec!["tim_teknis".to_owned(), "auditor".to_owned()];
        admin::update(&mut conn, admin, banggai, operator, &roles, false).expect("closed");
        let left: i64 = sessions::table
            .filter(sessions::person_id.eq(operator))
            .count()
            .get_result(&mut conn)
            .expect("sessions");
        assert_eq!(left, 0);
        let signed = sign_in(&mut conn, "banggai.operator", &password, "127.0.0.1", naskah::db::now()).expect("sign in");
        assert!(matches!(signed, SignIn::Wrong), "a closed account does not sign in");
        assert_eq!(admin::member(&mut conn, banggai, operator).expect("member").roles, ["auditor", "tim_teknis"]);

        // Reopened with a new password: the old one no longer works.
        admin::update(&mut conn, admin, banggai, operator, &roles, true).expect("reopened");
        let fresh = admin::reset_password(&mut conn, admin, banggai, operator).expect("reset");
        assert_ne!(fresh, password);
        let old = sign_in(&mut conn, "banggai.operator", &password, "127.0.0.1", naskah::db::now()).expect("sign in");
        assert!(matches!(old, SignIn::Wrong));
        let new = sign_in(&mut conn, "banggai.operator", &fresh, "127.0.0.1", naskah::db::now()).expect("sign in");
        assert!(matches!(new, SignIn::In(_)));

        // The admin keeps their own admin role and account, and no one of another office.
        let own = admin::update(&mut conn, admin, banggai, admin, &["auditor".to_owned()], true);
        assert!(matches!(own, Err(WorkflowError::Invalid(_))), "{own:?}");
        let own = admin::update(&mut conn, admin, banggai, admin, &["admin".to_owned()], false);
        assert!(matches!(own, Err(WorkflowError::Invalid(_))), "{own:?}");
        let stranger = id(&mut conn, "sumbar.kadis");
        let other = admin::reset_password(&mut conn, admin, banggai, stranger);
        assert!(matches!(other, Err(WorkflowError::Invalid(_))), "{other:?}");

        // The office's own holidays: the admin adds and removes them, each once; a step's
        // deadline set afterwards skips the day.
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 28).expect("a day");
        let refused = admin::add_holiday(&mut conn, kadis, banggai, day, "Cuti bersama daerah");
        assert!(matches!(refused, Err(WorkflowError::Forbidden(_))), "{refused:?}");
        let holiday = admin::add_holiday(&mut conn, admin, banggai, day, "Cuti bersama daerah").expect("added");
        let twice = admin::add_holiday(&mut conn, admin, banggai, day, "Lagi");
        assert!(matches!(twice, Err(WorkflowError::Invalid(_))), "{twice:?}");
        let calendar = naskah::calendar::for_office(&mut conn, banggai).expect("calendar");
        assert!(!calendar.is_working_day(day), "the holiday is kept");
        let listed = admin::holidays(&mut conn, banggai, day).expect("holidays");
        assert_eq!(listed.iter().map(|h| (h.id, h.name.as_str())).collect::<Vec<_>>(), [(holiday, "Cuti bersama daerah")]);
        let sumbar = naskah::office::find_by_code(&mut conn, "sumbar").expect("q").expect("office").id;
        let elsewhere = admin::remove_holiday(&mut conn, admin, sumbar, holiday);
        assert!(matches!(elsewhere, Err(WorkflowError::Forbidden(_))), "{elsewhere:?}");
        admin::remove_holiday(&mut conn, admin, banggai, holiday).expect("removed");
        let calendar = naskah::calendar::for_office(&mut conn, banggai).expect("calendar");
        assert!(calendar.is_working_day(day), "a Monday again");

        // The letterhead: the admin edits it, a blank name is refused, a new letter prints it.
        let mut details = naskah::admin::OfficeDetails {
            government: "PEMERINTAH KABUPATEN BANGGAI".into(),
            name: "DINAS KOMUNIKASI DAN INFORMATIKA".into(),
            unit: None,
            address: "Jl. Jend. Sudirman No. 1".into(),
            city: "Luwuk".into(),
            postal_code: Some("94711".into()),
            phone: None,
            website: Some("diskominfo.banggaikab.go.id".into()),
            email: None,
        };
        let refused = admin::update_office(&mut conn, kadis, banggai, &details);
        assert!(matches!(refused, Err(WorkflowError::Forbidden(_))), "{refused:?}");
        details.name = "  ".into();
        let refused = admin::update_office(&mut conn, admin, banggai, &details);
        assert!(matches!(refused, Err(WorkflowError::Invalid(_))), "{refused:?}");
        details.name = "DINAS KOMUNIKASI DAN INFORMATIKA".into();
        admin::update_office(&mut conn, admin, banggai, &details).expect("updated");
        let office = naskah::office::find(&mut conn, banggai).expect("office");
        let letterhead = naskah::letters::letterhead_of(&office).expect("letterhead");
        assert_eq!(office.name, "DINAS KOMUNIKASI DAN INFORMATIKA");
        assert_eq!((letterhead.name.as_str(), letterhead.address.as_str()), ("DINAS KOMUNIKASI DAN INFORMATIKA", "Jl. Jend. Sudirman No. 1"));

        // A number register: set up by the admin or the secretariat, its pattern checked,
        // its first number shown.
        let setup = |code: &str, pattern: &str| naskah::admin::RegisterSetup {
            code: code.into(),
            name: "Surat Keluar Bidang Aptika".into(),
            kind: "outgoing".into(),
            pattern: pattern.into(),
            values: [("kka".to_owned(), "500.12.6".to_owned()), ("unit".to_owned(), "Aptika".to_owned())].into(),
            letter_kind: Some("surat_rekomendasi".into()),
        };
        let refused = admin::create_register(&mut conn, kadis, banggai, &setup("aptika", "{kka}/{seq}/{unit}"));
        assert!(matches!(refused, Err(WorkflowError::Forbidden(_))), "{refused:?}");
        let refused = admin::create_register(&mut conn, admin, banggai, &setup("aptika", "{kka}/{unit}"));
        assert!(matches!(&refused, Err(WorkflowError::Invalid(m)) if m.contains("pola")), "no {{seq}}: {refused:?}");
        let refused = admin::create_register(&mut conn, admin, banggai, &setup("aptika", "{kka}/{seq}/{series}"));
        assert!(matches!(&refused, Err(WorkflowError::Invalid(m)) if m.contains("series")), "a value missing: {refused:?}");
        let (_, example) = admin::create_register(&mut conn, admin, banggai, &setup("aptika", "{kka}/{seq:3}/{unit}/{year}")).expect("set up");
        assert!(example.starts_with("500.12.6/001/Aptika/20"), "{example}");
        let secretary = id(&mut conn, "banggai.sekretariat");
        let twice = admin::create_register(&mut conn, secretary, banggai, &setup("aptika", "{seq}"));
        assert!(matches!(&twice, Err(WorkflowError::Invalid(m)) if m.contains("sudah ada")), "{twice:?}");

        // The audit log records each change, never a password.
        let entries: Vec<(String, String)> = audit_log::table
            .filter(audit_log::subject.eq(format!("person:{operator}")))
            .select((audit_log::action, audit_log::detail))
            .load(&mut conn)
            .expect("audit");
        let actions: Vec<&str> = entries.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(actions, ["person.created", "person.updated", "person.updated", "person.password_set"]);
        let text = format!("{entries:?}");
        assert!(!text.contains(&password) && !text.contains(&fresh), "{text}");
        assert_eq!(naskah::audit::verify(&mut conn).expect("verify"), vec![]);
    }
}

on_both_backends! {
    fn an_operator_sets_up_an_office_whose_admin_then_signs_in(db) {
        let sop_file = crate::common::crate_root().join("sops/tarakan-hosting.xml");
        let add = |code: &str, zone: &str| {
            crate::common::naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .env("ADMIN_PASSWORD", "kata-sandi-admin-awal")
                .args([
                    "office", "add", code,
                    "--government", "PEMERINTAH KOTA BITUNG",
                    "--name", "DINAS KOMUNIKASI DAN INFORMATIKA",
                    "--address", "Jl. Sam Ratulangi No. 1",
                    "--city", "Bitung",
                    "--zone", zone,
                    "--admin", "bitung.admin",
                    "--admin-name", "Admin Bitung",
                    "--password-env", "ADMIN_PASSWORD",
                    "--sop",
                ])
                .arg(&sop_file)
                .output()
                .expect("naskah office add")
        };
        let refused = add("bitung", "WITE");
        assert_eq!(refused.status.code(), Some(2), "{refused:?}");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("WIB, WITA or WIT"), "{refused:?}");
        let made = add("bitung", "WITA");
        assert!(made.status.success(), "{made:?}");
        assert!(String::from_utf8_lossy(&made.stdout).contains("/admin/bitung"), "{made:?}");
        let again = add("bitung", "WITA");
        assert_eq!(again.status.code(), Some(2), "{again:?}");
        assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"), "{again:?}");

        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let office = naskah::office::find_by_code(&mut conn, "bitung").expect("q").expect("office");
        assert_eq!((office.city.as_str(), office.zone().code()), ("Bitung", "WITA"));
        let admin = naskah::people::find_by_username(&mut conn, "bitung.admin").expect("q").expect("admin");
        assert_eq!(naskah::people::roles_in(&mut conn, admin.id, office.id).expect("roles"), ["admin"]);
        let signed = naskah::accounts::sign_in(&mut conn, "bitung.admin", "kata-sandi-admin-awal", "127.0.0.1", naskah::db::now()).expect("sign in");
        assert!(matches!(signed, naskah::accounts::SignIn::In(_)));
        // The admin keeps the rest: here, an account for the head of office.
        let (_, sop) = naskah::workflow::current_sop(&mut conn, office.id).expect("the SOP");
        let head = sop.roles.iter().find(|r| naskah::people::roles::HEADS.contains(&r.id.as_str())).expect("a head role").id.clone();
        admin::create(&mut conn, admin.id, office.id, &account("bitung.kadis", &[head.as_str()]), chrono::Utc::now()).expect("an account");
        assert!(!naskah::classification::list(&mut conn, office.id).expect("codes").is_empty(), "the regulation's codes");
        drop(conn);

        // The same SOP again changes nothing; the command says which version is in force.
        let sop_again = crate::common::naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["office", "sop", "bitung"])
            .arg(&sop_file)
            .output()
            .expect("naskah office sop");
        assert!(String::from_utf8_lossy(&sop_again.stdout).contains("version 1"), "{sop_again:?}");
    }
}
