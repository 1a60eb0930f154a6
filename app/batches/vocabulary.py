"""The words a batch's chain is written in: the stages of a journey and the system records.

Pure data, imported by everything that reads or writes events (the append path, the journey,
the catalog's product lines, compliance, the pages) and importing nothing of the app itself but
the string markers, so none of them has to reach into another's service for it.

Every kind of record a chain holds has one name for people, here (``RECORD_NAMES``): a Chinese
source string, translated by Babel where it is shown (``record_name``), in every language.
"""

from __future__ import annotations

from flask_babel import gettext, pgettext

from app.i18n import N_, NP_

# The shared stage vocabulary, in the order a batch normally lives it.
STAGES: tuple[str, ...] = (
    "seedling",
    "planting",
    "harvest",
    "processing",
    "packing",
    "storage",
    "transport",
    "sale",
    "after_sale",
)

# May be recorded any number of times, at any point after the batch exists (invariant 5).
REPEATABLE_STAGES: frozenset[str] = frozenset({"storage", "transport"})

# A correction of an earlier stage event; it names the seq it amends (invariant 1).
AMENDMENT = "amendment"

# An inspector's decision on a detected result with no limit on record (compliance reviews).
REVIEW = "review"
# The 执行标准 a batch declares (its label's product standard); a later one replaces it.
EXECUTIVE_STANDARD = "executive_standard"

# Records that are not stages of the product's journey but enter its chain all the same; each is
# written by its own service (custody, lineage, recalls, compliance), never posted as a stage.
SYSTEM_KINDS: frozenset[str] = frozenset(
    {
        AMENDMENT,
        "created",  # opens a batch's chain with its own facts (chain.CREATED)
        "transfer",
        "receipt",
        "transfer_rejected",
        "split",
        "transformation",
        "recall",
        "recall_closed",
        "inspection",
        "hold",  # a failed verdict stops the lot (app/holds)
        "disposition",  # what was done with a held lot (不合格处置)
        "certificate_issued",  # the 承诺达标合格证 issued for the lot (app/commitments)
        "certificate_receipt",  # the next holder recorded the certificate it received
        REVIEW,
        EXECUTIVE_STANDARD,
    }
)

# What a lot on hold may still record until a disposition is made: keeping it where it is (and
# corrections of earlier records). Every other stage, a transfer, a split, a merge or
# transformation, and a sale are refused (409).
STAGES_WHILE_HELD: frozenset[str] = frozenset({"storage"})

# The context of a record's name in the message catalog: 包装 the stage is "Packing", while 包装
# the field of a packing record is "Package".
RECORD = "record"

# The name of every kind of record, as a person reads it in a journey, on a page or in the PDF.
RECORD_NAMES: dict[str, str] = {
    "seedling": NP_("record", "育苗"),
    "planting": NP_("record", "种植"),
    "harvest": NP_("record", "采收"),
    "processing": NP_("record", "加工"),
    "packing": NP_("record", "包装"),
    "storage": NP_("record", "储存"),
    "transport": NP_("record", "运输"),
    "sale": NP_("record", "销售"),
    "after_sale": NP_("record", "售后"),
    AMENDMENT: NP_("record", "更正"),
    "created": NP_("record", "建立批次"),
    "transfer": NP_("record", "交接"),
    "receipt": NP_("record", "接收"),
    "transfer_rejected": NP_("record", "拒收"),
    "split": NP_("record", "分批"),
    "transformation": NP_("record", "加工转化"),
    "recall": NP_("record", "召回"),
    "recall_closed": NP_("record", "召回结束"),
    "inspection": NP_("record", "抽样检验"),
    "hold": NP_("record", "不合格暂停"),
    "disposition": NP_("record", "不合格处置"),
    "certificate_issued": NP_("record", "开具承诺达标合格证"),
    "certificate_receipt": NP_("record", "收取承诺达标合格证"),
    REVIEW: NP_("record", "检验判定"),
    EXECUTIVE_STANDARD: NP_("record", "声明执行标准"),
}
assert set(RECORD_NAMES) == set(STAGES) | SYSTEM_KINDS, "every kind of record has a name"


def record_name(kind: str) -> str:
    """The record kind's name in the current language (Babel's locale); an unknown kind as it is."""
    name = RECORD_NAMES.get(kind)
    return pgettext(RECORD, name) if name is not None else kind


# A batch's status as people read it (the values of ``BatchStatus``), on the field app, the desk
# and the consumer page alike.
STATUS_NAMES: dict[str, str] = {
    "active": N_("在用"),
    "consumed": N_("已用完"),
    "on_hold": N_("暂停（待处置）"),
    "recalled": N_("已召回"),
    "disposed": N_("已处置"),
}


def status_name(status: str) -> str:
    """The batch status's name in the current language; an unknown status as it is."""
    name = STATUS_NAMES.get(status)
    return gettext(name) if name is not None else status
