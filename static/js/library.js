/* PresGen library: live progress of videos being made. No dependencies.
 *
 * While the page shows a job being made, ask library/jobs.json every few
 * seconds and move its progress bar; when a shown job is no longer being made
 * (ready, failed or cancelled) reload the library section from the server.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("library-config");
  var content = document.getElementById("library-content");
  if (!configNode || !content) return;
  var config = JSON.parse(configNode.textContent);
  var statusNode = document.getElementById("library-status");
  var delay = Math.max(Number(config.pollSeconds) || 3, 1) * 1000;
  var timer = null;
  var failures = 0;

  function say(text) {
    if (statusNode) statusNode.textContent = text;
  }

  function shownJobs() {
    return Array.prototype.slice.call(content.querySelectorAll("[data-job-id]"));
  }

  function update(node, job) {
    var progress = Math.min(Math.max(Number(job.progress) || 0, 0), 100);
    var step = job.step || job.status_label || "";
    var bar = node.querySelector("[role=progressbar]");
    if (bar) {
      bar.setAttribute("aria-valuenow", String(progress));
      bar.setAttribute("aria-valuetext", progress + "%, " + step);
      var fill = bar.querySelector(".bar-fill");
      if (fill) fill.style.width = progress + "%";
    }
    var percent = node.querySelector("[data-job-percent]");
    if (percent) percent.textContent = progress + "%";
    var stepNode = node.querySelector("[data-job-step]");
    if (stepNode) stepNode.textContent = step;
  }

  function refreshSection(finishedLabels) {
    return fetch(window.location.href, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("library-content");
        if (!fresh) throw new Error("no library section");
        var hadFocus = content.contains(document.activeElement);
        content.innerHTML = fresh.innerHTML;
        if (hadFocus) {
          var heading = content.querySelector("h2");
          if (heading) {
            heading.setAttribute("tabindex", "-1");
            heading.focus();
          }
        }
        if (finishedLabels.length) {
          say("Finished: " + finishedLabels.join(", ") + ". Your library is up to date.");
        }
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = shownJobs().length ? window.setTimeout(poll, delay) : null;
  }

  function poll() {
    if (document.hidden) {
      schedule();
      return;
    }
    fetch(config.jobsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        var byId = {};
        (data.jobs || []).forEach(function (job) {
          byId[String(job.id)] = job;
        });
        var finished = [];
        shownJobs().forEach(function (node) {
          var job = byId[node.getAttribute("data-job-id")];
          if (job) {
            update(node, job);
          } else {
            var title = node.querySelector(".lib-job-title");
            finished.push(title ? title.textContent.trim() : "a video");
          }
        });
        return finished.length ? refreshSection(finished) : null;
      })
      .catch(function () {
        failures += 1;
        if (failures === 3) say("Progress updates are paused: reload the page to see the latest.");
      })
      .then(function () {
        if (failures < 10) schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && shownJobs().length) {
      window.clearTimeout(timer);
      poll();
    }
  });

  schedule();
})();
