// The dashboard's only script: progressive enhancements over server-rendered pages that
// work without it. Served as a static asset; the pages' CSP allows no other script.

// Blocks marked data-live="ms" are refreshed from the same URL, so new events and a run's
// progress show without a reload. The server renders (and escapes) every fragment.
function startLiveRegions() {
  for (const region of document.querySelectorAll("[data-live]")) {
    const every = Number(region.dataset.live) || 5000;
    const seen = new Set([...region.querySelectorAll("[data-key]")].map((row) => row.dataset.key));
    const refresh = async () => {
      if (document.hidden) return;
      const response = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok || response.redirected) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById(region.id);
      if (!fresh) return;
      region.replaceChildren(...fresh.childNodes);
      for (const row of region.querySelectorAll("[data-key]")) {
        if (!seen.has(row.dataset.key)) {
          row.classList.add("new");
          seen.add(row.dataset.key);
        }
      }
      if (!fresh.hasAttribute("data-live")) clearInterval(timer);
    };
    const timer = setInterval(() => refresh().catch(() => {}), every);
  }
}

// Forms with data-confirm ask before they post (e.g. terminating a run).
function confirmForms() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
}

// A problem's "line N, column C" link selects the text it is about in the editor.
function problemLinks() {
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.problem[data-offset]") : null;
    const editor = document.getElementById("definition");
    if (!link || !(editor instanceof HTMLTextAreaElement)) return;
    event.preventDefault();
    const start = Number(link.dataset.offset);
    const end = start + Math.max(1, Number(link.dataset.length) || 1);
    editor.focus();
    editor.setSelectionRange(start, end);
    // Scroll the selection into view: place the caret line near the top of the textarea.
    const line = editor.value.slice(0, start).split("\n").length;
    editor.scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle(editor).lineHeight || "18"));
  });
}

// In the editor, Tab indents instead of leaving the field; Escape then Tab leaves it (keyboard users need a way out).
function editorTabs() {
  const editor = document.getElementById("definition");
  if (!(editor instanceof HTMLTextAreaElement)) return;
  let escaped = false;
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      escaped = true;
      return;
    }
    if (event.key !== "Tab" || event.shiftKey || escaped) {
      escaped = false;
      return;
    }
    event.preventDefault();
    editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
  });
}

startLiveRegions();
confirmForms();
problemLinks();
editorTabs();
