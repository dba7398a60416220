//! The import graph of a crate's modules, read from its sources: which module each module
//! names through `crate::`, `$crate::`, `super::` and `self::` paths (in `use` items, in
//! code and inside macros), for the test that imports go one way.
//!
//! A module is a file (`a/b.rs` or `a/b/mod.rs` is `a::b`); inline modules belong to their
//! file, and `super` inside them is counted from where they stand. A folder's `mod.rs` (or
//! `lib.rs`) is the folder's face: its `pub use` of its own descendants are not imports,
//! and a path through such a re-export is followed to the module that defines the item,
//! as rustc resolves it.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A module's path below the crate root: `["counters", "cells"]`; the root is `[]`.
pub type ModulePath = Vec<String>;

/// One module's file and what it refers to.
#[derive(Debug)]
struct Module {
    file: PathBuf,
    /// `mod.rs` or `lib.rs`: a face, whose `pub use` of its children are no imports.
    is_folder: bool,
    /// Every crate path named outside the face's re-exports, as absolute segments.
    references: Vec<Vec<String>>,
    /// The names this module re-exports, and the absolute path each stands for.
    reexports: BTreeMap<String, Vec<String>>,
    /// Modules whose every public name this module re-exports (`pub use x::*`).
    glob_reexports: Vec<Vec<String>>,
    tokens: TokenStream,
}

/// The modules of one crate and the edges between them.
#[derive(Debug)]
pub struct ModuleGraph {
    modules: BTreeMap<ModulePath, Module>,
}

/// An import from one module of a crate to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    pub from: ModulePath,
    pub to: ModulePath,
}

impl ModuleGraph {
    /// Reads every `.rs` file below `src` (the crate's `src/` folder, holding `lib.rs`).
    pub fn read(src: &Path) -> ModuleGraph {
        let mut modules = BTreeMap::new();
        for file in rust_files(src) {
            let relative = file.strip_prefix(src).expect("below src");
            let mut path: ModulePath = relative
                .with_extension("")
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            let is_folder = matches!(path.last().map(String::as_str), Some("mod" | "lib"));
            if is_folder {
                path.pop();
            }
            let text = std::fs::read_to_string(&file).expect("source file reads");
            let tokens = TokenStream::from_str(&text)
                .unwrap_or_else(|e| panic!("{} does not tokenize: {e}", file.display()));
            let mut module = Module {
                file,
                is_folder,
                references: Vec::new(),
                reexports: BTreeMap::new(),
                glob_reexports: Vec::new(),
                tokens: tokens.clone(),
            };
            scan(&tokens, &path, &path, &mut module);
            modules.insert(path, module);
        }
        ModuleGraph { modules }
    }

    /// The module that defines what `path` (absolute segments) names: its longest prefix
    /// that is a module, followed through that module's re-exports.
    fn resolve(&self, path: &[String], depth: usize) -> ModulePath {
        let module_len = (0..=path.len())
            .rev()
            .find(|&n| self.modules.contains_key(&path[..n]))
            .unwrap_or(0);
        let module_path = path[..module_len].to_vec();
        let Some(name) = path.get(module_len) else {
            return module_path;
        };
        if depth > 16 {
            return module_path;
        }
        let module = &self.modules[&module_path];
        if let Some(target) = module.reexports.get(name) {
            let mut through = target.clone();
            through.extend_from_slice(&path[module_len + 1..]);
            return self.resolve(&through, depth + 1);
        }
        for glob in &module.glob_reexports {
            let target = self.resolve(glob, depth + 1);
            if self
                .modules
                .get(&target)
                .is_some_and(|m| defines(&m.tokens, name))
            {
                let mut through = glob.clone();
                through.extend_from_slice(&path[module_len..]);
                return self.resolve(&through, depth + 1);
            }
        }
        module_path
    }

    /// Every import from one module to another (a module naming itself is none).
    pub fn imports(&self) -> BTreeSet<Import> {
        let mut imports = BTreeSet::new();
        for (from, module) in &self.modules {
            for reference in &module.references {
                let to = self.resolve(reference, 0);
                if &to != from {
                    imports.insert(Import {
                        from: from.clone(),
                        to,
                    });
                }
            }
        }
        imports
    }

