//! Benchmark (not a test): what pinning images costs with relkit's registry client, next to the
//! `skopeo` commands a shell script would run instead, on Debian's `docker-registry` on loopback.
//! Run with `cargo bench --bench pin_images` (`-- --refs N --rounds N` for another size).
//!
//! 1. **Resolve**: N distinct references (tags across N/10 repositories, a few of them
//!    multi-platform indexes) pinned to digests by one relkit client (`resolve_all`, a fresh
//!    runtime and client each round, as one `relkit pin-images resolve` process would), and by a
//!    sequential loop of `skopeo inspect`, one process per reference. Both must give the digest
//!    that was pushed, for every reference. Median and fastest round of each, and the ratio.
//! 2. **Requests per reference after auth**, on a token-auth registry: what relkit's client
//!    counted, less the 401 answers that taught it the challenge; and the token fetches.
//! 3. **Retag bytes**: a 50 MiB image retagged in its repository by relkit (`retag`) and by
//!    `skopeo copy`, both through a byte-counting TCP proxy in front of the registry.
//!
//! Everything listens on 127.0.0.1; skopeo gets an accept-anything policy and empty
//! configuration in a temporary directory, so it never reads `/etc/containers` or `$HOME`.

// A benchmark's output is what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support.rs"]
mod support;

use support::{Proxy, Skopeo, Wire, apt_install, bytes, find_skopeo, show, verdict};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use relkit_registry::{Client, Credential, Credentials, Options, Reference, Stats};
use relkit_testkit::registry::{self, Auth, Format, Registry};

const USER: &str = "bench-bot";
const PASSWORD: &str = "bench-pa55word";
/// References per repository.
const TAGS_PER_REPOSITORY: usize = 10;
/// One reference in this many is a two-platform OCI index.
const INDEX_EVERY: usize = 20;
/// The retagged image: this many random layers of `LAYER_MIB` MiB.
const LAYERS: usize = 5;
const LAYER_MIB: usize = 10;
const TARGET_RATIO: f64 = 0.1;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

const USAGE: &str = "usage: cargo bench --bench pin_images [-- [--refs N] [--rounds N] \
                     [--skopeo PATH]]\n  skopeo: --skopeo, else $RELKIT_SKOPEO, else skopeo on \
                     PATH, else installed with apt-get";

#[derive(Debug)]
struct Args {
    refs: usize,
    rounds: usize,
    skopeo: Option<PathBuf>,
}

