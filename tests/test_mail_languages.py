"""Mail and the pages its links open, in the reader's language: the 34 languages of the mail table,
the language a reader posted or subscribed in, right to left for Arabic, the site's as the fallback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel import Locale
from sqlalchemy import select

from engagement.extensions import db
from engagement.i18n import LANGUAGES
from engagement.mailer.sender import deliver_due_messages
from engagement.models import OutboxMessage
from engagement.privacy.service import answer_requests
from engagement.sites.service import create_site
from tests.factories import post
from tests.smtp import html_of, link_path, smtp_fixture, text_of  # noqa: F401 (the "smtp" fixture)

pytestmark = pytest.mark.smtp

MAIL_TABLE = Path(__file__).resolve().parent.parent / "engagement" / "templates" / "mail" / "messages.json"
ADA = "ada@example.org"


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**smtp.settings)
    with app.app_context():
        yield app


@pytest.fixture
def site(app):
    return create_site(
        slug="news", name="News", origins=[], settings={"moderation": "none", "flood_seconds": 0}
    )


# -- the table ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_every_language_has_every_mail_text_with_its_placeholders_and_plural_forms(language):
    table = json.loads(MAIL_TABLE.read_text(encoding="utf-8"))
    english, texts = table["en"], table[language]
    categories = {Locale.parse(language).plural_form(n) for n in [*range(1000), 10**6, 1.5]}

    assert set(texts) == set(english), f"{language} keys differ from English"
    for key, text in texts.items():
        assert isinstance(text, dict) == isinstance(english[key], dict), f"{language}.{key}"
        if isinstance(text, dict):
            assert "other" in text and set(text) <= categories | {"other"}, f"{language}.{key}: {set(text)}"
            continue
        placeholders = set(re.findall(r"\{(\w+)\}", english[key]))
        assert set(re.findall(r"\{(\w+)\}", text)) == placeholders, f"{language}.{key} placeholders"


def test_the_mail_table_speaks_the_widgets_languages():
    assert list(json.loads(MAIL_TABLE.read_text(encoding="utf-8"))) == list(LANGUAGES)


# -- the reader's language -----------------------------------------------------------------------------


def test_a_reader_who_posted_in_arabic_gets_the_confirmation_in_arabic_right_to_left(client, smtp, site):
    post(client, author_email=ADA, notify_replies=True, lang="ar")
    deliver_due_messages()

    message = smtp.one_to(ADA)
    assert message["Subject"] == "أكّد إشعارات الردود من News"
    assert '<html lang="ar" dir="rtl">' in html_of(message)
    # 7 days: Arabic's "few" form.
    assert "يعمل الرابط لمدة 7 أيام." in text_of(message)


def test_the_reply_notification_speaks_the_language_its_recipient_wrote_in(client, smtp, site):
    parent = post(client, author_name="Ada", author_email=ADA, notify_replies=True, lang="ru").json["comment"]
    deliver_due_messages()
    client.post(link_path(smtp.one_to(ADA), "/mail/confirm/"))
    smtp.inbox.messages.clear()

    post(client, parent_id=parent["id"], author_name="Grace", author_email="g@example.org", lang="ja")
    deliver_due_messages()

    message = smtp.one_to(ADA)
    assert message["Subject"].startswith("Grace ответил(а) на ваш комментарий")
    assert "Прочитать и ответить" in text_of(message)


def test_a_japanese_subscription_confirmation(client, smtp, site):
    client.post("/api/v1/sites/news/subscribers", json={"email": ADA, "lang": "ja-JP"})
    deliver_due_messages()

    message = smtp.one_to(ADA)
    assert message["Subject"] == "Newsの購読を確認してください"
    assert "このリンクの有効期限は7日間です。" in text_of(message)
    assert '<html lang="ja" dir="ltr">' in html_of(message)


def test_without_a_language_mail_speaks_the_sites(client, smtp, app):
    create_site(
        slug="news",
        name="News",
        origins=[],
        settings={"moderation": "none", "flood_seconds": 0, "language": "de"},
    )
    client.post("/api/v1/sites/news/subscribers", json={"email": ADA})
    deliver_due_messages()
    assert smtp.one_to(ADA)["Subject"] == "Bestätigen Sie Ihr Abonnement von News"


def test_a_privacy_request_is_answered_in_its_language(client, smtp, site):
    post(client, author_email=ADA)
    client.post("/api/v1/sites/news/privacy", json={"email": ADA, "request": "export", "lang": "fr"})
    answer_requests()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "privacy_export")
    ).one()
    assert message.subject == "Vos données sur News"
    assert "Télécharger mes données" in message.text_body


@pytest.mark.parametrize("language", ["<script>", "x" * 40, "12", ""])
def test_a_language_that_is_not_a_tag_is_refused(client, site, language):
    answer = client.post("/api/v1/sites/news/subscribers", json={"email": ADA, "lang": language})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"]["lang"]


def test_an_unknown_language_falls_back_to_the_sites(client, smtp, site):
    client.post("/api/v1/sites/news/subscribers", json={"email": ADA, "lang": "tlh"})
    deliver_due_messages()
    assert smtp.one_to(ADA)["Subject"] == "Confirm your subscription to News"


# -- the pages its links open ---------------------------------------------------------------------------


def test_the_confirmation_page_speaks_the_browsers_language(client, smtp, site):
    client.post("/api/v1/sites/news/subscribers", json={"email": ADA})
    deliver_due_messages()
    path = link_path(smtp.one_to(ADA), "/mail/confirm/")

    page = client.get(path, headers={"Accept-Language": "he-IL,he;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="he" dir="rtl">' in html
    assert "לרשום כתובת זו ל־News?" in html
    assert "Accept-Language" in page.headers["Vary"]

    done = client.post(path, headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert "Subskrybujesz News. Dziękujemy." in done
    again = client.get(path, headers={"Accept-Language": "pl"})
    assert "Ten adres jest już potwierdzony." in again.get_data(as_text=True)
    forged = client.get("/mail/confirm/not-a-token", headers={"Accept-Language": "pl"})
    assert forged.status_code == 400 and "Tego linku nie można użyć" in forged.get_data(as_text=True)


def test_the_erase_page_speaks_the_browsers_language_with_its_plural(client, smtp, site):
    for _ in range(3):
        post(client, author_email=ADA)
    client.post("/api/v1/sites/news/privacy", json={"email": ADA, "request": "erase"})
    answer_requests()
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "privacy_erase")).one()
    path = re.search(r"/privacy/erase/[\w.-]+", message.text_body).group(0)

    html = client.get(path, headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert "Ваші 3 коментарі залишаться" in html
    assert client.get(path).get_data(as_text=True).count("Your 3 comments will stay") == 1


def test_moderator_alerts_speak_the_sites_language(client, smtp, app):
    create_site(
        slug="news",
        name="News",
        origins=[],
        settings={
            "moderation": "all",
            "flood_seconds": 0,
            "language": "uk",
            "notify_emails": ["desk@news.example"],
        },
    )
    post(client, author_email=ADA, lang="en")
    deliver_due_messages()

    alert = smtp.one_to("desk@news.example")
    assert alert["Subject"].startswith("[News] Коментар чекає на модерацію")
    assert "Схвалити" in text_of(alert) and "протягом 7 днів" in text_of(alert)
    approve = next(line for line in text_of(alert).splitlines() if line.startswith("Схвалити: "))
    path = "/mail/moderate/" + approve.rsplit("/mail/moderate/", 1)[1]
    page = client.get(path, headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert "Модерація коментаря" in page and ">Схвалити</button>" in page
