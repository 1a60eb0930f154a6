// 扫码查找: photograph a batch's QR label and open the batch. A file input with capture opens the
// phone's camera in any browser, WeChat's included, and needs no live video. The decoder (qr-scanner,
// vendored from npm) is fetched only when a photo is chosen, so My batches stays small.
(function () {
  var form = document.getElementById("scan-form");
  if (!form) return;
  var input = document.getElementById("scan-photo");
  var status = document.getElementById("scan-status");
  var decoder = null;
  function load() {
    if (decoder) return decoder;
    decoder = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = form.dataset.decoder;
      s.onload = function () { resolve(window.QrScanner); };
      s.onerror = reject;
      document.head.appendChild(s);
    });
    return decoder;
  }
  input.addEventListener("change", function () {
    if (!input.files || !input.files[0]) return;
    status.textContent = form.dataset.reading;
    load().then(function (QrScanner) {
      return QrScanner.scanImage(input.files[0], { returnDetailedScanResult: true });
    }).then(function (result) {
      form.elements.code.value = result.data;
      form.submit();
    }).catch(function () {
      status.textContent = form.dataset.failed;
      input.value = "";
    });
  });
})();
