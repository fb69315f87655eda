"""What the browser tests use to judge a page as a person would: accessibility by axe-core, the keyboard alone,
screenshots per language and width, and a page per language and width to do it in.

Built on tests/pages/test_browser.py's fixtures (the uvicorn server on the test anvil, the system chromium, the
record of every request): import the fixtures from here into a test module (`from tests.pages.browser_kit import
browser, server, ...`), as that module does with tests/pages/conftest.py's.

- `browsing(browser, requests_seen, lang, width)` opens a page in a browser that asks for `lang` ("nl" or "en")
  at `width` ("desktop" or "phone"); nothing it loads may come from elsewhere.
- `assert_accessible(page)` runs axe-core (node_modules/axe-core, the exact version package.json pins) on the page
  as it is now and fails on any serious or critical violation, naming rule, elements and fix.
- `assert_keyboard_usable(page)` tabs through the page from its top: every link, button and field that is shown
  must be reached, and each must look focused when it is.
- `shot(page, name, lang, width)` writes test-results/screenshots/<name>-<lang>-<width>.png.

axe is a script the tests add to the page. The pages' Content-Security-Policy allows no script at all
(`default-src 'none'`), so it would block axe: the scanning context is opened with Playwright's `bypass_csp`,
which lifts the policy for the test's own scripts only. The policy itself is tested where it belongs
(tests/pages/test_browser.py, tests/pages/test_pages.py); every page here is still asserted to load nothing
from elsewhere.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.pages.test_browser import (  # noqa: F401 - fixtures and helpers, re-exported for the test modules
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Requests,
    Server,
    api,
    browser,
    horizontal_overflow,
    issued,
    requests_seen,
    server,
)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
LANGUAGES = {"nl": "nl-NL", "en": "en-GB"}  # the browser's locale: its Accept-Language asks for this language
SERIOUS = ("serious", "critical")

if not AXE.exists():
    raise RuntimeError(f"no axe-core at {AXE}: run `npm ci` (package.json has it as a devDependency)")


# ---------------------------------------------------------------- acting on a page


def submit(page: Any, control: Any) -> None:
    """Click `control` (a button that sends a form, or a link) and return once the next page has loaded.
    Playwright's click returns when the click is dispatched, not when the server has answered, and a console act
    checks a password and waits for the chain: without this wait the next line reads the page before it."""
    with page.expect_navigation():
        control.click()


# ---------------------------------------------------------------- a page in a language at a width


@contextmanager
def browsing(
    browser: Any, requests_seen: Requests, lang: str, width: str, *, forced_colors: bool = False
) -> Iterator[Any]:
    """A page of a fresh browser context that asks for `lang` at `width`, Dutch time; CSP lifted for axe only;
    with `forced_colors`, as in Windows' contrast themes (the page's colours, backgrounds and shadows replaced by the
    system's). On leaving: no request left the server."""
    context = browser.new_context(
        viewport=WIDTHS[width],
        locale=LANGUAGES[lang],
        timezone_id="Europe/Amsterdam",
        bypass_csp=True,
        forced_colors="active" if forced_colors else "none",
    )
    context.on("request", lambda request: requests_seen.urls.append(request.url))
    try:
        yield context.new_page()
    finally:
        context.close()
    assert requests_seen.outside() == [], f"requests left 127.0.0.1: {requests_seen.outside()}"


def shot(page: Any, name: str, lang: str, width: str) -> Path:
    """A full-page screenshot: test-results/screenshots/<name>-<lang>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{lang}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---------------------------------------------------------------- axe-core


@dataclass(frozen=True)
class Violation:
    """One axe rule that fails, with the elements that fail it."""

    rule: str
    impact: str
    help: str
    help_url: str
    nodes: list[dict[str, Any]]

    def describe(self) -> str:
        lines = [f"{self.impact}: {self.rule} – {self.help} ({self.help_url})"]
        for node in self.nodes[:8]:
            target = " ".join(str(part) for part in node.get("target", []))
            html = " ".join(str(node.get("html", "")).split())
            lines.append(f"    at {target}: {html[:160]}")
            summary = " ".join(str(node.get("failureSummary") or "").split())
            if summary:
                lines.append(f"      {summary[:400]}")
        if len(self.nodes) > 8:
            lines.append(f"    … and {len(self.nodes) - 8} more elements")
        return "\n".join(lines)


def _load_axe(page: Any) -> None:
    """Add axe-core to the page, once; a readable failure when the page's Content-Security-Policy refuses it."""
    if page.evaluate("typeof window.axe === 'object'"):
        return
    blocked = "axe-core did not load into the page: its Content-Security-Policy blocked the script (open the page "
    blocked += "with browsing(), whose context has bypass_csp)"
    try:
        page.add_script_tag(path=str(AXE))
    except Exception as exc:  # noqa: BLE001 - Playwright's Error, whatever stopped the script
        raise AssertionError(f"{blocked}: {exc}") from exc
    if not page.evaluate("typeof window.axe === 'object'"):
        raise AssertionError(blocked)


