"""The case format: one declarative spec that validates cases, becomes the JSON Schema,
and says which policy input atom each field states (``x-atom``).

A case states facts, never conclusions. A field left out is *unknown*. The spec is a
JSON Schema with three extension keywords read by pyisp/atoms.py:

``x-atom``      the input atom the field states: a predicate name then arguments, where
                ``$id`` is the enclosing entity's id, ``$child`` the id of the case's
                one child (with several children, a field using it states nothing),
                ``$value`` the field's value, ``$item`` each item of a list and
                ``$yesno`` ``yes``/``no`` for a boolean judgement;
``x-entity``    an object whose ``id`` names it (``$id`` inside it);
``x-collection`` the collection of ids an entity belongs to, where it is not the field's
                name (the one ``child`` and each of ``children`` are both ``child``);
``x-ref``       the collections whose ids a reference must name (``people``, ...);
``x-ref-extra`` values a reference may take besides ids, which state no atom;
``x-instead``   a field that, when present, replaces another one (criteria instead
                of the overall judgement of understanding).
``x-unstated``  ``none``: the field states a choice the professional proposes (the
                channel of a disclosure), not a fact about the world; left out, no
                choice is proposed and no atom holds (it is not an unknown).
``x-record``    a text item of the record (pyisp record); not an input of the rules.
``x-when``      the part applies only to some disclosures (police_request to the
                police's answers, fax precautions to a fax): a list of gates
                ``{"path": "from.agency", "in": [...], "unstated": "open"}`` (or
                ``{"path": "to.agency", "same_as": "from.agency"}``), any of
                which opens it. Where it does not apply, a field left out is not an
                unknown (the rules never read it there); a field stated still counts.
"""

from __future__ import annotations

import copy
import difflib
import os
import pickle
import re
import threading
from collections import OrderedDict
from contextvars import ContextVar
from typing import Any, Callable

from ..errors import CaseError, CaseProblem
from .sightings import Sightings
from .upgrade import upgrade
from .vocabulary import fields

AGENCIES = [
    "childrens_social_care", "police", "school", "local_education_authority", "gp_practice",
    "hospital", "community_health", "mental_health_service", "youth_justice",
    "voluntary_sector", "housing", "probation", "court", "other",
]
ROLES = [
    "teacher", "school_staff", "school_nurse", "education_officer", "doctor", "gp", "nurse",
    "health_visitor", "midwife", "other_health_professional", "social_worker",
    "police_officer", "counsellor", "youth_worker", "other",
]
PURPOSES = [
    "child_protection", "child_in_need_assessment", "promote_welfare", "prevent_harm_to_adult",
    "prevent_or_detect_crime", "identify_causes_of_harm", "preventative_intervention",
    "service_referral", "court_proceedings", "statutory_requirement", "other",
]
CRITERIA = {
    "understands_question": "can the child understand the question being asked",
    "understands_what_shared": "does the child understand what information might be shared",
    "understands_reasons": "does the child understand the main reasons for sharing",
    "understands_implications": "does the child understand the implications of sharing and not sharing",
    "appreciates_alternatives": "can the child appreciate and consider the alternatives",
    "weighs_up": "can the child weigh one aspect of the situation against another",
    "expresses_own_view": "can the child express a clear personal view, not someone else's",
    "consistent_view": "is the child reasonably consistent in that view",
}
SEEKING_HARMS = {
    "increase_risk_to_child": "seeking consent would place a child at increased risk of significant harm",
    "put_adult_at_risk": "seeking consent would place an adult at risk of serious harm",
    "prejudice_crime_inquiry": "seeking consent would prejudice the prevention or detection of a serious crime",
    "cause_unjustified_delay": "seeking consent would lead to unjustified delay in enquiries about significant harm",
    "prejudice_other_crime_inquiry": "seeking consent would prejudice the prevention, detection or prosecution of a "
                                     "crime that is not a serious crime (3.3.5; see the reading crime_3_3_5)",
}
TOLD = {
    "why": "why the information needs to be shared",
    "who": "who will see the information",
    "purpose": "the purpose it will be put to",
    "implications": "the implications of sharing it",
    "right_to_object": "that they have the right to object (glossary, implied consent)",
}


def _bool(description: str, *atom: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description, "x-atom": list(atom)}


def _enum(values: list[str], description: str, *atom: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "string", "enum": values, "description": description}
    if atom:
        spec["x-atom"] = list(atom)
    return spec


def _id(description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "pattern": r"^[A-Za-z0-9_.\-]+$", "description": description}


