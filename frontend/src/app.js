// Entry for /app/: finish the SMART launch, read the patient's records with the granted token,
// ask the service's own model for the timeline (nadir, relapse and its criterion, lines of
// therapy: never recomputed here) and draw it.
import { completeLaunch, LaunchError, resumeLaunch } from "./smart.js";
import { readPatientBundle } from "./fhir.js";
import { pageConfig, showError } from "./config.js";
import { renderMarkerChart, renderSwimlane } from "./chart.js";
import { renderHeader, renderDataAge, renderSummary, renderTables, renderEventList } from "./views.js";

const state = { data: null, markerChart: null, swimlane: null, scale: "linear" };
// Read by the browser test and handy in devtools; holds no token.
window.timelineApp = state;

function setStatus(text) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.hidden = !text;
}

// The service checks the SMART token with the launch's FHIR server before assessing
// (cds_service/security/smart_token.py): it sends it nowhere else.
async function fetchTimeline(url, bundle, session) {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/fhir+json",
      Accept: "application/json",
      Authorization: `Bearer ${session.accessToken}`,
      "X-FHIR-Server": session.iss,
      "X-FHIR-Patient": session.patient,
    },
    body: JSON.stringify(bundle),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const why = body && body.issue ? body.issue.map((i) => i.diagnostics).join("; ") : `HTTP ${res.status}`;
    throw new LaunchError(`The service could not assess these records: ${why}`);
  }
  return body;
}

// The data-age banner sits right under the header, where it cannot be missed.
function dataAgeNode() {
  let node = document.getElementById("data-age");
  if (!node) {
    node = document.createElement("p");
    node.id = "data-age";
    document.getElementById("header").after(node);
  }
  return node;
}

function drawCharts() {
  if (state.markerChart) state.markerChart.destroy();
  state.markerChart = renderMarkerChart(document.getElementById("marker-chart"), state.data, state.scale);
  document.getElementById("chart-panel").dataset.scale = state.scale;
}

function wireScaleToggle() {
  for (const input of document.querySelectorAll("input[name=scale]")) {
    input.addEventListener("change", () => {
      state.scale = input.value;
      drawCharts();
    });
  }
}

async function main() {
  const conf = pageConfig();
  // A redirect from the authorization server, else a reload of this tab's earlier launch.
  const session = (await completeLaunch(window.location.search)) || resumeLaunch();
  if (!session) {
    showError("Not launched: open this app from the EHR (SMART launch), or start a standalone launch at /app/launch?iss=<FHIR base URL>.");
    return;
  }
  setStatus("Reading the patient's records…");
  const { bundle, gaps } = await readPatientBundle(session);
  setStatus("Assessing…");
  const url = new URL(conf.timelineUrl);
  if (session.appParams.asOf) url.searchParams.set("asOf", session.appParams.asOf);
  const data = await fetchTimeline(url.toString(), bundle, session);
  data.dataGaps = [...gaps, ...(data.dataGaps || [])];
  state.data = data;
  renderHeader(document.getElementById("header"), data);
  renderDataAge(dataAgeNode(), data);
  renderSummary(document.getElementById("summary"), data);
  renderEventList(document.getElementById("events"), data);
  renderTables(document.getElementById("tables"), data);
  document.getElementById("swimlane-box").style.height = `${70 + 30 * Math.max(1, data.therapy.length)}px`;
  drawCharts();
  state.swimlane = renderSwimlane(document.getElementById("swimlane"), data);
  wireScaleToggle();
  document.getElementById("main").hidden = false;
  setStatus("");
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  showError(e instanceof LaunchError ? e.message : `The timeline could not be shown: ${e.message}`);
  document.body.dataset.ready = "error";
});
