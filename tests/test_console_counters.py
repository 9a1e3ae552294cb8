"""The console's counters page: the growth chart's SVG, each kind's value and sources, the push forms and
their permission checks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from engagement.console.chart import Line, growth_chart, y_scale
from engagement.console.counters import table_days
from engagement.counters import service
from engagement.extensions import db
from engagement.models import CounterKind, StaffRole
from engagement.sites.service import get_site
from engagement.staff import members
from tests.factories import make_site
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of, sign_in_by_link

HOSTILE = "<script>window.pwned=1</script>"
PAGE = "/console/sites/news/counters"
START = date(2026, 1, 1)

# --- the chart -----------------------------------------------------------------------------------------


def days(values: list[int], start: date = START) -> list[tuple[date, int]]:
    return [(start + timedelta(days=n), value) for n, value in enumerate(values)]


def polylines(svg: str) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(n) for n in pair.split(",")) for pair in points.split()]
        for points in re.findall(r'<polyline [^>]*points="([^"]*)"', svg)
    ]


def render(*lines: Line) -> str:
    return str(growth_chart(list(lines), title="Growth", description="Numbers below."))


def test_a_chart_without_history_says_so_and_draws_no_line():
    svg = render(Line("fans", "Fans", []))
    assert "No history yet" in svg
    assert "<polyline" not in svg
    assert "<circle" not in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_a_chart_of_one_day_marks_the_point_in_the_middle():
    svg = render(Line("fans", "Fans", days([7])))
    assert "<polyline" not in svg
    assert re.search(r'<circle class="line line-fans" cx="340" cy="[\d.]+" r="4"/>', svg)


def test_a_flat_line_of_zeros_sits_on_the_axis_and_divides_by_nothing():
    svg = render(Line("fans", "Fans", days([0] * 30)))
    [line] = polylines(svg)
    assert {y for _, y in line} == {228.0}  # the plot's bottom: HEIGHT - BOTTOM
    assert y_scale(0) == (1, 1)


def test_a_flat_line_above_zero_is_drawn_level():
    [line] = polylines(render(Line("fans", "Fans", days([500] * 30))))
    assert len({y for _, y in line}) == 1


def test_a_year_has_one_point_a_day_x_increasing_and_a_few_dated_ticks():
    values = list(range(365))
    svg = render(Line("fans", "Fans", days(values)), Line("followers", "Followers", days(values[::-1])))
    for line in polylines(svg):
        xs = [x for x, _ in line]
        assert len(xs) == 365
        assert xs == sorted(xs) and len(set(xs)) == 365
        assert xs[0] == 56 and xs[-1] == 624  # from the left margin to the right one
    assert "Jan 2026" in svg and "Dec 2026" in svg
    assert len(re.findall(r'<text class="tick"', svg)) <= 5 + 6


def test_value_ticks_are_round_and_reach_above_the_largest_value():
    top, step = y_scale(1234)
    assert (top, step) == (1500, 500)
    svg = render(Line("fans", "Fans", days([0, 1234])))
    assert ">1.5k</text>" in svg and ">0</text>" in svg


def test_every_text_in_the_chart_is_escaped():
    svg = str(
        growth_chart(
            [Line('x" onload="alert(1)', HOSTILE, days([1, 2]))],
            title=HOSTILE,
            description='<img src=x onerror="alert(1)">',
            id_prefix='a"b',
        )
    )
    assert "<script" not in svg and "<img" not in svg
    assert 'onload="' not in svg and 'id="a"b' not in svg
    assert "&lt;script&gt;" in svg


def test_the_table_keeps_every_day_of_a_month_each_week_of_a_quarter_and_each_month_end_of_a_year():
    month = [START + timedelta(days=n) for n in range(30)]
    assert table_days(month, 30) == (month[::-1], "day")
    quarter = [START + timedelta(days=n) for n in range(90)]
    kept, every = table_days(quarter, 90)
    assert every == "week" and kept[0] == quarter[-1] and (kept[0] - kept[1]).days == 7
    year = [date(2025, 6, 2) + timedelta(days=n) for n in range(365)]
    kept, every = table_days(year, 365)
    assert (
        every == "month" and kept[0] == year[-1] and date(2026, 4, 30) in kept and len(kept) == 13
    )  # 12 month ends, and 1 June


# --- the page --------------------------------------------------------------------------------------------


@pytest.fixture
def staff(app):
    make_site("news")
    make_site("sport")
    members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
    members.create_member(
        email=MODERATOR, display_name="Grace", role=StaffRole.MODERATOR, site_slugs=["news"]
    )


def signed_in(app, email):
    client = app.test_client()
    sign_in_by_link(client, email)
    return client


def push_form(client, kind="followers", *, csrf=None, path=PAGE, **fields):
    csrf = csrf if csrf is not None else csrf_of(client.get("/console"))
    return client.post(f"{path}/{kind}", data={"csrf_token": csrf, **fields})


def counter(app, kind="followers", target="site", site="news") -> service.CounterState:
    """The counter as the service reads it, in the test's own session (the test client's requests share
    it: the ``app`` fixture's context is theirs), which it leaves without a transaction."""
    state = service.get_engagement(site=get_site(site), target=target, reader=None).counters[kind]
    db.session.rollback()
    return state


