//! Tuning of the allocator the binary uses (mimalloc, declared as the global
//! allocator in main.rs): how soon freed memory goes back to the OS.
//!
//! Not in main.rs so that main reads as the program's flow; the
//! `#[global_allocator]` itself stays there, since a library must not impose
//! one on its users (the benchmarks bring their own).

/// mimalloc option numbers (the `mi_option_e` enum of mimalloc 3's
/// mimalloc.h; the crate names only some of them). tests/memory.rs checks
/// that these are the options the MIMALLOC_* variables of the same names set.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ARENA_PURGE_MULT: libmimalloc_sys::mi_option_t = 24;

/// Gives memory that fell free back to the OS after 10 ms (mimalloc 2's
/// default) instead of mimalloc 3's 1 s. At a million lines per second the
/// longer delay held 5-10 MiB of freed pages at any moment: measured with
/// `cargo bench --bench pipeline`, median peak RSS 36 → 31 MiB, CPU within
/// the noise. MIMALLOC_PURGE_DELAY and MIMALLOC_ARENA_PURGE_MULT, when set,
/// still win (mimalloc reads them as the process loads, which is also why
/// its `set_default` would be too late here).
pub fn tune() {
    // mimalloc matches its variables without regard to case and still reads
    // the old name `reset_delay`; a user's setting under any of them wins.
    let user_set = |names: &[&str]| {
        std::env::vars_os().any(|(key, _)| {
            key.to_str()
                .is_some_and(|k| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
        })
    };
    for (option, names, value) in [
        (
            MI_OPTION_PURGE_DELAY,
            &["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"][..],
            10,
        ),
        (
            MI_OPTION_ARENA_PURGE_MULT,
            &["MIMALLOC_ARENA_PURGE_MULT"][..],
            1,
        ),
    ] {
        if !user_set(names) {
            // SAFETY: a plain setter of mimalloc's option table, called
            // before any other thread exists.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

/// The options in effect, for the debug log.
pub fn options() -> (std::ffi::c_long, std::ffi::c_long) {
    // SAFETY: plain getters of mimalloc's option table.
    unsafe {
        (
            libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_PURGE_MULT),
        )
    }
}
