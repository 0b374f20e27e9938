"""The HTML explanation as a reviewer sees it: rendered by headless Chromium (Debian's
`chromium`, installed by `make test` when missing), each disclosure's verdict and the
paragraphs that decide it must be above the fold, within the first FOLD pixels of that
disclosure's section, in a 1280-pixel-wide window.

The page itself carries no script (it is a self-contained offline file); the test renders a
copy with a small measuring script added, and reads its measurements from the DOM Chromium
dumps after layout.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from casekit import FACTS, guidance_file

import pyisp
from pyisp.render.explanation import html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FOLD = 900
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--window-size=1280,900", "--virtual-time-budget=3000"]
# the longest pages of facts/: most disclosures, most obligations, a doctor and a police case
CASES = ("failure-to-thrive-parents-refuse", "gp-tells-social-care-of-fathers-thoughts-of-harming-baby",
         "doctor-gmc-29-not-best-interests", "police-category-4-child-in-need-without-consent",
         "teacher-counselling-disclosure")

MEASURE = """<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('section[id^="disclosure-"]').forEach(function (s) {
    var top = s.getBoundingClientRect().top + window.scrollY;
    var verdict = s.querySelector('.verdict').getBoundingClientRect();
    var cites = [];
    s.querySelectorAll('.deciding .cite a').forEach(function (a) {
      var r = a.getBoundingClientRect();
      cites.push({text: a.textContent, bottom: r.bottom + window.scrollY - top, visible: r.height > 0});
    });
    out.push({id: s.id, verdict: s.querySelector('.verdict').textContent,
              verdict_bottom: verdict.bottom + window.scrollY - top, cites: cites});
  });
  var pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def layout(page: str, tmp_path: Path) -> list[dict]:
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           path.as_uri()], capture_output=True, text=True, timeout=60)
    found = re.search(r'<pre id="layout">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium gave no layout: {done.stderr[-500:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _page(case: str) -> tuple[str, list]:
    result = pyisp.query_file(FACTS / f"{case}.yaml")
    explanations = [result.explain(d.id) for d in result.disclosures]
    return html(explanations, guidance_file()), explanations


@pytest.mark.timeout(240)
@pytest.mark.parametrize("case", CASES)
def test_success_each_verdict_and_its_deciding_paragraphs_are_above_the_fold(case, tmp_path):
    assert Path(CHROMIUM).exists(), "chromium is missing: `make test` installs it (apt-get install chromium)"
    page, explanations = _page(case)
    sections = layout(page, tmp_path)
    assert [s["id"] for s in sections] == [f"disclosure-{e.disclosure}" for e in explanations]
    for section, ex in zip(sections, explanations):
        assert pyisp_verdict(ex) in section["verdict"]
        assert 0 < section["verdict_bottom"] <= FOLD, section
        cited = {c["text"] for c in section["cites"]}
        assert set(ex.deciding_paragraphs) <= cited, (ex.deciding_paragraphs, cited)
        assert ex.deciding_paragraphs, f"{case}: {ex.disclosure} names no deciding paragraph"
        for cite in section["cites"]:
            assert cite["visible"] and cite["bottom"] <= FOLD, (ex.disclosure, cite)


def pyisp_verdict(ex) -> str:
    return {"must_share": "MUST SHARE", "may_share": "MAY SHARE", "must_not_share": "MUST NOT SHARE",
            "undetermined": "UNDETERMINED"}[ex.verdict]


@pytest.mark.timeout(120)
def test_fail_a_verdict_pushed_below_the_fold_is_measured_there(tmp_path):
    page, _ = _page("teacher-counselling-disclosure")
    pushed = page.replace('<p class="verdict', '<div style="height:1500px"></div><p class="verdict', 1)
    sections = layout(pushed, tmp_path)
    assert sections[0]["verdict_bottom"] > FOLD
