(function () {
'use strict';
// Frame 0 shows the leaves; then one frame per forward node, the seed, one frame per backward step.
var box = (document.currentScript && document.currentScript.closest('.al-stepper'))
  || document.getElementById('__UID__');
if (!box || box.getAttribute('data-frame') !== null) return;  // already running (a re-shown output)
var D = JSON.parse(box.querySelector('.al-data').textContent);
var POS = __POS__, NEG = __NEG__, MIN_ZOOM = 0.05, MAX_ZOOM = 8, READABLE = 0.6;
var $ = function (sel) { return box.querySelector(sel); };
var view = $('.al-view'), svg = view.querySelector('svg');
box.classList.add('al-js');

// --- the graph's nodes and edges, by Graphviz title (node ids n0, n0op; edges n0->n1op) -------------
var nodes = {}, edges = [], info = {};
box.querySelectorAll('g.node').forEach(function (g) { nodes[g.querySelector('title').textContent] = g; });
box.querySelectorAll('g.edge').forEach(function (g) {  // x*x: two edges with one title
  var t = g.querySelector('title').textContent, ends = t.split('->');
  edges.push({g: g, title: t, from: ends[0], to: ends[1].replace(/op$/, '')});
});
Object.keys(D.finalAfter).forEach(function (id) {
  // the box's background is its first shape (a polygon, or a path when rounded); centre the numbers on it
  var g = nodes[id], it = {g: g, bg: g.querySelector('path, polygon'), op: nodes[id + 'op'], last: {}};
  var nums = (it.bg.getAttribute('points') || it.bg.getAttribute('d')).match(/-?[0-9.]+/g).map(parseFloat);
  var xs = nums.filter(function (v, i) { return i % 2 === 0; });
  var mid = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
  g.querySelectorAll('text').forEach(function (t) {
    var s = t.textContent;
    if (s.indexOf('data ') === 0) it.data = t;
    if (s.indexOf('grad ') === 0) it.grad = t;
  });
  [it.data, it.grad].forEach(function (t) { t.setAttribute('text-anchor', 'middle'); t.setAttribute('x', mid); });
  it.dataText = it.data.textContent;
  info[id] = it;
});
var ids = Object.keys(info);
function fill(g, scale) {
  if (g === 0 || !isFinite(g) || !(scale > 0)) return (g === 0 || isFinite(g)) ? '#ffffff' : '#bbbbbb';
  var s = 0.2 + 0.8 * Math.sqrt(Math.min(Math.abs(g) / scale, 1)), c = g > 0 ? POS : NEG;
  return '#' + c.map(function (v) {
    return ('0' + Math.round(255 + (v - 255) * s).toString(16)).slice(-2);
  }).join('');
}
function set(it, key, value, write) {  // touch the DOM only when something changed (big graphs, autoplay)
  if (it.last[key] !== value) { it.last[key] = value; write(value); }
}

// --- one frame ------------------------------------------------------------------------------------
var nf = D.forward.length, ns = D.steps.length, last = nf + 1 + ns;
var slider = $('.al-slider'), caption = $('.al-caption'), count = $('.al-count');
var lines = Array.prototype.slice.call(box.querySelectorAll('.al-ledger li')), ledgerBox = $('.al-ledger-box');
var lineStep = lines.map(function (li) { return +li.getAttribute('data-step'); });
var lit = [], frame = 0;
slider.max = last;
function show(f, centre) {
  frame = f = Math.max(0, Math.min(last, f)); slider.value = f; box.setAttribute('data-frame', f);
  var grads = {}, k = f - nf - 2, computed = {};
  ids.forEach(function (id) { grads[id] = D.initial[id]; });
  D.leaves.forEach(function (id) { computed[id] = true; });
  D.forward.forEach(function (s, i) { if (i < f || f > nf) computed[s.node] = true; });
  if (f > nf) grads[D.seed[0]] = [D.seed[1], D.seed[2]];
  for (var i = 0; i <= k; i++) D.steps[i].updates.forEach(function (u) { grads[u[0]] = [u[1], u[2]]; });
  ids.forEach(function (id) {
    var it = info[id], g = grads[id], fin = f > nf && (id === D.root || D.finalAfter[id] <= k);
    set(it, 'dim', !computed[id], function (v) {
      it.g.classList.toggle('al-dim', v); if (it.op) it.op.classList.toggle('al-dim', v);
    });
    set(it, 'data', computed[id] ? it.dataText : 'data ?', function (v) { it.data.textContent = v; });
    set(it, 'grad', 'grad ' + g[0] + (fin ? ' \u2713' : ''), function (v) { it.grad.textContent = v; });
    set(it, 'bold', fin, function (v) { it.grad.setAttribute('font-weight', v ? 'bold' : 'normal'); });
    set(it, 'fill', fill(g[1], id === D.root ? Math.abs(g[1]) : D.scale),
        function (v) { it.bg.setAttribute('fill', v); });
  });
  edges.forEach(function (e) { e.g.classList.toggle('al-dim', !computed[e.from] || !computed[e.to]); });
  lit.forEach(function (g) { g.classList.remove('al-cur', 'al-edge-cur'); });
  lit = [];
  var cur = null, inputs = [], text;
  if (f === 0) text = 'forward: the inputs and parameters of ' + D.name;
  else if (f <= nf) {
    cur = D.forward[f - 1].node; inputs = D.forward[f - 1].inputs;
    text = 'forward ' + f + ' of ' + nf + ': ' + D.forward[f - 1].line;
  } else if (k < 0) { cur = D.seed[0]; text = D.seedCaption; }
  else {
    cur = D.steps[k].node; inputs = D.steps[k].inputs;
    text = D.steps[k].caption + (k === ns - 1 ? '. Done: every grad is final, as after ' + D.name +
      '.backward().' : '');
  }
  if (cur) {
    [nodes[cur], nodes[cur + 'op']].forEach(function (g) { if (g) { g.classList.add('al-cur'); lit.push(g); } });
    var into = {};
    inputs.forEach(function (p) { into[p + '->' + cur + 'op'] = true; });
    edges.forEach(function (e) { if (into[e.title]) { e.g.classList.add('al-edge-cur'); lit.push(e.g); } });
    box.setAttribute('data-current', cur);
  } else box.removeAttribute('data-current');
  caption.textContent = text;
  count.textContent = (f <= nf ? 'forward' : 'backward') + ' \u00b7 frame ' + f + ' / ' + last;
  var first = null;
  lines.forEach(function (li, j) {
    var s = lineStep[j];
    li.classList.toggle('al-hidden', s > k); li.classList.toggle('al-cur', s === k);
    if (s === k && !first) first = li;
  });
  if (first) ledgerBox.scrollTop = first.offsetTop - ledgerBox.offsetTop - 20;
  if (cur && centre !== false) reveal(nodes[cur + 'op'] ? [nodes[cur], nodes[cur + 'op']] : [nodes[cur]]);
}

// --- pan and zoom: the viewBox is the visible part of the graph -------------------------------
var vb = svg.viewBox.baseVal, W = vb.width, H = vb.height, X0 = vb.x, Y0 = vb.y;
var PX = parseFloat(svg.getAttribute('width')) * 4 / 3 / W;  // px per SVG unit at 100% (width is in pt)
if (!(PX > 0)) PX = 4 / 3;
var zoom = 1, cx = X0 + W / 2, cy = Y0 + H / 2;  // zoom 1 = 100%; (cx, cy): the SVG point at the centre
function size() { return {w: view.clientWidth || 1, h: view.clientHeight || 1}; }
function render() {
  var s = size(), u = PX * zoom;
  svg.setAttribute('width', s.w); svg.setAttribute('height', s.h);
  svg.setAttribute('viewBox', [cx - s.w / u / 2, cy - s.h / u / 2, s.w / u, s.h / u].join(' '));
  box.setAttribute('data-zoom', zoom.toFixed(4));
  zoomText.textContent = Math.round(zoom * 100) + '%';
}
function fitZoom() { var s = size(); return Math.min(s.w / (W * PX), s.h / (H * PX)) * 0.98; }
function zoomTo(z, px, py) {  // keep the SVG point under (px, py) (view pixels) where it is
  z = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, z));
  var s = size(), u0 = PX * zoom, u1 = PX * z;
  if (px === undefined) { px = s.w / 2; py = s.h / 2; }
  var gx = cx + (px - s.w / 2) / u0, gy = cy + (py - s.h / 2) / u0;
  cx = gx - (px - s.w / 2) / u1; cy = gy - (py - s.h / 2) / u1; zoom = z;
  render();
}
function fit() { cx = X0 + W / 2; cy = Y0 + H / 2; zoom = Math.max(MIN_ZOOM, fitZoom()); render(); }
function reveal(gs) {  // pan (never zoom) so that the current node is in sight, with a margin
  var r = {l: Infinity, t: Infinity, r: -Infinity, b: -Infinity};
  gs.forEach(function (g) {
    var b = g.getBoundingClientRect();
    r.l = Math.min(r.l, b.left); r.t = Math.min(r.t, b.top); r.r = Math.max(r.r, b.right); r.b = Math.max(r.b, b.bottom);
  });
  // the part of the view on screen, below the pinned bar; all of the view if too little of it shows
  var v = view.getBoundingClientRect(), bar = $('.al-bar').getBoundingClientRect();
  var s = {l: Math.max(v.left, 0), r: Math.min(v.right, innerWidth), t: Math.max(v.top, bar.bottom, 0),
           b: Math.min(v.bottom, innerHeight)};
  if (s.r - s.l < 120 || s.b - s.t < 120) s = {l: v.left, r: v.right, t: v.top, b: v.bottom};
  var m = 24, u = PX * zoom, dx = 0, dy = 0;
  if (r.l < s.l + m || r.r > s.r - m) dx = (r.l + r.r) / 2 - (s.l + s.r) / 2;
  if (r.t < s.t + m || r.b > s.b - m) dy = (r.t + r.b) / 2 - (s.t + s.b) / 2;
  if (dx || dy) { cx += dx / u; cy += dy / u; render(); }
  // then the page (or the notebook) scrolls, if need be, to show it below the pinned bar
  var w = Math.min(r.r - r.l, v.width), h = Math.min(r.b - r.t, v.height);
  var left = Math.max(0, (r.l + r.r) / 2 - dx - w / 2 - v.left), top = Math.max(0, (r.t + r.b) / 2 - dy - h / 2 - v.top);
  marker.style.cssText = 'position:absolute;visibility:hidden;pointer-events:none;left:' + left + 'px;top:' +
    top + 'px;width:' + w + 'px;height:' + h + 'px;scroll-margin:' + (bar.height + 8) + 'px 8px 8px';
  marker.scrollIntoView({block: 'nearest', inline: 'nearest'});
  view.scrollTop = view.scrollLeft = 0;
}
var marker = document.createElement('div');
view.appendChild(marker);
var zoomText = $('.al-zoom-level');
// the view is only as tall as the graph needs, at a zoom where its text stays readable
(function start() {
  var s = size(), z = Math.min(1, Math.max(READABLE, fitZoom()));
  var natural = H * PX * z + 8;
  if (natural < s.h) view.style.height = Math.max(natural, 120) + 'px';
  zoom = z; cx = X0 + W / 2; cy = Y0 + H / 2;
  if (W * PX * z > s.w) cx = X0 + size().w / (PX * z) / 2;  // wider than the view: start at the inputs
  if (H * PX * z > size().h) cy = Y0 + size().h / (PX * z) / 2;
  render();
})();
view.addEventListener('wheel', function (e) {
  // a notebook page must still scroll: there, a plain wheel zooms only once the stepper has focus
  if (!(e.ctrlKey || e.metaKey || D.page || box.contains(document.activeElement))) return;
  e.preventDefault();
  var r = view.getBoundingClientRect(), d = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
  zoomTo(zoom * Math.exp(-Math.max(-200, Math.min(200, d)) / 300), e.clientX - r.left, e.clientY - r.top);
}, {passive: false});
var drag = null;
view.addEventListener('pointerdown', function (e) {
  if (e.button !== 0) return;
  drag = {x: e.clientX, y: e.clientY, cx: cx, cy: cy};
  view.setPointerCapture(e.pointerId); view.classList.add('al-dragging');
  box.focus({preventScroll: true});
});
view.addEventListener('pointermove', function (e) {
  if (!drag) return;
  var u = PX * zoom;
  cx = drag.cx - (e.clientX - drag.x) / u; cy = drag.cy - (e.clientY - drag.y) / u; render();
});
function endDrag() { drag = null; view.classList.remove('al-dragging'); }
view.addEventListener('pointerup', endDrag);
view.addEventListener('pointercancel', endDrag);
if (window.ResizeObserver) new ResizeObserver(function () { render(); }).observe(view);

