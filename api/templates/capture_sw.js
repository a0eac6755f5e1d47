// The capture page's service worker (scope /m/): its files are kept at install, so that the
// page opens without a signal; everything else (links, uploads) goes to the network.
"use strict";
var CACHE = "qc-capture-{{ version }}";
var FILES = {{ files|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("qc-capture-") === 0 && n !== CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  var page = url.pathname === FILES[0];
  if (!page && FILES.indexOf(url.pathname + url.search) < 0) return;
  // The page: the network first (it may have changed), the kept copy without a signal.
  event.respondWith(fetch(request).then(function (response) {
    if (page && response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(FILES[0], copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(page ? FILES[0] : request);
  }));
});
