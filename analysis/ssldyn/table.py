"""The sweep as a table: one row per run, its axis values and final metrics, failures marked.
Everything comes from the index (no run group is opened), so it is cheap for any sweep."""

from .common import Result, Table, short, write_csv

RESULT_COLUMNS = ("final_step", "final_t", "final_loss", "theory_final_loss", "final_effective_rank",
                  "final_s2_s1", "final_topk_sin_angle", "final_theory_distance",
                  "max_theory_distance", "eta_used", "seconds", "failed_step", "failure")
HTML_ROWS = 500  # the page shows this many; the CSV holds every run


def make(sweep, folder, prefix):
    result = Result("table", "The sweep: settings along its axes and final metrics per run")
    index = sweep.index
    axes = [a for a in sweep.axes if a in index.config]
    columns = [c for c in RESULT_COLUMNS if c in index.result]
    header = ["sweep", "row", "run_id", "status"] + axes + columns
    rows, classes = [], []
    for row in range(len(index)):
        rows.append([sweep.name, row, index.run_ids[row], index.status[row]]
                    + [index.config[a][row] for a in axes]
                    + [index.result[c][row] for c in columns])
        classes.append(index.status[row] if index.status[row] != "done" else "")
    result.files.append(write_csv(folder, f"{prefix}table.csv", header, rows))
    shown = [[r[1], r[2], r[3].upper() if r[3] == "failed" else r[3]] + [short(v) for v in r[4:]]
             for r in rows[:HTML_ROWS]]
    result.tables.append(Table("", header[1:], shown, classes[:HTML_ROWS], run_column=1))
    if len(rows) > HTML_ROWS:
        result.notes.append(f"the page shows the first {HTML_ROWS} of {len(rows)} runs; "
                            f"{prefix}table.csv holds all")
    failed = [r for r in rows if r[3] == "failed"]
    if failed:
        result.notes.append(f"failed runs (marked): {len(failed)}; their records after the "
                            "failure step are NaN")
    missing = [c for c in RESULT_COLUMNS if c not in index.result]
    if missing:
        result.notes.append("the index lacks " + ", ".join(missing))
    result.caption = ("From the sweep's index table (README, \"The HDF5 store\"): the axes of the "
                      "sweep config and each run's final metrics. final_theory_distance: "
                      "gradient descent against the closed-form flow at the last record.")
    return result
