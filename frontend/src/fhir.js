// Reads the launch patient's records from the FHIR server with the granted bearer token.
import { LaunchError } from "./smart.js";

// What the relapse model reads: Observations and medication records (issue 7), plus the
// Patient and Conditions that put the patient in scope, Procedures (transplant) and
// DiagnosticReports (imaging: new bone lesions).
export const SEARCHED_TYPES = [
  "Condition",
  "Observation",
  "MedicationStatement",
  "MedicationRequest",
  "MedicationAdministration",
  "Procedure",
  "DiagnosticReport",
];
const PAGE_SIZE = 200;
const MAX_PAGES = 50;

function fhirGet(session, url) {
  // The token goes to the launch's FHIR server only: never to a host a Bundle link names.
  if (!url.startsWith(`${session.iss}/`)) {
    throw new LaunchError(`Refusing to follow a link outside the FHIR server: ${new URL(url).origin}`);
  }
  return fetch(url, { headers: { Authorization: `Bearer ${session.accessToken}`, Accept: "application/fhir+json" } });
}

async function readJson(res, what) {
  if (res.status === 401) throw new LaunchError(`The FHIR server refused the access token while reading ${what}: launch again.`);
  if (!res.ok) return { error: `${what}: HTTP ${res.status}` };
  return { body: await res.json() };
}

async function searchAll(session, type, gaps) {
  const out = [];
  let url = `${session.iss}/${type}?patient=${encodeURIComponent(session.patient)}&_count=${PAGE_SIZE}`;
  for (let page = 0; url && page < MAX_PAGES; page += 1) {
    const { body, error } = await readJson(await fhirGet(session, url), type);
    if (error) {
      gaps.push(`Could not read ${error}`);
      return out;
    }
    for (const entry of body.entry || []) {
      if (entry.resource && entry.resource.resourceType === type) out.push(entry.resource);
    }
    const next = (body.link || []).find((l) => l.relation === "next");
    url = next ? next.url : null;
    if (url && !url.startsWith(`${session.iss}/`)) {
      gaps.push(`${type}: the next page is on another server (${new URL(url).origin}); not followed with the token`);
      return out;
    }
  }
  if (url) gaps.push(`${type}: more than ${MAX_PAGES * PAGE_SIZE} records, the rest were not read`);
  return out;
}

/** All the patient's resources the timeline needs, as a FHIR collection Bundle, plus read problems. */
export async function readPatientBundle(session) {
  const gaps = [];
  const { body: patient, error } = await readJson(
    await fhirGet(session, `${session.iss}/Patient/${encodeURIComponent(session.patient)}`),
    "Patient",
  );
  if (error) throw new LaunchError(`Could not read the launch patient (${error}).`);
  const lists = await Promise.all(SEARCHED_TYPES.map((t) => searchAll(session, t, gaps)));
  const resources = [patient, ...lists.flat()];
  return {
    bundle: {
      resourceType: "Bundle",
      type: "collection",
      entry: resources.map((r) => ({ fullUrl: `${session.iss}/${r.resourceType}/${r.id}`, resource: r })),
    },
    patient,
    gaps,
  };
}
