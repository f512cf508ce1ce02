//! With no destination configured, records are printed as JSON lines.

use crate::support::*;

#[tokio::test]
async fn console_is_the_default_and_prints_one_json_object_per_record() {
    let run = run_logwrap([
        "--",
        "sh",
        "-c",
        "echo hello; echo oops >&2; printf 'no newline'",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    // stderr is not passed through raw in console mode, and logwrap is
    // silent when all is well.
    assert_eq!(run.stderr_text(), "");
    let lines: Vec<serde_json::Value> = run
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("each line is a JSON object"))
        .filter(|v| v.get("event_name").is_none())
        .collect();
    assert_eq!(lines.len(), 3);
    let find = |body: &str| {
        lines
            .iter()
            .find(|v| v["body"] == body)
            .unwrap_or_else(|| panic!("{body} missing"))
    };
    assert_eq!(find("hello")["severity_text"], "INFO");
    assert_eq!(find("hello")["attributes"]["log.iostream"], "stdout");
    assert_eq!(find("oops")["severity_number"], 17);
    assert_eq!(find("oops")["attributes"]["log.iostream"], "stderr");
    assert!(
        find("no newline")["observed_time"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}
