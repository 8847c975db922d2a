//! Benchmark (not a test): what promoting a pre-release costs on the registry and the forge, next
//! to the `skopeo copy` commands a shell script would run for the same image tags. Run with
//! `cargo bench --bench promote`.
//!
//! A project on the forge emulator's GitHub flavour has v1.2.0 and the pre-release
//! `v1.2.0-pre.1+SHA7`, both made by create-release, each recording 10 images (`team/svc-N`) in
//! its release manifest, on Debian's `docker-registry` on loopback. The commit's `ci/test` status
//! is green. relkit promotes the pre-release to v1.3.0 (`relkit_promote_prerelease::plan`, then
//! `apply`, on one registry client): each image gets the tags `1.3.0`, `1.3`, `1` and `latest`,
//! 40 in all. Then `skopeo copy` makes the same 40 retags, one process each, to tags of its own
//! (`1.3.0-skopeo`, …), so both start from the same registry state.
//!
//! The image references name a byte-counting TCP proxy in front of the registry, so the wire
//! bytes of both tools are counted the same way (both directions, HTTP headers included); the
//! requests are the registry's access log, read between the phases. The forge API calls are the
//! emulator's record of the promotion's plan and apply (the setup's calls left out). Every new
//! tag must hold the pre-release's digest, else the run exits 1.
//!
//! Target (issue 10): no blob bytes; at most one manifest read per image and one write plus one
//! `HEAD` per tag.
//!
//! Everything listens on 127.0.0.1; skopeo gets an accept-anything policy and empty
//! configuration in a temporary directory, so it never reads `/etc/containers` or `$HOME`.

// A benchmark's output is what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support.rs"]
mod support;

use support::{Proxy, Skopeo, Wire, apt_install, bytes, find_skopeo, show, verdict};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use relkit_changelog::ConfigSource;
use relkit_create_release::{Config as ReleaseConfig, NotesChoice, VersionChoice};
use relkit_forge::MakeLatest;
use relkit_forge::github::{self, GitHub};
use relkit_forge::http::{Policy, Token};
use relkit_promote_prerelease::{Config, Floating, PrereleaseChoice, ReleaseChoice};
use relkit_registry::{Client, Options, Stats};
use relkit_testkit::GitRepo;
use relkit_testkit::emulator::{Emulator, Flavor, Permissions, RequestRecord};
use relkit_testkit::registry::{self, Auth, Format, Registry};
use relkit_version::{PrereleaseBase, Stream, Version};

/// Images the pre-release records, one repository each.
const IMAGES: usize = 10;
/// Each pre-release image: a config and two random layers of this many KiB, so a blob that
/// crossed the wire would show in the byte counts.
const LAYER_KIB: usize = 256;
/// The tags the release gives each image, in the order relkit plans them.
const TARGET_TAGS: [&str; 4] = ["1.3.0", "1.3", "1", "latest"];
const TOKEN: &str = "ghs_bench0promote0token0000000000000";

