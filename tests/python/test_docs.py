"""The documents the code cites exist: every "THEORY §x.y" (also "THEORY x.y", ranges such as
"§4–5" or "4.3-4.4", lists such as "§4.3–4.4, §5" or "4.3/4.4", and a citation broken over two
comment lines) in a tracked file names a section that has a heading in docs/THEORY.md, and every
"DESIGN" citation points to docs/DESIGN.md, at a heading when it quotes one
(DESIGN.md "Principles"). A range is checked at its two ends."""

import os
import re
import shutil
import subprocess
import unittest

ROOT = os.path.abspath(os.environ.get(
    "SSLDYN_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
THEORY = os.path.join("docs", "THEORY.md")
DESIGN = os.path.join("docs", "DESIGN.md")
# Where to look when the tree is not a git checkout (an unpacked source archive).
WALKED = ("src", "analysis", "jobs", "tests", "bench", "cmake", "docs", "README.md",
          "CMakeLists.txt")
LARGEST = 2 << 20  # bytes; larger tracked files are data, not text that cites

SECTION = r"\d+(?:\.\d+)*"
DASH = r"[ \t]*[–-][ \t]*§?[ \t]*"
# What may stand between THEORY and the section: spaces and a §, or the end of a comment line
# and the next one's comment marker before the § (a citation wrapped by the formatter).
GAP = r"(?:[ \t]*§[ \t]*|[ \t]*\n[ \t]*(?://+|#+|\*+)?[ \t]*§[ \t]*|[ \t]+)"
# Further sections after the first: ", §5", "/4.4", " and §4.2"; without § only a dotted
# number, so that "THEORY §4.3, 16 probes" does not read as a citation of §16.
MORE = rf"[ \t]*(?:,|/|and)[ \t]*(?:§[ \t]*{SECTION}|\d+\.\d+(?:\.\d+)*)(?:{DASH}{SECTION})?"
THEORY_CITATION = re.compile(
    rf"\bTHEORY(?:\.md)?{GAP}(?P<first>{SECTION})(?:{DASH}(?P<last>{SECTION}))?"
    rf"(?P<more>(?:{MORE})*)")
MORE_ITEM = re.compile(rf"§?[ \t]*(?P<first>{SECTION})(?:{DASH}(?P<last>{SECTION}))?")
DESIGN_CITATION = re.compile(r'\bDESIGN(?:\.md)?\b(?:[ \t]*(?:\n[ \t]*(?://+|#+|\*+)?[ \t]*)?'
                             r'"(?P<heading>[^"\n]+)")?')
HEADING = re.compile(r"^#{1,6}[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
NUMBERED = re.compile(rf"^(?P<number>{SECTION})\.?(?:[ \t]|$)")


def headings(text):
    """The titles of a Markdown file's headings, in order."""
    return [m.group("title") for m in HEADING.finditer(text)]


def section_numbers(text):
    """The section numbers of a Markdown file's numbered headings ("## 4 Dynamics",
    "### 4.3 Two-layer…", "## 4. Dynamics"), without trailing dots."""
    out = set()
    for title in headings(text):
        m = NUMBERED.match(title)
        if m:
            out.add(m.group("number"))
    return out


def theory_citations(text):
    """(line, section) for every section a text cites of THEORY, ranges given by their ends."""
    out = []
    for m in THEORY_CITATION.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        sections = [m.group("first"), m.group("last")]
        for item in re.split(r"[,/]|\band\b", m.group("more"))[1:]:
            part = MORE_ITEM.search(item)
            if part:
                sections += [part.group("first"), part.group("last")]
        out += [(line, s) for s in sections if s]
    return out


def design_citations(text):
    """(line, quoted heading or None) for every DESIGN citation of a text."""
    return [(text.count("\n", 0, m.start()) + 1, m.group("heading"))
            for m in DESIGN_CITATION.finditer(text)]


def tracked_files(root):
    """Paths (relative to root) of the files git tracks there, or of the usual folders when the
    tree is not a git checkout."""
    git = shutil.which("git")
    if git:
        result = subprocess.run([git, "-C", root, "ls-files", "-z"], capture_output=True)
        if result.returncode == 0 and result.stdout:
            return [p for p in result.stdout.decode().split("\0") if p]
    out = []
    for top in WALKED:
        path = os.path.join(root, top)
        if os.path.isfile(path):
            out.append(top)
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = [s for s in subfolders if s not in ("__pycache__", ".git")]
            out += [os.path.relpath(os.path.join(folder, f), root) for f in files]
    return out


def read_text(path):
    """A file's text, or None for what is not text (binary, or too large to be anything but
    data)."""
    try:
        if os.path.getsize(path) > LARGEST:
            return None
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def unresolved(root):
    """Every citation that names no existing document or heading: (file, line, citation)."""
    theory_path, design_path = os.path.join(root, THEORY), os.path.join(root, DESIGN)
    theory = read_text(theory_path) if os.path.exists(theory_path) else None
    design = read_text(design_path) if os.path.exists(design_path) else None
    sections = section_numbers(theory) if theory is not None else set()
    design_headings = headings(design) if design is not None else []
    missing = []
    for name in tracked_files(root):
        text = read_text(os.path.join(root, name))
        if text is None:
            continue
        for line, section in theory_citations(text):
            if section not in sections:
                why = "no docs/THEORY.md" if theory is None else "no such heading in docs/THEORY.md"
                missing.append((name, line, f"THEORY §{section} ({why})"))
        for line, heading in design_citations(text):
            if design is None:
                missing.append((name, line, "DESIGN (no docs/DESIGN.md)"))
            elif heading is not None and heading not in design_headings:
                # (Spelled so that this line is no citation itself.)
                cited = "DESIGN"
                missing.append((name, line, f'{cited} "{heading}" (no such heading in '
                                            "docs/DESIGN.md)"))
    return missing


class CitationParsingTest(unittest.TestCase):
    """The scanner itself, on texts whose citations are known."""

    def test_forms_of_theory_citations(self):
        text = ("a (THEORY §4.2) b THEORY 4.3 c (THEORY §4–5)\n"
                "d THEORY §4.3–4.4, §5 e THEORY 4.3-4.4 f THEORY 4.3/4.4 g THEORY §2.\n"
                "// wrapped (THEORY\n// §4.4). h THEORY §4.3, 16 probes; THEORY.md §6\n"
                "not a citation: THEORY alone, THEORETICAL 4.1\n")
        self.assertEqual(theory_citations(text), [
            (1, "4.2"), (1, "4.3"), (1, "4"), (1, "5"),
            (2, "4.3"), (2, "4.4"), (2, "5"), (2, "4.3"), (2, "4.4"), (2, "4.3"), (2, "4.4"),
            (2, "2"),
            (3, "4.4"), (4, "4.3"), (4, "6")])

    def test_numbered_headings(self):
        text = "# Title\n## 1 Data\n### 4.3 Two-layer\n## 5. Records\n#### Not numbered 7\n"
        self.assertEqual(section_numbers(text), {"1", "4.3", "5"})

    def test_design_citations(self):
        text = '// (DESIGN.md "Principles"):\n# see DESIGN\nDESIGNER is no citation\n'
        self.assertEqual(design_citations(text), [(1, "Principles"), (2, None)])

    def test_a_missing_section_is_reported(self):
        # A tree of its own: docs with sections 1 and 4.2 only, and a source citing 4.3 and 4.2.
        import tempfile
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "docs"))
            os.makedirs(os.path.join(root, "src"))
            with open(os.path.join(root, THEORY), "w") as f:
                f.write("# T\n## 1 Data\n### 4.2 Grassmann\n")
            with open(os.path.join(root, "src", "a.cpp"), "w") as f:
                f.write("// (THEORY §4.2)\n// (THEORY §4.2–4.3)\n// (DESIGN.md \"Layout\")\n")
            self.assertEqual(unresolved(root), [
                ("src/a.cpp", 2, "THEORY §4.3 (no such heading in docs/THEORY.md)"),
                ("src/a.cpp", 3, "DESIGN (no docs/DESIGN.md)")])


class RepositoryCitationsTest(unittest.TestCase):
    def test_every_citation_has_its_heading(self):
        self.assertTrue(os.path.exists(os.path.join(ROOT, THEORY)), f"no {THEORY} in {ROOT}")
        self.assertTrue(os.path.exists(os.path.join(ROOT, DESIGN)), f"no {DESIGN} in {ROOT}")
        missing = unresolved(ROOT)
        self.assertFalse(missing, f"{len(missing)} citations name no heading:\n" + "\n".join(
            f"  {name}:{line}: {citation}" for name, line, citation in missing))

    def test_the_repository_cites_the_documents(self):
        # The scan finds what it is there for: a scanner that finds nothing would pass anything.
        count = 0
        for name in tracked_files(ROOT):
            text = read_text(os.path.join(ROOT, name))
            if text is not None and not name.startswith("docs/"):
                count += len(theory_citations(text))
        self.assertGreater(count, 50)


if __name__ == "__main__":
    unittest.main()
