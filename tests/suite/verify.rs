//! The verifier as an auditor relies on it: on a corpus built here (letters signed by naskah at
//! every level and by several signers, PDFs signed by pyHanko, and tampered variants of each)
//! its integrity and modification findings agree with pyHanko's; files built for each
//! published attack class on PDF signatures are never VALID; `naskah verify` speaks JSON and
//! exits as documented.

use std::path::Path;

use diesel::prelude::*;
use lopdf::{Dictionary, IncrementalDocument, Object, Stream};
use naskah::letters::{self, LetterKind};
use naskah::signing::{self, Level, Options, Rect, Reserved};
use naskah::verify::{self, ChangesAfter, Integrity, Roots, Verdict};

use crate::common::{naskah, tool};
use crate::signing::{Tsa, key, pki, pyhanko_sign, sample};

pub(crate) const BLOCK: Rect = Rect {
    x: 320.0,
    y: 90.0,
    width: 220.0,
    height: 110.0,
};

pub(crate) fn letter() -> Vec<u8> {
    sample(LetterKind::SuratRekomendasi)
}

pub(crate) fn options(certify: bool, rect: Option<Rect>, field: Option<&str>) -> Options<'static> {
    Options {
        page: 1,
        rect,
        certify,
        reason: Some("Menyetujui"),
        location: None,
        field_name: field.map(str::to_owned),
        signed_at: chrono::Utc::now(),
        reserve: Vec::new(),
    }
}

pub(crate) fn sign(
    input: &[u8],
    username: &str,
    options: &Options<'_>,
    level: Level,
    tsa: Option<&Tsa>,
) -> Vec<u8> {
    let stamper = tsa.map(|t| signing::tsa::TimeStamper::new(&t.url));
    let validation = signing::ltv::ValidationData {
        crls: [signing::pki::INTERMEDIATE_CRL, signing::pki::ROOT_CRL]
            .iter()
            .map(|f| std::fs::read(pki().dir.join(f)).expect("crl"))
            .collect(),
        ..Default::default()
    };
    signing::sign(
        input,
        &key(username),
        options,
        level,
        stamper.as_ref(),
        &validation,
    )
    .expect("signs")
}

fn roots() -> Roots {
    Roots::from_pem_files(&[pki().dir.join(signing::pki::ROOT_CERT)]).expect("root")
}

/// Appends an incremental update made by `edit`, as any PDF tool could.
pub(crate) fn append(pdf: &[u8], edit: impl FnOnce(&mut IncrementalDocument)) -> Vec<u8> {
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), document);
    edit(&mut update);
    let mut out = Vec::new();
    update.save_to(&mut out).expect("save");
    out
}

pub(crate) fn first_page(update: &IncrementalDocument) -> lopdf::ObjectId {
    *update
        .get_prev_documents()
        .get_pages()
        .get(&1)
        .expect("page 1")
}

/// The first signature dictionary's id.
pub(crate) fn signature_id(pdf: &[u8]) -> lopdf::ObjectId {
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    document
        .objects
        .iter()
        .find(|(_, o)| o.as_dict().is_ok_and(|d| d.has(b"ByteRange")))
        .map(|(id, _)| *id)
        .expect("a signature dictionary")
}

/// pyHanko's findings per signature field: (integrity, modification) with the modification
/// mapped to naskah's terms when pyHanko gives one.
pub(crate) fn pyhanko_findings(path: &str) -> Vec<(String, String, Option<ChangesAfter>)> {
    let root = pki()
        .dir
        .join(signing::pki::ROOT_CERT)
        .to_string_lossy()
        .into_owned();
    let output = crate::signing::pyhanko_output(&root, path);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(4, ':');
            let field = parts.next()?.to_owned();
            let _hash = parts.next()?;
            let integrity = parts.next()?.to_owned();
            let rest = parts.next().unwrap_or_default();
            let modification = rest.split(',').find_map(|p| match p {
                "UNTOUCHED" => Some(ChangesAfter::None),
                "ACCEPTABLE_MODIFICATIONS" => Some(ChangesAfter::Permitted),
                "ILLEGAL_MODIFICATIONS" => Some(ChangesAfter::Disallowed),
                _ => None,
            });
            Some((field, integrity, modification))
        })
        .collect()
}

/// A file of the corpus: its name, its bytes, and the document verdict naskah must give.
struct Case {
    name: &'static str,
    pdf: Vec<u8>,
    verdict: Verdict,
}

fn write(dir: &Path, name: &str, pdf: &[u8]) -> String {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write");
    path.to_string_lossy().into_owned()
}

/// New content drawn on page 1 by a later revision (an incremental saving attack).
pub(crate) fn draw_later(pdf: &[u8]) -> Vec<u8> {
    crate::common::draw_on_first_page(pdf, b"BT /F1 24 Tf 100 700 Td (PALSU) Tj ET")
}

/// A page added by a later revision.
pub(crate) fn add_page(pdf: &[u8]) -> Vec<u8> {
    append(pdf, |update| {
        let page = first_page(update);
        let prev = update.get_prev_documents();
        let parent = prev
            .get_dictionary(page)
            .expect("page")
            .get(b"Parent")
            .and_then(Object::as_reference)
            .expect("parent");
        let mut new_page = prev.get_dictionary(page).expect("page").clone();
        new_page.remove(b"Annots");
        let new_id = update.new_document.add_object(new_page);
        update
            .opt_clone_object_to_new_document(parent)
            .expect("pages");
        let pages = update
            .new_document
            .get_object_mut(parent)
            .and_then(Object::as_dict_mut)
            .expect("pages");
        let mut kids = pages
            .get(b"Kids")
            .and_then(Object::as_array)
            .expect("kids")
            .clone();
        kids.push(Object::Reference(new_id));
        pages.set("Kids", kids);
        pages.set("Count", 2);
    })
}

