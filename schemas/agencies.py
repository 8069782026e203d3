"""Which roles each agency type has: the role queues a recipient of that type may be addressed to.

Every agency and partner body of the partnership's routing list is an `AgencyType`; several list
entries are grouped into one type (the MASH, the Integrated Front Door and the Emergency Duty Team
are `csc_front_door`, told apart by role; every other local authority is `other_la_csc`). Sources:
CPSCP-Procedures, Child exploitation > Agency responsibilities; CPSCPB-CSA-Strategy, Section Two >
Agency responsibilities; CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist;
CPSCP-Procedures, LADO > 3. General Considerations Relating to Allegations Against People who Work
with Children; CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local
Authority's Area to Another > Looked After Children Placed Out of Area.
"""

from __future__ import annotations

import functools
from types import MappingProxyType

from schemas.vocab import AgencyRole as R
from schemas.vocab import AgencyType as T

_LEADS = (R.SAFEGUARDING_LEAD, R.IG_LEAD, R.CALDICOTT_GUARDIAN)
_HEALTH_LEADS = (R.NAMED_PROFESSIONAL, R.DESIGNATED_PROFESSIONAL, *_LEADS)

AGENCY_ROLES = MappingProxyType(
    {
        T.CSC_FRONT_DOOR: frozenset({R.MASH_INTAKE, R.EDT, R.TEAM_MANAGER, R.SOCIAL_WORKER, *_LEADS}),
        T.CSC_TEAM: frozenset({R.SOCIAL_WORKER, R.TEAM_MANAGER, R.LEAD_PROFESSIONAL, *_LEADS}),
        T.OTHER_LA_CSC: frozenset({R.MASH_INTAKE, R.EDT, R.TEAM_MANAGER, R.SOCIAL_WORKER, *_LEADS}),
        T.POLICE: frozenset({R.POLICE_PUBLIC_PROTECTION, R.POLICE_DISCLOSURE_UNIT, *_LEADS}),
        T.HEALTH_GP: frozenset({R.GP, *_HEALTH_LEADS}),
        T.HEALTH_COMMUNITY: frozenset({R.HEALTH_VISITOR, R.SCHOOL_NURSE, R.MIDWIFE, *_HEALTH_LEADS}),
        T.HEALTH_ACUTE: frozenset({R.MIDWIFE, *_HEALTH_LEADS}),
        T.HEALTH_MENTAL_HEALTH: frozenset({*_HEALTH_LEADS}),
        T.CAMHS: frozenset({R.CAMHS_CLINICIAN, *_HEALTH_LEADS}),
        T.AMBULANCE: frozenset({R.AMBULANCE_CLINICIAN, *_HEALTH_LEADS}),
        T.EDUCATION_SCHOOL: frozenset({R.DSL, R.DESIGNATED_SENIOR_MANAGER, *_LEADS}),
        T.EDUCATION_EARLY_YEARS: frozenset({R.DSL, R.DESIGNATED_SENIOR_MANAGER, *_LEADS}),
        T.EDUCATION_COLLEGE: frozenset({R.DSL, R.DESIGNATED_SENIOR_MANAGER, *_LEADS}),
        T.VIRTUAL_SCHOOL: frozenset({R.VIRTUAL_SCHOOL_HEAD, *_LEADS}),
        T.EARLY_HELP: frozenset({R.EARLY_HELP_PRACTITIONER, R.LEAD_PROFESSIONAL, R.TEAM_MANAGER, *_LEADS}),
        T.ASC: frozenset({R.ADULT_SAFEGUARDING_OFFICER, R.TRANSITIONS_WORKER, R.TEAM_MANAGER, *_LEADS}),
        T.PROBATION: frozenset({R.PROBATION_OFFICER, *_LEADS}),
        T.PRISON: frozenset({R.PRISON_OFFENDER_MANAGER, *_LEADS}),
        T.YOS: frozenset({R.YOS_OFFICER, *_LEADS}),
        T.HOUSING: frozenset({R.HOUSING_OFFICER, *_LEADS}),
        T.VCS: frozenset({R.SAFEGUARDING_LEAD, R.DSL, R.LEAD_PROFESSIONAL}),
        T.DA_SERVICE: frozenset({R.DA_CASEWORKER, *_LEADS}),
        T.LADO: frozenset({R.LADO_OFFICER}),
        T.MARAC: frozenset({R.MARAC_COORDINATOR}),
        T.MAPPA: frozenset({R.MAPPA_COORDINATOR}),
        T.CDOP: frozenset({R.CDOP_MANAGER, R.DESIGNATED_PROFESSIONAL}),
        T.CORONER: frozenset({R.CORONERS_OFFICER}),
        T.PATHOLOGIST: frozenset({R.PATHOLOGIST}),
        T.OFSTED: frozenset({R.REGULATORY_INSPECTOR}),
        T.DBS: frozenset({R.DBS_CASEWORKER}),
        T.HOME_OFFICE_SCA_NRM: frozenset({R.NRM_DECISION_MAKER}),
        T.UKVI_IMMIGRATION: frozenset({R.IMMIGRATION_OFFICER}),
        T.CHANNEL_PANEL: frozenset({R.CHANNEL_COORDINATOR}),
        T.CAFCASS: frozenset({R.FAMILY_COURT_ADVISER}),
        T.COURT: frozenset({R.COURT_OFFICER}),
        T.INDEPENDENT_FAMILY_RETURNS_PANEL: frozenset({R.RETURNS_PANEL_MEMBER}),
        T.NSPCC_CHILDLINE: frozenset({R.HELPLINE_PRACTITIONER, R.SAFEGUARDING_LEAD}),
    }
)


def roles_of(agency_type: T) -> frozenset[R]:
    """The role queues of one agency type."""
    return AGENCY_ROLES[agency_type]


@functools.cache  # asked for every notification and every form; the table never changes
def role_names(agency_type: str) -> frozenset[str]:
    """The role queues of an agency type given by its value, as values; none for a type the contract
    does not know (an agency registered under it has no role to send as or be addressed to)."""
    try:
        return frozenset(r.value for r in AGENCY_ROLES[T(agency_type)])
    except ValueError:
        return frozenset()
