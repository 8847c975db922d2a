//! `dist/install.sh`, which every action runs first: relkit on `PATH` is used when it is the
//! version wanted; else the release binary, downloaded from a file server on loopback and kept
//! in the tool cache, runs only when its SHA-256 is the one `dist/SHA256SUMS` records; else the
//! action's own source is built once with cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use relkit_testkit::files::FileServer;
use sha2::{Digest, Sha256};

use crate::support::{Run, TestResult, binary, run};

/// The project's own script.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/install.sh")
}

/// A directory of links to the programs the script may run, and `extra` besides: a `PATH` on
/// which neither relkit nor cargo is found unless a test puts it there.
pub fn tools(dir: &Path, extra: &[(&str, &Path)]) -> PathBuf {
    let bin = dir.join("path");
    std::fs::create_dir_all(&bin).expect("create the PATH directory");
    let wanted = [
        "awk",
        "bash",
        "cat",
        "chmod",
        "curl",
        "cut",
        "dirname",
        "find",
        "head",
        "mkdir",
        "mktemp",
        "mv",
        "rm",
        "sed",
        "sha256sum",
        "sort",
        "tr",
        "uname",
    ];
    for name in wanted {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{name} is not installed"));
        std::os::unix::fs::symlink(found, bin.join(name)).expect("link a tool");
    }
    for (name, target) in extra {
        std::os::unix::fs::symlink(target, bin.join(name)).expect("link a tool");
    }
    bin
}

/// Runs the project's script as an action's step does, with `path` as `PATH`.
fn install(path: &[&Path], vars: &[(&str, &Path)]) -> Run {
    install_from(&script(), path, vars)
}

/// Runs `script` as an action's step does, with `path` as `PATH`.
fn install_from(script: &Path, path: &[&Path], vars: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(path[0].join("bash"));
    cmd.env_clear()
        .env("PATH", std::env::join_paths(path).expect("a PATH"))
        .env("GITHUB_ACTIONS", "true")
        .envs(vars.iter().copied())
        .arg(script);
    run(&mut cmd)
}

/// A source tree shaped like relkit's (a workspace version, a lock file, a binary under
/// `crates/`) whose binary prints `relkit 9.9.9 (<mark>)`. It builds in a second.
fn source(dir: &Path, mark: &str) -> PathBuf {
    let root = dir.join("source");
    std::fs::create_dir_all(root.join("crates/relkit/tests")).expect("create the source");
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace.package]\nversion = \"9.9.9\"\n\n\
         [package]\nname = \"relkit\"\nversion.workspace = true\nedition = \"2021\"\n\n\
         [[bin]]\nname = \"relkit\"\npath = \"crates/relkit/main.rs\"\n",
    )
    .expect("write Cargo.toml");
    std::fs::write(
        root.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"relkit\"\nversion = \"9.9.9\"\n",
    )
    .expect("write Cargo.lock");
    std::fs::write(
        root.join("crates/relkit/main.rs"),
        format!("fn main() {{ println!(\"relkit 9.9.9 ({mark})\"); }}\n"),
    )
    .expect("write main.rs");
    root
}

/// A checkout of the actions: `source` (see [`source`]) with `dist/` beside it holding a copy of
/// the project's script, a `dist/release` naming 9.9.9 and `recorded_source` as its source
/// digest, and `sums` as `dist/SHA256SUMS`. Returns the copied script.
fn checkout(root: &Path, recorded_source: &str, sums: &str) -> PathBuf {
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist).expect("create dist/");
    let copy = dist.join("install.sh");
    std::fs::copy(script(), &copy).expect("copy install.sh");
    std::fs::write(
        dist.join("release"),
        format!("# a test's release\nversion=9.9.9\nsource={recorded_source}\n"),
    )
    .expect("write dist/release");
    std::fs::write(dist.join("SHA256SUMS"), format!("# a test's sums\n{sums}"))
        .expect("write dist/SHA256SUMS");
    copy
}

/// What `dist/install.sh --source-digest` says of the checkout whose script is `copy`.
fn source_digest(copy: &Path) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = tools(dir.path(), &[]);
    let mut cmd = Command::new(path.join("bash"));
    cmd.env_clear()
        .env("PATH", &path)
        .arg(copy)
        .arg("--source-digest");
    let digest = run(&mut cmd).expect_code(0).stdout.trim().to_owned();
    assert_eq!(digest.len(), 16, "{digest}");
    digest
}