/// A sticky note added by a later revision.
pub(crate) fn annotate(pdf: &[u8]) -> Vec<u8> {
    append(pdf, |update| {
        let page = first_page(update);
        let mut note = Dictionary::new();
        note.set("Type", Object::Name(b"Annot".to_vec()));
        note.set("Subtype", Object::Name(b"Text".to_vec()));
        note.set("Rect", vec![100.into(), 100.into(), 120.into(), 120.into()]);
        note.set("Contents", Object::string_literal("Disetujui tanpa syarat"));
        let note = update.new_document.add_object(note);
        let prev = update.get_prev_documents();
        let annots = prev
            .get_dictionary(page)
            .expect("page")
            .get(b"Annots")
            .ok()
            .cloned();
        match annots {
            Some(Object::Reference(list)) => {
                update
                    .opt_clone_object_to_new_document(list)
                    .expect("annots");
                if let Ok(Object::Array(items)) = update.new_document.get_object_mut(list) {
                    items.push(Object::Reference(note));
                }
            }
            other => {
                let mut items = other
                    .and_then(|o| o.as_array().ok().cloned())
                    .unwrap_or_default();
                items.push(Object::Reference(note));
                update.opt_clone_object_to_new_document(page).expect("page");
                if let Ok(dict) = update
                    .new_document
                    .get_object_mut(page)
                    .and_then(Object::as_dict_mut)
                {
                    dict.set("Annots", items);
                }
            }
        }
    })
}

/// The signature dictionary redefined by a later revision with `change` applied (universal
/// signature forgery and its kin).
fn redefine_signature(pdf: &[u8], change: impl FnOnce(&mut Dictionary)) -> Vec<u8> {
    let id = signature_id(pdf);
    append(pdf, |update| {
        update
            .opt_clone_object_to_new_document(id)
            .expect("signature");
        let dict = update
            .new_document
            .get_object_mut(id)
            .and_then(Object::as_dict_mut)
            .expect("dict");
        change(dict);
    })
}

/// The /ByteRange's last number changed in place, so that the range no longer ends the file.
fn alter_byte_range(pdf: &[u8]) -> Vec<u8> {
    let mut altered = pdf.to_vec();
    let at = altered
        .windows(10)
        .rposition(|w| w == b"/ByteRange")
        .expect("a byte range");
    let close = at + altered[at..].iter().position(|b| *b == b']').expect("]");
    // The last digit before ']' (skipping the padding) goes down by one.
    let digit = (at..close)
        .rev()
        .find(|i| altered[*i].is_ascii_digit())
        .expect("a digit");
    altered[digit] = if altered[digit] == b'0' {
        b'1'
    } else {
        altered[digit] - 1
    };
    altered
}

/// Signature wrapping: a later revision redefines the signature dictionary so that its byte
/// range covers the whole new file around the old /Contents, as a viewer that only checks the
/// ranges' shape would accept.
fn wrap(pdf: &[u8]) -> Vec<u8> {
    let id = signature_id(pdf);
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    let ranges: Vec<i64> = document
        .get_dictionary(id)
        .expect("sig")
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .expect("range")
        .iter()
        .map(|o| o.as_i64().expect("int"))
        .collect();
    // Written with a placeholder length, then the real one, which has the same width.
    let wrapped = redefine_signature(pdf, |dict| {
        dict.set(
            "ByteRange",
            vec![
                0.into(),
                ranges[1].into(),
                ranges[2].into(),
                Object::Integer(9_999_999),
            ],
        );
    });
    let length = wrapped.len() as i64 - ranges[2];
    let text = String::from_utf8_lossy(&wrapped).replace("9999999", &format!("{length:07}"));
    text.into_bytes()
}

/// Shadow attack, hide: the signed revision draws a white box over a line; a later revision
/// swaps the page's content for one without the box.
pub(crate) fn shadow_hide(letter: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let covered = crate::common::draw_on_first_page(letter, b"1 1 1 rg 60 600 480 40 re f");
    let signed = sign(&covered);
    // The cover removed: the original page content alone.
    let original = lopdf::Document::load_mem(letter).expect("loads");
    let page = *original.get_pages().get(&1).expect("page");
    let contents = original
        .get_dictionary(page)
        .expect("page")
        .get(b"Contents")
        .expect("contents")
        .clone();
    append(&signed, |update| {
        update.opt_clone_object_to_new_document(page).expect("page");
        let dict = update
            .new_document
            .get_object_mut(page)
            .and_then(Object::as_dict_mut)
            .expect("page");
        dict.set("Contents", contents);
    })
}

/// Shadow attack, replace: a later revision redefines an object the signed page draws (a font
/// of the letter) under the same number.
pub(crate) fn shadow_replace(pdf: &[u8]) -> Vec<u8> {
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    let font = document
        .objects
        .iter()
        .find(|(_, o)| {
            o.as_dict()
                .is_ok_and(|d| d.get(b"Type").and_then(Object::as_name).ok() == Some(b"Font"))
        })
        .map(|(id, _)| *id)
        .expect("a font");
    append(pdf, |update| {
        update.opt_clone_object_to_new_document(font).expect("font");
        if let Ok(dict) = update
            .new_document
            .get_object_mut(font)
            .and_then(Object::as_dict_mut)
        {
            dict.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
        }
    })
}

/// Shadow attack, hide-and-replace: the signed revision holds an unused form XObject; a later
/// revision makes the page draw it instead of its own content.
fn shadow_hide_and_replace(letter: &[u8], tsa: Option<&Tsa>) -> Vec<u8> {
    let mut xobject = Dictionary::new();
    xobject.set("Type", Object::Name(b"XObject".to_vec()));
    xobject.set("Subtype", Object::Name(b"Form".to_vec()));
    xobject.set("BBox", vec![0.into(), 0.into(), 595.into(), 842.into()]);
    let mut hidden = None;
    let prepared = append(letter, |update| {
        hidden = Some(update.new_document.add_object(Stream::new(
            xobject,
            b"0 0 0 rg 60 600 200 40 re f".to_vec(),
        )));
    });
    let hidden = hidden.expect("the hidden object");
    let signed = sign(
        &prepared,
        "banggai.kadis",
        &options(true, Some(BLOCK), None),
        Level::BB,
        tsa,
    );
    append(&signed, |update| {
        let page = first_page(update);
        let drawing = update
            .new_document
            .add_object(Stream::new(Dictionary::new(), b"/Shadow Do".to_vec()));
        update.opt_clone_object_to_new_document(page).expect("page");
        let dict = update
            .new_document
            .get_object_mut(page)
            .and_then(Object::as_dict_mut)
            .expect("page");
        dict.set("Contents", Object::Reference(drawing));
        let mut xobjects = Dictionary::new();
        xobjects.set("Shadow", Object::Reference(hidden));
        let mut resources = Dictionary::new();
        resources.set("XObject", xobjects);
        dict.set("Resources", resources);
    })
}

