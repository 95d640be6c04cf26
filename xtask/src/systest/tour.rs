//! The README's tour as a system test: the shell blocks of its "A
//! five-minute tour" section, run in order as the script
//! `scripts/readme_tour.sh` on both kernels, so that the tour stays true
//! to what the system does.
//!
//! The script stops at the first command that fails (`set -e`, and
//! `pipefail` for a failure inside a pipeline), having printed
//! each line before running it; it ends with `ok - readme_tour/ran_to_the_end`. A
//! prologue gives an initramfs boot what the root image's rcS gives a
//! login shell: /proc, /sys, a /root to write in.

use std::path::Path;

/// The section of README.md holding the tour.
const HEADING: &str = "## A five-minute tour";

/// What runs before the tour's own lines.
const PROLOGUE: &str = "\
# Generated from README.md's tour by xtask/src/systest/tour.rs.
set -e -o pipefail
[ -e /proc/self ] || mount -t proc proc /proc
[ -e /sys/kernel ] || mount -t sysfs sysfs /sys
mkdir -p /root
cd /root
";

/// The tour's commands: every line of the ```sh blocks of the section,
/// each echoed before it runs (`set -x` would print expansions too).
pub fn tour_script(readme: &str) -> Result<String, String> {
    let start = readme.find(HEADING).ok_or(format!("README.md has no \"{HEADING}\""))?;
    let section = &readme[start + HEADING.len()..];
    let section = section.find("\n## ").map_or(section, |end| &section[..end]);
    let mut script = String::from(PROLOGUE);
    let mut in_block = false;
    let mut lines = 0;
    for line in section.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block && line.trim_start() == "```sh";
            continue;
        }
        if !in_block || line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        script += &format!("echo {}\n{line}\n", shell_quote(&format!("+ {line}")));
        lines += 1;
    }
    if lines == 0 {
        return Err("README.md's tour has no ```sh block".to_string());
    }
    script += "echo 'ok - readme_tour/ran_to_the_end'\n";
    Ok(script)
}

/// `text` in single quotes for sh.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The tour script of the README at `root`.
pub fn readme_tour(root: &Path) -> Result<String, String> {
    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    tour_script(&readme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_sh_blocks_of_the_section_only() {
        let readme = "# X\n```sh\nnot this\n```\n## A five-minute tour\ntext\n```sh\n\
                      # a comment\necho 'hi'\n\n```\n```text\nnot output\n```\n```sh\nls /\n```\n\
                      ## Next\n```sh\nnor this\n```\n";
        let script = tour_script(readme).expect("a tour");
        let body = script.strip_prefix(PROLOGUE).expect("the prologue first");
        assert_eq!(
            body,
            "echo '+ echo '\\''hi'\\'''\necho 'hi'\necho '+ ls /'\nls /\n\
             echo 'ok - readme_tour/ran_to_the_end'\n"
        );
    }

    #[test]
    fn the_readme_has_a_tour() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert!(readme_tour(&root).expect("README.md's tour").contains("/proc"));
    }
}
