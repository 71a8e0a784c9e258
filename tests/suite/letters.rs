//! Letters as a Dinas prints and files them: every kind renders for every demo office into a
//! PDF that qpdf accepts, whose text (read back by poppler's pdftotext) holds the number, the date
//! in Indonesian, the addressee, the subject and every signer's name and NIP, and whose words all
//! lie on the page. Snapshots pin the text and the layout; long subjects and tables flow onto
//! further pages; a missing field is named with its template line; markup typed by a user is
//! printed as text.

use std::path::Path;

use naskah::letters::{self, Electronic, Info, LetterKind, Rendered};
use serde_json::{Value, json};

use crate::common::{crate_root, naskah, tool};

fn electronic() -> Electronic {
    Electronic {
        verification_url:
            "https://naskah.example.go.id/verifikasi/0123456789abcdef0123456789abcdef".into(),
        issuer: "Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara".into(),
    }
}

fn info(kind: LetterKind) -> Info {
    Info {
        title: kind.name().into(),
        author: "naskah".into(),
        created: chrono::NaiveDate::from_ymd_opt(2025, 9, 22)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .expect("a date"),
        document_id: "0123456789abcdef0123456789abcdef".into(),
    }
}

pub fn render(
    kind: LetterKind,
    office: &str,
    data: &Value,
) -> Result<Rendered, letters::RenderError> {
    let (template, file) = letters::template(kind, None)?;
    let letterhead = naskah::demo::letterhead(office).expect("a demo office");
    letters::render(
        &template,
        &file,
        data,
        &letterhead,
        &electronic(),
        &info(kind),
    )
}

fn write(dir: &Path, name: &str, pdf: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pdf).expect("write the PDF");
    path.display().to_string()
}