#[test]
fn findings_agree_with_pyhanko_on_a_corpus_and_attacks_are_never_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tsa = Tsa::start();
    let letter = letter();
    let certified = sign(
        &letter,
        "banggai.kadis",
        &options(true, Some(BLOCK), None),
        Level::BB,
        None,
    );
    let mut paraf = options(true, None, Some("Paraf"));
    paraf.reserve = vec![Reserved {
        name: "Kadis".into(),
        page: 1,
        rect: BLOCK,
    }];
    let two = sign(
        &sign(&letter, "banggai.kabid_egov", &paraf, Level::BB, None),
        "banggai.kadis",
        &options(false, None, Some("Kadis")),
        Level::BB,
        None,
    );
    let levels: Vec<(Level, Vec<u8>)> = [Level::BT, Level::BLT, Level::BLTA]
        .into_iter()
        .map(|level| {
            (
                level,
                sign(
                    &letter,
                    "tarakan.kadis",
                    &options(true, Some(BLOCK), None),
                    level,
                    Some(&tsa),
                ),
            )
        })
        .collect();
    let pyhanko = pyhanko_sign(dir.path(), &letter, "1/60,90,280,200/Pihak");
    let pyhanko_then_naskah = sign(
        &pyhanko,
        "banggai.kadis",
        &options(false, Some(BLOCK), None),
        Level::BB,
        None,
    );

    let mut cases = vec![
        Case {
            name: "certified",
            pdf: certified.clone(),
            verdict: Verdict::Indeterminate,
        },
        Case {
            name: "paraf-kadis",
            pdf: two.clone(),
            verdict: Verdict::Indeterminate,
        },
        Case {
            name: "pyhanko",
            pdf: pyhanko.clone(),
            verdict: Verdict::Indeterminate,
        },
        Case {
            name: "pyhanko-naskah",
            pdf: pyhanko_then_naskah,
            verdict: Verdict::Indeterminate,
        },
        Case {
            name: "unsigned",
            pdf: letter.clone(),
            verdict: Verdict::NoSignature,
        },
    ];
    // Without validation data (B-B, B-T) nothing says whether a certificate was revoked:
    // intact, unchanged, and undecided; from B-LT on the DSS decides it.
    for (level, pdf) in &levels {
        cases.push(Case {
            name: level.name(),
            pdf: pdf.clone(),
            verdict: if *level < Level::BLT {
                Verdict::Indeterminate
            } else {
                Verdict::Valid
            },
        });
    }
    // Tampered variants of naskah's and pyHanko's files.
    for (name, base) in [
        ("certified", &certified),
        ("paraf-kadis", &two),
        ("pyhanko", &pyhanko),
        ("b-lta", &levels[2].1),
    ] {
        let leaked: &'static str = Box::leak(format!("{name}+flipped").into_boxed_str());
        cases.push(Case {
            name: leaked,
            pdf: crate::common::flip_content_byte(base),
            verdict: Verdict::Invalid,
        });
        let leaked: &'static str = Box::leak(format!("{name}+drawn").into_boxed_str());
        cases.push(Case {
            name: leaked,
            pdf: draw_later(base),
            verdict: Verdict::Modified,
        });
        let leaked: &'static str = Box::leak(format!("{name}+page").into_boxed_str());
        cases.push(Case {
            name: leaked,
            pdf: add_page(base),
            verdict: Verdict::Modified,
        });
        let leaked: &'static str = Box::leak(format!("{name}+note").into_boxed_str());
        cases.push(Case {
            name: leaked,
            pdf: annotate(base),
            verdict: Verdict::Modified,
        });
    }
    cases.push(Case {
        name: "byte-range-altered",
        pdf: alter_byte_range(&certified),
        verdict: Verdict::Invalid,
    });
    cases.push(Case {
        name: "signature-removed",
        pdf: redefine_signature(&certified, |d| {
            d.remove(b"Contents");
        }),
        verdict: Verdict::Invalid,
    });

    let roots = roots();
    let mut disagreements = Vec::new();
    // How many findings were compared, by pyHanko's modification verdict.
    let mut compared = std::collections::BTreeMap::new();
    for case in &cases {
        let report = verify::verify(&case.pdf, &roots).expect("verifies");
        assert_eq!(report.verdict, case.verdict, "{}: {report:#?}", case.name);
        let path = write(dir.path(), case.name, &case.pdf);
        for (field, integrity, modification) in pyhanko_findings(&path) {
            let Some(ours) = report.signatures.iter().find(|s| s.field == field) else {
                disagreements.push(format!(
                    "{}: pyHanko sees {field}, naskah does not",
                    case.name
                ));
                continue;
            };
            let our_integrity = match ours.integrity {
                Integrity::Intact => "INTACT",
                Integrity::Broken => "INVALID",
            };
            if our_integrity != integrity {
                disagreements.push(format!(
                    "{} {field}: integrity {our_integrity} vs pyHanko {integrity}",
                    case.name
                ));
            }
            *compared
                .entry(format!("{integrity} {modification:?}"))
                .or_insert(0) += 1;
            if let Some(theirs) = modification
                && ours.integrity == Integrity::Intact
                && theirs != ours.changes_after
            {
                disagreements.push(format!(
                    "{} {field}: changes {:?} vs pyHanko {theirs:?} ({:?})",
                    case.name, ours.changes_after, ours.changes
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The table held every kind of finding: intact and untouched, permitted and illegal
    // changes, and broken signatures.
    for kind in [
        "INTACT Some(None)",
        "INTACT Some(Permitted)",
        "INTACT Some(Disallowed)",
    ] {
        assert!(
            compared.get(kind).is_some_and(|n| *n > 0),
            "no {kind} in {compared:?}"
        );
    }
    assert!(
        compared.keys().any(|k| k.starts_with("INVALID")),
        "no broken signature in {compared:?}"
    );
}

#[test]
fn every_attack_class_is_caught() {
    let letter = letter();
    let certified = sign(
        &letter,
        "banggai.kadis",
        &options(true, Some(BLOCK), None),
        Level::BB,
        None,
    );
    let roots = roots();
    let attacks: Vec<(&str, Vec<u8>, Verdict)> = vec![
        (
            "incremental saving: content drawn later",
            draw_later(&certified),
            Verdict::Modified,
        ),
        (
            "incremental saving: page added",
            add_page(&certified),
            Verdict::Modified,
        ),
        (
            "incremental saving: annotation added",
            annotate(&certified),
            Verdict::Modified,
        ),
        ("signature wrapping", wrap(&certified), Verdict::Invalid),
        (
            "universal forgery: /Contents missing",
            redefine_signature(&certified, |d| {
                d.remove(b"Contents");
            }),
            Verdict::Invalid,
        ),
        (
            "universal forgery: /Contents empty",
            redefine_signature(&certified, |d| {
                d.set(
                    "Contents",
                    Object::String(Vec::new(), lopdf::StringFormat::Hexadecimal),
                )
            }),
            Verdict::Invalid,
        ),
        (
            "universal forgery: /Contents zeros",
            redefine_signature(&certified, |d| {
                d.set(
                    "Contents",
                    Object::String(vec![0; 64], lopdf::StringFormat::Hexadecimal),
                )
            }),
            Verdict::Invalid,
        ),
        (
            "universal forgery: /ByteRange missing",
            redefine_signature(&certified, |d| {
                d.remove(b"ByteRange");
            }),
            Verdict::Invalid,
        ),
        (
            "universal forgery: /ByteRange zeros",
            redefine_signature(&certified, |d| {
                d.set("ByteRange", vec![0.into(), 0.into(), 0.into(), 0.into()])
            }),
            Verdict::Invalid,
        ),
        (
            "universal forgery: /ByteRange malformed",
            redefine_signature(&certified, |d| {
                d.set("ByteRange", vec![0.into(), Object::Real(1.5)])
            }),
            Verdict::Invalid,
        ),
        (
            "byte range altered",
            alter_byte_range(&certified),
            Verdict::Invalid,
        ),
        (
            "shadow: hide",
            shadow_hide(&letter, |covered| {
                sign(
                    covered,
                    "banggai.kadis",
                    &options(true, Some(BLOCK), None),
                    Level::BB,
                    None,
                )
            }),
            Verdict::Modified,
        ),
        (
            "shadow: replace",
            shadow_replace(&certified),
            Verdict::Modified,
        ),
        (
            "shadow: hide and replace",
            shadow_hide_and_replace(&letter, None),
            Verdict::Modified,
        ),
    ];
    for (name, pdf, expected) in attacks {
        let report = verify::verify(&pdf, &roots).expect("verifies");
        assert_eq!(report.verdict, expected, "{name}: {report:#?}");
        assert_ne!(report.verdict, Verdict::Valid, "{name}");
        let named = report
            .signatures
            .iter()
            .flat_map(|s| s.changes.iter().chain(s.problems.iter()))
            .count();
        assert!(
            named > 0,
            "{name}: the report names what is wrong: {report:#?}"
        );
    }
}

#[test]
fn naskah_verify_speaks_json_and_exits_as_documented() {
    let dir = tempfile::tempdir().expect("tempdir");
    let letter = letter();
    let tsa = Tsa::start();
    let valid = write(
        dir.path(),
        "valid",
        &sign(
            &letter,
            "banggai.kadis",
            &options(true, Some(BLOCK), None),
            Level::BLT,
            Some(&tsa),
        ),
    );
    // B-B: nothing in it says whether the certificate was revoked.
    let undecided = write(
        dir.path(),
        "undecided",
        &sign(
            &letter,
            "banggai.kadis",
            &options(true, Some(BLOCK), None),
            Level::BB,
            None,
        ),
    );
    let unsigned = write(dir.path(), "unsigned", &letter);
    let garbage = write(dir.path(), "garbage", b"bukan PDF");
    let root = pki()
        .dir
        .join(signing::pki::ROOT_CERT)
        .to_string_lossy()
        .into_owned();
    let run = |args: &[&str]| {
        naskah(dir.path())
            .arg("verify")
            .args(args)
            .output()
            .expect("run")
    };

    let output = run(&["--json", "--trust", &root, &valid]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(line["verdict"], "VALID");
    assert_eq!(line["file"], valid);
    let signature = &line["signatures"][0];
    assert_eq!(
        (
            signature["type"].as_str(),
            signature["integrity"].as_str(),
            signature["trust"].as_str(),
            signature["changes_after"].as_str()
        ),
        (
            Some("signature"),
            Some("INTACT"),
            Some("TRUSTED"),
            Some("PERMITTED")
        )
    );
    assert_eq!(signature["changes"][0], "DSS (data validasi) ditambahkan");
    assert_eq!(signature["signer"]["nip"], "198107212003121004");
    assert_eq!(signature["level"], "B-LT");

    let output = run(&["--json", "--trust", &root, &undecided]);
    assert_eq!(output.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(line["verdict"], "INDETERMINATE");
    let signature = &line["signatures"][0];
    assert_eq!(
        (signature["integrity"].as_str(), signature["trust"].as_str()),
        (Some("INTACT"), Some("INDETERMINATE"))
    );
    assert_eq!(signature["level"], "B-B");
    assert!(
        signature["problems"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("status pencabutan tidak diketahui")),
        "{line}"
    );

    let output = run(&["--json", "--trust", &root, &valid, &unsigned]);
    assert_eq!(output.status.code(), Some(1));
    let verdicts: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["verdict"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(verdicts, ["VALID", "NO_SIGNATURE"]);
    // Without a trust root nothing is trusted.
    let output = run(&["--json", &valid]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"verdict\":\"UNTRUSTED\""));
    // An unreadable file is a usage error, named; the readable report goes on.
    let output = run(&["--trust", &root, &valid, &garbage]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("garbage.pdf"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("VALID"));
    let output = run(&["--trust", "/no/such/root.pem", &valid]);
    assert_eq!(output.status.code(), Some(2));
}

/// POSTs `body` to the public verification route.
fn upload(server: &crate::common::Server, body: &[u8]) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("http://{}/api/v1/verify", server.addr))
        .header("Content-Type", "application/pdf")
        .send(body)
        .expect("response");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Posts `pdf` as the page's upload form does (multipart, field `berkas`); the status, the
/// Content-Security-Policy header and the page.
pub(crate) fn upload_form(
    server: &crate::common::Server,
    field: &str,
    pdf: &[u8],
) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let boundary = "naskah-test-boundary-7f3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
         filename=\"surat.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut response = agent
        .post(&format!("http://{}/verifikasi", server.addr))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .expect("response");
    let status = response.status().as_u16();
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let page = response.body_mut().read_to_string().unwrap_or_default();
    (status, policy, page)
}

#[test]
fn anyone_verifies_an_upload_against_the_archive() {
    let db = crate::common::TestDb::new(crate::common::Backend::Sqlite);
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    // A letter of the archive, numbered and signed in the workflow.
    let settings = crate::common::letter_settings();
    let kind = LetterKind::SuratRekomendasi;
    let archived_letter = crate::common::banggai_draft(&mut conn, kind, None);
    let number = crate::signing::number_and_sign_as_kadis(&mut conn, archived_letter, &settings);
    let revisions =
        naskah::letters::store::revisions(&mut conn, archived_letter).expect("revisions");
    let signed = revisions.last().expect("signed revision").pdf.clone();
    let public_id: String = naskah::db::schema::letters::table
        .find(archived_letter)
        .select(naskah::db::schema::letters::public_id)
        .first(&mut conn)
        .expect("public id");
    drop(conn);

    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &pki().dir)
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let server = crate::common::Server::start(command);

    let (status, answer) = upload(&server, &signed);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verdict"], "VALID");
    assert_eq!(answer["archive"]["match"], "WHOLE");
    assert_eq!(answer["archive"]["number"], number);
    assert_eq!(answer["archive"]["public_id"], public_id);
    assert_eq!(answer["archive"]["revision"], revisions.len());
    // Changed after it left naskah: still found by the part naskah issued, and MODIFIED.
    let (status, answer) = upload(&server, &draw_later(&signed));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (
            answer["verdict"].as_str(),
            answer["archive"]["match"].as_str()
        ),
        (Some("MODIFIED"), Some("PREFIX"))
    );
    // A PDF naskah never issued.
    let (_, answer) = upload(
        &server,
        &sign(
            &letter(),
            "sumbar.kadis",
            &options(false, None, None),
            Level::BB,
            None,
        ),
    );
    // (At B-B: intact, undecided on revocation.)
    assert_eq!(
        (answer["verdict"].as_str(), answer["archive"].is_null()),
        (Some("INDETERMINATE"), true),
        "{answer}"
    );
    // Not a PDF; too large.
    let (status, error) = upload(&server, b"GIF89a");
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
    let mut huge = b"%PDF-1.7\n".to_vec();
    huge.resize(21 << 20, b' ');
    let (status, error) = upload(&server, &huge);
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{error}"
    );
    // The QR code's id: the letter's public face, nothing more.
    let (status, body) = server.get(&format!("/api/v1/verify/{public_id}"));
    assert_eq!(status, 200, "{body}");
    let archived: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(archived["number"], number);
    assert_eq!(archived["kind_name"], "Surat Rekomendasi");
    assert_eq!(archived["status"], "signed");
    assert!(
        !body.contains("fields") && !body.contains("addressee") && !body.contains("hal"),
        "{body}"
    );
    assert_eq!(server.get("/api/v1/verify/0000").0, 404);

    // The QR code's target, a page: the letter's public face and a form to check a PDF.
    let (status, html) = server.get(&format!("/verifikasi/{public_id}"));
    assert_eq!(status, 200, "{html}");
    for shown in [
        "Dokumen tercatat di arsip",
        "Surat Rekomendasi",
        number.as_str(),
        "ditandatangani",
        "enctype=\"multipart/form-data\"",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    let sample = letters::sample(kind);
    for private in ["hal", "addressee", "application_name"] {
        let text = sample[private].as_str().expect("in the sample");
        assert!(!html.contains(text), "{private} is not shown: {html}");
    }
    let (status, html) = server.get("/verifikasi/0000");
    assert_eq!(status, 404);
    assert!(html.contains("Dokumen tidak ditemukan"), "{html}");
    // Uploaded through the form: the report as a page.
    let (status, policy, html) = upload_form(&server, "berkas", &signed);
    assert_eq!(status, 200, "{html}");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    for shown in ["SAH", number.as_str(), "utuh", "tepercaya", "sama persis"] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    let (_, _, html) = upload_form(&server, "berkas", &draw_later(&signed));
    assert!(
        html.contains("DIUBAH") && html.contains("diawali revisi"),
        "{html}"
    );
    // What a file says comes back inert: a field named with markup.
    let marked = sign(
        &letter(),
        "sumbar.kadis",
        &options(false, None, Some("<script>alert(1)</script>")),
        Level::BB,
        None,
    );
    let (status, _, html) = upload_form(&server, "berkas", &marked);
    assert_eq!(status, 200, "{html}");
    let escaped = ["&#60;script&#62;alert(1)", "&lt;script&gt;alert(1)"];
    assert!(
        !html.contains("<script>") && escaped.iter().any(|e| html.contains(e)),
        "{html}"
    );
    let (status, _, html) = upload_form(&server, "berkas", b"GIF89a");
    assert_eq!(status, 422);
    assert!(html.contains("berkas bukan PDF"), "{html}");
    let (status, _, _) = upload_form(&server, "lain", &signed);
    assert_eq!(status, 422);
    let (status, _, html) = upload_form(&server, "berkas", &huge);
    assert_eq!(status, 413, "{html}");

    // The auditor's command line finds the same in the archive.
    let file = write(db.dir.path(), "arsip", &signed);
    let root = pki().dir.join(signing::pki::ROOT_CERT);
    let output = naskah(db.dir.path())
        .env("NASKAH_DATABASE_URL", &db.url)
        .args(["verify", "--json", "--archive", "--trust"])
        .arg(&root)
        .arg(&file)
        .output()
        .expect("naskah verify");
    assert!(output.status.success(), "{output:?}");
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(line["archive"]["number"], number);
    assert_eq!(line["archive"]["match"], "WHOLE");
    let output = naskah(db.dir.path())
        .env("NASKAH_DATABASE_URL", &db.url)
        .args(["verify", "--archive", "--trust"])
        .arg(&root)
        .arg(&file)
        .output()
        .expect("naskah verify");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&format!("arsip: Surat Rekomendasi nomor {}", number)),
        "{text}"
    );
}

/// A minimal PDF of `objects` (numbered from 1, the first the catalog) with a correct
/// cross-reference table.
pub(crate) fn pdf_of(objects: &[&[u8]]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn hostile_files_end_with_a_verdict_or_an_error() {
    let roots = roots();
    let signed = sign(
        &letter(),
        "banggai.kadis",
        &options(true, Some(BLOCK), None),
        Level::BB,
        None,
    );
    let mut deep = b"%PDF-1.7\n1 0 obj\n".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 200_000));
    deep.extend_from_slice(b"\nendobj\n%%EOF\n");
    let cycles = pdf_of(&[
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
        b"<< /FT /Sig /T (A) /Kids [4 0 R] /V 5 0 R >>",
        b"<< /Type /Sig /ByteRange [0 10 20 30] /Contents <00> >>",
    ]);
    let huge_range = pdf_of(&[
        b"<< /Type /Catalog /AcroForm << /Fields [2 0 R] >> >>",
        b"<< /FT /Sig /T (A) /V 3 0 R >>",
        b"<< /Type /Sig /ByteRange [0 18446744073709551615 9223372036854775807 9223372036854775807] /Contents <3000> >>",
    ]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not a PDF", b"GIF89a".to_vec()),
        ("nested 200,000 deep", deep),
        ("cycles in pages and fields", cycles),
        ("byte range past any length", huge_range),
        (
            "a signed letter cut in half",
            signed[..signed.len() / 2].to_vec(),
        ),
        (
            "a signed letter without its last 100 bytes",
            signed[..signed.len() - 100].to_vec(),
        ),
    ];
    let sandbox = naskah::verify::sandbox::Sandbox::new(
        env!("CARGO_BIN_EXE_naskah").into(),
        &roots,
        Default::default(),
    )
    .expect("sandbox");
    for (name, pdf) in cases {
        let outcome = sandbox.verify(&pdf, naskah::verify::sandbox::Wait::Yes);
        if let Ok(report) = outcome {
            assert_ne!(report.verdict, Verdict::Valid, "{name}");
        }
    }
}