    /// The file a module was read from.
    pub fn file(&self, module: &ModulePath) -> &Path {
        &self.modules[module].file
    }

    /// How many modules the crate has.
    pub fn module_count(&self) -> usize {
        self.modules.len()
    }

    /// The import cycles: each strongly connected set of two or more modules, with one
    /// cycle through it spelled out (`a → b → a`), so a failure says what to break.
    pub fn cycles(&self) -> Vec<(BTreeSet<ModulePath>, Vec<ModulePath>)> {
        let mut graph = DiGraph::<&ModulePath, ()>::new();
        let nodes: BTreeMap<&ModulePath, NodeIndex> = self
            .modules
            .keys()
            .map(|module| (module, graph.add_node(module)))
            .collect();
        for import in self.imports() {
            if let (Some(&from), Some(&to)) = (nodes.get(&import.from), nodes.get(&import.to)) {
                graph.add_edge(from, to, ());
            }
        }
        let mut cycles: Vec<_> = tarjan_scc(&graph)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| {
                let members: BTreeSet<ModulePath> =
                    component.iter().map(|&node| graph[node].clone()).collect();
                let start = nodes[members.first().expect("two or more")];
                (members, shortest_cycle(&graph, start, &component))
            })
            .collect();
        cycles.sort();
        cycles
    }
}

/// `a::b` as written in Rust, `crate` for the root.
pub fn display(module: &ModulePath) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Walks one token stream of the module `file_module`, standing in the (possibly inline)
/// module `here`.
fn scan(tokens: &TokenStream, file_module: &[String], here: &[String], module: &mut Module) {
    // a face (`mod.rs`, `lib.rs`) itself, not an inline module in it
    let at_face = module.is_folder && here == file_module;
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Ident(ident) if ident == "mod" => {
                // an inline module: its paths count from inside it
                if let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(body))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    if body.delimiter() == Delimiter::Brace {
                        let mut inner = here.to_vec();
                        inner.push(name.to_string());
                        scan(&body.stream(), file_module, &inner, module);
                        i += 3;
                        continue;
                    }
                }
            }
            TokenTree::Ident(ident) if ident == "use" => {
                let end = tokens[i..]
                    .iter()
                    .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
                    .map_or(tokens.len(), |n| i + n);
                let public = is_public(&tokens[..i]);
                let mut uses = Vec::new();
                use_tree(&tokens[i + 1..end], &[], &mut uses);
                for (path, name) in uses {
                    let Some(absolute) = absolute(&path, here, at_face, true) else {
                        continue;
                    };
                    // a face re-exporting its own descendants is no import
                    let own = at_face
                        && absolute.len() > file_module.len()
                        && absolute.starts_with(file_module);
                    if public && own {
                        if name == "*" {
                            module.glob_reexports.push(absolute);
                        } else {
                            module.reexports.insert(name, absolute);
                        }
                    } else {
                        module.references.push(absolute);
                    }
                }
                i = end + 1;
                continue;
            }
            TokenTree::Ident(ident)
                if (ident == "crate" || ident == "super" || ident == "self")
                    && is_path_separator(&tokens, i + 1) =>
            {
                let mut path = vec![ident.to_string()];
                let mut j = i + 1;
                while is_path_separator(&tokens, j) {
                    match tokens.get(j + 2) {
                        Some(TokenTree::Ident(segment)) => {
                            path.push(segment.to_string());
                            j += 3;
                        }
                        _ => break,
                    }
                }
                // `::{…}` here is a use tree inside a macro, or a turbofish's `::<`: the
                // named prefix is the reference
                if let Some(absolute) = absolute(&path, here, at_face, false) {
                    module.references.push(absolute);
                }
                i = j;
                continue;
            }
            TokenTree::Group(group) => scan(&group.stream(), file_module, here, module),
            _ => {}
        }
        i += 1;
    }
}

