//! `cargo xtask arch`: the architecture check.
//!
//! 1. Crate layering: every dependency of a workspace crate on another workspace crate
//!    (normal, build or dev) must be allowed by the table between the
//!    `xtask-arch-layers` markers in `docs/ARCHITECTURE.md`; every workspace crate needs a
//!    row, and the table itself must not allow a cycle.
//! 2. No module cycles inside a library crate (see [`crate::modgraph`]). The cycles that
//!    exist today are listed in [`KNOWN_CYCLES`] as debt: they are reported as warnings,
//!    any other cycle fails, and so does a listed cycle that no longer exists, so the list
//!    only shrinks.

use crate::metadata::Metadata;
use crate::modgraph::{self, ModuleGraph};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module cycles that exist today, per crate: debt to remove, never to extend. Each entry
/// is one strongly connected component of the crate's top-level modules, sorted. When a
/// reorganisation breaks one up, delete its entry (the check says so).
pub(crate) const KNOWN_CYCLES: &[(&str, &[&str])] = &[
    // `Backend` is the sum of the op traits in `ops`, which name `Backend`.
    ("syft-autograd", &["backend", "ops"]),
    // The error enum names a type (`FixedEncoder`, `PartyId`) of a module that returns it.
    ("syft-fixed", &["encoder", "error"]),
    // `element`'s `Scalar` picks a GEMM kernel; the GEMM is generic over `Scalar`.
    ("syft-ring", &["element", "gemm"]),
    ("syft-share", &["comm", "error"]),
];

/// A module cycle: its modules (sorted), and each edge inside it with where it was seen.
pub(crate) type Cycle = (Vec<String>, Vec<String>);

/// The module cycles of each crate, by crate name.
pub(crate) type CyclesByCrate = BTreeMap<String, Vec<Cycle>>;

const BEGIN: &str = "<!-- xtask-arch-layers:begin -->";
const END: &str = "<!-- xtask-arch-layers:end -->";

/// What a crate may depend on, from the layering table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allowed {
    /// Normal (and build) dependencies.
    pub(crate) uses: BTreeSet<String>,
    /// Additionally allowed as dev-dependencies.
    pub(crate) dev_uses: BTreeSet<String>,
}

/// Parses the layering table between the markers of `docs/ARCHITECTURE.md`.
pub(crate) fn parse_layers(markdown: &str) -> Result<BTreeMap<String, Allowed>, String> {
    let start = markdown.find(BEGIN).ok_or_else(|| format!("no `{BEGIN}` marker"))? + BEGIN.len();
    let end = markdown[start..].find(END).ok_or_else(|| format!("no `{END}` marker after `{BEGIN}`"))? + start;
    let mut table = BTreeMap::new();
    for (n, line) in markdown[start..end].lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        // The header row and the separator row.
        if n == 0 || cells.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
            continue;
        }
        if cells.len() != 3 {
            return Err(format!("layering table: expected 3 cells in `{line}`"));
        }
        let names = |cell: &str| -> Result<BTreeSet<String>, String> {
            if cell == "—" || cell == "-" {
                return Ok(BTreeSet::new());
            }
            cell.split(',')
                .map(|c| {
                    let c = c.trim();
                    c.strip_prefix('`')
                        .and_then(|c| c.strip_suffix('`'))
                        .map(str::to_string)
                        .ok_or_else(|| format!("layering table: `{c}` should be a crate name in backticks"))
                })
                .collect()
        };
        let krate = names(cells[0])?;
        let [krate] = krate
            .into_iter()
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| format!("layering table: one crate per row: `{line}`"))?;
        let allowed = Allowed { uses: names(cells[1])?, dev_uses: names(cells[2])? };
        if table.insert(krate.clone(), allowed).is_some() {
            return Err(format!("layering table: `{krate}` has two rows"));
        }
    }
    Ok(table)
}

