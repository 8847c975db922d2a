//! `dist/install.sh`, which every action runs first: relkit on `PATH` is used as it is, a build
//! of the same source is found in the tool cache, and a new source is built once with cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Run, TestResult, binary, run};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/install.sh")
}

/// A directory of links to the programs the script may run, and `extra` besides: a `PATH` on
/// which neither relkit nor cargo is found unless a test puts it there.
pub fn tools(dir: &Path, extra: &[(&str, &Path)]) -> PathBuf {
    let bin = dir.join("path");
    std::fs::create_dir_all(&bin).expect("create the PATH directory");
    let wanted = [
        "bash",
        "cat",
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

/// Runs the script as an action's step does, with `path` as `PATH`.
fn install(path: &[&Path], vars: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(path[0].join("bash"));
    cmd.env_clear()
        .env("PATH", std::env::join_paths(path).expect("a PATH"))
        .env("GITHUB_ACTIONS", "true")
        .envs(vars.iter().copied())
        .arg(script());
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
    let vars = |source: &Path| -> Vec<(&'static str, PathBuf)> {
        vec![
            ("RELKIT_TOOL_CACHE", cache.clone()),
            ("RELKIT_SOURCE", source.to_path_buf()),
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
    let installs = |source: &Path| -> Run {
        let vars = vars(source);
        let refs: Vec<(&str, &Path)> = vars.iter().map(|(k, v)| (*k, v.as_path())).collect();
        // The linker cargo calls comes from the system's directories.
        install(&[&path, Path::new("/usr/bin"), Path::new("/bin")], &refs)
    };

    let first_source = source(dir.path(), "first");
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