def _obj(properties: dict[str, Any], required: list[str] | None = None, description: str = "",
         **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        spec["required"] = required
    if description:
        spec["description"] = description
    spec.update(extra)
    return spec


_PARTY = {"x-ref": ["child", "people"]}
OUTSIDE_CASE = "outside_case"  # a reference to nobody of the case: no atom is stated

CHILD = _obj({
    "id": _id("Identifier of the child, used to refer to them elsewhere in the case."),
    "name": {"type": "string", "description": "Name used in explanations (not used by the rules)."},
    "age": {"type": "integer", "minimum": 0, "maximum": 17, "description": "Age in whole years (3.3.15-3.3.16).",
            "x-atom": ["age", "$id", "$value"], "x-range": "age_range"},
    "age_range": _obj({"min": {"type": "integer", "minimum": 0, "maximum": 17, "description": "Youngest age."},
                       "max": {"type": "integer", "minimum": 0, "maximum": 17, "description": "Oldest age."}},
                      required=["min", "max"],
                      description="The child's age as a range, when the exact age is not known (a school year "
                                  "gives one: school_year N is ages N+4 to N+5)."),
    "understanding": _bool("The professional's overall judgement: does the child have sufficient understanding "
                           "to give or refuse consent (3.3.15-3.3.17)?", "understanding_judged", "$id", "$yesno"),
    "understanding_criteria": _obj(
        {key: _bool(text + " (3.3.17)?", "criterion_met", "$id", key) for key, text in CRITERIA.items()},
        description="The answers to the criteria of 3.3.17, instead of an overall judgement.",
        **{"x-instead": "understanding", "x-marker": ["understanding_assessed_by_criteria", "$id"]}),
}, required=["id"], description="The child the information is about or concerns.",
    **{"x-entity": True, "x-atom": ["child", "$id"], "x-collection": "child"})

PERSON = _obj({
    "id": _id("Identifier of the person."),
    "name": {"type": "string", "description": "Name used in explanations."},
    "role": _enum(["parent", "carer", "relative", "other_adult"], "How the adult relates to the child.",
                  "person_role", "$id", "$value"),
    "parental_responsibility": _bool("Has parental responsibility for the child (3.3.18).",
                                     "parental_responsibility", "$id"),
    "resident_parent": _bool("The child lives with this adult (3.3.19).", "resident_parent", "$id"),
    "at_risk_of_serious_harm": _bool("This adult is at risk of serious harm (3.2.3, 3.4.2).", "adult_at_risk", "$id"),
    "cannot_be_reached": _bool("This adult cannot be reached in time to be asked for consent (3.3.5).",
                               "cannot_be_reached", "$id"),
    "lacks_capacity": _bool("This adult lacks the capacity to give or refuse consent (3.3.5, 3.3.11).",
                            "lacks_capacity", "$id"),
    "alleged_abuser": _bool("This adult is suspected of harming the child (3.4.2, 3.5.19).", "alleged_abuser", "$id"),
    "seeking_consent_would": {**_obj({key: {**_bool(text + " (asking this adult; 3.4.2).", "seeking_consent_of_would",
                                                    "$id", key), "x-unstated": "none"}
                                      for key, text in SEEKING_HARMS.items()},
                                     description="Harm that asking this adult for consent would do (3.4.2); left out, "
                                     "the case-level seeking_consent_would applies."), "x-unstated": "none"},
    "informing_would_put_child_at_risk": {**_bool("Telling this adult that the information was shared would put the "
                                                  "child at risk of harm (3.5.19, 3.5.20); left out, the disclosure's "
                                                  "own answer applies.", "informing_person_puts_child_at_risk", "$id"),
                                          "x-unstated": "none"},
}, required=["id"], description="An adult in the case.", **{"x-entity": True, "x-atom": ["person", "$id"]})

INFORMATION = _obj({
    "id": _id("Identifier of this piece of information."),
    "description": {"type": "string", "description": "What the information is (not used by the rules)."},
    "about": {"type": "array", "items": {"type": "string", **_PARTY}, "minItems": 1, "uniqueItems": True,
              "description": "The people the information is about (ids of the child or of people).",
              "x-atom": ["about", "$id", "$item"]},
    "provided_by": {"type": "string", **_PARTY, "x-ref-extra": [OUTSIDE_CASE],
                    "description": "Who gave the information to the professional: the id of the child or an adult "
                    f"of the case, or '{OUTSIDE_CASE}' (another professional, a record) (3.3.15).",
                    "x-atom": ["provided_by", "$id", "$value"]},
    "identifiable": _bool("The information enables a person to be identified; false when anonymised (3.5.5).",
                          "identifiable", "$id"),
    "sensitive": _bool("The information is of some sensitivity (3.3.2).", "sensitive", "$id"),
    "in_public_domain": _bool("Already lawfully public or readily available from another public source (3.3.2).",
                              "in_public_domain", "$id"),
    "widely_known": _bool("The information is widely known (3.3.3).", "widely_known", "$id"),
    "given_expecting_sharing": _bool("Whoever gave it understood it would be shared with others (3.3.2-3.3.4).",
                                     "given_expecting_sharing", "$id"),
    "relationship": _enum(["formal", "informal_asked", "assumed", "public_body", "none"],
                          "The kind of relationship in which it was given (3.5.6-3.5.7): formal (doctor-patient, "
                          "social worker-client, counsellor-client), informal_asked (informal, as teacher and pupil, "
                          "but asked to keep it confidential), assumed (the person assumed confidentiality without "
                          "asking), public_body (records a public body holds for its functions), or none.",
                          "relationship", "$id", "$value"),
    "supplied_by_police": _bool("The police supplied it, on the conditions of 3.6.12 (who supplied it, apart from "
                                "the kind of relationship).", "supplied_by_police", "$id"),
    "shared_on_understanding": _obj({
        "recipients": {"type": "array", "items": {"type": "string", "enum": AGENCIES}, "uniqueItems": True,
                       "description": "The agencies it was understood it could go to.", "x-unstated": "none",
                       "x-atom": ["understood_recipient", "$id", "$item"]},
        "purposes": {"type": "array", "items": {"type": "string", "enum": PURPOSES}, "uniqueItems": True,
                     "description": "The purposes it was understood it could be used for.", "x-unstated": "none",
                     "x-atom": ["understood_purpose", "$id", "$item"]},
    }, description="It was given on the understanding that it would be shared only with a limited range of people "
                   "or for limited purposes (3.3.4); left out, no such understanding is stated.",
        **{"x-unstated": "none", "x-marker": ["given_on_limited_understanding", "$id"]}),
    "obtained_under_limiting_power": _bool("Obtained under a statutory power or duty that limits its use (3.5.4).",
                                           "obtained_under_limiting_power", "$id"),
    "of_direct_relevance": _bool("It is about an adult of direct relevance to child protection, such as one who "
                                 "may pose a risk to a child (3.6.3, 3.4.1).", "of_direct_relevance", "$id"),
}, required=["id", "about"], description="A piece of information that a disclosure may carry.",
    **{"x-entity": True, "x-atom": ["information", "$id"]})

CONCERN = _obj({
    "significant_harm_evidence": _bool("There is evidence that the child is suffering, or at risk of suffering, "
                                       "significant harm (3.3.8).", "significant_harm_evidence", "$child"),
    "reasonable_cause_to_believe": _bool("Reasonable cause to believe the child may be suffering, or at risk of, "
                                         "significant harm (3.3.8).", "cause_to_believe_significant_harm", "$child"),
    "reasonable_cause_to_suspect": _bool("Reasonable cause to suspect the child may be suffering, or at risk of, "
                                         "significant harm (3.4.1).", "cause_to_suspect_significant_harm", "$child"),
    "risk_of_serious_harm_to_adult": _bool("An adult is at risk of serious harm (3.3.7-3.3.8, 3.4.6).",
                                           "risk_of_serious_harm_to_adult"),
    "serious_crime": _bool("The concern is about a serious crime: one causing or likely to cause significant harm "
                           "to a child or serious harm to an adult (3.3.8).", "serious_crime"),
    "unsure": _bool("The professional has a concern but is unsure whether it is reasonable cause (3.4.3).",
                    "unsure_about_concern", "$child"),
}, description="What the professional is concerned about. With several children (children:), the concern about each "
               "child is stated under that child (children[].concern); here only the adult's risk and the crime.")

# The concern about one child of several (3.4.1 is about a child): the child's own fields.
CHILD_CONCERN = _obj({
    key: _bool(CONCERN["properties"][key]["description"].replace("the child", "this child"),
               CONCERN["properties"][key]["x-atom"][0], "$id")
    for key in ("significant_harm_evidence", "reasonable_cause_to_believe", "reasonable_cause_to_suspect", "unsure")
}, description="What the professional is concerned about for this child (3.3.8, 3.4.1, 3.4.3).")
CHILD_CONCERN_FIELDS = tuple(CHILD_CONCERN["properties"])

# One child of several (children:): the fields of the one-child form, and the concern about this child.
CHILD_ITEM = _obj({**CHILD["properties"], "concern": CHILD_CONCERN}, required=["id"],
                  description="One of the children of the case: a subject of the information, a sibling, one of a "
                              "group, or a child who told the professional about another child.",
                  **{"x-entity": True, "x-atom": ["child", "$id"], "x-collection": "child",
                     "x-marker": ["listed_child", "$id"]})

CONSENT = _obj({
    "id": _id("Identifier of this consent record (defaults to consent-N)."),
    "person": {"type": "string", **_PARTY, "description": "Whose consent was (or was not) asked for.",
               "x-atom": ["consent_by", "$id", "$value"]},
    "answer": _enum(["given", "refused", "withdrawn", "not_sought"], "The answer (3.3.22: consent may be withdrawn).",
                    "consent_answer", "$id", "$value"),
    "form": _enum(["written", "oral", "implied"], "Explicit (written or oral) or implied (3.3.12-3.3.13).",
                  "consent_form", "$id", "$value"),
    "implied_by": _enum(["intrinsic_to_activity", "agreed_to_referral", "behaviour_only"],
                        "For implied consent, what signalled it (3.3.13).", "implied_by", "$id", "$value"),
    "told": _obj({key: _bool(f"The person was told {text} (3.3.11).", "consent_told", "$id", key)
                  for key, text in TOLD.items()}, description="What the person was told before consenting (3.3.11)."),
    "freely_given": _bool("The consent was freely given (3.3.11).", "freely_given", "$id"),
    "purposes": {"type": "array", "items": {"type": "string", "enum": PURPOSES}, "uniqueItems": True,
                 "description": "The purposes the consent (or refusal) covers.", "x-atom": ["consent_purpose", "$id", "$item"]},
    "recipients": {"type": "array", "items": {"type": "string", "enum": AGENCIES}, "uniqueItems": True,
                   "description": "The agencies the consent (or refusal) covers.",
                   "x-atom": ["consent_recipient", "$id", "$item"]},
    "significant_change_since": _bool("A significant change since, in the use of the information or the "
                                      "relationship (3.3.22).", "significant_change_since", "$id"),
    "information": {"type": "array", "items": {"type": "string", "x-ref": ["information"]}, "uniqueItems": True,
                    "x-unstated": "none", "x-atom": ["consent_information", "$id", "$item"],
                    "description": "The information the consent (or refusal) is about; left out, all the information "
                                   "of the disclosures it covers (3.3.11, 3.5.20)."},
}, required=["person"], description="Asking someone for consent, and their answer.",
    **{"x-entity": True, "x-atom": ["consent", "$id"]})

POLICE_CATEGORIES = {
    "s47_referral": "a child protection referral about a s47 enquiry (e.g. a strategy discussion)",
    "risk_management_meeting": "an inter-agency risk management meeting set up under legislation",
    "initial_or_core_assessment": "an initial or core assessment by children's social care towards a s47 decision",
    "child_in_need_assessment": "a s17 child in need assessment by children's social care",
    "child_protection_plan": "a child who is the subject of a child protection plan",
    "emergency_placement": "an emergency placement of a child with a family member or friend",
    "none": "none of the six categories",
}
POLICE_REQUEST = _obj({
    "category": _enum(list(POLICE_CATEGORIES), "The category of request (3.6.9): " + "; ".join(
        f"{key}: {text}" for key, text in POLICE_CATEGORIES.items()) + ".", "police_request_category", "$id", "$value"),
    "meeting_under": _enum(["criminal_justice_act_2000", "sex_offenders_act_1997", "criminal_justice_act_2003",
                            "sexual_offences_act_2003", "other"],
                           "For a risk management meeting: the Act it was set up under (3.6.9; reading police_category_2).",
                           "risk_meeting_under", "$id", "$value"),
    # The written consent of the subject(s) (fourth category) and the necessary consents (sixth)
    # are the consents of the case (consents[]), not fields here (3.6.9; see policy/police.lp).
    "safeguarding_overrides_confidence": _bool("For a child in need assessment: the professional's judgement that the "
                                               "need to safeguard a child overrides the duty of confidence (the "
                                               "alternative to the subjects' written consent in consents[]) (3.6.9).",
                                               "safeguarding_overrides_confidence", "$id"),
    "category_in_doubt": _bool("The police officer is in doubt whether the request falls in a category (3.6.11).",
                               "police_category_in_doubt", "$id"),
    "s47_enquiry": _bool("The request is made within a s47 enquiry (3.6.13-3.6.14).", "in_s47_enquiry", "$id"),
    "criminal_investigation": _bool("The request is made within a criminal investigation (3.6.13).",
                                    "in_criminal_investigation", "$id"),
}, description="For a disclosure by the police that answers a request (requested: true): the request it answers "
               "(3.6.9-3.6.14). The written consent of the fourth category and the necessary consents of the sixth "
               "are read from consents[]: those of the people the information is about (or of whoever decides for "
               "a child who cannot).",
    **{"x-when": [{"path": "from.agency", "in": ["police"]}]})

CHANNELS = ["phone", "in_person", "fax", "email_internet", "secure_electronic", "post"]
PHONE = [{"path": "channel", "in": ["phone"]}]
FAX = [{"path": "channel", "in": ["fax"]}]
EMAIL = [{"path": "channel", "in": ["email_internet", "secure_electronic"]}]
HEALTH_ROLES = ["doctor", "gp", "nurse", "health_visitor", "midwife", "school_nurse", "other_health_professional"]
EDUCATION_ROLES = ["teacher", "school_staff", "school_nurse", "education_officer"]


def _gate(gates: list[dict[str, Any]], spec: dict[str, Any]) -> dict[str, Any]:
    """A field that applies only where the gates say (``x-when``); elsewhere unstated means nothing to choose."""
    return {**spec, "x-when": gates}


def _fax(description: str, *atom: str) -> dict[str, Any]:
    return _gate(FAX, _bool(description, *atom))


def _email(description: str, *atom: str) -> dict[str, Any]:
    return _gate(EMAIL, _bool(description, *atom))


# 3.7.4: a request received by telephone is verified whatever the channel of the answer: the
# incoming call is asked of any disclosure answering a request (or proposed by phone), and
# the caller's fields of any disclosure that may answer an incoming call (the rules read
# them only where the call is received).
REQUEST_OR_PHONE = [{"path": "requested", "in": [True], "unstated": "open"}, *PHONE]
INCOMING_CALL = [{"path": "transfer.incoming_call", "in": [True]}, *REQUEST_OR_PHONE]
TRANSFER = _obj({
    "incoming_call": _gate(REQUEST_OR_PHONE, _bool(
        "The request this disclosure answers came as a telephone call received from a professional, whatever the "
        "channel of the answer (3.7.4).", "request_by_incoming_call", "$id")),
    "caller": _gate(INCOMING_CALL, _enum(["personally_known", "known_contact", "not_known"],
                    "Whether the caller is already known: personally (voice and role), as a contact the agency has "
                    "dealt with before, or not at all (3.7.4; reading caller_known).", "caller_status", "$id", "$value")),
    "verified_by_call_back": _gate(INCOMING_CALL, _bool("The caller was verified by calling their agency back, before "
                                                        "anything is divulged (3.7.4).",
                                                        "caller_verified_by_call_back", "$id")),
    "secure_system_available": _fax("A secure electronic system reaches the recipient (3.7.6, 3.7.8).",
                                     "secure_system_available", "$id"),
    "fax_judged_unavoidable": _fax("The professional judges sending by fax unavoidable (3.7.6; reading fax_unavoidable).",
                                    "fax_judged_unavoidable", "$id"),
    "fax_number_checked": _fax("The fax number was checked very carefully (3.7.6).", "fax_number_checked", "$id"),
    "fax_number_checked_by_colleague": _fax("A colleague checked the fax number (3.7.6).",
                                             "fax_number_checked_by_colleague", "$id"),
    "security_reassurance_recorded": _fax("The receiving agency's reassurance about secure handling was given and "
                                           "recorded (3.7.6).", "security_reassurance_recorded", "$id"),
    "cover_sheet": _fax("The fax has a cover sheet with a confidentiality statement (3.7.7).", "fax_cover_sheet", "$id"),
    "safe_haven_fax": _fax("The fax goes to a safe-haven fax machine (3.7.7).", "safe_haven_fax", "$id"),
    "recipient_standing_by": _fax("The recipient stands by the machine and confirms receipt (3.7.7).",
                                   "recipient_standing_by", "$id"),
    "confidentiality_warning": _email("The e-mail carries a confidentiality warning (3.7.8).",
                                     "email_confidentiality_warning", "$id"),
}, description="How the information would travel, and the precautions taken (3.7.4-3.7.8).")

HEALTH = _obj({
    "disclosure_in_best_interests": _bool("The doctor's judgement: the disclosure is in the patient's best interests "
                                          "(3.6.4).", "disclosure_in_patient_best_interests", "$id"),
    "nondisclosure_risks_death_or_serious_harm": _bool("The doctor's judgement: not disclosing may expose the patient "
                                                       "or others to risk of death or serious harm (3.6.2).",
                                                       "nondisclosure_risks_serious_harm", "$id"),
    "in_doubt": _bool("The health professional is in doubt about sharing (3.6.8).", "health_professional_in_doubt", "$id"),
    "patient": {"type": "string", **_PARTY, "x-ref-extra": [OUTSIDE_CASE], "x-atom": ["patient", "$id", "$value"],
                "description": "Whose doctor or health professional the sender is: the id of the child or an adult of "
                f"the case who is their patient, or '{OUTSIDE_CASE}' (3.6.2-3.6.4)."},
}, description="For a doctor or other health professional: the judgements their professional guidance turns on "
               "(3.6.1-3.6.8), and whose patient the information concerns.",
    **{"x-when": [{"path": "from.role", "in": HEALTH_ROLES, "unstated": "open"}]})

EDUCATION = _obj({
    "requested_by_childrens_social_care": _bool("Children's social care asked the education authority for help "
                                                "(3.6.16).", "requested_by_childrens_social_care", "$id"),
    "prejudicial_to_own_functions": _bool("Helping would prejudice the education authority's own functions (3.6.16).",
                                          "prejudicial_to_own_functions", "$id"),
    "relevant_to_child_protection": _bool("The information may be relevant to child protection (3.6.17).",
                                          "relevant_to_child_protection", "$id"),
}, description="Facts that the duties of education professionals turn on (3.6.15-3.6.17).",
    **{"x-when": [{"path": "from.agency", "in": ["school", "local_education_authority"]},
                  {"path": "from.role", "in": EDUCATION_ROLES, "unstated": "open"}]})

RECORD_ITEMS = {
    "context": "the context in which the information was shared (3.3.9)",
    "risk_level": "the perceived level of risk of harm at the time (3.3.9, 3.7.1)",
    "data_requested": "the information requested (3.3.9)",
    "requested_by": "who made the request (3.7.9)",
    "reason_for_request": "the reason for the request (3.7.1, 3.7.9)",
    "data_shared": "the information shared (3.3.9, 3.5.21)",
    "reasons": "the reasons for the decision (3.5.21)",
    "reasons_without_consent": "the reasons for going ahead without consent (3.3.29, 3.7.3, 3.7.9)",
    "consent_basis": "the basis on which consent was obtained, where not in writing (3.3.12, 3.7.9)",
    "reason_not_informed": "the reasons the subject was not informed, at the time or afterwards (3.7.5)",
    "written_consent_filed": "where the written consent is filed with the record (3.7.9)",
    "security_reassurance": "the receiving agency's reassurance about handling a fax securely (3.7.6)",
    "date": "the date of the record (quote it in YAML: '2026-11-25') (3.7.1, 3.7.9)",
    "recorded_by": "who made the record (3.7.9)",
}
RECORD = _obj({
    **{key: {"type": "string", "description": text.capitalize() + ".", "x-record": True}
       for key, text in RECORD_ITEMS.items()},
    "nature": {"type": "string", "enum": ["fact", "opinion", "hypothesis", "mixture"], "x-record": True,
               "description": "Whether the information is fact, opinion, hypothesis or a mixture (3.7.9)."},
    "subject_informed": _bool("The child or parent was told of the transfer afterwards (3.7.3).",
                              "subject_informed", "$id"),
}, description="What the professional has recorded or will record (3.3.9, 3.5.21, 3.7.1-3.7.9). Text items are "
               "laid out in the record (pyisp record); they are not facts the rules test.")

PARTY_ENDPOINT = {
    "agency": _enum(AGENCIES, "The agency.", ),
    "role": _enum(ROLES, "The professional's role."),
}

DISCLOSURE = _obj({
    "id": _id("Identifier of the proposed disclosure."),
    "description": {"type": "string", "description": "What is proposed (not used by the rules)."},
    "from": _obj({"agency": {**PARTY_ENDPOINT["agency"], "x-atom": ["sender_agency", "$id", "$value"]},
                  "role": {**PARTY_ENDPOINT["role"], "x-atom": ["sender_role", "$id", "$value"]}},
                 required=["agency"], description="Who would share."),
    "to": _obj({"agency": {**PARTY_ENDPOINT["agency"], "x-atom": ["recipient_agency", "$id", "$value"]},
                "role": {**PARTY_ENDPOINT["role"], "x-atom": ["recipient_role", "$id", "$value"]},
                "same_organisation": _gate([{"path": "to.agency", "same_as": "from.agency"}], _bool(
                    "The recipient works in the same organisation as the sender (a colleague of the same school, team "
                    "or service), so is no third party (3.6.12); asked only where both are the same kind of agency.",
                    "same_organisation", "$id"))},
               required=["agency"], description="Who would receive it."),
    "information": {"type": "array", "items": {"type": "string", "x-ref": ["information"]}, "minItems": 1,
                    "uniqueItems": True, "description": "Which information it would carry.",
                    "x-atom": ["discloses", "$id", "$item"]},
    "purpose": _enum(PURPOSES, "What it is for (3.5.2).", "purpose", "$id", "$value"),
    "within_agency_functions": _bool("It is within the functions or powers of the sending agency (3.5.3, 3.3.14).",
                                     "within_agency_functions", "$id"),
    "statutory_duty": _bool("A statutory duty requires it (3.5.9).", "statutory_duty", "$id"),
    "court_order": _bool("A court order requires it (3.5.9).", "court_order", "$id"),
    "statutory_power": _bool("A statutory power allows it without consent (3.3.23).", "statutory_power", "$id"),
    "within_statutory_limits": _bool("Where information was obtained under a power that limits its use, that power "
                                     "allows this disclosure (3.5.4).", "within_statutory_limits", "$id"),
    "judgements": _obj({
        "proportionate": _bool("The professional judges it a proportionate response (3.3.6-3.3.7).",
                               "proportionate", "$id"),
        "public_interest_sufficient": _bool("The professional judges the public interest sufficient to justify "
                                            "sharing without consent (3.3.5, 3.5.16).",
                                            "public_interest_sufficient", "$id"),
        "best_interests_require_sharing": _bool("The professional judges that the child's best interests require "
                                                "it, despite a refusal (3.3.20).",
                                                "best_interests_require_sharing", "$id"),
        "legitimate_purpose": {**_bool("For a purpose outside the listed ones ('other'): the professional judges it a "
                                       "good reason or legitimate purpose within the agency's functions (3.5.2-3.5.4).",
                                       "purpose_judged_legitimate", "$id"),
                               "x-when": [{"path": "purpose", "in": ["other"], "unstated": "open"}]},
    }, description="The professional's judgements about this disclosure."),
    "requested": _bool("The disclosure answers a request for information (3.3.9, 3.7.1, 3.7.9); for the police, "
                       "whether they answer a request (3.6.9-3.6.11; the police_request part says which) or share on "
                       "their own initiative (false: the general rules apply).", "requested", "$id"),
    "police_request": POLICE_REQUEST,
    "police_permission": _bool("The police gave express permission to pass on the information they supplied (3.6.12).",
                               "police_permission", "$id"),
    "urgent": _gate([{"path": "from.agency", "in": ["police"]}, *FAX],
                    _bool("The matter is urgent (3.6.14, 3.7.6).", "urgent", "$id")),
    "channel": {**_enum(CHANNELS, "How the information would be sent, if the proposal says (3.5.20, 3.7.4-3.7.8); "
                        "left out, the rules say which channels to avoid.", "channel", "$id", "$value"),
                "x-unstated": "none"},
    "transfer": TRANSFER,
    "health": HEALTH,
    "education": EDUCATION,
    "informing_would_put_child_at_risk": {**_bool("Telling the child or parent about the sharing would put the child "
                                                  "at risk of harm (3.5.19, 3.5.20); left out, the obligation to tell "
                                                  "them stands, with this exception.",
                                                  "informing_puts_child_at_risk", "$id"), "x-unstated": "none"},
    "record": RECORD,
}, required=["id", "from", "to", "information"], description="A proposed disclosure of information.",
    **{"x-entity": True, "x-atom": ["disclosure", "$id"]})

CASE = _obj({
    "format": {"type": "integer", "minimum": 1, "maximum": 2,
               "description": "The version of the case format (2; a document without it is read as format 1 and "
                              "upgraded, see pyisp upgrade)."},
    "meta": {"description": "Free metadata (a case-management reference, ...): carried through to the result "
                            "untouched, never read by the rules. Keys starting with 'x-' are kept the same way."},
    "id": _id("Identifier of the case."),
    "title": {"type": "string", "description": "A sentence saying what the case is."},
    "paragraphs": {"type": "array", "items": {"type": "string"}, "description": "Paragraphs the case illustrates."},
    "child": CHILD,
    "children": {"type": "array", "items": CHILD_ITEM, "minItems": 1,
                 "description": "The children of the case, instead of 'child' when there are several (siblings, a "
                                "group, a child who is the informant rather than the subject). Each child's id may be "
                                "named wherever the one child's may (about, provided_by, consents, patient)."},
    "people": {"type": "array", "items": PERSON, "description": "The adults in the case."},
    "family": _obj({
        "parents_separated": _bool("The child's parents are separated (3.3.19).", "parents_separated"),
        "in_conflict": _bool("Family members are in conflict about the sharing (3.3.19).", "family_in_conflict"),
    }, description="Facts about the family."),
    "information": {"type": "array", "items": INFORMATION, "description": "The information in question."},
    "concern": CONCERN,
    "consents": {"type": "array", "items": CONSENT, "description": "Consent asked for, given, refused or not sought."},
    "seeking_consent_would": _obj({key: _bool(text + " (3.4.2).", "seeking_consent_would", key)
                                   for key, text in SEEKING_HARMS.items()},
                                  description="Harm that seeking consent would do (3.4.2)."),
    "disclosures": {"type": "array", "items": DISCLOSURE, "minItems": 1, "description": "The proposed disclosures."},
}, required=["disclosures"], description="A case: the facts a professional knows, never conclusions. It names "
                                             "its child with 'child', or its children with 'children'.")
# The question a professional is asked for an unstated field ({id}: the entity's id, {person}:
# a consent's person, {item}: each value a list may hold). Every input has one
# (tests/test_case_format.py).
QUESTIONS = {
    "child.age": "How old is {id}?",
    "child.understanding": "Does {id} understand enough to decide about sharing (your judgement, 3.3.15-3.3.17)?",
    "people.parental_responsibility": "Does {id} have parental responsibility for the child?",
    "people.resident_parent": "Does the child live with {id}?",
    "people.at_risk_of_serious_harm": "Is {id} at risk of serious harm?",
    "family.parents_separated": "Are the child's parents separated?",
    "family.in_conflict": "Are family members in conflict about the sharing?",
    "information.provided_by": "Who gave you {id}?",
    "information.sensitive": "Is {id} of some sensitivity?",
    "information.relationship": "In what kind of relationship was {id} given (formal, asked to keep it confidential, "
                                "assumed confidential, public body, none)?",
    "concern.significant_harm_evidence": "Is there evidence that the child is suffering, or at risk of, significant harm?",
    "concern.reasonable_cause_to_believe": "Do you have reasonable cause to believe the child may be suffering, or at "
                                           "risk of, significant harm?",
    "concern.reasonable_cause_to_suspect": "Do you have reasonable cause to suspect the child may be suffering, or at "
                                           "risk of, significant harm?",
    "concern.risk_of_serious_harm_to_adult": "Is an adult at risk of serious harm?",
    "concern.serious_crime": "Is the concern about a serious crime?",
    "concern.unsure": "Do you have a concern you are unsure amounts to reasonable cause?",
    "consents.answer": "What did {person} answer when asked for consent?",
    "consents.form": "Was {person}'s consent written, oral or implied?",
    "consents.implied_by": "What signalled {person}'s implied consent?",
    "consents.told.why": "Was {person} told why the information needs to be shared?",
    "consents.told.who": "Was {person} told who will see the information?",
    "consents.told.purpose": "Was {person} told what it will be used for?",
    "consents.told.implications": "Was {person} told what sharing it, or not, may lead to?",
    "consents.told.right_to_object": "Was {person} told they may object?",
    "consents.purposes": "Does {person}'s consent cover this purpose?",
    "consents.recipients": "Does {person}'s consent cover this recipient?",
    "seeking_consent_would.increase_risk_to_child": "Would seeking consent place the child at increased risk of "
                                                    "significant harm?",
    "seeking_consent_would.put_adult_at_risk": "Would seeking consent place an adult at risk of serious harm?",
    "seeking_consent_would.prejudice_crime_inquiry": "Would seeking consent prejudice the prevention or detection of a "
                                                     "serious crime?",
    "seeking_consent_would.cause_unjustified_delay": "Would seeking consent cause unjustified delay in enquiries about "
                                                     "significant harm?",
    "seeking_consent_would.prejudice_other_crime_inquiry": "Would seeking consent prejudice an inquiry into a crime "
                                                           "that is not serious?",
    "disclosures.purpose": "What is {id} for?",
    "disclosures.to.same_organisation": "Does the recipient of {id} work in your own organisation (a colleague)?",
    "disclosures.within_statutory_limits": "Does the power under which the information was obtained allow {id}?",
    "disclosures.judgements.proportionate": "Is {id} a proportionate response to the need (your judgement)?",
    "disclosures.judgements.public_interest_sufficient": "Is the public interest in {id} sufficient to justify sharing "
                                                         "without consent (your judgement)?",
    "disclosures.judgements.best_interests_require_sharing": "Do the child's best interests require {id}, despite the "
                                                             "refusal (your judgement)?",
    "disclosures.judgements.legitimate_purpose": "Is the purpose of {id} a legitimate one within your agency's "
                                                 "functions (your judgement)?",
    "disclosures.requested": "Does {id} answer a request for information?",
    "disclosures.urgent": "Is {id} urgent?",
    "disclosures.health.disclosure_in_best_interests": "Is {id} in the patient's best interests (your judgement)?",
    "disclosures.health.nondisclosure_risks_death_or_serious_harm": "Could not making {id} expose the patient or others "
                                                                    "to risk of death or serious harm?",
    "disclosures.health.patient": "Whose patient is the information about (the child, or an adult)?",
    "disclosures.education.relevant_to_child_protection": "May the information in {id} be relevant to child protection?",
    "disclosures.record.subject_informed": "Was the child or parent told of {id} afterwards?",
    "people.role": "How is {id} related to the child (parent, carer, relative, other adult)?",
    "people.cannot_be_reached": "Can {id} be reached in time to be asked for consent?",
    "people.lacks_capacity": "Does {id} lack the capacity to give or refuse consent?",
    "people.alleged_abuser": "Is {id} suspected of harming the child?",
    "people.seeking_consent_would.increase_risk_to_child": "Would asking {id} for consent place a child at increased "
                                                           "risk of significant harm?",
    "people.seeking_consent_would.put_adult_at_risk": "Would asking {id} for consent place an adult at risk of serious "
                                                      "harm?",
    "people.seeking_consent_would.prejudice_crime_inquiry": "Would asking {id} for consent prejudice the prevention or "
                                                            "detection of a serious crime?",
    "people.seeking_consent_would.cause_unjustified_delay": "Would asking {id} for consent cause unjustified delay in "
                                                            "enquiries about significant harm?",
    "people.seeking_consent_would.prejudice_other_crime_inquiry": "Would asking {id} for consent prejudice an inquiry "
                                                                  "into a crime that is not serious?",
    "people.informing_would_put_child_at_risk": "Would telling {id} about the sharing put the child at risk of harm?",
    "information.about": "Is {id} about {item}?",
    "information.identifiable": "Could {id} identify anyone (has it not been anonymised)?",
    "information.in_public_domain": "Is {id} already public, or readily available from a public source?",
    "information.widely_known": "Is {id} widely known?",
    "information.given_expecting_sharing": "Did whoever gave you {id} understand it would be passed on to others?",
    "information.supplied_by_police": "Did the police supply {id}?",
    "information.shared_on_understanding.recipients": "Was {id} given on the understanding it could go to {item}?",
    "information.shared_on_understanding.purposes": "Was {id} given on the understanding it could be used for {item}?",
    "information.obtained_under_limiting_power": "Was {id} obtained under a statutory power or duty that limits its use?",
    "information.of_direct_relevance": "Is {id} about an adult of direct relevance to the protection of a child?",
    "consents.person": "Whose consent does {id} record?",
    "consents.freely_given": "Did {person} give consent freely, without pressure?",
    "consents.significant_change_since": "Has anything significant changed since {person} consented (the use of the "
                                         "information, or the relationship)?",
    "consents.information": "Is {item} among the information {person}'s consent is about?",
    "disclosures.from.agency": "Which agency would make {id}?",
    "disclosures.from.role": "What is the role of the professional who would make {id}?",
    "disclosures.to.agency": "Which agency would receive {id}?",
    "disclosures.to.role": "What is the role of the professional who would receive {id}?",
    "disclosures.information": "Would {id} carry {item}?",
    "disclosures.within_agency_functions": "Is {id} within the functions or powers of your agency?",
    "disclosures.statutory_duty": "Does a statutory duty require {id}?",
    "disclosures.court_order": "Does a court order require {id}?",
    "disclosures.statutory_power": "Is {id} made under a statutory power to share without consent?",
    "disclosures.police_request.category": "Which category of request does {id} answer (3.6.9)?",
    "disclosures.police_request.meeting_under": "Under which Act was the risk management meeting of {id} set up?",
    "disclosures.police_request.safeguarding_overrides_confidence": "Does the need to safeguard a child override the duty "
                                                                    "of confidence for {id} (your judgement)?",
    "disclosures.police_request.category_in_doubt": "Is the officer in doubt whether the request of {id} falls in a "
                                                    "category?",
    "disclosures.police_request.s47_enquiry": "Is the request of {id} made within a s47 enquiry?",
    "disclosures.police_request.criminal_investigation": "Is the request of {id} made within a criminal investigation?",
    "disclosures.police_permission": "Have the police given express permission to pass on what they supplied in {id}?",
    "disclosures.channel": "How would {id} be sent (phone, in person, fax, e-mail, secure system, post)?",
    "disclosures.transfer.incoming_call": "Did the request that {id} answers come as a telephone call you received?",
    "disclosures.transfer.caller": "Is the caller of {id} known to you personally, a known contact, or not known?",
    "disclosures.transfer.verified_by_call_back": "Was the caller of {id} verified by calling their agency back?",
    "disclosures.transfer.secure_system_available": "Does a secure electronic system reach the recipient of {id}?",
    "disclosures.transfer.fax_judged_unavoidable": "Is sending {id} by fax unavoidable (your judgement)?",
    "disclosures.transfer.fax_number_checked": "Was the fax number for {id} checked very carefully?",
    "disclosures.transfer.fax_number_checked_by_colleague": "Did a colleague check the fax number for {id}?",
    "disclosures.transfer.security_reassurance_recorded": "Did the receiving agency reassure you that {id} will be "
                                                          "handled securely, and is that recorded?",
    "disclosures.transfer.cover_sheet": "Does the fax of {id} have a cover sheet with a confidentiality statement?",
    "disclosures.transfer.safe_haven_fax": "Does {id} go to a safe-haven fax machine?",
    "disclosures.transfer.recipient_standing_by": "Will the recipient of {id} stand by the fax and confirm receipt?",
    "disclosures.transfer.confidentiality_warning": "Does the e-mail of {id} carry a confidentiality warning?",
    "disclosures.health.in_doubt": "Is the health professional in doubt about {id}?",
    "disclosures.education.requested_by_childrens_social_care": "Did children's social care ask the education "
                                                                "authority for help (for {id})?",
    "disclosures.education.prejudicial_to_own_functions": "Would helping (by {id}) prejudice the education authority's "
                                                          "own functions?",
    "disclosures.informing_would_put_child_at_risk": "Would telling the child or parent about {id} put the child at risk "
                                                     "of harm?",
    "children.age": "How old is {id}?",
    "children.understanding": "Does {id} understand enough to decide about sharing (your judgement, 3.3.15-3.3.17)?",
    "children.concern.significant_harm_evidence": "Is there evidence that {id} is suffering, or at risk of, significant "
                                                  "harm?",
    "children.concern.reasonable_cause_to_believe": "Do you have reasonable cause to believe {id} may be suffering, or "
                                                    "at risk of, significant harm?",
    "children.concern.reasonable_cause_to_suspect": "Do you have reasonable cause to suspect {id} may be suffering, or "
                                                    "at risk of, significant harm?",
    "children.concern.unsure": "Do you have a concern about {id} you are unsure amounts to reasonable cause?",
    "child.understanding_criteria.understands_question": "Can {id} understand the question being asked (3.3.17)?",
    "children.understanding_criteria.understands_question": "Can {id} understand the question being asked (3.3.17)?",
    "child.understanding_criteria.understands_what_shared": "Does {id} understand what information might be shared (3.3.17)?",
    "children.understanding_criteria.understands_what_shared": "Does {id} understand what information might be shared (3.3.17)?",
    "child.understanding_criteria.understands_reasons": "Does {id} understand the main reasons for sharing (3.3.17)?",
    "children.understanding_criteria.understands_reasons": "Does {id} understand the main reasons for sharing (3.3.17)?",
    "child.understanding_criteria.understands_implications": "Does {id} understand what sharing, and not sharing, may lead to (3.3.17)?",
    "children.understanding_criteria.understands_implications": "Does {id} understand what sharing, and not sharing, may lead to (3.3.17)?",
    "child.understanding_criteria.appreciates_alternatives": "Can {id} appreciate and consider the alternatives (3.3.17)?",
    "children.understanding_criteria.appreciates_alternatives": "Can {id} appreciate and consider the alternatives (3.3.17)?",
    "child.understanding_criteria.weighs_up": "Can {id} weigh one side of the situation against another (3.3.17)?",
    "children.understanding_criteria.weighs_up": "Can {id} weigh one side of the situation against another (3.3.17)?",
    "child.understanding_criteria.expresses_own_view": "Can {id} express a clear view of their own, not someone else's (3.3.17)?",
    "children.understanding_criteria.expresses_own_view": "Can {id} express a clear view of their own, not someone else's (3.3.17)?",
    "child.understanding_criteria.consistent_view": "Is {id} reasonably consistent in that view (3.3.17)?",
    "children.understanding_criteria.consistent_view": "Is {id} reasonably consistent in that view (3.3.17)?",
}


def _ask(spec: dict[str, Any]) -> None:
    """Attach QUESTIONS to the fields of the case format (as ``x-question``; on a list's items too)."""
    for field in fields(spec):
        if field.path in QUESTIONS:
            for target in (field.spec, field.spec.get("items")):
                if isinstance(target, dict):
                    target["x-question"] = QUESTIONS[field.path]


_ask(CASE)
CASE["$schema"] = "https://json-schema.org/draft/2020-12/schema"
CASE["title"] = "pyisp case"


def json_schema() -> dict[str, Any]:
    """The case format as a plain JSON Schema (the ``x-`` keywords kept: they document the atoms)."""
    return copy.deepcopy(CASE)


# ------------------------------------------------------------------ validation

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}

