// Voronka's page behaviour beyond htmx: toasts for server messages.
(function () {
  "use strict";
  function toast(text, kind) {
    var box = document.getElementById("toast");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "alert alert-" + (kind || "danger") + " shadow-sm";
    el.setAttribute("role", "alert");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  window.voronkaToast = toast;
  document.body.addEventListener("voronka:toast", function (e) {
    toast(e.detail.value || e.detail.message, e.detail.kind);
  });
  document.body.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = xhr.getResponseHeader("X-Voronka-Message");
    toast(text ? decodeURIComponent(text) : (xhr.status + " " + xhr.statusText));
  });
})();