/// The release binary's name for this machine, as the release workflow names it.
fn asset(version: &str) -> String {
    format!(
        "relkit-{version}-{}-{}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// A stand-in release binary: a script answering `--version` as relkit does.
fn release_binary(mark: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho 'relkit 9.9.9 ({mark})'\n").into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    e.expect("a directory entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn cargo() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let cargo = home.join("bin/cargo");
    if cargo.exists() {
        return cargo;
    }
    // cargo from a distribution package instead of rustup.
    PathBuf::from(std::env::var_os("CARGO").expect("cargo runs the tests"))
}

fn version_of(bin: &str) -> String {
    let out = Command::new(bin)
        .output()
        .expect("run the installed binary");
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

#[test]
fn relkit_on_path_is_used_as_it_is() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = tools(dir.path(), &[("relkit", binary())]);
    let cache = dir.path().join("cache");
    let out = install(&[&path], &[("RELKIT_TOOL_CACHE", &cache)]).expect_code(0);
    assert_eq!(out.stdout, format!("{}\n", path.join("relkit").display()));
    assert!(out.stderr.contains("Using"), "{}", out.stderr);
    assert!(!cache.exists(), "nothing is built or cached");
    Ok(())
}

#[test]
fn a_source_is_built_once_and_its_build_reused_until_it_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = tools(dir.path(), &[("cargo", &cargo())]);
    let cache = dir.path().join("cache");
    let home = dir.path().join("home");
    let vars = || -> Vec<(&'static str, PathBuf)> {
        vec![
            ("RELKIT_TOOL_CACHE", cache.clone()),
            ("HOME", home.clone()),
            // The toolchain the tests run with (rustup's proxies find it through these).
            (
                "RUSTUP_HOME",
                std::env::var_os("RUSTUP_HOME").map_or_else(
                    || Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".rustup"),
                    PathBuf::from,
                ),
            ),
            (
                "CARGO_HOME",
                cargo()
                    .parent()
                    .and_then(Path::parent)
                    .expect("CARGO_HOME")
                    .to_path_buf(),
            ),
        ]
    };
    // The checkout's own source is built: dist/ records no release binary.
    let installs = |source: &Path| -> Run {
        let vars = vars();
        let refs: Vec<(&str, &Path)> = vars.iter().map(|(k, v)| (*k, v.as_path())).collect();
        // The linker cargo calls comes from the system's directories.
        install_from(
            &source.join("dist/install.sh"),
            &[&path, Path::new("/usr/bin"), Path::new("/bin")],
            &refs,
        )
    };

    let first_source = source(dir.path(), "first");
    checkout(&first_source, "", "");
    let first = installs(&first_source).expect_code(0);
    let bin = first.stdout.trim().to_owned();
    assert!(bin.starts_with(&cache.display().to_string()), "{bin}");
    assert!(
        first.stderr.contains("Building relkit 9.9.9"),
        "{}",
        first.stderr
    );
    assert_eq!(version_of(&bin), "relkit 9.9.9 (first)");

    let again = installs(&first_source).expect_code(0);
    assert_eq!(again.stdout.trim(), bin, "the same source: the same build");
    assert!(
        again.stderr.contains("built from this source before"),
        "{}",
        again.stderr
    );
    let leftovers: Vec<String> = std::fs::read_dir(&cache)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, std::io::Error>>()?;
    assert_eq!(
        leftovers.len(),
        1,
        "one entry, no build directory: {leftovers:?}"
    );

    // A test file is not part of the binary; a source file is.
    std::fs::write(first_source.join("crates/relkit/tests/t.rs"), "// a test\n")?;
    let test_only = installs(&first_source).expect_code(0);
    assert_eq!(test_only.stdout.trim(), bin);
    let changed = source(dir.path(), "second");
    let rebuilt = installs(&changed).expect_code(0);
    let new_bin = rebuilt.stdout.trim().to_owned();
    assert_ne!(new_bin, bin, "a changed source is built again");
    assert_eq!(version_of(&new_bin), "relkit 9.9.9 (second)");
    assert_eq!(
        version_of(&bin),
        "relkit 9.9.9 (first)",
        "the old build stays"
    );

    // Two jobs building one new source at once: both get one working entry, with no second
    // build moved inside it.
    let third = source(dir.path(), "third");
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| installs(&third));
        let b = scope.spawn(|| installs(&third));
        (
            a.join().expect("a thread").expect_code(0),
            b.join().expect("a thread").expect_code(0),
        )
    });
    assert_eq!(a.stdout, b.stdout);
    let entry = Path::new(a.stdout.trim())
        .parent()
        .and_then(Path::parent)
        .expect("the entry");
    assert!(!entry.join("root").exists(), "a build moved inside another");
    assert_eq!(version_of(a.stdout.trim()), "relkit 9.9.9 (third)");
    Ok(())
}

