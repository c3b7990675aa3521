// Bantico tracker (served minified at /bantico.js). Snippets:
//   <script src="https://BASE/bantico.js" data-token="TOKEN" data-persist></script>
//   <script>window.BANTICO_TOKEN = "TOKEN";</script><script src="https://BASE/bantico.js"></script>
// Calls made before it loads are replayed from window.bantico.q, a list of [method, ...args]:
//   window.bantico = window.bantico || { q: [] };
//   ["identify", "track"].forEach(function (m) { bantico[m] = bantico[m] || function () { bantico.q.push([m].concat([].slice.call(arguments))) } });
// data-api="URL" sends events there instead (a first-party proxy); data-vitals also loads
// /bantico-vitals.js, which reports web_vitals when the page is hidden; /bantico-checkout.js (unless
// data-no-checkout-links) adds the visitor id to no-code checkout links. The server answers each
// event with the session's context, which context() returns; it also derives pricing_view from the path.
(function (window, document, navigator, location) {
  var script = document.currentScript || {};
  var data = script.dataset || {};
  var token = data.token || window.BANTICO_TOKEN;
  var origin = new URL(script.src || "/", location.href).origin;
  var endpoint = data.api || origin + "/api/collect";
  // Global Privacy Control or Do Not Track: never a cookie, whatever the snippet says.
  var persist = data.persist != null && !navigator.globalPrivacyControl && navigator.doNotTrack != "1" && window.doNotTrack != "1";
  var storage;
  var context = {};
  // Address (without fragment) → the address as landed, bt_click included: what the server is told while the tab is there.
  var landed = {};
  var FIELDS = "linkId campaignId source medium content leadId visitorId sessionId".split(" ");
  var queued = (window.bantico && window.bantico.q) || [];
  var lastPath, lastUrl, visibleSince = Date.now(), engaged = 0;

  // Storage and cookies can throw (sandboxed frames, storage disabled): the tracker then simply remembers nothing.
  function cookie(name, value, maxAge) {
    try {
      if (value === undefined) {
        var found = document.cookie.match("(^|; )" + name + "=([^;]*)");
        return found && found[2];
      }
      document.cookie = name + "=" + value + ";path=/;max-age=" + maxAge + ";samesite=lax" + (location.protocol == "https:" ? ";secure" : "");
    } catch (e) {}
  }

  try {
    storage = window.sessionStorage;
    context = JSON.parse(storage.bantico || 0) || {};
    landed = JSON.parse(storage.bantico_landed || 0) || {};
  } catch (e) {}
  var visitorId = persist && (cookie("bantico_vid") || [].map.call(crypto.getRandomValues(new Uint32Array(4)), function (n) { return n.toString(36); }).join(""));
  if (visitorId) cookie("bantico_vid", visitorId, 34560000);

  function send(name, props, url, extra) {
    if (!token || navigator.webdriver) return;
    url = url || location.href;
    var body = { t: token, n: name, u: landed[url.split("#")[0]] || url, r: document.referrer, p: props, v: visitorId || undefined, s: persist ? cookie("bantico_sid") : undefined };
    for (var key in extra) body[key] = extra[key];
    fetch(endpoint, { method: "POST", body: JSON.stringify(body), keepalive: true })
      .then(function (response) { return response.ok && response.json(); })
      .then(function (answer) {
        if (!answer || !answer.sessionId) return;
        context = answer;
        try { storage.bantico = JSON.stringify(answer); } catch (e) {}
        if (persist) cookie("bantico_sid", answer.sessionId, 1800);
      })
      .catch(function () {});
  }

  function reportEngagement() {
    if (visibleSince) engaged += Date.now() - visibleSince;
    visibleSince = document.hidden ? 0 : Date.now();
    if (engaged > 999) send("engagement", { ms: engaged }, lastUrl);
    engaged = 0;
  }

  // Once the page view carried it, bt_click leaves the address bar: a copied URL must not credit the link again.
  // This tab goes on reporting the address as landed (after a reload or back too), so its session keeps the link.
  function dropClickId() {
    var params = location.search.slice(1).split("&");
    var kept = params.filter(function (param) { return param.split("=")[0] != "bt_click"; });
    var original = location.href.split("#")[0];
    try {
      if (kept.length < params.length) {
        history.replaceState(history.state, "", location.pathname + (kept.length ? "?" + kept.join("&") : "") + location.hash);
        landed[location.href.split("#")[0]] = original;
        storage.bantico_landed = JSON.stringify(landed);
      }
    } catch (e) {}
  }

  function pageView() {
    if (lastPath == location.pathname) return;
    if (lastPath) reportEngagement();
    lastPath = location.pathname;
    send("page_view");
    dropClickId();
    lastUrl = location.href;
  }

  var api = {
    track: function (name, props) { send(name, props); },
    identify: function (traits) { send("identify", null, null, { i: traits }); },
    context: function () {
      var out = {};
      FIELDS.forEach(function (field) { out[field] = context[field] || ""; });
      return out;
    },
  };
  window.bantico = api;

  ["pushState", "replaceState"].forEach(function (method) {
    var original = history[method];
    history[method] = function () {
      var result = original.apply(this, arguments);
      pageView();
      return result;
    };
  });
  window.addEventListener("popstate", pageView);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) reportEngagement();
    else visibleSince = Date.now();
  });
  ["click", "auxclick"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var link = event.target.closest && event.target.closest("a[href]");
      if (link && link.host != location.host && /^https?:$/.test(link.protocol)) send("outgoing_click", { url: link.href });
    }, true);
  });

  function addOn(name) {
    var script = document.createElement("script");
    script.src = origin + "/bantico-" + name + ".js";
    script.async = true;
    document.head.appendChild(script);
  }
  if (data.vitals != null) addOn("vitals");
  if (data.noCheckoutLinks == null) addOn("checkout");
  // A prerendered page is counted when the visitor actually opens it, not when the browser guesses.
  if (document.prerendering) document.addEventListener("prerenderingchange", pageView, { once: true });
  else pageView();
  queued.forEach(function (call) {
    call = [].slice.call(call);
    var method = api[call[0]];
    if (method) method.apply(api, call.slice(1));
  });
})(window, document, navigator, location);
