"""The `ssldyn query --where` language (README, "`ssldyn ls` and `ssldyn query`"), for
Sweep.where: the same grammar, checks, messages and truth as src/query/ (parse.cpp,
expression.cpp, columns.cpp), evaluated over a sweep's columns at once.

    expression  := disjunction
    disjunction := conjunction ('or' conjunction)*
    conjunction := unary ('and' unary)*
    unary       := 'not' unary | '(' expression ')' | comparison
    comparison  := NAME relation value | NAME ['not'] 'in' '(' value (',' value)* ')'
    relation    := '==' | '=' | '!=' | '<' | '<=' | '>' | '>='
    value       := WORD | 'text' | "text"

Positions count from 1 in bytes of the expression's UTF-8, as the command line counts them.
"""

import math
from dataclasses import dataclass, field

import numpy as np

STATUS = ("pending", "running", "done", "failed")
IDENTITY = ("sweep", "run_id", "status")
ORDERINGS = ("<", "<=", ">", ">=")
BLANKS = " \t\n\v\f\r"  # C's isspace
ENDS_WORD = BLANKS + "(),=!<>'\""
KEYWORDS = ("and", "or", "in", "not")


def as_number(text):
    """The number a text spells when all of it is one finite decimal ("16", "-0.5", "1e-3");
    words such as "inf" or "nan" are text (columns.cpp, as_number)."""
    if not text or any(ch not in "+-.0123456789eE" for ch in text):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def listed(values, shown=20):
    """"a, b, c" with at most `shown` values and how many there are in all."""
    out = ", ".join(values[:shown])
    if len(values) > shown:
        out += f", ... ({len(values)} in all)"
    return out


class WhereError(ValueError):
    """A mistake in a where expression, naming the token and its position."""

    def __init__(self, source, what):
        super().__init__(f"where '{source}': {what}")
        self.source = source
        self.what = what


@dataclass
class Token:
    kind: str  # word, quoted, relation, open, close, comma, end
    spelling: str
    text: str
    position: int


def tokens_of(source):
    tokens = []
    utf8 = source.encode("utf-8")
    # Byte offset of each character, for positions as the command line gives them.
    offsets = np.cumsum([0] + [len(ch.encode("utf-8")) for ch in source]).tolist()

    def add(kind, start, end, text=None):
        spelling = source[start:end]
        tokens.append(Token(kind, spelling, spelling if text is None else text, offsets[start] + 1))

    i = 0
    while i < len(source):
        ch = source[i]
        if ch in BLANKS:
            i += 1
        elif ch in "(),":
            add({"(": "open", ")": "close", ",": "comma"}[ch], i, i + 1)
            i += 1
        elif ch in "'\"":
            close = source.find(ch, i + 1)
            if close < 0:
                raise WhereError(source, f"the string opened by {ch} at position {offsets[i] + 1} "
                                         "is not closed")
            add("quoted", i, close + 1, source[i + 1:close])
            i = close + 1
        elif ch in "=!<>":
            two = i + 1 < len(source) and source[i + 1] == "="
            if ch == "!" and not two:
                raise WhereError(source, f"'!' at position {offsets[i] + 1} is no relation; "
                                         "'not equal' is !=")
            add("relation", i, i + (2 if two else 1))
            if ch == "=":
                tokens[-1].text = "=="
            i += 2 if two else 1
        else:
            end = i
            while end < len(source) and source[end] not in ENDS_WORD:
                end += 1
            add("word", i, end)
            i = end
    tokens.append(Token("end", "", "", len(utf8) + 1))
    return tokens


@dataclass
class Literal:
    text: str
    position: int
    number: float = None


@dataclass
class Comparison:
    name: str
    position: int
    relation: str  # ==, !=, <, <=, >, >= or in
    values: list = field(default_factory=list)


@dataclass
class Node:
    kind: str  # comparison, not, and, or
    comparison: Comparison = None
    operands: tuple = ()


def _is_keyword(token, keyword):
    return token.kind == "word" and token.text.lower() == keyword


def _found(token):
    if token.kind == "end":
        return "the end of the expression"
    return f"'{token.spelling}' at position {token.position}"


