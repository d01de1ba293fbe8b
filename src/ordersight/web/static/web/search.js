// The header search box: Ctrl/⌘-K focuses it, arrows move through the results, Enter opens
// the one picked (or the results page), Esc closes the results, then leaves the box.
(() => {
  const form = document.querySelector("[data-search]");
  if (!form) return;
  const box = form.querySelector('[role="combobox"]');
  const panel = document.getElementById("search-panel");
  const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  const key = form.querySelector("[data-search-key]");
  if (key && isMac) key.textContent = "⌘ K";

  const options = () => Array.from(panel.querySelectorAll('[role="option"]'));
  const active = () => panel.querySelector('[role="option"][aria-selected="true"]');

  function open() {
    const hasContent = panel.querySelector('[role="option"], .os-search-note') !== null;
    panel.hidden = !hasContent || box.value.trim() === "";
    box.setAttribute("aria-expanded", String(!panel.hidden && options().length > 0));
  }

  function close() {
    panel.hidden = true;
    box.setAttribute("aria-expanded", "false");
    pick(null);
  }

  function pick(option) {
    options().forEach((o) => o.setAttribute("aria-selected", String(o === option)));
    if (option) {
      box.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function move(step) {
    const all = options();
    if (!all.length) return;
    if (panel.hidden) open();
    const at = all.indexOf(active());
    const next = at === -1 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
    pick(all[next]);
  }

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  box.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      const option = panel.hidden ? null : active();
      if (option) {
        event.preventDefault();
        window.location.assign(option.href);
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (!panel.hidden) close();
      else if (box.value) box.value = "";
      else box.blur();
    }
  });

  box.addEventListener("focus", open);
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === panel) open();
  });
  box.addEventListener("input", () => {
    if (box.value.trim() === "") close();
  });
  // A click elsewhere closes the results; a click on a result follows its link.
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) close();
  });
  panel.addEventListener("mousemove", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option && option !== active()) pick(option);
  });
})();
