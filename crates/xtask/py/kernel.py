"""Start evcxr_jupyter in a persistent, locked build directory (the Rust kernel's launcher).

    python kernel.py EVCXR_JUPYTER --control_file CONNECTION_FILE

The kernel spec that `cargo xtask setup` registers runs this instead of evcxr_jupyter itself.

Why: evcxr compiles each kernel's code in a fresh temporary directory, so every new kernel
recompiled the support crate (20-40 s before the first cell ran; evcxr's `:cache` keeps only
registry crates, and is not used: see the README). Here each kernel gets a *slot*, `target/evcxr/POOL-N/` (EVCXR_TMPDIR), that outlives
it: cargo's own fingerprints then keep the support crate and every dependency built, and rebuild
exactly what changed (an edited source file of the crate is recompiled, nothing stale is run).

Two kernels must never share a slot (each rewrites the slot's source files before building), so
a slot is held by an exclusive lock on `POOL-N.lock` for the kernel's whole life: the lock's file
descriptor is inherited across `exec`, and the kernel's exit releases it. The first free slot is
taken; if all are busy the kernel gets a directory of its own.

POOL is `kernel` unless ELBO_KERNEL_POOL says otherwise (a grader keeps its own slots so that
students' code never builds in the instructors').

Every kernel builds with the settings of `kernel-cargo-config.toml` (beside this file), copied to
`target/evcxr/.cargo/config.toml`, where cargo finds it above each slot.

Every kernel builds the pinned versions: the project's `Cargo.lock` is copied into the slot before
evcxr starts. Without it, cargo resolves the kernel's dependencies afresh against the live
crates.io index whenever a slot's lock lacks them (a kernel without `:dep` empties it): network
access at run time, versions other than those `cargo test` tested, and a rebuild of everything.
"""
import fcntl
import os
import pathlib
import re
import sys
import time

MAX_SLOTS = 8


def install_build_settings(base):
    """Copies the kernels' cargo settings above their build directories (if changed)."""
    want = (pathlib.Path(__file__).with_name("kernel-cargo-config.toml")).read_text()
    config = base / ".cargo" / "config.toml"
    if not config.exists() or config.read_text() != want:
        config.parent.mkdir(parents=True, exist_ok=True)
        tmp = config.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(want)
        os.replace(tmp, config)


def pin_versions(root, slot):
    """Writes the pinned versions (the project's lock, or the packaged support crate's in the
    student bundle) as the slot's `Cargo.lock`; cargo adds the kernel's own crate to it."""
    for lock in (root / "Cargo.lock", root / "crates" / "elbo" / "Cargo.lock"):
        if lock.is_file():
            want = lock.read_bytes()
            dest = slot / "Cargo.lock"
            if not dest.exists() or dest.read_bytes() != want:
                tmp = slot / f"Cargo.lock.{os.getpid()}.tmp"
                tmp.write_bytes(want)
                os.replace(tmp, dest)
            return


def slot_dir(base, pool):
    """The first free slot's directory, locked for this process and its exec'd successor; if
    all are busy, a directory of its own (the build settings still apply there)."""
    for n in range(MAX_SLOTS):
        lock = os.open(base / f"{pool}-{n}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            continue
        os.set_inheritable(lock, True)
        slot = base / f"{pool}-{n}"
        slot.mkdir(exist_ok=True)
        return slot
    spill = base / f"{pool}-spill-{os.getpid()}"
    spill.mkdir(exist_ok=True)
    return spill


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    evcxr, rest = sys.argv[1], sys.argv[2:]
    # The project (or the student bundle, whose kernel spec sets ELBO_ROOT): its target/ holds
    # the build directories.
    root = pathlib.Path(os.environ.get("ELBO_ROOT") or pathlib.Path(__file__).resolve().parents[3])
    pool = os.environ.get("ELBO_KERNEL_POOL", "kernel")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", pool):
        print(f"kernel.py: ELBO_KERNEL_POOL must be a short name of letters, digits, - and _, not {pool!r}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    base = root / "target" / "evcxr"
    base.mkdir(parents=True, exist_ok=True)
    install_build_settings(base)
    if env.get("ELBO_KERNEL_FRESH") == "1":
        # A new, empty build directory: what every kernel had before (the startup benchmark's
        # baseline); evcxr's own temporary directory would miss the build settings.
        slot = base / f"fresh-{os.getpid()}-{time.time_ns()}"
        slot.mkdir()
    else:
        slot = slot_dir(base, pool)
    pin_versions(root, slot)
    env["EVCXR_TMPDIR"] = str(slot)
    os.execvpe(evcxr, [evcxr, *rest], env)


if __name__ == "__main__":
    sys.exit(main())