// --- buttons, slider, autoplay ----------------------------------------------------------------
var timer = null, play = $('.al-play'), speed = $('.al-speed');
function pause() {
  if (timer !== null) clearTimeout(timer);
  timer = null; play.textContent = '\u25b6 Play'; box.removeAttribute('data-playing');
}
function tick() {
  if (frame >= last) { pause(); return; }
  show(frame + 1);
  timer = setTimeout(tick, 1000 / +speed.value);
}
function toggle() {
  if (timer !== null) { pause(); return; }
  if (frame >= last) show(0);
  play.textContent = '\u275a\u275a Pause'; box.setAttribute('data-playing', '');
  timer = setTimeout(tick, 1000 / +speed.value);
}
function go(f) { pause(); show(f); }
var actions = {
  ArrowRight: function () { go(frame + 1); }, ArrowLeft: function () { go(frame - 1); },
  Home: function () { go(0); }, End: function () { go(last); }, ' ': toggle,
  '+': function () { zoomTo(zoom * 1.25); }, '=': function () { zoomTo(zoom * 1.25); },
  '-': function () { zoomTo(zoom / 1.25); }, '0': fit, '1': function () { zoomTo(1); }
};
var click = {
  '.al-first': actions.Home, '.al-prev': actions.ArrowLeft, '.al-next': actions.ArrowRight,
  '.al-last': actions.End, '.al-play': toggle, '.al-in': actions['+'], '.al-out': actions['-'],
  '.al-fit': fit, '.al-actual': actions['1']
};
Object.keys(click).forEach(function (sel) { $(sel).addEventListener('click', click[sel]); });
slider.addEventListener('input', function () { go(+slider.value); });

