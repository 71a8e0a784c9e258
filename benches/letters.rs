//! Letters rendered per second on one core: a one-page surat tanggapan, from template and data
//! to PDF/A bytes, as the workflow makes it (the template parsed once, as a server keeps it).
//! Every letter differs from the one before in its number, application name and subject, so
//! that no cache sees the same letter twice.
//!
//!     cargo bench --bench letters -- [SECONDS]
//!
//! Prints one line: letters, seconds, letters per second, PDF size. Runs on the calling thread
//! only, so the figure is one core's.

// A benchmark that cannot set up should stop with the reason.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use naskah::letters::{self, Electronic, Info, LetterKind};

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let kind = LetterKind::SuratTanggapanPersetujuan;
    let (template, file) = letters::template(kind, None).expect("the built-in template");
    let letterhead = naskah::demo::letterhead("banggai").expect("a demo office");
    let sample = letters::sample(kind);
    let data_for = |i: u64| {
        let mut data = sample.clone();
        data["number"] = format!("500.12.6/{}/Bid. Layanan E-Gov", 100 + i % 900).into();
        data["application_name"] = format!("SIAPP-{i} (Sistem Informasi Aplikasi {i})").into();
        data["hal"] = format!("Tanggapan atas Permohonan Hosting Aplikasi SIAPP-{i}").into();
        data
    };
    let electronic = Electronic {
        verification_url:
            "https://naskah.example.go.id/verifikasi/0123456789abcdef0123456789abcdef".into(),
        issuer: "Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara".into(),
    };
    let info = Info {
        title: kind.name().into(),
        author: letterhead.name.clone(),
        created: chrono::Utc::now().naive_utc(),
        document_id: "0123456789abcdef0123456789abcdef".into(),
    };
    let render = |i: u64| {
        letters::render(
            &template,
            &file,
            &data_for(i),
            &letterhead,
            &electronic,
            &info,
        )
        .expect("render")
    };
    // Warm up: fonts loaded.
    let first = render(0);
    assert_eq!(first.pages, 1, "the benchmark letter is one page");
    for i in 1..20 {
        render(i);
    }
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        std::hint::black_box(render(20 + count));
        count += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "letters={count} seconds={elapsed:.2} rate={:.0}/s size={} bytes",
        count as f64 / elapsed,
        first.pdf.len()
    );
}
