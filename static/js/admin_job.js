/* PresGen admin: live progress on a video job's page. No dependencies.
 *
 * While the job is active, ask the staff-only progress endpoint (its URL is
 * in data-job-progress-url) every few seconds and move the progress bar; when
 * the job is no longer active (ready, failed or cancelled) reload the page so
 * its attempts, script and error show. Network errors back off and retry.
 */
(function () {
  "use strict";

  var POLL_MS = 3000;
  var MAX_DELAY_MS = 60000;

  function start() {
    var box = document.querySelector("[data-job-progress-url]");
    if (!box || box.getAttribute("data-active") !== "1") return;
    var url = box.getAttribute("data-job-progress-url");
    var bar = box.querySelector("progress");
    var label = box.querySelector("[data-job-progress-label]");
    var delay = POLL_MS;

    function show(job) {
      var progress = Math.min(Math.max(Number(job.progress) || 0, 0), 100);
      if (bar) {
        bar.value = progress;
        bar.textContent = progress + "%";
      }
      if (label) {
        label.textContent = job.status_display + " · " + progress + "% · " + (job.step || "—");
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (job) {
          show(job);
          delay = POLL_MS;
          if (job.active) {
            window.setTimeout(poll, delay);
          } else {
            window.location.reload();
          }
        })
        .catch(function () {
          delay = Math.min(delay * 2, MAX_DELAY_MS);
          window.setTimeout(poll, delay);
        });
    }

    window.setTimeout(poll, delay);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