impl Args {
    fn parse(mut raw: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut args = Self {
            refs: 200,
            rounds: 5,
            skopeo: std::env::var_os("RELKIT_SKOPEO").map(PathBuf::from),
        };
        while let Some(flag) = raw.next() {
            let mut value = || raw.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                // `cargo bench` passes `--bench` to every benchmark binary.
                "--bench" => {}
                "--refs" => args.refs = count(&flag, &value()?)?,
                "--rounds" => args.rounds = count(&flag, &value()?)?,
                "--skopeo" => args.skopeo = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(args)
    }
}

fn count(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{flag} {value:?}: expected a whole number above 0"))
}

fn run(args: &Args) -> Result<(), String> {
    if registry::binary().is_none() {
        apt_install("docker-registry", "RELKIT_DOCKER_REGISTRY")?;
    }
    let skopeo = Skopeo::new(find_skopeo(args.skopeo.as_deref())?)?;

    let open = Registry::start(Auth::Open);
    let pushed = populate(&open, args.refs);
    println!(
        "pin-images: {} references ({} repositories, {} of them multi-platform indexes) on \
         docker-registry at {}",
        pushed.len(),
        args.refs.div_ceil(TAGS_PER_REPOSITORY),
        pushed.iter().filter(|p| p.index).count(),
        open.host()
    );
    println!("{}", skopeo.version);
    println!(
        "skopeo, once per reference: skopeo inspect --tls-verify=false --no-tags --format \
         '{{{{.Digest}}}}' docker://REF"
    );
    println!("relkit: Client::resolve_all (8 at a time) on a current-thread tokio runtime\n");

    resolve(args, &open, &pushed, &skopeo)?;
    requests_after_auth(args, &skopeo)?;
    retag_bytes(&open, &skopeo)?;
    Ok(())
}

/// One pushed reference: `repository:tag` and the digest the registry stored.
#[derive(Debug)]
struct Pushed {
    name: String,
    digest: String,
    index: bool,
}

/// Pushes `refs` distinct images: `pin/svcNN:1.T.0`, ten tags per repository, alternating OCI
/// and Docker v2 manifests, every twentieth a two-platform OCI index.
fn populate(registry: &Registry, refs: usize) -> Vec<Pushed> {
    (0..refs)
        .map(|i| {
            let repository = format!("pin/svc{:02}", i / TAGS_PER_REPOSITORY);
            let tag = format!("1.{}.0", i % TAGS_PER_REPOSITORY);
            let index = i % INDEX_EVERY == INDEX_EVERY - 1;
            let digest = if index {
                registry.push_index(&repository, &tag).digest
            } else {
                let format = if i % 2 == 0 {
                    Format::Oci
                } else {
                    Format::DockerV2
                };
                registry.push_image(&repository, &tag, format).digest
            };
            Pushed {
                name: format!("{repository}:{tag}"),
                digest,
                index,
            }
        })
        .collect()
}

fn references(registry: &Registry, pushed: &[Pushed]) -> Result<Vec<Reference>, String> {
    pushed
        .iter()
        .map(|p| {
            format!("{}/{}", registry.host(), p.name)
                .parse()
                .map_err(|e| format!("{}: {e}", p.name))
        })
        .collect()
}

// --- 1. Resolve ---------------------------------------------------------------------------------

fn resolve(
    args: &Args,
    registry: &Registry,
    pushed: &[Pushed],
    skopeo: &Skopeo,
) -> Result<(), String> {
    let n = pushed.len();
    println!(
        "1. Resolve {n} references to digests, {} rounds",
        args.rounds
    );
    let references = references(registry, pushed)?;
    let names: Vec<String> = references.iter().map(ToString::to_string).collect();

    let mut relkit_times = Vec::new();
    let mut skopeo_times = Vec::new();
    let mut relkit_requests = 0;
    let mut skopeo_requests = 0;
    for round in 0..args.rounds {
        // Alternate, so that neither tool always runs on a warmer machine.
        let from = registry.log().len();
        let resolved = relkit_resolve(&references, Credentials::none())?;
        relkit_times.push(resolved.elapsed);
        check(pushed, &resolved.digests, "relkit")?;
        if round == 0 {
            relkit_requests = resolved
                .stats
                .get(registry.host())
                .map_or(0, |s| s.requests);
            let logged = settled_log(registry, from).requests;
            if logged != relkit_requests {
                return Err(format!(
                    "relkit counted {relkit_requests} requests, the registry logged {logged}"
                ));
            }
        }

        let from = registry.log().len();
        let started = Instant::now();
        let digests = skopeo.inspect_all(&names, None)?;
        skopeo_times.push(started.elapsed());
        check(pushed, &digests, "skopeo inspect")?;
        if round == 0 {
            skopeo_requests = settled_log(registry, from).requests;
        }
    }

    let warm = warm_resolve(&references, args.rounds)?;
    let start = process_start(args.rounds)?;

    let per_ref = |requests: u64| requests as f64 / n as f64;
    println!(
        "   {:<44} {:>10} {:>10} {:>14}",
        "", "median", "fastest", "requests/ref"
    );
    println!(
        "   {:<44} {:>10} {:>10} {:>14.2}",
        "relkit, fresh runtime and client each round",
        show(median(&relkit_times)),
        show(fastest(&relkit_times)),
        per_ref(relkit_requests)
    );
    println!(
        "   {:<44} {:>10} {:>10} {:>14}",
        "relkit, one client kept across rounds (info)",
        show(median(&warm)),
        show(fastest(&warm)),
        ""
    );
    println!(
        "   {:<44} {:>10} {:>10} {:>14.2}",
        "skopeo inspect, one process per reference",
        show(median(&skopeo_times)),
        show(fastest(&skopeo_times)),
        per_ref(skopeo_requests)
    );
    println!(
        "   {:<44} {:>10} {:>10}",
        "(info) one `relkit --version` process",
        show(median(&start)),
        show(fastest(&start)),
    );
    let ratio = median(&relkit_times).as_secs_f64() / median(&skopeo_times).as_secs_f64();
    println!(
        "   ratio relkit/skopeo (medians): {ratio:.4} ({:.0}x faster)   target <= \
         {TARGET_RATIO}   {}",
        1.0 / ratio,
        verdict(ratio <= TARGET_RATIO)
    );
    println!(
        "   digests: relkit and skopeo gave the pushed digest for all {n} references in every \
         round (indexes: the index digest)\n"
    );
    Ok(())
}

/// What one relkit resolution took, gave and sent.
#[derive(Debug)]
struct Resolved {
    elapsed: Duration,
    digests: Vec<String>,
    stats: BTreeMap<String, Stats>,
}

/// One `relkit pin-images resolve` in miniature: a runtime, a client, `resolve_all`.
fn relkit_resolve(references: &[Reference], credentials: Credentials) -> Result<Resolved, String> {
    let started = Instant::now();
    let runtime = runtime()?;
    let client = client(credentials)?;
    let results = runtime.block_on(client.resolve_all(references));
    let elapsed = started.elapsed();
    let digests = results
        .into_iter()
        .zip(references)
        .map(|(r, reference)| {
            r.map(|d| d.to_string())
                .map_err(|e| format!("relkit could not resolve {reference}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Resolved {
        elapsed,
        digests,
        stats: client.stats(),
    })
}

/// `rounds` resolutions on one client, after one to open its connections: the cost of the
/// requests alone.
fn warm_resolve(references: &[Reference], rounds: usize) -> Result<Vec<Duration>, String> {
    let runtime = runtime()?;
    let client = client(Credentials::none())?;
    let mut times = Vec::new();
    for round in 0..=rounds {
        let started = Instant::now();
        let results = runtime.block_on(client.resolve_all(references));
        if round > 0 {
            times.push(started.elapsed());
        }
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            return Err(format!("relkit (warm client): {e}"));
        }
    }
    Ok(times)
}

/// How long the relkit binary takes to start and exit, to set against the skopeo loop's one
/// process per reference.
fn process_start(rounds: usize) -> Result<Vec<Duration>, String> {
    (0..rounds.max(5))
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_relkit"))
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("run relkit --version: {e}"))?;
            if !status.success() {
                return Err(format!("relkit --version: {status}"));
            }
            Ok(started.elapsed())
        })
        .collect()
}

