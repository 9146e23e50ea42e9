#include "report/html_assets.h"

namespace mhc {

// Colours: Tableau 10 for series; the timeline's kinds keep one colour each on every page.
const char* const kPageCss = R"CSS(
:root{--fg:#1d2330;--muted:#5b6475;--grid:#e6e8ee}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;color:var(--fg);background:#eef0f3;margin:0}
main{max-width:1120px;margin:0 auto;padding:22px 28px 10px;background:#fff}
h1{font-size:21px;margin:0 0 2px}
h2{font-size:16px;margin:26px 0 6px;padding-bottom:3px;border-bottom:1px solid var(--grid)}
h3.panel-title{font-size:13px;margin:8px 0 0;font-weight:600}
.sub,.note,figcaption{color:var(--muted)}
.sub{margin:0 0 10px}
.note{font-size:12.5px;margin:4px 0}
figure.chart{margin:6px 0 16px}
figcaption{font-size:13px;margin-bottom:4px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px;margin:12px 0}
.card{border:1px solid var(--grid);border-radius:6px;padding:7px 10px}
.card .big{display:block;font-size:21px;font-weight:600}
.card small{color:var(--muted)}
.warn{color:#b3261e;font-weight:600}
svg{display:block;overflow:visible}
svg text{font-family:inherit;font-size:11px;fill:var(--fg)}
svg text.tick,svg text.unit,svg text.lane-name{fill:var(--muted);font-size:10px}
svg text.rank{font-weight:600}
.axis line{stroke:#8a92a3}
.axis line.grid{stroke:var(--grid)}
.zero{stroke:#333}
.bar,.seg,.dot{fill:var(--c,#8c8c8c)}
.line{fill:none;stroke:var(--c);stroke-width:2}
.best .line{stroke-width:4}
.mark{fill:none;stroke:var(--c);stroke-width:2.5}
.reference line{stroke:#b3261e;stroke-dasharray:5 4;stroke-width:1.5}
svg text.ref-label{fill:#b3261e}
.lanes-bg{fill:#f7f8fa}
svg.lanes{cursor:crosshair}
.legend{display:flex;flex-wrap:wrap;gap:3px 14px;font-size:12px;margin:4px 0}
.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px;border-radius:2px;background:var(--c,#8c8c8c)}
.s0{--c:#4e79a7}.s1{--c:#f28e2b}.s2{--c:#59a14f}.s3{--c:#e15759}.s4{--c:#76b7b2}
.s5{--c:#edc948}.s6{--c:#b07aa1}.s7{--c:#ff9da7}.s8{--c:#9c755f}.s9{--c:#bab0ac}
.up{--c:#e15759}.down{--c:#59a14f}.total{--c:#5b6475}
.k-layer{--c:#4e79a7}.k-mhc{--c:#f28e2b}.k-mhc_recompute{--c:#edc948}.k-idle{--c:#f4c7c7}
.k-pp{--c:#59a14f}.k-ep{--c:#b07aa1}.k-dp{--c:#76b7b2}.k-tp{--c:#9c755f}.k-cp{--c:#ff9da7}.k-fsdp{--c:#bab0ac}
.zoom{display:flex;gap:6px;align-items:center;margin:2px 0 4px;font-size:12px}
.zoom button{font:inherit;padding:2px 9px;border:1px solid #c4c9d4;border-radius:4px;background:#f7f8fa;cursor:pointer}
.zoom-hint{color:var(--muted)}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{padding:3px 9px;border-bottom:1px solid var(--grid);text-align:right}
th:first-child,td:first-child{text-align:left}
footer{max-width:1120px;margin:0 auto 24px;padding:10px 28px 16px;background:#fff;border-top:1px solid var(--grid);font-size:12px;color:var(--muted)}
footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}
footer dt{font-weight:600}
footer dd{margin:0;word-break:break-word}
)CSS";

const char* const kPageErrorTrap =
    "window.addEventListener('error',function(e){document.documentElement.setAttribute('data-script-error',"
    "String(e.message||e))});";

const char* const kPageScript = R"JS(
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  function niceStep(span, target) {
    var raw = span / target, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function decimals(step) {
    var d = 0;
    while (d < 9 && Math.abs(step * Math.pow(10, d) - Math.round(step * Math.pow(10, d))) > 1e-6) d++;
    return d;
  }
  function el(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Redraws a timeline's time axis for the visible span [a, b] (milliseconds).
  function drawAxis(svg, a, b) {
    var axis = svg.querySelector('.time-axis .axis');
    if (!axis) return;
    var left = +svg.dataset.left, right = +svg.dataset.right;
    var y = +axis.querySelector('line').getAttribute('y1');
    while (axis.childNodes.length > 1) axis.removeChild(axis.lastChild);
    var s0 = a / 1e3, s1 = b / 1e3, step = niceStep(s1 - s0, 10), d = decimals(step);
    for (var k = Math.ceil(s0 / step - 1e-9); k * step <= s1 * (1 + 1e-12); k++) {
      var t = k * step, x = left + (t - s0) / (s1 - s0) * (right - left);
      axis.appendChild(el('line', {x1: x, x2: x, y1: y, y2: y + 4}));
      axis.appendChild(el('text', {'class': 'tick', x: x, y: y + 15, 'text-anchor': 'middle'}, t.toFixed(d)));
    }
    axis.appendChild(el('text', {'class': 'unit', x: right, y: y + 28, 'text-anchor': 'end'}, 's'));
  }
  // The panels of one figure share the visible span, so mHC and baseline stay comparable.
  function timeline(fig) {
    var svgs = fig.querySelectorAll('svg.timeline');
    if (!svgs.length) return;
    var full = +svgs[0].dataset.spanMs, view = [0, full];
    function apply() {
      svgs.forEach(function (s) {
        var lanes = s.querySelector('svg.lanes'), h = lanes.viewBox.baseVal.height;
        lanes.setAttribute('viewBox', view[0] + ' 0 ' + (view[1] - view[0]) + ' ' + h);
        drawAxis(s, view[0], view[1]);
      });
    }
    function show(a, w) {
      w = Math.min(full, Math.max(w, full * 1e-4));
      a = Math.max(0, Math.min(full - w, a));
      view = [a, a + w];
      apply();
    }
    var act = {
      'in': function () { var w = view[1] - view[0]; show(view[0] + w / 4, w / 2); },
      'out': function () { var w = view[1] - view[0]; show(view[0] - w / 2, w * 2); },
      'left': function () { var w = view[1] - view[0]; show(view[0] - w / 2, w); },
      'right': function () { var w = view[1] - view[0]; show(view[0] + w / 2, w); },
      'reset': function () { show(0, full); }
    };
    fig.querySelectorAll('[data-zoom]').forEach(function (b) {
      b.addEventListener('click', act[b.dataset.zoom]);
    });
    svgs.forEach(function (s) {
      var lanes = s.querySelector('svg.lanes'), start = null;
      function at(ev) {
        var r = lanes.getBoundingClientRect();
        return view[0] + (ev.clientX - r.left) / r.width * (view[1] - view[0]);
      }
      lanes.addEventListener('mousedown', function (ev) { start = at(ev); ev.preventDefault(); });
      window.addEventListener('mouseup', function (ev) {
        if (start === null) return;
        var end = at(ev), a = Math.min(start, end), b = Math.max(start, end);
        start = null;
        if (b - a > (view[1] - view[0]) * 0.005) show(a, b - a);
      });
    });
  }
  // How many distinct series of a figure have a box on the page (the browser test compares).
  function drawn(fig) {
    var names = {};
    fig.querySelectorAll('g.series').forEach(function (g) {
      var b = g.getBBox();
      if (b.width > 0 && b.height > 0) names[g.getAttribute('data-name')] = true;
    });
    fig.setAttribute('data-drawn', String(Object.keys(names).length));
  }
  document.querySelectorAll('figure.chart').forEach(function (f) { timeline(f); drawn(f); });
  document.documentElement.setAttribute('data-script', 'ok');
})();
)JS";

}  // namespace mhc
