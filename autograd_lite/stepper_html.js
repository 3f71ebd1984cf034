(function () {
'use strict';
// Frame 0 shows the leaves; then one frame per forward box, the seed, one frame per backward step.
// Each frame lists only what changed (stepper_frames.py): moving applies or undoes just those.
var box = (document.currentScript && document.currentScript.closest('.al-stepper'))
  || document.getElementById('__UID__');
if (!box || box.getAttribute('data-frame') !== null) return;  // already running (a re-shown output)
var D = JSON.parse(box.querySelector('.al-data').textContent);
var XLINK = 'http://www.w3.org/1999/xlink', MIN_ZOOM = 0.05, MAX_ZOOM = 8, READABLE = 0.6;
var $ = function (sel) { return box.querySelector(sel); };
var view = $('.al-view'), svg = view.querySelector('svg');
box.classList.add('al-js');

// --- the drawn boxes (items) and edges, by Graphviz title (n0, n0op, g37; edges n0->n1op, g37:s->g44:n) ---
var gv = {}, items = [], itemOf = {}, edgesByTitle = {}, edgesOf = [];
box.querySelectorAll('g.node').forEach(function (g) { gv[g.querySelector('title').textContent] = g; });
D.items.forEach(function (it, i) {
  var g = gv[it[0]], texts = Array.prototype.slice.call(g.querySelectorAll('text')), used = [];
  // the fill is the box's first shape (a polygon, or a path when rounded); centre the rows on it
  var bg = g.querySelector('path, polygon');
  var nums = (bg.getAttribute('points') || bg.getAttribute('d')).match(/-?[0-9.]+/g).map(parseFloat);
  var xs = nums.filter(function (v, j) { return j % 2 === 0; });
  var mid = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
  var rows = D.slots[i].map(function (text) {
    var t = texts.find(function (t) { return used.indexOf(t) < 0 && t.textContent === text; });
    if (!t) { console.error('autograd_lite stepper: no text "' + text + '" in box ' + it[0]); return null; }
    used.push(t); t.setAttribute('text-anchor', 'middle'); t.setAttribute('x', mid);
    return t;
  });
  items.push({parts: it[1].map(function (id) { return gv[id]; }).filter(Boolean), bg: bg, rows: rows,
              link: g.querySelector('a')});
  it[1].forEach(function (id) { itemOf[id] = i; });
  edgesOf.push([]);
});
box.querySelectorAll('g.edge').forEach(function (g) {  // x*x: two edges with one title
  var ends = g.querySelector('title').textContent.split('->').map(function (e) { return e.split(':')[0]; });
  var e = {g: g, ends: [itemOf[ends[0]], itemOf[ends[1]]]}, title = ends.join('->');
  (edgesByTitle[title] = edgesByTitle[title] || []).push(g);
  e.ends.forEach(function (i) { if (i !== undefined) edgesOf[i].push(e); });
});

// --- the state: slots per item (0 dimmed, 1 fill, 2 hover text, 3... row [text, bold]); undo made once ---
function fresh() { return D.start.map(function (s) { return [s[0], s[1], s[2]].concat(s[3]); }); }
var state = fresh();
var undo = D.changes.map(function (changes) {
  return changes.map(function (c) { var old = state[c[0]][c[1]]; state[c[0]][c[1]] = c[2]; return old; });
});
state = fresh();
function draw(i, slot) {  // one slot of one item, in the DOM
  var it = items[i], v = state[i][slot];
  if (slot === 0) {
    it.parts.forEach(function (g) { g.classList.toggle('al-dim', !!v); });
    edgesOf[i].forEach(function (e) {
      e.g.classList.toggle('al-dim', e.ends.some(function (j) { return j !== undefined && state[j][0]; }));
    });
  } else if (slot === 1) it.bg.setAttribute('fill', v);
  else if (slot === 2) { if (it.link) it.link.setAttributeNS(XLINK, 'xlink:title', v); }
  else if (it.rows[slot - 3]) {
    it.rows[slot - 3].textContent = v[0];
    it.rows[slot - 3].setAttribute('font-weight', v[1] ? 'bold' : 'normal');
  }
}
state.forEach(function (s, i) { s.forEach(function (_, slot) { draw(i, slot); }); });

// --- one frame: apply (or undo) the changes between the frame shown and f ---------------------------------
var last = D.changes.length - 1, nf = D.forward;
var slider = $('.al-slider'), caption = $('.al-caption'), count = $('.al-count');
var ledgerBox = $('.al-ledger-box'), linesOf = {};
box.querySelectorAll('.al-ledger li').forEach(function (li) {
  var s = +li.getAttribute('data-step');
  (linesOf[s] = linesOf[s] || []).push(li);
  li.classList.add('al-hidden');
});
var lit = [], frame = 0, shownStep = -1;
slider.max = last;
function showStep(k) {  // the ledger: every line up to step k, step k's highlighted
  (linesOf[shownStep] || []).forEach(function (li) { li.classList.remove('al-cur'); });
  for (var s = Math.min(k, shownStep) + 1; s <= Math.max(k, shownStep); s++) {
    (linesOf[s] || []).forEach(function (li) { li.classList.toggle('al-hidden', s > k); });
  }
  shownStep = k;
  var now = linesOf[k] || [];
  now.forEach(function (li) { li.classList.add('al-cur'); });
  if (now.length) ledgerBox.scrollTop = now[0].offsetTop - ledgerBox.offsetTop - 20;
}
function show(f, centre) {
  f = Math.max(0, Math.min(last, f));
  var touched = {};
  function set(changes, values) {
    changes.forEach(function (c, j) {
      state[c[0]][c[1]] = values ? values[j] : c[2]; touched[c[0] + ',' + c[1]] = c;
    });
  }
  for (; frame < f; frame++) set(D.changes[frame + 1]);
  for (; frame > f; frame--) set(D.changes[frame], undo[frame]);
  Object.keys(touched).forEach(function (key) { draw(touched[key][0], touched[key][1]); });
  slider.value = f; box.setAttribute('data-frame', f);
  lit.forEach(function (g) { g.classList.remove('al-cur', 'al-edge-cur'); });
  lit = [];
  var at = D.lit[f], cur = [];
  at[0].forEach(function (i) {
    items[i].parts.forEach(function (g) { g.classList.add('al-cur'); lit.push(g); cur.push(g); });
  });
  at[1].forEach(function (t) {
    (edgesByTitle[t] || []).forEach(function (g) { g.classList.add('al-edge-cur'); lit.push(g); });
  });
  if (at[0].length) box.setAttribute('data-current', D.items[at[0][0]][0]);
  else box.removeAttribute('data-current');
  caption.textContent = D.captions[f];
  count.textContent = (f <= nf ? 'forward' : 'backward') + ' \u00b7 frame ' + f + ' / ' + last;
  showStep(D.steps[f]);
  if (cur.length && centre !== false) reveal(cur);
}

// --- pan and zoom: the viewBox is the visible part of the graph -------------------------------
var vb = svg.viewBox.baseVal, W = vb.width, H = vb.height, X0 = vb.x, Y0 = vb.y;
var PX = parseFloat(svg.getAttribute('width')) * 4 / 3 / W;  // px per SVG unit at 100% (width is in pt)
if (!(PX > 0)) PX = 4 / 3;
var zoom = 1, cx = X0 + W / 2, cy = Y0 + H / 2;  // zoom 1 = 100%; (cx, cy): the SVG point at the centre
function size() { return {w: view.clientWidth || 1, h: view.clientHeight || 1}; }
// Panning moves one group (a transform), never the viewBox: a new viewBox lays the whole SVG out
// again (70 ms for 1,000 boxes), a transform does not (under 1 ms).
var pan = document.createElementNS('http://www.w3.org/2000/svg', 'g'), laid = {};
// Chrome paints every box of an SVG again when any of them changes (40 ms for 1,000 boxes): only
// what is in (or near) the view is displayed. Where each box is, in the SVG's units, is read once.
var graph = svg.querySelector('g.graph'), gm = graph.transform.baseVal.consolidate();
gm = gm ? gm.matrix : {a: 1, d: 1, e: 0, f: 0};
var where = Array.prototype.slice.call(svg.querySelectorAll('g.node, g.edge')).map(function (g) {
  var b = g.getBBox(), x = [gm.a * b.x + gm.e, gm.a * (b.x + b.width) + gm.e];
  var y = [gm.d * b.y + gm.f, gm.d * (b.y + b.height) + gm.f];
  g.alBox = {g: g, l: Math.min(x[0], x[1]), r: Math.max(x[0], x[1]), t: Math.min(y[0], y[1]),
             b: Math.max(y[0], y[1]), shown: true};
  return g.alBox;
});
Array.prototype.slice.call(svg.childNodes).forEach(function (n) { pan.appendChild(n); });
svg.appendChild(pan);
function cull(s, u) {  // shown: what is within half a view of the view; hidden: beyond one and a half
  var near = function (w, m) {
    var x = m * s.w / u, y = m * s.h / u;
    return w.r >= cx - x && w.l <= cx + x && w.b >= cy - y && w.t <= cy + y;
  };
  where.forEach(function (w) {
    var show = w.shown ? near(w, 1.5) : near(w, 0.5);
    if (show !== w.shown) { w.shown = show; w.g.style.display = show ? '' : 'none'; }
  });
}
function render() {
  var s = size(), u = PX * zoom;
  if (s.w !== laid.w || s.h !== laid.h) {
    svg.setAttribute('width', s.w); svg.setAttribute('height', s.h);
    svg.setAttribute('viewBox', '0 0 ' + s.w + ' ' + s.h);
    laid = s;
  }
  pan.setAttribute('transform',
                   'translate(' + (s.w / 2 - u * cx) + ' ' + (s.h / 2 - u * cy) + ') scale(' + u + ')');
  cull(s, u);
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
  var r = {l: Infinity, t: Infinity, r: -Infinity, b: -Infinity}, o = svg.getBoundingClientRect();
  var u = PX * zoom;
  gs.forEach(function (g) {  // on screen (from where it is in the graph: it may not be displayed)
    var w = g.alBox, x = o.left + laid.w / 2, y = o.top + laid.h / 2;
    r.l = Math.min(r.l, x + u * (w.l - cx)); r.r = Math.max(r.r, x + u * (w.r - cx));
    r.t = Math.min(r.t, y + u * (w.t - cy)); r.b = Math.max(r.b, y + u * (w.b - cy));
  });
  // the part of the view on screen, below the pinned bar; all of the view if too little of it shows
  var v = view.getBoundingClientRect(), bar = $('.al-bar').getBoundingClientRect();
  var s = {l: Math.max(v.left, 0), r: Math.min(v.right, innerWidth), t: Math.max(v.top, bar.bottom, 0),
           b: Math.min(v.bottom, innerHeight)};
  if (s.r - s.l < 120 || s.b - s.t < 120) s = {l: v.left, r: v.right, t: v.top, b: v.bottom};
  var m = 24, dx = 0, dy = 0;
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
var timer = null, due = 0, play = $('.al-play'), speed = $('.al-speed');
function pause() {
  if (timer !== null) cancelAnimationFrame(timer);
  timer = null; play.textContent = '\u25b6 Play'; box.removeAttribute('data-playing');
}
function tick(now) {  // on the browser's own frames: each shown when it is painted, at the chosen pace
  if (now >= due) {
    if (frame >= last) { pause(); return; }
    show(frame + 1);
    due = Math.max(due + 1000 / +speed.value, now);  // late: carry on from now, never in a burst
  }
  timer = requestAnimationFrame(tick);
}
function toggle() {
  if (timer !== null) { pause(); return; }
  if (frame >= last) show(0);
  play.textContent = '\u275a\u275a Pause'; box.setAttribute('data-playing', '');
  due = performance.now() + 1000 / +speed.value;
  timer = requestAnimationFrame(tick);
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
