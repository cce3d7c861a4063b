// The dedup HTML report: filters, search, pages and shared links over the data embedded in
// the page, and the word differences of the items shown. Text reaches the page through
// textContent only: it is data, never markup.
"use strict";
(function () {
  const PAGE = 50;
  const MAX_CELLS = 400000; // word-by-word comparison of longer pairs is not attempted
  const data = JSON.parse(document.getElementById("dedup-data").textContent);
  const blocks = document.querySelectorAll("script.dedup-texts");
  const parsed = [];
  const items = data.items;
  const count = items.document.length;
  const names = data.documents.map(function (d) { return d[0]; });
  const $ = function (id) { return document.getElementById(id); };
  const el = function (tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const state = { kind: "", reason: "", doc: "", q: "", page: 1, para: null };
  let shown = [];
  const timings = (window.dedupTimings = { filter: [] });

  function texts(i) {
    const c = Math.floor(i / data.chunk);
    if (!parsed[c]) parsed[c] = JSON.parse(blocks[c].textContent);
    return parsed[c][i % data.chunk];
  }

  // -- filtering --

  function select() {
    const kind = state.kind === "" ? -1 : data.kinds.indexOf(state.kind);
    const reason = state.reason === "" ? -1 : data.reasons.indexOf(state.reason);
    let docs = null;
    if (state.doc !== "") {
      docs = new Set();
      const exact = names.indexOf(state.doc);
      if (exact >= 0) docs.add(exact);
      else {
        const wanted = state.doc.toLowerCase();
        names.forEach(function (name, n) { if (name.toLowerCase().includes(wanted)) docs.add(n); });
      }
    }
    const q = state.q.toLowerCase();
    const out = [];
    for (let i = 0; i < count; i++) {
      if (kind >= 0 && items.kind[i] !== kind) continue;
      if (reason >= 0 && items.reason[i] !== reason) continue;
      if (docs && !docs.has(items.document[i])) continue;
      if (q) {
        const pair = texts(i);
        if (!((pair[0] || "").toLowerCase().includes(q) || (pair[1] || "").toLowerCase().includes(q))) continue;
      }
      out.push(i);
    }
    return out;
  }

  // -- word differences --

  const TOKEN = /\s+|[\p{L}\p{N}\p{M}_]+|[^\s\p{L}\p{N}\p{M}_]/gu;
  function tokens(text) { return text.match(TOKEN) || []; }
  function fold(text) {
    return text.normalize("NFKC")
      .replace(/[\u2018\u2019\u201a\u201b\u2032`\u00b4]/g, "'")
      .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"')
      .replace(/[\u2010-\u2015\u2212]/g, "-")
      .replace(/\u2026/g, "...")
      .replace(/\s+/g, " ")
      .toLowerCase();
  }

  // Operations turning a (kept) into b (copy): [type, tokens of a, tokens of b].
  function diff(a, b) {
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head &&
           a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
    const x = a.slice(head, a.length - tail);
    const y = b.slice(head, b.length - tail);
    const ops = [];
    if (head) ops.push(["equal", a.slice(0, head), b.slice(0, head)]);
    if (x.length * y.length > MAX_CELLS) ops.push(["replace", x, y]);
    else middle(x, y, ops);
    if (tail) ops.push(["equal", a.slice(a.length - tail), b.slice(b.length - tail)]);
    return ops;
  }

  function middle(x, y, ops) {
    const n = x.length, m = y.length;
    const w = m + 1;
    const table = new Uint32Array((n + 1) * w); // longest common subsequence of suffixes
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i * w + j] = x[i] === y[j] ? table[(i + 1) * w + j + 1] + 1
          : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
      }
    }
    let i = 0, j = 0, dropped = [], added = [], same = [];
    const flush = function () {
      if (dropped.length || added.length) {
        ops.push([dropped.length && added.length ? "replace" : dropped.length ? "delete" : "insert", dropped, added]);
        dropped = []; added = [];
      }
    };
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) {
        flush();
        same.push(x[i]);
        if (!(i + 1 < n && j + 1 < m && x[i + 1] === y[j + 1])) { ops.push(["equal", same, same]); same = []; }
        i++; j++;
      } else if (j < m && (i === n || table[i * w + j + 1] >= table[(i + 1) * w + j])) {
        if (same.length) { ops.push(["equal", same, same]); same = []; }
        added.push(y[j++]);
      } else {
        if (same.length) { ops.push(["equal", same, same]); same = []; }
        dropped.push(x[i++]);
      }
    }
    if (same.length) ops.push(["equal", same, same]);
    flush();
  }

  // Fill the copy's and the kept paragraph's boxes with the text, differences marked.
  function marked(kept, copy, keptBox, copyBox) {
    const ops = diff(tokens(kept), tokens(copy));
    for (const [type, a, b] of ops) {
      const left = a.join(""), right = b.join("");
      if (type === "equal") {
        keptBox.append(left);
        copyBox.append(right);
      } else if (type === "replace") {
        const typo = fold(left) === fold(right);
        const cls = typo ? "typo" : "changed";
        const tip = typo ? "typography only" : "changed";
        const k = el("mark", cls, left); k.title = tip;
        const c = el("mark", cls, right); c.title = tip;
        keptBox.append(k); copyBox.append(c);
      } else if (type === "delete") {
        const blank = !left.trim();
        const k = el(blank ? "mark" : "del", blank ? "typo" : "", left);
        k.title = blank ? "typography only" : "dropped from the copy";
        keptBox.append(k);
      } else {
        const blank = !right.trim();
        const c = el(blank ? "mark" : "ins", blank ? "typo" : "", right);
        c.title = blank ? "typography only" : "added in the copy";
        copyBox.append(c);
      }
    }
  }

  // -- rendering --

  function link(i) {
    const params = new URLSearchParams();
    params.set("doc", names[items.document[i]]);
    params.set("para", String(items.index[i]));
    return "#" + params.toString();
  }

  function where(i) {
    const other = items.of_document[i];
    const name = other >= 0 ? names[other] : (items.of_name[String(i)] || "an earlier run");
    const same = other === items.document[i];
    return (same ? "" : name + ", ") + "paragraph " + items.of_index[i] +
      (other < 0 ? " (kept by an earlier run; its text is not in this report)" : "");
  }

  function item(i) {
    const kind = data.kinds[items.kind[i]];
    const close = kind === "close call";
    const box = el("article", "item " + (close ? "close" : "removed"));
    box.id = "item-" + i;
    box.tabIndex = -1;
    const head = el("h4");
    const line = items.line[i] ? ", line " + items.line[i] : "";
    head.append(el("span", "", "Paragraph " + items.index[i] + line + " "));
    head.append(el("span", "badge " + (close ? "close" : "kind"), close ? "kept, close call" : kind));
    head.append(el("span", "sim", " similarity " + items.similarity[i].toFixed(2) + " "));
    const anchor = el("a", "permalink", "link");
    anchor.href = link(i);
    anchor.setAttribute("aria-label", "Link to paragraph " + items.index[i] + " of " + names[items.document[i]]);
    head.append(anchor);
    box.append(head);
    box.append(el("p", "reason", data.reasons[items.reason[i]]));
    const pair = texts(i);
    const sides = el("div", "pair");
    const copySide = el("div", "side copy");
    copySide.append(el("h5", "", close ? "Kept paragraph" : "Removed copy"));
    const copyText = el("p", "text");
    copySide.append(copyText);
    const keptSide = el("div", "side kept");
    keptSide.append(el("h5", "", (close ? "Close to " : "Repeats the kept ") + where(i)));
    const keptText = el("p", "text");
    keptSide.append(keptText);
    if (pair[1] === null) {
      copyText.textContent = pair[0] || "";
      keptText.append(el("em", "", "not in this report"));
    } else {
      marked(pair[1], pair[0] || "", keptText, copyText);
    }
    sides.append(copySide, keptSide);
    box.append(sides);
    return box;
  }

  function render() {
    const list = $("list");
    list.replaceChildren();
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    state.page = Math.min(Math.max(1, state.page), pages);
    const first = (state.page - 1) * PAGE;
    const last = Math.min(first + PAGE, shown.length);
    let current = -1;
    for (let k = first; k < last; k++) {
      const i = shown[k];
      if (items.document[i] !== current) {
        current = items.document[i];
        const d = data.documents[current];
        const h = el("h3", "document", d[0]);
        h.append(el("span", "count", " " + d[2].toLocaleString("en") + " removed of " + d[1].toLocaleString("en") + " paragraphs"));
        list.append(h);
      }
      list.append(item(i));
    }
    const total = count === shown.length ? "" : " (of " + count.toLocaleString("en") + ")";
    $("status").textContent = shown.length
      ? "Showing " + (first + 1).toLocaleString("en") + "\u2013" + last.toLocaleString("en") +
        " of " + shown.length.toLocaleString("en") + total
      : count ? "Nothing matches these filters" + total : "Nothing was removed.";
    $("pages").hidden = pages < 2;
    $("page").textContent = "Page " + state.page + " of " + pages;
    $("prev").disabled = state.page <= 1;
    $("next").disabled = state.page >= pages;
  }

  function toHash() {
    const params = new URLSearchParams();
    for (const key of ["kind", "reason", "doc", "q"]) if (state[key]) params.set(key, state[key]);
    if (state.page > 1) params.set("page", String(state.page));
    const hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function fromHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    for (const key of ["kind", "reason", "doc", "q"]) state[key] = params.get(key) || "";
    state.page = parseInt(params.get("page") || "1", 10) || 1;
    const para = params.get("para");
    state.para = para === null ? null : parseInt(para, 10);
    $("f-kind").value = state.kind;
    $("f-reason").value = state.reason;
    $("f-doc").value = state.doc;
    $("f-q").value = state.q;
  }

  function update(fromLink) {
    const started = performance.now();
    shown = select();
    let target = null;
    if (fromLink && state.para !== null) {
      const doc = names.indexOf(state.doc);
      const k = shown.findIndex(function (i) { return items.document[i] === doc && items.index[i] === state.para; });
      if (k >= 0) { state.page = Math.floor(k / PAGE) + 1; target = shown[k]; }
    }
    render();
    timings.filter.push(performance.now() - started);
    if (target !== null) {
      const node = $("item-" + target);
      node.classList.add("target");
      node.scrollIntoView({ block: "start" });
      node.focus({ preventScroll: true });
    }
  }

  function setup() {
    const kinds = $("f-kind");
    data.kinds.forEach(function (k) { kinds.append(new Option(k, k)); });
    const reasons = $("f-reason");
    data.reasons.slice(0, 200).forEach(function (r) { reasons.append(new Option(r.length > 80 ? r.slice(0, 79) + "\u2026" : r, r)); });
    const docs = $("f-docs");
    names.slice(0, 5000).forEach(function (name) { docs.append(new Option(name)); });
    const changed = function (key, node) {
      return function () {
        state[key] = node.value; state.page = 1; state.para = null;
        toHash(); update(false);
      };
    };
    let timer = 0;
    const later = function (key, node) {
      const now = changed(key, node);
      return function () { clearTimeout(timer); timer = setTimeout(now, 150); };
    };
    kinds.addEventListener("change", changed("kind", kinds));
    reasons.addEventListener("change", changed("reason", reasons));
    $("f-doc").addEventListener("input", later("doc", $("f-doc")));
    $("f-q").addEventListener("input", later("q", $("f-q")));
    $("filters").addEventListener("submit", function (event) { event.preventDefault(); });
    $("prev").addEventListener("click", function () { state.page--; toHash(); update(false); $("removals-h").scrollIntoView(); });
    $("next").addEventListener("click", function () { state.page++; toHash(); update(false); $("removals-h").scrollIntoView(); });
    window.addEventListener("hashchange", function () { fromHash(); update(true); });
    $("filters").hidden = false;
    document.querySelector(".legend").hidden = false;
    fromHash();
    update(true);
    timings.first = performance.now();
    document.body.dataset.ready = "1";
  }

  setup();
})();
