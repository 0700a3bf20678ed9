// The board: drag a card to another column to move the deal; the server decides.
// A lost column asks for the reason first. A stage wanting fields the deal lacks answers 422
// with a form for exactly those; it is shown in a dialog and the move is tried again with them.
// A deal that would be left without an open task gets the next step asked in the same dialog
// (with the fields, or alone); the server plans it with the move.
// Any other refusal (or a cancel) puts the card back and shows the reason.
// Filters submit on change; "show more" pages are htmx.
(function () {
  "use strict";
  var board = document.getElementById("board");
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  if (!board) return;

  var alertBox = document.getElementById("board-alert");
  function showAlert(text) {
    if (!alertBox) return;
    alertBox.querySelector("[data-text]").textContent = text;
    alertBox.hidden = false;
  }
  function hideAlert() { if (alertBox) alertBox.hidden = true; }
  if (alertBox) {
    alertBox.querySelector("[data-dismiss-alert]").addEventListener("click", hideAlert);
  }

  // A page loaded by "show more" may repeat a card that was moved in meanwhile.
  board.addEventListener("htmx:afterSwap", function (e) {
    var list = e.detail.target;
    if (!list || !list.classList || !list.classList.contains("board-cards")) return;
    var seen = {};
    list.querySelectorAll(".deal-card").forEach(function (card) {
      if (seen[card.dataset.deal]) card.remove(); else seen[card.dataset.deal] = true;
    });
  });

  if (board.dataset.writable !== "1" || typeof Sortable === "undefined") return;
  var csrf = "";
  try { csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
  catch (err) { csrf = ""; }

  var dialog = document.getElementById("lost-dialog");
  function askReason(title) {
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== "function") {
        var answer = window.prompt(dialog ? dialog.querySelector("h3").textContent : "");
        resolve(answer === null ? null : answer.trim());
        return;
      }
      var field = dialog.querySelector("[data-reason]");
      field.value = "";
      dialog.querySelector("[data-deal-title]").textContent = title;
      dialog.returnValue = "";
      dialog.addEventListener("close", function done() {
        dialog.removeEventListener("close", done);
        resolve(dialog.returnValue === "confirm" ? field.value.trim() : null);
      });
      dialog.showModal();
      field.focus();
    });
  }

  // The stage wants fields the deal lacks: the server's form for them, in a dialog.
  var entryDialog = document.getElementById("entry-dialog");
  var entryTitle = entryDialog ? entryDialog.querySelector("h3") : null;
  var defaultTitle = entryTitle ? entryTitle.textContent : "";
  function askFields(data) {
    return new Promise(function (resolve) {
      if (!entryDialog || typeof entryDialog.showModal !== "function") {
        resolve(null);
        return;
      }
      var form = entryDialog.querySelector("form");
      entryDialog.querySelector("[data-message]").textContent = data.message || "";
      entryDialog.querySelector("[data-fields]").innerHTML = data.form;
      if (entryTitle) entryTitle.textContent = data.title || defaultTitle;
      entryDialog.returnValue = "";
      entryDialog.addEventListener("close", function done() {
        entryDialog.removeEventListener("close", done);
        resolve(entryDialog.returnValue === "confirm" ? new FormData(form) : null);
      });
      entryDialog.showModal();
      var first = form.querySelector("[data-fields] .is-invalid") ||
        form.querySelector("[data-fields] input, [data-fields] select, [data-fields] textarea");
      if (first) first.focus();
    });
  }

  function putBack(evt) {
    evt.from.insertBefore(evt.item, evt.from.children[evt.oldIndex] || null);
  }

  function setTotals(columns) {
    Object.keys(columns || {}).forEach(function (id) {
      var col = board.querySelector('.board-column[data-stage="' + id + '"]');
      if (!col) return;
      col.querySelector("[data-count]").textContent = columns[id].count;
      col.querySelector("[data-total]").textContent = columns[id].total;
    });
  }

  async function onEnd(evt) {
    if (evt.from === evt.to) return; // a column is ordered by the stage date, not by hand
    var card = evt.item;
    var list = evt.to;
    var reason = "";
    if (list.dataset.kind === "lost") {
      var title = card.querySelector(".deal-card-title");
      reason = await askReason(title ? title.textContent : "");
    }
    var cancelled = reason === null;
    if (cancelled) reason = ""; // the server refuses and says why
    var extra = null;
    var result;
    for (;;) {
      card.classList.add("moving");
      result = await post(card, list, reason, extra);
      card.classList.remove("moving");
      if (result.ok || cancelled || !result.data || !result.data.form) break;
      extra = await askFields(result.data);
      if (!extra) break;
    }
    if (result.ok) {
      var holder = document.createElement("div");
      holder.innerHTML = result.data.card.trim();
      var fresh = holder.firstElementChild;
      card.remove();
      list.insertBefore(fresh, list.firstElementChild); // newest in the stage come first
      setTotals(result.data.columns);
      hideAlert();
      return;
    }
    putBack(evt);
    showAlert((result.data && result.data.message) || board.dataset.networkError);
  }

  async function post(card, list, reason, extra) {
    var body = new FormData();
    body.append("stage", list.dataset.stage);
    body.append("loss_reason", reason);
    if (board.dataset.owner) body.append("owner", board.dataset.owner);
    if (board.dataset.team) body.append("team", board.dataset.team);
    if (board.dataset.product) body.append("product", board.dataset.product);
    if (extra) extra.forEach(function (value, key) { body.append(key, value); });
    try {
      var response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      var data = await response.json();
      return { ok: response.ok && data && data.ok, data: data };
    } catch (err) {
      return { ok: false, data: null };
    }
  }

  board.querySelectorAll(".board-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "deals",
      draggable: ".deal-card",
      animation: 150,
      delay: 150,
      delayOnTouchOnly: true,
      ghostClass: "sortable-ghost",
      onEnd: onEnd,
    });
  });
})();