# Limits on a case, each configurable by the environment variable of its name. They are
# checked before the case is read further: size before parsing (pyisp/core/case.py), depth,
# values and aliases before anything recurses, counts before the entries are checked.
LIMITS = {
    "PYISP_MAX_CASE_BYTES": 5_000_000,      # a case file (or one line of a batch)
    "PYISP_MAX_CASE_DEPTH": 100,            # lists and maps inside one another
    "PYISP_MAX_CASE_VALUES": 100_000,       # values in all (each list, map, key, text, number), aliases expanded
    "PYISP_MAX_CASE_ALIAS_NODES": 10_000,   # values brought in by YAML aliases (*name), expanded
    "PYISP_MAX_DISCLOSURES": 1000,  # answered one at a time (pyisp/core/engine.py): linear, ~15 ms each
    "PYISP_MAX_PEOPLE": 200,
    "PYISP_MAX_INFORMATION": 200,
    "PYISP_MAX_CONSENTS": 200,
}
COUNT_LIMITS = {"disclosures": "PYISP_MAX_DISCLOSURES", "people": "PYISP_MAX_PEOPLE",
                "information": "PYISP_MAX_INFORMATION", "consents": "PYISP_MAX_CONSENTS"}
MAX_NUMBER_CHARS = 100  # a whole number longer than this is not a fact of a case
SHORT = 80  # the longest rendering of a value in an error message


