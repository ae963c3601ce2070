//! `cargo xtask release --check | --dry-run`: is the workspace ready to publish?
//!
//! `--check` verifies, without packaging anything:
//!
//! 1. versions in step: every publishable crate has the `[workspace.package]` version
//!    (through `version.workspace = true`), every internal entry of
//!    `[workspace.dependencies]` carries `version = "<that version>"`, and every
//!    dependency between workspace crates requires it;
//! 2. CHANGELOG.md has a section for that version (`## [x.y.z]`);
//! 3. every publishable crate has a description, a licence, a README in its directory, and
//!    a copy of each licence file of the root (`LICENSE-MIT`, `LICENSE-APACHE`) identical
//!    to it, since files outside a crate's directory are not packaged;
//! 4. no dependency is path-only: each path dependency also has a version, or `cargo
//!    publish` would drop it (dev) or refuse the crate.
//!
//! `--dry-run` then packages every publishable crate in dependency order (`cargo package
//! -p <crate> --no-verify --exclude-lockfile`, offline) and checks from `cargo package
//! --list` that each package holds its README and licence files. Crates with
//! `publish = false` (examples, benches, xtask) are skipped.
//!
//! Packaging does not verify (build) each crate: its internal dependencies are not on
//! crates.io yet, so the unpacked crate could not resolve them. It leaves out the
//! lock file for the same reason: generating it would resolve against crates.io.

use crate::metadata::{Metadata, Package};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The licence files of the root that every publishable crate carries a copy of.
const LICENCE_FILES: &[&str] = &["LICENSE-MIT", "LICENSE-APACHE"];

