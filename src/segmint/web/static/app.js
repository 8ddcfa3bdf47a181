// The segmint web app: upload, check the columns, run, see and name the segments.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const ROLES = ["customer", "time", "amount", "quantity", "price", "order"];
  const state = { dataset: null, detected: null, job: null, run: null };

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const token = $("token") ? $("token").value.trim() : "";
    if (token) h["Authorization"] = "Bearer " + token;
    return h;
  }
  function showError(message) { $("error").textContent = message || ""; }
  async function api(path, options) {
    const opts = Object.assign({}, options || {});
    opts.headers = headers(opts.headers);
    const response = await fetch("/api/v1" + path, opts);
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      throw new Error(body && body.error ? body.error : "request failed (" + response.status + ")");
    }
    return body;
  }
  function post(path, data) {
    return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
  }
  function cell(tag, text) { const el = document.createElement(tag); el.textContent = text == null ? "" : String(text); return el; }
  function fillTable(table, columns, rows) {
    table.replaceChildren();
    const head = document.createElement("tr");
    columns.forEach((c) => head.appendChild(cell("th", c)));
    const thead = document.createElement("thead"); thead.appendChild(head); table.appendChild(thead);
    const tbody = document.createElement("tbody");
    rows.forEach((row) => {
      const tr = document.createElement("tr");
      row.forEach((value) => tr.appendChild(typeof value === "object" && value instanceof Node ? wrap(value) : cell("td", value)));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
  }
  function wrap(node) { const td = document.createElement("td"); td.appendChild(node); return td; }
  const fmt = (n) => Number(n).toLocaleString("en");

  // 1. upload
  $("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const file = $("file").files[0];
    if (!file) return;
    const form = new FormData(); form.append("file", file);
    $("upload-button").disabled = true;
    $("upload-status").textContent = "Uploading " + file.name + " …";
    try {
      const up = await api("/datasets", { method: "POST", body: form });
      $("upload-status").textContent = "Reading " + up.dataset.name + " and detecting the columns …";
      const info = await api("/datasets/" + up.dataset.id);
      state.dataset = info.dataset;
      showRoles(info.dataset);
      $("upload-status").textContent = "Uploaded " + info.dataset.name + ".";
    } catch (err) { showError(err.message); $("upload-status").textContent = ""; }
    finally { $("upload-button").disabled = false; }
  });

  // 2. roles
  function showRoles(ds) {
    const roles = ds.roles || {};
    state.detected = roles;
    $("dataset-facts").textContent = ds.name + ": " + fmt(ds.rows) + " rows, " + ds.columns.length +
      " columns" + (roles.kind ? "; looks like a " + (roles.kind === "transactions" ? "transaction log" : "customer table") : "") +
      (ds.roles_error ? " (" + ds.roles_error + ")" : "") + ".";
    $("role-kind").value = "auto";
    ROLES.forEach((role) => {
      const select = $("role-" + role);
      select.replaceChildren();
      const none = document.createElement("option"); none.value = ""; none.textContent = "(none)"; select.appendChild(none);
      ds.columns.forEach((c) => { const o = document.createElement("option"); o.value = c.name; o.textContent = c.name; select.appendChild(o); });
      select.value = roles[role] || "";
    });
    const names = ds.columns.map((c) => c.name);
    fillTable($("preview"), names, ds.preview.map((r) => names.map((n) => r[n])));
    fillTable($("columns"), ["column", "type", "missing", "distinct"], ds.columns.map((c) => [c.name, c.dtype, fmt(c.missing), fmt(c.distinct)]));
    $("roles-section").hidden = false;
    $("fit-section").hidden = false;
  }

  // HDBSCAN and DBSCAN find k themselves: k stays auto while one is chosen.
  $("algorithm").addEventListener("change", () => {
    const option = $("algorithm").selectedOptions[0];
    $("algorithm-help").textContent = option ? option.dataset.help : "";
    const chosen = $("algorithm").value;
    const findsK = chosen === "hdbscan" || chosen === "dbscan";
    if (findsK) $("k").value = "auto";
    $("k").disabled = findsK;
    $("k-note").textContent = findsK
      ? `${chosen.toUpperCase()} finds the number of segments itself.`
      : "";
  });

  // 3. fit with a live progress bar
  $("fit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    if (!state.dataset) return;
    const roles = {};
    ROLES.forEach((role) => { roles[role] = $("role-" + role).value || null; });
    const body = { dataset_id: state.dataset.id, input: $("role-kind").value, roles: roles,
                   k: $("k").value.trim() || "auto", algorithm: $("algorithm").value,
                   seed: Number($("seed").value || 0) };
    $("run-button").disabled = true;
    try {
      const started = await post("/fit", body);
      state.job = started.job.id;
      $("progress-box").hidden = false;
      $("cancel-button").hidden = false;
      poll();
    } catch (err) { showError(err.message); $("run-button").disabled = false; }
  });
  $("cancel-button").addEventListener("click", async () => {
    if (!state.job) return;
    try { await post("/jobs/" + state.job + "/cancel", {}); } catch (err) { showError(err.message); }
  });

  async function poll() {
    let job;
    try { job = (await api("/jobs/" + state.job)).job; } catch (err) { showError(err.message); return; }
    $("progress").value = job.progress;
    $("progress-status").textContent = job.status === "running" || job.status === "queued"
      ? (job.step || "starting") + " … (" + Math.round(job.elapsed_seconds) + " s)"
      : "";
    if (job.status === "running" || job.status === "queued") { setTimeout(poll, 500); return; }
    $("run-button").disabled = false;
    $("cancel-button").hidden = true;
    if (job.status === "done") {
      $("progress-status").textContent = "Done in " + Math.round(job.elapsed_seconds) + " s: " +
        job.result.k + " segments of " + fmt(job.result.n_customers) + " customers.";
      await showRun(job.result.run_id);
      await loadRuns();
    } else if (job.status === "cancelled") {
      $("progress-status").textContent = "Cancelled; nothing was changed.";
    } else {
      $("progress-status").textContent = "Failed.";
      showError(job.error ? job.error.error : "the job failed");
    }
  }

  // 4. segments
  async function showRun(runId) {
    const data = await api("/runs/" + runId);
    state.run = runId;
    const run = data.run;
    $("run-facts").textContent = runId + " (" + run.kind + "): " + fmt(run.n_customers) + " customers segmented, " +
      fmt(run.n_excluded) + " excluded (listed in excluded.csv).";
    const base = "/api/v1/runs/" + runId;
    $("download-segments").href = base + "/segments.csv";
    $("download-excluded").href = base + "/excluded.csv";
    $("download-profiles").href = base + "/profiles.csv";
    ["download-report", "open-report"].forEach((id) => { $(id).hidden = !data.report; $(id).href = base + "/report.html"; });
    $("report-frame").hidden = !data.report;
    if (data.report) $("report-frame").src = base + "/report.html";
    drawCards(data.segments);
    $("segments-section").hidden = false;
  }

  function drawCards(segments) {
    const cards = $("cards");
    cards.replaceChildren();
    segments.forEach((seg) => {
      const card = document.createElement("article");
      card.className = "card"; card.setAttribute("aria-labelledby", "seg-title-" + seg.id);
      const title = cell("h3", seg.id + " · " + seg.name); title.id = "seg-title-" + seg.id;
      card.appendChild(title);
      card.appendChild(cell("p", fmt(seg.size) + " customers (" + (100 * seg.share).toFixed(1) + "%)"));
      card.appendChild(cell("p", "Action: " + (seg.action || "")));
      const form = document.createElement("form");
      form.className = "rename";
      form.innerHTML = '<label for="name-' + seg.id + '">Name</label><input id="name-' + seg.id + '" required maxlength="120">' +
        '<label for="action-' + seg.id + '">Action</label><input id="action-' + seg.id + '" maxlength="500">' +
        '<button type="submit">Save name</button>';
      form.querySelector("#name-" + seg.id).value = seg.name;
      form.querySelector("#action-" + seg.id).value = seg.action || "";
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        showError("");
        const name = $("name-" + seg.id).value.trim();
        const action = $("action-" + seg.id).value.trim();
        try {
          await api("/segments/" + seg.id, { method: "PATCH", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ name: name, action: action || null }) });
          await showRun(state.run);
        } catch (err) { showError(err.message); }
      });
      card.appendChild(form);
      cards.appendChild(card);
    });
    if (window.Plotly) {
      window.Plotly.react("sizes-chart", [{ type: "bar", x: segments.map((s) => s.id + " " + s.name),
        y: segments.map((s) => s.size), marker: { color: "#0b5fff" } }],
        { margin: { t: 10, r: 10, b: 60, l: 60 }, yaxis: { title: { text: "customers" } } },
        { displayModeBar: false, responsive: true });
    }
  }

  // past runs and migration
  async function loadRuns() {
    let data;
    try { data = await api("/runs"); } catch (err) { showError(err.message); return; }
    const rows = data.runs.slice().reverse().map((r) => {
      const show = document.createElement("button"); show.type = "button"; show.className = "secondary";
      show.textContent = "Show segments"; show.addEventListener("click", () => showRun(r.run_id).catch((e) => showError(e.message)));
      const migrate = document.createElement("button"); migrate.type = "button"; migrate.className = "secondary";
      migrate.textContent = "Migration"; migrate.disabled = !r.previous_run;
      migrate.addEventListener("click", () => showMigration(r.previous_run, r.run_id));
      const buttons = document.createElement("span"); buttons.append(show, " ", migrate);
      return [r.run_id, r.kind, r.created, r.source, fmt(r.n_customers), fmt(r.n_excluded), r.promoted ? "yes" : "no", buttons];
    });
    fillTable($("runs"), ["run", "kind", "when (UTC)", "data", "customers", "excluded", "served", ""], rows);
    // two runs or more: choose any two (default: the last two) and see who moved where
    const ids = data.runs.map((r) => r.run_id);
    ["migration-from", "migration-to"].forEach((id, i) => {
      const select = $(id);
      select.replaceChildren();
      ids.forEach((runId) => { const o = document.createElement("option"); o.value = runId; o.textContent = runId; select.appendChild(o); });
      select.value = ids[ids.length - 2 + i] || "";
    });
    $("migration-box").hidden = ids.length < 2;
  }
  $("migration-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showMigration($("migration-from").value, $("migration-to").value);
  });
  async function showMigration(fromRun, toRun) {
    showError("");
    try {
      $("migration-from").value = fromRun; $("migration-to").value = toRun;
      const query = "?from=" + encodeURIComponent(fromRun);
      const data = await api("/runs/" + toRun + "/migration" + query);
      const m = data.migration;
      const page = "/api/v1/runs/" + toRun + "/migration.html" + query;
      $("open-migration").href = page;
      $("migration-frame").src = page;
      $("migration-facts").textContent = "From " + data.from_run + " to " + data.to_run + ": " +
        fmt(m.n_both) + " customers in both runs, " + fmt(m.n_moved) + " moved, " + fmt(m.n_new) +
        " new, " + fmt(m.n_gone) + " gone.";
      const to = Object.keys(m.names_after);
      const columns = ["from \\ to"].concat(to.map((j) => j + " " + m.names_after[j]), ["(gone)"]);
      const rows = Object.keys(m.counts).map((i) => [i + " " + (m.names_before[i] || "")]
        .concat(to.map((j) => fmt((m.counts[i] || {})[j] || 0)), [fmt(m.gone_by_segment[i] || 0)]));
      rows.push(["(new customers)"].concat(to.map((j) => fmt(m.new_by_segment[j] || 0)), [""]));
      fillTable($("migration"), columns, rows);
      $("migration-result").hidden = false;
    } catch (err) { showError(err.message); }
  }
  loadRuns();
})();
