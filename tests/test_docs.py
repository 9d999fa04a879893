"""The repository stands alone and its documentation matches its code.

- every threshold name in myeloma_model/thresholds.py is documented in docs/clinical-model.md,
  with the value the code uses;
- no file refers to a path outside the repository (the rules live in docs/, not elsewhere);
- every reference to a document of docs/ (file and #anchor) resolves.
"""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLINICAL_MODEL = DOCS / "clinical-model.md"
THRESHOLDS = ROOT / "myeloma_model" / "thresholds.py"
TEXT_SUFFIXES = {".py", ".md", ".json", ".toml", ".yaml", ".yml", ".txt", ".cfg", ".ini", ".sh", ".js", ".mjs",
                 ".html", ".css", ".sql"}
SKIPPED = ("frontend/package-lock.json",)
# A reference outside the repository, in any of four forms: a relative path that climbs above
# the repository root, an absolute path into the folder that holds the repository, an absolute
# path to a markdown document elsewhere, or the name of a markdown document the repository does
# not have.
RELATIVE_PATH = re.compile(r"(?<![\w/.])((?:\.\./)+[\w.-]+(?:/[\w.-]+)*)")
ABSOLUTE_MD = re.compile(r"(?<![\w:/.])(/[\w.-]+(?:/[\w.-]+)*\.md)\b")
MD_NAME = re.compile(r"(?<![\w/.:-])([\w-]+\.md)\b")
DOC_REF = re.compile(r"docs/([\w-]+\.md)((?:#[\w-]+)(?:,\s*#[\w-]+)*)?")
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def repository_files() -> list[Path]:
    """Tracked text files (git ls-files), else every text file outside hidden and build dirs."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
        paths = [ROOT / p for p in out]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if not any(part.startswith(".") or part == "node_modules"
                                                      for part in p.relative_to(ROOT).parts)]
    return [p for p in paths if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.name in ("Dockerfile",))
            and str(p.relative_to(ROOT)) not in SKIPPED and "node_modules" not in p.parts
            and "static" not in p.relative_to(ROOT).parts[:3]]


def threshold_values() -> dict[str, float]:
    """Module-level UPPERCASE names of thresholds.py and their numeric values."""
    tree = ast.parse(THRESHOLDS.read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper():
                value = node.value
                out[target.id] = value.value if isinstance(value, ast.Constant) else None
    return out


def anchors(doc: Path) -> set[str]:
    """Explicit <a id> anchors and GitHub heading slugs of a markdown file."""
    text = doc.read_text(encoding="utf-8")
    ids = set(re.findall(r'<a id="([\w-]+)"></a>', text))
    for heading in re.findall(r"^#+\s+(.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        ids.add(slug)
    return ids


def test_threshold_module_is_parsed():
    values = threshold_values()
    assert len(values) > 40
    assert values["REFRACTORY_WINDOW_DAYS"] == 60


def test_every_threshold_name_is_documented_in_the_clinical_model():
    text = CLINICAL_MODEL.read_text(encoding="utf-8")
    missing = [name for name in threshold_values() if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"thresholds not in docs/clinical-model.md#thresholds: {missing}"


def test_the_documented_threshold_values_are_the_code_values():
    """The table row of each name starts its value cell with the number the code uses (a
    percentage may be written as such: 25 % for 0.25)."""
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", CLINICAL_MODEL.read_text(encoding="utf-8"), flags=re.M))
    wrong = []
    for name, value in threshold_values().items():
        if name not in rows or not isinstance(value, (int, float)):
            continue
        number = re.match(r"\s*(\d+(?:\.\d+)?)", rows[name])
        assert number, f"{name}: no number in the table cell {rows[name]!r}"
        documented = float(number.group(1))
        percent = "%" in rows[name]
        if not (abs(documented - value) < 1e-9 or (percent and abs(documented / 100 - value) < 1e-9)):
            wrong.append(f"{name}: code {value}, docs {rows[name].strip()}")
    assert not wrong, wrong


def test_clinical_model_anchors_are_unique():
    ids = re.findall(r'<a id="([\w-]+)"></a>', CLINICAL_MODEL.read_text(encoding="utf-8"))
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def outside_references(path: Path, line: str, md_names: set[str]) -> list[str]:
    """The references of one line of `path` that lie outside the repository."""
    found = [m for m in RELATIVE_PATH.findall(line)
             if not (path.parent / m).resolve().is_relative_to(ROOT)]
    found += [p for p in re.findall(re.escape(str(ROOT.parent)) + r"/[\w./-]+", line)
              if not Path(p).resolve().is_relative_to(ROOT)]
    found += [m for m in ABSOLUTE_MD.findall(line) if not Path(m).resolve().is_relative_to(ROOT)]
    found += [m for m in MD_NAME.findall(line) if m not in md_names]
    return found


def test_no_file_refers_to_a_path_outside_the_repository():
    files = repository_files()
    md_names = {p.name for p in files if p.suffix == ".md"}
    offenders = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for ref in outside_references(path, line, md_names):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {ref}")
    assert not offenders, "references outside the repository:\n" + "\n".join(offenders)


def test_the_outside_reference_check_tells_inside_from_outside():
    # The outside references are built from pieces, so that this file itself refers to none.
    here, names, md = ROOT / "tests" / "x.py", {"clinical-model.md"}, ".md"
    climbing = "../" * 2 + "notes/rules" + md
    outside_file = f"{ROOT.parent}/elsewhere/x.txt"
    assert outside_references(here, "see ../docs/clinical-model.md", names) == []
    assert outside_references(here, "see " + climbing, names) == [climbing]
    assert outside_references(here, "read " + outside_file, names) == [outside_file]
    assert outside_references(here, f"read {ROOT}/README" + md, names) == []
    assert outside_references(here, "the rules in rules-v2" + md, names) == ["rules-v2" + md]
    assert outside_references(here, "see /srv/notes/rules" + md, names) == ["/srv/notes/rules" + md]
    assert outside_references(here, "see https://example.org/a/rules" + md, names) == []


def _doc_references():
    for path in repository_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in DOC_REF.finditer(text):
            yield path, match.group(1), re.findall(r"#([\w-]+)", match.group(2) or "")
        if path.suffix == ".md" and path.parent == DOCS:
            for target in MD_LINK.findall(text):
                if "://" in target or target.startswith("mailto:"):
                    continue
                file_part, _, anchor = target.partition("#")
                name = file_part or path.name
                if file_part and not (DOCS / file_part).is_file():
                    yield path, file_part, []
                elif name.endswith(".md"):
                    yield path, Path(name).name, [anchor] if anchor else []


def test_every_reference_to_docs_resolves():
    broken = []
    for path, doc_name, doc_anchors in _doc_references():
        doc = DOCS / doc_name
        if not doc.is_file():
            broken.append(f"{path.relative_to(ROOT)}: docs/{doc_name} does not exist")
            continue
        known = anchors(doc)
        broken += [f"{path.relative_to(ROOT)}: docs/{doc_name}#{a}" for a in doc_anchors if a not in known]
    assert not broken, "broken references:\n" + "\n".join(sorted(set(broken)))


@pytest.mark.parametrize("name", ["clinical-model.md", "assessment-contract.md", "terminology.md", "cds-hooks.md",
                                  "ARCHITECTURE.md"])
def test_the_project_documents_exist(name):
    assert (DOCS / name).is_file()
