//! Archive classification codes as an office's secretariat keeps them: every office starts with
//! the regulation's list, edits its own copy, and a letter's code must file under it.

use naskah::classification::{self, ClassificationError};
use naskah::letters::{self, LetterKind, store};

use crate::common::{Server, TestDb, naskah, on_both_backends};

fn settings() -> store::Settings {
    store::Settings {
        public_url: "https://naskah.example.go.id".into(),
        tte_issuer: "BSrE".into(),
        templates: None,
    }
}

on_both_backends! {
    fn an_office_edits_its_list_and_letters_file_under_it(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        naskah::demo::create(&mut conn).expect("demo");
        let office = naskah::office::find_by_code(&mut conn, "banggai").expect("query").expect("office");
        let codes = classification::list(&mut conn, office.id).expect("list");
        assert_eq!(codes.len(), 11, "the bundled list, loaded by the demo");
        assert_eq!(codes[5].code, "500");
        assert_eq!(codes[6].code, "500.12");
        assert_eq!(codes[6].title, "Komunikasi dan Informatika");

        // A unit's sub-code is added under its branch; one without a branch is refused.
        classification::set(&mut conn, office.id, "500.12.6", "Layanan E-Government", None).expect("set");
        classification::set(&mut conn, office.id, "500.12.6", "Layanan E-Government dan Aplikasi", None).expect("retitle");
        let error = classification::set(&mut conn, office.id, "500.12.6.1", "  ", None).unwrap_err();
        assert!(matches!(error, ClassificationError::NoTitle(_)), "{error}");
        let error = classification::set(&mut conn, office.id, "5OO.1", "Salah", None).unwrap_err();
        assert!(matches!(error, ClassificationError::Malformed(_)), "{error}");

        // A letter files under a known branch; a malformed code or a retired branch is refused
        // and no letter is made.
        let letterhead = letters::letterhead_of(&office).expect("letterhead");
        let owner = store::Owner { office: office.id, request: None, actor: None };
        let kind = LetterKind::SuratRekomendasi;
        let mut data = letters::sample(kind);
        let letters_before: i64 = letter_count(&mut conn);
        data["kka"] = "500.12.6".into();
        store::create(&mut conn, owner, &letterhead, kind, &data, &settings(), naskah::db::now()).expect("a letter under 500.12.6");
        classification::retire(&mut conn, office.id, "500", None).expect("retire");
        let error = classification::retire(&mut conn, office.id, "500", None).unwrap_err();
        assert!(matches!(error, ClassificationError::Unknown(_)), "retired twice: {error}");
        for (code, message) in [
            ("500.4", "kode klasifikasi 500.4 tidak ada di daftar kantor ini"),
            ("500/12", "kode klasifikasi '500/12' tidak sah"),
        ] {
            data["kka"] = code.into();
            let error = store::create(&mut conn, owner, &letterhead, kind, &data, &settings(), naskah::db::now()).unwrap_err();
            assert!(error.to_string().starts_with(message), "{code}: {error}");
        }
        // Under the retired 500, 500.12 still stands on its own.
        data["kka"] = "500.12.9".into();
        store::create(&mut conn, owner, &letterhead, kind, &data, &settings(), naskah::db::now()).expect("under 500.12");
        let error = classification::set(&mut conn, office.id, "500.3", "Perdagangan", None).unwrap_err();
        assert!(matches!(error, ClassificationError::NoParent { .. }), "{error}");
        assert_eq!(letter_count(&mut conn), letters_before + 2);
        let listed = classification::list(&mut conn, office.id).expect("list");
        let five_hundred = listed.iter().find(|c| c.code == "500").expect("500 is kept");
        assert!(five_hundred.retired_at.is_some());
        // Setting a retired code again brings it back.
        classification::set(&mut conn, office.id, "500", "Perekonomian", None).expect("back");
        classification::set(&mut conn, office.id, "500.3", "Perdagangan", None).expect("now under 500");

        // Loading a list is all or nothing, and names the line at fault.
        let error = classification::load(&mut conn, office.id, "800.1 Sumber Daya Manusia\n800.1.2\n", None).unwrap_err();
        assert_eq!(error.to_string(), "baris 2: '800.1.2' tidak punya uraian");
        assert!(!classification::list(&mut conn, office.id).expect("list").iter().any(|c| c.code == "800.1"));
        let error = classification::load(&mut conn, office.id, "910.1 Anggaran\n", None).unwrap_err();
        assert!(matches!(error, ClassificationError::NoParent { .. }), "{error}");
        assert_eq!(classification::load(&mut conn, office.id, "910 Anggaran\n910.1 Penyusunan\n", None).expect("load"), 2);
        assert!(naskah::audit::verify(&mut conn).expect("verify").is_empty());
    }

    fn only_the_secretariat_changes_the_list(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        naskah::demo::create(&mut conn).expect("demo");
        let token = |conn: &mut naskah::db::DbConn, username: &str| {
            let person = naskah::people::find_by_username(conn, username).expect("query").expect("person").id;
            naskah::tokens::create(conn, person, "uji").expect("token")
        };
        let secretary = token(&mut conn, "bolmut.sekretariat");
        let kadis = token(&mut conn, "bolmut.kadis");
        let stranger = token(&mut conn, "banggai.sekretariat");
        drop(conn);
        let mut command = naskah(db.dir.path());
        command.env("NASKAH_DATABASE_URL", &db.url).args(["serve", "--bind", "127.0.0.1:0"]);
        let server = Server::start(command);
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let call = |method: &str, path: &str, token: &str, body: &str| -> (u16, serde_json::Value) {
            let url = format!("http://{}/api/v1/offices/bolmut/classification{path}", server.addr);
            let auth = format!("Bearer {token}");
            let mut response = match method {
                "GET" => agent.get(&url).header("Authorization", &auth).call(),
                "PUT" => agent.put(&url).header("Authorization", &auth).header("Content-Type", "application/json").send(body),
                _ => agent.delete(&url).header("Authorization", &auth).call(),
            }
            .expect("response");
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        };
        let body = r#"{"title":"Persandian"}"#;
        let (status, listed) = call("GET", "", &kadis, "");
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed.as_array().map(Vec::len), Some(11));
        let (status, error) = call("PUT", "/500.12.9", &kadis, body);
        assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")), "{error}");
        assert_eq!(call("GET", "", &stranger, "").0, 404, "another office's list is not found");
        assert_eq!(call("PUT", "/500.12.9", &stranger, body).0, 404);
        let (status, error) = call("PUT", "/500.12.x", &secretary, body);
        assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid")), "{error}");
        assert_eq!(call("PUT", "/500.12.9", &secretary, body).0, 204);
        assert_eq!(call("DELETE", "/500.12.9", &kadis, "").0, 403);
        assert_eq!(call("DELETE", "/500.12.9", &secretary, "").0, 204);
        assert_eq!(call("DELETE", "/500.12.9", &secretary, "").0, 404, "already retired");
        let (_, listed) = call("GET", "", &kadis, "");
        let added = listed.as_array().expect("list").iter().find(|c| c["code"] == "500.12.9").cloned().expect("kept");
        assert_eq!(added["title"], "Persandian");
        assert!(added["retired_at"].is_string(), "{added}");
    }
}

