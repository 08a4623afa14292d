"use strict";
// kms-audit HTML report. Draws the page from the JSON data block. Text from the report is only
// ever set with textContent / createTextNode, never parsed as markup.
(function () {
  var dataBlock = document.getElementById("kms-audit-data");
  var D = JSON.parse(dataBlock.textContent);
  // Parsed once: the block's text (tens of MB at 100,000 keys) need not stay in the DOM too.
  dataBlock.parentNode.removeChild(dataBlock);
  var SEVERITIES = ["critical", "high", "medium", "low", "info"];
  var RANK = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
  var COLORS = { critical: "#8b0000", high: "#d9342b", medium: "#e8901c", low: "#2f7fb8", info: "#7a7a7a" };
  var PAGE = 100;
  // Key rows and finding rows (see src/report/html/mod.rs).
  var K = { arn: 0, aliases: 1, state: 2, manager: 3, spec: 4, usage: 5, origin: 6, desc: 7, created: 8,
    deletion: 9, rotation: 10, mr: 11, tags: 12, grants: 13, policy: 14, unknown: 15, store: 16 };
  var F = { check: 0, sev: 1, key: 2, account: 3, region: 4, label: 5, msg: 6, base: 7, supp: 8, spec: 9, st: 10 };
  var SVG = "http://www.w3.org/2000/svg";
  // A finding leaves out (null) the account, region and label its key's row gives.
  [D.findings, D.resolved].forEach(function (list) {
    (list || []).forEach(function (f) {
      var k = f[F.key] >= 0 ? D.keys[f[F.key]] : null;
      if (!k) return;
      var parts = String(k[K.arn]).split(":");
      if (f[F.account] === null) f[F.account] = parts[4];
      if (f[F.region] === null) f[F.region] = parts[3];
      if (f[F.label] === null) f[F.label] = (k[K.aliases] && k[K.aliases][0]) || String(parts.slice(5).join(":")).replace(/^key\//, "");
    });
  });

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var name in attrs) {
      if (attrs[name] === null || attrs[name] === undefined || attrs[name] === false) continue;
      if (name === "text") el.textContent = String(attrs[name]);
      else if (name === "onclick") el.addEventListener("click", attrs[name]);
      else el.setAttribute(name, String(attrs[name]));
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(el, c); }); return; }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    for (var name in attrs) el.setAttribute(name, String(attrs[name]));
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function str(i) { return i >= 0 ? D.strings[i] : null; }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : (many || one + "s")); }
  function sevBadge(sev) { return h("span", { "class": "sev " + sev, text: sev }); }
  function keyIdOf(arn) { var i = arn.indexOf(":key/"); return i >= 0 ? arn.slice(i + 5) : arn; }
  function fmtMs(ms) { return ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : Math.floor(ms / 60000) + " min " + Math.floor(ms % 60000 / 1000) + " s"; }

  // ---- state, kept in the URL fragment so a view can be shared or opened directly ----------
  var state = {};
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    state = { tab: p.get("tab") || (p.get("key") ? "findings" : "overview"), sev: p.get("sev") || "",
      check: p.get("check") || "", account: p.get("account") || "", region: p.get("region") || "",
      q: p.get("q") || "", baseline: p.get("baseline") || "", suppressed: p.get("suppressed") === "1",
      sort: p.get("sort") || "sev", dir: p.get("dir") || "desc", page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1),
      key: p.get("key") || "" };
    if (!state.key && p.get("tab") === null && (state.sev || state.check || state.account || state.region || state.q)) state.tab = "findings";
  }
  function writeHash() {
    var p = new URLSearchParams();
    var defaults = { tab: "overview", sort: "sev", dir: "desc", page: 1 };
    Object.keys(state).forEach(function (k) {
      var v = state[k];
      if (v === "" || v === false || v === defaults[k]) return;
      p.set(k, v === true ? "1" : String(v));
    });
    history.replaceState(null, "", "#" + p.toString());
  }

  // ---- derived data ---------------------------------------------------------------------------
  var active = D.findings.filter(function (f) { return !f[F.supp]; });
  var bySev = {}; SEVERITIES.forEach(function (sv) { bySev[sv] = 0; });
  var byAccount = {};
  active.forEach(function (f) {
    bySev[f[F.sev]]++;
    var a = byAccount[f[F.account]] || (byAccount[f[F.account]] = { total: 0 });
    a[f[F.sev]] = (a[f[F.sev]] || 0) + 1; a.total++;
  });
  var accounts = {}, regions = {}, checksSeen = {};
  D.targets.forEach(function (t) { accounts[t.account] = 1; regions[t.region] = 1; });
  D.findings.forEach(function (f) { accounts[f[F.account]] = 1; regions[f[F.region]] = 1; checksSeen[f[F.check]] = 1; });
  var checkMeta = {}; D.checks.forEach(function (c) { checkMeta[c.id] = c; });
  // Findings per key, for the key detail.
  var keyFindings = {};
  D.findings.forEach(function (f, i) { if (f[F.key] >= 0) (keyFindings[f[F.key]] = keyFindings[f[F.key]] || []).push(i); });
  var keyByArn = {}; D.keys.forEach(function (k, i) { keyByArn[k[K.arn]] = i; });
  var failedTargets = D.targets.filter(function (t) { return t.status === "failed"; });

  // ---- page skeleton ---------------------------------------------------------------------------
  var app = document.getElementById("app");
  var tabs = [["overview", "Overview"], ["findings", "Findings (" + active.length + ")"], ["compliance", "Compliance"],
    ["gaps", "Coverage gaps (" + D.gaps.length + ")"]];
  if (D.baseline) tabs.push(["resolved", "Resolved (" + D.resolved.length + ")"]);
  var nav = h("nav", { id: "tabs" });
  var sections = {};
  tabs.forEach(function (t) {
    nav.appendChild(h("a", { href: "#tab=" + t[0], "data-tab": t[0], "class": t[0] === "gaps" && D.incomplete ? "warn" : null,
      onclick: function (e) { e.preventDefault(); state.tab = t[0]; state.key = ""; writeHash(); show(); }, text: t[1] }));
    sections[t[0]] = h("section", { "class": "tab", id: "tab-" + t[0] });
  });
  var header = h("header", null, h("h1", { text: "kms-audit report" }),
    h("div", { "class": "meta", text: [D.tool.name + " " + D.tool.version, D.started_at ? "scan of " + D.started_at : null,
      "took " + fmtMs(D.summary.duration_ms), D.organization_id ? "organization " + D.organization_id : null,
      D.shard ? "shard " + D.shard.index + "/" + D.shard.count : null].filter(Boolean).join(" · ") }));
  app.appendChild(header);
  if (D.incomplete) {
    app.appendChild(h("div", { "class": "banner incomplete", id: "incomplete", role: "alert" },
      "INCOMPLETE SCAN: " + plural(D.gaps.length, "coverage gap") + ", " + plural(failedTargets.length, "account-region") +
      " failed. What could not be read was NOT audited; controls there are not evaluated. ",
      h("a", { href: "#tab=gaps", text: "See the coverage gaps." })));
  } else {
    app.appendChild(h("div", { "class": "banner complete", id: "complete", text: "Complete scan: every listed account-region and key field was read." }));
  }
  app.appendChild(nav);
  var main = h("main");
  tabs.forEach(function (t) { main.appendChild(sections[t[0]]); });
  app.appendChild(main);

  // ---- overview --------------------------------------------------------------------------------
  function overview(el) {
    var count = function (st) { return D.targets.filter(function (t) { return t.status === st; }).length; };
    function card(n, label, bad, id) { return h("div", { "class": "card" + (bad ? " bad" : ""), id: id }, h("div", { "class": "n", text: n }), h("div", { "class": "l", text: label })); }
    el.appendChild(h("h2", { text: "Scope" }));
    el.appendChild(h("div", { "class": "cards", id: "scope" },
      card(D.summary.accounts, "accounts"), card(D.summary.regions, "regions"),
      card(D.targets.length, "account-regions (" + count("scanned") + " scanned, " + count("skipped") + " skipped, " + count("failed") + " failed)", count("failed") > 0),
      card(D.summary.keys, "keys"), card(active.length, "findings"),
      card(D.gaps.length, "coverage gaps", D.gaps.length > 0, "gap-count"),
      card(D.findings.length - active.length, "suppressed")));
    if (D.baseline) {
      var st = function (b) { return D.findings.filter(function (f) { return f[F.base] === b; }).length; };
      el.appendChild(h("div", { "class": "cards", id: "baseline" }, card(st("new"), "new since the baseline", st("new") > 0, "baseline-new"),
        card(st("existing"), "existing", false, "baseline-existing"), card(D.resolved.length, "resolved", false, "baseline-resolved")));
    }
    var table = h("table", { id: "sev-counts" }, h("tr", null, SEVERITIES.map(function (sv) { return h("th", null, h("a", { href: "#tab=findings&sev=" + sv }, sevBadge(sv))); })),
      h("tr", null, SEVERITIES.map(function (sv) { return h("td", { "class": "num", "data-sev": sv, text: bySev[sv] }); })));
    el.appendChild(h("h2", { text: "Findings by severity" }));
    el.appendChild(table);
    var charts = h("div", { "class": "charts" });
    charts.appendChild(h("div", { "class": "chart" }, h("h3", { text: "By severity" }), severityChart()));
    charts.appendChild(h("div", { "class": "chart" }, h("h3", { text: "By account (most findings first)" }), accountChart()));
    el.appendChild(charts);
    // Compliance at a glance: controls per framework by status.
    var glance = h("table", { id: "compliance-glance" }, h("tr", null, ["Framework", "Pass", "Fail", "Not evaluated"].map(function (x) { return h("th", { text: x }); })));
    D.compliance.frameworks.forEach(function (fw) {
      var n = { pass: 0, fail: 0, not_evaluated: 0 };
      fw.controls.forEach(function (c) { n[c.status]++; });
      glance.appendChild(h("tr", { "data-framework": fw.id }, h("td", null, h("a", { href: "#tab=compliance", text: fw.name })),
        ["pass", "fail", "not_evaluated"].map(function (st) { return h("td", { "class": "num" }, n[st] ? h("span", { "class": "status " + st, text: n[st] }) : "0"); })));
    });
    el.appendChild(h("h2", { text: "Compliance (controls)" }));
    el.appendChild(glance);
    var worst = active.slice().sort(function (a, b) { return RANK[b[F.sev]] - RANK[a[F.sev]]; }).slice(0, 10);
    if (worst.length) {
      el.appendChild(h("h2", { text: "Most severe findings" }));
      var wt = h("table", { "class": "wide", id: "worst" }, h("tr", null, ["Severity", "Check", "Account", "Region", "Key", "Message"].map(function (x) { return h("th", { text: x }); })));
      worst.forEach(function (f) {
        wt.appendChild(h("tr", { "class": "clickable", onclick: function () { if (f[F.key] >= 0) { state.tab = "findings"; state.key = D.keys[f[F.key]][K.arn]; writeHash(); show(); } } },
          h("td", null, sevBadge(f[F.sev])), h("td", { text: f[F.check] }), h("td", { text: f[F.account] }), h("td", { text: f[F.region] }),
          h("td", { text: f[F.label] }), h("td", { "class": "msg", text: f[F.msg] })));
      });
      el.appendChild(wt);
    }
  }
  function severityChart() {
    var max = Math.max(1, Math.max.apply(null, SEVERITIES.map(function (sv) { return bySev[sv]; })));
    var svg = s("svg", { width: 420, height: SEVERITIES.length * 28 + 8, role: "img", "aria-label": "findings by severity", id: "chart-severity" });
    SEVERITIES.forEach(function (sv, i) {
      var y = 4 + i * 28, w = Math.round(300 * bySev[sv] / max);
      svg.appendChild(s("text", { x: 0, y: y + 16, "font-size": 12 }, sv));
      svg.appendChild(s("rect", { x: 70, y: y, width: Math.max(w, 1), height: 20, fill: COLORS[sv] }, s("title", {}, sv + ": " + bySev[sv])));
      svg.appendChild(s("text", { x: 76 + w, y: y + 15, "font-size": 12 }, String(bySev[sv])));
    });
    return svg;
  }
  function accountChart() {
    var list = Object.keys(accounts).sort(function (a, b) { return ((byAccount[b] || {}).total || 0) - ((byAccount[a] || {}).total || 0) || (a < b ? -1 : 1); });
    var shown = list.slice(0, 25);
    var max = Math.max(1, Math.max.apply(null, shown.map(function (a) { return (byAccount[a] || {}).total || 0; })));
    var svg = s("svg", { width: 520, height: shown.length * 22 + 8, role: "img", "aria-label": "findings by account", id: "chart-accounts" });
    shown.forEach(function (a, i) {
      var y = 4 + i * 22, x = 110, row = byAccount[a] || { total: 0 };
      svg.appendChild(s("text", { x: 0, y: y + 13, "font-size": 12 }, a));
      SEVERITIES.forEach(function (sv) {
        var n = row[sv] || 0; if (!n) return;
        var w = Math.max(1, Math.round(340 * n / max));
        svg.appendChild(s("rect", { x: x, y: y, width: w, height: 16, fill: COLORS[sv] }, s("title", {}, a + " " + sv + ": " + n)));
        x += w;
      });
      svg.appendChild(s("text", { x: x + 6, y: y + 13, "font-size": 12 }, String(row.total)));
    });
    var wrap = h("div", null, svg);
    if (list.length > shown.length) wrap.appendChild(h("div", { "class": "muted", text: plural(list.length - shown.length, "more account") + " (see the compliance tab and the findings filter)" }));
    return wrap;
  }

  // ---- findings --------------------------------------------------------------------------------
  var fEls = {};
  function findingsTab(el) {
    function select(name, label, values, labelOf) {
      var sel = h("select", { id: "filter-" + name, "aria-label": label }, h("option", { value: "", text: "any " + label }));
      values.forEach(function (v) { sel.appendChild(h("option", { value: v, text: labelOf ? labelOf(v) : v })); });
      sel.addEventListener("change", function () { state[name] = sel.value; state.page = 1; writeHash(); renderFindings(); });
      fEls[name] = sel; return sel;
    }
    var checkIds = Object.keys(checksSeen).sort();
    var q = h("input", { type: "search", id: "filter-q", placeholder: "text: message, key, alias…", size: 30 });
    var timer = null;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { state.q = q.value; state.page = 1; writeHash(); renderFindings(); }, 150); });
    fEls.q = q;
    var supp = h("input", { type: "checkbox", id: "filter-suppressed" });
    supp.addEventListener("change", function () { state.suppressed = supp.checked; state.page = 1; writeHash(); renderFindings(); });
    fEls.suppressed = supp;
    var filters = h("div", { "class": "filters" }, select("sev", "severity", SEVERITIES),
      select("check", "check", checkIds, function (c) { return c + (checkMeta[c] ? " " + checkMeta[c].name : ""); }),
      select("account", "account", Object.keys(accounts).sort()), select("region", "region", Object.keys(regions).sort()),
      D.baseline ? select("baseline", "baseline state", ["new", "existing"]) : null, q,
      h("label", null, supp, " include suppressed"));
    el.appendChild(h("div", { id: "key-detail", hidden: "hidden" }));
    el.appendChild(filters);
    el.appendChild(h("div", { "class": "pager", id: "pager" }));
    el.appendChild(h("table", { "class": "wide", id: "findings" }));
  }
  var COLUMNS = [["sev", "Severity"], ["check", "Check"], ["account", "Account"], ["region", "Region"], ["key", "Key"], ["msg", "Message"]];
  function sortValue(f, col) {
    switch (col) {
      case "sev": return RANK[f[F.sev]];
      case "check": return f[F.check];
      case "account": return f[F.account];
      case "region": return f[F.region];
      case "key": return f[F.label];
      default: return f[F.msg];
    }
  }
  function filtered() {
    var q = state.q.toLowerCase();
    var rows = D.findings.filter(function (f) {
      if (f[F.supp] && !state.suppressed) return false;
      if (state.sev && f[F.sev] !== state.sev) return false;
      if (state.check && f[F.check] !== state.check) return false;
      if (state.account && f[F.account] !== state.account) return false;
      if (state.region && f[F.region] !== state.region) return false;
      if (state.baseline && f[F.base] !== state.baseline) return false;
      if (q) {
        var k = f[F.key] >= 0 ? D.keys[f[F.key]] : null;
        var hay = (f[F.msg] + " " + f[F.label] + " " + f[F.check] + " " + (k ? k[K.arn] + " " + (k[K.desc] || "") : "")).toLowerCase();
        if (hay.indexOf(q) < 0) return false;
      }
      return true;
    });
    var col = state.sort, dir = state.dir === "asc" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = sortValue(a, col), y = sortValue(b, col);
      if (x < y) return -dir; if (x > y) return dir;
      x = RANK[a[F.sev]]; y = RANK[b[F.sev]]; if (x !== y) return y - x;
      return a[F.check] < b[F.check] ? -1 : a[F.check] > b[F.check] ? 1 : a[F.account] < b[F.account] ? -1 : a[F.account] > b[F.account] ? 1 : 0;
    });
    return rows;
  }
  function renderFindings() {
    ["sev", "check", "account", "region", "baseline", "q"].forEach(function (n) { if (fEls[n]) fEls[n].value = state[n]; });
    fEls.suppressed.checked = state.suppressed;
    var rows = filtered();
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    if (state.page > pages) state.page = pages;
    var start = (state.page - 1) * PAGE;
    var table = document.getElementById("findings");
    table.textContent = "";
    table.appendChild(h("tr", null, COLUMNS.map(function (c) {
      var cls = "sortable" + (state.sort === c[0] ? " sorted-" + state.dir : "");
      return h("th", { "class": cls, "data-sort": c[0], onclick: function () {
        if (state.sort === c[0]) state.dir = state.dir === "asc" ? "desc" : "asc"; else { state.sort = c[0]; state.dir = c[0] === "sev" ? "desc" : "asc"; }
        writeHash(); renderFindings();
      }, text: c[1] });
    })));
    rows.slice(start, start + PAGE).forEach(function (f) {
      var notes = [];
      if (f[F.base]) notes.push(h("span", { "class": "tag " + f[F.base], text: f[F.base] }));
      if (f[F.supp]) notes.push(h("span", { "class": "tag", text: "suppressed until " + f[F.supp][1] + ": " + f[F.supp][0] }));
      if (f[F.spec]) notes.push(h("span", { "class": "tag", text: "at " + f[F.spec] }));
      var tr = h("tr", { "class": "finding" + (f[F.supp] ? " suppressed" : ""), "data-check": f[F.check], "data-sev": f[F.sev], "data-account": f[F.account],
        onclick: function () { if (f[F.key] >= 0) { state.key = D.keys[f[F.key]][K.arn]; writeHash(); showKey(); } } },
        h("td", null, sevBadge(f[F.sev])), h("td", { text: f[F.check] }), h("td", { text: f[F.account] }), h("td", { text: f[F.region] }),
        h("td", { text: f[F.label] }), h("td", { "class": "msg" }, f[F.msg], notes.length ? h("div", null, notes) : null));
      table.appendChild(tr);
    });
    var pager = document.getElementById("pager");
    pager.textContent = "";
    function go(p) { return function () { state.page = p; writeHash(); renderFindings(); }; }
    pager.appendChild(h("span", null, h("span", { id: "shown", text: rows.length }), " of " + plural(D.findings.length, "finding") + " match"));
    pager.appendChild(h("button", { type: "button", disabled: state.page <= 1 ? "disabled" : null, onclick: go(state.page - 1), text: "‹ previous" }));
    pager.appendChild(h("span", { id: "page", text: "page " + state.page + " of " + pages }));
    pager.appendChild(h("button", { type: "button", disabled: state.page >= pages ? "disabled" : null, onclick: go(state.page + 1), text: "next ›" }));
  }

  // ---- key detail ------------------------------------------------------------------------------
  function showKey() {
    var box = document.getElementById("key-detail");
    box.textContent = "";
    if (!state.key) { box.hidden = true; return; }
    var i = keyByArn[state.key];
    box.hidden = false;
    if (i === undefined) { box.appendChild(h("p", { text: "Key not in this report: " + state.key })); return; }
    var k = D.keys[i];
    var close = h("button", { type: "button", onclick: function () { state.key = ""; writeHash(); showKey(); }, text: "close" });
    box.appendChild(h("h2", null, (k[K.aliases][0] || keyIdOf(k[K.arn])) + " ", close));
    var rot = k[K.rotation];
    var rotation = rot ? (rot[0] ? "enabled" + (rot[1] ? ", every " + rot[1] + " days" : "") + (rot[2] ? ", next " + rot[2] : "") : "disabled") : "not applicable or unknown";
    var mr = k[K.mr];
    var parts = k[K.arn].split(":");
    var kv = [["ARN", k[K.arn]], ["Account / region", parts[4] + " / " + parts[3]], ["Aliases", k[K.aliases].join(", ") || "none"], ["State", str(k[K.state])], ["Manager", str(k[K.manager])],
      ["Spec / usage", (str(k[K.spec]) || "?") + " / " + (str(k[K.usage]) || "?")], ["Origin", str(k[K.origin])], ["Custom key store", k[K.store]],
      ["Description", k[K.desc]], ["Created", k[K.created]], ["Deletion date", k[K.deletion]], ["Rotation", rotation],
      ["Multi-Region", mr ? mr.type + (mr.type === "PRIMARY" ? ", replicas: " + (mr.replica_arns.join(", ") || "none") : ", primary " + mr.primary_arn) : null],
      ["Not readable", k[K.unknown].length ? k[K.unknown].join(", ") + " (coverage gap)" : null]];
    var dl = h("dl", { "class": "kv", id: "key-fields" });
    kv.forEach(function (p) { if (p[1] === null || p[1] === undefined || p[1] === "") return; dl.appendChild(h("dt", { text: p[0] })); dl.appendChild(h("dd", { text: p[1] })); });
    box.appendChild(dl);
    var fs = (keyFindings[i] || []).map(function (n) { return D.findings[n]; });
    box.appendChild(h("h3", { text: "Findings (" + fs.length + ")" }));
    var offending = { idx: {}, sid: {} };
    if (fs.length) {
      var ft = h("table", { "class": "wide" }, h("tr", null, h("th", { text: "Severity" }), h("th", { text: "Check" }), h("th", { text: "Message" }), h("th", { text: "Remediation (details: JSON, SARIF)" })));
      fs.forEach(function (f) {
        f[F.st].forEach(function (v) { if (typeof v === "number") offending.idx[v] = 1; else offending.sid[v] = 1; });
        var meta = checkMeta[f[F.check]] || {};
        ft.appendChild(h("tr", null, h("td", null, sevBadge(f[F.sev])), h("td", { text: f[F.check] + (meta.name ? " " + meta.name : "") }),
          h("td", { "class": "msg", text: f[F.msg] + (f[F.supp] ? " (suppressed until " + f[F.supp][1] + ")" : "") }), h("td", { "class": "msg", text: meta.remediation || "" })));
      });
      box.appendChild(ft);
    }
    box.appendChild(h("h3", { text: "Tags" }));
    var tags = Object.keys(k[K.tags] || {});
    if (tags.length) {
      var tt = h("table", { id: "key-tags" }, h("tr", null, h("th", { text: "Key" }), h("th", { text: "Value" })));
      tags.forEach(function (t) { tt.appendChild(h("tr", null, h("td", { text: t }), h("td", { text: k[K.tags][t] }))); });
      box.appendChild(tt);
    } else box.appendChild(h("p", { "class": "muted", text: k[K.unknown].indexOf("tags") >= 0 ? "unknown (not readable)" : "none" }));
    box.appendChild(h("h3", { text: "Grants" }));
    var grants = k[K.grants];
    if (grants && grants.length) {
      var gt = h("table", { "class": "wide" }, h("tr", null, ["Grant", "Grantee", "Retiring", "Operations", "Constraints", "Created"].map(function (t) { return h("th", { text: t }); })));
      grants.forEach(function (g) {
        gt.appendChild(h("tr", null, h("td", { text: (g.name ? g.name + " " : "") + g.grant_id }), h("td", { text: g.grantee_principal || "" }),
          h("td", { text: g.retiring_principal || "" }), h("td", { text: g.operations.join(", ") }),
          h("td", { text: g.constraints ? JSON.stringify(g.constraints) : "" }), h("td", { text: g.creation_date || "" })));
      });
      box.appendChild(gt);
    } else box.appendChild(h("p", { "class": "muted", text: grants === null ? "not collected (AWS-managed key) or not readable" : "none" }));
    box.appendChild(accessView(i));
    box.appendChild(h("h3", { text: "Key policy" }));
    var policy = k[K.policy];
    if (policy === 0) box.appendChild(h("p", { "class": "muted", text: "Not embedded in this page to keep it small; the policy is in the JSON report." }));
    else if (policy === null) box.appendChild(h("p", { "class": "muted", text: "unknown (not readable)" }));
    else box.appendChild(policyView(policy, offending));
    box.scrollIntoView && box.scrollIntoView();
  }
  // Effective access: who can use, administer and delegate the key (src/report/html/access.rs).
  function accessView(i) {
    var A = D.access || { strings: [], reasons: [], rows: [], keys: [], unknown: [], not_evaluated: [] };
    var wrap = h("div", { id: "key-access" }, h("h3", { text: "Access" }));
    var rows = A.keys[i] && A.keys[i].map(function (n) { return A.rows[n]; });
    var S = function (n) { return n >= 0 ? A.strings[n] : ""; };
    if (!rows) {
      wrap.appendChild(h("p", { "class": "muted", text: A.keys.length ? "Not embedded in this page to keep it small: run kms-audit access " + D.keys[i][K.arn] + " --report SCAN.json" : "Not in this report." }));
      return wrap;
    }
    ["use", "administer", "delegate"].forEach(function (name, c) {
      var mine = rows.filter(function (r) { return r[0] === c; });
      wrap.appendChild(h("h4", { text: name + " (" + mine.length + ")" }));
      if (!mine.length) { wrap.appendChild(h("p", { "class": "muted", text: "nobody the analysis can see" })); return; }
      var t = h("table", { "class": "wide access", "data-class": name }, h("tr", null, ["Principal", "Through", "Actions", "Can"].map(function (x) { return h("th", { text: x }); })));
      mine.forEach(function (r) {
        t.appendChild(h("tr", null, h("td", { text: S(r[1]) }), h("td", { text: S(r[2]) }), h("td", { "class": "msg", text: S(r[3]) }),
          h("td", { "class": "msg", text: r[4] ? "yes" : "may: " + (A.reasons[r[5]] || []).map(S).join("; ") })));
      });
      wrap.appendChild(t);
    });
    var unknown = (A.unknown[i] || []).map(S);
    if (unknown.length) wrap.appendChild(h("p", { "class": "muted", text: "Not read, so the lists may be incomplete: " + unknown.join("; ") }));
    if (A.not_evaluated.length) wrap.appendChild(h("p", { "class": "muted", text: "Never evaluated: " + A.not_evaluated.join("; ") }));
    return wrap;
  }
  function policyView(policy, offending) {
    var wrap = h("div", { id: "key-policy" });
    if (typeof policy === "string") { try { policy = JSON.parse(policy); } catch (e) { wrap.appendChild(h("pre", { "class": "stmt", text: policy })); return wrap; } }
    var statements = policy && policy.Statement;
    if (!Array.isArray(statements)) statements = statements ? [statements] : [];
    var rest = {}; for (var f in policy) if (f !== "Statement") rest[f] = policy[f];
    wrap.appendChild(h("pre", { "class": "stmt", text: JSON.stringify(rest, null, 2) }));
    statements.forEach(function (st, n) {
      var bad = offending.idx[n] || (st && st.Sid && offending.sid[st.Sid]);
      wrap.appendChild(h("div", { "class": "stmt-label" + (bad ? " offending" : ""), text: "Statement[" + n + "]" + (st && st.Sid ? " \"" + st.Sid + "\"" : "") + (bad ? " — named by a finding" : "") }));
      wrap.appendChild(h("pre", { "class": "stmt" + (bad ? " offending" : ""), "data-statement": n, text: JSON.stringify(st, null, 2) }));
    });
    return wrap;
  }

  // ---- compliance ------------------------------------------------------------------------------
  function complianceTab(el) {
    var c = D.compliance;
    el.appendChild(h("p", { text: "A control passes only when every key in scope was evaluated and none failed; suppressed findings are accepted exceptions and do not fail it. Not evaluated: a region, account or key field could not be read, or no kms-audit check implements the control yet." }));
    c.frameworks.forEach(function (fw) {
      el.appendChild(h("h2", { text: fw.name }));
      var t = h("table", { "class": "wide compliance", "data-framework": fw.id }, h("tr", null, ["Control", "Status", "Accounts pass / fail / not eval.", "Keys", "Pass", "Fail", "Not eval.", "Findings", "Suppressed"].map(function (x) { return h("th", { text: x }); })));
      fw.controls.forEach(function (ctl) {
        var per = { pass: 0, fail: 0, not_evaluated: 0 };
        ctl.accounts.forEach(function (a) { per[a.status]++; });
        var details = h("details", null, h("summary", { text: "per account" }));
        var at = h("table", null, h("tr", null, ["Account", "Status", "Keys", "Pass", "Fail", "Not eval.", "Findings", "Why not evaluated"].map(function (x) { return h("th", { text: x }); })));
        ctl.accounts.forEach(function (a) {
          at.appendChild(h("tr", { "data-account": a.account }, h("td", { text: a.account }), h("td", null, h("span", { "class": "status " + a.status, text: a.status.replace("_", " ") })),
            h("td", { "class": "num", text: a.keys }), h("td", { "class": "num", text: a.passed }), h("td", { "class": "num", text: a.failed }),
            h("td", { "class": "num", text: a.not_evaluated }), h("td", { "class": "num", text: a.findings }), h("td", { text: a.reason || "" })));
        });
        details.appendChild(at);
        var tot = ctl.total;
        t.appendChild(h("tr", { "data-control": ctl.id, "data-status": ctl.status },
          h("td", null, h("strong", { text: ctl.id }), " " + ctl.title, h("div", { "class": "muted", text: ctl.checks.length ? "checks: " + ctl.checks.join(", ") : "no kms-audit check yet" }), details),
          h("td", null, h("span", { "class": "status " + ctl.status, text: ctl.status.replace("_", " ") }), tot.reason ? h("div", { "class": "muted", text: tot.reason }) : null),
          h("td", { text: per.pass + " / " + per.fail + " / " + per.not_evaluated }), h("td", { "class": "num", text: tot.keys }),
          h("td", { "class": "num", text: tot.passed }), h("td", { "class": "num", text: tot.failed }), h("td", { "class": "num", text: tot.not_evaluated }),
          h("td", { "class": "num", text: tot.findings }), h("td", { "class": "num", text: tot.suppressed })));
      });
      el.appendChild(t);
    });
  }

  // ---- coverage gaps, resolved -----------------------------------------------------------------
  function gapsTab(el) {
    if (!D.gaps.length && !failedTargets.length) { el.appendChild(h("p", { text: "No coverage gaps: everything listed was read." })); return; }
    el.appendChild(h("p", { "class": "banner incomplete", text: "These were NOT audited. Findings and compliance results do not cover them." }));
    var t = h("table", { "class": "wide", id: "gaps" }, h("tr", null, ["Account", "Region", "Key", "Operation", "Error", "Reason"].map(function (x) { return h("th", { text: x }); })));
    D.gaps.forEach(function (g) {
      t.appendChild(h("tr", null, h("td", { text: g.account }), h("td", { text: g.region || "(all regions)" }), h("td", { text: g.key_arn ? keyIdOf(g.key_arn) : "" }),
        h("td", { text: g.operation }), h("td", { text: g.error_code || "" }), h("td", { "class": "msg", text: g.reason })));
    });
    el.appendChild(t);
    if (failedTargets.length) {
      el.appendChild(h("h3", { text: "Account-regions that failed" }));
      var ft = h("table", null, h("tr", null, h("th", { text: "Account" }), h("th", { text: "Region" }), h("th", { text: "Reason" })));
      failedTargets.forEach(function (x) { ft.appendChild(h("tr", null, h("td", { text: x.account }), h("td", { text: x.region }), h("td", { text: x.reason || "" }))); });
      el.appendChild(ft);
    }
  }
  function resolvedTab(el) {
    el.appendChild(h("p", { text: "Findings of the baseline that this scan no longer raises." }));
    var t = h("table", { "class": "wide", id: "resolved" }, h("tr", null, ["Severity", "Check", "Account", "Region", "Key", "Message"].map(function (x) { return h("th", { text: x }); })));
    D.resolved.forEach(function (f) {
      t.appendChild(h("tr", null, h("td", null, sevBadge(f[F.sev])), h("td", { text: f[F.check] }), h("td", { text: f[F.account] }),
        h("td", { text: f[F.region] }), h("td", { text: f[F.label] }), h("td", { "class": "msg", text: f[F.msg] })));
    });
    el.appendChild(t);
  }

  // Tabs other than the overview and the findings are drawn the first time they are shown.
  var drawn = {};
  var drawTab = { compliance: complianceTab, gaps: gapsTab, resolved: resolvedTab };
  function show(initial) {
    if (drawTab[state.tab] && !drawn[state.tab]) { drawn[state.tab] = true; drawTab[state.tab](sections[state.tab]); }
    Object.keys(sections).forEach(function (name) { sections[name].classList.toggle("active", name === state.tab); });
    Array.prototype.forEach.call(nav.children, function (a) { a.classList.toggle("active", a.getAttribute("data-tab") === state.tab); });
    if (state.tab === "findings" && !initial) renderFindings();
    if (state.tab === "findings") showKey();
  }

  overview(sections.overview);
  findingsTab(sections.findings);
  readHash();
  if (!sections[state.tab]) state.tab = "overview";
  renderFindings();
  show(true);
  window.addEventListener("hashchange", function () { readHash(); if (!sections[state.tab]) state.tab = "overview"; show(); });
  document.body.setAttribute("data-ready", "1");
})();