#[test]
fn without_relkit_or_cargo_it_names_the_fix() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = tools(dir.path(), &[]);
    let cache = dir.path().join("cache");
    let out = install(&[&path], &[("RELKIT_TOOL_CACHE", &cache)]).expect_code(1);
    assert_eq!(out.stdout, "", "no path is printed");
    assert!(
        out.stderr
            .contains("::error title=relkit is not installed::")
            && out.stderr.contains("cargo is not installed")
            && out.stderr.contains("put relkit on PATH"),
        "{}",
        out.stderr
    );
    assert!(!cache.exists(), "nothing is written");
    Ok(())
}

#[test]
fn a_source_that_is_not_relkit_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = tools(dir.path(), &[("cargo", &cargo())]);
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty)?;
    let out = install(&[&path], &[("RELKIT_SOURCE", &empty)]).expect_code(1);
    assert!(
        out.stderr
            .contains(&format!("RELKIT_SOURCE={}", empty.display()))
            && out.stderr.contains("no Cargo.toml and Cargo.lock"),
        "{}",
        out.stderr
    );
    Ok(())
}

#[test]
fn without_a_place_for_builds_it_says_which_variable_to_set() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = tools(dir.path(), &[("cargo", &cargo())]);
    let out = install(&[&path], &[]).expect_code(1);
    assert!(
        out.stderr.contains("set RELKIT_TOOL_CACHE"),
        "{}",
        out.stderr
    );
    Ok(())
}

/// A checkout whose source is release 9.9.9's, a file server holding that release's binary
/// under `/v9.9.9/`, and the variables that point the script at both.
struct Release {
    dir: tempfile::TempDir,
    script: PathBuf,
    server: FileServer,
    binary: Vec<u8>,
}

