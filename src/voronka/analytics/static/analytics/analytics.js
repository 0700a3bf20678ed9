// The funnel page's charts (ECharts), drawn from the JSON the view renders beside the tables.
(function () {
  "use strict";
  var el = document.getElementById("analytics-data");
  if (!el || !window.echarts) return;
  var data = JSON.parse(el.textContent);
  var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
  var charts = [];
  function draw(id, option) {
    var box = document.getElementById(id);
    if (!box) return;
    var chart = window.echarts.init(box, dark ? "dark" : null, { renderer: "svg" });
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
  }
  draw("funnel-chart", {
    tooltip: { trigger: "item" },
    series: [{
      type: "funnel",
      sort: "none",
      left: 8, right: 8, top: 8, bottom: 8,
      label: { show: true, position: "inside", formatter: "{b}: {c}" },
      data: data.stages.map(function (name, i) { return { name: name, value: data.entered[i] }; })
    }]
  });
  draw("time-chart", {
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 12, bottom: 40, containLabel: true },
    xAxis: { type: "category", data: data.stages, axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value" },
    series: [
      { name: data.labels.median, type: "bar", data: data.median_days },
      { name: data.labels.p90, type: "bar", data: data.p90_days }
    ]
  });
  draw("cohort-chart", {
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 12, bottom: 40, containLabel: true },
    xAxis: { type: "category", data: data.cohorts.months },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: data.labels.created, type: "line", data: data.cohorts.created },
      { name: data.labels.won, type: "line", data: data.cohorts.won }
    ]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