/// Checks every internal dependency against the table; returns one message per problem.
pub(crate) fn check_layers(meta: &Metadata, table: &BTreeMap<String, Allowed>) -> Vec<String> {
    let mut errors = Vec::new();
    let members = meta.members();
    for (krate, allowed) in table {
        for used in allowed.uses.iter().chain(&allowed.dev_uses) {
            if !meta.is_member(used) {
                errors.push(format!("layering table: `{krate}` may use `{used}`, which is not a workspace crate"));
            }
        }
        if !meta.is_member(krate) {
            errors.push(format!("layering table: `{krate}` is not a workspace crate"));
        }
    }
    for p in &members {
        let Some(allowed) = table.get(&p.name) else {
            errors.push(format!("`{}` has no row in the layering table of docs/ARCHITECTURE.md", p.name));
            continue;
        };
        for d in &p.dependencies {
            if d.name == p.name || !meta.is_member(&d.name) {
                continue;
            }
            let dev = d.kind.as_deref() == Some("dev");
            let ok = allowed.uses.contains(&d.name) || (dev && allowed.dev_uses.contains(&d.name));
            if !ok {
                let kind = if dev { "dev-dependency" } else { "dependency" };
                errors.push(format!(
                    "`{}` has a {kind} on `{}`, which the layering table of docs/ARCHITECTURE.md does not allow",
                    p.name, d.name
                ));
            }
        }
    }
    // The table itself must be layered: no crate may (transitively) be allowed to use itself.
    let nodes: BTreeSet<String> = table.keys().cloned().collect();
    let edges: BTreeSet<(String, String)> = table
        .iter()
        .flat_map(|(k, a)| a.uses.iter().chain(&a.dev_uses).map(move |u| (k.clone(), u.clone())))
        .filter(|(k, u)| k != u)
        .collect();
    for cycle in modgraph::cycles(&nodes, &edges) {
        errors.push(format!("layering table allows a cycle among {}", cycle.join(", ")));
    }
    errors
}

/// The module cycles of one crate, with the edges inside each and where they were seen.
pub(crate) fn crate_cycles(graph: &ModuleGraph, root: &Path) -> Vec<Cycle> {
    let nodes: BTreeSet<String> = graph.modules.keys().cloned().collect();
    let edges: BTreeSet<(String, String)> = graph.edges.keys().cloned().collect();
    modgraph::cycles(&nodes, &edges)
        .into_iter()
        .map(|cycle| {
            let detail = graph
                .edges
                .iter()
                .filter(|((a, b), _)| cycle.contains(a) && cycle.contains(b))
                .map(|((a, b), site)| {
                    let file = site.file.strip_prefix(root).unwrap_or(&site.file);
                    format!("{a} -> {b} ({}:{})", file.display(), site.line)
                })
                .collect();
            (cycle, detail)
        })
        .collect()
}

/// Compares the cycles found per crate with the known ones: returns (warnings, errors).
pub(crate) fn judge_cycles(found: &CyclesByCrate, known: &[(&str, &[&str])]) -> (Vec<String>, Vec<String>) {
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    let describe = |krate: &str, cycle: &[String], detail: &[String]| {
        format!("`{krate}`: modules {} form a cycle:\n      {}", cycle.join(", "), detail.join("\n      "))
    };
    for (krate, cycles) in found {
        for (cycle, detail) in cycles {
            let is_known =
                known.iter().any(|(k, m)| k == krate && m.iter().copied().eq(cycle.iter().map(String::as_str)));
            if is_known {
                warnings.push(format!(
                    "known debt: `{krate}`: modules {} form a cycle ({} edges; remove it, then its KNOWN_CYCLES entry)",
                    cycle.join(", "),
                    detail.len()
                ));
            } else {
                errors.push(format!(
                    "new module cycle in {}\n    (break it; only a reorganisation in progress may list it in KNOWN_CYCLES)",
                    describe(krate, cycle, detail)
                ));
            }
        }
    }
    for (krate, modules) in known {
        let still = found
            .get(*krate)
            .is_some_and(|cs| cs.iter().any(|(c, _)| c.iter().map(String::as_str).eq(modules.iter().copied())));
        if !still {
            errors.push(format!(
                "known cycle `{krate}`: {} no longer exists: remove it from KNOWN_CYCLES in xtask/src/arch.rs",
                modules.join(", ")
            ));
        }
    }
    (warnings, errors)
}

