"""A local fake of the Google Drive v3 API and Google's OAuth2 token endpoint, over real HTTP.

google-api-python-client talks to it exactly as it talks to Google: `api_url` (the
GOOGLE_DRIVE_API_URL setting) is this server's root, and the service-account file
written by `service_account_write` names this server's `/token` as its token_uri.

What it follows from Google's documented contract (only the subset PresGen uses):

- `POST /token`: the JWT-bearer grant. The assertion's RS256 signature is checked
  with the public half of the key the fake generated, and its claims (iss, aud,
  scope, exp) are checked too; the access token it returns is required as
  `Authorization: Bearer ...` on every Drive request (401 otherwise).
- `GET /drive/v3/files`: list with a `q` subset (`name = '...'`, `'<id>' in parents`,
  `mimeType = / != '...'`, `trashed = false|true`, joined by `and`), `orderBy`
  createdTime or name, `pageSize`/`pageToken`, and the `fields` selector.
- `POST /drive/v3/files`: metadata-only create (folders).
- `POST /upload/drive/v3/files?uploadType=resumable`: starts a session (200 with a
  `Location` session URI); `PUT <session>` with `Content-Range: bytes a-b/total`
  appends a chunk (308 with `Range: bytes=0-n` until the last, then 200 with the
  file), and `Content-Range: bytes */total` asks how much arrived.
- `GET /drive/v3/files/<id>` (metadata, or `alt=media` content honouring `Range`),
  `DELETE /drive/v3/files/<id>` (204, children too), Google's error JSON for 4xx/5xx.

Fault hooks: `fail_upload_chunks` (the next N chunk PUTs get a 503 and are dropped)
and `fail_requests` (any method/path prefix answers an error, e.g. 403 rateLimitExceeded).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FOLDER_MIME = "application/vnd.google-apps.folder"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ROOT_FOLDER_ID = "presgen-root-folder"
# The fields Drive returns when a request names none.
_DEFAULT_FIELDS = ("kind", "id", "name", "mimeType")
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class StoredFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    created: int  # a sequence number: "createdTime" order without a clock
    description: str = ""
    app_properties: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # None for folders
    trashed: bool = False

    def resource(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": list(self.parents),
            "trashed": self.trashed,
            "createdTime": (_EPOCH + timedelta(seconds=self.created)).isoformat(),
            "appProperties": dict(self.app_properties),
            "description": self.description,
        }
        if self.content is not None:
            data["size"] = str(len(self.content))  # int64 travels as a string
        return data


@dataclass
class UploadSession:
    metadata: dict[str, Any]
    content_type: str
    received: bytearray = field(default_factory=bytearray)
    file_id: str | None = None  # set once complete; later PUTs get the file again


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int
    reason: str
    remaining: int
    with_body_only: bool = False  # chunk PUTs only, not "how much arrived?" queries
    skip: int = 0  # matching requests to let through before failing


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body_size: int


class FakeDrive:
    """Start with `with FakeDrive() as drive:`; `drive.url` is the API root."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, StoredFile] = {}
        self.sessions: dict[str, UploadSession] = {}
        self.tokens: set[str] = set()
        self.token_claims: list[dict[str, Any]] = []
        self.requests: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.client_email = "presgen-videos@presgen-test.iam.gserviceaccount.com"
        self.key_id = secrets.token_hex(20)
        self.public_key: rsa.RSAPublicKey | None = None
        self._seq = itertools.count(1)
        # The folder an operator shares with the service account (GOOGLE_DRIVE_FOLDER_ID).
        self.files[ROOT_FOLDER_ID] = StoredFile(
            id=ROOT_FOLDER_ID, name="PresGen", mime_type=FOLDER_MIME, parents=[], created=0
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self.server.daemon_threads = True
        # A short poll keeps shutdown() (which waits for the next poll) quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> FakeDrive:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    # -- test helpers ------------------------------------------------------------
    def service_account_write(self, *, path: Path) -> Path:
        """Write a service-account key file whose token_uri is this fake; keep its public key."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "presgen-test",
                    "private_key_id": self.key_id,
                    "private_key": pem,
                    "client_email": self.client_email,
                    "client_id": "100000000000000000001",
                    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "token_uri": f"{self.url}token",
                    "universe_domain": "googleapis.com",
                }
            )
        )
        return path

    def fail_upload_chunks(self, count: int, *, after: int = 0, status: int = 503) -> None:
        """After `after` good chunk PUTs the next `count` get `status`; their bytes are dropped."""
        with self.lock:
            self.faults.append(
                Fault("PUT", "/upload/", status, "backendError", count, True, skip=after)
            )

    def fail_requests(
        self, count: int, *, method: str, path_prefix: str, status: int, reason: str
    ) -> None:
        with self.lock:
            self.faults.append(Fault(method, path_prefix, status, reason, count))

    def folder_add(self, *, name: str, parent_id: str = ROOT_FOLDER_ID) -> StoredFile:
        """A folder made behind the client's back (another worker, a person)."""
        folder = StoredFile(
            id=self.new_id(),
            name=name,
            mime_type=FOLDER_MIME,
            parents=[parent_id],
            created=next(self._seq),
        )
        with self.lock:
            self.files[folder.id] = folder
        return folder

    def tokens_revoke(self) -> None:
        """Forget every issued token: the next Drive call gets a 401."""
        with self.lock:
            self.tokens.clear()

    def path_find(self, path: str) -> StoredFile | None:
        """The live file at `a/b/c` under the root folder, or None."""
        parent = ROOT_FOLDER_ID
        found: StoredFile | None = None
        for part in path.strip("/").split("/"):
            with self.lock:
                found = next(
                    (
                        f
                        for f in sorted(self.files.values(), key=lambda f: f.created)
                        if f.name == part and parent in f.parents and not f.trashed
                    ),
                    None,
                )
            if found is None:
                return None
            parent = found.id
        return found

    def requests_to(self, method: str, path_prefix: str) -> list[RequestRecord]:
        with self.lock:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
            ]

    # -- behaviour (called by the handler, under no lock) ------------------------
    def new_id(self) -> str:
        return secrets.token_urlsafe(24)

    def fault_take(self, method: str, path: str, body_size: int) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.remaining > 0
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                    and (body_size > 0 or not fault.with_body_only)
                ):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.remaining -= 1
                    return fault
        return None

    def jwt_verify(self, assertion: str) -> dict[str, Any] | str:
        """The assertion's claims, or why it is refused."""
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(payload_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            return "Malformed JWT."
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            return "Invalid JWT header."
        if self.public_key is None:
            return "No service account registered."
        try:
            self.public_key.verify(
                signature,
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        if claims.get("iss") != self.client_email:
            return "Invalid issuer."
        # Google wants its own token endpoint as the audience whatever token_uri says.
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return "Invalid audience."
        if "https://www.googleapis.com/auth/drive.file" not in str(claims.get("scope", "")).split():
            return "Invalid scope."
        if not claims.get("exp") or claims["exp"] < time.time():
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        return dict(claims)

    def list_query(self, q: str) -> list[StoredFile] | None:
        """The files matching `q`, or None when `q` is outside the supported subset."""
        tests = _query_parse(q)
        if tests is None:
            return None
        with self.lock:
            candidates = list(self.files.values())
        return [f for f in candidates if all(test(f) for test in tests)]


# -- the q language subset ---------------------------------------------------------
_STRING = r"'((?:[^'\\]|\\.)*)'"
_CLAUSES = [
    (re.compile(rf"name\s*=\s*{_STRING}"), "name"),
    (re.compile(rf"{_STRING}\s+in\s+parents"), "parent"),
    (re.compile(rf"mimeType\s*(=|!=)\s*{_STRING}"), "mime"),
    (re.compile(r"trashed\s*=\s*(true|false)"), "trashed"),
]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _clause_match(text: str) -> tuple[str, re.Match[str]] | None:
    for pattern, kind in _CLAUSES:
        match = pattern.match(text)
        if match:
            return kind, match
    return None


def _query_parse(q: str) -> list[Any] | None:
    tests: list[Any] = []
    rest = q.strip()
    while rest:
        found = _clause_match(rest)
        if found is None:
            return None
        kind, match = found
        if kind == "name":
            name = _unquote(match.group(1))
            tests.append(lambda f, name=name: f.name == name)
        elif kind == "parent":
            parent = _unquote(match.group(1))
            tests.append(lambda f, parent=parent: parent in f.parents)
        elif kind == "mime":
            op, mime = match.group(1), _unquote(match.group(2))
            if op == "=":
                tests.append(lambda f, mime=mime: f.mime_type == mime)
            else:
                tests.append(lambda f, mime=mime: f.mime_type != mime)
        else:
            trashed = match.group(1) == "true"
            tests.append(lambda f, trashed=trashed: f.trashed == trashed)
        rest = rest[match.end() :].strip()
        if rest:
            joined = re.match(r"and\s+", rest)
            if not joined:
                return None
            rest = rest[joined.end() :]
    return tests


# -- the fields selector -----------------------------------------------------------
def _fields_split(spec: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in spec:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _resource_select(resource: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        fields = list(_DEFAULT_FIELDS)
    if "*" in fields:
        return resource
    return {name: resource[name] for name in fields if name in resource}


def _list_fields(spec: str | None) -> tuple[list[str], list[str] | None]:
    """(top-level fields, per-file fields) of a files.list `fields` parameter."""
    if spec is None:
        return ["kind", "incompleteSearch", "files", "nextPageToken"], None
    top, per_file = [], None
    for part in _fields_split(spec):
        match = re.fullmatch(r"files\((.*)\)", part)
        if match:
            top.append("files")
            per_file = _fields_split(match.group(1))
        else:
            top.append(part)
            if part == "files":
                per_file = ["*"]
    return top, per_file


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _error_body(status: int, message: str, reason: str, **extra: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason, **extra}],
        }
    }


def _handler_class(drive: FakeDrive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # httplib2 keeps connections alive, so every answer carries a Content-Length.
        protocol_version = "HTTP/1.1"
        # A client that sends fewer bytes than it announced is cut off instead of hanging.
        timeout = 10
        # Headers and body go out as separate writes; without this each answer
        # waits out the client's delayed ACK (about 40 ms).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        # -- plumbing ------------------------------------------------------------
        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(
            self,
            status: int,
            body: bytes = b"",
            *,
            content_type: str = "application/json; charset=UTF-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _json(self, status: int, data: dict[str, Any], **kw: Any) -> None:
            self._send(status, json.dumps(data).encode(), **kw)

        def _error(self, status: int, message: str, reason: str, **extra: str) -> None:
            self._json(status, _error_body(status, message, reason, **extra))

        def _dispatch(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            body = self._body()
            with drive.lock:
                drive.requests.append(
                    RequestRecord(
                        method,
                        url.path,
                        query,
                        {k.lower(): v for k, v in self.headers.items()},
                        len(body),
                    )
                )
            if url.path == "/token" and method == "POST":
                self._token(body)
                return
            if not self._authorized():
                self._error(
                    401,
                    "Request had invalid authentication credentials.",
                    "authError",
                    location="Authorization",
                    locationType="header",
                )
                return
            fault = drive.fault_take(method, url.path, len(body))
            if fault:
                self._error(fault.status, f"Injected {fault.reason}.", fault.reason)
                return
            route = self._route(method, url.path)
            if route is None:
                self._error(404, f"No such endpoint: {method} {url.path}", "notFound")
                return
            handler, args = route
            handler(query, body, *args)

        def _route(self, method: str, path: str) -> tuple[Any, tuple[str, ...]] | None:
            if path == "/drive/v3/files":
                return {"GET": (self._list, ()), "POST": (self._create, ())}.get(method)
            if path == "/upload/drive/v3/files":
                return {"POST": (self._upload_start, ()), "PUT": (self._upload_put, ())}.get(method)
            match = re.fullmatch(r"/drive/v3/files/([^/]+)", path)
            if match:
                file_id = urllib.parse.unquote(match.group(1))
                return {
                    "GET": (self._get, (file_id,)),
                    "DELETE": (self._delete, (file_id,)),
                }.get(method)
            return None

        def _authorized(self) -> bool:
            value = self.headers.get("Authorization", "")
            if not value.startswith("Bearer "):
                return False
            with drive.lock:
                return value.removeprefix("Bearer ") in drive.tokens

        def _file(self, file_id: str) -> StoredFile | None:
            with drive.lock:
                return drive.files.get(file_id)

        def _not_found(self, file_id: str) -> None:
            self._error(
                404,
                f"File not found: {file_id}.",
                "notFound",
                location="fileId",
                locationType="parameter",
            )

        # -- OAuth2 --------------------------------------------------------------
        def _token(self, body: bytes) -> None:
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if form.get("grant_type") != JWT_BEARER:
                self._json(
                    400,
                    {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."},
                )
                return
            claims = drive.jwt_verify(form.get("assertion", ""))
            if isinstance(claims, str):
                self._json(400, {"error": "invalid_grant", "error_description": claims})
                return
            token = "ya29.fake-" + secrets.token_urlsafe(24)
            with drive.lock:
                drive.tokens.add(token)
                drive.token_claims.append(claims)
            self._json(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

        # -- metadata ------------------------------------------------------------
        def _list(self, query: dict[str, str], body: bytes) -> None:
            matches = drive.list_query(query.get("q", "trashed = false"))
            if matches is None:
                self._error(400, "Invalid Value", "invalid", location="q", locationType="parameter")
                return
            order = query.get("orderBy", "")
            if order.startswith("name"):
                matches.sort(key=lambda f: f.name)
            else:  # createdTime, and a stable order when none is asked for
                matches.sort(key=lambda f: f.created)
            size = int(query.get("pageSize") or 100)
            start = int(query.get("pageToken") or 0)
            page = matches[start : start + size]
            top, per_file = _list_fields(query.get("fields"))
            data: dict[str, Any] = {
                "kind": "drive#fileList",
                "incompleteSearch": False,
                "files": [_resource_select(f.resource(), per_file) for f in page],
            }
            if start + size < len(matches):
                data["nextPageToken"] = str(start + size)
            self._json(200, {k: v for k, v in data.items() if k in top})

        def _create(self, query: dict[str, str], body: bytes) -> None:
            metadata = self._metadata(body)
            if metadata is None:
                return
            stored = self._store(
                metadata, content=None if metadata.get("mimeType") == FOLDER_MIME else b""
            )
            if stored is None:
                return
            self._json(200, _resource_select(stored.resource(), _fields(query)))

        def _metadata(self, body: bytes) -> dict[str, Any] | None:
            try:
                metadata = json.loads(body or b"{}")
            except ValueError:
                metadata = None
            if not isinstance(metadata, dict):
                self._error(400, "Invalid JSON payload received.", "parseError")
                return None
            return metadata

        def _store(self, metadata: dict[str, Any], *, content: bytes | None) -> StoredFile | None:
            parents = list(metadata.get("parents") or ["root"])
            for parent in parents:
                known = self._file(parent)
                if parent != "root" and (known is None or known.mime_type != FOLDER_MIME):
                    self._not_found(parent)
                    return None
            stored = StoredFile(
                id=drive.new_id(),
                name=str(metadata.get("name", "Untitled")),
                mime_type=str(metadata.get("mimeType") or "application/octet-stream"),
                parents=parents,
                created=next(drive._seq),
                description=str(metadata.get("description", "")),
                app_properties={
                    str(k): str(v) for k, v in (metadata.get("appProperties") or {}).items()
                },
                content=content,
            )
            with drive.lock:
                drive.files[stored.id] = stored
            return stored

        def _get(self, query: dict[str, str], body: bytes, file_id: str) -> None:
            stored = self._file(file_id)
            if stored is None:
                self._not_found(file_id)
                return
            if query.get("alt") == "media":
                self._media(stored)
                return
            self._json(200, _resource_select(stored.resource(), _fields(query)))

        def _media(self, stored: StoredFile) -> None:
            if stored.content is None:
                self._error(
                    403,
                    "Only files with binary content can be downloaded.",
                    "fileNotDownloadable",
                    location="alt",
                    locationType="parameter",
                )
                return
            content, total = stored.content, len(stored.content)
            requested = self.headers.get("Range")
            if not requested:
                self._send(200, content, content_type=stored.mime_type)
                return
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", requested.strip())
            if not match or int(match.group(1)) >= total:
                self._send(416, headers={"Content-Range": f"bytes */{total}"})
                return
            first = int(match.group(1))
            last = min(int(match.group(2)) if match.group(2) else total - 1, total - 1)
            self._send(
                206,
                content[first : last + 1],
                content_type=stored.mime_type,
                headers={"Content-Range": f"bytes {first}-{last}/{total}"},
            )

        def _delete(self, query: dict[str, str], body: bytes, file_id: str) -> None:
            if self._file(file_id) is None:
                self._not_found(file_id)
                return
            with drive.lock:
                doomed = [file_id]
                while doomed:  # a folder takes its children with it, as on Drive
                    current = doomed.pop()
                    drive.files.pop(current, None)
                    doomed.extend(f.id for f in drive.files.values() if current in f.parents)
            self._send(204)

        # -- resumable upload ------------------------------------------------------
        def _upload_start(self, query: dict[str, str], body: bytes) -> None:
            if query.get("uploadType") != "resumable":
                self._error(400, "Only resumable uploads are supported here.", "badRequest")
                return
            metadata = self._metadata(body)
            if metadata is None:
                return
            session_id = secrets.token_urlsafe(16)
            with drive.lock:
                drive.sessions[session_id] = UploadSession(
                    metadata=metadata,
                    content_type=self.headers.get("X-Upload-Content-Type", ""),
                )
            passed = {k: v for k, v in query.items() if k in {"fields", "uploadType"}}
            location = f"{drive.url}upload/drive/v3/files?" + urllib.parse.urlencode(
                {**passed, "upload_id": session_id}
            )
            self._send(200, headers={"Location": location})

        def _upload_put(self, query: dict[str, str], body: bytes) -> None:
            with drive.lock:
                session = drive.sessions.get(query.get("upload_id", ""))
            if session is None:
                self._error(404, "Upload session not found.", "notFound")
                return
            if session.file_id is not None:
                done = self._file(session.file_id)
                if done is not None:
                    self._json(200, _resource_select(done.resource(), _fields(query)))
                    return
            content_range = self.headers.get("Content-Range")
            if content_range is None:  # the whole (here: empty) content in one request
                session.received[:] = body
                self._upload_finish(query, session)
                return
            status_query = re.fullmatch(r"bytes \*/(\d+|\*)", content_range.strip())
            chunk = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", content_range.strip())
            if status_query:
                total = status_query.group(1)
            elif chunk:
                first, last, total = int(chunk.group(1)), int(chunk.group(2)), chunk.group(3)
                if first > len(session.received) or last - first + 1 != len(body):
                    self._error(400, "Content-Range does not match what arrived.", "badContent")
                    return
                session.received[first:] = body
            else:
                self._error(400, "Invalid Content-Range.", "badContent")
                return
            if total != "*" and len(session.received) == int(total):
                self._upload_finish(query, session)
                return
            headers = {}
            if session.received:
                headers["Range"] = f"bytes=0-{len(session.received) - 1}"
            self._send(308, headers=headers)

        def _upload_finish(self, query: dict[str, str], session: UploadSession) -> None:
            metadata = {"mimeType": session.content_type, **session.metadata}
            stored = self._store(metadata, content=bytes(session.received))
            if stored is None:
                return
            session.file_id = stored.id
            self._json(200, _resource_select(stored.resource(), _fields(query)))

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

    return Handler


def _fields(query: dict[str, str]) -> list[str] | None:
    spec = query.get("fields")
    return None if spec is None else _fields_split(spec)
