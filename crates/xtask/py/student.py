"""Student handouts from the solution notebooks.

    python student.py make SOLUTION.ipynb STUDENT.ipynb   # write the handout
    python student.py roundtrip SOLUTION.ipynb            # handout + pasted-back solutions == solution?

Cells tagged `solution` are the answers. In the handout a solution code cell becomes a stub
that keeps its `// Hint: …` lines and ends in `todo!("…")`, so everything up to the first stub
still runs and the checks after a stub fail until it is filled in; a solution Markdown cell keeps
its headings and becomes a prompt. Question text, set-up, plots and checks stay as they are.
Cell ids are kept, so a solution can be pasted back cell for cell.
"""
import copy
import json
import sys

import nbformat

TAG = "solution"


def hint_of(source):
    hints = [l.strip()[len("// Hint:"):].strip() for l in source.splitlines() if l.strip().startswith("// Hint:")]
    return " ".join(hints) or "fill in this cell"


def stub(cell):
    new = copy.deepcopy(cell)
    if cell.cell_type == "code":
        keep = [l for l in cell.source.splitlines() if l.strip().startswith("// Hint:")]
        hint = hint_of(cell.source).replace("\\", "\\\\").replace('"', '\\"')
        new.source = "\n".join(keep + ["// Your solution here: replace the `todo!()` below.", f'todo!("{hint}");'])
        new.outputs = []
        new.execution_count = None
    else:
        heads = [l for l in cell.source.splitlines() if l.lstrip().startswith("#")]
        new.source = "\n".join(heads + ["", "> ✏️ **Your answer.** Write your derivation or explanation here, in Markdown with LaTeX."])
    return new


def make(solution):
    nb = nbformat.read(solution, as_version=4)
    out = copy.deepcopy(nb)
    out.cells = [stub(c) if TAG in c.metadata.get("tags", []) else strip(c) for c in nb.cells]
    return nb, out


def strip(cell):
    c = copy.deepcopy(cell)
    if c.cell_type == "code":
        c.outputs = []
        c.execution_count = None
    return c


def main():
    cmd, solution = sys.argv[1], sys.argv[2]
    nb, student = make(solution)
    if cmd == "make":
        nbformat.write(student, sys.argv[3])
        stubs = [i + 1 for i, c in enumerate(student.cells) if TAG in c.metadata.get("tags", []) and c.cell_type == "code"]
        print(json.dumps({"stubs": stubs, "prompts": sum(1 for c in student.cells if TAG in c.metadata.get("tags", []) and c.cell_type == "markdown")}))
        return 0
    # roundtrip: paste every solution cell back by id and compare with the solution
    by_id = {c.id: c for c in nb.cells}
    pasted = [by_id[c.id] if TAG in c.metadata.get("tags", []) else c for c in student.cells]
    same = [(a.cell_type, a.source) for a in pasted] == [(b.cell_type, b.source) for b in nb.cells]
    n = sum(1 for c in nb.cells if TAG in c.metadata.get("tags", []))
    if not same:
        print(f"{solution}: pasting the solutions back does not give the solution notebook")
        return 1
    print(json.dumps({"solution_cells": n}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
