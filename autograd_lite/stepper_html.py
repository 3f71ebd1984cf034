"""The HTML stepper: one self-contained page (or notebook output) playing forward and backward.

Graphviz lays the graph out once, when the page is built; the page holds that
SVG, the numbers of every step, and a small script that, for each frame,
rewrites the grads, colours and highlights. No network, no Jupyter kernel.
Without JavaScript (a static notebook export that strips scripts) the page
still shows the finished graph and the whole ledger.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import TYPE_CHECKING, Any

from autograd_lite.engine import Constant
from autograd_lite.viz_base import HIGHLIGHT, NEGATIVE, POSITIVE, Moment
from autograd_lite.viz_draw import draw_graph
from autograd_lite.viz_names import fmt, forward_line, node_ids

if TYPE_CHECKING:
    from autograd_lite.stepper import Stepper


def stepper_data(stepper: Stepper, hide_constants: bool = True, digits: int = 4) -> dict[str, Any]:
    """Everything the page's script needs, as plain JSON-able values."""
    order, names, root = stepper.order, stepper.names, stepper.root
    ids = node_ids(order)
    shown = [n for n in order if not (hide_constants and isinstance(n, Constant))]
    is_shown = set(shown)

    def grad(value: float) -> list[Any]:
        return [fmt(value, digits), value]

    return {
        "root": ids[root],
        "scale": stepper.scale_for(hide_constants),
        "leaves": [ids[n] for n in shown if not n._prev],
        "forward": [{"node": ids[n], "inputs": [ids[p] for p in n._prev if p in is_shown],
                     "line": forward_line(n, names, digits)} for n in shown if n._prev],
        "initial": {ids[n]: grad(stepper.initial[n]) for n in shown},
        "seed": [ids[root], *grad(stepper.seeded)],
        "seedCaption": seed_caption(stepper, digits),
        "steps": [{"node": ids[s.node], "inputs": [ids[p] for p in s.parents if p in is_shown],
                   "updates": [[ids[p], *grad(after)] for p, after in zip(s.parents, s.after)
                               if p in is_shown],
                   "lines": s.ledger(names, hide_constants=hide_constants, digits=digits),
                   "caption": stepper.caption(s.index)} for s in stepper.steps],
        "finalAfter": {ids[n]: stepper.final_after[n] for n in shown},
        "name": names[root],
    }


def seed_caption(stepper: Stepper, digits: int = 4) -> str:
    """What backward starts from: dL/dL = 1, or the grad the Stepper was given (plus what L had)."""
    name, seed, before = stepper.names[stepper.root], stepper.seed, stepper.initial[stepper.root]
    why = f"d{name}/d{name} = 1"
    if seed != 1:
        why = f"the seed given: Stepper({name}, grad={fmt(seed, digits)})"
    if before != 0:
        why = f"{fmt(before, digits)} it had + {why}"
    return f"backward starts: {name}.grad = {fmt(stepper.seeded, digits)} ({why})"


def stepper_html(stepper: Stepper, *, full_page: bool = True, rankdir: str = "LR", color: str = "grad",
                 show_local: bool = True, hide_constants: bool = True, legend: bool = True,
                 max_nodes: int = 150, digits: int = 4) -> str:
    """The stepper as HTML: a whole page, or (full_page=False) a fragment for a notebook output."""
    final = Moment(stepper.final_grads, None, frozenset(stepper.order), (), 0, "",
                   stepper.scale_for(hide_constants))
    drawing = draw_graph(stepper.root, rankdir=rankdir, params=stepper.params, color=color,
                         show_local=show_local, hide_constants=hide_constants, legend=legend,
                         max_nodes=max_nodes, digits=digits, moment=final)
    svg = drawing.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg"):]
    data = stepper_data(stepper, hide_constants, digits)
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    uid = "al-stepper-" + hashlib.sha1((svg + payload).encode()).hexdigest()[:12]
    ledger = "".join(f'<li data-step="{i}">{html.escape(line)}</li>'
                     for i, step in enumerate(data["steps"]) for line in step["lines"])
    fragment = (
        f'<div class="al-stepper" id="{uid}" tabindex="0">{_CSS}'
        f'<div class="al-graph">{svg}</div>'
        '<div class="al-controls"><button class="al-prev" type="button">◀ Prev</button>'
        '<input class="al-slider" type="range" min="0" max="0" value="0" aria-label="frame">'
        '<button class="al-next" type="button">Next ▶</button> <span class="al-count"></span></div>'
        f'<div class="al-caption">The finished backward pass of {html.escape(data["name"])} '
        "(the Prev/Next buttons need JavaScript).</div>"
        f'<div class="al-ledger-box"><b>ledger</b><ol class="al-ledger">{ledger}</ol></div>'
        f'<script type="application/json" class="al-data">{payload}</script>'
        f"<script>{_JS.replace('__UID__', uid)}</script></div>")
    if not full_page:
        return fragment
    title = html.escape(f"backward pass of {data['name']} - autograd_lite stepper")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f'<body style="font-family: sans-serif; margin: 1em">{fragment}</body></html>\n')


