//! The incident-on-rollback action: one incident issue people can act on, opened once per
//! rollback, commented on when the same rollback runs again, and closed when the next forward
//! promotion of the stream recovers.
//!
//! Written as plan, then apply. [`plan`] reads the repository and the forge: the release just
//! promoted and its release manifest (which records a rollback and the release it rolled back
//! from), the commits the rollback took out of production, and the open issues carrying the
//! incident label, told apart by a hidden marker in their text
//! (`<!-- relkit:incident stream=v rollback=v1.3.1 -->`) rather than by search, which lags
//! behind writes. [`apply`] then creates the labels it lacks, and opens the issue (or comments
//! on the open one, or closes the stream's incidents on recovery).

mod error;
mod template;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use relkit_changelog::RepoLinks;
use relkit_forge::{Forge, Issue, Label, NewIssue, Release};
use relkit_git::Repository;
use relkit_release::ReleaseManifest;
use relkit_version::{Stream, TaggedVersion, Version, VersionKind};

pub use error::Error;
pub use template::Template;

/// How severe the incident is, after the mesh-os playbook's rollback decision matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::Critical,
            "high" => Self::High,
            "medium" => Self::Medium,
            "low" => Self::Low,
            _ => return None,
        })
    }

    fn label(self) -> Label {
        let (name, color, description) = match self {
            Self::Critical => (
                "severity:critical",
                "b60205",
                "Production is down or losing data",
            ),
            Self::High => (
                "severity:high",
                "d93f0b",
                "A major function is broken in production",
            ),
            Self::Medium => ("severity:medium", "fbca04", "Production is degraded"),
            Self::Low => ("severity:low", "0e8a16", "A minor problem in production"),
        };
        Label {
            name: name.to_owned(),
            color: color.to_owned(),
            description: description.to_owned(),
        }
    }
}

/// The validated inputs of one run.
#[derive(Debug, Clone)]
pub struct Config {
    /// A directory inside the repository.
    pub repo: PathBuf,
    pub stream: Stream,
    /// The release just promoted: a rollback opens (or updates) its incident, a forward
    /// promotion recovers the stream's incidents.
    pub release: String,
    /// What production ran before the rollback; default: from the rollback's manifest, else the
    /// stream's newest full release the rollback's commit does not contain.
    pub bad_version: Option<String>,
    /// The pre-release the rollback came from; default: from its manifest.
    pub source: Option<String>,
    /// The first is the one incidents are found by.
    pub labels: Vec<String>,
    pub severity: Option<Severity>,
    pub assignees: Vec<String>,
    pub template: Option<Template>,
    pub run_url: Option<String>,
    pub actor: Option<String>,
    pub close_on_recovery: bool,
    /// Web links to commits and pull requests.
    pub links: Option<RepoLinks>,
}

/// What the run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open the incident.
    Create,
    /// The incident is open already: comment with this run.
    Update(Issue),
    /// A forward promotion: comment on these incidents of the stream and close them.
    Close(Vec<Issue>),
    /// A forward promotion with no open incident, or recovery turned off.
    Nothing,
}

impl Action {
    /// `created`, `updated`, `closed` or `none`, as the `action` output says it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Create => "created",
            Self::Update(_) => "updated",
            Self::Close(_) => "closed",
            Self::Nothing => "none",
        }
    }
}

/// Everything a run would do, decided before any change.
#[derive(Debug, Clone)]
pub struct Plan {
    pub action: Action,
    /// The rollback's release tag (or the recovering release's).
    pub tag: String,
    /// The release rolled back from; `None` on recovery.
    pub bad: Option<String>,
    pub title: String,
    pub body: String,
    /// What a re-run, or recovery, comments.
    pub comment: String,
    pub labels: Vec<Label>,
    pub assignees: Vec<String>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub action: &'static str,
    /// The incident opened or updated (the first closed, on recovery).
    pub issue: Option<Issue>,
    /// What should be looked at, though it went ahead (an assignee the forge does not know).
    pub warnings: Vec<String>,
}

/// One full release of the stream, with its commit.
#[derive(Debug, Clone)]
struct Full {
    tag: String,
    version: Version,
    commit: String,
}

