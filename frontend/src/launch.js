// Entry for /app/launch: EHR launch (?iss=...&launch=...) or standalone launch (?iss=... only).
import { authorize, LaunchError } from "./smart.js";
import { pageConfig, showError } from "./config.js";

async function main() {
  const q = new URLSearchParams(window.location.search);
  const iss = q.get("iss");
  if (!iss) {
    showError("Missing iss: open this app from the EHR, or as /app/launch?iss=<FHIR base URL> for a standalone launch.");
    return;
  }
  const conf = pageConfig();
  // Optional app parameter in the registered launch URL: review the chart "as of" a past date.
  const asOf = q.get("asOf");
  if (asOf && !/^\d{4}-\d{2}-\d{2}$/.test(asOf)) {
    showError(`asOf must be a date YYYY-MM-DD, got ${asOf}`);
    return;
  }
  await authorize({
    iss,
    launch: q.get("launch"),
    clientId: conf.clientId,
    scope: conf.scope,
    redirectUri: conf.redirectUri,
    allowedIssuers: conf.allowedIssuers,
    appParams: asOf ? { asOf } : {},
    tokenProxyUrl: conf.tokenProxyUrl,
  });
}

main().catch((e) => showError(e instanceof LaunchError ? e.message : `Launch failed: ${e.message}`));
