//! What the benchmarks share: the one-page letter they sign and verify.

use naskah::letters::{self, Electronic, Info, LetterKind};

/// A one-page surat tanggapan of the demo's Banggai office, its footer naming `issuer`.
pub fn one_page_letter(issuer: &str) -> Vec<u8> {
    let kind = LetterKind::SuratTanggapanPersetujuan;
    let (template, file) = letters::template(kind, None).expect("the built-in template");
    let letterhead = naskah::demo::letterhead("banggai").expect("a demo office");
    let electronic = Electronic {
        verification_url: "https://naskah.example.go.id/verifikasi/0123456789abcdef".into(),
        issuer: issuer.into(),
    };
    let info = Info {
        title: kind.name().into(),
        author: letterhead.name.clone(),
        created: chrono::Utc::now().naive_utc(),
        document_id: "0123456789abcdef".into(),
    };
    let rendered = letters::render(
        &template,
        &file,
        &letters::sample(kind),
        &letterhead,
        &electronic,
        &info,
    )
    .expect("render");
    assert_eq!(rendered.pages, 1, "the benchmark letter is one page");
    rendered.pdf
}
