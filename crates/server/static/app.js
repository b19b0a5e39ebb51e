// vitalcore web application: draws areas from the server's GeoJSON into an
// SVG (no map tiles, no external library) and shows an area's profile.
"use strict";

const $ = (id) => document.getElementById(id);
const BANDS = [[0, "#fff5d6"], [2, "#fdd49e"], [3.5, "#fc8d59"], [5, "#e34a33"], [6.5, "#9e0000"]];
let labels = {};
let selected = null;

function colour(score) {
  let c = BANDS[0][1];
  for (const [min, col] of BANDS) if (score >= min) c = col;
  return c;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));
}

function query() {
  const p = new URLSearchParams({ unit: $("unit").value });
  if ($("from").value) p.set("from", $("from").value);
  if ($("to").value) p.set("to", $("to").value);
  if ($("category").value) p.set("category", $("category").value);
  return p;
}

async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function init() {
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  const fw = await getJSON("/api/v1/framework");
  const sel = $("category");
  for (const group of [["Dimensions", fw.dimensions], ["Protection themes", fw.themes]]) {
    const og = document.createElement("optgroup");
    og.label = group[0];
    for (const d of group[1]) {
      labels[d.id] = d.labels.en;
      const o = document.createElement("option");
      o.value = d.id;
      o.textContent = d.labels.en;
      og.appendChild(o);
    }
    sel.appendChild(og);
  }
  // Colours are set through the DOM, not in markup: the Content-Security-Policy refuses inline styles.
  BANDS.forEach(([min, col], i) => {
    const span = document.createElement("span");
    span.style.background = col;
    if (i >= 3) span.style.color = "#fff";
    span.textContent = `${min}${i + 1 < BANDS.length ? "–" + BANDS[i + 1][0] : "–10"}`;
    $("legend").appendChild(span);
  });
  for (const id of ["unit", "category", "measure", "from", "to"]) $(id).addEventListener("change", refresh);
  await refresh();
}

function project(features) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const rings = (g) => g.type === "Polygon" ? g.coordinates : g.type === "MultiPolygon" ? g.coordinates.flat() : [];
  for (const f of features) if (f.geometry) for (const ring of rings(f.geometry)) for (const [x, y] of ring) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  const k = Math.cos(((minY + maxY) / 2) * Math.PI / 180); // equirectangular, true at mid-latitude
  const w = 1000, h = 1000 * (maxY - minY) / Math.max((maxX - minX) * k, 1e-9);
  const sx = (x) => ((x - minX) * k / Math.max((maxX - minX) * k, 1e-9)) * w;
  const sy = (y) => ((maxY - y) / Math.max(maxY - minY, 1e-9)) * h;
  const path = (g) => rings(g).map((ring) => "M" + ring.map(([x, y]) => sx(x).toFixed(1) + "," + sy(y).toFixed(1)).join("L") + "Z").join("");
  return { w, h, path };
}

async function refresh() {
  $("status").textContent = "Loading…";
  try {
    const fc = await getJSON("/api/v1/boundaries?" + query());
    if (!$("from").value && fc.from) $("from").value = fc.from;
    if (!$("to").value && fc.to) $("to").value = fc.to;
    drawMap(fc);
    drawTable(fc);
    const n = fc.features.filter((f) => f.properties.events > 0).length;
    $("status").textContent = `${fc.features.length} areas, ${n} with events, ${fc.from} to ${fc.to}.`;
    if (selected) showProfile(selected);
  } catch (e) {
    $("status").textContent = "Could not load the map: " + e.message;
  }
}

function drawMap(fc) {
  const measure = $("measure").value;
  const shapes = fc.features.filter((f) => f.geometry);
  const svg = $("map");
  if (!shapes.length) { svg.innerHTML = ""; return; }
  const { w, h, path } = project(shapes);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.innerHTML = shapes.map((f) => {
    const p = f.properties;
    const title = `${p.name}: ${measure} ${p[measure].toFixed(1)}, ${p.events} events, ${p.fatalities} deaths`;
    return `<path data-id="${esc(p.id)}" d="${path(f.geometry)}" fill="${colour(p[measure])}"><title>${esc(title)}</title></path>`;
  }).join("");
  for (const el of svg.querySelectorAll("path")) el.addEventListener("click", () => showProfile(el.dataset.id));
}

function drawTable(fc) {
  const rows = fc.features.slice().sort((a, b) => b.properties.critical + b.properties.pervasive - a.properties.critical - a.properties.pervasive);
  $("areas").tBodies[0].innerHTML = rows.map(({ properties: p }) => `<tr data-id="${esc(p.id)}">
    <td>${esc(p.name)}</td><td class="num">${p.events}</td><td class="num">${p.fatalities}</td>
    <td>${esc(labels[p.category] || p.category || "")}</td>
    <td class="num">${p.critical.toFixed(1)}</td><td class="num">${p.pervasive.toFixed(1)}</td></tr>`).join("");
  for (const tr of $("areas").tBodies[0].rows) tr.addEventListener("click", () => showProfile(tr.dataset.id));
}

