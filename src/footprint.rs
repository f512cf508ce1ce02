//! Keeps logwrap's resident memory down to what it uses once running.
//!
//! Start-up runs code that is never needed again: argument and config
//! parsing, resource detection, the HTTP/TLS client set-up, the first
//! connection. The kernel maps a program's pages around each fault
//! (`fault_around_bytes`, 64 KiB), so this code, spread over the whole
//! `.text`, leaves 4-5 MiB of logwrap's binary resident (more than half its
//! RSS) while an idle logwrap re-touches about 0.5 MiB of it.
//!
//! [`Release::apply`] drops this process's page-table entries for the read-only
//! segments (code, constants) of the executable and the libraries loaded
//! with it, with `madvise(MADV_DONTNEED)`. The pages themselves stay in the
//! page cache, shared with any other process mapping the same file; the next
//! access maps them again (a minor fault). Nothing is lost, because only
//! pages that are the file's own are dropped:
//! - only segments without write permission, of objects with no text
//!   relocations, taken from the dynamic loader's list ([`read_only_segments`])
//!   when the program starts: those objects are never unloaded, so their
//!   addresses cannot be reused by anything else;
//! - only where `/proc/self/smaps` shows the mapping private, file-backed and
//!   without a single anonymous (copy-on-write) page: a page a debugger or a
//!   uprobe patched is a private copy, and its whole mapping is left alone.
//!
//! There is no crate for this; it is one `madvise(2)` per part of a segment
//! that lies in one such mapping.

use std::io;
use std::ops::Range;

/// Read-only segments of the loaded ELF objects, page-aligned inwards.
#[derive(Debug)]
pub struct Segments(Vec<Range<usize>>);

/// The ranges a release will drop, worked out in advance so that nothing
/// but the `madvise` calls runs after them: any code run afterwards maps its
/// pages again, 64 KiB at a time (reading /proc/self/status and logging
/// after the calls kept ~0.7 MiB more resident).
#[derive(Debug)]
pub struct Release {
    ranges: Vec<Range<usize>>,
    /// The process's file-backed RSS (`RssFile` of /proc/self/status) now;
    /// None where the kernel does not give it (before 4.5, gVisor).
    pub rss_file_kib_before: Option<u64>,
}

/// The read-only `PT_LOAD` segments of every object loaded now. Call it at
/// the top of `main`, before anything can be `dlopen`ed: the objects loaded
/// with the program are never unloaded, so their ranges stay theirs.
pub fn read_only_segments() -> Segments {
    let mut found = Vec::new();
    // SAFETY: dl_iterate_phdr calls `collect` with valid `dl_phdr_info`
    // pointers while holding the loader's lock, and `found` outlives the call.
    unsafe {
        libc::dl_iterate_phdr(Some(collect), (&mut found as *mut Vec<_>).cast());
    }
    Segments(found)
}

/// An entry of `.dynamic` (`ElfN_Dyn`: two words of the target's width);
/// the libc crate names neither it nor these gABI tags.
#[repr(C)]
#[derive(Clone, Copy)]
struct Dyn {
    tag: isize,
    value: usize,
}
const DT_NULL: isize = 0;
const DT_TEXTREL: isize = 22;
const DT_FLAGS: isize = 30;
const DF_TEXTREL: usize = 0x4;

/// One loaded object: push its read-only segments, unless it is the vDSO
/// or has text relocations (its "read-only" pages were written by the
/// loader).
unsafe extern "C" fn collect(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: see read_only_segments: both pointers are valid for the call.
    let (info, found) = unsafe { (&*info, &mut *data.cast::<Vec<Range<usize>>>()) };
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: the loader gives dlpi_phnum headers at dlpi_phdr.
    let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
    // Addresses wrap like the loader's own arithmetic (a prelinked object's
    // bias may be "negative"); a panic here would abort at start-up.
    let base = info.dlpi_addr as usize;
    let at = |offset| base.wrapping_add(offset as usize);
    // SAFETY: getauxval has no preconditions.
    let vdso = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) } as usize;
    let loads = headers.iter().filter(|h| h.p_type == libc::PT_LOAD);
    if loads
        .clone()
        .any(|h| (at(h.p_vaddr)..at(h.p_vaddr).wrapping_add(h.p_memsz as usize)).contains(&vdso))
    {
        return 0;
    }
    for h in headers.iter().filter(|h| h.p_type == libc::PT_DYNAMIC) {
        let mut entry = at(h.p_vaddr) as *const Dyn;
        loop {
            // SAFETY: PT_DYNAMIC is mapped, aligned and ends with DT_NULL.
            let Dyn { tag, value } = unsafe { *entry };
            if tag == DT_NULL {
                break;
            }
            if tag == DT_TEXTREL || (tag == DT_FLAGS && value & DF_TEXTREL != 0) {
                return 0;
            }
            // SAFETY: not past DT_NULL yet.
            entry = unsafe { entry.add(1) };
        }
    }
    let page = page_size();
    for h in loads.filter(|h| h.p_flags & libc::PF_W == 0) {
        let start = at(h.p_vaddr);
        // File-backed bytes only; whole pages only, since a neighbouring
        // writable segment may share a boundary page.
        let end = start.wrapping_add(h.p_filesz as usize) / page * page;
        let start = start.next_multiple_of(page);
        if end > start {
            found.push(start..end);
        }
    }
    0
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(1)
}