_CSS = f"""<style>
.al-stepper {{ font-family: Helvetica, Arial, sans-serif; font-size: 14px; max-width: 100%; outline: none; }}
.al-stepper .al-graph svg {{ max-width: 100%; height: auto; }}
.al-stepper .al-controls {{ display: flex; align-items: center; gap: 0.6em; margin: 0.4em 0; }}
.al-stepper .al-slider {{ flex: 1; max-width: 40em; }}
.al-stepper button {{ font-size: 14px; padding: 0.2em 0.8em; cursor: pointer; }}
.al-stepper .al-caption {{ margin: 0.3em 0; min-height: 1.4em; font-weight: bold; }}
.al-stepper .al-ledger-box {{ max-height: 14em; overflow-y: auto; border: 1px solid #ccc;
  padding: 0.3em 0.6em; font-family: Menlo, Consolas, monospace; font-size: 12.5px; }}
.al-stepper .al-ledger {{ margin: 0.2em 0; padding-left: 2.5em; }}
.al-stepper .al-ledger li.al-hidden {{ display: none; }}
.al-stepper .al-ledger li.al-cur {{ background: #fdd0a2; font-weight: bold; }}
.al-stepper g.al-cur {{ filter: drop-shadow(0 0 3px {HIGHLIGHT}); }}
.al-stepper g.al-cur > path, .al-stepper g.al-cur > polygon[fill="none"] {{
  stroke: {HIGHLIGHT}; stroke-width: 4; }}
.al-stepper g.al-cur > ellipse {{ fill: #fdd0a2; stroke: {HIGHLIGHT}; }}
.al-stepper g.al-edge-cur > path {{ stroke: {HIGHLIGHT}; stroke-width: 2.5; }}
.al-stepper g.al-edge-cur > polygon {{ fill: {HIGHLIGHT}; stroke: {HIGHLIGHT}; }}
.al-stepper g.al-edge-cur > text {{ fill: {HIGHLIGHT}; font-weight: bold; }}
.al-stepper g.al-dim {{ opacity: 0.18; }}
</style>"""