/// The verifier reads signature values from the file and blanks them for its PDF reader,
/// finding them by the file's `/ByteRange` arrays. A stray `/ByteRange` (here in a comment of
/// a later content stream) that points at other bytes must not make the reader see less than
/// a viewer does: here it points at a content stream that the signed revision held as `<>` and
/// spaces and the later one rewrites, same length, to draw text between `<>` and `<>`.
#[test]
fn a_stray_byte_range_cannot_hide_a_change() {
    let blank = [b"<>".as_slice(), &[b' '; 198]].concat();
    let prepared = crate::common::draw_on_first_page(&letter(), &blank);
    let stream = {
        let document = lopdf::Document::load_mem(&prepared).expect("loads");
        document
            .objects
            .iter()
            .find(|(_, o)| o.as_stream().is_ok_and(|s| s.content == blank))
            .map(|(id, _)| *id)
            .expect("the blank stream")
    };
    let signed = sign(
        &prepared,
        "banggai.kadis",
        &options(false, Some(BLOCK), None),
        Level::BB,
        None,
    );
    let mut drawn = b"<> BT /F1 24 Tf 72 700 Td (DIUBAH) Tj ET".to_vec();
    drawn.resize(blank.len() - 2, b' ');
    drawn.extend_from_slice(b"<>");
    const PLACEHOLDER: &[u8] = b"% /ByteRange [0 0000000 0000000 0]";
    let mut changed = append(&signed, |update| {
        update.new_document.objects.insert(
            stream,
            Object::Stream(Stream::new(Dictionary::new(), drawn.clone())),
        );
        update
            .new_document
            .add_object(Stream::new(Dictionary::new(), PLACEHOLDER.to_vec()));
    });
    let at = changed
        .windows(drawn.len())
        .rposition(|w| w == drawn)
        .expect("the rewritten stream");
    let comment = format!("% /ByteRange [0 {at:07} {:07} 0]", at + drawn.len());
    assert_eq!(comment.len(), PLACEHOLDER.len());
    let spot = changed
        .windows(PLACEHOLDER.len())
        .rposition(|w| w == PLACEHOLDER)
        .expect("the placeholder");
    changed[spot..spot + PLACEHOLDER.len()].copy_from_slice(comment.as_bytes());

    let roots = roots();
    // Intact and unchanged (at B-B, undecided on revocation).
    assert_eq!(
        verify::verify(&signed, &roots).expect("verifies").verdict,
        Verdict::Indeterminate
    );
    let report = verify::verify(&changed, &roots).expect("verifies");
    assert_eq!(report.verdict, Verdict::Modified, "{report:#?}");
    let changes = report.signatures[0].changes.join("\n");
    assert!(
        changes.contains(&format!("objek {} (stream) diubah", stream.0)),
        "the rewritten stream is named: {changes}"
    );
}

