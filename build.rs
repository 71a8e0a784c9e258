//! Rebuilds naskah when a migration is added under `schema/`: `embed_migrations!` reads the
//! folder at compile time, and cargo tracks only the files it has already seen.

fn main() {
    println!("cargo:rerun-if-changed=schema");
}
