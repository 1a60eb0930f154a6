// 待上传: the field app's outbox. A stage form posts through fetch; when the phone is offline or the
// request fails, the write is kept in IndexedDB and sent again on reconnect, on page load and on a
// timer with backoff. Each write carries its own client-made Idempotency-Key (the form's
// idempotency_key), so a write sent twice is stored once. A write the server refused stays listed
// with its reason until it is discarded. No service worker is needed (WeChat's browser has none).
(function () {
  var DB = "youpin-field", STORE = "outbox";
  var box = document.getElementById("outbox");
  if (!box || !window.indexedDB || !window.fetch) return;
  var text = box.dataset;
  var delay = 5000, timer = null, sending = false;

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), out = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function drop(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  function newKey() {
    return "field-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2));
  }

  function show() {
    return all().then(function (items) {
      var list = box.querySelector("ul");
      list.textContent = "";
      var waiting = items.filter(function (i) { return i.state !== "refused"; }).length;
      box.querySelector(".count").textContent = text.count.replace("{n}", waiting);
      box.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.state = item.state;
        li.textContent = item.label + " · " + (item.state === "refused" ? text.refused + " " + item.reason : text.waiting);
        if (item.state === "refused") {
          var b = document.createElement("button");
          b.type = "button"; b.className = "secondary"; b.textContent = text.discard;
          b.onclick = function () { drop(item.id).then(show); };
          li.appendChild(b);
        }
        list.appendChild(li);
      });
    });
  }

  function send(item) {
    return fetch(item.action, {
      method: "POST", body: new URLSearchParams(item.body), credentials: "same-origin",
      headers: { "X-Field-Outbox": "1", "Accept": "application/json" },
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) return drop(item.id);
      if (r.status >= 400 && r.status < 500) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          item.state = "refused"; item.reason = body.message || String(r.status);
          return put(item);
        });
      }
      throw new Error("server " + r.status);  // 5xx: try again later
    });
  }

  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return all().then(function (items) {
      var pending = items.filter(function (i) { return i.state !== "refused"; });
      return pending.reduce(function (p, item) { return p.then(function () { return send(item); }); }, Promise.resolve());
    }).then(function () { delay = 5000; }, function () { delay = Math.min(delay * 2, 300000); })
      .then(function () { sending = false; return show(); })
      .then(function () {
        clearTimeout(timer);
        return all().then(function (items) {
          if (items.some(function (i) { return i.state !== "refused"; })) timer = setTimeout(flush, delay);
        });
      });
  }

  document.querySelectorAll("form.outbox").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      var body = Array.from(new FormData(form).entries()).filter(function (kv) { return typeof kv[1] === "string"; });
      var item = {
        id: form.elements.idempotency_key.value, action: form.action, body: body,
        label: form.dataset.label + " " + (form.elements.occurred_at ? form.elements.occurred_at.value.replace("T", " ") : ""),
        state: "pending", device_time: new Date().toISOString(),
      };
      item.body.push(["device_time", item.device_time]);
      if (navigator.onLine === false) {
        e.preventDefault();
        // The next entry typed on this page is a write of its own, with a key of its own.
        put(item).then(function () { form.elements.idempotency_key.value = newKey(); form.reset(); show(); });
        // The one-tap guard (_once.html) let this submit through; the next entry must pass too.
        setTimeout(function () { delete form.dataset.sent; }, 0);
        var done = document.getElementById("outbox-saved");
        if (done) done.hidden = false;
      }
    });
  });
  window.addEventListener("online", flush);
  show().then(flush);
})();
