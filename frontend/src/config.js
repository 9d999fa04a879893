// Settings the Flask blueprint writes into the page (<script id="smart-config" type="application/json">).
export function pageConfig() {
  const el = document.getElementById("smart-config");
  const conf = el ? JSON.parse(el.textContent) : {};
  return {
    clientId: conf.clientId || "myeloma-cds-timeline",
    scope: conf.scope || "patient/Patient.rs patient/Observation.rs patient/Condition.rs",
    allowedIssuers: conf.allowedIssuers || [],
    redirectUri: new URL(conf.redirectPath || "./", window.location.href).toString(),
    timelineUrl: new URL(conf.timelinePath || "./api/timeline", window.location.href).toString(),
    // Set when the service is a confidential client (it holds the key): it exchanges the code.
    tokenProxyUrl: conf.tokenProxyPath ? new URL(conf.tokenProxyPath, window.location.href).toString() : null,
  };
}

export function showError(message) {
  const box = document.getElementById("error");
  if (box) {
    box.hidden = false;
    box.textContent = message;
  }
  const status = document.getElementById("status");
  if (status) status.textContent = "";
}
