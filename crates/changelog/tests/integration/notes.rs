//! relkit's own notes: ranges, streams, the version decision, and writing a changelog file.

use relkit_changelog::{ConfigSource, Range, RepoLinks, WriteOutcome, generate};
use relkit_testkit::scenario;
use relkit_version::{Bump, Stream};

use crate::{head, request};

#[test]
fn unreleased_notes_start_after_the_newest_full_release_and_ignore_prerelease_tags() {
    let repo = scenario::product();
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(
        notes.previous.as_ref().map(|p| p.tag.as_str()),
        Some("v1.0.0")
    );
    assert_eq!(
        notes.commits, 3,
        "the pre-release tag in between does not split the notes"
    );
    assert_eq!(notes.decision.bump, Bump::Minor);
    assert_eq!(notes.next_tag, "v1.1.0");
    insta::assert_snapshot!(notes.markdown);
}

/// `--to` a release's tag: the notes of that release, since the release before it, under its
/// own tag (a job run on a tag push gets the pushed release's notes, not an empty section).
#[test]
fn to_a_release_tag_gives_that_releases_notes() {
    let repo = scenario::product();
    let notes = generate(&request(
        repo.path(),
        Range::Unreleased {
            to: "v1.0.0".to_owned(),
        },
    ))
    .expect("notes");
    assert_eq!(
        notes.previous.as_ref().map(|p| p.tag.as_str()),
        Some("v0.2.0")
    );
    assert_eq!(notes.next_tag, "v1.0.0");
    assert_eq!(notes.decision.bump, Bump::Major);
    assert!(notes.markdown.contains("## v1.0.0"), "{}", notes.markdown);
    assert!(
        notes.markdown.contains("Export reports"),
        "{}",
        notes.markdown
    );
    assert!(!notes.markdown.contains("--quiet"), "{}", notes.markdown);
}

/// A pre-release's notes start at the pre-release before it, while its version decision counts
/// every commit since the last full release: a refactor after a feature still calls for a minor.
#[test]
fn a_prereleases_decision_counts_since_the_last_full_release() {
    let repo = scenario::product();
    let pre = repo
        .git(&["tag", "--list", "v1.0.1-pre.2+*"])
        .trim()
        .to_owned();
    let notes = generate(&request(
        repo.path(),
        Range::Release {
            after: Some(pre),
            to: head(),
        },
    ))
    .expect("notes");
    assert_eq!(notes.commits, 1, "only the refactor since the pre-release");
    assert!(!notes.markdown.contains("--quiet"), "{}", notes.markdown);
    assert_eq!(notes.called_for.to_string(), "1.1.0");
    assert_eq!(notes.decision.bump, Bump::Minor);
}

#[test]
fn the_whole_history_has_one_section_per_full_release() {
    let repo = scenario::product();
    let notes = generate(&request(repo.path(), Range::All { to: head() })).expect("notes");
    for section in ["## Unreleased", "## v1.0.0", "## v0.2.0", "## v0.1.0"] {
        assert!(notes.markdown.contains(section), "missing {section}");
    }
    assert!(
        !notes.markdown.contains("-pre."),
        "pre-release tags are not sections"
    );
    assert!(!notes.markdown.contains("-rc."), "rc tags are not sections");
    insta::assert_snapshot!(notes.markdown);
}

#[test]
fn a_range_between_two_tags_holds_only_the_commits_between_them() {
    let repo = scenario::product();
    let range = Range::Between {
        from: "v0.1.0".to_owned(),
        to: "v0.2.0".to_owned(),
    };
    let notes = generate(&request(repo.path(), range)).expect("notes");
    assert_eq!(notes.commits, 3);
    assert!(notes.markdown.contains("Rename the status endpoint"));
    assert!(!notes.markdown.contains("Add configuration loader"));
}

#[test]
fn a_breaking_change_and_its_footer_are_listed_first() {
    let repo = scenario::product();
    let range = Range::Between {
        from: "v0.2.0".to_owned(),
        to: "v1.0.0".to_owned(),
    };
    let notes = generate(&request(repo.path(), range)).expect("notes");
    let breaking = notes
        .markdown
        .find("### Breaking changes")
        .expect("a breaking section");
    let features = notes
        .markdown
        .find("### Features")
        .expect("a features section");
    assert!(breaking < features);
    assert!(notes.markdown.contains("the export format is now JSON"));
}

#[test]
fn links_point_at_the_forge_when_it_is_known() {
    let repo = scenario::product();
    let mut req = request(repo.path(), Range::Unreleased { to: head() });
    req.links = Some(RepoLinks::gitea("https://git.example.com/team/app"));
    let notes = generate(&req).expect("notes");
    assert!(
        notes
            .markdown
            .contains("](https://git.example.com/team/app/commit/")
    );
    assert!(
        notes
            .markdown
            .contains("([#12](https://git.example.com/team/app/pulls/12))")
    );
}

