// SMART App Launch 2.x (authorization code + PKCE S256), as a public browser client or, when the
// service holds a private key, as a confidential asymmetric client: the code is then exchanged by
// the service (POST /app/api/token), which authenticates to the token endpoint with a
// `private_key_jwt` client assertion. The browser never sees the key.
//
// The granted session (FHIR base, token, patient) is kept in this tab's sessionStorage, as
// SMART's own JavaScript client does: a reload resumes it, a new tab or a closed one does not,
// and an expired token asks for a new launch.
//
// Written on WebCrypto rather than the `fhirclient` npm package: the flow is ~150 lines, and
// fhirclient would bring isomorphic-webcrypto (with React Native optional trees), core-js and
// cross-fetch into a bundle that must be audited for a hospital network. Browsers have
// crypto.subtle and fetch natively. The test authorization server (tests/browser/auth_server.py)
// checks every step of this flow: S256 challenge, state, aud, redirect_uri.

const STATE_PREFIX = "smart-launch:";
const STATE_MAX_AGE_MS = 10 * 60 * 1000;
const SESSION_KEY = "smart-session";
const DEFAULT_TOKEN_LIFETIME_S = 300;

export class LaunchError extends Error {}

function base64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomToken(nBytes) {
  const buf = new Uint8Array(nBytes);
  crypto.getRandomValues(buf);
  return base64url(buf);
}

export async function s256(verifier) {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new LaunchError("This browser context has no WebCrypto (the app must be served over https or from localhost).");
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(digest);
}

/** The FHIR base URL given by the EHR, checked: an absolute http(s) URL, allow-listed if configured. */
export function checkIssuer(iss, allowedIssuers) {
  let url;
  try {
    url = new URL(iss);
  } catch {
    throw new LaunchError(`The iss parameter is not a URL: ${iss}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new LaunchError(`The iss parameter must be an http(s) URL: ${iss}`);
  }
  const normalised = iss.replace(/\/+$/, "");
  if (allowedIssuers && allowedIssuers.length && !allowedIssuers.map((i) => i.replace(/\/+$/, "")).includes(normalised)) {
    throw new LaunchError(`This FHIR server is not configured for this app: ${normalised}`);
  }
  return normalised;
}

async function getJson(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new LaunchError(`Could not reach ${url}: ${e.message}`);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const why = (body && (body.error_description || body.error)) || `HTTP ${res.status}`;
    throw new LaunchError(`${url} answered ${res.status}: ${why}`);
  }
  if (body === null) throw new LaunchError(`${url} did not answer with JSON`);
  return body;
}

/** GET {iss}/.well-known/smart-configuration and check it offers the authorization code flow with S256. */
export async function discover(iss) {
  const conf = await getJson(`${iss}/.well-known/smart-configuration`, { headers: { Accept: "application/json" } });
  if (!conf.authorization_endpoint || !conf.token_endpoint) {
    throw new LaunchError("The FHIR server's smart-configuration has no authorization_endpoint or token_endpoint.");
  }
  const methods = conf.code_challenge_methods_supported || [];
  if (!methods.includes("S256")) {
    throw new LaunchError("The authorization server does not offer PKCE with S256 (code_challenge_methods_supported).");
  }
  return conf;
}

/**
 * Start an EHR launch (iss + launch) or a standalone launch (iss only): discover the endpoints,
 * remember the PKCE verifier under a fresh state, and send the browser to the authorize endpoint.
 */
export async function authorize({ iss, launch, clientId, scope, redirectUri, allowedIssuers, appParams = {}, tokenProxyUrl = null }) {
  const fhirBase = checkIssuer(iss, allowedIssuers);
  const conf = await discover(fhirBase);
  const verifier = randomToken(32); // 43 characters, RFC 7636 minimum
  const state = randomToken(16);
  const fullScope = [launch ? "launch" : "launch/patient", ...scope.split(/\s+/).filter(Boolean)].join(" ");
  sessionStorage.setItem(
    STATE_PREFIX + state,
    JSON.stringify({ iss: fhirBase, tokenEndpoint: conf.token_endpoint, tokenProxyUrl, verifier, redirectUri, clientId, appParams, at: Date.now() }),
  );
  const url = new URL(conf.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: fullScope,
    state,
    aud: fhirBase,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  };
  if (launch) params.launch = launch;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  window.location.assign(url.toString());
}

/**
 * Finish the launch on the redirect page: check state, exchange the code (with the PKCE
 * verifier) for a token, and return {iss, accessToken, patient, scope, appParams}. The token stays in
 * memory only; the code and state are removed from the address bar.
 */
export async function completeLaunch(search) {
  const q = new URLSearchParams(search);
  if (q.get("error")) {
    throw new LaunchError(`Authorization refused: ${q.get("error_description") || q.get("error")}`);
  }
  const code = q.get("code");
  const state = q.get("state");
  if (!code || !state) return null; // not a redirect: the caller explains how to launch
  const key = STATE_PREFIX + state;
  const saved = JSON.parse(sessionStorage.getItem(key) || "null");
  sessionStorage.removeItem(key); // one use only
  window.history.replaceState(null, "", window.location.pathname);
  if (!saved) throw new LaunchError("Unknown or already used launch state: please launch the app again.");
  if (Date.now() - saved.at > STATE_MAX_AGE_MS) throw new LaunchError("The launch took too long: please launch the app again.");
  const token = saved.tokenProxyUrl ? await exchangeViaService(saved, code) : await exchangeDirectly(saved, code);
  if (!token.access_token || String(token.token_type).toLowerCase() !== "bearer") {
    throw new LaunchError("The token endpoint did not return a bearer access token.");
  }
  if (!token.patient) throw new LaunchError("The launch has no patient in context.");
  const session = {
    iss: saved.iss,
    accessToken: token.access_token,
    patient: token.patient,
    scope: token.scope || "",
    appParams: saved.appParams || {},
    expiresAt: Date.now() + 1000 * (Number(token.expires_in) || DEFAULT_TOKEN_LIFETIME_S),
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** Public client: the browser posts the code and PKCE verifier to the token endpoint. */
function exchangeDirectly(saved, code) {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: saved.redirectUri,
    client_id: saved.clientId,
    code_verifier: saved.verifier,
  });
  return getJson(saved.tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: form.toString(),
  });
}

/** Confidential asymmetric client: the service adds its signed client assertion. */
function exchangeViaService(saved, code) {
  return getJson(saved.tokenProxyUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ iss: saved.iss, code, redirect_uri: saved.redirectUri, code_verifier: saved.verifier }),
  });
}

/**
 * The session of an earlier launch in this tab (a reload), or null if there is none. An
 * expired one is removed and reported: the app cannot refresh it without a new launch.
 */
export function resumeLaunch() {
  const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  if (!saved) return null;
  if (!saved.accessToken || !(saved.expiresAt > Date.now())) {
    sessionStorage.removeItem(SESSION_KEY);
    throw new LaunchError("The session from the last launch has expired: launch the app again from the EHR (or at /app/launch?iss=<FHIR base URL>).");
  }
  return saved;
}
