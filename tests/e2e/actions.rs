//! The composite actions under `actions/`: every input reaches the binary through its own
//! variable, every output is declared and written, and a step runs with the inputs' defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use relkit_testkit::scenario;
use yaml_serde::Value;

use crate::support::{Runner, TestResult, binary, relkit, run};

fn source_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// The action that installs relkit for scripts, not one of a command.
const SETUP: &str = "setup";

/// Each command's action directory under `actions/` and its parsed `action.yml`.
fn actions() -> Vec<(String, Value)> {
    let root = source_root().join("actions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read actions/")
        .map(|entry| entry.expect("list actions/").path())
        .filter(|dir| !dir.ends_with(SETUP))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no actions under {}", root.display());
    found
        .into_iter()
        .map(|dir| {
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 name")
                .to_owned();
            (name, parse(&dir.join("action.yml")))
        })
        .collect()
}

/// Every action a workflow can use, by the path after `relkit/relkit`: `""` for the root
/// action, `actions/NAME` for the others.
fn declared_actions() -> BTreeMap<String, Value> {
    let mut all: BTreeMap<String, Value> = actions()
        .into_iter()
        .map(|(name, action)| (format!("actions/{name}"), action))
        .collect();
    all.insert(
        format!("actions/{SETUP}"),
        parse(&source_root().join("actions").join(SETUP).join("action.yml")),
    );
    all.insert(String::new(), parse(&source_root().join("action.yml")));
    all
}

/// A step of an action by its id.
fn step<'a>(action: &'a Value, id: &str) -> &'a Value {
    action["runs"]["steps"]
        .as_sequence()
        .expect("runs.steps")
        .iter()
        .find(|s| text(s, "id") == Some(id))
        .unwrap_or_else(|| panic!("no step {id}"))
}

fn map(value: &Value, key: &str) -> Vec<(String, Value)> {
    value
        .get(key)
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().expect("string key").to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// The step that runs `"$RELKIT_BIN" <command>`, and its environment without `RELKIT_BIN`.
fn relkit_step(name: &str, action: &Value) -> (String, BTreeMap<String, String>) {
    let steps = action
        .get("runs")
        .and_then(|r| r.get("steps"))
        .and_then(Value::as_sequence)
        .expect("runs.steps");
    let script = format!("\"$RELKIT_BIN\" {name}");
    let step = steps
        .iter()
        .find(|s| text(s, "run").is_some_and(|r| r.trim() == script))
        .unwrap_or_else(|| panic!("{name}: no step runs `{script}`"));
    let id = text(step, "id")
        .expect("the relkit step has an id")
        .to_owned();
    let mut env: BTreeMap<String, String> = map(step, "env")
        .into_iter()
        .map(|(k, v)| (k, v.as_str().expect("string env value").to_owned()))
        .collect();
    assert_eq!(
        env.remove("RELKIT_BIN").as_deref(),
        Some("${{ steps.install.outputs.bin }}"),
        "{name}: the binary comes from the install step"
    );
    (id, env)
}

/// Inputs that are secrets: passed as `RELKIT_<NAME>` and never as flags.
const SECRETS: &[&str] = &["token"];

/// `RELKIT_` and the input's name in upper snake case.
fn variable(input: &str) -> String {
    format!("RELKIT_{}", input.to_uppercase().replace('-', "_"))
}

#[test]
fn every_input_reaches_the_binary_through_its_own_variable() {
    for (name, action) in actions() {
        let (_, env) = relkit_step(&name, &action);
        let help = run(&mut relkit(&[&name, "--help"])).expect_code(0).stdout;
        // Help wraps at the terminal width: compare with every run of spaces as one.
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ") + " ";
        let inputs = map(&action, "inputs");
        assert!(!inputs.is_empty(), "{name}: no inputs");
        for (input, _) in &inputs {
            let var = variable(input);
            assert_eq!(
                env.get(&var).map(String::as_str),
                Some(format!("${{{{ inputs.{input} }}}}").as_str()),
                "{name}: input {input} is not passed as {var}"
            );
            if SECRETS.contains(&input.as_str()) {
                // A secret reaches relkit through its environment only: a flag would show in
                // process listings. The binary reads it by name (see `forges::token`).
                assert!(
                    !help.contains(&format!("--{input} ")),
                    "{name}: --{input} is a flag"
                );
                assert!(help.contains(&var), "{name}: the help does not name {var}");
                continue;
            }
            assert!(
                help.contains(&format!("--{input} ")),
                "{name}: no --{input} flag"
            );
            assert!(
                help.contains(&format!("[env: {var}=]")),
                "{name}: {var} not read"
            );
        }
        assert_eq!(
            env.len(),
            inputs.len(),
            "{name}: a variable without an input"
        );
    }
}

#[test]
fn no_script_interpolates_an_expression() {
    // Expressions pasted into `run:` are how inputs become shell code (template injection).
    for (name, action) in declared_actions() {
        let steps = action["runs"]["steps"]
            .as_sequence()
            .expect("steps")
            .clone();
        for step in steps {
            if let Some(script) = text(&step, "run") {
                assert!(
                    !script.contains("${{"),
                    "{name}: expression in `run:`\n{script}"
                );
            }
        }
    }
}

/// Inputs an action needs besides its defaults for a run to do something.
fn required(action: &str) -> &'static [(&'static str, &'static str)] {
    match action {
        "create-release" => &[("prerelease", "auto"), ("forge", "local"), ("token", "")],
        // Checks the deploy file the test writes, without a registry.
        "pin-images" => &[("production-files", "deploy/*.yml"), ("offline", "true")],
        // Promotes the pre-release the create-release step made before it (actions run in
        // name order), as the commits call for.
        // The v1.1.0 the promote-prerelease step makes before it (actions run in name order)
        // is a forward promotion: nothing to open.
        "incident-on-rollback" => &[
            ("rollback-version", "v1.0.0"),
            ("forge", "local"),
            ("token", ""),
        ],
        "promote-prerelease" => &[
            ("pre-release", "latest"),
            ("release-version", "auto"),
            ("forge", "local"),
            ("token", ""),
        ],
        _ => &[],
    }
}

