//! The parts of `cargo metadata --format-version 1 --no-deps` the checks read.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace as `cargo metadata` describes it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Metadata {
    pub(crate) packages: Vec<Package>,
    pub(crate) workspace_members: Vec<String>,
    pub(crate) workspace_root: PathBuf,
}

/// One workspace package.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) id: String,
    pub(crate) manifest_path: PathBuf,
    #[serde(default)]
    pub(crate) dependencies: Vec<Dependency>,
    #[serde(default)]
    pub(crate) targets: Vec<Target>,
    /// `None`: publishable anywhere; `Some([])`: `publish = false`.
    #[serde(default)]
    pub(crate) publish: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) readme: Option<PathBuf>,
    #[serde(default)]
    pub(crate) license: Option<String>,
    #[serde(default)]
    pub(crate) license_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// One dependency of a package, as written in its manifest.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Dependency {
    pub(crate) name: String,
    /// The version requirement; `*` when the manifest gives none.
    pub(crate) req: String,
    /// `None` for normal dependencies, `Some("dev")`, `Some("build")`.
    #[serde(default)]
    pub(crate) kind: Option<String>,
    /// Set for path dependencies.
    #[serde(default)]
    pub(crate) path: Option<PathBuf>,
}

/// One build target of a package.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Target {
    pub(crate) kind: Vec<String>,
    pub(crate) src_path: PathBuf,
}

impl Metadata {
    /// Runs `cargo metadata` for the workspace at `root`.
    pub(crate) fn load(root: &Path) -> Result<Metadata, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps", "--locked", "--offline"])
            .current_dir(root)
            .output()
            .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
        if !out.status.success() {
            return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// Parses the JSON `cargo metadata` prints.
    pub(crate) fn parse(json: &str) -> Result<Metadata, String> {
        serde_json::from_str(json).map_err(|e| format!("cannot parse cargo metadata: {e}"))
    }

    /// The workspace members, in the order cargo lists them.
    pub(crate) fn members(&self) -> Vec<&Package> {
        self.workspace_members.iter().filter_map(|id| self.packages.iter().find(|p| &p.id == id)).collect()
    }

    /// Whether `name` is a workspace member.
    pub(crate) fn is_member(&self, name: &str) -> bool {
        self.members().iter().any(|p| p.name == name)
    }
}

impl Package {
    /// Whether the package may be published (no `publish = false`).
    pub(crate) fn publishable(&self) -> bool {
        self.publish.as_ref().is_none_or(|registries| !registries.is_empty())
    }

    /// The directory holding the manifest.
    pub(crate) fn dir(&self) -> PathBuf {
        self.manifest_path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// The library target's root file, if the package has a library.
    pub(crate) fn lib_root(&self) -> Option<&Path> {
        self.targets
            .iter()
            .find(|t| t.kind.iter().any(|k| k == "lib" || k == "rlib" || k == "proc-macro"))
            .map(|t| t.src_path.as_path())
    }
}
