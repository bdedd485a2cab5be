"""/sw.js: served from the root (scope /), keeps the page shell and nothing with report data."""

from __future__ import annotations

import json
import re


def test_the_service_worker_keeps_the_shell_scripts_and_categories_only(client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Set-Cookie" not in response.headers
    script = response.get_data(as_text=True)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", script).group(1))
    assert {"/", "/api/v1/categories", "/static/js/report.js", "/static/js/offline.js",
            "/static/js/outbox.js", "/static/leaflet/leaflet.js"} <= set(shell)  # fmt: skip
    assert not any(path.startswith(("/receipt", "/team", "/api/v1/reports")) for path in shell)
    for path in shell:  # every kept file is there to keep, and on this origin
        assert path.startswith("/") and client.get(path).status_code == 200, path
    assert "http://" not in script and "https://" not in script


def test_a_changed_shell_file_gets_a_new_cache_name(tmp_path) -> None:
    from streetsafe.web.pages import _SHELL_STATIC, _shell_version

    static = tmp_path / "static"
    for name in (*_SHELL_STATIC, "../templates/web/sw.js", "../templates/web/report.html"):
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_text(name)
    first = _shell_version.__wrapped__(str(static))
    assert first == _shell_version.__wrapped__(str(static))
    (static / "js" / "report.js").write_text("changed")
    assert _shell_version.__wrapped__(str(static)) != first
