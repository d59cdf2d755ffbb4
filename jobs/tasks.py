from celery import shared_task

from jobs.runner import job_run
from jobs.services import jobs_reap
from jobs.webhooks import webhook_deliver, webhooks_deliver_due


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job(self, job_id: int) -> str:
    """Run one job. Idempotent: the conditional claim admits one runner per job, so a
    redelivered message for a job that is running or finished does nothing."""
    return job_run(job_id=job_id, worker=self.request.hostname or "worker")


@shared_task
def reap_jobs() -> dict:
    return jobs_reap()


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> str:
    return webhook_deliver(delivery_id=delivery_id)


@shared_task
def deliver_due_webhooks() -> int:
    return webhooks_deliver_due()
