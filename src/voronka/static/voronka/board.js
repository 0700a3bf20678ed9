// The board: drag a card to another column to move the deal; the server decides.
// A refused move (422) puts the card back and shows the reason; a lost column asks for the
// reason first. Filters submit on change; "show more" pages are htmx.
(function () {
  "use strict";
  var board = document.getElementById("board");
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  if (!board) return;

  var alertBox = document.getElementById("board-alert");
  function showAlert(text, link) {
    if (!alertBox) return;
    var box = alertBox.querySelector("[data-text]");
    box.textContent = text;
    if (link && link.url) {
      var a = document.createElement("a");
      a.className = "alert-link ms-1";
      a.href = link.url;
      a.textContent = link.label;
      box.appendChild(a);
    }
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
      if (reason === null) reason = ""; // cancelled: the server refuses and says why
    }
    var body = new FormData();
    body.append("stage", list.dataset.stage);
    body.append("loss_reason", reason);
    if (board.dataset.owner) body.append("owner", board.dataset.owner);
    if (board.dataset.team) body.append("team", board.dataset.team);
    card.classList.add("moving");
    var response = null;
    var data = null;
    try {
      response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      data = await response.json();
    } catch (err) {
      data = null;
    }
    card.classList.remove("moving");
    if (response && response.ok && data && data.ok) {
      var holder = document.createElement("div");
      holder.innerHTML = data.card.trim();
      var fresh = holder.firstElementChild;
      card.remove();
      list.insertBefore(fresh, list.firstElementChild); // newest in the stage come first
      setTotals(data.columns);
      hideAlert();
      return;
    }
    putBack(evt);
    showAlert(
      (data && data.message) || board.dataset.networkError,
      data && { url: data.fill_url, label: data.fill_label }
    );
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
