//! Which files `moon86 test` runs: each PATH is a `.lua` file or a directory
//! searched recursively for `*_test.lua` and `test_*.lua`. The list is sorted
//! and free of duplicates, so runs (and shards) are deterministic.

use std::path::{Path, PathBuf};

/// Whether a file name inside a searched directory names a test file.
fn is_test_name(name: &str) -> bool {
    name.ends_with(".lua") && (name.ends_with("_test.lua") || name.starts_with("test_"))
}

fn search(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read '{}': {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read '{}': {e}", dir.display()))?;
        let path = entry.path();
        // Symbolic links to directories are not followed (no loops).
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        if kind.is_dir() {
            search(&path, out)?;
        } else if entry.file_name().to_str().is_some_and(is_test_name) {
            out.push(path);
        }
    }
    Ok(())
}

/// The test files under `paths`, sorted; an error for a path that does not
/// exist, a file that is not `.lua`, or when nothing is found.
pub fn find_test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        let meta =
            std::fs::metadata(p).map_err(|e| format!("cannot read '{}': {e}", p.display()))?;
        if meta.is_dir() {
            search(p, &mut files)?;
        } else if p.extension().is_some_and(|x| x == "lua") {
            files.push(p.clone());
        } else {
            return Err(format!(
                "'{}' is neither a .lua file nor a directory",
                p.display()
            ));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err("no test files found (looked for *_test.lua and test_*.lua)".into());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::is_test_name;

    #[test]
    fn test_file_names() {
        assert!(is_test_name("cpu_test.lua"));
        assert!(is_test_name("test_cpu.lua"));
        assert!(!is_test_name("helper.lua"));
        assert!(!is_test_name("test_notes.txt"));
    }
}
