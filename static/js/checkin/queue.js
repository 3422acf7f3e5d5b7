/* Scans kept on the device (localStorage) while the network is down, sent when it is back. */

import { Refused } from "./server.js";

export class OfflineQueue {
  /**
   * ``onChange`` runs whenever the kept scans change (the banner counts them). A ticket is kept
   * once a day, in the event's ``timeZone``: a multi-day event admits it again the next day.
   */
  constructor(storageKey, onChange, timeZone) {
    this.storageKey = storageKey;
    this.onChange = onChange;
    this.sending = false;
    this.days = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
  }

  sameScan(a, b) {
    const sameTicket = a.kind === b.kind && a.secret === b.secret && a.reference === b.reference;
    return sameTicket && this.dayOf(a) === this.dayOf(b);
  }

  dayOf(item) {
    return item.scanned_at ? this.days.format(new Date(item.scanned_at)) : "";
  }

  items() {
    try {
      return JSON.parse(localStorage.getItem(this.storageKey)) || [];
    } catch {
      return [];
    }
  }

  get size() {
    return this.items().length;
  }

  keep(item) {
    const items = this.items();
    if (!items.some((other) => this.sameScan(other, item))) {
      items.push(item); // the first scan keeps its time
      this.save(items);
    }
  }

  forget(item) {
    this.save(this.items().filter((other) => !this.sameScan(other, item)));
  }

  save(items) {
    localStorage.setItem(this.storageKey, JSON.stringify(items));
    this.onChange();
  }

  /**
   * Sends the kept scans in the order they were made, with ``deliver`` (a promise of the
   * server's answer), until the network fails again. Returns [{answer, item}] for those the
   * server answered, or null when there was nothing to send or a sending is under way.
   */
  async send(deliver) {
    if (this.sending || !this.size) {
      return null;
    }
    this.sending = true;
    const answered = [];
    try {
      for (const item of this.items()) {
        try {
          const answer = await deliver(item);
          this.forget(item);
          answered.push({ answer, item });
        } catch (error) {
          if (error instanceof Refused) {
            this.forget(item); // the server will never take it: do not retry forever
          } else {
            break;
          }
        }
      }
    } finally {
      this.sending = false;
    }
    return answered;
  }
}
