"""Sweeps overlaid: the runs of several sweeps (of one store or several) whose axes match, as one
sweep with one more setting, `source` (which sweep a run is of), so that every figure draws
them together and tells them apart as it does any setting that varies. Run ids are qualified by
their source (SOURCE/RUN), so that runs of two stores never share one."""

SOURCE = "source"


def matching(sections):
    """Groups of two or more (label, sweep) with the same non-empty axes, in order."""
    groups = {}
    for label, sweep in sections:
        if sweep.axes:
            groups.setdefault(tuple(sorted(sweep.axes)), []).append((label, sweep))
    return [group for group in groups.values() if len(group) > 1]


class OverlaidRun:
    """A run of one of the sweeps, under its qualified id, with its source among its settings."""

    def __init__(self, run, source, row):
        self._run = run
        self.id = f"{source}/{run.id}"
        self.row = row
        self.config = dict(run.config, **{SOURCE: source})

    def __getattr__(self, name):
        return getattr(self._run, name)


class OverlaidIndex:
    def __init__(self, parts):
        keys = [SOURCE] + [k for k in parts[0][1].index.config
                           if all(k in s.index.config for _, s in parts[1:])]
        self.config = {k: [] for k in keys}
        self.run_ids, self.status = [], []
        columns = [c for c in parts[0][1].index.result
                   if all(c in s.index.result for _, s in parts[1:])]
        self.result = {c: [] for c in columns}
        for source, sweep in parts:
            index = sweep.index
            self.config[SOURCE] += [source] * len(index)
            for k in keys[1:]:
                self.config[k] += list(index.config[k])
            self.run_ids += [f"{source}/{r}" for r in index.run_ids]
            self.status += list(index.status)
            for c in columns:
                self.result[c] += list(index.result[c])

    def __len__(self):
        return len(self.run_ids)

    def row_config(self, row):
        return {key: values[row] for key, values in self.config.items()}


class Overlay:
    """The sweeps of parts [(label, sweep)] as one, for the figure makers."""

    def __init__(self, parts):
        self.parts = parts
        self.name = "overlay"
        self.label = "overlay of " + ", ".join(label for label, _ in parts)
        self.axes = [SOURCE] + list(parts[0][1].axes)
        self.attrs = {"axes": ",".join(self.axes)}
        self.rows = None
        self.index = OverlaidIndex(parts)
        self._runs = []
        for source, sweep in parts:
            for run in sweep.runs():
                self._runs.append(OverlaidRun(run, source, len(self._runs)))

    def __len__(self):
        return len(self._runs)

    def run(self, row):
        return self._runs[row]

    def runs(self):
        return list(self._runs)
