// Bantico checkout links (served at /bantico-checkout.js, loaded by the core tracker unless the
// snippet says data-no-checkout-links): a click on a no-code checkout link adds the visitor id in
// the provider's own parameter, and the payment's webhook brings it back to Bantico.
(function (document) {
  // Stripe Payment Links, Polar checkout links, Lemon Squeezy, Creem and Dodo static links. Paddle
  // has no link parameter for custom data (pass bantico.context() to Paddle.js customData instead).
  function checkoutParameter(target) {
    return /^buy\.stripe\.com\//.test(target) ? "client_reference_id"
      : /polar\.sh\/.*polar_cl_/.test(target) ? "reference_id"
      : /lemonsqueezy\.com\/checkout\/buy\//.test(target) ? "checkout[custom][bantico_visitor]"
      : /creem\.io\/payment\//.test(target) ? "metadata[bantico_visitor]"
      : /^checkout\.dodopayments\.com\/buy\//.test(target) && "metadata_bantico_visitor";
  }

  ["click", "auxclick"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var link = event.target.closest && event.target.closest("a[href]");
      // Stripe silently drops a client_reference_id with anything but letters, digits, - and _.
      var id = (window.bantico && window.bantico.context ? window.bantico.context().visitorId : "").replace(/[^\w-]/g, "");
      var parameter = link && id && checkoutParameter(link.hostname + link.pathname);
      if (!parameter) return;
      var query = new URLSearchParams(link.search);
      query.set(parameter, id);
      link.search = query;
    }, true);
  });
})(document);
