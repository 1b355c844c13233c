"""Figures, their numbers as CSV, and one HTML page of simulation against theory, from one or
more stores: each sweep in a section, and sweeps whose axes match overlaid in one more.

    python3 -m ssldyn.report STORE... --out DIR       (also: ssldyn report STORE... --out DIR)

Exit codes: 0 written, 1 written but some figure failed (see stderr and the page) or the disk
filled (nothing written), 2 bad input (a missing file, not a store, a store given twice, an
unknown sweep, several stores without --out, an output path that is not a report folder): a
message naming it on stderr and nothing written.
"""

import argparse
import errno
import os
import shutil
import stat
import sys
import tempfile
import traceback

from .store import Store, StoreError

MARKER = ".ssldyn-report"  # marks a folder this command wrote, and may therefore replace
# Errors of a folder that cannot take the report (a full disk, a quota): not a figure's fault,
# so the whole report fails (exit 1) and nothing is left behind.
WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT)


class BadInput(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        """A command-line error in one line, as ssldyn's other commands report them."""
        print(f"ssldyn: error: command line: {message}", file=sys.stderr)
        sys.exit(2)


def parse_args(argv):
    parser = Parser(
        prog="ssldyn report",
        description="Write figures (interactive, and PNG and SVG), the numbers behind them as "
                    "CSV, and one HTML page (DIR/index.html) of gradient descent against the "
                    "closed-form flow for every sweep of one or more ssldyn stores; sweeps "
                    "whose axes match are also drawn overlaid.",
        epilog="Exit codes: 0 written, 1 a figure failed (the rest written), 2 bad input "
               "(nothing written).")
    parser.add_argument("stores", metavar="STORE", nargs="+", help="an ssldyn HDF5 store")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default, for one store: STORE without .h5, plus "
                             "-report; needed for several); replaced as a whole if it holds an "
                             "earlier report")
    parser.add_argument("--sweep", metavar="NAME", action="append",
                        help="report on this sweep only, of every store that has it "
                             "(repeatable; default: every sweep)")
    parser.add_argument("--gd-error-t", metavar="T", type=float,
                        help="the common time t* of the GD-to-flow error figure (default: the "
                             "largest record time all runs of a group reach with errors above "
                             "round-off)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return parser.parse_args(argv)


def check_store_file(path):
    """Refuse, before opening it, a store path that is not a regular file (or a link to one),
    naming what it is: opening a named pipe would wait for a writer."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    if stat.S_ISDIR(mode):
        raise BadInput(f"{path}: is a folder, not a store file")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else
                "a character device" if stat.S_ISCHR(mode) else
                "a block device" if stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a special file")
        raise BadInput(f"{path}: is {kind}, not a regular file (a store is an HDF5 file)")


def check_out(out):
    """Refuse, before anything is written, an output path this command must not replace."""
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise BadInput(f"{out}: exists and is not a folder")
        entries = os.listdir(out)
        if entries and MARKER not in entries:
            raise BadInput(f"{out}: a folder that holds other files (not an earlier report)")
    parent = os.path.dirname(os.path.abspath(out))
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise BadInput(f"{out}: its parent {parent} is not a folder")
    if not os.path.isdir(parent):
        raise BadInput(f"{out}: its parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"{out}: its parent folder {parent} is not writable")


def figure_makers(gd_error_t, overlay=False):
    # Imported here: a bad input is refused before matplotlib's start-up cost.
    from . import collapse, gd_error, losses, orthogonality, table, vs_theory, width
    gd = lambda s, f, p: gd_error.make(s, f, p, fixed_t=gd_error_t)  # noqa: E731
    if overlay:  # the figures that draw every run (not one per setting, nor a table of groups)
        return [collapse.make, gd, width.linear_limit, width.linear_pair, width.ntk, table.make]
    return [collapse.make, vs_theory.make, gd, width.linear_limit, width.linear_pair, width.ntk,
            orthogonality.make, *losses.MAKERS, table.make]


def draw(sweep, makers, folder, prefix):
    """The results of every maker for one sweep, and how many failed; a maker that returns
    None has nothing to draw for this sweep (the losses of THEORY §6 in a sweep without them)
    and leaves no trace on the page."""
    from .common import Result

    results, failures = [], 0
    for make in makers:
        try:
            result = make(sweep, folder, prefix)
            if result is None:
                continue
        except Exception as e:  # one broken figure must not cost the others
            if isinstance(e, OSError) and e.errno in WRITE_ERRORS:
                raise  # the folder cannot take the report: not this figure's fault
            traceback.print_exc()
            failures += 1
            title = getattr(make, "__module__", "figure").rsplit(".", 1)[-1]
            result = Result(title, f"{title} (failed)",
                            skipped=f"could not be drawn: {type(e).__name__}: {e}")
        results.append(result)
    return results, failures


def labels(stores):
    """A name per store for section titles and overlaid run ids: its file name without .h5,
    or its path as given where two file names are the same."""
    stems = [os.path.splitext(os.path.basename(s.path))[0] for s in stores]
    return [stem if stems.count(stem) == 1 else s.path for stem, s in zip(stems, stores)]


def build(stores, names, folder, gd_error_t, library=None):
    """Every figure of every named sweep of the stores, then the overlays of sweeps whose axes
    match, into folder; returns (page html, drawn, skipped, failures, the sweeps' labels)."""
    from . import overlay, page

    sections, page_notes, failures = [], [], 0
    several = len(stores) > 1
    for store, label in zip(stores, labels(stores)):
        wanted = [n for n in names if n in store.sweeps()] if names else store.sweeps()
        if not wanted:
            page_notes.append(f"{store.path} holds no sweeps" + (" of those asked for" if names
                                                                 else "") + ".")
        for name in wanted:
            try:
                sweep = store.sweep(name)
            except StoreError as e:
                page_notes.append(f"Sweep {name} could not be read: {e}")
                print(f"ssldyn report: note: {page_notes[-1]}", file=sys.stderr)
                continue
            sections.append((f"{label}/{name}" if several else name, sweep))
    drawn_sections = []
    makers = figure_makers(gd_error_t)
    for label, sweep in sections:
        results, failed = draw(sweep, makers, folder, _prefix(label, sweep.name, several))
        failures += failed
        drawn_sections.append((label, sweep, results))
    for n, group in enumerate(overlay.matching(sections), 1):
        combined = overlay.Overlay(group)
        results, failed = draw(combined, figure_makers(gd_error_t, overlay=True), folder,
                               f"overlay{n}_")
        failures += failed
        drawn_sections.append((combined.label, combined, results))
    if not library:
        for _, _, results in drawn_sections:
            for result in results:
                result.interactive = None
    results = [r for _, _, rs in drawn_sections for r in rs]
    drawn = sum(bool(r.image) for r in results)
    skipped = sum(bool(r.skipped) for r in results)
    html = page.render([(s.path, s.attrs) for s in stores], drawn_sections, page_notes, library)
    return html, drawn, skipped, failures, [label for label, _ in sections]


def _prefix(label, name, several):
    """File names of a sweep's figures: SWEEP_ (one store) or STORE_SWEEP_ (several)."""
    text = label.replace("/", "_") if several else name
    return "".join(c if c.isalnum() or c in "_-." else "-" for c in text) + "_"


LIBRARY = "plotly.js"


def write_library(folder):
    """plotly.js (Debian's python3-plotly ships it) beside the page; None, with a note on
    stderr, when it is not installed: the page then has the static figures only."""
    try:
        from plotly.offline import get_plotlyjs
        text = get_plotlyjs()
    except (ImportError, OSError) as e:
        print(f"ssldyn report: note: no interactive figures: plotly.js is not available ({e}; "
              "Debian: python3-plotly)", file=sys.stderr)
        return None
    with open(os.path.join(folder, LIBRARY), "w", encoding="utf-8") as f:
        f.write(text)
    return LIBRARY


def work_prefix(out):
    """The names of this process's folders beside out (the report being built, the old one
    being replaced): .OUT.PID., so that a later report knows whose they are."""
    return f".{os.path.basename(os.path.abspath(out))}.{os.getpid()}."


def alive(pid):
    """Whether a process of this host has the id (one of another user counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_work(out):
    """Remove the folders that reports of out killed mid-way left beside it (.OUT.PID.*) whose
    process is gone; those of running reports, and anything else, stay."""
    parent = os.path.dirname(os.path.abspath(out))
    prefix = f".{os.path.basename(os.path.abspath(out))}."
    for name in os.listdir(parent):
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if not (pid.isascii() and pid.isdigit() and 0 < len(pid) <= 9) or alive(int(pid)):
            continue
        path = os.path.join(parent, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def replace_folder(built, out):
    """Put the finished folder in place of out in two renames (an old report goes only then)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(built, 0o777 & ~umask)
    old = None
    if os.path.exists(out):
        old = tempfile.mkdtemp(prefix=work_prefix(out) + "old-",
                               dir=os.path.dirname(os.path.abspath(out)))
        os.rmdir(old)
        os.rename(out, old)
    os.rename(built, out)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def open_stores(paths, sweeps):
    """The stores, each checked; BadInput naming the first bad one (those opened are closed)."""
    stores = []
    try:
        seen = set()
        for path in paths:
            check_store_file(path)
            real = os.path.realpath(path)
            if real in seen:
                raise BadInput(f"{path}: given twice")
            seen.add(real)
            try:
                stores.append(Store(path))
            except StoreError as e:
                raise BadInput(str(e)) from None
        for name in sweeps or []:
            if not any(name in s.sweeps() for s in stores):
                held = sorted({n for s in stores for n in s.sweeps()})
                where = paths[0] if len(paths) == 1 else "none of " + ", ".join(paths)
                raise BadInput(f"{where}: no sweep named {name} (it holds: "
                               f"{', '.join(held) or 'none'})")
    except BadInput:
        for store in stores:
            store.close()
        raise
    return stores


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.out is None and len(args.stores) > 1:
            raise BadInput(f"{len(args.stores)} stores: name the report's folder with --out DIR")
        out = args.out or (os.path.splitext(args.stores[0])[0] + "-report")
        stores = open_stores(args.stores, args.sweep)
        try:
            check_out(out)
        except BadInput:
            for store in stores:
                store.close()
            raise
    except BadInput as e:
        print(f"ssldyn: error: {e}", file=sys.stderr)
        return 2

    names = args.sweep or []
    parent = os.path.dirname(os.path.abspath(out))
    folder = None
    try:
        remove_stale_work(out)
        folder = tempfile.mkdtemp(prefix=work_prefix(out), dir=parent)
        library = write_library(folder)
        try:
            html, drawn, skipped, failures, shown = build(stores, names, folder,
                                                          args.gd_error_t, library)
        finally:
            for store in stores:
                store.close()
        with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as f:
            f.write(html)
        with open(os.path.join(folder, MARKER), "w") as f:
            f.write("written by ssldyn report; the folder is replaced as a whole\n")
        replace_folder(folder, out)
    except BaseException as e:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(e, OSError) and e.errno in WRITE_ERRORS:
            print(f"ssldyn: failure: {out}: cannot write the report ({e.strerror})",
                  file=sys.stderr)
            return 1
        raise
    if not args.quiet:
        print(f"report: {os.path.join(out, 'index.html')} ({drawn} figures, {skipped} skipped "
              f"with a note; sweeps: {', '.join(shown) or 'none'})")
    if failures:
        print(f"ssldyn: failure: {failures} figures failed (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
