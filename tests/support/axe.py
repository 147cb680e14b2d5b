"""axe-core in the browser tests: no page may have a serious or critical accessibility violation.

`assert_accessible(page)` injects ``node_modules/axe-core/axe.min.js`` (npm devDependency,
installed by `make test`) into the page (evaluated through the DevTools protocol) and runs
``axe.run()`` on the whole document; it fails with a readable list of every serious or
critical violation (rule, impact, help, the offending elements). The screenshot helper
(`tests/support/screenshots.py`) calls it, so every page a browser test shows is checked;
`tests/web/test_accessibility_browser.py` visits every staff and chat page route.

The product's Content-Security-Policy forbids inline scripts, so the script is not added as a
``<script>`` element (``add_script_tag`` would be refused without ``bypass_csp=True``): it is
evaluated like any other Playwright ``evaluate``, which the page's CSP does not govern. A
context opened without ``bypass_csp`` is therefore checked under the product's real policy.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

#: The impacts that fail a test (axe's scale: minor, moderate, serious, critical).
FAILING = frozenset({"serious", "critical"})

_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


@cache
def _source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


async def violations(page: Page) -> list[dict[str, Any]]:
    """Every serious or critical violation axe finds on the page as it is now."""
    if not AXE_SCRIPT.is_file():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `make node_modules/.package-lock.json`")
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_source() + "\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(_RUN)
    return [v for v in found if v["impact"] in FAILING]


def describe(url: str, found: list[dict[str, Any]]) -> str:
    """The violations as lines a person can act on."""
    lines = [f"axe: {len(found)} serious/critical violation(s) on {url}"]
    for item in found:
        lines.append(f"- {item['id']} ({item['impact']}): {item['help']}")
        lines.extend(
            f"    {node['target']}: {node['summary']}".replace("\n", " / ")
            for node in item["nodes"][:10]
        )
    return "\n".join(lines)


async def assert_accessible(page: Page) -> None:
    """Fail unless axe finds no serious or critical violation on the page."""
    found = await violations(page)
    assert not found, describe(page.url, found)
