// The import page: the stage picker follows the product; the upload goes by XHR so its progress
// shows in the bar, then the server's answer (the count stored, or each bad row) is listed.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) return;
  var product = document.getElementById("product");
  var stage = document.getElementById("stage");
  var bar = document.getElementById("import-progress");
  var status = document.getElementById("import-status");
  var box = document.getElementById("import-errors");
  var say = function (name, values) {
    var text = form.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  };
  // Every product's stages are in the page; only the chosen product's stay in the picker.
  var allStages = Array.prototype.slice.call(stage.options);
  function followProduct() {
    var wanted = stage.value;
    stage.textContent = "";
    allStages.forEach(function (o) {
      if (o.getAttribute("data-product") !== product.value) return;
      o.hidden = false; o.disabled = false;
      stage.appendChild(o);
    });
    if (wanted) stage.value = wanted;
    if (!stage.value && stage.options.length) stage.selectedIndex = 0;
  }
  product.addEventListener("change", followProduct);
  followProduct();
  function showErrors(body) {
    var list = box.querySelector("ul");
    list.textContent = "";
    box.querySelector("strong").textContent = say("refused");
    var rows = (body && body.errors && body.errors.rows) || [];
    if (!rows.length && body && body.message) rows = [{ row: 0, column: "", reason: body.message }];
    rows.forEach(function (p) {
      var li = document.createElement("li");
      li.setAttribute("data-row", p.row);
      li.textContent = (p.row ? say("row", { row: p.row }) + " " : "") + (p.column ? p.column + "：" : "") + p.reason;
      list.appendChild(li);
    });
    box.hidden = false;
  }
  document.getElementById("upload").addEventListener("click", function () {
    var input = document.getElementById("file");
    box.hidden = true;
    if (!input.files.length) { status.textContent = say("choose"); return; }
    var data = new FormData();
    data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    data.append("product", product.value);
    data.append("stage", stage.value);
    data.append("file", input.files[0]);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-upload"));
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false; bar.value = 0;
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var p = Math.round((e.loaded / e.total) * 100);
      bar.value = p;
      status.textContent = p < 100 ? say("uploading", { p: p + "%" }) : say("checking");
    };
    xhr.upload.onload = function () { bar.value = 100; status.textContent = say("checking"); };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 200 || xhr.status === 201) {
        var text = body.stored ? say("stored", { n: body.stored }) : say("nothing");
        if (body.stored && body.duplicates) text += " " + say("duplicates", { n: body.duplicates });
        status.textContent = text;
        status.setAttribute("data-stored", body.stored);
      } else {
        status.textContent = "";
        showErrors(body);
      }
    };
    xhr.onerror = function () { status.textContent = say("failed"); };
    xhr.send(data);
  });
})();
