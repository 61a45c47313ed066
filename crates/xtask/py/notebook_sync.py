"""Keep each notebook's two forms in step: notebooks/NAME.rs (a jupytext percent script, the
reviewed source) and notebooks/NAME.ipynb (what Jupyter opens; committed without outputs).

    python notebook_sync.py check DIR          # report drift and committed outputs; exit 1 if any
    python notebook_sync.py write DIR [--from ipynb]   # regenerate one form from the other

Used by `cargo xtask sync` and `cargo xtask test`.
"""
import argparse
import pathlib
import sys

import jupytext
import nbformat

KERNELSPEC = {"name": "rust", "display_name": "Rust", "language": "rust"}
LANGUAGE_INFO = {
    "name": "Rust",
    "file_extension": ".rs",
    "mimetype": "text/rust",
    "codemirror_mode": "rust",
    "pygment_lexer": "rust",
    "version": "",
}
# Keep the .rs free of a metadata header, and cell metadata to tags only.
JUPYTEXT = {"formats": "ipynb,rs:percent", "notebook_metadata_filter": "-all", "cell_metadata_filter": "tags,-all"}


def cells(nb):
    return [(c.cell_type, c.source.strip("\n"), tuple(c.metadata.get("tags", []))) for c in nb.cells]


def canonical(src):
    """A clean notebook with the cells of `src`: stable ids, tags only, no outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO), "jupytext": dict(JUPYTEXT)}
    for i, c in enumerate(src.cells):
        meta = {"tags": list(c.metadata["tags"])} if c.metadata.get("tags") else {}
        source = c.source.strip("\n")
        if c.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=meta)
        elif c.cell_type == "code":
            new = nbformat.v4.new_code_cell(source, metadata=meta)
        else:
            new = nbformat.v4.new_raw_cell(source, metadata=meta)
        new.id = f"cell-{i + 1}"
        nb.cells.append(new)
    return nb


def pairs(directory, only=None):
    d = pathlib.Path(directory)
    names = sorted({p.stem for p in d.glob("*.rs")} | {p.stem for p in d.glob("*.ipynb")})
    names = [n for n in names if only is None or only in n]
    return [(n, d / f"{n}.rs", d / f"{n}.ipynb") for n in names]


def check(directory, only=None):
    problems = []
    for name, rs, ipynb in pairs(directory, only):
        if not rs.exists():
            problems.append(f"{ipynb}: no paired {rs.name}; run `cargo xtask sync --from ipynb`")
            continue
        if not ipynb.exists():
            problems.append(f"{rs}: no paired {ipynb.name}; run `cargo xtask sync`")
            continue
        nb = nbformat.read(ipynb, as_version=4)
        for i, c in enumerate(nb.cells):
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None):
                problems.append(f"{ipynb}: cell {i + 1} is committed with outputs; run `cargo xtask sync` to strip them")
                break
        a, b = cells(jupytext.read(rs)), cells(nb)
        if a != b:
            where = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            problems.append(
                f"{rs.name} and {ipynb.name} have drifted apart (first difference at cell {where + 1}): "
                "run `cargo xtask sync` (from the .rs) or `cargo xtask sync --from ipynb`"
            )
    for p in problems:
        print(p)
    return 1 if problems else 0


def write(directory, source):
    for name, rs, ipynb in pairs(directory):
        if source == "rs" and rs.exists():
            nb = canonical(jupytext.read(rs))
            nbformat.write(nb, ipynb)
            jupytext.write(nb, rs, fmt="rs:percent")
            print(f"sync: {rs.name} -> {ipynb.name}")
        elif source == "ipynb" and ipynb.exists():
            nb = canonical(nbformat.read(ipynb, as_version=4))
            jupytext.write(nb, rs, fmt="rs:percent")
            nbformat.write(nb, ipynb)
            print(f"sync: {ipynb.name} -> {rs.name}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["check", "write"])
    ap.add_argument("directory")
    ap.add_argument("--from", dest="source", choices=["rs", "ipynb"], default="rs")
    ap.add_argument("--only", help="only notebooks whose name contains this")
    args = ap.parse_args()
    return check(args.directory, args.only) if args.command == "check" else write(args.directory, args.source)


if __name__ == "__main__":
    sys.exit(main())
