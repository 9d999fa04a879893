// DOM views: the patient header, the assessment summary and the accessible data tables.
import { crabAt, responseColour } from "./chart.js";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data")) node.setAttribute(k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`), String(v));
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const num = (v) => (v === null || v === undefined ? "" : Number(v).toLocaleString("en-GB", { maximumFractionDigits: 2 }));

const STATUS_TEXT = {
  clinical: "Clinical relapse",
  biochemical: "Biochemical relapse",
  suspected: "Suspected relapse (repeat to confirm)",
  none: "No relapse criterion met",
  unknown: "Relapse status unknown",
};

export function renderHeader(node, data) {
  const p = data.patient || {};
  node.replaceChildren(
    el("h1", {}, "Relapse timeline"),
    el(
      "p",
      { class: "patient" },
      el("strong", {}, p.name || "Unnamed patient"),
      p.birthDate ? ` · born ${p.birthDate}` : "",
      p.gender ? ` · ${p.gender}` : "",
      ` · as of ${data.asOf}`,
    ),
  );
}

/** How old the latest marker result is: a banner, prominent when the data are aging or stale. */
export function renderDataAge(node, data) {
  const age = data.dataAge || {};
  const freshness = age.freshness || "none";
  node.className = `data-age data-age-${freshness}`;
  node.dataset.freshness = freshness;
  node.dataset.latest = age.latestMarkerDate || "";
  node.setAttribute("role", freshness === "stale" || freshness === "aging" ? "alert" : "status");
  node.replaceChildren(
    el("strong", {}, { fresh: "Data: recent", aging: "Data ageing", stale: "Data out of date", none: "No marker data" }[freshness] || freshness),
    " · ",
    age.text || "",
  );
  node.hidden = false;
}

/** The response to each line, one row per line (the chart draws the same as bands). */
function responseTable(data) {
  const rows = data.responses || [];
  if (!rows.length) return null;
  return el(
    "table",
    { id: "response-table", class: "data" },
    el("caption", {}, "Response to each line (IMWG 2016)"),
    el("thead", {}, el("tr", {}, ["Line", "From – to", "Best response", "Reached", "Duration", "Progression", "Treats relapse of"].map((h) => el("th", { scope: "col" }, h)))),
    el(
      "tbody",
      {},
      rows.map((r) =>
        el("tr", { dataLine: r.line, dataBestResponse: r.bestResponse },
          el("th", { scope: "row" }, `L${r.line}`),
          el("td", {}, `${r.lineStart} – ${r.lineEnd || "now"}`),
          el("td", {}, el("span", { class: "swatch", style: `background:${responseColour(r.bestResponse)}` }), r.bestResponse),
          el("td", {}, r.start || "—"),
          el("td", {}, r.durationMonths === null || r.durationMonths === undefined ? "—" : `${num(r.durationMonths)} months`),
          el("td", {}, r.progressed ? "yes" : "no"),
          el("td", {}, r.treats || "—"),
        ),
      ),
    ),
  );
}

function riskLine(a) {
  const risk = a.risk || {};
  const fit = a.fitness || {};
  const parts = [
    `ISS ${risk.iss || "unknown"}`,
    `R-ISS ${risk.riss || "unknown"}`,
    (risk.highRiskCytogenetics || []).length ? `high-risk FISH: ${risk.highRiskCytogenetics.join(", ")}` : null,
    fit.age !== null && fit.age !== undefined ? `age ${fit.age}` : null,
    fit.ecog !== null && fit.ecog !== undefined ? `ECOG ${fit.ecog}` : null,
    fit.frailty ? `fitness: ${fit.frailty}` : null,
    `prior lines: ${a.priorLines ?? "unknown"}`,
  ].filter(Boolean);
  return el("p", { id: "risk" }, parts.join(" · "));
}

function section(title, ...content) {
  return el("section", {}, el("h3", {}, title), ...content);
}

