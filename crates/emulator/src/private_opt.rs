//! A function's own `/opt`, where Lambda puts its layers: its process starts
//! in a mount namespace of its own with the layers' folder bound at `/opt`,
//! while the rest of the machine sees `/opt` as it was. No privilege is
//! needed: unless the host runs as root, the mount namespace sits in a user
//! namespace of the process's own, which maps its user and group to
//! themselves, so the function runs as the same user with the same files.
//! Linux only. Where the machine refuses (no user namespaces, or a policy
//! that keeps them from mounting), `available` says why, and the function
//! finds its layers through its runtime's search paths alone.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// Whether this machine gives a process its own `/opt`: Ok, or why not. Tried once per process.
pub fn available() -> Result<(), String> {
    static TRIED: OnceLock<Result<(), String>> = OnceLock::new();
    TRIED.get_or_init(try_once).clone()
}

/// Whether `path` would be hidden by a folder bound at `/opt`.
pub fn under_opt(path: &Path) -> bool {
    path.starts_with("/opt")
}

/// A shell started with an empty folder at `/opt` must see it empty.
fn try_once() -> Result<(), String> {
    if !Path::new("/opt").is_dir() {
        return Err("this machine has no /opt folder to show them at".into());
    }
    let empty = std::env::temp_dir().join(format!("orderflow-opt-probe-{}", std::process::id()));
    std::fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
    let mut command = Command::new("sh");
    command.args(["-c", "ls -A /opt"]).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let tried = bind_opt(&mut command, &empty).and_then(|()| command.output());
    let _ = std::fs::remove_dir(&empty);
    match tried {
        Ok(out) if out.status.success() && out.stdout.is_empty() => Ok(()),
        Ok(out) => Err(format!("a process given its own /opt saw {:?}", String::from_utf8_lossy(&out.stdout).trim())),
        Err(e) => Err(format!("this machine gives a process no /opt of its own: {e}")),
    }
}

/// `command` starts with `folder` bound at `/opt`, in a mount namespace of its own.
#[cfg(target_os = "linux")]
pub(crate) fn bind_opt(command: &mut Command, folder: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let source = std::ffi::CString::new(folder.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: geteuid and getegid only read the calling process's credentials.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let own_users = uid != 0;
    // Written before the fork: nothing is allocated between fork and exec.
    let (uid_map, gid_map) = (format!("{uid} {uid} 1").into_bytes(), format!("{gid} {gid} 1").into_bytes());
    // SAFETY: the closure runs between fork and exec in a single-threaded
    // child; it only makes system calls (unshare, open, write, close, mount)
    // on memory prepared before the fork, and allocates nothing.
    unsafe {
        command.pre_exec(move || linux::enter(&source, own_users, &uid_map, &gid_map));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn bind_opt(_command: &mut Command, _folder: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "a private /opt needs Linux's mount namespaces"))
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CStr;
    use std::io;
    use std::ptr::null;

    fn checked(result: libc::c_int) -> io::Result<()> {
        if result == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    }

    /// `bytes` written whole to the file at `path`, in one write.
    fn write(path: &CStr, bytes: &[u8]) -> io::Result<()> {
        // SAFETY: path is NUL-terminated; bytes is valid for its length; the
        // descriptor is closed before returning.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
            let error = io::Error::last_os_error();
            libc::close(fd);
            if written != bytes.len() as isize {
                return Err(error);
            }
        }
        Ok(())
    }

    /// In the child, before exec: a mount namespace of its own (in a user
    /// namespace of its own unless root), nothing in it shared back, and
    /// `source` bound at `/opt`.
    pub(super) fn enter(source: &CStr, own_users: bool, uid_map: &[u8], gid_map: &[u8]) -> io::Result<()> {
        let flags = if own_users { libc::CLONE_NEWUSER | libc::CLONE_NEWNS } else { libc::CLONE_NEWNS };
        // SAFETY: unshare and mount take these NUL-terminated paths and null pointers as documented.
        unsafe {
            checked(libc::unshare(flags))?;
            if own_users {
                // Its user and group mapped to themselves; setgroups must be denied first.
                write(c"/proc/self/setgroups", b"deny")?;
                write(c"/proc/self/uid_map", uid_map)?;
                write(c"/proc/self/gid_map", gid_map)?;
            }
            // What is mounted here is never propagated to the machine's own mounts.
            checked(libc::mount(null(), c"/".as_ptr(), null(), libc::MS_REC | libc::MS_PRIVATE, null()))?;
            checked(libc::mount(source.as_ptr(), c"/opt".as_ptr(), null(), libc::MS_BIND | libc::MS_REC, null()))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_process_given_its_own_opt_sees_the_folder_and_the_machine_does_not() {
        if let Err(why) = super::available() {
            // Said, not hidden: the function host then says the same at each start.
            panic!("{why}");
        }
        let folder = std::env::temp_dir().join(format!("orderflow-opt-test-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("marker-of-this-test"), "here").unwrap();
        let mut command = std::process::Command::new("sh");
        command.args(["-c", "cat /opt/marker-of-this-test; id -u"]);
        super::bind_opt(&mut command, &folder).unwrap();
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // SAFETY: geteuid only reads this process's credentials.
        let uid = unsafe { libc::geteuid() };
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("here{uid}\n"));
        assert!(!std::path::Path::new("/opt/marker-of-this-test").exists());
        let _ = std::fs::remove_dir_all(&folder);
    }
}