class _Parser:
    def __init__(self, source):
        self.source = source
        self.tokens = tokens_of(source)
        self.next = 0

    def peek(self, ahead=0):
        return self.tokens[min(self.next + ahead, len(self.tokens) - 1)]

    def take(self):
        token = self.peek()
        if self.next + 1 < len(self.tokens):
            self.next += 1
        return token

    def fail(self, what):
        raise WhereError(self.source, what)

    def expression(self):
        e = self.disjunction()
        if self.peek().kind != "end":
            self.fail("expected and, or or the end after a comparison, found "
                      + _found(self.peek()))
        return e

    def disjunction(self):
        e = self.conjunction()
        while _is_keyword(self.peek(), "or"):
            self.take()
            e = Node("or", operands=(e, self.conjunction()))
        return e

    def conjunction(self):
        e = self.unary()
        while _is_keyword(self.peek(), "and"):
            self.take()
            e = Node("and", operands=(e, self.unary()))
        return e

    def unary(self):
        if _is_keyword(self.peek(), "not"):
            self.take()
            return Node("not", operands=(self.unary(),))
        if self.peek().kind == "open":
            opened = self.take()
            e = self.disjunction()
            if self.peek().kind != "close":
                self.fail(f"expected ')' to close the '(' at position {opened.position}, found "
                          + _found(self.peek()))
            self.take()
            return e
        return self.comparison()

    def comparison(self):
        name = self.take()
        first = name.text[:1]
        is_name = (name.kind == "word" and first != "" and
                   (("a" <= first.lower() <= "z") or first == "_") and
                   not any(_is_keyword(name, k) for k in KEYWORDS))
        if not is_name:
            self.fail("expected a name (a setting, a result column, sweep, run_id or status), "
                      "found " + _found(name))
        if self.peek().kind == "relation":
            relation = self.take()
            return Node("comparison", Comparison(name.text, name.position, relation.text,
                                                 [self.value(relation)]))
        negated = _is_keyword(self.peek(), "not") and _is_keyword(self.peek(1), "in")
        if negated:
            self.take()
        if not _is_keyword(self.peek(), "in"):
            self.fail(f"expected ==, !=, <, <=, >, >= or in after '{name.text}', found "
                      + _found(self.peek()))
        e = Node("comparison", Comparison(name.text, name.position, "in",
                                          self.list(self.take())))
        return Node("not", operands=(e,)) if negated else e

    def value(self, after):
        token = self.take()
        if token.kind not in ("word", "quoted"):
            self.fail(f"expected a value (a number, a word or a quoted string) after "
                      f"'{after.spelling}' at position {after.position}, found " + _found(token))
        return Literal(token.text, token.position, as_number(token.text))

    def list(self, keyword):
        if self.peek().kind != "open":
            self.fail(f"expected '(' after '{keyword.spelling}' at position {keyword.position}, "
                      "found " + _found(self.peek()))
        opened = self.take()
        values = [self.value(opened)]
        while self.peek().kind == "comma":
            values.append(self.value(self.take()))
        if self.peek().kind != "close":
            self.fail(f"expected ',' or ')' in the list opened at position {opened.position}, "
                      "found " + _found(self.peek()))
        self.take()
        return values


def parse(source):
    """The expression's tree; WhereError for a syntax error."""
    return _Parser(source).expression()


@dataclass
class Column:
    name: str
    kind: str  # identity, setting, result
    numeric: bool
    # What an equality may name: the store's values (settings, sweep, run_id; numbers in
    # ascending order, text alphabetically), every status; empty for results (not checked).
    values: list = field(default_factory=list)


def _edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1]))
            diagonal = above
    return row[len(b)]