function sparkline(trend) {
  const max = Math.max(1, ...trend.map((t) => t.events));
  const w = 160, h = 28, step = w / Math.max(trend.length - 1, 1);
  const pts = trend.map((t, i) => `${(i * step).toFixed(1)},${(h - (t.events / max) * h).toFixed(1)}`).join(" ");
  return `<svg width="${w}" height="${h}" aria-hidden="true"><polyline fill="none" stroke="#12344d" stroke-width="1.5" points="${pts}"/></svg>`;
}

async function showProfile(id) {
  selected = id;
  for (const el of document.querySelectorAll("#map path")) el.classList.toggle("selected", el.dataset.id === id);
  try {
    const p = await getJSON(`/api/v1/areas/${encodeURIComponent(id)}/profile?` + query());
    const rows = (list) => list.map((d) => `<tr>
      <td>${esc(d.label)}${d.total.priority ? ' <span class="priority" title="critical and pervasive">priority</span>' : ""}</td>
      <td class="num">${d.total.events}</td><td class="num">${d.total.fatalities}</td>
      <td><span class="bar" data-width="${d.total.critical * 6}"></span> ${d.total.critical.toFixed(1)}</td>
      <td><span class="bar p" data-width="${d.total.pervasive * 6}"></span> ${d.total.pervasive.toFixed(1)}</td>
      <td>${sparkline(d.trend)}</td></tr>`).join("");
    $("profile").innerHTML = `<h2>${esc(p.name)} <small>${esc(p.unit_id)}</small></h2>
      <p>${p.from} to ${p.to}: ${p.events} events, ${p.fatalities} deaths, ${p.civilian_fatalities} civilians killed.
      Sources: ${p.sources.map(([s, n]) => `${esc(s)} ${n}`).join(", ")}.</p>
      <table><thead><tr><th>Dimension</th><th>Events</th><th>Deaths</th><th>Critical</th><th>Pervasive</th><th>Monthly events</th></tr></thead>
      <tbody>${rows(p.dimensions)}</tbody></table>
      <h3>Protection themes</h3>
      <table><tbody>${rows(p.themes) || "<tr><td>None recorded</td></tr>"}</tbody></table>
      <h3>Threats that move together</h3>
      ${p.links.length ? `<ul>${p.links.map((l) => `<li>${esc(labels[l.from] || l.from)} ${l.lag ? `→ ${esc(labels[l.to] || l.to)} ${l.lag} month${l.lag > 1 ? "s" : ""} later` : `with ${esc(labels[l.to] || l.to)}, same month`}
        (r = ${l.strength.toFixed(2)}, q = ${l.q_value.toFixed(3)})</li>`).join("")}</ul>`
        : "<p class=\"hint\">No significant link at a 10% false-discovery rate.</p>"}`;
    for (const bar of $("profile").querySelectorAll(".bar[data-width]")) bar.style.width = `${bar.dataset.width}px`;
    const outlookHtml = await outlook(id);
    if (selected === id) $("profile").insertAdjacentHTML("beforeend", outlookHtml);
  } catch (e) {
    $("profile").innerHTML = `<p>No profile for this area in the period: ${esc(e.message)}</p>`;
  }
}

// The stored forecast for the coming months (P(any death), mean and the
// 5-95% range of the forecast distribution, the backtest skill of the model)
// and the area's open early warnings. Written by `vitalcore warnings run`.
async function outlook(id) {
  const area = encodeURIComponent(id);
  let html = "<h3>Outlook</h3>";
  try {
    const f = await getJSON(`/api/v1/forecasts?unit=${encodeURIComponent($("unit").value)}&area=${area}`);
    const fmt = (v) => (v == null ? "–" : v < 10 ? v.toFixed(1) : v.toFixed(0));
    const skill = f.model_skill || {};
    const crps = Object.keys(skill).sort().map((h) => `${esc(h)} ${skill[h].crps.toFixed(3)}`).join(", ");
    html += f.rows.length ? `<table><thead><tr><th>Month</th><th>P(any death)</th><th>Expected deaths</th><th>5–95% range</th></tr></thead><tbody>
      ${f.rows.map((r) => `<tr><td>${esc(r.month)}</td><td class="num">${(100 * r.p_any).toFixed(0)}%</td>
        <td class="num">${fmt(r.mean)}</td><td class="num">${fmt(r.q05)}–${fmt(r.q95)}</td></tr>`).join("")}</tbody></table>
      <p class="hint">Model ${esc(f.run.model)} from data to ${esc(f.run.origin)}; backtest CRPS ${crps || "not measured"} (lower is better).</p>`
      : "<p class=\"hint\">No forecast for this area.</p>";
  } catch (e) {
    html += `<p class="hint">No forecast stored: ${esc(e.message)}</p>`;
  }
  try {
    const w = await getJSON(`/api/v1/warnings?open=true&area=${area}`);
    html += w.warnings.length ? `<h3>Open early warnings</h3><ul>${w.warnings.map((x) => `<li><strong>${esc(x.kind)}</strong> ${esc(x.month)}: ${esc(x.reason)} (${esc(x.status)})</li>`).join("")}</ul>`
      : "<p class=\"hint\">No open early warning.</p>";
  } catch (e) {
    html += `<p class="hint">Early warnings unavailable: ${esc(e.message)}</p>`;
  }
  return html;
}

init().catch((e) => { $("status").textContent = "Could not start: " + e.message; });
