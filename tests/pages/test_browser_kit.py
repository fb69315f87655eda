"""The browser kit finds what it says it finds: pages with planted faults fail it with readable messages, the
same pages without them pass."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.pages.browser_kit import (  # noqa: F401 - fixtures, registered by importing them here
    Requests,
    Server,
    api,
    assert_accessible,
    assert_keyboard_usable,
    browser,
    browsing,
    contrast_ratio,
    requests_seen,
    server,
    shot,
    tab_through,
    unjudged_contrast,
)

PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def html(body: str, lang: str = ' lang="en"', style: str = "") -> str:
    return (
        f"<!doctype html><html{lang}><head><meta charset='utf-8'><title>A planted page</title>"
        f"<style>body {{ font: 16px sans-serif; color: #111; background: #fff; }} {style}</style></head>"
        f"<body><main><h1>A planted page</h1>{body}</main></body></html>"
    )


FAULTY = html(
    f'<img src="{PIXEL}"><button></button><p class="faint">Hard to read</p>',
    lang="",
    style=".faint { color: #aaaaaa; }",
)
SOUND = html(
    f'<img src="{PIXEL}" alt="A dot"><button>Send</button><p class="faint">Easy to read</p>',
    style=".faint { color: #595959; }",
)


def test_axe_names_each_serious_violation_and_where(browser: Any, requests_seen: Requests) -> None:
    with browsing(browser, requests_seen, "en", "desktop") as page:
        page.set_content(FAULTY)
        with pytest.raises(AssertionError) as failed:
            assert_accessible(page, "the faulty page")
        message = str(failed.value)
        assert "serious or critical problem(s) on the faulty page" in message
        for rule, where in [
            ("image-alt", "at img"),
            ("button-name", "at button"),
            ("html-has-lang", "at html"),
            ("color-contrast", 'at p: <p class="faint">'),
        ]:
            assert f": {rule} – " in message, message
            assert where in message, message
        assert "https://dequeuniversity.com/rules/axe/" in message  # how to fix it
        page.set_content(SOUND)
        assert [v.rule for v in assert_accessible(page) if v.impact in ("serious", "critical")] == []
        path = shot(page, "kit-sound", "en", "desktop")
        assert path.name == "kit-sound-en-desktop.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# Text on stripes: axe cannot tell the colour behind it, so the kit measures the rendered pixels.
STRIPES = "background: repeating-linear-gradient(90deg, #ffffff 0 12px, #cccccc 12px 24px); padding: 1rem;"


@pytest.mark.parametrize(("colour", "faint"), [("#777777", True), ("#333333", False)])
def test_contrast_axe_cannot_judge_is_measured(browser: Any, requests_seen: Requests, colour: str, faint: bool) -> None:
    with browsing(browser, requests_seen, "en", "desktop") as page:
        page.set_content(
            html('<p class="striped">Text on stripes</p>', style=f".striped {{ {STRIPES} color: {colour}; }}")
        )
        measured = unjudged_contrast(page)
        assert [m.text for m in measured] == ["Text on stripes"]  # axe left it undecided
        text = tuple(float(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
        expected = round(contrast_ratio(text, (204.0, 204.0, 204.0)), 2)  # type: ignore[arg-type] # against the grey
        assert measured[0].ratio == pytest.approx(expected, abs=0.011)
        assert measured[0].needed == 4.5
        if faint:
            with pytest.raises(
                AssertionError, match=re.escape(f"contrast {measured[0].ratio}:1 < 4.5:1 at p ('Text on")
            ):
                assert_accessible(page)
        else:
            assert_accessible(page)
        # the text is shown again after the measurement
        assert page.evaluate("getComputedStyle(document.querySelector('.striped')).color") != "rgba(0, 0, 0, 0)"


KEYBOARD = html(
    '<p><a href="#one">First</a> <a href="#two" tabindex="-1">Not in the tab order</a></p>'
    '<p><button class="plain">No focus style</button> <button>Browser focus ring</button></p>'
    '<p><a class="ghost" href="#four">A transparent outline only</a></p>'
    '<details><summary>More</summary><a href="#three">Inside closed details</a></details>',
    style=".plain:focus { outline: none; } .ghost:focus { outline: 3px solid transparent; }",
)


def test_keyboard_finds_what_tab_skips_and_focus_that_does_not_show(browser: Any, requests_seen: Requests) -> None:
    with browsing(browser, requests_seen, "en", "phone") as page:
        page.set_content(KEYBOARD)
        page.locator("button.plain").focus()  # Tab would go on from here: the kit starts from the top all the same
        stops = tab_through(page)
        assert [stop.what.split(">")[0] for stop in stops] == [
            '<a href="#one"',
            '<button class="plain"',
            "<button",
            '<a class="ghost" href="#four"',
            "<summary",
        ]
        assert [stop.looks_focused for stop in stops] == [True, False, True, False, True]
        with pytest.raises(AssertionError) as failed:
            assert_keyboard_usable(page, "the keyboard page")
        message = str(failed.value)
        assert "keyboard on the keyboard page" in message
        assert 'never reached by Tab:\n    <a href="#two" tabindex="-1"' in message
        assert re.search(r"<button class=\"plain\".*pixels changed 3:1 by focus: 0 of at least \d+", message)
        assert '<a class="ghost"' in message
        assert "Inside closed details" not in message  # hidden until its summary opens it
        assert "First" not in message and "Browser focus ring" not in message
        sound = KEYBOARD.replace(' tabindex="-1"', "").replace(".plain:focus { outline: none; }", "")
        page.set_content(sound.replace("solid transparent", "solid #0b0c0c"))
        assert len(assert_keyboard_usable(page)) == 6


def test_the_pages_policy_blocks_axe_unless_the_context_bypasses_it(
    browser: Any, requests_seen: Requests, server: Server
) -> None:
    """The pages allow no script (CSP default-src 'none'), so axe runs only where browsing() lifted the policy; in
    an ordinary context the kit says why it cannot scan."""
    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(server.url + "/verify")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        with pytest.raises(AssertionError, match="Content-Security-Policy blocked the script"):
            assert_accessible(page)
    finally:
        context.close()
    with browsing(browser, requests_seen, "nl", "desktop") as page:
        response = page.goto(server.url + "/verify")
        assert "default-src 'none'" in response.headers["content-security-policy"]  # still sent, only not enforced
        assert_accessible(page)
