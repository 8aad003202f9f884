"""D-ID (the Talks API) as a remote provider: the one module that talks to D-ID.

Calls used, as D-ID documents them:

- `POST /talks` starts a render from a presenter image (`source_url`) and a
  text `script` read by a TTS voice; it answers `201 {"id", "status":
  "created"}`. `user_data` carries our idempotency key so D-ID's dashboard
  and its webhook can be traced back to the attempt. D-ID does not
  deduplicate submissions, so a submit is never retried after the request
  may have reached D-ID.
- `GET /talks/{id}` reports `created | started | done | error | rejected`
  and, once done, `result_url` (a pre-signed S3 link, fetched WITHOUT our
  Authorization header) and `duration` (seconds).
- `DELETE /talks/{id}` deletes a talk (D-ID answers 409 while it renders).
- `GET /credits` is the cheap authenticated call behind `health()`.
- Errors come as `{"kind": ..., "description": ...}`.

Authentication: D-ID issues keys as `API_USER:API_PASSWORD` and documents
sending them as `Authorization: Basic <key>`; the key is sent exactly as
stored in `credentials["api_key"]`.

Webhooks: D-ID POSTs the talk's JSON to the `webhook` URL given with the
talk, with no signature. PresGen therefore protects the URL with a secret
token: `credentials["webhook_url"]` (or the request's `webhook_url`) is sent
to D-ID with `?token=<first webhook secret>` appended, and `webhook_verify`
compares, in constant time, the token found in the `x-presgen-token` header
or in the `token` query parameter (when the endpoint passes the query) with
every secret in `credentials["webhook_secrets"]` / `["webhook_secret"]`.
D-ID itself cannot send custom headers, so the header form is for a gateway
that moves the token into a header; see `webhook_verify`.

Output: D-ID returns an MP4 and nothing else: no captions file and no
thumbnail. Captions exist only when the account asks D-ID to burn subtitles
into the picture (`credentials["subtitles"]: true`); only then does this
adapter claim the captions capability. The output frame follows the
presenter image (`config.stitch` keeps the whole image), so the resolutions
this account can make are configured with the image:
`credentials["resolutions"]` (default `["720p"]`).

Credentials (`ProviderAccount.credentials`, encrypted at rest): `api_key`;
optional `source_url`, `voice_id` (a Microsoft voice), `subtitles`,
`resolutions`, `webhook_url`, `webhook_secret` / `webhook_secrets`.
Nothing here logs or raises with a credential in it.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from videos.models import ProviderAccount
from videos.providers.base import (
    Capabilities,
    FailureKind,
    Health,
    ProgressCallback,
    ProviderError,
    RemoteState,
    RemoteStatus,
    RenderOutput,
    RenderRequest,
    Submission,
    WebhookError,
    WebhookNotice,
    account_credentials,
    webhook_secrets_read,
)
from videos.providers.http import (
    DEFAULT_POLICY,
    JsonApiClient,
    RetryPolicy,
    http_download,
)
from videos.quality import media_duration
from videos.studio.types import PAUSE_MARKER, Script

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.d-id.com"
# The presenter image D-ID's own API reference uses in its examples.
DEFAULT_SOURCE_URL = "https://create-images-results.d-id.com/DefaultPresenters/Noelle_f/image.jpeg"
DEFAULT_VOICE_ID = "en-US-JennyNeural"
DEFAULT_RESOLUTIONS = ("720p",)
KNOWN_RESOLUTIONS = frozenset({"480p", "720p", "1080p"})
# D-ID accepts 3..40,000 characters of text per talk.
INPUT_MIN, INPUT_MAX = 3, 40_000
USER_DATA_MAX = 1000
# A long talk is still one request; D-ID bills by the started 15 seconds.
MAX_DURATION_SECONDS = 10 * 60
# Without SSML a pause is read as a beat of silence after an ellipsis.
PAUSE_TEXT = " ... ... "
TOKEN_HEADER = "x-presgen-token"  # noqa: S105 (a header name)
TOKEN_PARAM = "token"  # noqa: S105 (a query parameter name)
STATES = {
    "created": RemoteState.QUEUED,
    "started": RemoteState.PROCESSING,
    "done": RemoteState.COMPLETED,
    "error": RemoteState.FAILED,
    "rejected": RemoteState.FAILED,
}
HEALTH_POLICY = RetryPolicy(attempts=2, base_seconds=0.2, cap_seconds=1.0)


def narration_input(script: Script) -> str:
    """The script as one text for D-ID's TTS, a think pause read as an audible beat."""
    texts = []
    for section in script.sections:
        text = " ".join(section.text.replace(PAUSE_MARKER, PAUSE_TEXT).split())
        if text:
            texts.append(text)
    return "\n\n".join(texts)