fn check(pushed: &[Pushed], digests: &[String], tool: &str) -> Result<(), String> {
    for (p, got) in pushed.iter().zip(digests) {
        if *got != p.digest {
            return Err(format!(
                "{tool} resolved {} to {got}, but the registry holds {}",
                p.name, p.digest
            ));
        }
    }
    if digests.len() != pushed.len() {
        return Err(format!(
            "{tool} gave {} digests for {} references",
            digests.len(),
            pushed.len()
        ));
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    // What the relkit binary runs its commands on.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("start a tokio runtime: {e}"))
}

fn client(credentials: Credentials) -> Result<Client, String> {
    Client::new(Options {
        credentials,
        ..Options::default()
    })
    .map_err(|e| format!("relkit client: {e}"))
}

// --- 2. Requests per reference after auth -------------------------------------------------------

fn requests_after_auth(args: &Args, skopeo: &Skopeo) -> Result<(), String> {
    let registry = Registry::start(Auth::token(USER, PASSWORD));
    let pushed = populate(&registry, args.refs);
    let n = pushed.len() as u64;
    let repositories = args.refs.div_ceil(TAGS_PER_REPOSITORY);
    println!(
        "2. Registry requests per reference after auth: token-auth registry, {n} references in \
         {repositories} repositories, a fresh client"
    );
    let references = references(&registry, &pushed)?;
    let credentials = Credentials::none().with(
        registry.host(),
        Credential::Basic {
            username: USER.to_owned(),
            password: relkit_registry::Secret::new(PASSWORD),
        },
    );

    let from = registry.log().len();
    let tokens_before = registry.token_requests();
    let resolved = relkit_resolve(&references, credentials)?;
    check(&pushed, &resolved.digests, "relkit (token auth)")?;
    let stats = resolved
        .stats
        .get(registry.host())
        .copied()
        .unwrap_or_default();
    let logged = settled_log(&registry, from);
    let token_fetches = registry.token_requests() - tokens_before;
    if logged.requests != stats.requests || token_fetches != stats.token_requests {
        return Err(format!(
            "relkit counted {} registry and {} token requests; the registry logged {} and the \
             token server answered {token_fetches}",
            stats.requests, stats.token_requests, logged.requests
        ));
    }
    let after_auth = stats.requests - logged.unauthorized;
    let per_ref = after_auth as f64 / n as f64;
    println!(
        "   relkit: {} registry requests = {} answered 401 (learning the challenge) + {after_auth} \
         after auth",
        stats.requests, logged.unauthorized
    );
    println!(
        "           {per_ref:.2} requests per reference after auth   target 1   {}",
        verdict(after_auth == n)
    );
    println!(
        "           {} token fetches ({:.2} per repository), {} retries",
        stats.token_requests,
        stats.token_requests as f64 / repositories as f64,
        stats.retries
    );

    let from = registry.log().len();
    let tokens_before = registry.token_requests();
    let names: Vec<String> = references.iter().map(ToString::to_string).collect();
    let digests = skopeo.inspect_all(&names, Some(&format!("{USER}:{PASSWORD}")))?;
    check(&pushed, &digests, "skopeo inspect (token auth)")?;
    let logged = settled_log(&registry, from);
    let token_fetches = registry.token_requests() - tokens_before;
    println!(
        "   skopeo: {} registry requests = {} answered 401 + {} after auth = {:.2} per reference; \
         {token_fetches} token fetches\n",
        logged.requests,
        logged.unauthorized,
        logged.requests - logged.unauthorized,
        (logged.requests - logged.unauthorized) as f64 / n as f64
    );
    Ok(())
}

// --- 3. Retag bytes -----------------------------------------------------------------------------

fn retag_bytes(registry: &Registry, skopeo: &Skopeo) -> Result<(), String> {
    let big = registry.push_image_with_layers(
        "big",
        Some("1.0"),
        Format::Oci,
        &[LAYER_MIB << 20; LAYERS],
        None,
    );
    let image_bytes: usize = big.blobs.iter().map(|(_, size)| size).sum();
    let manifest = big.manifest.len() as u64;
    println!(
        "3. Retag big:1.0 in its repository: {} of blobs (config + {LAYERS} layers of \
         {LAYER_MIB} MiB), a {manifest}-byte manifest; bytes through a counting proxy, both ways, \
         HTTP headers included",
        bytes(image_bytes as u64)
    );
    let proxy = Proxy::start(registry.host())?;

    // relkit
    let from = registry.log().len();
    let source: Reference = format!("{}/big:1.0", proxy.addr)
        .parse()
        .map_err(|e| format!("big:1.0: {e}"))?;
    let (retagged, stats) = {
        let runtime = runtime()?;
        let client = client(Credentials::none())?;
        let retagged = runtime
            .block_on(client.retag(&source, "1.0-copy", false))
            .map_err(|e| format!("relkit retag: {e}"))?;
        (retagged, client.stats())
    };
    let relkit_wire = proxy.take()?;
    let relkit_requests = settled_log(registry, from).requests;
    same_digest(registry, "1.0-copy", &big.digest, "relkit retag")?;
    if retagged.digest().as_str() != big.digest {
        return Err(format!(
            "relkit retag reported {}, the source is {}",
            retagged.digest(),
            big.digest
        ));
    }
    let bodies = stats.get(&proxy.addr).copied().unwrap_or_default();

    // skopeo
    let from = registry.log().len();
    skopeo.copy(
        &format!("{}/big:1.0", proxy.addr),
        &format!("{}/big:1.0-skopeo", proxy.addr),
    )?;
    let skopeo_wire = proxy.take()?;
    let skopeo_requests = settled_log(registry, from).requests;
    same_digest(registry, "1.0-skopeo", &big.digest, "skopeo copy")?;

    println!(
        "   {:<32} {:>10} {:>10} {:>10} {:>9}",
        "", "sent", "received", "total", "requests"
    );
    for (name, wire, requests) in [
        ("relkit retag (big:1.0-copy)", relkit_wire, relkit_requests),
        ("skopeo copy (big:1.0-skopeo)", skopeo_wire, skopeo_requests),
    ] {
        println!(
            "   {name:<32} {:>10} {:>10} {:>10} {requests:>9}",
            bytes(wire.sent),
            bytes(wire.received),
            bytes(wire.total())
        );
    }
    // A layer read or written would show as at least one layer's size on the wire.
    let moved = |wire: Wire| {
        if wire.total() >= (LAYER_MIB << 20) as u64 {
            "yes"
        } else {
            "none"
        }
    };
    // Only the manifest: its bytes read once and written once, nothing else in any body.
    let only_manifest = bodies.bytes_received == manifest
        && bodies.bytes_sent == manifest
        && moved(relkit_wire) == "none";
    println!(
        "   relkit's request and response bodies: {} B read + {} B written (the manifest is \
         {manifest} B)   target: only the manifest   {}",
        bodies.bytes_received,
        bodies.bytes_sent,
        verdict(only_manifest)
    );
    println!(
        "   ratio relkit/skopeo (bytes on the wire): {:.4}",
        relkit_wire.total() as f64 / skopeo_wire.total() as f64
    );
    println!(
        "   layers moved: relkit {}, skopeo {}{}",
        moved(relkit_wire),
        moved(skopeo_wire),
        if moved(skopeo_wire) == "none" {
            " (skopeo reads the config and checks each blob with a HEAD; the repository has them)"
        } else {
            ""
        }
    );
    println!("   both new tags hold the source's digest {}", big.digest);
    Ok(())
}

fn same_digest(registry: &Registry, tag: &str, want: &str, tool: &str) -> Result<(), String> {
    match registry.tag_digest("big", tag) {
        Some(got) if got == want => Ok(()),
        Some(got) => Err(format!(
            "after {tool}, big:{tag} holds {got}, not the source's {want}"
        )),
        None => Err(format!("after {tool}, big:{tag} does not exist")),
    }
}

// --- The registry's access log -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Logged {
    requests: u64,
    unauthorized: u64,
}