/// An OCSP response from `signer` (its certificate and PKCS#12 in the demo PKI) about
/// banggai.kadis's certificate, made by `openssl ocsp`: revoked a day ago, or good.
fn ocsp_response(dir: &Path, signer: (&str, &str), revoked: bool) -> Vec<u8> {
    let pki_dir = &pki().dir;
    let (cert, p12) = (pki_dir.join(signer.0), pki_dir.join(signer.1));
    let openssl = |args: &[&str]| {
        let output = tool("openssl", args);
        assert!(output.status.success(), "openssl {args:?}: {output:?}");
    };
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let signer_key = dir.join("responder.key");
    openssl(&[
        "pkcs12",
        "-in",
        &p12.to_string_lossy(),
        "-passin",
        &format!(
            "pass:{}",
            signing::pki::passphrase_of(pki_dir, signer.1).expect("passphrase")
        ),
        "-nocerts",
        "-nodes",
        "-out",
        &signer_key.to_string_lossy(),
    ]);
    let kadis = key("banggai.kadis").certificate;
    std::fs::write(at("kadis.pem"), kadis.to_pem().expect("pem")).expect("write");
    let serial = kadis
        .serial_number()
        .to_bn()
        .and_then(|n| n.to_hex_str().map(|h| h.to_string()))
        .expect("serial");
    let day_ago = (chrono::Utc::now() - chrono::Duration::days(1)).format("%y%m%d%H%M%SZ");
    let line = if revoked {
        format!("R\t351231000000Z\t{day_ago}\t{serial}\tunknown\t/CN=kadis\n")
    } else {
        format!("V\t351231000000Z\t\t{serial}\tunknown\t/CN=kadis\n")
    };
    std::fs::write(at("index.txt"), line).expect("index");
    let intermediate = pki_dir.join(signing::pki::INTERMEDIATE_CERT);
    let intermediate = intermediate.to_string_lossy();
    openssl(&[
        "ocsp",
        "-issuer",
        &intermediate,
        "-cert",
        &at("kadis.pem"),
        "-reqout",
        &at("request.der"),
        "-no_nonce",
    ]);
    openssl(&[
        "ocsp",
        "-index",
        &at("index.txt"),
        "-rsigner",
        &cert.to_string_lossy(),
        "-rkey",
        &signer_key.to_string_lossy(),
        "-CA",
        &intermediate,
        "-reqin",
        &at("request.der"),
        "-respout",
        &at("response.der"),
        "-ndays",
        "7",
    ]);
    std::fs::read(at("response.der")).expect("response")
}

