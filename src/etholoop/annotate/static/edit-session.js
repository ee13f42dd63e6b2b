// One document open for editing, shared by both views (a frame's instances, a
// video's behavior ranges): the versions it was loaded at, whether it changed
// since, saves one request at a time, the conflict banner with its Reload button,
// and the guard against leaving the page with unsaved edits.

import { ApiError, api } from "./api.js";

const $ = (id) => document.getElementById(id);

/** Show `text` in the status line; `kind` ("ok", "busy", "dirty", "error") colors it. */
export function setStatus(text, kind = "") {
  $("save-status").textContent = text;
  $("save-status").className = kind;
}

/** {id: version} of the stored items of a server answer. */
const versionsOf = (items) => Object.fromEntries(items.filter((i) => i.id !== null).map((i) => [String(i.id), i.version]));

export class EditSession {
  /**
   * @param {object} options
   * @param {string} options.field The key of the items in a body: "instances" or "labels".
   * @param {(key: number) => string} options.url Where the items of document `key` are PUT.
   * @param {() => object[]} options.items The items as the page would save them now.
   * @param {(answer: object) => void} options.adopt Take a save's answer in (the ids the
   *   server gave new items) when nothing was edited while it was on its way.
   * @param {(answer: object) => void} [options.onSaved] After each save of the open document.
   * @param {() => void} options.onReload The banner's Reload: load the document again, edits dropped.
   * @param {object} [options.extra] More fields of every save body (e.g. `author`).
   */
  constructor({ field, url, items, adopt, onSaved = () => {}, onReload, extra = {} }) {
    Object.assign(this, { field, url, items, adopt, onSaved, extra });
    this.key = null; // the open document, null before the first load
    this.loads = 0; // counts loads, so a save answered after one is ignored
    this.baseVersions = {};
    this.savedJson = "[]"; // the items as last loaded or saved
    this.inFlight = null;
    $("conflict-reload").addEventListener("click", () => onReload());
    window.addEventListener("beforeunload", (e) => {
      if (this.dirty) e.preventDefault();
    });
  }

  /** Whether the items differ from those last loaded or saved. */
  get dirty() {
    return this.key !== null && JSON.stringify(this.items()) !== this.savedJson;
  }

  get busy() {
    return this.inFlight !== null;
  }

  /** Document `key` was loaded as `answer` and the page holds its items now. */
  load(key, answer) {
    this.key = key;
    this.loads += 1;
    this.baseVersions = versionsOf(answer[this.field]);
    this.savedJson = JSON.stringify(this.items());
    $("conflict").hidden = true;
    setStatus("saved", "ok");
  }

  /** Say in the status line whether there are unsaved changes (not while saving). */
  showDirty() {
    if (this.busy) return;
    if (this.dirty) setStatus("unsaved changes", "dirty");
    else if ($("save-status").className === "dirty") setStatus("no changes", "");
  }

  /** Save unless there is nothing to save; a save waits for the one in flight.
   * Resolves true when the items are saved (or were already), false when a save failed. */
  async save() {
    if (this.inFlight) await this.inFlight;
    if (!this.dirty) return true;
    this.inFlight = this.send();
    try {
      return await this.inFlight;
    } finally {
      this.inFlight = null;
      this.showDirty();
    }
  }

  async send() {
    const loads = this.loads;
    const sent = this.items();
    const sentJson = JSON.stringify(sent);
    // an item restored by undo after its row was deleted goes back as new
    const items = sent.map((item) => {
      const known = item.id !== null && String(item.id) in this.baseVersions;
      return known ? { ...item, version: this.baseVersions[String(item.id)] } : { ...item, id: null, version: null };
    });
    const body = { [this.field]: items, base_versions: this.baseVersions, ...this.extra };
    setStatus("saving…", "busy");
    try {
      const answer = await api(this.url(this.key), { method: "PUT", body });
      if (loads !== this.loads) return true;
      this.baseVersions = versionsOf(answer[this.field]);
      if (JSON.stringify(this.items()) === sentJson) {
        this.adopt(answer);
        this.savedJson = JSON.stringify(this.items());
      } else this.savedJson = sentJson; // edited meanwhile: still unsaved, unless undone to what was sent
      this.onSaved(answer);
      setStatus("saved", "ok");
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        $("conflict").hidden = false;
        $("conflict").title = error.message;
        setStatus("not saved: conflict", "error");
      } else setStatus(`save failed: ${error.message}`, "error");
      return false;
    }
  }
}
