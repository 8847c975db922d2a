//! What the benchmarks share: skopeo, sandboxed (an accept-anything policy and empty
//! configuration in a temporary directory, so it never reads `/etc/containers` or `$HOME`), found
//! or installed, and the printing of figures. Each benchmark includes it with `#[path]`.

// A benchmark uses what it needs of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Debian's skopeo with a configuration of its own: an accept-anything policy, an empty auth
/// file and registries configuration, and a scratch `$HOME`, all in a temporary directory.
#[derive(Debug)]
pub(crate) struct Skopeo {
    pub(crate) bin: PathBuf,
    pub(crate) version: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Skopeo {
    pub(crate) fn new(bin: PathBuf) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("relkit-bench-skopeo-")
            .tempdir()
            .map_err(|e| format!("create a temporary directory: {e}"))?;
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text)
                .map_err(|e| format!("write {name} for skopeo: {e}"))
        };
        write(
            "policy.json",
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )?;
        write("auth.json", r#"{"auths":{}}"#)?;
        write("registries.conf", "")?;
        for sub in ["registries.d", "home", "tmp"] {
            std::fs::create_dir(dir.path().join(sub))
                .map_err(|e| format!("create {sub} for skopeo: {e}"))?;
        }
        let mut skopeo = Self {
            bin,
            version: String::new(),
            dir,
        };
        let output = skopeo
            .command()
            .arg("--version")
            .output()
            .map_err(|e| format!("run {} --version: {e}", skopeo.bin.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} --version: {}",
                skopeo.bin.display(),
                output.status
            ));
        }
        skopeo.version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        Ok(skopeo)
    }

    pub(crate) fn command(&self) -> Command {
        let dir = self.dir.path();
        let mut command = Command::new(&self.bin);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.join("home"))
            .env("XDG_RUNTIME_DIR", dir.join("home"))
            .env("XDG_CONFIG_HOME", dir.join("home"))
            .env("TMPDIR", dir.join("tmp"))
            .env("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf"))
            .arg("--policy")
            .arg(dir.join("policy.json"))
            .arg("--registries.d")
            .arg(dir.join("registries.d"))
            .stdin(Stdio::null());
        command
    }

    pub(crate) fn copy(&self, source: &str, target: &str) -> Result<(), String> {
        let output = self
            .command()
            .args([
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ])
            .arg("--authfile")
            .arg(self.dir.path().join("auth.json"))
            .arg(format!("docker://{source}"))
            .arg(format!("docker://{target}"))
            .output()
            .map_err(|e| format!("run skopeo copy: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "skopeo copy docker://{source} docker://{target}: {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(())
    }
}

/// `--skopeo`/`$RELKIT_SKOPEO`, else `skopeo` on PATH, else Debian's package, installed now.
pub(crate) fn find_skopeo(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(format!("skopeo {}: no such file", path.display()))
        };
    }
    if let Some(found) = on_path("skopeo") {
        return Ok(found);
    }
    apt_install("skopeo", "RELKIT_SKOPEO")?;
    on_path("skopeo").ok_or_else(|| "apt-get installed skopeo, but it is not on PATH".to_owned())
}

pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Installs a Debian package as `scripts/test` does: apt-get, through sudo unless root. `instead`
/// names the variable that points at an installed binary.
pub(crate) fn apt_install(package: &str, instead: &str) -> Result<(), String> {
    eprintln!("==> apt-get install {package} (once)");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        let status = command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "apt-get {} failed ({status}); install {package} or set {instead}",
                args.join(" ")
            ))
        }
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "--no-install-recommends", package])
}

pub(crate) fn show(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

pub(crate) fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

pub(crate) fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}
