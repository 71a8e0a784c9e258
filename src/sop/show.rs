//! `naskah sop show`: the flow of an SOP as text, for a person checking a definition against
//! the paper SOP.

use std::fmt::Write;

use super::{Route, Sop};

pub fn show(sop: &Sop) -> String {
    let mut out = String::new();
    let h = &sop.header;
    let _ = writeln!(out, "SOP {} ({})", h.title, sop.id);
    let _ = writeln!(out, "{}, {}", h.office, h.region);
    if let Some(number) = &h.number {
        let _ = writeln!(out, "Nomor SOP: {number}");
    }
    let approver = match (&h.approved_by.name, &h.approved_by.nip) {
        (Some(name), Some(nip)) => format!("{} ({name}, NIP {nip})", h.approved_by.position),
        (Some(name), None) => format!("{} ({name})", h.approved_by.position),
        _ => h.approved_by.position.clone(),
    };
    let _ = writeln!(out, "Disahkan oleh: {approver}");
    let _ = writeln!(out, "\nPelaksana:");
    for role in &sop.roles {
        let tag = if role.applicant { " [pemohon]" } else { "" };
        let _ = writeln!(out, "  {:<24} {}{tag}", role.id, role.name);
    }
    let _ = writeln!(out, "\nLangkah:");
    for step in &sop.steps {
        let actors: Vec<&str> = step
            .actors
            .iter()
            .map(|a| sop.role(a).map_or(a.as_str(), |r| r.name.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "{:>3}. {} [{}; {}]",
            step.no,
            step.description,
            actors.join(" / "),
            step.time
        );
        let list = |items: &[super::Item]| {
            items
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        if !step.requires.is_empty() {
            let _ = writeln!(out, "     kelengkapan: {}", list(&step.requires));
        }
        if !step.outputs.is_empty() {
            let _ = writeln!(out, "     output: {}", list(&step.outputs));
        }
        match &step.route {
            Route::Next { to } => {
                let _ = writeln!(out, "     -> {to}");
            }
            Route::Decision {
                question, branches, ..
            } => {
                let _ = writeln!(out, "     keputusan: {question}");
                for branch in branches {
                    let extra = if branch.outputs.is_empty() {
                        String::new()
                    } else {
                        format!(" (output: {})", list(&branch.outputs))
                    };
                    let _ = writeln!(out, "       {} -> {}{extra}", branch.label, branch.to);
                }
            }
        }
    }
    out
}
