//! What Lambda's `/opt` holds for a function's layers, as one folder: each
//! layer's content in the order Lambda extracts them, a later layer's file in
//! place of an earlier one's, their folders merged. One layer is its own
//! folder. Several are merged into a folder of links to their files and
//! folders, in the temporary folder, made afresh at each start and removed
//! when the functions stop.

use std::path::{Path, PathBuf};

/// The folder that is `/opt` for `layers` (in Lambda's order), and whether it
/// was made here (to be removed); None for no layers.
pub fn opt_folder(layers: &[PathBuf], name: &str) -> Result<Option<(PathBuf, bool)>, String> {
    match layers {
        [] => Ok(None),
        [one] => Ok(Some((one.clone(), false))),
        _ => {
            let merged = std::env::temp_dir().join(format!("orderflow-opt-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&merged);
            let made = std::fs::create_dir_all(&merged).map_err(|e| e.to_string()).and_then(|()| {
                layers
                    .iter()
                    .try_for_each(|layer| place(layer, &merged).map_err(|e| format!("{}: {e}", layer.display())))
            });
            match made {
                Ok(()) => Ok(Some((merged, true))),
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&merged);
                    Err(format!("its layers could not be merged for /opt: {e}"))
                }
            }
        }
    }
}

/// Every entry of `from` into `into`, as extracting a layer over what is
/// there: a folder new to `into` is linked whole; one `into` has already is
/// merged entry by entry (a linked one made a real folder first); a file
/// replaces what was there.
fn place(from: &Path, into: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), into.join(entry.file_name()));
        let existing = std::fs::symlink_metadata(&target).ok();
        if source.is_dir() {
            match existing {
                None => symlink(&source, &target)?,
                Some(meta) if meta.is_dir() => place(&source, &target)?,
                Some(meta) if meta.file_type().is_symlink() && target.is_dir() => {
                    // An earlier layer's folder, linked whole: made a folder of its own entries.
                    let earlier = std::fs::read_link(&target)?;
                    std::fs::remove_file(&target)?;
                    std::fs::create_dir(&target)?;
                    place(&earlier, &target)?;
                    place(&source, &target)?;
                }
                Some(_) => {
                    std::fs::remove_file(&target)?;
                    symlink(&source, &target)?;
                }
            }
        } else {
            match existing {
                Some(meta) if meta.is_dir() => std::fs::remove_dir_all(&target)?,
                Some(_) => std::fs::remove_file(&target)?,
                None => {}
            }
            symlink(&source, &target)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(source: &Path, target: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(source, target)
}

#[cfg(not(unix))]
fn symlink(source: &Path, target: &Path) -> std::io::Result<()> {
    let _ = (source, target);
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "links need a Unix file system"))
}

#[cfg(test)]
mod tests {
    use super::opt_folder;
    use std::path::Path;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn layers_merge_as_lambda_extracts_them_the_later_file_in_place_of_the_earlier() {
        let root = std::env::temp_dir().join(format!("orderflow-opt-folder-test-{}", std::process::id()));
        let (first, second) = (root.join("first"), root.join("second"));
        write(&first.join("python/shared.py"), "first");
        write(&first.join("python/only_first.py"), "first");
        write(&first.join("bin/tool"), "first");
        write(&first.join("config.json"), "first");
        write(&second.join("python/shared.py"), "second");
        write(&second.join("python/only_second.py"), "second");
        write(&second.join("nodejs/node_modules/pkg/index.js"), "second");
        write(&second.join("config.json"), "second");
        let layers = [first.clone(), second.clone()];

        let (merged, made) = opt_folder(&layers, "Test").unwrap().unwrap();
        assert!(made);
        let read = |path: &str| std::fs::read_to_string(merged.join(path)).unwrap();
        assert_eq!(read("python/shared.py"), "second");
        assert_eq!(read("python/only_first.py"), "first");
        assert_eq!(read("python/only_second.py"), "second");
        assert_eq!(read("bin/tool"), "first");
        assert_eq!(read("nodejs/node_modules/pkg/index.js"), "second");
        assert_eq!(read("config.json"), "second");
        // The layers themselves are untouched.
        assert_eq!(std::fs::read_to_string(first.join("python/shared.py")).unwrap(), "first");
        let mut top: Vec<String> =
            std::fs::read_dir(&merged).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        top.sort();
        assert_eq!(top, ["bin", "config.json", "nodejs", "python"]);

        // One layer is its own folder; none, no /opt.
        assert_eq!(opt_folder(&layers[..1], "Test").unwrap(), Some((first.clone(), false)));
        assert_eq!(opt_folder(&[], "Test").unwrap(), None);
        let _ = std::fs::remove_dir_all(&merged);
        let _ = std::fs::remove_dir_all(&root);
    }
}
