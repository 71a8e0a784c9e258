//! The layers of ARCHITECTURE.md, held to: each module of `src/` uses only its own layer and
//! those below it. The source is read as text: every `crate::…` path (in `use` lines, grouped
//! `use crate::{a, b}` lines and paths written inline) names the module it reaches into.
//! A file's unit tests (from its `#[cfg(test)]` on) may reach higher, to build what they test
//! through the API that uses it; comments are not read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every top-level module of `src/` and its layer, lowest first. A new module must be placed
/// here; a module that needs one above it is in the wrong place.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base",
        &["ids", "digest", "xml", "db", "calendar", "telemetry"],
    ),
    ("pdf and crypto", &["signing", "verify"]),
    (
        "domain",
        &[
            "audit",
            "attempts",
            "accounts",
            "people",
            "office",
            "classification",
            "sop",
            "numbering",
            "letters",
            "workflow",
            "archive",
            "hosting",
            "jobs",
            "tokens",
            "handover",
            "notify",
        ],
    ),
    ("use cases", &["tte", "admin", "demo", "reports"]),
    ("surfaces", &["web", "schedule"]),
    ("composition root", &["cli", "config", "lib", "main"]),
];

/// What a layer may not use although it lies below: PDFs and signatures know no database.
const FORBIDDEN: &[(&str, &str)] = &[("pdf and crypto", "db")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// The top-level module a file of `src/` belongs to: its folder, or its own name.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

/// The modules `text` reaches into with `crate::` paths, outside comments and unit tests.
fn modules_used(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                let inside = group.split('}').next().unwrap_or(group);
                for item in inside.split(',') {
                    let name = item.trim().split("::").next().unwrap_or("").trim();
                    if !name.is_empty() {
                        used.insert(name.to_owned());
                    }
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    used.insert(name);
                }
            }
            rest = after;
        }
    }
    used
}

/// Why `module` may not use `used`, if it may not.
fn fault(module: &str, used: &str) -> Option<String> {
    let (Some(own), Some(other)) = (layer_of(module), layer_of(used)) else {
        return None;
    };
    if other > own {
        return Some(format!(
            "{module} ({}) uses {used} ({}), a layer above",
            LAYERS[own].0, LAYERS[other].0
        ));
    }
    FORBIDDEN
        .iter()
        .any(|&(layer, banned)| LAYERS[own].0 == layer && used == banned)
        .then(|| format!("{module} ({}) may not use {used}", LAYERS[own].0))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_its_layer_and_those_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unplaced = BTreeSet::new();
    let mut faults = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = module_of(relative);
        if layer_of(&module).is_none() {
            unplaced.insert(module.clone());
        }
        let text = std::fs::read_to_string(file).expect("source");
        for used in modules_used(&text) {
            if used != module
                && let Some(why) = fault(&module, &used)
            {
                faults.push(format!("{}: {why}", relative.display()));
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules with no layer in tests/suite/layers.rs: {unplaced:?}"
    );
    assert!(files.len() > 50, "only {} source files found", files.len());
    assert!(
        faults.is_empty(),
        "imports against the layers:\n{}",
        faults.join("\n")
    );
}

#[test]
fn the_reader_finds_each_form_of_path_and_judges_it() {
    let text = "use crate::db::DbConn;\n\
                use crate::{letters, web::pages};\n\
                // crate::cli is only mentioned\n\
                let x = crate::tte::sign(); // crate::schedule in a comment\n\
                #[cfg(test)]\n\
                mod tests { use crate::config; }\n";
    let used: Vec<String> = modules_used(text).into_iter().collect();
    assert_eq!(used, ["db", "letters", "tte", "web"]);
    // The domain may use the base, not the use cases or the surfaces above it.
    assert_eq!(fault("numbering", "db"), None);
    assert_eq!(
        fault("numbering", "web").as_deref(),
        Some("numbering (domain) uses web (surfaces), a layer above")
    );
    assert!(fault("letters", "tte").is_some());
    assert!(
        fault("verify", "db").is_some(),
        "pdf and crypto with a database"
    );
    assert_eq!(fault("web", "letters"), None);
}
