use proptest::prelude::*;
use relkit_testkit::runner::{unescape_data, unescape_property};
use relkit_workflow::{Annotation, escape_data, escape_property};

use crate::common::{TestResult, commands, github, log, reporter};

proptest! {
    #[test]
    fn escaped_data_never_holds_a_line_break(text in any::<String>()) {
        let escaped = escape_data(&text);
        prop_assert!(!escaped.contains(['\r', '\n']));
    }

    #[test]
    fn escaped_properties_hold_no_line_break_colon_or_comma(text in any::<String>()) {
        let escaped = escape_property(&text);
        prop_assert!(!escaped.contains(['\r', '\n', ':', ',']));
    }

    #[test]
    fn data_round_trips_through_the_runners_unescaping(text in any::<String>()) {
        prop_assert_eq!(unescape_data(&escape_data(&text)), text);
    }

    #[test]
    fn properties_round_trip_through_the_runners_unescaping(text in any::<String>()) {
        prop_assert_eq!(unescape_property(&escape_property(&text)), text);
    }

    // Percent signs and the characters escaping introduces are where a decoder that works in
    // several passes goes wrong, so they get a generator of their own.
    #[test]
    fn escape_sequences_in_the_text_survive_a_round_trip(text in "[%0-9A-Fa-f:,\r\n]{0,24}") {
        prop_assert_eq!(unescape_data(&escape_data(&text)), text.clone());
        prop_assert_eq!(unescape_property(&escape_property(&text)), text);
    }

    #[test]
    fn any_annotation_reads_back_as_exactly_one_command(
        message in any::<String>(),
        title in any::<String>(),
        file in any::<String>(),
    ) {
        let annotation = Annotation::warning(message.clone())
            .with_title(title.clone())
            .with_file(file.clone())
            .with_line(7);
        let mut reporter = reporter(&github());
        reporter.annotate(&annotation).expect("the log takes writes");
        let parsed = commands(&log(reporter));
        prop_assert_eq!(parsed.len(), 1);
        prop_assert_eq!(&parsed[0].name, "warning");
        prop_assert_eq!(&parsed[0].data, &message);
        prop_assert_eq!(parsed[0].properties.get("line").map(String::as_str), Some("7"));
        // The runner drops an empty property, and trims the list of them as a whole.
        if !file.is_empty() {
            prop_assert_eq!(parsed[0].properties.get("file"), Some(&file));
        }
        if !title.is_empty() && title.trim_end() == title {
            prop_assert_eq!(parsed[0].properties.get("title"), Some(&title));
        }
    }
}

#[test]
fn an_annotation_with_every_property_reads_back_as_written() -> TestResult {
    let annotation = Annotation::error("tag `v1,2` is not: a version\nsee the docs")
        .with_title("bad input: tag")
        .with_file("deploy/prod,eu:1.yaml")
        .with_line(3)
        .with_end_line(4)
        .with_col(5)
        .with_end_col(9);
    let mut reporter = reporter(&github());
    reporter.annotate(&annotation)?;
    let parsed = commands(&log(reporter));

    assert_eq!(parsed.len(), 1);
    let command = &parsed[0];
    assert_eq!(command.name, "error");
    assert_eq!(command.data, "tag `v1,2` is not: a version\nsee the docs");
    let properties: Vec<(&str, &str)> = command
        .properties
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        properties,
        [
            ("col", "5"),
            ("endColumn", "9"),
            ("endLine", "4"),
            ("file", "deploy/prod,eu:1.yaml"),
            ("line", "3"),
            ("title", "bad input: tag"),
        ]
    );
    Ok(())
}
