from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from jobs.selectors import job_get_for_user
from jobs.serializers import job_status_payload


@login_required
def job_detail_view(request, job_id):
    """Any job's page: live progress (Server-Sent Events) and its outputs when done."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    return render(request, "jobs/detail.html", {"job": job, "status": job_status_payload(job)})