/// The marker that finds a rollback's incident: the stream and the rollback's tag.
pub fn marker(stream: &Stream, tag: &str) -> String {
    format!(
        "<!-- relkit:incident stream={} rollback={tag} -->",
        stream.prefix()
    )
}

fn stream_marker(stream: &Stream) -> String {
    format!("<!-- relkit:incident stream={} rollback=", stream.prefix())
}

/// Decides what a run does. Reads the repository and the forge; writes nothing.
pub async fn plan<F: Forge>(forge: &F, config: &Config) -> Result<Plan, Error> {
    let repo = Repository::discover(&config.repo)?;
    let refs = repo.tags()?;
    let full: Vec<Full> = config
        .stream
        .releases(refs.iter().map(|t| t.ref_name.as_str()))
        .into_iter()
        .filter(|t: &TaggedVersion| VersionKind::of(&t.version).is_full())
        .filter_map(|t| {
            let commit = refs.iter().find(|r| r.ref_name == t.tag)?.commit.clone();
            Some(Full {
                tag: t.tag,
                version: t.version,
                commit,
            })
        })
        .collect();
    // A release tag the promotion just made on the forge is not in this checkout yet.
    let mut full = full;
    let tag_of = |value: &str| match config.stream.parse_tag(value) {
        Some(_) => value.to_owned(),
        None => match Version::parse(value.trim_start_matches(['v', 'V'])) {
            Ok(v) => config.stream.tag_name(&v),
            Err(_) => value.to_owned(),
        },
    };
    for value in std::iter::once(&config.release).chain(config.bad_version.as_ref()) {
        let tag = tag_of(value);
        if full.iter().any(|f| f.tag == tag) {
            continue;
        }
        if let Some(version) = config.stream.parse_tag(&tag)
            && VersionKind::of(&version).is_full()
            && let Some(found) = forge.tag(&tag).await?
        {
            full.push(Full {
                tag,
                version,
                commit: found.commit,
            });
        }
    }
    let find = |input: &'static str, value: &str| -> Result<Full, Error> {
        let tag = tag_of(value);
        full.iter()
            .find(|f| f.tag == tag)
            .cloned()
            .ok_or_else(|| Error::UnknownRelease {
                input,
                value: value.to_owned(),
                prefix: config.stream.prefix().to_owned(),
            })
    };
    let rollback = find("--rollback-version", &config.release)?;
    // A tag with no release (made by another tool) still has its history; its links and
    // manifest are what is missing.
    let release = relkit_release::find_release(forge, &rollback.tag).await?;
    let manifest = match &release {
        Some(release) => relkit_release::read_manifest(forge, release).await?,
        None => None,
    };
    let recorded = manifest.as_ref().and_then(|m| m.promotion.as_ref());

    // Which release the rollback went back from: as given, as recorded, or from the history.
    let reachable: HashSet<String> = repo.reachable(&rollback.commit)?.into_iter().collect();
    let bad = match (
        &config.bad_version,
        recorded.and_then(|p| p.rollback.as_ref()),
    ) {
        (Some(value), _) => Some(find("--bad-version", value)?),
        (None, Some(r)) => Some(find("the manifest's rollback record", &r.from)?),
        (None, None) => full
            .iter()
            .filter(|f| f.commit != rollback.commit && !reachable.contains(&f.commit))
            .max_by(|a, b| a.version.cmp(&b.version))
            .cloned(),
    };
    if let Some(bad) = &bad
        && bad.tag == rollback.tag
    {
        return Err(Error::SameRelease {
            tag: bad.tag.clone(),
        });
    }
    let first_label = config.labels.first().cloned().unwrap_or_default();
    let open: Vec<Issue> = if first_label.is_empty() {
        Vec::new()
    } else {
        forge.open_issues_with_label(&first_label).await?
    };
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let by = config.actor.as_deref().unwrap_or("someone");
    let run = config
        .run_url
        .as_deref()
        .map(|u| format!(" ({u})"))
        .unwrap_or_default();

    let Some(bad) = bad else {
        // A forward promotion: production recovered.
        let prefix = stream_marker(&config.stream);
        let incidents: Vec<Issue> = open
            .into_iter()
            .filter(|i| i.body.contains(&prefix))
            .collect();
        let action = if config.close_on_recovery && !incidents.is_empty() {
            Action::Close(incidents)
        } else {
            Action::Nothing
        };
        return Ok(Plan {
            action,
            tag: rollback.tag.clone(),
            bad: None,
            title: String::new(),
            body: String::new(),
            comment: format!(
                "Recovered by {} ({}), promoted forward by {by} at {now}{run}: production no longer runs the build this incident rolled back from.",
                release
                    .as_ref()
                    .map_or_else(|| rollback.tag.clone(), link_release),
                short(&rollback.commit),
            ),
            labels: Vec::new(),
            assignees: Vec::new(),
        });
    };

    let bad_release = relkit_release::find_release(forge, &bad.tag).await?;
    let bad_manifest = match &bad_release {
        Some(r) => relkit_release::read_manifest(forge, r).await?,
        None => None,
    };
    let source = config
        .source
        .clone()
        .or_else(|| recorded.map(|p| p.from.clone()));
    let taken_out = repo.commits(&format!("{}..{}", rollback.commit, bad.commit), true)?;
    let facts = Facts {
        stream: config.stream.prefix().to_owned(),
        rollback_tag: rollback.tag.clone(),
        rollback_version: rollback.version.to_string(),
        rollback_commit: rollback.commit.clone(),
        rollback_url: release.as_ref().map(|r| r.url.clone()).unwrap_or_default(),
        bad_tag: bad.tag.clone(),
        bad_version: bad.version.to_string(),
        bad_commit: bad.commit.clone(),
        bad_url: bad_release
            .as_ref()
            .map(|r| r.url.clone())
            .unwrap_or_default(),
        source: source.clone().unwrap_or_default(),
        images: images(manifest.as_ref(), bad_manifest.as_ref()),
        commits: commits(&taken_out, config.links.as_ref()),
        actor: by.to_owned(),
        time: now.clone(),
        run_url: config.run_url.clone().unwrap_or_default(),
        checklist: CHECKLIST.to_owned(),
        guard: format!(
            "Promoting {}'s commit ({}) again is refused by promote-prerelease until someone overrides it with a reason.",
            bad.tag,
            short(&bad.commit)
        ),
        commit_url: config
            .links
            .as_ref()
            .map(RepoLinks::commit_url)
            .unwrap_or_default(),
    };
    let marker = marker(&config.stream, &rollback.tag);
    let (title, body, mut label_names) = match &config.template {
        Some(template) => template.render(&facts)?,
        None => (
            format!("Investigate rollback to {}", rollback.tag),
            default_body(&facts),
            Vec::new(),
        ),
    };
    let body = format!("{body}\n\n{marker}\n");
    // The action's labels first (the first finds incidents), then the template's.
    let mut names = config.labels.clone();
    for label in label_names.drain(..) {
        if !names.contains(&label) {
            names.push(label);
        }
    }
    let mut labels: Vec<Label> = names.iter().map(|n| known_label(n)).collect();
    if let Some(severity) = config.severity {
        labels.push(severity.label());
    }
    let existing = open.into_iter().find(|i| i.body.contains(&marker));
    let action = match existing {
        Some(issue) => Action::Update(issue),
        None => Action::Create,
    };
    Ok(Plan {
        action,
        tag: rollback.tag.clone(),
        bad: Some(bad.tag.clone()),
        title,
        body,
        comment: format!(
            "Rolled back to {} again by {by} at {now}{run}.",
            rollback.tag
        ),
        labels,
        assignees: config.assignees.clone(),
    })
}

