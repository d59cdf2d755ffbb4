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

// Studio: drag shots to reorder (the arrows do the same without JavaScript), and live
// progress on shots and exports that are still running.
(function () {
  "use strict";
  const list = document.getElementById("shots");
  if (list) {
    const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
    let dragged = null;
    list.addEventListener("dragstart", (e) => {
      dragged = e.target.closest(".shot");
      if (dragged) dragged.classList.add("dragging");
    });
    list.addEventListener("dragover", (e) => {
      e.preventDefault();
      const over = e.target.closest(".shot");
      if (!dragged || !over || over === dragged) return;
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextSibling : over);
    });
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      const order = [...list.querySelectorAll(".shot")].map((li) => Number(li.dataset.shotId));
      fetch(`/api/projects/${list.dataset.projectId}/shots/reorder`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ order }),
      }).then((r) => { if (!r.ok) window.location.reload(); });
    });
  }
  for (const el of document.querySelectorAll("[data-job-id][data-job-status]")) {
    if (el.dataset.jobStatus !== "queued" && el.dataset.jobStatus !== "processing") continue;
    const source = new EventSource(`/api/jobs/${el.dataset.jobId}/events`);
    source.addEventListener("status", (event) => {
      const s = JSON.parse(event.data);
      const bar = el.querySelector("progress");
      if (bar) bar.value = s.progress;
      const tag = el.querySelector(".tag");
      if (tag) tag.textContent = s.status;
    });
    source.addEventListener("end", () => { source.close(); window.location.reload(); });
    source.onerror = () => source.close();
  }

  // Copy buttons next to read-only fields (story details).
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.addEventListener("click", () => {
      const field = document.getElementById(button.dataset.copy);
      field.select();
      const done = () => { button.textContent = "Copied"; };
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, () => document.execCommand("copy") && done());
      else if (document.execCommand("copy")) done();
    });
  }
})();
