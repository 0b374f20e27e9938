"""Every rule has its own sentence, and a sentence cites only what its rules encode.

An explanation says of each rule its `%%` sentence (pyisp/core/policy.py maps each rule
to the nearest `%%` line above it). Checkable meaning used here:
- a rule (with a body, outside show.lp) owns its sentence when it is the first such rule
  under its `%%` line, or when it concludes the same predicate as that first rule (another
  way to the same conclusion, which the sentence covers). A rule under the line that
  concludes something else would be explained by another rule's sentence: it fails.
- a paragraph number written in a sentence (e.g. "... under 3.5.6") must be among the
  paragraphs its `%%` line cites.
Facts (rules without a body: reading options, presumption texts, strengths) are
declarations their block's sentence describes; they are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyisp.core.policy import OUTPUT_FILE, Policy

POLICY = Path(__file__).resolve().parent.parent / "policy"
NUMBER = re.compile(r"\b\d+\.\d+\.\d+\b")


def _rules(policy: Policy) -> list:
    return [r for r in policy.rules if r.file != OUTPUT_FILE and len(r.node.body) > 0]


def inherited(policy: Policy) -> list[str]:
    """The rules that take the sentence of a rule concluding something else."""
    owner: dict[tuple, object] = {}
    found = []
    for rule in _rules(policy):
        key = (rule.file, rule.summary, rule.paragraphs)
        first = owner.setdefault(key, rule)
        if first is not rule and first.head_name != rule.head_name:
            found.append(f"{rule.where} ({rule.head_name}) takes the sentence of {first.where} "
                         f"({first.head_name}): {rule.summary[:60]}")
    return found


def miscited(policy: Policy) -> list[str]:
    """The sentences that name a paragraph their line does not cite."""
    found = {}
    for rule in _rules(policy):
        named = set(NUMBER.findall(rule.summary)) - set(rule.paragraphs)
        if named:
            found[(rule.file, rule.summary)] = f"{rule.where}: names {', '.join(sorted(named))} but cites " \
                                               f"{', '.join(rule.paragraphs)}"
    return sorted(found.values())


def test_success_every_rule_has_its_own_sentence():
    assert inherited(Policy(POLICY)) == []


def test_success_no_sentence_names_a_paragraph_its_rules_do_not_cite():
    assert miscited(Policy(POLICY)) == []


def _policy_with(tmp_path: Path, text: str) -> Policy:
    (tmp_path / "main.lp").write_text(text)
    return Policy(tmp_path)


def test_fail_a_rule_under_another_rules_sentence_is_found(tmp_path):
    policy = _policy_with(tmp_path, "a(1).\n%% 3.7.8: Internet e-mail is restricted.\n"
                                    "restricted_email(D) :- a(D).\nrestricted(D) :- restricted_email(D).\n")
    assert len(inherited(policy)) == 1 and "restricted" in inherited(policy)[0]


def test_success_alternative_rules_for_one_conclusion_share_its_sentence(tmp_path):
    policy = _policy_with(tmp_path, "a(1). b(1).\n%% 3.7.4: Known callers.\nknown(D) :- a(D).\nknown(D) :- b(D).\n")
    assert inherited(policy) == []


def test_fail_a_sentence_naming_a_paragraph_it_does_not_cite_is_found(tmp_path):
    policy = _policy_with(tmp_path, "a(1).\n%% 3.7.6: Faxes, unlike 3.7.8 e-mail.\nfax(D) :- a(D).\n")
    assert miscited(policy) == ["main.lp:3: names 3.7.8 but cites 3.7.6"]