/// Finds the resident pages of `segments` that smaps shows clean (see the
/// module docs); the error when /proc/self/smaps cannot be read.
pub fn plan_release(segments: &Segments) -> io::Result<Release> {
    let rss_file_kib_before = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status_kib(&status, "RssFile"));
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    Ok(Release {
        ranges: ranges_to_release(&smaps, &segments.0),
        rss_file_kib_before,
    })
}

impl Release {
    /// How many address ranges [`Release::apply`] will give to `madvise`.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Drops the pages; returns how many ranges `madvise` refused (none
    /// expected: the ranges are mapped and not locked).
    pub fn apply(self) -> usize {
        let mut refused = 0;
        for range in &self.ranges {
            // SAFETY: the range lies in a read-only segment of an object that
            // is never unloaded (read_only_segments), inside one mapping that
            // smaps showed private, file-backed and without a single private
            // copy of a page; so every page in it is the page cache's own,
            // and MADV_DONTNEED only drops this process's page-table entries
            // for them.
            let rc = unsafe {
                libc::madvise(
                    range.start as *mut libc::c_void,
                    range.end - range.start,
                    libc::MADV_DONTNEED,
                )
            };
            refused += usize::from(rc != 0);
        }
        refused
    }
}

/// A size field of a /proc/<pid>/status text (`VmRSS`, `RssFile`, ...), in
/// KiB.
pub fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(kib)
}

/// "   123 kB" as 123.
fn kib(value: &str) -> Option<u64> {
    value.trim().trim_end_matches("kB").trim().parse().ok()
}

/// The parts of `segments` that lie in clean file mappings of an smaps text:
/// readable, not writable, private, backed by a file (inode ≠ 0), shown to
/// hold no anonymous page, with no swapped page, not locked, resident.
fn ranges_to_release(smaps: &str, segments: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut push = |mapping: Mapping| {
        if mapping.is_clean() {
            for s in segments {
                let (start, end) = (
                    s.start.max(mapping.range.start),
                    s.end.min(mapping.range.end),
                );
                if start < end {
                    found.push(start..end);
                }
            }
        }
    };
    let mut current: Option<Mapping> = None;
    for line in smaps.lines() {
        if let Some(mapping) = Mapping::from_header(line) {
            if let Some(done) = current.replace(mapping) {
                push(done);
            }
            continue;
        }
        let Some(mapping) = current.as_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "Rss" => mapping.rss_kib = kib(value),
            // A private mapping's own writes are copy-on-write pages, counted
            // as Anonymous (and as Swap once swapped out). The Dirty counts
            // are not about that: they include file pages the page cache has
            // not yet written back (a binary just built), which are the file's.
            "Anonymous" | "Swap" => {
                // Unparsable counts as "not known clean".
                let zero = kib(value) == Some(0);
                mapping.unclean |= !zero;
                mapping.shown_no_anonymous |= key == "Anonymous" && zero;
            }
            "VmFlags" => mapping.unclean |= value.split_whitespace().any(|f| f == "lo"),
            _ => {}
        }
    }
    if let Some(done) = current {
        push(done);
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

    fn is_clean(&self) -> bool {
        self.eligible
            && !self.unclean
            && self.shown_no_anonymous
            && self.rss_kib.is_some_and(|kib| kib > 0)
    }
}

/// By this time start-up is over: the child runs, destinations are set up
/// and the first batch (the start event, after the 1 s batch delay) has
/// normally gone out. Code needed later comes back on its first use.
const STARTUP_SETTLE: std::time::Duration = std::time::Duration::from_secs(3);

