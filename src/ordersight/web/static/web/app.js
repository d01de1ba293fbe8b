// ordersight staff app: row expansion, date presets, extra order lines, live indicator.
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

// Forms that ask before they submit say what they ask in data-confirm (no inline handlers:
// the Content-Security-Policy forbids them).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
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

// Rule builders (discount codes, segments): the composer's visible fields become one
// condition, added to the rules' JSON under the chosen "all" or "any" (the JSON stays
// editable by hand for deeper nesting).
function castRuleValue(input, value) {
  const cast = input.dataset.ruleCast;
  if (cast === "int") return parseInt(value, 10);
  if (cast === "number") return Number(value);
  if (cast === "list") return value.split(",").map((s) => s.trim()).filter(Boolean);
  if (cast === "intlist") {
    return value.split(",").map((s) => parseInt(s, 10)).filter((n) => !Number.isNaN(n));
  }
  if (cast === "values") {
    const one = (text) => {
      try {
        return JSON.parse(text);
      } catch {
        return text; // a word such as vip or -90d
      }
    };
    return value.includes(",") ? value.split(",").map((s) => one(s.trim())) : one(value);
  }
  return value;
}

document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-rule-add]");
  if (!add) return;
  const builder = add.closest("[data-rule-builder]");
  const target = document.getElementById(builder.dataset.ruleBuilder);
  const condition = {};
  builder.querySelectorAll("[data-rule-key]").forEach((input) => {
    if (input.closest(".d-none")) return; // a field of another kind of condition
    const value = input.value.trim();
    if (value === "") return;
    condition[input.dataset.ruleKey] = castRuleValue(input, value);
  });
  const join = builder.querySelector("[data-rule-join]").value;
  let rules = null;
  try {
    rules = target.value.trim() ? JSON.parse(target.value) : null;
  } catch {
    rules = null;
  }
  if (!rules) rules = { [join]: [] };
  else if (!Array.isArray(rules[join])) rules = { [join]: [rules] };
  rules[join].push(condition);
  target.value = JSON.stringify(rules, null, 2);
  target.dispatchEvent(new Event("change", { bubbles: true }));
});

document.addEventListener("change", (event) => {
  if (!event.target.matches("[data-rule-type]")) return;
  const builder = event.target.closest("[data-rule-builder]");
  builder.querySelectorAll("[data-rule-for]").forEach((el) => {
    el.classList.toggle("d-none", !el.dataset.ruleFor.split(" ").includes(event.target.value));
  });
});
