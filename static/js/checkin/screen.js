/* What the staff member sees: the verdict panel, the recent scans, the count and the banner.
   Verdicts come from the server with their tone and sentence; the screen only shows them. */

import { conceal, fill } from "./dom.js";

const RECENT_SHOWN = 8;
const VERDICT_SHOWN_MS = 8000; // then "Ready": an old green must not pass for the next person
const VERDICT_TONES = new Set(["ok", "warn", "bad", "amber"]);

export class Screen {
  constructor(ui, texts, timezone, sound) {
    this.ui = ui;
    this.texts = texts;
    this.sound = sound;
    // Times as the server shows them: in the event's zone, whatever the phone's setting.
    this.clock = new Intl.DateTimeFormat([], {
      timeZone: timezone,
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    this.undoable = null; // the check-in shown ({reference, day}), which staff may undo
    this.confirmable = null; // the scan staff may confirm on a day the event does not run
    this.keptShown = false;
    this.readyTimer = null;
  }

  /**
   * Shows a verdict or a note of the page's own. ``person`` is the server's answer (or any
   * object with a name); options: ``late`` (sent after being kept offline), ``stays`` (no
   * return to "Ready"), ``kept`` (the panel says the scan is kept), ``item`` (what was sent).
   */
  show(tone, headline, person = {}, options = {}) {
    clearTimeout(this.readyTimer);
    if (VERDICT_TONES.has(tone) && !options.stays) {
      this.readyTimer = setTimeout(() => this.showReady(), VERDICT_SHOWN_MS);
    }
    const { ui, texts } = this;
    this.keptShown = Boolean(options.kept);
    ui.result.className = "door-result door-result-" + tone;
    ui.headline.textContent = headline;
    ui.name.textContent = person.name || "";
    ui.organisation.textContent = person.organisation || "";
    ui.needs.textContent = person.needs ? texts.needs + ": " + person.needs : "";
    ui.note.textContent = options.late ? texts.sentLateNote : "";
    this.undoable = person.admitted ? { reference: person.reference, day: person.day } : null;
    conceal(ui.undo, !this.undoable);
    this.confirmable = person.can_confirm && options.item ? options.item : null;
    conceal(ui.confirm, !this.confirmable);
  }

  showReady() {
    this.show("idle", this.texts.ready);
  }

  /** The server's answer to a check-in: shown, signalled, and listed (unless ``late``). */
  showAnswer(answer, options = {}) {
    // A refusal of a scan kept offline stays until the next scan: nobody was watching.
    this.show(answer.tone, answer.message, answer, { ...options, stays: options.late });
    this.sound.signal(answer.tone);
    if (!options.late) {
      this.remember(answer, false);
    }
  }

  showNote(headline, person) {
    this.show("info", headline, person);
  }

  showKept() {
    this.show("info", this.texts.keptOffline, { name: this.texts.keptOfflineDetail }, { kept: true });
    this.sound.signal("info");
  }

  /**
   * The panel said "kept on this device": once the kept scans are sent, it shows what became
   * of them, a refusal first (it stays until the next scan, so it cannot be missed), else
   * the last admission, else "Ready" once nothing is left to send.
   */
  showSentLate(answered, allSent) {
    answered.forEach(({ answer }) => this.remember(answer, true));
    const refused = answered.filter(({ answer }) => !answer.admitted).pop();
    const admitted = answered.filter(({ answer }) => answer.admitted).pop();
    if (refused) {
      this.showAnswer(refused.answer, { late: true, item: refused.item });
    } else if (this.keptShown && allSent) {
      if (admitted) {
        this.show(admitted.answer.tone, admitted.answer.message, admitted.answer, { late: true });
      } else {
        this.showReady();
      }
    }
  }

  remember(answer, late) {
    const { ui, texts } = this;
    const item = document.createElement("li");
    item.className = "door-recent-" + answer.tone;
    const who = answer.name ? answer.name + ": " : "";
    const when = late ? " (" + texts.sentLate + ")" : "";
    item.textContent = this.clock.format(new Date()) + " " + who + answer.message + when;
    ui.recent.prepend(item);
    while (ui.recent.children.length > RECENT_SHOWN) {
      ui.recent.lastElementChild.remove();
    }
  }

  showCount(count) {
    this.ui.checkedIn.textContent = count.checked_in;
    this.ui.confirmed.textContent = count.confirmed;
  }

  showConnection(offline, waiting) {
    const { ui, texts } = this;
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
}
