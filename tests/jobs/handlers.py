"""Job handlers used by the job-system tests, registered like any app's handlers."""

from engines.base import EngineError
from jobs.models import Job
from jobs.registry import register


def echo(job, ctx):
    ctx.progress(0.5, "work")
    return {"echo": job.params.get("value")}


def fail(job, ctx):
    raise EngineError("The model rejected the input.", code="engine_rejected")


def crash(job, ctx):
    raise RuntimeError("unexpected")


def cancel_midway(job, ctx):
    from jobs.services import job_cancel

    ctx.progress(0.3, "work")
    job_cancel(job=Job.objects.get(pk=job.pk))
    ctx.progress(0.6, "work")  # the runner learns of the cancel here
    return {"should": "not be used"}


def register_all():
    register("test.echo", queue="default", run="tests.jobs.handlers.echo")
    register("test.fail", queue="default", run="tests.jobs.handlers.fail")
    register("test.crash", queue="default", run="tests.jobs.handlers.crash")
    register("test.cancel_midway", queue="default", run="tests.jobs.handlers.cancel_midway")
