//! The module graph of one library crate, from a text scan of its sources.
//!
//! Nodes are the crate's top-level modules (`mod a;` in `lib.rs`); the crate root itself
//! is not a node. An edge `a -> b` means a file of module `a` (`a.rs`, `a/mod.rs` or any
//! submodule file under it) names top-level module `b`: `crate::b`, `crate::{b, ..}`,
//! `super::b` or `super::super::b` resolving to the root, or `crate::Item` where the root
//! re-exports `Item` from `b` (`pub use b::Item;`). Comments (doc comments included),
//! string and character literals are skipped before the scan, so an intra-doc link or a
//! message mentioning `crate::b` is not an edge; nor are references from `#[cfg(test)]`
//! modules, since tests may reach any module of their crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One token of Rust source, as far as paths are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// A token and the 1-based line it starts on.
#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Splits Rust source into identifiers, `::` and punctuation, dropping whitespace,
/// comments (nested block comments too), string, byte-string, raw-string and character
/// literals, and numbers. Lifetimes (`'a`) are dropped as well.
fn lex(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < n {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0usize;
            while i < n {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_prefix(&chars, i) {
            // r"..", r#".."#, br#".."#, cr".." : find the closing quote and hashes.
            let hashes = len - if at(i) == 'r' { 2 } else { 3 };
            i += len;
            while i < n {
                if chars[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if c == '"' || ((c == 'b' || c == 'c') && at(i + 1) == '"') {
            i += if c == '"' { 1 } else { 2 };
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            let start = if c == '\'' { i } else { i + 1 };
            if at(start + 1) == '\\' {
                // An escaped character literal: skip to its closing quote.
                i = start + 2;
                while i < n && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(start + 2) == '\'' {
                i = start + 3;
            } else {
                // A lifetime or label: skip the quote and the name.
                i = start + 1;
                while i < n && is_ident_char(chars[i]) {
                    i += 1;
                }
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < n && is_ident_char(chars[i]) {
                i += 1;
            }
            let mut word: String = chars[start..i].iter().collect();
            if word == "r" && at(i) == '#' && is_ident_start(at(i + 1)) {
                // A raw identifier, `r#type`.
                let s = i + 1;
                i = s;
                while i < n && is_ident_char(chars[i]) {
                    i += 1;
                }
                word = chars[s..i].iter().collect();
            }
            out.push(Token { tok: Tok::Ident(word), line });
        } else if c.is_ascii_digit() {
            while i < n && (is_ident_char(chars[i]) || chars[i] == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token { tok: Tok::PathSep, line });
            i += 2;
        } else {
            out.push(Token { tok: Tok::Punct(c), line });
            i += 1;
        }
    }
    out
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The length of a raw-string opener (`r"`, `r##"`, `br#"`, `cr"`) at `i`, if any.
fn raw_string_prefix(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    // Not the end of a longer identifier such as `bar"`.
    if i > 0 && chars.get(i - 1).is_some_and(|&c| is_ident_char(c)) {
        return None;
    }
    j += 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some(j + 1 - i)
}

/// One source file of the crate, with the module path it defines (`[]` for the root,
/// `["a"]` for `a.rs` or `a/mod.rs`, `["a", "b"]` for `a/b.rs`).
#[derive(Clone, Debug)]
pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    pub(crate) module: Vec<String>,
    pub(crate) text: String,
}

/// Reads the module tree of a crate from its root file by following `mod name;`
/// declarations (`name.rs` or `name/mod.rs` next to a root or `mod.rs` file, `dir/name.rs`
/// beside a `dir.rs` file). Declarations under `#[path]` or inside inline modules are
/// resolved the same simple way; a declared file that does not exist is skipped (it may be
/// behind a `cfg` for another platform).
pub(crate) fn load_crate(root_file: &Path) -> Result<Vec<SourceFile>, String> {
    let mut files = Vec::new();
    let mut queue = vec![(root_file.to_path_buf(), Vec::<String>::new())];
    while let Some((path, module)) = queue.pop() {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let dir = child_dir(&path, module.is_empty());
        for name in declared_file_modules(&text) {
            let candidates = [dir.join(format!("{name}.rs")), dir.join(&name).join("mod.rs")];
            if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
                let mut child = module.clone();
                child.push(name);
                queue.push((found, child));
            }
        }
        files.push(SourceFile { path, module, text });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Where the files of a file's submodules live.
fn child_dir(path: &Path, is_root: bool) -> PathBuf {
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let is_mod_rs = path.file_name().is_some_and(|n| n == "mod.rs");
    if is_root || is_mod_rs {
        parent
    } else {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        parent.join(stem)
    }
}

/// Names of `mod name;` declarations (out-of-line modules) in a file.
fn declared_file_modules(text: &str) -> Vec<String> {
    let toks = without_test_modules(lex(text));
    let mut names = Vec::new();
    for w in toks.windows(3) {
        if let [
            Token { tok: Tok::Ident(kw), .. },
            Token { tok: Tok::Ident(name), .. },
            Token { tok: Tok::Punct(';'), .. },
        ] = w
            && kw == "mod"
        {
            names.push(name.clone());
        }
    }
    names
}

/// Drops `#[cfg(test)]` modules (`mod tests { .. }` and `mod tests;`), with any further
/// attributes and visibility between the `cfg` and the `mod`: test code may reach any
/// module of its crate, and does not count towards module cycles.
fn without_test_modules(toks: Vec<Token>) -> Vec<Token> {
    let is_cfg_test = |i: usize| {
        let want = [
            Tok::Punct('#'),
            Tok::Punct('['),
            Tok::Ident("cfg".into()),
            Tok::Punct('('),
            Tok::Ident("test".into()),
            Tok::Punct(')'),
            Tok::Punct(']'),
        ];
        toks.len() >= i + want.len() && toks[i..i + want.len()].iter().zip(&want).all(|(t, w)| &t.tok == w)
    };
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if is_cfg_test(i) {
            // Skip further attributes and `pub`, `pub(crate)`, .. up to `mod name`.
            let mut j = i + 7;
            loop {
                match toks.get(j).map(|t| &t.tok) {
                    Some(Tok::Punct('#')) if toks.get(j + 1).map(|t| &t.tok) == Some(&Tok::Punct('[')) => {
                        j = skip_group(&toks, j + 1, '[', ']');
                    }
                    Some(Tok::Ident(v)) if v == "pub" => {
                        j += 1;
                        if toks.get(j).map(|t| &t.tok) == Some(&Tok::Punct('(')) {
                            j = skip_group(&toks, j, '(', ')');
                        }
                    }
                    _ => break,
                }
            }
            let is_mod = toks.get(j).map(|t| &t.tok) == Some(&Tok::Ident("mod".into()))
                && matches!(toks.get(j + 1).map(|t| &t.tok), Some(Tok::Ident(_)));
            if is_mod {
                match toks.get(j + 2).map(|t| &t.tok) {
                    Some(Tok::Punct('{')) => {
                        i = skip_group(&toks, j + 2, '{', '}');
                        continue;
                    }
                    Some(Tok::Punct(';')) => {
                        i = j + 3;
                        continue;
                    }
                    _ => {}
                }
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// The index just past the group that opens with `open` at `start`.
fn skip_group(toks: &[Token], start: usize, open: char, close: char) -> usize {
    let mut depth = 0usize;
    let mut j = start;
    while j < toks.len() {
        if toks[j].tok == Tok::Punct(open) {
            depth += 1;
        } else if toks[j].tok == Tok::Punct(close) {
            depth -= 1;
            if depth == 0 {
                return j + 1;
            }
        }
        j += 1;
    }
    j
}

/// Where an edge was seen: the file and line of the first reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Site {
    pub(crate) file: PathBuf,
    pub(crate) line: usize,
}

/// The module graph of one crate: top-level modules, their files, and the edges between
/// them with the first place each edge was seen.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModuleGraph {
    pub(crate) modules: BTreeMap<String, Vec<PathBuf>>,
    pub(crate) edges: BTreeMap<(String, String), Site>,
}

/// Builds the module graph of a crate from its source files (the root file has module
/// path `[]`).
pub(crate) fn build_graph(files: &[SourceFile]) -> ModuleGraph {
    let mut graph = ModuleGraph::default();
    for f in files {
        if let Some(top) = f.module.first() {
            graph.modules.entry(top.clone()).or_default().push(f.path.clone());
        }
    }
    let reexports: BTreeMap<String, String> = files
        .iter()
        .filter(|f| f.module.is_empty())
        .flat_map(|f| root_reexports(&without_test_modules(lex(&f.text)), &graph.modules))
        .collect();
    for f in files {
        let Some(from) = f.module.first() else { continue };
        for (target, line) in references(&without_test_modules(lex(&f.text)), &f.module) {
            let to = if graph.modules.contains_key(&target) {
                target
            } else if let Some(m) = reexports.get(&target) {
                m.clone()
            } else {
                continue;
            };
            if &to != from {
                graph.edges.entry((from.clone(), to)).or_insert(Site { file: f.path.clone(), line });
            }
        }
    }
    graph
}

/// Names the root brings in from its own modules with `use` (`pub use a::{X, Y as Z};`
/// maps `X` and `Z` to `a`), for resolving `crate::X`.
fn root_reexports(toks: &[Token], modules: &BTreeMap<String, Vec<PathBuf>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].tok == Tok::Ident("use".into()) {
            let mut j = i + 1;
            if matches!(&toks.get(j).map(|t| &t.tok), Some(Tok::Ident(s)) if s == "crate" || s == "self")
                && toks.get(j + 1).map(|t| &t.tok) == Some(&Tok::PathSep)
            {
                j += 2;
            }
            let Some(Tok::Ident(first)) = toks.get(j).map(|t| &t.tok) else {
                i += 1;
                continue;
            };
            if modules.contains_key(first) {
                // Collect the last identifier of each leaf up to `;`: the name brought in.
                let module = first.clone();
                let mut k = j + 1;
                let mut last: Option<String> = None;
                while k < toks.len() && toks[k].tok != Tok::Punct(';') {
                    match &toks[k].tok {
                        Tok::Ident(s) if s != "as" && s != "self" => last = Some(s.clone()),
                        Tok::Punct(',' | '}') => {
                            if let Some(name) = last.take() {
                                out.push((name, module.clone()));
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                if let Some(name) = last {
                    out.push((name, module));
                }
                i = k;
            }
        }
        i += 1;
    }
    out
}

/// The root-level names a file refers to (`crate::x`, `super::x` resolving to the root,
/// `self::x` in the root), each with its line. `module` is the file's module path.
fn references(toks: &[Token], module: &[String]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    // Inline modules open at the current position: (name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let ident = |i: usize| match toks.get(i).map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    let is = |i: usize, t: &Tok| toks.get(i).map(|x| &x.tok) == Some(t);
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let Some(name) = ident(i + 1)
                    && is(i + 2, &Tok::Punct('{'))
                {
                    inline.push((name.to_string(), depth + 1));
                }
            }
            Tok::Ident(kw) if (kw == "crate" || kw == "super" || kw == "self") && is(i + 1, &Tok::PathSep) => {
                // Only the start of a path: `a::crate::` is not a thing, `x::super::` neither.
                let starts_path = i == 0 || !is(i - 1, &Tok::PathSep);
                if starts_path {
                    let mut here: Vec<String> = module.to_vec();
                    here.extend(inline.iter().map(|(n, _)| n.clone()));
                    let mut j = i;
                    let mut base: Vec<String> = if kw == "crate" { Vec::new() } else { here };
                    if kw == "crate" || kw == "self" {
                        j += 2;
                    }
                    while ident(j) == Some("super") && is(j + 1, &Tok::PathSep) {
                        base.pop();
                        j += 2;
                    }
                    if base.is_empty() {
                        let line = toks[i].line;
                        if let Some(name) = ident(j) {
                            out.push((name.to_string(), line));
                        } else if is(j, &Tok::Punct('{')) {
                            out.extend(group_heads(toks, j).into_iter().map(|n| (n, line)));
                        }
                    }
                    // Continue after the prefix; the brace group is scanned as usual.
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The first identifier of each entry of a `{ .. }` use group opening at `open`.
fn group_heads(toks: &[Token], open: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut expect_head = true;
    for t in &toks[open..] {
        match &t.tok {
            Tok::Punct('{') => {
                depth += 1;
                if depth == 1 {
                    expect_head = true;
                }
            }
            Tok::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct(',') if depth == 1 => expect_head = true,
            Tok::Ident(s) if depth == 1 && expect_head => {
                if s != "self" {
                    out.push(s.clone());
                }
                expect_head = false;
            }
            _ => {}
        }
    }
    out
}

/// The strongly connected components of more than one node (Tarjan's algorithm), each
/// sorted, in sorted order.
pub(crate) fn cycles(nodes: &BTreeSet<String>, edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    struct State<'a> {
        adj: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let succ = s.adj.get(v).cloned().unwrap_or_default();
        for w in succ {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        adj: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for (a, b) in edges {
        s.adj.entry(a.as_str()).or_default().push(b.as_str());
    }
    for v in nodes {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v.as_str());
        }
    }
    s.out.sort();
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, module: &[&str], text: &str) -> SourceFile {
        SourceFile {
            path: PathBuf::from(path),
            module: module.iter().map(|s| s.to_string()).collect(),
            text: text.to_string(),
        }
    }

    fn edges(g: &ModuleGraph) -> Vec<(&str, &str)> {
        g.edges.keys().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }

    #[test]
    fn comments_and_literals_are_not_references() {
        let files = [
            file("lib.rs", &[], "mod a;\nmod b;\n"),
            file(
                "a.rs",
                &["a"],
                "//! See [`crate::b::X`].\n/* crate::b /* nested */ crate::b */\nfn f() -> &'static str { \"crate::b\" }\n\
                 fn g() { let _ = r#\"crate::b\"#; let _ = '\\''; let _ = 'c'; }\n",
            ),
            file("b.rs", &["b"], ""),
        ];
        assert!(build_graph(&files).edges.is_empty());
    }

    #[test]
    fn crate_super_groups_and_reexports_are_edges() {
        let files = [
            file("lib.rs", &[], "mod a; mod b; mod c; mod d;\npub use d::{Thing, Other as Renamed};\n"),
            file("a.rs", &["a"], "use crate::{b::X, c};\nmod inner { use super::super::d::Y; }\n"),
            file("b.rs", &["b"], "fn f() { super::c::g(); crate::Renamed::new(); }\n"),
            file("c/mod.rs", &["c"], "mod sub;\n"),
            file(
                "c/sub.rs",
                &["c", "sub"],
                "use super::super::a::Z;\nuse super::Local;\n#[cfg(test)] mod tests { use super::*; }\n",
            ),
            file("d.rs", &["d"], "macro_rules! m { () => { $crate::a::f() } }\n"),
        ];
        let g = build_graph(&files);
        assert_eq!(edges(&g), [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "a"), ("d", "a")]);
        assert_eq!(g.edges[&("c".into(), "a".into())], Site { file: "c/sub.rs".into(), line: 1 });
    }

    #[test]
    fn test_modules_are_not_edges() {
        let files = [
            file("lib.rs", &[], "mod a; mod b;"),
            file("a.rs", &["a"], "use crate::b::B;"),
            file(
                "b.rs",
                &["b"],
                "#[cfg(test)]\n#[allow(unused)]\npub(crate) mod tests { use crate::a::A; mod deeper { } }\n\
                 #[cfg(test)] mod more;\nfn f() {}",
            ),
        ];
        assert_eq!(edges(&build_graph(&files)), [("a", "b")]);
        assert!(declared_file_modules(&files[2].text).is_empty());
    }

    #[test]
    fn a_module_cycle_is_found() {
        let files = [
            file("lib.rs", &[], "mod a; mod b; mod c; mod d;"),
            file("a.rs", &["a"], "use crate::b::B;"),
            file("b.rs", &["b"], "use crate::c::C;"),
            file("c.rs", &["c"], "pub(crate) fn f(a: crate::a::A) -> crate::a::A { a }"),
            file("d.rs", &["d"], "use crate::a::A;"),
        ];
        let g = build_graph(&files);
        let nodes = g.modules.keys().cloned().collect();
        let edges = g.edges.keys().cloned().collect();
        assert_eq!(cycles(&nodes, &edges), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    }

    #[test]
    fn the_module_tree_is_read_from_mod_declarations() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::create_dir_all(src.join("a")).unwrap();
        std::fs::create_dir_all(src.join("b")).unwrap();
        std::fs::write(src.join("lib.rs"), "//! root\nmod a;\npub mod b;\n// mod ghost;\n").unwrap();
        std::fs::write(src.join("a.rs"), "mod inner;\nuse crate::b::x;\n").unwrap();
        std::fs::write(src.join("a/inner.rs"), "").unwrap();
        std::fs::write(src.join("b/mod.rs"), "pub mod x;\n").unwrap();
        std::fs::write(src.join("b/x.rs"), "use crate::a;\n").unwrap();
        std::fs::write(src.join("unused.rs"), "use crate::a;\n").unwrap();
        let files = load_crate(&src.join("lib.rs")).unwrap();
        let modules: Vec<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
        assert_eq!(modules.len(), 5);
        let g = build_graph(&files);
        assert_eq!(edges(&g), [("a", "b"), ("b", "a")]);
        let nodes = g.modules.keys().cloned().collect();
        let e = g.edges.keys().cloned().collect();
        assert_eq!(cycles(&nodes, &e).len(), 1);
    }
}
