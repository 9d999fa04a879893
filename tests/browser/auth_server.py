"""A small SMART authorization server for the browser test, standing in for an EHR.

It plays the EHR's side of SMART App Launch 2.x for a public client or, with
`client_jwks_url` set, for a confidential asymmetric client (`private_key_jwt`: the token
request must carry a client assertion signed by a key of that JWK Set, RFC 7523 / SMART
"client-confidential-asymmetric"):
- `GET  {base}/fhir/.well-known/smart-configuration`: discovery (authorization code, S256 only);
- `GET  {base}/authorize`: checks client_id, redirect_uri, response_type, aud, the launch id
  (EHR launch) or `launch/patient` scope (standalone), records the S256 challenge, and
  redirects straight back with a one-time code (no login page: the test is the user);
- `POST {base}/token`: checks the code, redirect_uri, client_id and that
  BASE64URL(SHA256(code_verifier)) equals the challenge; answers with the static bearer token
  the FHIR server accepts plus `patient` from the launch context;
- `{base}/fhir/*`: a pass-through to the real FHIR server (sekmet-fhir, bearer auth on), so that
  `iss` names a FHIR base whose smart-configuration is this server's. The Authorization header
  is forwarded untouched: sekmet itself refuses a request without the token.

Every refusal is an OAuth error (RFC 6749 4.1.2.1 / 5.2) and is also recorded in `refusals`, so
a test can assert that the flow was not accepted by accident.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests

FORWARDED_REQUEST_HEADERS = ("authorization", "accept", "content-type", "prefer")
FORWARDED_RESPONSE_HEADERS = ("content-type", "etag", "last-modified", "location", "www-authenticate")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    patient: str
    scope: str


@dataclass
class SmartAuthServer:
    fhir_upstream: str  # the real FHIR server's base, e.g. http://127.0.0.1:PORT/fhir
    access_token: str  # the static bearer token the FHIR server accepts
    client_id: str
    redirect_uri: str  # the one redirect URI registered for client_id
    standalone_patient: str | None = None  # patient picked for a standalone launch
    launches: dict[str, str] = field(default_factory=dict)  # EHR launch id -> patient id
    challenge_methods: list[str] = field(default_factory=lambda: ["S256"])  # advertised PKCE methods
    codes: dict[str, Grant] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    last_redirect: str | None = None  # the last redirect back to the app (code + state)
    fhir_requests: list[tuple[str, str, bool]] = field(default_factory=list)  # method, path, had bearer
    client_jwks_url: str | None = None  # set: confidential asymmetric client, assertion required
    assertions_verified: int = 0
    seen_assertion_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "SmartAuthServer":
        server = self

        class Handler(_Handler):
            auth = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def iss(self) -> str:
        return f"{self.base_url}/fhir"

    def register_launch(self, patient_id: str) -> str:
        """What the EHR does before opening the app: a one-time launch id bound to a patient."""
        launch = secrets.token_urlsafe(12)
        self.launches[launch] = patient_id
        return launch

    def smart_configuration(self) -> dict:
        return {
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "grant_types_supported": ["authorization_code"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": list(self.challenge_methods),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"] if self.client_jwks_url else ["none"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
            "scopes_supported": ["launch", "launch/patient", "patient/*.rs"],
            "capabilities": ["launch-ehr", "launch-standalone",
                             "client-confidential-asymmetric" if self.client_jwks_url else "client-public",
                             "context-ehr-patient", "context-standalone-patient", "permission-v2"],
        }

    def check_client_assertion(self, form: dict[str, str]) -> str | None:
        """None if the form authenticates the confidential client, else the reason."""
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "client_assertion_type missing or wrong"
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            keys = requests.get(self.client_jwks_url, timeout=10).json()["keys"]
            jwk = next(k for k in keys if k.get("kid") == header.get("kid"))
            key = jwt.PyJWK(jwk).key
            claims = jwt.decode(assertion, key, algorithms=["ES384", "RS384"],
                                audience=f"{self.base_url}/token", issuer=self.client_id,
                                options={"require": ["iss", "sub", "aud", "exp", "jti"]})
        except (StopIteration, jwt.PyJWTError, requests.RequestException, KeyError, ValueError) as exc:
            return f"client assertion refused ({type(exc).__name__})"
        if claims["sub"] != self.client_id or claims["exp"] - claims.get("iat", claims["exp"]) > 300:
            return "client assertion sub or lifetime wrong"
        if claims["jti"] in self.seen_assertion_ids:
            return "client assertion replayed"
        self.seen_assertion_ids.add(claims["jti"])
        self.assertions_verified += 1
        return None

    # --- OAuth steps (pure functions of the query/form, easy to unit test) ----------------------
    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str], dict]:
        """Returns (status, headers, body): a 302 to the redirect URI, or a 400 OAuth error when
        the redirect URI itself cannot be trusted."""
        if q.get("client_id") != self.client_id or q.get("redirect_uri") != self.redirect_uri:
            status, body = self._refuse(400, "invalid_request", "unknown client_id or unregistered redirect_uri")
            return status, {}, body

        def back(params: dict) -> tuple[int, dict[str, str], dict]:
            if q.get("state"):
                params["state"] = q["state"]
            self.last_redirect = f"{self.redirect_uri}?{urlencode(params)}"
            return 302, {"Location": self.last_redirect}, {}

        def refuse(error: str, desc: str):
            self.refusals.append(desc)
            return back({"error": error, "error_description": desc})

        if q.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be code")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return refuse("invalid_request", "PKCE with code_challenge_method S256 is required")
        if (q.get("aud") or "").rstrip("/") != self.iss:
            return refuse("invalid_request", f"aud must be this FHIR server ({self.iss})")
        if not q.get("state"):
            return refuse("invalid_request", "state is required")
        scopes = (q.get("scope") or "").split()
        if q.get("launch"):
            patient = self.launches.pop(q["launch"], None)
            if patient is None or "launch" not in scopes:
                return refuse("invalid_request", "unknown launch id, or scope lacks 'launch'")
        else:
            if "launch/patient" not in scopes or not self.standalone_patient:
                return refuse("invalid_scope", "standalone launch needs scope launch/patient")
            patient = self.standalone_patient
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = Grant(self.client_id, self.redirect_uri, q["code_challenge"], patient, " ".join(scopes))
        return back({"code": code})

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != "authorization_code":
            return self._refuse(400, "unsupported_grant_type", "only authorization_code")
        with self._lock:
            grant = self.codes.pop(form.get("code", ""), None)  # one use only
        if grant is None:
            return self._refuse(400, "invalid_grant", "unknown or used code")
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse(400, "invalid_grant", "client_id or redirect_uri differ from the authorize request")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or s256(verifier) != grant.challenge:
            return self._refuse(400, "invalid_grant", "PKCE verification failed")
        if self.client_jwks_url:
            problem = self.check_client_assertion(form)
            if problem:
                return self._refuse(401, "invalid_client", problem)
        self.tokens_issued += 1
        return 200, {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": grant.scope,
            "patient": grant.patient,
        }

    def _refuse(self, status: int, error: str, desc: str) -> tuple[int, dict]:
        self.refusals.append(desc)
        return status, {"error": error, "error_description": desc}


class _Handler(BaseHTTPRequestHandler):
    auth: SmartAuthServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean; never log tokens
        pass

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Prefer")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Expose-Headers", "Location, ETag")

    def _send(self, status: int, body: bytes | dict, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(status)
        self._cors()
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if raw or status != 302:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_OPTIONS(self) -> None:  # CORS preflight (the Authorization header triggers one)
        self._send(204, b"")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path in ("/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration"):
            return self._send(200, self.auth.smart_configuration())
        if url.path == "/authorize":
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, headers, body = self.auth.authorize(q)
            return self._send(status, body if body else b"", headers)
        if url.path.startswith("/fhir/") or url.path == "/fhir":  # HAPI pages: [base]?_getpages=...
            return self._proxy("GET", url)
        self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if url.path == "/token":
            form = {k: v[0] for k, v in parse_qs(data.decode()).items()}
            status, body = self.auth.token(form)
            return self._send(status, body)
        if url.path.startswith("/fhir/"):
            return self._proxy("POST", url, data)
        self._send(404, {"error": "not_found"})

    def _proxy(self, method: str, url, data: bytes | None = None) -> None:
        rest = url.path[len("/fhir"):]
        target = self.auth.fhir_upstream.rstrip("/") + rest + (f"?{url.query}" if url.query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
        self.auth.fhir_requests.append((method, rest, "authorization" in {k.lower() for k in headers}))
        r = requests.request(method, target, headers=headers, data=data, timeout=10, allow_redirects=False)
        # Bundle links name the upstream: rewrite them so the app keeps talking to its iss.
        body = r.content.replace(self.auth.fhir_upstream.rstrip("/").encode(), self.auth.iss.encode())
        out = {k: v for k, v in r.headers.items() if k.lower() in FORWARDED_RESPONSE_HEADERS and k.lower() != "content-type"}
        self._send(r.status_code, body, out, content_type=r.headers.get("content-type", "application/fhir+json"))
