/* Scans kept on the device (localStorage) while the network is down, sent when it is back. */

import { Refused } from "./server.js";

function sameTicket(a, b) {
  return a.kind === b.kind && a.secret === b.secret && a.reference === b.reference;
}

export class OfflineQueue {
  /** ``onChange`` runs whenever the kept scans change (the banner counts them). */
  constructor(storageKey, onChange) {
    this.storageKey = storageKey;
    this.onChange = onChange;
    this.sending = false;
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
    if (!items.some((other) => sameTicket(other, item))) {
      items.push(item); // the first scan keeps its time
      this.save(items);
    }
  }

  forget(item) {
    this.save(this.items().filter((other) => !sameTicket(other, item)));
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