def _run_axe(page: Any) -> dict[str, Any]:
    _load_axe(page)
    found = page.evaluate(
        """async () => JSON.stringify(await axe.run(document, {
            resultTypes: ['violations'],
            rules: {'target-size': {enabled: true}},
        }))"""
    )
    return dict(json.loads(found))


def _violations(results: dict[str, Any]) -> list[Violation]:
    order = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3}
    violations = [
        Violation(item["id"], item.get("impact") or "minor", item["help"], item["helpUrl"], item["nodes"])
        for item in results["violations"]
    ]
    return sorted(violations, key=lambda v: (order.get(v.impact, 4), v.rule))


def axe(page: Any) -> list[Violation]:
    """Every violation axe-core finds on the page as it is now, most serious first: its default rules (WCAG 2.0-2.2
    A/AA and best practices) and WCAG 2.2's target size (2.5.8, at least 24 by 24 px), which axe leaves off by
    default and which matters on a phone."""
    return _violations(_run_axe(page))


@dataclass(frozen=True)
class Contrast:
    """Text whose contrast axe could not judge (a gradient, an image or another element behind it), measured on
    the rendered pixels: its colour against the lightest and the darkest pixel behind it."""

    target: str
    text: str
    ratio: float
    needed: float  # 4.5, or 3 for large text (24px, or 18.66px bold)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = rgb
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast_ratio(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """WCAG 2's contrast ratio of two sRGB colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# The text's colour and size; then the text hidden (transparent, no shadow), so a screenshot shows what is behind.
HIDE_TEXT = """(el) => {
    const style = getComputedStyle(el);
    const rgb = style.color.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const sheet = document.createElement('style');
    sheet.id = 'kit-hide-text';
    sheet.textContent = '[data-kit-contrast], [data-kit-contrast] * { color: transparent !important; '
        + 'text-shadow: none !important; fill: transparent !important; caret-color: transparent !important; '
        + 'text-decoration-color: transparent !important; }';
    el.dataset.kitContrast = '1';
    document.head.append(sheet);
    return {rgb, large: size >= 24 || (bold && size >= 18.66), text: el.textContent.trim().slice(0, 60)};
}"""
SHOW_TEXT = """(el) => { delete el.dataset.kitContrast; document.getElementById('kit-hide-text').remove(); }"""


def measure_contrast(page: Any, target: str) -> Contrast:
    """The contrast of the text of the element at `target` (a CSS selector) against every pixel behind it."""
    from PIL import Image

    element = page.locator(target).first
    element.scroll_into_view_if_needed()
    text = element.evaluate(HIDE_TEXT)
    try:
        picture = Image.open(io.BytesIO(element.screenshot(animations="disabled"))).convert("RGB")
    finally:
        element.evaluate(SHOW_TEXT)
    colours = picture.getcolors(maxcolors=picture.width * picture.height) or []
    behind = [colour for _, colour in colours]
    foreground = tuple(float(part) for part in text["rgb"])
    ratio = min(contrast_ratio(foreground, colour) for colour in behind)  # type: ignore[arg-type]
    return Contrast(target, text["text"], round(ratio, 2), 3.0 if text["large"] else 4.5)


def unjudged_contrast(page: Any) -> list[Contrast]:
    """Every text axe's colour-contrast rule left undecided, measured on the rendered page."""
    _load_axe(page)
    found = page.evaluate(
        """async () => JSON.stringify((await axe.run(document, {runOnly: ['color-contrast'],
            resultTypes: ['incomplete']})).incomplete)"""
    )
    targets = [
        " ".join(node["target"])
        for rule in json.loads(found)
        if rule["id"] == "color-contrast"
        for node in rule["nodes"]
    ]
    return [measure_contrast(page, target) for target in targets]


def assert_accessible(page: Any, where: str = "") -> list[Violation]:
    """Fail when axe finds a serious or critical violation on the page, or text too faint where axe could not
    judge it (measured, see unjudged_contrast); the lesser violations are returned."""
    violations = axe(page)
    serious = [v for v in violations if v.impact in SERIOUS]
    faint = [contrast for contrast in unjudged_contrast(page) if contrast.ratio < contrast.needed]
    label = where or page.url
    problems = [v.describe() for v in serious] + [
        f"serious: measured contrast {c.ratio}:1 < {c.needed}:1 at {c.target} ({c.text!r}); axe could not judge it"
        for c in faint
    ]
    assert not problems, f"axe-core: {len(problems)} serious or critical problem(s) on {label}:\n" + "\n".join(problems)
    return violations


# ---------------------------------------------------------------- the keyboard

# What a keyboard user must be able to reach on the page: every shown link, button and field, also one taken out of
# the tab order with tabindex="-1" (a control inside a closed <details> is hidden until its summary opens it, so it
# does not count).
FOCUSABLE = """() => [...document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
    .filter(el => !el.disabled)
    .filter(el => !el.closest('details:not([open])') || el.matches('details > summary'))
    .filter(el => el.getClientRects().length > 0 || el.classList.contains('skip-link'))
    .map(el => { el.dataset.kbKey = el.dataset.kbKey || String(Math.random()).slice(2); return el.dataset.kbKey; })"""

# The focused element: its key, a description, where it is.
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    el.dataset.kbKey = el.dataset.kbKey || String(Math.random()).slice(2);
    const box = el.getBoundingClientRect();
    return {
        key: el.dataset.kbKey,
        what: el.outerHTML.replace(/ data-kb-key="\\d*"/, '').replace(/\\s+/g, ' ').slice(0, 120),
        box: [box.left, box.top, box.width, box.height],
        lines: [...el.getClientRects()].map(r => [r.left, r.top, r.width, r.height]),  // a wrapped link: each line
        viewport: [window.innerWidth, window.innerHeight],
        focusVisible: el.matches(':focus-visible'),
    };
}"""

# Tab from the top: blurring is not enough (after a skip link or a click, Tab goes on from there), so focus a
# placeholder at the start of the body, which the first Tab leaves and which is then removed.
START = """() => {
    window.scrollTo(0, 0);
    const start = document.createElement('span');
    start.id = 'kit-start';
    start.tabIndex = -1;
    document.body.prepend(start);
    start.focus();
}"""


@dataclass(frozen=True)
class Stop:
    """Where one press of Tab put the focus."""

    key: str
    what: str
    shown: bool  # inside the viewport, with a size
    focus_visible: bool  # :focus-visible matched (the browser treats it as keyboard focus)
    changed: int  # pixels around the element whose colour changes by at least 3:1 when it is focused
    needed: int  # its perimeter in pixels: a 1 px ring around it, the least a focus indicator may change

    @property
    def looks_focused(self) -> bool:
        return self.changed >= self.needed


FOCUS_CONTRAST = 3.0  # WCAG's contrast for what must be seen of a control (1.4.11), here focused against not
MARGIN = 6  # px around the element: an outline or a shadow may lie outside its box


def _changed_pixels(first: bytes, second: bytes) -> int:
    """How many pixels of two screenshots of one place differ by at least FOCUS_CONTRAST."""
    from PIL import Image, ImageChops

    one, other = (Image.open(io.BytesIO(png)).convert("RGB") for png in (first, second))
    region = ImageChops.difference(one, other).getbbox()
    if region is None:
        return 0
    ratios: dict[tuple[bytes, bytes], bool] = {}
    changed = 0
    a, b = one.crop(region).tobytes(), other.crop(region).tobytes()
    for at in range(0, len(a), 3):
        pair = (a[at : at + 3], b[at : at + 3])
        if pair[0] == pair[1]:
            continue
        if pair not in ratios:
            ratios[pair] = contrast_ratio(tuple(pair[0]), tuple(pair[1])) >= FOCUS_CONTRAST  # type: ignore[arg-type]
        changed += ratios[pair]
    return changed


def focus_change(page: Any, box: list[float], viewport: list[int], lines: list[list[float]]) -> tuple[int, int]:
    """The focused element seen focused and not, on the screen around it: (pixels whose colours contrast at least
    3:1 between the two, the perimeter of what shows of the element: of each of its lines, when it wraps). The
    element is blurred for the second look and focused again."""
    left, top, width, height = box
    x0, y0 = max(0, math.floor(left - MARGIN)), max(0, math.floor(top - MARGIN))
    x1 = min(viewport[0], math.ceil(left + width + MARGIN))
    y1 = min(viewport[1], math.ceil(top + height + MARGIN))
    clip = {"x": x0, "y": y0, "width": max(1, x1 - x0), "height": max(1, y1 - y0)}
    focused = page.screenshot(clip=clip, animations="disabled", caret="hide")
    page.evaluate("() => { window.kitFocused = document.activeElement; document.activeElement.blur(); }")
    plain = page.screenshot(clip=clip, animations="disabled", caret="hide")
    page.evaluate("() => { window.kitFocused.focus({preventScroll: true}); delete window.kitFocused; }")
    perimeter = 0.0  # of what shows: each line of a link that wraps, the part in the window of a large element
    for line_left, line_top, line_width, line_height in lines or [box]:
        seen_width = min(line_left + line_width, viewport[0]) - max(line_left, 0)
        seen_height = min(line_top + line_height, viewport[1]) - max(line_top, 0)
        if seen_width > 0 and seen_height > 0:
            perimeter += 2 * (seen_width + seen_height)
    return _changed_pixels(focused, plain), round(perimeter)


def tab_through(page: Any, limit: int = 400) -> list[Stop]:
    """Press Tab from the top of the page until the focus comes round again; every stop on the way, with how much
    its look changes when it is focused (see focus_change)."""
    page.evaluate(START)
    stops: list[Stop] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        page.evaluate("() => document.getElementById('kit-start')?.remove()")
        focused = page.evaluate(FOCUSED)
        if focused is None:  # out of the document (the browser's own controls): round once
            if stops:
                break
            continue
        if any(stop.key == focused["key"] for stop in stops):
            break
        left, top, width, height = focused["box"]
        view_width, view_height = focused["viewport"]
        shown = width > 0 and height > 0 and left < view_width and top < view_height and left + width > 0
        shown = shown and top + height > 0
        changed, needed = focus_change(page, focused["box"], focused["viewport"], focused["lines"]) if shown else (0, 1)
        stops.append(Stop(focused["key"], focused["what"], shown, focused["focusVisible"], changed, needed))
    else:
        raise AssertionError(f"Tab did not come round in {limit} presses on {page.url}")
    return stops


def assert_keyboard_usable(page: Any, where: str = "") -> list[Stop]:
    """Tab reaches every shown link, button and field of the page, each in view and visibly focused when it is.
    Returns the stops in order."""
    label = where or page.url
    expected = page.evaluate(FOCUSABLE)
    stops = tab_through(page)
    reached = {stop.key for stop in stops}
    problems = []
    missing = [key for key in expected if key not in reached]
    if missing:
        shown = page.evaluate(
            '(keys) => keys.map(k => document.querySelector(`[data-kb-key="${k}"]`).outerHTML'
            ".replace(/ data-kb-key=\"\\d*\"/, '').slice(0, 120))",
            missing,
        )
        problems.append("never reached by Tab:\n" + "\n".join(f"    {html}" for html in shown))
    unseen = [stop for stop in stops if not (stop.shown and stop.focus_visible and stop.looks_focused)]
    if unseen:
        problems.append(
            "focused but not visibly so (out of view, or looking as when not focused):\n"
            + "\n".join(
                f"    {stop.what} (in view: {stop.shown}, :focus-visible: {stop.focus_visible}, "
                f"pixels changed 3:1 by focus: {stop.changed} of at least {stop.needed})"
                for stop in unseen
            )
        )
    assert not problems, f"keyboard on {label}:\n" + "\n".join(problems)
    return stops