def limit(name: str) -> int:
    """The limit `name` (one of LIMITS): the environment variable of that name, else the default."""
    text = os.environ.get(name, "").strip()
    if not text:
        return LIMITS[name]
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise CaseError(f"the environment variable {name} must be a positive whole number, not {short(text)}")
    return value


class _Short(__import__("reprlib").Repr):
    """repr() that never renders a whole value: few items, short texts, few levels, and a
    whole number too long for repr() given by its size."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple, self.maxset = 2, 4, 4, 4, 4
        self.maxstring, self.maxother, self.maxlong = SHORT, SHORT, 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 3 * MAX_NUMBER_CHARS:
            return f"<a whole number of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: Any, level: int) -> str:
        try:
            return super().repr_instance(x, level)
        except Exception:  # noqa: BLE001 - a value whose repr fails is still reported
            return f"<{type(x).__name__}>"


_SHORT = _Short()


def short(value: Any) -> str:
    """A value for an error message: repr-like (control characters escaped), at most ~80 characters."""
    if isinstance(value, bool):
        return repr(value)
    text = _SHORT.repr(value)
    return text if len(text) <= SHORT else text[:SHORT - 3] + "..."


_UNSAFE = __import__("re").compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: Any) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """Text for one line of terminal, text or Markdown output: control characters, line
    breaks and bidirectional overrides escaped as in repr() (``\\n``, ``\\x1b``, ``\\u202e``),
    so that a case's text cannot start a line of its own or drive the terminal."""
    return _UNSAFE.sub(_escape, text)


