"""Sharing safely (3.7.4-3.7.8) and the right way (3.5.20): each channel condition.
Each case is in facts/."""

from __future__ import annotations

from pathlib import Path

import pyisp

FACTS = Path(__file__).resolve().parent.parent / "facts"


def answer(name: str, **readings: str) -> pyisp.Disclosure:
    return pyisp.query_file(FACTS / f"{name}.yaml", readings=readings or None).disclosures[0]


def has(items: list[pyisp.Conclusion], args: tuple[str, ...], paragraph: str, status: str = "yes") -> bool:
    return any(i.args == args and i.status == status and paragraph in i.paragraphs for i in items)


def test_internet_email_of_confidential_information_is_not_allowed_and_a_secure_system_would_do() -> None:
    d = answer("channel-internet-email")
    assert d.verdict == "must_not_share"
    assert has(d.finding("channel_not_allowed"), ("email_internet", "internet_email"), "3.7.8")
    assert has(d.finding("channel_would_do"), ("secure_electronic",), "3.7.8")
    assert not any(f.args == ("email_internet",) for f in d.finding("channel_would_do"))


def test_a_required_disclosure_on_a_forbidden_channel_stays_required() -> None:
    d = answer("channel-internet-email-required")
    assert d.verdict == "must_share"
    assert has(d.finding("channel_not_allowed"), ("email_internet", "internet_email"), "3.7.8")
    assert has(d.obligation("use_another_channel"), (), "3.7.8")


def test_under_the_good_practice_reading_internet_email_is_poor_practice_only() -> None:
    d = answer("channel-internet-email", channel_rules="good_practice")
    assert d.verdict == "may_share"
    assert has(d.finding("channel_poor_practice"), ("email_internet", "internet_email"), "3.7.8")
    assert has(d.obligation("use_secure_channel"), (), "3.7.8")


def test_secure_email_needs_a_confidentiality_warning() -> None:
    d = answer("channel-secure-email-no-warning")
    assert d.verdict == "may_share"
    assert has(d.obligation("email_confidentiality_warning"), (), "3.7.8")


def test_an_avoidable_fax_is_not_allowed() -> None:
    d = answer("channel-fax-avoidable")
    assert d.verdict == "must_not_share"
    assert has(d.finding("channel_not_allowed"), ("fax", "fax_avoidable"), "3.7.6")
    assert has(d.finding("reading_applied"), ("fax_unavoidable", "no_secure_alternative"), "3.7.6")


def test_an_unavoidable_fax_carries_the_precautions_not_yet_taken() -> None:
    d = answer("channel-fax-unavoidable")
    assert d.verdict == "may_share"
    for precaution, paragraph in [("confidentiality_cover_sheet", "3.7.7"), ("have_colleague_check_number", "3.7.6"),
                                  ("record_security_reassurance", "3.7.6"),
                                  ("safe_haven_or_recipient_standing_by", "3.7.7")]:
        assert has(d.obligation("fax_precaution"), (precaution,), paragraph), precaution
    assert not any(o.args == ("check_number",) for o in d.obligation("fax_precaution"))
    done = answer("channel-fax-precautions-taken")
    assert done.verdict == "may_share" and not done.obligation("fax_precaution")


def test_an_unknown_caller_is_verified_by_calling_back_before_anything_is_said() -> None:
    d = answer("channel-phone-unknown-caller")
    assert d.verdict == "must_not_share"
    assert has(d.finding("caller_not_verified"), (), "3.7.4")
    assert not d.finding("channel_would_do")  # 3.7.4: no channel will do until the caller is verified
    assert has(d.obligation("verify_caller_by_calling_back"), (), "3.7.4")
    verified = answer("channel-phone-caller-verified")
    assert verified.verdict == "may_share" and not verified.obligation("verify_caller_by_calling_back")


def test_a_known_contact_is_already_known_only_under_the_other_reading() -> None:
    assert answer("channel-phone-known-contact").verdict == "must_not_share"
    d = answer("channel-phone-known-contact", caller_known="known_contact")
    assert d.verdict == "may_share"
    assert has(d.finding("reading_applied"), ("caller_known", "known_contact"), "3.7.4")


def test_no_channel_named_gives_the_channels_to_avoid_and_the_conditions_of_3_5_20() -> None:
    d = answer("channel-none-proposed")
    assert d.verdict == "may_share"
    assert has(d.obligation("avoid_channel"), ("email_internet", "internet_email"), "3.7.8")
    assert has(d.obligation("avoid_channel"), ("fax", "fax_avoidable"), "3.7.6")
    for code in ("share_with_those_who_need_to_know", "check_accurate_and_up_to_date", "share_securely",
                 "establish_onward_disclosure", "explain_limits_of_consent"):
        assert has(d.obligation(code), (), "3.5.20"), code
    assert not d.finding("channel_not_allowed")


def test_conditions_of_3_5_20_only_bind_a_disclosure_that_goes_ahead() -> None:
    d = answer("channel-internet-email")
    assert not d.obligation("share_securely") and not d.obligation("establish_onward_disclosure")

