//! A local store keeps its copy of a PDF without doubling the disk where
//! the filesystem can: a reflink (copy-on-write clone: btrfs, XFS, bcachefs,
//! ZFS 2.2) shares the blocks until one side changes; elsewhere a plain
//! copy. Never a hard link: Zotero may rewrite a PDF in place (annotations
//! saved into the file), which would change the stored copy behind its
//! checksum.

use std::path::Path;

/// How the copy was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloned {
    /// The blocks are shared with the source until either changes.
    Reflink,
    Copy,
}

/// Copy `from` to `to` (replaced atomically through a temporary file
/// beside it), as a reflink when the filesystem makes one.
pub fn clone_or_copy(from: &Path, to: &Path) -> std::io::Result<Cloned> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = to.with_file_name(format!(".{name}.recto-tmp"));
    let made = reflink(from, &tmp).or_else(|_| std::fs::copy(from, &tmp).map(|_| Cloned::Copy));
    let made = made.and_then(|how| std::fs::rename(&tmp, to).map(|()| how));
    if made.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    made
}

/// `FICLONE`: the whole file as a copy-on-write clone (Linux).
#[cfg(target_os = "linux")]
fn reflink(from: &Path, to: &Path) -> std::io::Result<Cloned> {
    use std::os::fd::AsRawFd;
    const FICLONE: libc::c_ulong = 0x4004_9409;
    let src = std::fs::File::open(from)?;
    let dst = std::fs::File::create(to)?;
    // SAFETY: two open descriptors; the ioctl only reads their numbers.
    let r = unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE, src.as_raw_fd()) };
    if r == 0 {
        Ok(Cloned::Reflink)
    } else {
        let e = std::io::Error::last_os_error();
        drop(dst);
        let _ = std::fs::remove_file(to);
        Err(e)
    }
}

#[cfg(not(target_os = "linux"))]
fn reflink(_: &Path, _: &Path) -> std::io::Result<Cloned> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_is_independent_of_the_source() {
        let dir = std::env::temp_dir().join(format!("recto-clone-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.pdf"), dir.join("sub/b.pdf"));
        std::fs::write(&a, b"%PDF-1.7 original").unwrap();
        let how = clone_or_copy(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"%PDF-1.7 original");
        // Whatever the filesystem made, it is no hard link: rewriting the
        // source in place leaves the copy as it was.
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(&a).unwrap();
        f.write_all(b"%PDF-1.7 EDITED!").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&b).unwrap(), b"%PDF-1.7 original", "{how:?}");
        assert_eq!(std::fs::read_dir(dir.join("sub")).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
