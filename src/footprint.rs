//! Keeps logwrap's resident memory down to what it uses once running.
//!
//! Start-up runs code that is never needed again: argument and config
//! parsing, resource detection, the HTTP/TLS client set-up, the first
//! connection. The kernel maps a binary's pages around each fault
//! (`fault_around_bytes`, 64 KiB), so this code, spread over the whole
//! `.text`, leaves 4-5 MiB of logwrap's own pages mapped (more than half its
//! idle RSS) while an idle sidecar re-touches about 0.5 MiB of them.
//!
//! [`release_clean_file_pages`] unmaps the pages of read-only file mappings
//! (the binary's code and constants, shared libraries) that hold no private
//! copy. This is what the kernel's own reclaim does to such pages under
//! memory pressure: the contents stay in the page cache, shared, and the next
//! access maps them again (a minor fault). Pages a mapping has written
//! (relocated data, anything copy-on-write) are never touched: a mapping with
//! any anonymous (copy-on-write) page is skipped whole.
//!
//! There is no crate for this; it is one `madvise(2)` per mapping chosen from
//! `/proc/self/smaps`.

use std::io;
use std::ops::Range;

/// What a release did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Released {
    /// Mappings whose pages were unmapped.
    pub mappings: usize,
    /// Their resident size just before, in bytes.
    pub resident_bytes: u64,
}

/// Unmaps the resident pages of every clean, private, read-only file mapping
/// of this process (see the module docs). Linux only; elsewhere `/proc` is
/// missing and this returns the error.
pub fn release_clean_file_pages() -> io::Result<Released> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = Released::default();
    for (range, resident_bytes) in clean_file_mappings(&smaps) {
        // SAFETY: the range is one whole mapping that smaps shows as private,
        // not writable, file-backed and without a single anonymous page, so
        // every page is the page cache's own (none is a private copy). MADV_DONTNEED on such
        // a mapping only drops this process's page-table entries; the next
        // access reads the page cache again, as after the kernel's reclaim.
        // Nothing in logwrap makes such a mapping writable afterwards.
        let rc = unsafe {
            libc::madvise(
                range.start as *mut libc::c_void,
                range.end - range.start,
                libc::MADV_DONTNEED,
            )
        };
        if rc == 0 {
            released.mappings += 1;
            released.resident_bytes += resident_bytes;
        }
    }
    Ok(released)
}

/// The mappings in an smaps text whose pages can be dropped, with their
/// resident bytes: readable, not writable, private, backed by a file (inode
/// ≠ 0), resident, shown to hold no anonymous (copy-on-write) page, with no
/// swapped page, not locked.
pub fn clean_file_mappings(smaps: &str) -> Vec<(Range<usize>, u64)> {
    let mut found = Vec::new();
    let mut current: Option<Mapping> = None;
    for line in smaps.lines() {
        if let Some(mapping) = Mapping::from_header(line) {
            if let Some(done) = current.replace(mapping) {
                done.push_if_clean(&mut found);
            }
            continue;
        }
        let Some(mapping) = current.as_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let kib = || {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        };
        match key {
            "Rss" => mapping.rss_kib = kib(),
            // A private mapping's own writes are copy-on-write pages, counted
            // as Anonymous (and as Swap once swapped out). The Dirty counts
            // are not ours: they include file pages the page cache has not
            // yet written back (a binary just built), which are safe to drop.
            "Anonymous" | "Swap" => {
                // Unparsable counts as "not known clean".
                let zero = kib() == Some(0);
                mapping.unclean |= !zero;
                mapping.shown_no_anonymous |= key == "Anonymous" && zero;
            }
            "VmFlags" => mapping.unclean |= value.split_whitespace().any(|f| f == "lo"),
            _ => {}
        }
    }
    if let Some(done) = current {
        done.push_if_clean(&mut found);
    }
    found
}

struct Mapping {
    range: Range<usize>,
    eligible: bool,
    rss_kib: Option<u64>,
    unclean: bool,
    /// Taken as clean only when smaps said so, never for lack of evidence.
    shown_no_anonymous: bool,
}

impl Mapping {
    /// `start-end perms offset dev inode [path]`, or None for a field line.
    fn from_header(line: &str) -> Option<Mapping> {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        let perms = fields.next()?.as_bytes();
        let _offset = fields.next()?;
        let _device = fields.next()?;
        let inode = fields.next()?;
        let eligible = perms.len() == 4
            && perms[0] == b'r'
            && perms[1] == b'-'
            && perms[3] == b'p'
            && inode != "0"
            && end > start;
        Some(Mapping {
            range: start..end,
            eligible,
            rss_kib: None,
            unclean: false,
            shown_no_anonymous: false,
        })
    }