fn letter_count(conn: &mut naskah::db::DbConn) -> i64 {
    use diesel::prelude::*;
    naskah::db::schema::letters::table
        .count()
        .get_result(conn)
        .expect("count")
}

#[test]
fn the_cli_loads_lists_and_refuses_a_non_secretary() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let run = |args: &[&str]| {
        let output = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(args)
            .output()
            .expect("run");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["demo"]).0, Some(0));
    let list = db.dir.path().join("kka.txt");
    std::fs::write(
        &list,
        "500.12.6 Layanan E-Government\n500.12.6.1 Subdomain\n",
    )
    .expect("write");
    let list = list.to_string_lossy().into_owned();
    let (code, _, stderr) = run(&[
        "kka",
        "load",
        "--office",
        "banggai",
        "--as",
        "banggai.kadis",
        "--file",
        &list,
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("hanya sekretariat"), "{stderr}");
    let (code, stdout, stderr) = run(&[
        "kka",
        "load",
        "--office",
        "banggai",
        "--as",
        "banggai.sekretariat",
        "--file",
        &list,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "2 code(s) loaded");
    let (code, stdout, _) = run(&["kka", "list", "--office", "banggai"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    let at = |code: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(&format!("{code} ")))
            .unwrap_or_else(|| panic!("{code} in {stdout}"))
    };
    assert!(
        at("500") < at("500.12") && at("500.12") < at("500.12.6") && at("500.12.6.1") < at("600"),
        "{stdout}"
    );
    let (code, _, stderr) = run(&[
        "kka",
        "set",
        "--office",
        "nowhere",
        "--as",
        "banggai.sekretariat",
        "500.1",
        "X",
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no office 'nowhere'"), "{stderr}");
}
