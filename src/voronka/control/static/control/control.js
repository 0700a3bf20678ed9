// The control screen: the 30-day trend as a line per kind (ECharts, from the JSON the view
// renders beside the table), and filters that apply as soon as they change.
(function () {
  "use strict";
  var data = document.getElementById("trend-data");
  var box = document.getElementById("trend-chart");
  if (data && box && window.echarts) {
    var trend = JSON.parse(data.textContent);
    var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
    var narrow = box.clientWidth < 700;
    var chart = window.echarts.init(box, dark ? "dark" : null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      // A phone scrolls the legend along the top; a wider screen lays it out under the chart.
      legend: narrow ? { type: "scroll", top: 0 } : { bottom: 0, itemGap: 12 },
      grid: { left: 8, right: 16, top: narrow ? 40 : 12, bottom: narrow ? 8 : 64, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: trend.days },
      yAxis: { type: "value", minInterval: 1 },
      series: trend.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          data: s.data,
          symbol: "circle",
          symbolSize: 5,
          itemStyle: { color: s.color },
          lineStyle: { color: s.color, width: 2 }
        };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var filters = document.getElementById("control-filters");
  if (filters) {
    filters.addEventListener("change", function (e) {
      if (e.target.tagName === "SELECT") {
        // A team and a manager from another team would show nobody: the team wins.
        if (e.target.name === "team" && filters.elements.manager) filters.elements.manager.value = "";
        filters.requestSubmit();
      }
    });
  }
})();
