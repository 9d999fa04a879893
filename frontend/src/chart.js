// The marker chart (serum M-protein, involved FLC, dFLC) and the therapy swimlane under it,
// both on one time axis. Chart.js and its date adapter are bundled from node_modules.
import {
  Chart,
  LineController,
  BarController,
  ScatterController,
  LineElement,
  PointElement,
  BarElement,
  LinearScale,
  LogarithmicScale,
  TimeScale,
  CategoryScale,
  Tooltip,
  Legend,
} from "chart.js";
import "chartjs-adapter-date-fns";
import { enGB } from "date-fns/locale";

Chart.register(
  LineController, BarController, ScatterController, LineElement, PointElement, BarElement,
  LinearScale, LogarithmicScale, TimeScale, CategoryScale, Tooltip, Legend,
);

const COLOURS = {
  serumMProtein: "#1f4e9c",
  involvedFlc: "#c2571a",
  dFlc: "#7b3fa0",
  nadir: "#1b7f3b",
  relapse: "#c62828",
  transplant: "#555",
};
const LEFT_AXIS_WIDTH = 150;
const RIGHT_AXIS_WIDTH = 78;
const DAY_MS = 24 * 3600 * 1000;
const MIN_BAR_DAYS = 12; // a one-day course (melphalan) must still be visible

const ts = (isoDate) => new Date(`${isoDate}T00:00:00`).getTime();
export const fmtDate = (isoDate) => (isoDate ? isoDate : "—");
const fmtNum = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("en-GB", { maximumFractionDigits: 2 }));

/** Latest CRAB value on or before `isoDate` for each CRAB series ("on hover"). */
export function crabAt(crab, isoDate) {
  return crab.map((s) => {
    let best = null;
    for (const p of s.points) if (p.date <= isoDate && (!best || p.date >= best.date)) best = p;
    return { label: s.label, unit: s.unit, point: best };
  });
}

function timeRange(data) {
  const dates = [];
  for (const s of data.series) for (const p of s.points) dates.push(ts(p.date));
  for (const t of data.therapy) for (const p of t.periods) {
    if (p.start) dates.push(ts(p.start));
    if (p.end) dates.push(ts(p.end));
  }
  if (data.asOf) dates.push(ts(data.asOf));
  if (!dates.length) return { min: undefined, max: undefined };
  const min = Math.min(...dates);
  const max = Math.max(...dates);
  const pad = Math.max((max - min) * 0.03, 30 * DAY_MS);
  return { min: min - pad, max: max + pad };
}

// Vertical lines for nadir/relapse/transplant events, drawn on both charts so they line up.
const eventLines = {
  id: "eventLines",
  afterDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea, scales } = chart;
    const x = scales.x;
    for (const ev of opts.events || []) {
      const px = x.getPixelForValue(ts(ev.date));
      if (px < chartArea.left || px > chartArea.right) continue;
      ctx.save();
      ctx.strokeStyle = COLOURS[ev.kind] || "#333";
      ctx.lineWidth = ev.kind === "relapse" ? 2 : 1.5;
      ctx.setLineDash(ev.kind === "relapse" ? [6, 4] : [2, 3]);
      ctx.beginPath();
      ctx.moveTo(px, chartArea.top);
      ctx.lineTo(px, chartArea.bottom);
      ctx.stroke();
      if (opts.labels) {
        ctx.setLineDash([]);
        ctx.fillStyle = COLOURS[ev.kind] || "#333";
        ctx.font = "600 12px system-ui, sans-serif";
        const text = ev.short || ev.kind;
        const w = ctx.measureText(text).width;
        const left = px + 4 + w > chartArea.right ? px - 4 - w : px + 4;
        ctx.fillText(text, left, chartArea.top + 12 + (ev.kind === "nadir" ? 16 : 0));
      }
      ctx.restore();
    }
  },
};

