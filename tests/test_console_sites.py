"""The console's site pages: the list of sites and a new one, a site's settings and embed snippet, its
threads with Close / Reopen; and their permission checks, which are the moderation API's."""

from __future__ import annotations

import re

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select

from engagement.console import sites as site_pages
from engagement.extensions import db
from engagement.models import AuditEntry, Site, StaffRole, Thread
from engagement.sites.schemas import SettingsSchema
from engagement.sites.service import get_site
from engagement.staff import members
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN, MODERATOR, csrf_of

HOSTILE = "<script>window.pwned=1</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def staff(app):
    """Two sites, an admin and a moderator of "news" only."""
    make_site("news")
    make_site("sport")
    members.create_member(email=ADMIN, display_name="Ada", role=StaffRole.ADMIN, site_slugs=[])
    members.create_member(
        email=MODERATOR, display_name="Grace", role=StaffRole.MODERATOR, site_slugs=["news"]
    )


@pytest.fixture
def admin(app, staff):
    return signed_in(app, ADMIN)


@pytest.fixture
def moderator(app, staff):
    return signed_in(app, MODERATOR)


def html(response, status=200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def settings_form(client, slug="news", **changes):
    """The settings form of ``slug`` as the page fills it in, with ``changes`` typed over it."""
    page = html(client.get(f"/console/sites/{slug}"))
    values = {"csrf_token": csrf_of(client.get(f"/console/sites/{slug}"))}
    values |= {
        name: value
        for name, value in re.findall(
            r'<input id="field-[^"]+" name="([^"]+)" type="(?:text|number)" value="([^"]*)"', page
        )
    }
    values |= {
        name: value
        for name, value in re.findall(
            r'<textarea id="field-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page
        )
    }
    values |= {
        name: value
        for name, value in re.findall(
            r'<select id="field-[^"]+" name="([^"]+)".*?<option value="([^"]+)" selected', page, re.S
        )
    }
    return values | changes


def save_settings(client, slug="news", **changes):
    return client.post(f"/console/sites/{slug}", data=settings_form(client, slug, **changes))


def new_site(client, **form):
    csrf = csrf_of(client.get("/console/sites"))
    return client.post("/console/sites", data={"csrf_token": csrf, **form})


def thread_form(client, slug, key, closed, **extra):
    csrf = csrf_of(client.get("/console/sites"))
    return client.post(
        f"/console/sites/{slug}/threads", data={"csrf_token": csrf, "key": key, "closed": closed, **extra}
    )


def audit_entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def api_errors(app, slug: str, body: dict) -> dict:
    """The field messages of the moderation API's PATCH /sites/{slug} for ``body``."""
    secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="api")[1]
    response = app.test_client().patch(
        f"/api/v1/moderation/sites/{slug}", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 422
    return response.get_json()["error"]["fields"]


# --- the list of sites -------------------------------------------------------------------------------


def test_the_header_links_to_the_sites(admin):
    assert 'href="/console/sites"' in html(admin.get("/console"))


def test_a_moderator_sees_their_sites_with_links_to_each_page_and_no_new_site_form(moderator):
    page = html(moderator.get("/console/sites"))
    assert 'href="/console/sites/news"' in page and 'href="/console/sites/news/threads"' in page
    assert "/console/sites/sport" not in page
    assert "New site" not in page


def test_an_admin_sees_every_site_and_the_new_site_form(admin):
    page = html(admin.get("/console/sites"))
    assert 'href="/console/sites/news"' in page and 'href="/console/sites/sport/threads"' in page
    assert "New site" in page


def test_an_admin_creates_a_site_and_lands_on_its_settings(admin):
    response = new_site(admin, slug="weather", name="Weather", origins="https://weather.example/\n\n")
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/sites/weather?saved=created"
    assert "Site created." in html(admin.get(response.headers["Location"]))
    site = get_site("weather")
    assert (site.name, site.origins) == ("Weather", ["https://weather.example"])
    assert [entry.actor for entry in audit_entries("site_created") if entry.site_id == site.id] == [ADMIN]


def test_an_invalid_new_site_shows_the_apis_messages_and_keeps_what_was_typed(admin):
    page = html(new_site(admin, slug="Not A Slug", name="", origins="https://ok.example\nftp://x/path"), 422)
    assert 'aria-invalid="true" aria-describedby="slug-error"' in page
    assert '<p class="error" id="slug-error">Use 1-64 lowercase letters, digits and dashes.</p>' in page
    assert '<p class="error" id="name-error">Enter the site&#39;s name.</p>' in page
    assert "“ftp://x/path”: Give an origin such as https://news.example (no path)." in page
    assert 'value="Not A Slug"' in page and ">https://ok.example\nftp://x/path</textarea>" in page
    assert db.session.scalar(select(Site).where(Site.name == "")) is None


def test_a_taken_slug_is_refused_next_to_the_field(admin):
    page = html(new_site(admin, slug="news", name="Again"), 409)
    assert '<p class="error" id="slug-error">A site &#39;news&#39; already exists.</p>' in page
    assert 'value="Again"' in page


def test_a_moderator_cannot_create_a_site(moderator):
    assert new_site(moderator, slug="mine", name="Mine").status_code == 403
    assert db.session.scalar(select(Site).where(Site.slug == "mine")) is None


def test_creating_a_site_needs_the_csrf_token(admin):
    assert new_site(admin, slug="weather", name="Weather", csrf_token="").status_code == 403
    assert db.session.scalar(select(Site).where(Site.slug == "weather")) is None


# --- permissions and unknown sites -------------------------------------------------------------------


def test_a_moderator_of_one_site_gets_403_on_every_page_of_another(app, client, moderator):
    post(client, "sport", thread="sport/1")
    assert html(moderator.get("/console/sites/sport"), 403)
    assert html(moderator.get("/console/sites/sport/threads"), 403)
    csrf = csrf_of(moderator.get("/console/sites"))
    assert (
        moderator.post("/console/sites/sport", data={"csrf_token": csrf, "name": "Mine"}).status_code == 403
    )
    assert thread_form(moderator, "sport", "sport/1", "true").status_code == 403
    assert thread_form(moderator, "sport", "", "maybe").status_code == 403  # before validating anything
    assert get_site("sport").name == "Sport"
    assert db.session.scalar(select(Thread.closed).where(Thread.key == "sport/1")) is False


@pytest.mark.parametrize(
    "path",
    [
        "/console/sites/nope",
        "/console/sites/nope/threads",
        "/console/sites/Not%20A%20Slug",
        "/console/sites/%3Cimg%20src=x%20onerror=window.pwned=1%3E/threads",
        "/console/sites/" + "x" * 300,
    ],
)
def test_an_unknown_site_is_a_404_page_that_repeats_nothing_from_the_url(admin, path):
    page = html(admin.get(path), 404)
    assert "There is no such site." in page
    assert "pwned" not in page and "Not A Slug" not in page and "xxxx" not in page


def test_posts_to_an_unknown_site_are_404(admin):
    csrf = csrf_of(admin.get("/console/sites"))
    assert admin.post("/console/sites/nope", data={"csrf_token": csrf, "name": "X"}).status_code == 404
    assert thread_form(admin, "nope", "a", "true").status_code == 404


# --- settings ----------------------------------------------------------------------------------------


def test_every_setting_is_a_field_of_its_type_with_its_current_value(app, admin):
    site = get_site("news")
    site.settings = site.settings.replace(max_links=7, moderation="all", moderation_words=["casino", "loan"])
    db.session.commit()
    page = html(admin.get("/console/sites/news"))
    for name in SettingsSchema().fields:
        # Every setting has its field; the write-only Akismet key an empty one of its own (never filled in).
        assert f'id="field-{name}" name="{name}"' in page, name
    assert 'name="akismet_key" type="password" value=""' in page
    assert '<input id="field-max_links" name="max_links" type="number" value="7"' in page
    assert 'min="0" max="100" step="1"' in page
    assert '<input id="field-max_drop_share" name="max_drop_share" type="number" value="0.5"' in page
    assert '<option value="all" selected>' in page
    assert (
        'name="moderation_words" aria-describedby="moderation_words-hint" rows="4">casino\nloan</textarea>'
        in page
    )
    assert '<input id="field-name" name="name" type="text" value="News"' in page


def test_the_settings_page_shows_the_embed_snippet_for_the_site(admin):
    page = html(admin.get("/console/sites/sport"))
    snippet = re.search(r'<textarea id="embed-snippet"[^>]*readonly>(.*?)</textarea>', page, re.S).group(1)
    assert snippet.count('data-site="sport"') == 3
    assert "&lt;script src=&#34;http://localhost/widget.js&#34; async&gt;" not in snippet
    assert '&lt;script src="http://localhost/widget.js" async&gt;&lt;/script&gt;' in snippet
    assert 'data-copy="embed-snippet"' in page and 'aria-live="polite"' in page
    assert "/static/pages/copy.js" in page


def test_invalid_settings_show_the_apis_messages_next_to_their_fields_and_keep_everything_typed(app, admin):
    response = save_settings(
        admin,
        max_links="-1",
        moderation="sometimes",
        flood_seconds="30",
        disallowed_words="viagra\n" + "w" * 201,
    )
    page = html(response, 422)
    expected = api_errors(app, "news", {"max_links": -1, "moderation": "sometimes"})
    assert f'<p class="error" id="max_links-error">{expected["max_links"][0]}</p>' in page
    assert f'<p class="error" id="moderation-error">{expected["moderation"][0]}</p>' in page
    assert 'aria-invalid="true" aria-describedby="max_links-error"' in page
    assert 'id="disallowed_words-error">“wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww…”: Length must be' in page
    # What was typed is kept, valid or not, and nothing was saved.
    assert 'name="max_links" type="number" value="-1"' in page
    assert 'name="flood_seconds" type="number" value="30"' in page
    assert '<option value="sometimes" selected>sometimes</option>' in page
    assert ">viagra\n" + "w" * 201 + "</textarea>" in page
    assert "Nothing was saved" in page
    settings = get_site("news").settings
    assert (settings.max_links, settings.flood_seconds, settings.disallowed_words) == (2, 0, ())
    assert audit_entries("site_updated") == []


def test_a_valid_change_is_applied_and_audited_with_only_what_changed(admin):
    response = save_settings(
        admin,
        max_links="5",
        moderation="all",
        moderation_words="casino\n\n  loan  \n",
        origins="https://news.example",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/sites/news?saved=1"
    assert "Settings saved." in html(admin.get(response.headers["Location"]))
    site = get_site("news")
    assert (site.settings.max_links, site.settings.moderation) == (5, "all")
    assert site.settings.moderation_words == ("casino", "loan")
    assert site.origins == ["https://news.example"]
    [entry] = audit_entries("site_updated")
    assert entry.actor == ADMIN
    assert entry.details == {
        "origins": ["https://news.example"],
        "settings": {"moderation": "all", "max_links": 5, "moderation_words": ["casino", "loan"]},
    }


def test_saving_the_settings_unchanged_changes_and_audits_nothing(admin):
    assert save_settings(admin).status_code == 303
    assert audit_entries("site_updated") == []


def test_an_unchecked_checkbox_is_false_and_a_checked_one_true():
    class WithSwitch(Schema):
        max_links = fields.Integer()
        premoderate = fields.Boolean()

    settings = site_pages.settings_of(WithSwitch())
    assert [s.kind for s in settings] == ["number", "checkbox"]
    assert site_pages.form_body({"max_links": "3"}, settings, ()) == {"max_links": "3", "premoderate": False}
    assert site_pages.form_body({"premoderate": "true"}, settings, ()) == {"premoderate": True}


def test_saving_settings_needs_the_csrf_token(admin):
    form = settings_form(admin, max_links="9")
    for token in ("", "0" * 64):
        assert admin.post("/console/sites/news", data=form | {"csrf_token": token}).status_code == 403
    assert get_site("news").settings.max_links == 2


def test_a_moderator_reads_the_settings_of_their_site_without_being_able_to_change_them(moderator):
    page = html(moderator.get("/console/sites/news"))
    assert page.count("<fieldset disabled>") == 3  # site, rules, Akismet
    assert "Save settings" not in page
    assert "Only an admin can change these settings" in page
    assert 'id="field-max_links"' in page  # the values are there to read
    csrf = csrf_of(moderator.get("/console/sites/news"))
    assert (
        moderator.post("/console/sites/news", data={"csrf_token": csrf, "max_links": "9"}).status_code == 403
    )
    assert (
        moderator.post("/console/sites/news", data={"csrf_token": csrf, "max_links": "-9"}).status_code == 403
    )
    assert get_site("news").settings.max_links == 2


def test_hostile_names_and_setting_values_render_inert(app, client, admin):
    assert save_settings(admin, name=HOSTILE, moderation_words=f"{HOSTILE}\n{HOSTILE_IMG}").status_code == 303
    assert post(client, "news", thread=HOSTILE, thread_title=HOSTILE_IMG).status_code == 201
    invalid = html(save_settings(admin, max_links=HOSTILE_IMG, moderation=HOSTILE), 422)
    for page in (
        html(admin.get("/console/sites")),
        html(admin.get("/console/sites/news")),
        html(admin.get("/console/sites/news/threads")),
        invalid,
    ):
        assert HOSTILE not in page and HOSTILE_IMG not in page
        assert "<script>window" not in page and "<img" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in invalid
    threads = html(admin.get("/console/sites/news/threads"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in threads
    assert 'name="key" value="&lt;script&gt;window.pwned=1&lt;/script&gt;"' in threads


# --- threads -----------------------------------------------------------------------------------------


def open_threads(client):
    """Threads a, b and c of "news" in that order, with 1, 3 and 2 comments."""
    for key, count in (("a", 1), ("b", 3), ("c", 2)):
        for _ in range(count):
            response = post(
                client,
                "news",
                thread=key,
                thread_title=f"Thread {key}",
                thread_url=f"https://news.example/{key}",
            )
            assert response.status_code == 201, response.get_json()


def listed(page: str) -> list[str]:
    return re.findall(r'<h2 class="thread-title"><a href="https://news.example/(\w+)">', page)


def test_threads_are_listed_most_recent_or_most_commented_first(client, moderator):
    open_threads(client)
    recent = html(moderator.get("/console/sites/news/threads"))
    assert listed(recent) == ["c", "b", "a"]
    assert "3 comments" in recent and "1 comment<" in recent
    most = html(moderator.get("/console/sites/news/threads?sort=most_comments"))
    assert listed(most) == ["b", "c", "a"]
    assert 'href="/console/sites/news/threads?sort=most_comments" aria-current="page"' in most
    assert listed(html(moderator.get("/console/sites/news/threads?q=THREAD%20B"))) == ["b"]


def test_threads_come_a_page_at_a_time_behind_the_cursor(client, admin, monkeypatch):
    monkeypatch.setattr(site_pages, "THREADS_PAGE_SIZE", 2)
    open_threads(client)
    first = html(admin.get("/console/sites/news/threads?sort=most_comments"))
    assert listed(first) == ["b", "c"]
    following = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = html(admin.get(following))
    assert listed(second) == ["a"]
    assert 'rel="next"' not in second and ">First page</a>" in second


def test_a_moderator_closes_and_reopens_a_thread_of_their_site(client, moderator):
    open_threads(client)
    response = thread_form(moderator, "news", "b", "true", sort="most_comments", q="thread")
    assert response.status_code == 303
    thread = db.session.scalar(select(Thread).where(Thread.key == "b"))
    assert response.headers["Location"] == (
        f"/console/sites/news/threads?changed={thread.id}&sort=most_comments&q=thread#thread-{thread.id}"
    )
    page = html(moderator.get(response.headers["Location"]))
    assert "Thread b: now closed." in page
    assert '<span class="state closed">Closed</span>' in page and ">Reopen<" in page
    db.session.refresh(thread)
    assert thread.closed is True
    assert thread_form(moderator, "news", "b", "false").status_code == 303
    db.session.refresh(thread)
    assert thread.closed is False
    assert [e.details for e in audit_entries("thread_updated")] == [
        {"key": "b", "closed": True},
        {"key": "b", "closed": False},
    ]


def test_a_thread_form_that_is_not_valid_is_422_and_an_unknown_thread_404(client, admin):
    open_threads(client)
    assert thread_form(admin, "news", "b", "perhaps").status_code == 422
    assert thread_form(admin, "news", "", "true").status_code == 422
    assert thread_form(admin, "news", "no-such-thread", "true").status_code == 404
    assert thread_form(admin, "news", "b", "true", csrf_token="").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "sort=nonsense",
        "cursor=not-a-cursor",
        "cursor=" + "x" * 300,
        "q=" + "x" * 500,
        "sort=most_comments&cursor=WzFd",  # a cursor of the other sort
        "cursor=WyJ4Il0",  # ["x"]: a string where an id goes
        "cursor=Wzk5OTk5OTk5OTk5OTk5OTk5OTld",  # an id out of range
        "changed=abc",
        "changed=99999999999999999999999",
    ],
)
def test_a_hostile_query_string_is_a_message_on_the_threads_page(client, admin, query):
    open_threads(client)
    page = html(admin.get(f"/console/sites/news/threads?{query}"))
    if not query.startswith("changed"):
        assert "start again from the first page" in page
        assert listed(page) == []
