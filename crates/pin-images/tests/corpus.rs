//! The corpus under `tests/corpus/`: real-world-shaped compose files, Kubernetes manifests, Helm
//! values and `.env` files with the YAML that trips tools up (anchors, merges, several
//! documents, a BOM, CRLF, flow style, block scalars that mention images, comments everywhere).
//! `expected.toml` says what must be found where; each file is then rewritten with a digest
//! for every image and must stay byte-identical outside the image values.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use relkit_pin_images::scan::scan;
use relkit_pin_images::{Found, Pin, Rewrite, Site, rewrite};
use relkit_registry::{Digest, Reference};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    env: HashMap<String, String>,
    file: Vec<File>,
    invalid: Vec<Invalid>,
}

#[derive(Deserialize)]
struct File {
    path: String,
    kind: String,
    image: Vec<Image>,
}

#[derive(Deserialize)]
struct Image {
    line: usize,
    value: String,
    expanded: Option<String>,
    #[serde(default)]
    unresolvable: bool,
    name: Option<String>,
    #[serde(default)]
    pair: bool,
}

#[derive(Deserialize)]
struct Invalid {
    path: String,
    line: usize,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(corpus().join("expected.toml")).expect("expected.toml");
    toml::from_str(&text).expect("expected.toml parses")
}

fn read(path: &str) -> String {
    let bytes = std::fs::read(corpus().join(path)).expect("a corpus file");
    String::from_utf8(bytes).expect("UTF-8")
}

#[test]
fn every_image_is_found_at_its_line_with_its_name() {
    let expected = expected();
    assert!(expected.file.len() >= 10, "at least ten corpus files");
    let mut images = 0;
    for file in &expected.file {
        let text = read(&file.path);
        let found = scan(Path::new(&file.path), &text, &expected.env)
            .unwrap_or_else(|e| panic!("{}: {e}", file.path));
        let got: Vec<(usize, &str)> = found.iter().map(|f| (f.line, f.written.as_str())).collect();
        let want: Vec<(usize, &str)> = file
            .image
            .iter()
            .map(|i| (i.line, i.value.as_str()))
            .collect();
        assert_eq!(got, want, "{} ({})", file.path, file.kind);
        for (f, want) in found.iter().zip(&file.image) {
            let case = format!("{}:{}", file.path, want.line);
            if want.unresolvable {
                assert!(f.expanded.is_err(), "{case}: {:?}", f.expanded);
            } else {
                let expanded = want.expanded.as_deref().unwrap_or(&want.value);
                assert_eq!(f.expanded.as_deref(), Ok(expanded), "{case}");
            }
            if let Some(name) = &want.name {
                assert_eq!(&f.name, name, "{case}");
            }
            assert_eq!(matches!(f.site, Site::Pair { .. }), want.pair, "{case}");
        }
        images += found.len();
    }
    assert!(images >= 50, "{images} images");
}

/// The bytes each image's value occupies (both slots of a Helm pair).
fn spans(found: &[Found]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = found
        .iter()
        .flat_map(|f| match &f.site {
            Site::Value(s) => vec![s.span.clone()],
            Site::Pair {
                repository,
                tag,
                digest,
                ..
            } => [Some(repository), tag.as_ref(), digest.as_ref()]
                .into_iter()
                .flatten()
                .map(|s| s.span.clone())
                .collect(),
        })
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// The text between the spans.
fn gaps<'a>(text: &'a str, spans: &[Range<usize>]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    for span in spans {
        out.push(&text[at..span.start]);
        at = span.end;
    }
    out.push(&text[at..]);
    out
}

