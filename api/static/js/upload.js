// The one-time upload page (/u#<token>): tus-js-client does the resumable upload; this file
// reads the token from the fragment, asks what the link is for, and shows progress, pauses,
// automatic resumption and the intake's verdict. The token only ever travels in the
// Upload-Token header, never in a URL that is requested.
(function () {
  "use strict";

  var root = document.getElementById("upload");
  if (!root || !window.tus) return;

  var T = JSON.parse(document.getElementById("upload-texts").textContent);
  var english = document.documentElement.lang === "en";
  var endpoint = new URL(root.dataset.endpoint, location.href).href;
  var infoUrl = root.dataset.info;
  var chunkSize = Number(root.dataset.chunkSize) || 4 * 1024 * 1024;

  var el = function (id) { return document.getElementById(id); };
  var form = el("upload-form");
  var statusBox = el("status");
  var errorBox = el("error");
  var startButton = el("start");
  var pauseButton = el("pause");
  var resumeButton = el("resume");

  var token = readToken();
  var info = null;        // GET /api/v1/upload-link
  var chosen = null;      // the File
  var upload = null;      // the tus.Upload
  var running = false;    // requests in flight (not paused, not failed)
  var waitingForNetwork = false;
  var samples = [];       // [time, bytes] of recent progress, for the speed

  function say(key, values) {
    var text = T[key] || key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ?
        String(values[name]) : whole;
    });
  }

  function readToken() {
    var raw = location.hash.replace(/^#/, "");
    try { raw = decodeURIComponent(raw); } catch (e) { return ""; }
    return /^qcu_[A-Za-z0-9_-]{10,96}$/.test(raw.trim()) ? raw.trim() : "";
  }

  function setStatus(key, values) {
    statusBox.hidden = false;
    statusBox.textContent = say(key, values);
    // A speed measured before a pause or a drop says nothing about now.
    if (key !== "upjs_uploading") el("speed-text").textContent = "";
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function bytes(n) {
    var units = ["B", "KB", "MB", "GB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + " " + units[i];
  }

  function percent(done, total) {
    return (total ? Math.floor((1000 * done) / total) / 10 : 0).toFixed(1) + "%";
  }

  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toLocaleString(english ? "en-GB" : "zh-CN", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit"
    });
  }

  function headers() { return { "Upload-Token": token }; }

  // --- the link --------------------------------------------------------------------------

  function loadInfo() {
    if (!token) { setStatus("upjs_no_token"); return; }
    fetch(infoUrl, { headers: headers(), cache: "no-store" }).then(function (r) {
      if (r.status === 401 || r.status === 404) {
        setStatus("upjs_link_unknown");
        return null;
      }
      if (!r.ok) {
        setStatus("upjs_err_other", { status: r.status });
        return null;
      }
      return r.json();
    }).then(function (body) {
      if (body) showLink(body);
    }).catch(function () {
      // Offline when the page opened: try again when the network is back.
      setStatus("upjs_offline");
      window.addEventListener("online", loadInfo, { once: true });
    });
  }

  function showLink(body) {
    info = body;
    el("case-number").textContent = body.case_number;
    el("case-title").textContent = body.case_title;
    el("expires").textContent = when(body.expires_at);
    el("link-facts").hidden = false;
    var up = body.upload;
    if (up && (up.status === "done" || up.status === "failed")) {
      fetchResult(up.url);
      return;
    }
    if (up && up.status === "receiving") {
      el("describe").hidden = true;  // the fields were sent when the upload began
      startButton.textContent = resumeButton.textContent;
      setStatus("upjs_unfinished", { name: up.filename, percent: percent(up.offset, up.length) });
      form.hidden = false;
      return;
    }
    if (up) { setStatus("upjs_err_gone"); return; }
    var state = { used: "upjs_link_used", expired: "upjs_link_expired",
                  inactive: "upjs_link_inactive" }[body.state];
    if (state) { setStatus(state); return; }
    statusBox.hidden = true;
    form.hidden = false;
  }

  // --- choosing the file -----------------------------------------------------------------

  function choose(event) {
    var file = event.target.files && event.target.files[0];
    if (!file) return;
    chosen = file;
    showError("");
    el("chosen").textContent = file.name + "（" + bytes(file.size) + "）";
    el("chosen").hidden = false;
    var type = file.type || "";
    var method = type.indexOf("video/") === 0 ? "video" : type.indexOf("image/") === 0 ?
      "photo" : type.indexOf("audio/") === 0 ? "audio" : type === "application/pdf" ? "scan" :
      null;
    if (method) el("method").value = method;
  }

  // --- the upload ------------------------------------------------------------------------

  function fingerprint(file) {
    // One link, one file: the link's id keeps two links' uploads of the same file apart.
    return Promise.resolve(["qc", info.link_id, file.name, file.type, file.size,
                            file.lastModified].join("-"));
  }

  function start(event) {
    event.preventDefault();
    showError("");
    if (!chosen) { showError(say("upjs_pick_file")); return; }
    var resuming = info.upload && info.upload.status === "receiving";
    if (resuming && chosen.size !== info.upload.length) {
      showError(say("upjs_wrong_file", { name: info.upload.filename,
                                         size: bytes(info.upload.length) }));
      return;
    }
    var proves = el("proves").value.trim();
    if (!resuming && !proves) {
      showError(say("upjs_need_proves"));
      el("proves").focus();
      return;
    }
    var options = {
      endpoint: endpoint,
      chunkSize: chunkSize,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
      headers: headers(),
      metadata: { filename: chosen.name, filetype: chosen.type || "", proves: proves,
                  method: el("method").value },
      fingerprint: fingerprint,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress: progress,
      onShouldRetry: shouldRetry,
      onSuccess: finished,
      onError: failed
    };
    if (resuming) options.uploadUrl = info.upload.url;  // when this browser kept no record
    upload = new window.tus.Upload(chosen, options);
    form.querySelectorAll("input, select").forEach(function (c) { c.disabled = true; });
    startButton.hidden = true;
    el("progress-box").hidden = false;
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);  // same name, type, size and date
      } else if (resuming && chosen.name !== info.upload.filename) {
        // Only the server knows of the upload (another browser, cleared storage): the name
        // and size it recorded must match, or bytes of another file would be appended.
        showError(say("upjs_wrong_file", { name: info.upload.filename,
                                           size: bytes(info.upload.length) }));
        form.querySelectorAll("input, select").forEach(function (c) { c.disabled = false; });
        startButton.hidden = false;
        el("progress-box").hidden = true;
        return;
      }
      setStatus(resuming || previous.length ? "upjs_resuming" : "upjs_uploading");
      run();
    });
  }

  function run() {
    running = true;
    waitingForNetwork = false;
    samples = [];
    pauseButton.hidden = false;
    resumeButton.hidden = true;
    upload.start();
  }

  function pause() {
    if (!upload || !running) return;
    running = false;
    upload.abort();  // keeps the upload on the server: "resume" continues from its offset
    pauseButton.hidden = true;
    resumeButton.hidden = false;
    setStatus("upjs_paused");
    resumeButton.focus();
  }

  function resume() {
    if (!upload || running) return;
    showError("");
    setStatus("upjs_resuming");
    run();
  }

  function progress(sent, total) {
    var now = Date.now();
    samples.push([now, sent]);
    while (samples.length > 2 && now - samples[0][0] > 5000) samples.shift();
    el("progress").value = total ? (100 * sent) / total : 0;
    el("progress-text").textContent = say("upjs_progress", {
      done: bytes(sent), total: bytes(total), percent: percent(sent, total) });
    var first = samples[0];
    var seconds = (now - first[0]) / 1000;
    if (seconds >= 0.5 && sent > first[1]) {
      var speed = (sent - first[1]) / seconds;
      var left = Math.ceil((total - sent) / speed);
      var eta = left < 60 ? say("upjs_seconds", { n: left }) :
        say("upjs_minutes", { n: Math.ceil(left / 60) });
      el("speed-text").textContent = say("upjs_speed", { speed: bytes(Math.round(speed)),
                                                          eta: eta });
    }
    if (!waitingForNetwork && running) setStatus("upjs_uploading");
  }

  function statusOf(err) {
    return err && err.originalResponse ? err.originalResponse.getStatus() : 0;
  }

  function shouldRetry(err) {
    var status = statusOf(err);
    if (!navigator.onLine) return false;  // the "online" event resumes instead
    var retry = status === 0 || status >= 500 || status === 409 || status === 423;
    if (retry) setStatus("upjs_retrying");
    return retry;
  }

  function errorBody(err) {
    try {
      return JSON.parse(err.originalResponse.getBody()).error || {};
    } catch (e) {
      return {};
    }
  }

  function explain(error, status) {
    var key = "upjs_err_" + (error.code || "");
    if (T[key]) return english && error.message ? error.message : T[key];
    return say("upjs_err_other", { status: status });
  }

  function failed(err) {
    running = false;
    pauseButton.hidden = true;
    var status = statusOf(err);
    if (!navigator.onLine || (status === 0 && waitingForNetwork)) {
      waitingForNetwork = true;
      setStatus("upjs_offline");
      resumeButton.hidden = false;
      return;
    }
    if (status >= 400 && status < 500 && upload.url && status !== 409) {
      // The last PATCH ran the intake and it refused the file: say why.
      var error = errorBody(err);
      if (error.code === "unsupported_type" || error.code === "invalid") {
        showResult({ error: error }, status);
        return;
      }
      showError(say("upjs_error", { message: explain(error, status) }));
      statusBox.hidden = true;
      return;
    }
    if (status >= 400 && status < 500) {
      showError(say("upjs_error", { message: explain(errorBody(err), status) }));
      statusBox.hidden = true;
      return;
    }
    showError(say("upjs_err_network"));
    statusBox.hidden = true;
    resumeButton.hidden = false;
  }

  function finished() {
    running = false;
    pauseButton.hidden = true;
    resumeButton.hidden = true;
    el("progress").value = 100;
    setStatus("upjs_checking");
    fetchResult(upload.url);
  }

  function fetchResult(url, attempt) {
    attempt = attempt || 0;
    fetch(url, { headers: headers(), cache: "no-store" }).then(function (r) {
      return r.json().then(function (body) { return [r.status, body]; });
    }).then(function (answer) {
      if (answer[0] === 202 && attempt < 20) {  // the intake is still running
        setTimeout(function () { fetchResult(url, attempt + 1); }, 1000);
        return;
      }
      showResult(answer[1], answer[0]);
    }).catch(function () {
      setStatus("upjs_offline");
      window.addEventListener("online", function () { fetchResult(url, attempt); },
                              { once: true });
    });
  }

  // --- the verdict -----------------------------------------------------------------------

  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function badge(status, label) {
    return node("span", "badge badge-" + status, label);
  }

  function showResult(body, status) {
    form.hidden = true;
    el("progress-box").hidden = true;
    statusBox.hidden = true;
    var box = el("result-body");
    box.textContent = "";
    if (body.error) {
      var message = explain(body.error, status);
      box.appendChild(node("p", "notice notice-error", say("upjs_refused", { message: message })));
    } else {
      box.appendChild(node("p", "notice notice-success",
                           say(body.duplicate_of ? "upjs_duplicate" : "upjs_done")));
      var facts = node("dl", "facts");
      var level = body.assurance || "";
      var levelKey = "upjs_assurance_" + level;
      var row = function (label, value) {
        var wrap = node("div");
        wrap.appendChild(node("dt", null, label));
        var dd = node("dd");
        if (typeof value === "string") dd.textContent = value; else dd.appendChild(value);
        wrap.appendChild(dd);
        facts.appendChild(wrap);
      };
      row(say("upjs_assurance"), badge(level === "verified" ? "pass" : level === "failed" ?
        "fail" : "warn", T[levelKey] || level));
      var reason = english ? body.assurance_reason : body.assurance_reason_zh;
      if (reason) row(say("upjs_reason"), reason);
      row(say("upjs_sha"), node("code", "hash", body.sha256 || ""));
      box.appendChild(facts);
      var list = node("ul", "checks");
      var anyFailed = false;
      (body.checks || []).forEach(function (check) {
        var item = node("li", "check");
        item.appendChild(badge(check.status, T["upjs_status_" + check.status] || check.status));
        item.appendChild(node("strong", null, T["upjs_check_" + check.name] || check.name));
        var detail = english ? check.detail : (check.detail_zh || check.detail);
        if (detail) item.appendChild(node("span", "check-detail", detail));
        list.appendChild(item);
        if (check.status === "fail") anyFailed = true;
      });
      box.appendChild(list);
      if (anyFailed) box.appendChild(node("p", "hint", say("upjs_failed_hint")));
    }
    el("result").hidden = false;
    el("result-title").focus();
  }

  // --- wiring ----------------------------------------------------------------------------

  el("file").addEventListener("change", choose);
  el("camera").addEventListener("change", choose);
  form.addEventListener("submit", start);
  pauseButton.addEventListener("click", pause);
  resumeButton.addEventListener("click", resume);
  window.addEventListener("offline", function () {
    if (running || waitingForNetwork) setStatus("upjs_offline");
  });
  window.addEventListener("online", function () {
    if (upload && waitingForNetwork) resume();
  });
  // Another link opened in this tab changes only the fragment: start again with its token.
  window.addEventListener("hashchange", function () { location.reload(); });
  loadInfo();
})();
