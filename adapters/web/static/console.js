// Draws each chart of the page from its data-chart attribute (uPlot, shipped in vendor/).
// No inline script anywhere: the Content-Security-Policy allows only files of ours.
(function () {
  "use strict";
  var COLOURS = ["#0b5cad", "#cf222e", "#2da44e", "#8250df"];
  function draw(el) {
    var spec = JSON.parse(el.getAttribute("data-chart"));
    var series = [{ label: "Week" }];
    spec.series.forEach(function (label, i) {
      series.push({ label: label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true,
                    dash: /business/.test(label) ? [6, 4] : undefined,
                    value: function (u, v) { return v == null ? "–" : v.toFixed(1) + " h"; } });
    });
    var options = {
      width: Math.max(el.clientWidth, 320),
      height: 220,
      series: series,
      axes: [{}, { label: spec.unit, size: 60 }],
      scales: { x: { time: true } },
      // The numbers stand in the table beside the chart; the legend only names the lines.
      legend: { live: false },
    };
    el.setAttribute("data-drawn", "yes");
    return new uPlot(options, spec.data, el);
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
