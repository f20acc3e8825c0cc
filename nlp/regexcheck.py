"""Refuses lexicon regular expressions whose matching time can explode.

Python's `re` backtracks: a pattern that can match the same text in many ways, such
as ``(\\d|1)+`` or ``(a+)+``, takes exponential time on a line of "1"s that does not
match, and a county's lexicon file is read by a bot that must answer every message.
A pattern is therefore checked when it is loaded, on its parsed form:

1. no quantifier that can repeat (``*``, ``+``, ``{m,n}`` with n > 1) inside a group that
   is itself repeated — the shape almost every catastrophic pattern has;
2. no ambiguous repetition: on the pattern's position automaton (one state per
   character class, Glushkov's construction), no state may be left and re-entered by two
   different paths reading the same text (exponential backtracking), and no two looping
   states may both be able to consume the same run (``\\d*\\d*``, ``.*.*``: polynomial).

The members of a repeated character class count as alternatives: the parser folds
``(\\d|1)`` into ``[\\d1]``. Rule 2 compares character classes on the characters they name,
their range ends and a palette of representative characters; it takes ``.`` to match
anything, an atomic group for an ordinary one, and a lookaround for an empty match whose
own pattern is checked apart, so it errs on the side of refusing. Back-references are
refused outright: nothing bounds their cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from re import _constants as sre
from re import _parser as sre_parse

# A bounded repeat up to this count is expanded copy by copy; a larger one is judged as
# if unbounded, which can only make the check stricter.
_EXPANDED_REPEAT = 16
_MAX_POSITIONS = 3000

# Characters tried when two classes are compared, besides those the classes name.
_PALETTE = tuple(
    "09azAZ_ \t\n\r\x0b\x0c\x00\x7f!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~"
    "éßΩЖ٣①½\u00a0\u2028\u3000Ａ０中的一〇。，：！？、～😀\U0010ffff"
)


class UnsafeRegex(ValueError):
    """A pattern whose matching time is not bounded by the length of the text."""


def check_regex(pattern: str) -> None:
    """Raise UnsafeRegex when `pattern` could backtrack catastrophically (see the module doc)."""
    try:
        parsed = sre_parse.parse(pattern)
        pending = [(list(parsed), parsed.state.flags)]
        while pending:
            nodes, flags = pending.pop()
            builder = _Builder()
            builder.sequence(nodes, flags, repeated=False)
            builder.check()
            pending.extend(builder.lookarounds)
    except sre.error as exc:
        raise UnsafeRegex(f"cannot parse: {exc}") from exc
    except RecursionError as exc:
        raise UnsafeRegex("groups nested too deeply to check") from exc


@dataclass(frozen=True, slots=True)
class _CharClass:
    chars: frozenset[str] = frozenset()
    ranges: tuple[tuple[int, int], ...] = ()
    categories: tuple[object, ...] = ()
    negated: bool = False
    anything: bool = False
    ignore_case: bool = False
    ascii_only: bool = False

    def contains(self, ch: str) -> bool:
        if self.anything:
            return True
        if self.ignore_case:
            return any(self._contains(v) for v in {ch, ch.lower(), ch.upper()} if len(v) == 1)
        return self._contains(ch)

    def _contains(self, ch: str) -> bool:
        code = ord(ch)
        hit = (
            ch in self.chars
            or any(lo <= code <= hi for lo, hi in self.ranges)
            or any(_in_category(cat, ch, self.ascii_only) for cat in self.categories)
        )
        return hit != self.negated

    def is_plain(self) -> bool:
        """Only listed characters (the common case: a literal)."""
        return not (self.ranges or self.categories or self.negated or self.anything)

    def folded(self) -> set[str]:
        if not self.ignore_case:
            return set(self.chars)
        return {v for ch in self.chars for v in (ch, ch.lower(), ch.upper()) if len(v) == 1}

    def candidates(self) -> set[str]:
        out = set(self.chars)
        for lo, hi in self.ranges:
            if hi - lo < 256:
                out.update(map(chr, range(lo, hi + 1)))
            else:
                out.update((chr(lo), chr(hi)))
        if self.ignore_case:
            out.update({v for ch in list(out) for v in (ch.lower(), ch.upper()) if len(v) == 1})
        return out


def _in_category(category: object, ch: str, ascii_only: bool) -> bool:
    if category in (sre.CATEGORY_DIGIT, sre.CATEGORY_NOT_DIGIT):
        hit = ch.isdecimal()
    elif category in (sre.CATEGORY_SPACE, sre.CATEGORY_NOT_SPACE):
        hit = ch.isspace()
    else:
        hit = ch.isalnum() or ch == "_"
    if ascii_only and not ch.isascii():
        hit = False
    negative = category in (sre.CATEGORY_NOT_DIGIT, sre.CATEGORY_NOT_SPACE, sre.CATEGORY_NOT_WORD)
    return hit != negative


def _overlap(a: _CharClass, b: _CharClass) -> bool:
    if a.is_plain() and b.is_plain():
        return not a.folded().isdisjoint(b.folded())
    return any(a.contains(ch) and b.contains(ch) for ch in a.candidates() | b.candidates() | set(_PALETTE))


# (first positions, last positions, number of ways to match the empty string); lists
# with repeats and a count, not sets and a flag, because the same step reachable twice
# is two paths for a backtracking engine. Counts stop at 2: more adds nothing to the check.
_Piece = tuple[list[int], list[int], int]
_EMPTY: _Piece = ([], [], 1)


def _cap(positions: list[int]) -> list[int]:
    seen: dict[int, int] = {}
    out = []
    for p in positions:
        seen[p] = seen.get(p, 0) + 1
        if seen[p] <= 2:
            out.append(p)
    return out


@dataclass(slots=True)
class _Builder:
    """Glushkov's position automaton of one pattern, built from its parse tree."""

    classes: list[_CharClass] = field(default_factory=list)
    follow: list[list[int]] = field(default_factory=list)
    lookarounds: list[tuple[list, int]] = field(default_factory=list)

    def position(self, cls: _CharClass) -> _Piece:
        if len(self.classes) >= _MAX_POSITIONS:
            raise UnsafeRegex("too complex to check (write it shorter)")
        self.classes.append(cls)
        self.follow.append([])
        p = len(self.classes) - 1
        return [p], [p], 0

    def concat(self, a: _Piece, b: _Piece) -> _Piece:
        first_a, last_a, empty_a = a
        first_b, last_b, empty_b = b
        for p in last_a:
            self.follow[p] = _cap(self.follow[p] + first_b)
        return _cap(first_a + first_b * empty_a), _cap(last_b + last_a * empty_b), min(empty_a * empty_b, 2)

    def sequence(self, nodes, flags: int, repeated: bool) -> _Piece:
        piece = _EMPTY
        for op, av in nodes:
            piece = self.concat(piece, self.node(op, av, flags, repeated))
        return piece

    def node(self, op, av, flags: int, repeated: bool) -> _Piece:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            if op is sre.IN and repeated:
                _check_members(av, flags)
            return self.position(_char_class(op, av, flags))
        if op is sre.BRANCH:
            pieces = [self.sequence(branch, flags, repeated) for branch in av[1]]
            return (
                _cap([p for first, _, _ in pieces for p in first]),
                _cap([p for _, last, _ in pieces for p in last]),
                min(sum(empty for _, _, empty in pieces), 2),
            )
        if op is sre.SUBPATTERN:
            _, add_flags, del_flags, body = av
            return self.sequence(body, (flags | add_flags) & ~del_flags, repeated)
        if op is sre.ATOMIC_GROUP:
            return self.sequence(av, flags, repeated)
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            return self.repeat(*av, flags=flags, repeated=repeated)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            self.lookarounds.append((list(av[1]), flags))
            return _EMPTY
        if op is sre.AT:
            return _EMPTY
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise UnsafeRegex("back-references are not allowed")
        raise UnsafeRegex(f"unsupported construct {op}")

    def repeat(self, low: int, high: int, body, flags: int, repeated: bool) -> _Piece:
        if high <= 1:
            if high == 0:
                return _EMPTY
            first, last, empty = self.sequence(body, flags, repeated)
            return (first, last, min(empty + 1, 2)) if low == 0 else (first, last, empty)
        if repeated:
            raise UnsafeRegex("nested quantifier: a repeated group contains a quantifier that can repeat")
        piece = _EMPTY
        if high == sre.MAXREPEAT or high > _EXPANDED_REPEAT:
            for _ in range(min(max(low, 1), _EXPANDED_REPEAT) - 1):
                piece = self.concat(piece, self.sequence(body, flags, repeated=True))
            first, last, empty = self.sequence(body, flags, repeated=True)
            for p in last:
                self.follow[p] = _cap(self.follow[p] + first)
            # The engine ends a loop at an iteration that matched nothing, so a loop with
            # no iteration is the only empty way through x*.
            return self.concat(piece, (first, last, empty if low else 1))
        for _ in range(low):
            piece = self.concat(piece, self.sequence(body, flags, repeated=True))
        # x{0,3} tries 3, 2, 1 or 0 copies: (x(x(x)?)?)?, not x?x?x?
        tail = _EMPTY
        for _ in range(high - low):
            first, last, empty = self.concat(self.sequence(body, flags, repeated=True), tail)
            tail = (first, last, min(empty + 1, 2))
        return self.concat(piece, tail)

    def check(self) -> None:
        follow = [sorted(set(f)) for f in self.follow]
        self._check_duplicate_steps(follow)
        overlap_cache: dict[tuple[int, int], bool] = {}

        def compatible(p: int, q: int) -> bool:
            if p == q:
                return True
            key = (p, q) if p < q else (q, p)
            hit = overlap_cache.get(key)
            if hit is None:
                hit = overlap_cache[key] = _overlap(self.classes[p], self.classes[q])
            return hit

        graph: dict[tuple[int, int], list[tuple[int, int]]] = {}
        todo = [(p, p) for p in range(len(self.classes))]
        while todo:
            pair = todo.pop()
            if pair in graph:
                continue
            a, b = pair
            successors = [(x, y) for x in follow[a] for y in follow[b] if compatible(x, y)]
            graph[pair] = successors
            todo.extend(s for s in successors if s not in graph)
        components = _strongly_connected(graph)
        for members in components:
            if len(members) > 1 and any(a == b for a, b in members) and any(a != b for a, b in members):
                raise UnsafeRegex(_AMBIGUOUS)
        self._check_polynomial(graph, components)

    def _check_duplicate_steps(self, follow: list[list[int]]) -> None:
        """The same step reachable in two ways inside a loop: ``(x?x?)*`` reads "x" twice over."""
        reach = _strongly_connected({(p,): [(q,) for q in follow[p]] for p in range(len(follow))})
        component_of = {p: i for i, members in enumerate(reach) for (p,) in members}
        for p, targets in enumerate(self.follow):
            seen: set[int] = set()
            for q in targets:
                if q in seen and component_of[p] == component_of[q]:
                    raise UnsafeRegex(_AMBIGUOUS)
                seen.add(q)

    def _check_polynomial(self, graph, components) -> None:
        """Two looping states p ≠ q such that one text can loop on p, lead from p to q and loop on q."""
        component_of = {node: i for i, members in enumerate(components) for node in members}
        # Components come out in reverse topological order: successors are finished first.
        reach: list[int] = [0] * len(components)
        for i, members in enumerate(components):
            bits = 0
            for node in members:
                for succ in graph[node]:
                    j = component_of[succ]
                    bits |= (1 << j) | reach[j]
            reach[i] = bits
        for (a, b) in graph:
            if a == b:
                continue
            mid = component_of[(a, b)]
            if reach[component_of[(a, a)]] >> mid & 1 and reach[mid] >> component_of[(b, b)] & 1:
                raise UnsafeRegex(_POLYNOMIAL)


