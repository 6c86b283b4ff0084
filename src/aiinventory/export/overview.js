(function () {
  "use strict";

  // Every value below comes from spreadsheets and mail: it is only ever put into the page as
  // text (textContent, title, value), never parsed as HTML.
  var DATA = JSON.parse(document.getElementById("overview-data").textContent);
  var COLS = DATA.columns;
  var COL = {};
  COLS.forEach(function (c, i) { COL[c] = i; });
  var UC = DATA.use_cases;
  var NF = new Intl.NumberFormat("en");
  var COLLATE = new Intl.Collator("en", { numeric: true, sensitivity: "base" }).compare;
  var PAGE_SIZE = 50;
  var FLAGS = "governance_flags";

  var LABELS = {
    use_case_id: "ID", name: "Name", source_ids: "Source IDs", description: "Description",
    organization: "Organisation", department: "Department", owner_name: "Owner",
    owner_email: "Owner e-mail", stage: "Stage", topic_area: "Topic area",
    ai_techniques: "AI techniques", sourcing: "Sourcing", vendor_name: "Vendor",
    high_impact: "High impact", eu_ai_act_tier: "EU AI Act tier", personal_data: "Personal data",
    impact_assessment: "Impact assessment", benefits: "Benefits",
    date_initiated: "Initiated", date_deployed: "Deployed", date_retired: "Retired",
    last_updated: "Last evidence", source_count: "Sources",
    departments_reporting: "Departments reporting", governance_flags: "Checkpoint failures"
  };
  var CONTROLLED = {
    stage: 1, topic_area: 1, ai_techniques: 1, sourcing: 1, high_impact: 1, eu_ai_act_tier: 1,
    personal_data: 1, impact_assessment: 1, governance_flags: 1
  };

  function label(col) { return LABELS[col] || col.replace(/_/g, " "); }
  function words(v) { return String(v).replace(/_/g, " "); }

  function fmt(col, v) {
    if (v === null || v === undefined) return "";
    if (Array.isArray(v)) {
      return v.map(function (x) { return CONTROLLED[col] ? words(x) : String(x); }).join(", ");
    }
    if (col === "last_updated") return String(v).slice(0, 10);
    return CONTROLLED[col] ? words(v) : String(v);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c !== null && c !== undefined) parent.appendChild(c);
    }
    return parent;
  }

  function badge(kind, value) {
    return el("span", "badge " + kind + "-" + String(value).replace(/[^a-z_]/g, ""), words(value));
  }

  // -- sources ---------------------------------------------------------------------------

  function recordPlace(ri, short) {
    var r = DATA.records[ri];
    var path = DATA.files[r[2]] || "";
    var parts = [short ? path.split(/[\\/]/).pop() : path];
    if (r[3]) parts.push("sheet " + r[3]);
    if (r[4] !== null && r[4] !== undefined) parts.push("row " + r[4]);
    if (r[5]) parts.push("message " + r[5]);
    return parts.join(" \u203a ");
  }

  function valueSource(i, col, short) {
    var uc = UC[i];
    var p = uc.p[col];
    if (p) {
      return { text: recordPlace(p[0], short), original: p.length > 1 ? p[1] : null, record: p[0] };
    }
    var n = uc.r.length;
    if (n === 1) return { text: recordPlace(uc.r[0], short), original: null, record: uc.r[0] };
    var v = uc.v[COL[col]];
    if (v === null || v === "" || v === "unknown" || v === "not_assessed" ||
        (Array.isArray(v) && !v.length)) {
      return { text: "no source record gives a value", original: null, record: null };
    }
    return { text: "combined from its " + n + " source records", original: null, record: null };
  }

  function sourceTitle(i, col) {
    var s = valueSource(i, col);
    var t = "Source: " + s.text;
    if (s.original !== null) t += "\nOriginal text: " + s.original;
    return t + "\n(click for all values and sources)";
  }

  // -- layout ----------------------------------------------------------------------------

  var root = document.body;
  var header = el("header", "top");
  add(header, el("h1", null, "AI use-case inventory"));
  var s = DATA.summary;
  var sub = NF.format(s.use_cases) + " use cases from " + NF.format(s.records) +
    " source records in " + NF.format(s.files) + " files";
  if (s.newest_evidence) sub += " \u00b7 newest evidence " + String(s.newest_evidence).slice(0, 10);
  add(header, el("div", "sub", sub));
  root.appendChild(header);

  var nav = el("nav", "jump");
  [["stages", "Stages"], ["several", "Several departments"], ["checks", "Checkpoints"],
   ["time", "Time to production"], ["changes", "Changes"], ["inventory", "Inventory"]].forEach(function (p) {
    var a = el("a", null, p[1]);
    a.href = "#" + p[0];
    nav.appendChild(a);
  });
  root.appendChild(nav);
  var main = el("main");
  root.appendChild(main);

  function block(id, title, hint) {
    var sec = el("section", "block");
    sec.id = id;
    add(sec, el("h2", null, title));
    if (hint) add(sec, el("p", "hint", hint));
    return sec;
  }

  // -- headline figures ------------------------------------------------------------------

  var ds = DATA.department_stage;
  function stageTotal(stage) {
    var k = ds.stages.indexOf(stage);
    return k < 0 ? 0 : ds.stage_totals[k];
  }
  var cards = el("div", "cards");
  function card(k, v, n, cls) {
    var c = el("div", "card" + (cls ? " " + cls : ""));
    add(c, el("div", "k", k), el("div", "v", v), n ? el("div", "n", n) : null);
    cards.appendChild(c);
  }
  card("Use cases", NF.format(s.use_cases), NF.format(ds.departments.length) + " departments");
  card("Deployed", NF.format(stageTotal("deployed")), NF.format(stageTotal("pilot")) + " in pilot");
  card("In development", NF.format(stageTotal("in_development")),
    NF.format(stageTotal("idea")) + " ideas");
  card("Several departments", NF.format(DATA.several_departments.length),
    "use cases reported by 2 or more");
  var ck = DATA.checkpoints;
  if (ck.evaluated) {
    card("Failing a checkpoint", NF.format(ck.use_cases_failing),
      "of " + NF.format(s.use_cases) + " use cases", ck.use_cases_failing ? "warn" : null);
  } else {
    card("Checkpoints", "\u2013", "not evaluated in this run");
  }
  var tally = DATA.changes.tally;
  card("Changes since last run", NF.format(tally.new + tally.changed + tally.gone + tally.merged),
    DATA.changes.first_run ? "first run: everything is new"
      : tally.new + " new, " + tally.changed + " changed, " + tally.gone + " gone");
  var ttp = DATA.time_to_production;
  if (ttp.overall.median_days !== null) {
    card("Median time to production", NF.format(ttp.overall.median_days) + " days",
      "idea to deployed, over " + NF.format(ttp.overall.measured) + " use cases");
  } else {
    card("Time to production", "\u2013", "no use case has dated idea and deployment");
  }
  main.appendChild(cards);

  // -- department x stage ------------------------------------------------------------------

  function matrix(rows, cols, counts, totals, onPick, colLabel, warnheat, totalLabel) {
    var max = 0;
    counts.forEach(function (r) { r.forEach(function (v) { if (v > max) max = v; }); });
    var t = el("table", "matrix" + (warnheat ? " warnheat" : ""));
    var hr = add(el("thead"), el("tr"));
    var htr = hr.firstChild;
    add(htr, el("th", null, "Department"));
    cols.forEach(function (c) { add(htr, el("th", "num", colLabel(c))); });
    add(htr, el("th", "num", totalLabel || "Total"));
    t.appendChild(hr);
    var tb = el("tbody");
    rows.forEach(function (d, ri) {
      var tr = el("tr");
      add(tr, el("th", null, d));
      var sum = 0;
      counts[ri].forEach(function (v, ci) {
        sum += v;
        if (!v) { add(tr, el("td", "zero", "\u00b7")); return; }
        var td = el("td", "cell");
        var b = el("button", null, NF.format(v));
        var a = max ? v / max : 0;
        b.style.setProperty("--a", a.toFixed(3));
        if (a > 0.55) b.classList.add("dark");
        b.type = "button";
        b.title = d + " \u00b7 " + colLabel(cols[ci]) + ": " + v + " (show in the inventory)";
        b.addEventListener("click", function () { onPick(d, cols[ci]); });
        add(tr, add(td, b));
      });
      add(tr, el("td", "num", NF.format(sum)));
      tb.appendChild(tr);
    });
    var tot = el("tr", "total");
    add(tot, el("th", null, "All departments"));
    var grand = 0;
    totals.forEach(function (v) { grand += v; add(tot, el("td", "num", NF.format(v))); });
    add(tot, el("td", "num", NF.format(grand)));
    tb.appendChild(tot);
    t.appendChild(tb);
    return add(el("div", "scroll"), t);
  }

  var stagesBlock = block("stages", "Use cases by department and stage",
    "Click a number to list those use cases in the inventory below.");
  if (ds.departments.length) {
    stagesBlock.appendChild(matrix(ds.departments, ds.stages, ds.counts, ds.stage_totals,
      function (d, st) { pickCell({ department: d, stage: st }); }, words));
  } else {
    stagesBlock.appendChild(el("div", "empty", "The inventory is empty."));
  }
  main.appendChild(stagesBlock);

  // Checkpoints take the full width (one column per rule); the two short lists share a row.
  var checksSlot = el("div");
  main.appendChild(checksSlot);
  var pair = el("div", "grid2");
  main.appendChild(pair);

  // -- several departments ---------------------------------------------------------------

  var severalBlock = block("several", "Pursued by several departments",
    "Use cases whose sources come from two or more departments: candidates to share or combine.");
  pair.appendChild(severalBlock);
  var severalState = { page: 0 };
  var severalBody = el("div");
  severalBlock.appendChild(severalBody);
  function renderSeveral() {
    severalBody.textContent = "";
    var list = DATA.several_departments;
    if (!list.length) {
      severalBody.appendChild(el("div", "empty",
        "No use case is reported by more than one department."));
      return;
    }
    var t = el("table");
    var h = el("tr");
    ["Use case", "Departments", "Sources", "Stage"].forEach(function (x, k) {
      add(h, el("th", k === 2 ? "num" : null, x));
    });
    add(t, add(el("thead"), h));
    var tb = el("tbody");
    var start = severalState.page * 10;
    list.slice(start, start + 10).forEach(function (i) {
      var v = UC[i].v;
      var tr = el("tr");
      var name = el("button", "link", v[COL.name]);
      name.type = "button";
      name.title = v[COL.use_case_id] + " (show details and sources)";
      name.addEventListener("click", function () { openDetail(i, "departments_reporting"); });
      add(tr, add(el("td"), name));
      var chips = el("div", "chips");
      (v[COL.departments_reporting] || []).forEach(function (d) { add(chips, el("span", "badge", d)); });
      add(tr, add(el("td"), chips));
      add(tr, el("td", "num", v[COL.source_count]));
      add(tr, add(el("td"), badge("s", v[COL.stage] || "unknown")));
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    add(severalBody, add(el("div", "scroll"), t),
      pager(list.length, severalState.page, 10, function (p) {
        severalState.page = p;
        renderSeveral();
      }));
  }

  // -- checkpoints -------------------------------------------------------------------------

  var checksBlock = block("checks", "Checkpoint failures by department",
    "Governance checkpoints each use case fails, counted per department and rule: a use case " +
    "that fails two rules counts twice in its row's failures (the card above counts use cases).");
  checksSlot.appendChild(checksBlock);
  if (!ck.evaluated) {
    checksBlock.appendChild(el("div", "empty",
      "Governance checkpoints were not evaluated in this run, so there is nothing to show here."));
  } else if (!ck.departments.length) {
    checksBlock.appendChild(el("div", "empty", "Every use case passes every checkpoint."));
  } else {
    checksBlock.appendChild(matrix(ck.departments, ck.rules, ck.counts, ck.rule_totals,
      function (d, rule) { pickCell({ department: d, flag: rule }); }, words, true, "Failures"));
    var legend = el("dl", "rules");
    ck.rules.forEach(function (r) {
      var w = ck.rule_words[r];
      add(legend, el("dt", null, words(r)), el("dd", null, w ? w.check : ""));
    });
    checksBlock.appendChild(legend);
  }
  var ttpBlock = block("time", "Time to production",
    "Median days from idea to deployment per department, from dated evidence: mail dates, " +
    "tracker snapshots across runs and recorded milestone dates.");
  pair.appendChild(ttpBlock);
  if (!ttp.departments.some(function (r) { return r.measured; })) {
    ttpBlock.appendChild(el("div", "empty",
      "No use case has both an idea (or development) date and a deployment date yet; " +
      "later runs add the dates they see."));
  } else {
    var longest = 0;
    ttp.departments.forEach(function (r) { if (r.median_days > longest) longest = r.median_days; });
    var tt = el("table");
    var th = el("tr");
    add(th, el("th", null, "Department"), el("th", "num", "Median days"),
      el("th", "num", "Measured"), el("th"));
    add(tt, add(el("thead"), th));
    var ttb = el("tbody");
    ttp.departments.concat([ttp.overall]).forEach(function (r, k) {
      var tr = el("tr", k === ttp.departments.length ? "total" : null);
      var bar = el("div", "bar");
      var fill = el("span");
      var median = r.median_days === null ? "\u2013" : NF.format(r.median_days);
      fill.style.setProperty("--w", longest && r.median_days !== null
        ? (r.median_days / longest).toFixed(3) : "0");
      add(bar, fill);
      var measured = el("td", "num", NF.format(r.measured) + " of " + NF.format(r.deployed));
      measured.title = r.measured + " of the " + r.deployed + " deployed use cases have both dates (" +
        r.recorded + " from recorded milestones)";
      add(tr, el("td", null, r.department), el("td", "num", median), measured,
        add(el("td"), bar));
      ttb.appendChild(tr);
    });
    add(ttpBlock, add(el("div", "scroll"), add(tt, ttb)));
  }

  // -- changes -----------------------------------------------------------------------------

  var changesBlock = block("changes", "What changed since the last run",
    DATA.changes.first_run ? "This is the first run: every use case is new."
      : "New, changed, gone and merged use cases compared with the last completed run.");
  main.appendChild(changesBlock);
  var changeState = { kind: "", page: 0 };
  var changesBody = el("div", "changes");
  var kinds = el("div", "toolbar");
  var kindSelect = el("select");
  kindSelect.setAttribute("aria-label", "Kind of change");
  [["", "All changes"], ["new", "New"], ["changed", "Changed"], ["gone", "Gone"],
   ["merged", "Merged"]].forEach(function (o) {
    var opt = el("option", null, o[1] + (o[0] ? " (" + NF.format(tally[o[0]]) + ")" : ""));
    opt.value = o[0];
    kindSelect.appendChild(opt);
  });
  kindSelect.addEventListener("change", function () {
    changeState.kind = kindSelect.value;
    changeState.page = 0;
    renderChanges();
  });
  add(kinds, kindSelect);
  add(changesBlock, kinds, changesBody);
  var ucById = null;
  function findUseCase(id) {
    if (!ucById) {
      ucById = {};
      UC.forEach(function (u, i) { ucById[u.v[0]] = i; });
    }
    return Object.prototype.hasOwnProperty.call(ucById, id) ? ucById[id] : -1;
  }
  function evidenceOnly(c) {
    return c[0] === "changed" && c[3].length > 0 &&
      c[3].every(function (f) { return f[0] === "last_updated"; });
  }
  function renderChanges() {
    changesBody.textContent = "";
    if (DATA.changes.first_run && !changeState.kind) {
      changesBody.appendChild(el("div", "empty", "All " + NF.format(tally.new) + " use cases are " +
        "new in this first run; from the next run on, this lists what was added, changed, merged " +
        "or is gone. Choose \u201cNew\u201d to list them."));
      return;
    }
    // Use cases whose only change is newer evidence (a tracker saved again) come last.
    var items = DATA.changes.items.filter(function (c) {
      return !changeState.kind || c[0] === changeState.kind;
    });
    var substantive = items.filter(function (c) { return !evidenceOnly(c); });
    items = substantive.concat(items.filter(evidenceOnly));
    if (!items.length) {
      changesBody.appendChild(el("div", "empty", "No changes of this kind since the last run."));
      return;
    }
    var ul = el("ul");
    var start = changeState.page * 25;
    items.slice(start, start + 25).forEach(function (c) {
      var li = el("li");
      add(li, badge("k", c[0]), document.createTextNode(" "));
      var i = findUseCase(c[1]);
      var idNode = el(i >= 0 ? "button" : "span", (i >= 0 ? "link " : "") + "mono", c[1]);
      if (i >= 0) {
        idNode.type = "button";
        idNode.addEventListener("click", function () { openDetail(i, "name"); });
      }
      add(li, idNode, document.createTextNode(" " + (c[2] || "")));
      if (evidenceOnly(c)) add(li, document.createTextNode(" "), el("span", "badge", "newer evidence only"));
      c[3].forEach(function (f) {
        var d = el("div", "diff");
        var shown = f[0] === "last_updated" ? function (x) { return x === null ? "" : String(x); }
          : function (x) { return fmt(f[0], x); };
        add(d, document.createTextNode(label(f[0]) + ": "), el("span", "old", shown(f[1]) || "(empty)"),
          document.createTextNode(" \u2192 "), el("span", "new", shown(f[2]) || "(empty)"));
        li.appendChild(d);
      });
      ul.appendChild(li);
    });
    add(changesBody, ul, pager(items.length, changeState.page, 25, function (p) {
      changeState.page = p;
      renderChanges();
    }));
  }

  // -- pager -------------------------------------------------------------------------------

  function pager(total, page, size, onChange) {
    var pages = Math.max(1, Math.ceil(total / size));
    var box = el("div", "pager");
    var from = total ? page * size + 1 : 0;
    var to = Math.min(total, (page + 1) * size);
    add(box, el("span", "count", NF.format(from) + "\u2013" + NF.format(to) + " of " + NF.format(total)));
    var prev = el("button", null, "\u2039 Previous");
    prev.type = "button";
    prev.disabled = page <= 0;
    prev.addEventListener("click", function () { onChange(page - 1); });
    var input = el("input");
    input.type = "number";
    input.min = "1";
    input.max = String(pages);
    input.value = String(page + 1);
    input.setAttribute("aria-label", "Page");
    input.addEventListener("change", function () {
      var p = Math.min(pages, Math.max(1, parseInt(input.value, 10) || 1)) - 1;
      onChange(p);
    });
    var next = el("button", null, "Next \u203a");
    next.type = "button";
    next.disabled = page >= pages - 1;
    next.addEventListener("click", function () { onChange(page + 1); });
    if (pages > 1) add(box, prev, input, el("span", "count", "of " + NF.format(pages)), next);
    return box;
  }

  // -- inventory table ---------------------------------------------------------------------

  var invBlock = block("inventory", "Inventory",
    "Search any value; hover a value to see its source, click it for every value and source.");
  main.appendChild(invBlock);
  var state = {
    query: "", department: "", stage: "", flag: "", several: false,
    sort: "use_case_id", dir: 1, page: 0
  };
  var toolbar = el("div", "toolbar");
  var search = el("input");
  search.type = "search";
  search.placeholder = "Search name, owner, department, vendor, ID\u2026";
  search.setAttribute("aria-label", "Search the inventory");
  search.id = "inventory-search";
  var deptSelect = el("select");
  deptSelect.setAttribute("aria-label", "Department");
  add(deptSelect, optionOf("", "All departments"));
  ds.departments.forEach(function (d) { add(deptSelect, optionOf(d, d)); });
  var stageSelect = el("select");
  stageSelect.setAttribute("aria-label", "Stage");
  add(stageSelect, optionOf("", "All stages"));
  ds.stages.forEach(function (x) { add(stageSelect, optionOf(x, words(x))); });
  var flagSelect = null;
  if (ck.evaluated && ck.rules.length) {
    flagSelect = el("select");
    flagSelect.setAttribute("aria-label", "Checkpoint");
    add(flagSelect, optionOf("", "Any checkpoint result"), optionOf("*", "Failing any checkpoint"));
    ck.rules.forEach(function (r) { add(flagSelect, optionOf(r, "Failing: " + words(r))); });
  }
  var severalBox = el("input");
  severalBox.type = "checkbox";
  var severalLabel = add(el("label"), severalBox, document.createTextNode("several departments"));
  var reset = el("button", "link", "Clear filters");
  reset.type = "button";
  var countNode = el("span", "count");
  add(toolbar, search, deptSelect, stageSelect, flagSelect, severalLabel, reset, countNode);
  invBlock.appendChild(toolbar);

  function optionOf(value, text) {
    var o = el("option", null, text);
    o.value = value;
    return o;
  }

  var TCOLS = DATA.table_columns;
  var table = el("table", "inventory");
  var headRow = el("tr");
  var dirNodes = {};
  TCOLS.forEach(function (c) {
    var numeric = c === "source_count";
    var thc = el("th", "sortable" + (numeric ? " num" : ""));
    thc.setAttribute("scope", "col");
    // A button in the header cell: sorting by keyboard too, its state said by aria-sort.
    var sorter = el("button", "sorter");
    sorter.type = "button";
    sorter.title = "Sort by " + label(c);
    var dir = el("span", "dir");
    dir.setAttribute("aria-hidden", "true");
    dirNodes[c] = { th: thc, dir: dir };
    add(sorter, document.createTextNode(label(c) + " "), dir);
    sorter.addEventListener("click", function () {
      if (state.sort === c) state.dir = -state.dir;
      else { state.sort = c; state.dir = 1; }
      state.page = 0;
      refresh();
    });
    add(thc, sorter);
    headRow.appendChild(thc);
  });
  add(table, add(el("thead"), headRow));
  var tbody = el("tbody");
  table.appendChild(tbody);
  var pagerBox = el("div");
  add(invBlock, add(el("div", "scroll"), table), pagerBox);

  // Search ignores case and accents: "muller" finds "Müller", "cafe" finds "café".
  function folded(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/_/g, " ");
  }
  var haystack = null;
  function buildHaystack() {
    haystack = new Array(UC.length);
    for (var i = 0; i < UC.length; i++) {
      var v = UC[i].v;
      var parts = [];
      for (var k = 0; k < v.length; k++) {
        var x = v[k];
        if (x === null || x === undefined) continue;
        parts.push(Array.isArray(x) ? x.join(" ") : String(x));
      }
      haystack[i] = folded(parts.join("\n"));
    }
  }

  var sortedCache = { key: null, order: null };
  function sortedOrder() {
    var key = state.sort + ":" + state.dir;
    if (sortedCache.key === key) return sortedCache.order;
    var k = COL[state.sort];
    var order = new Array(UC.length);
    for (var i = 0; i < UC.length; i++) order[i] = i;
    var numeric = state.sort === "source_count";
    var keys = UC.map(function (u) {
      var v = u.v[k];
      if (numeric) return v || 0;
      return v === null || v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v);
    });
    var dir = state.dir;
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      var c;
      if (numeric) c = x - y;
      else if (x === "" || y === "") c = x === y ? 0 : x === "" ? 1 : -1;
      else if (state.sort === "use_case_id") c = x < y ? -1 : x > y ? 1 : 0;
      else c = COLLATE(x, y);
      if (c === 0) c = a - b;
      else if (!(x === "" || y === "") || numeric) c *= dir;
      return c;
    });
    sortedCache = { key: key, order: order };
    return order;
  }

  function matches(i) {
    var v = UC[i].v;
    if (state.department && (v[COL.department] || "(no department)") !== state.department) return false;
    if (state.stage && (v[COL.stage] || "unknown") !== state.stage) return false;
    if (state.several && (v[COL.departments_reporting] || []).length < 2) return false;
    if (state.flag) {
      var f = COL[FLAGS] === undefined ? null : v[COL[FLAGS]];
      if (!f || !f.length) return false;
      if (state.flag !== "*" && f.indexOf(state.flag) < 0) return false;
    }
    if (state.query) {
      if (!haystack) buildHaystack();
      var terms = state.query;
      for (var t = 0; t < terms.length; t++) {
        if (haystack[i].indexOf(terms[t]) < 0) return false;
      }
    }
    return true;
  }

  var visible = [];
  function refresh() {
    var order = sortedOrder();
    visible = [];
    for (var n = 0; n < order.length; n++) if (matches(order[n])) visible.push(order[n]);
    var pages = Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
    if (state.page >= pages) state.page = pages - 1;
    TCOLS.forEach(function (c) {
      var on = state.sort === c;
      dirNodes[c].dir.textContent = on ? (state.dir > 0 ? "\u25b2" : "\u25bc") : "";
      if (on) dirNodes[c].th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      else dirNodes[c].th.removeAttribute("aria-sort");
    });
    countNode.textContent = NF.format(visible.length) + " of " + NF.format(UC.length) + " use cases";
    renderRows();
  }

  function renderRows() {
    var frag = document.createDocumentFragment();
    var start = state.page * PAGE_SIZE;
    var rows = visible.slice(start, start + PAGE_SIZE);
    rows.forEach(function (i) {
      var tr = el("tr");
      tr.dataset.uc = String(i);
      tr.tabIndex = 0;
      var v = UC[i].v;
      TCOLS.forEach(function (c) {
        var value = v[COL[c]];
        var td;
        if (c === "stage") {
          td = add(el("td"), badge("s", value || "unknown"));
        } else if (c === FLAGS) {
          td = el("td", value && value.length ? null : "zero");
          if (value && value.length) td.appendChild(el("span", "badge flag", NF.format(value.length)));
        } else {
          td = el("td", c === "use_case_id" ? "id" : c === "name" ? "name" :
            c === "source_count" ? "num" : null, fmt(c, value));
        }
        td.dataset.col = c;
        td.title = (c === FLAGS && value && value.length ? fmt(c, value) + "\n" : "") + sourceTitle(i, c);
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    tbody.textContent = "";
    if (!rows.length) {
      var tr = el("tr");
      var td = el("td", null, "No use case matches the search and filters.");
      td.colSpan = TCOLS.length;
      add(tbody, add(tr, td));
    }
    tbody.appendChild(frag);
    pagerBox.textContent = "";
    pagerBox.appendChild(pager(visible.length, state.page, PAGE_SIZE, function (p) {
      state.page = p;
      renderRows();
      invBlock.scrollIntoView();
    }));
  }

  tbody.addEventListener("click", function (ev) {
    var td = ev.target.closest ? ev.target.closest("td") : null;
    if (!td || !td.dataset.col) return;
    openDetail(parseInt(td.parentNode.dataset.uc, 10), td.dataset.col);
  });

  tbody.addEventListener("keydown", function (ev) {
    var tr = ev.target.closest ? ev.target.closest("tr") : null;
    if (ev.key === "Enter" && tr && tr.dataset.uc) openDetail(parseInt(tr.dataset.uc, 10), "name");
  });

  var timer = null;
  search.addEventListener("input", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      var q = folded(search.value).trim();
      state.query = q ? q.split(/\s+/) : "";
      state.page = 0;
      refresh();
    }, 120);
  });
  deptSelect.addEventListener("change", function () { setFilters({ department: deptSelect.value }); });
  stageSelect.addEventListener("change", function () { setFilters({ stage: stageSelect.value }); });
  if (flagSelect) {
    flagSelect.addEventListener("change", function () { setFilters({ flag: flagSelect.value }); });
  }
  severalBox.addEventListener("change", function () { setFilters({ several: severalBox.checked }); });
  reset.addEventListener("click", function () {
    search.value = "";
    state.query = "";
    setFilters({ department: "", stage: "", flag: "", several: false });
  });

  // From the matrices: show exactly that cell (other filters cleared) and go to the table.
  function pickCell(f) {
    state.department = "";
    state.stage = "";
    state.flag = "";
    state.several = false;
    setFilters(f);
    invBlock.scrollIntoView();
  }

  function setFilters(f) {
    Object.keys(f).forEach(function (k) { state[k] = f[k]; });
    deptSelect.value = state.department;
    stageSelect.value = state.stage;
    if (flagSelect) flagSelect.value = state.flag;
    severalBox.checked = state.several;
    state.page = 0;
    refresh();
  }

  // -- detail panel --------------------------------------------------------------------------

  var panel = el("aside", "detail");
  panel.setAttribute("aria-label", "Use case details");
  root.appendChild(panel);
  function closeDetail() { panel.classList.remove("open"); }
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") closeDetail(); });

  function openDetail(i, focusCol) {
    var uc = UC[i];
    var v = uc.v;
    panel.textContent = "";
    var close = el("button", "close", "\u00d7");
    close.type = "button";
    close.title = "Close (Esc)";
    close.addEventListener("click", closeDetail);
    add(panel, close, el("h3", null, v[COL.name] || "(no name)"), el("div", "mono src", v[0]));
    var single = uc.r.length === 1;
    if (single) {
      var from = el("p", "src");
      add(from, document.createTextNode("Every value comes from "),
        el("strong", null, recordPlace(uc.r[0])));
      panel.appendChild(from);
    }
    add(panel, el("h4", null, single ? "Values" : "Values and their sources"));
    var t = el("table");
    var h = el("tr");
    add(h, el("th", null, "Field"), el("th", null, "Value"),
      el("th", null, single ? "Original text" : "Source"));
    add(t, add(el("thead"), h));
    var tb = el("tbody");
    var focusRow = null;
    COLS.forEach(function (c) {
      var tr = el("tr");
      tr.dataset.col = c;
      if (c === focusCol) { tr.className = "focus"; focusRow = tr; }
      var value = fmt(c, v[COL[c]]);
      var src = valueSource(i, c, true);
      var srcCell = el("td");
      if (!single && value !== "") {
        var where = el("div", "src", src.text);
        if (src.record !== null) where.title = recordPlace(src.record);
        srcCell.appendChild(where);
      }
      if (src.original !== null) {
        add(srcCell, el("div", "orig", (single ? "" : "original text: ") + src.original));
      }
      add(tr, el("th", null, label(c)), el("td", null, value), srcCell);
      tb.appendChild(tr);
    });
    add(panel, add(t, tb));
    var flags = COL[FLAGS] === undefined ? null : v[COL[FLAGS]];
    if (flags && flags.length) {
      add(panel, el("h4", null, "Checkpoints failed"));
      var fl = el("ul");
      flags.forEach(function (f) {
        var w = ck.rule_words ? ck.rule_words[f] : null;
        var li = add(el("li"), el("strong", null, words(f)));
        if (w) add(li, el("div", null, w.check), el("div", "src", "Fix: " + w.fix));
        fl.appendChild(li);
      });
      add(panel, add(el("div", "records"), fl));
    }
    if (uc.t && uc.t.length) {
      add(panel, el("h4", null, "Stage timeline"));
      var tl = el("table");
      var tlb = el("tbody");
      uc.t.forEach(function (e) {
        var tr = el("tr");
        if (e[0] === "days_to_deployed") {
          add(tr, el("th", null, "idea to deployed"), el("td", null, NF.format(e[1]) + " days"),
            el("td"));
        } else {
          add(tr, el("th", null, words(e[0])), el("td", null, e[1]),
            el("td", "src", words(e[2]) + " \u00b7 " + e[3]));
        }
        tlb.appendChild(tr);
      });
      add(panel, add(tl, tlb));
    }
    add(panel, el("h4", null, "Source records (" + uc.r.length + ")"));
    var ul = el("ul");
    uc.r.forEach(function (ri) {
      var r = DATA.records[ri];
      var li = el("li");
      add(li, el("div", null, recordPlace(ri)),
        el("div", "src mono", r[0] + " \u00b7 " + words(r[1] || "")));
      (r[6] || []).forEach(function (f) { add(li, el("div", "orig", f)); });
      ul.appendChild(li);
    });
    add(panel, add(el("div", "records"), ul));
    panel.classList.add("open");
    panel.scrollTop = 0;
    if (focusRow && focusRow.scrollIntoView) focusRow.scrollIntoView({ block: "nearest" });
  }

  var foot = el("footer", null,
    "Written by aiinventory with inventory.xlsx; the data of this page is inside the file and " +
    "nothing is loaded from the network.");
  main.appendChild(foot);

  renderSeveral();
  renderChanges();
  refresh();
  if (window.performance && performance.mark) performance.mark("overview-rendered");
})();
