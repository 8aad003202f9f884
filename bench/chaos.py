"""Chaos: real worker processes killed, and frozen, mid-render (issue 9, items 1-3).

    python bench/chaos.py        (or `make chaos`)

A throwaway PresGen (temp folder, file SQLite, embedded Redis, MEDIA_ROOT and
RENDER_WORK_DIR in the temp folder) runs the shipped worker processes,
`manage.py rqworker --worker-class videos.worker.PresGenWorker` with the
arguments run_local uses, and the shipped reconciler, `manage.py rqcron
videos.cron`. Every setting is PresGen's default (JOB_LEASE_SECONDS 75, the
reconciler every 15 s, RQ maintenance every 30 s, worker TTL 60) except
VIDEO_QUALITY=480p. Jobs carry a pre-written script of about 55 s that the
studio renders in ~20 s, so a signal can land mid-render ("rendering" with
10 < progress < 85 on the job row).

1. whole worker SIGKILLed (worker, horse, scheduler: every process of it),
   a second worker running: the job runs again and completes; one Video, one
   successful attempt, only that Video's files in MEDIA_ROOT, nothing of the
   killed horse left in RENDER_WORK_DIR.
2. only the work horse SIGKILLed (one worker): its worker hands the job back
   at once and runs it again itself.
3. a zombie: a worker and all its processes SIGSTOPped mid-render until its
   lease runs out; the other worker runs the job to the end; SIGCONT: the
   zombie's next write finds the lease lost and it stops, without a second
   Video, without touching the ready job, without leaving files.
3r. the same with the fake HeyGen (real HTTP on 127.0.0.1) as the provider,
   the zombie frozen while downloading the finished render: one submission.

Exits 1 with a message when a scenario's outcome is wrong. The machine has 2
cores shared with whatever else runs: the seconds are noisy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from _sandbox import ROOT, bench_sandbox

API_KEY = "chaos-heygen-key"
TEXT = (
    "Today we review identity and access management, network security groups and "
    "storage classes, one step at a time, with an example for each of them. "
)
RECOVERY_TARGET_SECONDS = 120
T0 = time.monotonic()


class ScenarioFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f} s] {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def wait_for(what: str, predicate: Callable[[], Any], *, timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise ScenarioFailed(f"timed out after {timeout:.0f} s waiting for {what}")


# --- processes ------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    for child in children(pid):
        out += [child, *descendants(child)]
    return out


def horse_of(worker: Proc) -> int | None:
    """The work horse: the worker's child in a process group of its own (RQ's setpgrp)."""
    for child in children(worker.pid):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(child) == child:
                return child
    return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


@dataclass
class Fleet:
    work: Path
    procs: list[Proc] = field(default_factory=list)
    started: int = 0

    def _spawn(self, name: str, args: list[str]) -> Proc:
        log = self.work / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        popen = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
            cwd=ROOT,
            start_new_session=True,
        )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def worker(self) -> Proc:
        """A worker exactly as `manage.py run_local` starts it."""
        self.started += 1
        name = f"chaos-worker-{self.started}"
        proc = self._spawn(
            name,
            [
                "rqworker",
                "high",
                "default",
                "low",
                "--with-scheduler",
                "--worker-class",
                "videos.worker.PresGenWorker",
                "--worker-ttl",
                "60",
                "--name",
                name,
            ],
        )
        from django_rq import get_connection
        from rq.worker import Worker

        connection = get_connection("default")
        wait_for(
            f"{name} to register with Redis",
            lambda: any(w.name == name for w in Worker.all(connection=connection)),
            timeout=90,
        )
        say(f"{name} started (pid {proc.pid})")
        return proc

    def cron(self) -> Proc:
        proc = self._spawn("rqcron", ["rqcron", "videos.cron"])
        say(f"rqcron videos.cron started (pid {proc.pid})")
        return proc

    def stop(self, proc: Proc, *, timeout: float = 20) -> None:
        pids = descendants(proc.pid)
        signal_all([proc.pid, *pids], signal.SIGCONT)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            signal_all([proc.pid, *pids], signal.SIGKILL)
            proc.popen.wait()
        signal_all(pids, signal.SIGKILL)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc, timeout=10)


# --- the run -------------------------------------------------------------------------


def main() -> int:
    with bench_sandbox(
        prefix="presgen-chaos-",
        VIDEO_QUALITY="480p",
        LOG_LEVEL="INFO",
        # Selection by priority alone (the studio, or the one provider a job names).
        PROVIDER_WEIGHT_QUALITY="0",
        PROVIDER_WEIGHT_RELIABILITY="0",
        PROVIDER_WEIGHT_SPEED="0",
        PROVIDER_WEIGHT_COST="0",
    ) as work:
        fleet = Fleet(work)
        try:
            return Chaos(work=work, fleet=fleet).run()
        finally:
            fleet.stop_all()


class Chaos:
    def __init__(self, *, work: Path, fleet: Fleet) -> None:
        from django.conf import settings

        from presgen.models import User
        from videos.models import ProviderAccount

        self.work = work
        self.fleet = fleet
        self.media = Path(settings.MEDIA_ROOT)
        self.render_dir = Path(settings.RENDER_WORK_DIR)
        self.rows: list[tuple[str, str, str]] = []
        self.workers: list[Proc] = []
        ProviderAccount.objects.create(
            kind="studio", name="studio", priority=1, enabled=True, max_concurrency=10
        )
        self.learner = User.objects.create(username="chaos", email="chaos@example.com")

    # --- helpers -----------------------------------------------------------------------

    def job_make(self, title: str, *, provider: str = "") -> Any:
        from django.db import transaction

        from videos.models import VideoJob
        from videos.queueing import job_enqueue
        from videos.scriptwriting.types import ScriptQuality, WrittenScript
        from videos.studio.types import Script, Section, VideoType

        written = WrittenScript(
            script=Script(
                VideoType.OVERVIEW,
                title,
                (Section("Part one", TEXT * 3), Section("Part two", TEXT * 3)),
            ),
            target_seconds=55,
            voice_speed=1.0,
            gesture_level=0.5,
            slides=True,
            writer="template",
            quality=ScriptQuality(total=80.0, parts={}),
        )
        parameters: dict[str, Any] = {"quality": "480p"}
        if provider:
            parameters["provider"] = provider
        job = VideoJob.objects.create(
            learner=self.learner,
            video_type=VideoType.OVERVIEW,
            priority=2,
            script=written.as_dict(),
            target_duration_seconds=written.target_seconds,
            parameters=parameters,
        )
        with transaction.atomic():
            job_enqueue(job=job, quality="480p")
        say(f"job #{job.pk} ({title}) enqueued")
        return job

    def row(self, job_id: int) -> Any:
        from videos.models import VideoJob

        return VideoJob.objects.get(pk=job_id)

    def wait_mid_render(self, job_id: int) -> Any:
        def mid() -> Any:
            job = self.row(job_id)
            if job.status == "rendering" and 10 < job.progress < 85 and job.lease_token:
                return job
            return None

        job = wait_for(f"job #{job_id} mid-render", mid, timeout=180)
        say(f"job #{job_id} is rendering at {job.progress}%")
        return job

    def running(self, job_id: int) -> tuple[Proc, int]:
        """The worker (and its horse) running the job now, as RQ and /proc tell."""
        from django_rq import get_connection
        from rq.worker import Worker

        from videos.models import GenerationAttempt

        attempts = set(GenerationAttempt.objects.filter(job_id=job_id).values_list("pk", flat=True))

        def find() -> tuple[Proc, int] | None:
            for rq_worker in Worker.all(connection=get_connection("default")):
                current = rq_worker.get_current_job()
                if current is None or not current.args:
                    continue
                wanted = {
                    "videos.tasks.job_run_task": {job_id},
                    "videos.tasks.attempt_check_task": attempts,
                }
                ours = current.args[0] in wanted.get(current.func_name, set())
                proc = next((w for w in self.workers if w.name == rq_worker.name), None)
                horse = horse_of(proc) if ours and proc else None
                if proc and horse:
                    return proc, horse
            return None

        return wait_for(f"the worker running job #{job_id}", find, timeout=10, every=0.05)

    def wait_reclaimed(self, job_id: int, *, old_token: Any, start: float) -> float:
        def claimed() -> bool:
            job = self.row(job_id)
            return job.lease_token is not None and job.lease_token != old_token

        wait_for(f"job #{job_id} to be claimed again", claimed, timeout=300, every=0.1)
        return time.monotonic() - start

    def wait_ready(self, job_id: int, *, timeout: float = 240) -> Any:
        from videos.models import ACTIVE_STATUSES

        job = wait_for(
            f"job #{job_id} to finish",
            lambda: (j := self.row(job_id)).status not in ACTIVE_STATUSES and j,
            timeout=timeout,
            every=0.3,
        )
        check(job.status == "ready", f"job #{job_id} ended {job.status}: {job.error}")
        return job

    def rerun_worker(self, job_id: int) -> str:
        from django_rq import get_connection
        from rq.job import Job

        rq_job = Job.fetch(self.row(job_id).rq_job_id, connection=get_connection("default"))
        return rq_job.worker_name or "?"

    def outcome_check(self, job_id: int) -> str:
        """One Video, one successful attempt, only that Video's files in MEDIA_ROOT."""
        from videos.models import AttemptStatus, Video

        videos = list(Video.objects.filter(job_id=job_id))
        check(len(videos) == 1, f"job #{job_id} has {len(videos)} Videos")
        job = self.row(job_id)
        attempts = list(job.attempts.order_by("started_at"))
        succeeded = [a for a in attempts if a.status == AttemptStatus.SUCCEEDED]
        check(len(succeeded) == 1, f"job #{job_id}: {len(succeeded)} successful attempts")
        for attempt in attempts:
            say(
                f"  attempt #{attempt.pk} {attempt.provider} {attempt.status}"
                + (f": {attempt.error}" if attempt.error else "")
            )
        expected = {
            f.name for v in Video.objects.all() for f in (v.file, v.captions, v.thumbnail) if f
        }
        found = {str(p.relative_to(self.media)) for p in self.media.rglob("*") if p.is_file()}
        check(found == expected, f"MEDIA_ROOT holds {sorted(found - expected)} beyond the Videos")
        mine = sorted(f for v in videos for f in (v.file.name, v.captions.name, v.thumbnail.name))
        say(f"  MEDIA_ROOT for job #{job_id}: {', '.join(mine)}")
        return f"Videos=1, attempts {len(attempts)} ({len(succeeded)} succeeded)"

    def work_leftovers(self, *, dead: list[int]) -> list[str]:
        """Files under RENDER_WORK_DIR, and whether any dead horse's folder is still there."""
        from videos.reconciler import horse_workdir

        dirs = [horse_workdir(root=self.render_dir, pid=pid) for pid in dead]
        return [str(d.relative_to(self.render_dir)) for d in dirs if d.exists()]

    def dead_horse_files(self, horse: int) -> str:
        from videos.reconciler import horse_workdir

        folder = horse_workdir(root=self.render_dir, pid=horse)
        files = [p for p in folder.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        names = ", ".join(str(p.relative_to(self.render_dir)) for p in files[:4])
        return f"{len(files)} file(s), {size / 1e6:.1f} MB ({names})" if files else "nothing"

    def wait_swept(self, *, dead: list[int]) -> str:
        left = wait_for(
            "the dead horses' work folders to be removed",
            lambda: not self.work_leftovers(dead=dead) or None,
            timeout=45,
            every=0.5,
        )
        del left
        files = [str(p.relative_to(self.render_dir)) for p in self.render_dir.rglob("*")]
        files = [f for f in files if "/" in f]  # live horses' folders themselves are fine
        check(not files, f"RENDER_WORK_DIR still holds {files}")
        return "RENDER_WORK_DIR clean"

    # --- scenarios ----------------------------------------------------------------------

    def run(self) -> int:
        failed = False
        cron = self.fleet.cron()
        w1 = self.fleet.worker()
        scenarios: list[tuple[str, Callable[[], tuple[str, str]]]] = [
            ("2. SIGKILL the work horse", lambda: self.horse_kill(w1)),
            ("1. SIGKILL a whole worker", self.worker_kill),
            ("3. zombie worker (studio)", self.zombie_studio),
            ("3r. zombie worker (HeyGen)", self.zombie_remote),
        ]
        for title, scenario in scenarios:
            say(f"--- {title}")
            try:
                result, figure = scenario()
            except ScenarioFailed as error:
                failed = True
                result, figure = f"FAIL: {error}", "-"
                say(f"FAIL: {error}")
            self.rows.append((title, result, figure))
            say(f"{title}: {result}; {figure}")
        del cron
        self.table()
        return 1 if failed else 0

    def horse_kill(self, worker: Proc) -> tuple[str, str]:
        self.workers = [worker]
        job = self.job_make("Horse kill")
        held = self.wait_mid_render(job.pk)
        _, horse = self.running(job.pk)
        os.kill(horse, signal.SIGKILL)
        start = time.monotonic()
        say(f"SIGKILLed the work horse {horse} of {worker.name}")
        claim = self.wait_reclaimed(job.pk, old_token=held.lease_token, start=start)
        say(f"job #{job.pk} claimed again {claim:.1f} s after the kill")
        self.wait_ready(job.pk)
        ready = time.monotonic() - start
        rerun_by = self.rerun_worker(job.pk)
        check(rerun_by == worker.name, f"re-run by {rerun_by}, not by {worker.name}")
        deaths = self.row(job.pk).parameters.get("horse_deaths")
        check(deaths == 1, f"horse_deaths is {deaths}")
        result = self.outcome_check(job.pk)
        clean = self.wait_swept(dead=[horse])
        check(worker.popen.poll() is None, "the worker died with its horse")
        return (
            f"PASS: re-run by the same worker ({rerun_by}); {result}; {clean}",
            f"kill→claimed {claim:.1f} s, kill→ready {ready:.1f} s",
        )

    def worker_kill(self) -> tuple[str, str]:
        self.workers.append(self.fleet.worker())
        job = self.job_make("Worker kill")
        held = self.wait_mid_render(job.pk)
        victim, horse = self.running(job.pk)
        pids = [victim.pid, *descendants(victim.pid)]
        signal_all(pids, signal.SIGKILL)
        start = time.monotonic()
        victim.popen.wait()
        self.workers.remove(victim)
        self.fleet.procs.remove(victim)
        say(f"SIGKILLed {victim.name}: worker {victim.pid}, horse {horse}, all of {pids}")
        time.sleep(1)  # FFmpeg, orphaned, finishes what it was given
        say(f"  the killed horse left in RENDER_WORK_DIR: {self.dead_horse_files(horse)}")
        claim = self.wait_reclaimed(job.pk, old_token=held.lease_token, start=start)
        say(f"job #{job.pk} claimed again {claim:.1f} s after the kill")
        self.wait_ready(job.pk)
        ready = time.monotonic() - start
        rerun_by = self.rerun_worker(job.pk)
        result = self.outcome_check(job.pk)
        clean = self.wait_swept(dead=[horse])
        check(claim < RECOVERY_TARGET_SECONDS, f"claimed again after {claim:.0f} s")
        self.workers.append(self.fleet.worker())  # back to two for the next scenario
        return (
            f"PASS: re-run by {rerun_by}; {result}; {clean}",
            f"kill→claimed {claim:.1f} s (target < {RECOVERY_TARGET_SECONDS}), "
            f"kill→ready {ready:.1f} s",
        )

    def _freeze(self, job_id: int, *, held: Any) -> tuple[Proc, int, list[int], float]:
        zombie, horse = self.running(job_id)
        pids = [zombie.pid, *descendants(zombie.pid)]
        signal_all(pids, signal.SIGSTOP)
        start = time.monotonic()
        say(f"SIGSTOPped {zombie.name}: {pids} (horse {horse})")
        return zombie, horse, pids, start

    def _thaw(self, zombie: Proc, horse: int, pids: list[int], job_id: int) -> tuple[float, str]:
        from videos.models import Video

        video_before = Video.objects.get(job_id=job_id)
        job_before = self.row(job_id)
        signal_all(pids, signal.SIGCONT)
        start = time.monotonic()
        say(f"SIGCONT {zombie.name}")
        wait_for("the zombie horse to stop", lambda: not alive(horse), timeout=120, every=0.2)
        stopped = time.monotonic() - start
        time.sleep(1)  # its worker's bookkeeping after the horse exits
        check(zombie.popen.poll() is None, "the zombie worker exited")
        job = self.row(job_id)
        check(job.status == "ready", f"the zombie turned the ready job into {job.status}")
        check(
            (job.finished_at, job.progress, job.error)
            == (job_before.finished_at, job_before.progress, job_before.error),
            "the zombie overwrote the ready job",
        )
        check(Video.objects.get(job_id=job_id).pk == video_before.pk, "the Video changed")
        log = zombie.log.read_text(errors="replace")
        said = [line.strip() for line in log.splitlines() if f"job #{job_id}" in line]
        say(f"  the zombie said: {said[-1][:160] if said else '(nothing about the job)'}")
        check(
            any("no longer ours" in s or "another worker" in s for s in said),
            "the zombie did not report losing the lease",
        )
        self.workers.remove(zombie)
        self.workers.append(zombie)  # it is a live worker again
        return stopped, said[-1] if said else ""

    def zombie_studio(self) -> tuple[str, str]:
        job = self.job_make("Zombie")
        held = self.wait_mid_render(job.pk)
        zombie, horse, pids, start = self._freeze(job.pk, held=held)
        claim = self.wait_reclaimed(job.pk, old_token=held.lease_token, start=start)
        say(f"job #{job.pk} claimed by another worker {claim:.1f} s after the freeze")
        self.wait_ready(job.pk)
        ready = time.monotonic() - start
        stopped, _ = self._thaw(zombie, horse, pids, job.pk)
        result = self.outcome_check(job.pk)
        clean = self.wait_swept(dead=[horse])
        return (
            f"PASS: zombie stopped on its next write; {result}; {clean}",
            f"freeze→claimed {claim:.1f} s, freeze→ready {ready:.1f} s, "
            f"SIGCONT→zombie gone {stopped:.1f} s",
        )

    def zombie_remote(self) -> tuple[str, str]:
        from tests.videos.fakes.heygen_server import FakeHeyGen
        from videos.models import ProviderAccount

        clip = self.work / "clip"
        self._clip(clip)
        fake = FakeHeyGen(
            video=clip / "clip.mp4",
            captions=clip / "clip.vtt",
            thumbnail=clip / "clip.jpg",
            duration=self._clip_duration,
            api_key=API_KEY,
            polls_to_complete=1,
        )
        fake.start()
        try:
            ProviderAccount.objects.create(
                kind="heygen",
                name="heygen",
                priority=2,
                base_url=fake.url,
                credentials={
                    "api_key": API_KEY,
                    "webhook_secret": "whsec-chaos",
                    "default_avatar_id": "Daisy-inskirt-20220818",
                    "default_voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
                },
                cost_per_minute=Decimal("1.2"),
                max_concurrency=10,
            )
            fake.latency = 4.0  # every answer late: the download holds the lease for seconds
            job = self.job_make("Zombie at HeyGen", provider="heygen")

            def downloading() -> Any:
                row = self.row(job.pk)
                return row if row.step.startswith("Downloading") and row.lease_token else None

            held = wait_for("the HeyGen download", downloading, timeout=180, every=0.1)
            zombie, horse, pids, start = self._freeze(job.pk, held=held)
            fake.latency = 0.0
            claim = self.wait_reclaimed(job.pk, old_token=held.lease_token, start=start)
            say(f"job #{job.pk} claimed by another worker {claim:.1f} s after the freeze")
            self.wait_ready(job.pk)
            ready = time.monotonic() - start
            stopped, _ = self._thaw(zombie, horse, pids, job.pk)
            time.sleep(2)  # anything the zombie would still send
            renders = fake.submissions()
            check(fake.generate_requests == 1, f"{fake.generate_requests} generate requests")
            check(len(renders) == 1, f"{len(renders)} renders at HeyGen")
            attempt = self.row(job.pk).attempts.get()
            check(
                renders[0].callback_id == str(attempt.idempotency_key),
                "HeyGen's render is not the attempt's",
            )
            result = self.outcome_check(job.pk)
            clean = self.wait_swept(dead=[horse])
        finally:
            fake.stop()
        return (
            f"PASS: submissions=1 (generate POSTs {fake.generate_requests}); {result}; {clean}",
            f"freeze→claimed {claim:.1f} s, freeze→ready {ready:.1f} s, "
            f"SIGCONT→zombie gone {stopped:.1f} s",
        )

    def _clip(self, folder: Path) -> None:
        from videos.studio.renderer import video_render
        from videos.studio.types import Script, Section, VideoType

        folder.mkdir(exist_ok=True)
        result = video_render(
            script=Script(VideoType.OVERVIEW, "Clip", (Section("Hello", TEXT),)),
            dest=folder / "clip.mp4",
            quality="480p",
        )
        result.captions_path.rename(folder / "clip.vtt")
        result.thumbnail_path.rename(folder / "clip.jpg")
        self._clip_duration = result.report.duration

    def table(self) -> None:
        print()
        print("| scenario | result | figure |")
        print("| --- | --- | --- |")
        for row in self.rows:
            print(f"| {row[0]} | {row[1]} | {row[2]} |")
        print()
        print(
            "settings: JOB_LEASE_SECONDS 75, reconciler every 15 s (videos/cron.py), "
            "RQ maintenance 30 s, worker TTL 60 s, VIDEO_QUALITY 480p; "
            "2 shared cores: seconds are noisy"
        )


if __name__ == "__main__":
    sys.exit(main())
