// 待上传: the field app's outbox. Every write form (form.outbox) gets a client-made id as its
// Idempotency-Key. Each entry is kept in IndexedDB before it leaves: online the form posts as
// usual (the page that answers clears it); offline, or when the post never arrived, the entry stays
// and is sent again through /field/sync (the page door of POST /api/v1/sync) in batches: on
// reconnect, on page load and on a timer with backoff. A write sent twice is stored once. A write
// the server refused stays listed with its reason until it is corrected or discarded. Without
// JavaScript the forms post as plain forms; without a service worker (WeChat) all of this still runs.
(function () {
  var DB = "youpin-field", STORE = "outbox", BATCH = 50;
  var box = document.getElementById("outbox");
  if (!box || !window.indexedDB || !window.fetch || !window.Promise || !window.URLSearchParams) return;
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
  // Entries are each user's own: on a shared phone the next user neither sees nor sends them.
  function mine(items) { return items.filter(function (i) { return i.user === text.user; }); }
  function waiting(item) { return item.state === "pending"; }

  function newKey() {
    return "field-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2));
  }

  function button(label, onclick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "secondary"; b.textContent = label; b.onclick = onclick;
    return b;
  }

  function show() {
    return all().then(mine).then(function (items) {
      var list = box.querySelector("ul");
      list.textContent = "";
      box.querySelector(".count").textContent = text.count.replace("{n}", items.filter(waiting).length);
      box.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li"), line = document.createElement("span");
        li.dataset.state = item.state;
        line.className = "state";
        line.textContent = item.label + " · " + (item.state === "refused" ? text.refused + " " + item.reason
          : item.state === "done" ? item.reason : text.waiting);
        li.appendChild(line);
        if (item.state === "refused" && item.page) {
          var fix = document.createElement("a");
          fix.className = "tap"; fix.textContent = text.fix; fix.href = item.page + "#outbox=" + encodeURIComponent(item.id);
          li.appendChild(document.createTextNode(" ")); li.appendChild(fix);
        }
        if (item.state !== "pending") {
          li.appendChild(button(item.state === "done" ? text.ok : text.discard, function () { drop(item.id).then(show); }));
        }
        list.appendChild(li);
      });
    });
  }

  function reasonOf(item, error) {
    var named = error && error.errors && error.errors.body;
    if (!named) return (error && error.message) || "";
    return Object.keys(named).map(function (name) {
      var label = item.labels && item.labels[name];
      return (label ? label + text.colon : "") + named[name].join("；");
    }).join("；");
  }

  function asWrite(item) {
    var write = { client_id: item.id, kind: item.kind, device_time: item.device_time, body: {} };
    item.body.forEach(function (kv) { if (kv[0] !== "csrf_token") write.body[kv[0]] = kv[1]; });
    Object.keys(item.target || {}).forEach(function (k) { write[k] = item.target[k]; });
    return write;
  }

  function apply(items, results) {
    var byId = {};
    items.forEach(function (i) { byId[i.id] = i; });
    return results.reduce(function (p, r) {
      var item = byId[r.client_id];
      if (!item) return p;
      return p.then(function () {
        if (r.status === "rejected") {
          item.state = "refused"; item.reason = reasonOf(item, r.error);
          return put(item);
        }
        if (r.message) { item.state = "done"; item.reason = r.message; item.body = []; return put(item); }
        return drop(item.id);
      });
    }, Promise.resolve());
  }

  function sendBatch(items) {
    var form = new URLSearchParams();
    form.append("csrf_token", text.csrf);
    form.append("writes", JSON.stringify(items.map(asWrite)));
    return fetch(text.sync, {
      method: "POST", body: form, credentials: "same-origin", headers: { "Accept": "application/json" },
    }).then(function (r) {
      if (r.status !== 200) throw new Error("sync " + r.status);  // signed out, offline, 5xx: later
      return r.json().then(function (answer) { return apply(items, answer.results); });
    });
  }

  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return all().then(mine).then(function (items) {
      var pending = items.filter(waiting), chunks = [];
      for (var i = 0; i < pending.length; i += BATCH) chunks.push(pending.slice(i, i + BATCH));
      return chunks.reduce(function (p, chunk) { return p.then(function () { return sendBatch(chunk); }); }, Promise.resolve());
    }).then(function () { delay = 5000; }, function () { delay = Math.min(delay * 2, 300000); })
      .then(function () { sending = false; return show(); })
      .then(function () {
        clearTimeout(timer);
        return all().then(mine).then(function (items) { if (items.some(waiting)) timer = setTimeout(flush, delay); });
      });
  }

  function labelsOf(form) {
    var labels = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      var label = el.id && form.querySelector('label[for="' + el.id + '"]');
      if (label) {  // the label's own words, without its hint in brackets
        label = label.cloneNode(true);
        label.querySelectorAll(".muted").forEach(function (m) { m.remove(); });
      }
      var shown = (label && label.textContent) || el.getAttribute("aria-label") || "";
      if (shown && !labels[el.name]) labels[el.name] = shown.replace(/\s+/g, " ").trim();
    });
    return labels;
  }

  function capture(form) {
    var data = form.dataset, target = {};
    ["batch", "stage", "seq", "field", "certificate", "product"].forEach(function (k) {
      if (data[k]) target[k] = /^\d+$/.test(data[k]) && k !== "stage" && k !== "field" && k !== "product" ? +data[k] : data[k];
    });
    var when = form.elements.occurred_at ? " " + form.elements.occurred_at.value.replace("T", " ") : "";
    var body = Array.from(new FormData(form).entries()).filter(function (kv) { return typeof kv[1] === "string"; });
    return {
      id: form.elements.idempotency_key.value, kind: data.kind, target: target, body: body, labels: labelsOf(form),
      label: data.label + when, page: location.pathname + location.search, state: "pending", user: text.user,
      device_time: new Date().toISOString(),
    };
  }

  function fill(form, item) {
    item.body.forEach(function (kv) {
      var el = form.elements[kv[0]];
      if (!el || kv[0] === "csrf_token") return;
      if (el.length && !el.tagName) {  // radio buttons
        Array.prototype.forEach.call(el, function (r) { r.checked = r.value === kv[1]; });
      } else if (el.type !== "file") { el.value = kv[1]; }
    });
  }

  var shownHere = document.querySelector(".errors[role=alert]");
  var fixing = /#outbox=(.+)$/.exec(location.hash);
  var forms = document.querySelectorAll("form.outbox");
  var ready = all().then(mine).then(function (items) {
    var done = Promise.resolve();
    forms.forEach(function (form) {
      var key = form.elements.idempotency_key;
      if (shownHere) {
        // The server answered this page with the form and its errors (or the interval warning):
        // the page now holds the entry, under the key it was posted with.
        items.forEach(function (i) { if (i.id === key.value) done = done.then(function () { return drop(i.id); }); });
        return;
      }
      var fixed = fixing && items.filter(function (i) { return i.id === decodeURIComponent(fixing[1]); })[0];
      if (fixed && fixed.kind === form.dataset.kind) { fill(form, fixed); key.value = fixed.id; return; }
      key.value = newKey();  // a page served from a cache holds a key already used: every entry gets its own
    });
    return done;
  }, function () {});

  forms.forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (e.defaultPrevented || form.dataset.posting) return;  // a second tap (once.js), or our own post
      if (e.submitter && e.submitter.name === "add_row") return;  // one more blank row: nothing to keep
      e.preventDefault();
      var item = capture(form);
      if (navigator.onLine === false) {
        put(item).then(function () { form.reset(); form.elements.idempotency_key.value = newKey(); show(); });
        // The one-tap guard (once.js) let this submit through; the next entry must pass too.
        setTimeout(function () { delete form.dataset.sent; }, 0);
        var saved = document.getElementById("outbox-saved");
        if (saved) saved.hidden = false;
        return;
      }
      // Online: kept first, then posted as a plain form; if the answer never comes, it is sent again.
      var stamp = form.elements.device_time || form.appendChild(Object.assign(document.createElement("input"),
        { type: "hidden", name: "device_time" }));
      stamp.value = item.device_time;
      var post = function () { form.dataset.posting = "1"; HTMLFormElement.prototype.submit.call(form); };
      put(item).then(post, post);
    });
  });
  document.querySelectorAll("form.signout").forEach(function (f) {
    f.addEventListener("submit", function () {  // signing out: the cached pages go (the unsent entries stay)
      if (window.caches) caches.keys().then(function (names) {
        names.forEach(function (n) { if (n.indexOf("youpin-field-") === 0) caches.delete(n); });
      });
    });
  });
  window.addEventListener("hashchange", function () {  // 去改正 for this very page: open it afresh, filled in
    if (/#outbox=/.test(location.hash)) location.reload();
  });
  window.addEventListener("online", flush);
  ready.then(show).then(flush);
  if (navigator.serviceWorker && text.sw) navigator.serviceWorker.register(text.sw, { scope: text.scope });
})();