def _key(key: Any) -> str:
    """A key of a mapping as it appears in a field path."""
    return key if isinstance(key, str) and len(key) <= SHORT and not _UNSAFE.search(key) else short(key)


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int) and not isinstance(key, bool) and key.bit_length() < 64:
        return f"{parent}[{key}]"
    return f"{parent}.{_key(key)}" if parent else _key(key)


# The checks below do not write the field path of each value they pass: they carry where
# they are as a chain, None for the case itself and (the chain of the list or map, key)
# for a value inside one, and write it out with _field_path only for a problem.


def _field_path(chain: Any) -> str:
    """The field path of a chain (see above): ``people[0].role``, "" for the case itself."""
    keys = []
    while chain is not None:
        chain, key = chain
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = _path(path, key)
    return path


def _where(chain: Any) -> str:
    """The `where` of a problem raised for the value at a chain: its field path, ``(case)``
    for the case itself. (The problems _check notes for a field of a map give the field's
    path as it is: a field named '' of the case itself is at ''.)"""
    return _field_path(chain) or "(case)"


def _suggest(word: str, options: list[str]) -> str:
    if len(word) > SHORT:
        return ""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _an(kind: str) -> str:
    return f"{'an' if kind in ('object', 'array', 'integer') else 'a'} {kind}"