def push_now(app, count, *, kind=CounterKind.FOLLOWERS, source="youtube", target="site"):
    service.push_external_count(site=get_site("news"), kind=kind, target=target, source=source, count=count)


def test_the_page_shows_each_kind_its_split_and_its_sources(app, staff):
    push_now(app, 1200)
    html = signed_in(app, MODERATOR).get(PAGE).get_data(as_text=True)
    assert "Counters of News" in html
    assert "Readers see <strong>1.2k</strong> (1,200)" in html
    assert "0 native + 1,200 external" in html
    assert '<th scope="row">youtube</th><td>1,200</td>' in html
    assert 'aria-current="page">Counters</a>' in html  # the site's pages link here
    assert "<svg" in html and "Value at the end of each day" in html


def test_a_stale_source_is_marked(app, staff, clock):
    push_now(app, 50)
    clock.advance(hours=49)  # the default window is 48 hours
    html = signed_in(app, ADMIN).get(PAGE).get_data(as_text=True)
    assert '<strong class="stale">stale</strong>' in html
    assert "The newest external value is stale." in html


def test_a_moderator_of_another_site_is_refused_the_page_and_the_push(app, staff):
    moderator = signed_in(app, MODERATOR)
    assert moderator.get("/console/sites/sport/counters").status_code == 403
    response = push_form(moderator, path="/console/sites/sport/counters", source="x", count="5")
    assert response.status_code == 403
    assert counter(app, site="sport").count == 0


def test_an_unknown_site_or_kind_is_404_without_echoing_the_url(app, staff):
    admin = signed_in(app, ADMIN)
    response = admin.get("/console/sites/nope-" + "x" * 10 + "/counters")
    assert response.status_code == 404
    assert "nope-" not in response.get_data(as_text=True)
    response = push_form(admin, kind="likes-x", source="x", count="5")
    assert response.status_code == 404
    assert "likes-x" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("-5", "Must be greater than or equal to 0"),
        ("twelve", "Not a valid integer."),
        ("1e3", "Not a valid integer."),
        ("9" * 30, "less than or equal to 1000000000000"),
        ("9" * 500, "Not a valid integer."),
        ("", "Missing data for required field."),
    ],
)
def test_an_invalid_value_is_422_with_the_apis_message_and_what_was_typed(app, staff, count, message):
    response = push_form(signed_in(app, ADMIN), source="youtube", count=count)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="followers-count-error">[^<]*' + re.escape(message), html)
    assert f'id="followers-count" name="count" type="text" value="{count}"' in html
    assert 'id="followers-source" name="source" type="text" value="youtube"' in html
    assert counter(app).count == 0