/// Runs the release checks; with `dry_run`, packages every publishable crate too.
pub(crate) fn run(root: &Path, dry_run: bool) -> Result<(), String> {
    let meta = Metadata::load(root)?;
    let manifest = read(&root.join("Cargo.toml"))?;
    let changelog = read(&root.join("CHANGELOG.md"))?;
    let version = workspace_version(&manifest).ok_or("no `version` in [workspace.package] of Cargo.toml")?;
    let mut errors = check_versions(&meta, &manifest, &version);
    errors.extend(check_changelog(&changelog, &version));
    let mut warnings = Vec::new();
    for p in meta.members().into_iter().filter(|p| p.publishable()) {
        errors.extend(check_package_files(root, p));
        let (w, e) = check_dependencies(p);
        warnings.extend(w);
        errors.extend(e);
    }
    let order = publish_order(&meta)?;
    if errors.is_empty() && dry_run {
        for name in &order {
            errors.extend(package(root, &meta, name)?);
        }
    }
    for w in &warnings {
        eprintln!("release: warning: {w}");
    }
    if errors.is_empty() {
        let what = if dry_run { "packaged" } else { "ready to package" };
        eprintln!("release: version {version}, {} crates {what} in order: {}", order.len(), order.join(", "));
        Ok(())
    } else {
        for e in &errors {
            eprintln!("release: error: {e}");
        }
        Err(format!("release: {} problem(s)", errors.len()))
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The lines of one `[section]` of a TOML file (up to the next header).
fn section<'a>(toml: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("[{name}]");
    toml.lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The value of `key = "value"` on a TOML line, or inside an inline table on it.
fn string_value(line: &str, key: &str) -> Option<String> {
    let mut rest = line;
    while let Some(pos) = rest.find(key) {
        let before = rest[..pos].chars().last();
        let after = rest[pos + key.len()..].trim_start();
        if before.is_none_or(|c| c == ' ' || c == '{' || c == ',')
            && let Some(value) = after.strip_prefix('=')
            && let Some(value) = value.trim_start().strip_prefix('"')
        {
            return value.split('"').next().map(str::to_string);
        }
        rest = &rest[pos + key.len()..];
    }
    None
}

/// `[workspace.package] version` of the root manifest.
fn workspace_version(manifest: &str) -> Option<String> {
    section(manifest, "workspace.package")
        .into_iter()
        .find(|l| l.starts_with("version"))
        .and_then(|l| string_value(l, "version"))
}

/// Versions in step: packages, `[workspace.dependencies]` entries, internal requirements.
pub(crate) fn check_versions(meta: &Metadata, manifest: &str, version: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let members = meta.members();
    for p in members.iter().filter(|p| p.publishable()) {
        if p.version != version {
            errors.push(format!("`{}` is at version {}, the workspace at {version}", p.name, p.version));
        }
        match std::fs::read_to_string(&p.manifest_path) {
            Ok(text) if !section(&text, "package").iter().any(|l| l.replace(' ', "") == "version.workspace=true") => {
                errors.push(format!("`{}`: use `version.workspace = true` to keep its version in step", p.name));
            }
            Ok(_) => {}
            Err(e) => errors.push(format!("{}: {e}", p.manifest_path.display())),
        }
    }
    let internal: BTreeSet<&str> = members.iter().map(|p| p.name.as_str()).collect();
    for line in section(manifest, "workspace.dependencies") {
        let Some((name, _)) = line.split_once('=') else { continue };
        let name = name.trim();
        if !internal.contains(name) {
            continue;
        }
        match string_value(line, "version") {
            Some(v) if v == version || v == format!("={version}") => {}
            Some(v) => errors.push(format!(
                "[workspace.dependencies] `{name}` has version = \"{v}\", the workspace is at {version}"
            )),
            None => errors.push(format!("[workspace.dependencies] `{name}` has a path but no version")),
        }
    }
    for p in &members {
        for d in p.dependencies.iter().filter(|d| internal.contains(d.name.as_str()) && d.path.is_some()) {
            let req = d.req.trim_start_matches(['^', '=', '~']);
            if d.req != "*" && req != version {
                errors.push(format!("`{}` requires `{}` {}, the workspace is at {version}", p.name, d.name, d.req));
            }
        }
    }
    errors
}

/// A `## [x.y.z]` (or `## x.y.z`) section for the version in CHANGELOG.md.
pub(crate) fn check_changelog(changelog: &str, version: &str) -> Vec<String> {
    let has = changelog.lines().any(|l| {
        let Some(title) = l.strip_prefix("## ") else { return false };
        let title = title.trim_start_matches('[');
        title.strip_prefix(version).is_some_and(|rest| rest.is_empty() || rest.starts_with([']', ' ']))
    });
    if has { Vec::new() } else { vec![format!("CHANGELOG.md has no `## [{version}]` section")] }
}

/// Description, licence, README and licence-file copies of one publishable crate.
fn check_package_files(root: &Path, p: &Package) -> Vec<String> {
    let mut errors = Vec::new();
    let dir = p.dir();
    if p.description.as_deref().is_none_or(str::is_empty) {
        errors.push(format!("`{}` has no description", p.name));
    }
    if p.license.is_none() && p.license_file.is_none() {
        errors.push(format!("`{}` has no licence", p.name));
    }
    match &p.readme {
        Some(readme) if dir.join(readme).is_file() => {}
        Some(readme) => errors.push(format!("`{}`: readme `{}` is not a file", p.name, readme.display())),
        None => errors.push(format!("`{}` has no `readme`", p.name)),
    }
    for licence in LICENCE_FILES {
        let (ours, theirs) = (root.join(licence), dir.join(licence));
        match (std::fs::read(&ours), std::fs::read(&theirs)) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(_), Ok(_)) => errors.push(format!("`{}`: {licence} differs from the root's; copy it again", p.name)),
            (Ok(_), Err(_)) => errors.push(format!("`{}`: no copy of {licence} in {}", p.name, dir.display())),
            (Err(e), _) => errors.push(format!("{}: {e}", ours.display())),
        }
    }
    errors
}

/// No path-only dependency; a warning for a versioned dev-dependency of a crate on itself.
pub(crate) fn check_dependencies(p: &Package) -> (Vec<String>, Vec<String>) {
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for d in p.dependencies.iter().filter(|d| d.path.is_some()) {
        let kind = d.kind.as_deref().map_or(String::new(), |k| format!("{k}-"));
        if d.req == "*" {
            errors.push(format!("`{}` has a path-only {kind}dependency on `{}`: give it a version", p.name, d.name));
        } else if d.name == p.name {
            warnings.push(format!(
                "`{}` {kind}depends on itself with version {}: packaging it with a lock file looks that up on \
                 crates.io, where it is not yet (`no matching package named `{}``); give the self-dependency no \
                 version (it is then dropped on packaging) before the first publish",
                p.name, d.req, p.name
            ));
        }
    }
    (warnings, errors)
}