#[test]
fn each_stream_has_its_own_releases_and_path_filter() {
    let repo = scenario::two_streams();
    let mut req = request(repo.path(), Range::Unreleased { to: head() });
    req.stream = Stream::new("edge/v").expect("valid prefix");
    req.include_paths = vec!["edge/**".to_owned()];
    let notes = generate(&req).expect("notes");
    assert_eq!(
        notes.previous.as_ref().map(|p| p.tag.as_str()),
        Some("edge/v1.0.1")
    );
    assert_eq!(notes.commits, 1, "only the edge change since edge/v1.0.1");
    assert_eq!(notes.next_tag, "edge/v2.0.0");
    assert!(notes.markdown.contains("New wire protocol"));
    assert!(!notes.markdown.contains("Time zone of reports"));
}

#[test]
fn in_initial_development_the_configuration_decides_what_a_breaking_change_bumps() {
    let repo = scenario::initial_development();
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(
        notes.next_tag, "v1.0.0",
        "git-cliff's default: breaking always bumps major"
    );

    repo.write(
        "cliff.toml",
        "[bump]\nbreaking_always_bump_major = false\nfeatures_always_bump_minor = false\n",
    );
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(notes.decision.bump, Bump::Minor);
    assert_eq!(notes.next_tag, "v0.4.0");
}

#[test]
fn a_repository_without_releases_starts_from_zero() {
    let repo = relkit_testkit::GitRepo::new();
    repo.commit("fix: first");
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(notes.previous, None);
    assert_eq!(notes.next_tag, "v0.0.1");
}

#[test]
fn writing_the_notes_twice_adds_nothing() {
    let repo = scenario::product();
    let file = repo.path().join("CHANGELOG.md");
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(notes.write(&file).expect("write"), WriteOutcome::Created);
    let first = std::fs::read_to_string(&file).expect("read");
    assert!(first.starts_with("# Changelog"));
    assert!(first.contains("## v1.1.0"));

    let again = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(again.write(&file).expect("write"), WriteOutcome::Unchanged);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), first);
}

#[test]
fn writing_new_notes_puts_them_under_the_header_above_older_ones() {
    let repo = scenario::product();
    let file = repo.path().join("CHANGELOG.md");
    std::fs::write(&file, "# Changelog\n\nAll notable changes to this project are documented in this file.\n\n## v1.0.0 - 2024-01-01\n\n- older\n")
        .expect("write");
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(notes.write(&file).expect("write"), WriteOutcome::Updated);
    let text = std::fs::read_to_string(&file).expect("read");
    let new = text.find("## v1.1.0").expect("new section");
    let old = text.find("## v1.0.0").expect("old section");
    assert!(text.starts_with("# Changelog"));
    assert!(new < old);
    assert_eq!(text.matches("# Changelog").count(), 1);
}

#[test]
fn a_header_written_by_another_tool_stays_on_top() {
    let repo = scenario::product();
    let file = repo.path().join("CHANGELOG.md");
    // release-please's shape: a title, then `## [version](link) (date)` sections.
    let old = "# Changelog\n\n## [1.0.0](https://github.com/o/r/compare/v0.9.0...v1.0.0) (2024-01-01)\n\n* older\n";
    std::fs::write(&file, old).expect("write");
    let notes = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(notes.write(&file).expect("write"), WriteOutcome::Updated);
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.starts_with("# Changelog\n\n## v1.1.0"), "{text}");
    assert!(text.ends_with(&old["# Changelog\n\n".len()..]), "{text}");
}

#[test]
fn a_new_commit_rewrites_the_coming_releases_section_instead_of_adding_one() {
    let repo = scenario::product();
    let file = repo.path().join("CHANGELOG.md");
    let first = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    first.write(&file).expect("write");
    repo.commit("feat: one more thing");
    let second = generate(&request(repo.path(), Range::Unreleased { to: head() })).expect("notes");
    assert_eq!(second.next_tag, first.next_tag);
    assert_eq!(second.write(&file).expect("write"), WriteOutcome::Updated);
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(text.matches("## v1.1.0").count(), 1, "{text}");
    assert!(text.contains("One more thing"), "{text}");
    assert_eq!(text.matches("# Changelog").count(), 1, "{text}");
}

#[test]
fn a_bigger_bump_replaces_the_section_of_the_version_it_replaces() {
    let repo = relkit_testkit::GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    repo.commit("fix: b");
    let file = repo.path().join("CHANGELOG.md");
    let unreleased = || generate(&request(repo.path(), Range::Unreleased { to: head() }));
    let first = unreleased().expect("notes");
    assert_eq!(first.next_tag, "v1.0.1");
    first.write(&file).expect("write");
    // A hand-written footer below the coming section stays.
    let mut text = std::fs::read_to_string(&file).expect("read");
    text.push_str("\n[v1.0.1]: https://example.com/compare/v1.0.0...v1.0.1\n");
    std::fs::write(&file, &text).expect("write");

    repo.commit("feat: c");
    let second = unreleased().expect("notes");
    assert_eq!(second.next_tag, "v1.1.0");
    assert_eq!(second.write(&file).expect("write"), WriteOutcome::Updated);
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(
        !text.contains("## v1.0.1"),
        "the 1.0.1 section stays:\n{text}"
    );
    assert_eq!(text.matches("- B (").count(), 1, "{text}");
    assert!(text.contains("[v1.0.1]: https://example.com"), "{text}");
}

