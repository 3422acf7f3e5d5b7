/* The check-in page: scans tickets with the rear camera, finds people by hand, keeps scans on
   the device while the network is down and shows the live count of the door. This module
   wires the parts together; the server decides every verdict. */

import { Camera } from "./camera.js";
import { byId } from "./dom.js";
import { OfflineQueue } from "./queue.js";
import { Screen } from "./screen.js";
import { Search } from "./search.js";
import { LoggedOut, Server, Unreachable } from "./server.js";
import { Sound } from "./sound.js";

const COUNT_EVERY_MS = 5000;
const RETRY_EVERY_MS = 5000;

const door = byId("door");
if (door) {
  start();
}

function start() {
  const texts = JSON.parse(door.dataset.texts);
  const server = new Server(door);
  const screen = new Screen(
    {
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
      offline: byId("offline-banner"),
      recent: byId("recent"),
    },
    texts,
    door.dataset.timezone,
    new Sound(byId("sound-on")),
  );
  const queue = new OfflineQueue(door.dataset.queueKey, showConnection, door.dataset.timezone);
  const search = new Search(
    {
      form: byId("search-form"),
      input: byId("search-q"),
      status: byId("search-status"),
      results: byId("search-results"),
    },
    texts,
    server,
    { checkIn: (reference) => checkIn(manual(reference)).then(() => search.rerun()), undo },
    showConnection,
  );
  const camera = new Camera(
    { video: byId("camera"), status: byId("camera-status"), toggle: byId("camera-toggle") },
    texts,
    scanned,
  );

  function showConnection() {
    screen.showConnection(!navigator.onLine || !server.reachable, queue.size);
  }

  function manual(reference) {
    return { kind: "manual", reference, scanned_at: new Date().toISOString() };
  }

  // The door element counts the scans handled, for whoever watches the page (tests do).
  async function scanned(secret) {
    await checkIn({ kind: "scan", secret, scanned_at: new Date().toISOString() });
    door.dataset.scans = String(Number(door.dataset.scans || 0) + 1);
  }

  async function checkIn(item) {
    if (!navigator.onLine) {
      keepOffline(item);
      return;
    }
    try {
      screen.showAnswer(await server.checkIn(item), { item });
    } catch (error) {
      if (error instanceof Unreachable) {
        keepOffline(item);
      } else {
        if (error instanceof LoggedOut) {
          queue.keep(item); // sent once the staff member has logged in again
        }
        showProblem(error);
      }
    }
    refreshCount();
  }

  function keepOffline(item) {
    queue.keep(item);
    screen.showKept();
  }

  function showProblem(error) {
    screen.showNote(error instanceof LoggedOut ? texts.loggedOut : texts.problem);
  }

  async function undo(reference, day) {
    try {
      const answer = await server.undo(reference, day);
      screen.show(answer.tone, answer.message, answer.person);
      refreshCount();
      search.rerun();
    } catch (error) {
      screen.showNote(error instanceof Unreachable ? texts.needsNetwork : texts.problem);
    }
  }

  async function refreshCount() {
    try {
      screen.showCount(await server.count());
    } catch {
      /* the banner already says when the network is gone */
    }
    showConnection();
  }

  async function sendKept() {
    const answered = await queue.send((item) => server.checkIn(item));
    if (answered) {
      refreshCount();
      showConnection();
      screen.showSentLate(answered, !queue.size);
    }
  }

  byId("result-undo").addEventListener("click", () => {
    if (screen.undoable) {
      undo(screen.undoable.reference, screen.undoable.day);
    }
  });
  byId("result-confirm").addEventListener("click", () => {
    if (screen.confirmable) {
      const item = { ...screen.confirmable, any_day: true };
      screen.confirmable = null;
      checkIn(item).then(() => search.rerun());
    }
  });
  window.addEventListener("online", () => sendKept().then(refreshCount));
  window.addEventListener("offline", showConnection);
  setInterval(sendKept, RETRY_EVERY_MS);
  setInterval(() => document.hidden || refreshCount(), COUNT_EVERY_MS);

  if (window.matchMedia("(max-width: 30rem)").matches) {
    // A phone: the site's header scrolls away (before any tap), so a verdict and its name fit.
    door.scrollIntoView({ block: "start" });
  }
  showConnection();
  sendKept();
  camera.start();
  search.catchUp();
  door.dataset.ready = "true";
}
