"""The lab behind a report: an organization of kind lab, its CMA certificate and the parameters
it is qualified for. A result outside that scope, or sampled or tested after the certificate
expired, is flagged on the verdict (never silently judged as if nothing were wrong)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext

from app import clock
from app.i18n import N_
from app.orgs.models import Organization

OUT_OF_SCOPE = "out_of_scope"
CMA_EXPIRED = "cma_expired"
FLAG_MESSAGES: dict[str, str] = {
    OUT_OF_SCOPE: N_("%(parameter)s 不在检测机构 %(lab)s 的资质认定（CMA）能力范围内"),
    CMA_EXPIRED: N_("检测机构 %(lab)s 的资质认定（CMA）证书已于 %(valid_to)s 过期，%(parameter)s 的结果出自过期之后"),
}


def qualified_for(lab: Organization, parameter: str) -> bool:
    """Whether the lab's CMA scope names the parameter (``pesticide.*`` covers every ``pesticide.``)."""
    for entry in lab.cma_parameters or []:
        entry = str(entry)
        if entry == parameter or (entry.endswith(".*") and parameter.startswith(entry[:-1])):
            return True
    return False


def expired_on(lab: Organization, *moments: dt.datetime) -> bool:
    """Whether any of the moments (China dates) falls after the lab's CMA expired."""
    if lab.cma_valid_to is None:
        return False
    return any(clock.china_date(m) > lab.cma_valid_to for m in moments)


def flags_for(
    lab: Organization | None, parameters: Iterable[str], sampled_at: dt.datetime, tested_at: dt.datetime
) -> list[dict[str, Any]]:
    """The flags of a report's results: machine values (``code``, ``parameter``), localized by ``flag_view``."""
    if lab is None:
        return []
    expired = expired_on(lab, sampled_at, tested_at)
    flags: list[dict[str, Any]] = []
    for parameter in parameters:
        if not qualified_for(lab, parameter):
            flags.append({"code": OUT_OF_SCOPE, "parameter": parameter})
        if expired:
            flags.append({"code": CMA_EXPIRED, "parameter": parameter})
    return flags


def lab_view(lab: Organization | None) -> dict[str, Any] | None:
    if lab is None:
        return None
    return {
        "id": lab.id,
        "name": lab.name,
        "cma_no": lab.cma_no,
        "cma_valid_from": lab.cma_valid_from.isoformat() if lab.cma_valid_from else None,
        "cma_valid_to": lab.cma_valid_to.isoformat() if lab.cma_valid_to else None,
    }


def flag_message(flag: dict[str, Any], lab: dict[str, Any] | None, parameter_name: str) -> str:
    """A flag in the current language."""
    template = FLAG_MESSAGES.get(flag["code"])
    if template is None:
        return str(flag["code"])
    return gettext(
        template,
        parameter=parameter_name,
        lab=(lab or {}).get("name") or "",
        valid_to=(lab or {}).get("cma_valid_to") or "",
    )
