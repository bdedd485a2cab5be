"""Welsh parity (issue 17 item 1): the catalogue is complete, and pages and the API speak it.

The catalogue tests read the .po with Babel and fail when any message lacks a Welsh
translation, when a translation is fuzzy, when the current sources mark a message the .po
does not have (or the .po keeps one they no longer mark), or when the committed .mo is not
the .po compiled.
"""

from __future__ import annotations

import json
import re

import pytest
from babel import Locale
from babel.messages.mofile import read_mo
from werkzeug import exceptions

from streetsafe.errors import _WERKZEUG_DESCRIPTIONS
from streetsafe.i18n import path_language, switch_link
from streetsafe.i18n.catalog import POT, extract, po_path, read_catalog
from streetsafe.i18n.scripts import plural_samples
from streetsafe.vocabulary import CATEGORIES

_PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)[sdr]")


def _welsh():
    return read_catalog(po_path("cy"), "cy")


def _ids(catalog) -> set[str]:
    return {message.id if isinstance(message.id, str) else message.id[0]
            for message in catalog if message.id}  # fmt: skip


def _key(message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _forms(message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


# ---- the catalogue ----------------------------------------------------------------------


def test_every_message_has_a_welsh_translation_that_is_not_fuzzy() -> None:
    catalog = _welsh()
    assert not catalog.fuzzy, "the .po header is marked fuzzy"
    untranslated = [m.id for m in catalog if m.id and not all(f.strip() for f in _forms(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [], f"{len(untranslated)} messages lack Welsh: {untranslated[:10]}"
    assert fuzzy == [], f"fuzzy (unchecked) translations: {fuzzy[:10]}"


def test_welsh_plurals_have_all_six_forms_of_babels_rule() -> None:
    catalog = _welsh()
    assert catalog.num_plurals == 6 == len(Locale.parse("cy").plural_form.tags) + 1
    for message in catalog:
        if message.id and message.pluralizable:
            assert len(message.string) == 6, message.id


def test_the_sources_mark_no_message_missing_from_the_catalogue() -> None:
    extracted, welsh = _ids(extract()), _ids(_welsh())
    assert sorted(extracted - welsh) == [], "run: python -m streetsafe.i18n.catalog all"
    assert sorted(welsh - extracted) == [], "the .po keeps messages no source marks"
    assert _ids(read_catalog(POT)) == extracted, "messages.pot is stale"


def test_the_extraction_really_reads_python_templates_and_scripts() -> None:
    # An oracle for the test above: one known message of each kind of source.
    places = {m.id if isinstance(m.id, str) else m.id[0]: {p for p, _ in m.locations}
              for m in extract() if m.id}  # fmt: skip
    assert "streetsafe/vocabulary.py" in places["Badly lit"]
    assert "streetsafe/web/templates/web/report.html" in places["Where were you?"]
    assert "streetsafe/web/static/js/report.js" in places["Choose at least one reason."]
    assert "streetsafe/team/static/dashboard.js" in places["Show effect"]
    assert "streetsafe/web/static/js/combobox.js" in places["No matches."]


def test_the_committed_mo_is_the_po_compiled() -> None:
    with po_path("cy").with_suffix(".mo").open("rb") as fileobj:
        compiled = {_key(m): _forms(m) for m in read_mo(fileobj) if m.id}
    assert compiled == {_key(m): _forms(m) for m in _welsh() if m.id}


def test_translations_keep_every_placeholder_of_their_message() -> None:
    catalog = _welsh()
    assert [(m.id, errors) for m, errors in catalog.check()] == []  # Babel: %-formats
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        wanted = {name for text in ids for name in map("".join, _PLACEHOLDER.findall(text))}
        for form in _forms(message):
            found = set(map("".join, _PLACEHOLDER.findall(form)))
            assert found <= wanted, (message.id, form)
            if not message.pluralizable:
                assert found == wanted, (message.id, form)


def test_werkzeug_descriptions_we_translate_are_still_werkzeugs() -> None:
    theirs = {cls.description for cls in (exceptions.NotFound, exceptions.MethodNotAllowed,
              exceptions.BadRequest, exceptions.RequestEntityTooLarge,
              exceptions.UnsupportedMediaType)}  # fmt: skip
    assert set(_WERKZEUG_DESCRIPTIONS) == theirs


def test_the_report_page_tells_refusals_apart_by_phrases_of_the_apis_messages() -> None:
    # report.js recognises three API refusals by a phrase (t("route within") and so on):
    # the phrase must be in the message, in English and in Welsh.
    welsh = {m.id: m.string for m in _welsh() if m.id and not m.pluralizable}
    cases = [
        ("route within", "no %(mode)s route within %(radius)s m of this location; choose the "
                         "route (transit.route_id)"),
        ("route within", "no route within %(radius)s m of this location; choose the route "
                         "(transit.route_id)"),
        ("m from route", "this location is %(distance)s m from route %(id)r; check the route or "
                         "the location"),
        ("stop within", "no stop within %(radius)s m of this location; report it as a street "
                        "report, or choose the stop (transit.stop_id)"),
    ]  # fmt: skip
    for phrase, message in cases:
        assert phrase in message
        assert welsh[phrase] in welsh[message], (welsh[phrase], welsh[message])
    assert welsh["route within"] not in welsh["this location is %(distance)s m from route %(id)r; "
                                              "check the route or the location"]


def test_plural_samples_cover_every_welsh_category() -> None:
    samples = plural_samples("cy")
    assert set(samples) == {"zero", "one", "two", "few", "many", "other"}
    rule = Locale.parse("cy").plural_form
    assert all(rule(n) == tag for tag, n in samples.items())


@pytest.mark.parametrize(
    "path, language",
    [("/", "en"), ("/cy/", "cy"), ("/cy", "cy"), ("/team/login", "en"), ("/cy/team", "cy"),
     ("/api/v1/categories", None), ("/cyclists", None)],
)  # fmt: skip
def test_pages_choose_their_language_by_path(path: str, language: str | None) -> None:
    assert path_language(path) == language


def test_the_switch_link_goes_both_ways() -> None:
    assert switch_link("/").url == "/cy/" and switch_link("/").name == "Cymraeg"
    assert switch_link("/cy/").url == "/" and switch_link("/cy/").name == "English"
    assert switch_link("/cy/team/login").url == "/team/login"


# ---- the API ----------------------------------------------------------------------------


def test_categories_honour_accept_language(client) -> None:
    english = client.get("/api/v1/categories")
    welsh = client.get("/api/v1/categories", headers={"Accept-Language": "cy"})
    assert english.headers["Content-Language"] == "en"
    assert welsh.headers["Content-Language"] == "cy"
    assert "Accept-Language" in welsh.headers["Vary"]
    assert [c["label"] for c in english.get_json()] == [c.label for c in CATEGORIES]
    labels = {c["id"]: c["label"] for c in welsh.get_json()}
    assert labels["badly_lit"] == "Golau gwael"
    assert all(labels[c.id] != c.label for c in CATEGORIES if c.id != "no_cctv")
    assert [c["id"] for c in welsh.get_json()] == [c["id"] for c in english.get_json()]


@pytest.mark.parametrize(
    "header, language",
    [("cy", "cy"), ("cy-GB", "cy"), ("en-GB,cy;q=0.5", "en"), ("cy,en;q=0.8", "cy"),
     ("fr", "en"), ("", "en"), ("*", "en")],
)  # fmt: skip
def test_the_api_picks_the_best_of_english_and_welsh(client, header: str, language: str) -> None:
    response = client.get("/api/v1/categories", headers={"Accept-Language": header})
    assert response.headers["Content-Language"] == language


@pytest.mark.parametrize(
    "body, field, welsh",
    [
        ({"context": "street", "categories": ["badly_lit"]}, "location",
         "location: mae ei angen oni roddir transit.stop_id"),
        ({"context": "street", "location": {"lat": 53.74, "lon": -0.33}, "categories": ["x"]},
         "categories.0", "categories.0: categori anhysbys 'x'; gweler /api/v1/categories"),
        ({"context": "street", "location": {"lat": 91, "lon": -0.33}, "categories": ["other"]},
         "location.lat", "location.lat: Dylai'r mewnbwn fod yn llai na 90 neu'n hafal iddo"),
        ({"location": {"lat": 53.74, "lon": -0.33}, "categories": ["other"]}, "context",
         "context: Mae angen y maes hwn"),
        ({"context": "street", "location": {"lat": 53.74, "lon": -0.33},
          "categories": ["other"], "x": 1}, "x", "maes anhysbys 'x'"),
    ],
)  # fmt: skip
def test_a_refused_report_is_explained_in_welsh_with_the_same_shape(client, body, field, welsh):
    english = client.post("/api/v1/reports", json=body)
    cymraeg = client.post("/api/v1/reports", json=body, headers={"Accept-Language": "cy"})
    assert english.status_code == cymraeg.status_code == 400
    assert set(cymraeg.get_json()) == {"error", "message", "field"}
    assert cymraeg.get_json()["error"] == english.get_json()["error"]
    assert cymraeg.get_json()["field"] == english.get_json()["field"] == field
    assert cymraeg.get_json()["message"] == welsh
    assert english.get_json()["message"] != welsh
    assert cymraeg.headers["Content-Language"] == "cy"


def test_english_error_text_is_pydantics_word_for_word(client) -> None:
    body = {"context": "street", "location": {"lat": 91, "lon": -0.33}, "categories": ["other"]}
    message = client.post("/api/v1/reports", json=body).get_json()["message"]
    assert message == "location.lat: Input should be less than or equal to 90"


@pytest.mark.parametrize(
    "request_args, status, welsh_start",
    [
        (("get", "/api/v1/nothing-here"), 404, "Ni chafwyd hyd i'r URL"),
        (("delete", "/api/v1/categories"), 405, "Ni chaniateir y dull hwn"),
        (("get", "/api/v1/transit/routes/nope:1"), 404, "does dim llwybr gyda'r dynodydd"),
        (("get", "/api/v1/hotspots/cells?res=99"), 400, "res: Dylai'r mewnbwn fod yn llai"),
        (("get", "/api/v1/hotspots/cells?from=2026-01-05"), 400,
         "from: mae haenau cyhoeddus yn hidlo fesul mis cyfan"),
    ],
)  # fmt: skip
def test_other_api_errors_are_in_welsh_when_asked(client, request_args, status, welsh_start):
    method, path = request_args
    response = getattr(client, method)(path, headers={"Accept-Language": "cy"})
    assert response.status_code == status
    assert response.get_json()["message"].startswith(welsh_start), response.get_json()


def test_a_post_that_is_not_json_is_refused_in_welsh(client) -> None:
    response = client.post("/api/v1/reports", data="x", content_type="text/plain",
                           headers={"Accept-Language": "cy"})  # fmt: skip
    assert response.status_code == 415
    assert response.get_json() == {
        "error": "unsupported_media_type",
        "message": "anfonwch yr adroddiad fel JSON gyda Content-Type: application/json",
        "field": "Content-Type",
    }


# ---- the pages --------------------------------------------------------------------------


def test_cy_serves_the_report_page_in_welsh_without_a_cookie(client) -> None:
    response = client.get("/cy/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Content-Language"] == "cy"
    assert '<html lang="cy">' in html
    assert ">Rhowch wybod am le lle roeddech chi'n teimlo'n anniogel</h1>" in html
    assert re.search(r'<a href="/" lang="en"\s+hreflang="en">English</a>', html)
    assert '"lang": "cy"' in html  # the scripts' messages


def test_root_stays_english_whatever_the_browser_asks(client) -> None:
    response = client.get("/", headers={"Accept-Language": "cy"})
    html = response.get_data(as_text=True)
    assert '<html lang="en-GB">' in html
    assert "Report a place where you felt unsafe" in html
    assert re.search(r'<a href="/cy/" lang="cy"\s+hreflang="cy">Cymraeg</a>', html)
    assert "Set-Cookie" not in response.headers


def test_cy_without_its_slash_redirects_to_the_page(client) -> None:
    response = client.get("/cy")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith("/cy/")


def test_the_welsh_page_embeds_welsh_messages_and_six_plural_forms(client) -> None:
    html = client.get("/cy/").get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="messages">(.*?)</script>', html, re.S)
    payload = json.loads(data.group(1))
    assert payload["messages"]["Choose at least one reason."] == "Dewiswch o leiaf un rheswm."
    forms = payload["plurals"]["{n} stop near the pin."]
    assert set(forms) == {"zero", "one", "two", "few", "many", "other"}


def test_layers_and_tiles_stay_one_cache_entry_whatever_the_language(client) -> None:
    for path in ("/api/v1/hotspots/cells?bbox=-0.4,53.7,-0.3,53.8", "/tiles/hotspots/3/3/3.mvt"):
        response = client.get(path, headers={"Accept-Language": "cy"})
        assert response.status_code == 200, path
        assert "Accept-Language" not in response.headers.get("Vary", ""), path
        assert "Content-Language" not in response.headers, path


def test_the_receipt_pages_are_welsh_under_cy(client) -> None:
    form = client.get("/cy/receipt")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and '<html lang="cy">' in html
    assert "Gwirio derbynneb" in html and 'action="/cy/receipt"' in html
    assert "Set-Cookie" not in form.headers
    typed = client.get("/cy/receipt?code=abcd")
    assert typed.status_code == 303 and typed.headers["Location"] == "/cy/receipt/abcd"
    missing = client.get("/cy/receipt/ABCD-EFGH-JKMNP")
    assert missing.status_code == 404
    assert "Ni allem ddod o hyd i'r dderbynneb honno" in missing.get_data(as_text=True)
    english = client.get("/receipt", headers={"Accept-Language": "cy"}).get_data(as_text=True)
    assert "Check a receipt" in english and '<html lang="en-GB">' in english


def test_the_service_worker_keeps_the_welsh_page_and_both_category_lists(client) -> None:
    script = client.get("/sw.js").get_data(as_text=True)
    assert '"/cy/"' in script and '"/static/js/i18n.js"' in script
    assert 'const LANGUAGES = ["en", "cy"];' in script
