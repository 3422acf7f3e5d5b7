/* The rear camera: frames decoded with jsQR (static/vendor/jsqr, a global script), and each
   ticket reported once while it stays in front of the camera. */

import { conceal } from "./dom.js";

const SAME_CODE_PAUSE_MS = 2500; // a ticket held in front of the camera is one scan
const SCAN_EVERY_MS = 120;
const FRAME_WIDTH = 640; // frames are scaled down before decoding: faster, still readable

export class Camera {
  /** ``onCode`` gets the text of each QR code seen (a repeat only after a pause). */
  constructor({ video, status, toggle }, texts, onCode) {
    this.video = video;
    this.status = status;
    this.toggle = toggle;
    this.texts = texts;
    this.onCode = onCode;
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.stream = null;
    this.timer = null;
    this.lastCode = null;
    this.lastSeenAt = 0;
    toggle.addEventListener("click", () => (this.stream ? this.stop() : this.start()));
  }

  static get available() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  async start() {
    if (!Camera.available) {
      this.status.textContent = this.texts.cameraFailed;
      return;
    }
    this.status.textContent = this.texts.cameraStarting;
    conceal(this.toggle, true);
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } },
      });
      this.video.srcObject = this.stream;
      await this.video.play();
    } catch {
      this.stop();
      this.status.textContent = this.texts.cameraFailed;
      return;
    }
    this.status.textContent = this.texts.cameraOn;
    this.toggle.textContent = this.texts.cameraStop;
    conceal(this.toggle, false);
    this.scanFrame();
  }

  stop() {
    clearTimeout(this.timer);
    if (this.stream) {
      this.stream.getTracks().forEach((track) => track.stop());
    }
    this.stream = null;
    this.video.srcObject = null;
    this.status.textContent = this.texts.cameraOff;
    this.toggle.textContent = this.texts.cameraStart;
    conceal(this.toggle, false);
  }

  scanFrame() {
    if (!this.stream) {
      return;
    }
    const { video, canvas, context } = this;
    const { videoWidth, videoHeight } = video;
    if (videoWidth && window.jsQR) {
      const scale = Math.min(1, FRAME_WIDTH / videoWidth);
      canvas.width = Math.round(videoWidth * scale);
      canvas.height = Math.round(videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(pixels.data, canvas.width, canvas.height, {
        inversionAttempts: "dontInvert",
      });
      if (code && code.data) {
        this.seen(code.data);
      }
    }
    this.timer = setTimeout(() => this.scanFrame(), SCAN_EVERY_MS);
  }

  seen(text) {
    const now = Date.now();
    const repeat = text === this.lastCode && now - this.lastSeenAt < SAME_CODE_PAUSE_MS;
    this.lastCode = text;
    this.lastSeenAt = now;
    if (!repeat) {
      this.onCode(text);
    }
  }
}