// The response to each line: a band under the top of the marker chart from the best
// response's date to its end (progression, the line's end or today), labelled "L1 VGPR · 40.2 mo".
// The drawn bands are kept on the chart (chart.$responseBands) for the browser test.
const RESPONSE_COLOURS = { CR: "#1b7f3b", VGPR: "#43a047", PR: "#7cb342", MR: "#c0ca33", SD: "#9e9e9e" };
export const responseColour = (best) => RESPONSE_COLOURS[best] || "#b0bec5";
const responseBands = {
  id: "responseBands",
  beforeDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea, scales } = chart;
    const x = scales.x;
    const drawn = [];
    const bandTop = chartArea.top + 34;
    const height = 18;
    for (const band of opts.bands || []) {
      if (!band.start || !band.end) continue;
      const left = Math.max(chartArea.left, x.getPixelForValue(ts(band.start)));
      const right = Math.min(chartArea.right, x.getPixelForValue(ts(band.end)));
      if (right <= left) continue;
      ctx.save();
      ctx.fillStyle = responseColour(band.bestResponse);
      ctx.globalAlpha = 0.12;
      ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
      ctx.globalAlpha = 0.9;
      ctx.fillRect(left, bandTop, right - left, height);
      ctx.globalAlpha = 1;
      ctx.fillStyle = "#fff";
      ctx.font = "600 12px system-ui, sans-serif";
      const text = band.short;
      if (ctx.measureText(text).width + 8 <= right - left) ctx.fillText(text, left + 4, bandTop + 13);
      ctx.restore();
      drawn.push({ line: band.line, bestResponse: band.bestResponse, left, right, text });
    }
    chart.$responseBands = drawn;
  },
};

function fixedAxisWidth(width) {
  return (scale) => {
    scale.width = width;
  };
}

function markerDatasets(data) {
  const byKey = Object.fromEntries(data.series.map((s) => [s.key, s]));
  const sets = [];
  for (const kind of ["nadir", "relapse"]) {
    const evs = data.events.filter((e) => e.kind === kind && e.value !== null && e.value !== undefined && byKey[e.series]);
    if (!evs.length) continue;
    sets.push({
      type: "scatter",
      label: kind === "nadir" ? "Nadir" : "Relapse",
      markerKind: kind,
      data: evs.map((e) => ({ x: ts(e.date), y: e.value, event: e })),
      yAxisID: byKey[evs[0].series].axis === "flc" ? "flc" : "mprotein",
      pointStyle: kind === "nadir" ? "triangle" : "rectRot",
      rotation: kind === "nadir" ? 180 : 0,
      pointRadius: 9,
      pointHoverRadius: 11,
      borderWidth: 2,
      borderColor: COLOURS[kind],
      backgroundColor: kind === "nadir" ? "rgba(27,127,59,0.25)" : "rgba(198,40,40,0.35)",
      order: 0,
    });
  }
  return sets;
}

function seriesDatasets(data) {
  return data.series.map((s) => ({
    type: "line",
    label: `${s.label} (${s.unit})`,
    seriesKey: s.key,
    data: s.points.map((p) => ({ x: ts(p.date), y: p.value, point: p, series: s })),
    yAxisID: s.axis === "flc" ? "flc" : "mprotein",
    borderColor: COLOURS[s.key] || "#333",
    backgroundColor: COLOURS[s.key] || "#333",
    borderDash: s.key === "dFlc" ? [5, 4] : [],
    pointRadius: 4,
    pointHoverRadius: 6,
    tension: 0,
    spanGaps: true,
    order: 1,
  }));
}

// The ISO date of a charted point as the service sent it (no time-zone round trip).
const pointDate = (raw) => (raw.event ? raw.event.date : raw.point.date);

function tooltipLines(data) {
  return {
    title(items) {
      const raw = items[0] && items[0].raw;
      return raw ? pointDate(raw) : "";
    },
    label(item) {
      const raw = item.raw;
      if (raw.event) return raw.event.label;
      const s = raw.series;
      const cmp = raw.point.comparator || "";
      return `${s.label}: ${cmp}${fmtNum(raw.point.value)} ${s.unit}`;
    },
    afterBody(items) {
      const raw = items[0] && items[0].raw;
      if (!raw) return [];
      const date = pointDate(raw);
      const lines = ["", "CRAB values (latest on or before this date):"];
      for (const c of crabAt(data.crab, date)) {
        lines.push(c.point ? `  ${c.label}: ${fmtNum(c.point.value)} ${c.unit} (${c.point.date})` : `  ${c.label}: not measured`);
      }
      return lines;
    },
  };
}

function axisTitle(data, axis) {
  const units = [...new Set(data.series.filter((s) => (s.axis === "flc") === (axis === "flc")).map((s) => s.unit))];
  const names = axis === "flc" ? "Free light chains" : "Serum M-protein";
  return units.length ? `${names} (${units.join(", ")})` : names;
}

