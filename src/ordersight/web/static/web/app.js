// ordersight staff app: dialogs, toasts, row expansion, date presets, extra order lines,
// live indicator.
document.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-invoices-url]");
  if (!row || event.target.closest("a, button, form, details, input, select")) return;
  const detail = document.getElementById(row.dataset.detailRow);
  if (!detail) return;
  if (!detail.classList.contains("d-none")) {
    detail.classList.add("d-none");
    return;
  }
  detail.classList.remove("d-none");
  htmx.ajax("GET", row.dataset.invoicesUrl, { target: "#" + detail.id + " td", swap: "innerHTML" });
});

// Tabler's script carries Bootstrap's; it names it window.tabler.bootstrap.
const bootstrap = window.bootstrap || window.tabler.bootstrap;

// The one dialog (base.html): Bootstrap's modal traps focus, closes on Esc and stays inside
// the viewport, where the <details> popovers it replaces fell off the screen.
const appDialog = {
  element: () => document.getElementById("app-dialog"),
  onConfirm: null,
  returnFocus: null,
  open({ title, body, confirmLabel, tone, onConfirm, trigger }) {
    const element = this.element();
    element.querySelector("#app-dialog-title").textContent = title;
    const holder = element.querySelector("#app-dialog-body");
    holder.replaceChildren(...body);
    holder.classList.toggle("d-none", body.length === 0);
    const confirm = element.querySelector("#app-dialog-confirm");
    confirm.textContent = confirmLabel || confirm.dataset.defaultLabel || "Confirm";
    confirm.className = `btn btn-${tone || "primary"}`;
    this.onConfirm = onConfirm;
    this.returnFocus = trigger || document.activeElement;
    bootstrap.Modal.getOrCreateInstance(element).show();
  },
};

document.addEventListener("DOMContentLoaded", () => {
  const element = appDialog.element();
  if (!element) return;
  const confirm = element.querySelector("#app-dialog-confirm");
  confirm.dataset.defaultLabel = confirm.textContent;
  confirm.addEventListener("click", () => {
    const run = appDialog.onConfirm;
    if (!run) return;
    const body = element.querySelector("#app-dialog-body");
    const form = body.querySelector("form");
    if (form && !form.reportValidity()) return; // say what is missing, keep the dialog open
    appDialog.onConfirm = null;
    run(body);
  });
  element.addEventListener("shown.bs.modal", () => {
    const first = element.querySelector(
      "#app-dialog-body :is(input:not([type=hidden]), select, textarea)"
    );
    (first || confirm).focus();
  });
  element.addEventListener("hidden.bs.modal", () => {
    element.querySelector("#app-dialog-body").replaceChildren();
    appDialog.onConfirm = null;
    if (appDialog.returnFocus && document.contains(appDialog.returnFocus)) {
      appDialog.returnFocus.focus();
    }
  });
  // Tab wraps around inside the dialog. Bootstrap's trap brings the focus back only once it
  // has gone elsewhere in the page; past the last field it would reach the browser's bar.
  element.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = [
      ...element.querySelectorAll(
        "button:not([disabled]), [href], input:not([type=hidden]):not([disabled]), " +
          "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"
      ),
    ].filter((el) => el.offsetParent !== null);
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || document.activeElement === element)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  // Enter in a field of the dialog confirms it, as it would submit a form.
  element.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("#app-dialog-body input")) {
      event.preventDefault();
      confirm.click();
    }
  });
});

