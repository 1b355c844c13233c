"""Figures, their numbers as CSV, and one HTML page of simulation against theory, from a store.

    python3 -m ssldyn.report STORE --out DIR       (also: ssldyn report STORE --out DIR)

Exit codes: 0 written, 1 written but some figure failed (see stderr and the page) or the disk
filled (nothing written), 2 bad input (a missing file, not a store, an unknown sweep, an output
path that is not a report folder): a message naming it on stderr and nothing written.
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
        description="Write PNG figures, the numbers behind them as CSV, and one HTML page "
                    "(DIR/index.html) of gradient descent against the closed-form flow for "
                    "every sweep of an ssldyn store.",
        epilog="Exit codes: 0 written, 1 a figure failed (the rest written), 2 bad input "
               "(nothing written).")
    parser.add_argument("store", metavar="STORE", help="an ssldyn HDF5 store")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default: STORE without .h5, plus -report); "
                             "replaced as a whole if it holds an earlier report")
    parser.add_argument("--sweep", metavar="NAME", action="append",
                        help="report on this sweep only (repeatable; default: every sweep)")
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


def figure_makers(gd_error_t):
    # Imported here: a bad input is refused before matplotlib's start-up cost.
    from . import collapse, gd_error, orthogonality, table, vs_theory, width
    return [collapse.make, vs_theory.make,
            lambda s, f, p: gd_error.make(s, f, p, fixed_t=gd_error_t),
            width.linear_limit, width.linear_pair, width.ntk, orthogonality.make, table.make]


def build(store, names, folder, gd_error_t):
    """Every figure of every named sweep into folder; returns (page html, counts, failures)."""
    from . import page
    from .common import Result

    makers = figure_makers(gd_error_t)
    sections, page_notes, failures = [], [], 0
    drawn = skipped = 0
    if not names:
        page_notes.append("The store holds no sweeps.")
    for name in names:
        try:
            sweep = store.sweep(name)
        except StoreError as e:
            page_notes.append(f"Sweep {name} could not be read: {e}")
            print(f"ssldyn report: note: {page_notes[-1]}", file=sys.stderr)
            continue
        results = []
        for make in makers:
            try:
                result = make(sweep, folder, f"{name}_")
            except Exception as e:  # one broken figure must not cost the others
                if isinstance(e, OSError) and e.errno in WRITE_ERRORS:
                    raise  # the folder cannot take the report: not this figure's fault
                traceback.print_exc()
                failures += 1
                title = getattr(make, "__module__", "figure").rsplit(".", 1)[-1]
                result = Result(title, f"{title} (failed)",
                                skipped=f"could not be drawn: {type(e).__name__}: {e}")
            drawn += bool(result.image)
            skipped += bool(result.skipped)
            results.append(result)
        sections.append((sweep, results))
    html = page.render(store.path, store.attrs, sections, page_notes)
    return html, drawn, skipped, failures


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


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = args.out or (os.path.splitext(args.store)[0] + "-report")
    try:
        check_store_file(args.store)
        try:
            store = Store(args.store)
        except StoreError as e:
            raise BadInput(str(e)) from None
        available = store.sweeps()
        for name in args.sweep or []:
            if name not in available:
                store.close()
                raise BadInput(f"{args.store}: no sweep named {name} (it holds: "
                               f"{', '.join(available) or 'none'})")
        try:
            check_out(out)
        except BadInput:
            store.close()
            raise
    except BadInput as e:
        print(f"ssldyn: error: {e}", file=sys.stderr)
        return 2

    names = args.sweep or available
    parent = os.path.dirname(os.path.abspath(out))
    folder = None
    try:
        remove_stale_work(out)
        folder = tempfile.mkdtemp(prefix=work_prefix(out), dir=parent)
        with store:
            html, drawn, skipped, failures = build(store, names, folder, args.gd_error_t)
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
              f"with a note; sweeps: {', '.join(names) or 'none'})")
    if failures:
        print(f"ssldyn: failure: {failures} figures failed (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
