// Staff lists: ticking rows for bulk actions, "Select all matching", and keeping the ticks
// when live updates redraw the rows.
(() => {
  if (window.ordersightLists) return; // included by both the toolbar and the bulk bar
  window.ordersightLists = true;

  const form = () => document.querySelector("[data-bulk]");
  const rows = () => Array.from(document.querySelectorAll("[data-bulk-row]"));

  function refresh() {
    const bar = form();
    if (!bar) return;
    const scope = bar.querySelector("[data-bulk-scope]");
    const matching = scope.value === "matching";
    const all = rows();
    const ticked = all.filter((box) => box.checked);
    const pageBox = document.querySelector("[data-bulk-page]");
    if (pageBox) {
      pageBox.checked = all.length > 0 && ticked.length === all.length;
      pageBox.indeterminate = ticked.length > 0 && ticked.length < all.length;
    }
    const selectAll = bar.querySelector("[data-bulk-all]");
    const clear = bar.querySelector("[data-bulk-clear]");
    if (selectAll) selectAll.classList.toggle("d-none", matching || all.length === 0 || ticked.length < all.length);
    if (clear) clear.classList.toggle("d-none", !matching);
    const total = bar.querySelector("[data-testid=matching-count]");
    // The sentences come translated from the page, with {count} to fill in.
    const say = bar.dataset;
    bar.querySelector("[data-bulk-summary]").textContent = matching
      ? say.textMatching.replace("{count}", total ? total.textContent : "")
      : ticked.length
        ? say.textTicked.replace("{count}", ticked.length)
        : say.textNone;
    bar.querySelectorAll("[data-bulk-action]").forEach((button) => {
      button.disabled = !matching && ticked.length === 0;
    });
    bar.classList.toggle("active", matching || ticked.length > 0);
    bar.classList.add("ready");
    const summary = bar.querySelector("[data-bulk-summary]");
    summary.classList.toggle("fw-semibold", matching || ticked.length > 0);
    summary.classList.toggle("text-secondary", !(matching || ticked.length > 0));
  }

  function setScope(value) {
    const bar = form();
    if (bar) bar.querySelector("[data-bulk-scope]").value = value;
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-bulk-page]")) {
      rows().forEach((box) => (box.checked = event.target.checked));
      setScope("ticked");
      refresh();
    } else if (event.target.matches("[data-bulk-row]")) {
      setScope("ticked");
      refresh();
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-bulk-all]")) {
      setScope("matching");
      refresh();
      const clear = form().querySelector("[data-bulk-clear]");
      if (clear) clear.focus(); // the button pressed is gone: keep the keyboard nearby
    } else if (event.target.closest("[data-bulk-clear]")) {
      rows().forEach((box) => (box.checked = false));
      setScope("ticked");
      refresh();
      const pageBox = document.querySelector("[data-bulk-page]");
      if (pageBox) pageBox.focus();
    }
  });

  // Decline and Cancel ask first, naming how many orders they change (the button holds the
  // question, translated, with {count} to fill in).
  document.addEventListener("submit", (event) => {
    const bar = event.target;
    if (!bar.matches("[data-bulk]")) return;
    const question = event.submitter ? event.submitter.dataset.confirmQuestion : undefined;
    if (!question) return;
    const matching = bar.querySelector("[data-bulk-scope]").value === "matching";
    const total = bar.querySelector("[data-testid=matching-count]");
    const count = matching && total ? total.textContent : rows().filter((b) => b.checked).length;
    if (!window.confirm(question.replace("{count}", count))) event.preventDefault();
  });

  // Live updates redraw the rows: the ticks stay where they were.
  let kept = [];
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (!event.detail.target.querySelector("[data-bulk-row]")) return;
    kept = rows().filter((box) => box.checked).map((box) => box.value);
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!event.detail.target.querySelector("[data-bulk-row]")) return;
    rows().forEach((box) => (box.checked = kept.includes(box.value)));
    refresh();
  });

  // A row's invoices open from its arrow too, so the keyboard reaches them (a click on the
  // row's plain cells does the same, in app.js).
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-row-toggle]");
    if (!toggle) return;
    const row = toggle.closest("tr[data-invoices-url]");
    const detail = document.getElementById(row.dataset.detailRow);
    const opening = detail.classList.contains("d-none");
    detail.classList.toggle("d-none", !opening);
    toggle.setAttribute("aria-expanded", String(opening));
    if (opening) {
      htmx.ajax("GET", row.dataset.invoicesUrl, { target: `#${detail.id} td`, swap: "innerHTML" });
    }
  });
  document.addEventListener("click", (event) => {
    // A click on the row itself (app.js opens it): the arrow says so.
    const row = event.target.closest("tr[data-invoices-url]");
    if (!row || event.target.closest("a, button, form, details, input, select")) return;
    const toggle = row.querySelector("[data-row-toggle]");
    const detail = document.getElementById(row.dataset.detailRow);
    if (toggle && detail) {
      setTimeout(() => toggle.setAttribute("aria-expanded", String(!detail.classList.contains("d-none"))));
    }
  });

  document.addEventListener("DOMContentLoaded", refresh);
  if (document.readyState !== "loading") refresh();
})();