export function renderMarkerChart(canvas, data, scaleType) {
  const range = timeRange(data);
  const hasFlc = data.series.some((s) => s.axis === "flc");
  const yType = scaleType === "log" ? "logarithmic" : "linear";
  const yCommon = {
    type: yType,
    beginAtZero: yType === "linear",
    grid: { color: "rgba(0,0,0,0.07)" },
    ticks: { font: { size: 12 } },
  };
  return new Chart(canvas, {
    data: { datasets: [...markerDatasets(data), ...seriesDatasets(data)] },
    plugins: [responseBands, eventLines],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: false },
      layout: { padding: { right: hasFlc ? 0 : RIGHT_AXIS_WIDTH } },
      scales: {
        x: {
          type: "time",
          min: range.min,
          max: range.max,
          adapters: { date: { locale: enGB } },
          time: { tooltipFormat: "yyyy-MM-dd", displayFormats: { month: "MMM yyyy", quarter: "MMM yyyy", year: "yyyy" } },
          title: { display: true, text: "Date" },
          ticks: { maxRotation: 0, autoSkipPadding: 18 },
          grid: { color: "rgba(0,0,0,0.07)" },
        },
        mprotein: {
          ...yCommon,
          position: "left",
          title: { display: true, text: axisTitle(data, "mprotein"), font: { size: 13, weight: "600" }, color: COLOURS.serumMProtein },
          afterFit: fixedAxisWidth(LEFT_AXIS_WIDTH),
        },
        flc: {
          ...yCommon,
          display: hasFlc,
          position: "right",
          grid: { drawOnChartArea: false },
          title: { display: true, text: axisTitle(data, "flc"), font: { size: 13, weight: "600" }, color: COLOURS.involvedFlc },
          afterFit: fixedAxisWidth(RIGHT_AXIS_WIDTH),
        },
      },
      plugins: {
        legend: { position: "top", labels: { usePointStyle: true, boxWidth: 10, font: { size: 13 } } },
        tooltip: { callbacks: tooltipLines(data) },
        eventLines: { events: data.events, labels: true },
        responseBands: { bands: data.responses || [] },
      },
    },
  });
}

export function renderSwimlane(canvas, data) {
  const range = timeRange(data);
  const drugs = data.therapy.map((t) => t.drug);
  const bars = [];
  for (const t of data.therapy) {
    for (const p of t.periods) {
      if (!p.start) continue;
      const end = p.end || (p.active ? data.asOf : null);
      const shown = Math.max(end ? ts(end) : 0, ts(p.start) + MIN_BAR_DAYS * DAY_MS);
      bars.push({
        x: [ts(p.start), shown],
        y: t.drug,
        therapy: t,
        period: p,
        endKnown: Boolean(end),
      });
    }
  }
  const classColour = (c) =>
    ({ IMiD: "#2e7d32", PI: "#1565c0", "anti-CD38": "#6a1b9a", corticosteroid: "#9e9e9e", alkylator: "#795548" }[c] || "#00838f");
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: drugs,
      datasets: [
        {
          label: "Therapy",
          data: bars,
          backgroundColor: bars.map((b) => (b.endKnown ? classColour(b.therapy.class) : "rgba(0,0,0,0.15)")),
          borderColor: bars.map((b) => classColour(b.therapy.class)),
          borderWidth: 1,
          borderSkipped: false,
          barPercentage: 0.9,
          categoryPercentage: 0.8,
        },
      ],
    },
    plugins: [eventLines],
    options: {
      animation: false,
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      layout: { padding: { right: RIGHT_AXIS_WIDTH } },
      scales: {
        x: {
          type: "time",
          min: range.min,
          max: range.max,
          adapters: { date: { locale: enGB } },
          time: { displayFormats: { month: "MMM yyyy", quarter: "MMM yyyy", year: "yyyy" } },
          ticks: { maxRotation: 0, autoSkipPadding: 18 },
          grid: { color: "rgba(0,0,0,0.07)" },
        },
        y: {
          type: "category",
          afterFit: fixedAxisWidth(LEFT_AXIS_WIDTH),
          ticks: {
            font: { size: 12 },
            callback(value) {
              const t = data.therapy[value];
              return t ? (t.line ? `L${t.line} · ${t.drug}` : t.drug) : value;
            },
          },
          title: { display: true, text: "Lines of therapy", font: { size: 13, weight: "600" } },
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => items[0].raw.therapy.drug,
            label(item) {
              const { period, therapy } = item.raw;
              const end = period.end || (period.active ? `ongoing (${data.asOf})` : "stop date unknown");
              return `${therapy.class}, line ${therapy.line ?? "?"}: ${period.start} – ${end}`;
            },
          },
        },
        eventLines: { events: data.events, labels: false },
      },
    },
  });
}