/// The API requests the registry logged after byte `from` of its log, once the log has stopped
/// growing (it arrives through a pipe, a little after the answers).
fn settled_log(registry: &Registry, from: usize) -> Logged {
    let mut last = usize::MAX;
    loop {
        std::thread::sleep(Duration::from_millis(150));
        let log = registry.log();
        if log.len() == last {
            return access_lines(log.get(from..).unwrap_or_default());
        }
        last = log.len();
    }
}

/// Counts access-log lines (`"HEAD /v2/… HTTP/1.1" 200 …`) and those answered 401.
fn access_lines(log: &str) -> Logged {
    let mut logged = Logged::default();
    for line in log.lines() {
        let Some(request) = line.split('"').nth(1) else {
            continue;
        };
        let mut parts = request.split(' ');
        let (Some(_method), Some(path)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !path.starts_with("/v2/") || !request.ends_with("HTTP/1.1") {
            continue;
        }
        logged.requests += 1;
        let status = line.split('"').nth(2).map(str::trim);
        if status.is_some_and(|s| s.starts_with("401")) {
            logged.unauthorized += 1;
        }
    }
    logged
}

// --- skopeo -------------------------------------------------------------------------------------

impl Skopeo {
    /// `skopeo inspect` once per reference, one after the other, as a shell loop would.
    fn inspect_all(
        &self,
        references: &[String],
        creds: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let auth = self.dir.path().join("auth.json");
        references
            .iter()
            .map(|reference| {
                let mut command = self.command();
                command
                    .args(["inspect", "--tls-verify=false", "--no-tags"])
                    .arg("--authfile")
                    .arg(&auth)
                    .args(["--format", "{{.Digest}}"]);
                if let Some(creds) = creds {
                    command.args(["--creds", creds]);
                }
                let output = command
                    .arg(format!("docker://{reference}"))
                    .output()
                    .map_err(|e| format!("run skopeo inspect: {e}"))?;
                if !output.status.success() {
                    return Err(format!(
                        "skopeo inspect docker://{reference}: {}: {}",
                        output.status,
                        String::from_utf8_lossy(&output.stderr).trim()
                    ));
                }
                Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
            })
            .collect()
    }
}

// --- Figures ------------------------------------------------------------------------------------

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

fn fastest(times: &[Duration]) -> Duration {
    times.iter().min().copied().unwrap_or_default()
}