export function renderSummary(node, data) {
  const a = data.assessment || {};
  const relapse = a.relapse || {};
  const status = relapse.status || "unknown";
  const relapseEvent = data.events.find((e) => e.kind === "relapse");
  const drugs = Object.entries(a.drugs || {});
  const refractory = drugs.filter(([, d]) => d.refractory);
  const refractoryClasses = [...new Set(refractory.map(([, d]) => d.class))];
  const parts = [
    el("h2", {}, "Assessment"),
    el("p", { class: `status status-${status}`, id: "relapse-status", dataStatus: status }, STATUS_TEXT[status] || status),
    relapse.date
      ? el(
          "p",
          { id: "relapse-detail" },
          `First met on ${relapse.date}: `,
          (relapseEvent ? relapseEvent.criteriaText : relapse.criteria || []).join("; "),
          relapse.significantParaproteinRelapse ? " · significant paraprotein relapse" : "",
        )
      : null,
    el("p", {}, "CRAB features: ", (relapse.crabFeatures || []).length ? relapse.crabFeatures.join(", ") : "none recorded"),
    (data.responses || []).length
      ? section(
          "Response to each line",
          el("ul", { class: "responses", id: "responses" },
            data.responses.map((r) => el("li", { dataLine: r.line, dataBestResponse: r.bestResponse }, r.label))),
        )
      : null,
    riskLine(a),
    section(
      "Refractoriness",
      el("p", { id: "refractory-category", dataCategory: a.refractoryCategory || "" },
        `Category: ${a.refractoryCategory || "unknown"}`,
        refractoryClasses.length ? ` (${refractoryClasses.join(", ")})` : "",
        a.tripleClassExposed ? " · triple-class exposed" : "",
      ),
      drugs.length
        ? el(
            "ul",
            { class: "drugs" },
            drugs.map(([name, d]) =>
              el("li", { dataDrug: name, dataRefractory: d.refractory },
                el("strong", {}, name), ` (${d.class}) `,
                d.refractory ? el("span", { class: "tag tag-refractory" }, "refractory") : el("span", { class: "tag" }, d.active ? "on treatment" : "exposed"),
                d.monthsOnDrug !== null && d.monthsOnDrug !== undefined ? ` · ${num(d.monthsOnDrug)} mo on drug` : "",
                d.monthsSinceLastDose !== null && d.monthsSinceLastDose !== undefined ? ` · last dose ${num(d.monthsSinceLastDose)} mo ago` : "",
                d.retreatmentSignal ? el("span", { class: "tag tag-retreat" }, "retreatment signal") : "",
              ),
            ),
          )
        : el("p", {}, "No anti-myeloma drug exposure recorded."),
    ),
    section(
      "Timing and strategy",
      el("p", { id: "timing", dataTiming: a.timing || "none" },
        { "treat-now": "Treat now", confirm: "Repeat the test to confirm", none: "No treatment advice" }[a.timing || "none"] || a.timing),
      el("p", { id: "strategy", dataStrategy: a.strategy || "none" },
        { "retreat-same-class": "Retreat within the same class", "switch-class": "Switch drug class", "novel-mechanism": "Novel mechanism of action", none: "—" }[a.strategy || "none"] || a.strategy),
      (a.regimens || []).length
        ? el("ol", { class: "regimens", id: "regimens" },
            a.regimens.map((r) =>
              el("li", { dataRegimen: r.code },
                el("strong", {}, r.code), ` — ${r.drugs.join(", ")}`,
                r.evidence && r.evidence.length ? el("span", { class: "evidence" }, ` [${r.evidence.join(", ")}]`) : "",
                r.cautions && r.cautions.length ? el("div", { class: "cautions" }, `cautions: ${r.cautions.join(", ")}`) : "",
                r.warning ? el("div", { class: "warning" }, `⚠ ${r.warning}`) : "",
              ),
            ),
          )
        : null,
    ),
    (data.dataGaps || []).length
      ? section("Data gaps", el("ul", { class: "gaps", id: "data-gaps" }, data.dataGaps.map((g) => el("li", {}, g))))
      : null,
    el("p", { class: "advisory" }, "Advisory only: the clinician decides. Criteria: IMWG 2016; strategy: Vijjalwar et al. 2025."),
  ];
  node.replaceChildren(...parts.filter((p) => p !== null && p !== undefined)); // replaceChildren(null) would print "null"
}

/** One row per date with every marker, CRAB value and event of that date. */
export function renderTables(node, data) {
  const dates = new Set();
  for (const s of [...data.series, ...data.crab]) for (const p of s.points) dates.add(p.date);
  for (const e of data.events) dates.add(e.date);
  const sorted = [...dates].sort();
  const cols = [...data.series, ...data.crab];
  const cell = (s, date) => {
    const p = s.points.find((x) => x.date === date);
    return el("td", { dataSeries: s.key, dataValue: p ? p.value : null }, p ? `${p.comparator || ""}${num(p.value)}` : "");
  };
  const markers = el(
    "table",
    { id: "timeline-table", class: "data" },
    el("caption", {}, "Disease markers, CRAB values and events by date"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Date"), cols.map((s) => el("th", { scope: "col" }, `${s.label} (${s.unit})`)), el("th", { scope: "col" }, "Event"))),
    el(
      "tbody",
      {},
      sorted.map((date) => {
        const evs = data.events.filter((e) => e.date === date);
        return el("tr", { dataDate: date },
          el("th", { scope: "row" }, date),
          cols.map((s) => cell(s, date)),
          el("td", { class: "event", dataEvents: evs.map((e) => e.kind).join(" ") }, evs.map((e) => e.label).join("; ")),
        );
      }),
    ),
  );
  const therapy = el(
    "table",
    { id: "therapy-table", class: "data" },
    el("caption", {}, "Lines of therapy"),
    el("thead", {}, el("tr", {}, ["Line", "Drug", "Class", "Start", "Stop"].map((h) => el("th", { scope: "col" }, h)))),
    el(
      "tbody",
      {},
      data.therapy.flatMap((t) =>
        t.periods.map((p) =>
          el("tr", { dataDrug: t.drug, dataStart: p.start, dataEnd: p.end },
            el("td", {}, t.line ?? ""), el("th", { scope: "row" }, t.drug), el("td", {}, t.class),
            el("td", {}, p.start || "unknown"), el("td", {}, p.end || (p.active ? "ongoing" : "unknown")),
          ),
        ),
      ),
    ),
  );
  node.replaceChildren(...[markers, responseTable(data), therapy].filter(Boolean));
}

/** Nadir and relapse markers as a list a screen reader (and the browser test) can read. */
export function renderEventList(node, data) {
  node.replaceChildren(
    ...data.events.map((e) =>
      el("li", { dataMarker: e.kind, dataDate: e.date, dataValue: e.value, dataSeries: e.series, dataCriteria: (e.criteria || []).join(" ") },
        el("span", { class: `dot dot-${e.kind}` }), e.label),
    ),
  );
}

export { crabAt };
