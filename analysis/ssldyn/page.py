"""The report's one HTML page: inline CSS, figures by relative path, and the plotting library
(plotly.js) as a file beside it; nothing fetched from the network, so it opens from disk
anywhere (and in a headless browser in the tests). Each figure is interactive (hover: its runs;
a sweep's filters: the runs shown), with its static PNG and SVG below it."""

import json
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
tr.pending td, tr.running td, tr.inapplicable td { color: #888; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0 1em; font-size: 0.9em; }
dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
.scroll { overflow-x: auto; }
.figure-plot { width: 100%; border: 1px solid #eee; }
details.static summary { font-size: 0.85em; color: #555; cursor: pointer; }
form.filters { background: #f3f6fa; padding: 0.4em 0.6em; font-size: 0.9em; margin: 0.5em 0; }
form.filters label { margin-right: 1em; white-space: nowrap; }
.flagged td { background: #fff1d6; }
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
    // Every interactive figure drawn: plotly.js gave it its SVG and traces.
    Promise.resolve(window.ssldynRendered).catch(function (e) {
      errors.push("figures: " + e);
    }).then(function () {
      var figures = document.querySelectorAll(".figure-plot"), undrawn = [];
      for (var i = 0; i < figures.length; i++) {
        var gd = figures[i];
        if (!(gd._fullData && gd._fullData.length && gd.querySelector(".main-svg"))) {
          undrawn.push(gd.id);
        }
      }
      var out = document.getElementById("page-check");
      out.textContent = JSON.stringify({images: document.images.length, broken: broken,
                                        figures: figures.length, undrawn: undrawn,
                                        errors: errors});
      out.setAttribute("data-state", "loaded");
    });
  });
})();
"""

# Draws the interactive figures (plotly.js, shipped beside the page) from their JSON, and hides
# the runs of a sweep that its filters exclude: a trace stays when any of its runs matches
# (fit lines and references belong to no run, and stay).
FIGURE_SCRIPT = """
(function () {
  var figures = document.querySelectorAll(".figure-plot");
  if (!window.Plotly) {
    window.ssldynRendered = Promise.resolve();
    if (figures.length) {
      console.error("the plotting library plotly.js did not load: " + figures.length +
                    " interactive figures not drawn (the static ones are below each)");
    }
    return;
  }
  var drawn = [];
  figures.forEach(function (gd) {
    var spec = JSON.parse(document.getElementById(gd.getAttribute("data-spec")).textContent);
    drawn.push(Plotly.newPlot(gd, spec.data, spec.layout,
                              {displaylogo: false, responsive: true}));
  });
  window.ssldynRendered = Promise.all(drawn);

  function apply(section) {
    var settings = JSON.parse(section.querySelector("script.run-settings").textContent);
    var chosen = {};
    section.querySelectorAll("select[data-setting]").forEach(function (select) {
      if (select.value !== "") chosen[select.getAttribute("data-setting")] = select.value;
    });
    function matches(run) {
      var mine = settings[run];
      if (!mine) return true;
      for (var key in chosen) if (mine[key] !== chosen[key]) return false;
      return true;
    }
    var shown = Object.keys(settings).filter(matches).length;
    section.querySelector(".filter-count").textContent =
      shown + " of " + Object.keys(settings).length + " runs shown";
    var updates = [];
    section.querySelectorAll(".figure-plot").forEach(function (gd) {
      if (!gd.data) return;
      var visible = gd.data.map(function (trace) {
        var runs = (trace.meta && trace.meta.runs) || [];
        return runs.length === 0 || runs.some(matches);
      });
      updates.push(Plotly.restyle(gd, {visible: visible}));
    });
    section.querySelectorAll("table[data-run-column]").forEach(function (table) {
      var column = Number(table.getAttribute("data-run-column"));
      for (var i = 1; i < table.rows.length; i++) {
        table.rows[i].hidden = !matches(table.rows[i].cells[column].textContent);
      }
    });
    return Promise.all(updates);
  }
  window.ssldynFilter = function (sectionId, setting, value) {
    var section = document.getElementById(sectionId);
    section.querySelector('select[data-setting="' + setting + '"]').value = value;
    return apply(section);
  };
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("change", function () { apply(form.closest("section")); });
  });
})();
"""

META_ATTRS = ("run_count", "axes", "program_version", "git_commit", "git_dirty", "mpi_library",
              "hdf5_library", "mpi_ranks", "group_size", "distribute_above",
              "block_size", "grid", "blas_threads")


# A setting with more distinct values than this gets no filter (a seed of every run).
FILTER_VALUES = 50


def render(stores, sections, notes, library=None):
    """stores: [(path, attrs)]; sections: list of (label, sweep, results); notes: page-level
    notes; library: the plotting library's file beside the page (None: static figures only)."""
    title = ", ".join(path for path, _ in stores)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>ssldyn report: {escape(title)}</title>",
           f"<style>{STYLE}</style>", f"<script>{CHECK_SCRIPT}</script>"]
    if library:
        out.append(f'<script src="{escape(library)}"></script>')
    out += ["</head>", "<body>", "<h1>ssldyn report: simulation against theory</h1>"]
    for path, attrs in stores:
        out += ['<dl class="meta">', f"<dt>store</dt><dd>{escape(path)}</dd>"]
        for key in ("schema_version", "creator"):
            if key in attrs:
                out.append(f"<dt>{key}</dt><dd>{escape(str(attrs[key]))}</dd>")
        out.append("</dl>")
    out += [f'<p class="note">{escape(n)}</p>' for n in notes]
    if len(sections) > 1:
        out.append("<p>Sweeps: " + ", ".join(
            f'<a href="#{section_id(label)}">{escape(label)}</a>' for label, _, _ in sections)
            + "</p>")
    for label, sweep, results in sections:
        out += _sweep(label, sweep, results)
    out += ['<pre id="page-check" hidden data-state="pending"></pre>',
            f"<script>{FIGURE_SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(out)


def section_id(label):
    """The HTML id of a sweep's section: sweep- and its label, other characters as -."""
    return "sweep-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in label)


def _json(value):
    """JSON inside a <script> element: no "</" to end it early."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _filters(sweep):
    """A select per setting that varies in the sweep, and every run's values of them."""
    from .figure import RunInfo
    info = RunInfo(sweep)
    out = [f'<script type="application/json" class="run-settings">{_json(info.settings)}'
           "</script>", '<form class="filters"><b>Show runs with</b> ']
    for key in info.varying:
        values = sorted({s[key] for s in info.settings.values()}, key=_value_order)
        if len(values) > FILTER_VALUES:
            continue
        options = '<option value="">all</option>' + "".join(
            f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
        out.append(f'<label>{escape(key)} <select data-setting="{escape(key)}">{options}'
                   "</select></label>")
    out.append(f'<span class="filter-count">{len(info.settings)} of {len(info.settings)} runs '
               "shown</span></form>")
    return out if info.varying else out[:1]


def _value_order(text):
    """Numbers by value, then text."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _sweep(label, sweep, results):
    counts = {}
    for status in sweep.index.status:
        counts[status] = counts.get(status, 0) + 1
    ident = section_id(label)
    out = [f'<section id="{escape(ident)}">', f"<h2>Sweep {escape(label)}</h2>",
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
    if any(r.interactive or any(t.run_column is not None for t in r.tables) for r in results):
        out += _filters(sweep)
    for result in results:
        out += _result(ident, result)
    out.append("</section>")
    return out


def _result(section, result):
    ident = f"{section}-{result.key}"
    out = [f'<div class="result" id="{escape(ident)}">', f"<h3>{escape(result.title)}</h3>"]
    if result.skipped:
        out.append(f'<p class="note skipped">Not drawn: {escape(result.skipped)}.</p>')
    if result.image and result.interactive:
        height = result.interactive["layout"].get("height", 450)
        out += ["<figure>",
                f'<div class="figure-plot" id="plot-{escape(ident)}" '
                f'data-spec="spec-{escape(ident)}" '
                f'style="height: {int(height)}px"></div>',
                f'<script type="application/json" id="spec-{escape(ident)}">'
                f"{_json(result.interactive)}</script>",
                f"<figcaption>{escape(result.caption)} Hover a line or point for its run; "
                "drag to zoom, double-click to see every record.</figcaption>",
                '<details class="static"><summary>Static figure: '
                + ", ".join(f'<a href="{escape(f)}">{escape(f)}</a>'
                            for f in (result.image, result.svg) if f) + "</summary>",
                f'<img src="{escape(result.image)}" alt="{escape(result.title)}"></details>',
                "</figure>"]
    elif result.image:
        files = ", ".join(f'<a href="{escape(f)}">{escape(f)}</a>'
                          for f in (result.image, result.svg) if f)
        out += ["<figure>", f'<img src="{escape(result.image)}" alt="{escape(result.title)}">',
                f"<figcaption>{escape(result.caption)} ({files})</figcaption>", "</figure>"]
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
    column = "" if table.run_column is None else f' data-run-column="{table.run_column}"'
    out += [f'<div class="scroll"><table{column}>',
            "<tr>" + "".join(f"<th>{escape(str(h))}</th>" for h in table.header) + "</tr>"]
    for i, row in enumerate(table.rows):
        cls = table.row_classes[i] if i < len(table.row_classes) else ""
        attr = f' class="{escape(cls)}"' if cls else ""
        out.append(f"<tr{attr}>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>")
    out.append("</table></div>")
    return out
