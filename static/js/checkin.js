/* The check-in page: scans tickets with the rear camera (jsQR), finds people by hand, keeps
   scans on the device while the network is down and shows the live count of the door. */
(function () {
  "use strict";

  const door = document.getElementById("door");
  if (!door) {
    return;
  }

  const SAME_CODE_PAUSE_MS = 2500; // a ticket held in front of the camera is one scan
  const SCAN_EVERY_MS = 120;
  const COUNT_EVERY_MS = 5000;
  const RETRY_EVERY_MS = 5000;
  const FRAME_WIDTH = 640; // frames are scaled down before decoding: faster, still readable
  const RECENT_SHOWN = 8;
  const VERDICT_SHOWN_MS = 8000; // then "Ready": an old green must not pass for the next person
  const VERDICTS = {
    ok: "ok",
    already_checked_in: "warn",
    cancelled: "bad",
    waitlisted: "bad",
    wrong_event: "bad",
    not_today: "amber", // staff may confirm: the person might have the day wrong, or we do
    invalid: "bad",
  };

  const texts = JSON.parse(door.dataset.texts);
  // Times as the server shows them: in the event's zone, whatever the phone's setting.
  const clock = new Intl.DateTimeFormat([], {
    timeZone: door.dataset.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const byId = (id) => document.getElementById(id);
  const ui = {
    video: byId("camera"),
    cameraStatus: byId("camera-status"),
    cameraToggle: byId("camera-toggle"),
    soundOn: byId("sound-on"),
    offline: byId("offline-banner"),
    result: byId("result"),
    headline: byId("result-headline"),
    name: byId("result-name"),
    organisation: byId("result-organisation"),
    needs: byId("result-needs"),
    note: byId("result-note"),
    undo: byId("result-undo"),
    confirm: byId("result-confirm"),
    checkedIn: byId("count-checked-in"),
    confirmed: byId("count-confirmed"),
    searchForm: byId("search-form"),
    searchInput: byId("search-q"),
    searchStatus: byId("search-status"),
    searchResults: byId("search-results"),
    recent: byId("recent"),
  };

  /* ---- Talking to the server ---------------------------------------------------------- */

  class Unreachable extends Error {}
  class LoggedOut extends Error {}
  class Refused extends Error {}

  let reachable = true;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
  }

  function urlFor(name, reference) {
    return door.dataset[name].replace("REFERENCE", encodeURIComponent(reference || ""));
  }

  async function send(method, url, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      reachable = false;
      throw new Unreachable(String(error));
    }
    if (response.status >= 500) {
      reachable = false; // a proxy without its server, or a restart: keep the scan and retry
      throw new Unreachable(String(response.status));
    }
    reachable = true;
    // 400: the CSRF token ended with the session; a redirect: to the login page
    if (response.redirected || [400, 401, 403].includes(response.status)) {
      throw new LoggedOut(String(response.status));
    }
    if (!response.ok) {
      throw new Refused(String(response.status));
    }
    return response.json();
  }

  /* ---- Scans kept on the device while offline ----------------------------------------- */

  const queueKey = door.dataset.queueKey;

  function queued() {
    try {
      return JSON.parse(localStorage.getItem(queueKey)) || [];
    } catch (error) {
      return [];
    }
  }

  function saveQueue(items) {
    localStorage.setItem(queueKey, JSON.stringify(items));
    showConnection();
  }

  function sameTicket(a, b) {
    return a.kind === b.kind && a.secret === b.secret && a.reference === b.reference;
  }

  function keep(item) {
    const items = queued();
    if (!items.some((other) => sameTicket(other, item))) {
      items.push(item); // the first scan keeps its time
      saveQueue(items);
    }
  }

  function forget(item) {
    saveQueue(queued().filter((other) => !sameTicket(other, item)));
  }

  function deliver(item) {
    const when = { scanned_at: item.scanned_at, any_day: Boolean(item.any_day) };
    if (item.kind === "scan") {
      return send("POST", door.dataset.scanUrl, { secret: item.secret, ...when });
    }
    return send("POST", urlFor("checkInUrl", item.reference), when);
  }

  let flushing = false;

  async function sendKept() {
    if (flushing || !queued().length) {
      return;
    }
    flushing = true;
    let refusal = null;
    let admitted = null;
    try {
      for (const item of queued()) {
        try {
          const answer = await deliver(item);
          forget(item);
          remember(answer, true);
          if (VERDICTS[answer.result] === "ok") {
            admitted = answer;
          } else {
            refusal = { answer, item };
          }
        } catch (error) {
          if (error instanceof Refused) {
            forget(item); // the server will never take it: do not retry forever
          } else {
            break;
          }
        }
      }
      refreshCount();
    } finally {
      flushing = false;
      showConnection();
    }
    showLateAnswer(refusal, admitted);
  }

  // The panel said "kept on this device": once sent, it shows what became of the scans, a
  // refusal first (it stays until the next scan, so it cannot be missed), else the last one.
  function showLateAnswer(refusal, admitted) {
    if (refusal) {
      showAnswer(refusal.answer, { late: true, item: refusal.item });
    } else if (keptShown && !queued().length) {
      if (admitted) {
        show("ok", admitted.message, admitted, { late: true });
      } else {
        show("idle", texts.ready);
      }
    }
  }

  function showConnection() {
    const waiting = queued().length;
    const offline = !navigator.onLine || !reachable;
    const parts = [];
    if (offline) {
      parts.push(texts.offline);
    }
    if (waiting) {
      parts.push(waiting === 1 ? texts.waitingOne : fill(texts.waitingMany, { n: waiting }));
    }
    ui.offline.textContent = parts.join(" — ");
    ui.offline.hidden = !parts.length;
  }

  /* ---- What the staff member sees, hears and feels ------------------------------------ */

  let audio = null;

  function unlockSound() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
    }
    if (audio && audio.state === "suspended") {
      audio.resume();
    }
    conceal(ui.soundOn, true); // it keeps its place: nothing moves under the finger
  }

  // In-flow controls are made invisible, never removed, so the layout never shifts.
  function conceal(node, concealed) {
    node.classList.toggle("door-concealed", concealed);
    node.disabled = concealed;
    node.setAttribute("aria-hidden", String(concealed));
  }

  function beep(frequency, seconds, delay) {
    const start = audio.currentTime + (delay || 0);
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + seconds);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + seconds);
  }

  function signal(verdict) {
    const patterns = { ok: [90], warn: [90, 80, 90], bad: [450], info: [40] };
    try {
      if (navigator.vibrate) {
        navigator.vibrate(patterns[verdict]);
      }
    } catch (error) {
      /* not allowed before the first tap: the screen says it all */
    }
    if (!audio || audio.state !== "running") {
      return;
    }
    if (verdict === "ok") {
      beep(880, 0.12);
    } else if (verdict === "warn") {
      beep(660, 0.09);
      beep(660, 0.09, 0.16);
    } else if (verdict === "bad") {
      beep(220, 0.45);
    } else {
      beep(440, 0.08);
    }
  }

  let shownReference = null;
  let toConfirm = null; // the check-in that staff may confirm on a day the event does not run
  let keptShown = false;
  let readyTimer = null;

  function show(verdict, headline, person, options) {
    person = person || {};
    options = options || {};
    clearTimeout(readyTimer);
    if (verdict in { ok: 1, warn: 1, bad: 1, amber: 1 } && !options.stays) {
      readyTimer = setTimeout(() => show("idle", texts.ready), VERDICT_SHOWN_MS);
    }
    keptShown = Boolean(options.kept);
    ui.result.className = "door-result door-result-" + verdict;
    ui.headline.textContent = headline;
    ui.name.textContent = person.name || "";
    ui.organisation.textContent = person.organisation || "";
    ui.needs.textContent = person.needs ? texts.needs + ": " + person.needs : "";
    ui.note.textContent = options.late ? texts.sentLateNote : "";
    shownReference = verdict === "ok" ? person.reference : null;
    conceal(ui.undo, !shownReference);
    toConfirm = verdict === "amber" && options.item ? options.item : null;
    conceal(ui.confirm, !toConfirm);
  }

  function showAnswer(answer, options) {
    options = options || {};
    const verdict = VERDICTS[answer.result] || "bad";
    // A refusal of a scan kept offline stays until the next scan: nobody was watching.
    show(verdict, answer.message, answer, { ...options, stays: options.late });
    signal(verdict);
    if (!options.late) {
      remember(answer, false);
    }
  }

  function remember(answer, late) {
    const item = document.createElement("li");
    item.className = "door-recent-" + (VERDICTS[answer.result] || "bad");
    const time = clock.format(new Date());
    const who = answer.name ? answer.name + ": " : "";
    const when = late ? " (" + texts.sentLate + ")" : "";
    item.textContent = time + " " + who + answer.message + when;
    ui.recent.prepend(item);
    while (ui.recent.children.length > RECENT_SHOWN) {
      ui.recent.lastElementChild.remove();
    }
  }

  function showProblem(error) {
    show("info", error instanceof LoggedOut ? texts.loggedOut : texts.problem);
  }

  /* ---- Checking people in ------------------------------------------------------------- */

  async function checkIn(item) {
    if (!navigator.onLine) {
      keepOffline(item);
      return;
    }
    try {
      showAnswer(await deliver(item), { item });
    } catch (error) {
      if (error instanceof Unreachable) {
        keepOffline(item);
      } else {
        if (error instanceof LoggedOut) {
          keep(item); // sent once the staff member has logged in again
        }
        showProblem(error);
      }
    }
    refreshCount();
  }

  function keepOffline(item) {
    keep(item);
    show("info", texts.keptOffline, { name: texts.keptOfflineDetail }, { kept: true });
    signal("info");
  }

  async function undo(reference) {
    try {
      const answer = await send("POST", urlFor("undoUrl", reference));
      show("info", texts.undone, answer.person);
      refreshCount();
      rerunSearch();
    } catch (error) {
      show("info", error instanceof Unreachable ? texts.needsNetwork : texts.problem);
    }
  }

  async function refreshCount() {
    try {
      const count = await send("GET", door.dataset.counterUrl);
      ui.checkedIn.textContent = count.checked_in;
      ui.confirmed.textContent = count.confirmed;
    } catch (error) {
      /* the banner already says when the network is gone */
    }
    showConnection();
  }

  /* ---- The camera --------------------------------------------------------------------- */

  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;
  let timer = null;
  let lastCode = null;
  let lastSeenAt = 0;

  async function startCamera() {
    ui.cameraStatus.textContent = texts.cameraStarting;
    conceal(ui.cameraToggle, true);
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } },
      });
      ui.video.srcObject = stream;
      await ui.video.play();
    } catch (error) {
      stopCamera();
      ui.cameraStatus.textContent = texts.cameraFailed;
      return;
    }
    ui.cameraStatus.textContent = texts.cameraOn;
    ui.cameraToggle.textContent = texts.cameraStop;
    conceal(ui.cameraToggle, false);
    scanFrame();
  }

  function stopCamera() {
    clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
    }
    stream = null;
    ui.video.srcObject = null;
    ui.cameraStatus.textContent = texts.cameraOff;
    ui.cameraToggle.textContent = texts.cameraStart;
    conceal(ui.cameraToggle, false);
  }

  function scanFrame() {
    if (!stream) {
      return;
    }
    const { videoWidth, videoHeight } = ui.video;
    if (videoWidth && window.jsQR) {
      const scale = Math.min(1, FRAME_WIDTH / videoWidth);
      canvas.width = Math.round(videoWidth * scale);
      canvas.height = Math.round(videoHeight * scale);
      context.drawImage(ui.video, 0, 0, canvas.width, canvas.height);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(pixels.data, canvas.width, canvas.height, {
        inversionAttempts: "dontInvert",
      });
      if (code && code.data) {
        seen(code.data);
      }
    }
    timer = setTimeout(scanFrame, SCAN_EVERY_MS);
  }

  function seen(text) {
    const now = Date.now();
    const repeat = text === lastCode && now - lastSeenAt < SAME_CODE_PAUSE_MS;
    lastCode = text;
    lastSeenAt = now;
    if (!repeat) {
      checkIn({ kind: "scan", secret: text, scanned_at: new Date().toISOString() });
    }
  }

  /* ---- Finding people by hand --------------------------------------------------------- */

  let searchTimer = null;
  let lastQuery = "";

  async function search(query) {
    lastQuery = query;
    if (query.replace(/\s/g, "").length < 2) {
      ui.searchResults.replaceChildren();
      ui.searchStatus.textContent = query ? texts.typeMore : "";
      return;
    }
    ui.searchStatus.textContent = texts.searching;
    try {
      const url = door.dataset.searchUrl + "?q=" + encodeURIComponent(query);
      const answer = await send("GET", url);
      if (query !== lastQuery) {
        return; // a later search has started
      }
      ui.searchResults.replaceChildren(...answer.results.map(personItem));
      ui.searchStatus.textContent = answer.results.length ? "" : texts.noResults;
    } catch (error) {
      ui.searchStatus.textContent =
        error instanceof Unreachable ? texts.needsNetwork : texts.problem;
    }
    showConnection();
  }

  function rerunSearch() {
    if (lastQuery) {
      search(lastQuery);
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function personItem(person) {
    const item = element("li", "door-person");
    const about = element("div", "door-person-about");
    about.append(
      element("strong", "door-person-name", person.name),
      element("span", "door-person-organisation", person.organisation),
      element("span", "reference", person.reference),
    );
    const action = element("div", "door-person-action");
    if (person.checked_in_at) {
      const checkedInAt = fill(texts.checkedInAt, { time: person.checked_in_time });
      action.append(
        element("span", "badge badge-confirmed", checkedInAt),
        button(texts.undo, person.name, "button button-small button-secondary", () =>
          undo(person.reference),
        ),
      );
    } else if (person.status === "confirmed") {
      action.append(
        button(texts.checkIn, person.name, "button", () => {
          const manual = { kind: "manual", reference: person.reference };
          checkIn({ ...manual, scanned_at: new Date().toISOString() }).then(rerunSearch);
        }),
      );
    } else {
      const badge = person.status === "waitlisted" ? "badge-waitlist" : "badge-cancelled";
      action.append(element("span", "badge " + badge, texts.statuses[person.status]));
    }
    item.append(about, action);
    return item;
  }

  function button(label, who, className, onClick) {
    const node = element("button", className, label);
    node.append(element("span", "visually-hidden", " " + who)); // "Check in Ben Jensen"
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  /* ---- Wiring ------------------------------------------------------------------------- */

  ui.cameraToggle.addEventListener("click", () => (stream ? stopCamera() : startCamera()));
  ui.undo.addEventListener("click", () => shownReference && undo(shownReference));
  ui.confirm.addEventListener("click", () => {
    if (toConfirm) {
      const item = { ...toConfirm, any_day: true };
      toConfirm = null;
      checkIn(item).then(rerunSearch);
    }
  });
  ui.soundOn.addEventListener("click", unlockSound);
  document.addEventListener("pointerdown", unlockSound, { once: true });
  document.addEventListener("keydown", unlockSound, { once: true });
  ui.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    search(ui.searchInput.value.trim());
  });
  ui.searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(ui.searchInput.value.trim()), 300);
  });
  window.addEventListener("online", () => sendKept().then(refreshCount));
  window.addEventListener("offline", showConnection);
  setInterval(sendKept, RETRY_EVERY_MS);
  setInterval(() => document.hidden || refreshCount(), COUNT_EVERY_MS);

  conceal(ui.soundOn, false);
  if (window.matchMedia("(max-width: 30rem)").matches) {
    // A phone: the site's header scrolls away (before any tap), so a verdict and its name fit.
    door.scrollIntoView({ block: "start" });
  }
  showConnection();
  sendKept();
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    startCamera();
  } else {
    ui.cameraStatus.textContent = texts.cameraFailed;
  }
})();