// Forms that ask before they submit say what they ask in data-confirm ("Refund {amount}?"
// takes the form's own field), with data-confirm-detail, -button, -tone, and -reason (the
// label of a reason field, sent as the form's "reason"). No inline handlers: the
// Content-Security-Policy forbids them.
function fillIn(text, form) {
  return (text || "").replace(/\{(\w+)\}/g, (_, name) => {
    const field = form.elements.namedItem(name);
    return field && field.value ? field.value : "";
  });
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset || !form.dataset.confirm || form.closest("#app-dialog")) return;
  event.preventDefault();
  if (!form.reportValidity()) return;
  const body = [];
  if (form.dataset.confirmDetail) {
    const detail = document.createElement("p");
    detail.className = "mb-2";
    detail.textContent = fillIn(form.dataset.confirmDetail, form);
    body.push(detail);
  }
  let reason = null;
  if (form.dataset.confirmReason) {
    const field = document.createElement("div");
    const label = document.createElement("label");
    label.className = "form-label";
    label.htmlFor = "app-dialog-reason";
    label.textContent = form.dataset.confirmReason;
    reason = document.createElement("textarea");
    reason.className = "form-control";
    reason.id = "app-dialog-reason";
    reason.rows = 2;
    reason.maxLength = 500;
    reason.value = form.elements.namedItem("reason") ? form.elements.namedItem("reason").value : "";
    field.append(label, reason);
    const wrapper = document.createElement("form"); // reportValidity() reads it
    wrapper.append(field);
    body.push(wrapper);
  }
  appDialog.open({
    title: fillIn(form.dataset.confirm, form),
    body,
    confirmLabel: form.dataset.confirmButton,
    tone: form.dataset.confirmTone,
    trigger: event.submitter,
    onConfirm: () => {
      if (reason) {
        let sent = form.elements.namedItem("reason");
        if (!sent) {
          sent = document.createElement("input");
          sent.type = "hidden";
          sent.name = "reason";
          form.append(sent);
        }
        sent.value = reason.value;
      }
      (form.dataset.confirmAdds || "").split("&").filter(Boolean).forEach((pair) => {
        const [name, value] = pair.split("=");
        const extra = document.createElement("input");
        extra.type = "hidden";
        extra.name = name;
        extra.value = value;
        form.append(extra);
      });
      form.submit(); // no submit event: it does not ask again
    },
  });
});

// A row's small form (Check, Add user) opens in the dialog: a button names a <template> in
// data-dialog-form; the form is copied into the dialog, so a live refresh of the rows cannot
// take it away while it is open. A page holds one form of each kind; the button gives it its
// row: the form's address (data-dialog-action), the choice its select starts on
// (data-dialog-choice) and the number its title names (data-dialog-number, for {number}).
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-dialog-form]");
  if (!opener) return;
  const template = document.getElementById(opener.dataset.dialogForm);
  if (!template) return;
  const content = template.content.cloneNode(true);
  const form = content.querySelector("form");
  if (form && opener.dataset.dialogAction) form.action = opener.dataset.dialogAction;
  const select = form && form.querySelector("select");
  const choice = opener.dataset.dialogChoice;
  if (select && [...select.options].some((option) => option.value === choice)) {
    select.value = choice;
  }
  const said = (name) => opener.dataset[name] || template.dataset[name];
  const title = said("dialogTitle") || opener.textContent.trim();
  appDialog.open({
    title: title.replace("{number}", opener.dataset.dialogNumber || ""),
    body: [...content.children],
    confirmLabel: said("dialogButton"),
    tone: said("dialogTone"),
    trigger: opener,
    onConfirm: (body) => body.querySelector("form").submit(),
  });
});

// What an action did shows as a toast; a refusal (no autohide) stays until it is closed.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".app-toast").forEach((toast) => {
    bootstrap.Toast.getOrCreateInstance(toast).show();
  });
});

document.addEventListener("change", (event) => {
  if (event.target.name !== "preset") return;
  const custom = document.querySelectorAll("[data-custom-range]");
  custom.forEach((el) => el.classList.toggle("d-none", event.target.value !== "custom"));
});

document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add-line]");
  if (!add) return;
  const body = document.querySelector(add.dataset.addLine);
  const template = document.getElementById("line-template");
  body.appendChild(template.content.cloneNode(true));
});

