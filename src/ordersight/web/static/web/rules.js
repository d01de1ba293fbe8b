// Rule builders (segments, discount codes' validation rules): the rules' JSON shown as rows
// in words, nested in "all"/"any" groups. Rows are built from the JSON when the page opens
// and written back to it on every change; a row nobody touched writes back exactly the
// condition it was read from, so saving an untouched form keeps the rules as they were.
(() => {
  const vocabulary = document.getElementById("rule-vocabulary");
  if (!vocabulary) return;
  const V = JSON.parse(vocabulary.textContent);
  const W = V.words;
  const segmentsSource = document.getElementById("rule-segments");
  const SEGMENTS = segmentsSource ? JSON.parse(segmentsSource.textContent) : [];
  const COMPARE = ["eq", "ne", "gt", "gte", "lt", "lte", "in"].map((op) => [op, V.ops[op]]);
  const DATE_OPS = Object.entries(V.date_ops);
  const TAG_OPS = Object.entries(V.tag_ops);
  const META_CODE_OPS = [["eq", V.ops.eq], ["in", V.ops.in]];

  function node(tag, attrs = {}, children = []) {
    const el = document.createElement(tag);
    Object.entries(attrs).forEach(([name, value]) => {
      if (value === undefined || value === null) return;
      if (name === "text") el.textContent = value;
      else el.setAttribute(name, value);
    });
    children.forEach((child) => child && el.appendChild(child));
    return el;
  }

  function choice(name, options, value, label) {
    const select = node("select", {
      class: "form-select form-select-sm w-auto", "data-part": name, "aria-label": label,
      "data-testid": `rule-${name}`,
    });
    options.forEach(([v, text]) => {
      const option = node("option", { value: v, text });
      if (String(v) === String(value)) option.selected = true;
      select.appendChild(option);
    });
    return select;
  }

  function field(name, value, label, size = 8) {
    return node("input", {
      class: "form-control form-control-sm w-auto", "data-part": name, "aria-label": label,
      placeholder: label, size, value: value ?? "", "data-testid": `rule-${name}`,
    });
  }

  // A word between fields ("from", "to"), so a filled field still says what it is.
  const word = (text) => node("span", { class: "rule-word", text: text.toLowerCase(), "aria-hidden": "true" });

  const listed = (v) => (Array.isArray(v) ? v.join(", ") : v === undefined || v === null ? "" : String(v));
  const items = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const whole = (text) => (/^-?\d+$/.test(text.trim()) ? parseInt(text, 10) : text.trim());
  const number = (text) => (text.trim() !== "" && !Number.isNaN(Number(text)) ? Number(text) : text.trim());
  function scalar(text) {
    const t = text.trim();
    if (t === "true") return true;
    if (t === "false") return false;
    if (/^-?\d+$/.test(t)) return parseInt(t, 10);
    return t;
  }

  // --- What each kind of condition shows, and how its fields become JSON again ----------
  const SEGMENT = {
    whats: V.segment_fields,
    whatOf: (c) => (typeof c.field === "string" && c.field.startsWith("metadata.") ? "metadata" : c.field),
    parts(what, c) {
      const op = (ops, fallback) => choice("op", ops, c.op ?? fallback, W.comparison);
      if (what === "orders") return [op(COMPARE, "gte"), field("value", listed(c.value), W.value, 6)];
      if (what === "spent" || what === "average") {
        return [field("currency", c.currency, W.currency, 4), op(COMPARE, "gte"), field("value", listed(c.value), W.value, 8)];
      }
      if (what === "last_order_at" || what === "first_order_at") {
        return [op(DATE_OPS, "lt"), field("value", c.value, W.moment, 14)];
      }
      if (what === "tag") return [op(TAG_OPS, "eq"), field("value", listed(c.value), W.value, 10)];
      const key = typeof c.field === "string" ? c.field.replace(/^metadata\./, "") : "";
      return [field("key", key, W.key, 10), op(COMPARE, "eq"), field("value", listed(c.value), W.value, 10)];
    },
    known(what, c) {
      const ops = { last_order_at: DATE_OPS, first_order_at: DATE_OPS, tag: TAG_OPS }[what] || COMPARE;
      const keys = Object.keys(c).filter((k) => !["field", "op", "value", "currency"].includes(k));
      return V.segment_fields.some(([w]) => w === what) && ops.some(([o]) => o === c.op) && !keys.length;
    },
    build(what, get) {
      const op = get("op");
      const many = op === "in";
      const cast = {
        orders: whole,
        spent: (t) => t.trim(),
        average: (t) => t.trim(),
        tag: (t) => t.trim(),
        metadata: ["gt", "gte", "lt", "lte"].includes(op) ? number : scalar,
      }[what] || ((t) => t.trim());
      const value = many ? items(get("value")).map(cast) : cast(get("value"));
      const out = { field: what === "metadata" ? `metadata.${get("key").trim()}` : what };
      if (what === "spent" || what === "average") out.currency = get("currency").trim().toUpperCase();
      out.op = op;
      out.value = value;
      return out;
    },
  };

  const CODE = {
    whats: V.code_types,
    whatOf: (c) => c.type,
    parts(what, c) {
      if (what === "order_total") {
        return [field("currency", c.currency, W.currency, 4), word(W.min), field("min", c.min, W.min, 7), word(W.max), field("max", c.max, W.max, 7)];
      }
      if (what === "items_required" || what === "items_excluded") {
        return [field("skus", listed(c.skus), W.skus, 14), field("categories", listed(c.categories), W.categories, 10)];
      }
      if (what === "quantity") {
        return [field("sku", c.sku, W.sku_or_all, 12), word(W.min), field("min", c.min, W.min, 5), word(W.max), field("max", c.max, W.max, 5)];
      }
      if (what === "segment") {
        const options = SEGMENTS.slice();
        if (c.segment !== undefined && !options.some(([id]) => String(id) === String(c.segment))) {
          options.push([c.segment, `#${c.segment}`]);
        }
        return [choice("segment", options, c.segment, W.segment)];
      }
      return [field("key", c.key, W.key, 10), choice("op", META_CODE_OPS, c.op ?? "eq", W.comparison), field("value", listed(c.value), W.value, 12)];
    },
    known(what, c) {
      const allowed = {
        order_total: ["currency", "min", "max"],
        items_required: ["skus", "categories"],
        items_excluded: ["skus", "categories"],
        quantity: ["sku", "min", "max"],
        segment: ["segment"],
        metadata: ["key", "op", "value"],
      }[what];
      if (!allowed || Object.keys(c).some((k) => k !== "type" && !allowed.includes(k))) return false;
      if (what === "segment" && !Number.isInteger(c.segment)) return false;
      return what !== "metadata" || ["eq", "in"].includes(c.op);
    },
    build(what, get) {
      const out = { type: what };
      const put = (name, value) => {
        if (value !== "" && !(Array.isArray(value) && !value.length)) out[name] = value;
      };
      if (what === "order_total") {
        out.currency = get("currency").trim().toUpperCase();
        put("min", get("min").trim());
        put("max", get("max").trim());
      } else if (what === "items_required" || what === "items_excluded") {
        put("skus", items(get("skus")));
        put("categories", items(get("categories")).map(whole));
      } else if (what === "quantity") {
        put("sku", get("sku").trim());
        put("min", get("min").trim() === "" ? "" : whole(get("min")));
        put("max", get("max").trim() === "" ? "" : whole(get("max")));
      } else if (what === "segment") {
        out.segment = whole(get("segment"));
      } else {
        out.key = get("key").trim();
        out.op = get("op");
        out.value = out.op === "in" ? items(get("value")).map(scalar) : scalar(get("value"));
      }
      return out;
    },
  };

  // --- Rows and groups ------------------------------------------------------------------
  function removeButton(target) {
    const button = node("button", {
      type: "button", class: "btn btn-sm btn-outline-secondary rule-remove", "aria-label": W.remove,
      title: W.remove, "data-testid": "rule-remove", text: "×",
    });
    button.addEventListener("click", () => {
      const editor = target.closest("[data-rule-editor]");
      target.remove();
      write(editor);
    });
    return button;
  }

  function conditionRow(kind, condition) {
    const row = node("div", { class: "rule-row", "data-rule-row": "", "data-testid": "rule-row" });
    row.original = condition;
    row.dirty = false;
    const what = condition ? kind.whatOf(condition) : kind.whats[0][0];
    if (condition && !kind.known(what, condition)) {
      // Written by hand in a shape the rows have no words for: kept as it is.
      row.appendChild(node("span", { class: "badge text-bg-light border", text: W.custom }));
      row.appendChild(node("code", { class: "small", text: JSON.stringify(condition) }));
      row.appendChild(removeButton(row));
      return row;
    }
    const whatSelect = choice("what", kind.whats, what, W.condition);
    whatSelect.classList.add("fw-semibold");
    row.appendChild(whatSelect);
    const parts = node("span", { class: "rule-parts" }, kind.parts(what, condition || {}));
    row.appendChild(parts);
    row.appendChild(removeButton(row));
    whatSelect.addEventListener("change", () => {
      parts.replaceChildren(...kind.parts(whatSelect.value, {}));
    });
    return row;
  }

  function group(kind, join, children, nested) {
    const box = node("div", { class: "rule-group", role: "group", "data-rule-group": "", "data-testid": "rule-group" });
    const head = node("div", { class: "rule-group-head" });
    head.appendChild(node("span", { text: W.match }));
    head.appendChild(choice("join", [["all", W.all], ["any", W.any]], join, W.match));
    head.appendChild(node("span", { text: W.of_these }));
    if (nested) head.appendChild(removeButton(box));
    const body = node("div", { class: "rule-children", "data-rule-children": "" });
    children.forEach((child) => body.appendChild(child));
    const addCondition = node("button", {
      type: "button", class: "btn btn-sm btn-outline-primary", "data-testid": "rule-add-condition", text: `+ ${W.add_condition}`,
    });
    const addGroup = node("button", {
      type: "button", class: "btn btn-sm btn-outline-secondary", "data-testid": "rule-add-group", text: `+ ${W.add_group}`,
    });
    addCondition.addEventListener("click", () => {
      const row = conditionRow(kind, null);
      row.dirty = true;
      body.appendChild(row);
      write(box.closest("[data-rule-editor]"));
      row.querySelector("select, input").focus();
    });
    addGroup.addEventListener("click", () => {
      const inner = group(kind, "any", [], true);
      body.appendChild(inner);
      inner.querySelector('[data-testid="rule-add-condition"]').click();
    });
    box.append(head, body, node("div", { class: "rule-group-foot" }, [addCondition, addGroup]));
    return box;
  }

  function fromRules(kind, rules, nested) {
    if (rules && typeof rules === "object" && !Array.isArray(rules)) {
      const join = ["all", "any"].find((k) => Array.isArray(rules[k]) && Object.keys(rules).length === 1);
      if (join) {
        const children = rules[join].map((child) => {
          const isGroup = child && typeof child === "object" && ["all", "any"].some((k) => Array.isArray(child[k]));
          return isGroup ? fromRules(kind, child, true) : conditionRow(kind, child);
        });
        return group(kind, join, children, nested);
      }
    }
    const root = group(kind, "all", rules ? [conditionRow(kind, rules)] : [], nested);
    root.bare = Boolean(rules); // a single condition without a group: written back alone
    return root;
  }

  // --- Rows back to JSON ----------------------------------------------------------------
  function rowRules(kind, row) {
    if (!row.dirty) return row.original;
    const what = row.querySelector('[data-part="what"]').value;
    const get = (name) => {
      const el = row.querySelector(`.rule-parts [data-part="${name}"]`);
      return el ? el.value : "";
    };
    return kind.build(what, get);
  }

  function groupRules(kind, box) {
    const join = box.querySelector(':scope > .rule-group-head [data-part="join"]').value;
    const children = Array.from(box.querySelector(":scope > [data-rule-children]").children)
      .map((child) => (child.matches("[data-rule-group]") ? groupRules(kind, child) : rowRules(kind, child)))
      .filter((child) => child !== null);
    if (!children.length) return null;
    if (box.bare && children.length === 1 && join === "all") return children[0];
    return { [join]: children };
  }

  function write(editor) {
    const kind = editor.dataset.ruleEditor === "segment" ? SEGMENT : CODE;
    const target = document.getElementById(editor.dataset.ruleTarget);
    const rules = groupRules(kind, editor.querySelector("[data-rule-rows] > [data-rule-group]"));
    target.value = rules === null ? "" : JSON.stringify(rules, null, 2);
    editor.querySelector("[data-rule-empty]").hidden = rules !== null;
    target.ownChange = true;
    target.dispatchEvent(new Event("change", { bubbles: true }));
    target.ownChange = false;
  }

  function load(editor) {
    const kind = editor.dataset.ruleEditor === "segment" ? SEGMENT : CODE;
    const target = document.getElementById(editor.dataset.ruleTarget);
    const problem = editor.querySelector("[data-rule-problem]");
    let rules = null;
    try {
      rules = target.value.trim() ? JSON.parse(target.value) : null;
    } catch {
      problem.textContent = W.bad_json;
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    editor.querySelector("[data-rule-rows]").replaceChildren(fromRules(kind, rules, false));
    editor.querySelector("[data-rule-empty]").hidden = rules !== null;
  }

  document.querySelectorAll("[data-rule-editor]").forEach((editor) => {
    load(editor);
    const rows = editor.querySelector("[data-rule-rows]");
    const touched = (event) => {
      const row = event.target.closest("[data-rule-row]");
      if (row) row.dirty = true;
      write(editor);
    };
    rows.addEventListener("input", touched);
    rows.addEventListener("change", touched);
    // The JSON written by hand (the advanced view) becomes rows again.
    document.getElementById(editor.dataset.ruleTarget).addEventListener("change", (event) => {
      if (!event.target.ownChange) load(editor);
    });
  });
})();