/// Module cycles of every library crate in the workspace, by crate name.
pub(crate) fn workspace_cycles(meta: &Metadata) -> Result<CyclesByCrate, String> {
    let mut found = BTreeMap::new();
    for p in meta.members() {
        let Some(lib) = p.lib_root() else { continue };
        let graph = modgraph::build_graph(&modgraph::load_crate(lib)?);
        let cycles = crate_cycles(&graph, &meta.workspace_root);
        if !cycles.is_empty() {
            found.insert(p.name.clone(), cycles);
        }
    }
    Ok(found)
}

/// Runs both checks on the workspace at `root`.
pub(crate) fn run(root: &Path) -> Result<(), String> {
    let meta = Metadata::load(root)?;
    let doc = root.join("docs/ARCHITECTURE.md");
    let markdown = std::fs::read_to_string(&doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    let table = parse_layers(&markdown)?;
    let mut errors = check_layers(&meta, &table);
    let (warnings, cycle_errors) = judge_cycles(&workspace_cycles(&meta)?, KNOWN_CYCLES);
    errors.extend(cycle_errors);
    for w in &warnings {
        eprintln!("arch: warning: {w}");
    }
    if errors.is_empty() {
        eprintln!(
            "arch: {} crates follow the layering table; no module cycles beyond {} known",
            meta.members().len(),
            KNOWN_CYCLES.len()
        );
        Ok(())
    } else {
        for e in &errors {
            eprintln!("arch: error: {e}");
        }
        Err(format!("arch: {} problem(s)", errors.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    const TABLE: &str = "intro\n<!-- xtask-arch-layers:begin -->\n| crate | may use | dev-dependencies may also use |\n\
        | --- | --- | --- |\n| `ring` | — | — |\n| `share` | `ring` | — |\n| `bench` | — | `ring`, `share` |\n\
        <!-- xtask-arch-layers:end -->\n";

    /// Synthetic `cargo metadata` output: `share` uses `ring`; `bench` dev-uses both; plus
    /// whatever `extra` adds to `ring`'s dependencies.
    fn metadata(ring_deps: &str) -> Metadata {
        let json = format!(
            r#"{{"workspace_root": "/ws", "workspace_members": ["ring 0.1.0", "share 0.1.0", "bench 0.1.0"],
            "packages": [
              {{"name": "ring", "version": "0.1.0", "id": "ring 0.1.0", "manifest_path": "/ws/ring/Cargo.toml",
                "dependencies": [{ring_deps}], "targets": []}},
              {{"name": "share", "version": "0.1.0", "id": "share 0.1.0", "manifest_path": "/ws/share/Cargo.toml",
                "dependencies": [{{"name": "ring", "req": "^0.1.0", "kind": null, "path": "/ws/ring"}},
                                 {{"name": "thiserror", "req": "^2", "kind": null}},
                                 {{"name": "share", "req": "^0.1.0", "kind": "dev", "path": "/ws/share"}}],
                "targets": []}},
              {{"name": "bench", "version": "0.1.0", "id": "bench 0.1.0", "manifest_path": "/ws/bench/Cargo.toml",
                "publish": [], "dependencies": [{{"name": "share", "req": "^0.1.0", "kind": "dev", "path": "/ws/share"}}],
                "targets": []}}
            ]}}"#
        );
        Metadata::parse(&json).unwrap()
    }

    #[test]
    fn the_table_parses() {
        let t = parse_layers(TABLE).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t["share"].uses, BTreeSet::from(["ring".to_string()]));
        assert!(t["bench"].uses.is_empty());
        assert_eq!(t["bench"].dev_uses.len(), 2);
        assert!(parse_layers("no markers").is_err());
    }

    #[test]
    fn a_layered_graph_passes() {
        let t = parse_layers(TABLE).unwrap();
        assert_eq!(check_layers(&metadata(""), &t), Vec::<String>::new());
    }

    #[test]
    fn a_reversed_edge_fails() {
        let t = parse_layers(TABLE).unwrap();
        let meta = metadata(r#"{"name": "share", "req": "^0.1.0", "kind": null, "path": "/ws/share"}"#);
        let errors = check_layers(&meta, &t);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("`ring` has a dependency on `share`"), "{errors:?}");
        // As a dev-dependency too.
        let meta = metadata(r#"{"name": "share", "req": "^0.1.0", "kind": "dev", "path": "/ws/share"}"#);
        assert!(check_layers(&meta, &t)[0].contains("`ring` has a dev-dependency on `share`"));
    }

    #[test]
    fn a_missing_row_and_a_cyclic_table_fail() {
        let t = parse_layers(&TABLE.replace("| `bench` | — | `ring`, `share` |\n", "")).unwrap();
        assert!(check_layers(&metadata(""), &t).iter().any(|e| e.contains("`bench` has no row")));
        let t = parse_layers(&TABLE.replace("| `ring` | — |", "| `ring` | `share` |")).unwrap();
        assert!(check_layers(&metadata(""), &t).iter().any(|e| e.contains("allows a cycle among ring, share")));
    }

    #[test]
    fn new_and_vanished_cycles_fail_and_known_ones_warn() {
        let files = [
            modgraph::SourceFile { path: "/ws/src/lib.rs".into(), module: vec![], text: "mod a; mod b; mod c;".into() },
            modgraph::SourceFile {
                path: "/ws/src/a.rs".into(),
                module: vec!["a".into()],
                text: "use crate::b::B;".into(),
            },
            modgraph::SourceFile {
                path: "/ws/src/b.rs".into(),
                module: vec!["b".into()],
                text: "\n\nuse super::a::A;".into(),
            },
            modgraph::SourceFile {
                path: "/ws/src/c.rs".into(),
                module: vec!["c".into()],
                text: "use crate::a;".into(),
            },
        ];
        let graph = modgraph::build_graph(&files);
        let found = BTreeMap::from([("k".to_string(), crate_cycles(&graph, Path::new("/ws")))]);
        let (warnings, errors) = judge_cycles(&found, &[]);
        assert!(warnings.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("new module cycle in `k`: modules a, b"), "{errors:?}");
        assert!(errors[0].contains("b -> a (src/b.rs:3)"), "{errors:?}");
        let (warnings, errors) = judge_cycles(&found, &[("k", &["a", "b"])]);
        assert_eq!((warnings.len(), errors.len()), (1, 0));
        let (_, errors) = judge_cycles(&found, &[("k", &["a", "b"]), ("k", &["b", "c"])]);
        assert!(errors[0].contains("b, c no longer exists"), "{errors:?}");
    }

    #[test]
    fn the_real_tree_passes() {
        let meta = Metadata::load(&root()).unwrap();
        let markdown = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
        let table = parse_layers(&markdown).unwrap();
        assert_eq!(check_layers(&meta, &table), Vec::<String>::new());
        let (_, errors) = judge_cycles(&workspace_cycles(&meta).unwrap(), KNOWN_CYCLES);
        assert_eq!(errors, Vec::<String>::new());
    }

    #[test]
    fn reversing_a_real_edge_fails() {
        // syft-ring depending on syft-share, on today's metadata.
        let mut meta = Metadata::load(&root()).unwrap();
        let dep = crate::metadata::Dependency {
            name: "syft-share".into(),
            req: "^0.1.0".into(),
            kind: None,
            path: Some(root().join("crates/syft-share")),
        };
        meta.packages.iter_mut().find(|p| p.name == "syft-ring").unwrap().dependencies.push(dep);
        let markdown = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
        let errors = check_layers(&meta, &parse_layers(&markdown).unwrap());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("`syft-ring` has a dependency on `syft-share`"));
    }
}