/// Whether the tokens before a `use` make it public beyond its module (`pub`,
/// `pub(crate)`, `pub(super)`), ignoring attributes.
fn is_public(before: &[TokenTree]) -> bool {
    match before {
        [.., TokenTree::Ident(p)] => p == "pub",
        [.., TokenTree::Ident(p), TokenTree::Group(g)] => {
            p == "pub" && g.delimiter() == Delimiter::Parenthesis
        }
        _ => false,
    }
}

fn is_path_separator(tokens: &[TokenTree], at: usize) -> bool {
    matches!(
        (tokens.get(at), tokens.get(at + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':'
    )
}

/// Expands a use tree into each path it imports and the name it binds (`*` for a glob).
fn use_tree(tokens: &[TokenTree], prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    // a leading `::` names an external crate
    if is_path_separator(tokens, 0) {
        return;
    }
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Ident(ident) if ident == "as" => {
                if let Some(TokenTree::Ident(alias)) = tokens.get(i + 1) {
                    out.push((path, alias.to_string()));
                }
                return;
            }
            TokenTree::Ident(ident) if ident == "self" && !path.is_empty() => {
                // `{self, …}`: the prefix itself, under its own name
                let name = path.last().cloned().unwrap_or_default();
                if let Some(TokenTree::Ident(alias)) = tokens.get(i + 2) {
                    out.push((path, alias.to_string()));
                } else {
                    out.push((path, name));
                }
                return;
            }
            TokenTree::Ident(ident) => {
                path.push(ident.to_string());
                i += 1;
            }
            TokenTree::Punct(p) if p.as_char() == ':' => i += 1,
            TokenTree::Punct(p) if p.as_char() == '*' => {
                out.push((path, "*".into()));
                return;
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                for part in inner.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                {
                    if !part.is_empty() {
                        use_tree(part, &path, out);
                    }
                }
                return;
            }
            _ => i += 1,
        }
    }
    if let Some(name) = path.last().cloned() {
        out.push((path, name));
    }
}

/// A path written in module `here` as absolute segments from the crate root, or `None`
/// for a path into another crate. `in_use` at a face: a `use` path's first segment may
/// also be a child module (`use cells::Cells` in `counters/mod.rs`).
fn absolute(path: &[String], here: &[String], at_face: bool, in_use: bool) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here[..here.len().saturating_sub(1)].to_vec(),
        // `use child::X` in a face names its own child module
        _ if in_use && at_face => {
            let mut base = here.to_vec();
            base.push(first.clone());
            base
        }
        _ => return None,
    };
    let mut rest = rest;
    while let Some((segment, tail)) = rest.split_first() {
        if segment != "super" {
            break;
        }
        base.pop();
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Whether a module's tokens define `name` at any level (an item, a constant, a macro).
fn defines(tokens: &TokenStream, name: &str) -> bool {
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    tokens.windows(2).any(|pair| match pair {
        [TokenTree::Ident(keyword), TokenTree::Ident(defined)] => {
            defined == name
                && [
                    "const", "static", "fn", "struct", "enum", "type", "trait", "mod", "union",
                ]
                .iter()
                .any(|k| keyword == k)
        }
        _ => false,
    }) || tokens.iter().any(|t| match t {
        TokenTree::Group(g) => defines(&g.stream(), name),
        _ => false,
    })
}

/// The shortest way from `start` back to itself through `members` (breadth first).
fn shortest_cycle(
    graph: &DiGraph<&ModulePath, ()>,
    start: NodeIndex,
    members: &[NodeIndex],
) -> Vec<ModulePath> {
    let mut came_from: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.neighbors(at).filter(|n| members.contains(n)) {
            if next == start {
                let mut cycle = vec![graph[start].clone()];
                let mut back = at;
                while back != start {
                    cycle.push(graph[back].clone());
                    back = came_from[&back];
                }
                cycle.push(graph[start].clone());
                cycle.reverse();
                return cycle;
            }
            if let std::collections::btree_map::Entry::Vacant(entry) = came_from.entry(next) {
                entry.insert(at);
                queue.push_back(next);
            }
        }
    }
    vec![graph[start].clone()]
}