#[test]
fn ocsp_responses_in_the_dss_revoke_when_their_issuer_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tsa = Tsa::start();
    let stamper = signing::tsa::TimeStamper::new(&tsa.url);
    let roots = roots();
    let intermediate = (signing::pki::INTERMEDIATE_CERT, "private/intermediate.p12");
    let impostor = (signing::pki::TSA_CERT, signing::pki::TSA_P12);
    let cases = [
        (
            "revoked, said by the issuing CA",
            intermediate,
            true,
            Verdict::Untrusted,
        ),
        (
            "good, said by the issuing CA",
            intermediate,
            false,
            Verdict::Valid,
        ),
        // The TSA is certified by the same CA, but not to answer for it: its answer counts
        // for nothing, and nothing else speaks for the signer's certificate.
        (
            "revoked, said by an unauthorised responder",
            impostor,
            true,
            Verdict::Indeterminate,
        ),
    ];
    // The root's CRL speaks for the intermediate CA.
    let root_crl = std::fs::read(pki().dir.join(signing::pki::ROOT_CRL)).expect("root CRL");
    for (name, signer, revoked, expected) in cases {
        let response = ocsp_response(dir.path(), signer, revoked);
        let validation = signing::ltv::ValidationData {
            ocsps: vec![response],
            crls: vec![root_crl.clone()],
            ..Default::default()
        };
        let signed = signing::sign(
            &letter(),
            &key("banggai.kadis"),
            &options(false, Some(BLOCK), None),
            Level::BLT,
            Some(&stamper),
            &validation,
        )
        .expect("signs");
        let report = verify::verify(&signed, &roots).expect("verifies");
        assert_eq!(report.verdict, expected, "{name}: {report:#?}");
        let signature = &report.signatures[0];
        assert_eq!(signature.level.as_deref(), Some("B-LT"), "{name}");
        if expected == Verdict::Untrusted {
            assert_eq!(signature.trust, verify::Trust::Revoked, "{name}");
            assert!(
                signature.problems.iter().any(|p| p.contains("(OCSP)")),
                "{name}: {:?}",
                signature.problems
            );
        }
    }
}

