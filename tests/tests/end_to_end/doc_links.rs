//! Every link in README.md and the guide (`docs/`) resolves: a relative link names a file
//! of the repository, and a `#fragment` a heading of the file it points into (as the
//! repository host makes its anchors). Links off the repository (`https:`, `mailto:`)
//! are not followed: the tests reach loopback only.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests' crate sits in the repository")
        .to_path_buf()
}

/// README.md and every Markdown file of `docs/`, by their paths from the root.
fn documents() -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("README.md")];
    let docs = std::fs::read_dir(root().join("docs")).expect("docs/");
    let mut chapters: Vec<PathBuf> = docs
        .map(|entry| entry.expect("an entry of docs/").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| Path::new("docs").join(path.file_name().expect("a file name")))
        .collect();
    chapters.sort();
    found.extend(chapters);
    found
}

/// A link as written, with the line it is on.
struct Link {
    line: usize,
    target: String,
}

/// The links and the heading anchors of Markdown `text`.
fn read(text: &str) -> (Vec<Link>, HashSet<String>) {
    let (mut links, mut anchors) = (Vec::new(), HashSet::new());
    let mut heading: Option<String> = None;
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                let slug = slug(&heading.take().unwrap_or_default());
                // A second heading of the same words gets `-1`, a third `-2`, …
                let mut anchor = slug.clone();
                let mut n = 0;
                while !anchors.insert(anchor.clone()) {
                    n += 1;
                    anchor = format!("{slug}-{n}");
                }
            }
            Event::Text(words) | Event::Code(words) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&words);
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => links.push(Link {
                line: line_of(range.start),
                target: dest_url.to_string(),
            }),
            _ => {}
        }
    }
    (links, anchors)
}

/// A heading's anchor as the repository host makes it: lower case, punctuation dropped
/// (hyphens and underscores kept), each space a hyphen.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// What is wrong with each link of `document` (a path from the root), if anything.
fn broken_links(document: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(document))
        .unwrap_or_else(|error| panic!("{}: {error}", document.display()));
    let (links, own_anchors) = read(&text);
    let mut broken = Vec::new();
    for Link { line, target } in links {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let at = format!("{}:{line}: `{target}`", document.display());
        let (path, fragment) = match target.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment)),
            None => (target.as_str(), None),
        };
        let anchors = if path.is_empty() {
            own_anchors.clone()
        } else {
            let file = document.parent().unwrap_or(Path::new("")).join(path);
            let full = root().join(&file);
            if !full.exists() {
                broken.push(format!("{at}: no file {}", file.display()));
                continue;
            }
            match (fragment, full.extension().is_some_and(|ext| ext == "md")) {
                (Some(_), true) => read(&std::fs::read_to_string(&full).expect("readable")).1,
                (Some(_), false) => {
                    broken.push(format!("{at}: an anchor into a file that is not Markdown"));
                    continue;
                }
                (None, _) => continue,
            }
        };
        if let Some(fragment) = fragment {
            if !anchors.contains(fragment) {
                broken.push(format!("{at}: no heading makes the anchor #{fragment}"));
            }
        }
    }
    broken
}

#[test]
fn every_link_in_the_readme_and_the_guide_resolves() {
    let broken: Vec<String> = documents()
        .iter()
        .flat_map(|document| broken_links(document))
        .collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_missing_file_and_a_missing_heading_are_found() {
    let text = "# Set up\n\n## `#[operator]`\n\nSee [here](#set-up), [the macro](#operator), \
                [gone](#nowhere), [a file](no-such-file.md) and [off](https://example.com).\n";
    let (links, anchors) = read(text);
    let targets: Vec<&str> = links.iter().map(|link| link.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "#set-up",
            "#operator",
            "#nowhere",
            "no-such-file.md",
            "https://example.com"
        ]
    );
    assert!(
        anchors.contains("set-up") && anchors.contains("operator"),
        "{anchors:?}"
    );
    assert!(!anchors.contains("nowhere"));
    assert_eq!(links[2].line, 5);
    assert_eq!(
        slug("Where the time goes, the bottleneck"),
        "where-the-time-goes-the-bottleneck"
    );
}
