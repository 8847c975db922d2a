//! Turning one walk of the history into git-cliff-core's list of releases.
//!
//! git-cliff-core renders releases but leaves building them to its caller. The `git-cliff` CLI
//! assigns each commit to the oldest tag (in its tag order) that can reach it, with one history
//! walk per tag that hides all older tags: on 500 tags that walks the same commits again and
//! again. The assignment is the same as "the smallest tag index among the tags that reach the
//! commit", which one pass over the commit graph in topological order computes for every commit
//! at once. The rest of this module follows the CLI's rules so that a user's template renders
//! the text the CLI would give them.

use std::collections::{HashMap, VecDeque};

use git_cliff_core::commit::{Commit, CommitStatistics, Range, Signature};
use git_cliff_core::release::Release;

use relkit_git::{Person, RawCommit, TagRef};

/// Where the commits of a changelog come from.
#[derive(Debug)]
pub struct History<'h> {
    /// Every commit of the walked range, newest first (the graph the tags reach through).
    pub walk: &'h [RawCommit],
    /// The commits to show, in walk order: the walk less path-filtered and ignored commits.
    pub shown: &'h [&'h RawCommit],
    /// The release tags, oldest first, one per commit (see [`order_tags`]).
    pub tags: &'h [TagRef],
    /// The repository's top directory, as templates see it in `repository`.
    pub repository: String,
    /// Diff statistics of each commit, when the configuration uses them.
    pub statistics: Option<&'h HashMap<String, CommitStatistics>>,
    /// Whether the template wants commits newest first (`sort_commits = "newest"`).
    pub newest_first: bool,
}

/// Orders tags as the git-cliff CLI does: by name, then by the time of the tagged commit (stable),
/// keeping one tag per commit — the last one in that order, at the place of the first.
pub fn order_tags(mut tags: Vec<TagRef>, topo_order: bool) -> Vec<TagRef> {
    tags.sort_by(|a, b| a.ref_name.cmp(&b.ref_name));
    if !topo_order {
        tags.sort_by_key(|t| t.commit_time);
    }
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut ordered: Vec<TagRef> = Vec::with_capacity(tags.len());
    for tag in tags {
        match position.get(&tag.commit) {
            Some(&i) => ordered[i] = tag,
            None => {
                position.insert(tag.commit.clone(), ordered.len());
                ordered.push(tag);
            }
        }
    }
    ordered
}

