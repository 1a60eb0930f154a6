// The field app's service worker: a progressive enhancement. Where a browser has service workers
// (not WeChat's), a field page visited once opens again with no signal; the outbox (outbox.js)
// works either way. Pages: network first, the last copy when the network fails. Our scripts
// (addressed by their content hash): cache first. Nothing else is kept: no API answer, no /sync,
// no POST, no redirect or error page. Signing out empties the cache (outbox.js does it). The cache is named by this
// file's version (?v=, its content hash), so a new version drops the old cache when it activates.
var VERSION = new URL(self.location.href).searchParams.get("v") || "0";
var CACHE = "youpin-field-" + VERSION;
var SCOPE = new URL(self.registration.scope).pathname;  // /field/

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("youpin-field-") === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(request, response) {
  if (response.ok && response.type === "basic" && !response.redirected) {
    var copy = response.clone();
    caches.open(CACHE).then(function (c) { c.put(request, copy); });
  }
  return response;
}

self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (req.method !== "GET") return;
  if (url.pathname.indexOf(SCOPE) !== 0 || url.pathname === SCOPE + "sync" || url.pathname === SCOPE + "sw.js") return;
  if (url.pathname.indexOf(SCOPE + "static/") === 0) {
    e.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req).then(function (r) { return keep(req, r); }); }));
    return;
  }
  if (req.mode !== "navigate") return;
  e.respondWith(fetch(req).then(function (r) {
    var html = (r.headers.get("Content-Type") || "").indexOf("text/html") === 0;
    return html ? keep(req, r) : r;
  }, function () {
    return caches.match(req, { ignoreVary: true }).then(function (hit) { return hit || Response.error(); });
  }));
});
