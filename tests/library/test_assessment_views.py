"""The learner's assessment history: own results only, charts with the numbers, plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

LIST = "assessments:list"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


# --- a small HTML reader: what the page shows, found by element and attribute -----------


def _attr(name: str) -> str:
    """A keyword as an HTML attribute name: class_ -> class, data_job_id -> data-job-id."""
    return name.rstrip("_").replace("_", "-")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    def all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            if (tag is None or child.tag == tag) and all(
                (_attr(name) in child.attrs)
                if value is True
                else child.attrs.get(_attr(name)) == value
                for name, value in attrs.items()
            ):
                found.append(child)
            found.extend(child.all(tag, **attrs))
        return found

    def one(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"expected one {tag} {attrs}, found {len(found)}"
        return found[0]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def read(html: str) -> Node:
    reader = _Reader()
    reader.feed(html)
    return reader.root


def page(client, name: str, *args) -> Node:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return read(response.content.decode())


def detail(client, assessment) -> Node:
    return page(client, "assessments:detail", assessment.pk)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def cert():
    return certification_build(
        name="Cloud Practitioner",
        passing_score=70,
        domains={"networking": 30, "security": 40, "storage": 30},
    )


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


# --- access -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, learner, cert):
    mine = assessment_build(learner=learner, certification=cert, scores={"networking": 50})
    for url in (reverse(LIST), reverse("assessments:detail", args=[mine.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_another_learners_assessment_is_not_found(logged_in, cert):
    theirs = assessment_build(
        learner=user_build(), certification=cert, scores={"networking": 50, "security": 90}
    )
    response = logged_in.get(reverse("assessments:detail", args=[theirs.pk]))
    assert response.status_code == 404
    assert "Cloud Practitioner" not in response.content.decode()
    assert logged_in.get(reverse("assessments:detail", args=[theirs.pk + 1000])).status_code == 404


def test_the_pages_only_answer_reads(logged_in, learner, cert):
    mine = assessment_build(learner=learner, certification=cert, scores={"networking": 50})
    assert logged_in.post(reverse(LIST)).status_code == 405
    assert logged_in.post(reverse("assessments:detail", args=[mine.pk])).status_code == 405


# --- the list ---------------------------------------------------------------------------


def test_a_learner_without_assessments_is_told_how_results_arrive(logged_in, cert):
    assessment_build(learner=user_build(), certification=cert, scores={"networking": 50})
    body = page(logged_in, LIST)
    empty = body.one("section", class_="card assessments-empty")
    assert "No assessments yet" in empty.text
    assert "Take an assessment" in empty.text
    assert "staff" in empty.text
    assert not body.all("tr", data_assessment_id=True)


def test_the_list_shows_own_assessments_by_certification_newest_first(logged_in, learner, cert):
    other_cert = certification_build(name="Security Specialty", passing_score=75)
    first = assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 40, "security": 60, "storage": 80},
        overall_score=Decimal(60),
        taken_at=days_ago(30),
    )
    second = assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 65, "security": 75, "storage": 85},
        overall_score=Decimal("74.5"),
        taken_at=days_ago(2),
    )
    only = assessment_build(
        learner=learner,
        certification=other_cert,
        scores={"alpha": 90, "beta": 88},
        overall_score=Decimal(89),
        taken_at=days_ago(10),
    )
    assessment_build(learner=user_build(), certification=cert, scores={"networking": 10})

    body = page(logged_in, LIST)
    sections = body.all("section", class_="card cert-history")
    # the certification with the latest result comes first
    assert [s.one("h2").text for s in sections] == ["Cloud Practitioner", "Security Specialty"]
    cloud, security = sections
    assert "Passing score 70%" in cloud.text and "2 assessments" in cloud.text

    rows = cloud.all("tr", data_assessment_id=True)
    assert [r.attrs["data-assessment-id"] for r in rows] == [str(second.pk), str(first.pk)]
    newest, oldest = rows
    assert newest.one("a").attrs["href"] == reverse("assessments:detail", args=[second.pk])
    assert newest.one("span", data_overall=True).text == "74.5%"
    assert newest.one("td", data_result=True).text == "Passed"
    assert newest.one("td", data_change=True).text == "+14.5 points"
    assert newest.one("td", data_weak_count=True).text == "1"  # networking 65 < 70
    assert oldest.one("span", data_overall=True).text == "60%"
    assert oldest.one("td", data_result=True).text == "10 below pass"
    assert oldest.one("td", data_change=True).text == "First"
    assert oldest.one("td", data_weak_count=True).text == "2"

    [row] = security.all("tr", data_assessment_id=True)
    assert row.attrs["data-assessment-id"] == str(only.pk)
    assert row.one("td", data_result=True).text == "Passed"


def test_a_trend_chart_appears_from_two_assessments_of_a_certification(logged_in, learner, cert):
    other_cert = certification_build(name="Security Specialty")
    assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 50},
        overall_score=Decimal(55),
        taken_at=days_ago(20),
    )
    assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 80},
        overall_score=Decimal(78),
        taken_at=days_ago(1),
    )
    assessment_build(
        learner=learner, certification=other_cert, scores={"alpha": 50}, taken_at=days_ago(30)
    )

    cloud, security = page(logged_in, LIST).all("section", class_="card cert-history")
    assert not security.all("figure")
    figure = cloud.one("figure", data_chart="trend")
    svg = figure.one("svg")
    assert svg.attrs["role"] == "img"
    title_id, desc_id = svg.attrs["aria-labelledby"].split()
    assert figure.one("title", id=title_id).text == "Cloud Practitioner: overall score over time"
    assert "55%" in figure.one("desc", id=desc_id).text
    assert "78%" in figure.one("desc", id=desc_id).text
    assert len(svg.all("circle")) == 2
    # the numbers, for screen readers
    table = figure.one("div", class_="visually-hidden").one("table")
    cells = [[c.text for c in row.children if not isinstance(c, str)] for row in table.all("tr")]
    assert [row[1:] for row in cells[1:]] == [
        ["55%", "below the pass line"],
        ["78%", "at or above the pass line"],
    ]


def test_the_list_counts_videos_planned_but_not_ones_staff_hid(logged_in, learner, cert):
    assessment = assessment_build(learner=learner, certification=cert, scores={"networking": 50})
    video_job_build(learner=learner, assessment=assessment, certification=cert)
    video_job_build(
        learner=learner,
        assessment=assessment,
        certification=cert,
        video_type="remediation",
        parameters={"domain": "networking"},
    )
    hidden_job = video_job_build(
        learner=learner,
        assessment=assessment,
        certification=cert,
        video_type="motivational",
        status=JobStatus.READY,
    )
    video_build(job=hidden_job, hidden=True)
    video_job_build(learner=learner, certification=cert)  # not from this assessment

    [row] = page(logged_in, LIST).all("tr", data_assessment_id=True)
    assert row.one("td", data_planned_count=True).text == "2"


def test_the_list_takes_the_same_few_queries_however_long_the_history(logged_in, learner, cert):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert logged_in.get(reverse(LIST)).status_code == 200
        return len(captured)

    def add(days: int) -> None:
        for c in (cert, other):
            assessment = assessment_build(
                learner=learner,
                certification=c,
                scores={"networking": 40} if c == cert else {"alpha": 40},
                taken_at=days_ago(days),
            )
            video_job_build(learner=learner, assessment=assessment, certification=c)

    other = certification_build()
    add(1)
    add(2)
    few = queries()
    for days in range(3, 9):
        add(days)
    assert queries() == few


# --- one assessment ---------------------------------------------------------------------


def test_the_detail_draws_domain_scores_against_the_pass_line(logged_in, learner, cert):
    assessment = assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 45, "security": 72, "storage": 90},
        overall_score=Decimal(69),
    )
    body = detail(logged_in, assessment)
    assert "Cloud Practitioner" in body.one("h1").text
    assert body.one("span", data_overall=True).text == "69%"
    assert body.one("dd", data_passing=True).text == "70%"
    assert body.one("dd", data_result=True).text == "1 points below pass"
    assert "first Cloud Practitioner assessment" in body.one("dd", data_overall_change=True).text

    figure = body.one("figure", data_chart="domains")
    svg = figure.one("svg")
    assert svg.attrs["role"] == "img"
    title_id, desc_id = svg.attrs["aria-labelledby"].split()
    assert figure.one("title", id=title_id).text == "Cloud Practitioner: score by domain"
    assert "Networking 45% (below the pass line)" in figure.one("desc", id=desc_id).text
    bars = svg.all("g")
    assert [g.all("text")[0].text for g in bars] == ["Networking", "Security", "Storage"]
    assert [g.attrs["class"] for g in bars] == [
        "chart-bar chart-bar-weak",
        "chart-bar chart-bar-passing",
        "chart-bar chart-bar-strong",
    ]
    assert any(t.text == "Pass 70%" for t in svg.all("text"))
    hidden = figure.one("div", class_="visually-hidden").one("table")
    assert [r.one("th").text for r in hidden.one("tbody").all("tr")] == [
        "Networking",
        "Security",
        "Storage",
    ]

    weak = body.one("div", data_weak_areas=True)
    strong = body.one("div", data_strong_areas=True)
    assert [li.text for li in weak.all("li")] == ["Networking 45%"]
    assert [li.text for li in strong.all("li")] == ["Storage 90%"]
    standings = {
        row.attrs["data-domain"]: row.one("td", data_standing=True).text
        for row in body.all("tr", data_domain=True)
    }
    assert standings == {
        "networking": "Below the pass line",
        "security": "Passing",
        "storage": "Strong",
    }


def test_the_detail_shows_the_change_from_the_previous_assessment_of_that_certification(
    logged_in, learner, cert
):
    earlier = assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 40, "security": 75},
        overall_score=Decimal(58),
        taken_at=days_ago(40),
    )
    previous = assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 50, "security": 80},
        overall_score=Decimal(62),
        taken_at=days_ago(20),
    )
    # neither another certification's nor another learner's result counts as "previous"
    assessment_build(
        learner=learner, certification=certification_build(), scores={}, taken_at=days_ago(5)
    )
    assessment_build(
        learner=user_build(), certification=cert, scores={"networking": 99}, taken_at=days_ago(3)
    )
    current = assessment_build(
        learner=learner,
        certification=cert,
        scores={"networking": 65, "security": 79, "storage": 88},
        overall_score=Decimal("76.5"),
        taken_at=days_ago(1),
    )
    body = detail(logged_in, current)
    change = body.one("dd", data_overall_change=True)
    assert change.text.startswith("+14.5 points")
    assert change.one("a").attrs["href"] == reverse("assessments:detail", args=[previous.pk])
    rows = {row.attrs["data-domain"]: row for row in body.all("tr", data_domain=True)}
    assert rows["networking"].one("td", data_previous=True).text == "50%"
    assert rows["networking"].one("td", data_change=True).text == "+15 points"
    assert rows["security"].one("td", data_change=True).text == "−1 point"
    assert rows["storage"].one("td", data_previous=True).text == "Not scored"
    assert rows["storage"].one("td", data_change=True).text == "—"

    # the oldest has nothing before it
    assert "first" in detail(logged_in, earlier).one("dd", data_overall_change=True).text


def test_the_detail_lists_what_was_planned_from_it_with_links_to_ready_videos(
    logged_in, learner, cert
):
    assessment = assessment_build(
        learner=learner, certification=cert, scores={"networking": 45, "security": 90}
    )
    overview = video_job_build(
        learner=learner,
        assessment=assessment,
        certification=cert,
        status=JobStatus.READY,
        priority=1,
    )
    video = video_build(job=overview, title="Your roadmap")
    remediation = video_job_build(
        learner=learner,
        assessment=assessment,
        certification=cert,
        video_type="remediation",
        priority=2,
        parameters={"domain": "networking"},
        status=JobStatus.RENDERING,
    )
    hidden = video_job_build(
        learner=learner,
        assessment=assessment,
        certification=cert,
        video_type="motivational",
        priority=3,
        status=JobStatus.READY,
    )
    video_build(job=hidden, title="Withdrawn cut", hidden=True)
    elsewhere = video_job_build(learner=learner, certification=cert, video_type="exam_prep")

    body = detail(logged_in, assessment)
    items = body.all("li", class_="planned")
    assert [li.attrs["data-job-id"] for li in items] == [str(overview.pk), str(remediation.pk)]
    first, second = items
    assert first.one("span", class_="planned-label").text == "Overview “Your roadmap”"
    assert first.one("span", data_status=True).text == "Ready"
    watch = first.one("a", class_="watch")
    assert watch.attrs["href"] == reverse("portal:video_player", args=[video.pk])
    assert watch.text == "Watch : Your roadmap"
    assert second.one("span", class_="planned-label").text == "Remediation: Networking"
    assert second.one("span", data_status=True).text == "Rendering"
    assert not second.all("a")
    assert str(elsewhere.pk) not in [li.attrs["data-job-id"] for li in items]
    assert "Withdrawn cut" not in str(body.text)


def test_an_assessment_without_plans_or_domain_scores_says_so(logged_in, learner, cert):
    assessment = assessment_build(
        learner=learner, certification=cert, scores={}, overall_score=Decimal(80)
    )
    body = detail(logged_in, assessment)
    assert not body.all("figure")
    assert "No scores by domain" in body.one("p", data_no_domains=True).text
    assert "No videos were planned" in body.one("p", data_no_planned=True).text
    assert body.one("dd", data_result=True).text == "Passed"


def test_names_from_the_knowledge_base_are_escaped(logged_in, learner, cert):
    cert.domains.filter(slug="networking").update(name='<script>alert("x")</script>')
    assessment = assessment_build(learner=learner, certification=cert, scores={"networking": 40})
    html = logged_in.get(reverse("assessments:detail", args=[assessment.pk])).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_the_detail_takes_the_same_few_queries_however_much_was_planned(logged_in, learner, cert):
    previous = assessment_build(
        learner=learner, certification=cert, scores={"networking": 40}, taken_at=days_ago(9)
    )
    assessment = assessment_build(
        learner=learner, certification=cert, scores={"networking": 60, "security": 50}
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert (
                logged_in.get(reverse("assessments:detail", args=[assessment.pk])).status_code
                == 200
            )
        return len(captured)

    def plan(count: int) -> None:
        for _ in range(count):
            job = video_job_build(
                learner=learner,
                assessment=assessment,
                certification=cert,
                video_type="remediation",
                parameters={"domain": "networking"},
                status=JobStatus.READY,
            )
            video_build(job=job)

    plan(1)
    few = queries()
    plan(5)
    previous.domain_scores.create(domain=cert.domains.get(slug="security"), score=Decimal(30))
    assert queries() == few