/// The publishable workspace crates in dependency order (normal and build dependencies on
/// other workspace crates first), ties broken by name.
pub(crate) fn publish_order(meta: &Metadata) -> Result<Vec<String>, String> {
    let members = meta.members();
    let publishable: BTreeSet<&str> = members.iter().filter(|p| p.publishable()).map(|p| p.name.as_str()).collect();
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in members.iter().filter(|p| publishable.contains(p.name.as_str())) {
        let internal = p
            .dependencies
            .iter()
            .filter(|d| d.kind.as_deref() != Some("dev") && d.name != p.name && meta.is_member(&d.name))
            .map(|d| d.name.as_str());
        deps.insert(p.name.as_str(), internal.collect());
    }
    let mut order: Vec<String> = Vec::new();
    while order.len() < deps.len() {
        let next = deps
            .iter()
            .find(|(name, ds)| !order.iter().any(|o| o == *name) && ds.iter().all(|d| order.iter().any(|o| o == d)))
            .map(|(name, _)| name.to_string());
        match next {
            Some(name) => order.push(name),
            None => return Err("the workspace crates depend on each other in a cycle".into()),
        }
    }
    for name in &order {
        for d in &deps[name.as_str()] {
            if !publishable.contains(d) {
                return Err(format!("`{name}` depends on `{d}`, which has `publish = false`"));
            }
        }
    }
    Ok(order)
}