#[test]
fn text_between_the_header_and_the_sections_stays() {
    let repo = relkit_testkit::GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    repo.commit("fix: b");
    let file = repo.path().join("CHANGELOG.md");
    std::fs::write(
        &file,
        "# Changelog\n\nAll notable changes to this project are documented in this file.\n\nDates are UTC (keep a changelog).\n\n## v1.0.0 - 2024-01-01\n\n- older\n",
    )
    .expect("write");
    let unreleased = || generate(&request(repo.path(), Range::Unreleased { to: head() }));
    unreleased().expect("notes").write(&file).expect("write");
    repo.commit("fix: c");
    unreleased().expect("notes").write(&file).expect("write");
    let text = std::fs::read_to_string(&file).expect("read");
    let intro = text.find("keep a changelog").expect("the intro stays");
    let new = text.find("## v1.0.1").expect("the new section");
    assert!(intro < new, "{text}");
    assert_eq!(text.matches("## v1.0.1").count(), 1, "{text}");
    assert!(text.contains("- older"), "{text}");
}

#[test]
fn the_builtin_configuration_can_be_forced_over_the_repositorys_own() {
    let repo = scenario::product();
    repo.write("cliff.toml", "[changelog]\nbody = \"custom body\"\n");
    let mut req = request(repo.path(), Range::Unreleased { to: head() });
    assert!(
        generate(&req)
            .expect("notes")
            .markdown
            .contains("custom body")
    );
    req.config = ConfigSource::Builtin;
    assert!(
        !generate(&req)
            .expect("notes")
            .markdown
            .contains("custom body")
    );
}

#[test]
fn a_forced_next_version_is_reported_with_the_step_it_makes() {
    let repo = scenario::product();
    let mut req = request(repo.path(), Range::Unreleased { to: head() });
    req.next_version = Some("2.0.0".parse().expect("semver"));
    let notes = generate(&req).expect("notes");
    assert_eq!(notes.next_tag, "v2.0.0");
    assert_eq!(notes.decision.bump, Bump::Major);
}

#[test]
fn a_subject_followed_directly_by_text_still_counts_by_its_type() {
    let repo = relkit_testkit::GitRepo::new();
    repo.commit("chore: start");
    repo.tag("v1.0.0");
    // No blank line after the subject: not a conventional commit as a whole.
    repo.commit("feat: export to CSV\nasked for by support");
    repo.commit("fix: round totals\nsee the ticket");
    let notes = generate(&request(repo.path(), Range::default())).expect("notes");
    assert_eq!(notes.decision.bump, Bump::Minor);
    assert_eq!(
        notes.decision.reason,
        "minor: 1 feature, 1 fix, no breaking change"
    );
}

#[test]
fn a_release_section_is_the_same_before_and_after_its_tag_exists() {
    let repo = scenario::product();
    let mut req = request(
        repo.path(),
        Range::Release {
            after: Some("v1.0.0".to_owned()),
            to: head(),
        },
    );
    req.next_version = Some(relkit_version::Version::new(1, 1, 0));
    let before = generate(&req).expect("notes");
    repo.tag("v1.1.0");
    let after = generate(&req).expect("notes");
    assert_eq!(before.markdown, after.markdown);
    assert_eq!(after.commits, 3);
    assert!(
        after.markdown.contains("## v1.1.0 - "),
        "{}",
        after.markdown
    );
}

#[test]
fn a_first_release_section_covers_the_whole_history() {
    let repo = relkit_testkit::GitRepo::new();
    repo.commit("feat: one");
    repo.commit("fix: two");
    repo.tag("v0.1.0");
    let mut req = request(
        repo.path(),
        Range::Release {
            after: None,
            to: head(),
        },
    );
    req.next_version = Some(relkit_version::Version::new(0, 1, 0));
    let notes = generate(&req).expect("notes");
    assert_eq!(notes.commits, 2);
    assert!(
        notes.markdown.contains("## v0.1.0 - "),
        "{}",
        notes.markdown
    );
}

#[test]
fn a_release_section_after_a_tag_outside_the_stream_is_refused() {
    let repo = scenario::two_streams();
    let range = Range::Release {
        after: Some("edge/v1.0.0".to_owned()),
        to: head(),
    };
    let err = generate(&request(repo.path(), range)).expect_err("not in stream v");
    assert!(err.to_string().contains("--from \"edge/v1.0.0\""), "{err}");
}
