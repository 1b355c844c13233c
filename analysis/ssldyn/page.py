"""The report's one HTML page: inline CSS, figures by relative path, nothing fetched from the
network, so it opens from disk anywhere (and in a headless browser in the tests)."""

from html import escape

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222;
       line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
h3 { margin-bottom: 0.3em; }
figure { margin: 0.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption, .caption { font-size: 0.9em; color: #444; }
.note { background: #fff6dd; border-left: 4px solid #e0b000; padding: 0.3em 0.6em;
        font-size: 0.9em; }
.skipped { color: #555; }
.files { font-size: 0.85em; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.15em 0.4em; text-align: right; }
th { background: #f3f3f3; }
td:nth-child(-n+3) { text-align: left; }
tr.failed td { background: #fde2e2; color: #900; font-weight: bold; }
tr.pending td, tr.running td { color: #888; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0 1em; font-size: 0.9em; }
dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
.scroll { overflow-x: auto; }
"""

# Self-check read by tests/python/test_report.py through a headless browser: after load, it
# writes into #page-check whether every image decoded and what script errors occurred.
CHECK_SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) {
      errors.push("failed to load " + t.tagName.toLowerCase() + " " + (t.getAttribute("src") || ""));
    } else {
      errors.push(String(e.message || e));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled rejection: " + e.reason);
  });
  var original = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var broken = [];
    for (var i = 0; i < document.images.length; i++) {
      var image = document.images[i];
      if (!(image.complete && image.naturalWidth > 0)) broken.push(image.getAttribute("src"));
    }
    var out = document.getElementById("page-check");
    out.textContent = JSON.stringify({images: document.images.length, broken: broken,
                                      errors: errors});
    out.setAttribute("data-state", "loaded");
  });
})();
"""

META_ATTRS = ("run_count", "axes", "program_version", "git_commit", "git_dirty", "mpi_library",
              "hdf5_library", "mpi_ranks", "group_size", "distribute_above",
              "block_size", "grid", "blas_threads")


def render(store_path, store_attrs, sections, notes):
    """sections: list of (sweep, results); notes: page-level notes."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>ssldyn report: {escape(store_path)}</title>",
           f"<style>{STYLE}</style>", f"<script>{CHECK_SCRIPT}</script>", "</head>", "<body>",
           "<h1>ssldyn report: simulation against theory</h1>",
           '<dl class="meta">',
           f"<dt>store</dt><dd>{escape(store_path)}</dd>"]
    for key in ("schema_version", "creator"):
        if key in store_attrs:
            out.append(f"<dt>{key}</dt><dd>{escape(str(store_attrs[key]))}</dd>")
    out.append("</dl>")
    out += [f'<p class="note">{escape(n)}</p>' for n in notes]
    if len(sections) > 1:
        out.append("<p>Sweeps: " + ", ".join(
            f'<a href="#sweep-{escape(s.name)}">{escape(s.name)}</a>' for s, _ in sections) + "</p>")
    for sweep, results in sections:
        out += _sweep(sweep, results)
    out += ['<pre id="page-check" hidden data-state="pending"></pre>', "</body>", "</html>", ""]
    return "\n".join(out)


def _sweep(sweep, results):
    counts = {}
    for status in sweep.index.status:
        counts[status] = counts.get(status, 0) + 1
    out = [f'<section id="sweep-{escape(sweep.name)}">', f"<h2>Sweep {escape(sweep.name)}</h2>",
           '<dl class="meta">',
           "<dt>runs</dt><dd>" + escape(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
           + "</dd>"]
    for key in META_ATTRS:
        if key in sweep.attrs:
            out.append(f"<dt>{key}</dt><dd>{escape(str(sweep.attrs[key]))}</dd>")
    out.append("</dl>")
    if "config" in sweep.attrs:
        out.append(f"<details><summary>sweep config</summary><pre>{escape(str(sweep.attrs['config']))}"
                   "</pre></details>")
    for result in results:
        out += _result(result)
    out.append("</section>")
    return out


def _result(result):
    out = [f'<div class="result" id="{escape(result.key)}">', f"<h3>{escape(result.title)}</h3>"]
    if result.skipped:
        out.append(f'<p class="note skipped">Not drawn: {escape(result.skipped)}.</p>')
    if result.image:
        out += ["<figure>", f'<img src="{escape(result.image)}" alt="{escape(result.title)}">',
                f"<figcaption>{escape(result.caption)}</figcaption>", "</figure>"]
    elif result.caption and not result.skipped:
        out.append(f'<p class="caption">{escape(result.caption)}</p>')
    if result.files:
        out.append('<p class="files">Numbers: ' + ", ".join(
            f'<a href="{escape(f)}">{escape(f)}</a>' for f in result.files) + "</p>")
    out += [f'<p class="note">{escape(n)}</p>' for n in result.notes]
    for table in result.tables:
        out += _table(table)
    out.append("</div>")
    return out


def _table(table):
    out = []
    if table.title:
        out.append(f'<p class="caption">{escape(table.title)}</p>')
    out += ['<div class="scroll"><table>',
            "<tr>" + "".join(f"<th>{escape(str(h))}</th>" for h in table.header) + "</tr>"]
    for i, row in enumerate(table.rows):
        cls = table.row_classes[i] if i < len(table.row_classes) else ""
        attr = f' class="{escape(cls)}"' if cls else ""
        out.append(f"<tr{attr}>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>")
    out.append("</table></div>")
    return out