/// Drops the resident pages of logwrap's code and constants (see
/// `footprint`); what runs from then on is mapped again on its first use.
/// `cargo bench --bench pipeline`: RSS 8.2-8.8 MiB 1.5 s in, 2.2-2.5 MiB
/// idle at 7 s.
/// It takes well under a millisecond, so it runs on the runtime's thread
/// rather than on a blocking-pool thread that would outlive it.
pub async fn release_after_startup(segments: Segments) {
    tokio::time::sleep(STARTUP_SETTLE).await;
    match plan_release(&segments) {
        Ok(release) => {
            // Logged before, since anything run after the release maps its
            // code again.
            tracing::debug!(
                ranges = release.len(),
                rss_file_kib_before = release.rss_file_kib_before.unwrap_or(0),
                "releasing start-up pages"
            );
            let refused = release.apply();
            if refused > 0 {
                tracing::debug!(refused, "madvise refused some ranges");
            }
        }
        Err(e) => tracing::debug!(error = %e, "cannot release start-up pages"),
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
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd mr mw me
55b3d2900000-55b3d3100000 r-xp 00100000 fe:00 5367829    /usr/local/bin/logwrap
Size:               8192 kB
Rss:                4008 kB
Private_Dirty:      4008 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me
55b3d312f000-55b3d3161000 r--p 007e7000 fe:00 5367829    /usr/local/bin/logwrap
Size:                200 kB
Rss:                 200 kB
Private_Dirty:       200 kB
Anonymous:           200 kB
Swap:                  0 kB
VmFlags: rd mr mw me ac
55b3d3161000-55b3d3168000 rw-p 00818000 fe:00 5367829    /usr/local/bin/logwrap
Rss:                  28 kB
Anonymous:            28 kB
VmFlags: rd wr mr mw me ac
7fb9f9c00000-7fb9f9d00000 r-xp 00000000 fe:00 326279     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1000 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me lo
7fb9f9e00000-7fb9f9e10000 r--p 00000000 fe:00 326280     /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                   0 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
7fb9f9f00000-7fb9f9f10000 r-xp 00000000 fe:00 326281     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
Rss:                  64 kB
Anonymous:             4 kB
VmFlags: rd ex mr mw me
7ffd8e0bc000-7ffd8e0be000 r-xp 00000000 00:00 0          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me de
7ffd8e0c0000-7ffd8e0c1000 r--s 00000000 00:05 1024       /dev/shm/segment
Rss:                   4 kB
Anonymous:             0 kB
7ffd8e0d0000-7ffd8e0d1000 r--p 00000000 fe:00 77        /etc/no-anonymous-line
Rss:                   4 kB
Private_Dirty:         0 kB
";

    #[test]
    fn only_segments_inside_clean_file_mappings_are_released() {
        // The loader's read-only segments: the binary's constants and code
        // (one segment spanning both mappings and the relocated data after
        // them), libc, libm, libgcc, the vDSO, and two more mappings.
        let segments = [
            0x55b3d2800000..0x55b3d3161000,
            0x7fb9f9c00000..0x7fb9f9d00000,
            0x7fb9f9e00000..0x7fb9f9e10000,
            0x7fb9f9f00000..0x7fb9f9f10000,
            0x7ffd8e0bc000..0x7ffd8e0be000,
            0x7ffd8e0c0000..0x7ffd8e0c1000,
            0x7ffd8e0d0000..0x7ffd8e0d1000,
        ];
        assert_eq!(
            ranges_to_release(SMAPS, &segments),
            [
                0x55b3d2800000..0x55b3d2900000,
                0x55b3d2900000..0x55b3d3100000
            ],
            "the binary's constants and its code (its file pages not yet \
             written back: Private_Dirty) are released; its relocated data \
             (anonymous pages), writable data, a locked mapping, an empty one, \
             one holding a patched page, the vDSO, a shared mapping and one \
             whose Anonymous count is missing are left alone"
        );
    }

    #[test]
    fn nothing_outside_the_segments_is_released() {
        let inside = 0x55b3d2880000..0x55b3d2890000;
        assert_eq!(
            ranges_to_release(SMAPS, std::slice::from_ref(&inside)),
            vec![inside]
        );
        assert!(ranges_to_release(SMAPS, &[]).is_empty());
    }

    /// Non-zero, so it lies in .rodata (a read-only segment of this test
    /// binary); larger than the kernel's 64 KiB fault-around window, so the
    /// page in its middle is mapped only when this array is read.
    static CONSTANTS: [u8; 256 * 1024] = [7; 256 * 1024];

    fn page_present(address: usize) -> bool {
        use std::os::unix::fs::FileExt;
        let pagemap = std::fs::File::open("/proc/self/pagemap").unwrap();
        let mut entry = [0u8; 8];
        let page = page_size();
        pagemap
            .read_exact_at(&mut entry, (address / page * 8) as u64)
            .unwrap();
        u64::from_le_bytes(entry) & (1 << 63) != 0
    }

    #[test]
    fn a_released_page_leaves_this_process_and_comes_back_intact() {
        let sum = |a: &[u8]| {
            a.iter()
                .map(|&b| std::hint::black_box(b) as u64)
                .sum::<u64>()
        };
        assert_eq!(sum(&CONSTANTS), 7 * 256 * 1024);
        let middle = CONSTANTS.as_ptr() as usize + 128 * 1024;
        assert!(page_present(middle), "just read");

        let segments = read_only_segments();
        assert!(
            segments.0.iter().any(|s| s.contains(&middle)),
            "the loader lists .rodata as read-only: {segments:?}"
        );
        let release = plan_release(&segments).unwrap();
        assert!(!release.is_empty(), "{release:?}");
        assert_eq!(release.apply(), 0, "madvise refused nothing");
        assert!(!page_present(middle), "the page is no longer mapped");
        assert_eq!(sum(&CONSTANTS), 7 * 256 * 1024, "read again from the file");
        assert!(page_present(middle));
    }
}
