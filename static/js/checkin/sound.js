/* Beeps and vibrations for each tone of verdict, so staff need not look at the screen.
   Browsers allow sound only after a first tap or key: until then the phone only vibrates. */

import { conceal } from "./dom.js";

// A question for staff (amber) sounds like a note (info): neither is a refusal.
const VIBRATIONS = { ok: [90], warn: [90, 80, 90], bad: [450], amber: [40], info: [40] };

export class Sound {
  /** ``button`` turns sound on; it is shown until the first tap anywhere does the same. */
  constructor(button) {
    this.button = button;
    this.audio = null;
    button.addEventListener("click", () => this.unlock());
    document.addEventListener("pointerdown", () => this.unlock(), { once: true });
    document.addEventListener("keydown", () => this.unlock(), { once: true });
    conceal(button, false);
  }

  unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!this.audio && Context) {
      this.audio = new Context();
    }
    if (this.audio && this.audio.state === "suspended") {
      this.audio.resume();
    }
    conceal(this.button, true); // it keeps its place: nothing moves under the finger
  }

  signal(tone) {
    try {
      if (navigator.vibrate) {
        navigator.vibrate(VIBRATIONS[tone] || VIBRATIONS.info);
      }
    } catch {
      /* not allowed before the first tap: the screen says it all */
    }
    if (!this.audio || this.audio.state !== "running") {
      return;
    }
    if (tone === "ok") {
      this.beep(880, 0.12);
    } else if (tone === "warn") {
      this.beep(660, 0.09);
      this.beep(660, 0.09, 0.16);
    } else if (tone === "bad") {
      this.beep(220, 0.45);
    } else {
      this.beep(440, 0.08);
    }
  }

  beep(frequency, seconds, delay = 0) {
    const start = this.audio.currentTime + delay;
    const oscillator = this.audio.createOscillator();
    const gain = this.audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + seconds);
    oscillator.connect(gain).connect(this.audio.destination);
    oscillator.start(start);
    oscillator.stop(start + seconds);
  }
}