def too_many_values(cap: int) -> str:
    return f"more than {cap} values in all (raise the limit with the environment variable PYISP_MAX_CASE_VALUES)"


_HUGE_BITS = 3 * MAX_NUMBER_CHARS  # a whole number of more bits has more than MAX_NUMBER_CHARS digits


def check_shape(data: Any) -> None:
    """Walk a document without recursion before anything else reads it: refuse nesting
    deeper than PYISP_MAX_CASE_DEPTH, more than PYISP_MAX_CASE_VALUES values (shared
    references counted each time, so a bomb of shared lists is refused unexpanded), a list
    or map that contains itself, and a whole number of more than MAX_NUMBER_CHARS digits.

    Depth first from a stack of (value, the chain of its list or map, its key there, depth,
    the ids of the lists and maps around it); a text or other value that is neither a whole
    number nor a list or map is counted where it is met, the rest when taken from the stack."""
    max_depth, max_values = limit("PYISP_MAX_CASE_DEPTH"), limit("PYISP_MAX_CASE_VALUES")
    values = 0
    stack: list[tuple[Any, Any, Any, int, tuple[int, ...]]] = [(data, None, None, 0, ())]
    while stack:
        value, parent, key, depth, inside = stack.pop()
        values += 1
        if values > max_values:
            raise CaseError(too_many_values(max_values), where=_where((parent, key) if depth else None))
        kind = value.__class__
        if kind is bool:  # (bool has no subclasses)
            continue
        if kind is dict:
            items: Any = value.items()
        elif kind is list:
            items = enumerate(value)
        elif isinstance(value, int):
            if value.bit_length() > _HUGE_BITS:
                raise CaseError(f"{short(value)} is too long a number (at most {MAX_NUMBER_CHARS} digits)",
                                where=_where((parent, key) if depth else None))
            continue
        elif isinstance(value, dict):
            items = value.items()
        elif isinstance(value, (list, tuple)):
            items = enumerate(value)
        else:
            continue
        here = (parent, key) if depth else None
        if depth + 1 > max_depth:
            raise CaseError(f"nested deeper than {max_depth} levels (raise the limit with the environment variable "
                            "PYISP_MAX_CASE_DEPTH)", where=_where(here))
        if id(value) in inside:
            raise CaseError("contains itself", where=_where(here))
        within = inside + (id(value),)
        depth += 1
        for key, item in items:
            if key.__class__ is not str and isinstance(key, int) and key.bit_length() > _HUGE_BITS:
                raise CaseError(f"the key {short(key)} is too long a number", where=_where(here))
            if item.__class__ is str or not isinstance(item, (dict, list, tuple, int)):
                values += 1
                if values > max_values:
                    raise CaseError(too_many_values(max_values), where=_where(here))
            else:
                stack.append((item, here, key, depth, within))