/// The environment GitHub gives the relkit step when every input keeps its default, but for
/// the [`required`] ones.
fn default_env(
    name: &str,
    action: &Value,
    env: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let defaults: BTreeMap<String, String> = map(action, "inputs")
        .into_iter()
        .map(|(input, spec)| {
            let value = required(name)
                .iter()
                .find(|(i, _)| *i == input)
                .map_or_else(|| text(&spec, "default").unwrap_or_default(), |(_, v)| v)
                .to_owned();
            (format!("${{{{ inputs.{input} }}}}"), value)
        })
        .collect();
    env.iter()
        .map(|(var, expr)| {
            let value = defaults
                .get(expr)
                .unwrap_or_else(|| panic!("{var}: `{expr}` is not an input"));
            (var.clone(), value.clone())
        })
        .collect()
}

/// The sample repository with a production deploy file that follows the release rules.
fn with_deploy_file() -> Result<relkit_testkit::GitRepo, std::io::Error> {
    let repo = scenario::product();
    std::fs::create_dir_all(repo.path().join("deploy"))?;
    std::fs::write(
        repo.path().join("deploy/compose.yml"),
        "services:\n  app:\n    image: ghcr.io/acme/app:v1.2.3\n",
    )?;
    Ok(repo)
}

#[test]
fn with_default_inputs_the_step_runs_and_writes_every_declared_output() -> TestResult {
    let repo = with_deploy_file()?;
    for (name, action) in actions() {
        let (id, env) = relkit_step(&name, &action);
        let runner = Runner::github();
        let out = run(runner
            .relkit(&[&name])
            .envs(default_env(&name, &action, &env))
            .current_dir(repo.path()))
        .expect_code(0);
        assert!(out.errors().is_empty(), "{name}: {}", out.stdout);

        let written: Vec<String> = runner.outputs().into_iter().map(|(n, _)| n).collect();
        let declared = map(&action, "outputs");
        for (output, spec) in &declared {
            assert_eq!(
                text(spec, "value"),
                Some(format!("${{{{ steps.{id}.outputs.{output} }}}}").as_str()),
                "{name}: output {output}"
            );
            assert!(
                written.contains(output),
                "{name}: {output} is never written"
            );
        }
        assert_eq!(written.len(), declared.len(), "{name}: undeclared outputs");
    }
    Ok(())
}