#[test]
fn rewriting_changes_the_image_values_and_nothing_else() {
    let expected = expected();
    let mut rewritten = 0;
    for file in &expected.file {
        let text = read(&file.path);
        let path = Path::new(&file.path);
        let found = scan(path, &text, &expected.env).expect("scan");
        // A made-up digest for each tag; a pinned image keeps its own.
        let mut pins = pins_for(&found, |r| Some(Digest::sha256(r.to_string().as_bytes())));
        // A Helm pair without a tag cannot be pinned in place (the chart's appVersion names the
        // tag): the whole file is refused, naming it, and is rewritten once it is left out.
        let tagless = |p: &Pin| {
            matches!(
                p.found.site,
                Site::Pair {
                    tag: None,
                    digest: None,
                    ..
                }
            )
        };
        let mut refs: Vec<&mut Pin> = pins.iter_mut().collect();
        let refused = pins_refused(&text, &mut refs);
        let expected_refusals: Vec<usize> = pins
            .iter()
            .filter(|p| tagless(p) && !p.found.has_variables())
            .map(|p| p.found.line)
            .collect();
        assert_eq!(refused, expected_refusals, "{}", file.path);
        pins.retain(|p| !tagless(p));
        let mut refs: Vec<&mut Pin> = pins.iter_mut().collect();
        let after = match rewrite(&text, &mut refs) {
            Ok(Some(after)) => after,
            Ok(None) => text.clone(),
            Err(problems) => panic!("{}: {problems:?}", file.path),
        };
        let again = scan(path, &after, &expected.env).expect("the rewritten file parses");
        assert_eq!(
            again.iter().map(|f| f.line).collect::<Vec<_>>(),
            found.iter().map(|f| f.line).collect::<Vec<_>>(),
            "{}: the same images on the same lines",
            file.path
        );
        assert_eq!(
            gaps(&after, &spans(&again)),
            gaps(&text, &spans(&found)),
            "{}: every byte outside the image values is unchanged",
            file.path
        );
        for pin in &pins {
            let case = format!("{}:{}", file.path, pin.found.line);
            let now = again
                .iter()
                .find(|f| f.line == pin.found.line)
                .expect("found again");
            match &pin.rewrite {
                Rewrite::Pinned => {
                    rewritten += 1;
                    let reference: Reference = now
                        .expanded
                        .as_deref()
                        .expect("expands")
                        .parse()
                        .expect("still a reference");
                    assert_eq!(reference.digest(), Some(&pin.digest), "{case}");
                    assert_eq!(
                        reference.tag(),
                        pin.reference.tag(),
                        "{case}: the tag stays"
                    );
                }
                Rewrite::AlreadyPinned | Rewrite::Left { .. } => {
                    assert_eq!(now.written, pin.found.written, "{case}: left as written");
                }
                Rewrite::None => panic!("{case}: not considered"),
            }
        }
        // A second pass changes nothing: the same content is a no-op.
        let mut pins2 = pins_for(&again, |_| None);
        let mut refs: Vec<&mut Pin> = pins2.iter_mut().collect();
        assert_eq!(
            rewrite(&after, &mut refs).expect("rewrite"),
            None,
            "{}",
            file.path
        );
    }
    assert!(rewritten >= 40, "{rewritten} values rewritten");
}

/// A pin for each image that expands to a reference: its own digest, else `digest_of` it.
fn pins_for(found: &[Found], digest_of: impl Fn(&Reference) -> Option<Digest>) -> Vec<Pin> {
    found
        .iter()
        .filter_map(|f| {
            let reference: Reference = f.expanded.as_deref().ok()?.parse().ok()?;
            let digest = reference
                .digest()
                .cloned()
                .or_else(|| digest_of(&reference))?;
            Some(Pin {
                pinned: String::new(),
                found: f.clone(),
                reference,
                digest,
                rewrite: Rewrite::None,
            })
        })
        .collect()
}

/// The lines of the images `rewrite` refuses to write in place.
fn pins_refused(text: &str, pins: &mut [&mut Pin]) -> Vec<usize> {
    match rewrite(text, pins) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|e| {
                assert!(e.to_string().contains("has no `tag`"), "{e}");
                e.location().expect("a line").1
            })
            .collect(),
    }
}

#[test]
fn files_that_are_not_yaml_are_named_with_their_line() {
    let expected = expected();
    for invalid in &expected.invalid {
        let text = read(&invalid.path);
        let err = scan(Path::new(&invalid.path), &text, &expected.env).expect_err("not valid YAML");
        let (path, line) = err.location().expect("a location");
        assert_eq!(path, Path::new(&invalid.path));
        assert_eq!(line, invalid.line, "{err}");
    }
}
