"""``GET /api/v1/jobs/{id}``: a background job's status and progress, for a progress bar."""

from __future__ import annotations

from app import access
from app.api import Blueprint
from app.auth import actor, require_roles
from app.jobs.models import Job
from app.jobs.schemas import JobOut

blp = Blueprint("jobs", __name__, url_prefix="/api/v1", description="Background jobs (label runs)")


@blp.route("/jobs/<id:job_id>", methods=["GET"])
@blp.response(200, JobOut)
@blp.doc(security=[{"bearerAuth": []}])
@require_roles()
def get_job(job_id: int) -> Job:
    """A job of the caller's organization: ``status`` (queued, running, done, failed), ``done`` of ``total``."""
    return access.get_readable_job(actor(), job_id)