/// Packages one crate and checks its file list; returns the problems found.
fn package(root: &Path, meta: &Metadata, name: &str) -> Result<Vec<String>, String> {
    let common = ["--allow-dirty", "--offline", "--locked", "--exclude-lockfile", "-p", name];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo package --no-verify {}", common.join(" "));
    let status = Command::new(&cargo)
        .arg("package")
        .arg("--no-verify")
        .args(common)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Ok(vec![format!("`cargo package -p {name}` failed ({status})")]);
    }
    let out = Command::new(&cargo)
        .args(["package", "--list"])
        .args(common)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Ok(vec![format!("`cargo package --list -p {name}` failed: {}", String::from_utf8_lossy(&out.stderr))]);
    }
    let listed = String::from_utf8_lossy(&out.stdout);
    let files: BTreeSet<&str> = listed.lines().map(str::trim).collect();
    let p = meta.members().into_iter().find(|p| p.name == name).ok_or(format!("no package `{name}`"))?;
    let mut wanted: Vec<String> = LICENCE_FILES.iter().map(|s| s.to_string()).collect();
    if let Some(readme) = &p.readme {
        wanted.push(readme.to_string_lossy().replace('\\', "/"));
    }
    Ok(wanted
        .into_iter()
        .filter(|f| !files.contains(f.as_str()))
        .map(|f| format!("the package of `{name}` does not include {f}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"0.2.0\"\nedition = \"2024\"\n\n\
        [workspace.dependencies]\n# Internal.\nring = { path = \"ring\", version = \"0.2.0\" }\n\
        share = { path = \"share\", version = \"0.1.0\" }\nnet = { path = \"net\" }\nserde = \"1\"\n";

    fn metadata(share_deps: &str) -> Metadata {
        Metadata::parse(&format!(
            r#"{{"workspace_root": "/ws", "workspace_members": ["ring", "share", "net", "bench"],
            "packages": [
              {{"name": "ring", "version": "0.2.0", "id": "ring", "manifest_path": "/nonexistent/ring/Cargo.toml"}},
              {{"name": "share", "version": "0.2.0", "id": "share", "manifest_path": "/nonexistent/share/Cargo.toml",
                "dependencies": [{share_deps}]}},
              {{"name": "net", "version": "0.2.0", "id": "net", "manifest_path": "/nonexistent/net/Cargo.toml",
                "dependencies": [{{"name": "share", "req": "^0.2.0", "path": "/ws/share"}},
                                 {{"name": "ring", "req": "^0.2.0", "kind": "dev", "path": "/ws/ring"}}]}},
              {{"name": "bench", "version": "0.0.0", "id": "bench", "manifest_path": "/nonexistent/b/Cargo.toml",
                "publish": [], "dependencies": [{{"name": "net", "req": "*", "kind": "dev", "path": "/ws/net"}}]}}
            ]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn toml_values_are_read() {
        assert_eq!(workspace_version(MANIFEST).as_deref(), Some("0.2.0"));
        assert_eq!(string_value("a = { path = \"x\", version = \"1.2\" }", "version").as_deref(), Some("1.2"));
        assert_eq!(string_value("a = { path = \"x\", myversion = \"1\" }", "version"), None);
    }

    #[test]
    fn versions_out_of_step_are_reported() {
        let meta = metadata(r#"{"name": "ring", "req": "^0.1.0", "path": "/ws/ring"}"#);
        let errors = check_versions(&meta, MANIFEST, "0.2.0");
        let has = |s: &str| errors.iter().any(|e| e.contains(s));
        assert!(has("`share` has version = \"0.1.0\""), "{errors:?}");
        assert!(has("`net` has a path but no version"), "{errors:?}");
        assert!(has("`share` requires `ring` ^0.1.0"), "{errors:?}");
        // The manifests do not exist: one error each, but none about the unpublished bench.
        assert!(!has("bench"), "{errors:?}");
    }

    #[test]
    fn the_changelog_needs_the_version() {
        let log = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-04\n\n- things\n\n## [0.1.0]\n";
        assert!(check_changelog(log, "0.2.0").is_empty());
        assert!(check_changelog(log, "0.1.0").is_empty());
        assert_eq!(check_changelog(log, "0.2").len(), 1);
        assert_eq!(check_changelog(log, "0.3.0").len(), 1);
    }

    #[test]
    fn path_only_dependencies_fail() {
        let meta = metadata(r#"{"name": "ring", "req": "*", "kind": "dev", "path": "/ws/ring"}"#);
        let share = meta.packages.iter().find(|p| p.name == "share").unwrap();
        let (_, errors) = check_dependencies(share);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("path-only dev-dependency on `ring`"), "{errors:?}");
        let meta = metadata(r#"{"name": "share", "req": "^0.2.0", "kind": "dev", "path": "/ws/share"}"#);
        let share = meta.packages.iter().find(|p| p.name == "share").unwrap();
        let (warnings, errors) = check_dependencies(share);
        assert_eq!((warnings.len(), errors.len()), (1, 0));
    }

    #[test]
    fn crates_are_published_in_dependency_order() {
        let meta = metadata(r#"{"name": "ring", "req": "^0.2.0", "path": "/ws/ring"}"#);
        assert_eq!(publish_order(&meta).unwrap(), ["ring", "share", "net"]);
    }

    #[test]
    fn the_real_tree_is_ready() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let meta = Metadata::load(&root).unwrap();
        let manifest = read(&root.join("Cargo.toml")).unwrap();
        let version = workspace_version(&manifest).unwrap();
        assert_eq!(check_versions(&meta, &manifest, &version), Vec::<String>::new());
        assert_eq!(check_changelog(&read(&root.join("CHANGELOG.md")).unwrap(), &version), Vec::<String>::new());
        for p in meta.members().into_iter().filter(|p| p.publishable()) {
            assert_eq!(check_package_files(&root, p), Vec::<String>::new());
            assert_eq!(check_dependencies(p).1, Vec::<String>::new());
        }
        let order = publish_order(&meta).unwrap();
        let pos = |n: &str| order.iter().position(|o| o == n).unwrap();
        assert!(pos("syft-ring") < pos("syft-share") && pos("syft-worker") < pos("syft-net"));
        assert!(!order.iter().any(|o| o == "xtask" || o == "syft-examples" || o == "syft-benches"));
    }
}
