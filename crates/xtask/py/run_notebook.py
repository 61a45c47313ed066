"""Execute one notebook in a fresh kernel, cell by cell, and report each cell as a JSON line.

Used by `cargo xtask test` and `cargo xtask render`; not meant to be run by hand.

evcxr reports a panic or a top-level `?` error as a successful execution whose only trace is
text on stderr, so a cell fails here if it produced an `error` output (compile errors) *or* wrote
anything to stderr, or if a figure or table fell back to its text form. Execution stops at the
first failing cell.

That stderr must be seen deterministically. evcxr forwards the code's stderr to Jupyter from a
separate thread, so it may arrive after the cell has been reported finished — a panicking cell
could then look clean. So before the notebook's own cells the runner executes one hidden cell
that points the kernel process's stderr (file descriptor 2) at a file of ours. A write to a file
has completed when the `write` call returns, and the cell's code returns before evcxr reports the
cell finished, so once `execute_cell` returns, everything the cell wrote to stderr is in the file:
the runner reads what was appended, adds it to the cell as a stderr output, and judges the cell.
"""
import argparse
import json
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# Redirects the kernel process's stderr to the file at the given path (Unix `dup2`). Edition
# 2024 (evcxr's) wants `unsafe extern`.
CAPTURE_STDERR = """{
    unsafe extern "C" { fn dup2(old: i32, new: i32) -> i32; }
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new().append(true).open(%s).expect("the runner's stderr file");
    assert_eq!(unsafe { dup2(f.as_raw_fd(), 2) }, 2, "dup2 onto stderr");
}"""


