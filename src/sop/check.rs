//! The checks a definition must pass besides being well formed: every actor a declared role,
//! step numbers unique, every transition to a step that exists, every decision with all its
//! branches, every step reachable from the first and with a path to an end.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::xml::Problem;

use super::{Route, Sop, Target};

/// Every problem of `sop`'s graph and references, in document order.
pub fn check(sop: &Sop) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen_roles = HashSet::new();
    if sop.roles.iter().filter(|r| r.applicant).count() > 1 {
        problems.push(Problem::new(
            sop.steps.first().map(|s| s.position).unwrap_or_default(),
            "more than one role is the applicant",
        ));
    }
    for role in &sop.roles {
        if !seen_roles.insert(role.id.as_str()) {
            problems.push(Problem::new(
                sop.steps.first().map(|s| s.position).unwrap_or_default(),
                format!("role {} is declared twice", role.id),
            ));
        }
    }

    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, step) in sop.steps.iter().enumerate() {
        if let Some(first) = index.insert(step.no.as_str(), i) {
            // Keep pointing at the first; report the second.
            index.insert(step.no.as_str(), first);
            problems.push(Problem::new(
                step.position,
                format!(
                    "duplicate step number {} (first at {})",
                    step.no, sop.steps[first].position
                ),
            ));
        }
        if step.actors.is_empty() {
            problems.push(Problem::new(
                step.position,
                format!("step {} has no actor", step.no),
            ));
        }
        for actor in &step.actors {
            if sop.role(actor).is_none() {
                problems.push(Problem::new(
                    step.position,
                    format!("step {}: unknown role '{actor}'", step.no),
                ));
            }
        }
        if let Route::Decision {
            kind,
            branches,
            position,
            ..
        } = &step.route
        {
            let expected = kind.values();
            for value in expected {
                match branches.iter().filter(|b| b.value == value).count() {
                    0 => problems.push(Problem::new(
                        *position,
                        format!("step {}: the decision has no branch for '{value}'", step.no),
                    )),
                    1 => {}
                    _ => problems.push(Problem::new(
                        *position,
                        format!(
                            "step {}: the decision has two branches for '{value}'",
                            step.no
                        ),
                    )),
                }
            }
            for branch in branches
                .iter()
                .filter(|b| !expected.contains(&b.value.as_str()))
            {
                problems.push(Problem::new(
                    branch.position,
                    format!(
                        "step {}: '{}' is not a branch of a {} decision ({})",
                        step.no,
                        branch.value,
                        kind.id(),
                        expected.join(", ")
                    ),
                ));
            }
        }
        for target in step.targets() {
            if let Target::Step(to) = target
                && !sop.steps.iter().any(|s| &s.no == to)
            {
                problems.push(Problem::new(
                    step.position,
                    format!("step {} leads to step {to}, which does not exist", step.no),
                ));
            }
        }
    }
    let Some(first) = sop.steps.first() else {
        problems.push(Problem::new(Default::default(), "the SOP has no steps"));
        return problems;
    };

    // Forward: every step reachable from the first.
    let successors = |i: usize| -> Vec<usize> {
        sop.steps[i]
            .targets()
            .into_iter()
            .filter_map(|t| match t {
                Target::Step(no) => index.get(no.as_str()).copied(),
                Target::End(_) => None,
            })
            .collect()
    };
    let mut reached = vec![false; sop.steps.len()];
    let mut queue = VecDeque::from([index.get(first.no.as_str()).copied().unwrap_or(0)]);
    while let Some(i) = queue.pop_front() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        queue.extend(successors(i));
    }
    // Backward: every step with a path to an end.
    let mut ends = vec![false; sop.steps.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..sop.steps.len() {
            if ends[i] {
                continue;
            }
            let finishes = sop.steps[i]
                .targets()
                .iter()
                .any(|t| matches!(t, Target::End(_)))
                || successors(i).into_iter().any(|j| ends[j]);
            if finishes {
                ends[i] = true;
                changed = true;
            }
        }
    }
    for (i, step) in sop.steps.iter().enumerate() {
        if index.get(step.no.as_str()) != Some(&i) {
            continue; // a duplicate, already reported
        }
        if !reached[i] {
            problems.push(Problem::new(
                step.position,
                format!("step {} cannot be reached from step {}", step.no, first.no),
            ));
        }
        if !ends[i] {
            problems.push(Problem::new(
                step.position,
                format!("step {} has no path to an end", step.no),
            ));
        }
    }
    problems
}