def _check_counts(case: dict[str, Any]) -> None:
    """The caps on the number of entries of each collection (before the entries are checked)."""
    for collection, name in COUNT_LIMITS.items():
        items = case.get(collection)
        if isinstance(items, list) and len(items) > limit(name):
            raise CaseError(f"{len(items)} entries, more than the limit of {limit(name)} (raise it with the "
                            f"environment variable {name})", where=collection)


class _Node:
    """A spec of the case format with the keywords validation reads taken out once (see
    _prepare): the checks of _check and _check_refs, never the spec's other keywords."""

    __slots__ = ("spec", "kind", "type", "plain", "accept", "enum", "min_length", "pattern", "min_items", "items", "unique",
                 "fields", "ref_fields", "required", "instead", "ref", "ref_extra", "refs")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.kind = spec.get("type")
        self.type = _TYPES.get(self.kind)
        self.enum = frozenset(spec["enum"]) if "enum" in spec else None
        self.min_length = spec.get("minLength")
        self.pattern = re.compile(spec["pattern"]) if "pattern" in spec else None
        # what passes with nothing more to check: a value of the class `plain` (a boolean, a text
        # without limits), a text (of class str) in `accept` (one of the values of an enum)
        text = self.kind == "string" and not self.min_length and self.pattern is None
        self.plain = bool if self.kind == "boolean" else str if text and self.enum is None else None
        self.accept = self.enum if text and self.enum is not None else frozenset()
        self.min_items = spec.get("minItems", 0)
        self.unique = bool(spec.get("uniqueItems"))
        self.items: _Node | None = None
        self.fields: dict[str, _Node] = {}  # property -> its node
        self.ref_fields: dict[str, _Node] = {}  # the properties in which a reference can be (refs)
        self.required: list[str] = spec.get("required", [])
        self.instead = spec.get("x-instead")
        self.ref: list[str] | None = spec.get("x-ref")
        self.ref_extra: list[str] = spec.get("x-ref-extra", [])
        self.refs = self.ref is not None  # a reference is in this part (it, its items or its properties)


def _prepare(spec: dict[str, Any], prepared: dict[int, _Node]) -> _Node:
    """The node of a spec and of the specs within it (once each: `prepared` by id)."""
    node = prepared.get(id(spec))
    if node is None:
        node = prepared[id(spec)] = _Node(spec)
        if "items" in spec:
            node.items = _prepare(spec["items"], prepared)
            node.refs = node.refs or node.items.refs
        for key, inner in spec.get("properties", {}).items():
            assert not key.startswith("x-"), key  # an x- key is free metadata, never a field (_check)
            child = _prepare(inner, prepared)
            node.fields[key] = child
            if child.refs:
                node.ref_fields[key] = child
        node.refs = node.refs or bool(node.ref_fields)
    return node


_CASE_NODE = _prepare(CASE, {})


def _check(value: Any, node: _Node, here: Any) -> None:
    """Check the value at the chain `here` against the node of its spec: a value of the wrong
    kind (or out of its range, not one of its values) is raised; the problems of the items
    and fields inside it are noted (see _note), each part checked after a problem of another."""
    kind = node.kind
    spec = node.spec
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise CaseError(f"expected a whole number, got {short(value)}", where=_where(here))
        if value < spec.get("minimum", value) or value > spec.get("maximum", value):
            raise CaseError(f"{short(value)} is outside {spec['minimum']}..{spec['maximum']}", where=_where(here))
        return
    if node.type is not None and not isinstance(value, node.type):
        raise CaseError(f"expected {_an(kind)}, got {short(value)}", where=_where(here))
    if kind == "string":
        enum = node.enum  # (a text of a subclass of str is compared with the list's ==, as ever)
        if enum is not None and (value not in enum if value.__class__ is str else value not in spec["enum"]):
            raise CaseError(f"{short(value)} is not one of {', '.join(spec['enum'])}{_suggest(value, spec['enum'])}",
                            where=_where(here))
        if node.min_length and len(value) < node.min_length:
            raise CaseError("must not be empty", where=_where(here))
        if node.pattern is not None and not node.pattern.fullmatch(value):  # to the end: "a\n" is not an id
            raise CaseError(f"{short(value)} may contain only letters, digits, '_', '.' and '-'", where=_where(here))
    elif kind == "array":
        if len(value) < node.min_items:
            raise CaseError(f"needs at least {spec['minItems']} item(s)", where=_where(here))
        items = node.items
        assert items is not None
        plain, accept = items.plain, items.accept
        for i, item in enumerate(value):
            if item.__class__ is not plain and (item.__class__ is not str or item not in accept):
                try:
                    _check(item, items, (here, i))
                except CaseError as exc:
                    _note(exc)
        if node.unique and len({v if isinstance(v, str) else repr(v) for v in value}) != len(value):
            raise CaseError("lists an item twice", where=_where(here))
    elif kind == "object":
        fields = node.fields
        if value.__class__ is not dict or not value.keys() <= fields.keys():  # else no key is unknown
            for key in value:
                if isinstance(key, str) and key.startswith("x-"):
                    continue  # free metadata, carried through
                if key not in fields:
                    _note(CaseError(f"unknown field {short(key)}"
                                    f"{_suggest(key, list(fields)) if isinstance(key, str) else ''}",
                                    where=_field_path((here, key))))
        for key, item in value.items():
            if item is None:
                continue  # null is the same as leaving the field out: unknown
            field = fields.get(key)
            if field is None or (key.__class__ is not str and isinstance(key, str) and key.startswith("x-")):
                continue  # an unknown field (noted above), or an x- key (no field is named x-..., _prepare)
            if item.__class__ is not field.plain and (item.__class__ is not str or item not in field.accept):
                try:
                    _check(item, field, (here, key))
                except CaseError as exc:
                    _note(exc)
            instead = field.instead
            if instead and value.get(instead) is not None:
                _note(CaseError(f"give either '{instead}' or '{key}', not both", where=_field_path((here, key))))
        for key in node.required:
            if key not in value or value[key] is None:
                _note(CaseError("is required", where=_field_path((here, key))))


