/* Talking to the server: JSON over fetch with the page's CSRF token. Failures come back as
   the three things the page does something different about. */

export class Unreachable extends Error {} // keep the scan and send it later
export class LoggedOut extends Error {} // keep the scan and ask the staff member to log in
export class Refused extends Error {} // the server will never take it

export class Server {
  constructor(door) {
    this.urls = door.dataset;
    this.csrfToken = document.querySelector('meta[name="csrf-token"]').content;
    this.reachable = true;
  }

  urlFor(name, reference) {
    return this.urls[name].replace("REFERENCE", encodeURIComponent(reference || ""));
  }

  /** A scan or a person found by hand, as kept on the device: the server's verdict. The
      device's clock now goes with it, so the server can tell how far off that clock is. */
  checkIn(item) {
    const when = {
      scanned_at: item.scanned_at,
      sent_at: new Date().toISOString(),
      any_day: Boolean(item.any_day),
    };
    if (item.kind === "scan") {
      return this.send("POST", this.urls.scanUrl, { secret: item.secret, ...when });
    }
    return this.send("POST", this.urlFor("checkInUrl", item.reference), when);
  }

  /** Takes back the check-in of ``day`` (a local date, as the server named it), if given. */
  undo(reference, day) {
    return this.send("POST", this.urlFor("undoUrl", reference), day ? { day } : {});
  }

  search(query) {
    return this.send("GET", this.urls.searchUrl + "?q=" + encodeURIComponent(query));
  }

  count() {
    return this.send("GET", this.urls.counterUrl);
  }

  async send(method, url, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": this.csrfToken };
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
      this.reachable = false;
      throw new Unreachable(String(error));
    }
    if (response.status >= 500) {
      this.reachable = false; // a proxy without its server, or a restart: keep the scan and retry
      throw new Unreachable(String(response.status));
    }
    this.reachable = true;
    // 400: the CSRF token ended with the session; a redirect: to the login page
    if (response.redirected || [400, 401, 403].includes(response.status)) {
      throw new LoggedOut(String(response.status));
    }
    if (!response.ok) {
      throw new Refused(String(response.status));
    }
    return response.json();
  }
}