    fn push_if_clean(self, found: &mut Vec<(Range<usize>, u64)>) {
        if let (true, false, true, Some(rss)) = (
            self.eligible,
            self.unclean,
            self.shown_no_anonymous,
            self.rss_kib,
        ) && rss > 0
        {
            found.push((self.range, rss * 1024));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped on a real /proc/<logwrap>/smaps (fields trimmed).
    const SMAPS: &str = "\
55b3d2800000-55b3d2900000 r--p 00000000 fe:00 5367829    /usr/local/bin/logwrap
Size:               1024 kB
Rss:                 992 kB
Private_Clean:       992 kB
Private_Dirty:         0 kB
Shared_Dirty:          0 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd mr mw me
55b3d2900000-55b3d3100000 r-xp 00100000 fe:00 5367829    /usr/local/bin/logwrap
Size:               8192 kB
Rss:                4008 kB
Private_Dirty:      4008 kB
Shared_Dirty:          0 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me
55b3d312f000-55b3d3161000 r--p 007e7000 fe:00 5367829    /usr/local/bin/logwrap
Size:                200 kB
Rss:                 200 kB
Private_Dirty:       200 kB
Shared_Dirty:          0 kB
Anonymous:           200 kB
Swap:                  0 kB
VmFlags: rd mr mw me ac
55b3d3161000-55b3d3168000 rw-p 00818000 fe:00 5367829    /usr/local/bin/logwrap
Rss:                  28 kB
Private_Dirty:        28 kB
Anonymous:            28 kB
VmFlags: rd wr mr mw me ac
7fb9f9c00000-7fb9f9d00000 r-xp 00000000 fe:00 326279     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1000 kB
Private_Dirty:         0 kB
Shared_Dirty:          0 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me lo
7fb9f9e00000-7fb9f9e10000 r--p 00000000 fe:00 326280     /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                   0 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
7ffd8e0ba000-7ffd8e0bc000 r--p 00000000 00:00 0          [vvar]
Rss:                   0 kB
Anonymous:             0 kB
7ffd8e0bc000-7ffd8e0be000 r-xp 00000000 00:00 0          [vdso]
Rss:                   8 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me de
7ffd8e0c0000-7ffd8e0c1000 r--s 00000000 00:05 1024       /dev/shm/segment
Rss:                   4 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
7ffd8e0d0000-7ffd8e0d1000 r--p 00000000 fe:00 77        /etc/truncated-smaps
Rss:                   4 kB
";

    #[test]
    fn picks_only_clean_private_read_only_file_mappings() {
        let found = clean_file_mappings(SMAPS);
        assert_eq!(
            found,
            vec![
                (0x55b3d2800000..0x55b3d2900000, 992 * 1024),
                (0x55b3d2900000..0x55b3d3100000, 4008 * 1024),
            ],
            "code whose file pages are not yet written back is picked; \
             relocated data (anonymous pages), writable data, a locked \
             mapping, an empty one, vdso, a shared one, and one whose \
             cleanliness smaps did not show are all left alone"
        );
    }

    #[test]
    fn a_missing_dirty_count_is_not_taken_as_clean() {
        // Rss but no Anonymous line: not shown clean.
        let only_rss =
            "7f0000000000-7f0000001000 r--p 00000000 fe:00 9 /x\nRss: 4 kB\nPrivate_Dirty: 0 kB\n";
        assert!(clean_file_mappings(only_rss).is_empty());
    }

    #[test]
    fn releases_something_and_the_process_still_runs() {
        // Touch this test binary's code first, so that there is something to
        // release, then call it again after the release: the code must come
        // back from the page cache.
        let before = clean_file_mappings(&std::fs::read_to_string("/proc/self/smaps").unwrap());
        assert!(!before.is_empty(), "a test binary has clean code pages");
        let released = release_clean_file_pages().unwrap();
        assert!(
            released.mappings > 0 && released.resident_bytes > 0,
            "{released:?}"
        );
        let again = clean_file_mappings(&std::fs::read_to_string("/proc/self/smaps").unwrap());
        assert!(
            !again.is_empty(),
            "the code ran again, so it is mapped again"
        );
    }
}