def test_an_invalid_platform_name_is_422_and_shown_inert(app, staff):
    response = push_form(signed_in(app, ADMIN), source=HOSTILE, count="5")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert 'id="followers-source-error">A platform name' in html


def test_a_valid_push_changes_the_value_and_the_page_shows_it(app, staff):
    admin = signed_in(app, ADMIN)
    response = push_form(
        admin, kind="fans", source="facebook", count="2500", target="author:jane-doe", days="90"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/console/sites/news/counters?target=author:jane-doe&days=90&pushed=fans#fans"
    )
    assert counter(app, "fans", "author:jane-doe").count == 2500
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fans: the new value is saved." in html
    assert '<th scope="row">facebook</th><td>2,500</td>' in html
    assert '<option value="author:jane-doe" selected>' in html


def test_a_suspicious_drop_is_refused_with_the_services_message_and_accepted_when_forced(app, staff):
    push_now(app, 1000)
    admin = signed_in(app, ADMIN)
    response = push_form(admin, source="youtube", count="100")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Refused: 100 is more than 50% below the last value 1000" in html
    assert 'value="100"' in html
    assert counter(app).count == 1000
    assert push_form(admin, source="youtube", count="100", force="true").status_code == 303
    assert counter(app).count == 100


def test_a_push_without_the_csrf_token_is_refused(app, staff):
    response = signed_in(app, ADMIN).post(f"{PAGE}/followers", data={"source": "x", "count": "5"})
    assert response.status_code == 403
    assert counter(app).count == 0


@pytest.mark.parametrize(
    "query",
    [
        {"days": "abc"},
        {"days": "9999"},
        {"days": "-1"},
        {"days": "30", "target": ""},
        {"pushed": HOSTILE},
        {"days": ["30", "90"]},
    ],
)
def test_a_hostile_or_odd_query_shows_the_default_page(app, staff, query):
    response = signed_in(app, ADMIN).get(PAGE, query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HOSTILE not in html
    assert "the last 30 days" in html


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (HOSTILE, "Use lowercase letters"),
        ("<img src=x onerror=alert(1)>", "Use lowercase letters"),
        ("Site", "Use lowercase letters"),
        ("a" * 500, "Longer than maximum length 64."),
    ],
)
def test_a_target_that_is_not_a_name_is_a_400_page_and_inert(app, staff, target, message):
    response = signed_in(app, ADMIN).get(PAGE, query_string={"target": target})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>window" not in html and "<img src=x" not in html and "a" * 100 not in html
    assert message in html


def test_a_push_for_a_hostile_target_is_refused_and_inert(app, staff):
    response = push_form(signed_in(app, ADMIN), source="x", count="5", target=HOSTILE)
    assert response.status_code == 400
    assert HOSTILE not in response.get_data(as_text=True)


def test_the_chart_and_table_follow_the_history_and_the_chosen_period(app, staff, clock):
    push_now(app, 100)
    clock.advance(days=40)
    push_now(app, 140)
    admin = signed_in(app, ADMIN)
    month = admin.get(PAGE).get_data(as_text=True)
    assert "Value at the end of each day" in month
    assert month.count('<tr><th scope="row"><time') == 30
    quarter = admin.get(PAGE, query_string={"days": 90}).get_data(as_text=True)
    assert "Value at the end of each week" in quarter
    assert (
        'href="/console/sites/news/counters?target=site&amp;days=90#growth-heading" aria-current="page"'
        in quarter
    )
    assert "<td>100</td>" in quarter and "<td>140</td>" in quarter
    year = admin.get(PAGE, query_string={"days": 365}).get_data(as_text=True)
    assert "Value at the end of each month" in year


def test_the_target_picker_lists_the_sites_targets_site_first(app, staff):
    push_now(app, 5, target="section:world")
    push_now(app, 5, target="author:jane-doe")
    push_now(app, 5)
    html = signed_in(app, ADMIN).get(PAGE, query_string={"target": "section:world"}).get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"', html) == ["site", "author:jane-doe", "section:world"]
    assert '<option value="section:world" selected>' in html
    assert "Growth of section:world" in html
