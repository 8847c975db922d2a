//! The files a release carries: the user's assets, found by globs, and the two files relkit
//! writes about them, `SHA256SUMS` (as `sha256sum --check` reads it) and the release manifest
//! (JSON: tag, commit, each asset's name, size and SHA-256, image digests), which promotion
//! verifies before it ships the same artifacts.

use std::path::{Path, PathBuf};

use relkit_forge::Sha256;
use serde::Serialize;

use crate::Error;

/// The name of the checksum file.
pub const SUMS: &str = "SHA256SUMS";
/// The name of the release manifest.
pub const MANIFEST: &str = "release-manifest.json";

/// A file to attach, with what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAsset {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: Sha256,
}

/// An image the release ships, pinned by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    pub name: String,
    pub reference: String,
    pub digest: String,
}

impl Image {
    /// Reads `NAME=REFERENCE@sha256:DIGEST`.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = || Error::BadImage {
            value: value.to_owned(),
        };
        let (name, reference) = value.split_once('=').ok_or_else(bad)?;
        let (_, digest) = reference.rsplit_once('@').ok_or_else(bad)?;
        let hex = digest.strip_prefix("sha256:").ok_or_else(bad)?;
        let valid = !name.trim().is_empty()
            && hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !valid {
            return Err(bad());
        }
        Ok(Self {
            name: name.trim().to_owned(),
            reference: reference.to_owned(),
            digest: digest.to_owned(),
        })
    }
}

/// The images of `--images`: one `NAME=REFERENCE@sha256:DIGEST` a line, so a pins file written
/// by pin-images can be passed as it is (its `#` comments and blank lines are skipped). A name
/// may appear once.
pub fn images<'l>(lines: impl IntoIterator<Item = &'l str>) -> Result<Vec<Image>, Error> {
    let mut images: Vec<Image> = Vec::new();
    for line in lines.into_iter() {
        // As pin-images reads a pins file: a BOM, `export` and quotes around the value are
        // shell syntax, not part of the pin.
        let line = line.trim().trim_start_matches('\u{feff}');
        let line = line.strip_prefix("export ").unwrap_or(line).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let unquoted = line.split_once('=').map(|(name, value)| {
            format!(
                "{name}={}",
                value.trim().trim_matches(|c| c == '"' || c == '\'')
            )
        });
        let image = Image::parse(unquoted.as_deref().unwrap_or(line))?;
        if let Some(first) = images.iter().find(|i| i.name == image.name) {
            return Err(Error::DuplicateImage {
                name: image.name,
                first: first.reference.clone(),
                second: image.reference,
            });
        }
        images.push(image);
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
            if name == SUMS || name == MANIFEST {
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

#[derive(Serialize)]
struct Manifest<'a> {
    tag: &'a str,
    version: String,
    commit: &'a str,
    assets: Vec<ManifestAsset<'a>>,
    images: &'a [Image],
}

#[derive(Serialize)]
struct ManifestAsset<'a> {
    name: &'a str,
    size: u64,
    sha256: String,
}

/// The release manifest: the same inputs always give the same bytes, so a re-run finds the
/// asset it uploaded before unchanged.
pub fn manifest(
    tag: &str,
    version: &relkit_version::Version,
    commit: &str,
    assets: &[LocalAsset],
    images: &[Image],
) -> String {
    let manifest = Manifest {
        tag,
        version: version.to_string(),
        commit,
        assets: assets
            .iter()
            .map(|a| ManifestAsset {
                name: &a.name,
                size: a.size,
                sha256: a.sha256.to_string(),
            })
            .collect(),
        images,
    };
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    text
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
    fn an_image_needs_a_name_a_reference_and_a_full_digest() {
        let digest = "a".repeat(64);
        let image =
            Image::parse(&format!("api=ghcr.io/acme/api:1.2.0@sha256:{digest}")).expect("valid");
        assert_eq!(image.name, "api");
        assert_eq!(image.digest, format!("sha256:{digest}"));
        for bad in [
            "ghcr.io/acme/api:1.2.0".to_owned(),
            "api=ghcr.io/acme/api:1.2.0".to_owned(),
            format!("api=ghcr.io/acme/api@sha256:{}", "a".repeat(63)),
            format!("api=ghcr.io/acme/api@sha256:{}", "A".repeat(64)),
            format!("=ghcr.io/acme/api@sha256:{digest}"),
        ] {
            assert!(Image::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images_read_a_pins_file_as_pin_images_writes_and_reads_it() {
        let digest = "b".repeat(64);
        let text = format!(
            "\u{feff}# pinned by relkit\n\nexport API_IMAGE=\"ghcr.io/acme/api:1.0@sha256:{digest}\"\nDB_IMAGE='postgres:16@sha256:{digest}'\n"
        );
        let found = images(text.lines()).expect("valid");
        let names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["API_IMAGE", "DB_IMAGE"]);
        assert_eq!(
            found[0].reference,
            format!("ghcr.io/acme/api:1.0@sha256:{digest}")
        );
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