# The script: frame 0 shows the leaves; then one frame per forward node, the seed, one per backward step.
_JS = """(function () {
var box = (document.currentScript && document.currentScript.closest('.al-stepper'))
  || document.getElementById('__UID__');
var D = JSON.parse(box.querySelector('.al-data').textContent);
var POS = __POS__, NEG = __NEG__;
var nodes = {}, edges = {};
box.querySelectorAll('g.node').forEach(function (g) { nodes[g.querySelector('title').textContent] = g; });
box.querySelectorAll('g.edge').forEach(function (g) {  // x*x: two edges with one title
  var t = g.querySelector('title').textContent; (edges[t] = edges[t] || []).push(g);
});
var info = {};
Object.keys(D.finalAfter).forEach(function (id) {
  // the box's background is its first shape (a polygon, or a path when rounded); centre the numbers on it
  var g = nodes[id], texts = g.querySelectorAll('text'), it = {g: g, bg: g.querySelector('path, polygon')};
  var nums = (it.bg.getAttribute('points') || it.bg.getAttribute('d')).match(/-?[0-9.]+/g).map(parseFloat);
  var xs = nums.filter(function (v, i) { return i % 2 === 0; });
  var mid = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
  texts.forEach(function (t) {
    var s = t.textContent;
    if (s.indexOf('data ') === 0) it.data = t;
    if (s.indexOf('grad ') === 0) it.grad = t;
  });
  [it.data, it.grad].forEach(function (t) {
    t.setAttribute('text-anchor', 'middle'); t.setAttribute('x', mid);
  });
  it.dataText = it.data.textContent;
  info[id] = it;
});
function fill(g, scale) {
  if (g === 0 || !isFinite(g) || !(scale > 0)) return (g === 0 || isFinite(g)) ? '#ffffff' : '#bbbbbb';
  var s = 0.2 + 0.8 * Math.sqrt(Math.min(Math.abs(g) / scale, 1)), c = g > 0 ? POS : NEG;
  return '#' + c.map(function (v) {
    return ('0' + Math.round(255 + (v - 255) * s).toString(16)).slice(-2);
  }).join('');
}
var nf = D.forward.length, ns = D.steps.length, last = nf + 1 + ns;
var slider = box.querySelector('.al-slider'), caption = box.querySelector('.al-caption');
var count = box.querySelector('.al-count'), lines = box.querySelectorAll('.al-ledger li');
var ledgerBox = box.querySelector('.al-ledger-box');
slider.max = last;
function mark(id, on) { if (nodes[id]) nodes[id].classList.toggle('al-cur', on); }
function show(f) {
  f = Math.max(0, Math.min(last, f)); slider.value = f; box.setAttribute('data-frame', f);
  var grads = {}, k = f - nf - 2, computed = {};
  Object.keys(D.initial).forEach(function (id) { grads[id] = D.initial[id]; });
  D.leaves.forEach(function (id) { computed[id] = true; });
  D.forward.forEach(function (s, i) { if (i < f || f > nf) computed[s.node] = true; });
  if (f > nf) grads[D.seed[0]] = [D.seed[1], D.seed[2]];
  for (var i = 0; i <= k; i++) D.steps[i].updates.forEach(function (u) { grads[u[0]] = [u[1], u[2]]; });
  box.querySelectorAll('.al-cur, .al-edge-cur').forEach(function (g) {
    g.classList.remove('al-cur', 'al-edge-cur');
  });
  Object.keys(info).forEach(function (id) {
    var it = info[id], g = grads[id], fin = f > nf && (id === D.root || D.finalAfter[id] <= k);
    it.g.classList.toggle('al-dim', !computed[id]);
    if (nodes[id + 'op']) nodes[id + 'op'].classList.toggle('al-dim', !computed[id]);
    it.data.textContent = computed[id] ? it.dataText : 'data ?';
    it.grad.textContent = 'grad ' + g[0] + (fin ? ' \\u2713' : '');
    it.grad.setAttribute('font-weight', fin ? 'bold' : 'normal');
    it.grad.setAttribute('fill', fin ? '#000000' : '#888888');
    it.bg.setAttribute('fill', fill(g[1], id === D.root ? Math.abs(g[1]) : D.scale));
  });
  Object.keys(edges).forEach(function (t) {
    var ends = t.split('->').map(function (id) { return id.replace(/op$/, ''); });
    var dim = !computed[ends[0]] || !computed[ends[1]];
    edges[t].forEach(function (e) { e.classList.toggle('al-dim', dim); });
  });
  var cur = null, inputs = [], text;
  if (f === 0) text = 'forward: the inputs and parameters of ' + D.name;
  else if (f <= nf) { cur = D.forward[f - 1].node; inputs = D.forward[f - 1].inputs;
    text = 'forward ' + f + ' of ' + nf + ': ' + D.forward[f - 1].line; }
  else if (k < 0) { cur = D.seed[0]; text = D.seedCaption; }
  else { cur = D.steps[k].node; inputs = D.steps[k].inputs; text = D.steps[k].caption +
    (k === ns - 1 ? '. Done: every grad is final, as after ' + D.name + '.backward().' : ''); }
  if (cur) { mark(cur, true); mark(cur + 'op', true); box.setAttribute('data-current', cur); }
  else box.removeAttribute('data-current');
  inputs.forEach(function (p) {
    (edges[p + '->' + cur + 'op'] || []).forEach(function (e) { e.classList.add('al-edge-cur'); });
  });
  caption.textContent = text;
  count.textContent = (f <= nf ? 'forward' : 'backward') + ' \\u00b7 frame ' + f + ' / ' + last;
  var first = null;
  lines.forEach(function (li) {
    var s = +li.getAttribute('data-step');
    li.classList.toggle('al-hidden', s > k); li.classList.toggle('al-cur', s === k);
    if (s === k && !first) first = li;
  });
  if (first) ledgerBox.scrollTop = first.offsetTop - ledgerBox.offsetTop - 20;
}
box.querySelector('.al-prev').addEventListener('click', function () { show(+slider.value - 1); });
box.querySelector('.al-next').addEventListener('click', function () { show(+slider.value + 1); });
slider.addEventListener('input', function () { show(+slider.value); });
box.addEventListener('keydown', function (e) {
  if (e.key === 'ArrowRight') { show(+slider.value + 1); e.preventDefault(); }
  if (e.key === 'ArrowLeft') { show(+slider.value - 1); e.preventDefault(); }
});
show(0);
})();""".replace("__POS__", json.dumps(list(POSITIVE))).replace("__NEG__", json.dumps(list(NEGATIVE)))
