"""The HTML stepper's frames: what every drawn box shows at each frame, as changes from the frame before.

The page draws the finished graph once (Graphviz); each frame then rewrites a few boxes. Here every
drawn box (a Value, or a neuron or layer box when collapsed) is an *item* with slots: 0 dimmed (not
computed yet), 1 its fill, 2 its hover text, 3... the text of its rows under the title. A frame is
the list of slots that changed since the frame before, so the page moves by applying (or undoing)
only those.

The texts and colours are read back from the labels that the drawing code writes (`draw_value`,
`draw_graph`), so the page shows what `Stepper.draw(k)` draws; nothing here formats a grad itself.
Frames: 0 the leaves, one per forward item (a node, or a box once all its nodes are computed), the
seed, then one per backward step (a node, or a box when collapsed).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import graphviz

from autograd_lite.viz_base import DrawOptions, Moment, draw_value, kind_of, node_fill, use_grad_colours
from autograd_lite.viz_collapse import Plan, box_outputs, box_title, plan
from autograd_lite.viz_draw import draw_graph, hover_lines
from autograd_lite.viz_names import fmt, forward_line, node_ids, node_names
from autograd_lite.viz_nodes import Node, is_constant, parents

State = list[Any]  # [dimmed 0/1, fill, hover text, [row text, bold 0/1], ...]
Look = tuple[str, str, list[list[Any]]]  # (fill, hover text, rows)

_NODE = re.compile(r'^\t(\S+) \[label=<(<TABLE.*?</TABLE>)>(.*)$', re.M)
_TIP = re.compile(r'tooltip="((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")  # in a DOT string: \n, \l, \r end a line; \\ and \" are themselves
_EDGE = re.compile(r"^\t(\S+) -> (\S+)(.*)$", re.M)
_CELL = re.compile(r"<TD[^>]*>(.*?)</TD>")
_FILL = re.compile(r'BGCOLOR="([^"]+)"')
_DATA = re.compile(r"^(data|out) (.*?)( \| |$)")  # the value rows: "data ?" until computed


def looks(source: str) -> dict[str, Look]:
    """Each table-labelled node of DOT source: its fill, hover text and rows under the title (text, bold)."""
    found = {}
    for node_id, label, attrs in _NODE.findall(source):
        fill, tip = _FILL.search(label), _TIP.search(attrs)
        rows = [[html.unescape(re.sub(r"<[^>]+>", "", cell)), int(cell.startswith("<B>"))]
                for cell in _CELL.findall(label)[1:]]
        hover = _ESCAPE.sub(_unescape, tip.group(1) if tip else "")
        found[node_id] = (fill.group(1) if fill else "#ffffff", hover, rows)
    return found


def _unescape(m: re.Match[str]) -> str:
    return "\n" if m.group(1) in "nlr" else m.group(1)


def labels(source: str) -> dict[str, tuple[str, list[list[Any]]]]:
    """Each table-labelled node of DOT source: its fill and its rows under the title (text, bold)."""
    return {node_id: (fill, rows) for node_id, (fill, _, rows) in looks(source).items()}


def edges_into(source: str) -> dict[str, list[str]]:
    """The drawn edges of DOT source, as 'tail->head' titles by head (invisible ones left out)."""
    into: dict[str, list[str]] = {}
    for tail, head, attrs in _EDGE.findall(source):
        if "invis" not in attrs:
            into.setdefault(head, []).append(f"{tail}->{head}")
    return into


def unknown(rows: Iterable[list[Any]]) -> list[list[Any]]:
    """Rows as before the forward pass reached the box: its values are '?'."""
    return [[_DATA.sub(r"\1 ?\3", text), bold] for text, bold in rows]


@dataclass
class Item:
    """One drawn box and the graph nodes it stands for."""

    id: str  # the Graphviz node (a Value's box, or a neuron or layer box)
    parts: list[str]  # every Graphviz node dimmed with it (a Value's op node too)
    head: str | None  # the Graphviz node its input edges go into (None: a leaf)
    members: list[Node] = field(default_factory=list)


@dataclass
class Frames:
    """The page's frames (see the module's docstring), ready for JSON."""

    items: list[Item]
    slots: list[list[str]]  # each item's row texts as the page's SVG has them (to find them there)
    start: list[State]
    changes: list[list[list[Any]]] = field(default_factory=list)  # per frame: [item, slot, value]
    lit: list[list[Any]] = field(default_factory=list)  # per frame: [items lit, edge titles lit]
    captions: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)  # per frame: the backward step shown (-1: none yet)
    forward: int = 0  # how many forward frames (after frame 0)

    def json(self) -> dict[str, Any]:
        return {"items": [[it.id, it.parts] for it in self.items], "slots": self.slots, "start": self.start,
                "changes": self.changes, "lit": self.lit, "captions": self.captions, "steps": self.steps,
                "forward": self.forward}


class FrameBuilder:
    """Frames of a recorded backward pass (`stepper_html.Recording`), drawn with `opts`."""

    def __init__(self, rec: Any, opts: DrawOptions, page_source: str) -> None:
        self.rec, self.opts = rec, opts
        self.ids = node_ids(rec.order)
        self.names = node_names(rec.order, opts.digits, opts.params)  # as the drawing names them
        self.scale = rec.scale_for(opts.hide_constants)  # the grad of the darkest colour
        # the boxes as the page draws them (its hide_constants may not be the Stepper's)
        self.laid: Plan | None = None if opts.collapse is None else plan(
            rec.order, opts.params, opts.collapse, opts.hide_constants)
        self.into = edges_into(page_source)
        self.items = self._items()
        self.item_of = {m: i for i, it in enumerate(self.items) for m in it.members}
        drawn = labels(page_source)
        self.slots = [[text for text, _ in drawn[it.id][1]] for it in self.items]

    def _items(self) -> list[Item]:
        rec, ids, laid = self.rec, self.ids, self.laid
        shown = [n for n in rec.order if not (self.opts.hide_constants and is_constant(n))]
        if laid is None:
            return [Item(ids[n], [ids[n], ids[n] + "op"] if parents(n) else [ids[n]],
                         ids[n] + "op" if parents(n) else None, [n]) for n in shown]
        items = [Item(box.id, [box.id], box.id if any(parents(m) for m in box.members) else None,
                      list(box.members)) for box in laid.boxes]
        return items + [Item(ids[n], [ids[n], ids[n] + "op"] if parents(n) else [ids[n]],
                             ids[n] + "op" if parents(n) else None, [n]) for n in laid.loose]

    def build(self, seed_caption: str) -> Frames:
        rec, digits = self.rec, self.opts.digits
        order = {n: i for i, n in enumerate(rec.order)}
        # an item is computed when the last of its nodes is: the forward frames in that order
        done = sorted((max(order[m] for m in it.members), i) for i, it in enumerate(self.items) if it.head)
        forward = [i for _, i in done]
        first = self._states(Moment(rec.initial, scale=self.scale), None)
        start: list[State] = [[1 if it.head else 0, fill, tip, unknown(rows) if it.head else rows]
                              for it, (fill, tip, rows) in zip(self.items, first)]
        frames = Frames(self.items, self.slots, start, forward=len(forward))
        state = [[s[0], s[1], s[2], *s[3]] for s in start]
        frames.changes.append([])
        frames.lit.append([[], []])
        frames.captions.append(f"forward: the inputs and parameters of {rec.names[rec.root]}")
        frames.steps.append(-1)
        for f, i in enumerate(forward, 1):
            fill, tip, rows = first[i]
            self._change(frames, state, {i: [0, fill, tip, *rows]})
            frames.lit.append(self._lit(i))
            line = self._forward_text(self.items[i], digits)
            frames.captions.append(f"forward {f} of {len(forward)}: {line}")
            frames.steps.append(-1)
        for k in range(-1, len(rec.steps)):
            touched, moment = self._touched(k)
            states = self._states(moment, touched)
            self._change(frames, state, {i: [0, fill, tip, *rows]
                                         for i, (fill, tip, rows) in zip(touched, states)})
            at = rec.root if k < 0 else rec.steps[k].node
            frames.lit.append(self._lit(self.item_of[at]))
            caption = seed_caption if k < 0 else rec.caption(k)
            if k == len(rec.steps) - 1:
                caption += f". Done: every grad is final, as after {rec.names[rec.root]}.backward()."
            frames.captions.append(caption)
            frames.steps.append(k)
        return frames

    def _touched(self, k: int) -> tuple[list[int], Moment]:
        """The items step k (k = -1: the seed) changes, and the moment to draw them at."""
        rec, scale = self.rec, self.scale
        if k >= 0 and self.laid is not None:
            return list(range(len(self.items))), rec.moment(k, hide_constants=self.opts.hide_constants,
                                                            digits=self.opts.digits)
        if k < 0:
            grads = dict(rec.initial)
            grads[rec.root] = rec.seeded
            final = frozenset(n for n, last in rec.final_after.items() if last < 0) | {rec.root}
            lit = frozenset([rec.root])
            return self._items_of(lit), Moment(grads, rec.root, final, (), 0, "", scale, lit)
        step = rec.steps[k]
        grads = dict(zip(step.parents, step.after))
        final = frozenset(p for p in step.parents if rec.final_after[p] <= k)
        return self._items_of(step.parents), Moment(grads, step.node, final, (), 0, "", scale)

    def _items_of(self, nodes: Iterable[Node]) -> list[int]:
        return list(dict.fromkeys(self.item_of[n] for n in nodes if n in self.item_of))

    def _states(self, moment: Moment, which: list[int] | None) -> list[Look]:
        """(fill, hover text, rows) of the items `which` (all: None) at `moment`, as the drawing code
        labels them."""
        which = list(range(len(self.items))) if which is None else which
        if self.laid is not None:  # collapsed: the whole (small) drawing of the moment
            drawn = looks(draw_graph(self.rec.root, self.opts, order=self.rec.order, moment=moment).source)
            return [drawn[self.items[i].id] for i in which]
        out = []
        by_grad = use_grad_colours(self.opts, self.rec.order, moment)
        for i in which:  # one Value's box at a time: only those that change are drawn
            node = self.items[i].members[0]
            grad = moment.grads.get(node, self.rec.initial[node])
            kind = kind_of(node, self.rec.root, self.opts.param_set)
            fill = node_fill(self.opts, by_grad, kind, grad, moment.scale)
            scratch = graphviz.Digraph()
            draw_value(scratch, "x", node, kind, self.names[node], grad, fill, self.opts.digits,
                       Moment({}, final=moment.final & {node}),
                       hover=hover_lines(node, kind, self.names, grad, self.opts.digits))
            out.append(looks("".join(scratch.body))["x"])
        return out

    def _change(self, frames: Frames, state: list[list[Any]], new: dict[int, list[Any]]) -> None:
        changes = []
        for i, values in new.items():
            for slot, value in enumerate(values):
                if state[i][slot] != value:
                    state[i][slot] = value
                    changes.append([i, slot, value])
        frames.changes.append(changes)

    def _lit(self, i: int) -> list[Any]:
        head = self.items[i].head
        return [[i], self.into.get(head, []) if head else []]

    def _forward_text(self, item: Item, digits: int) -> str:
        names = self.rec.names
        box = self.laid.box_of.get(item.members[0]) if self.laid is not None else None
        if box is None:
            return forward_line(item.members[0], names, digits)
        outs = box_outputs(box)
        shown = ", ".join(f"{names[o]} = {fmt(o.data, digits)}" for o in outs[:3])
        return f"{box_title(box)} computes {shown}" + (f" and {len(outs) - 3} more" if len(outs) > 3 else "")


__all__ = ["FrameBuilder", "Frames", "Item", "edges_into", "labels", "looks", "unknown"]