class StoreColumns:
    """The columns an expression may name, over every sweep of a store (a setting is a number
    when every run of the store has a number for it), as src/query/columns.cpp reads them."""

    def __init__(self, sweeps):
        sweep_names, run_ids, settings, order, results = set(), set(), {}, {}, {}
        for sweep in sweeps:
            sweep_names.add(sweep.name)
            run_ids.update(sweep.run_ids)
            for position, key in enumerate(sweep.settings):
                settings.setdefault(key, set()).update(sweep.index.config[key])
                order.setdefault(key, position)
            for name in sweep.results:
                numeric = sweep.column(name).dtype != object
                results[name] = results.get(name, True) and numeric
        self.columns = [Column("sweep", "identity", False, sorted(sweep_names)),
                        Column("run_id", "identity", False, sorted(run_ids)),
                        Column("status", "identity", False, list(STATUS))]
        for key in sorted(settings, key=lambda k: (order[k], k)):
            seen = sorted(settings[key])
            numeric = bool(seen) and all(as_number(v) is not None for v in seen)
            if numeric:
                seen.sort(key=as_number)
            self.columns.append(Column(key, "setting", numeric, seen))
        self.columns += [Column(name, "result", numeric, [])
                         for name, numeric in sorted(results.items()) if name not in settings]
        self._by_name = {c.name: c for c in self.columns}

    def find(self, name):
        return self._by_name.get(name)

    def known_names(self, unknown):
        """For the message about an unknown name: every setting, the results resembling it,
        and run_id, status, sweep."""
        def of(kind):
            return [c.name for c in self.columns if c.kind == kind]
        results = of("result")
        alike = [r for r in results if _edit_distance(r, unknown) <= 2 or unknown in r or
                 r in unknown]
        everything = len(self.columns)
        of_results = f"{len(results)} results (--columns all shows them)"
        shown = (f"results like it: {listed(alike, everything)}, of {of_results}" if alike
                 else of_results)
        return (f"settings: {listed(of('setting'), everything)}; {shown}; and "
                f"{listed(of('identity'), everything)}")

    def values(self, sweep, column):
        """A sweep's values of a column, one per run: floats (NaN where none) for a numeric
        column, str for text; None when the sweep lacks the column (an older schema)."""
        if column.kind == "identity":
            if column.name == "sweep":
                return np.full(len(sweep), sweep.name, dtype=object)
            if column.name == "run_id":
                return np.array(sweep.run_ids, dtype=object)
            return np.array(sweep.index.status, dtype=object)
        if column.kind == "setting":
            if column.name not in sweep.settings:
                return None
            text = sweep.index.config[column.name]
            if column.numeric:
                return np.array([as_number(v) for v in text], dtype=float)
            return np.array(text, dtype=object)
        if column.name not in sweep.results:
            return None
        values = sweep.column(column.name)
        if values.dtype == object:
            return values
        if column.numeric:
            return values.astype(float)
        from .store import shortest_text  # a number in a sweep where others hold text
        return np.array([shortest_text(float(v)) for v in values.tolist()], dtype=object)


def _at(position):
    return f"at position {position}"


def _is_known(column, literal):
    if column.numeric:
        return any(as_number(v) == literal.number for v in column.values)
    return literal.text in column.values


def check(node, columns, source):
    """WhereError naming the token and its position for an unknown name, a word where the
    column holds numbers, an ordering of text, or a value an equality or `in` names and no
    run of the store has."""
    if node.kind != "comparison":
        for operand in node.operands:
            check(operand, columns, source)
        return
    c = node.comparison
    column = columns.find(c.name)
    if column is None:
        raise WhereError(source, f"unknown name '{c.name}' {_at(c.position)} "
                                 f"({columns.known_names(c.name)})")
    ordering = c.relation in ORDERINGS
    if ordering and not column.numeric:
        raise WhereError(source, f"'{c.name} {c.relation} {c.values[0].text}' {_at(c.position)} "
                                 f"orders text; {c.name} takes ==, != or in")
    for literal in c.values:
        if column.numeric and literal.number is None:
            raise WhereError(source, f"'{literal.text}' {_at(literal.position)} is not a number, "
                                     f"and {c.name} is one")
        if not ordering and column.values and not _is_known(column, literal):
            raise WhereError(source, f"no run has {c.name} '{literal.text}' "
                                     f"({_at(literal.position)}); the store's runs have "
                                     f"{c.name} {listed(column.values)}")


def _equal(values, column, literal):
    if column.numeric:
        if literal.number is None:
            return np.zeros(len(values), dtype=bool)
        return values == literal.number  # NaN equals nothing
    return np.array([v == literal.text for v in values.tolist()], dtype=bool)


def matches(node, columns, sweep, rows):
    """Which of the runs (rows of the sweep) satisfy the expression: a bool array. A run
    without the column, or with NaN, satisfies no comparison; `!=` and `not` negate that."""
    if node.kind == "not":
        return ~matches(node.operands[0], columns, sweep, rows)
    if node.kind in ("and", "or"):
        left = matches(node.operands[0], columns, sweep, rows)
        right = matches(node.operands[1], columns, sweep, rows)
        return left & right if node.kind == "and" else left | right
    c = node.comparison
    column = columns.find(c.name)
    values = columns.values(sweep, column)
    if values is None:
        held = np.zeros(len(rows), dtype=bool)
        return ~held if c.relation == "!=" else held
    values = values[rows]
    if c.relation in ("==", "!="):
        held = _equal(values, column, c.values[0])
        return ~held if c.relation == "!=" else held
    if c.relation == "in":
        held = np.zeros(len(values), dtype=bool)
        for literal in c.values:
            held |= _equal(values, column, literal)
        return held
    y = c.values[0].number
    with np.errstate(invalid="ignore"):
        return {"<": np.less, "<=": np.less_equal, ">": np.greater,
                ">=": np.greater_equal}[c.relation](values, y)