// --- keys: at once on a page of its own; in a notebook only while the pointer or focus is on it -----
var hover = false;
box.addEventListener('pointerenter', function () { hover = true; });
box.addEventListener('pointerleave', function () { hover = false; });
function typing(el) {
  return el && (el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName) ||
    (el.tagName === 'INPUT' && el.type !== 'range' && el.type !== 'button'));
}
function active(el) {  // whose keys these are
  if (box.contains(el)) return !/^(SELECT)$/.test(el.tagName);  // the speed menu keeps its arrows
  if (typing(el)) return false;  // a notebook cell or a text field: never take its keys
  return hover || (D.page && (!el || el === document.body || el === document.documentElement));
}
window.addEventListener('keydown', function (e) {  // window, capture: before a notebook's own shortcuts
  var act = actions[e.key];
  if (!act || e.ctrlKey || e.metaKey || e.altKey || !box.isConnected || !active(document.activeElement)) return;
  e.preventDefault(); e.stopPropagation(); act();
}, true);
box.addEventListener('keyup', function (e) { if (e.key === ' ') e.preventDefault(); });  // no button click
box.querySelectorAll('button').forEach(function (b) {  // after a click the keys still belong to the stepper
  b.addEventListener('click', function () { box.focus({preventScroll: true}); });
});

// --- colours: follow the surrounding page (a dark notebook theme may not set prefers-color-scheme) ----
function luminance(rgb) {
  return rgb.map(function (v) { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce(function (a, v, i) { return a + v * [0.2126, 0.7152, 0.0722][i]; }, 0);
}
function theme() {
  for (var el = box.parentElement; el; el = el.parentElement) {
    var m = getComputedStyle(el).backgroundColor.match(/[\d.]+/g);
    if (m && (m.length < 4 || +m[3] > 0.5)) {
      var dark = luminance(m.slice(0, 3).map(Number)) < 0.2;
      box.classList.toggle('al-dark', dark); box.classList.toggle('al-light', !dark);
      return;
    }
  }
}
theme();
if (window.matchMedia) {
  var mq = window.matchMedia('(prefers-color-scheme: dark)');
  if (mq.addEventListener) mq.addEventListener('change', theme);
}
if (window.MutationObserver && document.body) {  // JupyterLab switches themes by changing body attributes
  new MutationObserver(theme).observe(document.body, {attributes: true});
}
show(0);
})();
