//! `logwrap --generate`: the shell completions and the man page made from the
//! clap definition, checked by the programs that read them (bash, man;
//! zsh and fish where installed).

use std::io::Write;
use std::process::{Command, Stdio};

/// The generated text for `what`.
fn generate(what: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_logwrap"))
        .args(["--generate", what])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `program args` with `input` on stdin; `None` when the program is
/// not installed (the caller says so and skips).
fn run_with_input(program: &str, args: &[&str], input: &str) -> Option<std::process::Output> {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("{program}: {e}"),
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    // A program that exits without reading (not installed) closes the pipe.
    let written = writer.join().unwrap();
    assert!(
        written.is_ok() || out.status.code() == Some(127),
        "{program}: {written:?}"
    );
    Some(out)
}

#[test]
fn bash_completion_parses_and_completes_options_and_values() {
    let script = generate("complete-bash");
    let Some(check) = run_with_input("bash", &["-n"], &script) else {
        eprintln!("SKIPPED: bash is not installed");
        return;
    };
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Load it and ask it what a user's Tab would get.
    let probe = format!(
        "{script}\n\
         COMP_WORDS=(logwrap --otlp-prot); COMP_CWORD=1; _logwrap logwrap --otlp-prot logwrap\n\
         printf 'option %s\\n' \"${{COMPREPLY[@]}}\"\n\
         COMP_WORDS=(logwrap --generate ''); COMP_CWORD=2; _logwrap logwrap '' --generate\n\
         printf 'value %s\\n' \"${{COMPREPLY[@]}}\"\n"
    );
    let out = run_with_input("bash", &["-s"], &probe).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("option --otlp-protocol\n"), "{text}");
    for value in ["complete-bash", "complete-zsh", "complete-fish", "man"] {
        assert!(text.contains(&format!("value {value}\n")), "{text}");
    }
}

#[test]
fn man_page_renders_with_every_option() {
    let page = generate("man");
    assert!(
        page.contains(".TH logwrap"),
        "{}",
        &page[..page.len().min(400)]
    );
    // A locale every Debian has (no "can't set the locale" on stderr), and
    // lines wide enough that no option name is broken or hyphenated.
    let Some(out) = run_with_input(
        "env",
        &["LC_ALL=C.UTF-8", "MANWIDTH=400", "man", "-l", "-"],
        &page,
    )
    .filter(|o| o.status.code() != Some(127)) else {
        eprintln!("SKIPPED: man is not installed (apt-get install man-db)");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l -: {warnings}");
    assert!(warnings.trim().is_empty(), "groff warned: {warnings}");
    assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
    use clap::CommandFactory;
    // Hidden options (a former name kept working) are not documented.
    for arg in logwrap::cli::Cli::command()
        .get_arguments()
        .filter(|a| !a.is_hide_set())
    {
        if let Some(long) = arg.get_long() {
            assert!(
                text.contains(&format!("--{long}")),
                "--{long} is not in the page"
            );
        }
    }
}

#[test]
fn zsh_and_fish_completions_parse_where_those_shells_exist() {
    for (what, shell, args) in [
        ("complete-zsh", "zsh", &["-n"][..]),
        ("complete-fish", "fish", &["--no-execute"][..]),
    ] {
        let script = generate(what);
        assert!(script.contains("--otlp-endpoint"), "{what}");
        match run_with_input(shell, args, &script) {
            None => eprintln!("SKIPPED: {shell} is not installed; only generated {what}"),
            Some(out) => assert!(
                out.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}
