"""The field app's pages under /field: my batches, create a batch, record a stage, sites, a day sheet.

This module gathers the field blueprint: the shared machinery is app/field/pages.py and each page
group is a module of its own (batch_pages, stage_pages, site_pages, coop_pages, sync_pages), each a
thin view over app/field/service.py, whose writes go once through app/sync (run_once). Other page
groups (certificates, custody, import) import this module and add their routes to ``bp`` before
create_app registers it; the names they use are re-exported here.
"""

from __future__ import annotations

from app.field import batch_pages, coop_pages, site_pages, stage_pages, sync_pages  # noqa: F401 - their routes
from app.field.pages import (
    CREATOR_ROLES,
    FIELD_ROLES,
    _english,
    _page_batch,
    bp,
    entered_text,
    field_actor,
    field_required,
    field_url,
    lang_args,
    new_key,
    org_name,
    quantity_text,
    static_url,
    submit,
)
from app.field.sites import blp  # GET/POST /api/v1/sites, registered with this module

__all__ = [
    "CREATOR_ROLES",
    "FIELD_ROLES",
    "_english",
    "_page_batch",
    "blp",
    "bp",
    "entered_text",
    "field_actor",
    "field_required",
    "field_url",
    "lang_args",
    "new_key",
    "org_name",
    "quantity_text",
    "static_url",
    "submit",
]
