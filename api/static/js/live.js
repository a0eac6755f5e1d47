// The desk's Live pane: the department's events from the /live Socket.IO namespace (the
// session cookie signs the connection in), newest first, with the connection's state shown.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var T = config.texts;
  var conn = document.getElementById("conn");
  var feed = document.getElementById("feed");
  var empty = document.getElementById("feed-empty");
  var seen = {};

  function state(name) {
    conn.className = "conn " + (name === "connected" ? "conn-on" :
                                name === "connecting" ? "conn-wait" : "conn-off");
    conn.textContent = T["livejs_" + name];
    conn.setAttribute("data-state", name);
  }

  function show(data) {
    // One event reaches the room once per recipient officer: show it once.
    var key = [data.type, data.deadline_id || data.record_id || data.id, data.step || ""].join(":");
    if (seen[key]) return;
    seen[key] = true;
    var item = document.createElement("li");
    item.className = "feed-item" + (data.type === "deadline.overdue" ? " feed-overdue" : "");
    item.setAttribute("data-type", data.type || "");
    var when = document.createElement("span");
    when.className = "muted";
    when.textContent = new Date().toLocaleTimeString(document.documentElement.lang,
                                                     {timeZone: config.time_zone}) + " · ";
    item.appendChild(when);
    var label = document.createElement("strong");
    label.textContent = (T["livejs_type_" + (data.type || "").replace(".", "_")] || data.type || "") + " ";
    item.appendChild(label);
    if (data.case_id && data.case_number) {
      var link = document.createElement("a");
      link.href = config.case_url.replace("CASE_ID", encodeURIComponent(data.case_id));
      link.textContent = data.case_number;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
    }
    var body = document.createElement("span");
    body.textContent = data.rule_id ? data.rule_id + " " : "";
    item.appendChild(body);
    var text = document.createElement("div");
    text.textContent = data.body || data.subject || "";
    item.appendChild(text);
    feed.insertBefore(item, feed.firstChild);
    empty.hidden = true;
  }

  state("connecting");
  var socket = io(config.namespace, {transports: ["websocket", "polling"], withCredentials: true});
  socket.on("connect", function () { state("connected"); });
  socket.on("disconnect", function () { state("disconnected"); });
  socket.on("connect_error", function () { state("disconnected"); });
  socket.io.on("reconnect_attempt", function () { state("connecting"); });
  socket.onAny(function (_event, data) { if (data && typeof data === "object") show(data); });
})();