fn pdftotext(path: &str, layout: bool) -> String {
    let mut args = vec![path, "-"];
    if layout {
        args.insert(0, "-layout");
    }
    let output = tool("pdftotext", &args);
    assert!(
        output.status.success(),
        "pdftotext {path}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// White space folded, so that text wrapped over lines still matches.
fn folded(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// What a reader must find in the letter: its number, date, addressee, subject, and each
/// signer's name and NIP.
fn expected_texts(kind: LetterKind, data: &Value) -> Vec<String> {
    let text = |k: &str| data[k].as_str().unwrap_or_default().to_owned();
    let date = chrono::NaiveDate::parse_from_str(&text("date"), "%Y-%m-%d").expect("a date");
    let mut expected = vec![text("number"), text("addressee"), text("hal")];
    expected.push(match kind {
        LetterKind::BeritaAcaraSerahTerima => letters::indonesian::date_in_words(date),
        _ => letters::indonesian::long_date(date),
    });
    for signer in data["signers"].as_array().expect("signers") {
        expected.push(signer["name"].as_str().expect("a name").to_owned());
        if let Some(nip) = signer["nip"].as_str() {
            expected.push(
                nip.parse::<naskah::people::Nip>()
                    .expect("a NIP")
                    .to_string(),
            );
        }
    }
    expected
}

/// Every word's box, from `pdftotext -bbox`, lies inside the page's margins.
fn assert_words_on_page(path: &str, what: &str) {
    let output = tool("pdftotext", &["-bbox", path, "-"]);
    let html = String::from_utf8_lossy(&output.stdout);
    let number = |line: &str, key: &str| -> f32 {
        let start = line
            .find(&format!("{key}=\""))
            .map(|i| i + key.len() + 2)
            .expect(key);
        line[start..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    let mut words = 0;
    for line in html.lines().filter(|l| l.trim_start().starts_with("<word")) {
        words += 1;
        let (x1, y1, x2, y2) = (
            number(line, "xMin"),
            number(line, "yMin"),
            number(line, "xMax"),
            number(line, "yMax"),
        );
        assert!(
            x1 >= 56.0 && x2 <= 540.0 && y1 >= 30.0 && y2 <= 800.0,
            "{what}: a word runs off the page: {line}"
        );
    }
    assert!(words > 20, "{what}: {words} words");
}

#[test]
fn every_kind_renders_for_every_demo_office() {
    let dir = tempfile::tempdir().expect("tempdir");
    for office in naskah::demo::office_codes() {
        for kind in LetterKind::ALL {
            let data = letters::sample(*kind);
            let rendered =
                render(*kind, office, &data).unwrap_or_else(|e| panic!("{kind} for {office}: {e}"));
            let path = write(dir.path(), &format!("{office}-{kind}.pdf"), &rendered.pdf);
            let check = tool("qpdf", &["--check", &path]);
            assert!(
                check.status.success(),
                "qpdf --check {kind} for {office}: {}",
                String::from_utf8_lossy(&check.stdout)
            );
            let text = folded(&pdftotext(&path, false));
            for expected in expected_texts(*kind, &data) {
                assert!(
                    text.contains(&folded(&expected)),
                    "{kind} for {office} lacks {expected:?}"
                );
            }
            let letterhead = naskah::demo::letterhead(office).expect("office");
            assert!(
                text.contains(&folded(&letterhead.government)),
                "{kind} for {office}: letterhead"
            );
            assert_words_on_page(&path, &format!("{kind} for {office}"));
        }
    }
}

#[test]
fn electronically_signed_letters_say_so_in_the_footer_of_every_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = letters::sample(LetterKind::BeritaAcaraSerahTerima);
    let rendered = render(LetterKind::BeritaAcaraSerahTerima, "banggai", &data).expect("render");
    let path = write(dir.path(), "ba.pdf", &rendered.pdf);
    let text = pdftotext(&path, false);
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(pages.len(), rendered.pages);
    for page in pages {
        assert!(
            folded(page).contains("dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang diterbitkan oleh balai besar sertifikasi elektronik (bsre), badan siber dan sandi negara"),
            "{page}"
        );
    }
}

/// The text and the layout of each kind, pinned. `NASKAH_UPDATE_SNAPSHOTS=1` rewrites them after
/// a deliberate change; review the diff before committing it.
#[test]
fn snapshots_of_text_and_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let update = std::env::var_os("NASKAH_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for kind in LetterKind::ALL {
        let rendered = render(*kind, "banggai", &letters::sample(*kind)).expect("render");
        let path = write(dir.path(), &format!("{kind}.pdf"), &rendered.pdf);
        let text: String = pdftotext(&path, true)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        let structure: Vec<String> = rendered
            .structure
            .iter()
            .map(|p| {
                format!(
                    "page {} {:<12} {:6.1} .. {:6.1}",
                    p.page + 1,
                    p.block,
                    p.top,
                    p.bottom
                )
            })
            .collect();
        let snapshot = format!(
            "# {kind}: {} page(s)\n## layout\n{}\n## text (pdftotext -layout)\n{}\n",
            rendered.pages,
            structure.join("\n"),
            text.trim_end()
        );
        let file = crate_root().join(format!("tests/snapshots/letters/{kind}.txt"));
        if update {
            std::fs::write(&file, &snapshot).expect("write snapshot");
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(snapshot.as_str()) {
            let _ = std::fs::write(file.with_extension("txt.new"), &snapshot);
            stale.push(kind.id());
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots differ (see tests/snapshots/letters/*.txt.new): {stale:?}"
    );
}

#[test]
fn a_long_subject_and_a_long_table_flow_onto_further_pages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut data = letters::sample(LetterKind::SuratTanggapanPersetujuan);
    let subject: String = (1..)
        .map(|i| format!("permohonan{i} hosting aplikasi pelayanan"))
        .scan(String::new(), |all, part| {
            all.push_str(&part);
            all.push(' ');
            Some(all.clone())
        })
        .find(|s| s.len() >= 2_000)
        .expect("a subject")
        .trim()
        .to_owned();
    assert!(subject.len() >= 2_000);
    data["hal"] = json!(subject);
    let rendered = render(LetterKind::SuratTanggapanPersetujuan, "banggai", &data).expect("render");
    assert!(rendered.pages >= 2, "{} page(s)", rendered.pages);
    let path = write(dir.path(), "subject.pdf", &rendered.pdf);
    assert!(folded(&pdftotext(&path, false)).contains(&folded(&subject)));
    assert_words_on_page(&path, "2,000-character subject");

    let mut data = letters::sample(LetterKind::LaporanHasilHosting);
    let rows: Vec<Value> = (1..=300)
        .map(|i| json!({ "no": i, "item": format!("Subdomain aplikasi ke-{i}"), "value": format!("app{i}.banggaikab.go.id") }))
        .collect();
    data["configuration"] = Value::Array(rows);
    let rendered = render(LetterKind::LaporanHasilHosting, "banggai", &data).expect("render");
    assert!(rendered.pages >= 8, "{} page(s)", rendered.pages);
    let path = write(dir.path(), "table.pdf", &rendered.pdf);
    let text = pdftotext(&path, false);
    for i in [1, 150, 299, 300] {
        assert!(
            text.contains(&format!("app{i}.banggaikab.go.id")),
            "row {i}"
        );
    }
    // Pages after the first carry their number at the top: "- 2 -".
    let pages: Vec<String> = pdftotext(&path, true)
        .split('\u{c}')
        .map(str::to_owned)
        .collect();
    for page in 2..=rendered.pages {
        let first_line: String = pages[page - 1]
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        assert_eq!(first_line, format!("-{page}-"), "page number {page}");
    }
    // The header row stands again on each page the table goes on to.
    for page in 2..=rendered.pages {
        if pages[page - 1].contains(".banggaikab.go.id") {
            assert!(pages[page - 1].contains("Uraian"), "header on page {page}");
        }
    }
    assert!(tool("qpdf", &["--check", &path]).status.success());
    assert_words_on_page(&path, "300-row table");
}

#[test]
fn markup_in_user_text_is_printed_as_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut data = letters::sample(LetterKind::SuratTanggapanPenolakan);
    let hostile = "<b>Tebal</b> & {date} <script>alert(1)</script> &amp;";
    data["hal"] = json!(hostile);
    data["reasons"] = json!(["<i>miring</i> {{hal}}"]);
    let rendered = render(LetterKind::SuratTanggapanPenolakan, "banggai", &data).expect("render");
    let text = folded(&pdftotext(
        &write(dir.path(), "markup.pdf", &rendered.pdf),
        false,
    ));
    assert!(text.contains(&folded(hostile)), "{text}");
    assert!(text.contains("<i>miring</i> {{hal}}"));
}

#[test]
fn a_missing_field_is_named_with_its_template_line() {
    let mut data = letters::sample(LetterKind::SuratRekomendasi);
    data.as_object_mut().expect("object").remove("hal");
    let error = render(LetterKind::SuratRekomendasi, "banggai", &data)
        .err()
        .map(|e| e.to_string());
    // <reference/> is on line 5 of letter-templates/surat_rekomendasi.xml.
    assert_eq!(
        error.as_deref(),
        Some(
            "template letter-templates/surat_rekomendasi.xml: field hal (template line 5, column 3): missing from the letter's data"
        )
    );
    let mut data = letters::sample(LetterKind::SuratRekomendasi);
    data["signers"][0]
        .as_object_mut()
        .expect("signer")
        .remove("name");
    let error = render(LetterKind::SuratRekomendasi, "banggai", &data)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("field signers.0.name"), "{error}");
}

#[test]
fn the_cli_lists_kinds_and_renders_with_an_office_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = naskah(dir.path())
        .args(["letter", "kinds"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    let all: Vec<String> = LetterKind::ALL.iter().map(|k| k.id().to_owned()).collect();
    assert_eq!(listed, all);

    let out = dir.path().join("rekomendasi.pdf");
    let output = naskah(dir.path())
        .args([
            "letter",
            "render",
            "--kind",
            "surat_rekomendasi",
            "--sample",
            "--office",
            "tarakan",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = pdftotext(out.to_str().expect("utf-8"), false);
    assert!(text.contains("PEMERINTAH KOTA TARAKAN"));

    // An office's own template, with a placeholder its data lacks, on line 4.
    let own = dir.path().join("templates");
    std::fs::create_dir_all(&own).expect("dir");
    std::fs::write(
        own.join("surat_rekomendasi.xml"),
        "<template kind=\"surat_rekomendasi\">\n  <letterhead/>\n  <p>Nomor {number}</p>\n  <p>Untuk {nama_kepala_bidang}</p>\n</template>\n",
    )
    .expect("write");
    let output = naskah(dir.path())
        .args([
            "letter",
            "render",
            "--kind",
            "surat_rekomendasi",
            "--sample",
            "--templates",
        ])
        .arg(&own)
        .arg("--out")
        .arg(dir.path().join("own.pdf"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("field nama_kepala_bidang (template line 4, column 3): missing"),
        "{stderr}"
    );

    for (args, message) in [
        (
            vec!["--kind", "surat_cinta", "--sample"],
            "unknown letter kind 'surat_cinta'",
        ),
        (
            vec![
                "--kind",
                "surat_rekomendasi",
                "--sample",
                "--office",
                "atlantis",
            ],
            "unknown office 'atlantis'",
        ),
    ] {
        let output = naskah(dir.path())
            .args(["letter", "render"])
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("x.pdf"))
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(message),
            "{args:?}"
        );
    }
}

#[test]
fn fonts_are_embedded_and_subset_and_the_emblem_is_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut letterhead = naskah::demo::letterhead("banggai").expect("office");
    let png = std::fs::read(crate_root().join("tests/fixtures/emblem.png")).expect("emblem");
    letterhead.emblem = Some(letters::Emblem {
        data: std::sync::Arc::new(png),
        png: true,
    });
    let kind = LetterKind::SuratTanggapanPersetujuan;
    let (template, file) = letters::template(kind, None).expect("template");
    let rendered = letters::render(
        &template,
        &file,
        &letters::sample(kind),
        &letterhead,
        &electronic(),
        &info(kind),
    )
    .expect("render");
    let path = write(dir.path(), "emblem.pdf", &rendered.pdf);

    // pdffonts: every font embedded (emb), as a subset (sub), with a Unicode map (uni).
    let fonts = String::from_utf8_lossy(&tool("pdffonts", &[&path]).stdout).into_owned();
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "regular and bold:\n{fonts}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        let flags = &columns[columns.len() - 5..columns.len() - 2];
        assert_eq!(flags, ["yes", "yes", "yes"], "{row}");
        assert!(columns[0].contains('+'), "a subset's name has a tag: {row}");
    }
    // pdfimages: the emblem is the letter's one image, 8 by 10 pixels.
    let images = String::from_utf8_lossy(&tool("pdfimages", &["-list", &path]).stdout).into_owned();
    let rows: Vec<&str> = images.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{images}");
    let columns: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!((columns[3], columns[4]), ("8", "10"), "{images}");
    assert!(tool("qpdf", &["--check", &path]).status.success());
}

#[test]
fn the_qr_code_reads_back_as_the_verification_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kind = LetterKind::SuratTanggapanPersetujuan;
    let rendered = render(kind, "banggai", &letters::sample(kind)).expect("render");
    let path = write(dir.path(), "qr.pdf", &rendered.pdf);
    let prefix = dir.path().join("page");
    let prefix = prefix.to_str().expect("utf-8");
    assert!(
        tool("pdftoppm", &["-r", "200", "-png", &path, prefix])
            .status
            .success()
    );
    // zxing-cpp (installed by scripts/test.sh) decodes every code on the page image.
    let output = tool(
        "python3",
        &[
            "-c",
            "import sys, zxingcpp; from PIL import Image; print('\\n'.join(r.text for r in zxingcpp.read_barcodes(Image.open(sys.argv[1]))))",
            &format!("{prefix}-1.png"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoded = String::from_utf8_lossy(&output.stdout);
    assert_eq!(decoded.trim(), electronic().verification_url);
}