/// Carries out a plan, reporting each change through `log` as it is made.
pub async fn apply<F: Forge>(
    forge: &F,
    plan: &Plan,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    let mut warnings = Vec::new();
    let issue = match &plan.action {
        Action::Nothing => None,
        Action::Update(issue) => {
            forge.comment(issue, &plan.comment).await?;
            log(&format!(
                "commented on incident #{}: {}",
                issue.number, issue.url
            ));
            Some(issue.clone())
        }
        Action::Close(issues) => {
            for issue in issues {
                forge.comment(issue, &plan.comment).await?;
                forge.close_issue(issue).await?;
                log(&format!("closed incident #{}: {}", issue.number, issue.url));
            }
            issues.first().cloned()
        }
        Action::Create => {
            forge.ensure_labels(&plan.labels).await?;
            let new = NewIssue {
                title: plan.title.clone(),
                body: plan.body.clone(),
                labels: plan.labels.iter().map(|l| l.name.clone()).collect(),
                assignees: plan.assignees.clone(),
            };
            let issue = match forge.create_issue(&new).await {
                Ok(issue) => issue,
                // An assignee the forge refuses must not lose the incident: open it without.
                Err(relkit_forge::Error::Http {
                    status: 422,
                    message,
                    ..
                }) if !new.assignees.is_empty() => {
                    warnings.push(format!(
                        "the forge refused the assignees {} ({message}): the incident was opened without them",
                        new.assignees.join(", ")
                    ));
                    forge
                        .create_issue(&NewIssue {
                            assignees: Vec::new(),
                            ..new
                        })
                        .await?
                }
                Err(e) => return Err(e.into()),
            };
            log(&format!("opened incident #{}: {}", issue.number, issue.url));
            Some(issue)
        }
    };
    Ok(Outcome {
        action: plan.action.name(),
        issue,
        warnings,
    })
}