/// The example workflows under `examples/workflows/`: each relkit step names an action that
/// exists, passes only inputs it declares, and reads only outputs it declares.
#[test]
fn the_example_workflows_use_the_actions_as_declared() {
    let actions = declared_actions();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workflows");
    let mut checked = 0;
    for forge in ["github", "gitea"] {
        let dir = root.join(forge);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("read examples/workflows")
            .map(|e| e.expect("list").path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{}", dir.display());
        for file in files {
            let name = file.display().to_string();
            let source = std::fs::read_to_string(&file).expect("read a workflow");
            let workflow: Value = yaml_serde::from_str(&source).expect("a workflow is YAML");
            for (_, job) in map(&workflow, "jobs") {
                let steps = job
                    .get("steps")
                    .and_then(Value::as_sequence)
                    .expect("steps");
                let mut outputs: BTreeMap<String, String> = BTreeMap::new();
                for step in steps {
                    let Some(action) = relkit_uses(&actions, step, &name) else {
                        continue;
                    };
                    if let Some(id) = text(step, "id") {
                        outputs.insert(id.to_owned(), action.to_owned());
                    }
                    checked += 1;
                }
                // `steps.ID.outputs.NAME` read anywhere in the job names a declared output.
                let job_text = yaml_serde::to_string(&job).expect("serialise");
                for (id, action) in &outputs {
                    let prefix = format!("steps.{id}.outputs.");
                    let declared: Vec<String> = map(&actions[action], "outputs")
                        .into_iter()
                        .map(|(o, _)| o)
                        .collect();
                    for (at, _) in job_text.match_indices(&prefix) {
                        let rest = &job_text[at + prefix.len()..];
                        let output: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                            .collect();
                        assert!(
                            declared.contains(&output),
                            "{name}: {action} has no output {output}"
                        );
                    }
                }
            }
        }
    }
    assert!(checked >= 8, "{checked} relkit steps");
}

/// The README's YAML snippets parse, and each relkit step in them passes only inputs its action
/// declares.
#[test]
fn the_readme_snippets_use_the_actions_as_declared() {
    let actions = declared_actions();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut steps_checked = 0;
    for (n, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let block = block.split("```").next().unwrap_or_default();
        let parsed: Value = yaml_serde::from_str(block)
            .unwrap_or_else(|e| panic!("README YAML block {n} does not parse: {e}\n{block}"));
        let context = format!("README block {n}");
        steps_checked += parsed
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|step| relkit_uses(&actions, step, &context))
            .count();
    }
    assert!(
        steps_checked >= 3,
        "{steps_checked} relkit steps in the README"
    );
}

/// The relkit action a step uses (`relkit/relkit/actions/NAME@REF` is `actions/NAME`,
/// `relkit/relkit@REF` is `""`), after checking that it exists and that the step passes only
/// inputs it declares; `None` for other steps.
fn relkit_uses<'s>(
    actions: &BTreeMap<String, Value>,
    step: &'s Value,
    context: &str,
) -> Option<&'s str> {
    let action = text(step, "uses")?
        .strip_prefix("relkit/relkit")?
        .split('@')
        .next()?;
    let action = action.strip_prefix('/').unwrap_or(action);
    let declared = actions
        .get(action)
        .unwrap_or_else(|| panic!("{context}: no action {action}"));
    let inputs: Vec<String> = map(declared, "inputs")
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    for (input, _) in map(step, "with") {
        assert!(
            inputs.contains(&input),
            "{context}: {action} has no input {input}"
        );
    }
    Some(action)
}

