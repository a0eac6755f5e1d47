// The capture page inside Telegram (/m/capture?case=<number>): the camera takes the photo,
// the position and its accuracy are read at that moment, the photo is hashed here (SHA-256)
// and kept in IndexedDB with those facts until it is uploaded (tus, one one-time link per
// item, asked for with the Mini App's init data). Without a signal the items wait and go up
// when it returns, with their original capture time and place.
(function () {
  "use strict";

  var root = document.getElementById("capture");
  if (!root || !window.tus) return;

  var T = JSON.parse(document.getElementById("capture-texts").textContent);
  var el = function (id) { return document.getElementById(id); };
  var endpoint = new URL(root.dataset.endpoint, location.href).href;
  var chunkSize = Number(root.dataset.chunkSize) || 4 * 1024 * 1024;
  var caseRef = new URLSearchParams(location.search).get("case") || "";
  var initData = readInitData();
  var video = el("viewfinder");
  var shoot = el("shoot");
  var db = null;
  var busy = false;

  function say(key, values) {
    var text = T[key] || key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ?
        String(values[name]) : whole;
    });
  }

  function status(key, values) { el("cap-status").textContent = say(key, values); }

  function error(text) {
    el("cap-error").textContent = text || "";
    el("cap-error").hidden = !text;
  }

  function readInitData() {
    // Telegram hands the init data in the fragment (tgWebAppData) and to its own script;
    // it is kept for this tab so that a reload without a signal still has it.
    var fromHash = new URLSearchParams(location.hash.replace(/^#/, "")).get("tgWebAppData");
    var fromApp = window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData;
    var found = fromHash || fromApp || "";
    try {
      if (found) sessionStorage.setItem("qc-init-data", found);
      else found = sessionStorage.getItem("qc-init-data") || "";
    } catch (e) { /* storage refused: the fragment is still there */ }
    return found;
  }

  // ----- IndexedDB: the items waiting for a signal -----

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("qc-capture", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("items", { keyPath: "id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode, work) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction("items", mode);
      var result = work(tx.objectStore("items"));
      tx.oncomplete = function () { resolve(result && result.result); };
      tx.onerror = function () { reject(tx.error); };
    });
  }

  function allItems() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.captured_at < b.captured_at ? -1 : 1; });
    });
  }

  // ----- capture -----

  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ lat: p.coords.latitude, lon: p.coords.longitude,
                  accuracy: p.coords.accuracy });
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 10000,
                                           maximumAge: 0 });
    });
  }

  function frame() {
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth || 640;
    canvas.height = video.videoHeight || 480;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.92); });
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function take() {
    var at = new Date();  // the moment of capture: A31.1 counts from here
    shoot.disabled = true;
    return Promise.all([frame(), position()]).then(function (got) {
      var blob = got[0];
      var where = got[1];
      return blob.arrayBuffer().then(function (data) {
        return crypto.subtle.digest("SHA-256", data);
      }).then(function (digest) {
        var sha = hex(digest);
        var item = {
          id: at.getTime() + "-" + sha.slice(0, 8), case_ref: caseRef, sha256: sha,
          captured_at: at.toISOString(), blob: blob, type: "image/jpeg",
          filename: "capture-" + at.toISOString().replace(/[:.]/g, "-") + ".jpg",
          proves: el("cap-proves").value, lat: where && where.lat, lon: where && where.lon,
          accuracy: where && where.accuracy, state: "waiting"
        };
        return store("readwrite", function (s) { return s.put(item); }).then(function () {
          return item;
        });
      });
    }).then(function (item) {
      status(navigator.onLine ? "capjs_saved" : "capjs_saved_offline",
             { sha: item.sha256.slice(0, 8) });
      render();
      flush();
    }).catch(function (e) {
      error(say("capjs_failed") + " " + (e && e.message ? e.message : ""));
    }).then(function () { shoot.disabled = false; });
  }

  // ----- upload, as soon as there is a signal -----

  function askLink(item) {
    return fetch(root.dataset.link, {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
      body: JSON.stringify({ init_data: initData, case: item.case_ref })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          var e = new Error((body.error && (body.error.message_zh || body.error.message)) ||
                            response.status);
          e.refused = true;
          throw e;
        }
        return body;
      });
    });
  }

  function send(item) {
    return askLink(item).then(function (link) {
      el("cap-case").textContent = say("capjs_case", { number: link.case_number,
                                                       title: link.case_title });
      var metadata = { filename: item.filename, filetype: item.type, proves: item.proves,
                       method: link.method, captured_at: item.captured_at,
                       client_sha256: item.sha256 };
      if (item.lat !== null && item.lat !== undefined) {
        metadata.lat = String(item.lat);
        metadata.lon = String(item.lon);
        metadata.accuracy = String(item.accuracy);
      }
      return new Promise(function (resolve, reject) {
        var upload = new tus.Upload(item.blob, {
          endpoint: endpoint, chunkSize: chunkSize, metadata: metadata,
          headers: { "Upload-Token": link.token }, retryDelays: [0, 1000, 3000],
          storeFingerprintForResuming: false,
          onError: reject, onSuccess: function () { resolve(upload); }
        });
        upload.start();
      });
    });
  }

  function flush() {
    if (busy || !navigator.onLine || !db) return Promise.resolve();
    busy = true;
    return allItems().then(function (items) {
      var chain = Promise.resolve();
      items.forEach(function (item) {
        chain = chain.then(function () {
          if (!navigator.onLine) return null;
          status("capjs_uploading", { sha: item.sha256.slice(0, 8) });
          return send(item).then(function () {
            return store("readwrite", function (s) { return s.delete(item.id); });
          }).then(function () {
            done.push(item);
            status("capjs_uploaded", { sha: item.sha256.slice(0, 8) });
          }, function (e) {
            error(say(e.refused ? "capjs_refused" : "capjs_retry") + " " + (e.message || ""));
            if (!e.refused) throw e;  // no signal after all: the rest waits too
          });
        });
      });
      return chain;
    }).catch(function () { /* waiting for the signal */ }).then(function () {
      busy = false;
      render();
    });
  }

  var done = [];

  function render() {
    if (!db) return;
    allItems().then(function (items) {
      var list = el("cap-items");
      list.textContent = "";
      items.concat(done).forEach(function (item) {
        var li = document.createElement("li");
        var waiting = items.indexOf(item) >= 0;
        li.dataset.state = waiting ? "waiting" : "uploaded";
        var at = new Date(item.captured_at).toLocaleTimeString("zh-CN", { hour12: false });
        li.textContent = say(waiting ? "capjs_item_waiting" : "capjs_item_done", {
          at: at, sha: item.sha256.slice(0, 8),
          where: item.accuracy ? say("capjs_accuracy", { m: Math.round(item.accuracy) }) :
            say("capjs_no_position")
        });
        list.appendChild(li);
      });
    });
  }

  // ----- start -----

  if (!initData) error(say("capjs_no_init"));
  if (!caseRef) error(say("capjs_no_case"));
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.worker, { scope: "/m/" }).catch(function () {
      /* the page works without it, only not offline after a reload */
    });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  shoot.addEventListener("click", take);
  openDb().then(function (opened) {
    db = opened;
    render();
    flush();
  }, function (e) { error(String(e)); });
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        shoot.disabled = false;
        status("capjs_ready");
      }, function (e) { error(say("capjs_no_camera") + " " + (e.message || "")); });
  } else {
    error(say("capjs_no_camera"));
  }
  if (window.Telegram && window.Telegram.WebApp) window.Telegram.WebApp.ready();
})();