/// Builds the releases, oldest first, with the unreleased commits last.
pub fn build<'a>(history: &History<'_>) -> Vec<Release<'a>> {
    let tag_at: HashMap<&str, &TagRef> = history
        .tags
        .iter()
        .map(|t| (t.commit.as_str(), t))
        .collect();
    let owner = ownership(history);

    // Group the shown commits by owning tag, oldest first; commits no tag reaches are unreleased.
    let mut groups: HashMap<usize, Vec<&RawCommit>> = HashMap::new();
    let mut unreleased = Vec::new();
    for commit in history.shown.iter().rev() {
        match owner.get(commit.id.as_str()) {
            Some(&tag) => groups.entry(tag).or_default().push(commit),
            None => unreleased.push(*commit),
        }
    }
    let mut ordered: Vec<&RawCommit> = Vec::with_capacity(history.shown.len());
    for (index, tag) in history.tags.iter().enumerate() {
        let Some(mut group) = groups.remove(&index) else {
            continue;
        };
        // The tagged commit closes its release.
        if let Some(pos) = group.iter().position(|c| c.id == tag.commit) {
            let tip = group.remove(pos);
            group.push(tip);
        }
        ordered.extend(group);
    }
    ordered.extend(unreleased);

    let mut releases = vec![Release::default()];
    let mut previous = Release::default();
    let mut first_tag: Option<&TagRef> = None;
    for raw in ordered {
        let release = releases
            .last_mut()
            .expect("there is always an open release");
        let mut commit = commit(raw);
        if let Some(stats) = history.statistics.and_then(|s| s.get(&raw.id)) {
            commit.statistics = stats.clone();
        }
        release.commits.push(commit);
        release.repository = Some(history.repository.clone());
        release.commit_id = Some(raw.id.clone());
        if let Some(tag) = tag_at.get(raw.id.as_str()) {
            release.version = Some(tag.name.clone());
            release.message.clone_from(&tag.message);
            release.timestamp = Some(raw.committer.timestamp);
            first_tag.get_or_insert(tag);
            previous.previous = None;
            release.previous = Some(Box::new(previous));
            previous = release.clone();
            releases.push(Release::default());
        }
    }
    if releases.len() > 1 {
        previous.previous = None;
        if let Some(last) = releases.last_mut() {
            last.previous = Some(Box::new(previous));
        }
    }
    if history.newest_first {
        for release in &mut releases {
            release.commits.reverse();
        }
    }

    // A first release with no previous version gets the tag before it, or the newest tag.
    let first_has_previous = releases[0]
        .previous
        .as_ref()
        .is_some_and(|p| p.version.is_some());
    if !first_has_previous {
        let before = match first_tag {
            Some(tag) => history
                .tags
                .iter()
                .position(|t| t.name == tag.name)
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| history.tags.get(i)),
            None => history.tags.last(),
        };
        if let Some(tag) = before {
            releases[0].previous = Some(Box::new(Release {
                commit_id: Some(tag.commit.clone()),
                version: Some(tag.name.clone()),
                timestamp: Some(tag.commit_time),
                ..Release::default()
            }));
        }
    }

    for release in &mut releases {
        if let (Some(first), Some(last)) = (release.commits.first(), release.commits.last()) {
            release.commit_range = Some(if history.newest_first {
                Range::new(last, first)
            } else {
                Range::new(first, last)
            });
        }
    }
    releases
}

/// Maps each shown commit to the index of the oldest tag that reaches it, considering only tags
/// on shown commits, through the whole walked graph.
fn ownership<'h>(history: &History<'h>) -> HashMap<&'h str, usize> {
    let walk = history.walk;
    let index: HashMap<&str, usize> = walk
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let shown: HashMap<&str, ()> = history.shown.iter().map(|c| (c.id.as_str(), ())).collect();

    let mut owner = vec![usize::MAX; walk.len()];
    for (t, tag) in history.tags.iter().enumerate() {
        if shown.contains_key(tag.commit.as_str())
            && let Some(&i) = index.get(tag.commit.as_str())
        {
            owner[i] = owner[i].min(t);
        }
    }

    // Kahn's algorithm: a commit is final once all its children in the walk are.
    let mut children = vec![0usize; walk.len()];
    for c in walk {
        for p in &c.parents {
            if let Some(&j) = index.get(p.as_str()) {
                children[j] += 1;
            }
        }
    }
    let mut ready: VecDeque<usize> = (0..walk.len()).filter(|&i| children[i] == 0).collect();
    while let Some(i) = ready.pop_front() {
        for p in &walk[i].parents {
            if let Some(&j) = index.get(p.as_str()) {
                owner[j] = owner[j].min(owner[i]);
                children[j] -= 1;
                if children[j] == 0 {
                    ready.push_back(j);
                }
            }
        }
    }

    walk.iter()
        .zip(owner)
        .filter(|(c, o)| *o != usize::MAX && shown.contains_key(c.id.as_str()))
        .map(|(c, o)| (c.id.as_str(), o))
        .collect()
}

/// A commit in git-cliff-core's terms, as its CLI fills it from libgit2.
pub fn commit<'a>(raw: &RawCommit) -> Commit<'a> {
    Commit {
        id: raw.id.clone(),
        message: raw.message.clone(),
        author: signature(&raw.author),
        committer: signature(&raw.committer),
        merge_commit: raw.parents.len() > 1,
        ..Commit::default()
    }
}

fn signature(person: &Person) -> Signature {
    Signature {
        name: Some(person.name.clone()),
        email: Some(person.email.clone()),
        timestamp: person.timestamp,
    }
}
