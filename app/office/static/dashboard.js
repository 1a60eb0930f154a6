// The dashboard's charts: options built by the server (#chart-data), a click on a bar opens its rows.
(function () {
  var charts = JSON.parse(document.getElementById('chart-data').dataset.charts);
  charts.forEach(function (spec) {
    var el = document.getElementById('chart-' + spec.id);
    var chart = echarts.init(el);
    // Marked when the first drawing (and its animation) is done, so a click lands on the bar's final place.
    chart.on('finished', function () { el.dataset.ready = '1'; });
    chart.setOption(spec.option);
    chart.on('click', function (p) {
      var key = spec.keys[p.dataIndex];
      if (key === undefined) return;
      location.href = el.dataset.drill + '?param=' + encodeURIComponent(spec.param) + '&key=' + encodeURIComponent(key);
    });
    window.addEventListener('resize', function () { chart.resize(); });
  });
})();
