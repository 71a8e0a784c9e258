//! The command line as a person meets it: help, version, and bad configuration that ends with
//! one line naming the setting, exit code 2, and no panic or backtrace.

use std::net::TcpListener;
use std::process::Output;

use crate::common::naskah;

fn assert_config_error(output: &Output, setting: &str, problem: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {stderr}");
    assert!(
        lines[0].starts_with(&format!("naskah: {setting}: ")),
        "names {setting}: {stderr}"
    );
    assert!(lines[0].contains(problem), "says {problem:?}: {stderr}");
    for never in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!stderr.contains(never), "no {never}: {stderr}");
    }
    assert!(output.stdout.is_empty(), "nothing on stdout");
}

#[test]
fn help_lists_the_commands_and_version_is_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let help = naskah(dir.path()).arg("--help").output().expect("run");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "migrate", "demo"] {
        assert!(text.contains(command), "--help names {command}: {text}");
    }
    let version = naskah(dir.path()).arg("--version").output().expect("run");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("naskah {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unreachable_database_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on port 1.
    let output = naskah(dir.path())
        .env(
            "NASKAH_DATABASE_URL",
            "postgres://naskah:secret@127.0.0.1:1/naskah",
        )
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert_config_error(
        &output,
        "NASKAH_DATABASE_URL",
        "cannot connect to postgres://naskah:***@127.0.0.1:1/naskah",
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("secret"),
        "the password is not printed"
    );
}

#[test]
fn database_url_falls_back_to_database_url_and_is_named_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = naskah(dir.path())
        .env("DATABASE_URL", "postgresql://127.0.0.1:1/naskah")
        .arg("migrate")
        .output()
        .expect("run");
    assert_config_error(&output, "DATABASE_URL", "cannot connect");
}

#[test]
fn unknown_url_scheme_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = naskah(dir.path())
        .env("NASKAH_DATABASE_URL", "mysql://root@127.0.0.1/naskah")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert_config_error(&output, "NASKAH_DATABASE_URL", "unknown scheme 'mysql'");
}

#[test]
fn unwritable_data_directory_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let output = naskah(&file)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert_config_error(&output, "NASKAH_DATA_DIR", "is not a directory");

    // The tests run as root, who may write anywhere a file system lets anyone write; /proc
    // lets no one create a directory.
    let output = naskah(std::path::Path::new("/proc/naskah-data"))
        .arg("demo")
        .output()
        .expect("run");
    assert_config_error(
        &output,
        "NASKAH_DATA_DIR",
        "cannot create directory /proc/naskah-data",
    );
}

#[test]
fn invalid_bind_address_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = naskah(dir.path())
        .args(["serve", "--bind", "localhost"])
        .output()
        .expect("run");
    assert_config_error(&output, "--bind", "'localhost' is not an address and port");

    let output = naskah(dir.path())
        .env("NASKAH_BIND", "300.1.1.1:80")
        .arg("serve")
        .output()
        .expect("run");
    assert_config_error(
        &output,
        "NASKAH_BIND",
        "'300.1.1.1:80' is not an address and port",
    );
}

#[test]
fn bind_address_in_use_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = naskah(dir.path())
        .args(["serve", "--bind", &addr])
        .output()
        .expect("run");
    assert_config_error(&output, "--bind", &format!("cannot listen on {addr}"));
}

#[test]
fn malformed_config_file_is_named_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("naskah.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:9000\"\ndata_dir = [unclosed\n").expect("write");
    let output = naskah(dir.path())
        .args([
            "--config",
            file.to_str().expect("utf-8"),
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run");
    assert_config_error(&output, "--config", "is malformed at line 2");

    std::fs::write(&file, "bnid = \"127.0.0.1:9000\"\n").expect("write");
    let output = naskah(dir.path())
        .env("NASKAH_CONFIG", &file)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert_config_error(&output, "NASKAH_CONFIG", "unknown field `bnid`");

    let output = naskah(dir.path())
        .env("NASKAH_CONFIG", dir.path().join("missing.toml"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert_config_error(&output, "NASKAH_CONFIG", "cannot read");
}

#[test]
fn a_setting_from_the_config_file_is_named_by_key_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, output) = serve_with_config(dir.path(), "bind = \"everywhere\"\n");
    assert_config_error(
        &output,
        &format!("bind in {}", file.display()),
        "'everywhere'",
    );
}

/// The revocation grace the server judges uploads with is bounded (a day at most): beyond,
/// the setting is named, from the environment or the file.
#[test]
fn revocation_grace_out_of_bounds_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = naskah(dir.path())
        .env("NASKAH_REVOCATION_GRACE_MINUTES", "2000")
        .arg("serve")
        .output()
        .expect("run");
    assert_config_error(
        &output,
        "NASKAH_REVOCATION_GRACE_MINUTES",
        "2000 is outside 0..=1440",
    );
    let (_, output) = serve_with_config(dir.path(), "revocation_grace_minutes = 1441\n");
    assert_config_error(
        &output,
        "revocation_grace_minutes",
        "1441 is outside 0..=1440",
    );
}

/// `naskah serve` run with `text` as its configuration file (in `dir`): the file and what
/// came of it.
fn serve_with_config(dir: &std::path::Path, text: &str) -> (std::path::PathBuf, Output) {
    let file = dir.join("naskah.toml");
    std::fs::write(&file, text).expect("write");
    let output = naskah(dir)
        .env("NASKAH_CONFIG", &file)
        .arg("serve")
        .output()
        .expect("run");
    (file, output)
}

#[test]
fn ci_runs_exactly_the_readme_test_line() {
    let root = crate::common::crate_root();
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    let command = ci
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .expect("a command in .ci/run");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("\n    {command}\n")),
        "README.md shows `{command}` as its test line"
    );
}