/// What a template can name: `{rollback_tag}`, `{bad_tag}`, `{commits}`…
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub stream: String,
    pub rollback_tag: String,
    pub rollback_version: String,
    pub rollback_commit: String,
    pub rollback_url: String,
    pub bad_tag: String,
    pub bad_version: String,
    pub bad_commit: String,
    pub bad_url: String,
    pub source: String,
    pub images: String,
    pub commits: String,
    pub actor: String,
    pub time: String,
    pub run_url: String,
    pub checklist: String,
    pub guard: String,
    /// The base of a commit's web link (the full id is appended); empty when unknown.
    pub commit_url: String,
}

impl Facts {
    /// The value of placeholder `name`, if it is one.
    pub fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "stream" => &self.stream,
            "rollback_tag" => &self.rollback_tag,
            "rollback_version" => &self.rollback_version,
            "rollback_commit" => &self.rollback_commit,
            "rollback_url" => &self.rollback_url,
            "bad_tag" => &self.bad_tag,
            "bad_version" => &self.bad_version,
            "bad_commit" => &self.bad_commit,
            "bad_url" => &self.bad_url,
            "source" => &self.source,
            "images" => &self.images,
            "commits" => &self.commits,
            "actor" => &self.actor,
            "time" => &self.time,
            "run_url" => &self.run_url,
            "checklist" => &self.checklist,
            "guard" => &self.guard,
            _ => return None,
        })
    }

    /// Every placeholder, for the error that names an unknown one.
    pub const NAMES: &'static [&'static str] = &[
        "stream",
        "rollback_tag",
        "rollback_version",
        "rollback_commit",
        "rollback_url",
        "bad_tag",
        "bad_version",
        "bad_commit",
        "bad_url",
        "source",
        "images",
        "commits",
        "actor",
        "time",
        "run_url",
        "checklist",
        "guard",
    ];
}

const CHECKLIST: &str = "- [ ] Root cause documented\n\
     - [ ] Fix in the development branch\n\
     - [ ] Regression tests added\n\
     - [ ] Next release planned with the fix\n\
     - [ ] Postmortem linked";

fn default_body(f: &Facts) -> String {
    let link = |tag: &str, url: &str| {
        if url.is_empty() {
            format!("`{tag}`")
        } else {
            format!("[`{tag}`]({url})")
        }
    };
    let commit = |id: &str| {
        if f.commit_url.is_empty() {
            format!("`{}`", short(id))
        } else {
            format!("[`{}`]({}{id})", short(id), f.commit_url)
        }
    };
    let mut body = format!(
        "Production was rolled back from {} to {}.\n\n\
         | | release | commit |\n| --- | --- | --- |\n\
         | rolled back from | {} | {} |\n| rolled back to | {} | {} |\n",
        link(&f.bad_tag, &f.bad_url),
        link(&f.rollback_tag, &f.rollback_url),
        link(&f.bad_tag, &f.bad_url),
        commit(&f.bad_commit),
        link(&f.rollback_tag, &f.rollback_url),
        commit(&f.rollback_commit),
    );
    if !f.source.is_empty() {
        body.push_str(&format!(
            "\n{} is the build of pre-release `{}`.\n",
            f.rollback_tag, f.source
        ));
    }
    if !f.images.is_empty() {
        body.push_str(&format!("\n### Images\n\n{}\n", f.images));
    }
    body.push_str(&format!(
        "\n### Taken out of production\n\n{}\n",
        if f.commits.is_empty() {
            "No commit: the rollback's commit contains the bad release's.".to_owned()
        } else {
            f.commits.clone()
        }
    ));
    body.push_str(&format!(
        "\nRolled back by {} at {}{}.\n\n{}\n\n### Checklist\n\n{}",
        f.actor,
        f.time,
        if f.run_url.is_empty() {
            String::new()
        } else {
            format!(" in {}", f.run_url)
        },
        f.guard,
        f.checklist
    ));
    body
}

