/* Finding people by hand: the search as staff type, and a button per person to check them in
   or undo it. The server says what each person's line shows. */

import { element } from "./dom.js";
import { Unreachable } from "./server.js";

const TYPING_PAUSE_MS = 300;

export class Search {
  /** ``actions`` has ``checkIn(reference)`` and ``undo(reference, day)``; ``onAnswer`` runs after each search. */
  constructor({ form, input, status, results }, texts, server, actions, onAnswer) {
    this.input = input;
    this.status = status;
    this.results = results;
    this.texts = texts;
    this.server = server;
    this.actions = actions;
    this.onAnswer = onAnswer;
    this.lastQuery = "";
    this.typingTimer = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(input.value.trim());
    });
    input.addEventListener("input", () => {
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.run(input.value.trim()), TYPING_PAUSE_MS);
    });
  }

  /** Searches what was typed before this script ran (a slow phone, a fast finger). */
  catchUp() {
    if (this.input.value.trim()) {
      this.run(this.input.value.trim());
    }
  }

  async run(query) {
    this.lastQuery = query;
    if (query.replace(/\s/g, "").length < 2) {
      this.results.replaceChildren();
      this.status.textContent = query ? this.texts.typeMore : "";
      return;
    }
    this.status.textContent = this.texts.searching;
    try {
      const answer = await this.server.search(query);
      if (query !== this.lastQuery) {
        return; // a later search has started
      }
      this.results.replaceChildren(...answer.results.map((person) => this.personItem(person)));
      this.status.textContent = answer.results.length ? "" : this.texts.noResults;
    } catch (error) {
      this.status.textContent =
        error instanceof Unreachable ? this.texts.needsNetwork : this.texts.problem;
    }
    this.onAnswer();
  }

  /** The last search again, after a check-in or an undo changed what it shows. */
  rerun() {
    if (this.lastQuery) {
      this.run(this.lastQuery);
    }
  }

  personItem(person) {
    const item = element("li", "door-person");
    const about = element("div", "door-person-about");
    about.append(
      element("strong", "door-person-name", person.name),
      element("span", "door-person-organisation", person.organisation),
      element("span", "reference", person.reference),
    );
    const action = element("div", "door-person-action");
    if (person.badge) {
      action.append(element("span", "badge badge-" + person.badge.tone, person.badge.text));
    }
    if (person.can_undo) {
      const label = this.texts.undo;
      const style = "button button-small button-secondary";
      action.append(button(label, person.name, style, () => this.actions.undo(person.reference, person.undo_day)));
    }
    if (person.can_check_in) {
      const label = this.texts.checkIn;
      action.append(button(label, person.name, "button", () => this.actions.checkIn(person.reference)));
    }
    item.append(about, action);
    return item;
  }
}

function button(label, who, className, onClick) {
  const node = element("button", className, label);
  node.append(element("span", "visually-hidden", " " + who)); // "Check in Ben Jensen"
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}