impl Release {
    /// `served` is what the server answers for the binary (`None`: 404).
    fn new(served: Option<&[u8]>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = source(dir.path(), "source");
        let binary = release_binary("released");
        let probe = checkout(&root, "", "");
        let digest = source_digest(&probe);
        let script = checkout(
            &root,
            &digest,
            &format!("{}  {}\n", sha256(&binary), asset("9.9.9")),
        );
        let server = FileServer::start();
        if let Some(bytes) = served {
            server.put(&format!("v9.9.9/{}", asset("9.9.9")), bytes);
        }
        Self {
            dir,
            script,
            server,
            binary,
        }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn entry(&self) -> PathBuf {
        self.cache().join("9.9.9").join(format!(
            "{}-{}",
            std::env::consts::OS,
            std::env::consts::ARCH
        ))
    }

    /// Runs the checkout's script with `path` as `PATH` and `vars` besides the cache and the
    /// download URL (`{version}` in it is the script's to fill in).
    fn install(&self, path: &[&Path], vars: &[(&str, &Path)]) -> Run {
        let cache = self.cache();
        let url = PathBuf::from(format!("{}/v{{version}}", self.server.url()));
        let mut all = vec![
            ("RELKIT_TOOL_CACHE", cache.as_path()),
            ("RELKIT_DOWNLOAD_URL", url.as_path()),
        ];
        all.extend_from_slice(vars);
        install_from(&self.script, path, &all)
    }
}

#[test]
fn the_release_binary_is_downloaded_verified_and_cached() -> TestResult {
    let release = Release::new(Some(&release_binary("released")));
    // relkit of another version on PATH is not used, and there is no cargo to build with.
    let path = tools(release.dir.path(), &[("relkit", binary())]);

    let first = release.install(&[&path], &[]).expect_code(0);
    let bin = release.entry().join("relkit");
    assert_eq!(first.stdout, format!("{}\n", bin.display()));
    assert!(
        first.stderr.contains(&format!(
            "Not using {} (relkit {})",
            path.join("relkit").display(),
            env!("CARGO_PKG_VERSION")
        )) && first
            .stderr
            .contains("Downloading relkit 9.9.9 from http://127.0.0.1:"),
        "{}",
        first.stderr
    );
    assert_eq!(release.server.requests(), 1);
    assert_eq!(std::fs::read(&bin)?, release.binary);
    assert_eq!(
        version_of(&bin.display().to_string()),
        "relkit 9.9.9 (released)"
    );
    assert_eq!(
        names(&release.cache()),
        ["9.9.9"],
        "no download left behind"
    );

    let again = release.install(&[&path], &[]).expect_code(0);
    assert_eq!(again.stdout, first.stdout);
    assert!(
        again.stderr.contains("from the tool cache"),
        "{}",
        again.stderr
    );
    assert_eq!(
        release.server.requests(),
        1,
        "the second run downloads nothing"
    );
    Ok(())
}

#[test]
fn a_corrupted_download_is_refused_naming_both_sums() -> TestResult {
    let corrupted = release_binary("corrupted");
    let release = Release::new(Some(&corrupted));
    let path = tools(release.dir.path(), &[]);

    let out = release.install(&[&path], &[]).expect_code(1);
    assert_eq!(out.stdout, "", "no path is printed");
    assert!(
        out.stderr
            .contains("::error title=relkit is not installed::")
            && out.stderr.contains(&sha256(&corrupted))
            && out.stderr.contains(&sha256(&release.binary))
            && out.stderr.contains("it was not installed"),
        "{}",
        out.stderr
    );
    assert_eq!(release.server.requests(), 1);
    assert_eq!(
        names(&release.cache()),
        Vec::<String>::new(),
        "nothing is kept"
    );
    Ok(())
}

#[test]
fn a_cached_binary_that_changed_is_refused() -> TestResult {
    let release = Release::new(Some(&release_binary("released")));
    let path = tools(release.dir.path(), &[]);
    release.install(&[&path], &[]).expect_code(0);
    let bin = release.entry().join("relkit");
    let tampered = release_binary("tampered");
    std::fs::write(&bin, &tampered)?;

    let out = release.install(&[&path], &[]).expect_code(1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains(&format!("the cached {}", bin.display()))
            && out.stderr.contains(&sha256(&tampered))
            && out.stderr.contains(&sha256(&release.binary)),
        "{}",
        out.stderr
    );
    assert_eq!(release.server.requests(), 1, "it is not downloaded over");
    Ok(())
}

#[test]
fn a_failed_download_falls_back_to_the_source_saying_so() -> TestResult {
    let release = Release::new(None);
    // Without cargo the fallback stops at the build, which is far enough to see it taken.
    let path = tools(release.dir.path(), &[]);

    let out = release.install(&[&path], &[]).expect_code(1);
    assert_eq!(release.server.requests(), 1);
    let warning = out
        .stderr
        .lines()
        .find(|l| l.starts_with("::warning"))
        .unwrap_or_else(|| panic!("no warning: {}", out.stderr));
    assert!(
        warning.contains("could not download relkit 9.9.9")
            && warning.contains("set RELKIT_DOWNLOAD_URL")
            && warning.contains("building it from source instead"),
        "{warning}"
    );
    assert!(
        out.stderr.contains("(the download failed)")
            && out.stderr.contains("cargo is not installed"),
        "{}",
        out.stderr
    );
    assert_eq!(names(&release.cache()), Vec::<String>::new());
    Ok(())
}

#[test]
fn a_source_past_its_release_is_built_unless_the_version_is_asked_for() -> TestResult {
    let release = Release::new(Some(&release_binary("released")));
    let path = tools(release.dir.path(), &[]);
    let root = release
        .script
        .parent()
        .and_then(Path::parent)
        .expect("the checkout");
    std::fs::write(root.join("crates/relkit/main.rs"), "fn main() {}\n")?;

    let out = release.install(&[&path], &[]).expect_code(1);
    assert_eq!(
        release.server.requests(),
        0,
        "the old binary is not fetched"
    );
    assert!(
        out.stderr
            .contains("this source is not the source of release 9.9.9")
            && out.stderr.contains("cargo is not installed"),
        "{}",
        out.stderr
    );

    // Asked for by version (the setup action's `version` input), the release binary is used.
    let version = PathBuf::from("v9.9.9");
    let asked = release
        .install(&[&path], &[("RELKIT_INSTALL_VERSION", &version)])
        .expect_code(0);
    assert_eq!(
        asked.stdout,
        format!("{}\n", release.entry().join("relkit").display())
    );
    assert_eq!(release.server.requests(), 1);
    Ok(())
}

#[test]
fn a_version_without_recorded_sums_or_of_no_form_is_refused() -> TestResult {
    let release = Release::new(Some(&release_binary("released")));
    let path = tools(release.dir.path(), &[]);

    let unknown = PathBuf::from("1.2.3");
    let out = release
        .install(&[&path], &[("RELKIT_INSTALL_VERSION", &unknown)])
        .expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "relkit 1.2.3 cannot be installed: dist/SHA256SUMS records no binary {}, and the source here is relkit 9.9.9",
            asset("1.2.3")
        )),
        "{}",
        out.stderr
    );

    let latest = PathBuf::from("latest");
    let out = release
        .install(&[&path], &[("RELKIT_INSTALL_VERSION", &latest)])
        .expect_code(1);
    assert!(
        out.stderr
            .contains("version 'latest' is not a relkit version: it must be X.Y.Z"),
        "{}",
        out.stderr
    );
    assert_eq!(release.server.requests(), 0, "nothing is fetched");
    Ok(())
}

#[test]
fn the_recorded_release_is_the_version_the_source_says() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let release = std::fs::read_to_string(root.join("dist/release"))?;
    let recorded = release
        .lines()
        .find_map(|l| l.strip_prefix("version="))
        .ok_or("dist/release names no version")?;
    assert_eq!(
        recorded,
        env!("CARGO_PKG_VERSION"),
        "dist/release and Cargo.toml name different versions: the release workflow writes both"
    );
    Ok(())
}
