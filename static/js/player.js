/* PresGen player: transcript, speed, skip, resume and progress saves. No dependencies. */
(function () {
  "use strict";

  var video = document.getElementById("player");
  var configNode = document.getElementById("player-config");
  if (!video || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var statusNode = document.getElementById("player-status");
  var SPEED_KEY = "presgen.playbackRate";
  var MAX_STEP = 1.5; // a timeupdate step longer than this (x rate) is a seek, not playback

  function say(text) {
    if (statusNode) statusNode.textContent = text;
  }

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function duration() {
    return isFinite(video.duration) && video.duration > 0 ? video.duration : config.duration;
  }

  /* --- resume -------------------------------------------------------------- */
  var resumeAt = Number(config.resumeSeconds) || 0;
  function applyResume() {
    if (resumeAt > 0) {
      video.currentTime = clamp(resumeAt, 0, duration());
    }
  }
  if (video.readyState >= 1) {
    applyResume();
  } else {
    video.addEventListener("loadedmetadata", applyResume, { once: true });
  }
  var startOver = document.getElementById("start-over");
  if (startOver) {
    startOver.addEventListener("click", function () {
      resumeAt = 0;
      video.currentTime = 0;
      var note = document.getElementById("resume-note");
      if (note) note.hidden = true;
      video.focus();
    });
  }

  /* --- speed and skip ---------------------------------------------------- */
  var speed = document.getElementById("speed");
  if (speed) {
    var saved = null;
    try { saved = window.localStorage.getItem(SPEED_KEY); } catch (e) { /* private mode */ }
    if (saved && speed.querySelector('option[value="' + saved + '"]')) {
      speed.value = saved;
    }
    var applySpeed = function () {
      video.playbackRate = Number(speed.value) || 1;
    };
    applySpeed();
    video.addEventListener("loadedmetadata", applySpeed);
    speed.addEventListener("change", function () {
      applySpeed();
      try { window.localStorage.setItem(SPEED_KEY, speed.value); } catch (e) { /* ignore */ }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-skip]"), function (button) {
    button.addEventListener("click", function () {
      var step = Number(button.getAttribute("data-skip")) || 0;
      video.currentTime = clamp(video.currentTime + step, 0, duration());
    });
  });

  /* --- transcript: click to seek, follow the current line ------------------ */
  var list = document.getElementById("transcript");
  var cues = list ? Array.prototype.slice.call(list.querySelectorAll(".cue")) : [];
  var spans = cues.map(function (button) {
    return {
      button: button,
      start: Number(button.getAttribute("data-start")),
      end: Number(button.getAttribute("data-end")),
    };
  });
  var current = null;
  cues.forEach(function (button) {
    button.addEventListener("click", function () {
      video.currentTime = clamp(Number(button.getAttribute("data-start")), 0, duration());
      if (video.paused) {
        var played = video.play();
        if (played && played.catch) played.catch(function () { /* autoplay refused */ });
      }
    });
  });
  function highlight() {
    if (!spans.length) return;
    var t = video.currentTime;
    var found = null;
    for (var i = 0; i < spans.length; i += 1) {
      if (t >= spans[i].start && t < spans[i].end) { found = spans[i].button; break; }
    }
    if (found === current) return;
    if (current) {
      current.classList.remove("is-current");
      current.removeAttribute("aria-current");
    }
    current = found;
    if (!current) return;
    current.classList.add("is-current");
    current.setAttribute("aria-current", "true");
    // Keep the line in view inside the transcript box, unless the learner is
    // working in the transcript with the keyboard.
    if (!list.contains(document.activeElement)) {
      var top = current.offsetTop - list.offsetTop;
      if (top < list.scrollTop || top + current.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = Math.max(top - list.clientHeight / 3, 0);
      }
    }
  }

  /* --- watched seconds and progress saves ---------------------------------- */
  var watched = 0;     // seconds played since the last successful save
  var lastTime = null; // currentTime at the previous timeupdate while playing
  var inFlight = false;
  var again = false;   // a save was asked for while one was in flight
  var engaged = false; // nothing is saved for a page that was opened but never played
  var dirty = false;   // the position changed since the last save

  function track() {
    var t = video.currentTime;
    // At the end the element is already paused when its last timeupdate and its
    // pause event arrive: the stretch since the previous timeupdate still played.
    if ((!video.paused || video.ended) && !video.seeking && lastTime !== null) {
      var step = t - lastTime;
      if (step > 0 && step <= MAX_STEP * Math.max(video.playbackRate, 1)) watched += step;
    }
    lastTime = video.seeking ? null : t;
    dirty = true;
  }

  function save(keepalive) {
    if (!engaged || (!dirty && watched <= 0)) return;
    if (inFlight) {
      again = true;
      return;
    }
    var sent = watched;
    inFlight = true;
    dirty = false;
    fetch(config.progressUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": config.csrfToken,
        "X-Requested-With": "XMLHttpRequest",
      },
      body: JSON.stringify({ position: video.currentTime, watched: sent }),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        watched = Math.max(watched - sent, 0);
        if (data.completed) {
          var badge = document.getElementById("watched-badge");
          if (badge && badge.hidden) {
            badge.hidden = false;
            say("Marked as watched.");
          }
        }
        if (statusNode && statusNode.getAttribute("data-error")) {
          statusNode.removeAttribute("data-error");
          say("");
        }
      })
      .catch(function () {
        dirty = true; // try again with the next save; unsaved seconds are kept
        if (statusNode) statusNode.setAttribute("data-error", "1");
        say("Your progress could not be saved just now; PresGen will try again.");
      })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          save(false);
        }
      });
  }

  video.addEventListener("timeupdate", function () {
    track();
    highlight();
  });
  video.addEventListener("seeking", function () { lastTime = null; });
  video.addEventListener("seeked", function () {
    lastTime = video.currentTime;
    dirty = true;
    highlight();
  });
  video.addEventListener("play", function () {
    engaged = true;
    lastTime = video.currentTime;
  });
  video.addEventListener("pause", function () {
    track();
    lastTime = null;
    save(false);
  });
  video.addEventListener("ended", function () {
    track();
    lastTime = null;
    save(false);
    var next = document.getElementById("up-next-link");
    if (next) say("Finished. Up next: " + next.textContent + ".");
  });
  window.setInterval(function () {
    if (!video.paused) save(false);
  }, (Number(config.saveEverySeconds) || 5) * 1000);
  window.addEventListener("pagehide", function () { save(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") save(true);
  });
})();