/// A certificate authority of the test's own, made with the openssl command line, whose
/// certificates name an OCSP responder and a CRL on a local HTTP server of the test.
pub(crate) struct RevokingAuthority {
    dir: tempfile::TempDir,
    /// The paths the server was asked for, in order.
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    port: u16,
}

impl RevokingAuthority {
    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    fn openssl(&self, args: &[&str]) {
        let output = tool("openssl", args);
        assert!(output.status.success(), "openssl {args:?}: {output:?}");
    }

    /// Starts the server and makes the root, a revoked certificate for each of `cases` (its
    /// URLs under `/{case}/`) and the CRL revoking them.
    pub(crate) fn start(cases: &[&str]) -> RevokingAuthority {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let authority = RevokingAuthority {
            dir: tempfile::tempdir().expect("tempdir"),
            asked: Default::default(),
            port: listener.local_addr().expect("addr").port(),
        };
        let at = |name: &str| authority.path(name);
        authority.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &at("root.key"),
            "-out",
            &at("root.pem"),
            "-subj",
            "/CN=Akar Uji Pencabutan",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:true",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        let day_ago = (chrono::Utc::now() - chrono::Duration::days(1)).format("%y%m%d%H%M%SZ");
        let mut index = String::new();
        for (n, case) in cases.iter().enumerate() {
            let serial = 0x1001 + n;
            std::fs::write(
                at(&format!("{case}.ext")),
                format!(
                    "keyUsage=critical,digitalSignature,nonRepudiation\n\
                     crlDistributionPoints=URI:http://127.0.0.1:{port}/{case}/crl\n\
                     authorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}/{case}/ocsp\n",
                    port = authority.port
                ),
            )
            .expect("ext");
            authority.openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &at(&format!("{case}.key")),
                "-subj",
                &format!("/CN=Pejabat {case}"),
                "-out",
                &at(&format!("{case}.csr")),
            ]);
            authority.openssl(&[
                "x509",
                "-req",
                "-in",
                &at(&format!("{case}.csr")),
                "-CA",
                &at("root.pem"),
                "-CAkey",
                &at("root.key"),
                "-set_serial",
                &serial.to_string(),
                "-days",
                "30",
                "-extfile",
                &at(&format!("{case}.ext")),
                "-out",
                &at(&format!("{case}.pem")),
            ]);
            authority.openssl(&[
                "pkcs12",
                "-export",
                "-inkey",
                &at(&format!("{case}.key")),
                "-in",
                &at(&format!("{case}.pem")),
                "-certfile",
                &at("root.pem"),
                "-passout",
                "pass:uji",
                "-out",
                &at(&format!("{case}.p12")),
            ]);
            index.push_str(&format!(
                "R\t351231000000Z\t{day_ago}\t{serial:04X}\tunknown\t/CN=Pejabat {case}\n"
            ));
        }
        std::fs::write(at("index.txt"), index).expect("index");
        std::fs::write(at("crlnumber"), "01\n").expect("crlnumber");
        std::fs::write(
            at("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = uji\n[uji]\ndatabase = {}\ncrlnumber = {}\n\
                 default_md = sha256\ndefault_crl_days = 7\n",
                at("index.txt"),
                at("crlnumber")
            ),
        )
        .expect("ca.cnf");
        authority.openssl(&[
            "ca",
            "-config",
            &at("ca.cnf"),
            "-gencrl",
            "-keyfile",
            &at("root.key"),
            "-cert",
            &at("root.pem"),
            "-out",
            &at("crl.pem"),
        ]);
        authority.openssl(&[
            "crl",
            "-in",
            &at("crl.pem"),
            "-outform",
            "DER",
            "-out",
            &at("crl.der"),
        ]);
        let dir = authority.dir.path().to_owned();
        let asked = authority.asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                serve_revocation(stream, &dir, &asked);
            }
        });
        authority
    }

    fn key(&self, case: &str) -> naskah::signing::SigningKey {
        let der = std::fs::read(self.path(&format!("{case}.p12"))).expect("p12");
        naskah::signing::SigningKey::from_pkcs12(&der, "uji").expect("key")
    }
}