class StderrFile:
    """The file the kernel's stderr goes to, read cell by cell."""

    def __init__(self, path):
        self.path = path
        open(path, "wb").close()
        self.offset = 0

    def take(self):
        """What was written since the last call."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        return data.decode("utf-8", errors="replace")


def capture_stderr(client, nb, stderr_file):
    """Runs the hidden redirecting cell; returns an error message if it failed."""
    hidden = nbformat.v4.new_code_cell(CAPTURE_STDERR % json.dumps(stderr_file.path))
    nb.cells.insert(0, hidden)
    try:
        client.execute_cell(hidden, 0)
    finally:
        nb.cells.pop(0)
    for out in hidden.get("outputs", []):
        if out.get("output_type") == "error" or out.get("name") == "stderr":
            text = ANSI.sub("", "\n".join(out.get("traceback", [])) or out.get("text", ""))
            return f"could not capture the kernel's stderr: {text.strip()}"
    return None


def restart_and_replay(client, nb, stderr_file, hung, passed_cells):
    """A cell that never ends leaves the kernel busy: restart it, redirect its stderr again and
    re-execute, in order, the cells before `hung` that had passed (their outputs are those of the
    replay). Returns an error message if the replay failed."""
    # A new kernel with a new client, exactly as at the start. Restarting the old kernel under the
    # old client (`km.restart_kernel`) left that client's sockets unable to reach the new kernel:
    # its `wait_for_ready` was seen waiting forever while the kernel sat idle.
    # The old kernel is busy for good: kill it rather than ask it to shut down.
    graceful, client.shutdown_kernel = client.shutdown_kernel, "immediate"
    try:
        client._cleanup_kernel()
    except RuntimeError as e:
        if "No kernel is running" not in str(e):
            raise
    finally:
        client.shutdown_kernel = graceful
    client.km = client.create_kernel_manager()
    client.start_new_kernel()
    client.start_new_kernel_client()
    problem = capture_stderr(client, nb, stderr_file)
    if problem:
        return problem
    for index in passed_cells:
        if index >= hung:
            break
        client.execute_cell(nb.cells[index], index)
        renumber(nb.cells[index], 1)
        if stderr_file.take():
            return f"replaying cell {index + 1} after the restart failed"
    return None


def renumber(cell, hidden_cells):
    """Execution counts as if the hidden cell had not run ("In [1]" is the first real cell)."""
    if cell.get("execution_count"):
        cell.execution_count -= hidden_cells
    for out in cell.get("outputs", []):
        if out.get("execution_count"):
            out["execution_count"] -= hidden_cells


def failure(cell):
    """The failure message of an executed cell, or None if it succeeded."""
    errors = []
    stderr = []
    for out in cell.get("outputs", []):
        plain = out.get("data", {}).get("text/plain", "")
        if "<elbo::Figure" in plain or "<elbo::Table" in plain:
            errors.append(plain.strip())
        if out.get("output_type") == "error":
            tb = "\n".join(out.get("traceback", [])) or f"{out.get('ename')}: {out.get('evalue')}"
            errors.append(ANSI.sub("", tb))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            stderr.append(out.get("text", ""))
    if errors:
        return "\n".join(errors).strip()
    text = ANSI.sub("", "".join(stderr))
    # The backtrace adds nothing for a notebook reader: keep what comes before it.
    text = text.split("stack backtrace:")[0].split("note: run with `RUST_BACKTRACE")[0].strip()
    if stderr:
        return text or "the cell wrote to stderr"
    return None


def emit(**event):
    print(json.dumps(event), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--output", required=True)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    ap.add_argument("--kernel", default="rust")
    ap.add_argument("--cwd", help="the kernel's working directory (default: the notebook's)")
    ap.add_argument("--keep-going", action="store_true", help="execute every cell, even after a failure")
    ap.add_argument("--replay-after-timeout", action="store_true",
                    help="after a cell times out, restart the kernel and re-execute the cells before it "
                         "that passed, so later cells find their state (grading: a hang costs one part)")
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    stderr_file = StderrFile(os.path.abspath(args.output) + ".stderr")
    workdir = args.cwd or os.path.dirname(os.path.abspath(args.notebook))
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        allow_errors=True,
        startup_timeout=120,
        resources={"metadata": {"path": workdir}},
    )
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    emit(event="start", cells=len(nb.cells), code_cells=code_cells)
    failed = False
    start = time.time()
    try:
        with client.setup_kernel():
            problem = capture_stderr(client, nb, stderr_file)
            if problem:
                raise RuntimeError(problem)
            hidden = 1
            code_index = 0
            passed_cells = []
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                code_index += 1
                t0 = time.time()
                message = None
                try:
                    client.execute_cell(cell, index)
                    renumber(cell, hidden)
                    written = stderr_file.take()
                    if written:
                        cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=written))
                    message = failure(cell)
                except CellTimeoutError:
                    message = f"timed out after {args.timeout} s"
                    if args.replay_after_timeout:
                        problem = restart_and_replay(client, nb, stderr_file, index, passed_cells)
                        hidden = 1
                        if problem:
                            message += f"; {problem}"
                except DeadKernelError as e:
                    message = f"the kernel died: {e}"
                if message and "Subprocess terminated" in message:
                    # evcxr restarted its code-running process (a crash): redirect the new one.
                    problem = capture_stderr(client, nb, stderr_file)
                    hidden += 1
                    if problem:
                        message += "\n" + problem
                first = next((l for l in cell.source.splitlines() if l.strip()), "")
                emit(
                    event="cell",
                    cell=index + 1,
                    code_cell=code_index,
                    seconds=round(time.time() - t0, 2),
                    first_line=first[:100],
                    failure=message,
                )
                if message:
                    failed = True
                    if not args.keep_going:
                        break
                else:
                    passed_cells.append(index)
    except Exception as e:  # kernel could not start, etc.
        emit(event="cell", cell=0, code_cell=0, seconds=0, first_line="(kernel start-up)",
             failure=f"{type(e).__name__}: {e}")
        failed = True
    nbformat.write(nb, args.output)
    os.remove(stderr_file.path)
    emit(event="end", seconds=round(time.time() - start, 2), failed=failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