def _with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != TOKEN_PARAM]
    query.append((TOKEN_PARAM, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_text(talk: Mapping[str, Any]) -> str:
    error = talk.get("error")
    if isinstance(error, Mapping):
        kind, description = error.get("kind", ""), error.get("description", "")
        return f"{kind}: {description}".strip(": ") or "unknown error"
    if isinstance(error, str) and error:
        return error
    return str(talk.get("description") or "no reason given")


class DidProvider(JsonApiClient):
    kind = "did"

    def __init__(self, *, name: str = "did", account: ProviderAccount | None = None) -> None:
        self.name = name
        credentials = account_credentials(account)
        self.base_url = ((account.base_url if account else "") or DEFAULT_BASE_URL).rstrip("/")
        self._api_key = str(credentials.get("api_key", ""))
        self.source_url = str(credentials.get("source_url") or DEFAULT_SOURCE_URL)
        self.voice_id = str(credentials.get("voice_id") or DEFAULT_VOICE_ID)
        self.subtitles = bool(credentials.get("subtitles", False))
        self.webhook_url = str(credentials.get("webhook_url") or "")
        self._webhook_secrets = webhook_secrets_read(credentials)
        resolutions = credentials.get("resolutions") or DEFAULT_RESOLUTIONS
        self.cost_per_minute = account.cost_per_minute if account else Decimal(0)
        self.max_concurrency = account.max_concurrency if account else 2
        self.capabilities = Capabilities(
            max_duration_seconds=MAX_DURATION_SECONDS,
            resolutions=frozenset(str(r) for r in resolutions) & KNOWN_RESOLUTIONS,
            captions=self.subtitles,  # burned into the picture; no captions file
            custom_avatars=True,  # any portrait: uploaded, then used as source_url
            local=False,
            voices=(self.voice_id,),
            narrated_presenter=True,
        )
        self.policy: RetryPolicy = DEFAULT_POLICY
        self.sleep: Callable[[float], None] = time.sleep  # tests make retries instant

    def __repr__(self) -> str:  # never show the key
        return f"DidProvider(name={self.name!r}, base_url={self.base_url!r})"

    # --- HTTP ------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if not self._api_key:
            raise ProviderError(
                f"{self.name}: no api_key configured", kind=FailureKind.PROVIDER_DOWN
            )
        return {"Authorization": f"Basic {self._api_key}", "Accept": "application/json"}

    def _talk(self, external_id: str) -> dict[str, Any]:
        return self._call("GET", f"/talks/{quote(external_id, safe='')}", idempotent=True)

    # --- the provider protocol -------------------------------------------------

    def submit(
        self, request: RenderRequest, *, workdir: Path, on_progress: ProgressCallback
    ) -> Submission:
        text = narration_input(request.script)
        if len(text) < INPUT_MIN:
            raise ProviderError(
                f"{self.name}: the script has no text to read", kind=FailureKind.PERMANENT
            )
        if len(text) > INPUT_MAX:
            raise ProviderError(
                f"{self.name}: the script is longer than D-ID's {INPUT_MAX} characters",
                kind=FailureKind.PERMANENT,
            )
        voice = request.voice.voice_id if "Neural" in request.voice.voice_id else self.voice_id
        body: dict[str, Any] = {
            "source_url": self._source_url(request),
            "script": {
                "type": "text",
                "input": text,
                "provider": {"type": "microsoft", "voice_id": voice},
                "subtitles": self.subtitles and request.video.captions,
                "ssml": False,
            },
            "config": {"fluent": True, "stitch": True, "result_format": "mp4"},
            "user_data": request.idempotency_key[:USER_DATA_MAX],
            "name": request.script.title[:200],
        }
        webhook = request.webhook_url or self.webhook_url
        if webhook:
            body["webhook"] = (
                _with_token(webhook, self._webhook_secrets[0]) if self._webhook_secrets else webhook
            )
        # Not idempotent: D-ID would render (and bill) a retried POST twice.
        talk = self._call("POST", "/talks", idempotent=False, json=body)
        talk_id = talk.get("id")
        if not isinstance(talk_id, str) or not talk_id:
            raise ProviderError(
                f"{self.name}: POST /talks answered without an id", kind=FailureKind.RETRYABLE
            )
        on_progress(0)
        return Submission(external_id=talk_id)

    def _source_url(self, request: RenderRequest) -> str:
        image = request.avatar.image_path
        if not (request.custom_avatar and image):
            return self.source_url
        path = Path(image)
        kind = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
        try:
            content = path.read_bytes()
        except OSError as error:
            raise ProviderError(
                f"{self.name}: cannot read the custom portrait: {error.strerror}",
                kind=FailureKind.PERMANENT,
            ) from error
        # Uploading the same image twice is harmless, so this may be retried.
        uploaded = self._call(
            "POST", "/images", idempotent=True, files={"image": (path.name, content, kind)}
        )
        url = uploaded.get("url")
        if not isinstance(url, str) or not url:
            raise ProviderError(
                f"{self.name}: POST /images answered without a url", kind=FailureKind.RETRYABLE
            )
        return url

    def status(self, external_id: str) -> RemoteStatus:
        talk = self._talk(external_id)
        raw = str(talk.get("status", ""))
        state = STATES.get(raw)
        if state is None:
            raise ProviderError(
                f"{self.name}: unknown talk status {raw!r}", kind=FailureKind.RETRYABLE
            )
        if state == RemoteState.FAILED:
            return RemoteStatus(state=state, error=f"D-ID {raw}: {_error_text(talk)}")
        if state == RemoteState.COMPLETED:
            return RemoteStatus(state=state, progress=100)
        return RemoteStatus(state=state, progress=0 if state == RemoteState.QUEUED else None)

    def fetch(self, external_id: str, *, workdir: Path) -> RenderOutput:
        talk = self._talk(external_id)
        if talk.get("status") != "done":
            raise ProviderError(
                f"{self.name}: talk {external_id} is {talk.get('status')!r}, not done",
                kind=FailureKind.RETRYABLE,
            )
        url = talk.get("result_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProviderError(
                f"{self.name}: talk {external_id} has no result_url", kind=FailureKind.RETRYABLE
            )
        dest = workdir / "did.mp4"
        # A pre-signed link: our Authorization header must not go to S3.
        http_download(url, dest=dest, provider=self.name, policy=self.policy, sleep=self.sleep)
        duration = _number(talk.get("duration")) or media_duration(path=dest) or 0.0
        minutes = Decimal(str(duration)) / 60
        return RenderOutput(
            video_path=dest,
            captions_path=None,  # D-ID has no captions file (subtitles are burned in)
            thumbnail_path=None,
            duration=duration,
            # D-ID times the speech itself: hold the file to what D-ID reports.
            expected_duration=_number(talk.get("duration")),
            cost=(self.cost_per_minute * minutes).quantize(Decimal("0.0001")),
        )

    def cancel(self, external_id: str) -> None:
        # D-ID refuses (409) to delete a talk while it renders; the caller
        # treats cancel as best effort and never fetches the result.
        self._call("DELETE", f"/talks/{quote(external_id, safe='')}", idempotent=True)

    def health(self) -> Health:
        started = time.monotonic()
        try:
            credits = self._call("GET", "/credits", idempotent=True, policy=HEALTH_POLICY)
        except ProviderError as error:
            return Health(ok=False, detail=str(error))
        latency = round((time.monotonic() - started) * 1000, 1)
        remaining = _number(credits.get("remaining"))
        if remaining is not None and remaining <= 0:
            return Health(ok=False, detail="no D-ID credits left", latency_ms=latency)
        return Health(
            ok=True,
            detail=f"{remaining:g} credits left" if remaining is not None else "reachable",
            latency_ms=latency,
            extra={"remaining": remaining},
        )

    # --- webhooks --------------------------------------------------------------

    def webhook_verify(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None = None,
    ) -> None:
        """Refuse a delivery unless it carries one of our webhook secrets.

        D-ID signs nothing, so the secret travels with the URL we gave D-ID
        (`?token=`). The endpoint hands over headers and body; the token is
        read from the `x-presgen-token` header, or from `query` when the
        caller passes the request's query parameters.
        """
        if not self._webhook_secrets:
            raise WebhookError("signature check impossible: no webhook secret configured")
        given = headers.get(TOKEN_HEADER) or (query or {}).get(TOKEN_PARAM) or ""
        if not given:
            raise WebhookError("missing webhook token (signature)")
        given_bytes = given.encode()
        if not any(hmac.compare_digest(given_bytes, s.encode()) for s in self._webhook_secrets):
            raise WebhookError("webhook token does not match (bad signature)")

    def webhook_parse(self, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        try:
            talk = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookError("unreadable webhook body") from None
        if not isinstance(talk, dict):
            raise WebhookError("unreadable webhook body")
        talk_id, raw = talk.get("id"), talk.get("status")
        if not isinstance(talk_id, str) or not talk_id or not isinstance(raw, str):
            raise WebhookError("webhook body is not a D-ID talk")
        # A talk reaches each status once: (id, status) names the event.
        return WebhookNotice(
            event_id=f"{talk_id}:{raw}", external_id=talk_id, state=STATES.get(raw)
        )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None