_AMBIGUOUS = "ambiguous repetition: a repeated part can match the same text in more than one way"
_POLYNOMIAL = "overlapping repetitions: two repeated parts can take turns at the same run of characters"


def _char_class(op, av, flags: int) -> _CharClass:
    ignore_case = bool(flags & sre.SRE_FLAG_IGNORECASE)
    ascii_only = bool(flags & sre.SRE_FLAG_ASCII)
    if op is sre.LITERAL:
        return _CharClass(chars=frozenset(chr(av)), ignore_case=ignore_case)
    if op is sre.NOT_LITERAL:
        return _CharClass(chars=frozenset(chr(av)), negated=True, ignore_case=ignore_case)
    if op is sre.ANY:
        return _CharClass(anything=True)
    chars: set[str] = set()
    ranges: list[tuple[int, int]] = []
    categories: list[object] = []
    negated = False
    for item_op, item in av:
        if item_op is sre.NEGATE:
            negated = True
        elif item_op is sre.LITERAL:
            chars.add(chr(item))
        elif item_op is sre.RANGE:
            ranges.append(item)
        elif item_op is sre.CATEGORY:
            categories.append(item)
        else:
            return _CharClass(anything=True)
    return _CharClass(frozenset(chars), tuple(ranges), tuple(categories), negated, False, ignore_case, ascii_only)


def _check_members(items, flags: int) -> None:
    """The members of a repeated class must not overlap: the parser folds ``(\\d|1)`` into
    ``[\\d1]``, and one more alternative (``(\\d|1|收到)``) would unfold it into a choice."""
    if any(op is sre.NEGATE for op, _ in items):
        return
    members = [_char_class(sre.IN, [item], flags) for item in items]
    for i, a in enumerate(members):
        if any(_overlap(a, b) for b in members[i + 1 :]):
            raise UnsafeRegex(_AMBIGUOUS)


def _strongly_connected(graph: dict) -> list[list]:
    """Tarjan's algorithm without recursion; components in reverse topological order."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    components: list[list] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph[succ])))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                components.append(members)
    return components