def _collect_ids(case: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Map each collection name to {id: path}, checking that ids are unique across the case."""
    seen: dict[str, str] = {}
    ids: dict[str, dict[str, str]] = {"child": {}, "people": {}, "information": {}, "consents": {}, "disclosures": {}}
    entries: list[tuple[str, dict[str, Any], str]] = [("child", child, where) for child, where in children_of(case)]
    for coll in ("people", "information", "consents", "disclosures"):
        entries += [(coll, item, f"{coll}[{i}]") for i, item in enumerate(case.get(coll) or [])]
    for coll, item, path in entries:
        ident = item["id"]
        if ident in seen:
            raise CaseError(f"id '{ident}' is already used at {seen[ident]}", where=f"{path}.id")
        seen[ident] = path
        ids[coll][ident] = path
    return ids


def _check_refs(value: Any, node: _Node, here: Any, ids: dict[str, dict[str, str]], every: bool) -> None:
    """Check that each reference at or inside the value at the chain `here` names an id of
    its collections (ids, from _collect_ids). A case whose parts all have their kinds is
    walked only where a reference can be (node.refs); with `every` (a case with problems)
    every part is walked, and a part of the wrong kind ends the walk with the TypeError or
    AttributeError of reading it (see _validate_parts)."""
    if value is None:
        return
    ref = node.ref
    if ref is not None:
        if value.__class__ is str and (value in node.ref_extra or any(value in ids[coll] for coll in ref)):
            return  # a text naming an id (found by the ids' maps); anything else looked for in the list
        targets = [name for coll in ref for name in ids[coll]] + node.ref_extra
        if value not in targets:
            raise CaseError(f"{short(value)} is not the id of any of: {', '.join(ref)}"
                            f"{_suggest(value, targets)}", where=_field_path(here))
    elif node.kind == "array":
        items = node.items
        assert items is not None
        if every or items.refs:
            for i, item in enumerate(value):
                try:
                    _check_refs(item, items, (here, i), ids, every)
                except CaseError as exc:
                    _note(exc)
    elif node.kind == "object":
        fields = node.fields if every else node.ref_fields
        for key, item in value.items():
            field = fields.get(key)
            if field is None or (isinstance(key, str) and key.startswith("x-")):
                continue  # x-: free metadata (a note of the upgrade); an unknown field is a problem of its own (_check)
            try:
                _check_refs(item, field, (here, key), ids, every)
            except CaseError as exc:
                _note(exc)


def validate(data: Any) -> dict[str, Any]:
    """Check a case document against the format; return a normalised copy (ids filled in).

    Raises CaseError naming the field path of the first problem, with every problem found
    (up to MAX_ERRORS) in its `errors`. Every container is checked for its type (``_check``)
    before the id and consistency checks read it; the limits of LIMITS are checked first.

    A document validated twice before (the same pickle, under the same limits) is not
    checked again: its normalised copy is remembered as a pickle and a fresh copy unpickled
    (see VALID_BYTES). Only valid documents are remembered: a refused one is checked each time.
    """
    if not isinstance(data, dict):
        raise CaseError(f"a case must be a mapping of fields, got {type(data).__name__}")
    key = _document_key(data)
    if key is not None:
        with _valid_lock:
            known = _VALID.get(key)
            if known is not None:
                _VALID.move_to_end(key)
        if known is not None:
            copied: dict[str, Any] = pickle.loads(known)
            return copied
    case = _validate(data)
    if key is not None:
        _remember_valid(key, case)
    return case


# Valid documents already checked: the pickle of the document (with the limits in force) ->
# the pickle of its normalised copy. Pickles are exact: the same bytes unpickle to equal
# values of the same types, nested the same way (a tuple is not a list, True is not 1, a
# shared or self-containing part stays so), so a document with the same pickle validates
# the same. Bounded by VALID_BYTES in all, least recently used dropped. A copy is kept from
# the second time its document is validated (the first only notes the hash of the key,
# VALID_SEEN of them): a service checking each document once (a new case id in each
# request) pays no pickle of the copy.
VALID_BYTES = 16_000_000
VALID_ONE = 256_000  # a larger document is checked each time, not remembered
VALID_SEEN = 4096  # hashes of the documents validated once, kept the next time they are validated
_VALID: OrderedDict[bytes, bytes] = OrderedDict()
_valid_seen = Sightings(VALID_SEEN)
_valid_size = [0]
_valid_lock = threading.Lock()


def _document_key(data: dict[str, Any]) -> bytes | None:
    """The pickle of a document and of the limits in force, or None when it has none (a
    value pickle cannot write) or is too large to remember."""
    try:
        key = pickle.dumps((tuple(os.environ.get(name) for name in LIMITS), data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a value pickle cannot write: checked every time
        return None
    return key if len(key) <= VALID_ONE else None


def _remember_valid(key: bytes, case: dict[str, Any]) -> None:
    with _valid_lock:
        if not _valid_seen.again(key):  # validated for the first time: kept if validated again
            return
    try:
        value = pickle.dumps(case, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - not remembered
        return
    with _valid_lock:
        if key in _VALID:
            return
        _VALID[key] = value
        _valid_size[0] += len(key) + len(value)
        while _valid_size[0] > VALID_BYTES and _VALID:
            old_key, old_value = _VALID.popitem(last=False)
            _valid_size[0] -= len(old_key) + len(old_value)


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    """validate() without its memory of valid cases."""
    check_shape(data)  # depth, size, cycles, huge numbers: before anything recurses into it
    try:
        case = upgrade(data)
    except (TypeError, ValueError) as exc:  # a shorthand given values of the wrong kind (a map as an agency)
        raise CaseError(f"cannot be read: {printable(str(exc))[:SHORT]}", where="disclosures") from None
    _check_counts(case)
    consents = case.get("consents")
    for i, consent in enumerate(consents if isinstance(consents, list) else []):
        if isinstance(consent, dict) and "id" not in consent:
            consent["id"] = f"consent-{i + 1}"
    _collecting(_validate_parts, case)
    return case


def children_of(case: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The children of a case with the path of each: the one 'child', or each of 'children'."""
    if isinstance(case.get("children"), list):
        return [(child, f"children[{i}]") for i, child in enumerate(case["children"])]
    return [(case["child"], "child")] if isinstance(case.get("child"), dict) else []


def _check_child_form(case: dict[str, Any]) -> None:
    """A case names its child with 'child' or its children with 'children': one of them, not both."""
    if "child" in case and "children" in case:
        raise CaseError("give either 'child' (one child) or 'children' (a list), not both", where="children")
    if case.get("child") is None and case.get("children") is None:
        raise CaseError("is required (or 'children', a list, for several children)", where="child")


def _validate_parts(case: dict[str, Any]) -> None:
    """The checks of validate(), each part noting its problems (see _collecting)."""
    _checked(_check_child_form, case)
    _checked(_check, case, _CASE_NODE, None)
    shaped = not _PROBLEMS.get()  # malformed: references and consistency only where they can be read
    try:
        ids = _collect_ids(case)
        _checked(_check_refs, case, _CASE_NODE, None, ids, not shaped)
        _checked(_check_consistency, case)
    except CaseError as exc:
        _note(exc)
    except (KeyError, TypeError, AttributeError, ValueError):
        if shaped:
            raise


# ------------------------------------------------------------------ collecting every problem
# validate() collects the problems of a case instead of stopping at the first: a check notes
# a problem with _note (or raises CaseError inside a part run by _checked), and the rest of
# the case is still checked. Outside validate() both simply raise.

MAX_ERRORS = 50  # problems collected before validation stops
_PROBLEMS: ContextVar[list[CaseError] | None] = ContextVar("pyisp_case_problems", default=None)


class _Enough(Exception):
    """MAX_ERRORS problems found: stop checking."""


def _note(error: CaseError) -> None:
    """A problem of the case: collected while validate() collects, else raised."""
    problems = _PROBLEMS.get()
    if problems is None:
        raise error
    problems.append(error)
    if len(problems) >= MAX_ERRORS:
        raise _Enough


def _checked(check: Callable[..., None], *args: Any) -> None:
    """Run the check of one part of the case; its CaseError is noted and checking goes on."""
    try:
        check(*args)
    except CaseError as exc:
        _note(exc)


def _collecting(check: Callable[..., None], *args: Any) -> None:
    """Run `check` collecting every problem; raise the first as a CaseError whose `errors` lists all."""
    problems: list[CaseError] = []
    token = _PROBLEMS.set(problems)
    try:
        check(*args)
    except _Enough:
        pass
    finally:
        _PROBLEMS.reset(token)
    if problems:
        first = problems[0]
        raise type(first)(first.message, where=first.where, errors=[CaseProblem.of(p) for p in problems])


def _check_consistency(case: dict[str, Any]) -> None:
    """Contradictions visible in the shape of the case; contradictions of meaning are found by the rules."""
    for child, where in children_of(case):
        if child.get("age_range") is not None:
            if child.get("age") is not None:
                raise CaseError("give either 'age' or 'age_range' (or 'school_year'), not both",
                                where=f"{where}.age_range")
            if child["age_range"]["min"] > child["age_range"]["max"]:
                raise CaseError("min is above max", where=f"{where}.age_range")
    if "children" in case:
        for key in CHILD_CONCERN_FIELDS:
            if (case.get("concern") or {}).get(key) is not None:
                raise CaseError("with several children, state the concern about each child under that child "
                                f"(children[].concern.{key})", where=f"concern.{key}")
    seen: dict[tuple[Any, ...], tuple[str, str]] = {}
    for i, consent in enumerate(case.get("consents") or []):
        answer = consent.get("answer")
        if answer not in ("given", "refused"):
            continue
        key = (consent["person"], tuple(sorted(consent.get("purposes") or [])),
               tuple(sorted(consent.get("recipients") or [])))
        if key in seen and seen[key][1] != answer:
            raise CaseError(f"'{consent['person']}' both gave and refused consent for the same purposes and "
                            f"recipients (see {seen[key][0]}); a later change of mind is answer 'withdrawn'",
                            where=f"consents[{i}].answer")
        seen.setdefault(key, (f"consents[{i}]", answer))
