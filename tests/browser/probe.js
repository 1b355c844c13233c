// Acts on a report page as a reader would, once its figures are drawn, and writes what the page
// showed into a new pre element, id probe-result (read back from Chromium's --dump-dom by
// check_page.py).
// window.SSLDYN_PROBE = {figure: "plot-…", run: "…" (optional), section: "sweep-…",
//                        setting: "…", value: "…"}
// 1. hover: a mouse move over the pixel of a point of one run in the figure (the given run, or
//    the first with one), as the browser delivers it to plotly.js; answer: that run and the
//    text of the hover label plotly.js drew;
// 2. filter: the section's select of the setting set to the value, with the change event a
//    reader's choice fires; answer: the runs of the traces each figure of the section still
//    draws (as SVG), and of the table rows still shown.
(function () {
  var request = window.SSLDYN_PROBE;

  function answer(result) {
    var out = document.createElement("pre");
    out.id = "probe-result";
    out.textContent = JSON.stringify(result);
    document.body.appendChild(out);
  }

  function later(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function hover(result) {
    var gd = document.getElementById(request.figure);
    if (!gd || !gd._fullData) {
      result.hover_error = "no drawn figure " + request.figure;
      return Promise.resolve();
    }
    for (var i = 0; i < gd._fullData.length; i++) {
      var trace = gd._fullData[i];
      var runs = (trace.meta && trace.meta.runs) || [];
      if (runs.length !== 1 || (request.run && runs[0] !== request.run)) continue;
      for (var j = 0; j < trace.x.length; j++) {
        if (trace.x[j] === null || trace.y[j] === null) continue;
        var xaxis = gd._fullLayout[trace.xaxis.replace("x", "xaxis")];
        var yaxis = gd._fullLayout[trace.yaxis.replace("y", "yaxis")];
        var x = xaxis.c2p(trace.x[j]), y = yaxis.c2p(trace.y[j]);
        if (!(isFinite(x) && isFinite(y) && x >= 0 && y >= 0 && x <= xaxis._length &&
              y <= yaxis._length)) continue;  // outside the range drawn
        var drag = gd.querySelector('.nsewdrag[data-subplot="' + trace.xaxis + trace.yaxis + '"]');
        var box = drag.getBoundingClientRect();
        result.hovered_run = runs[0];
        drag.dispatchEvent(new MouseEvent("mousemove", {
          bubbles: true, cancelable: true, view: window,
          clientX: box.left + x, clientY: box.top + y}));
        return later(200).then(function () {
          var label = gd.querySelector(".hoverlayer");
          result.hover_text = label ? label.textContent : "";
        });
      }
    }
    result.hover_error = "no point of one run in " + request.figure;
    return Promise.resolve();
  }

  function drawnRuns(gd) {
    // The traces plotly.js drew as SVG, in order, against its data: visible ones only.
    var runs = [];
    gd._fullData.forEach(function (trace) {
      if (trace.visible === true) runs = runs.concat((trace.meta && trace.meta.runs) || []);
    });
    return runs;
  }

  function filter(result) {
    var section = document.getElementById(request.section);
    var select = section && section.querySelector(
      'select[data-setting="' + request.setting + '"]');
    if (!select) {
      result.filter_error = "no filter of " + request.setting + " in " + request.section;
      return Promise.resolve();
    }
    select.value = request.value;
    select.dispatchEvent(new Event("change", {bubbles: true}));
    return later(200).then(function () {
      result.figures = {};
      section.querySelectorAll(".figure-plot").forEach(function (gd) {
        var drawn = gd.querySelectorAll(".scatterlayer .trace").length;
        var visible = gd._fullData.filter(function (t) { return t.visible === true; }).length;
        result.figures[gd.id] = {runs: drawnRuns(gd), svg_traces: drawn,
                                 visible_traces: visible};
      });
      result.table_runs = [];
      section.querySelectorAll("table[data-run-column]").forEach(function (table) {
        var column = Number(table.getAttribute("data-run-column"));
        for (var i = 1; i < table.rows.length; i++) {
          var row = table.rows[i];
          if (!row.hidden) result.table_runs.push(row.cells[column].textContent);
        }
      });
      result.count = section.querySelector(".filter-count").textContent;
    });
  }

  window.addEventListener("load", function () {
    var result = {};
    Promise.resolve(window.ssldynRendered)
      .then(function () { return hover(result); })
      .then(function () { return filter(result); })
      .catch(function (e) { result.error = String(e); })
      .then(function () { answer(result); });
  });
})();
