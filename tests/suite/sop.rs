//! `naskah sop check` and `naskah sop show` on the shipped definitions and on broken ones, each
//! of which must be reported with the position of its problem.

use crate::common::{crate_root, naskah};

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = naskah(dir.path())
        .current_dir(crate_root())
        .args(args)
        .output()
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_shipped_sops_are_clean() {
    let mut args = vec!["sop", "check"];
    let files: Vec<String> = std::fs::read_dir(crate_root().join("sops"))
        .expect("sops")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .map(|p| {
            p.strip_prefix(crate_root())
                .expect("inside")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(files.len(), 5, "one definition per seed SOP");
    args.extend(files.iter().map(String::as_str));
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "5 file(s) checked, no problems");
}

#[test]
fn each_broken_definition_is_reported_at_its_position() {
    let cases = [
        ("unknown-role.xml", "20:5: step 2: unknown role 'kasubag'"),
        (
            "unknown-letter.xml",
            "22:7: unknown letter kind 'surat_cinta'",
        ),
        (
            "bad-duration.xml",
            "20:5: unreadable time standard 'lima menit'",
        ),
        (
            "duplicate-step.xml",
            "25:5: duplicate step number 2 (first at 20:5)",
        ),
        (
            "missing-branch.xml",
            "27:7: step 3: the decision has no branch for 'tidak-sesuai'",
        ),
        (
            "unreachable.xml",
            "20:5: step 2 cannot be reached from step 1",
        ),
        ("no-path-to-end.xml", "20:5: step 2 has no path to an end"),
        (
            "unknown-target.xml",
            "20:5: step 2 leads to step 9, which does not exist",
        ),
        ("malformed.xml", "26:30: not well-formed XML"),
    ];
    for (file, expected) in cases {
        let path = format!("tests/fixtures/sops/{file}");
        let (code, stdout, stderr) = run(&["sop", "check", &path]);
        assert_eq!(code, Some(1), "{file}: {stdout}{stderr}");
        assert!(
            stdout
                .lines()
                .any(|line| line.starts_with(&format!("{path}:{expected}"))),
            "{file}: expected {expected:?} in:\n{stdout}"
        );
        assert!(stderr.contains("problem(s) in 1 of 1 file(s)"), "{stderr}");
    }
    let (code, stdout, _) = run(&["sop", "check", "tests/fixtures/sops/valid.xml"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn an_unreadable_file_is_a_usage_error() {
    let (code, _, stderr) = run(&["sop", "check", "sops/no-such-file.xml"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("naskah: cannot read sops/no-such-file.xml"),
        "{stderr}"
    );
}

#[test]
fn show_prints_the_flow_with_actors_times_and_branches() {
    let (code, stdout, stderr) = run(&["sop", "show", "sops/banggai-hosting.xml"]);
    assert_eq!(code, Some(0), "{stderr}");
    for expected in [
        "Nomor SOP: 500.12.6/468/Bid. Layanan E-Gov",
        "  5. Pengujian kelayakan aplikasi [Tim Teknis; 1 hari]",
        "     output: Laporan Uji Kelayakan Aplikasi",
        "       Sesuai -> langkah 7",
        "       Tidak sesuai -> selesai (ditolak) (output: Surat Tanggapan (Penolakan) (ditandatangani))",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in:\n{stdout}");
    }
    let (code, stdout, _) = run(&["sop", "show", "--json", "sops/malut-hosting.xml"]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        json["steps"][2]["time"],
        serde_json::json!({"kind": "range", "low": 12, "high": 24, "unit": "hours"})
    );
    let (code, _, stderr) = run(&["sop", "show", "tests/fixtures/sops/unknown-role.xml"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("run naskah sop check"), "{stderr}");
}
