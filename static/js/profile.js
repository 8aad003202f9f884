/* PresGen profile: play the sample of the voice chosen in the Voice list. No dependencies.
 *
 * The page ships with the sample of the saved voice; when the learner picks another
 * voice, point the player at that voice's sample (synthesized on first request).
 */
(function () {
  "use strict";

  var preview = document.getElementById("voice-preview");
  var select = document.getElementById("id_preferred_voice");
  if (!preview || !select) return;
  var audio = preview.querySelector("audio");
  var template = preview.getAttribute("data-url-template") || "";
  var placeholder = preview.getAttribute("data-placeholder") || "";
  if (!audio || !template || !placeholder) return;

  select.addEventListener("change", function () {
    if (!select.value) return;
    var url = template.replace(placeholder, encodeURIComponent(select.value));
    var link = audio.querySelector("a");
    if (link) link.setAttribute("href", url);
    audio.pause();
    audio.setAttribute("src", url);
    audio.load();
  });
})();