document.addEventListener("htmx:sseOpen", () => {
  document.querySelectorAll(".live-dot").forEach((dot) => dot.classList.add("on"));
});
document.addEventListener("htmx:sseError", () => {
  document.querySelectorAll(".live-dot").forEach((dot) => dot.classList.remove("on"));
});

// Tabs follow the URL hash, so a tab can be linked and survives a reload.
document.addEventListener("DOMContentLoaded", () => {
  const hash = window.location.hash;
  if (hash) {
    const tab = document.querySelector(`[data-bs-toggle="tab"][data-bs-target="${hash}"]`);
    if (tab) bootstrap.Tab.getOrCreateInstance(tab).show();
  }
  document.querySelectorAll('[data-bs-toggle="tab"]').forEach((tab) => {
    tab.addEventListener("shown.bs.tab", () => history.replaceState(null, "", tab.dataset.bsTarget));
  });
});

// Sales pages: a preset range hides the From/To fields; "Custom range" shows them.
document.addEventListener("change", (event) => {
  if (!event.target.matches("[data-range-select]")) return;
  const custom = event.target.value === "";
  document.querySelectorAll("[data-report-custom]").forEach((el) => {
    el.classList.toggle("d-none", !custom);
    el.querySelectorAll("input").forEach((input) => (input.disabled = !custom));
  });
});

// Charts: the figure (Plotly JSON) sits in a <script type="application/json"> beside its
// div; a click on a point opens the orders behind it (the point's customdata).
function drawCharts(root) {
  if (typeof Plotly === "undefined") return;
  root.querySelectorAll("[data-chart]").forEach((div) => {
    const source = document.getElementById(div.dataset.chart);
    if (!source) return;
    const figure = JSON.parse(source.textContent);
    Plotly.react(div, figure.data, figure.layout, { displaylogo: false, responsive: true });
    if (!div.dataset.clickBound) {
      div.dataset.clickBound = "1";
      div.on("plotly_click", (data) => {
        const url = data.points && data.points[0] && data.points[0].customdata;
        if (url) window.location.href = url;
      });
    }
  });
}
window.addEventListener("load", () => drawCharts(document));
document.addEventListener("htmx:afterSwap", (event) => drawCharts(event.target));

// Pickers (customers, offers, SKUs): an input with a datalist, filled from the server's
// suggestions as the person types (web/suggestions.py), so a page never lists a whole
// catalog. The chosen option's words show under the input (data-suggest-label), since the
// input itself holds what the form sends (a number, a SKU).
const suggestTimers = new WeakMap();
function showChosen(input) {
  const label = input.parentElement.querySelector("[data-suggest-label]");
  if (!label || !input.list) return;
  const option = Array.from(input.list.options).find((o) => o.value === input.value);
  label.textContent = option ? option.label : "";
}
const suggestAsked = new WeakMap();
async function fillSuggestions(input) {
  const url = new URL(input.dataset.suggest, window.location.origin);
  url.searchParams.set("q", input.value);
  // Only the latest question's answer is shown: an earlier one may come back after it.
  const asked = (suggestAsked.get(input) || 0) + 1;
  suggestAsked.set(input, asked);
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
  // A signed-out session answers with the sign-in page: no suggestions then.
  if (!response.ok || !json || response.redirected || !input.list) return;
  const { options } = await response.json();
  if (suggestAsked.get(input) !== asked) return;
  const chosen = Array.from(input.list.options).filter((o) => o.value === input.value);
  input.list.replaceChildren(
    ...chosen,
    ...options
      .filter((o) => o.value !== input.value || chosen.length === 0)
      .map((o) => {
        const option = document.createElement("option");
        option.value = o.value;
        option.label = o.label;
        option.textContent = o.label;
        return option;
      }),
  );
  showChosen(input);
}
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.suggest) return;
  showChosen(input);
  clearTimeout(suggestTimers.get(input));
  suggestTimers.set(input, setTimeout(() => fillSuggestions(input), 150));
});
