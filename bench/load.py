"""Load: 50 concurrent assessment POSTs through the API, then 1,000 queued jobs drained.

The issue's figure: "50 concurrent assessment POSTs through the API plus 2
workers: every series planned once, every job completes, API p95 latency
printed; and 1,000 queued jobs drained with no loss."

Everything is real but the avatar vendor: a throwaway sandbox (temp folder,
a fresh SQLite file or, with --database-url, a fresh PostgreSQL database made
and dropped here; an embedded Redis), the real web server (gunicorn, as
`manage.py run_local` starts it) and 2 real RQ worker processes
(`manage.py rqworker --worker-class videos.worker.PresGenWorker --with-scheduler`).

The provider is the local fake HeyGen (tests/videos/fakes/heygen_server.py,
real HTTP on 127.0.0.1): rendering hundreds of studio videos would take hours
on 2 cores, so every render is "done" by HeyGen, which hands back one real
pre-rendered 480p studio clip. A driver thread here marks each render
complete about RENDER_SECONDS after it was submitted; the fake then POSTs its
signed webhook to the web server's /webhooks/heygen/, which queues a status
check on the workers; the worker re-reads the status over HTTP, downloads the
files, runs the real quality check and stores the Video. The pipeline's own
scheduled checks (10 s, 20 s, ... after submission) run on the workers'
scheduler too. No reconciler runs: a job that is lost stays lost and is counted.

Phase 1, the API: 50 learners, each with their own learner-scoped API token
(made with `manage.py create_api_token`, so no one token hits the create
throttle), POST an assessment at the same moment (50 threads behind a
barrier, httpx). Then the same 50 requests are sent again, concurrently, with
the same Idempotency-Key, and every series is planned again through the
service: neither may create anything. Then every planned job must finish.

Phase 2, the queue: --jobs video jobs are planned through the same service
(`assessment_record` → `series_plan`, 4 videos per assessment), queued after
commit, and drained by the 2 workers; no job may be lost, failed or doubled.
Worker time per job is printed ("worker:" lines): each forked work horse now
inherits the task modules, the URL resolver and the CA bundle from its
worker (videos/worker.py), which this bench showed cost ~0.7-0.9 s per task
when every horse loaded them itself.

    python bench/load.py [--learners 50] [--jobs 1000] [--database-url postgres://...]

Exits 0 when every assertion holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

API_KEY = "bench-heygen-key"
WEBHOOK_SECRET = "whsec-bench-load"  # noqa: S105 - the fake's, made up here
RENDER_SECONDS = 0.5  # how long the fake HeyGen "renders" before it calls back
VIDEOS_PER_ASSESSMENT = 4  # phase 2's scores plan overview, 2 remediations, motivational
# Phase 2's scores: two weak domains and an overall score under the exam-prep mark.
QUEUE_SCORES = {
    "security-identity": 30,
    "networking-delivery": 40,
    "cloud-concepts": 80,
    "compute-storage": 75,
    "operations-cost-resilience": 72,
}


@dataclass
class Figures:
    rows: list[tuple[str, str, bool | None]] = field(default_factory=list)

    def add(self, name: str, value: object, ok: bool | None = None) -> None:
        self.rows.append((name, str(value), ok))

    @property
    def passed(self) -> bool:
        return all(ok is not False for _, _, ok in self.rows)

    def print(self) -> None:
        width = max(len(name) for name, _, _ in self.rows)
        print("\n" + "figure".ljust(width) + "  value")
        print("-" * (width + 40))
        for name, value, ok in self.rows:
            mark = "" if ok is None else ("  ok" if ok else "  FAIL")
            print(f"{name.ljust(width)}  {value}{mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=50, help="concurrent assessment POSTs")
    parser.add_argument(
        "--jobs", type=int, default=1000, help="phase 2's queued jobs (a multiple of 4)"
    )
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers (2-4)")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument(
        "--worker-class",
        default="videos.worker.PresGenWorker",
        help="the RQ worker class (to measure a change to PresGen's worker)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server (postgres://user@host:port/any): a fresh database is "
        "made there for the run and dropped after; default: a fresh SQLite file",
    )
    parser.add_argument(
        "--budget", type=float, default=900, help="seconds each phase may take to finish"
    )
    args = parser.parse_args()
    with _sandbox(database_url=args.database_url) as work:
        return _run(work=work, args=args)


# --- the sandbox ---------------------------------------------------------------------------


@contextlib.contextmanager
def _sandbox(*, database_url: str) -> Iterator[Path]:
    """Temp folder, embedded Redis, a fresh database, Django set up and migrated."""
    from presgen.embedded_redis import EmbeddedRedis

    work = Path(tempfile.mkdtemp(prefix="presgen-bench-load-"))
    redis_server = EmbeddedRedis(socket_path=work / "redis.sock")
    redis_server.start()
    dropper = None
    try:
        if database_url:
            database_url, dropper = _postgres_database_create(server_url=database_url)
        else:
            database_url = f"sqlite:///{work / 'bench.sqlite3'}"
        # Settings are read once, at django.setup(); the servers inherit this environment.
        os.environ.update(
            DEBUG="1",
            DJANGO_SETTINGS_MODULE="presgen.settings",
            DATABASE_URL=database_url,
            REDIS_URL=redis_server.url,
            MEDIA_ROOT=str(work / "media"),
            RENDER_WORK_DIR=str(work / "render"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            VIDEO_QUALITY="480p",  # the fake hands back a 480p clip
            LOG_LEVEL="WARNING",
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield work
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        redis_server.stop()
        if dropper is not None:
            dropper()
        shutil.rmtree(work, ignore_errors=True)


def _postgres_database_create(*, server_url: str) -> tuple[str, Any]:
    """Make a fresh database on the server at `server_url`; its URL and a function to drop it."""
    import psycopg

    parts = urlsplit(server_url)
    name = f"presgen_bench_load_{uuid.uuid4().hex[:10]}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


class Servers:
    """gunicorn and the RQ workers, each in its own process group, logging to the sandbox."""

    def __init__(self, *, work: Path, web_workers: int, workers: int, worker_class: str) -> None:
        self.work = work
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        python, manage = sys.executable, str(ROOT / "manage.py")
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "presgen.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(web_workers),
                "--graceful-timeout",
                "5",
                "--timeout",
                "120",
            ],
        }
        for n in range(1, workers + 1):
            commands[f"worker{n}"] = [
                python,
                manage,
                "rqworker",
                "--worker-class",
                worker_class,
                "--with-scheduler",
                "--worker-ttl",
                "60",
                "high",
                "default",
                "low",
            ]
        self.commands = commands

    def start(self) -> None:
        for name, command in self.commands.items():
            log = (self.work / f"{name}.log").open("wb")
            self.children[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"the web server did not answer on {self.url} in {timeout:.0f} s")

    def check_alive(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {child.returncode}:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.work / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def problems(self) -> list[str]:
        """Error lines the servers logged (tracebacks, 'database is locked', 5xx)."""
        found = []
        for name in self.children:
            path = self.work / f"{name}.log"
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if any(w in line for w in ("Traceback", "Error", "ERROR", "locked")):
                    found.append(f"{name}: {line[:200]}")
        return found

    def stop(self) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Completer(threading.Thread):
    """Plays HeyGen's renderer: completes each render RENDER_SECONDS after its submission.

    Completing sends the fake's signed webhook to the web server.
    """

    def __init__(self, fake: Any) -> None:
        super().__init__(daemon=True)
        self.fake = fake
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            now = time.time()
            with self.fake.lock:
                due = [
                    render.video_id
                    for render in self.fake.renders.values()
                    if render.status in ("waiting", "processing")
                    and now - render.created_at >= RENDER_SECONDS
                ]
            for video_id in due:
                self.fake.complete(video_id)
            self.stopping.wait(0.1)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


# --- the run -------------------------------------------------------------------------------


def _run(*, work: Path, args: argparse.Namespace) -> int:
    from django.conf import settings

    from library.services import demo_load
    from tests.videos.fakes.heygen_server import FakeHeyGen
    from videos.models import ProviderAccount
    from videos.studio.renderer import video_render
    from videos.studio.types import Script, Section, VideoType

    figures = Figures()
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    queued_jobs = VIDEOS_PER_ASSESSMENT * (args.jobs // VIDEOS_PER_ASSESSMENT)
    print(
        f"load: {args.learners} concurrent assessment POSTs, then {queued_jobs} queued jobs; "
        f"{database}, embedded Redis, gunicorn x{args.web_workers}, {args.workers} RQ workers"
    )
    print(
        "  provider: the local fake HeyGen (real HTTP) hands back one pre-rendered 480p studio "
        f"clip; it 'renders' for {RENDER_SECONDS} s, then POSTs its signed webhook to the web "
        "server; the workers fetch, quality-check and store every video for real"
    )

    # What the fake HeyGen hands back for every render: a real 480p studio clip.
    clip = video_render(
        script=Script(VideoType.OVERVIEW, "Clip", (Section("Hello", "Hello there, learner."),)),
        dest=work / "clip.mp4",
        quality="480p",
    )
    fake = FakeHeyGen(
        video=clip.video_path,
        captions=clip.captions_path,
        thumbnail=clip.thumbnail_path,
        duration=clip.report.duration,
        api_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        polls_to_complete=None,  # only the completer (a webhook) finishes a render
    )
    demo = demo_load()
    ProviderAccount.objects.create(
        kind="heygen",
        name="heygen",
        priority=1,
        base_url=fake.url,
        credentials={  # type: ignore[misc]  # an encrypted JSON field takes a dict
            "api_key": API_KEY,
            "webhook_secret": WEBHOOK_SECRET,
            "default_avatar_id": "Daisy-inskirt-20220818",
            "default_voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
        },
        cost_per_minute=Decimal("1.2"),
        max_concurrency=1000,  # the default of 2 would hold all but two renders back
    )
    ProviderAccount.objects.create(kind="studio", name="studio", priority=2, enabled=False)

    servers = Servers(
        work=work,
        web_workers=args.web_workers,
        workers=args.workers,
        worker_class=args.worker_class,
    )
    completer = Completer(fake)
    fake.start()
    try:
        started = time.perf_counter()
        servers.start()
        print(f"  servers up in {time.perf_counter() - started:.1f} s at {servers.url}")
        fake.callback_url = f"{servers.url}/webhooks/heygen/"
        completer.start()
        _api_phase(args=args, servers=servers, certification=demo.certification, figures=figures)
        if queued_jobs:
            _queue_phase(
                args=args,
                servers=servers,
                certification=demo.certification,
                jobs_wanted=queued_jobs,
                figures=figures,
            )
        _provider_figures(fake=fake, figures=figures)
        _task_figures(figures=figures)
        problems = servers.problems()
        figures.add("error lines in server logs", len(problems), ok=not problems)
        for line in problems[:10]:
            print(f"    {line}")
    finally:
        completer.stop()
        servers.stop()
        fake.stop()

    figures.print()
    print("PASS" if figures.passed else "FAIL")
    return 0 if figures.passed else 1


def _learners_make(*, count: int, prefix: str) -> list[tuple[Any, str]]:
    """Learners with their own learner-scoped token, made by `manage.py create_api_token`."""
    from django.core.management import call_command

    from presgen.models import User

    made = []
    for n in range(count):
        user = User.objects.create(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com")
        out = io.StringIO()
        call_command("create_api_token", user.username, stdout=out, stderr=io.StringIO())
        made.append((user, out.getvalue().strip()))
    return made


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    replayed: bool
    body: Any


def _post_burst(*, url: str, requests: list[tuple[str, dict[str, Any], str]]) -> list[Answer]:
    """POST every (token, body, Idempotency-Key) at once: one thread each, behind a barrier."""
    import httpx

    barrier = threading.Barrier(len(requests))
    answers: list[Answer | None] = [None] * len(requests)

    def one(n: int) -> None:
        token, body, idempotency_key = requests[n]
        headers = {"Authorization": f"Token {token}", "Idempotency-Key": idempotency_key}
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            t0 = time.perf_counter()
            try:
                response = client.post(url, json=body, headers=headers)
            except httpx.HTTPError as error:
                answers[n] = Answer(0, time.perf_counter() - t0, False, repr(error))
                return
            seconds = time.perf_counter() - t0
            try:
                payload = response.json()
            except ValueError:
                payload = response.text[:200]
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            answers[n] = Answer(response.status_code, seconds, replayed, payload)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answer in answers if answer is not None]


def _get_burst(*, url: str, tokens: list[str]) -> Counter[int]:
    """GET `url` once per token, all at once: every web worker loads its code before timing."""
    import httpx

    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []

    def one(token: str) -> None:
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            try:
                status = client.get(url, headers={"Authorization": f"Token {token}"}).status_code
            except httpx.HTTPError:
                status = 0
            statuses.append(status)  # list.append is atomic

    threads = [threading.Thread(target=one, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def _answers_print(label: str, answers: list[Answer]) -> None:
    kinds = Counter(f"{a.status}{' replayed' if a.replayed else ''}" for a in answers)
    print(f"  {label}: {dict(sorted(kinds.items()))}")
    for answer in answers:
        if answer.status not in (200, 201, 409):
            print(f"    {answer.status}: {str(answer.body)[:300]}")


def _api_phase(
    *, args: argparse.Namespace, servers: Servers, certification: Any, figures: Figures
) -> None:
    from library.models import Assessment
    from videos.models import VideoJob
    from videos.planning import series_items_plan
    from videos.services import series_plan

    learners = _learners_make(count=args.learners, prefix="api-learner-")
    domains = list(certification.domains.order_by("position").values_list("slug", flat=True))
    url = f"{servers.url}/api/v1/assessments"

    def body_for(n: int, external_id: str, shift: int = 0) -> dict[str, Any]:
        # Different scores per learner, so the plans differ (1 to 3 weak domains,
        # with or without exam prep).
        scores = [(35 + 7 * n + 13 * i + shift) % 100 for i in range(len(domains))]
        return {
            "certification": certification.slug,
            "overall_score": round(sum(scores) / len(scores), 2),
            "domain_scores": [
                {"domain": d, "score": s} for d, s in zip(domains, scores, strict=True)
            ],
            "external_id": external_id,
            "learning_styles": ["visual"],
        }

    first_requests = [
        (token, body_for(n, f"bench-load-{n}"), f"bench-load-key-{n}")
        for n, (_, token) in enumerate(learners)
    ]
    print(f"\n[1] API: {len(learners)} learners, one learner-scoped token each, POST at once")
    warm = _get_burst(url=url, tokens=[token for _, token in learners])
    print(f"  warm-up: {sum(warm.values())} concurrent GETs of the list first: {dict(warm)}")
    started = time.perf_counter()
    first = _post_burst(url=url, requests=first_requests)
    wall = time.perf_counter() - started
    _answers_print("first POSTs", first)
    latencies = sorted(a.seconds for a in first)
    errors = sum(1 for a in first if a.status != 201)
    p95 = latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)]
    figures.add("API: concurrent assessment POSTs", len(first))
    figures.add(
        "API: latency p50 / p95 / max",
        f"{statistics.median(latencies) * 1000:.0f} / {p95 * 1000:.0f} / "
        f"{latencies[-1] * 1000:.0f} ms (all answered in {wall:.1f} s)",
    )
    figures.add("API: errors (not 201)", errors, ok=errors == 0)

    api_learners = [user for user, _ in learners]
    assessments = Assessment.objects.filter(learner__in=api_learners)
    first_ids = set(assessments.values_list("pk", flat=True))
    api_jobs = VideoJob.objects.filter(learner__in=api_learners)
    jobs_planned = api_jobs.count()
    answered_jobs = sum(len(a.body.get("jobs", [])) for a in first if isinstance(a.body, dict))

    # Every assessment planned exactly one series: its jobs are its plan, once each.
    wrong_plans = []
    for assessment in assessments:
        planned = sorted(item.plan_key for item in series_items_plan(assessment=assessment))
        made = sorted(api_jobs.filter(assessment=assessment).values_list("plan_key", flat=True))
        if planned != made:
            wrong_plans.append((assessment.pk, planned, made))
    for row in wrong_plans[:5]:
        print(f"    assessment #{row[0]}: plan {row[1]}, jobs {row[2]}")
    figures.add(
        "API: assessments stored",
        f"{len(first_ids)} of {len(learners)}",
        ok=len(first_ids) == len(learners),
    )
    figures.add(
        "API: series planned exactly once",
        f"{len(first_ids) - len(wrong_plans)} of {len(first_ids)} "
        f"({jobs_planned} jobs, {answered_jobs} listed in the answers)",
        ok=not wrong_plans and answered_jobs == jobs_planned,
    )

    # The same requests again, all at once, with the same Idempotency-Key: replays only.
    again = _post_burst(url=url, requests=first_requests)
    _answers_print(f"the same {len(again)} requests again, same keys", again)
    replays = sum(
        1
        for a, b in zip(first, again, strict=True)
        if b.replayed and (a.status, a.body) == (b.status, b.body)
    )
    figures.add(
        "API: resent with the same key",
        f"{replays} of {len(again)} answered from the key",
        ok=replays == len(again),
    )

    # A race: each learner sends a second result twice at the same moment with one
    # key (a client retrying on a timeout). Exactly one may run; the other is told
    # "in flight" (409) or gets the stored answer. Same scores as the first: the
    # plan keeps the learner's existing videos, so no job may be made.
    race_requests = [
        (token, body_for(n, f"bench-load-race-{n}"), f"bench-load-race-key-{n}")
        for n, (_, token) in enumerate(learners)
        for _ in range(2)
    ]
    race = _post_burst(url=url, requests=race_requests)
    _answers_print("a second result, sent twice at once with one key", race)
    runs_per_learner = Counter(
        n // 2 for n, a in enumerate(race) if a.status == 201 and not a.replayed
    )
    others_ok = all(
        a.status == 409 or (a.status == 201 and a.replayed)
        for n, a in enumerate(race)
        if not (a.status == 201 and not a.replayed and runs_per_learner[n // 2] == 1)
    )
    race_assessments = assessments.exclude(pk__in=first_ids).count()
    once = sum(1 for n in range(len(learners)) if runs_per_learner[n] == 1)
    figures.add(
        "API: racing duplicates that ran once",
        f"{once} of {len(learners)} ({race_assessments} assessments stored)",
        ok=once == len(learners) == race_assessments and others_ok,
    )

    # And every series planned again through the service (a re-plan): nothing new.
    replanned = sum(len(series_plan(assessment=a).created) for a in assessments)
    jobs_now = api_jobs.count()
    figures.add(
        "API: jobs made by resends, race, re-plans",
        f"{jobs_now - jobs_planned} + {replanned}",
        ok=jobs_now == jobs_planned and replanned == 0,
    )

    # A planning race: two different results with the same new scores, for the same
    # learner at the same moment (two systems posting it). Both are stored; the
    # learner's new videos are planned once, and both answers list the same jobs.
    racers = min(10, len(learners))
    plan_race_requests = [
        (learners[n][1], body_for(n, f"bench-load-plan-{n}-{side}", shift=50), f"plan-{n}-{side}")
        for n in range(racers)
        for side in ("a", "b")
    ]
    seen = set(assessments.values_list("pk", flat=True))
    plan_race = _post_burst(url=url, requests=plan_race_requests)
    _answers_print(f"{racers} learners: two new results with the same scores at once", plan_race)
    consistent = 0
    for n in range(racers):
        a, b = plan_race[2 * n], plan_race[2 * n + 1]
        if not (a.status == b.status == 201 and isinstance(a.body, dict)):
            continue
        jobs_a = sorted(job["id"] for job in a.body.get("jobs", []))
        jobs_b = sorted(job["id"] for job in b.body.get("jobs", []))
        new = assessments.filter(learner=learners[n][0]).exclude(pk__in=seen)
        keys = {
            (item.plan_key, item.fingerprint)
            for assessment in new
            for item in series_items_plan(assessment=assessment)
        }
        learner_jobs = api_jobs.filter(learner=learners[n][0])
        matching = [
            job_id
            for job_id, key, print_ in learner_jobs.values_list(
                "pk", "plan_key", "plan_fingerprint"
            )
            if (key, print_) in keys
        ]
        if new.count() == 2 and jobs_a == jobs_b == sorted(matching) and len(matching) == len(keys):
            consistent += 1
    new_jobs = api_jobs.count() - jobs_now
    figures.add(
        "API: racing plans of the same videos",
        f"{consistent} of {racers} learners: 2 stored, 1 series ({new_jobs} new jobs)",
        ok=consistent == racers,
    )

    drained = _wait_done(jobs=api_jobs, servers=servers, budget=args.budget, label="API jobs")
    _jobs_figures(prefix="API", jobs=api_jobs, seconds=drained, figures=figures)


def _queue_phase(
    *,
    args: argparse.Namespace,
    servers: Servers,
    certification: Any,
    jobs_wanted: int,
    figures: Figures,
) -> None:
    from django.utils import timezone

    from presgen.api.intake import DomainResult, assessment_record
    from presgen.models import User
    from videos.models import VideoJob

    count = jobs_wanted // VIDEOS_PER_ASSESSMENT
    print(
        f"\n[2] queue: {jobs_wanted} jobs planned through assessment_record/series_plan "
        f"({count} assessments x {VIDEOS_PER_ASSESSMENT}), queued on commit, 2 workers drain"
    )
    domains = {d.slug: d for d in certification.domains.all()}
    results = [DomainResult(domains[slug], Decimal(s)) for slug, s in QUEUE_SCORES.items()]
    learners = [
        User(username=f"queue-learner-{n}", email=f"queue-learner-{n}@example.com")
        for n in range(count)
    ]
    User.objects.bulk_create(learners)
    learners = list(User.objects.filter(username__startswith="queue-learner-"))
    queue_jobs = VideoJob.objects.filter(learner__in=learners)

    started = time.perf_counter()
    planned = 0
    for learner in learners:
        plan = assessment_record(
            learner=learner,
            certification=certification,
            overall_score=Decimal(45),
            taken_at=timezone.now() - timedelta(hours=1),
            domain_scores=results,
        )
        planned += len(plan.created)
    plan_seconds = time.perf_counter() - started
    print(f"  planned and queued {planned} jobs in {plan_seconds:.1f} s (workers already draining)")
    figures.add(
        "queue: jobs planned and queued",
        f"{planned} in {plan_seconds:.1f} s",
        ok=planned == jobs_wanted,
    )
    drained = _wait_done(
        jobs=queue_jobs, servers=servers, budget=args.budget, label="queued jobs", since=started
    )
    _jobs_figures(prefix="queue", jobs=queue_jobs, seconds=drained, figures=figures)
    figures.add("queue: throughput", f"{planned / drained:.2f} jobs/s ({drained:.1f} s total)")
    figures.add("queue: worker time per job", f"{args.workers * drained / planned:.2f} s")


def _wait_done(
    *, jobs: Any, servers: Servers, budget: float, label: str, since: float | None = None
) -> float:
    """Wait until no job is active (or the budget is spent); seconds since `since`."""
    from videos.models import ACTIVE_STATUSES, JobStatus

    started = since if since is not None else time.perf_counter()
    deadline = time.perf_counter() + budget
    last_print = 0.0
    while time.perf_counter() < deadline:
        servers.check_alive()
        counts = Counter(jobs.values_list("status", flat=True))
        active = sum(n for status, n in counts.items() if status in ACTIVE_STATUSES)
        now = time.perf_counter()
        if not active:
            break
        if now - last_print >= 10:
            ready = counts.get(JobStatus.READY, 0)
            print(f"    {now - started:6.1f} s  {label}: {ready} ready, {active} active")
            last_print = now
        time.sleep(0.25)
    seconds = time.perf_counter() - started
    statuses = dict(Counter(jobs.values_list("status", flat=True)))
    print(f"  {label}: done waiting after {seconds:.1f} s: {statuses}")
    return seconds


def _jobs_figures(*, prefix: str, jobs: Any, seconds: float, figures: Figures) -> None:
    import django_rq
    from django.conf import settings

    from videos.models import ACTIVE_STATUSES, GenerationAttempt, JobStatus, Video

    total = jobs.count()
    by_status = Counter(jobs.values_list("status", flat=True))
    ready = by_status.get(JobStatus.READY, 0)
    failed = by_status.get(JobStatus.FAILED, 0) + by_status.get(JobStatus.CANCELLED, 0)
    stuck = sum(n for status, n in by_status.items() if status in ACTIVE_STATUSES)
    videos = Video.objects.filter(job__in=jobs)
    video_count = videos.count()
    files_missing = len(
        [v for v in videos.only("file") if not v.file.storage.exists(str(v.file.name))]
    )
    attempts = GenerationAttempt.objects.filter(job__in=jobs).count()
    failed_rq = sum(
        django_rq.get_queue(name).failed_job_registry.count for name in settings.RQ_QUEUE_NAMES
    )
    for job in jobs.exclude(status=JobStatus.READY)[:5]:
        print(f"    job #{job.pk} {job.status}: {job.error[:200]}")
    figures.add(
        f"{prefix}: jobs ready", f"{ready} of {total} in {seconds:.1f} s", ok=ready == total
    )
    figures.add(f"{prefix}: jobs failed / stuck", f"{failed} / {stuck}", ok=failed == stuck == 0)
    figures.add(
        f"{prefix}: Videos (one per job)",
        f"{video_count}, files missing {files_missing}",
        ok=video_count == total and files_missing == 0,
    )
    figures.add(f"{prefix}: provider attempts", attempts, ok=attempts == total)
    figures.add(f"{prefix}: RQ failed registry (all queues)", failed_rq, ok=failed_rq == 0)


def _task_figures(*, figures: Figures) -> None:
    """Where the workers' time went: RQ's own start and end times of every finished task."""
    import django_rq
    from django.conf import settings
    from rq.job import Job

    seconds: dict[str, list[float]] = {}
    for name in settings.RQ_QUEUE_NAMES:
        queue = django_rq.get_queue(name)
        ids = queue.finished_job_registry.get_job_ids()
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is None or job.started_at is None or job.ended_at is None:
                continue
            task = (job.func_name or "?").rsplit(".", 1)[-1]
            seconds.setdefault(task, []).append((job.ended_at - job.started_at).total_seconds())
    for task, values in sorted(seconds.items()):
        figures.add(
            f"worker: {task}",
            f"{len(values)} runs, mean {1000 * statistics.mean(values):.0f} ms, "
            f"total {sum(values):.1f} s",
        )


def _provider_figures(*, fake: Any, figures: Figures) -> None:
    renders = fake.submissions()
    per_key = Counter(render.callback_id for render in renders)
    doubled = sum(1 for n in per_key.values() if n > 1)
    deliveries = Counter(delivery.status for delivery in fake.deliveries)
    refused = sum(n for status, n in deliveries.items() if status not in (200, 202))
    figures.add("HeyGen: renders submitted", len(renders))
    figures.add("HeyGen: attempts submitted twice", doubled, ok=doubled == 0)
    figures.add(
        "HeyGen: webhooks delivered (answers)",
        f"{len(fake.deliveries)} {dict(sorted(deliveries.items()))}",
        ok=refused == 0,
    )


if __name__ == "__main__":
    sys.exit(main())