/// Every action's first step finds or builds relkit with `dist/install.sh`, by its path from the
/// action's own directory, and says where the binary is.
#[test]
fn every_action_installs_relkit_with_dist_install() {
    for (path, action) in declared_actions() {
        let install = step(&action, "install");
        assert_eq!(
            install["env"]["ACTION_PATH"].as_str(),
            Some("${{ github.action_path }}"),
            "{path:?}"
        );
        let script = text(install, "run").expect("a script");
        let action_path = source_root().join(&path);
        // Without relkit or cargo on PATH the step reaches dist/install.sh by its path from
        // the action, which says what is missing.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = run(Runner::github()
            .bash(script)
            .env("ACTION_PATH", &action_path)
            .env("PATH", crate::install::tools(dir.path(), &[])))
        .expect_code(1);
        assert!(
            out.stderr.contains("relkit is not installed"),
            "{path:?}: {}",
            out.stderr
        );

        // A runner that sets no action path: relkit on PATH, or an error saying so.
        let bare = tempfile::tempdir().expect("a temporary directory");
        let out = run(Runner::github()
            .bash(script)
            .env("ACTION_PATH", "")
            .env("PATH", crate::install::tools(bare.path(), &[])))
        .expect_code(1);
        assert!(
            out.stdout
                .contains("::error title=relkit is not installed::")
                && out.stdout.contains("sets no action path"),
            "{path:?}: {}",
            out.stdout
        );
        let runner = Runner::github();
        run(runner.bash(script).env("ACTION_PATH", "")).expect_code(0);
        assert_eq!(runner.output("bin"), binary().display().to_string());

        let runner = Runner::github();
        let out = run(runner.bash(script).env("ACTION_PATH", &action_path)).expect_code(0);
        assert_eq!(
            runner.output("bin"),
            binary().display().to_string(),
            "{path:?}: {}",
            out.stderr
        );
        if path.ends_with(SETUP) {
            assert_eq!(runner.output("version"), env!("CARGO_PKG_VERSION"));
            let dir = binary()
                .parent()
                .expect("a directory")
                .display()
                .to_string();
            assert_eq!(runner.path_added(), [dir]);
            for (output, spec) in map(&action, "outputs") {
                let value = text(&spec, "value").expect("a value");
                let read = value
                    .strip_prefix("${{ steps.install.outputs.")
                    .and_then(|v| v.strip_suffix(" }}"))
                    .unwrap_or_else(|| panic!("setup output {output}: {value}"));
                runner.output(read);
            }
        } else {
            assert!(runner.path_added().is_empty(), "{path:?} changes PATH");
        }
    }
}

/// The root action: `command` picks the subcommand and `args` gives its flags one per line;
/// its outputs are every command's.
#[test]
fn the_root_action_runs_any_command_with_its_flags() -> TestResult {
    let root = parse(&source_root().join("action.yml"));
    let mut expected: Vec<String> = actions()
        .iter()
        .flat_map(|(_, action)| map(action, "outputs").into_iter().map(|(o, _)| o))
        .collect();
    // Commands share some names (`version`, `commit`, `notes`): one output serves them all.
    expected.sort();
    expected.dedup();
    let mut declared = Vec::new();
    for (output, spec) in map(&root, "outputs") {
        assert_eq!(
            text(&spec, "value"),
            Some(format!("${{{{ steps.run.outputs.{output} }}}}").as_str())
        );
        declared.push(output);
    }
    declared.sort();
    assert_eq!(
        declared, expected,
        "the root action declares every command's outputs"
    );

    let relkit_step = step(&root, "run");
    let inputs: Vec<String> = map(&root, "inputs").into_iter().map(|(i, _)| i).collect();
    assert_eq!(inputs, ["command", "args", "token"]);
    for input in &inputs {
        assert_eq!(
            relkit_step["env"][variable(input).as_str()].as_str(),
            Some(format!("${{{{ inputs.{input} }}}}").as_str())
        );
    }
    let script = text(relkit_step, "run").expect("a script");

    let repo = with_deploy_file()?;
    let step_run = |command: &str, args: &str| {
        let runner = Runner::github();
        let out = run(runner
            .bash(script)
            .env("RELKIT_COMMAND", command)
            .env("RELKIT_ARGS", args)
            .env("RELKIT_TOKEN", "")
            .env("RELKIT_BIN", binary())
            .current_dir(repo.path()));
        (runner, out)
    };

    // Blank lines and the spaces around an argument do not count.
    let (runner, out) = step_run(
        "pin-images",
        "check\n  --production-files=deploy/*.yml  \n--offline\n\n",
    );
    let out = out.expect_code(0);
    assert!(out.errors().is_empty(), "{}", out.stdout);
    assert_eq!(runner.output("images"), "1");
    assert_eq!(runner.output("errors"), "0");

    let (_, out) = step_run("pin-image", "");
    let errors = out.expect_code(2).errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].data.contains("'pin-image'"), "{:?}", errors[0]);

    // An argument is never read by a shell.
    let marker = repo.path().join("ran");
    let (_, out) = step_run(
        "pin-images",
        &format!("check\n--production-files=$(touch {})", marker.display()),
    );
    out.expect_code(2);
    assert!(!marker.exists(), "an argument ran as shell code");
    Ok(())
}
