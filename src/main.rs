//! The `naskah` binary: everything it does lives in the library; see `naskah --help`.

fn main() -> std::process::ExitCode {
    naskah::cli::main()
}
