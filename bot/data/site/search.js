// rizhilu site: search every note in the browser. The index (window.RIZHILU_SEARCH) is a
// script beside this one, so search works from file:// too. Plain substring matching on
// normalised text (NFKC, lower case): Chinese and Japanese need no word breaks. Every word
// of the query must appear in the note. Results are built with DOM nodes (textContent),
// never as HTML.
"use strict";
(function () {
  var LIMIT = 200;
  var data = window.RIZHILU_SEARCH || { days: [], notes: [] };
  var input = document.getElementById("q");
  var status = document.getElementById("status");
  var list = document.getElementById("results");
  if (!input || !status || !list) {
    return;
  }
  var folded = null;

  function norm(text) {
    return text.normalize("NFKC").toLowerCase();
  }

  function say(template, count) {
    return (status.getAttribute("data-" + template) || "").replace("{count}", String(count));
  }

  function marked(text, words) {
    // highlight only when normalising kept every character where it was
    var frag = document.createDocumentFragment();
    var low = norm(text);
    if (low.length !== text.length) {
      frag.appendChild(document.createTextNode(text));
      return frag;
    }
    var at = 0;
    while (at < text.length) {
      var best = -1;
      var len = 0;
      for (var i = 0; i < words.length; i++) {
        var hit = low.indexOf(words[i], at);
        if (hit !== -1 && (best === -1 || hit < best)) {
          best = hit;
          len = words[i].length;
        }
      }
      if (best === -1 || len === 0) {
        break;
      }
      frag.appendChild(document.createTextNode(text.slice(at, best)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(best, best + len);
      frag.appendChild(mark);
      at = best + len;
    }
    frag.appendChild(document.createTextNode(text.slice(at)));
    return frag;
  }

  function run() {
    var words = norm(input.value).split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) {
      status.textContent = "";
      return;
    }
    if (folded === null) {
      folded = data.notes.map(function (note) { return norm(note[1]); });
    }
    var hits = [];
    for (var n = 0; n < folded.length; n++) {
      var text = folded[n];
      var all = true;
      for (var w = 0; w < words.length && all; w++) {
        all = text.indexOf(words[w]) !== -1;
      }
      if (all) {
        hits.push(n);
      }
    }
    status.textContent = hits.length ? say("count", hits.length) : say("none", 0);
    for (var k = 0; k < hits.length && k < LIMIT; k++) {
      var note = data.notes[hits[k]];
      var day = data.days[note[0]];
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.className = "day";
      link.href = day[0];
      link.textContent = day[1];
      var body = document.createElement("span");
      body.appendChild(marked(note[1], words));
      item.appendChild(link);
      item.appendChild(body);
      list.appendChild(item);
    }
    if (hits.length > LIMIT) {
      var more = document.createElement("li");
      more.className = "meta";
      more.textContent = say("more", hits.length - LIMIT);
      list.appendChild(more);
    }
  }

  var query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    input.value = query;
  }
  input.addEventListener("input", run);
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });
  run();
})();
