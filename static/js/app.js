// Progressive enhancement for the dashboard: every page works without this file.
(function () {
  "use strict";

  // Live progress on a generation page, from the job's Server-Sent Events stream.
  const job = document.getElementById("job");
  if (job && (job.dataset.status === "queued" || job.dataset.status === "processing")) {
    const source = new EventSource(`/api/jobs/${job.dataset.jobId}/events`);
    source.addEventListener("status", (event) => {
      const s = JSON.parse(event.data);
      job.querySelector("[data-testid=status]").textContent = s.status;
      job.querySelector("progress").value = s.progress;
      const stage = job.querySelector("[data-field=stage]");
      if (stage) stage.textContent = s.stage + (s.queue_position ? ` · position ${s.queue_position}` : "");
    });
    source.addEventListener("end", () => { source.close(); window.location.reload(); });
    source.onerror = () => { source.close(); setTimeout(() => window.location.reload(), 3000); };
  }

  // Live cost quote on the generate form.
  const form = document.getElementById("generate-form");
  if (form) {
    const out = form.querySelector("[data-testid=quote]");
    let timer = null;
    const quote = () => {
      const params = new URLSearchParams();
      for (const name of ["model", "frames", "steps"]) {
        const field = form.elements[name];
        if (field && field.value) params.set(name, field.value);
      }
      fetch(`/api/generation-cost?${params}`, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((body) => { out.textContent = body.credits !== undefined ? body.credits : "—"; })
        .catch(() => { out.textContent = "—"; });
    };
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(quote, 250); });
    quote();
  }
})();
