// Bantico web vitals (served at /bantico-vitals.js, loaded by the core tracker with data-vitals):
// LCP, CLS, INP, FCP and TTFB in milliseconds (CLS unitless), sent once as web_vitals when the
// page is first hidden. INP is approximated by the slowest interaction, CLS by the sum of shifts.
(function (window, document, performance) {
  var metrics = {};
  var sent = false;
  var shifts = 0;

  function observe(type, onEntry, options) {
    try {
      var observer = new PerformanceObserver(function (list) { list.getEntries().forEach(onEntry); });
      options = options || {};
      options.type = type;
      options.buffered = true;
      observer.observe(options);
    } catch (e) {}
  }

  observe("largest-contentful-paint", function (entry) { metrics.lcp = Math.round(entry.startTime); });
  observe("paint", function (entry) { if (entry.name == "first-contentful-paint") metrics.fcp = Math.round(entry.startTime); });
  observe("layout-shift", function (entry) {
    if (!entry.hadRecentInput) metrics.cls = Math.round((shifts += entry.value) * 1000) / 1000;
  });
  observe("event", function (entry) {
    if (entry.interactionId) metrics.inp = Math.max(metrics.inp || 0, Math.round(entry.duration));
  }, { durationThreshold: 16 });
  var navigation = performance.getEntriesByType("navigation")[0];
  if (navigation) metrics.ttfb = Math.round(navigation.responseStart);

  document.addEventListener("visibilitychange", function () {
    if (document.hidden && !sent && window.bantico) {
      sent = true;
      window.bantico.track("web_vitals", metrics);
    }
  });
})(window, document, performance);