/// Answers one request of the test's authority: `/a/ocsp` by `openssl ocsp`, `/b/crl` with
/// the CRL, everything else with 500.
fn serve_revocation(
    mut stream: std::net::TcpStream,
    dir: &Path,
    asked: &std::sync::Mutex<Vec<String>>,
) {
    use std::io::{BufRead, Read, Write};
    let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).expect("header");
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    asked.lock().expect("lock").push(path.clone());
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let answer = match path.as_str() {
        "/a/ocsp" => {
            std::fs::write(at("request.der"), &body).expect("request");
            let output = tool(
                "openssl",
                &[
                    "ocsp",
                    "-index",
                    &at("index.txt"),
                    "-rsigner",
                    &at("root.pem"),
                    "-rkey",
                    &at("root.key"),
                    "-CA",
                    &at("root.pem"),
                    "-reqin",
                    &at("request.der"),
                    "-respout",
                    &at("response.der"),
                    "-ndays",
                    "7",
                ],
            );
            assert!(output.status.success(), "{output:?}");
            Some(std::fs::read(at("response.der")).expect("response"))
        }
        "/b/crl" => Some(std::fs::read(at("crl.der")).expect("crl")),
        _ => None,
    };
    let head = match &answer {
        Some(bytes) => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", bytes.len()),
        None => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n".to_owned(),
    };
    let _ = stream.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
    let _ = stream.write_all(&answer.unwrap_or_default());
}

#[test]
fn revocation_a_letter_lacks_is_fetched_when_allowed() {
    let authority = RevokingAuthority::start(&["a", "b", "c"]);
    let roots = Roots::from_pem_files(&[authority.path("root.pem")]).expect("root");
    let fetching = roots.clone().fetching_revocation(true);
    let signed = |case: &str| {
        signing::sign(
            &letter(),
            &authority.key(case),
            &options(false, None, None),
            Level::BB,
            None,
            &Default::default(),
        )
        .expect("signs")
    };
    let asked = || authority.asked.lock().expect("lock").clone();

    // Not allowed: nothing is asked, and nothing the letter carries says whether it was
    // revoked: trust cannot be decided.
    let report = verify::verify(&signed("a"), &roots).expect("verifies");
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.signatures[0].trust, verify::Trust::Indeterminate);
    assert!(
        report.signatures[0].problems[0].starts_with("status pencabutan tidak diketahui"),
        "{report:#?}"
    );
    assert!(asked().is_empty(), "{:?}", asked());

    // The responder says revoked.
    let report = verify::verify(&signed("a"), &fetching).expect("verifies");
    assert_eq!(
        report.signatures[0].trust,
        verify::Trust::Revoked,
        "{report:#?}"
    );
    assert!(report.signatures[0].problems[0].ends_with("(OCSP)"));
    assert_eq!(asked(), ["/a/ocsp"]);
    // Asked once: the answer is kept.
    verify::verify(&signed("a"), &fetching).expect("verifies");
    assert_eq!(asked(), ["/a/ocsp"]);

    // The responder fails; the CRL says revoked.
    let report = verify::verify(&signed("b"), &fetching).expect("verifies");
    assert_eq!(report.verdict, Verdict::Untrusted, "{report:#?}");
    assert!(report.signatures[0].problems[0].ends_with("(CRL)"));
    assert_eq!(asked()[1..], ["/b/ocsp", "/b/crl"]);

    // Nothing answers: undecided, with the auditor told what could not be fetched.
    let report = verify::verify(&signed("c"), &fetching).expect("verifies");
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    let problems = report.signatures[0].problems.join("\n");
    assert!(
        problems.contains("/c/ocsp") && problems.contains("/c/crl"),
        "{problems}"
    );
}
