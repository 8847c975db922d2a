use relkit_workflow::Platform;

use crate::common::{env, gitea, github};

#[test]
fn github_actions_on_github_com_is_github() {
    let platform = Platform::detect(&github());
    assert_eq!(platform, Platform::GitHub);
    assert_eq!(platform.server_url(), Some("https://github.com"));
    assert_eq!(
        platform.api_url().as_deref(),
        Some("https://api.github.com")
    );
}

#[test]
fn github_actions_without_urls_is_github_com() {
    assert_eq!(
        Platform::detect(&env(&[("GITHUB_ACTIONS", "true")])),
        Platform::GitHub
    );
}

#[test]
fn a_server_other_than_github_com_is_github_enterprise() {
    let platform = Platform::detect(&env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.example.com"),
        ("GITHUB_API_URL", "https://github.example.com/api/v3"),
    ]));
    assert_eq!(
        platform,
        Platform::GitHubEnterprise {
            server_url: "https://github.example.com".to_owned(),
            api_url: "https://github.example.com/api/v3".to_owned(),
        }
    );
    assert!(platform.supports_file_annotations());
    assert!(platform.supports_step_summary());
}

#[test]
fn an_enterprise_api_url_is_derived_from_the_server_when_missing() {
    let platform = Platform::detect(&env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.example.com/"),
    ]));
    assert_eq!(
        platform.api_url().as_deref(),
        Some("https://github.example.com/api/v3")
    );
}

#[test]
fn gitea_is_detected_although_it_also_sets_github_actions() {
    let platform = Platform::detect(&gitea());
    assert_eq!(
        platform,
        Platform::Gitea {
            server_url: Some("https://gitea.example.com".to_owned())
        }
    );
    assert_eq!(
        platform.api_url().as_deref(),
        Some("https://gitea.example.com/api/v1")
    );
}

#[test]
fn forgejo_is_detected_although_it_also_sets_gitea_and_github_actions() {
    let platform = Platform::detect(&env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITEA_ACTIONS", "true"),
        ("FORGEJO_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://codeberg.org/"),
    ]));
    assert_eq!(
        platform,
        Platform::Forgejo {
            server_url: Some("https://codeberg.org".to_owned())
        }
    );
    assert_eq!(
        platform.api_url().as_deref(),
        Some("https://codeberg.org/api/v1")
    );
}

#[test]
fn no_runner_marker_means_a_terminal() {
    for env in [
        env(&[]),
        env(&[("CI", "true")]),
        env(&[("GITHUB_ACTIONS", "false")]),
        env(&[("GITHUB_ACTIONS", "")]),
    ] {
        let platform = Platform::detect(&env);
        assert_eq!(platform, Platform::Local, "{env:?}");
        assert!(!platform.is_runner());
        assert_eq!(platform.server_url(), None);
        assert_eq!(platform.api_url(), None);
    }
}

#[test]
fn only_github_shows_file_annotations_and_step_summaries() {
    let cases = [
        (Platform::detect(&github()), true, true),
        (Platform::detect(&gitea()), true, false),
        (Platform::Forgejo { server_url: None }, true, false),
        (Platform::Local, false, false),
    ];
    for (platform, runner, github_features) in cases {
        assert_eq!(platform.is_runner(), runner, "{platform}");
        assert_eq!(
            platform.supports_file_annotations(),
            github_features,
            "{platform}"
        );
        assert_eq!(
            platform.supports_step_summary(),
            github_features,
            "{platform}"
        );
    }
}