/// The images of both releases, by digest.
fn images(rollback: Option<&ReleaseManifest>, bad: Option<&ReleaseManifest>) -> String {
    let mut lines = Vec::new();
    for (what, manifest) in [("now", rollback), ("rolled back from", bad)] {
        let Some(manifest) = manifest else { continue };
        for image in &manifest.images {
            lines.push(format!(
                "- {what}: `{}{}@{}` ({})",
                image.repository,
                image
                    .tag
                    .as_ref()
                    .map(|t| format!(":{t}"))
                    .unwrap_or_default(),
                image.digest,
                manifest.tag
            ));
        }
    }
    lines.join("\n")
}

/// The commits a rollback took out, newest first, with links when the forge is known.
fn commits(walk: &[relkit_git::RawCommit], links: Option<&RepoLinks>) -> String {
    let pull = regex::Regex::new(r"\(#([0-9]+)\)").ok();
    walk.iter()
        .take(100)
        .map(|c| {
            let subject = c.message.lines().next().unwrap_or_default();
            let (id, subject) = match links {
                Some(links) => {
                    let pulls = format!("{}/{}/", links.web_url, links.pulls);
                    let subject = match &pull {
                        Some(re) => re
                            .replace_all(subject, format!("([#${{1}}]({pulls}${{1}}))"))
                            .into_owned(),
                        None => subject.to_owned(),
                    };
                    (
                        format!("[`{}`]({}{})", short(&c.id), links.commit_url(), c.id),
                        subject,
                    )
                }
                None => (format!("`{}`", short(&c.id)), subject.to_owned()),
            };
            format!("- {id} {subject}")
        })
        .chain((walk.len() > 100).then(|| format!("- … and {} more", walk.len() - 100)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The colour and description of relkit's own labels; others get a neutral grey.
fn known_label(name: &str) -> Label {
    let (color, description) = match name {
        "incident" => ("d73a4a", "A production incident"),
        "rollback" => ("e99695", "Production was rolled back"),
        _ => ("ededed", "Opened by relkit incident-on-rollback"),
    };
    Label {
        name: name.to_owned(),
        color: color.to_owned(),
        description: description.to_owned(),
    }
}

fn link_release(release: &Release) -> String {
    if release.url.starts_with("http") {
        format!("[{}]({})", release.tag, release.url)
    } else {
        release.tag.clone()
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Action::Create => {
                writeln!(f, "incident \"{}\" → open", self.title)?;
                let labels: Vec<&str> = self.labels.iter().map(|l| l.name.as_str()).collect();
                writeln!(f, "labels   {} → created if missing", labels.join(", "))?;
                if !self.assignees.is_empty() {
                    writeln!(f, "assign   {}", self.assignees.join(", "))?;
                }
            }
            Action::Update(issue) => writeln!(
                f,
                "incident #{} \"{}\" → open already: comment on it",
                issue.number, issue.title
            )?,
            Action::Close(issues) => {
                for issue in issues {
                    writeln!(
                        f,
                        "incident #{} \"{}\" → recovered by {}: comment, then close",
                        issue.number, issue.title, self.tag
                    )?;
                }
            }
            Action::Nothing => writeln!(
                f,
                "incident none: {} is a forward promotion and no incident of the stream is open",
                self.tag
            )?,
        }
        Ok(())
    }
}