fn main() -> ExitCode {
    let skopeo = match parse_args(std::env::args().skip(1)) {
        Ok(skopeo) => skopeo,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(skopeo.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

const USAGE: &str = "usage: cargo bench --bench promote [-- --skopeo PATH]\n  skopeo: --skopeo, \
                     else $RELKIT_SKOPEO, else skopeo on PATH, else installed with apt-get";

fn parse_args(mut raw: impl Iterator<Item = String>) -> Result<Option<PathBuf>, String> {
    let mut skopeo = std::env::var_os("RELKIT_SKOPEO").map(PathBuf::from);
    while let Some(flag) = raw.next() {
        match flag.as_str() {
            // `cargo bench` passes `--bench` to every benchmark binary.
            "--bench" => {}
            "--skopeo" => {
                skopeo = Some(PathBuf::from(raw.next().ok_or("--skopeo needs a value")?));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(skopeo)
}

fn run(skopeo: Option<&Path>) -> Result<(), String> {
    if registry::binary().is_none() {
        apt_install("docker-registry", "RELKIT_DOCKER_REGISTRY")?;
    }
    let skopeo = Skopeo::new(find_skopeo(skopeo)?)?;
    let registry = Registry::start(Auth::Open);
    let proxy = Proxy::start(registry.host())?;
    let project = setup(&registry, &proxy)?;
    // The setup pushed straight to the registry: nothing crossed the proxy yet.
    proxy.take()?;
    println!(
        "promote: {} to v1.3.0, {IMAGES} images (a config and two {LAYER_KIB} KiB layers each) \
         x {} tags ({}), on docker-registry at {} behind a byte-counting proxy at {}; forge: \
         the emulator's GitHub flavour",
        project.prerelease,
        TARGET_TAGS.len(),
        TARGET_TAGS.join(", "),
        registry.host(),
        proxy.addr
    );
    println!("{}\n", skopeo.version);

    let relkit = promote(&registry, &proxy, &project)?;
    check_relkit(&registry, &project, &relkit)?;
    let skopeo = skopeo_retags(&registry, &proxy, &project, &skopeo)?;
    report(&relkit, &skopeo);
    Ok(())
}

// --- The project --------------------------------------------------------------------------------

/// v1.2.0 and a pre-release on the GitHub emulator, each with `IMAGES` images pinned.
#[derive(Debug)]
struct Project {
    repo: GitRepo,
    emulator: Emulator,
    /// `v1.2.0-pre.1+SHA7`.
    prerelease: String,
    /// Its images: repository (`team/svc-N`), OCI tag, digest.
    images: Vec<(String, String, String)>,
}

fn setup(registry: &Registry, proxy: &Proxy) -> Result<Project, String> {
    let repo = GitRepo::new();
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = forge(&emulator)?;
    let runtime = runtime()?;

    repo.commit("feat: first");
    runtime.block_on(release(&repo, &forge, registry, proxy, Some("1.2.0"), 0))?;
    repo.commit("feat: add the D-Bus watcher");
    let (prerelease, images) = runtime.block_on(release(
        &repo,
        &forge,
        registry,
        proxy,
        None,
        LAYER_KIB << 10,
    ))?;
    emulator.add_status(&repo.head(), "success", "ci/test");
    Ok(Project {
        repo,
        emulator,
        prerelease,
        images,
    })
}

fn forge(emulator: &Emulator) -> Result<GitHub, String> {
    let client = github::client(
        "GitHub (emulator)",
        emulator.url(),
        Some(Token::new(TOKEN)),
        "GITHUB_TOKEN",
        Policy::default(),
    )
    .map_err(|e| format!("GitHub client: {e}"))?;
    Ok(GitHub::new(client, "owner", "app"))
}

fn stream() -> Result<Stream, String> {
    Stream::new("v").map_err(|e| format!("stream v: {e}"))
}

/// A release of HEAD made by create-release: `version`, or the next pre-release when `None`.
/// Each image is pushed with the release's OCI tag (layers of `layer` bytes, or 1 KiB when 0),
/// alternately OCI and Docker v2, and pinned in the manifest under the proxy's name.
async fn release(
    repo: &GitRepo,
    forge: &GitHub,
    registry: &Registry,
    proxy: &Proxy,
    version: Option<&str>,
    layer: usize,
) -> Result<(String, Vec<(String, String, String)>), String> {
    let stream = stream()?;
    let dist = repo.path().join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("create dist: {e}"))?;
    std::fs::write(dist.join("app.tar.gz"), repo.head()).map_err(|e| format!("asset: {e}"))?;
    std::fs::write(repo.path().join(".git/info/exclude"), "dist/\n")
        .map_err(|e| format!("exclude: {e}"))?;
    let mut config = ReleaseConfig {
        repo: repo.path().to_path_buf(),
        stream: stream.clone(),
        version: match version {
            Some(v) => VersionChoice::Exact(Version::parse(v).map_err(|e| format!("{v}: {e}"))?),
            None => VersionChoice::Prerelease(PrereleaseBase::Latest),
        },
        target: "HEAD".to_owned(),
        target_input: "--target",
        first_release: true,
        include_paths: Vec::new(),
        exclude_paths: Vec::new(),
        name: None,
        notes: NotesChoice::Changelog(ConfigSource::Builtin),
        links: None,
        draft: false,
        make_latest: MakeLatest::Legacy,
        assets: vec!["dist/*".to_owned()],
        base: repo.path().to_path_buf(),
        allow_empty: false,
        replace_assets: false,
        images: Vec::new(),
    };
    // The version first, for the images' tag.
    let planned = relkit_create_release::plan(forge, &config)
        .await
        .map_err(|e| format!("plan the release: {e}"))?;
    let tag = relkit_version::oci_tag(&planned.version, &stream, false)
        .map_err(|e| format!("OCI tag: {e}"))?;
    let layers: &[usize] = if layer == 0 {
        &[1024, 1024]
    } else {
        &[layer, layer]
    };
    let mut pins = String::new();
    let mut images = Vec::new();
    for i in 0..IMAGES {
        let repository = format!("team/svc-{i}");
        let format = if i % 2 == 0 {
            Format::Oci
        } else {
            Format::DockerV2
        };
        let image = registry.push_image_with_layers(&repository, Some(&tag), format, layers, None);
        pins.push_str(&format!(
            "API{i}_IMAGE={}/{repository}:{tag}@{}\n",
            proxy.addr, image.digest
        ));
        images.push((repository, tag.clone(), image.digest));
    }
    config.images = relkit_create_release::images(&pins).map_err(|e| format!("pins: {e}"))?;
    let plan = relkit_create_release::plan(forge, &config)
        .await
        .map_err(|e| format!("plan the release: {e}"))?;
    relkit_create_release::apply(forge, &plan, &mut |_| {})
        .await
        .map_err(|e| format!("release {}: {e}", plan.tag))?;
    Ok((plan.tag.clone(), images))
}

// --- relkit's promotion -------------------------------------------------------------------------

/// What one phase of the promotion sent.
#[derive(Debug, Default)]
struct Phase {
    requests: Requests,
    wire: Wire,
    forge: Vec<RequestRecord>,
    elapsed: Duration,
}

#[derive(Debug)]
struct Promoted {
    plan: Phase,
    apply: Phase,
    /// relkit's own counters for the whole promotion: request and response bodies.
    stats: Stats,
    /// Each image's repository and planned tags.
    targets: Vec<(String, Vec<String>)>,
}

fn promote(registry: &Registry, proxy: &Proxy, project: &Project) -> Result<Promoted, String> {
    let config = Config {
        repo: project.repo.path().to_path_buf(),
        stream: stream()?,
        include_paths: Vec::new(),
        exclude_paths: Vec::new(),
        prerelease: PrereleaseChoice::Tag(project.prerelease.clone()),
        release: ReleaseChoice::Version(Version::new(1, 3, 0)),
        is_rollback: false,
        images: None,
        floating: Floating::default(),
        blocker_labels: vec!["release-blocker".to_owned()],
        require_checks: true,
        allow_no_checks: false,
        keep_stable: 2,
        override_gates: false,
        override_reason: None,
        strict_bump: false,
        notes_config: ConfigSource::Builtin,
        notes_file: None,
        links: None,
        actor: Some("octocat".to_owned()),
        run_url: Some("https://example.test/runs/1".to_owned()),
    };
    let emulator = &project.emulator;
    // One process's worth: a runtime, a forge client and a registry client for plan and apply,
    // all dropped before the proxy's count, so every connection is closed.
    let (plan_phase, mut apply_phase, stats, targets) = {
        let runtime = runtime()?;
        let forge = forge(emulator)?;
        let client = Client::new(Options::default()).map_err(|e| format!("relkit client: {e}"))?;

        let log_from = log_end(registry);
        let forge_from = emulator.requests().len();
        let started = Instant::now();
        let plan = runtime
            .block_on(relkit_promote_prerelease::plan(&forge, &client, &config))
            .map_err(|e| format!("plan the promotion: {e}"))?;
        let plan_elapsed = started.elapsed();
        if !plan.failures.is_empty() {
            return Err(format!(
                "the promotion's plan failed: {}",
                plan.failures.join("; ")
            ));
        }
        let (plan_requests, log_from) = settled_log(registry, log_from);
        let plan_forge = emulator.requests().split_off(forge_from);
        let plan_wire = proxy.counted();

        let forge_from = emulator.requests().len();
        let started = Instant::now();
        runtime
            .block_on(relkit_promote_prerelease::apply(
                &forge,
                &client,
                &plan,
                &mut |_| {},
            ))
            .map_err(|e| format!("apply the promotion: {e}"))?;
        let apply_elapsed = started.elapsed();
        let (apply_requests, _) = settled_log(registry, log_from);
        let apply_forge = emulator.requests().split_off(forge_from);

        let stats = client.stats().get(&proxy.addr).copied().unwrap_or_default();
        let targets = plan
            .images
            .iter()
            .map(|i| {
                (
                    i.repository.clone(),
                    i.targets.iter().map(|t| t.tag.clone()).collect(),
                )
            })
            .collect();
        (
            Phase {
                requests: plan_requests,
                wire: plan_wire,
                forge: plan_forge,
                elapsed: plan_elapsed,
            },
            Phase {
                requests: apply_requests,
                forge: apply_forge,
                elapsed: apply_elapsed,
                ..Phase::default()
            },
            stats,
            targets,
        )
    };
    let total = proxy.take()?;
    apply_phase.wire = Wire {
        sent: total.sent - plan_phase.wire.sent,
        received: total.received - plan_phase.wire.received,
    };
    Ok(Promoted {
        plan: plan_phase,
        apply: apply_phase,
        stats,
        targets,
    })
}

/// Every image got the four tags, each holding the pre-release's digest, and v1.3.0 is published.
fn check_relkit(registry: &Registry, project: &Project, promoted: &Promoted) -> Result<(), String> {
    let wanted: Vec<String> = TARGET_TAGS.iter().map(|t| (*t).to_owned()).collect();
    if promoted.targets.len() != IMAGES {
        return Err(format!(
            "relkit planned {} images, not {IMAGES}",
            promoted.targets.len()
        ));
    }
    for ((repository, _, digest), (planned, tags)) in project.images.iter().zip(&promoted.targets) {
        if !planned.ends_with(&format!("/{repository}")) || *tags != wanted {
            return Err(format!(
                "relkit planned {planned}: {tags:?}, not {repository}: {wanted:?}"
            ));
        }
        for tag in TARGET_TAGS {
            same_digest(registry, repository, tag, digest, "relkit")?;
        }
    }
    let published = project
        .emulator
        .releases()
        .into_iter()
        .any(|r| r.tag_name == "v1.3.0" && !r.draft && !r.prerelease);
    if !published {
        return Err("relkit did not publish v1.3.0".to_owned());
    }
    Ok(())
}

fn same_digest(
    registry: &Registry,
    repository: &str,
    tag: &str,
    want: &str,
    tool: &str,
) -> Result<(), String> {
    match registry.tag_digest(repository, tag) {
        Some(got) if got == want => Ok(()),
        Some(got) => Err(format!(
            "after {tool}, {repository}:{tag} holds {got}, not the pre-release's {want}"
        )),
        None => Err(format!("after {tool}, {repository}:{tag} does not exist")),
    }
}

// --- skopeo's retags ----------------------------------------------------------------------------

/// The same 40 retags with `skopeo copy`, one process each, to `TAG-skopeo`.
fn skopeo_retags(
    registry: &Registry,
    proxy: &Proxy,
    project: &Project,
    skopeo: &Skopeo,
) -> Result<Phase, String> {
    let from = log_end(registry);
    let started = Instant::now();
    for (repository, source_tag, _) in &project.images {
        for tag in TARGET_TAGS {
            skopeo.copy(
                &format!("{}/{repository}:{source_tag}", proxy.addr),
                &format!("{}/{repository}:{tag}-skopeo", proxy.addr),
            )?;
        }
    }
    let elapsed = started.elapsed();
    let wire = proxy.take()?;
    let (requests, _) = settled_log(registry, from);
    for (repository, _, digest) in &project.images {
        for tag in TARGET_TAGS {
            same_digest(
                registry,
                repository,
                &format!("{tag}-skopeo"),
                digest,
                "skopeo copy",
            )?;
        }
    }
    Ok(Phase {
        requests,
        wire,
        forge: Vec::new(),
        elapsed,
    })
}

// --- The figures --------------------------------------------------------------------------------

fn report(relkit: &Promoted, skopeo: &Phase) {
    let tags = (IMAGES * TARGET_TAGS.len()) as u64;
    let images = IMAGES as u64;
    let total = relkit.plan.requests + relkit.apply.requests;
    let wire = Wire {
        sent: relkit.plan.wire.sent + relkit.apply.wire.sent,
        received: relkit.plan.wire.received + relkit.apply.wire.received,
    };

    println!(
        "registry, {IMAGES} images x {} tags = {tags} new tags",
        TARGET_TAGS.len()
    );
    println!(
        "   {:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "",
        "requests",
        "man GET",
        "man HEAD",
        "man PUT",
        "blob",
        "other",
        "sent",
        "received",
        "wire"
    );
    let row = |name: &str, r: Requests, w: Wire| {
        println!(
            "   {name:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10}",
            r.total(),
            r.manifest_get,
            r.manifest_head,
            r.manifest_put,
            r.blob,
            r.other,
            bytes(w.sent),
            bytes(w.received),
            bytes(w.total())
        );
    };
    row("relkit plan", relkit.plan.requests, relkit.plan.wire);
    row("relkit apply", relkit.apply.requests, relkit.apply.wire);
    row("relkit promotion (both)", total, wire);
    row(
        &format!("skopeo copy x {tags}"),
        skopeo.requests,
        skopeo.wire,
    );
    println!(
        "   relkit's request/response bodies: {} B sent, {} B received; {} retries",
        relkit.stats.bytes_sent, relkit.stats.bytes_received, relkit.stats.retries
    );

    let apply = relkit.apply.requests;
    let no_blobs = total.blob == 0;
    println!(
        "   target: no blob bytes: {} blob requests   {}",
        total.blob,
        verdict(no_blobs)
    );
    println!(
        "   target (apply): manifest GETs <= {images} (one per image): {}   {}",
        apply.manifest_get,
        verdict(apply.manifest_get <= images)
    );
    println!(
        "   target (apply): manifest PUTs = {tags} (one per tag): {}   {}",
        apply.manifest_put,
        verdict(apply.manifest_put == tags)
    );
    println!(
        "   target (apply): manifest HEADs <= {tags} (one per tag): {}   {}",
        apply.manifest_head,
        verdict(apply.manifest_head <= tags)
    );
    println!(
        "   (plan: a HEAD of each source tag and each target tag, {}, and the keep-stable gate's \
         reads of v1.2.0's {IMAGES} images)",
        images + tags
    );
    println!(
        "   ratio relkit/skopeo: registry requests {:.3} ({} / {}), wire bytes {:.3}",
        ratio(total.total(), skopeo.requests.total()),
        total.total(),
        skopeo.requests.total(),
        ratio(wire.total(), skopeo.wire.total())
    );
    println!(
        "   time (info): relkit plan {} + apply {} (forge included); skopeo {} for {tags} copies",
        show(relkit.plan.elapsed),
        show(relkit.apply.elapsed),
        show(skopeo.elapsed)
    );

    println!("\nforge API calls (GitHub emulator), relkit's plan and apply");
    let methods = |calls: &[RequestRecord]| {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for call in calls {
            *by.entry(call.method.clone()).or_default() += 1;
        }
        by
    };
    let plan = methods(&relkit.plan.forge);
    let apply = methods(&relkit.apply.forge);
    let mut all: Vec<&String> = plan.keys().chain(apply.keys()).collect();
    all.sort();
    all.dedup();
    print!("   {:<8} {:>6}", "", "total");
    for method in &all {
        print!(" {method:>6}");
    }
    println!();
    for (name, by, calls) in [
        ("plan", &plan, relkit.plan.forge.len()),
        ("apply", &apply, relkit.apply.forge.len()),
        (
            "both",
            &merged(&plan, &apply),
            relkit.plan.forge.len() + relkit.apply.forge.len(),
        ),
    ] {
        print!("   {name:<8} {calls:>6}");
        for method in &all {
            print!(" {:>6}", by.get(*method).copied().unwrap_or(0));
        }
        println!();
    }
    println!("   skopeo makes no forge calls: a script would add its own for the tag and release");
    println!(
        "\nverified: all {tags} tags made by relkit and all {tags} made by skopeo hold the \
         pre-release's digests; v1.3.0 is published"
    );
}

fn merged(a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    let mut sum = a.clone();
    for (method, n) in b {
        *sum.entry(method.clone()).or_default() += n;
    }
    sum
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    // What the relkit binary runs its commands on.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("start a tokio runtime: {e}"))
}

// --- The registry's access log -------------------------------------------------------------------

/// Registry API requests, by kind.
#[derive(Debug, Clone, Copy, Default)]
struct Requests {
    manifest_get: u64,
    manifest_head: u64,
    manifest_put: u64,
    /// Any request on `/blobs/`: a `HEAD`, a read, an upload or a mount.
    blob: u64,
    /// Anything else: `GET /v2/`, tag lists, other manifest methods.
    other: u64,
}

impl Requests {
    fn total(self) -> u64 {
        self.manifest_get + self.manifest_head + self.manifest_put + self.blob + self.other
    }
}

impl std::ops::Add for Requests {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            manifest_get: self.manifest_get + other.manifest_get,
            manifest_head: self.manifest_head + other.manifest_head,
            manifest_put: self.manifest_put + other.manifest_put,
            blob: self.blob + other.blob,
            other: self.other + other.other,
        }
    }
}

/// The API requests the registry logged after byte `from` of its log, once the log has stopped
/// growing (it arrives through a pipe, a little after the answers), and where the log ends.
fn settled_log(registry: &Registry, from: usize) -> (Requests, usize) {
    let end = log_end(registry);
    let log = registry.log();
    (access_lines(log.get(from..end).unwrap_or_default()), end)
}

/// The length of the registry's log once it has stopped growing: where the next phase's
/// requests start, with everything before them (the setup, a check) logged.
fn log_end(registry: &Registry) -> usize {
    let mut last = usize::MAX;
    loop {
        std::thread::sleep(Duration::from_millis(150));
        let len = registry.log().len();
        if len == last {
            return len;
        }
        last = len;
    }
}

/// Counts access-log lines (`"HEAD /v2/… HTTP/1.1" 200 …`) by method and path.
fn access_lines(log: &str) -> Requests {
    let mut requests = Requests::default();
    for line in log.lines() {
        let Some(request) = line.split('"').nth(1) else {
            continue;
        };
        let mut parts = request.split(' ');
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !path.starts_with("/v2/") || !request.ends_with("HTTP/1.1") {
            continue;
        }
        let counter = if path.contains("/blobs/") {
            &mut requests.blob
        } else if path.contains("/manifests/") {
            match method {
                "GET" => &mut requests.manifest_get,
                "HEAD" => &mut requests.manifest_head,
                "PUT" => &mut requests.manifest_put,
                _ => &mut requests.other,
            }
        } else {
            &mut requests.other
        };
        *counter += 1;
    }
    requests
}

// --- skopeo -------------------------------------------------------------------------------------
