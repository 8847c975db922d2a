//! The files a release carries: the user's assets, found by globs, and the two files relkit
//! writes about them, `SHA256SUMS` (as `sha256sum --check` reads it) and the release manifest
//! ([`crate::ReleaseManifest`]), which promotion verifies before it ships the same artifacts; and
//! the images a release ships, from a pins file.

use std::path::{Path, PathBuf};

use relkit_forge::Sha256;

use crate::Error;
use crate::manifest::{ManifestAsset, ManifestImage};

/// The name of the checksum file.
pub const SUMS: &str = "SHA256SUMS";
/// The name of the release manifest.
pub const MANIFEST: &str = "release-manifest.json";

/// Whether `name` is one of the records relkit attaches beside a release's files: a promotion's
/// audit log (`audit.jsonl`, `audit-2.jsonl`…) or a rollback's record
/// (`rollback-from-v1.3.0.json`). A release keeps them; no run lists or replaces them.
pub fn is_record(name: &str) -> bool {
    let audit = name == "audit.jsonl"
        || name
            .strip_prefix("audit-")
            .and_then(|n| n.strip_suffix(".jsonl"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    audit || (name.starts_with("rollback-from-") && name.ends_with(".json"))
}

/// A file to attach, with what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAsset {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: Sha256,
}

/// The images of `--images`: one `NAME=REFERENCE@sha256:DIGEST` a line, as a pins file holds them
/// (pin-images' `pins` output or pins file passes as it is). A name may appear once.
pub fn images(text: &str) -> Result<Vec<ManifestImage>, Error> {
    let pins = relkit_registry::pins::parse(text).map_err(|problems| Error::BadImages {
        problems: problems
            .into_iter()
            .map(|p| format!("line {}: {}", p.line, p.message))
            .collect(),
    })?;
    let mut images: Vec<ManifestImage> = Vec::new();
    for pin in pins {
        if let Some(first) = images.iter().find(|i| i.name == pin.name) {
            return Err(Error::DuplicateImage {
                name: pin.name,
                first: format!("{}@{}", first.repository, first.digest),
                second: pin.reference.to_string(),
            });
        }
        images.push(ManifestImage::of(&pin.name, &pin.reference, &pin.digest));
    }
    Ok(images)
}

/// The files the globs match, in a stable order: each glob must match at least one file unless
/// `allow_empty`; directories are skipped; two files may not share a name.
pub fn find(patterns: &[String], base: &Path, allow_empty: bool) -> Result<Vec<LocalAsset>, Error> {
    let mut found: Vec<LocalAsset> = Vec::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            base.join(pattern).to_string_lossy().into_owned()
        };
        let paths = glob::glob(&full).map_err(|e| Error::BadPattern {
            pattern: pattern.clone(),
            message: e.msg.to_owned(),
        })?;
        let mut matched = 0;
        let mut directory = None;
        for path in paths {
            let path = path.map_err(|e| Error::Io {
                path: e.path().to_path_buf(),
                source: e.into(),
            })?;
            if !path.is_file() {
                if path.is_dir() {
                    directory.get_or_insert(path);
                }
                continue;
            }
            matched += 1;
            let file_name = path.file_name().unwrap_or_default();
            let name = file_name.to_string_lossy().into_owned();
            // Forges keep plain names: a `\` or a control character is refused or rewritten on
            // upload, and a name that is not UTF-8 cannot be written as it is.
            if file_name.to_str().is_none()
                || name.contains('\\')
                || name.chars().any(char::is_control)
            {
                return Err(Error::AssetName {
                    name,
                    path,
                    rule: "a plain file name: no `\\`, control characters or bytes that are not UTF-8",
                });
            }
            // GitHub stores other characters as `.` (`my app.tar.gz` becomes `my.app.tar.gz`), so
            // SHA256SUMS and the manifest would name a file nobody can download.
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.+@".contains(c))
                || name.starts_with('.')
                || name.ends_with('.')
            {
                return Err(Error::AssetName {
                    name,
                    path,
                    rule: "ASCII letters, digits and `-_.+@` only, not starting or ending with `.`: GitHub renames others (a space becomes `.`), and the sums would name a file nobody can download",
                });
            }
            if name == SUMS || name == MANIFEST || is_record(&name) {
                return Err(Error::ReservedName { name });
            }
            if let Some(other) = found.iter().find(|a| a.name == name) {
                if other.path == path {
                    continue;
                }
                return Err(Error::DuplicateAsset {
                    name,
                    first: other.path.clone(),
                    second: path,
                });
            }
            let (sha256, size) = Sha256::of_file(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            found.push(LocalAsset {
                name,
                path,
                size,
                sha256,
            });
        }
        if matched == 0 && !allow_empty {
            return Err(match directory {
                Some(dir) => Error::MatchesDirectory {
                    pattern: pattern.clone(),
                    dir,
                },
                None => Error::NoMatch {
                    pattern: pattern.clone(),
                },
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The manifest's entry of each asset.
pub fn manifest_assets(assets: &[LocalAsset]) -> Vec<ManifestAsset> {
    assets
        .iter()
        .map(|a| ManifestAsset {
            name: a.name.clone(),
            size: a.size,
            sha256: a.sha256.to_string(),
        })
        .collect()
}

/// `SHA256SUMS` over `assets`: `<hex>  <name>` lines sorted by name.
pub fn sums(assets: &[LocalAsset]) -> String {
    let mut lines: Vec<(&str, String)> = assets
        .iter()
        .map(|a| (a.name.as_str(), a.sha256.to_string()))
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(name, hex)| format!("{hex}  {name}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_read_a_pins_file_as_pin_images_writes_it() {
        let digest = "b".repeat(64);
        let text = format!(
            "\u{feff}# pinned by relkit\n\nexport API_IMAGE=\"ghcr.io/acme/api:1.0@sha256:{digest}\"\nDB_IMAGE='postgres:16@sha256:{digest}'\n"
        );
        let found = images(&text).expect("valid");
        let names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["API_IMAGE", "DB_IMAGE"]);
        assert_eq!(found[0].repository, "ghcr.io/acme/api");
        assert_eq!(found[0].tag.as_deref(), Some("1.0"));
        assert_eq!(found[1].repository, "docker.io/library/postgres");
        assert_eq!(found[1].digest.to_string(), format!("sha256:{digest}"));
    }

    #[test]
    fn an_image_needs_a_name_a_reference_and_a_full_digest() {
        let digest = "a".repeat(64);
        for bad in [
            "ghcr.io/acme/api:1.2.0".to_owned(),
            "api=ghcr.io/acme/api:1.2.0".to_owned(),
            format!("api=ghcr.io/acme/api@sha256:{}", "a".repeat(63)),
            format!("api=ghcr.io/acme/api@sha256:{}", "A".repeat(64)),
            format!("=ghcr.io/acme/api@sha256:{digest}"),
        ] {
            assert!(images(&bad).is_err(), "{bad}");
        }
        let twice = format!("A=x/a@sha256:{digest}\nA=x/b@sha256:{digest}\n");
        assert!(matches!(images(&twice), Err(Error::DuplicateImage { .. })));
    }

    #[test]
    fn sums_are_sorted_by_name_in_sha256sum_form() {
        let asset = |name: &str, bytes: &[u8]| LocalAsset {
            name: name.to_owned(),
            path: PathBuf::from(name),
            size: bytes.len() as u64,
            sha256: Sha256::of(bytes),
        };
        let text = sums(&[asset("b.txt", b"b"), asset("a.txt", b"abc")]);
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.txt\n\
             3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.txt\n"
        );
    }
}
